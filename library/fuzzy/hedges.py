"""Hedges: functions of a membership degree that stack (``not very x`` = not(very(x))).

Example:
    >>> import numpy as np
    >>> apply_hedges(("not", "very"), np.array([0.5])).tolist()
    [0.75]
"""

from __future__ import annotations

from typing import Callable

import numpy as np


def _not(x):
    return 1.0 - x


def _very(x):
    return x ** 2


def _somewhat(x):
    return np.sqrt(x)


def _extremely(x):
    return np.where(x <= 0.5, 2.0 * x ** 2, 1.0 - 2.0 * (1.0 - x) ** 2)


def _seldom(x):
    return np.where(x <= 0.5, np.sqrt(0.5 * x), 1.0 - np.sqrt(0.5 * (1.0 - x)))


def _any(x):
    return np.ones_like(x)


HEDGES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "not": _not, "very": _very, "somewhat": _somewhat, "extremely": _extremely,
    "seldom": _seldom, "any": _any,
}


def apply_hedges(hedges: tuple[str, ...], x: np.ndarray) -> np.ndarray:
    """Apply hedges as written, innermost (last written) first."""
    for h in reversed(hedges):
        try:
            x = HEDGES[h](x)
        except KeyError:
            raise ValueError(f"unknown hedge '{h}'; hedges: {', '.join(HEDGES)}") from None
    return x
