"""Replay: re-run a journal's recorded bars and prove the same decisions come out — or show
what a changed spec would have decided instead (what-if).

``verify_replay`` compiles the journal's spec (its fingerprint must match the journal's, or
the report names the documents whose files changed), feeds the recorded bars to a fresh
session and compares every regenerated event with the recorded one; the first difference is
reported with both versions and the signal values of that bar.

``what_if`` feeds the same bars to another spec and lists the bars whose decision differs
(entry or exit ordered, or held and why) between the journal and the new spec.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dsl.graph import Graph
from interpreter import journal as jn
from interpreter.modes.live import BarLog, _comparable, bar_from_event
from interpreter.modes.paper import PaperSession

_SKIP = ("snapshot", "data_issue", "resumed", "recovered", "session_start", "session_stop")


@dataclass
class Recorded:
    header: dict[str, Any]
    bars: list[dict[str, Any]] = field(default_factory=list)  # bar events in order (all instruments)
    events: dict[int, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)  # primary bar -> events
    finals: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # written at session end


def read_recorded(path, key) -> tuple[Recorded, jn.JournalRead]:
    read = jn.read_journal(path, key)
    header = next((e for e in read.events if e.get("type") == "session_start"), {})
    rec = Recorded(header)
    current = None
    for e in read.events:
        kind = e.get("type")
        if kind == "bar":
            rec.bars.append(e)
            if e.get("bar") is not None:
                current = int(e["bar"])
                rec.events[current] = []
            continue
        if kind in _SKIP or kind is None:
            continue
        data = {k: v for k, v in e.items() if k not in jn.RESERVED}
        if current is None:
            continue
        rec.events[current].append((kind, data))
    return rec, read


def _run(graph: Graph, rec: Recorded) -> tuple[PaperSession, dict[int, list[tuple[str, dict[str, Any]]]]]:
    log = BarLog()
    session = PaperSession(graph, policy=rec.header.get("policy", "fail"), log=log)
    out: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for e in rec.bars:
        t = session.on_bar(bar_from_event(e))
        if t is not None:
            out[t] = log.take()
    session.finish()
    last = max(out) if out else None
    if last is not None:
        out[last] = out[last] + log.take()
    return session, out


@dataclass
class ReplayReport:
    identical: bool
    bars: int
    events: int
    fingerprint_ok: bool
    changed_documents: list[str]
    first_difference: dict[str, Any] | None = None
    unit: str = "bars"  # a plan's or a basket's journal counts the times of its shared timeline

    def render(self) -> str:
        if not self.fingerprint_ok:
            docs = ", ".join(self.changed_documents) or "(the documents' files are unchanged; the compiled meaning differs)"
            return (f"cannot verify: the spec's fingerprint differs from the journal's; changed: {docs}\n"
                    "replay it against the new spec with --spec to see what would differ")
        if self.identical:
            return f"identical: {self.bars} {self.unit}, {self.events} events replayed to the same decisions"
        d = self.first_difference
        lines = [f"diverged at {self.unit[:-1]} {d['bar']} ({d['time']}), event {d['index']}:",
                 f"  recorded:   {d['recorded']}", f"  replayed:   {d['replayed']}"]
        if d.get("signals"):
            lines.append("  signals: " + ", ".join(f"{k} = {v}" for k, v in d["signals"].items()))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"identical": self.identical, "bars": self.bars, "events": self.events,
                "fingerprint_ok": self.fingerprint_ok, "changed_documents": self.changed_documents,
                "first_difference": self.first_difference}


def changed_documents(graph: Graph, header: dict[str, Any]) -> list[str]:
    then = {ref: sha for ref, _file, sha in header.get("documents", [])}
    now = {ref: sha for ref, _file, sha in graph.documents}
    return sorted(ref for ref in set(then) | set(now) if then.get(ref) != now.get(ref))


def verify_replay(graph: Graph, rec: Recorded) -> ReplayReport:
    from interpreter.results import iso

    fp_ok = graph.fingerprint == rec.header.get("fingerprint")
    if not fp_ok:
        return ReplayReport(False, len(rec.events), 0, False, changed_documents(graph, rec.header))
    session, replayed = _run(graph, rec)
    total = 0
    for t in sorted(set(rec.events) | set(replayed)):
        a = [_comparable(k, d) for k, d in rec.events.get(t, [])]
        b = [_comparable(k, d) for k, d in replayed.get(t, [])]
        total += len(a)
        if a != b:
            i = next((j for j, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            signals = {name: session.engine._value(nid, t) for name, nid in session.engine.signal_ids} \
                if t < session.market.n else {}
            return ReplayReport(False, len(rec.events), total, True, [], {
                "bar": t, "time": iso(int(session.market.ts[t])) if t < session.market.n else None, "index": i,
                "recorded": " ".join(a[i]) if i < len(a) else "(nothing)",
                "replayed": " ".join(b[i]) if i < len(b) else "(nothing)", "signals": signals})
    return ReplayReport(True, len(rec.events), total, True, [])


def _decision(events: list[tuple[str, dict[str, Any]]]) -> str:
    """What was decided on a bar, in words: orders placed, or the hold reason."""
    parts = []
    for kind, d in events:
        if kind == "order":
            parts.append(f"{d.get('action')} {d.get('side')} ({d.get('reason')})")
        elif kind == "decision":
            detail = f": {d['detail']}" if d.get("detail") else ""
            parts.append(f"hold {d.get('reason')}{detail}")
    return "; ".join(parts) or "-"


def what_if(graph: Graph, rec: Recorded) -> list[dict[str, Any]]:
    """Bars whose decision differs between the journal and ``graph`` (a changed spec)."""
    from interpreter.results import iso

    session, replayed = _run(graph, rec)
    rows = []
    for t in sorted(set(rec.events) | set(replayed)):
        old, new = _decision(rec.events.get(t, [])), _decision(replayed.get(t, []))
        if old != new:
            why = [d for k, d in replayed.get(t, []) if k == "risk_event"]
            rows.append({"bar": t, "time": iso(int(session.market.ts[t])) if t < session.market.n else None,
                         "old": old, "new": new,
                         "why": "; ".join(f"{w['limit']} {w['action']}" for w in why) or _why(session, t)})
    return rows


def _why(session: PaperSession, t: int) -> str:
    if t >= session.market.n:
        return ""
    vals = {name: session.engine._value(nid, t) for name, nid in session.engine.signal_ids}
    text = ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v}" for k, v in vals.items())
    return f"signals: {text}" if text else ""


def render_what_if(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "no decision would differ\n"
    w = [max(len(str(r[k])) for r in rows) for k in ("time", "old", "new")]
    out = [f"{'time':<{w[0]}}  {'old decision':<{w[1]}}  {'new decision':<{w[2]}}  why"]
    for r in rows:
        out.append(f"{r['time']:<{w[0]}}  {r['old']:<{w[1]}}  {r['new']:<{w[2]}}  {r['why']}")
    out.append(f"{len(rows)} bar(s) would decide differently")
    return "\n".join(out) + "\n"


def replay_result(graph: Graph, rec: Recorded):
    """The Result of the recorded bars through ``graph`` (identical to the session's own)."""
    from interpreter.modes.backtest import finish

    session, _ = _run(graph, rec)
    session.primary_feed = None
    rows = session_data_rows_from_header(session, rec)
    return finish(graph, session.engine, rows, session.primary, "replay", rec.header.get("policy", "fail"))


def session_data_rows_from_header(session: PaperSession, rec: Recorded) -> list[dict[str, Any]]:
    """Data rows as the session reported them (its sources), recomputed from the replayed bars."""
    from interpreter.results import iso

    m = session.market
    src = (rec.header.get("sources") or [{}])[0]
    return [{"instrument": session.primary, "source": src.get("path", "journal"), "sha256": src.get("sha256"),
             "bars": m.n, "timeframe": rec.header.get("timeframe"),
             "first": iso(int(m.ts[0])) if m.n else None, "last": iso(int(m.ts[-1])) if m.n else None,
             "gaps": sum(1 for f in session.check.findings if f["code"] == "D110")}]


def verify_plan_replay(pg, header: dict[str, Any], events: list[dict[str, Any]], *, results: bool = False):
    """A plan's (or basket's) journal events replayed time by time through a fresh session."""
    from interpreter.modes import plan_paper as pp

    steps = pp.recorded_steps(events)
    if pg.fingerprint != header.get("fingerprint"):
        report = ReplayReport(False, len(steps), 0, False, changed_documents(pg, header))
        return (report, None) if results else report
    log = BarLog()
    make = pp.plan_session if header.get("kind") == "schedule" else pp.basket_session
    session = make(pg, policy=header.get("policy", "fail"), log=log)
    stopped = any(e.get("type") == "session_stop" for e in events)
    _, diff = pp.replay_steps(session, log, steps, final=stopped)
    events = sum(len(r) for _, r in steps)
    report = ReplayReport(diff is None, session.timeline.n, events, True, [], diff, unit="times")
    if not results:
        return report
    session.feeds = pp.session_feeds(session.graphs(), header.get("policy", "fail"))
    return report, session.run.result(pp.data_rows(session), header.get("policy", "fail"), "replay")
