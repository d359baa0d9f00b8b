"""Helpers for engine tests on small constructed data.

``write_case(tmp_path, rows, body)`` writes a bars CSV and a strategy + universe spec (two
YAML documents in one file) and returns the spec path. ``rows`` are ``(open, high, low,
close, volume)`` tuples, one per bar, on consecutive business days from Monday 2024-01-01
(or consecutive minutes with ``freq="1min"``); the volume column is a free control channel
that tests use to switch signals on given bars (``entry: {long: volume == 1}``).

The ``run`` fixture is parametrised over the two loops of the engine: it runs the spec in
the requested mode (``fast=True``: event-skipping, ``fast=False``: every bar), runs the other
mode too, asserts both give identical trades, fills, equity and hold reasons, and returns
the requested mode's ``Result``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import interpreter as ts

START = "2024-01-01"  # a Monday

SPEC = """\
kind: strategy
name: {name}
universe: {name}_universe
timeframe: {timeframe}
capital: {capital}
{body}
---
kind: universe
name: {name}_universe
instruments:
  - {{id: x, symbol: X, data: {data}, timeframe: {timeframe}}}
"""


def bar_times(n: int, freq: str = "B") -> pd.DatetimeIndex:
    """Timestamps of ``n`` bars: business days (``"B"``) or e.g. ``"1min"`` from 2024-01-01."""
    if freq == "B":
        return pd.bdate_range(START, periods=n, tz="UTC")
    return pd.date_range(START, periods=n, freq=freq, tz="UTC")


def T(i: int, freq: str = "B") -> pd.Timestamp:
    """Timestamp of bar ``i``."""
    return bar_times(i + 1, freq)[i]


def write_bars(path: Path, rows, freq: str = "B") -> Path:
    rows = [tuple(r) + (0,) * (5 - len(r)) for r in rows]
    times = bar_times(len(rows), freq)
    lines = ["timestamp,open,high,low,close,volume"]
    for t, (o, h, low, c, v) in zip(times, rows):
        assert low <= min(o, c) and h >= max(o, c), f"inconsistent bar {t}: {(o, h, low, c)}"
        lines.append(f"{t.isoformat()},{o!r},{h!r},{low!r},{c!r},{v!r}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_case(directory: Path, rows, body: str, *, capital: float = 10000, timeframe: str = "1d",
               freq: str = "B", name: str = "case") -> Path:
    """Bars + spec in ``directory`` (which must hold no other spec: it is the workspace)."""
    directory.mkdir(parents=True, exist_ok=True)
    data = write_bars(directory / "bars.csv", rows, freq)
    spec = directory / f"{name}.yaml"
    spec.write_text(SPEC.format(name=name, timeframe=timeframe, capital=capital, data=data,
                                body=textwrap.dedent(body).strip()), encoding="utf-8")
    return spec


def flat(n: int, price: float = 100.0, volume: int = 0) -> list[tuple]:
    """``n`` quiet bars: open = close = price, high/low one point away."""
    return [(price, price + 1, price - 1, price, volume) for _ in range(n)]


def assert_same_run(a, b) -> None:
    """Two results agree on everything the engine decides."""
    pd.testing.assert_frame_equal(a.trades, b.trades, check_exact=True)
    pd.testing.assert_frame_equal(a.fills, b.fills, check_exact=True)
    pd.testing.assert_frame_equal(a.equity, b.equity, check_exact=True)
    assert a.holds == b.holds
    if a.hold_bars is not None or b.hold_bars is not None:
        np.testing.assert_array_equal(a.hold_bars, b.hold_bars)
    assert a.metrics == b.metrics
    if a.risk_events is not None or b.risk_events is not None:
        pd.testing.assert_frame_equal(a.risk_events, b.risk_events, check_exact=True)
        pd.testing.assert_frame_equal(a.severity, b.severity, check_exact=True)
        assert a.risk == b.risk
        assert a.hold_details == b.hold_details


@pytest.fixture(params=[True, False], ids=["fast", "per_bar"])
def run(request):
    """``run(spec)`` -> Result of this mode, checked identical to the other mode's."""
    fast = request.param

    def _run(spec, **kw):
        res = ts.backtest(spec, fast=fast, **kw)
        other = ts.backtest(spec, fast=not fast, **kw)
        assert_same_run(res, other)
        return res

    return _run


def trades(res) -> list[dict]:
    """Trade rows as plain dicts (NaN exit fields of an open trade kept as NaN/NaT)."""
    return res.trades.drop(columns=["fingerprint"]).to_dict("records")


def fills(res) -> list[dict]:
    return res.fills.drop(columns=["fingerprint"]).to_dict("records")


def equity(res) -> list[float]:
    return res.equity["equity"].tolist()
