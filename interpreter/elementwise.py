"""Element-wise graph operations with one meaning for arrays and for single bars.

Batch evaluation applies them to whole numpy arrays and stream evaluation to Python
floats; both follow IEEE-754 double arithmetic, and the few places where Python and numpy
differ (division by zero, ``^``) are pinned here so the two agree to the last bit.
"""

from __future__ import annotations

import math

import numpy as np

_CMP = {
    "<": (np.less, lambda a, b: a < b),
    "<=": (np.less_equal, lambda a, b: a <= b),
    ">": (np.greater, lambda a, b: a > b),
    ">=": (np.greater_equal, lambda a, b: a >= b),
    "==": (np.equal, lambda a, b: a == b),
    "!=": (np.not_equal, lambda a, b: a != b),
}


def div(a: float, b: float) -> float:
    """IEEE division as numpy does it: x/0 is +-inf, 0/0 and nan/0 are nan."""
    if b == 0.0:
        if a != a or a == 0.0:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def power(a: float, b: float) -> float:
    """``a ^ b``; a negative base with a fractional exponent is nan (not complex)."""
    try:
        return math.pow(a, b)
    except ValueError:
        return math.nan
    except OverflowError:
        return math.inf if a > 0 or float(b).is_integer() and int(b) % 2 == 0 else -math.inf


def binop_scalar(op: str, a: float, b: float) -> float:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return div(a, b)
    return power(a, b)


def binop_array(op: str, a, b):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if op == "+":
            return np.add(a, b)
        if op == "-":
            return np.subtract(a, b)
        if op == "*":
            return np.multiply(a, b)
        if op == "/":
            return np.divide(a, b)
    # '^' is rare in specs: evaluate with the scalar rule so batch == stream exactly
    aa, bb = np.broadcast_arrays(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))
    return np.fromiter((power(x, y) for x, y in zip(aa.tolist(), bb.tolist())), dtype=np.float64, count=aa.size)


def cmp_scalar(op: str, a: float, b: float) -> bool:
    return bool(_CMP[op][1](a, b))


def cmp_array(op: str, a, b):
    with np.errstate(invalid="ignore"):
        return _CMP[op][0](a, b)
