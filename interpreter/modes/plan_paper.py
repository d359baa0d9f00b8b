"""Paper mode for plans: every slot's instruments fed bar by bar into the plan's own loop.

A plan's bars come from every file its slots read (each instrument once, merged by time).
Bars are gathered per timestamp; when a later timestamp arrives (or the feed ends) the time
is complete and becomes one step of the plan:

1. bars of instruments a slot reads as *other* instruments update those slots' as-of views
   first (as ``paper.open_session`` merges other instruments before the primary);
2. each (slot, instrument) with a bar at that time evaluates it with its stream forms and
   appends it to its market (``PaperSession.ingest``);
3. if any did, the time joins the timeline and ``PlanRun.step`` runs — the loop backtest runs.

So a plan's paper session over the shipped files gives the backtest's result files, and the
journal holds one group per step: the step's bars, then every event, each naming its slot.
"""

from __future__ import annotations

import heapq
from pathlib import Path
from typing import Any, Callable

import numpy as np

from dsl.errors import Diagnostic, DslError
from dsl.graph import Graph
from interpreter.feeds import Bar
from interpreter.modes.paper import PaperSession, refuse_research

NS = 1_000_000_000


class GrowingTimeline:
    """The plan's shared timeline, one time at a time (what ``multi.Timeline`` is for backtest)."""

    def __init__(self, capacity: int = 1024) -> None:
        self._ts = np.zeros(capacity, dtype=np.int64)
        self._n = 0

    @property
    def ts(self) -> np.ndarray:
        return self._ts[:self._n]

    @property
    def n(self) -> int:
        return self._n

    def append(self, ts: int) -> int:
        if self._n == len(self._ts):
            self._ts = np.resize(self._ts, 2 * len(self._ts))
        self._ts[self._n] = ts
        self._n += 1
        return self._n - 1


class PlanSession:
    """Several (strategy, instrument) streams driving one shared loop — a plan's ``PlanRun`` or
    a basket's ``MultiRun``; ``on_bar`` returns the timeline index of a time it completed."""

    def __init__(self, kind: str, target, run, timeline: GrowingTimeline, members, *, policy: str = "fail") -> None:
        """``members``: (graph, instrument, local map to extend, engine builder(market, gidx))."""
        self.kind, self.target = kind, target  # target: the PlanGraph or the strategy's Graph
        self.policy = policy
        self.timeline = timeline
        self.run = run
        self.members: list[tuple[list[int], PaperSession, list[int]]] = []
        for graph, inst, local, build in members:
            _refuse_finer(graph)
            gidx: list[int] = []
            sess = PaperSession(graph, policy=policy, primary=inst,
                                engine=lambda market, build=build, gidx=gidx: build(market, gidx))
            self.members.append((local, sess, gidx))
        self.pending: list[Bar] = []
        self.flushed: list[Bar] = []  # the bars of the last completed time (for the journal)
        self.last_ts: int | None = None

    def on_bar(self, bar: Bar) -> int | None:
        g = None
        if self.pending and bar.ts != self.pending[0].ts:
            g = self.flush()
        self.pending.append(bar)
        return g

    def flush(self) -> int | None:
        """Complete the pending time: returns its timeline index, or None if nothing trades it."""
        bars, self.pending = self.pending, []
        self.flushed = bars
        if not bars:
            return None
        ts = bars[0].ts
        if self.last_ts is not None and ts < self.last_ts:
            raise DslError([Diagnostic("D104", f"{bars[0].where}: bar is older than the session's last time "
                                       "(out of order)", None, "feed each instrument's bars in time order")])
        self.last_ts = ts
        for _, sess, _ in self.members:
            for b in bars:
                if b.instrument != sess.primary:
                    sess.offer(b)
        got = []
        for _, sess, _ in self.members:
            t = None
            for b in bars:
                if b.instrument == sess.primary:
                    t = sess.ingest(b)
            got.append(t)
        if all(t is None for t in got):
            return None
        g = self.timeline.append(ts)
        for (local, _, gidx), t in zip(self.members, got):
            local.append(-1 if t is None else t)
            if t is not None:
                gidx.append(g)
        self.run.step(g)
        return g

    def engines(self) -> list:
        return [sess.engine for _, sess, _ in self.members]

    @property
    def gate(self):
        return self.run.plan_gate if self.kind == "schedule" else self.run.gate

    def equity(self) -> float:
        series = self.run.total_eq if self.kind == "schedule" else self.run.eq
        return float(series[-1]) if series else self.run.capital

    def graphs(self) -> list[tuple[str, Graph]]:
        """(slot name, strategy graph) of what the session runs."""
        if self.kind == "schedule":
            return [(st["name"], g) for st, g in self.target.slots]
        return [(self.target.plan["name"], self.target)]


