"""Formula and rule syntax trees: frozen, each node with the span of its text in the file.

``to_text()`` prints the canonical form (fixed spacing, minimal parentheses), which is what
fingerprints, graph node keys and explain documents use, so formatting never matters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from dsl.source import Span

_PREC = {"ifelse": 1, "or": 2, "and": 3, "not": 4, "cmp": 5, "+": 6, "-": 6, "*": 7, "/": 7,
         "neg": 8, "^": 9, "postfix": 10, "atom": 11}


def _fmt_num(v: float) -> str:
    if v != v or v in (float("inf"), float("-inf")):
        return repr(float(v))
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


@dataclass(frozen=True)
class Num:
    value: float
    is_int: bool
    span: Span = field(compare=False)
    prec = _PREC["atom"]

    def to_text(self) -> str:
        return str(int(self.value)) if self.is_int else _fmt_num(self.value)


@dataclass(frozen=True)
class Quantity:
    """A typed literal: pct (2% -> 0.02), bps (10bps -> 0.001), duration (seconds), bars."""

    value: float
    unit: str
    text: str
    span: Span = field(compare=False)
    prec = _PREC["atom"]

    def to_text(self) -> str:
        if self.unit == "pct":
            return f"{_fmt_num(round(self.value * 100, 12))}%"
        if self.unit == "bps":
            return f"{_fmt_num(round(self.value * 10000, 12))}bps"
        if self.unit == "bars":
            return f"{int(self.value)} bars"
        return self.text


@dataclass(frozen=True)
class BoolLit:
    value: bool
    span: Span = field(compare=False)
    prec = _PREC["atom"]

    def to_text(self) -> str:
        return "true" if self.value else "false"


@dataclass(frozen=True)
class Name:
    name: str
    span: Span = field(compare=False)
    prec = _PREC["atom"]

    def to_text(self) -> str:
        return self.name


@dataclass(frozen=True)
class Kwarg:
    name: str
    value: "Expr"
    span: Span = field(compare=False)


@dataclass(frozen=True)
class Call:
    func: str
    args: tuple["Expr", ...]
    kwargs: tuple[Kwarg, ...]
    span: Span = field(compare=False)
    name_span: Span = field(compare=False)
    prec = _PREC["atom"]

    def to_text(self) -> str:
        parts = [a.to_text() for a in self.args]
        parts += [f"{k.name}={k.value.to_text()}" for k in self.kwargs]
        return f"{self.func}({', '.join(parts)})"


@dataclass(frozen=True)
class Field:
    base: "Expr"
    name: str
    span: Span = field(compare=False)
    prec = _PREC["postfix"]

    def to_text(self) -> str:
        return f"{_wrap(self.base, self.prec)}.{self.name}"


@dataclass(frozen=True)
class At:
    """``close@btc_gemini`` (another instrument) or ``close@1h`` (a higher timeframe)."""

    base: "Expr"
    target: str
    target_kind: str  # "instrument" | "timeframe"
    span: Span = field(compare=False)
    prec = _PREC["postfix"]

    def to_text(self) -> str:
        return f"{_wrap(self.base, self.prec)}@{self.target}"


@dataclass(frozen=True)
class Lag:
    base: "Expr"
    bars: int
    span: Span = field(compare=False)
    prec = _PREC["postfix"]

    def to_text(self) -> str:
        return f"{_wrap(self.base, self.prec)}[{self.bars}]"


@dataclass(frozen=True)
class Neg:
    operand: "Expr"
    span: Span = field(compare=False)
    prec = _PREC["neg"]

    def to_text(self) -> str:
        return f"-{_wrap(self.operand, self.prec)}"


@dataclass(frozen=True)
class BinOp:
    op: str  # + - * / ^
    left: "Expr"
    right: "Expr"
    span: Span = field(compare=False)

    @property
    def prec(self) -> int:
        return _PREC[self.op]

    def to_text(self) -> str:
        if self.op == "^":  # right-associative
            return f"{_wrap(self.left, self.prec + 1)} ^ {_wrap(self.right, self.prec)}"
        return f"{_wrap(self.left, self.prec)} {self.op} {_wrap(self.right, self.prec + 1)}"


@dataclass(frozen=True)
class Compare:
    op: str
    left: "Expr"
    right: "Expr"
    span: Span = field(compare=False)
    prec = _PREC["cmp"]

    def to_text(self) -> str:
        return f"{_wrap(self.left, self.prec + 1)} {self.op} {_wrap(self.right, self.prec + 1)}"


@dataclass(frozen=True)
class BoolOp:
    op: str  # and | or
    left: "Expr"
    right: "Expr"
    span: Span = field(compare=False)

    @property
    def prec(self) -> int:
        return _PREC[self.op]

    def to_text(self) -> str:
        return f"{_wrap(self.left, self.prec)} {self.op} {_wrap(self.right, self.prec + 1)}"


@dataclass(frozen=True)
class Not:
    operand: "Expr"
    span: Span = field(compare=False)
    prec = _PREC["not"]

    def to_text(self) -> str:
        return f"not {_wrap(self.operand, self.prec)}"


@dataclass(frozen=True)
class IfElse:
    then: "Expr"
    cond: "Expr"
    orelse: "Expr"
    span: Span = field(compare=False)
    prec = _PREC["ifelse"]

    def to_text(self) -> str:
        return (f"{_wrap(self.then, self.prec + 1)} if {_wrap(self.cond, self.prec + 1)} "
                f"else {_wrap(self.orelse, self.prec)}")


Expr = Union[Num, Quantity, BoolLit, Name, Call, Field, At, Lag, Neg, BinOp, Compare, BoolOp, Not,
             IfElse]


def _wrap(node: Expr, min_prec: int) -> str:
    text = node.to_text()
    return f"({text})" if node.prec < min_prec else text


def walk(node: Expr):
    """Pre-order traversal of an expression tree."""
    yield node
    if isinstance(node, Call):
        for a in node.args:
            yield from walk(a)
        for k in node.kwargs:
            yield from walk(k.value)
    elif isinstance(node, (Field, At, Lag)):
        yield from walk(node.base)
    elif isinstance(node, (Neg, Not)):
        yield from walk(node.operand)
    elif isinstance(node, (BinOp, Compare, BoolOp)):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, IfElse):
        yield from walk(node.then)
        yield from walk(node.cond)
        yield from walk(node.orelse)


# ---- fuzzy rules ----


@dataclass(frozen=True)
class Proposition:
    """``var is [not] [hedges...] term``; ``hedges`` are applied innermost-last as written."""

    var: str
    hedges: tuple[str, ...]
    term: str
    span: Span = field(compare=False)
    var_span: Span = field(compare=False)
    term_span: Span = field(compare=False)

    def to_text(self) -> str:
        return " ".join([self.var, "is", *self.hedges, self.term])


@dataclass(frozen=True)
class Antecedent:
    op: str  # and | or
    left: "AntExpr"
    right: "AntExpr"
    span: Span = field(compare=False)

    def to_text(self) -> str:
        def part(n: "AntExpr", strict: bool) -> str:
            t = n.to_text()
            if isinstance(n, Antecedent) and (n.op == "or" and self.op == "and" or strict and n.op == self.op):
                return f"({t})"
            return t

        return f"{part(self.left, False)} {self.op} {part(self.right, True)}"


AntExpr = Union[Proposition, Antecedent]


@dataclass(frozen=True)
class Rule:
    antecedent: AntExpr
    consequents: tuple[Proposition, ...]
    weight: float | None
    span: Span = field(compare=False)

    def to_text(self) -> str:
        text = f"if {self.antecedent.to_text()} then " + ", ".join(c.to_text() for c in self.consequents)
        if self.weight is not None:
            text += f" with {_fmt_num(self.weight)}"
        return text


def propositions(node: AntExpr):
    if isinstance(node, Proposition):
        yield node
    else:
        yield from propositions(node.left)
        yield from propositions(node.right)
