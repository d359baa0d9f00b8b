"""The engine's semantics pinned on small constructed data (docs/backtest.md).

Every test runs through the ``run`` fixture (tests/interpreter/conftest.py), so it runs in
both engine loops — event-skipping (``fast=True``) and every bar (``fast=False``) — and
checks that the two give identical trades, fills, equity and hold reasons.

Bars are daily, on business days from Monday 2024-01-01 (``T(i)`` is bar i's timestamp);
the volume column switches signals on chosen bars (``entry: {long: volume == 1}``).
Expected prices, units, P&L and equity are worked out by hand in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from conftest import T, equity, fills, flat, trades, write_case

approx = lambda x: pytest.approx(x, rel=1e-12, abs=1e-9)  # noqa: E731  exact up to float rounding

LONG = """\
entry: {long: volume == 1}
exit: {long: volume == 2}
"""
SHORT = """\
entry: {short: volume == 1}
exit: {short: volume == 2}
"""
UNITS10 = "sizing: {method: fixed_units, units: 10}"


def one_trade(res) -> dict:
    rows = trades(res)
    assert len(rows) == 1, rows
    return rows[0]


def check_trade(tr: dict, *, side, entry, entry_price, exit, exit_price, units=10.0, reason="signal",
                pnl=None, commission=0.0, bars_held=None) -> None:
    assert tr["side"] == side
    assert tr["entry_time"] == T(entry)
    assert tr["entry_price"] == approx(entry_price)
    assert tr["units"] == approx(units)
    if exit is None:
        assert pd.isna(tr["exit_time"]) and math.isnan(tr["exit_price"])
    else:
        assert tr["exit_time"] == T(exit)
        assert tr["exit_price"] == approx(exit_price)
    assert tr["exit_reason"] == reason
    assert tr["commission"] == approx(commission)
    if pnl is not None:
        assert tr["pnl"] == approx(pnl)
    assert tr["bars_held"] == (bars_held if bars_held is not None else exit - entry)


# ---------------------------------------------------------------------------- fill timing

STAIRS = [
    (100, 101, 99, 100, 0),
    (100, 102, 99, 101, 1),  # entry signal
    (102, 103, 101, 102, 0),
    (103, 104, 102, 103, 2),  # exit signal
    (104, 105, 103, 104, 0),
    (105, 106, 104, 105, 0),
]


def test_next_open_fill_is_the_default(tmp_path, run):
    res = run(write_case(tmp_path, STAIRS, LONG + UNITS10))
    tr = one_trade(res)
    # decided at bar 1's close, filled at bar 2's open; exit decided on bar 3, filled at bar 4's open
    check_trade(tr, side="long", entry=2, entry_price=102.0, exit=4, exit_price=104.0, pnl=20.0)
    assert tr["return"] == approx(20.0 / 1020.0)
    assert tr["slippage"] == 0.0
    assert fills(res) == [
        {"time": T(2), "decided_time": T(1), "action": "entry", "reason": "entry.long", "units": 10.0,
         "price": 102.0, "reference_price": 102.0, "commission": 0.0, "cash_after": 8980.0},
        {"time": T(4), "decided_time": T(3), "action": "exit", "reason": "signal", "units": -10.0,
         "price": 104.0, "reference_price": 104.0, "commission": 0.0, "cash_after": 10020.0},
    ]
    # equity = cash + units * close at every bar
    assert equity(res) == [10000.0, 10000.0, 10000.0, 10010.0, 10020.0, 10020.0]
    assert res.equity["units"].tolist() == [0.0, 0.0, 10.0, 10.0, 0.0, 0.0]
    assert res.equity["cash"].tolist() == [10000.0, 10000.0, 8980.0, 8980.0, 10020.0, 10020.0]
    assert res.holds == {}
    assert res.metrics["final_equity"] == 10020.0
    assert res.settings["fill"] == "next_open"


def test_fill_close_fills_at_the_decision_bars_close(tmp_path, run):
    res = run(write_case(tmp_path, STAIRS, LONG + UNITS10 + "\nexecution: {fill: close}"))
    check_trade(one_trade(res), side="long", entry=1, entry_price=101.0, exit=3, exit_price=103.0, pnl=20.0)
    f = fills(res)
    assert [(x["time"], x["decided_time"], x["price"]) for x in f] == [(T(1), T(1), 101.0), (T(3), T(3), 103.0)]
    assert equity(res) == [10000.0, 10000.0, 10010.0, 10020.0, 10020.0, 10020.0]


def rising(n, signals):
    """Bars whose open = close = 100 + i (the price names the bar), volume from ``signals``."""
    return [(100 + i, 101 + i, 99 + i, 100 + i, signals.get(i, 0)) for i in range(n)]


def test_exit_on_bars_in_trade(tmp_path, run):
    body = "entry: {long: volume == 1}\nexit: {long: bars_in_trade >= 3}\n" + UNITS10
    res = run(write_case(tmp_path, rising(9, {1: 1}), body))
    # filled on bar 2 (bars_in_trade 0); bars_in_trade is 3 on bar 5 -> exit at bar 6's open
    check_trade(one_trade(res), side="long", entry=2, entry_price=102.0, exit=6, exit_price=106.0, pnl=40.0)
    assert fills(res)[1]["decided_time"] == T(5)


def test_exit_on_bars_in_trade_with_close_fills(tmp_path, run):
    body = ("entry: {long: volume == 1}\nexit: {long: bars_in_trade >= 3}\n" + UNITS10
            + "\nexecution: {fill: close}")
    res = run(write_case(tmp_path, rising(9, {1: 1}), body))
    # entered at bar 1's close (bars_in_trade 0 there); 3 on bar 4 -> exit at bar 4's close
    check_trade(one_trade(res), side="long", entry=1, entry_price=101.0, exit=4, exit_price=104.0, pnl=30.0)


def test_one_minute_bars(tmp_path, run):
    rows = [(100, 101, 99, 100, 0), (100, 101, 99, 100, 1), (99, 100, 98, 99, 0), (98, 99, 97, 98, 2),
            (97, 98, 96, 97, 0)]
    res = run(write_case(tmp_path, rows, SHORT + UNITS10, timeframe="1m", freq="1min"))
    tr = one_trade(res)
    assert tr["entry_time"] == T(2, "1min") and tr["exit_time"] == T(4, "1min")
    assert (tr["entry_price"], tr["exit_price"], tr["pnl"]) == (99.0, 97.0, 20.0)


# ---------------------------------------------------------------------------- stops

def stop_bars(*later):
    """Entry decided on bar 1, filled at 100 on bar 2 (unless ``later`` replaces bar 2)."""
    return [(100, 101, 99, 100, 0), (100, 101, 99, 100, 1)] + list(later) + [(100, 101, 99, 100, 0)] * 2


STOP_CASES = [
    # id, side, stops, bars from bar 2 on, exit bar, exit price, reason
    ("long-gap-through-stop", "long", '{stop_loss: "5"}',
     [(100, 101, 99, 100), (100, 101, 97, 98), (93, 94, 90, 92)], 4, 93.0, "stop_loss"),
    ("long-intrabar-stop", "long", '{stop_loss: "5"}',
     [(100, 101, 99, 100), (100, 101, 97, 98), (97, 98, 94, 96)], 4, 95.0, "stop_loss"),
    ("long-stop-on-fill-bar", "long", '{stop_loss: "5"}',
     [(100, 101, 94, 96)], 2, 95.0, "stop_loss"),
    ("long-stop-before-take-profit", "long", '{stop_loss: "5", take_profit: "5"}',
     [(100, 101, 99, 100), (100, 106, 94, 100)], 3, 95.0, "stop_loss"),
    ("long-take-profit-gap", "long", '{stop_loss: "5", take_profit: "5"}',
     [(100, 101, 99, 100), (107, 108, 106, 107)], 3, 107.0, "take_profit"),
    ("long-take-profit-intrabar", "long", '{take_profit: "5"}',
     [(100, 101, 99, 100), (100, 106, 99, 104)], 3, 105.0, "take_profit"),
    ("long-take-profit-on-fill-bar", "long", '{take_profit: "5"}',
     [(100, 106, 99, 104)], 2, 105.0, "take_profit"),
    ("short-gap-through-stop", "short", '{stop_loss: "5"}',
     [(100, 101, 99, 100), (107, 108, 106, 107)], 3, 107.0, "stop_loss"),
    ("short-intrabar-stop", "short", '{stop_loss: "5"}',
     [(100, 101, 99, 100), (101, 106, 99, 104)], 3, 105.0, "stop_loss"),
    ("short-stop-before-take-profit", "short", '{stop_loss: "5", take_profit: "5"}',
     [(100, 101, 99, 100), (100, 106, 94, 100)], 3, 105.0, "stop_loss"),
    ("short-take-profit-gap", "short", '{take_profit: "5"}',
     [(100, 101, 99, 100), (93, 94, 92, 93)], 3, 93.0, "take_profit"),
    ("short-take-profit-intrabar", "short", '{take_profit: "5"}',
     [(100, 101, 99, 100), (99, 100, 94, 96)], 3, 95.0, "take_profit"),
]


@pytest.mark.parametrize("side, stops, later, exit_bar, exit_price, reason",
                         [c[1:] for c in STOP_CASES], ids=[c[0] for c in STOP_CASES])
def test_stop_and_take_profit_fills(tmp_path, run, side, stops, later, exit_bar, exit_price, reason):
    body = (LONG if side == "long" else SHORT) + UNITS10 + f"\nstops: {stops}"
    res = run(write_case(tmp_path, stop_bars(*[r + (0,) for r in later]), body))
    sign = 1 if side == "long" else -1
    check_trade(one_trade(res), side=side, entry=2, entry_price=100.0, exit=exit_bar, exit_price=exit_price,
                reason=reason, pnl=sign * 10 * (exit_price - 100.0))
    ex = fills(res)[1]
    assert ex["reason"] == reason and ex["reference_price"] == exit_price
    assert ex["decided_time"] == T(exit_bar - 1)
    # flat from the stop bar on: equity is cash
    assert equity(res)[exit_bar:] == [10000.0 + sign * 10 * (exit_price - 100.0)] * (len(equity(res)) - exit_bar)


def test_percentage_stop_is_a_fraction_of_the_fill_price(tmp_path, run):
    rows = [(200, 201, 199, 200, 0), (200, 201, 199, 200, 1), (200, 201, 199, 200, 0),
            (200, 201, 196.5, 197, 0),  # 196.5 > 196: no touch
            (197, 198, 195, 196, 0),  # open above 196, low below: fills at the stop, 196
            (196, 197, 195, 196, 0)]
    res = run(write_case(tmp_path, rows, LONG + UNITS10 + "\nstops: {stop_loss: 2%}"))
    check_trade(one_trade(res), side="long", entry=2, entry_price=200.0, exit=4, exit_price=196.0,
                reason="stop_loss", pnl=-40.0)


def test_distance_stop_is_evaluated_on_the_decision_bar_and_fixed(tmp_path, run):
    # true range 2 on every bar up to 4: atr(3) = 2 on the decision bar 4 -> stop 100 - 2*2 = 96.
    # The fill bar 5 has true range 4, so atr there is 8/3 (a stop from it would sit at 94.67
    # and bar 6's low of 95.5 would not reach it).
    rows = [(100, 101, 99, 100, 1),  # warm-up (atr(3) needs 3 bars): held as warmup
            (100, 101, 99, 100, 0),
            (100, 101, 99, 100, 1),  # still warm-up
            (100, 101, 99, 100, 0),
            (100, 101, 99, 100, 1),  # decision
            (100, 101, 97, 100, 0),  # fill at 100; low 97 above the stop
            (99, 100, 95.5, 96, 0),  # low 95.5 <= 96: stop
            (96, 97, 95, 96, 0)]
    res = run(write_case(tmp_path, rows, "entry: {long: volume == 1}\n" + UNITS10
                         + "\nstops: {stop_loss: 2 * atr(3)}"))
    check_trade(one_trade(res), side="long", entry=5, entry_price=100.0, exit=6, exit_price=96.0,
                reason="stop_loss", pnl=-40.0)
    assert res.holds == {"warmup": 2}
    assert res.settings["warmup_bars"] == 3


TRAIL_LONG = [(100, 101, 99, 100, 0), (100, 101, 99, 100, 1),
              (100, 108, 99, 107, 0),  # fill at 100: trail 95 (this bar's own high does not count)
              (107, 110, 104, 109, 0),  # trail from 108 (bar 2) = 103; low 104 holds
              (109, 111, 106, 110, 0),  # trail from 110 = 105; low 106 holds
              (110, 112, 105.5, 106, 0),  # trail from 111 = 106; low 105.5 -> exit at 106
              (106, 107, 105, 106, 0)]


def test_trailing_stop_trails_earlier_highs(tmp_path, run):
    res = run(write_case(tmp_path, TRAIL_LONG, "entry: {long: volume == 1}\n" + UNITS10
                         + '\nstops: {trailing_stop: "5"}'))
    check_trade(one_trade(res), side="long", entry=2, entry_price=100.0, exit=5, exit_price=106.0,
                reason="trailing_stop", pnl=60.0)


def test_trailing_stop_gap_fills_at_the_open(tmp_path, run):
    rows = TRAIL_LONG[:5] + [(103, 104, 100, 101, 0), (101, 102, 100, 101, 0)]  # opens below 106
    res = run(write_case(tmp_path, rows, "entry: {long: volume == 1}\n" + UNITS10
                         + '\nstops: {trailing_stop: "5"}'))
    check_trade(one_trade(res), side="long", entry=2, entry_price=100.0, exit=5, exit_price=103.0,
                reason="trailing_stop", pnl=30.0)


def test_trailing_stop_short_mirror(tmp_path, run):
    rows = [(100, 101, 99, 100, 0), (100, 101, 99, 100, 1),
            (100, 101, 92, 93, 0),  # fill at 100: trail 105
            (93, 96, 90, 91, 0),  # trail from 92 = 97; high 96 holds
            (91, 94, 89, 90, 0),  # trail from 90 = 95; high 94 holds
            (90, 94.5, 88, 94, 0),  # trail from 89 = 94; high 94.5 -> exit at 94
            (94, 95, 93, 94, 0)]
    res = run(write_case(tmp_path, rows, "entry: {short: volume == 1}\n" + UNITS10
                         + '\nstops: {trailing_stop: "5"}'))
    check_trade(one_trade(res), side="short", entry=2, entry_price=100.0, exit=5, exit_price=94.0,
                reason="trailing_stop", pnl=60.0)


def test_trailing_stop_after_a_close_fill_ignores_the_fill_bars_range(tmp_path, run):
    # Entered at bar 1's close (100); bar 1's high of 110 came before the fill and is not the
    # trade's: the trail starts at 95, not 105 (which bar 2's open would gap through).
    rows = [(100, 101, 99, 100, 0), (100, 110, 99, 100, 1),
            (100, 101, 96, 100, 0),  # trail 95: holds
            (100, 101, 94, 95, 0),  # trail from 101 = 96: low 94 -> exit at 96
            (95, 96, 94, 95, 0)]
    res = run(write_case(tmp_path, rows, "entry: {long: volume == 1}\n" + UNITS10
                         + '\nstops: {trailing_stop: "5"}\nexecution: {fill: close}'))
    check_trade(one_trade(res), side="long", entry=1, entry_price=100.0, exit=3, exit_price=96.0,
                reason="trailing_stop", pnl=-40.0)


@pytest.mark.parametrize("later, exit_price, reason", [
    ([(100, 101, 98, 100), (100, 101, 96.5, 97)], 97.0, "stop_loss"),  # fixed stop 97 above trail 95
    ([(100, 104, 99, 103), (103, 104, 98.5, 99)], 99.0, "trailing_stop"),  # trail 104 - 5 = 99 above 97
], ids=["stop-loss-tighter", "trail-tighter"])
def test_the_tighter_of_stop_loss_and_trailing_stop_applies(tmp_path, run, later, exit_price, reason):
    res = run(write_case(tmp_path, stop_bars(*[r + (0,) for r in later]),
                         "entry: {long: volume == 1}\n" + UNITS10 + '\nstops: {stop_loss: "3", trailing_stop: "5"}'))
    check_trade(one_trade(res), side="long", entry=2, entry_price=100.0, exit=3, exit_price=exit_price,
                reason=reason)


# ---------------------------------------------------------------------------- short side, reversal

def test_short_trade_pnl_cash_and_equity(tmp_path, run):
    rows = [(100, 101, 99, 100, 0), (100, 101, 99, 100, 1),
            (100, 101, 97, 98, 0),  # sell 10 at 100
            (98, 99, 96, 97, 2),
            (95, 96, 94, 95, 0),  # buy back at 95
            (95, 96, 94, 95, 0)]
    res = run(write_case(tmp_path, rows, SHORT + UNITS10 + "\nexecution: {commission: 10bps}"))
    # entry: +1000 proceeds - 1.0 commission; exit: -950 - 0.95 commission
    check_trade(one_trade(res), side="short", entry=2, entry_price=100.0, exit=4, exit_price=95.0,
                pnl=50.0 - 1.95, commission=1.95)
    assert one_trade(res)["return"] == approx(48.05 / 1000.0)
    assert [f["units"] for f in fills(res)] == [-10.0, 10.0]
    assert [f["cash_after"] for f in fills(res)] == [approx(10999.0), approx(10048.05)]
    assert res.equity["units"].tolist() == [0.0, 0.0, -10.0, -10.0, 0.0, 0.0]
    # marked short: cash - 10 * close
    assert equity(res) == [10000.0, 10000.0, approx(10999.0 - 980.0), approx(10999.0 - 970.0),
                           approx(10048.05), approx(10048.05)]


BOTH_SIDES = """\
entry: {long: volume == 1, short: volume == 3}
exit: {long: volume == 3, short: volume == 4}
"""
REVERSAL = [(100, 101, 99, 100, 0), (100, 101, 99, 100, 1), (101, 102, 100, 101, 0),
            (102, 103, 101, 102, 0), (103, 104, 102, 103, 3), (104, 105, 103, 104, 0),
            (103, 104, 102, 103, 0), (102, 103, 101, 102, 4), (100, 101, 99, 100, 0),
            (100, 101, 99, 100, 0)]


def test_reversal_exits_and_enters_on_the_same_bar(tmp_path, run):
    res = run(write_case(tmp_path, REVERSAL, BOTH_SIDES + UNITS10))
    long_, short = trades(res)
    check_trade(long_, side="long", entry=2, entry_price=101.0, exit=5, exit_price=104.0, pnl=30.0)
    check_trade(short, side="short", entry=5, entry_price=104.0, exit=8, exit_price=100.0, pnl=40.0)
    f = fills(res)
    assert [(x["time"], x["action"], x["reason"], x["units"], x["price"], x["cash_after"]) for x in f] == [
        (T(2), "entry", "entry.long", 10.0, 101.0, 8990.0),
        (T(5), "exit", "signal", -10.0, 104.0, 10030.0),  # the exit fills first,
        (T(5), "entry", "entry.short", -10.0, 104.0, 11070.0),  # then the reversal
        (T(8), "exit", "signal", 10.0, 100.0, 10070.0),
    ]
    assert all(x["decided_time"] == T(4) for x in f[1:3])
    assert equity(res) == [10000.0, 10000.0, 10000.0, 10010.0, 10020.0, 10030.0, 10040.0, 10050.0,
                           10070.0, 10070.0]
    assert res.holds == {}


def test_reversal_with_close_fills(tmp_path, run):
    res = run(write_case(tmp_path, REVERSAL, BOTH_SIDES + UNITS10 + "\nexecution: {fill: close}"))
    long_, short = trades(res)
    check_trade(long_, side="long", entry=1, entry_price=100.0, exit=4, exit_price=103.0, pnl=30.0)
    check_trade(short, side="short", entry=4, entry_price=103.0, exit=7, exit_price=102.0, pnl=10.0)


def test_opposite_entry_without_exit_is_held(tmp_path, run):
    body = "entry: {long: volume == 1, short: volume == 3}\nexit: {long: volume == 2}\n" + UNITS10
    rows = [(100, 101, 99, 100, v) for v in (0, 1, 0, 3, 2, 0, 0)]
    res = run(write_case(tmp_path, rows, body))
    check_trade(one_trade(res), side="long", entry=2, entry_price=100.0, exit=5, exit_price=100.0, pnl=0.0)
    assert res.holds == {"already_in_position": 1}
    assert res.hold_bars[3] == 2  # HoldReason.ALREADY_IN_POSITION on bar 3


# ---------------------------------------------------------------------------- costs

ROUND_TRIP = [(100, 101, 99, 100, 0), (100, 101, 99, 100, 1), (100, 101, 99, 100, 0),
              (100, 102, 98, 100, 2), (110, 111, 109, 110, 0), (110, 111, 109, 110, 0)]


@pytest.mark.parametrize("execution, buy, sell, fee_in, fee_out", [
    ("{commission: 10bps}", 100.0, 110.0, 1.0, 1.1),
    ("{commission_per_unit: 0.05}", 100.0, 110.0, 0.5, 0.5),
    ("{commission: 10bps, commission_per_unit: 0.05}", 100.0, 110.0, 1.5, 1.6),
    ("{commission: 10bps, min_commission: 2}", 100.0, 110.0, 2.0, 2.0),
    ("{commission: 10bps, min_commission: 1.05}", 100.0, 110.0, 1.05, 1.1),  # minimum binds on entry only
    ("{spread: 20bps}", 100.0 * 1.001, 110.0 * 0.999, 0.0, 0.0),  # half the spread each side
    ("{slippage: 10bps}", 100.0 * 1.001, 110.0 * 0.999, 0.0, 0.0),
    ("{spread: 20bps, slippage: 10bps}", 100.0 * 1.001 * 1.001, 110.0 * 0.999 * 0.999, 0.0, 0.0),
    ("{slippage: 0.5}", 100.5, 109.5, 0.0, 0.0),  # a constant price distance
    # a distance formula, on the decision bar: bar 1's range is 2 (0.2), bar 3's is 4 (0.4)
    ("{slippage: 0.1 * (high - low)}", 100.2, 109.6, 0.0, 0.0),
    ("{commission: 10bps, spread: 20bps}", 100.1, 109.89, 100.1 * 10 * 0.001, 109.89 * 10 * 0.001),
], ids=["bps", "per-unit", "bps+per-unit", "minimum", "minimum-entry-only", "spread", "slippage-bps",
        "spread+slippage", "slippage-constant", "slippage-formula", "commission-on-fill-price"])
def test_costs_long_round_trip(tmp_path, run, execution, buy, sell, fee_in, fee_out):
    res = run(write_case(tmp_path, ROUND_TRIP, LONG + UNITS10 + f"\nexecution: {execution}"))
    tr = one_trade(res)
    check_trade(tr, side="long", entry=2, entry_price=buy, exit=4, exit_price=sell,
                pnl=10 * (sell - buy) - fee_in - fee_out, commission=fee_in + fee_out)
    assert tr["slippage"] == approx(10 * ((buy - 100.0) + (110.0 - sell)))
    entry, exit_ = fills(res)
    assert (entry["reference_price"], exit_["reference_price"]) == (100.0, 110.0)
    assert (entry["commission"], exit_["commission"]) == (approx(fee_in), approx(fee_out))
    assert entry["cash_after"] == approx(10000.0 - 10 * buy - fee_in)
    assert exit_["cash_after"] == approx(10000.0 - 10 * buy - fee_in + 10 * sell - fee_out)
    assert res.metrics["total_commission"] == approx(fee_in + fee_out)
    assert res.metrics["final_equity"] == approx(10000.0 + 10 * (sell - buy) - fee_in - fee_out)


def test_costs_are_adverse_on_the_short_side(tmp_path, run):
    res = run(write_case(tmp_path, ROUND_TRIP, SHORT + UNITS10
                         + "\nexecution: {spread: 20bps, slippage: 0.5, commission: 10bps}"))
    sell = 100.0 * 0.999 - 0.5  # selling receives less
    buy = 110.0 * 1.001 + 0.5  # buying back pays more
    fees = 10 * sell * 0.001 + 10 * buy * 0.001
    check_trade(one_trade(res), side="short", entry=2, entry_price=sell, exit=4, exit_price=buy,
                pnl=-10 * (buy - sell) - fees, commission=fees)


def test_stop_fills_pay_spread_too(tmp_path, run):
    rows = stop_bars((100, 101, 99, 100, 0), (97, 98, 94, 96, 0))
    res = run(write_case(tmp_path, rows, LONG + UNITS10 + '\nstops: {stop_loss: "5"}\nexecution: {spread: 20bps}'))
    entry = 100.0 * 1.001  # the stop is 5 below the fill price (costs included)
    level = entry - 5.0
    tr = one_trade(res)
    check_trade(tr, side="long", entry=2, entry_price=entry, exit=3, exit_price=level * 0.999, reason="stop_loss")
    assert fills(res)[1]["reference_price"] == approx(level)


# ---------------------------------------------------------------------------- sizing

def priced(price, n=7, signals=None):
    signals = signals if signals is not None else {1: 1, 3: 2}
    return [(price, price + 1, price - 1, price, signals.get(i, 0)) for i in range(n)]


@pytest.mark.parametrize("sizing, price, units", [
    ("{method: fixed_units, units: 7}", 100.0, 7.0),
    ("{method: fixed_units, units: 2.5}", 100.0, 2.0),  # whole units unless fractional
    ("{method: fixed_units, units: 2.5, fractional: true}", 100.0, 2.5),
    ("{method: fixed_notional, notional: 1000}", 120.0, 8.0),  # 8.33 -> 8
    ("{method: fixed_notional, notional: 1000, fractional: true}", 120.0, 1000 / 120),
    ("{method: fixed_notional, notional: 1000, lot_size: 5}", 120.0, 5.0),  # 8.33 -> one lot of 5
    ("{method: fixed_notional, notional: 30, lot_size: 0.1}", 100.0, 0.3),  # 0.3 / 0.1 in floats < 3
    ("{method: fixed_notional, notional: 0.3, lot_size: 0.0001}", 1000.0, 0.0003),
    ("{method: fixed_notional, notional: 10000, lot_size: 0.001}", 7.0, 1428.571),
    ("{method: percent_equity, percent: 50%}", 300.0, 16.0),  # 5000 / 300 = 16.67
    ("{method: percent_equity, percent: 50%, fractional: true}", 300.0, 5000 / 300),
    ("{method: all_in}", 300.0, 33.0),  # floor(10000 / 300)
], ids=lambda x: x if isinstance(x, str) else None)
def test_sizing_methods(tmp_path, run, sizing, price, units):
    res = run(write_case(tmp_path, priced(price), LONG + f"sizing: {sizing}"))
    tr = one_trade(res)
    assert tr["units"] == approx(units)
    assert tr["entry_price"] == price
    assert fills(res)[0]["cash_after"] == approx(10000.0 - units * price)


def test_percent_equity_compounds_on_cash(tmp_path, run):
    rows = [(300, 301, 299, 300, 0), (300, 301, 299, 300, 1), (300, 301, 299, 300, 0),
            (300, 301, 299, 300, 2), (330, 331, 329, 330, 1), (330, 331, 329, 330, 0),
            (330, 331, 329, 330, 0)]
    res = run(write_case(tmp_path, rows, LONG + "sizing: {method: percent_equity, percent: 50%}"))
    first, second = trades(res)
    check_trade(first, side="long", entry=2, entry_price=300.0, exit=4, exit_price=330.0, units=16.0, pnl=480.0)
    # second entry decided on bar 4 (after the exit filled at its open), sized from 10480 cash
    assert second["units"] == 15.0 and second["entry_time"] == T(5)  # 5240 / 330 = 15.9
    assert second["exit_reason"] == "open_at_end"


@pytest.mark.parametrize("execution, capital, units, cash_after", [
    ("{commission: 10bps}", 10000, 99.0, 10000 - 9900 - 9.9),  # floor(10000 / (100 * 1.001))
    ("{commission_per_unit: 0.5}", 10000, 99.0, 10000 - 9900 - 49.5),  # floor(10000 / 100.5)
    ("{min_commission: 5}", 1000, 9.0, 1000 - 900 - 5),  # 10 units would leave nothing for the fee
    ("{commission: 10bps, spread: 20bps}", 10000, 99.0, 10000 - 99 * 100.1 - 99 * 100.1 * 0.001),
], ids=["bps", "per-unit", "minimum", "on-fill-price"])
def test_all_in(tmp_path, run, execution, capital, units, cash_after):
    res = run(write_case(tmp_path, priced(100.0), LONG + "sizing: {method: all_in}\n"
                         + f"execution: {execution}", capital=capital))
    assert one_trade(res)["units"] == units
    assert fills(res)[0]["cash_after"] == approx(cash_after)
    assert fills(res)[0]["cash_after"] >= 0


def test_all_in_fractional_with_a_minimum_commission(tmp_path, run):
    res = run(write_case(tmp_path, priced(100.0), LONG + "sizing: {method: all_in, fractional: true}\n"
                         + "execution: {min_commission: 5}", capital=1000))
    assert one_trade(res)["units"] == approx(9.95)  # 995 + 5 commission = all the cash
    assert fills(res)[0]["cash_after"] == approx(0.0)


def test_all_in_without_cash_for_one_unit_is_held(tmp_path, run):
    res = run(write_case(tmp_path, priced(100.0), LONG + "sizing: {method: all_in}", capital=50))
    assert trades(res) == [] and fills(res) == []
    assert res.holds == {"insufficient_cash": 1}
    assert res.hold_bars[1] == 7


def vol_bars():
    closes = [100.0, 101.0, 99.5, 100.0, 102.0, 103.0, 103.0]
    return closes, [(c, c + 1, c - 1, c, 1 if i == 3 else 0) for i, c in enumerate(closes)]


@pytest.mark.parametrize("sizing, capped", [
    ("{method: vol_target, target: 10%, lookback: 2, max_leverage: 1.5, fractional: true}", False),
    ("{method: vol_target, target: 50%, lookback: 2, max_leverage: 1.5, fractional: true}", True),
    ("{method: vol_target, target: 50%, lookback: 2, max_leverage: 1.5}", True),
], ids=["uncapped", "capped-fractional", "capped-whole"])
def test_vol_target_uses_the_decision_bars_realized_vol(tmp_path, run, sizing, capped):
    closes, rows = vol_bars()
    res = run(write_case(tmp_path, rows, f"entry: {{long: volume == 1}}\nsizing: {sizing}"))
    # realized_vol(close, 2) on decision bar 3: sample std of the last 2 log returns, annualised
    vol = float(np.std(np.diff(np.log(closes[1:4])), ddof=1) * math.sqrt(252))
    target = 0.5 if capped else 0.1
    lev = min(target / vol, 1.5)
    assert capped == (target / vol > 1.5)
    raw = 10000 * lev / 102.0  # filled at bar 4's open
    tr = one_trade(res)
    assert tr["entry_time"] == T(4)
    if "fractional" in sizing:
        assert tr["units"] == pytest.approx(raw, rel=1e-9)
    else:
        assert tr["units"] == math.floor(raw) == 147


@pytest.mark.parametrize("sizing", [
    "{method: fixed_notional, notional: 50}",  # half a unit
    "{method: fixed_units, units: 0.5}",
    "{method: percent_equity, percent: 0.5%}",  # 50 of 10000 at 100
    "{method: fixed_notional, notional: 100, lot_size: 2}",
])
def test_sized_to_zero_is_held_without_a_trade(tmp_path, run, sizing):
    res = run(write_case(tmp_path, priced(100.0), LONG + f"sizing: {sizing}"))
    assert trades(res) == [] and fills(res) == []
    assert res.holds == {"sized_to_zero": 1}
    assert res.hold_bars[1] == 4  # on the decision bar
    assert equity(res) == [10000.0] * 7


# ---------------------------------------------------------------------------- hold reasons

def test_warmup_holds_entries_until_indicators_are_valid(tmp_path, run):
    rows = [(100, 101, 99, 100, v) for v in (1, 1, 0, 1, 0, 0)]
    res = run(write_case(tmp_path, rows, "entry:\n  long: volume == 1 or sma(close, 3) > 1000\n" + UNITS10))
    assert res.settings["warmup_bars"] == 2
    assert res.holds == {"warmup": 2}
    assert res.hold_bars[:2].tolist() == [1, 1]
    assert one_trade(res)["entry_time"] == T(4)


def test_already_in_position(tmp_path, run):
    rows = [(100, 101, 99, 100, v) for v in (0, 1, 1, 1, 1, 2, 1, 0)]
    res = run(write_case(tmp_path, rows, "entry: {long: volume == 1}\nexit: {long: volume == 2}\n" + UNITS10))
    # entry true on bars 1-4 and 6: bar 1 enters; 2 (the fill bar), 3 and 4 are held; the exit
    # fills on bar 6's open, so bar 6's signal enters again at bar 7
    assert res.holds == {"already_in_position": 3}
    assert res.hold_bars.tolist() == [0, 0, 2, 2, 2, 0, 0, 0]
    first, second = trades(res)
    assert (first["entry_time"], first["exit_time"]) == (T(2), T(6))
    assert second["entry_time"] == T(7) and second["exit_reason"] == "open_at_end"


def test_signal_on_the_last_bar_has_no_next_bar(tmp_path, run):
    rows = [(100, 101, 99, 100, v) for v in (0, 0, 0, 0, 1)]
    res = run(write_case(tmp_path, rows, LONG + UNITS10))
    assert trades(res) == [] and fills(res) == []
    assert res.holds == {"no_next_bar": 1}
    assert res.hold_bars[4] == 5


def test_signal_on_the_last_bar_fills_at_its_close_with_close_fills(tmp_path, run):
    rows = [(100, 101, 99, 100, v) for v in (0, 0, 0, 0, 1)]
    res = run(write_case(tmp_path, rows, LONG + UNITS10 + "\nexecution: {fill: close}"))
    check_trade(one_trade(res), side="long", entry=4, entry_price=100.0, exit=None, exit_price=None,
                reason="open_at_end", pnl=0.0, bars_held=0)
    assert res.holds == {}


def test_conflicting_signals_when_flat(tmp_path, run):
    body = ("entry: {long: volume == 1 or volume == 5, short: volume == 3 or volume == 5}\n"
            "exit: {long: volume == 2, short: volume == 4}\n" + UNITS10)
    rows = [(100, 101, 99, 100, v) for v in (0, 5, 0, 3, 0, 4, 0, 0)]
    res = run(write_case(tmp_path, rows, body))
    assert res.holds == {"conflicting_signals": 1}
    assert res.hold_bars[1] == 6
    check_trade(one_trade(res), side="short", entry=4, entry_price=100.0, exit=6, exit_price=100.0, pnl=0.0)


# ---------------------------------------------------------------------------- end of data

def test_open_position_at_end_is_marked_at_the_last_close(tmp_path, run):
    rows = [(100, 101, 99, 100, 0), (100, 101, 99, 100, 1), (100, 101, 99, 100, 0),
            (100, 106, 99, 105, 0), (105, 108, 104, 107, 2)]  # exit signal on the last bar: no fill
    res = run(write_case(tmp_path, rows, LONG + UNITS10 + "\nexecution: {commission: 10bps}"))
    tr = one_trade(res)
    check_trade(tr, side="long", entry=2, entry_price=100.0, exit=None, exit_price=None, reason="open_at_end",
                pnl=10 * 7 - 1.0, commission=1.0, bars_held=2)
    assert tr["return"] == approx(69.0 / 1000.0)
    assert [f["action"] for f in fills(res)] == ["entry"]
    assert equity(res)[-1] == approx(8999.0 + 10 * 107)
    assert res.equity["units"].tolist()[-1] == 10.0
    m = res.metrics
    assert (m["trade_count"], m["open_trades"], m["win_rate"], m["avg_trade"]) == (0, 1, None, None)
    assert m["final_equity"] == approx(10069.0)
    assert res.holds == {}


def test_open_short_at_end(tmp_path, run):
    rows = [(100, 101, 99, 100, 0), (100, 101, 99, 100, 1), (100, 101, 99, 100, 0), (98, 99, 96, 97, 0)]
    res = run(write_case(tmp_path, rows, SHORT + UNITS10))
    check_trade(one_trade(res), side="short", entry=2, entry_price=100.0, exit=None, exit_price=None,
                reason="open_at_end", pnl=30.0, bars_held=1)
    assert equity(res) == [10000.0, 10000.0, 10000.0, 10030.0]


# ---------------------------------------------------------------------------- metrics

def test_metrics_on_a_constructed_equity_path(tmp_path, run):
    rows = [(100, 100, 100, 100, 1),
            (100, 110, 100, 110, 0),  # buy 10 at 100
            (110, 110, 105, 105, 2),
            (105, 105, 105, 105, 0),  # sell at 105: +50
            (105, 105, 105, 105, 1),
            (105, 105, 95, 95, 0),  # buy 10 at 105
            (95, 100, 95, 100, 2),
            (102, 102, 102, 102, 0),  # sell at 102: -30
            (102, 102, 102, 102, 0),
            (102, 102, 102, 102, 0)]
    res = run(write_case(tmp_path, rows, LONG + UNITS10, capital=1000))
    eq = [1000.0, 1100.0, 1050.0, 1050.0, 1050.0, 950.0, 1000.0, 1020.0, 1020.0, 1020.0]
    assert equity(res) == eq
    assert [t["pnl"] for t in trades(res)] == [50.0, -30.0]
    m = res.metrics
    assert m["final_equity"] == 1020.0
    assert m["total_return"] == approx(0.02)
    assert m["max_drawdown"] == approx(1 - 950 / 1100)
    assert m["max_drawdown_bars"] == 8  # bars 2-9 are below the 1100 peak
    assert m["win_rate"] == 0.5
    assert m["profit_factor"] == approx(50 / 30)
    assert m["exposure"] == 0.4  # a position at the close of bars 1, 2, 5, 6
    assert m["trade_count"] == 2 and m["open_trades"] == 0
    assert m["avg_trade"] == 10.0 and m["avg_bars_held"] == 2.0
    assert m["avg_trade_return"] == approx((50 / 1000 - 30 / 1050) / 2)
    assert m["total_commission"] == 0.0
    r = np.array(eq[1:]) / np.array(eq[:-1]) - 1
    assert m["ann_vol"] == approx(np.std(r, ddof=1) * math.sqrt(252))
    assert m["sharpe"] == approx(np.mean(r) / np.std(r, ddof=1) * math.sqrt(252))
    assert m["expected_shortfall_95"] == approx(-r.min())
    assert m["bars"] == 10 and m["capital"] == 1000.0


def test_metrics_with_no_trades(tmp_path, run):
    res = run(write_case(tmp_path, flat(5), "entry: {long: volume == 1}\n" + UNITS10))
    m = res.metrics
    assert (m["total_return"], m["max_drawdown"], m["max_drawdown_bars"], m["exposure"]) == (0.0, 0.0, 0, 0.0)
    assert (m["trade_count"], m["win_rate"], m["profit_factor"], m["sharpe"]) == (0, None, None, None)
