"""The event-skipping loop (``fast=True``) and the per-bar loop (``fast=False``) agree, and
runs are deterministic.

* Every shipped strategy on its shipped data: identical trades, fills, equity, hold
  reasons and metrics in both loops; two runs written with ``Result.write`` to two folders
  are byte-identical (and so are the fast and the per-bar run's files).
* Seeded random-walk data through strategies that exercise every engine path the fast
  loop skips over (trailing stops across long trades, take-profits, gaps, reversals,
  trade-state exits, close fills, distance stops and slippage, every sizing method).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import interpreter as ts
from conftest import assert_same_run

ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = sorted((ROOT / "specs" / "strategies").glob("*.yaml"))
FILES = ("metrics.json", "trades.csv", "fills.csv", "equity.csv", "risk_events.csv", "severity.csv")


def test_every_shipped_strategy_is_covered():
    assert len(STRATEGIES) >= 9


@pytest.mark.parametrize("spec", STRATEGIES, ids=[p.stem for p in STRATEGIES])
def test_shipped_strategy_fast_equals_per_bar_and_is_deterministic(tmp_path, spec):
    fast = ts.backtest(spec, fast=True)
    slow = ts.backtest(spec, fast=False)
    assert_same_run(fast, slow)
    again = ts.backtest(spec, fast=True)
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "per_bar"
    written = fast.write(a)
    assert sorted(p.name for p in written) == sorted(FILES)
    again.write(b)
    slow.write(c)
    for name in FILES:
        first = (a / name).read_bytes()
        assert first == (b / name).read_bytes(), f"{spec.stem}: {name} differs between two runs"
        assert first == (c / name).read_bytes(), f"{spec.stem}: {name} differs between fast and per-bar"
    # the runs are not vacuous: the shipped data trades
    assert len(fast.fills) > 0


# ---------------------------------------------------------------------------- random data

def random_bars(path: Path, n: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.015, n)))
    gap = rng.normal(0, 0.006, n) * (rng.random(n) < 0.2)  # occasional opening gaps
    open_ = np.concatenate(([100.0], close[:-1])) * np.exp(gap)
    wick = np.abs(rng.normal(0, 0.008, (2, n)))
    high = np.maximum(open_, close) * (1 + wick[0])
    low = np.minimum(open_, close) * (1 - wick[1])
    volume = rng.integers(0, 10, n)  # a random control channel as well
    times = pd.bdate_range("2000-01-03", periods=n, tz="UTC")
    df = pd.DataFrame({"timestamp": [t.isoformat() for t in times], "open": open_.round(4),
                       "high": high.round(4), "low": low.round(4), "close": close.round(4), "volume": volume})
    df["high"] = df[["open", "high", "close"]].max(axis=1)
    df["low"] = df[["open", "low", "close"]].min(axis=1)
    df.to_csv(path, index=False)
    return path


RANDOM_SPECS = {
    "trail_both_sides": """
signals:
  fast_ma: sma(close, 5)
  slow_ma: sma(close, 20)
entry:
  long: crosses_above(fast_ma, slow_ma)
  short: crosses_below(fast_ma, slow_ma)
exit:
  long: crosses_below(fast_ma, slow_ma)
  short: crosses_above(fast_ma, slow_ma)
sizing: {method: percent_equity, percent: 80%}
stops: {trailing_stop: 2 * atr(10), take_profit: 6%}
execution: {commission: 5bps, spread: 4bps, slippage: 0.02 * atr(10)}
""",
    "long_trail_only": """
entry:
  long: close > sma(close, 50)
sizing: {method: all_in}
stops: {trailing_stop: 8 * atr(14)}
execution: {commission: 10bps, min_commission: 1}
""",
    "stops_and_trade_state": """
signals:
  z: zscore(close, 20)
entry:
  long: z < -1.5
  short: z > 1.5
exit:
  long: z > 0 or bars_in_trade >= 15
  short: z < 0 or close < entry_price * 0.97
sizing: {method: fixed_notional, notional: 5000, fractional: true}
stops: {stop_loss: 3%, take_profit: 2.5 * atr(14)}
execution: {commission: 10bps, slippage: 3bps}
""",
    "close_fills_reversals": """
entry:
  long: volume == 1 or volume == 5
  short: volume == 2 or volume == 5
exit:
  long: volume == 2 or volume == 3
  short: volume == 1 or volume == 4
sizing: {method: vol_target, target: 15%, lookback: 10, max_leverage: 2}
stops: {stop_loss: 4%, trailing_stop: 2 * atr(5)}
execution: {fill: close, commission: 5bps, commission_per_unit: 0.01}
""",
    "next_open_reversals": """
entry:
  long: volume == 1 or volume == 5
  short: volume == 2 or volume == 5
exit:
  long: volume == 2 or volume == 3 or bars_in_trade >= 30
  short: volume == 1 or volume == 4
sizing: {method: fixed_units, units: 30}
stops: {trailing_stop: 2.5%, take_profit: 4 * atr(5)}
execution: {spread: 10bps, slippage: 0.01 * (high - low)}
""",
}


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("name", sorted(RANDOM_SPECS))
def test_fast_equals_per_bar_on_random_walks(tmp_path, name, seed):
    data = random_bars(tmp_path / "bars.csv", 1500, seed)
    spec = tmp_path / "random.yaml"
    spec.write_text(f"kind: strategy\nname: r\nuniverse: ru\ntimeframe: 1d\ncapital: 100000\n"
                    f"{RANDOM_SPECS[name].strip()}\n---\nkind: universe\nname: ru\ninstruments:\n"
                    f"  - {{id: x, symbol: X, data: {data}, timeframe: 1d}}\n", encoding="utf-8")
    fast = ts.backtest(spec, fast=True)
    slow = ts.backtest(spec, fast=False)
    assert_same_run(fast, slow)
    reasons = set(fast.trades["exit_reason"])
    assert len(fast.trades) >= 5, "the case should trade"
    assert reasons - {"signal", "open_at_end"}, "the case should stop out at least once"
