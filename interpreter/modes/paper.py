"""Paper mode: the same graph, bar by bar, through the stream evaluator and the same engine.

For each bar that arrives (``PaperSession.on_bar``):

1. check it against the previous bar (order, duplicate, gap, values) under the data policy;
2. line it up with other instruments (last bar at most one timeframe old) and higher
   timeframes (a bar is visible once it has closed) — the rules of ``interpreter.feed``;
3. evaluate every market node once with its stream form (O(1) per node), append the values;
4. run ``Engine.process`` for the bar — the very code backtest runs — and journal the bar.

Because stream values equal batch values bit for bit and the engine is shared, a paper
session over a file gives the same orders, fills and equity as a backtest of that file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from dsl.errors import Diagnostic, DslError
from dsl.graph import Graph
from interpreter.engine import Engine
from interpreter.feeds import Bar
from interpreter.stream import StreamEvaluator

NS = 1_000_000_000


class GrowingMarket:
    """The engine's ``Market``, grown one bar at a time (capacity doubles)."""

    def __init__(self, graph: Graph, capacity: int = 1024) -> None:
        self.graph = graph
        plan = graph.plan
        self._n = 0
        self._cap = capacity
        self._bars = {k: np.zeros(capacity, dtype=np.int64 if k == "ts" else np.float64)
                      for k in ("ts", "open", "high", "low", "close")}
        self.nodes = [n for n in graph.nodes if not n.trade]
        self._vals: dict[str, np.ndarray] = {}
        self.values: dict[str, Any] = {}
        for node in self.nodes:
            if node.op == "const":
                self.values[node.id] = node.attr("value")
            elif node.vtype != "Multi":
                self._vals[node.id] = np.zeros(capacity, dtype=bool if node.vtype == "BoolSeries" else np.float64)
        self._roles = {role: nid for role, nid in graph.outputs}
        if plan.get("fuzzy"):  # the rule base's output per bar, computed by the session
            self._vals["__fuzzy__"] = np.zeros(capacity, dtype=np.float64)
        if any(n.op == "input" and n.attr("instrument") and n.attr("column") != "age" for n in graph.nodes):
            # another instrument's column can be stale (as ``backtest.stale_mask``)
            self._vals["__stale__"] = np.zeros(capacity, dtype=bool)
        self._stops = {k: spec["node"] for k, spec in plan["stops"].items() if spec["mode"] == "distance"}
        self._slip = plan["slippage"].get("node") if plan["slippage"]["mode"] == "distance" else None
        self._bind()

    def _bind(self) -> None:
        """Point the engine-facing dicts at the current buffers (after growth)."""
        g = self.graph
        self.values.update(self._vals)

        def arr(nid: str) -> np.ndarray:
            v = self.values[nid]
            if isinstance(v, np.ndarray):
                return v
            node = g.node(nid)
            full = np.full(self._cap, v, dtype=bool if node.vtype == "BoolSeries" else np.float64)
            return full

        self.entry, self.exit, self.exit_root = {}, {}, {}
        for side in ("long", "short"):
            nid = self._roles.get(f"entry.{side}")
            if nid is not None:
                self.entry[side] = arr(nid)
            nid = self._roles.get(f"exit.{side}")
            if nid is None:
                self.exit[side], self.exit_root[side] = None, None
            elif g.node(nid).trade:
                self.exit[side], self.exit_root[side] = None, nid
            else:
                self.exit[side], self.exit_root[side] = arr(nid), None
        self.stop_dist = {k: arr(nid) for k, nid in self._stops.items()}
        self.slip = arr(self._slip) if self._slip else None
        vol = self._roles.get("sizing.vol")
        self.sizing_series = {"vol": arr(vol)} if vol else {}
        if "__fuzzy__" in self._vals:
            self.sizing_series["fuzzy"] = self._vals["__fuzzy__"]
        self.stale = self._vals.get("__stale__")
        self.hedge_open = arr(self._roles["hedge.open"]) if "hedge.open" in self._roles else None
        self.hedge_close = arr(self._roles["hedge.close"]) if "hedge.close" in self._roles else None

    @property
    def n(self) -> int:
        return self._n

    @property
    def ts(self) -> np.ndarray:
        return self._bars["ts"][:self._n]

    @property
    def open(self) -> np.ndarray:
        return self._bars["open"][:self._n]

    @property
    def high(self) -> np.ndarray:
        return self._bars["high"][:self._n]

    @property
    def low(self) -> np.ndarray:
        return self._bars["low"][:self._n]

    @property
    def close(self) -> np.ndarray:
        return self._bars["close"][:self._n]

    def append(self, bar: Bar, values: dict[str, Any]) -> int:
        if self._n == self._cap:
            self._cap *= 2
            for k, a in self._bars.items():
                self._bars[k] = np.resize(a, self._cap)
            for k, a in self._vals.items():
                self._vals[k] = np.resize(a, self._cap)
            self._bind()
        t = self._n
        b = self._bars
        b["ts"][t], b["open"][t], b["high"][t], b["low"][t], b["close"][t] = (
            bar.ts, bar.open, bar.high, bar.low, bar.close)
        for nid, buf in self._vals.items():
            buf[t] = values[nid]
        self._n = t + 1
        # constants broadcast into role arrays created by _bind
        return t


