"""Defuzzifiers. The integral ones read the aggregated fuzzy set sampled at the midpoints
``x_i = lo + (i + 1/2) (hi - lo) / resolution`` (one row per sample); the weighted ones
combine each term's activation with the term's value at it.

All reductions run along rows, so a row's result does not depend on the other rows (the
per-sample form equals the vectorised one bit for bit).

Example:
    >>> import numpy as np
    >>> x = midpoints(0.0, 1.0, 4)
    >>> x.tolist()
    [0.125, 0.375, 0.625, 0.875]
    >>> centroid(np.array([[0.0, 1.0, 1.0, 0.0]]), x).tolist()
    [0.5]
"""

from __future__ import annotations

import numpy as np


def midpoints(lo: float, hi: float, resolution: int) -> np.ndarray:
    return lo + (np.arange(resolution) + 0.5) * ((hi - lo) / resolution)


def centroid(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return (y * x).sum(axis=1) / y.sum(axis=1)


def bisector(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """x where the area to the left reaches half the total (mean of ties)."""
    with np.errstate(all="ignore"):
        area = np.nancumsum(y, axis=1)
        area = np.abs(area / area[:, -1:] - 0.5)
        best = area == area.min(axis=1, keepdims=True)
        return _mean_where(best, x)


def _maxima(y: np.ndarray) -> np.ndarray:
    return (y > 0) & (y == y.max(axis=1, keepdims=True))


def _mean_where(mask: np.ndarray, x: np.ndarray) -> np.ndarray:
    n = mask.sum(axis=1)
    with np.errstate(all="ignore"):
        return np.where(n > 0, np.where(mask, x, 0.0).sum(axis=1) / n, np.nan)


def mean_of_maximum(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return _mean_where(_maxima(y), x)


def smallest_of_maximum(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    m = _maxima(y)
    return np.where(m.any(axis=1), np.where(m, x, np.inf).min(axis=1), np.nan)


def largest_of_maximum(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    m = _maxima(y)
    return np.where(m.any(axis=1), np.where(m, x, -np.inf).max(axis=1), np.nan)


INTEGRAL = {"centroid": centroid, "bisector": bisector, "mean_of_maximum": mean_of_maximum,
            "smallest_of_maximum": smallest_of_maximum, "largest_of_maximum": largest_of_maximum}


def weighted(kind: str, weighted_sum: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """weighted_average = sum(w z) / sum(w); weighted_sum = sum(w z) (NaN when sum(w) is 0,
    as fuzzylite computes it: (sum(w z) / sum(w)) * sum(w))."""
    with np.errstate(all="ignore"):
        avg = weighted_sum / weights
        return avg if kind == "weighted_average" else avg * weights
