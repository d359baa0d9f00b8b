"""Formulas and rules rendered for readers: plain English, and one canonical call spelling.

``english(expr, ctx)`` turns a formula into a sentence a compliance reviewer can read::

    crosses_above(sma(close, 20), sma(close, 100))
    -> the 20-bar simple moving average of close crosses above the 100-bar simple moving
       average of close

Functions without a phrase of their own are named and explained by their registry summary,
so a new library entry is readable the day it lands.

``canonical_formula(expr, is_series_name)`` prints a formula with every call's arguments
bound (``dsl/bind.py``) and written by name in signature order, defaults and implicit price
columns included, so equivalent spellings print identically::

    sma(close, 20), sma(close, period=20)        -> sma(x=close, period=20)
    atr(14), atr(high, low, close, 14), atr()    -> atr(high=high, low=low, close=close, period=14)

``rule_sentence(rule)`` writes a fuzzy rule as a sentence; ``membership`` evaluates the
common term shapes with the textbook formulas (for pictures and for ``uncovered``, which
samples a rule base's inputs on a grid and finds where no rule fires).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

from dsl import ast
from dsl.bind import COLUMNS, bind_call
from dsl.formula import const_value
from library.registry import REGISTRY

TRADE_WORDS = {
    "bars_in_trade": "the number of bars in the trade",
    "entry_price": "the entry price",
    "position_side": "the position side (1 long, -1 short)",
}
_CMP = {">": "is above", ">=": "is at or above", "<": "is below", "<=": "is at or below",
        "==": "equals", "!=": "differs from"}
_ARITH = {"+": "plus", "-": "minus", "*": "times", "/": "divided by", "^": "to the power of"}


@dataclass(frozen=True)
class Context:
    """What names mean where the formula is written: param values and signal names."""

    params: Mapping[str, float] = field(default_factory=dict)
    signals: frozenset[str] = frozenset()

    def is_series(self, name: str) -> bool:
        return name in COLUMNS or name in self.signals


def num(v: float) -> str:
    """A number as people write it: 20, 0.5, 1e-06."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


# ---------------------------------------------------------------- English


def english(node: ast.Expr, ctx: Context | None = None) -> str:
    """The formula as an English phrase (a condition reads as a clause)."""
    return _En(ctx or Context()).go(node)


