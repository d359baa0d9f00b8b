"""Moving averages, MACD and rates of change: a batch form over whole arrays each, and a
stream form with state that does not grow with history.

Conventions shared by every entry (full text in docs/reference/conventions.md):

* Output is NaN until the window is full (the entry's ``lookback`` says how many extra
  past bars it needs), and NaN wherever an input inside the window is NaN.
* ``sma`` keeps a running (cumulative) sum of values centred on the first finite input,
  so that batch (``numpy.cumsum``, sequential) and stream (``total += x``) perform the
  very same float operations in the same order; a non-finite input (NaN or ±inf) makes
  every window holding it NaN rather than poisoning the running sum for ever.
* Recurrences (``ema``, ``macd``) seed TA-Lib style with the plain average of the first
  ``period`` values and then apply ``prev = (x - prev) * k + prev``. A non-finite input
  outputs NaN and resets the recurrence, which seeds again on the next full window of
  finite values. Their batch form runs the stream form's ``update`` over the array, so
  the recurrence exists once.
* Ratios follow IEEE arithmetic: a zero denominator gives ``±inf`` (or NaN for 0/0).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from library._kernels import (
    NAN,
    as_f64,
    check_period,
    full_windows,
    ieee_div,
    ieee_log,
    map_scalar,
    py_seq_sum,
    run_stream,
    seq_sum,
    window_offsets,
)
from library.registry import register
from library.signals import CrossesAboveState, crosses_above  # noqa: F401  (old home)
from library.types import Series


def _centred(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(values minus the first finite value, non-finite as 0; non-finite flags; that value)."""
    x = as_f64(x)
    bad = ~np.isfinite(x)
    finite = np.flatnonzero(~bad)
    ref = float(x[finite[0]]) if finite.size else 0.0
    return np.where(bad, 0.0, x - ref), bad, ref


def sma(x: Series, period: int) -> Series:
    """Simple moving average of the last ``period`` values.

    Example:
        >>> sma(np.array([1.0, 2.0, 3.0, 4.0]), 2).tolist()
        [nan, 1.5, 2.5, 3.5]
    """
    check_period("period", period)
    xz, bad, ref = _centred(x)
    n = len(xz)
    out = np.full(n, np.nan)
    if n < period:
        return out
    c = np.cumsum(xz)
    k = np.cumsum(bad)
    prev_c = np.concatenate(([0.0], c[:-period]))
    prev_k = np.concatenate(([0], k[:-period]))
    win = (c[period - 1 :] - prev_c) / period + ref
    out[period - 1 :] = np.where((k[period - 1 :] - prev_k) > 0, np.nan, win)
    return out


class SmaState:
    """Stream form of :func:`sma`."""

    def __init__(self, period: int) -> None:
        self.period = check_period("period", period)
        self.ref: float | None = None
        self.total = 0.0
        self.bad = 0
        self.hist: deque[tuple[float, int]] = deque([(0.0, 0)], maxlen=self.period + 1)

    def update(self, x: float) -> float:
        bad = not math.isfinite(x)
        if self.ref is None and not bad:
            self.ref = x
        self.total += 0.0 if bad else x - self.ref  # type: ignore[operator]
        self.bad += bad
        self.hist.append((self.total, self.bad))
        if len(self.hist) <= self.period:
            return NAN
        c0, k0 = self.hist[0]
        if self.bad - k0 > 0:
            return NAN
        return (self.total - c0) / self.period + self.ref  # type: ignore[operator]


register("sma", kind="indicator", batch=sma, stream=SmaState, lookback=lambda period: period - 1)


class EmaState:
    """Stream form of :func:`ema` (and the recurrence its batch form runs)."""

    def __init__(self, period: int) -> None:
        self.period = check_period("period", period)
        self.k = 2.0 / (self.period + 1)
        self.seed: list[float] = []
        self.prev: float | None = None

    def update(self, x: float) -> float:
        if not math.isfinite(x):
            self.seed.clear()
            self.prev = None
            return NAN
        if self.prev is None:
            self.seed.append(x)
            if len(self.seed) < self.period:
                return NAN
            self.prev = (0.0 + py_seq_sum(self.seed)) / self.period
            self.seed.clear()
            return self.prev
        self.prev = (x - self.prev) * self.k + self.prev
        return self.prev


