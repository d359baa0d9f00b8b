"""A journaled paper session: every bar, and everything the engine did on it, as one group.

The bar is the unit of durability. For each bar the session evaluates the graph and runs the
engine, collecting its events (signal, decision, risk check, order, fill, risk event, daily
reset); then the group ``[bar, events..., snapshot?]`` is written with one write and made
durable (fsync per the policy) before the next bar is read. A crash before that point loses
the bar entirely — nothing of it was published — and a restart re-reads it from the feed.

Restart = replay of the journal's own bars through a fresh engine (crash-only recovery):
the regenerated events must equal the recorded ones bar for bar, so the state at the last
journaled bar is exactly the state before the crash; the feed then resumes after that bar.
No bar is processed twice into the journal, no order is duplicated, no fill is lost.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

from dsl.errors import Diagnostic, DslError
from dsl.graph import Graph
from interpreter import journal as jn
from interpreter.feeds import Bar
from interpreter.modes.paper import PaperSession, open_session, session_data_rows

SNAPSHOT_EVERY = 100  # bars between portfolio snapshots in the journal


class BarLog:
    """The engine's log during a session: events of the current bar, collected for one write."""

    def __init__(self) -> None:
        self.pending: list[tuple[str, dict[str, Any]]] = []

    def add(self, kind: str, bar: int, data: dict[str, Any]) -> None:
        self.pending.append((kind, {"bar": bar, **data}))

    def take(self) -> list[tuple[str, dict[str, Any]]]:
        out, self.pending = self.pending, []
        return out


def bar_fields(bar: Bar, t: int) -> dict[str, Any]:
    from interpreter.results import iso

    return {"bar": t, "ts": iso(bar.ts), "open": bar.open, "high": bar.high, "low": bar.low, "close": bar.close,
            "volume": bar.volume, "instrument": bar.instrument}


def bar_from_event(e: dict[str, Any]) -> Bar:
    from interpreter.feeds import _ts

    nan = math.nan
    return Bar(_ts(e["ts"]), *(nan if e.get(k) is None else float(e[k]) for k in ("open", "high", "low", "close")),
               nan if e.get("volume") is None else float(e["volume"]), e.get("instrument"), "journal")


def _comparable(kind: str, data: dict[str, Any]) -> tuple[str, str]:
    import json

    from interpreter.decisions import _clean

    return kind, json.dumps(_clean(data), sort_keys=True, allow_nan=False)


def snapshot(session: PaperSession, t: int) -> dict[str, Any]:
    eng = session.engine
    return {"bar": t, "cash": eng.cash, "units": eng.units, "equity": eng.cash + eng.value_at(t)[0],
            "severity": eng.gate.overall() if eng.gate.active else "GREEN", "trades": len(eng.trades)}


def session_header(graph: Graph, session: PaperSession, spec: str | None, version: str) -> dict[str, Any]:
    return {"fingerprint": graph.fingerprint, "target": graph.target, "spec": spec, "tradespec": version,
            "mode": "paper", "params": graph.plan["params"], "instrument": session.primary,
            "sources": session.sources, "documents": [list(d) for d in graph.documents],
            "policy": session.check.policy, "timeframe": graph.plan["timeframe"]}


