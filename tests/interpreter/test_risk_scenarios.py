"""Risk scenarios: small constructed data built to trigger each limit, pinned to the exact bar.

Every scenario runs in both engine loops (the ``run`` fixture checks they agree, risk events
and severity included). Bars are hourly from 2024-01-01 00:00 UTC unless said otherwise, so
bar 24 is the first bar of the second day and the default ``00:00 UTC`` reset falls on it.
"""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import T, flat, write_case

H = "1h"


def profile(limits: str, on_breach: str = "", extra: str = "") -> str:
    text = f"""
---
kind: risk_profile
name: p
limits:
{limits}
"""
    if on_breach:
        text += f"on_breach: {on_breach}\n"
    return text + extra


def signals(rows, marks: dict[int, int]):
    """Set the volume control channel: 1 = entry signal, 2 = exit signal."""
    rows = [list(r) for r in rows]
    for i, v in marks.items():
        rows[i][4] = v
    return [tuple(r) for r in rows]


BODY = """
entry: {long: volume == 1}
exit: {long: volume == 2}
sizing: {method: fixed_units, units: 100}
risk_profile: p
"""


def events(res) -> list[tuple]:
    return [(r.time, r.limit, r.action) for r in res.risk_events.itertuples()]


def test_daily_loss_blocks_entries_until_the_next_reset(tmp_path, run):
    rows = flat(60, 100.0)
    rows[5] = (100.0, 101.0, 96.0, 97.0, 0)  # close 97: 100 units lose 300 = 3% of 10,000
    for i in range(6, 24):
        rows[i] = (97.0, 98.0, 96.0, 97.0, 0)
    for i in range(24, 60):
        rows[i] = (97.0, 98.0, 96.0, 97.0, 0)
    rows = signals(rows, {1: 1, 8: 2, 12: 1, 30: 1})
    body = BODY + profile("  portfolio: {max_daily_loss: 2%}")
    res = run(write_case(tmp_path, rows, body, timeframe=H, freq=H))
    assert events(res) == [(T(5, H), "portfolio.max_daily_loss", "block_new")]
    assert res.hold_details[12][0][0] == "risk_limit"
    assert "max_daily_loss" in res.hold_details[12][0][1]
    entries = res.fills[res.fills["action"] == "entry"]
    assert list(entries["time"]) == [T(2, H), T(31, H)]  # the second one after the reset on bar 24
    assert res.holds == {"risk_limit": 1}
    sev = res.severity[res.severity["limit"] == "portfolio.max_daily_loss"]
    assert list(zip(sev["time"], sev["to"])) == [(T(5, H), "RED"), (T(24, H), "GREEN")]


def test_drawdown_kill_switch_flattens_and_halts_for_good(tmp_path, run):
    rows = flat(40, 100.0)
    for i in range(4, 40):
        rows[i] = (95.0, 96.0, 94.0, 95.0, 0)
    rows[4] = (100.0, 100.5, 94.0, 95.0, 0)  # close 95: equity 9,500 = 5% below the peak
    rows = signals(rows, {1: 1, 10: 1, 30: 1})
    body = BODY + profile("  portfolio: {max_drawdown: 4%}")
    res = run(write_case(tmp_path, rows, body, timeframe=H, freq=H))
    assert events(res) == [(T(4, H), "portfolio.max_drawdown", "flatten_and_halt")]
    exits = res.fills[res.fills["action"] == "exit"]
    assert list(exits["time"]) == [T(5, H)] and list(exits["reason"]) == ["risk"]
    assert res.holds == {"halted": 2}  # bars 10 and 30, the second after a daily reset: still halted
    assert res.trades.iloc[0]["exit_reason"] == "risk"
    assert res.risk["halted"] == "forever"


def test_cooldown_after_a_loss(tmp_path, run):
    rows = flat(20, 100.0)
    rows[3] = (99.0, 99.5, 98.0, 99.0, 0)
    rows = signals(rows, {1: 1, 2: 2, 4: 1, 5: 1, 6: 1})
    # entry filled bar 2 at 100; exit decided bar 2, filled bar 3 at 99: a loss
    body = BODY + profile("  strategy: {cooldown_after_loss: 3 bars}")
    res = run(write_case(tmp_path, rows, body, timeframe=H, freq=H, capital=20000))
    assert res.trades.iloc[0]["pnl"] < 0
    assert res.holds == {"cooldown": 2}
    assert sorted(res.hold_details) == [4, 5]
    assert res.hold_details[5][0][1] == "p.strategy.cooldown_after_loss 2/3 bars since the losing exit"
    entries = res.fills[res.fills["action"] == "entry"]
    assert list(entries["time"]) == [T(2, H), T(7, H)]  # decided on bar 6 = exit bar 3 + 3


