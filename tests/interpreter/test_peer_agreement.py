"""Correctness anchor: SMA 10/30 crossover against backtesting.py's trade list.

The fixtures in tests/fixtures/peer/ were produced by benchmarks/peers/backtesting_py_sma_cross.py;
their README lists the conventions aligned here (next-open fills, all-in whole units sized at
the fill price net of commission, 0.1% commission per side, unfilled orders on the last bar).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import interpreter as ts

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "peer"

SPEC = """\
kind: strategy
name: sma_cross_peer
universe: peer_data
timeframe: {tf}
capital: {cash}
signals:
  fast: sma(close, 10)
  slow: sma(close, 30)
entry:
  long: crosses_above(fast, slow)
exit:
  long: crosses_below(fast, slow)
sizing: {{method: all_in}}
execution: {{fill: next_open, commission: 0.1%}}
---
kind: universe
name: peer_data
instruments:
  - {{id: x, symbol: X, data: {data}, timeframe: {tf}}}
"""

CASES = [
    ("sma_cross_sp500_daily.json", "data/sp500_daily_1999_2018.csv", "1d", None),
    ("sma_cross_btc_usd_kraken_5m.json", "data/btc_usd_kraken_5m_2019-10-22_2019-11-11.csv", "5m", None),
    ("sma_cross_sp500_daily_first2600.json", "data/sp500_daily_1999_2018.csv", "1d", 2600),
    ("sma_cross_sp500_daily_first2653.json", "data/sp500_daily_1999_2018.csv", "1d", 2653),
    ("sma_cross_sp500_daily_first2727.json", "data/sp500_daily_1999_2018.csv", "1d", 2727),
]


@pytest.mark.parametrize("fixture, data, tf, rows", CASES, ids=[c[0] for c in CASES])
def test_trades_match_backtesting_py(tmp_path, fixture, data, tf, rows):
    ref = json.loads((FIXTURES / fixture).read_text())
    src = ROOT / data
    if rows is not None:
        df = pd.read_csv(src, dtype=str)
        src = tmp_path / "bars.csv"
        df.iloc[:rows].to_csv(src, index=False)
    spec = tmp_path / "peer.yaml"
    spec.write_text(SPEC.format(tf=tf, cash=ref["settings"]["cash"], data=src))
    result = ts.backtest(spec)
    trades = result.trades[result.trades["exit_reason"] != "open_at_end"]
    assert len(trades) == len(ref["trades"])
    for ours, theirs in zip(trades.to_dict("records"), ref["trades"]):
        assert ours["entry_time"].isoformat() == theirs["entry_time"]
        assert ours["exit_time"].isoformat() == theirs["exit_time"]
        assert ours["entry_price"] == theirs["entry_price"]
        assert ours["exit_price"] == theirs["exit_price"]
        assert ours["units"] == theirs["units"]
        assert ours["pnl"] == pytest.approx(theirs["pnl"], rel=1e-9, abs=1e-6)
    final = result.metrics["final_equity"]
    assert final == pytest.approx(ref["final_equity"], rel=1e-9)