class AsOf:
    """Another instrument's column as of each bar (as ``feed.align_asof``): the last bar that
    opened at or before it, if at most ``max_age`` ns old (0: the same timestamp, ``exact``);
    ``age`` is the seconds since that bar whatever its age (as ``feed.asof_age``)."""

    def __init__(self, max_age_ns: int, shift_ns: int = 0) -> None:
        self.max_age = max_age_ns
        self.shift = shift_ns  # a coarser instrument's bars compare by close (``feed.close_shift``)
        self.last_ts: int | None = None
        self.last: dict[str, float] = {}

    def update(self, bar: Bar) -> None:
        self.last_ts = bar.ts + self.shift
        self.last = {"open": bar.open, "high": bar.high, "low": bar.low, "close": bar.close, "volume": bar.volume}

    def value(self, col: str, at: int) -> float:
        if self.last_ts is None or self.last_ts > at:
            return math.nan
        if col == "age":
            return (at - self.last_ts) / 1e9
        if at - self.last_ts > self.max_age:
            return math.nan
        return self.last[col]

    def stale(self, at: int) -> bool:
        """True where a column of this instrument is NaN for want of a fresh bar (``feed.stale_bars``)."""
        return self.last_ts is None or self.last_ts > at or at - self.last_ts > self.max_age


class HigherTimeframe:
    """A coarser bar built from the strategy's bars; visible once it has closed (as ``align_closed``).

    The bin's bars are kept until it is published, then aggregated by the very numpy calls
    ``interpreter.data.resample`` makes (``reduceat`` over the bin: ``fmax``/``fmin`` ignore NaN,
    volume summed by ``np.add`` with NaN as 0). A running ``+`` is not the same: ``reduceat`` adds
    the first volume to numpy's pairwise sum of the rest, which differs in the last bits on about
    half the hourly bars of the shipped BTC file.
    """

    def __init__(self, tf_ns: int, htf_ns: int, offset_ns: int) -> None:
        self.tf, self.htf, self.offset = tf_ns, htf_ns, offset_ns
        self.bin: int | None = None
        self.rows: list[tuple[float, float, float, float, float]] = []
        self.done = False  # the current bin has been published
        self.published: dict[str, float] | None = None

    def _publish(self) -> None:
        if self.done:
            return
        o, h, l_, c, v = (np.array(col, dtype=np.float64) for col in zip(*self.rows))
        whole = [0]  # one segment: the bin
        self.published = {"open": float(o[0]), "high": float(np.fmax.reduceat(h, whole)[0]),
                          "low": float(np.fmin.reduceat(l_, whole)[0]), "close": float(c[-1]),
                          "volume": float(np.add.reduceat(np.nan_to_num(v, nan=0.0), whole)[0])}
        self.done = True

    def update(self, bar: Bar) -> None:
        b = (bar.ts - self.offset) // self.htf
        if self.bin is not None and b != self.bin:
            self._publish()  # the previous bin has ended (its last bar may be missing)
            self.bin = None
        if self.bin is None:
            self.bin, self.rows, self.done = b, [], False
        self.rows.append((bar.open, bar.high, bar.low, bar.close, bar.volume))
        if b * self.htf + self.offset + self.htf <= bar.ts + self.tf:
            self._publish()

    def value(self, col: str) -> float:
        return math.nan if self.published is None else self.published[col]