def ema(x: Series, period: int) -> Series:
    """Exponential moving average, ``alpha = 2/(period+1)``, seeded TA-Lib style.

    The first output (bar ``period-1``) is the plain average of the first ``period``
    values; after that ``ema = (x - ema) * alpha + ema``.

    Example:
        >>> ema(np.array([1.0, 2.0, 3.0, 4.0]), 3).tolist()
        [nan, nan, 2.0, 3.0]
    """
    return run_stream(EmaState(period), x)


register("ema", kind="indicator", batch=ema, stream=EmaState, lookback=lambda period: period - 1)


def wma(x: Series, period: int) -> Series:
    """Linearly weighted moving average: weights 1..period, newest heaviest (TA-Lib WMA).

    Computed per window as ``c + sum(j * (x_j - c)) / (p(p+1)/2)`` with ``c`` the current
    value, so a constant window returns that constant exactly.

    Example:
        >>> wma(np.array([1.0, 2.0, 3.0, 4.0]), 2).tolist()
        [nan, 1.6666666666666667, 2.6666666666666665, 3.6666666666666665]
    """
    check_period("period", period)
    x = as_f64(x)
    if len(x) < period:
        return np.full(len(x), NAN)
    views, cur = window_offsets(x, period)
    with np.errstate(invalid="ignore", over="ignore"):
        s = seq_sum((v - cur) * (j + 1) for j, v in enumerate(views))
        return full_windows(len(x), period, cur + s / (period * (period + 1) // 2))


class WmaState:
    """Stream form of :func:`wma` (O(period) per bar)."""

    def __init__(self, period: int) -> None:
        self.period = check_period("period", period)
        self.div = self.period * (self.period + 1) // 2
        self.win: deque[float] = deque(maxlen=self.period)

    def update(self, x: float) -> float:
        self.win.append(x)
        if len(self.win) < self.period:
            return NAN
        s = py_seq_sum((v - x) * (j + 1) for j, v in enumerate(self.win))
        return x + s / self.div


register("wma", kind="indicator", batch=wma, stream=WmaState, lookback=lambda period: period - 1)


class MacdState:
    """Stream form of :func:`macd`: two EMAs seeded on the same bar, then a signal EMA."""

    def __init__(self, fast: int = 12, slow: int = 26, signal: int = 9) -> None:
        self.fast = check_period("fast", fast)
        self.slow = check_period("slow", slow)
        self.signal = check_period("signal", signal)
        if self.fast >= self.slow:
            raise ValueError(f"fast ({fast}) must be shorter than slow ({slow})")
        self.kf = 2.0 / (self.fast + 1)
        self.ks = 2.0 / (self.slow + 1)
        self.kg = 2.0 / (self.signal + 1)
        self._reset()

    def _reset(self) -> None:
        self.seed: list[float] = []
        self.line_seed: list[float] = []
        self.f: float | None = None
        self.s = 0.0
        self.g: float | None = None

    def update(self, x: float) -> tuple[float, float, float]:
        if not math.isfinite(x):
            self._reset()
            return NAN, NAN, NAN
        if self.f is None:
            self.seed.append(x)
            if len(self.seed) < self.slow:
                return NAN, NAN, NAN
            self.s = (0.0 + py_seq_sum(self.seed)) / self.slow
            self.f = (0.0 + py_seq_sum(self.seed[self.slow - self.fast :])) / self.fast
            self.seed.clear()
        else:
            self.f = (x - self.f) * self.kf + self.f
            self.s = (x - self.s) * self.ks + self.s
        line = self.f - self.s
        if self.g is None:
            self.line_seed.append(line)
            if len(self.line_seed) < self.signal:
                return NAN, NAN, NAN
            self.g = (0.0 + py_seq_sum(self.line_seed)) / self.signal
            self.line_seed.clear()
        else:
            self.g = (line - self.g) * self.kg + self.g
        return line, self.g, line - self.g


def macd(
    x: Series, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[Series, Series, Series]:
    """MACD line (fast EMA - slow EMA), its signal EMA and the histogram (line - signal).

    TA-Lib MACD seeding: both EMAs start on bar ``slow-1``, the fast one seeded with the
    average of the last ``fast`` of those ``slow`` values (so it differs from a standalone
    ``ema(x, fast)`` for a while); the signal EMA is seeded with the average of the
    first ``signal`` line values. All three outputs start on bar ``slow + signal - 2``.

    Example:
        >>> line, sig, hist = macd(np.arange(1.0, 7.0), 2, 3, 2)
        >>> line.tolist()
        [nan, nan, nan, 0.5, 0.5, 0.5]
        >>> sig.tolist(), hist.tolist()
        ([nan, nan, nan, 0.5, 0.5, 0.5], [nan, nan, nan, 0.0, 0.0, 0.0])
    """
    return run_stream(MacdState(fast, slow, signal), x, outputs=3)


register(
    "macd",
    kind="indicator",
    batch=macd,
    stream=MacdState,
    lookback=lambda slow, signal: slow + signal - 2,
    outputs=("line", "signal", "histogram"),
)


class _LagState:
    """Keeps the last ``lag + 1`` values; ``then`` is the value ``lag`` bars ago."""

    def __init__(self, lag: int) -> None:
        self.win: deque[float] = deque(maxlen=lag + 1)

    def push(self, x: float) -> float | None:
        self.win.append(x)
        return self.win[0] if len(self.win) == self.win.maxlen else None


def _ratio(x: np.ndarray, lag: int) -> np.ndarray:
    """``x / x[lag]`` (IEEE division), NaN for the first ``lag`` bars."""
    x = as_f64(x)
    out = np.full(len(x), NAN)
    if len(x) > lag:
        with np.errstate(divide="ignore", invalid="ignore"):
            out[lag:] = x[lag:] / x[:-lag]
    return out


def roc(x: Series, period: int = 10) -> Series:
    """Rate of change in percent over ``period`` bars: ``100 * (x / x[period] - 1)``.

    TA-Lib ROC, except a zero past value gives ``±inf``/NaN (TA-Lib writes 0).

    Example:
        >>> roc(np.array([100.0, 125.0, 250.0]), 1).tolist()
        [nan, 25.0, 100.0]
    """
    check_period("period", period)
    return (_ratio(x, period) - 1.0) * 100.0


class RocState:
    """Stream form of :func:`roc`."""

    def __init__(self, period: int = 10) -> None:
        self.lag = _LagState(check_period("period", period))

    def update(self, x: float) -> float:
        then = self.lag.push(x)
        return NAN if then is None else (ieee_div(x, then) - 1.0) * 100.0


register("roc", kind="indicator", batch=roc, stream=RocState, lookback=lambda period: period)


def returns(x: Series) -> Series:
    """Simple one-bar return ``x / x[1] - 1`` (a fraction, not percent).

    Example:
        >>> returns(np.array([100.0, 110.0, 99.0])).tolist()
        [nan, 0.10000000000000009, -0.09999999999999998]
    """
    return _ratio(x, 1) - 1.0


class ReturnsState:
    """Stream form of :func:`returns`."""

    def __init__(self) -> None:
        self.lag = _LagState(1)

    def update(self, x: float) -> float:
        prev = self.lag.push(x)
        return NAN if prev is None else ieee_div(x, prev) - 1.0


register("returns", kind="indicator", batch=returns, stream=ReturnsState, lookback=1)


def log_returns(x: Series) -> Series:
    """One-bar log return ``log(x / x[1])``; NaN where the ratio is negative or NaN.

    Example:
        >>> log_returns(np.array([1.0, math.e, 1.0])).tolist()
        [nan, 1.0, -1.0]
    """
    return map_scalar(ieee_log, _ratio(x, 1))


class LogReturnsState(ReturnsState):
    """Stream form of :func:`log_returns`."""

    def update(self, x: float) -> float:
        prev = self.lag.push(x)
        return NAN if prev is None else ieee_log(ieee_div(x, prev))


register("log_returns", kind="indicator", batch=log_returns, stream=LogReturnsState, lookback=1)
