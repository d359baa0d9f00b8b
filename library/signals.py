"""Event signals over series: crossings and time since an event.

A comparison with NaN is false, so a crossing needs both bars of both inputs defined;
``bars_since`` counts bars, so it is NaN only before the condition was ever true.
"""

from __future__ import annotations

import numpy as np

from library._kernels import NAN, as_f64
from library.registry import register
from library.types import BoolSeries, Series


def crosses_above(a: Series, b: Series) -> BoolSeries:
    """True on the bar where ``a`` moves from at or below ``b`` to strictly above it.

    Example:
        >>> crosses_above(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])).tolist()
        [False, False, True]
    """
    a = as_f64(a)
    b = as_f64(b)
    out = np.zeros(len(a), dtype=bool)
    out[1:] = (a[1:] > b[1:]) & (a[:-1] <= b[:-1])
    return out


class CrossesAboveState:
    """Stream form of :func:`crosses_above`."""

    def __init__(self) -> None:
        self.prev: tuple[float, float] | None = None

    def update(self, a: float, b: float) -> bool:
        prev, self.prev = self.prev, (a, b)
        return bool(prev is not None and a > b and prev[0] <= prev[1])


register("crosses_above", kind="signal", batch=crosses_above, stream=CrossesAboveState, lookback=1)


def crosses_below(a: Series, b: Series) -> BoolSeries:
    """True on the bar where ``a`` moves from at or above ``b`` to strictly below it.

    Example:
        >>> crosses_below(np.array([3.0, 2.0, 1.0]), np.array([2.0, 2.0, 2.0])).tolist()
        [False, False, True]
    """
    a = as_f64(a)
    b = as_f64(b)
    out = np.zeros(len(a), dtype=bool)
    out[1:] = (a[1:] < b[1:]) & (a[:-1] >= b[:-1])
    return out


class CrossesBelowState:
    """Stream form of :func:`crosses_below`."""

    def __init__(self) -> None:
        self.prev: tuple[float, float] | None = None

    def update(self, a: float, b: float) -> bool:
        prev, self.prev = self.prev, (a, b)
        return bool(prev is not None and a < b and prev[0] >= prev[1])


register("crosses_below", kind="signal", batch=crosses_below, stream=CrossesBelowState, lookback=1)


def bars_since(cond: BoolSeries) -> Series:
    """Bars since ``cond`` was last true: 0 on a true bar, NaN before the first true bar.

    Example:
        >>> bars_since(np.array([False, True, False, False, True])).tolist()
        [nan, 0.0, 1.0, 2.0, 0.0]
    """
    c = np.asarray(cond, dtype=bool)
    idx = np.arange(len(c))
    last = np.maximum.accumulate(np.where(c, idx, -1)) if len(c) else idx
    return np.where(last < 0, NAN, (idx - last).astype(np.float64))


class BarsSinceState:
    """Stream form of :func:`bars_since`."""

    def __init__(self) -> None:
        self.count: float = NAN

    def update(self, cond: bool) -> float:
        if cond:
            self.count = 0.0
        elif self.count == self.count:
            self.count += 1.0
        return self.count


register("bars_since", kind="signal", batch=bars_since, stream=BarsSinceState, lookback=0)