class _En:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def go(self, n: ast.Expr) -> str:
        return getattr(self, "_" + type(n).__name__.lower())(n)

    def count(self, n: ast.Expr | None, default: object = None) -> str:
        """A window length or other constant: its value (params are folded)."""
        if n is None:
            return num(default) if isinstance(default, (int, float)) else "?"
        v = const_value(n, self.ctx.params)
        return num(v) if v is not None else f"({self.go(n)})"

    def _num(self, n: ast.Num) -> str:
        return num(n.value)

    def _quantity(self, n: ast.Quantity) -> str:
        return n.to_text()

    def _boollit(self, n: ast.BoolLit) -> str:
        return "always" if n.value else "never"

    def _name(self, n: ast.Name) -> str:
        if n.name in self.ctx.params:
            return f"{n.name} ({num(self.ctx.params[n.name])})"
        return TRADE_WORDS.get(n.name, n.name)

    def _at(self, n: ast.At) -> str:
        base = self.go(n.base)
        if n.target_kind == "instrument":
            return f"{base} of {n.target}"
        return f"the {n.target} {base} (last completed {n.target} bar)"

    def _lag(self, n: ast.Lag) -> str:
        ago = f"{n.bars} bar{'s' if n.bars != 1 else ''} ago"
        if isinstance(n.base, (ast.Name, ast.At)):
            return f"{self.go(n.base)} {ago}"
        return f"{self.go(n.base)}, as of {ago}"

    def _neg(self, n: ast.Neg) -> str:
        return f"minus {self._operand(n.operand, ast.Neg.prec)}"

    def _operand(self, n: ast.Expr, prec: int) -> str:
        text = self.go(n)
        return f"({text})" if n.prec < prec else text

    def _binop(self, n: ast.BinOp) -> str:
        return f"{self._operand(n.left, n.prec)} {_ARITH[n.op]} {self._operand(n.right, n.prec + 1)}"

    def _compare(self, n: ast.Compare) -> str:
        return f"{self._operand(n.left, n.prec + 1)} {_CMP[n.op]} {self._operand(n.right, n.prec + 1)}"

    def _boolop(self, n: ast.BoolOp) -> str:
        def part(c: ast.Expr) -> str:
            text = self.go(c)
            return f"({text})" if isinstance(c, (ast.BoolOp, ast.IfElse)) and getattr(c, "op", "") != n.op else text

        return f"{part(n.left)} {n.op} {part(n.right)}"

    def _not(self, n: ast.Not) -> str:
        if isinstance(n.operand, ast.Name):
            return f"not {self.go(n.operand)}"
        return f"it is not the case that {self.go(n.operand)}"

    def _ifelse(self, n: ast.IfElse) -> str:
        return f"{self.go(n.then)} if {self.go(n.cond)}, otherwise {self.go(n.orelse)}"

    def _field(self, n: ast.Field) -> str:
        if isinstance(n.base, ast.Call) and n.base.func in REGISTRY:
            args = self.bound(n.base)
            phrase = _FIELD_PHRASES.get((n.base.func, n.name))
            if args is not None and phrase is not None:
                return phrase(self, args)
        return f"the {n.name} output of {self.go(n.base)}"

    def bound(self, call: ast.Call) -> dict[str, ast.Expr] | None:
        entry = REGISTRY.get(call.func)
        if entry is None:
            return None
        b = bind_call(entry, call, self.ctx.is_series)
        if b.problems:
            return None
        out: dict[str, ast.Expr] = dict(b.args)
        out["__implicit__"] = b.implicit  # type: ignore[assignment]
        return out

    def _call(self, n: ast.Call) -> str:
        args = self.bound(n)
        phrase = _PHRASES.get(n.func)
        if args is not None and phrase is not None:
            return phrase(self, args)
        entry = REGISTRY.get(n.func)
        written = ", ".join([self.go(a) for a in n.args] + [f"{k.name} {self.go(k.value)}" for k in n.kwargs])
        summary = entry.summary.split(". ")[0].rstrip(".").replace("``", "") if entry else "not in the library"
        return f"{n.func}({written}) [{summary}]"

    # helpers for phrases
    def arg(self, args: dict, name: str) -> str:
        return self.go(args[name])

    def n_of(self, args: dict, name: str, func: str) -> str:
        default = next((p.default for p in REGISTRY[func].params if p.name == name), None)
        return self.count(args.get(name), default)

    def cols(self, args: dict, names: tuple[str, ...]) -> str:
        """'' when the price columns are the bars' own, else ' of high, low, close'."""
        if args["__implicit__"] or all(isinstance(args[c], ast.Name) and args[c].name == c for c in names):
            return ""
        return " of " + ", ".join(self.arg(args, c) for c in names)


def _avg(word: str) -> Callable[[_En, dict], str]:
    return lambda e, a: f"the {e.n_of(a, 'period', _FN[word])}-bar {word} of {e.arg(a, 'x')}"


_FN = {"simple moving average": "sma", "exponential moving average": "ema", "weighted moving average": "wma",
       "RSI": "rsi", "standard deviation": "stddev", "z-score": "zscore",
       "annualised realised volatility": "realized_vol"}

