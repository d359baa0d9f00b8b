"""Formulas of ``function`` terms (``function(sin(x) / x)``), evaluated elementwise with numpy.

The names a formula may use are ``x`` (the value the term is evaluated at), the rule base's
inputs, and outputs defuzzified before the output that holds the term. The functions are
fuzzylite's (``fabs`` is written ``abs``; ``pi`` is a number).

Example:
    >>> import numpy as np
    >>> f = Formula("/", args=(Formula("call", "sin", (Formula("var", "x"),)), Formula("var", "x")))
    >>> evaluate(f, {"x": np.array([np.pi / 2])}).round(6).tolist()
    [0.63662]
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from library.fuzzy.model import Formula


def _cmp(op: Callable) -> Callable:
    return lambda a, b: op(a, b).astype(float)


#: function name -> (arity, elementwise implementation)
FUNCTIONS: dict[str, tuple[int, Callable]] = {
    "abs": (1, np.abs), "sqrt": (1, np.sqrt), "exp": (1, np.exp), "log": (1, np.log),
    "log10": (1, np.log10), "log1p": (1, np.log1p), "sin": (1, np.sin), "cos": (1, np.cos),
    "tan": (1, np.tan), "asin": (1, np.arcsin), "acos": (1, np.arccos), "atan": (1, np.arctan),
    "sinh": (1, np.sinh), "cosh": (1, np.cosh), "tanh": (1, np.tanh), "asinh": (1, np.arcsinh),
    "acosh": (1, np.arccosh), "atanh": (1, np.arctanh), "floor": (1, np.floor), "ceil": (1, np.ceil),
    "round": (1, np.round), "min": (2, np.minimum), "max": (2, np.maximum),
    "pow": (2, np.float_power), "atan2": (2, np.arctan2), "fmod": (2, np.fmod),
    "gt": (2, _cmp(np.greater)), "ge": (2, _cmp(np.greater_equal)), "eq": (2, _cmp(np.equal)),
    "neq": (2, _cmp(np.not_equal)), "le": (2, _cmp(np.less_equal)), "lt": (2, _cmp(np.less)),
}

_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "^": np.float_power}


def evaluate(f: Formula, env: dict[str, np.ndarray]) -> np.ndarray:
    """Value of the formula with the names bound by ``env`` (arrays broadcast together)."""
    with np.errstate(all="ignore"):
        return np.asarray(_eval(f, env), dtype=float)


def _eval(f: Formula, env: dict[str, np.ndarray]):
    if f.op == "num":
        return float(f.value)
    if f.op == "var":
        try:
            return env[str(f.value)]
        except KeyError:
            raise ValueError(f"formula uses '{f.value}', which is not available here "
                             f"(available: {', '.join(sorted(env))})") from None
    if f.op == "neg":
        return np.negative(_eval(f.args[0], env))
    if f.op == "call":
        arity, fn = FUNCTIONS.get(str(f.value), (None, None))
        if fn is None:
            raise ValueError(f"unknown function '{f.value}' in a function term; functions: {', '.join(FUNCTIONS)}")
        if len(f.args) != arity:
            raise ValueError(f"{f.value} takes {arity} argument(s), got {len(f.args)}")
        return fn(*(_eval(a, env) for a in f.args))
    op = _BINARY.get(f.op)
    if op is None or len(f.args) != 2:
        raise ValueError(f"unknown formula node '{f.op}'")
    return op(_eval(f.args[0], env), _eval(f.args[1], env))


def check(f: Formula, names: set[str]) -> list[str]:
    """Problems with a formula given the names it may use (empty when fine)."""
    out = []
    for n in sorted(f.names() - names):
        out.append(f"'{n}' is not available (use x, or {', '.join(sorted(names - {'x'})) or 'no other names'})")
    stack = [f]
    while stack:
        g = stack.pop()
        if g.op == "call":
            spec = FUNCTIONS.get(str(g.value))
            if spec is None:
                out.append(f"unknown function '{g.value}'")
            elif spec[0] != len(g.args):
                out.append(f"{g.value} takes {spec[0]} argument(s), got {len(g.args)}")
        stack.extend(g.args)
    return out