@dataclass
class ArrivalCheck:
    """Per-bar data checks for paper feeds: the backtest's D1xx checks, one bar at a time."""

    tf_ns: int
    policy: str = "fail"
    last_ts: int | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)

    def check(self, bar: Bar) -> str | None:
        """None if the bar is good; else the D-code. ``fail`` raises; ``drop`` skips the bar."""
        problem = None
        if self.last_ts is not None and bar.ts < self.last_ts:
            problem = ("D104", "bar is older than the previous one (out of order)")
        elif self.last_ts is not None and bar.ts == self.last_ts:
            problem = ("D105", "duplicate timestamp")
        elif bar.open != bar.open or bar.high != bar.high or bar.low != bar.low or bar.close != bar.close:
            problem = ("D106", "missing value (NaN)")
        elif min(bar.open, bar.high, bar.low, bar.close) <= 0:
            problem = ("D107", "non-positive price")
        elif bar.high < bar.low:
            problem = ("D108", "high below low")
        elif bar.high < max(bar.open, bar.close) or bar.low > min(bar.open, bar.close):
            problem = ("D109", "high/low does not contain open/close")
        if problem is None:
            gap = False
            if self.last_ts is not None and bar.ts - self.last_ts > self.tf_ns:
                from interpreter.quality import find_gaps, format_timeframe

                _, missing = find_gaps(np.array([self.last_ts, bar.ts], dtype=np.int64), format_timeframe(self.tf_ns))
                gap = bool(missing[1] > 0)  # the loader's rule: weekends are no gap for daily bars
                if gap:
                    self.findings.append({"code": "D110", "where": bar.where, "ts": bar.ts,
                                          "missing_bars": int(missing[1])})
            self.last_ts = bar.ts
            return "D110" if gap else None
        code, text = problem
        self.findings.append({"code": code, "where": bar.where, "ts": bar.ts, "message": text})
        fatal = self.policy == "fail" or code in ("D104", "D105") and self.policy == "warn"
        if fatal:
            raise DslError([Diagnostic(code, f"{bar.where}: {text}", None,
                                       "fix the feed, or run with --on-bad-data drop to skip such bars")])
        return code if self.policy == "drop" or code in ("D104", "D105") else None


