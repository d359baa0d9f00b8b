"""Element-wise math on series (kind ``math``), with numpy's IEEE edge semantics.

NaN in gives NaN out (``min``/``max``/``clip`` included: they propagate NaN like
``numpy.minimum``, unlike Python's ``min``); ``log(0) = -inf``, ``log(<0) = NaN``,
``sqrt(<0) = NaN``, ``exp`` overflows to ``inf``. ``log`` and ``exp`` use the C
library's scalar functions in both forms (see library/_kernels.py for why).
"""

from __future__ import annotations

import math  # noqa: F401  (used by the doctests)

import numpy as np

from library._kernels import NAN, as_f64, ieee_exp, ieee_log, ieee_sqrt, map_scalar
from library.registry import register
from library.types import Series


def _nan_in(*vals: float) -> bool:
    return any(v != v for v in vals)


def abs_(x: Series) -> Series:
    """Absolute value.

    Example:
        >>> abs_(np.array([-2.0, 0.5, np.nan])).tolist()
        [2.0, 0.5, nan]
    """
    return np.abs(as_f64(x))


class AbsState:
    """Stream form of ``abs``."""

    def update(self, x: float) -> float:
        return abs(x)


register("abs", kind="math", batch=abs_, stream=AbsState)


def min_(a: Series, b: Series) -> Series:
    """Smaller of two series, bar by bar (NaN if either is NaN).

    Example:
        >>> min_(np.array([1.0, 5.0, np.nan]), np.array([2.0, 3.0, 1.0])).tolist()
        [1.0, 3.0, nan]
    """
    return np.minimum(as_f64(a), as_f64(b))


class MinState:
    """Stream form of ``min``."""

    def update(self, a: float, b: float) -> float:
        return NAN if _nan_in(a, b) else min(a, b)


register("min", kind="math", batch=min_, stream=MinState)


def max_(a: Series, b: Series) -> Series:
    """Larger of two series, bar by bar (NaN if either is NaN).

    Example:
        >>> max_(np.array([1.0, 5.0, np.nan]), np.array([2.0, 3.0, 1.0])).tolist()
        [2.0, 5.0, nan]
    """
    return np.maximum(as_f64(a), as_f64(b))


class MaxState:
    """Stream form of ``max``."""

    def update(self, a: float, b: float) -> float:
        return NAN if _nan_in(a, b) else max(a, b)


register("max", kind="math", batch=max_, stream=MaxState)


def clip(x: Series, lo: Series, hi: Series) -> Series:
    """``x`` limited to ``[lo, hi]``: ``min(max(x, lo), hi)``, so ``hi`` wins if lo > hi.

    Example:
        >>> clip(np.array([-5.0, 0.5, 5.0]), np.array([-1.0] * 3), np.array([1.0] * 3)).tolist()
        [-1.0, 0.5, 1.0]
    """
    return np.minimum(np.maximum(as_f64(x), as_f64(lo)), as_f64(hi))


class ClipState:
    """Stream form of :func:`clip`."""

    def update(self, x: float, lo: float, hi: float) -> float:
        return NAN if _nan_in(x, lo, hi) else min(max(x, lo), hi)


register("clip", kind="math", batch=clip, stream=ClipState)


def log(x: Series) -> Series:
    """Natural logarithm; ``log(0) = -inf``, negative values give NaN.

    Example:
        >>> log(np.array([1.0, math.e, 0.0, -1.0])).tolist()
        [0.0, 1.0, -inf, nan]
    """
    return map_scalar(ieee_log, as_f64(x))


class LogState:
    """Stream form of :func:`log`."""

    def update(self, x: float) -> float:
        return ieee_log(x)


register("log", kind="math", batch=log, stream=LogState)


def sqrt(x: Series) -> Series:
    """Square root; negative values give NaN.

    Example:
        >>> sqrt(np.array([4.0, 2.25, -1.0])).tolist()
        [2.0, 1.5, nan]
    """
    with np.errstate(invalid="ignore"):
        return np.sqrt(as_f64(x))


class SqrtState:
    """Stream form of :func:`sqrt` (sqrt is correctly rounded, so math.sqrt == np.sqrt)."""

    def update(self, x: float) -> float:
        return ieee_sqrt(x)


register("sqrt", kind="math", batch=sqrt, stream=SqrtState)


def exp(x: Series) -> Series:
    """Exponential; overflows to ``inf``.

    Example:
        >>> exp(np.array([0.0, 1.0, 1000.0])).tolist()
        [1.0, 2.718281828459045, inf]
    """
    return map_scalar(ieee_exp, as_f64(x))


class ExpState:
    """Stream form of :func:`exp`."""

    def update(self, x: float) -> float:
        return ieee_exp(x)


register("exp", kind="math", batch=exp, stream=ExpState)
