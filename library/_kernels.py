"""Shared arithmetic for the library's batch and stream forms (private; no entries here).

Batch and stream forms must agree bit for bit, so everything they both do goes through
one of these helpers, which pin down the exact float operations and their order:

* IEEE scalar helpers (``ieee_div``, ``ieee_log``, ...) give Python floats numpy's
  semantics (``x/0`` is ``±inf`` or NaN, ``log(0)`` is ``-inf``) instead of exceptions.
* Transcendentals always go through the C library's scalar ``math`` functions, in the
  batch form too (``map_scalar``): numpy's vectorised ``log``/``exp`` (AVX-512 paths)
  differ from ``math.log``/``math.exp`` in the last ulp on some machines.
* Window kernels (``window_sums`` and friends) add the window's values one at a time in
  bar order, vectorised across bars, exactly as a stream form's ``for`` loop does.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import numpy as np

NAN = math.nan
INF = math.inf


def check_period(name: str, value: Any, minimum: int = 1) -> int:
    """Reject a window length that is not an integer >= ``minimum`` (both forms call it)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def as_f64(x: Any) -> np.ndarray:
    """The input as a 1-d float64 array (a copy only when needed)."""
    return np.asarray(x, dtype=np.float64)


def ieee_div(a: float, b: float) -> float:
    """``a / b`` with IEEE-754 results where Python would raise ZeroDivisionError."""
    if b == 0.0:
        if a != a or a == 0.0:
            return NAN
        return math.copysign(INF, a) * math.copysign(1.0, b)
    return a / b


def ieee_log(v: float) -> float:
    """Natural log with numpy's edge values: ``log(0) = -inf``, ``log(<0) = NaN``."""
    if v > 0.0:
        return math.log(v)
    if v == 0.0:
        return -INF
    return NAN


def ieee_exp(v: float) -> float:
    """``exp`` that overflows to ``inf`` instead of raising OverflowError."""
    try:
        return math.exp(v)
    except OverflowError:
        return INF


def ieee_sqrt(v: float) -> float:
    """Square root with ``sqrt(<0) = NaN`` (sqrt is correctly rounded, so equals np.sqrt)."""
    if v < 0.0:
        return NAN
    return math.sqrt(v)


def map_scalar(fn: Callable[[float], float], x: np.ndarray) -> np.ndarray:
    """Apply a scalar helper element-wise; the batch twin of calling it bar by bar."""
    return np.fromiter(map(fn, x.tolist()), dtype=np.float64, count=len(x))


def run_stream(state: Any, *columns: np.ndarray, outputs: int = 0) -> Any:
    """Drive a stream state over whole arrays (batch form of a recurrence).

    Sharing the stream's ``update`` makes the recurrence one piece of code, so batch and
    stream cannot drift apart. Returns one float64 array, or a tuple of ``outputs``.
    """
    lists = [np.asarray(c, dtype=np.float64).tolist() for c in columns]
    values = [state.update(*row) for row in zip(*lists)]
    if not outputs:
        return np.array(values, dtype=np.float64)
    if not values:
        return tuple(np.empty(0) for _ in range(outputs))
    return tuple(np.array(col, dtype=np.float64) for col in zip(*values))


def window_offsets(x: np.ndarray, period: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Views ``x[j : j+m]`` for ``j`` in window order, and the current values ``x[p-1:]``.

    Row ``i`` of view ``j`` is the ``j``-th oldest value of the window ending at bar
    ``i + period - 1``. Requires ``len(x) >= period``.
    """
    m = len(x) - period + 1
    return [x[j : j + m] for j in range(period)], x[period - 1 :]


def seq_sum(terms: Iterable[np.ndarray]) -> np.ndarray:
    """Sum arrays one after the other (first term, then ``+=`` each next one)."""
    it = iter(terms)
    acc = np.array(next(it), dtype=np.float64, copy=True)
    for t in it:
        acc += t
    return acc


def py_seq_sum(terms: Iterable[float]) -> float:
    """Scalar twin of :func:`seq_sum`: first term, then ``+=`` each next one."""
    it = iter(terms)
    acc = next(it)
    for t in it:
        acc += t
    return acc


def moments(x: np.ndarray, period: int, ddof: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per full window: (current value ``c``, mean offset ``md``, variance), length n-p+1.

    Two-pass and shifted by the window's current value: ``d_j = x_j - c``,
    ``md = sum(d)/p``, ``var = sum((d_j - md)**2)/(p - ddof)``; mean is ``c + md``. A
    constant window gives exactly ``md = 0`` and ``var = 0``. See :func:`py_moments`.
    """
    views, cur = window_offsets(x, period)
    with np.errstate(invalid="ignore", over="ignore"):  # ±inf in a window gives NaN quietly
        md = seq_sum(v - cur for v in views) / period
        q = seq_sum(((v - cur) - md) * ((v - cur) - md) for v in views)
    return cur, md, q / (period - ddof)


def py_moments(window: list[float], ddof: int) -> tuple[float, float, float]:
    """Scalar twin of :func:`moments` for one window (oldest first; last is current)."""
    p = len(window)
    c = window[-1]
    d = [v - c for v in window]
    md = py_seq_sum(d) / p
    q = py_seq_sum((e - md) * (e - md) for e in d)
    return c, md, q / (p - ddof)


def full_windows(n: int, period: int, values: np.ndarray) -> np.ndarray:
    """Place per-window results (length n-p+1) at the window's last bar; NaN before."""
    out = np.full(n, NAN)
    if n >= period:
        out[period - 1 :] = values
    return out
