"""Bind a call's arguments to a library entry's parameters — shared by check and compile.

Price columns are implicit: a function whose leading parameters are named after price
columns (``atr(high, low, close, period)``) may be called with just its other arguments
(``atr(14)``); the omitted columns are the strategy's own bars. Either all columns are
written or none.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl import ast
from library.registry import Entry, Param

COLUMNS = ("open", "high", "low", "close", "volume")


@dataclass
class Binding:
    args: dict[str, ast.Expr] = field(default_factory=dict)
    params: dict[str, Param] = field(default_factory=dict)
    problems: list[tuple[str, ast.Expr | ast.Kwarg | ast.Call, str]] = field(default_factory=list)
    implicit: tuple[str, ...] = ()


def _looks_constant(node: ast.Expr) -> bool:
    return isinstance(node, (ast.Num, ast.Quantity)) or (
        isinstance(node, ast.Neg) and isinstance(node.operand, (ast.Num, ast.Quantity)))


def bind_call(entry: Entry, call: ast.Call, is_series_name=lambda n: n in COLUMNS) -> Binding:
    """Match positional and keyword arguments to parameters; report problems, never raise."""
    params = [p for p in entry.params if p.context is None]
    b = Binding(params={p.name: p for p in params})
    lead = []
    for p in params:
        if p.is_series and p.name in COLUMNS:
            lead.append(p)
        else:
            break
    explicit_cols = any(k.name in COLUMNS for k in call.kwargs)
    first = call.args[0] if call.args else None
    first_is_series = isinstance(first, (ast.Name, ast.At, ast.Lag, ast.Call, ast.BinOp, ast.Field)) and not (
        isinstance(first, ast.Name) and not is_series_name(first.name))
    implicit = bool(lead) and not explicit_cols and (first is None or not first_is_series or _looks_constant(first))
    if implicit and first is not None and isinstance(first, ast.Name) and is_series_name(first.name):
        implicit = False
    positional = params
    if implicit:
        for p in lead:
            b.args[p.name] = ast.Name(p.name, call.span)
        b.implicit = tuple(p.name for p in lead)
        positional = params[len(lead):]
    if len(call.args) > len(positional):
        extra = call.args[len(positional)]
        b.problems.append(("E503", extra, f"{entry.name} takes at most {len(params)} argument"
                           f"{'s' if len(params) != 1 else ''}, got {len(call.args) + len(call.kwargs)}"))
    for p, a in zip(positional, call.args):
        b.args[p.name] = a
    for k in call.kwargs:
        if k.name not in b.params:
            b.problems.append(("E503", k, f"{entry.name} has no argument '{k.name}'"))
        elif k.name in b.args and k.name not in b.implicit:
            b.problems.append(("E503", k, f"argument '{k.name}' of {entry.name} is given twice"))
        else:
            b.args[k.name] = k.value
    # a misspelt keyword (period -> perod) is reported once, as unknown, not also as missing
    from dsl.errors import suggest

    meant = {suggest(k.name, b.params) for k in call.kwargs if k.name not in b.params}
    missing = [p.name for p in params if p.required and p.name not in b.args and p.name not in meant]
    if missing:
        b.problems.append(("E503", call, f"{entry.name} is missing argument{'s' if len(missing) > 1 else ''} "
                           f"{', '.join(repr(m) for m in missing)}"))
    return b
