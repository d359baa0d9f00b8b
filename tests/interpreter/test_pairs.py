"""Pairs (``hedge:``): an entry opens both legs on one fill, each leg pays its own venue's fee,
and the pair is one trade (docs/language.md, "Pairs").

Constructed spreads pin entries, exits, prices, fees, P&L and equity to the bar and the cent;
a missing hedge bar holds an entry as ``data_gap`` and never blocks an exit; risk limits see
both legs; paper mode gives the same files as backtest, on constructed data and on the
shipped Kraken/Gemini files.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import T, write_bars

import interpreter as ts
from interpreter.reasons import HoldReason

F = "5min"
CAPITAL = 100_000.0
ROOT = Path(__file__).resolve().parents[2]

STRATEGY = """\
kind: strategy
name: pair
universe: venues
instrument: a
timeframe: 5m
capital: 100000
signals:
  spread: close@b / close - 1
entry:
  long: spread > 0.005
  short: spread < -0.005
exit:
  long: spread < 0.001
  short: spread > -0.001
hedge: {{instrument: b, ratio: {ratio}}}
sizing: {{method: fixed_units, units: {units}, fractional: true}}
execution: {{commission: venue{execution}}}
{risk}---
kind: universe
name: venues
instruments:
  - {{id: a, symbol: X, venue: va, data: a.csv, timeframe: 5m, fees: {{maker: 0bps, taker: 10bps}}}}
  - {{id: b, symbol: X, venue: vb, data: b.csv, timeframe: 5m, fees: {{maker: 0bps, taker: 20bps}}{b_extra}}}
