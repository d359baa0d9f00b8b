"""Wilder-smoothed indicators (TA-Lib RSI, ATR, ADX/PLUS_DI/MINUS_DI) and the true range.

The recurrences are written once, as stream states; each batch form runs that state's
``update`` over the arrays (``run_stream``), so both forms perform the same float
operations in the same order, which are also TA-Lib's operations in TA-Lib's order.

NaN convention: NaN until the warm-up is complete (``lookback``). A non-finite input
(NaN or ±inf) outputs NaN and resets the state; the indicator then warms up again from
the next finite bar, exactly as at the start of the data. TA-Lib tests ``|v| < 1e-8``
where we test ``v == 0`` (a scale-free choice; see docs/reference/conventions.md).
"""

from __future__ import annotations

import math

import numpy as np

from library._kernels import NAN, as_f64, check_period, py_seq_sum, run_stream
from library.registry import register
from library.types import Series


def _tr(high: float, low: float, prev_close: float) -> float:
    """One true range: ``max(h - l, |h - c1|, |l - c1|)``, NaN if any part is NaN."""
    a = high - low
    b = abs(high - prev_close)
    c = abs(low - prev_close)
    if a != a or b != b or c != c:
        return NAN
    return max(a, b, c)


def true_range(high: Series, low: Series, close: Series) -> Series:
    """True range: the bar's range extended to the previous close (TA-Lib TRANGE).

    NaN on the first bar, which has no previous close (as TA-Lib).

    Example:
        >>> true_range(np.array([10.0, 12.0]), np.array([9.0, 11.5]), np.array([9.5, 12.0])).tolist()
        [nan, 2.5]
    """
    h, lo, c = as_f64(high), as_f64(low), as_f64(close)
    out = np.full(len(h), NAN)
    if len(h) > 1:
        pc = c[:-1]
        with np.errstate(invalid="ignore"):
            rng = h[1:] - lo[1:]
            out[1:] = np.maximum(np.maximum(rng, np.abs(h[1:] - pc)), np.abs(lo[1:] - pc))
    return out


class TrueRangeState:
    """Stream form of :func:`true_range`."""

    def __init__(self) -> None:
        self.prev_close: float | None = None

    def update(self, high: float, low: float, close: float) -> float:
        prev, self.prev_close = self.prev_close, close
        return NAN if prev is None else _tr(high, low, prev)


register("true_range", kind="indicator", batch=true_range, stream=TrueRangeState, lookback=1)


class RsiState:
    """Stream form of :func:`rsi` (and the recurrence its batch form runs)."""

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("period", period)
        self._reset()

    def _reset(self) -> None:
        self.prev: float | None = None
        self.count = 0
        self.gain = 0.0
        self.loss = 0.0

    def update(self, x: float) -> float:
        if not math.isfinite(x):
            self._reset()
            return NAN
        prev, self.prev = self.prev, x
        if prev is None:
            return NAN
        diff = x - prev
        p = self.period
        if self.count < p:
            self.count += 1
            if diff < 0:
                self.loss -= diff
            else:
                self.gain += diff
            if self.count < p:
                return NAN
        else:
            self.loss *= p - 1
            self.gain *= p - 1
            if diff < 0:
                self.loss -= diff
            else:
                self.gain += diff
        self.loss /= p
        self.gain /= p
        total = self.gain + self.loss
        return 100.0 * (self.gain / total) if total != 0.0 else 50.0


def rsi(x: Series, period: int = 14) -> Series:
    """Relative strength index, 0..100, Wilder smoothing (TA-Lib RSI).

    Average gain/loss are seeded with the plain average of the first ``period`` changes
    (first output on bar ``period``), then ``avg = (avg * (period-1) + change) / period``.
    A window with no movement at all (gain + loss == 0) gives 50, where TA-Lib gives 0.

    Example:
        >>> rsi(np.array([1.0, 2.0, 1.5, 2.5, 2.5]), 2).tolist()
        [nan, nan, 66.66666666666666, 85.71428571428571, 85.71428571428571]
    """
    return run_stream(RsiState(period), x)


register("rsi", kind="indicator", batch=rsi, stream=RsiState, lookback=lambda period: period)


class AtrState:
    """Stream form of :func:`atr` (and the recurrence its batch form runs)."""

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("period", period)
        self._reset()

    def _reset(self) -> None:
        self.prev_close: float | None = None
        self.seed: list[float] = []
        self.atr: float | None = None

    def update(self, high: float, low: float, close: float) -> float:
        if not (math.isfinite(high) and math.isfinite(low) and math.isfinite(close)):
            self._reset()
            return NAN
        prev, self.prev_close = self.prev_close, close
        if prev is None:
            return NAN
        tr = _tr(high, low, prev)
        p = self.period
        if self.atr is None:
            self.seed.append(tr)
            if len(self.seed) < p:
                return NAN
            self.atr = (0.0 + py_seq_sum(self.seed)) / p
            self.seed.clear()
        else:
            self.atr = (self.atr * (p - 1) + tr) / p
        return self.atr