def test_max_orders_per_day_and_rate_limit(tmp_path, run):
    rows = signals(flat(40, 100.0), {1: 1, 2: 2, 4: 1, 5: 2, 7: 1, 8: 2, 26: 1})
    body = BODY + profile("  strategy: {max_orders_per_day: 4}")
    res = run(write_case(tmp_path, rows, body, timeframe=H, freq=H))
    # orders: entry@1, exit@2, entry@4, exit@5 -> the entry on bar 7 is the 5th order of the day
    assert res.holds == {"risk_limit": 1}
    assert res.hold_details[7][0][1] == "p.strategy.max_orders_per_day 4/4"
    assert list(res.fills[res.fills["action"] == "entry"]["time"]) == [T(2, H), T(5, H), T(27, H)]

    rows = signals(flat(40, 100.0), {1: 1, 2: 2, 3: 1, 4: 2, 5: 1, 9: 1})
    body = BODY + profile("  strategy: {rate_limit: {count: 3, per: 4 bars}}")
    res = run(write_case(tmp_path / "rate", rows, body, timeframe=H, freq=H))
    # orders on bars 1, 2, 3: the entry on bar 5 sees 3 orders in bars 2..5? no: bars (1, 5] hold 2, 3, 4
    assert res.hold_details[5][0][1] == "p.strategy.rate_limit 3/3 per 4 bars"
    assert list(res.fills[res.fills["action"] == "entry"]["time"]) == [T(2, H), T(4, H), T(10, H)]


def test_exposure_cap_reduce_clips_the_order(tmp_path, run):
    rows = signals(flat(10, 100.0), {1: 1})
    body = """
entry: {long: volume == 1}
sizing: {method: percent_equity, percent: 100%}
risk_profile: p
""" + profile("  instrument: {max_exposure: 50%}")
    res = run(write_case(tmp_path, rows, body, timeframe=H, freq=H))
    fill = res.fills.iloc[0]
    assert fill["units"] == 50  # 100 units asked, 50% of 10,000 at 100 fits 50
    assert events(res) == [(T(2, H), "instrument.max_exposure", "reduce")]

    body = body.replace("risk_profile: p", "risk_profile: p") + "on_breach: {max_exposure: block_new}\n"
    res = run(write_case(tmp_path / "block", rows, body, timeframe=H, freq=H))
    assert res.fills.empty and res.holds == {"risk_limit": 1}


def test_order_notional_and_min_size(tmp_path, run):
    rows = signals(flat(10, 100.0), {1: 1, 3: 2, 5: 1})
    body = """
entry: {long: volume == 1}
exit: {long: volume == 2}
sizing: {method: fixed_units, units: 80}
risk_profile: p
""" + profile("  instrument: {max_order_notional: 3000, min_order_size: 3500}")
    res = run(write_case(tmp_path, rows, body, timeframe=H, freq=H))
    # 80 units = 8,000 notional -> reduced to 30 units = 3,000, then under the 3,500 minimum: refused
    assert res.fills.empty
    assert res.holds == {"risk_limit": 2}
    details = res.hold_details[1]
    assert details[0][1].startswith("p.instrument.max_order_notional")
    assert details[1][1].startswith("p.instrument.min_order_size")


def test_max_open_positions(tmp_path, run):
    """One instrument per run today: a limit of 0 refuses every entry with the count in the detail."""
    rows = signals(flat(10, 100.0), {1: 1, 5: 1})
    body = BODY + profile("  portfolio: {max_open_positions: 0}")
    res = run(write_case(tmp_path, rows, body, timeframe=H, freq=H))
    assert res.fills.empty
    assert res.hold_details[1][0] == ("risk_limit", "p.portfolio.max_open_positions 0/0")