def run_journaled(graph: Graph, journal_path: str | Path, key: bytes, key_id: str, *, feed=None, speed: float = 0.0,
                  policy: str = "fail", columns=None, fsync: str = "bar", spec: str | None = None,
                  version: str = "", on_bar: Callable[[PaperSession, int], None] | None = None,
                  stop_after: int | None = None):
    """Run (or resume) a paper session with its journal; returns the Result when the feed ends.

    ``stop_after``: stop reading the feed after this many new bars (for tests and operators),
    leaving the session open (no session_stop), exactly as a crash would, but cleanly.
    """
    from interpreter.modes.backtest import finish

    path = Path(journal_path)
    log = BarLog()
    session, bars = open_session(graph, feed, speed=speed, policy=policy, columns=columns, log=log)
    fp12 = graph.fingerprint[:12]
    resumed_at = None
    if path.exists() and path.stat().st_size > 0:
        writer, read = jn.open_for_resume(path, key, key_id, fp12, fsync=fsync)
        resumed_at = _replay_own_journal(session, log, read.events)
        writer.append("resumed", {"after_bar": resumed_at, "bars": session.market.n})
        writer.commit()
    else:
        writer = jn.JournalWriter(path, key, key_id, fp12, fsync=fsync)
        writer.start(session_header(graph, session, spec, version))
    last_ts, at_last = session.journaled if resumed_at is not None else (None, set())
    done = 0
    try:
        for bar in bars:
            if last_ts is not None and (bar.ts < last_ts or bar.ts == last_ts and bar.instrument in at_last):
                continue  # already journaled before the restart
            if bar.instrument not in (None, session.primary):
                session.on_bar(bar)
                writer.append("bar", bar_fields(bar, None))
                continue
            t = session.on_bar(bar)
            events = log.take()
            if t is None:
                finding = session.check.findings[-1] if session.check.findings else {}
                writer.append("data_issue", {k: v for k, v in finding.items()})
                continue
            group = [("bar", bar_fields(bar, t)), *events]
            gaps = [f for f in session.check.findings if f.get("ts") == bar.ts and f["code"] == "D110"]
            if gaps:
                group.insert(1, ("data_issue", dict(gaps[-1])))
            if (t + 1) % SNAPSHOT_EVERY == 0:
                group.append(("snapshot", snapshot(session, t)))
            writer.append_many(group)
            writer.commit()
            done += 1
            if on_bar is not None:
                on_bar(session, t)
            if stop_after is not None and done >= stop_after:
                writer.close()
                return None
        session.finish()
        final = log.take()
        if final:
            writer.append_many(final)
        result = finish(graph, session.engine, session_data_rows(session), session.primary, "paper", policy)
        writer.stop({"bars": session.market.n, "trades": result.metrics["trade_count"],
                     "final_equity": result.metrics["final_equity"], "resumed_at": resumed_at})
        return result
    finally:
        writer.close()


def _replay_own_journal(session: PaperSession, log: BarLog, events: list[dict[str, Any]]) -> int | None:
    """Rebuild the session's state from its journal; the regenerated events must match.

    Sets ``session.journaled`` = (last bar timestamp, instruments journaled at it) so the feed
    resumes right after what the journal holds.
    """
    from interpreter.feeds import _ts

    current: list[Any] = []  # [bar event, recorded events] of the primary bar being rebuilt
    last_bar = None
    last_ts, at_last = None, set()

    def settle() -> None:
        nonlocal last_bar
        if not current:
            return
        bar_event, recorded = current
        t = session.on_bar(bar_from_event(bar_event))
        regenerated = [_comparable(k, d) for k, d in log.take()]
        if t is None or regenerated != recorded:
            raise DslError([Diagnostic("U101", f"resume: bar {bar_event.get('bar')} ({bar_event.get('ts')}) does "
                                       "not replay to what the journal recorded", None,
                                       "the spec or the engine changed since the session started; run "
                                       "`tradespec replay JOURNAL --verify` to see the first difference")])
        last_bar = t
        current.clear()

    for e in events:
        kind = e.get("type")
        if kind == "bar":
            settle()
            ts = _ts(e["ts"])
            if last_ts is None or ts > last_ts:
                last_ts, at_last = ts, set()
            at_last.add(e.get("instrument"))
            if e.get("instrument") not in (None, session.primary):
                session.on_bar(bar_from_event(e))
            else:
                current.extend([e, []])
        elif current and kind not in ("snapshot", "data_issue", "resumed", "recovered", "session_start"):
            data = {k: v for k, v in e.items() if k not in jn.RESERVED}
            current[1].append(_comparable(kind, data))
    settle()
    session.journaled = (last_ts, at_last)
    return last_bar
