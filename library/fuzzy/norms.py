"""T-norms (conjunction, implication) and s-norms (disjunction, aggregation), elementwise on
arrays, as fuzzylite defines them.

Example:
    >>> import numpy as np
    >>> a, b = np.array([0.2, 1.0]), np.array([0.5, 0.7])
    >>> TNORMS["minimum"](a, b).tolist(), SNORMS["algebraic_sum"](a, b).tolist()
    ([0.2, 0.7], [0.6, 1.0])
"""

from __future__ import annotations

from typing import Callable

import numpy as np

Norm = Callable[[np.ndarray, np.ndarray], np.ndarray]


def minimum(a, b):
    return np.minimum(a, b)


def algebraic_product(a, b):
    return a * b


def bounded_difference(a, b):
    return np.maximum(0.0, a + b - 1.0)


def drastic_product(a, b):
    return np.where(np.maximum(a, b) == 1.0, np.minimum(a, b), 0.0)


def einstein_product(a, b):
    return a * b / (2.0 - (a + b - a * b))


def hamacher_product(a, b):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(a + b != 0.0, a * b / (a + b - a * b), 0.0)


def nilpotent_minimum(a, b):
    return np.where(a + b > 1.0, np.minimum(a, b), 0.0)


def maximum(a, b):
    return np.maximum(a, b)


def algebraic_sum(a, b):
    return a + b - a * b


def bounded_sum(a, b):
    return np.minimum(1.0, a + b)


def drastic_sum(a, b):
    return np.where(np.minimum(a, b) == 0.0, np.maximum(a, b), 1.0)


def einstein_sum(a, b):
    return (a + b) / (1.0 + a * b)


def hamacher_sum(a, b):
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(a * b != 1.0, (a + b - 2.0 * a * b) / (1.0 - a * b), 1.0)


def nilpotent_maximum(a, b):
    return np.where(a + b < 1.0, np.maximum(a, b), 1.0)


def normalized_sum(a, b):
    return (a + b) / np.maximum(1.0, a + b)


def unbounded_sum(a, b):
    return a + b


TNORMS: dict[str, Norm] = {f.__name__: f for f in (
    minimum, algebraic_product, bounded_difference, drastic_product, einstein_product,
    hamacher_product, nilpotent_minimum)}
SNORMS: dict[str, Norm] = {f.__name__: f for f in (
    maximum, algebraic_sum, bounded_sum, drastic_sum, einstein_sum, hamacher_sum,
    nilpotent_maximum, normalized_sum, unbounded_sum)}


def tnorm(name: str) -> Norm:
    try:
        return TNORMS[name]
    except KeyError:
        raise ValueError(f"unknown t-norm '{name}'; t-norms: {', '.join(TNORMS)}") from None


def snorm(name: str) -> Norm:
    try:
        return SNORMS[name]
    except KeyError:
        raise ValueError(f"unknown s-norm '{name}'; s-norms: {', '.join(SNORMS)}") from None
