"""Checked schedule -> a plan of compiled strategies on one capital base.

Each slot is its strategy's own Graph (on the strategy's universe); the plan adds what the
scheduler needs as plain data: allocation, cadence and trading window per slot (window in
UTC minutes), priority, holidays, the plan-level risk profile, and a fingerprint over every
document the plan uses (nested plans are flattened into their slots, allocations multiplied).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from dsl.check import Project
from dsl.compile import _canonical_doc, compile_strategy, merged_risk_profile, risk_limits
from dsl.errors import Diagnostic, DslError
from dsl.graph import Graph, fingerprint
from dsl.quantities import ZONES, DailyAt


@dataclass(frozen=True)
class PlanGraph:
    target: str  # "schedule.stage4_multi"
    fingerprint: str
    plan: dict[str, Any]
    slots: tuple[tuple[dict[str, Any], Graph], ...]  # (slot settings, the slot strategy's graph)
    documents: tuple[tuple[str, str, str], ...]

    @property
    def short_fingerprint(self) -> str:
        return self.fingerprint[:12]


def _flatten(project: Project, name: str, weight: float, prefix: str, out: list[dict[str, Any]]) -> None:
    doc = project.workspace.get("schedule", name)
    for i, slot in enumerate(doc.model.slots):
        where = f"{name}.slots[{i}]"
        if slot.plan is not None:
            _flatten(project, slot.plan, weight * slot.allocation, f"{prefix}{slot.plan}.", out)
            continue
        strat = project.workspace.get("strategy", slot.strategy)
        if slot.universe is not None and slot.universe != strat.model.universe:
            raise DslError([Diagnostic(
                "E403", f"slot {where} runs strategy '{slot.strategy}' on universe '{slot.universe}', but the "
                f"strategy is written for universe '{strat.model.universe}'", doc.span("slots", i, "universe"),
                f"remove 'universe:' or write universe: {strat.model.universe} (a strategy's formulas are "
                f"checked against its own universe)")])
        if isinstance(slot.cadence, DailyAt) and strat.model.timeframe.seconds >= 86400:
            raise DslError([Diagnostic(
                "E203", f"slot {where}: cadence '{slot.cadence}' picks a time of day, but strategy "
                f"'{slot.strategy}' trades {strat.model.timeframe} bars, which close only at midnight",
                doc.span("slots", i, "cadence"), "remove the cadence (every bar), or use it with intraday bars")])
        window = None
        if slot.window is not None:
            w = slot.window
            off = ZONES[w.zone] * 60
            window = {"days": list(w.days), "start": (w.start - off) % 1440, "end": (w.end - off) % 1440 or 1440,
                      "text": str(w)}
        out.append({"name": f"{prefix}{slot.strategy}",
                    "strategy": slot.strategy, "allocation": weight * slot.allocation,
                    "cadence_seconds": getattr(slot.cadence, "seconds", None),
                    "cadence_daily_minutes": slot.cadence.time.utc_minutes if isinstance(slot.cadence, DailyAt) else None,
                    "cadence": str(slot.cadence) if slot.cadence else None, "window": window,
                    "priority": slot.priority, "source": where})


def compile_schedule(project: Project, name: str) -> PlanGraph:
    ws = project.workspace
    doc = ws.get("schedule", name)
    m = doc.model
    slots: list[dict[str, Any]] = []
    _flatten(project, name, 1.0, "", slots)
    names = [s["name"] for s in slots]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        k = 2
        for s in slots:
            if s["name"] == dup:
                s["name"] = f"{dup}#{k - 1}" if k > 2 else dup
                k += 1
    # higher priority first; equal priorities keep the written order
    order = sorted(range(len(slots)), key=lambda i: (-slots[i]["priority"], i))
    compiled = tuple((slots[i], compile_strategy(project, slots[i]["strategy"])) for i in order)
    risk = None
    used = [doc]
    if m.risk_profile:
        merged, chain = merged_risk_profile(project, m.risk_profile)
        risk = risk_limits(merged)
        # above the slots, the plan's profile governs the whole portfolio: its portfolio-level limits
        risk["limits"] = [lim for lim in risk["limits"] if lim["level"] == "portfolio"]
        used.extend(chain)
    holidays = []
    for i, text in enumerate(m.holidays):
        try:
            holidays.append(date.fromisoformat(text).isoformat())
        except ValueError:
            raise DslError([Diagnostic("E204", f"holiday '{text}' is not a date (YYYY-MM-DD)",
                                       doc.span("holidays", i), "write e.g. 2019-12-25")]) from None
    plan = {"kind": "schedule", "name": m.name, "description": m.description, "capital": m.capital,
            "allocation": m.allocation.model_dump(mode="json"), "risk": risk, "risk_profile_name": m.risk_profile,
            "holidays": sorted(holidays), "netting": m.netting, "slots": [s for s, _ in compiled]}
    canon = {f"{d.kind}.{d.name}": _canonical_doc(d, None, None) for d in used}
    for _, g in compiled:
        canon[g.target] = g.fingerprint
    fp = fingerprint({"schema": 1, "target": f"schedule.{name}", "documents": canon})
    docs = {(f"{d.kind}.{d.name}", d.file, d.sha256) for d in used}
    for _, g in compiled:
        docs.update(g.documents)
    return PlanGraph(f"schedule.{name}", fp, plan, compiled, tuple(sorted(docs)))
