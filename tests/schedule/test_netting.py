"""Netting in plans (docs/schedule.md): opposite orders on one instrument filling at the same
open are crossed internally — the matched units fill at the open with no spread, slippage or
commission, shared pro rata — and only the rest pays the venue. Pinned to the cent on built
data, against ``netting: false`` on the same plan."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import interpreter as ts

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "interpreter"))
from conftest import T, flat, write_bars  # noqa: E402

H = "1h"
EXEC = "execution: {commission: 10bps, slippage: 10bps}"


def plan(tmp: Path, *, netting: str = "", buyer_units: float = 10, seller_units: float = 6,
         seller_marks: dict | None = None) -> Path:
    rows = [list(r) for r in flat(12, 100.0)]
    for i, v in {1: 1, 4: 2}.items():  # buyer: entry decided on bar 1, exit on bar 4
        rows[i][4] = v
    write_bars(tmp / "x.csv", [tuple(r) for r in rows], H)
    s_rows = [list(r) for r in flat(12, 100.0)]
    for i, v in (seller_marks or {1: 1, 4: 2}).items():
        s_rows[i][4] = v
    write_bars(tmp / "s.csv", [tuple(r) for r in s_rows], H)
    text = f"""kind: strategy
name: buyer
universe: u
instrument: x
timeframe: 1h
entry: {{long: volume == 1}}
exit: {{long: volume == 2}}
sizing: {{method: fixed_units, units: {buyer_units}}}
{EXEC}
---
kind: strategy
name: seller
universe: u
instrument: x
timeframe: 1h
signals:
  mark: volume@s
entry: {{short: mark == 1}}
exit: {{short: mark == 2}}
sizing: {{method: fixed_units, units: {seller_units}}}
{EXEC}
---
kind: universe
name: u
instruments:
  - {{id: x, symbol: X, data: x.csv, timeframe: 1h}}
  - {{id: s, symbol: S, data: s.csv, timeframe: 1h}}
---
kind: schedule
name: p
capital: 100000
{netting}slots:
  - {{strategy: buyer, allocation: 50%}}
  - {{strategy: seller, allocation: 50%}}
"""
    p = tmp / "plan.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_opposite_orders_cross_and_only_the_rest_pays(tmp_path):
    res = ts.backtest(plan(tmp_path))
    f = res.fills
    assert list(zip(f["time"], f["slot"], f["action"], f["units"])) == [
        (T(2, H), "buyer", "entry", 10.0), (T(2, H), "seller", "entry", -6.0),
        (T(5, H), "buyer", "exit", -10.0), (T(5, H), "seller", "exit", 6.0)]
    assert list(f["netted"]) == [6.0, 6.0, 6.0, 6.0]
    # the buyer: 6 units at 100 (crossed), 4 at the venue's 100.1; commission on those 4 only
    assert f["price"].iloc[0] == pytest.approx((6 * 100.0 + 4 * 100.1) / 10, rel=1e-15)
    assert f["commission"].iloc[0] == pytest.approx(4 * 100.1 * 0.001, rel=1e-12)
    # the seller is entirely crossed: the open, no commission
    assert (f["price"].iloc[1], f["commission"].iloc[1]) == (100.0, 0.0)
    assert f["price"].iloc[2] == pytest.approx((6 * 100.0 + 4 * 99.9) / 10, rel=1e-15)
    assert (f["price"].iloc[3], f["commission"].iloc[3]) == (100.0, 0.0)
    t = res.trades.set_index("slot")
    assert t.loc["seller", "pnl"] == 0.0 and t.loc["seller", "commission"] == 0.0
    buyer_pnl = 10 * (f["price"].iloc[2] - f["price"].iloc[0]) - f["commission"].iloc[0] - f["commission"].iloc[2]
    assert t.loc["buyer", "pnl"] == pytest.approx(buyer_pnl, abs=1e-9)
    assert t.loc["buyer", "slippage"] == pytest.approx(4 * 0.1 + 4 * 0.1, abs=1e-9)
    # the books hold the repriced cash: the plan ends at capital + the trades' P&L
    assert res.equity["equity"].iloc[-1] == pytest.approx(100000 + t["pnl"].sum(), abs=1e-9)
    assert res.slots["seller"]["final_equity"] == pytest.approx(50000.0, abs=1e-9)


def test_netting_false_pays_the_venue_for_everything(tmp_path):
    res = ts.backtest(plan(tmp_path, netting="netting: false\n"))
    f = res.fills
    assert "netted" not in f
    assert list(f["price"]) == pytest.approx([100.1, 99.9, 99.9, 100.1], rel=1e-15)
    assert (f["commission"] > 0).all()
    netted = ts.backtest(plan(tmp_path))
    saved = res.trades["commission"].sum() - netted.trades["commission"].sum()
    assert saved == pytest.approx(0.001 * (6 * 100.1 + 6 * 99.9 + 6 * 99.9 + 6 * 100.1), rel=1e-9)
    assert netted.equity["equity"].iloc[-1] > res.equity["equity"].iloc[-1]


def test_same_side_orders_and_different_bars_do_not_cross(tmp_path):
    res = ts.backtest(plan(tmp_path, seller_marks={2: 1, 6: 2}))  # the seller a bar later: nothing to match
    assert (res.fills["netted"] == 0.0).all()
    assert list(res.fills["price"]) == pytest.approx([100.1, 99.9, 99.9, 100.1], rel=1e-15)


def test_the_log_records_each_crossing(tmp_path):
    res = ts.backtest(plan(tmp_path), log=True)
    path = res.write_decisions(tmp_path / "plan.jsonl")
    events = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
    nets = [e for e in events if e["type"] == "net"]
    assert [(e["slot"], e["instrument"], e["action"], e["crossed"]) for e in nets] == [
        ("buyer", "x", "entry", 6.0), ("seller", "x", "entry", 6.0),
        ("buyer", "x", "exit", 6.0), ("seller", "x", "exit", 6.0)]
    assert np.isclose(sum(e["saved"] for e in nets), 0.001 * 24 * 100 + 0.1 * 24, rtol=1e-9)