_PHRASES: dict[str, Callable[[_En, dict], str]] = {
    **{fn: _avg(word) for word, fn in _FN.items()},
    "atr": lambda e, a: f"the {e.n_of(a, 'period', 'atr')}-bar average true range{e.cols(a, ('high', 'low', 'close'))}",
    "true_range": lambda e, a: f"the true range{e.cols(a, ('high', 'low', 'close'))}",
    "highest": lambda e, a: f"the highest {e.arg(a, 'x')} of the last {e.n_of(a, 'period', 'highest')} bars",
    "lowest": lambda e, a: f"the lowest {e.arg(a, 'x')} of the last {e.n_of(a, 'period', 'lowest')} bars",
    "percent_rank": lambda e, a: (f"the percentile rank (0 to 100) of {e.arg(a, 'x')} among its last "
                                  f"{e.n_of(a, 'period', 'percent_rank')} values"),
    "corr": lambda e, a: f"the {e.n_of(a, 'period', 'corr')}-bar correlation of {e.arg(a, 'a')} and {e.arg(a, 'b')}",
    "returns": lambda e, a: f"the one-bar return of {e.arg(a, 'x')}",
    "log_returns": lambda e, a: f"the one-bar log return of {e.arg(a, 'x')}",
    "roc": lambda e, a: f"the {e.n_of(a, 'period', 'roc')}-bar rate of change of {e.arg(a, 'x')} in percent",
    "crosses_above": lambda e, a: f"{e.arg(a, 'a')} crosses above {e.arg(a, 'b')}",
    "crosses_below": lambda e, a: f"{e.arg(a, 'a')} crosses below {e.arg(a, 'b')}",
    "bars_since": lambda e, a: f"the number of bars since {e.arg(a, 'cond')}",
    "abs": lambda e, a: f"the absolute value of {e.arg(a, 'x')}",
    "min": lambda e, a: f"the smaller of {e.arg(a, 'a')} and {e.arg(a, 'b')}",
    "max": lambda e, a: f"the larger of {e.arg(a, 'a')} and {e.arg(a, 'b')}",
    "clip": lambda e, a: f"{e.arg(a, 'x')} kept between {e.arg(a, 'lo')} and {e.arg(a, 'hi')}",
    "log": lambda e, a: f"the natural logarithm of {e.arg(a, 'x')}",
    "sqrt": lambda e, a: f"the square root of {e.arg(a, 'x')}",
    "exp": lambda e, a: f"e to the power of {e.arg(a, 'x')}",
}


def _band(which: str) -> Callable[[_En, dict], str]:
    return lambda e, a: (f"the {which} Bollinger band of {e.arg(a, 'x')} ({e.n_of(a, 'period', 'bollinger')} bars, "
                         f"{e.n_of(a, 'k', 'bollinger')} standard deviations)")


def _macd(what: str) -> Callable[[_En, dict], str]:
    return lambda e, a: (f"the MACD {what} of {e.arg(a, 'x')} ({e.n_of(a, 'fast', 'macd')}/"
                         f"{e.n_of(a, 'slow', 'macd')}/{e.n_of(a, 'signal', 'macd')})")


def _channel(word: str, col: str) -> Callable[[_En, dict], str]:
    return lambda e, a: f"the {word} {e.arg(a, col)} of the last {e.n_of(a, 'period', 'donchian')} bars"


def _adx(word: str) -> Callable[[_En, dict], str]:
    return lambda e, a: f"the {e.n_of(a, 'period', 'adx')}-bar {word}{e.cols(a, ('high', 'low', 'close'))}"


_FIELD_PHRASES: dict[tuple[str, str], Callable[[_En, dict], str]] = {
    ("bollinger", "upper"): _band("upper"), ("bollinger", "middle"): _band("middle"),
    ("bollinger", "lower"): _band("lower"),
    ("macd", "line"): _macd("line"), ("macd", "signal"): _macd("signal line"),
    ("macd", "histogram"): _macd("histogram"),
    ("donchian", "upper"): _channel("highest", "high"), ("donchian", "lower"): _channel("lowest", "low"),
    ("adx", "adx"): _adx("ADX (trend strength)"), ("adx", "plus_di"): _adx("+DI"),
    ("adx", "minus_di"): _adx("-DI"),
}


# ---------------------------------------------------------------- canonical calls


