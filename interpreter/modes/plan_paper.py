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
    """A plan fed bar by bar; ``on_bar`` returns the timeline index of a step it completed."""

    def __init__(self, pg, *, policy: str = "fail", log=None) -> None:
        from interpreter.feed import run_ids
        from interpreter.scheduler import PlanRun

        self.pg = pg
        self.policy = policy
        self.timeline = GrowingTimeline()
        self.run = PlanRun(pg, self.timeline, log)
        self.members: list[tuple[Any, int, PaperSession, list[int]]] = []
        for s in self.run.slots:
            refuse_research(s.graph)
            for inst in run_ids(s.graph.plan):
                gidx: list[int] = []

                def build(market, s=s, inst=inst, gidx=gidx):
                    return self.run.add_engine(s, inst, market, gidx)

                sess = PaperSession(s.graph, policy=policy, primary=inst, engine=build)
                s.local.append([])
                self.members.append((s, len(s.local) - 1, sess, gidx))
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
        """Complete the pending time: returns its timeline index, or None if no slot trades it."""
        bars, self.pending = self.pending, []
        self.flushed = bars
        if not bars:
            return None
        ts = bars[0].ts
        if self.last_ts is not None and ts < self.last_ts:
            raise DslError([Diagnostic("D104", f"{bars[0].where}: bar is older than the plan's last time "
                                       "(out of order)", None, "feed each instrument's bars in time order")])
        self.last_ts = ts
        for _, _, sess, _ in self.members:
            for b in bars:
                if b.instrument != sess.primary and b.instrument in sess.others:
                    sess.others[b.instrument].update(b)
        got = []
        for _, _, sess, _ in self.members:
            t = None
            for b in bars:
                if b.instrument == sess.primary:
                    t = sess.ingest(b)
            got.append(t)
        if all(t is None for t in got):
            return None
        g = self.timeline.append(ts)
        for (s, k, _, gidx), t in zip(self.members, got):
            s.local[k].append(-1 if t is None else t)
            if t is not None:
                gidx.append(g)
        self.run.step(g)
        return g

    def finish(self) -> int | None:
        g = self.flush()
        self.run.finish()
        return g

    def equity(self) -> float:
        return float(self.run.total_eq[-1]) if self.run.total_eq else self.run.capital


def plan_feeds(pg, policy: str = "fail", speed: float = 0.0):
    """One file feed per instrument any slot reads, and the slots' data as backtest loads it."""
    from interpreter import feeds
    from interpreter.feed import needed_instruments, run_ids

    files: dict[str, dict[str, Any]] = {}
    for settings, graph in pg.slots:
        by_id = {i["id"]: i for i in graph.plan["universe"]["instruments"]}
        for inst in sorted(set(run_ids(graph.plan)) | needed_instruments(graph)):
            spec = by_id[inst]
            seen = files.get(inst)
            if seen is not None and Path(seen["data_file"]).resolve() != Path(spec["data_file"]).resolve():
                raise DslError([Diagnostic("U101", f"instrument '{inst}' reads '{seen['data_file']}' in one slot "
                                           f"and '{spec['data_file']}' in slot '{settings['name']}'", None,
                                           "a paper session feeds each instrument once: give the universes one "
                                           "file per instrument id, or rename one of them")])
            files[inst] = spec
    out = {inst: feeds.FileFeed(spec["data_file"], timeframe=spec.get("timeframe"),
                                columns=spec.get("columns") or None, policy=policy, instrument=inst, speed=speed)
           for inst, spec in sorted(files.items())}
    return out


def merged(feeds: dict[str, Any]):
    """Every feed's bars in time order (instruments in id order at equal times)."""
    ranked = [((b.ts, rank, b) for b in feed) for rank, (_, feed) in enumerate(sorted(feeds.items()))]
    return (b for _, _, b in heapq.merge(*ranked, key=lambda x: (x[0], x[1])))