def atr(high: Series, low: Series, close: Series, period: int = 14) -> Series:
    """Average true range, Wilder smoothing (TA-Lib ATR).

    The first bar has no true range, so the first output (bar ``period``) is the plain
    average of true ranges 1..period; then ``atr = (atr * (period-1) + tr) / period``.

    Example:
        >>> h = np.array([10.0, 11.0, 12.0, 12.0])
        >>> atr(h, h - 1.0, h - 0.5, 2).tolist()
        [nan, nan, 1.5, 1.25]
    """
    return run_stream(AtrState(period), high, low, close)


register("atr", kind="indicator", batch=atr, stream=AtrState, lookback=lambda period: period)


class AdxState:
    """Stream form of :func:`adx` (and the recurrence its batch form runs)."""

    def __init__(self, period: int = 14) -> None:
        self.period = check_period("period", period)
        self._reset()

    def _reset(self) -> None:
        self.prev: tuple[float, float, float] | None = None
        self.n = 0
        self.pdm = 0.0
        self.mdm = 0.0
        self.tr = 0.0
        self.sum_dx = 0.0
        self.adx: float | None = None

    def update(self, high: float, low: float, close: float) -> tuple[float, float, float]:
        if not (math.isfinite(high) and math.isfinite(low) and math.isfinite(close)):
            self._reset()
            return NAN, NAN, NAN
        prev, self.prev = self.prev, (high, low, close)
        if prev is None:
            return NAN, NAN, NAN
        ph, pl, pc = prev
        dp = high - ph
        dm = pl - low
        tr = _tr(high, low, pc)
        p = self.period
        self.n += 1
        if self.n < p:  # bars 1..p-1: plain sums of DM and TR
            if dm > 0 and dp < dm:
                self.mdm += dm
            elif dp > 0 and dp > dm:
                self.pdm += dp
            self.tr += tr
            return NAN, NAN, NAN
        self.mdm -= self.mdm / p
        self.pdm -= self.pdm / p
        if dm > 0 and dp < dm:
            self.mdm += dm
        elif dp > 0 and dp > dm:
            self.pdm += dp
        self.tr = self.tr - self.tr / p + tr
        dx: float | None = None
        if self.tr != 0.0:
            mdi = 100.0 * (self.mdm / self.tr)
            pdi = 100.0 * (self.pdm / self.tr)
            s = mdi + pdi
            if s != 0.0:
                dx = 100.0 * (abs(mdi - pdi) / s)
        else:
            mdi = pdi = 0.0
        if self.adx is None:
            if dx is not None:
                self.sum_dx += dx
            if self.n < 2 * p - 1:
                return NAN, pdi, mdi
            self.adx = self.sum_dx / p
        elif dx is not None:
            self.adx = (self.adx * (p - 1) + dx) / p
        return self.adx, pdi, mdi


def adx(
    high: Series, low: Series, close: Series, period: int = 14
) -> tuple[Series, Series, Series]:
    """Average directional index with +DI and -DI, Wilder smoothing (TA-Lib ADX/PLUS_DI/MINUS_DI).

    DM and TR are summed over bars 1..period-1, then Wilder-smoothed
    (``s = s - s/period + v``); DI = 100 * DM / TR from bar ``period`` (0 where TR is 0).
    ADX is the average of the first ``period`` DX values (bar ``2*period - 1``), then
    ``adx = (adx * (period-1) + dx) / period``; a bar whose DX is undefined (TR or
    +DI + -DI is 0) leaves ADX unchanged, as in TA-Lib.

    Example:
        >>> h = np.array([10.0, 11.0, 12.0, 11.0, 13.0])
        >>> a, pdi, mdi = adx(h, h - 1.0, h - 0.5, 2)
        >>> a.round(4).tolist()
        [nan, nan, nan, 57.1429, 61.1801]
        >>> pdi.round(4).tolist(), mdi.round(4).tolist()
        ([nan, nan, 66.6667, 28.5714, 62.2951], [nan, nan, 0.0, 38.0952, 13.1148])
    """
    return run_stream(AdxState(period), high, low, close, outputs=3)


register(
    "adx",
    kind="indicator",
    batch=adx,
    stream=AdxState,
    lookback=lambda period: 2 * period - 1,
    outputs=("adx", "plus_di", "minus_di"),
)