def canonical_formula(node: ast.Expr, is_series_name: Callable[[str], bool] = lambda n: n in COLUMNS) -> str:
    """Canonical text with every library call's arguments bound and named in signature order.

    Defaults are written out, implicit price columns made explicit, and a bar count written
    as its number (``20 bars`` is ``20``). Calls that do not bind (unknown functions,
    membership shapes) keep their written arguments, each canonicalised.

    >>> from dsl.parse import parse_expr, plain_locator
    >>> canon = lambda t: canonical_formula(parse_expr(t, plain_locator())[0])
    >>> canon("sma(close, 20)") == canon("sma(close, period=20)") == "sma(x=close, period=20)"
    True
    >>> canon("atr(14) > atr(high, low, close)")
    'atr(high=high, low=low, close=close, period=14) > atr(high=high, low=low, close=close, period=14)'
    """
    return _canon(node, is_series_name).to_text()


def _const_node(v: object) -> ast.Expr:
    if isinstance(v, bool):
        return ast.BoolLit(v, None)
    return ast.Num(float(v), isinstance(v, int), None)  # type: ignore[arg-type]


def _canon(n: ast.Expr, series: Callable[[str], bool]) -> ast.Expr:
    rec = lambda c: _canon(c, series)  # noqa: E731
    if isinstance(n, ast.Quantity) and n.unit == "bars":
        return ast.Num(float(int(n.value)), True, None)
    if isinstance(n, ast.Call):
        entry = REGISTRY.get(n.func)
        b = bind_call(entry, n, series) if entry is not None else None
        if b is None or b.problems:
            return dataclasses.replace(n, args=tuple(rec(a) for a in n.args),
                                       kwargs=tuple(dataclasses.replace(k, value=rec(k.value)) for k in n.kwargs))
        kwargs = []
        for p in entry.params:
            if p.context is not None:
                continue
            value = rec(b.args[p.name]) if p.name in b.args else _const_node(p.default)
            kwargs.append(ast.Kwarg(p.name, value, None))
        return dataclasses.replace(n, args=(), kwargs=tuple(kwargs))
    if isinstance(n, (ast.Field, ast.At, ast.Lag)):
        return dataclasses.replace(n, base=rec(n.base))
    if isinstance(n, (ast.Neg, ast.Not)):
        return dataclasses.replace(n, operand=rec(n.operand))
    if isinstance(n, (ast.BinOp, ast.Compare, ast.BoolOp)):
        return dataclasses.replace(n, left=rec(n.left), right=rec(n.right))
    if isinstance(n, ast.IfElse):
        return dataclasses.replace(n, then=rec(n.then), cond=rec(n.cond), orelse=rec(n.orelse))
    return n


# ---------------------------------------------------------------- fuzzy rules


def _prop(p: ast.Proposition) -> str:
    if p.term == "any":
        return f"{p.var} is anything"
    return " ".join([p.var, "is", *p.hedges, p.term])


def _antecedent(a: ast.AntExpr, parent: str | None = None) -> str:
    if isinstance(a, ast.Proposition):
        return _prop(a)
    text = f"{_antecedent(a.left, a.op)} {a.op} {_antecedent(a.right, a.op)}"
    return f"({text})" if parent is not None and parent != a.op else text


def rule_sentence(rule: ast.Rule) -> str:
    """``if rsi is oversold and vol is low then size is large with 0.5`` as a sentence.

    >>> from dsl.parse import parse_rule, plain_locator
    >>> rule_sentence(parse_rule("if rsi is oversold and vol is very high then size is small with 0.5",
    ...                          plain_locator())[0])
    'If rsi is oversold and vol is very high, then size is small (weight 0.5: the conclusion counts 50%).'
    """
    then = " and ".join(_prop(c) for c in rule.consequents)
    text = f"If {_antecedent(rule.antecedent)}, then {then}"
    if rule.weight is not None and rule.weight != 1:
        text += f" (weight {num(rule.weight)}: the conclusion counts {num(round(rule.weight * 100, 6))}%)"
    return text + "."


# ---------------------------------------------------------------- membership terms


def _tri(x: float, a: float, b: float, c: float) -> float:
    if x < a or x > c:
        return 0.0
    if x == b:
        return 1.0
    return (x - a) / (b - a) if x < b else (c - x) / (c - b)


def _trap(x: float, a: float, b: float, c: float, d: float) -> float:
    if x < a or x > d:
        return 0.0
    if x < b:
        return (x - a) / (b - a)
    if x <= c:
        return 1.0
    return (d - x) / (d - c) if x < d else 0.0