class PaperSession:
    """One strategy, fed bar by bar; ``on_bar`` returns the bar index (or None if skipped)."""

    def __init__(self, graph: Graph, *, policy: str = "fail", log=None, primary: str | None = None,
                 engine=None) -> None:
        """``engine(market) -> Engine``: who builds the engine (a plan's slots share books and gates)."""
        from interpreter.feed import alignment, close_shift, primary_id

        self.graph = graph
        plan = graph.plan
        self.primary = primary or primary_id(plan)
        self.tf_ns = int(round(plan["timeframe_seconds"] * NS))
        self.market = GrowingMarket(graph)
        self.stream = StreamEvaluator(graph)
        self.engine = engine(self.market) if engine is not None else Engine(graph, self.market, plan, log,
                                                                            instrument=self.primary)
        self.check = ArrivalCheck(self.tf_ns, policy)
        self.others: dict[str, AsOf] = {}
        self.waiting: list[tuple[int, int, Bar]] = []  # other instruments' bars not yet visible (heap)
        self._seq = 0
        self.htf: dict[str, HigherTimeframe] = {}
        self.inputs: list[tuple[str, str, Any]] = []
        self.stale_sources: list[AsOf] = []  # instruments whose price columns a formula reads
        from interpreter.data import WEEK_NS, WEEK_OFFSET_NS

        for node in graph.nodes:
            if node.op != "input":
                continue
            col = node.attr("column")
            if node.attr("instrument"):
                inst = node.attr("instrument")
                if inst not in self.others:
                    self.others[inst] = AsOf(alignment(plan, inst)[1], close_shift(plan, inst))
                self.inputs.append((node.key, col, self.others[inst]))
                if col != "age" and self.others[inst] not in self.stale_sources:
                    self.stale_sources.append(self.others[inst])
            elif node.attr("timeframe"):
                htf = int(round(node.attr("timeframe_seconds") * NS))
                key = node.attr("timeframe")
                offset = WEEK_OFFSET_NS if htf % WEEK_NS == 0 else 0
                self.htf.setdefault(key, HigherTimeframe(self.tf_ns, htf, offset))
                self.inputs.append((node.key, col, self.htf[key]))
            else:
                self.inputs.append((node.key, col, None))
        self.skipped = 0
        self.fuzzy = None
        if plan.get("fuzzy"):
            from interpreter.fuzzy_sizing import FuzzySizer

            self.fuzzy = FuzzySizer(plan["fuzzy"])
            self.fuzzy_inputs = {name: graph.output(f"sizing.input.{name}").id for name in self.fuzzy.input_names}

    def on_bar(self, bar: Bar) -> int | None:
        t = self.ingest(bar)
        if t is not None:
            self.engine.process(t)
        return t

    def offer(self, bar: Bar) -> None:
        """Another instrument's bar: it becomes visible when the strategy's bar it lines up with
        is evaluated (a coarser bar by its close, ``feed.close_shift``)."""
        import heapq

        inst = bar.instrument
        if inst not in self.others:
            return
        self._seq += 1
        heapq.heappush(self.waiting, (bar.ts + self.others[inst].shift, self._seq, bar))

    def _reveal(self, ts: int) -> None:
        import heapq

        while self.waiting and self.waiting[0][0] <= ts:
            _, _, b = heapq.heappop(self.waiting)
            self.others[b.instrument].update(b)

    def ingest(self, bar: Bar) -> int | None:
        """Evaluate the bar and append it to the market; the engine has not acted on it yet."""
        if bar.instrument not in (None, self.primary):
            self.offer(bar)
            return None
        code = self.check.check(bar)
        if code is not None and code != "D110":
            self.skipped += 1
            return None
        if self.waiting:
            self._reveal(bar.ts)
        if self.primary in self.others:  # close@<own id>: the bar itself, as batch aligns it
            self.others[self.primary].update(bar)
        for h in self.htf.values():
            h.update(bar)
        row = {"open": bar.open, "high": bar.high, "low": bar.low, "close": bar.close, "volume": bar.volume}
        inputs = {}
        for key, col, src in self.inputs:
            if src is None:
                inputs[key] = row[col]
            elif isinstance(src, AsOf):
                inputs[key] = src.value(col, bar.ts)
            else:
                inputs[key] = src.value(col)
        values = self.stream.step(inputs)
        if self.fuzzy is not None:
            values["__fuzzy__"] = self.fuzzy.one({k: values[nid] for k, nid in self.fuzzy_inputs.items()})
        if self.stale_sources:
            values["__stale__"] = any(src.stale(bar.ts) for src in self.stale_sources)
        t = self.market.append(bar, values)
        eng = self.engine
        if len(eng.hold) < self.market._cap:
            eng.hold = np.resize(eng.hold, self.market._cap)
            eng.hold[t:] = 0
        return t

    def feed(self, bars: Iterable[Bar]) -> None:
        for bar in bars:
            self.on_bar(bar)

    def finish(self) -> None:
        self.engine.finalize()


def refuse_research(graph: Graph) -> None:
    if graph.plan.get("tier") == "research":
        raise DslError([Diagnostic("U101", f"strategy '{graph.plan['name']}' is research tier; research "
                                   "strategies never run in paper mode", None,
                                   "backtest it, or promote it to tier: aux or core after review")])


