"""Rolling-window statistics: dispersion, extremes, rank and correlation.

Every entry here looks at the last ``period`` bars including the current one and is
computed afresh per window (O(period) per bar in the stream form, flat in history), so
no running sum can drift or cancel catastrophically:

* Moments are two-pass and shifted by the window's current value (``_kernels.moments``):
  more accurate than TA-Lib's ``E[x^2] - E[x]^2``, and a constant window gives exactly
  zero dispersion. Window values are added in bar order in both forms.
* NaN propagates through the window arithmetic, so any NaN in the window gives NaN; the
  first output is on bar ``period - 1`` (``realized_vol``: bar ``period``).
* Standard deviations are population (divide by ``period``, TA-Lib STDDEV) except
  ``realized_vol``, which is the sample estimate (divide by ``period - 1``).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from library._kernels import (
    NAN,
    as_f64,
    check_period,
    full_windows,
    ieee_div,
    ieee_sqrt,
    moments,
    py_moments,
    py_seq_sum,
    seq_sum,
    window_offsets,
)
from library.indicators import LogReturnsState, log_returns
from library.registry import register
from library.types import BarsPerYear, Series


class _Window:
    """The last ``period`` values (oldest first) and how many of them are NaN."""

    def __init__(self, period: int) -> None:
        self.period = period
        self.values: deque[float] = deque(maxlen=period)
        self.nans = 0

    def push(self, x: float) -> bool:
        """Add a value; True once the window is full."""
        if len(self.values) == self.period:
            self.nans -= self.values[0] != self.values[0]
        self.values.append(x)
        self.nans += x != x
        return len(self.values) == self.period


def _lookback(period: int) -> int:
    return period - 1


def stddev(x: Series, period: int) -> Series:
    """Population standard deviation over the last ``period`` values (TA-Lib STDDEV, nbdev=1).

    Example:
        >>> stddev(np.array([1.0, 3.0, 5.0, 5.0]), 2).tolist()
        [nan, 1.0, 1.0, 0.0]
    """
    check_period("period", period)
    x = as_f64(x)
    if len(x) < period:
        return np.full(len(x), NAN)
    _, _, var = moments(x, period, 0)
    return full_windows(len(x), period, np.sqrt(var))


class StddevState:
    """Stream form of :func:`stddev`."""

    def __init__(self, period: int) -> None:
        self.win = _Window(check_period("period", period))

    def update(self, x: float) -> float:
        if not self.win.push(x):
            return NAN
        return ieee_sqrt(py_moments(list(self.win.values), 0)[2])


register("stddev", kind="indicator", batch=stddev, stream=StddevState, lookback=_lookback)


def zscore(x: Series, period: int) -> Series:
    """Standard score of the current value in its window: ``(x - mean) / stddev``.

    Mean and population stddev of the last ``period`` values including the current one
    (so ``|z| <= sqrt(period - 1)``); a constant window gives NaN (0/0).

    Example:
        >>> zscore(np.array([1.0, 3.0, 2.0, 2.0]), 2).tolist()
        [nan, 1.0, -1.0, nan]
    """
    check_period("period", period)
    x = as_f64(x)
    if len(x) < period:
        return np.full(len(x), NAN)
    _, md, var = moments(x, period, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return full_windows(len(x), period, -md / np.sqrt(var))


class ZscoreState:
    """Stream form of :func:`zscore`."""

    def __init__(self, period: int) -> None:
        self.win = _Window(check_period("period", period))

    def update(self, x: float) -> float:
        if not self.win.push(x):
            return NAN
        _, md, var = py_moments(list(self.win.values), 0)
        return ieee_div(-md, ieee_sqrt(var))


register("zscore", kind="indicator", batch=zscore, stream=ZscoreState, lookback=_lookback)


def bollinger(x: Series, period: int = 20, k: float = 2.0) -> tuple[Series, Series, Series]:
    """Bollinger bands: window mean (middle) plus/minus ``k`` population stddevs (TA-Lib BBANDS).

    The middle band is the simple moving average, computed window-locally (it may differ
    from ``sma`` in the last bit).

    Example:
        >>> up, mid, lo = bollinger(np.array([1.0, 3.0, 5.0]), 2, 2.0)
        >>> up.tolist(), mid.tolist(), lo.tolist()
        ([nan, 4.0, 6.0], [nan, 2.0, 4.0], [nan, 0.0, 2.0])
    """
    check_period("period", period)
    x = as_f64(x)
    if len(x) < period:
        nan = np.full(len(x), NAN)
        return nan, nan.copy(), nan.copy()
    cur, md, var = moments(x, period, 0)
    with np.errstate(invalid="ignore", over="ignore"):
        mid = cur + md
        dev = np.sqrt(var) * k
        upper, lower = mid + dev, mid - dev
    n = len(x)
    return (
        full_windows(n, period, upper),
        full_windows(n, period, mid),
        full_windows(n, period, lower),
    )


class BollingerState:
    """Stream form of :func:`bollinger`."""

    def __init__(self, period: int = 20, k: float = 2.0) -> None:
        self.win = _Window(check_period("period", period))
        self.k = k

    def update(self, x: float) -> tuple[float, float, float]:
        if not self.win.push(x):
            return NAN, NAN, NAN
        cur, md, var = py_moments(list(self.win.values), 0)
        mid = cur + md
        dev = ieee_sqrt(var) * self.k
        return mid + dev, mid, mid - dev


register(
    "bollinger",
    kind="indicator",
    batch=bollinger,
    stream=BollingerState,
    lookback=_lookback,
    outputs=("upper", "middle", "lower"),
)


def _extreme(x: np.ndarray, period: int, high: bool) -> np.ndarray:
    x = as_f64(x)
    if len(x) < period:
        return np.full(len(x), NAN)
    win = sliding_window_view(x, period)
    return full_windows(len(x), period, win.max(axis=1) if high else win.min(axis=1))


class _ExtremeState:
    high = True

    def __init__(self, period: int) -> None:
        self.win = _Window(check_period("period", period))

    def update(self, x: float) -> float:
        if not self.win.push(x) or self.win.nans:
            return NAN
        return max(self.win.values) if self.high else min(self.win.values)


def highest(x: Series, period: int) -> Series:
    """Highest value of the last ``period`` bars, current bar included (TA-Lib MAX).

    Example:
        >>> highest(np.array([1.0, 3.0, 2.0, 0.0]), 2).tolist()
        [nan, 3.0, 3.0, 2.0]
    """
    check_period("period", period)
    return _extreme(x, period, True)


class HighestState(_ExtremeState):
    """Stream form of :func:`highest`."""


def lowest(x: Series, period: int) -> Series:
    """Lowest value of the last ``period`` bars, current bar included (TA-Lib MIN).

    Example:
        >>> lowest(np.array([1.0, 3.0, 2.0, 0.0]), 2).tolist()
        [nan, 1.0, 2.0, 0.0]
    """
    check_period("period", period)
    return _extreme(x, period, False)


class LowestState(_ExtremeState):
    """Stream form of :func:`lowest`."""

    high = False


register("highest", kind="indicator", batch=highest, stream=HighestState, lookback=_lookback)
register("lowest", kind="indicator", batch=lowest, stream=LowestState, lookback=_lookback)


def donchian(high: Series, low: Series, period: int = 20) -> tuple[Series, Series]:
    """Donchian channel: highest high and lowest low of the last ``period`` bars (current included).

    Example:
        >>> up, lo = donchian(np.array([2.0, 4.0, 3.0]), np.array([1.0, 2.0, 0.5]), 2)
        >>> up.tolist(), lo.tolist()
        ([nan, 4.0, 4.0], [nan, 1.0, 0.5])
    """
    check_period("period", period)
    return _extreme(high, period, True), _extreme(low, period, False)


class DonchianState:
    """Stream form of :func:`donchian`."""

    def __init__(self, period: int = 20) -> None:
        self.up = HighestState(period)
        self.lo = LowestState(period)

    def update(self, high: float, low: float) -> tuple[float, float]:
        return self.up.update(high), self.lo.update(low)


register(
    "donchian",
    kind="indicator",
    batch=donchian,
    stream=DonchianState,
    lookback=_lookback,
    outputs=("upper", "lower"),
)


def percent_rank(x: Series, period: int) -> Series:
    """Percentile rank, 0..100, of the current value among the last ``period`` values.

    ``100 * (below + (ties - 1) / 2) / (period - 1)``: ``below`` counts window values
    strictly below the current one, ``ties`` those equal to it (itself included), so
    ties take their mid-rank; the window minimum scores 0, the maximum 100 and a
    constant window 50. Needs ``period >= 2``.

    Example:
        >>> percent_rank(np.array([1.0, 3.0, 2.0, 2.0, 5.0]), 3).tolist()
        [nan, nan, 50.0, 25.0, 100.0]
    """
    check_period("period", period, 2)
    x = as_f64(x)
    if len(x) < period:
        return np.full(len(x), NAN)
    views, cur = window_offsets(x, period)
    below = sum((v < cur).astype(np.int64) for v in views)
    ties = sum((v == cur).astype(np.int64) for v in views)
    nans = sum(np.isnan(v).astype(np.int64) for v in views)
    val = 50.0 * (2 * below + ties - 1) / (period - 1)
    return full_windows(len(x), period, np.where(nans > 0, NAN, val))


class PercentRankState:
    """Stream form of :func:`percent_rank`."""

    def __init__(self, period: int) -> None:
        self.win = _Window(check_period("period", period, 2))

    def update(self, x: float) -> float:
        if not self.win.push(x) or self.win.nans:
            return NAN
        below = sum(1 for v in self.win.values if v < x)
        ties = sum(1 for v in self.win.values if v == x)
        return 50.0 * (2 * below + ties - 1) / (self.win.period - 1)


register(
    "percent_rank", kind="indicator", batch=percent_rank, stream=PercentRankState, lookback=_lookback
)


def corr(a: Series, b: Series, period: int) -> Series:
    """Rolling Pearson correlation of two series over the last ``period`` bars (TA-Lib CORREL).

    Two-pass over deviations from each window's current values; NaN where either series
    is constant over the window (TA-Lib writes 0 there). Needs ``period >= 2``.

    Example:
        >>> corr(np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 4.0, 6.0, 5.0]), 3).tolist()
        [nan, nan, 1.0, 0.5]
    """
    check_period("period", period, 2)
    a, b = as_f64(a), as_f64(b)
    if len(a) < period:
        return np.full(len(a), NAN)
    va, ca = window_offsets(a, period)
    vb, cb = window_offsets(b, period)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        da = [v - ca for v in va]
        db = [v - cb for v in vb]
        ma = seq_sum(da) / period
        mb = seq_sum(db) / period
        sab = seq_sum((u - ma) * (w - mb) for u, w in zip(da, db))
        saa = seq_sum((u - ma) * (u - ma) for u in da)
        sbb = seq_sum((w - mb) * (w - mb) for w in db)
        return full_windows(len(a), period, sab / np.sqrt(saa * sbb))


class CorrState:
    """Stream form of :func:`corr`."""

    def __init__(self, period: int) -> None:
        self.period = check_period("period", period, 2)
        self.a: deque[float] = deque(maxlen=self.period)
        self.b: deque[float] = deque(maxlen=self.period)

    def update(self, a: float, b: float) -> float:
        self.a.append(a)
        self.b.append(b)
        p = self.period
        if len(self.a) < p:
            return NAN
        da = [v - a for v in self.a]
        db = [v - b for v in self.b]
        ma = py_seq_sum(da) / p
        mb = py_seq_sum(db) / p
        sab = py_seq_sum((u - ma) * (w - mb) for u, w in zip(da, db))
        saa = py_seq_sum((u - ma) * (u - ma) for u in da)
        sbb = py_seq_sum((w - mb) * (w - mb) for w in db)
        return ieee_div(sab, ieee_sqrt(saa * sbb))


register("corr", kind="indicator", batch=corr, stream=CorrState, lookback=_lookback)


def realized_vol(x: Series, period: int, bars_per_year: BarsPerYear = 252.0) -> Series:
    """Annualised realised volatility: sample stddev of the last ``period`` log returns.

    ``sqrt(sum((r - mean(r))**2) / (period - 1)) * sqrt(bars_per_year)``; needs
    ``period + 1`` prices (first output on bar ``period``). ``bars_per_year`` is filled
    in by the compiler from the timeframe (252 for daily bars).

    Example:
        >>> realized_vol(np.exp(np.array([0.0, 0.01, 0.0, 0.01])), 2, 1.0).round(12).tolist()
        [nan, nan, 0.014142135624, 0.014142135624]
    """
    check_period("period", period, 2)
    ann = _annualiser(bars_per_year)
    lr = log_returns(x)
    if len(lr) < period:
        return np.full(len(lr), NAN)
    _, _, var = moments(lr, period, 1)
    return full_windows(len(lr), period, np.sqrt(var) * ann)


def _annualiser(bars_per_year: float) -> float:
    if not bars_per_year > 0:
        raise ValueError(f"bars_per_year must be > 0, got {bars_per_year!r}")
    return math.sqrt(bars_per_year)


class RealizedVolState:
    """Stream form of :func:`realized_vol`."""

    def __init__(self, period: int, bars_per_year: float = 252.0) -> None:
        self.win = _Window(check_period("period", period, 2))
        self.ann = _annualiser(bars_per_year)
        self.lr = LogReturnsState()

    def update(self, x: float) -> float:
        if not self.win.push(self.lr.update(x)):
            return NAN
        return ieee_sqrt(py_moments(list(self.win.values), 1)[2]) * self.ann


register(
    "realized_vol",
    kind="indicator",
    batch=realized_vol,
    stream=RealizedVolState,
    lookback=lambda period: period,
)
