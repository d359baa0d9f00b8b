"""A spec as a plain document for compliance: what it trades and when, every formula in words
and in math, sizing, stops, costs, risk limits with their breach actions, the fuzzy rule
base as sentences and pictures, a schedule as a table and a timeline, and the tier,
fingerprint and source file of every document — with the warnings a reviewer must see
listed first.

``explain(project_or_workspace, target) -> ExplainDoc``; ``ExplainDoc.to_markdown()`` and
``to_html()`` render it through ``dsl/templates/explain.*.j2`` (HTML autoescaped: text from
specs is never markup). The document is built as plain data first (sections of blocks), so
the two formats say the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape as _html_escape
from pathlib import Path
from typing import Any

from dsl import ast
from dsl.check import CheckedStrategy, Project
from dsl.compile import compile_strategy, merged_risk_profile
from dsl.diff import LEVELS, action_for, written, as_project, canonical_document, compare_action, compare_limit, show
from dsl.english import Context, Term, curve, english, num, rule_sentence, term_of, uncovered
from dsl.errors import Diagnostic, DslError, did_you_mean
from dsl.graph import fingerprint
from dsl.models.risk import InstrumentLimits, PortfolioLimits, StrategyLimits
from dsl.validate import SpecDoc

# ---------------------------------------------------------------- the document as data


@dataclass
class Para:
    text: str
    type: str = "para"


@dataclass
class Facts:
    rows: list[tuple[str, str]]
    type: str = "facts"


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]]
    code: tuple[int, ...] = ()  # columns shown as code (formulas)
    type: str = "table"


@dataclass
class FormulaItem:
    label: str
    math: str
    words: str
    where: str


@dataclass
class Formulas:
    items: list[FormulaItem]
    type: str = "formulas"


@dataclass
class Bullets:
    items: list[str]
    type: str = "bullets"


@dataclass
class Figure:
    svg: str  # markup built here with every text escaped; Markdown shows the fallback table
    caption: str
    fallback: Table | None = None
    type: str = "figure"


@dataclass
class Section:
    title: str
    blocks: list[Any] = field(default_factory=list)
    sections: list["Section"] = field(default_factory=list)
    anchor: str = ""


@dataclass(frozen=True)
class ExplainWarning:
    code: str  # no_stop_loss, leverage, research_tier, looser_than_conservative, param_out_of_range, fuzzy_gap, no_risk_profile
    message: str
    where: str = ""


@dataclass
class ExplainDoc:
    kind: str
    name: str
    title: str
    description: str
    fingerprint: str
    file: str
    warnings: list[ExplainWarning] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    documents: list[dict[str, str]] = field(default_factory=list)

    @property
    def kind_word(self) -> str:
        return _KIND_TITLE[self.kind].lower()

    def to_markdown(self) -> str:
        return render_template("explain.md.j2", doc=self)

    def to_html(self, fragment: bool = False) -> str:
        """A whole HTML page, or (``fragment=True``) one ``<article>`` with its style, to embed."""
        _number(self.sections)
        return render_template("explain.html.j2", doc=self, fragment=fragment)


def _number(sections: list[Section], prefix: str = "s") -> None:
    for i, s in enumerate(sections, 1):
        s.anchor = f"{prefix}{i}"
        _number(s.sections, f"{prefix}{i}-")


# ---------------------------------------------------------------- templates


def md_text(text: Any) -> str:
    """Spec text in Markdown: '<', '>' and entity-like '&' escaped, so a description is never markup."""
    return re.sub(r"&(?=#?[A-Za-z0-9]+;)", "&amp;", str(text)).replace("<", "&lt;").replace(">", "&gt;")


def md_cell(text: Any) -> str:
    return md_text(text).replace("|", "\\|").replace("\n", " ").strip() or " "


def md_code(text: Any) -> str:
    t = str(text).replace("\n", " ").replace("|", "\\|")
    return f"`` {t} ``" if "`" in t else f"`{t}`"


@lru_cache(maxsize=2)
def _env(html: bool):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(Path(__file__).with_name("templates"))), autoescape=html,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(md=md_text, cell=md_cell, code=md_code)
    return env


def render_template(name: str, **context: Any) -> str:
    return _env(name.endswith(".html.j2")).get_template(name).render(**context)


# ---------------------------------------------------------------- words


TIERS = {"core": "core: a production strategy", "aux": "aux: runs beside the core strategies",
         "legacy": "legacy: kept for reference", "research": "research: never runs in paper mode"}
LIMIT_WORDS = {
    "portfolio.max_gross_exposure": "sum of absolute position values, as a share of equity",
    "portfolio.max_net_exposure": "long minus short position value, as a share of equity",
    "portfolio.max_daily_loss": "loss since the daily reset (money, or a share of equity)",
    "portfolio.max_drawdown": "fall of equity from its peak",
    "portfolio.max_open_positions": "positions open at once",
    "strategy.max_exposure": "this strategy's position value, as a share of equity",
    "strategy.cooldown_after_loss": "pause after a losing trade",
    "strategy.max_orders_per_day": "orders per day (since the daily reset)",
    "strategy.rate_limit": "orders per time window",
    "strategy.max_consecutive_losses": "losing trades in a row before entries stop",
    "instrument.max_exposure": "one instrument's position value, as a share of equity",
    "instrument.max_position": "units held in one instrument",
    "instrument.max_order_notional": "value of one order",
    "instrument.min_order_size": "smallest order value accepted",
}
ACTION_WORDS = {"warn": "warn only", "reduce": "cut the order to fit", "block_new": "refuse new entries",
                "flatten": "close all positions", "flatten_and_halt": "close all positions and stop trading"}
LEVEL_FIELDS = {"portfolio": PortfolioLimits.model_fields, "strategy": StrategyLimits.model_fields,
                "instrument": InstrumentLimits.model_fields}
_KIND_ORDER = ("strategy", "schedule", "risk_profile", "fuzzy", "universe")
_KIND_TITLE = {"strategy": "Strategy", "schedule": "Schedule", "risk_profile": "Risk profile",
               "fuzzy": "Fuzzy rule base", "universe": "Universe"}


def pct(v: float) -> str:
    return f"{num(round(v * 100, 10))}%"


def _at(doc: SpecDoc, *path: Any) -> str:
    p = tuple(path)
    while p:
        sp = doc.span(*p) or doc.key_span(*p)
        if sp is not None:
            return f"{sp.file}:{sp.line}"
        p = p[:-1]
    return doc.file


# ---------------------------------------------------------------- building


class _Builder:
    def __init__(self, project: Project) -> None:
        self.p = project
        self.ws = project.workspace
        self.warnings: list[ExplainWarning] = []
        self.used: list[tuple[SpecDoc, str]] = []

    def use(self, doc: SpecDoc | None, role: str) -> None:
        if doc is not None and all(d is not doc for d, _ in self.used):
            self.used.append((doc, role))

    def warn(self, code: str, message: str, where: str = "") -> None:
        w = ExplainWarning(code, message, where)
        if w not in self.warnings:
            self.warnings.append(w)

    # ---- strategy
    def strategy(self, doc: SpecDoc) -> list[Section]:
        cs = self.p.strategies[doc.name]
        s = doc.model
        self.use(doc, "explained")
        graph = compile_strategy(self.p, doc.name)
        self.run_fingerprint = graph.fingerprint
        uni = self.ws.get("universe", s.universe)
        self.use(uni, "universe")
        if s.tier == "research":
            self.warn("research_tier", f"strategy '{s.name}' is research tier: it must never run in paper mode",
                      _at(doc, "tier"))
        sides = [side for side in ("long", "short") if getattr(s.entry, side)]
        fill = ("orders fill at the next bar's open" if s.execution.fill == "next_open"
                else "orders fill at the same bar's close (fill: close)")
        overview = Section("Overview", [Facts([
            ("tier", TIERS[s.tier]), ("universe", s.universe), ("instrument", s.instrument or "the universe's only one"),
            ("timeframe", str(s.timeframe)), ("capital", num(s.capital)), ("sides", " and ".join(sides) + " only" * (len(sides) == 1)),
            ("warm-up", f"{graph.warmup} bars before the first decision"),
            ("run fingerprint", graph.fingerprint), ("source", doc.file)]),
            Para(f"Decisions are taken at the close of each {s.timeframe} bar with data up to that close; {fill}.")])
        out = [overview, self.universe_section(uni, traded=s.instrument, title="What it trades",
                                               hedge=s.hedge.instrument if s.hedge else None)]
        out += self.strategy_core(cs, full=True)
        if s.risk_profile:
            out.append(self.risk_section(s.risk_profile, f"strategy '{s.name}'"))
        else:
            self.warn("no_risk_profile", f"strategy '{s.name}' has no risk profile: it runs with no risk limits at all "
                      "(the documented default of `risk_profile`)", _at(doc, "name"))
            out.append(Section("Risk limits", [Para("No risk profile: the strategy runs with no risk limits (the "
                                                    "documented default when `risk_profile` is not set).")]))
        if s.sizing.method == "fuzzy":
            fz = self.ws.get("fuzzy", s.sizing.rulebase)
            if fz is not None:
                out.append(self.fuzzy_section(fz, title=f"Sizing rule base {fz.name}"))
        return out

    def strategy_core(self, cs: CheckedStrategy, full: bool) -> list[Section]:
        doc, s = cs.doc, cs.doc.model
        ctx = Context(params=cs.params, signals=frozenset(cs.signals))
        out: list[Section] = []

        def item(label: str, e: ast.Expr, *path: Any) -> FormulaItem:
            return FormulaItem(label, e.to_text(), english(e, ctx), _at(doc, *path))

        if full and s.params:
            rows = []
            for k, p in s.params.items():
                v = cs.params[k]
                inside = p.range is None or p.range[0] <= v <= p.range[1]
                if not inside:
                    self.warn("param_out_of_range", f"param '{k}' of strategy '{s.name}' is {num(v)}, outside its "
                              f"declared range [{num(p.range[0])}, {num(p.range[1])}]", _at(doc, "params", k))
                rows.append([k, num(v), num(p.default), f"{num(p.range[0])} to {num(p.range[1])}" if p.range else "—",
                             "yes" if inside else "NO: outside the range", p.description or ""])
            out.append(Section("Parameters", [Table(["param", "value", "default", "range", "in range", "meaning"], rows)]))
        if full and cs.signals:
            out.append(Section("Signals", [Formulas([item(k, e, "signals", k) for k, e in cs.signals.items()])]))
        rules = []
        for side in ("long", "short"):
            if side in cs.entry:
                rules.append(item(f"enter {side} when", cs.entry[side], "entry", side))
                if side in cs.exit:
                    rules.append(item(f"exit {side} when", cs.exit[side], "exit", side))
        blocks: list[Any] = [Formulas(rules)]
        lone = [side for side in cs.entry if side not in cs.exit]
        if lone:
            blocks.append(Para(f"No exit condition for {' and '.join(lone)}: such positions close only by stops."))
        out.append(Section("Entry and exit", blocks))
        out.append(Section("Sizing", self.sizing_blocks(cs, ctx)))
        if s.hedge is not None:
            h = s.hedge
            out.append(Section("Pair", [Para(
                f"Every position on {s.instrument} comes with the opposite position on {h.instrument}: "
                f"{num(h.ratio)} × its units, opened and closed on the same fills at {h.instrument}'s "
                f"{'open' if s.execution.fill == 'next_open' else 'close'} (as the formulas align it). "
                f"An entry is not taken when {h.instrument} has no price on the fill bar (held as data_gap); an exit "
                f"is never refused (the hedge closes at its last known close). Each leg pays its own costs; the "
                f"trade's P&L, commission and slippage are the pair's, and its row adds both legs' prices and the "
                f"spread ({h.instrument} / {s.instrument} - 1) at entry and exit.")]))
        out.append(Section("Stops", self.stop_blocks(cs, ctx)))
        if full:
            out.append(Section("Costs", self.cost_blocks(cs, ctx)))
        return out

    def sizing_blocks(self, cs: CheckedStrategy, ctx: Context) -> list[Any]:
        s, z = cs.doc.model, cs.doc.model.sizing
        m = z.method
        text = {
            "all_in": "Each entry trades as many units as the cash covers after costs.",
            "fixed_units": f"Each entry trades {num(getattr(z, 'units', 0))} units.",
            "fixed_notional": f"Each entry trades {num(getattr(z, 'notional', 0))} of notional (units = notional / price).",
            "percent_equity": f"Each entry trades {pct(getattr(z, 'percent', 0))} of equity (units = "
                              f"{pct(getattr(z, 'percent', 0))} × equity / price).",
        }.get(m)
        if m == "vol_target":
            text = (f"Each entry is sized to an annualised volatility of {pct(z.target)}: units = equity × "
                    f"min({pct(z.target)} / the {z.lookback}-bar annualised realised volatility of close, "
                    f"{num(z.max_leverage)}) / price, so at most {num(z.max_leverage)}× equity.")
        if m == "fuzzy":
            text = (f"Each entry's size comes from fuzzy rule base '{z.rulebase}': units = its output "
                    f"'{z.output or 'the only output'}' × {pct(z.max_percent)} × equity / price.")
        lot = "Fractional units are allowed." if z.fractional else f"Units are rounded down to a multiple of {num(z.lot_size)}."
        blocks: list[Any] = [Para(f"{text} {lot}")]
        if cs.sizing_inputs:
            blocks.append(Formulas([FormulaItem(f"input {k}", e.to_text(), english(e, ctx), _at(cs.doc, "sizing", "inputs", k))
                                    for k, e in cs.sizing_inputs.items()]))
        lev = {"percent_equity": getattr(z, "percent", 0), "vol_target": getattr(z, "max_leverage", 0),
               "fuzzy": getattr(z, "max_percent", 0), "fixed_notional": getattr(z, "notional", 0) / s.capital}.get(m, 0)
        if lev > 1:
            self.warn("leverage", f"strategy '{s.name}' may trade up to {num(round(lev, 6))}× its equity "
                      f"(sizing {m}): leverage above 1", _at(cs.doc, "sizing"))
        return blocks

    def stop_blocks(self, cs: CheckedStrategy, ctx: Context) -> list[Any]:
        s = cs.doc.model
        words = {"stop_loss": "close the position when price moves against it by {}",
                 "take_profit": "take the profit when price moves in the position's favour by {}",
                 "trailing_stop": "close the position when price falls back from the best price of the trade by {}"}
        items = []
        for key, e in cs.stops.items():
            if isinstance(e, ast.Quantity) and e.unit in ("pct", "bps"):
                dist = f"{e.to_text()} of the entry price"
            else:
                dist = f"{english(e, ctx)} (a price distance measured on the decision bar, fixed when the entry fills)"
            items.append(FormulaItem(key.replace("_", " "), e.to_text(), words[key].format(dist), _at(cs.doc, "stops", key)))
        if s.hedge is not None:  # stops are refused on a pair: the hedge is its protection
            return [Para("No stops: a pair has no intrabar price to stop at; it closes by its exit conditions.")]
        if "stop_loss" not in cs.stops and "trailing_stop" not in cs.stops:
            self.warn("no_stop_loss", f"strategy '{s.name}' has no stop loss (neither stop_loss nor trailing_stop): "
                      "a losing position closes only by its exit condition", _at(cs.doc, "name"))
        return [Formulas(items)] if items else [Para("No stops: positions close only by their exit conditions.")]

    def cost_blocks(self, cs: CheckedStrategy, ctx: Context) -> list[Any]:
        x = cs.doc.model.execution
        slip = cs.slippage
        slip_words = "none" if slip is None else (
            f"{slip.to_text()} of price, against the trader" if isinstance(slip, ast.Quantity)
            else f"a price distance of {english(slip, ctx)}, against the trader")
        rows = [("fill", "next bar's open" if x.fill == "next_open" else "same bar's close"),
                ("commission", "each instrument's venue taker fee (see the universe) of notional per side"
                 if x.commission == "venue" else f"{pct(x.commission)} of notional per side"),
                ("commission per unit", num(x.commission_per_unit)), ("minimum commission", num(x.min_commission)),
                ("slippage", slip_words), ("spread", f"{pct(x.spread)} (half paid on each side)"),
                ("venue increments", "units rounded down to the instrument's lot size, fill prices to its tick "
                 "size against the trader" if x.venue_increments else "not applied (any units and prices)")]
        return [Facts(rows), Para("Commission per order = max(commission × units × price + commission per unit "
                                  "× units, minimum commission).")]

    # ---- universe
    def universe_section(self, uni: SpecDoc | None, traded: str | None = None, title: str = "Instruments",
                         hedge: str | None = None) -> Section:
        if uni is None:
            return Section(title, [Para("universe not loaded")])
        rows = [[i.id + (" (traded)" if i.id == traded else " (hedge leg)" if i.id == hedge else ""), i.symbol, i.venue, i.asset_class, str(i.timeframe),
                 i.data, num(i.tick_size), num(i.lot_size), f"{pct(i.fees.maker)} / {pct(i.fees.taker)}", i.currency]
                for i in uni.model.instruments]
        blocks: list[Any] = [Para(f"Universe {uni.name}: {uni.model.description}".strip().rstrip(":"))]
        blocks.append(Table(["id", "symbol", "venue", "class", "bars", "data file", "tick", "lot",
                             "fees maker / taker", "currency"], rows))
        return Section(title, blocks)

    # ---- risk profile
    def risk_section(self, name: str, user: str) -> Section:
        doc = self.ws.get("risk_profile", name)
        if doc is None:
            return Section("Risk limits", [Para(f"risk profile '{name}' is not loaded")])
        merged, chain = merged_risk_profile(self.p, name)
        for d in chain:
            self.use(d, "risk profile" if d is doc else f"extended by {chain[chain.index(d) - 1].name}")
        cons_doc = self.ws.get("risk_profile", "conservative")
        cons = merged_risk_profile(self.p, "conservative")[0] if cons_doc is not None and name != "conservative" else None
        rows, looser, lev = [], [], []
        for level in LEVELS:
            for lim in LEVEL_FIELDS[level]:
                v = merged["limits"][level].get(lim)
                act = action_for(merged, level, lim)
                explicit = any(k in (merged.get("on_breach") or {}) for k in (lim, f"{level}.{lim}"))
                definer = next((d for d in chain if written(d, ("limits", level, lim))), None)
                vs = "—"
                if cons is not None:
                    cv = cons["limits"][level].get(lim)
                    how = compare_limit(lim, cv, v)
                    vs = {None: "same", "looser": "LOOSER", "tighter": "tighter", "changed": "other units"}[how]
                    if how == "looser":
                        looser.append(f"{level}.{lim} {show(lim, v)} (conservative: {show(lim, cv)})")
                    elif v is not None and compare_action(action_for(cons, level, lim), act) == "looser":
                        vs = "weaker action"
                        looser.append(f"{level}.{lim} on breach: {act} (conservative: {action_for(cons, level, lim)})")
                if isinstance(v, float) and lim.startswith("max_") and "exposure" in lim and v > 1:
                    lev.append(f"{level}.{lim} {pct(v)}")
                rows.append([level, lim, "no limit" if v is None else show(lim, v),
                             "—" if v is None or act is None else f"{act}: {ACTION_WORDS.get(act, act)}" + ("" if explicit else " (default)"),
                             LIMIT_WORDS.get(f"{level}.{lim}", ""),
                             f"{definer.file}:{written(definer, ('limits', level, lim)).line}" if definer else "—", vs])
        chain_text = " extends ".join(d.name for d in chain)
        warn_at = merged["severity"]["warn_at"]
        if looser:
            self.warn("looser_than_conservative", f"risk profile '{name}' (used by {user}) is looser than "
                      f"'conservative' on {len(looser)} limit{'s' * (len(looser) > 1)}: " + "; ".join(looser), _at(doc, "limits"))
        if lev:
            self.warn("leverage", f"risk profile '{name}' (used by {user}) allows exposure above 100% of equity "
                      f"(leverage above 1): {', '.join(lev)}", _at(doc, "limits"))
        facts = Facts([("profile", chain_text), ("daily reset", merged["daily_reset"]),
                       ("severity", f"GREEN below {pct(warn_at)} of a limit, YELLOW from {pct(warn_at)}, RED at 100%"),
                       ("description", merged.get("description") or "")])
        cols = ["level", "limit", "value", "action on breach", "meaning", "set in", "vs conservative"]
        return Section(f"Risk limits ({name})", [facts, Table(cols, rows)])

    # ---- fuzzy rule base
    def fuzzy_section(self, doc: SpecDoc, title: str) -> Section:
        self.use(doc, "rule base")
        m = doc.model
        cf = self.p.fuzzies.get(doc.name)
        terms = {k: term_of(k[1], c) for k, c in (cf.terms.items() if cf else [])}
        facts = Facts([("engine", m.engine), ("and (conjunction)", m.conjunction), ("or (disjunction)", m.disjunction),
                       ("implication", m.implication), ("aggregation", m.aggregation),
                       ("defuzzifier", m.default_defuzzifier()), ("description", m.description.strip())])
        sec = Section(title, [facts])
        for section, label in (("inputs", "Input"), ("outputs", "Output")):
            for var, v in getattr(m, section).items():
                lo, hi = v.range
                blocks: list[Any] = []
                if v.description:
                    blocks.append(Para(v.description))
                if section == "outputs":
                    blocks.append(Para(f"When no rule fires, {var} is {num(v.default) if v.default != 'nan' else 'NaN'}"
                                       + ("; it is kept within its range." if v.lock_range else ".")))
                ts = [terms[(var, t)] for t in v.terms if (var, t) in terms]
                fallback = Table(["term", "shape", "in words", "written"],
                                 [[t.name, t.shape, t.words(), v.terms[t.name]] for t in ts], code=(3,))
                svg = term_svg(ts, lo, hi, var)
                blocks.append(Figure(svg, f"membership of {var} over [{num(lo)}, {num(hi)}]", fallback) if svg
                              else fallback)
                if svg and any(not t.drawable for t in ts):
                    blocks.append(fallback)
                sec.sections.append(Section(f"{label} {var} (range {num(lo)} to {num(hi)})", blocks))
        rule_blocks: list[Any] = []
        for bi, block in enumerate(m.rule_blocks()):
            rules = [r for b, r in (cf.rules if cf else []) if b == bi]
            if m.blocks:
                rule_blocks.append(Para(f"Block {block.name} (activation {block.activation}):"))
            rule_blocks.append(Bullets([rule_sentence(r) for r in rules]))
        cov = uncovered({k: v.range for k, v in m.inputs.items()}, terms, [r for _, r in (cf.rules if cf else [])])
        if cov.skipped:
            rule_blocks.append(Para(f"Coverage not analysed: {cov.skipped}."))
        elif cov.uncovered:
            eg = "; ".join(", ".join(f"{k} = {num(round(x, 6))}" for k, x in e.items()) for e in cov.examples)
            outs = ", ".join(f"{k} = {v.default if v.default == 'nan' else num(v.default)}" for k, v in m.outputs.items())
            msg = (f"rule base '{doc.name}': no rule fires at {cov.uncovered} of {cov.points} sampled input points "
                   f"({pct(round(cov.uncovered / cov.points, 4))}), e.g. {eg}; there the outputs take their defaults ({outs})")
            self.warn("fuzzy_gap", msg, _at(doc, "rules") if m.rules else _at(doc, "blocks"))
            rule_blocks.append(Para("Coverage: " + msg + "."))
        else:
            rule_blocks.append(Para(f"Coverage: at least one rule fires at every one of {cov.points} sampled input points."))
        sec.sections.append(Section("Rules", rule_blocks))
        return sec

    # ---- schedule
    def schedule(self, doc: SpecDoc) -> list[Section]:
        self.use(doc, "explained")
        m = doc.model
        rows, windows = [], []
        subs: list[Section] = []
        for i, slot in enumerate(m.slots, 1):
            tier = fp = "—"
            if slot.strategy:
                sd = self.ws.get("strategy", slot.strategy)
                self.use(sd, f"slot {i}")
                if sd is not None and slot.strategy in self.p.strategies:
                    tier = sd.model.tier
                    fp = compile_strategy(self.p, slot.strategy).fingerprint[:12]
                    n_before = len(self.warnings)
                    core = self.strategy_core(self.p.strategies[slot.strategy], full=True)
                    if tier == "research":
                        self.warn("research_tier", f"slot {i} runs research-tier strategy '{slot.strategy}'", _at(doc, "slots", i - 1))
                    self.warnings[n_before:] = [ExplainWarning(w.code, f"slot {i}: {w.message}", w.where) for w in self.warnings[n_before:]]
                    subs.append(Section(f"Slot {i}: strategy {slot.strategy}", [Para(sd.model.description.strip())], core))
            uni = slot.universe or (self.ws.get("strategy", slot.strategy).model.universe if slot.strategy and self.ws.get("strategy", slot.strategy) else "—")
            rows.append([str(i), f"strategy {slot.strategy}" if slot.strategy else f"schedule {slot.plan}", uni,
                         pct(slot.allocation), num(round(m.capital * slot.allocation, 2)), str(slot.cadence or "every bar"),
                         str(slot.window or "any time"), str(slot.priority), tier, fp])
            windows.append((f"{i} {slot.target}", slot.window))
        facts = Facts([("capital", num(m.capital)), ("risk profile", m.risk_profile or "none"),
                       ("allocation", f"{m.allocation.method}, rebalanced {m.allocation.rebalance}"
                        + (f", {m.allocation.lookback}-bar lookback" if m.allocation.method != "fixed" else "")),
                       ("holidays", ", ".join(m.holidays) or "none"),
                       ("netting", "opposite orders on one instrument at the same open cross internally (no costs "
                                   "on the matched units)" if m.netting else "off: every order pays the venue"),
                       ("source", doc.file)])
        slots = Section("Slots", [Table(["slot", "runs", "universe", "allocation", "capital", "cadence", "window",
                                         "priority", "tier", "fingerprint"], rows)])
        timeline = Section("Timeline (one week, UTC)", [Figure(week_svg(windows), "trading windows of each slot over a week",
                                                               week_table(windows))])
        out = [Section("Overview", [facts, Para(m.description.strip())]), slots, timeline] + subs
        if m.risk_profile:
            out.append(self.risk_section(m.risk_profile, f"schedule '{m.name}'"))
        else:
            self.warn("no_risk_profile", f"schedule '{m.name}' has no risk profile: the plan as a whole runs with no "
                      "risk limits (the documented default)", _at(doc, "name"))
        return out


# ---------------------------------------------------------------- pictures

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


def escape(text: Any) -> str:
    """Text for SVG markup built here (the templates autoescape everything else)."""
    return _html_escape(str(text), quote=True)


def _f(v: float) -> str:
    return f"{v:.1f}"


def term_svg(terms: list[Term], lo: float, hi: float, var: str) -> str:
    """Inline SVG of a variable's drawable terms; '' when none can be drawn."""
    drawn = [t for t in terms if t.drawable]
    if not drawn:
        return ""
    w, h, left, top, bottom = 560, 170, 34, 22, 26
    pw, ph = w - left - 10, h - top - bottom
    ymax = max([1.0] + [t.height for t in drawn])
    sx = lambda x: left + (x - lo) / (hi - lo) * pw  # noqa: E731
    sy = lambda y: top + ph - y / ymax * ph  # noqa: E731
    parts = [f'<svg class="ts-terms" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
             f'aria-label="{escape("membership functions of " + var)}">',
             f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#bbb"/>']
    for i in range(5):
        x = lo + (hi - lo) * i / 4
        parts.append(f'<text x="{_f(sx(x))}" y="{h - 8}" font-size="10" text-anchor="middle">{escape(num(round(x, 6)))}</text>')
    for y in (0.0, 0.5, 1.0):
        parts.append(f'<text x="{left - 4}" y="{_f(sy(y) + 3)}" font-size="10" text-anchor="end">{num(y)}</text>')
    for k, t in enumerate(drawn):
        color = PALETTE[k % len(PALETTE)]
        pts = curve(t, lo, hi)
        path = " ".join(f"{_f(sx(x))},{_f(sy(y))}" for x, y in pts)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        px, py = max(pts, key=lambda p: p[1])
        parts.append(f'<text x="{_f(min(max(sx(px), left + 20), w - 30))}" y="{_f(max(sy(py) - 5, 12))}" font-size="11" '
                     f'fill="{color}" text-anchor="middle">{escape(t.name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def week_svg(windows: list[tuple[str, Any]]) -> str:
    """One row per slot, one column per day; filled where the slot may trade (UTC)."""
    w, row, left, top = 620, 22, 150, 20
    h = top + row * len(windows) + 8
    dw = (w - left - 10) / 7
    parts = [f'<svg class="ts-week" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" aria-label="weekly timeline">']
    for d, name in enumerate(_DAYS):
        parts.append(f'<text x="{_f(left + dw * d + dw / 2)}" y="14" font-size="11" text-anchor="middle">{name}</text>')
        parts.append(f'<line x1="{_f(left + dw * d)}" y1="{top}" x2="{_f(left + dw * d)}" y2="{h - 8}" stroke="#ddd"/>')
    for r, (label, win) in enumerate(windows):
        y = top + r * row
        parts.append(f'<text x="4" y="{y + 15}" font-size="11">{escape(label)}</text>')
        days = range(7) if win is None else win.days
        start, end = (0, 1440) if win is None else (win.start, win.end)
        for d in days:
            x = left + dw * d + dw * start / 1440
            parts.append(f'<rect x="{_f(x)}" y="{y + 3}" width="{_f(dw * (end - start) / 1440)}" height="{row - 6}" '
                         f'fill="{PALETTE[r % len(PALETTE)]}" opacity="0.7"/>')
    parts.append("</svg>")
    return "".join(parts)


def week_table(windows: list[tuple[str, Any]]) -> Table:
    rows = []
    for label, win in windows:
        hours = "any time" if win is None else f"{win.start // 60:02d}:{win.start % 60:02d}-{win.end // 60:02d}:{win.end % 60:02d}"
        rows.append([label] + [hours if win is None or d in win.days else "—" for d in range(7)])
    return Table(["slot"] + list(_DAYS), rows)


# ---------------------------------------------------------------- entry point


def find(project: Project, target: str) -> SpecDoc:
    """A document by 'kind.name' or by name (strategy, schedule, risk_profile, fuzzy, universe, in that order)."""
    ws = project.workspace
    kind, _, name = target.partition(".") if "." in target else ("", "", target)
    for k in ([kind] if kind else _KIND_ORDER):
        doc = ws.get(k, name)
        if doc is not None:
            return doc
    names = sorted({d.name for d in ws} | {d.ref for d in ws})
    raise DslError([Diagnostic("E401", f"no document named '{target}' to explain", None,
                               did_you_mean(target, names) or f"documents: {', '.join(sorted(d.ref for d in ws))}")])


def explain(source: Project | Any, target: str) -> ExplainDoc:
    """Explain one document (and everything it references) of a checked project or workspace."""
    project = as_project(source)
    doc = find(project, target)
    b = _Builder(project)
    if doc.kind == "strategy":
        sections = b.strategy(doc)
    elif doc.kind == "schedule":
        sections = b.schedule(doc)
    elif doc.kind == "risk_profile":
        sections = [b.risk_section(doc.name, f"risk profile '{doc.name}' itself")]
    elif doc.kind == "fuzzy":
        sections = [b.fuzzy_section(doc, title="Rule base")]
    else:
        b.use(doc, "explained")
        sections = [b.universe_section(doc)]
    b.use(doc, "explained")
    b.used.sort(key=lambda u: u[0] is not doc)
    documents = [{"ref": d.ref, "role": role, "file": d.file, "sha256": d.sha256,
                  "fingerprint": fingerprint(canonical_document(project, d)),
                  "tier": getattr(d.model, "tier", "")} for d, role in b.used]
    fp = (b.run_fingerprint if doc.kind == "strategy"
          else fingerprint({"schema": 1, "documents": {d["ref"]: d["fingerprint"] for d in documents}}))
    return ExplainDoc(doc.kind, doc.name, f"{_KIND_TITLE[doc.kind]} {doc.name}",
                      str(getattr(doc.model, "description", "")).strip(), fp, doc.file, b.warnings, sections, documents)