def _ramp(x: float, s: float, e: float) -> float:
    if s == e:
        return 0.0
    if s < e:
        return 0.0 if x <= s else 1.0 if x >= e else (x - s) / (e - s)
    return 0.0 if x >= s else 1.0 if x <= e else (s - x) / (s - e)


def _gauss(x: float, m: float, sd: float) -> float:
    return math.exp(-((x - m) ** 2) / (2 * sd * sd)) if sd else float(x == m)


def _s(x: float, s: float, e: float) -> float:
    if x <= s:
        return 0.0
    if x >= e:
        return 1.0
    t = (x - s) / (e - s)
    return 2 * t * t if x <= (s + e) / 2 else 1 - 2 * (1 - t) ** 2


def _discrete(x: float, *p: float) -> float:
    pts = sorted(zip(p[0::2], p[1::2]))
    if x <= pts[0][0]:
        return pts[0][1]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0) if x1 != x0 else y1
    return pts[-1][1]


#: shape -> membership(x, *params); shapes not listed are shown as a table, not drawn
SHAPES: dict[str, Callable[..., float]] = {
    "triangle": _tri, "trapezoid": _trap, "ramp": _ramp, "gaussian": _gauss,
    "rectangle": lambda x, s, e: float(s <= x <= e),
    "gaussian_product": lambda x, ma, sa, mb, sb: (_gauss(x, ma, sa) if x < ma else 1.0) * (_gauss(x, mb, sb) if x > mb else 1.0),
    "bell": lambda x, c, w, s: 1 / (1 + abs((x - c) / w) ** (2 * s)) if w else float(x == c),
    "sigmoid": lambda x, i, s: 1 / (1 + math.exp(max(-700.0, min(700.0, -s * (x - i))))),
    "s_shape": _s, "z_shape": lambda x, s, e: 1 - _s(x, s, e),
    "pi_shape": lambda x, a, b, c, d: _s(x, a, b) * (1 - _s(x, c, d)),
    "cosine": lambda x, c, w: 0.0 if abs(x - c) > w / 2 else 0.5 * (1 + math.cos(2 * math.pi * (x - c) / w)),
    "discrete": _discrete,
}
#: shapes drawn exactly through their corner points
LINEAR = {"triangle", "trapezoid", "ramp", "rectangle", "discrete"}
#: hedges on a degree (fuzzylite's definitions)
HEDGE_FNS: dict[str, Callable[[float], float]] = {
    "not": lambda m: 1 - m, "very": lambda m: m * m, "somewhat": math.sqrt,
    "extremely": lambda m: 2 * m * m if m <= 0.5 else 1 - 2 * (1 - m) ** 2,
    "seldom": lambda m: math.sqrt(m / 2) if m <= 0.5 else 1 - math.sqrt((1 - m) / 2), "any": lambda m: 1.0,
}


@dataclass(frozen=True)
class Term:
    """A membership term as numbers: shape, parameters and height (``height=`` keyword)."""

    name: str
    shape: str
    params: tuple[float, ...]
    height: float = 1.0

    @property
    def drawable(self) -> bool:
        return self.shape in SHAPES

    def degree(self, x: float) -> float:
        return self.height * SHAPES[self.shape](x, *self.params)

    def corners(self) -> list[float]:
        return list(self.params[0::2]) if self.shape == "discrete" else list(self.params)

    def words(self) -> str:
        p = [num(v) for v in self.params]
        text = {
            "triangle": lambda: f"0 outside [{p[0]}, {p[2]}], rising to 1 at {p[1]}",
            "trapezoid": lambda: f"0 outside [{p[0]}, {p[3]}], 1 from {p[1]} to {p[2]}",
            "ramp": lambda: f"0 at {p[0]}, 1 at {p[1]} and beyond",
            "rectangle": lambda: f"1 from {p[0]} to {p[1]}, else 0",
            "gaussian": lambda: f"bell curve centred at {p[0]}, standard deviation {p[1]}",
        }.get(self.shape)
        out = text() if text and len(p) == {"trapezoid": 4, "triangle": 3}.get(self.shape, 2) else \
            f"{self.shape}({', '.join(p)})"
        return out + (f", height {num(self.height)}" if self.height != 1 else "")