"""


def bar(o: float, c: float) -> tuple[float, float, float, float, float]:
    return (o, max(o, c), min(o, c), c, 1.0)


# a trades flat at 100 (opens 100.2 on bar 6); b's close jumps to 101 on bar 3 (spread +1%),
# its next open is 100.8, then the gap closes by bar 5's close and b opens at 100.1 on bar 6.
A = [bar(100.0, 100.0)] * 6 + [bar(100.2, 100.0)] + [bar(100.0, 100.0)] * 3
B = [bar(100.0, 100.0)] * 3 + [bar(100.0, 101.0), bar(100.8, 100.5), bar(100.5, 100.0), bar(100.1, 100.0)] \
    + [bar(100.0, 100.0)] * 3


def case(tmp_path: Path, a=A, b=B, *, ratio: float = 1, units: float = 10, execution: str = "", risk: str = "",
         b_extra: str = "", drop_b: tuple[int, ...] = ()) -> Path:
    write_bars(tmp_path / "a.csv", a, F)
    write_bars(tmp_path / "b.csv", b, F)
    if drop_b:  # a venue with holes: remove those bars from b's file
        lines = (tmp_path / "b.csv").read_text(encoding="utf-8").splitlines()
        keep = [lines[0]] + [line for i, line in enumerate(lines[1:]) if i not in drop_b]
        (tmp_path / "b.csv").write_text("\n".join(keep) + "\n", encoding="utf-8")
    spec = tmp_path / "pair.yaml"
    spec.write_text(STRATEGY.format(ratio=ratio, units=units, execution=execution, risk=risk, b_extra=b_extra),
                    encoding="utf-8")
    return spec


def test_a_pair_opens_and_closes_both_legs_at_exact_bars(tmp_path):
    res = ts.backtest(case(tmp_path))
    f = res.fills
    assert list(zip(f["time"], f["instrument"], f["action"], f["units"], f["price"])) == [
        (T(4, F), "a", "entry", 10.0, 100.0), (T(4, F), "b", "entry", -10.0, 100.8),
        (T(6, F), "a", "exit", -10.0, 100.2), (T(6, F), "b", "exit", 10.0, 100.1)]
    assert list(f["decided_time"]) == [T(3, F)] * 2 + [T(5, F)] * 2
    # each leg pays its venue's taker fee: a 10 bps, b 20 bps
    assert np.allclose(f["commission"], [1.0, 2.016, 1.002, 2.002], rtol=1e-12, atol=0)
    assert len(res.trades) == 1
    t = res.trades.iloc[0]
    assert (t["side"], t["entry_time"], t["exit_time"], t["hedge_instrument"]) == ("long", T(4, F), T(6, F), "b")
    assert (t["units"], t["hedge_units"], t["hedge_entry_price"], t["hedge_exit_price"]) == (10.0, 10.0, 100.8, 100.1)
    # legs: a +10 x 0.2 = 2.0, b -10 x (100.1 - 100.8) = 7.0; fees 6.02
    assert t["commission"] == pytest.approx(6.02, abs=1e-12)
    assert t["pnl"] == pytest.approx(2.0 + 7.0 - 6.02, abs=1e-9)
    assert t["entry_spread"] == pytest.approx(100.8 / 100.0 - 1, abs=1e-15)
    assert t["exit_spread"] == pytest.approx(100.1 / 100.2 - 1, abs=1e-15)
    # equity marks both legs at their closes: bar 4 cash 100000 - 1000 - 1 + 1008 - 2.016, value 1000 - 1005
    eq = res.equity["equity"].to_numpy()
    assert eq[3] == CAPITAL
    assert eq[4] == pytest.approx(CAPITAL - 1.0 + 8.0 - 2.016 - 5.0, abs=1e-9)
    assert eq[5] == pytest.approx(CAPITAL - 1.0 + 8.0 - 2.016 + 0.0, abs=1e-9)
    assert eq[-1] == pytest.approx(CAPITAL + t["pnl"], abs=1e-9)
    assert res.metrics["trade_count"] == 1
    slow = ts.backtest(case(tmp_path), fast=False)  # the every-bar loop agrees
    pd.testing.assert_frame_equal(slow.fills, res.fills)
    pd.testing.assert_frame_equal(slow.equity, res.equity)


def test_a_short_pair_and_a_ratio(tmp_path):
    """spread < -0.5%: sell a, buy ratio x units of b."""
    b = [bar(100.0, 100.0)] * 3 + [bar(100.0, 99.0), bar(99.2, 99.5), bar(99.5, 100.0), bar(99.9, 100.0)] \
        + [bar(100.0, 100.0)] * 3
    res = ts.backtest(case(tmp_path, b=b, ratio=0.5, units=8))
    f = res.fills
    assert list(zip(f["instrument"], f["action"], f["units"], f["price"])) == [
        ("a", "entry", -8.0, 100.0), ("b", "entry", 4.0, 99.2), ("a", "exit", 8.0, 100.2), ("b", "exit", -4.0, 99.9)]
    t = res.trades.iloc[0]
    assert t["side"] == "short" and t["hedge_units"] == 4.0
    fees = 8 * 100.0 * 0.001 + 4 * 99.2 * 0.002 + 8 * 100.2 * 0.001 + 4 * 99.9 * 0.002
    assert t["pnl"] == pytest.approx(-8 * 0.2 + 4 * 0.7 - fees, abs=1e-9)


def test_slippage_and_spread_are_paid_on_both_legs(tmp_path):
    res = ts.backtest(case(tmp_path, execution=", slippage: 10bps"))
    p = res.fills["price"].to_numpy()
    assert np.allclose(p, [100.0 * 1.001, 100.8 * 0.999, 100.2 * 0.999, 100.1 * 1.001], rtol=1e-15, atol=0)
    t = res.trades.iloc[0]
    assert t["slippage"] == pytest.approx(10 * (0.1 + 0.1008 + 0.1002 + 0.1001), rel=1e-9)


def test_no_hedge_price_on_the_fill_bar_holds_the_entry_as_data_gap(tmp_path):
    """b has no bar 4 and, with ``alignment: exact``, no price to fill the hedge at: the entry
    decided on bar 3 is not taken (one data_gap on bar 3, naming the hedge leg)."""
    res = ts.backtest(case(tmp_path, b_extra=", alignment: exact", drop_b=(4,)), log=True)
    assert len(res.fills) == 0
    # bar 3: the hedge's fill bar is missing; bar 4: the spread itself has no b to read
    assert res.holds == {"data_gap": 2} and res.hold_bars[3] == res.hold_bars[4] == HoldReason.DATA_GAP
    assert res.hold_details[3][0] == ("data_gap", "hedge leg b has no price at the fill bar")


def test_an_exit_is_never_refused_the_hedge_closes_at_its_last_close(tmp_path):
    """b misses the exit's fill bar 6: a still exits at its open, b at its last close (bar 5's, 100.0)."""
    res = ts.backtest(case(tmp_path, b_extra=", alignment: exact", drop_b=(6,)))
    f = res.fills
    exits = f[f["action"] == "exit"]
    assert list(zip(exits["time"], exits["instrument"], exits["price"], exits["reference_price"])) == [
        (T(6, F), "a", 100.2, 100.2), (T(6, F), "b", 100.0, 100.0)]


def test_risk_limits_see_both_legs(tmp_path):
    """max_order_notional 3000 with reduce: a pair unit is 100 + 100.8 of gross notional, so 20
    units become 3000 / 200.8; max_net_exposure (1% = 1000) sees the legs' difference only
    (0.8 a unit) and lets the pair through although one leg alone is 1500."""
    risk = ("risk_profile: p\n---\nkind: risk_profile\nname: p\nlimits:\n"
            "  instrument: {max_order_notional: 3000}\n  portfolio: {max_net_exposure: 1%}\n"
            "on_breach: {max_order_notional: reduce, max_net_exposure: reduce}\n")
    res = ts.backtest(case(tmp_path, risk=risk, units=20))
    f = res.fills
    assert f["units"].iloc[0] == pytest.approx(3000 / 200.8, rel=1e-12)
    assert f["units"].iloc[1] == pytest.approx(-3000 / 200.8, rel=1e-12)
    assert res.risk["by_limit"] == {"instrument.max_order_notional": 1}


def test_paper_gives_the_backtest_files(tmp_path):
    spec = case(tmp_path, execution=", slippage: 1bps")
    graph = ts.compile_spec(spec)
    files_b = ts.backtest(graph).write(tmp_path / "backtest")
    files_p = ts.paper(graph).write(tmp_path / "paper")
    for a, b in zip(files_b, files_p):
        assert filecmp.cmp(a, b, shallow=False), f"{a.name} differs between backtest and paper"


def test_the_shipped_arbitrage_trades_pairs_on_real_data(tmp_path):
    """cross_venue_arb on the shipped Kraken/Gemini files: every trade has both legs, opposite
    and equal, each leg paying its own commission; the equity curve ends at capital + pair P&L;
    paper gives the same files."""
    graph = ts.compile_spec(ROOT / "specs" / "strategies" / "cross_venue_arb.yaml")
    res = ts.backtest(graph)
    assert len(res.trades) >= 5 and set(res.trades["hedge_instrument"]) == {"btc_gemini"}
    f = res.fills
    assert len(f) == 4 * len(res.trades)
    legs = f.groupby(["time", "action"])
    for _, g in legs:
        assert sorted(g["instrument"]) == ["btc_gemini", "btc_kraken"]
        assert g["units"].sum() == pytest.approx(0.0, abs=1e-9)
    assert np.allclose(f["commission"], f["units"].abs() * f["price"] * 0.0002, rtol=1e-12, atol=0)
    assert f["commission"].sum() == pytest.approx(res.trades["commission"].sum(), rel=1e-12)
    assert res.equity["equity"].iloc[-1] == pytest.approx(100_000 + res.trades["pnl"].sum(), abs=1e-6)
    assert not np.isnan(res.equity["equity"].to_numpy()).any()
    # both directions of the spread trade
    assert set(res.trades["side"]) == {"long", "short"}
    long_ = res.trades[res.trades["side"] == "long"]
    assert (long_["entry_spread"].notna()).all()
    files_b = res.write(tmp_path / "backtest")
    files_p = ts.paper(graph).write(tmp_path / "paper")
    for a, b in zip(files_b, files_p):
        assert filecmp.cmp(a, b, shallow=False), f"{a.name} differs between backtest and paper"


def test_a_hedged_strategy_in_a_plan_reports_both_legs():
    res = ts.backtest(ROOT / "specs" / "schedules" / "stage4_multi.yaml")
    arb = res.trades[res.trades["slot"] == "cross_venue_arb"]
    assert len(arb) >= 5 and set(arb["hedge_instrument"]) == {"btc_gemini"}
    others = res.trades[res.trades["slot"] != "cross_venue_arb"]
    assert others["hedge_instrument"].isna().all()
    fills = res.fills[res.fills["slot"] == "cross_venue_arb"]
    assert set(fills["instrument"]) == {"btc_kraken", "btc_gemini"} and len(fills) == 4 * len(arb)
    assert res.slots["cross_venue_arb"]["fills"] == len(fills)
    assert res.slots["cross_venue_arb"]["pnl"] == pytest.approx(arb["pnl"].sum(), rel=1e-12)


def test_hedge_columns_are_absent_without_a_hedge(tmp_path):
    res = ts.backtest(ROOT / "specs" / "strategies" / "ma_crossover.yaml")
    assert "hedge_instrument" not in res.trades and "instrument" not in res.fills
    pd.testing.assert_index_equal(res.trades.columns[:13], pd.Index(ts.results.TRADE_COLUMNS))