def test_consecutive_losses_pause_until_reset(tmp_path, run):
    rows = flat(40, 100.0)
    for i in (3, 6):
        rows[i] = (99.0, 99.5, 98.0, 99.0, 0)
    rows = signals(rows, {1: 1, 2: 2, 4: 1, 5: 2, 8: 1, 25: 1})
    body = BODY + profile("  strategy: {max_consecutive_losses: 2}")
    res = run(write_case(tmp_path, rows, body, timeframe=H, freq=H, capital=20000))
    assert events(res) == [(T(6, H), "strategy.max_consecutive_losses", "block_new")]
    assert res.holds == {"risk_limit": 1}  # bar 8; bar 25 is after the reset on bar 24
    assert list(res.fills[res.fills["action"] == "entry"]["time"]) == [T(2, H), T(5, H), T(26, H)]


def test_gap_through_the_stop_fills_at_the_open(tmp_path, run):
    rows = flat(8, 100.0)
    rows[3] = (90.0, 91.0, 89.0, 90.0, 0)  # opens 10 below, through a 5% stop at 95
    rows = signals(rows, {1: 1})
    body = BODY.replace("risk_profile: p", "stops: {stop_loss: 5%}\nrisk_profile: p") + profile(
        "  portfolio: {max_drawdown: 50%}")
    res = run(write_case(tmp_path, rows, body, timeframe=H, freq=H))
    trade = res.trades.iloc[0]
    assert trade["exit_price"] == 90.0 and trade["exit_reason"] == "stop_loss"
    assert trade["exit_time"] == T(3, H)


def test_profile_without_limits_and_no_profile(tmp_path, run):
    rows = signals(flat(6, 100.0), {1: 1})
    res = run(write_case(tmp_path, rows, BODY.replace("risk_profile: p\n", "")))
    assert res.risk["profile"] == "none" and res.risk_events.empty
    assert any("no risk profile" in n for n in res.notes)


def test_warn_records_and_carries_on(tmp_path, run):
    rows = flat(12, 100.0)
    rows[3] = (100.0, 100.5, 90.0, 92.0, 0)
    rows = signals(rows, {1: 1, 6: 2, 8: 1})
    body = BODY + profile("  portfolio: {max_daily_loss: 5%}", "{max_daily_loss: warn}")
    res = run(write_case(tmp_path, rows, body, timeframe=H, freq=H))
    assert events(res) == [(T(3, H), "portfolio.max_daily_loss", "warn")]
    assert len(res.fills[res.fills["action"] == "entry"]) == 2


def test_decision_log_is_deterministic_and_stamped(tmp_path):
    import json

    import interpreter as ts

    rows = flat(60, 100.0)
    rows[5] = (100.0, 101.0, 96.0, 97.0, 0)
    rows = signals(rows, {1: 1, 8: 2, 12: 1, 30: 1})
    spec = write_case(tmp_path, rows, BODY + profile("  portfolio: {max_daily_loss: 2%}"), timeframe=H, freq=H)
    a = ts.backtest(spec, log=True).write_decisions(tmp_path / "a.jsonl").read_bytes()
    b = ts.backtest(spec, log=True, fast=False).write_decisions(tmp_path / "b.jsonl").read_bytes()
    assert a == b
    lines = [json.loads(x) for x in a.decode().splitlines()]
    assert lines[0]["type"] == "session" and lines[0]["schema"] == "tradespec.decisions/1"
    assert [x["seq"] for x in lines] == list(range(len(lines)))
    assert {x["fp"] for x in lines} == {lines[0]["fingerprint"][:12]}
    kinds = {x["type"] for x in lines}
    assert {"signal", "decision", "risk_check", "order", "fill", "risk_event", "daily_reset"} <= kinds
    blocked = [x for x in lines if x["type"] == "decision" and x["bar"] == 12]
    assert blocked and blocked[0]["reason"] == "risk_limit"
    assert pd.Timestamp(blocked[0]["ts"]) == T(12, H)


def test_daily_reset_time_and_zone_move_the_reset_bar(tmp_path, run):
    rows = flat(40, 100.0)
    rows[5] = (100.0, 101.0, 96.0, 97.0, 0)
    for i in range(6, 40):
        rows[i] = (97.0, 98.0, 96.0, 97.0, 0)
    rows = signals(rows, {1: 1, 8: 2, 12: 1, 16: 1})
    body = BODY + profile("  portfolio: {max_daily_loss: 2%}", extra='daily_reset: "15:00 UTC"\n')
    res = run(write_case(tmp_path, rows, body, timeframe=H, freq=H))
    sev = res.severity[res.severity["limit"] == "portfolio.max_daily_loss"]
    assert list(zip(sev["time"], sev["to"])) == [(T(5, H), "RED"), (T(15, H), "GREEN")]
    assert res.hold_details[12][0][0] == "risk_limit"  # before the 15:00 reset: blocked
    assert list(res.fills[res.fills["action"] == "entry"]["time"]) == [T(2, H), T(17, H)]


