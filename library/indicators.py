"""Rolling indicators: each a batch form over whole arrays and a stream form with O(1) state.

Conventions shared by every entry here (also in docs/reference/conventions.md):

* Output is NaN until the window is full (the entry's ``lookback`` says how many extra
  past bars it needs), and NaN wherever an input inside the window is NaN.
* Windowed sums use a running (cumulative) sum of values centred on the first finite
  input, so that batch (``numpy.cumsum``) and stream (``total += x``) perform the very
  same float operations in the same order and agree bit for bit.
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from library.registry import register
from library.types import BoolSeries, Series


def _centred(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(values minus the first finite value with NaN as 0, NaN flags, that first value)."""
    x = np.asarray(x, dtype=np.float64)
    nan = np.isnan(x)
    finite = np.flatnonzero(~nan)
    ref = float(x[finite[0]]) if finite.size else 0.0
    return np.where(nan, 0.0, x - ref), nan, ref


def sma(x: Series, period: int) -> Series:
    """Simple moving average of the last ``period`` values.

    Example:
        >>> sma(np.array([1.0, 2.0, 3.0, 4.0]), 2).tolist()
        [nan, 1.5, 2.5, 3.5]
    """
    xz, nan, ref = _centred(x)
    n = len(xz)
    out = np.full(n, np.nan)
    if period < 1 or n < period:
        return out
    c = np.cumsum(xz)
    k = np.cumsum(nan)
    prev_c = np.concatenate(([0.0], c[:-period]))
    prev_k = np.concatenate(([0], k[:-period]))
    win = (c[period - 1 :] - prev_c) / period + ref
    bad = (k[period - 1 :] - prev_k) > 0
    out[period - 1 :] = np.where(bad, np.nan, win)
    return out


class SmaState:
    """Stream form of :func:`sma`."""

    def __init__(self, period: int) -> None:
        self.period = period
        self.ref: float | None = None
        self.total = 0.0
        self.nans = 0
        self.hist: deque[tuple[float, int]] = deque([(0.0, 0)], maxlen=period + 1)

    def update(self, x: float) -> float:
        nan = math.isnan(x)
        if self.ref is None and not nan:
            self.ref = x
        self.total += 0.0 if nan else x - self.ref  # type: ignore[operator]
        self.nans += nan
        self.hist.append((self.total, self.nans))
        if len(self.hist) <= self.period:
            return math.nan
        c0, k0 = self.hist[0]
        if self.nans - k0 > 0:
            return math.nan
        return (self.total - c0) / self.period + self.ref  # type: ignore[operator]


register("sma", kind="indicator", batch=sma, stream=SmaState, lookback=lambda period: period - 1)


def crosses_above(a: Series, b: Series) -> BoolSeries:
    """True on the bar where ``a`` moves from at or below ``b`` to strictly above it.

    Example:
        >>> crosses_above(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])).tolist()
        [False, False, True]
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    out = np.zeros(len(a), dtype=bool)
    out[1:] = (a[1:] > b[1:]) & (a[:-1] <= b[:-1])
    return out


class CrossesAboveState:
    """Stream form of :func:`crosses_above`."""

    def __init__(self) -> None:
        self.prev: tuple[float, float] | None = None

    def update(self, a: float, b: float) -> bool:
        prev, self.prev = self.prev, (a, b)
        return prev is not None and a > b and prev[0] <= prev[1]


register("crosses_above", kind="signal", batch=crosses_above, stream=CrossesAboveState, lookback=1)
