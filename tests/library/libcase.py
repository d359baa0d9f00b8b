"""Shared helpers for the library tests: shipped data, argument mapping, calling both forms."""

from __future__ import annotations

import inspect
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import library  # noqa: F401  (registers every entry)
from library.registry import REGISTRY, Entry
from library.types import VType

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
DATASETS = {
    "sp500": (DATA / "sp500_daily_1999_2018.csv", 252.0),
    "btc": (DATA / "btc_usd_kraken_5m_2019-10-22_2019-11-11.csv", 365.0 * 24 * 12),
}

#: series parameter name -> input column (a future entry with a new name must be added)
SERIES_BY_NAME = {
    "x": "close",
    "a": "close",
    "b": "open",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
    "lo": "band_lo",
    "hi": "band_hi",
    "cond": "cond",
}
#: entry -> {param: column} where the name-based choice is a poor test
SERIES_BY_ENTRY: dict[str, dict[str, str]] = {
    "exp": {"x": "small"},
}
#: constant parameter name -> value, for constants without a default
CONSTS_BY_NAME: dict[str, Any] = {"period": 14}
#: entry -> {param: value} overriding defaults
CONSTS_BY_ENTRY: dict[str, dict[str, Any]] = {}


def frame_from_ohlc(o: np.ndarray, h: np.ndarray, lo: np.ndarray, c: np.ndarray, v: np.ndarray) -> dict[str, np.ndarray]:
    """The named input columns the tests map parameters to."""
    from library.indicators import sma

    with np.errstate(invalid="ignore", divide="ignore"):
        rng = h - lo
        cols = {
            "open": o,
            "high": h,
            "low": lo,
            "close": c,
            "volume": v,
            "band_lo": o - 0.25 * rng,
            "band_hi": o + 0.25 * rng,
            "small": c / o - 1.0,
            "cond": c > sma(c, 20),
        }
    return {k: np.asarray(val) for k, val in cols.items()}


@lru_cache(maxsize=None)
def load(name: str) -> dict[str, np.ndarray]:
    path, _ = DATASETS[name]
    df = pd.read_csv(path)
    cols = [df[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close", "volume")]
    return frame_from_ohlc(*cols)


def series_args(entry: Entry, frame: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    chosen = SERIES_BY_ENTRY.get(entry.name, {})
    out = {}
    for p in entry.series_params:
        col = chosen.get(p.name, SERIES_BY_NAME.get(p.name))
        if col is None:
            raise AssertionError(
                f"{entry.name}: no test input for series parameter {p.name!r}; "
                "add it to SERIES_BY_NAME or SERIES_BY_ENTRY in tests/library/libcase.py"
            )
        arr = frame[col]
        out[p.name] = arr.astype(bool) if p.vtype == VType.BOOL else arr.astype(np.float64)
    return out


def const_args(entry: Entry, bars_per_year: float = 252.0) -> dict[str, Any]:
    chosen = CONSTS_BY_ENTRY.get(entry.name, {})
    out: dict[str, Any] = {}
    for p in entry.const_params:
        if p.name in chosen:
            out[p.name] = chosen[p.name]
        elif p.context == "bars_per_year":
            out[p.name] = bars_per_year
        elif p.default is not inspect.Parameter.empty:
            out[p.name] = p.default
        elif p.name in CONSTS_BY_NAME:
            out[p.name] = CONSTS_BY_NAME[p.name]
        else:
            raise AssertionError(
                f"{entry.name}: no test value for constant {p.name!r}; "
                "add it to CONSTS_BY_NAME or CONSTS_BY_ENTRY in tests/library/libcase.py"
            )
    return out


def as_outputs(entry: Entry, value: Any) -> list[np.ndarray]:
    """Batch result as a list of arrays (one per output)."""
    if entry.outputs:
        assert isinstance(value, tuple) and len(value) == len(entry.outputs), (
            f"{entry.name}: batch must return a tuple of {len(entry.outputs)} arrays"
        )
        return list(value)
    return [value]


def run_batch(entry: Entry, series: dict[str, np.ndarray], consts: dict[str, Any]) -> list[np.ndarray]:
    return as_outputs(entry, entry.batch(**series, **consts))


def run_stream(
    entry: Entry, series: dict[str, np.ndarray], consts: dict[str, Any], numpy_scalars: bool = False
) -> list[np.ndarray]:
    """Feed the stream form bar by bar (Python floats/bools, or numpy scalars if asked)."""
    state = entry.stream(**consts)
    names = [p.name for p in entry.series_params]
    columns = [list(series[n]) if numpy_scalars else series[n].tolist() for n in names]
    n = len(columns[0]) if columns else 0
    rows = [state.update(*vals) for vals in zip(*columns)] if columns else []
    is_bool = entry.returns == VType.BOOL
    for r in rows:
        vals = r if entry.outputs else (r,)
        if entry.outputs:
            assert isinstance(r, tuple) and len(r) == len(entry.outputs), f"{entry.name}: update must return a tuple"
        for v in vals:
            kind = bool if is_bool else float
            assert isinstance(v, kind), f"{entry.name}: update returned {type(v).__name__}, expected {kind.__name__}"
    dtype = bool if is_bool else np.float64
    if entry.outputs:
        k = len(entry.outputs)
        return [np.array([r[i] for r in rows], dtype=dtype).reshape(n) for i in range(k)]
    return [np.array(rows, dtype=dtype).reshape(n)]


def entries() -> list[Entry]:
    return list(REGISTRY)


def first_valid(arr: np.ndarray) -> int:
    idx = np.flatnonzero(~np.isnan(arr))
    return int(idx[0]) if idx.size else -1