def _refuse_finer(graph: Graph) -> None:
    """A session on a shared timeline completes each time on its own bars' labels, so a finer
    instrument's later bars inside a bin would arrive after the bin's time was done."""
    from interpreter.feed import instrument_tf_ns, needed_instruments

    tf = int(round(graph.plan["timeframe_seconds"] * NS))
    for inst in sorted(needed_instruments(graph)):
        if instrument_tf_ns(graph.plan, inst) < tf:
            raise DslError([Diagnostic("U101", f"strategy '{graph.plan['name']}' reads '{inst}', whose bars are "
                                       f"finer than its {graph.plan['timeframe']} bars; in a plan or a basket, "
                                       "paper mode needs other instruments at the strategy's timeframe or "
                                       "coarser", None, f"give '{inst}' {graph.plan['timeframe']} data in the "
                                       "universe, or run the strategy on one instrument")])


def plan_session(pg, *, policy: str = "fail", log=None) -> PlanSession:
    from interpreter.feed import run_ids
    from interpreter.scheduler import PlanRun

    timeline = GrowingTimeline()
    run = PlanRun(pg, timeline, log)
    members = []
    for s in run.slots:
        refuse_research(s.graph)
        for inst in run_ids(s.graph.plan):
            s.local.append([])
            members.append((s.graph, inst, s.local[-1],
                            lambda market, gidx, s=s, inst=inst: run.add_engine(s, inst, market, gidx)))
    return PlanSession("schedule", pg, run, timeline, members, policy=policy)


def basket_session(graph: Graph, *, policy: str = "fail", log=None) -> PlanSession:
    """A strategy over several instruments of its universe (``multi.run_multi``'s loop)."""
    from interpreter.feed import run_ids
    from interpreter.multi import MultiRun

    refuse_research(graph)
    timeline = GrowingTimeline()
    run = MultiRun(graph, timeline, log)
    members = []
    for inst in run_ids(graph.plan):
        run.local.append([])
        members.append((graph, inst, run.local[-1], lambda market, gidx, inst=inst: run.add_engine(inst, market, gidx)))
    return PlanSession("basket", graph, run, timeline, members, policy=policy)


def session_feeds(graphs: list[tuple[str, Graph]], policy: str = "fail", speed: float = 0.0):
    """One file feed per instrument any of ``graphs`` reads (each once, by id)."""
    from interpreter import feeds
    from interpreter.feed import needed_instruments, run_ids

    files: dict[str, dict[str, Any]] = {}
    for name, graph in graphs:
        by_id = {i["id"]: i for i in graph.plan["universe"]["instruments"]}
        for inst in sorted(set(run_ids(graph.plan)) | needed_instruments(graph)):
            spec = by_id[inst]
            seen = files.get(inst)
            if seen is not None and Path(seen["data_file"]).resolve() != Path(spec["data_file"]).resolve():
                raise DslError([Diagnostic("U101", f"instrument '{inst}' reads '{seen['data_file']}' in one slot "
                                           f"and '{spec['data_file']}' in slot '{name}'", None,
                                           "a paper session feeds each instrument once: give the universes one "
                                           "file per instrument id, or rename one of them")])
            files[inst] = spec
    return {inst: feeds.FileFeed(spec["data_file"], timeframe=spec.get("timeframe"),
                                 columns=spec.get("columns") or None, policy=policy, instrument=inst, speed=speed)
            for inst, spec in sorted(files.items())}


def merged(feeds: dict[str, Any]):
    """Every feed's bars in time order (instruments in id order at equal times)."""
    ranked = [((b.ts, rank, b) for b in feed) for rank, (_, feed) in enumerate(sorted(feeds.items()))]
    return (b for _, _, b in heapq.merge(*ranked, key=lambda x: (x[0], x[1])))


