"""``execution.venue_increments: true``: order units are rounded down to the instrument's
``lot_size`` and fill prices to its ``tick_size`` against the trader (a buy rounds up, a sell
down), on both legs of a pair; off by default (a universe's increments are then only shown)."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pytest
from conftest import T, write_bars

import interpreter as ts

F = "5min"

SPEC = """\
kind: strategy
name: inc
universe: venues
instrument: a
timeframe: 5m
capital: 100000
signals:
  spread: close@b / close - 1
entry:
  long: volume == 1
exit:
  long: volume == 2
{hedge}sizing: {{method: fixed_units, units: {units}, fractional: true}}
execution: {{commission: 10bps{execution}}}
---
kind: universe
name: venues
instruments:
  - {{id: a, symbol: X, data: a.csv, timeframe: 5m, tick_size: 0.05, lot_size: 0.5}}
  - {{id: b, symbol: X, data: b.csv, timeframe: 5m, tick_size: 0.1, lot_size: 0.25}}
"""


def bar(o: float, c: float, v: float = 0.0):
    return (o, max(o, c) + 0.5, min(o, c) - 0.5, c, v)


A = [bar(100.0, 100.0), bar(100.0, 100.0, 1), bar(100.013, 100.0), bar(100.0, 101.0), bar(101.0, 101.0, 2),
     bar(101.037, 101.0), bar(101.0, 101.0)]
B = [bar(100.0, 100.0)] * 2 + [bar(100.04, 100.0), bar(100.0, 100.0), bar(100.0, 100.0), bar(99.96, 100.0),
                               bar(100.0, 100.0)]


def case(tmp_path: Path, *, units: float = 10.7, execution: str = ", venue_increments: true", hedge: str = "") -> Path:
    write_bars(tmp_path / "a.csv", A, F)
    write_bars(tmp_path / "b.csv", B, F)
    spec = tmp_path / "inc.yaml"
    spec.write_text(SPEC.format(units=units, execution=execution, hedge=hedge), encoding="utf-8")
    return spec


def test_units_round_down_to_lots_and_prices_to_ticks_against_the_trader(tmp_path):
    res = ts.backtest(case(tmp_path))
    f = res.fills
    assert list(zip(f["time"], f["units"], f["price"])) == [(T(2, F), 10.5, 100.05), (T(5, F), -10.5, 101.0)]
    assert list(f["reference_price"]) == [100.013, 101.037]
    assert np.allclose(f["commission"], [10.5 * 100.05 * 0.001, 10.5 * 101.0 * 0.001], rtol=1e-15, atol=0)
    t = res.trades.iloc[0]
    assert t["pnl"] == pytest.approx(10.5 * (101.0 - 100.05) - f["commission"].sum(), abs=1e-9)
    # the tick rounding is paid like slippage: the distance from the reference price
    assert t["slippage"] == pytest.approx(10.5 * (0.037 + 0.037), abs=1e-9)


def test_off_by_default(tmp_path):
    res = ts.backtest(case(tmp_path, execution=""))
    assert list(res.fills["units"]) == [10.7, -10.7]
    assert list(res.fills["price"]) == [100.013, 101.037]


def test_below_one_lot_is_sized_to_zero_with_the_reason(tmp_path):
    res = ts.backtest(case(tmp_path, units=0.4))
    assert len(res.fills) == 0
    assert res.holds == {"sized_to_zero": 1}
    assert res.hold_details[1][0] == ("sized_to_zero", "below the venue's lot size 0.5")


def test_a_pair_rounds_each_leg_on_its_own_venue(tmp_path):
    spec = case(tmp_path, hedge="hedge: {instrument: b, ratio: 0.33}\n")
    res = ts.backtest(spec)
    f = res.fills
    # a: 10.5 units (lot 0.5); b: 0.33 x 10.5 = 3.465 -> 3.25 (lot 0.25), sold at 100.04 -> 100.0 (tick 0.1, down)
    assert list(zip(f["instrument"], f["units"], f["price"])) == [
        ("a", 10.5, 100.05), ("b", -3.25, 100.0), ("a", -10.5, 101.0), ("b", 3.25, 100.0)]
    t = res.trades.iloc[0]
    legs = 10.5 * (101.0 - 100.05) - 3.25 * (100.0 - 100.0)
    assert t["pnl"] == pytest.approx(legs - f["commission"].sum(), abs=1e-9)
    assert res.equity["equity"].iloc[-1] == pytest.approx(100000 + t["pnl"], abs=1e-9)
    # equity marks the hedge leg with its own (rounded) units while the pair is open
    eq3 = res.equity["equity"].iloc[3]
    cash = 100000 - 10.5 * 100.05 - f["commission"].iloc[0] + 3.25 * 100.0 - f["commission"].iloc[1]
    assert eq3 == pytest.approx(cash + 10.5 * 101.0 - 3.25 * 100.0, abs=1e-9)
    files_b = res.write(tmp_path / "backtest")
    files_p = ts.paper(ts.compile_spec(spec)).write(tmp_path / "paper")
    for x, y in zip(files_b, files_p):
        assert filecmp.cmp(x, y, shallow=False), f"{x.name} differs"


def test_venue_increments_change_the_fingerprint(tmp_path):
    on = ts.compile_spec(case(tmp_path)).fingerprint
    off = ts.compile_spec(case(tmp_path, execution="")).fingerprint
    assert on != off
