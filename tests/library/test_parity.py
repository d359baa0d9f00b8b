"""Batch and stream forms of every registry entry agree bit for bit.

Walks ``REGISTRY`` (so a future entry without a correct stream twin fails here) on the
shipped data, on NaN-prefixed and NaN-holed copies (warm-up and re-seeding), on a
synthetic series full of edge values (zeros, negatives, ±inf, flat runs), and over a
sweep of small window lengths. Also checks each entry's declared ``lookback``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from libcase import (
    DATASETS,
    const_args,
    entries,
    first_valid,
    frame_from_ohlc,
    load,
    run_batch,
    run_stream,
    series_args,
)

from library.registry import Entry
from library.types import VType

ENTRIES = entries()
IDS = [e.name for e in ENTRIES]
PREFIX = 30
#: entries whose first defined output depends on the data, not only on the constants
DATA_DEPENDENT_WARMUP = {"bars_since"}


def _with_nan_prefix(frame: dict[str, np.ndarray], k: int) -> dict[str, np.ndarray]:
    out = {}
    for name, arr in frame.items():
        fill = np.zeros(k, dtype=bool) if arr.dtype == bool else np.full(k, np.nan)
        out[name] = np.concatenate([fill, arr])
    return out


def _with_nan_holes(frame: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    holes = np.zeros(len(frame["close"]), dtype=bool)
    holes[[100, 101, 102, 777, 2000, 3333, 3340]] = True
    holes[4000::997] = True
    for name, arr in frame.items():
        arr = arr.copy()
        if arr.dtype == bool:
            arr[holes] = False
        else:
            arr[holes] = np.nan
        out[name] = arr
    # one column alone goes missing too, so multi-input entries see partial NaN bars
    out["high"] = out["high"].copy()
    out["high"][1500:1503] = np.nan
    return out


def _synthetic(n: int = 400) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    base = 100.0 + np.cumsum(rng.normal(0.0, 1.0, n))
    base[40:60] = base[40]  # flat run: zero variance, zero moves
    base[80:85] = 0.0  # zeros: division by zero in ratios
    base[90:95] = -base[90:95]  # negatives: log/sqrt of negatives
    base[120] = np.inf
    base[121] = -np.inf
    base[150:153] = np.nan
    base[200] = 1e300
    base[201] = 1e-300
    base[210] = -0.0
    base[300:330] = np.round(base[300:330])  # many ties
    o = np.roll(base, 1)
    h = np.fmax(base, o) + 0.5
    lo = np.fmin(base, o) - 0.5
    h[60:70] = lo[60:70]  # zero range bars
    v = np.abs(base)
    return frame_from_ohlc(o, h, lo, base, v)


def assert_parity(
    entry: Entry, frame: dict[str, np.ndarray], consts: dict, numpy_scalars: bool = False
) -> list[np.ndarray]:
    series = series_args(entry, frame)
    batch = run_batch(entry, series, consts)
    stream = run_stream(entry, series, consts, numpy_scalars)
    want_dtype = bool if entry.returns == VType.BOOL else np.float64
    n = len(frame["close"])
    for name, b, s in zip(entry.outputs or ("value",), batch, stream):
        assert isinstance(b, np.ndarray) and b.dtype == want_dtype, (
            f"{entry.name}.{name}: batch returned {type(b).__name__} {getattr(b, 'dtype', '')}, want {want_dtype}"
        )
        assert b.shape == (n,), f"{entry.name}.{name}: batch shape {b.shape}, want ({n},)"
        if not np.array_equal(b, s, equal_nan=True):
            diff = np.flatnonzero(~((b == s) | (np.isnan(b) & np.isnan(s))))
            i = int(diff[0])
            pytest.fail(
                f"{entry.name}.{name} consts={consts}: {diff.size} bars differ, first at {i}: "
                f"batch={b[i]!r} stream={s[i]!r}"
            )
    return batch


@pytest.mark.parametrize("dataset", sorted(DATASETS))
@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_parity_on_shipped_data(entry: Entry, dataset: str) -> None:
    assert_parity(entry, load(dataset), const_args(entry, DATASETS[dataset][1]))


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_parity_with_nan_prefix_and_holes(entry: Entry) -> None:
    consts = const_args(entry)
    assert_parity(entry, _with_nan_prefix(load("btc"), PREFIX), consts)
    assert_parity(entry, _with_nan_holes(load("sp500")), consts)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_parity_on_edge_values(entry: Entry) -> None:
    with np.errstate(all="ignore"):
        frame = _synthetic()
        assert_parity(entry, frame, const_args(entry))
        # a host may hand the stream numpy scalars instead of Python floats
        assert_parity(entry, frame, const_args(entry), numpy_scalars=True)
        for n in (0, 1, 2, 5):
            assert_parity(entry, {k: v[:n] for k, v in frame.items()}, const_args(entry))


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_parity_over_small_windows(entry: Entry) -> None:
    """Every integer constant in 1..5 (one at a time): both forms accept or both reject."""
    frame = {k: v[:120] for k, v in _synthetic().items()}
    base = const_args(entry)
    ints = [p.name for p in entry.const_params if p.vtype == VType.INT]
    for name in ints:
        for value in (1, 2, 3, 5):
            consts = {**base, name: value}
            errors = []
            for form in (lambda: run_batch(entry, series_args(entry, frame), consts),
                         lambda: entry.stream(**consts)):
                try:
                    with np.errstate(all="ignore"):
                        form()
                    errors.append(None)
                except ValueError as exc:
                    errors.append(exc)
            assert (errors[0] is None) == (errors[1] is None), (
                f"{entry.name} {consts}: batch raised {errors[0]!r}, stream raised {errors[1]!r}"
            )
            if errors[0] is None:
                with np.errstate(all="ignore"):
                    assert_parity(entry, frame, consts)


def _warmup_checked(entry: Entry) -> bool:
    return entry.returns != VType.BOOL and entry.name not in DATA_DEPENDENT_WARMUP


@pytest.mark.parametrize("dataset", sorted(DATASETS))
@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_lookback_is_first_defined_bar(entry: Entry, dataset: str) -> None:
    """On clean data every output is defined from bar ``lookback`` on, and one starts there."""
    if not _warmup_checked(entry):
        pytest.skip("boolean or data-dependent warm-up")
    consts = const_args(entry, DATASETS[dataset][1])
    outs = run_batch(entry, series_args(entry, load(dataset)), consts)
    lookback = entry.lookback(**consts)
    firsts = [first_valid(o) for o in outs]
    assert max(firsts) == lookback, f"{entry.name}: first defined bars {firsts}, lookback {lookback}"
    for o in outs:
        assert not math.isnan(o[lookback])


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_nan_prefix_only_shifts_the_output(entry: Entry) -> None:
    """Upstream warm-up (leading NaN) delays the entry's own warm-up without changing a bit."""
    consts = const_args(entry)
    clean = load("btc")
    plain = run_batch(entry, series_args(entry, clean), consts)
    shifted = run_batch(entry, series_args(entry, _with_nan_prefix(clean, PREFIX)), consts)
    for p, s in zip(plain, shifted):
        assert np.array_equal(s[PREFIX:], p, equal_nan=True)
        head = s[:PREFIX]
        assert (not head.any()) if head.dtype == bool else np.isnan(head).all()