def open_stepped_session(target, feed=None, *, speed: float = 0.0, policy: str = "fail", log=None):
    """A paper session of a plan (PlanGraph) or of a strategy over several instruments (Graph)."""
    is_plan = not isinstance(target, Graph)
    name = target.plan["name"]
    if feed is not None:
        what = f"schedule '{name}' reads every slot's files" if is_plan else \
            f"strategy '{name}' trades several instruments and reads their universe's files"
        raise DslError([Diagnostic("U101", f"{what}; its paper session takes no --feed or --tail", None,
                                   "drop --feed/--tail (the universes' files feed the session)")])
    session = (plan_session if is_plan else basket_session)(target, policy=policy, log=log)
    feeds = session_feeds(session.graphs(), policy, speed)
    session.feeds = feeds
    session.sources = [{**f.source, "instrument": inst} for inst, f in feeds.items()]
    return session, merged(feeds)


def data_rows(session: PlanSession) -> list[dict[str, Any]]:
    """The data rows a backtest reports, from the files the session read."""
    from interpreter.feed import needed_instruments, run_ids
    from interpreter.modes.backtest import data_rows as rows_of
    from interpreter.scheduler import plan_data_rows

    def bars(graph):
        return {i: session.feeds[i].bars for i in set(run_ids(graph.plan)) | needed_instruments(graph)}

    if session.kind == "schedule":
        return plan_data_rows(session.run.slots, {s.name: bars(s.graph) for s in session.run.slots})
    return rows_of(bars(session.target), run_ids(session.target.plan)[0])


def run_plan_session(session: PlanSession, bars, *, on_bar: Callable | None = None, max_bars: int | None = None):
    from interpreter.modes.paper import feed_bars

    if feed_bars(session, bars, on_bar, max_bars):
        g = session.flush()
        if g is not None and on_bar is not None:
            on_bar(session, g)
    return session.run.result(data_rows(session), session.policy, "paper")


# ---------------------------------------------------------------- journal
def plan_header(pg, session: PlanSession, spec: str | None, version: str) -> dict[str, Any]:
    header = {"fingerprint": pg.fingerprint, "target": pg.target, "spec": spec, "tradespec": version,
              "mode": "paper", "kind": session.kind, "sources": session.sources,
              "documents": [list(d) for d in pg.documents], "policy": session.policy}
    if session.kind == "schedule":
        header["slots"] = [s.name for s in session.run.slots]
    else:
        header["params"] = pg.plan["params"]
        header["instruments"] = [inst for inst, _ in session.run.engines]
    return header


def _group(session: PlanSession, g: int | None, events: list) -> list[tuple[str, dict[str, Any]]]:
    """A time's journal group: its bars (every instrument at that time; with the ``step`` when a
    slot traded it), then what the plan did."""
    from interpreter.modes.live import bar_fields

    step = {} if g is None else {"step": g}
    return [("bar", {**bar_fields(b, None), **step}) for b in session.flushed] + events


