"""The latch (a loop over trades) gives exactly what the per-bar loop gives, where it applies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import interpreter as ts
from interpreter import latch
from interpreter.batch import evaluate
from interpreter.engine import Engine
from interpreter.feed import load_run_data, market_inputs, primary_id
from interpreter.modes.backtest import build_market

ROOT = Path(__file__).resolve().parents[2]

SPEC = """\
kind: strategy
name: latch_case
universe: u
timeframe: {tf}
capital: 100000
signals:
  fast: sma(close, {fast})
  slow: sma(close, {slow})
entry:
  {side}: {entry}
exit:
  {side}: {exit}
sizing: {sizing}
execution: {{fill: next_open, commission: 10bps, slippage: 2bps, spread: 1bps}}
---
kind: universe
name: u
instruments:
  - {{id: x, symbol: X, data: {data}, timeframe: {tf}}}
"""

CASES = [
    ("sp500", "1d", "long", "crosses_above(fast, slow)", "crosses_below(fast, slow)", "{method: all_in}", 10, 30),
    ("sp500", "1d", "long", "fast > slow", "fast < slow", "{method: percent_equity, percent: 50%}", 5, 20),
    ("btc", "5m", "short", "crosses_below(fast, slow)", "crosses_above(fast, slow)",
     "{method: fixed_notional, notional: 20000, fractional: true}", 12, 48),
    ("btc", "5m", "long", "close > slow", "close < fast", "{method: fixed_units, units: 2}", 3, 10),
    ("sp500", "1d", "long", "fast > slow", "fast < slow * 0.9", "{method: fixed_units, units: 30}", 5, 20),
]
DATA = {"sp500": "data/sp500_daily_1999_2018.csv", "btc": "data/btc_usd_kraken_5m_2019-10-22_2019-11-11.csv"}


def _engine(graph, bars):
    prim = bars[primary_id(graph.plan)]
    values = evaluate(graph, market_inputs(graph, bars), len(prim))
    return Engine(graph, build_market(graph, prim, values), graph.plan)


@pytest.mark.parametrize("data, tf, side, entry, exit_, sizing, fast, slow", CASES)
def test_latch_equals_per_bar_loop(tmp_path, data, tf, side, entry, exit_, sizing, fast, slow):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.format(tf=tf, side=side, entry=entry, exit=exit_, sizing=sizing, fast=fast, slow=slow,
                                data=ROOT / DATA[data]))
    graph = ts.compile_spec(spec)
    bars = load_run_data(graph)
    a, b = _engine(graph, bars), _engine(graph, bars)
    assert latch.eligible(a)
    latch.run(a)
    b.run_all()
    assert a.fills == b.fills
    assert a.trades == b.trades
    assert a.events == b.events
    assert np.array_equal(a.hold, b.hold)
    assert a.open_trade_row() == b.open_trade_row()
    assert len(a.fills) > 0


def test_unaffordable_entry_is_refused_not_leveraged(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.format(tf="1d", side="long", entry="fast > slow", exit="fast < slow",
                                sizing="{method: fixed_units, units: 1000}", fast=5, slow=20,
                                data=ROOT / DATA["sp500"]))
    result = ts.backtest(spec)
    assert result.metrics["trade_count"] == 0
    assert result.holds["insufficient_cash"] > 0
    assert (result.equity["cash"] == 100000).all()
