"""Parse every formula and rule of a workspace and check it against the library's signatures.

Names resolve to signals, params, price columns or trade state; calls are checked for the
function's existence, arity, argument types and constness exactly as ``library.REGISTRY``
declares them. Fuzzy documents are checked for variables, terms, hedges and term ranges.
Nothing here evaluates anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dsl import ast
from dsl.bind import bind_call
from dsl.errors import Collector, Diagnostic, did_you_mean, suggest
from dsl.parse import parse_expr
from dsl.resolve import Workspace
from dsl.source import Span, path_text
from dsl.check_fuzzy import CheckedFuzzy, check_fuzzy, duplicate_terms
from dsl.formula import const_value, locator
from dsl.validate import SpecDoc
from library.registry import REGISTRY, Entry
from library.types import VType, accepts

COLUMNS = ("open", "high", "low", "close", "volume")
#: words of the grammar that can never be used as names
RESERVED = frozenset({"and", "or", "not", "if", "else", "true", "false", "is", "then", "with"})
#: Names that read the open trade; only exits and stops may use them.
TRADE_STATE = {
    "bars_in_trade": "bars since the entry fill, 0 on the fill bar",
    "entry_price": "fill price of the open position",
    "position_side": "1 long, -1 short",
}
NUMERIC = (VType.SERIES, VType.NUMBER, VType.INT, VType.PCT)
BOOLS = (VType.BOOL, VType.BOOL_CONST)

_TYPE_WORDS = {
    VType.SERIES: "a number series", VType.BOOL: "a condition", VType.NUMBER: "a number",
    VType.INT: "a whole number", VType.PCT: "a percentage", VType.BOOL_CONST: "true/false",
    VType.DURATION: "a duration", VType.MULTI: "several series",
}


@dataclass(frozen=True)
class Typed:
    vtype: VType
    trade: bool = False  # reads the open trade's state
    bad: bool = False  # an error about this value was already reported: do not report its uses


@dataclass
class CheckedStrategy:
    doc: SpecDoc
    params: dict[str, float]
    signals: dict[str, ast.Expr] = field(default_factory=dict)
    types: dict[str, VType] = field(default_factory=dict)
    entry: dict[str, ast.Expr] = field(default_factory=dict)
    exit: dict[str, ast.Expr] = field(default_factory=dict)
    stops: dict[str, ast.Expr] = field(default_factory=dict)
    slippage: ast.Expr | None = None
    sizing_inputs: dict[str, ast.Expr] = field(default_factory=dict)
    used_signals: set[str] = field(default_factory=set)
    fuzzy_calls: set[str] = field(default_factory=set)  # rule bases called from formulas

    @property
    def name(self) -> str:
        return self.doc.name


@dataclass
class Project:
    """A checked workspace: every formula parsed and typed; ready to compile."""

    workspace: Workspace
    strategies: dict[str, CheckedStrategy] = field(default_factory=dict)
    fuzzies: dict[str, CheckedFuzzy] = field(default_factory=dict)
    warnings: list[Diagnostic] = field(default_factory=list)


class _StrategyChecker:
    def __init__(self, ws: Workspace, doc: SpecDoc, params: dict[str, float], diags: Collector):
        self.ws = ws
        self.doc = doc
        self.s = doc.model
        self.diags = diags
        self.out = CheckedStrategy(doc, params)
        self.visiting: list[str] = []
        self.bad_signals: set[str] = set()
        uni = ws.get("universe", self.s.universe)
        self.instruments = [i.id for i in uni.model.instruments] if uni else []
        self.universe_known = uni is not None  # if not, resolve already said so: skip instrument checks
        self.context = ""

    # ---- entry point ----
    def run(self) -> CheckedStrategy:
        s = self.s
        for section in ("params", "signals"):
            for name in getattr(s, section):
                what = None
                if name in RESERVED:
                    what = "a reserved word of the formula language"
                elif section == "params" and name in COLUMNS:
                    what = "a price column"
                elif section == "params" and name in TRADE_STATE:
                    what = "trade state"
                if what:
                    self.diags.add("E203", f"{section[:-1]} '{name}' has the same name as {what}",
                                   self.doc.key_span(section, name), f"rename the {section[:-1]}")
        for name in s.signals:
            if name in COLUMNS or name in TRADE_STATE or name in s.params:
                what = "a price column" if name in COLUMNS else "trade state" if name in TRADE_STATE else "a param"
                self.diags.add("E203", f"signal '{name}' has the same name as {what}",
                               self.doc.key_span("signals", name), "rename the signal")
        for name in s.signals:
            self.signal_type(name, None)
        for side in ("long", "short"):
            for section, target in (("entry", self.out.entry), ("exit", self.out.exit)):
                text = getattr(getattr(s, section), side)
                if text is None:
                    continue
                self.context = section
                node, t = self.formula((section, side), text)
                if node is None:
                    continue
                target[side] = node
                if t.vtype not in BOOLS and not t.bad:
                    self.diags.add("E505", f"{section}.{side} must be a condition (true or false on each bar), "
                                   f"but '{node.to_text()}' is {_TYPE_WORDS[t.vtype]}", node.span,
                                   f"compare it with something, e.g. 'close > {node.to_text()}'"
                                   if t.vtype in NUMERIC else "write a comparison, e.g. 'close > sma(close, 50)'")
        self.context = "stops"
        for key in ("stop_loss", "take_profit", "trailing_stop"):
            text = getattr(s.stops, key)
            if text is not None:
                node, t = self.formula(("stops", key), text)
                if node is not None:
                    self.out.stops[key] = node
                    self.numeric_or_error(node, t, f"stops.{key}", "a price distance like '2 * atr(14)' or a percentage like '2%'")
        self.context = "execution"
        node, t = self.formula(("execution", "slippage"), s.execution.slippage)
        if node is not None:
            self.out.slippage = node
            self.numeric_or_error(node, t, "execution.slippage", "'5bps' or a price distance like '0.1 * atr(14)'")
        if s.sizing.method == "fuzzy":
            self.context = "sizing"
            for name, text in s.sizing.inputs.items():
                node, t = self.formula(("sizing", "inputs", name), text)
                if node is not None:
                    self.out.sizing_inputs[name] = node
                    self.numeric_or_error(node, t, f"sizing.inputs.{name}", "a number series")
            self.check_fuzzy_sizing()
        if s.instrument and self.universe_known and s.instrument not in self.instruments:
            self.diags.add("E514", f"instrument '{s.instrument}' is not in universe '{s.universe}'",
                           self.doc.span("instrument"), did_you_mean(s.instrument, self.instruments)
                           or f"instruments: {', '.join(self.instruments)}")
        if s.hedge is not None:
            self.check_hedge()
        return self.out

    def check_hedge(self) -> None:
        s, h = self.s, self.s.hedge
        if s.instrument is None:
            self.diags.add("E203", "a hedged strategy trades one pair: it needs 'instrument:' for its primary leg",
                           self.doc.key_span("hedge"), f"add 'instrument: <id>' (a member of '{s.universe}' "
                           f"other than '{h.instrument}')")
        if self.universe_known and h.instrument not in self.instruments:
            self.diags.add("E514", f"hedge instrument '{h.instrument}' is not in universe '{s.universe}'",
                           self.doc.span("hedge", "instrument"), did_you_mean(h.instrument, self.instruments)
                           or f"instruments: {', '.join(self.instruments)}")
        elif h.instrument == s.instrument:
            self.diags.add("E203", f"the hedge leg is the strategy's own instrument '{h.instrument}'",
                           self.doc.span("hedge", "instrument"), "hedge with another member of the universe")
        for key in ("stop_loss", "take_profit", "trailing_stop"):
            if getattr(s.stops, key) is not None:
                self.diags.add("E203", f"stops.{key} is not allowed with a hedge: a pair has no intrabar price "
                               "to stop at", self.doc.key_span("stops", key),
                               "exit the pair with a formula, e.g. exit: {long: spread < 0 or bars_in_trade >= 36}")

    def check_fuzzy_sizing(self) -> None:
        fz = self.ws.get("fuzzy", self.s.sizing.rulebase)
        if fz is None:
            return
        declared = list(fz.model.inputs)
        meant = set()
        for name in self.s.sizing.inputs:
            if name not in declared:
                meant.add(suggest(name, declared))
                self.diags.add("E506", f"rule base '{fz.name}' has no input '{name}'",
                               self.doc.key_span("sizing", "inputs", name),
                               did_you_mean(name, declared) or f"its inputs: {', '.join(declared)}")
        for name in declared:
            if name not in self.s.sizing.inputs and name not in meant:  # a misspelling is reported once
                self.diags.add("E201", f"sizing.inputs is missing '{name}', an input of rule base '{fz.name}'",
                               self.doc.key_span("sizing", "inputs"), f"add '{name}: <formula>'")
        out = self.s.sizing.output
        if out is not None and out not in fz.model.outputs:
            self.diags.add("E506", f"rule base '{fz.name}' has no output '{out}'", self.doc.span("sizing", "output"),
                           did_you_mean(out, fz.model.outputs) or f"its outputs: {', '.join(fz.model.outputs)}")
        elif out is None and len(fz.model.outputs) > 1:
            self.diags.add("E201", f"rule base '{fz.name}' has several outputs; say which one sizes",
                           self.doc.key_span("sizing"), f"add 'output: {sorted(fz.model.outputs)[0]}'")

    def numeric_or_error(self, node: ast.Expr, t: Typed, where: str, want: str) -> None:
        if t.vtype == VType.MULTI:
            self._multi(node)
        elif t.vtype not in NUMERIC and not t.bad:
            self.diags.add("E505", f"{where} must be a number, but '{node.to_text()}' is {_TYPE_WORDS[t.vtype]}",
                           node.span, f"write {want}")

    # ---- formulas ----
    def formula(self, path: tuple, text: str) -> tuple[ast.Expr | None, Typed]:
        node, diag = parse_expr(text, locator(self.doc, path, text), what=path_text(path))
        if diag:
            self.diags.items.append(diag)
            return None, Typed(VType.SERIES, bad=True)
        return node, self.infer(node)

    def signal_type(self, name: str, ref: ast.Name | None) -> Typed:
        if name in self.out.types:
            return Typed(self.out.types[name], bad=name in self.bad_signals)
        if name in self.visiting:
            cycle = self.visiting[self.visiting.index(name):] + [name]
            self.diags.add("E601", "cycle between signals: " + " --> ".join(cycle),
                           ref.span if ref else self.doc.span("signals", name),
                           "a signal cannot depend on itself; use a lag like x[1] for the previous value")
            return Typed(VType.SERIES, bad=True)
        self.visiting.append(name)
        saved = self.context
        self.context = "signals"
        node, t = self.formula(("signals", name), self.s.signals[name])
        self.context = saved
        self.visiting.pop()
        if node is not None:
            self.out.signals[name] = node
        if t.vtype == VType.MULTI and node is not None:
            self._multi(node, f"signal '{name}'")
            t = Typed(VType.SERIES, t.trade, bad=True)
        if t.bad:
            self.bad_signals.add(name)
        self.out.types[name] = t.vtype
        return t

    def infer(self, n: ast.Expr) -> Typed:
        m = getattr(self, "_" + type(n).__name__.lower())
        return m(n)

    def _num(self, n: ast.Num) -> Typed:
        return Typed(VType.INT if n.is_int else VType.NUMBER)

    def _quantity(self, n: ast.Quantity) -> Typed:
        return Typed({"pct": VType.PCT, "bps": VType.PCT, "duration": VType.DURATION,
                      "bars": VType.INT}[n.unit])

    def _boollit(self, n: ast.BoolLit) -> Typed:
        return Typed(VType.BOOL_CONST)

    def _name(self, n: ast.Name) -> Typed:
        s = self.s
        if n.name in s.signals:
            self.out.used_signals.add(n.name)
            return self.signal_type(n.name, n)
        if n.name in self.out.params:
            v = self.out.params[n.name]
            return Typed(VType.INT if float(v).is_integer() else VType.NUMBER)
        if n.name in COLUMNS:
            return Typed(VType.SERIES)
        if n.name in TRADE_STATE:
            if self.context != "exit":
                where = "a signal" if self.context == "signals" else self.context
                hint = ("stop distances are evaluated on the decision bar, before the trade exists; write "
                        "the distance from market data (e.g. 2 * atr(14)) or as a percentage (2%)"
                        if self.context == "stops" else "use it directly in exit conditions")
                self.diags.add("E515", f"'{n.name}' ({TRADE_STATE[n.name]}) is only known inside a trade, "
                               f"not in {where}", n.span, hint)
            return Typed(VType.SERIES, trade=True)
        if n.name in REGISTRY:
            self.diags.add("E502", f"'{n.name}' is a function; call it with arguments", n.span,
                           f"signature: {REGISTRY[n.name].signature}")
            return Typed(VType.SERIES, bad=True)
        known = list(s.signals) + list(self.out.params) + list(COLUMNS) + list(TRADE_STATE)
        self.diags.add("E502", f"unknown name '{n.name}'", n.span,
                       did_you_mean(n.name, known) or
                       f"names here are signals ({', '.join(s.signals) or 'none'}), params "
                       f"({', '.join(self.out.params) or 'none'}) and columns ({', '.join(COLUMNS)})")
        return Typed(VType.SERIES, bad=True)

    def _fuzzy_call(self, n: ast.Call, doc: SpecDoc) -> Typed:
        """``rulebase(input=formula, ...)``: a rule base's output as a series (kwargs only)."""
        fz = doc.model
        names = list(fz.inputs)
        for a in n.args:
            self.infer(a)
            self.diags.add("E503", f"rule base '{fz.name}' takes its inputs by name", a.span,
                           f"write {fz.name}({', '.join(f'{x}=...' for x in names)})")
        trade = False
        given = set()
        for k in n.kwargs:
            t = self.infer(k.value)
            trade |= t.trade
            if k.name not in names:
                self.diags.add("E506", f"rule base '{fz.name}' has no input '{k.name}'", k.span,
                               did_you_mean(k.name, names) or f"its inputs: {', '.join(names)}")
            elif not t.bad and t.vtype not in NUMERIC:
                self.diags.add("E504", f"input '{k.name}' of rule base '{fz.name}' must be a number, but "
                               f"'{k.value.to_text()}' is {_TYPE_WORDS[t.vtype]}", k.value.span,
                               "compare it into a number, e.g. '1 if cond else 0'")
            given.add(k.name)
        missing = [x for x in names if x not in given]
        if missing:
            self.diags.add("E503", f"rule base '{fz.name}' needs input(s) {', '.join(missing)}", n.span,
                           f"write {fz.name}({', '.join(f'{x}=...' for x in names)})")
        if trade:
            self.diags.add("E515", f"rule base '{fz.name}' keeps state across bars, so it cannot read trade state",
                           n.span, "feed it market data only")
        self.out.fuzzy_calls.add(fz.name)
        return Typed(VType.MULTI if len(fz.outputs) > 1 else VType.SERIES, trade)

    def _call(self, n: ast.Call) -> Typed:
        entry = REGISTRY.get(n.func)
        if entry is None and self.ws.get("fuzzy", n.func) is not None:
            return self._fuzzy_call(n, self.ws.get("fuzzy", n.func))
        if entry is None:
            hint = did_you_mean(n.func, REGISTRY.names())
            hint = (hint + " " if hint else "") + "see `tradespec library list`"
            self.diags.add("E501", f"unknown function '{n.func}'", n.name_span, hint)
            for a in list(n.args) + [k.value for k in n.kwargs]:
                self.infer(a)
            return Typed(VType.SERIES, bad=True)
        bound = self.bind(entry, n)
        trade = False
        all_const = True
        for p, arg in bound:
            t = self.infer(arg)
            trade |= t.trade
            if not t.vtype.is_const:
                all_const = False
            if t.vtype == VType.MULTI:
                self._multi(arg)
                continue
            if t.bad:
                continue
            if not p.is_series and _CONST_OF.get(t.vtype) in _FAMILY.get(p.vtype, ()):
                self.diags.add("E511", f"argument '{p.name}' of {entry.name} must be known before the run "
                               f"({_TYPE_WORDS[p.vtype]} or a param), but '{arg.to_text()}' changes "
                               f"from bar to bar", arg.span, f"signature: {entry.signature}")
            elif not accepts(p.vtype, t.vtype):
                hint = f"signature: {entry.signature}"
                if t.vtype in BOOLS and p.vtype in NUMERIC:
                    hint = f"to use a condition as a number, write '1 if {arg.to_text()} else 0'; {hint}"
                self.diags.add("E504", f"argument '{p.name}' of {entry.name} must be {_TYPE_WORDS[p.vtype]}, "
                               f"but '{arg.to_text()}' is {_TYPE_WORDS[t.vtype]}", arg.span, hint)
            elif p.is_series and t.vtype.is_const and entry.kind == "indicator":
                first_series = next((q.name for q in entry.params if q.is_series), p.name)
                self.diags.add("E504", f"argument '{p.name}' of {entry.name} must be a series that changes from "
                               f"bar to bar, but '{arg.to_text()}' is a constant", arg.span,
                               f"did you mean {entry.name}(close, {arg.to_text()})? signature: {entry.signature}"
                               if p.name == first_series else f"signature: {entry.signature}")
            elif p.vtype == VType.INT:
                v = const_value(arg, self.out.params)
                if v is not None and v < 1:
                    self.diags.add("E504", f"argument '{p.name}' of {entry.name} must be at least 1, got {v:g}",
                                   arg.span, f"signature: {entry.signature}")
            if t.trade and entry.kind != "math":
                self.diags.add("E515", f"{entry.name} looks at past bars, so it cannot read trade state "
                               f"('{arg.to_text()}')", arg.span, "apply it to market data only")
        if entry.outputs:
            return Typed(VType.MULTI, trade)
        if entry.kind == "math" and all_const:
            return Typed(VType.NUMBER)
        return Typed(entry.returns, trade)

    def bind(self, entry: Entry, n: ast.Call) -> list[tuple[Any, ast.Expr]]:
        b = bind_call(entry, n, lambda name: name in COLUMNS or name in self.s.signals)
        for code, node, msg in b.problems:
            from dsl.errors import did_you_mean as dym
            hint = dym(node.name, b.params) if isinstance(node, ast.Kwarg) and code == "E503" and node.name not in b.params else None
            self.diags.add(code, msg, node.span, hint or f"signature: {entry.signature}")
        return [(b.params[k], v) for k, v in b.args.items() if k not in b.implicit]

    def _field(self, n: ast.Field) -> Typed:
        if isinstance(n.base, ast.Call) and n.base.func not in REGISTRY and self.ws.get("fuzzy", n.base.func):
            t = self.infer(n.base)
            outs = list(self.ws.get("fuzzy", n.base.func).model.outputs)
            if n.name not in outs:
                self.diags.add("E512", f"rule base '{n.base.func}' has no output '{n.name}'", _field_span(n),
                               did_you_mean(n.name, outs) or f"outputs: {', '.join(outs)}")
            return Typed(VType.SERIES, t.trade)
        if isinstance(n.base, ast.Call) and n.base.func not in REGISTRY:
            return Typed(VType.SERIES, self.infer(n.base).trade, bad=True)  # E501 already says it
        if not isinstance(n.base, ast.Call) or not REGISTRY[n.base.func].outputs:
            t = self.infer(n.base)
            if not t.bad:
                self.diags.add("E512", f"'.{n.name}' can only follow a call with several outputs, "
                               f"and '{n.base.to_text()}' has one value", _field_span(n),
                               f"remove '.{n.name}'; calls with several outputs are "
                               f"{', '.join(e.name for e in REGISTRY if e.outputs)}")
            return Typed(t.vtype, t.trade, bad=True)
        t = self.infer(n.base)
        outs = REGISTRY[n.base.func].outputs
        if n.name not in outs:
            self.diags.add("E512", f"{n.base.func} has no output '{n.name}'", _field_span(n),
                           did_you_mean(n.name, outs) or f"outputs: {', '.join(outs)}")
            return Typed(VType.SERIES, t.trade, bad=True)
        return Typed(VType.SERIES, t.trade)

    def _at(self, n: ast.At) -> Typed:
        if isinstance(n.base, ast.Name) and n.base.name == "age" and n.target_kind == "timeframe":
            self.diags.add("E505", f"'age@' applies to another instrument, not to a timeframe ('@{n.target}')",
                           n.span, "age@<instrument id> is the seconds since that instrument's last bar")
            return Typed(VType.SERIES)
        if not isinstance(n.base, ast.Name) or n.base.name not in COLUMNS + ("age",):
            self.diags.add("E505", f"'@{n.target}' applies to a price column, not '{n.base.to_text()}'",
                           n.span, f"e.g. close@{n.target}; for an indicator write sma(close@{n.target}, 20)")
            return Typed(VType.SERIES)
        if n.target_kind == "instrument":
            if self.universe_known and n.target not in self.instruments:
                self.diags.add("E514", f"unknown instrument '{n.target}' in universe '{self.s.universe}'",
                               _tail_span(n.span, len(n.target)), did_you_mean(n.target, self.instruments)
                               or f"instruments: {', '.join(self.instruments) or 'none'}")
        else:
            from dsl.quantities import parse_duration

            tf = parse_duration(n.target)
            base = self.s.timeframe
            if tf.seconds < base.seconds or (tf.seconds % base.seconds):
                self.diags.add("E505", f"'@{n.target}' must be a multiple of the strategy's timeframe ({base})",
                               n.span, f"use a higher timeframe such as @{_suggest_tf(base.seconds)}")
        return Typed(VType.SERIES)

    def _lag(self, n: ast.Lag) -> Typed:
        t = self.infer(n.base)
        if n.bars < 0:
            self.diags.add("E602", f"negative lag {n.to_text()} reads {-n.bars} bar"
                           f"{'s' if n.bars != -1 else ''} into the future", n.span,
                           f"a decision at bar t sees data up to t's close; write {n.base.to_text()}[{-n.bars}] "
                           f"for the value {-n.bars} bar{'s' if n.bars != -1 else ''} ago")
        if t.trade:
            self.diags.add("E515", "trade state has no history to lag", n.span, "lag market data only")
        if t.vtype == VType.MULTI:
            self._multi(n.base)
            return Typed(VType.SERIES, t.trade, bad=True)
        return Typed(VType.BOOL if t.vtype in BOOLS else VType.SERIES, t.trade, t.bad)

    def _neg(self, n: ast.Neg) -> Typed:
        t = self.infer(n.operand)
        self.need_numeric(t, n.operand, "'-'")
        return Typed(VType.SERIES, t.trade, bad=True) if t.vtype == VType.MULTI else t

    def _binop(self, n: ast.BinOp) -> Typed:
        a, b = self.infer(n.left), self.infer(n.right)
        self.need_numeric(a, n.left, f"'{n.op}'")
        self.need_numeric(b, n.right, f"'{n.op}'")
        if a.vtype.is_const and b.vtype.is_const:
            vt = VType.INT if a.vtype == b.vtype == VType.INT and n.op in "+-*" else VType.NUMBER
            if a.vtype == VType.PCT and b.vtype == VType.PCT and n.op in "+-":
                vt = VType.PCT
            return Typed(vt)
        return Typed(VType.SERIES, a.trade or b.trade, a.bad or b.bad)

    def _compare(self, n: ast.Compare) -> Typed:
        a, b = self.infer(n.left), self.infer(n.right)
        self.need_numeric(a, n.left, f"'{n.op}'")
        self.need_numeric(b, n.right, f"'{n.op}'")
        if a.vtype.is_const and b.vtype.is_const:
            return Typed(VType.BOOL_CONST)
        return Typed(VType.BOOL, a.trade or b.trade)

    def _boolop(self, n: ast.BoolOp) -> Typed:
        a, b = self.infer(n.left), self.infer(n.right)
        self.need_bool(a, n.left, f"'{n.op}'")
        self.need_bool(b, n.right, f"'{n.op}'")
        return Typed(VType.BOOL, a.trade or b.trade)

    def _not(self, n: ast.Not) -> Typed:
        t = self.infer(n.operand)
        self.need_bool(t, n.operand, "'not'")
        return Typed(VType.BOOL, t.trade)

    def _ifelse(self, n: ast.IfElse) -> Typed:
        c, a, b = self.infer(n.cond), self.infer(n.then), self.infer(n.orelse)
        self.need_bool(c, n.cond, "'if'")
        if (a.vtype in BOOLS) != (b.vtype in BOOLS) and not (a.bad or b.bad):
            self.diags.add("E504", "both branches of 'a if c else b' must be numbers, or both conditions",
                           n.span, f"'{n.then.to_text()}' is {_TYPE_WORDS[a.vtype]}, "
                           f"'{n.orelse.to_text()}' is {_TYPE_WORDS[b.vtype]}")
        vt = VType.BOOL if a.vtype in BOOLS else VType.SERIES
        return Typed(vt, a.trade or b.trade or c.trade, a.bad or b.bad)

    def need_numeric(self, t: Typed, node: ast.Expr, op: str) -> None:
        if t.bad:
            return
        if t.vtype in BOOLS:
            self.diags.add("E504", f"{op} needs numbers, but '{node.to_text()}' is a condition", node.span,
                           "use 'a if cond else b' to turn a condition into a number")
        elif t.vtype == VType.MULTI:
            self._multi(node)
        elif t.vtype == VType.DURATION:
            self.diags.add("E504", f"{op} cannot use a duration ('{node.to_text()}') in arithmetic",
                           node.span, "durations are for timeframes and cooldowns")

    def need_bool(self, t: Typed, node: ast.Expr, op: str) -> None:
        if t.bad:
            return
        if t.vtype == VType.MULTI:
            self._multi(node)
        elif t.vtype not in BOOLS:
            self.diags.add("E504", f"{op} needs conditions, but '{node.to_text()}' is {_TYPE_WORDS[t.vtype]}",
                           node.span, "compare it, e.g. 'x > 0'")

    def _multi(self, node: ast.Expr, what: str = "") -> None:
        outs = REGISTRY[node.func].outputs if isinstance(node, ast.Call) and node.func in REGISTRY else ()
        listed = f" ({', '.join(outs)})" if outs else ""
        self.diags.add("E512", f"{what or repr(node.to_text())} has several outputs{listed}; pick one",
                       node.span, f"write {node.to_text()}.{outs[0]}" if outs else None)


