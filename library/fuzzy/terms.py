"""Membership functions of the term shapes (library/membership.py names them), vectorised
over x, and the inverse functions Tsukamoto inference needs for the monotonic ones.

Each shape follows fuzzylite's definition (pyfuzzylite 8), including its edge cases: x = NaN
gives NaN; a ramp whose start equals its end is NaN; ``trapezoid``/``triangle`` with an
infinite foot are shoulders; ``discrete`` interpolates linearly and holds its end values
outside its points. ``height`` scales the result. ``constant`` ignores x; ``linear`` and
``function`` depend on other variables and are evaluated by the engine.

Example:
    >>> import numpy as np
    >>> membership("triangle", (0.0, 5.0, 10.0), 1.0, np.array([0.0, 2.5, 5.0, 12.0])).tolist()
    [0.0, 0.5, 1.0, 0.0]
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import numpy as np

Shape = Callable[[np.ndarray, tuple[float, ...]], np.ndarray]

#: shapes whose value depends on the engine (inputs, other outputs), not on x alone
ENGINE_SHAPES = ("linear", "function")
#: shapes with an inverse, used by weighted defuzzifiers on Tsukamoto outputs
MONOTONIC = ("arc", "concave", "ramp", "sigmoid", "s_shape", "z_shape")
#: shapes that make a weighted output Takagi-Sugeno (value of the term at the degree)
TSK_SHAPES = ("constant", "linear", "function")


@functools.lru_cache(maxsize=4096)
def _finite_increasing(*p: float) -> bool:
    return all(math.isfinite(v) for v in p) and all(u < v for u, v in zip(p, p[1:]))


def _triangle(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    a, b, c = p
    if _finite_increasing(a, b, c):  # the same values as below, in fewer passes
        return np.maximum(np.minimum((x - a) / (b - a), (c - x) / (c - b)), 0.0)
    return np.where((x < a) | (x > c), 0.0,
                    np.where((x == b) | ((a == -math.inf) & (x < b)) | ((c == math.inf) & (x > b)), 1.0,
                             np.where(x < b, (x - a) / (b - a),
                                      np.where(x > b, (c - x) / (c - b), np.nan))))


def _trapezoid(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    a, b, c, d = p
    if _finite_increasing(a, b) and _finite_increasing(c, d) and b <= c:
        return np.maximum(np.minimum(np.minimum((x - a) / (b - a), 1.0), (d - x) / (d - c)), 0.0)
    return np.where((x < a) | (x > d), 0.0,
                    np.where(((b <= x) & (x <= c)) | ((a == -math.inf) & (x < b)) | ((d == math.inf) & (x > c)),
                             1.0,
                             np.where(x < b, (x - a) / (b - a),
                                      np.where(x > c, (d - x) / (d - c), np.nan))))


def _rectangle(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    s, e = min(p), max(p)
    return ((s <= x) & (x <= e)).astype(float)


def _gaussian(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    m, sd = p
    return np.exp(-np.square(x - m) / (2.0 * sd ** 2))


def _gaussian_product(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    ma, sa, mb, sb = p
    a = np.where(x < ma, _gaussian(x, (ma, sa)), 1.0)
    b = np.where(x > mb, _gaussian(x, (mb, sb)), 1.0)
    return a * b


def _bell(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    c, w, s = p
    return 1.0 / (1.0 + np.power(np.abs((x - c) / w), 2.0 * s))


def _sigmoid(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    i, s = p
    return 1.0 / (1.0 + np.exp(-s * (x - i)))


def _sigmoid_difference(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    left, rising, falling, right = p
    return np.abs(_sigmoid(x, (left, rising)) - _sigmoid(x, (right, falling)))


def _sigmoid_product(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    left, rising, falling, right = p
    return _sigmoid(x, (left, rising)) * _sigmoid(x, (right, falling))


def _s_shape(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    s, e = p
    return np.where(x <= s, 0.0,
                    np.where(x <= 0.5 * (s + e), 2.0 * np.square((x - s) / (e - s)),
                             np.where(x < e, 1.0 - 2.0 * np.square((x - e) / (e - s)), 1.0)))


def _z_shape(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    s, e = p
    return np.where(x <= s, 1.0,
                    np.where(x < 0.5 * (s + e), 1.0 - 2.0 * np.square((x - s) / (e - s)),
                             np.where(x < e, 2.0 * np.square((x - e) / (e - s)), 0.0)))


def _pi_shape(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    bl, tl, tr, br = p
    return _s_shape(x, (bl, tl)) * _z_shape(x, (tr, br))


def _ramp(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    s, e = p
    if s == e:
        return np.full_like(x, np.nan)
    if s < e:
        return np.where((e > x) & (x > s), (x - s) / (e - s), (x >= e).astype(float))
    return np.where((e < x) & (x < s), (s - x) / (s - e), (x <= e).astype(float))


def _concave(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    i, e = p
    return np.where((i <= e) & (x < e), (e - i) / (2.0 * e - i - x),
                    np.where((i >= e) & (x > e), (i - e) / (i - 2.0 * e + x), 1.0))


def _cosine(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    c, w = p
    within = np.isfinite(x) & (x >= c - 0.5 * w) & (x <= c + 0.5 * w)
    return np.where(within, 0.5 * (1.0 + np.cos(2.0 / w * np.pi * (x - c))), 0.0)


def _spike(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    c, w = p
    return np.exp(-np.abs(10.0 / w * (x - c)))


def _arc(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    s, e = p
    r = e - s
    c = s + r
    left, right = s > e, s < e
    inside = (left & (c <= x) & (x <= s)) | (right & (s <= x) & (x <= c))
    beyond = (left & (x < e)) | (right & (x > e))
    return np.where(inside, np.sqrt(r ** 2 - np.square(x - c)) / abs(r), beyond.astype(float))


def _semi_ellipse(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    s, e = min(p), max(p)
    r = (e - s) / 2
    c = s + r
    return np.where((x >= s) & (x <= e), np.sqrt(r ** 2 - np.square(x - c)) / r, 0.0)


def _binary(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    s, d = p
    return (((d > s) & (x >= s)) | ((d < s) & (x <= s))).astype(float)


def _discrete(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    return np.interp(x, np.asarray(p[0::2], dtype=float), np.asarray(p[1::2], dtype=float))


def _constant(x: np.ndarray, p: tuple[float, ...]) -> np.ndarray:
    return np.full_like(x, p[0], dtype=float)


SHAPES: dict[str, Shape] = {
    "triangle": _triangle, "trapezoid": _trapezoid, "rectangle": _rectangle, "gaussian": _gaussian,
    "gaussian_product": _gaussian_product, "bell": _bell, "sigmoid": _sigmoid,
    "sigmoid_difference": _sigmoid_difference, "sigmoid_product": _sigmoid_product,
    "pi_shape": _pi_shape, "s_shape": _s_shape, "z_shape": _z_shape, "ramp": _ramp,
    "concave": _concave, "cosine": _cosine, "spike": _spike, "arc": _arc,
    "semi_ellipse": _semi_ellipse, "binary": _binary, "discrete": _discrete, "constant": _constant,
}

#: shapes whose formula already gives NaN for x = NaN
_NAN_PROPAGATING = ("triangle", "trapezoid", "gaussian", "bell", "sigmoid", "sigmoid_difference", "sigmoid_product", "spike")

#: number of parameters of each fixed-arity shape (discrete and linear are variadic)
ARITY = {"triangle": 3, "trapezoid": 4, "rectangle": 2, "gaussian": 2, "gaussian_product": 4,
         "bell": 3, "sigmoid": 2, "sigmoid_difference": 4, "sigmoid_product": 4, "pi_shape": 4,
         "s_shape": 2, "z_shape": 2, "ramp": 2, "concave": 2, "cosine": 2, "spike": 2, "arc": 2,
         "semi_ellipse": 2, "binary": 2, "constant": 1}


def membership(shape: str, params: tuple[float, ...], height: float, x: np.ndarray) -> np.ndarray:
    """Degree of membership of every x (any shape of array) in the term; NaN x gives NaN.

    Example:
        >>> import numpy as np
        >>> membership("ramp", (0.0, 10.0), 0.5, np.array([5.0, np.nan])).tolist()
        [0.25, nan]
    """
    with np.errstate(all="ignore"):
        return membership_raw(shape, params, height, np.asarray(x, dtype=float))


def membership_raw(shape: str, params: tuple[float, ...], height: float, x: np.ndarray) -> np.ndarray:
    """``membership`` without its own floating-point error state (the engine sets one)."""
    fn = SHAPES.get(shape)
    if fn is None:
        raise ValueError(f"term shape '{shape}' has no membership function of x alone")
    y = fn(x, params)
    if shape == "constant":
        return y
    if height != 1.0:
        y = height * y
    if shape in _NAN_PROPAGATING:
        return y
    return np.where(np.isnan(x), np.nan, y)


def _inv_arc(y: np.ndarray, p: tuple[float, ...], h: float) -> np.ndarray:
    s, e = p
    r = e - s
    c = s + r
    sign = -1.0 if s < e else 1.0
    return c + sign * np.sqrt(r ** 2 - np.square(y * r / h))


def _inv_concave(y: np.ndarray, p: tuple[float, ...], h: float) -> np.ndarray:
    i, e = p
    return h * (i - e) / y + 2 * e - i


def _inv_ramp(y: np.ndarray, p: tuple[float, ...], h: float) -> np.ndarray:
    s, e = p
    return s + (e - s) * y / h


def _inv_sigmoid(y: np.ndarray, p: tuple[float, ...], h: float) -> np.ndarray:
    i, s = p
    return i + np.log(h / y - 1.0) / -s


def _inv_s_shape(y: np.ndarray, p: tuple[float, ...], h: float) -> np.ndarray:
    s, e = p
    return np.where(y <= h / 2.0, s + (e - s) * np.sqrt(y / (2 * h)), e - (e - s) * np.sqrt((h - y) / (2 * h)))


def _inv_z_shape(y: np.ndarray, p: tuple[float, ...], h: float) -> np.ndarray:
    s, e = p
    return np.where(y <= h / 2.0, e - (e - s) * np.sqrt(y / (2 * h)), s + (e - s) * np.sqrt((h - y) / (2 * h)))


INVERSES = {"arc": _inv_arc, "concave": _inv_concave, "ramp": _inv_ramp, "sigmoid": _inv_sigmoid,
            "s_shape": _inv_s_shape, "z_shape": _inv_z_shape}


def tsukamoto(shape: str, params: tuple[float, ...], height: float, y: np.ndarray) -> np.ndarray:
    """The x at which a monotonic term reaches degree y (fuzzylite's ``Term.tsukamoto``).

    Example:
        >>> import numpy as np
        >>> tsukamoto("ramp", (0.0, 10.0), 1.0, np.array([0.25])).tolist()
        [2.5]
    """
    fn = INVERSES.get(shape)
    if fn is None:
        raise ValueError(f"term shape '{shape}' is not monotonic: Tsukamoto inference needs one of "
                         f"{', '.join(MONOTONIC)}")
    with np.errstate(all="ignore"):
        return fn(np.asarray(y, dtype=float), params, height)
