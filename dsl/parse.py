"""Formula and rule strings -> positioned AST, through the one grammar in grammar/spec.lark.

Syntax errors become E3xx diagnostics that point at the exact character in the YAML file
and say, in words, what was expected; common slips (``=`` for ``==``, ``&&``, an unclosed
parenthesis, a missing ``then``) get their own message.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Callable

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from dsl import ast
from dsl.errors import Diagnostic
from dsl.source import Span

MAX_FORMULA_CHARS = 1000
MAX_FORMULA_DEPTH = 60

#: Maps a character range of the formula text to a span in the file.
Locator = Callable[[int, int], Span]

_GRAMMAR = Path(__file__).with_name("grammar") / "spec.lark"

_TERMINAL_WORDS = {
    "NUMBER": "a number", "PCT": "a percentage", "BPS": "basis points", "DURATION": "a duration",
    "BARS": "a bar count", "NAME": "a name", "LPAR": "'('", "RPAR": "')'", "LSQB": "'['",
    "RSQB": "']'", "COMMA": "','", "DOT": "'.'", "COMP_OP": "a comparison", "ADD_OP": "'+' or '-'",
    "MUL_OP": "'*' or '/'", "MINUS": "'-'", "PLUS": "'+'", "CIRCUMFLEX": "'^'", "AND": "'and'",
    "OR": "'or'", "NOT": "'not'", "IF": "'if'", "ELSE": "'else'", "THEN": "'then'", "IS": "'is'",
    "WITH": "'with'", "TRUE": "'true'", "FALSE": "'false'", "SIGNED_INT": "a whole number of bars",
    "AT_TARGET": "an instrument id or timeframe", "EQUAL": "'='", "AT": "'@'", "$END": "the end",
}

_OPERAND = {"NUMBER", "PCT", "BPS", "DURATION", "BARS", "NAME", "LPAR", "MINUS", "PLUS", "TRUE",
            "FALSE", "NOT", "SIGNED_INT"}
_OPERATOR = {"MUL_OP", "ADD_OP", "COMP_OP", "AND", "OR", "CIRCUMFLEX", "IF", "ELSE", "DOT", "AT",
             "LSQB"}
#: tokens that are a whole value: one of these right after another value means an operator is missing
_VALUE_TOKENS = {"NAME", "NUMBER", "SIGNED_INT", "PCT", "BPS", "DURATION", "BARS", "TRUE", "FALSE", "LPAR"}


@lru_cache(maxsize=1)
def parser() -> Lark:
    return Lark(_GRAMMAR.read_text(encoding="utf-8"), start=["expr", "rule"], parser="lalr",
                propagate_positions=True, maybe_placeholders=False)


class _Build(Transformer):
    """Parse tree -> ast nodes with file spans."""

    def __init__(self, locate: Locator) -> None:
        super().__init__()
        self.loc = locate

    def _s(self, meta) -> Span:
        return self.loc(meta.start_pos, meta.end_pos)

    def _t(self, tok: Token) -> Span:
        return self.loc(tok.start_pos, tok.end_pos)

    @v_args(meta=True)
    def number(self, meta, c):
        text = str(c[0])
        is_int = text.isdigit()
        return ast.Num(float(text), is_int, self._s(meta))

    @v_args(meta=True)
    def pct(self, meta, c):
        return ast.Quantity(float(str(c[0])[:-1]) / 100.0, "pct", str(c[0]), self._s(meta))

    @v_args(meta=True)
    def bps(self, meta, c):
        text = str(c[0])
        num = text[:-3] if text.endswith("bps") else text[:-2]
        return ast.Quantity(float(num) / 10000.0, "bps", text, self._s(meta))

    @v_args(meta=True)
    def duration(self, meta, c):
        from dsl.quantities import parse_duration

        d = parse_duration(str(c[0]))
        return ast.Quantity(float(d.seconds), "duration", d.text, self._s(meta))

    @v_args(meta=True)
    def bars(self, meta, c):
        digits = "".join(ch for ch in str(c[0]) if ch.isdigit())
        return ast.Quantity(float(int(digits)), "bars", f"{int(digits)} bars", self._s(meta))

    @v_args(meta=True)
    def true(self, meta, c):
        return ast.BoolLit(True, self._s(meta))

    @v_args(meta=True)
    def false(self, meta, c):
        return ast.BoolLit(False, self._s(meta))

    @v_args(meta=True)
    def name(self, meta, c):
        return ast.Name(str(c[0]), self._s(meta))

    @v_args(meta=True)
    def call(self, meta, c):
        fname = c[0]
        args, kwargs = [], []
        if len(c) > 1:
            for a in c[1]:
                (kwargs if isinstance(a, ast.Kwarg) else args).append(a)
        return ast.Call(str(fname), tuple(args), tuple(kwargs), self._s(meta), self._t(fname))

    def arglist(self, c):
        return list(c)

    @v_args(meta=True)
    def kwarg(self, meta, c):
        return ast.Kwarg(str(c[0]), c[1], self._s(meta))

    @v_args(meta=True)
    def lag(self, meta, c):
        return ast.Lag(c[0], c[1], self._s(meta))

    def lag_index(self, c):
        return int(str(c[0]))

    @v_args(meta=True)
    def field(self, meta, c):
        return ast.Field(c[0], str(c[1]), self._s(meta))

    @v_args(meta=True)
    def at(self, meta, c):
        target = str(c[1])
        kind = "timeframe" if _is_duration(target) else "instrument"
        return ast.At(c[0], target, kind, self._s(meta))

    @v_args(meta=True)
    def neg(self, meta, c):
        if isinstance(c[0], ast.Num):
            return ast.Num(-c[0].value, c[0].is_int, self._s(meta))
        return ast.Neg(c[0], self._s(meta))

    def pos(self, c):
        return c[0]

    @v_args(meta=True)
    def pow(self, meta, c):
        return ast.BinOp("^", c[0], c[1], self._s(meta))

    @v_args(meta=True)
    def binop(self, meta, c):
        return ast.BinOp(str(c[1]), c[0], c[2], self._s(meta))

    @v_args(meta=True)
    def compare(self, meta, c):
        return ast.Compare(str(c[1]), c[0], c[2], self._s(meta))

    @v_args(meta=True)
    def and_(self, meta, c):
        return ast.BoolOp("and", c[0], c[1], self._s(meta))

    @v_args(meta=True)
    def or_(self, meta, c):
        return ast.BoolOp("or", c[0], c[1], self._s(meta))

    @v_args(meta=True)
    def not_(self, meta, c):
        return ast.Not(c[0], self._s(meta))

    @v_args(meta=True)
    def ifelse(self, meta, c):
        return ast.IfElse(c[0], c[1], c[2], self._s(meta))

    # ---- rules ----
    @v_args(meta=True)
    def proposition(self, meta, c):
        toks = list(c)
        var = toks[0]
        words = toks[1:]
        return ast.Proposition(str(var), tuple(str(w) for w in words[:-1]), str(words[-1]),
                               self._s(meta), self._t(var), self._t(words[-1]))

    consequent = proposition

    @v_args(meta=True)
    def ant_and(self, meta, c):
        return ast.Antecedent("and", c[0], c[1], self._s(meta))

    @v_args(meta=True)
    def ant_or(self, meta, c):
        return ast.Antecedent("or", c[0], c[1], self._s(meta))

    def consequents(self, c):
        return tuple(c)

    def weight(self, c):
        return float(str(c[0]))

    @v_args(meta=True)
    def rule(self, meta, c):
        weight = c[2] if len(c) > 2 else None
        return ast.Rule(c[0], c[1], weight, self._s(meta))


def _is_duration(text: str) -> bool:
    import re

    return re.fullmatch(r"[0-9]+(ms|s|m|h|d|w)", text) is not None


def _describe_expected(expected: set[str]) -> str:
    """The tokens the parser would have accepted, in words, grouped so the list stays short."""
    groups = []
    rest = set(expected)
    if len(rest & _OPERAND) >= 3:
        groups.append("a value (number, name, call or '(')")
        rest -= _OPERAND
    if len(rest & _OPERATOR) >= 3:
        groups.append("an operator (+ - * / < > == and or ...)")
        rest -= _OPERATOR
    words = groups + sorted({_TERMINAL_WORDS.get(e, f"'{e.lower()}'") for e in rest})
    if len(words) > 6:
        words = words[:6] + ["..."]
    if len(words) > 1:
        return ", ".join(words[:-1]) + " or " + words[-1]
    return words[0] if words else "something else"


def _last_token(text: str) -> str:
    """The last word or operator of ``text`` (what a formula that ends too early ends with)."""
    import re

    m = re.search(r"([A-Za-z_][A-Za-z0-9_]*|[0-9.]+%?|[<>=!]=|\S)\s*$", text)
    return m.group(1) if m else text.strip()[-1:]


def _syntax_diag(exc: UnexpectedInput, text: str, locate: Locator, code: str, what: str) -> Diagnostic:
    pos = getattr(exc, "pos_in_stream", None)
    if pos is None:
        pos = len(text)
    expected = set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    hint = None
    if isinstance(exc, UnexpectedCharacters):
        ch = text[pos] if pos < len(text) else ""
        length = 1
        if text[pos:pos + 2] in ("&&", "||"):
            length = 2
            word = "and" if ch == "&" else "or"
            msg = f"'{text[pos:pos + 2]}' is not an operator here"
            hint = f"write '{word}'"
        elif ch == "=":
            msg = "'=' is not a comparison"
            hint = "write '==' to test equality (or '<=' / '>=')"
        elif ch == "!":
            msg = "'!' is not an operator here"
            hint = "write 'not' to negate, or '!=' to compare"
        elif ch in "\"'":
            close = text.find(ch, pos + 1)
            length = close - pos + 1 if close > pos else 1
            quoted = text[pos:pos + length]
            msg = f"text in quotes ({quoted}) is not allowed in formulas"
            inner = quoted.strip(ch)
            hint = "formulas use numbers, names and function calls; " + (
                f"write {inner} without quotes" if inner.isidentifier() else "remove the quotes")
        elif ch == "[" or (pos > 0 and text[pos - 1] == "["):
            msg = "a lag must be a whole number of bars"
            hint = "write x[1] for the previous bar's value"
        else:
            msg = f"unexpected character '{ch}'"
            hint = f"expected {_describe_expected(expected)}" if expected else None
        return Diagnostic(code, f"{what}: {msg}", locate(pos, pos + length), hint)
    if isinstance(exc, (UnexpectedToken, UnexpectedEOF)):
        tok = getattr(exc, "token", None)
        at_end = tok is None or tok.type == "$END"
        if at_end:
            opens = text.count("(") - text.count(")")
            if opens > 0 and "RPAR" in expected:
                idx = _unclosed_paren(text)
                return Diagnostic(code, f"{what}: '(' is never closed", locate(idx, idx + 1),
                                  "add the missing ')'")
            if code == "E303" and "THEN" in expected:
                return Diagnostic(code, f"{what}: this rule has no 'then' part",
                                  locate(len(text.rstrip()), len(text.rstrip()) + 1),
                                  "write 'if <condition> then <output> is <term>'")
            end = max(len(text.rstrip()), 0)
            last = _last_token(text)
            return Diagnostic(code, f"{what} ends too early, after '{last}'",
                              locate(max(end - len(last), 0), end),
                              f"expected {_describe_expected(expected)} after it" if expected else None)
        start, end = tok.start_pos, tok.end_pos
        value = str(tok)
        if expected == {"SIGNED_INT"}:  # inside x[...]
            close = text.find("]", start)
            lag = text[start:close] if close > start else value
            msg = f"a lag must be a whole number of bars, not '{lag}'"
            hint = "write x[1] for the value one bar ago, x[5] for five bars ago"
            end = close if close > start else end
        elif tok.type == "COMP_OP" and "COMP_OP" not in expected:
            msg = f"comparisons cannot be chained: unexpected second '{value}'"
            hint = "compare twice and join with 'and', e.g. 'a < b and b < c'"
        elif tok.type == "EQUAL":
            msg = "'=' is not a comparison"
            hint = "write '==' to test equality (keyword arguments 'name=value' only go inside a call)"
        elif tok.type == "RPAR":
            msg = "')' has no matching '('"
            hint = "remove it or add the '(' it closes"
        elif code == "E303" and "THEN" in expected and tok.type in ("NAME", "IS"):
            msg = f"unexpected '{value}'"
            hint = "a rule reads 'if <variable> is <term> [and|or ...] then <output> is <term>'; is 'then' missing?"
        elif code == "E303" and "IF" in expected:
            msg = f"a rule must start with 'if', not '{value}'"
            hint = "write 'if <variable> is <term> then <output> is <term>'"
        else:
            kind = {"NAME": "name ", "NUMBER": "number ", "SIGNED_INT": "number "}.get(tok.type, "")
            msg = f"unexpected {kind}'{value}'"
            hint = f"expected {_describe_expected(expected)}" if expected else None
            if tok.type in _VALUE_TOKENS and expected & {"MUL_OP", "ADD_OP", "COMP_OP"}:
                msg = f"two values in a row: unexpected {kind}'{value}'"
                hint = "is an operator (+ - * / < > and or) or a ',' missing before it?"
        return Diagnostic(code, f"{what}: {msg}", locate(start, end), hint)
    return Diagnostic(code, f"{what}: {exc}", locate(0, len(text)))


def _unclosed_paren(text: str) -> int:
    stack = []
    for i, ch in enumerate(text):
        if ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            stack.pop()
    return stack[-1] if stack else len(text)


def _depth_ok(text: str) -> bool:
    depth = best = 0
    for ch in text:
        if ch in "([":
            depth += 1
            best = max(best, depth)
        elif ch in ")]":
            depth -= 1
    return best <= MAX_FORMULA_DEPTH


def _parse(text: str, start: str, locate: Locator, code: str, what: str):
    if not isinstance(text, str):
        return None, Diagnostic("E205", f"{what}: expected text, got {type(text).__name__}",
                                locate(0, 1))
    if len(text) > MAX_FORMULA_CHARS:
        return None, Diagnostic("E302", f"{what} is {len(text)} characters long; "
                                f"the limit is {MAX_FORMULA_CHARS}", locate(0, 1),
                                "split it into named signals")
    if not text.strip():
        return None, Diagnostic(code, f"{what} is empty", locate(0, 1),
                                "write a formula, e.g. 'close > sma(close, 50)'")
    if not _depth_ok(text):
        return None, Diagnostic("E302", f"{what} nests parentheses more than {MAX_FORMULA_DEPTH} deep",
                                locate(0, 1), "split it into named signals")
    try:
        tree = parser().parse(text, start=start)
        return _Build(locate).transform(tree), None
    except UnexpectedInput as exc:
        return None, _syntax_diag(exc, text, locate, code, what)
    except VisitError as exc:  # a transformer failure is a bug in a literal we accepted
        return None, Diagnostic(code, f"{what}: {exc.orig_exc}", locate(0, len(text)))
    except RecursionError:
        return None, Diagnostic("E302", f"{what} is too deeply nested", locate(0, 1),
                                "split it into named signals")


def parse_expr(text: str, locate: Locator, what: str = "formula") -> tuple[ast.Expr | None, Diagnostic | None]:
    """Parse one formula. Returns (ast, None) or (None, diagnostic)."""
    return _parse(text, "expr", locate, "E301", what)


def parse_rule(text: str, locate: Locator, what: str = "rule") -> tuple[ast.Rule | None, Diagnostic | None]:
    """Parse one fuzzy rule. Returns (ast, None) or (None, diagnostic)."""
    return _parse(text, "rule", locate, "E303", what)


def plain_locator(file: str = "<formula>", line: int = 1, col: int = 1) -> Locator:
    """A locator for text that is not inside a YAML file (tests, the CLI)."""
    return lambda s, e: Span(file, line, col + s, line, col + max(e, s + 1))