def open_plan_session(pg, feed=None, *, speed: float = 0.0, policy: str = "fail", log=None):
    if feed is not None:
        raise DslError([Diagnostic("U101", f"schedule '{pg.plan['name']}' reads every slot's files; a paper "
                                   "session of a plan takes no --feed or --tail", None,
                                   "drop --feed/--tail (the universes' files feed the plan)")])
    feeds = plan_feeds(pg, policy, speed)
    session = PlanSession(pg, policy=policy, log=log)
    session.feeds = feeds
    session.sources = [{**f.source, "instrument": inst} for inst, f in feeds.items()]
    return session, merged(feeds)


def data_rows(session: PlanSession) -> list[dict[str, Any]]:
    """The data rows a backtest of the plan reports, from the files the session read."""
    from interpreter.feed import needed_instruments, run_ids
    from interpreter.scheduler import plan_data_rows

    bars = {s.name: {i: session.feeds[i].bars for i in set(run_ids(s.graph.plan)) | needed_instruments(s.graph)}
            for s in session.run.slots}
    return plan_data_rows(session.run.slots, bars)


def run_plan_session(session: PlanSession, bars, *, on_bar: Callable | None = None, max_bars: int | None = None):
    done = 0
    for bar in bars:
        g = session.on_bar(bar)
        if g is not None:
            done += 1
            if on_bar is not None:
                on_bar(session, g)
            if max_bars is not None and done >= max_bars:
                break
    else:
        g = session.flush()
        if g is not None and on_bar is not None:
            on_bar(session, g)
    return session.run.result(data_rows(session), session.policy, "paper")


# ---------------------------------------------------------------- journal
def plan_header(pg, session: PlanSession, spec: str | None, version: str) -> dict[str, Any]:
    return {"fingerprint": pg.fingerprint, "target": pg.target, "spec": spec, "tradespec": version,
            "mode": "paper", "kind": "schedule", "slots": [s.name for s in session.run.slots],
            "sources": session.sources, "documents": [list(d) for d in pg.documents], "policy": session.policy}


def _group(session: PlanSession, g: int, events: list) -> list[tuple[str, dict[str, Any]]]:
    """A step's journal group: its bars (every instrument at that time), then what the plan did."""
    from interpreter.modes.live import bar_fields

    group = [("bar", {**bar_fields(b, None), "step": g}) for b in session.flushed]
    return group + events


def run_plan_journaled(pg, journal_path: str | Path, key: bytes, key_id: str, *, feed=None, speed: float = 0.0,
                       policy: str = "fail", fsync: str = "bar", spec: str | None = None, version: str = "",
                       on_bar: Callable | None = None, stop_after: int | None = None):
    """A plan's journaled paper session (or its resumption); the Result when the feeds end.

    One durable group per completed time: its bars, then every signal, decision, order, fill
    and risk event of every slot (``slot`` / ``instrument`` / ``level: plan`` say whose).
    ``stop_after`` stops after that many new steps, leaving the session open as a crash would.
    """
    from interpreter import journal as jn
    from interpreter.modes.live import BarLog, bar_fields

    path = Path(journal_path)
    log = BarLog()
    session, bars = open_plan_session(pg, feed, speed=speed, policy=policy, log=log)
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
        events = log.take()
        if g is None:  # a time no slot trades: its bars only update other-instrument views
            if session.flushed:
                writer.append_many([("bar", bar_fields(b, None)) for b in session.flushed])
                writer.commit()
            return
        writer.append_many(_group(session, g, events))
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

    out: list[tuple[list[dict[str, Any]], list[tuple[str, str]]]] = []
    skip = ("snapshot", "data_issue", "resumed", "recovered", "session_start", "session_stop")
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


def _ts(text: str) -> int:
    from interpreter.feeds import _ts as parse

    return parse(text)


def _replay_own(session: PlanSession, log, events: list[dict[str, Any]]) -> tuple[int | None, int | None]:
    """Rebuild a crashed plan session from its journal; the regenerated events must match."""
    steps = recorded_steps(events)
    last, diff = replay_steps(session, log, steps, final=False)
    if diff is not None:
        raise DslError([Diagnostic("U101", f"resume: the plan's time {diff['time']} does not replay to what the "
                                   "journal recorded", None,
                                   "the spec or the engine changed since the session started; run "
                                   "`tradespec replay JOURNAL` to see the first difference")])
    return last, (_ts(steps[-1][0][0]["ts"]) if steps else None)