def term_of(name: str, call: ast.Call) -> Term:
    """A checked term call (``triangle(0, 50, 100, height=0.8)``) as numbers (NaN if not a number)."""
    vals = tuple(v if (v := const_value(a, {})) is not None else math.nan for a in call.args)
    height = next((const_value(k.value, {}) for k in call.kwargs if k.name == "height"), None)
    return Term(name, call.func, vals, 1.0 if height is None else height)


def curve(term: Term, lo: float, hi: float, samples: int = 160) -> list[tuple[float, float]]:
    """Points to draw a term over [lo, hi]: its corners (and both sides of each jump) for
    piecewise-linear shapes, an even grid for smooth ones."""
    eps = (hi - lo) * 1e-6
    if term.shape in LINEAR:
        xs = {lo, hi}
        for c in term.corners():
            xs.update(x for x in (c - eps, c, c + eps) if lo <= x <= hi)
    else:
        xs = {lo + (hi - lo) * i / samples for i in range(samples + 1)}
    return [(x, term.degree(x)) for x in sorted(xs)]


@dataclass
class Coverage:
    """Where no rule of a rule base fires, on a grid over its inputs' ranges."""

    points: int = 0
    uncovered: int = 0
    examples: list[dict[str, float]] = field(default_factory=list)
    skipped: str = ""  # why the analysis could not run


def uncovered(inputs: dict[str, tuple[float, float]], terms: dict[tuple[str, str], Term], rules: list[ast.Rule],
              budget: int = 20000, examples: int = 3) -> Coverage:
    """Sample each input's range on an even grid (n points per input, n**inputs <= budget) and
    evaluate every rule's antecedent with min for ``and``, max for ``or`` and the hedges; a
    grid point where every antecedent is 0 is uncovered. Simple on purpose: a gap narrower
    than the grid step can be missed, and the rule bases' own t-norms are not used (for the
    usual ones, min > 0 exactly when they are > 0)."""
    names = list(inputs)
    bad = sorted({f"{v}.{t} ({term.shape})" for (v, t), term in terms.items() if v in inputs and not term.drawable})
    if bad:
        return Coverage(skipped=f"terms of shapes explain does not evaluate: {', '.join(bad)}")
    if not names:
        return Coverage(skipped="no inputs")
    steps = [k for k in (100, 50, 40, 25, 20, 10, 5, 4, 2) if (k + 1) ** len(names) <= budget] or [2]
    n = steps[0] + 1  # a round number of steps, so sampled points read well (0, 4, 8, ... 100)
    grid = {v: [lo + (hi - lo) * i / (n - 1) for i in range(n)] for v, (lo, hi) in inputs.items()}
    memo: dict[tuple, list[float]] = {}

    def prop(p: ast.Proposition) -> list[float]:
        key = (p.var, p.hedges, p.term)
        if key not in memo:
            base = [1.0] * n if p.term == "any" else [terms[(p.var, p.term)].degree(x) for x in grid[p.var]]
            for h in reversed(p.hedges):
                base = [HEDGE_FNS[h](min(1.0, max(0.0, m))) for m in base]
            memo[key] = base
        return memo[key]

    def degree(a: ast.AntExpr, at: dict[str, int]) -> float:
        if isinstance(a, ast.Proposition):
            return prop(a)[at[a.var]] if a.var in at else 1.0
        l, r = degree(a.left, at), degree(a.right, at)
        return min(l, r) if a.op == "and" else max(l, r)

    out = Coverage()
    for idx in itertools.product(range(n), repeat=len(names)):
        at = dict(zip(names, idx))
        out.points += 1
        if not any(degree(r.antecedent, at) > 1e-12 for r in rules):
            out.uncovered += 1
            if len(out.examples) < examples:
                out.examples.append({v: grid[v][i] for v, i in at.items()})
    return out