def run_plan_journaled(pg, journal_path: str | Path, key: bytes, key_id: str, *, feed=None, speed: float = 0.0,
                       policy: str = "fail", fsync: str = "bar", spec: str | None = None, version: str = "",
                       on_bar: Callable | None = None, stop_after: int | None = None):
    """A plan's journaled paper session (or its resumption); the Result when the feeds end.

    One durable group per completed time: its bars, then every signal, decision, order, fill
    and risk event of every slot (``slot`` / ``instrument`` / ``level: plan`` say whose).
    ``stop_after`` stops after that many new steps, leaving the session open as a crash would.
    """
    from interpreter import journal as jn
    from interpreter.modes.live import BarLog

    path = Path(journal_path)
    log = BarLog()
    session, bars = open_stepped_session(pg, feed, speed=speed, policy=policy, log=log)
    fp12 = pg.fingerprint[:12]
    resumed_at = None
    last_ts = None
    if path.exists() and path.stat().st_size > 0:
        writer, read = jn.open_for_resume(path, key, key_id, fp12, fsync=fsync)
        resumed_at, last_ts = _replay_own(session, log, read.events)
        writer.append("resumed", {"after_step": resumed_at, "steps": session.timeline.n})
        writer.commit()
    else:
        writer = jn.JournalWriter(path, key, key_id, fp12, fsync=fsync)
        writer.start(plan_header(pg, session, spec, version))

    def write(g: int | None) -> None:
        group = _group(session, g, log.take())  # g None: a time no slot trades (bars for other views)
        if group:
            writer.append_many(group)
            writer.commit()

    done = 0
    try:
        for bar in bars:
            if last_ts is not None and bar.ts <= last_ts:
                continue  # already journaled before the restart
            before = session.pending[0].ts if session.pending else None
            g = session.on_bar(bar)
            if before is not None and before != bar.ts:  # a time was completed
                write(g)
                if g is not None:
                    done += 1
                    if on_bar is not None:
                        on_bar(session, g)
                    if stop_after is not None and done >= stop_after:
                        writer.close()
                        return None
        g = session.flush()
        write(g)
        if g is not None and on_bar is not None:
            on_bar(session, g)
        session.run.finish()
        final = log.take()
        if final:
            writer.append_many(final)
        result = session.run.result(data_rows(session), policy, "paper")
        writer.stop({"steps": session.timeline.n, "trades": result.metrics["trade_count"],
                     "final_equity": result.metrics["final_equity"], "resumed_at": resumed_at})
        return result
    finally:
        writer.close()


def recorded_steps(events: list[dict[str, Any]]) -> list[tuple[list[dict[str, Any]], list[tuple[str, str]]]]:
    """The journal as [(bar events of one time, the comparable events written after them)]."""
    from interpreter import journal as jn
    from interpreter.modes.live import _comparable
    from interpreter.modes.replay import _SKIP as skip

    out: list[tuple[list[dict[str, Any]], list[tuple[str, str]]]] = []
    for e in events:
        kind = e.get("type")
        if kind == "bar":
            if not out or out[-1][1] or out[-1][0][0]["ts"] != e["ts"]:
                out.append(([], []))
            out[-1][0].append(e)
        elif out and kind not in skip and kind is not None:
            out[-1][1].append(_comparable(kind, {k: v for k, v in e.items() if k not in jn.RESERVED}))
    return out


def replay_steps(session: PlanSession, log, steps, *, final: bool) -> tuple[int | None, dict[str, Any] | None]:
    """Feed recorded steps through ``session`` and compare what it does with what was recorded;
    returns (last step, the first difference or None). ``final``: the journal was stopped, so
    its last group also holds what the engines wrote at the end of the data."""
    from interpreter.modes.live import _comparable, bar_from_event

    last = None
    for i, (bars, recorded) in enumerate(steps):
        for e in bars:
            session.on_bar(bar_from_event(e))
        g = session.flush()
        if final and i == len(steps) - 1:
            session.run.finish()
        regenerated = [_comparable(k, d) for k, d in log.take()]
        if regenerated != recorded:
            j = next((j for j, (x, y) in enumerate(zip(recorded, regenerated)) if x != y),
                     min(len(recorded), len(regenerated)))
            return last, {"bar": g, "time": bars[0]["ts"], "index": j,
                          "recorded": " ".join(recorded[j]) if j < len(recorded) else "(nothing)",
                          "replayed": " ".join(regenerated[j]) if j < len(regenerated) else "(nothing)",
                          "signals": {}}
        if g is not None:
            last = g
    return last, None


def _replay_own(session: PlanSession, log, events: list[dict[str, Any]]) -> tuple[int | None, int | None]:
    """Rebuild a crashed plan session from its journal; the regenerated events must match."""
    from interpreter.feeds import _ts

    steps = recorded_steps(events)
    last, diff = replay_steps(session, log, steps, final=False)
    if diff is not None:
        raise DslError([Diagnostic("U101", f"resume: the plan's time {diff['time']} does not replay to what the "
                                   "journal recorded", None,
                                   "the spec or the engine changed since the session started; run "
                                   "`tradespec replay JOURNAL` to see the first difference")])
    return last, (_ts(steps[-1][0][0]["ts"]) if steps else None)
