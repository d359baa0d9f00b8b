"""Small helpers on formulas shared by the checker and the compiler."""

from __future__ import annotations

import math

from dsl import ast
from dsl.parse import Locator
from dsl.source import Span
from dsl.validate import SpecDoc


def locator(doc: SpecDoc, path: tuple, text: str) -> Locator:
    return lambda s, e: doc.source.locate(path, s, max(e - s, 1), text) or doc.span(*path) or Span(doc.file, 1, 1, 1, 2)


def const_value(n: ast.Expr, params: dict[str, float]) -> float | None:
    """Fold a constant expression (numbers, params, arithmetic); None if it is not constant."""
    if isinstance(n, ast.Num):
        return n.value
    if isinstance(n, ast.Quantity):
        return n.value
    if isinstance(n, ast.Name) and n.name in params:
        return float(params[n.name])
    if isinstance(n, ast.Neg):
        v = const_value(n.operand, params)
        return None if v is None else -v
    if isinstance(n, ast.BinOp):
        a, b = const_value(n.left, params), const_value(n.right, params)
        if a is None or b is None:
            return None
        try:
            return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else math.nan,
                    "^": a ** b if a >= 0 or float(b).is_integer() else math.nan}[n.op]
        except OverflowError:
            return math.inf
    return None