#: the constant type a series type would have if it did not change from bar to bar
_CONST_OF = {VType.SERIES: VType.NUMBER, VType.BOOL: VType.BOOL_CONST}
#: constant parameter type -> the constant types of its family (a series of these is "not constant")
_FAMILY = {VType.INT: (VType.NUMBER,), VType.NUMBER: (VType.NUMBER,), VType.PCT: (VType.NUMBER,),
           VType.BOOL_CONST: (VType.BOOL_CONST,)}


def _tail_span(sp: Span, width: int) -> Span:
    """The last ``width`` characters of a node's text (e.g. the '.name' of ``call(...).name``)."""
    if sp.end_col - width >= (sp.col if sp.line == sp.end_line else 1):
        return Span(sp.file, sp.end_line, sp.end_col - width, sp.end_line, sp.end_col)
    return sp


def _field_span(n: ast.Field) -> Span:
    return _tail_span(n.span, len(n.name) + 1)


def _suggest_tf(seconds: float) -> str:
    for s, t in ((300, "5m"), (900, "15m"), (3600, "1h"), (14400, "4h"), (86400, "1d"), (604800, "1w")):
        if s > seconds and s % seconds == 0:
            return t
    return "1w"


# ---------------------------------------------------------------- entry


def check(ws: Workspace, params: dict[str, dict[str, float]] | None = None) -> tuple[Project, list[Diagnostic]]:
    """Check every strategy and rule base; ``params`` overrides param values per strategy."""
    diags = Collector()
    project = Project(ws)
    overrides = params or {}
    for doc in ws.of_kind("strategy"):
        values = {k: float(p.default) for k, p in doc.model.params.items()}
        for k, v in overrides.get(doc.name, {}).items():
            if k not in values:
                diags.add("E502", f"strategy '{doc.name}' has no param '{k}'", doc.key_span("params") or doc.span("name"),
                          did_you_mean(k, values) or f"params: {', '.join(values) or 'none'}")
                continue
            rng = doc.model.params[k].range
            if rng and not rng[0] <= v <= rng[1]:
                diags.add("E513", f"param '{k}' = {v:g} is outside its declared range {list(rng)}",
                          doc.span("params", k), "pick a value inside the range or widen it in the spec")
            values[k] = float(v)
        checked = _StrategyChecker(ws, doc, values, diags).run()
        for name in doc.model.signals:
            if name not in checked.used_signals:
                project.warnings.append(Diagnostic(
                    "W601", f"signal '{name}' is not used by any condition, stop or sizing input",
                    doc.key_span("signals", name), "remove it or use it", severity="warning"))
        project.strategies[doc.name] = checked
    for doc in ws.of_kind("fuzzy"):
        project.fuzzies[doc.name] = check_fuzzy(doc, diags, ws.sources)
        dup = duplicate_terms(doc)
        diags.extend(dup)
    return project, diags.items + project.warnings