def test_warn_at_turns_a_limit_yellow_before_red(tmp_path, run):
    rows = signals(flat(10, 100.0), {1: 1})
    body = """
entry: {long: volume == 1}
sizing: {method: percent_equity, percent: 85%}
risk_profile: p
""" + profile("  strategy: {max_exposure: 100%}", extra="severity: {warn_at: 80%}\n")
    res = run(write_case(tmp_path, rows, body, timeframe=H, freq=H))
    sev = res.severity[res.severity["limit"] == "strategy.max_exposure"]
    assert list(zip(sev["time"], sev["from"], sev["to"])) == [(T(2, H), "GREEN", "YELLOW")]
    assert res.risk_events.empty and res.risk["worst_severity"] == "YELLOW"


def test_net_exposure_limits_a_short(tmp_path, run):
    rows = signals(flat(10, 100.0), {1: 1})
    body = """
entry: {short: volume == 1}
sizing: {method: percent_equity, percent: 100%}
risk_profile: p
""" + profile("  portfolio: {max_net_exposure: 40%}")
    res = run(write_case(tmp_path, rows, body, timeframe=H, freq=H))
    assert res.fills.iloc[0]["units"] == -40
    assert events(res) == [(T(2, H), "portfolio.max_net_exposure", "reduce")]


def test_max_open_positions_across_instruments(tmp_path):
    """Two instruments sharing one book: with max_open_positions 1, the second entry waits."""
    from conftest import write_bars

    import interpreter as ts

    a = signals(flat(12, 100.0), {1: 1, 5: 2})     # a: entry decided bar 1, exit decided bar 5
    b = signals(flat(12, 50.0), {1: 1, 3: 1, 7: 1})  # b: wants in on bars 1 and 3 (a is open), then 7
    write_bars(tmp_path / "a.csv", a, H)
    write_bars(tmp_path / "b.csv", b, H)
    spec = tmp_path / "s.yaml"
    spec.write_text("""kind: strategy
name: pair
universe: two
timeframe: 1h
capital: 20000
entry: {long: volume == 1}
exit: {long: volume == 2}
sizing: {method: fixed_units, units: 10}
risk_profile: p
---
kind: universe
name: two
instruments:
  - {id: a, symbol: A, data: a.csv, timeframe: 1h}
  - {id: b, symbol: B, data: b.csv, timeframe: 1h}
""" + profile("  portfolio: {max_open_positions: 1}"))
    res = ts.backtest(spec)
    entries = res.fills[res.fills["action"] == "entry"]
    assert list(zip(entries["instrument"], entries["time"])) == [("a", T(2, H)), ("b", T(8, H))]
    assert res.holds == {"risk_limit": 2}
    assert res.holds_by_instrument == {"a": {}, "b": {"risk_limit": 2}}
    assert set(res.trades["instrument"]) == {"a", "b"}
    # the shared equity curve marks both instruments
    assert (res.equity["equity"].iloc[-1] - 20000) == pytest.approx(res.trades["pnl"].sum())


def test_a_basket_decision_log_is_on_the_shared_timeline(tmp_path):
    """Kraken's BTC and ETH files have different gaps, so each engine's bar index differs from
    the shared timeline's; the log moves every event onto it and names the instrument."""
    import json

    import interpreter as api

    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    res = api.backtest(root / "specs" / "strategies" / "crypto_basket_reversion.yaml", log=True)
    path = res.write_decisions(tmp_path / "basket.jsonl")
    events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()][1:]
    fills = [(e["ts"], e["instrument"], e["action"]) for e in events if e["type"] == "fill"]
    want = [(t.isoformat(), i, a) for t, i, a in zip(res.fills["time"], res.fills["instrument"], res.fills["action"])]
    assert len(fills) > 20 and sorted(fills) == sorted(want)
    assert {e["instrument"] for e in events if e["type"] == "signal"} == {"btc_kraken", "eth_kraken"}
    stamps = [e["ts"] for e in events]
    assert stamps == sorted(stamps)
