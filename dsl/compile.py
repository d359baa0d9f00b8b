"""Checked project -> one immutable, fingerprinted Graph per run target.

Passes, in order, each small and pure:

1. **bind** — formulas become nodes; params and literals fold into constants; names of
   signals become labels on the node that computes them.
2. **dedupe** — nodes are hash-consed on their canonical text, so ``sma(close, 20)`` used by
   three signals is one node.
3. **lookback** — each node's own lookback comes from its library entry (or its lag), and
   its warm-up is the longest sum of lookbacks down to the bars; the runtime never guesses.
4. **no_lookahead** — a negative lag is refused (the checker already says so with a
   position; this pass is the invariant).
5. **order** — nodes are emitted children-first, which is the evaluation order.

The run plan (sizing, stops, costs, the universe, the merged risk profile, the rule base)
is attached as plain JSON-ready data, and the fingerprint is the sha256 of the canonical
form of every document the target uses.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dsl import ast
from dsl.bind import bind_call
from dsl.check import COLUMNS, TRADE_STATE, CheckedStrategy, Project, const_value
from dsl.errors import Collector, Diagnostic, DslError
from dsl.graph import Graph, Node, fingerprint
from dsl.quantities import bars_per_year, parse_duration
from library.registry import REGISTRY
from library.types import VType


class _Builder:
    def __init__(self, cs: CheckedStrategy, bpy: float, project: Project | None = None) -> None:
        self.project = project
        self.fuzzy_engines: dict[str, Any] = {}
        self.cs = cs
        self.bpy = bpy
        self.nodes: list[Node] = []
        self.by_key: dict[str, Node] = {}
        self.names: dict[str, list[str]] = {}
        self.signal_nodes: dict[str, Node] = {}
        self.diags = Collector()

    # ---- node factory (dedupe by key) ----
    def make(self, op: str, args: tuple[Node, ...], attrs: tuple, vtype: str, lookback: int, key: str,
             span, trade: bool = False) -> Node:
        if key in self.by_key:
            return self.by_key[key]
        warm = lookback + max((a.warmup for a in args), default=0)
        trade = trade or any(a.trade for a in args)
        node = Node(f"n{len(self.nodes)}", op, tuple(a.id for a in args), attrs, vtype, lookback, warm, key,
                    span, (), trade)
        self.nodes.append(node)
        self.by_key[key] = node
        return node

    def const(self, value: float | bool, span) -> Node:
        if isinstance(value, bool):
            return self.make("const", (), (("value", value),), "BoolSeries", 0, "true" if value else "false", span)
        v = float(value)
        key = _num_text(v)
        return self.make("const", (), (("value", v),), "Series", 0, key, span)

    def label(self, node: Node, name: str) -> None:
        self.names.setdefault(node.id, [])
        if name not in self.names[node.id]:
            self.names[node.id].append(name)

    # ---- bind pass ----
    def expr(self, n: ast.Expr) -> Node:
        folded = _fold(n, self.cs.params)
        if folded is not None:
            return self.const(folded, n.span)
        method = getattr(self, "_" + type(n).__name__.lower())
        return method(n)

    def signal(self, name: str) -> Node:
        if name not in self.signal_nodes:
            node = self.expr(self.cs.signals[name])
            self.signal_nodes[name] = node
            self.label(node, name)
        return self.signal_nodes[name]

    def _name(self, n: ast.Name) -> Node:
        if n.name in self.cs.signals:
            return self.signal(n.name)
        if n.name in COLUMNS:
            return self.make("input", (), (("column", n.name),), "Series", 0, n.name, n.span)
        if n.name in TRADE_STATE:
            return self.make("trade", (), (("name", n.name),), "Series", 0, n.name, n.span, trade=True)
        raise AssertionError(f"unresolved name {n.name!r} survived checking")

    def _fuzzy(self, n: ast.Call) -> Node:
        from dsl.fuzzy_compile import build_engine

        checked = self.project.fuzzies[n.func]
        model = checked.doc.model
        if n.func not in self.fuzzy_engines:
            self.fuzzy_engines[n.func] = build_engine(checked)
        given = {k.name: k.value for k in n.kwargs}
        args = tuple(self.expr(given[name]) for name in model.inputs)
        outs = tuple(model.outputs)
        key = f"{n.func}({', '.join(f'{name}={a.key}' for name, a in zip(model.inputs, args))})"
        vtype = "Multi" if len(outs) > 1 else "Series"
        return self.make("fuzzy", args, (("rulebase", n.func), ("outputs", outs)), vtype, 0, key, n.span)

    def _call(self, n: ast.Call) -> Node:
        if n.func not in REGISTRY and self.project is not None and n.func in self.project.fuzzies:
            return self._fuzzy(n)
        entry = REGISTRY[n.func]
        b = bind_call(entry, n, lambda name: name in COLUMNS or name in self.cs.signals)
        args: list[Node] = []
        consts: list[tuple[str, Any]] = []
        shown: list[str] = []
        for p in entry.params:
            if p.context == "bars_per_year":
                consts.append((p.name, self.bpy))
                continue
            if p.name not in b.args:
                if p.is_series:
                    raise AssertionError(f"{entry.name}: series argument {p.name} unbound")
                consts.append((p.name, p.default))
                shown.append(f"{p.name}={_num_text(p.default)}")
                continue
            a = b.args[p.name]
            if p.is_series:
                node = self.expr(a)
                args.append(node)
                shown.append(node.key)
            else:
                v = const_value(a, self.cs.params)
                if v is None and isinstance(a, ast.BoolLit):
                    v = a.value
                if p.vtype == VType.INT:
                    v = int(round(v))
                consts.append((p.name, v))
                shown.append(f"{p.name}={_num_text(v)}")
        const_map = dict(consts)
        lookback = entry.lookback(**const_map)
        vtype = "Multi" if entry.outputs else entry.returns.value
        key = f"{entry.name}({', '.join(shown)})"
        return self.make("call", tuple(args), (("func", entry.name), ("consts", tuple(consts))), vtype,
                         lookback, key, n.span)

    def _field(self, n: ast.Field) -> Node:
        base = self.expr(n.base)
        outs = base.attr("outputs") if base.op == "fuzzy" else REGISTRY[base.attr("func")].outputs
        return self.make("field", (base,), (("name", n.name), ("index", outs.index(n.name))), "Series", 0,
                         f"{base.key}.{n.name}", n.span)

    def _at(self, n: ast.At) -> Node:
        col = n.base.name  # type: ignore[union-attr]
        if n.target_kind == "instrument":
            attrs = (("column", col), ("instrument", n.target))
        else:
            attrs = (("column", col), ("timeframe", n.target),
                     ("timeframe_seconds", parse_duration(n.target).seconds))
        return self.make("input", (), attrs, "Series", 0, f"{col}@{n.target}", n.span)

    def _lag(self, n: ast.Lag) -> Node:
        if n.bars < 0:
            self.diags.add("E602", f"negative lag {n.to_text()} reads the future", n.span)
            return self.expr(n.base)
        base = self.expr(n.base)
        if n.bars == 0:
            return base
        vt = "BoolSeries" if base.vtype == "BoolSeries" else "Series"
        return self.make("lag", (base,), (("bars", n.bars),), vt, n.bars, f"{_paren(base)}[{n.bars}]", n.span)

    def _neg(self, n: ast.Neg) -> Node:
        a = self.expr(n.operand)
        return self.make("neg", (a,), (), "Series", 0, f"-{_paren(a)}", n.span)

    def _binop(self, n: ast.BinOp) -> Node:
        a, b = self.expr(n.left), self.expr(n.right)
        return self.make("binop", (a, b), (("op", n.op),), "Series", 0, f"({a.key} {n.op} {b.key})", n.span)

    def _compare(self, n: ast.Compare) -> Node:
        a, b = self.expr(n.left), self.expr(n.right)
        return self.make("cmp", (a, b), (("op", n.op),), "BoolSeries", 0, f"({a.key} {n.op} {b.key})", n.span)

    def _boolop(self, n: ast.BoolOp) -> Node:
        a, b = self.expr(n.left), self.expr(n.right)
        return self.make(n.op, (a, b), (), "BoolSeries", 0, f"({a.key} {n.op} {b.key})", n.span)

    def _not(self, n: ast.Not) -> Node:
        a = self.expr(n.operand)
        return self.make("not", (a,), (), "BoolSeries", 0, f"(not {a.key})", n.span)

    def _ifelse(self, n: ast.IfElse) -> Node:
        c, a, b = self.expr(n.cond), self.expr(n.then), self.expr(n.orelse)
        vt = "BoolSeries" if a.vtype == "BoolSeries" else "Series"
        return self.make("ifelse", (c, a, b), (), vt, 0, f"({a.key} if {c.key} else {b.key})", n.span)


def _paren(node: Node) -> str:
    return node.key if node.op in ("input", "const", "call", "field", "lag", "trade") else f"({node.key})"


def _num_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _fold(n: ast.Expr, params: dict[str, float]) -> float | bool | None:
    """Constant-fold literals, params and arithmetic/comparisons of constants."""
    if isinstance(n, ast.BoolLit):
        return n.value
    if isinstance(n, (ast.Num, ast.Quantity, ast.Neg, ast.BinOp)) or (isinstance(n, ast.Name) and n.name in params):
        v = const_value(n, params)
        return v
    if isinstance(n, ast.Compare):
        a, b = _fold(n.left, params), _fold(n.right, params)
        if isinstance(a, float) and isinstance(b, float):
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[n.op]
    return None


# ---------------------------------------------------------------- plan


def _canonical_doc(doc, cs: CheckedStrategy | None, fz) -> dict[str, Any]:
    """A document as data, formulas replaced by their canonical text (formatting never counts)."""
    data = doc.model.model_dump(mode="json")
    if doc.kind == "strategy":  # fields added later leave the fingerprints of documents without them alone
        if data.get("hedge") is None:
            data.pop("hedge", None)
        if not data["execution"].get("venue_increments"):
            data["execution"].pop("venue_increments", None)
    if cs is not None:
        from dsl.english import canonical_formula

        def text(e: ast.Expr) -> str:  # calls bound and named: sma(close, 20) == sma(close, period=20)
            return canonical_formula(e, lambda n: n in COLUMNS or n in cs.signals)

        data["signals"] = {k: text(v) for k, v in cs.signals.items()}
        for section, exprs in (("entry", cs.entry), ("exit", cs.exit)):
            for side, e in exprs.items():
                data[section][side] = text(e)
        for k, e in cs.stops.items():
            data["stops"][k] = text(e)
        if cs.slippage is not None:
            data["execution"]["slippage"] = text(cs.slippage)
        for k, e in cs.sizing_inputs.items():
            data["sizing"]["inputs"][k] = text(e)
        data["params"] = {k: {**data["params"][k], "value": v} for k, v in cs.params.items()}
    if fz is not None:
        for (var, term), call in fz.terms.items():
            section = "inputs" if var in data["inputs"] else "outputs"
            data[section][var]["terms"][term] = call.to_text()
        rules = [r.to_text() for _, r in fz.rules]
        if data.get("blocks"):
            i = 0
            for block in data["blocks"]:
                n = len(block["rules"])
                block["rules"] = rules[i:i + n]
                i += n
        else:
            data["rules"] = rules
    return data


def merged_risk_profile(project: Project, name: str) -> tuple[dict[str, Any], list]:
    """A risk profile with its ``extends`` chain applied (child values win)."""
    ws = project.workspace
    chain = []
    cur = ws.get("risk_profile", name)
    while cur is not None and cur not in chain:
        chain.append(cur)
        cur = ws.get("risk_profile", cur.model.extends) if cur.model.extends else None
    defaults = type(chain[0].model)(kind="risk_profile", name=name).model_dump(mode="json")
    merged: dict[str, Any] = defaults
    for doc in reversed(chain):
        merged = _deep_merge(merged, doc.model.model_dump(mode="json", exclude_unset=True))
    merged["name"] = name
    merged["extends"] = chain[0].model.extends
    return merged, chain


def risk_limits(merged: dict[str, Any]) -> dict[str, Any]:
    """The merged profile as the engine reads it: each set limit with its resolved action and
    quantities in plain units (fractions, money, bars or seconds)."""
    from dsl.models.risk import DEFAULT_ACTIONS
    from dsl.quantities import parse_bars_or_duration, parse_time_of_day

    def span(text: str) -> dict[str, float]:
        v = parse_bars_or_duration(text)
        return {"bars": v.count} if hasattr(v, "count") else {"seconds": v.seconds}

    limits = []
    for level in ("portfolio", "strategy", "instrument"):
        for name, value in sorted(merged["limits"][level].items()):
            if value is None:
                continue
            action = (merged["on_breach"].get(f"{level}.{name}") or merged["on_breach"].get(name)
                      or DEFAULT_ACTIONS[name])
            entry: dict[str, Any] = {"key": f"{level}.{name}", "level": level, "name": name, "action": action}
            if name == "max_daily_loss":
                entry.update(threshold=value["value"], unit=value["unit"])
            elif name == "cooldown_after_loss":
                entry.update(span(value), threshold=value)
            elif name == "rate_limit":
                entry.update(span(value["per"]), threshold=value["count"])
            else:
                entry.update(threshold=value)
            limits.append(entry)
    reset = parse_time_of_day(merged["daily_reset"])
    return {"name": merged["name"], "limits": limits, "reset_minutes_utc": reset.utc_minutes,
            "daily_reset": merged["daily_reset"], "warn_at": merged["severity"]["warn_at"]}


def _deep_merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _data_file(universe_doc, path: str) -> str:
    p = (Path(universe_doc.file).parent / path)
    try:
        return os.path.relpath(p.resolve(), Path.cwd())
    except ValueError:
        return str(p.resolve())


def compile_strategy(project: Project, name: str) -> Graph:
    """Compile one checked strategy (and what it references) into a Graph."""
    cs = project.strategies[name]
    s = cs.doc.model
    bpy = bars_per_year(s.timeframe)
    b = _Builder(cs, bpy, project)
    outputs: list[tuple[str, str]] = []
    for sig in s.signals:
        outputs.append((f"signal.{sig}", b.signal(sig).id))
    for section, exprs in (("entry", cs.entry), ("exit", cs.exit)):
        for side in ("long", "short"):
            if side in exprs:
                outputs.append((f"{section}.{side}", b.expr(exprs[side]).id))
    stops: dict[str, Any] = {}
    for key, e in cs.stops.items():
        stops[key] = _level(b, e, outputs, f"stop.{key}")
    slippage = _level(b, cs.slippage, outputs, "slippage") if cs.slippage is not None else {"mode": "pct", "value": 0.0}
    sizing = s.sizing.model_dump(mode="json")
    if sizing["method"] == "vol_target":
        node = b.expr(ast.Call("realized_vol", (ast.Name("close", None),),
                               (ast.Kwarg("period", ast.Num(float(s.sizing.lookback), True, None), None),),
                               None, None))
        outputs.append(("sizing.vol", node.id))
    for k, e in cs.sizing_inputs.items():
        outputs.append((f"sizing.input.{k}", b.expr(e).id))
    if s.hedge is not None:  # the hedge leg's prices, aligned like any other-instrument input
        for col in ("open", "close"):
            outputs.append((f"hedge.{col}", b.expr(ast.At(ast.Name(col, None), s.hedge.instrument, "instrument",
                                                          None)).id))
    b.diags.raise_if_errors()
    if b.names:
        nodes = tuple(Node(n.id, n.op, n.args, n.attrs, n.vtype, n.lookback, n.warmup, n.key, n.span,
                           tuple(b.names.get(n.id, ())), n.trade) for n in b.nodes)
    else:
        nodes = tuple(b.nodes)

    ws = project.workspace
    used = [cs.doc]
    uni = ws.get("universe", s.universe)
    used.append(uni)
    risk, chain = (None, [])
    if s.risk_profile:
        risk, chain = merged_risk_profile(project, s.risk_profile)
        used.extend(chain)
    fuzzy_plan = None
    fz = None
    for rulebase in sorted(cs.fuzzy_calls):
        used.append(ws.get("fuzzy", rulebase))
    if s.sizing.method == "fuzzy":
        fz_doc = ws.get("fuzzy", s.sizing.rulebase)
        used.append(fz_doc)
        fz = project.fuzzies[fz_doc.name]
        from dsl.fuzzy_compile import build_engine

        out_name = s.sizing.output or next(iter(fz_doc.model.outputs))
        fuzzy_plan = {"rulebase": fz_doc.name, "output": out_name, "engine": build_engine(fz)}
    instruments = []
    for inst in uni.model.instruments:
        d = inst.model_dump(mode="json")
        d["data_file"] = _data_file(uni, inst.data)
        instruments.append(d)
    plan: dict[str, Any] = {
        "kind": "strategy",
        "name": s.name,
        "description": s.description,
        "tier": s.tier,
        "timeframe": str(s.timeframe),
        "timeframe_seconds": s.timeframe.seconds,
        "bars_per_year": bpy,
        "capital": s.capital,
        "params": dict(sorted(cs.params.items())),
        "universe": {"name": uni.name, "instruments": instruments},
        "instrument": s.instrument,
        "sides": [side for side in ("long", "short") if side in cs.entry],
        "sizing": sizing,
        "stops": stops,
        "slippage": slippage,
        "execution": s.execution.model_dump(mode="json", exclude={"slippage"}),
        "risk_profile": risk,
        "risk_profile_name": s.risk_profile,
        "risk": risk_limits(risk) if risk else None,
        "fuzzy": fuzzy_plan,
        "fuzzy_calls": dict(sorted(b.fuzzy_engines.items())),
    }
    if s.hedge is not None:
        plan["hedge"] = s.hedge.model_dump(mode="json")
    if not s.execution.venue_increments:
        plan["execution"].pop("venue_increments", None)
    canon = {}
    used = list({d.ref: d for d in used}.values())
    for doc in used:
        checked_fz = project.fuzzies.get(doc.name) if doc.kind == "fuzzy" else None
        canon[f"{doc.kind}.{doc.name}"] = _canonical_doc(doc, cs if doc is cs.doc else None, checked_fz)
    fp = fingerprint({"schema": 1, "target": f"strategy.{name}", "documents": canon})
    documents = tuple(sorted((f"{d.kind}.{d.name}", d.file, d.sha256) for d in used))
    return Graph(f"strategy.{name}", nodes, tuple(outputs), plan, fp, documents)


def _level(b: _Builder, e: ast.Expr, outputs: list, role: str) -> dict[str, Any]:
    """A stop or slippage: a fraction of price (``2%``) or a price-distance formula."""
    if isinstance(e, ast.Quantity) and e.unit in ("pct", "bps"):
        return {"mode": "pct", "value": e.value}
    node = b.expr(e)
    outputs.append((role, node.id))
    if node.op == "const":
        return {"mode": "distance", "value": node.attr("value"), "node": node.id}
    return {"mode": "distance", "node": node.id}


def compile_project(project: Project, target: str) -> Graph:
    """Compile a run target by name: a strategy (schedules come with the scheduler)."""
    if target in project.strategies:
        return compile_strategy(project, target)
    names = sorted(project.strategies)
    from dsl.errors import did_you_mean

    hint = did_you_mean(target, names) or (f"strategies: {', '.join(names)}" if names else "no strategies loaded")
    raise DslError([Diagnostic("E401", f"no strategy named '{target}' to compile", None, hint)])