def open_session(graph: Graph, feed, *, speed: float = 0.0, policy: str = "fail", columns=None, log=None):
    """A session and the merged bar iterator for it (other instruments first at equal times)."""
    import heapq
    import sys
    from pathlib import Path

    from interpreter import feeds
    from interpreter.feed import instruments, needed_instruments, primary_id

    refuse_research(graph)
    plan = graph.plan
    from interpreter.feed import run_ids

    if len(run_ids(plan)) > 1:
        raise DslError([Diagnostic("U101", f"strategy '{plan['name']}' trades several instruments; paper mode "
                                   "runs one instrument per session in this version", None,
                                   "add 'instrument: <id>' to the strategy for a paper session")])
    prim = primary_id(plan)
    by_id = {i["id"]: i for i in instruments(plan)}
    spec = by_id[prim]
    mapping = dict(spec.get("columns") or {})
    mapping.update(columns or {})
    if feed is None or isinstance(feed, (str, Path)):
        if feed == "-":
            primary_feed = feeds.JsonLinesFeed(sys.stdin)
        else:
            path = spec["data_file"] if feed is None else feed
            primary_feed = feeds.FileFeed(path, timeframe=spec.get("timeframe"), columns=mapping or None,
                                          resample_to=plan["timeframe"],
                                          policy=policy, speed=speed)
    else:
        primary_feed = feed
    others = []
    for inst in sorted(needed_instruments(graph) - {prim}):  # close@<own id> reads the primary feed
        o = by_id[inst]
        others.append(feeds.FileFeed(o["data_file"], timeframe=o.get("timeframe"), columns=o.get("columns") or None,
                                     resample_to=plan["timeframe"],
                                     policy=policy, instrument=inst))
    session = PaperSession(graph, policy=policy, log=log, primary=prim)
    session.sources = [getattr(primary_feed, "source", {"kind": "custom"})] + [o.source for o in others]
    session.primary_feed = primary_feed
    session.other_feeds = others
    if not others:
        return session, iter(primary_feed)

    from interpreter.feed import instrument_tf_ns
    from interpreter.quality import parse_timeframe

    def keyed(it, rank, tf):  # bars arrive as they close (a coarser instrument interleaves by its close)
        for b in it:
            yield (b.ts + tf, rank, b)

    def tf_of(o) -> int:
        return parse_timeframe(o.bars.timeframe) if o.bars.timeframe else instrument_tf_ns(plan, o.instrument)

    merged = heapq.merge(*(keyed(o, 0, tf_of(o)) for o in others),
                         keyed(primary_feed, 1, session.tf_ns), key=lambda x: (x[0], x[1]))
    return session, (b for _, _, b in merged)


def feed_bars(session, bars, on_bar=None, max_bars: int | None = None) -> bool:
    """Feed ``bars`` to a session (``on_bar`` after each processed bar or plan step); False when
    ``max_bars`` stopped it before the feed ended."""
    done = 0
    for bar in bars:
        t = session.on_bar(bar)
        if t is not None:
            done += 1
            if on_bar is not None:
                on_bar(session, t)
            if max_bars is not None and done >= max_bars:
                return False
    return True


def run_session(session: PaperSession, bars, *, on_bar=None, max_bars: int | None = None):
    """Feed every bar, then finish and build the result exactly as backtest does."""
    from interpreter.modes.backtest import finish

    feed_bars(session, bars, on_bar, max_bars)
    session.finish()
    return finish(session.graph, session.engine, session_data_rows(session), session.primary, "paper",
                  session.check.policy)


def session_data_rows(session: PaperSession) -> list[dict[str, Any]]:
    """The data rows a backtest of the same file would report (file feeds), or the feed's own."""
    from interpreter import feeds
    from interpreter.modes.backtest import data_rows

    feed = session.primary_feed
    if isinstance(feed, feeds.FileFeed):
        rows = data_rows({session.primary: feed.bars}, session.primary) + _other_rows(session)
        return rows[:1] + sorted(rows[1:], key=lambda r: r["instrument"])
    from interpreter.results import iso

    m = session.market
    gaps = sum(1 for f in session.check.findings if f["code"] == "D110")
    return [{"instrument": session.primary, "source": feed.source.get("path", "feed"), "sha256": None,
             "bars": m.n, "timeframe": session.graph.plan["timeframe"],
             "first": iso(int(m.ts[0])) if m.n else None, "last": iso(int(m.ts[-1])) if m.n else None,
             "gaps": gaps}]


def _other_rows(session: PaperSession) -> list[dict[str, Any]]:
    from interpreter.modes.backtest import data_rows

    feeds_ = getattr(session, "other_feeds", [])
    return data_rows({f.instrument: f.bars for f in feeds_}, session.primary) if feeds_ else []
