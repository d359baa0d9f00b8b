"""A strategy over every instrument of its universe: one engine per instrument, one book.

Each instrument has its own graph values (the strategy's formulas evaluated on its bars),
its own position, stops and pending orders; the instruments share the cash (``Book``) and
the risk gate, so portfolio limits — gross and net exposure, open positions, daily loss,
drawdown — see the whole portfolio. The shared timeline is the union of the instruments'
bar times; at each time, in universe order:

1. the daily reset (risk gate);
2. each instrument with a bar at that time: fills at its open, then its stops;
3. the portfolio is marked (every instrument at its last close) and the loss limits act;
4. each instrument with a bar: its decisions at the close (entries ask the gate, which
   counts positions and pending entries across instruments).

Every time of the shared timeline is processed (no event skipping), so backtest and paper
orders are the same by construction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from dsl.graph import Graph
from interpreter import metrics as metrics_mod
from interpreter import results
from interpreter.batch import evaluate
from interpreter.data import LoadedBars
from interpreter.decisions import TaggedLog
from interpreter.engine import Book, Engine
from interpreter.feed import market_inputs, run_ids
from interpreter.reasons import HoldReason
from interpreter.risk import RiskGate


class Timeline:
    def __init__(self, ts: np.ndarray) -> None:
        self.ts = ts

    @property
    def n(self) -> int:
        return len(self.ts)


def run_multi(graph: Graph, bars: dict[str, LoadedBars], *, log=None, policy: str = "fail") -> results.Result:
    from interpreter.modes.backtest import build_market, data_rows, stale_mask

    ids = run_ids(graph.plan)
    timeline = Timeline(np.unique(np.concatenate([bars[i].ts for i in ids])))
    run = MultiRun(graph, timeline, log)
    n = timeline.n
    for inst in ids:
        b = bars[inst]
        values = evaluate(graph, market_inputs(graph, bars, inst), len(b))
        market = build_market(graph, b, values)
        market.stale = stale_mask(graph, bars, inst)
        gidx = np.searchsorted(timeline.ts, b.ts)
        run.add_engine(inst, market, gidx)
        row = np.full(n, -1, dtype=np.int64)  # which local bar the instrument has at each shared time
        row[gidx] = np.arange(len(gidx))
        run.local.append(row.tolist())
    for g in range(n):
        run.step(g)
    res = run.result(data_rows(bars, ids[0]), policy, "backtest")
    res.decisions = log
    return res


class MultiRun:
    """One strategy over several instruments, one time of the shared timeline at a time
    (backtest steps through it, paper mode as bars arrive). ``local[k][g]``: engine k's bar at
    time g, or -1."""

    def __init__(self, graph: Graph, timeline, log=None) -> None:
        self.graph = graph
        self.timeline = timeline
        self.log = log
        self.capital = float(graph.plan["capital"])
        self.gate = RiskGate(graph.plan.get("risk"), timeline, self.capital, log)
        self.book = Book(self.capital)
        self.engines: list[tuple[str, Engine]] = []
        self.local: list[list[int]] = []
        self.eq: list[float] = []
        self.cash: list[float] = []
        self.gross: list[float] = []

    def add_engine(self, inst: str, market, gidx) -> Engine:
        view = TaggedLog(self.log, {"instrument": inst}, gidx) if self.log is not None else None
        eng = Engine(self.graph, market, self.graph.plan, view, book=self.book, gate=self.gate, gidx=gidx,
                     instrument=inst)
        self.engines.append((inst, eng))
        return eng

    def step(self, g: int) -> None:
        gate, book, engines, local, eq = self.gate, self.book, self.engines, self.local, self.eq
        if gate.active:
            gate.roll(g, lambda b: float(eq[b]) if b >= 0 else self.capital)
        active = [(eng, local[k][g]) for k, (_, eng) in enumerate(engines) if local[k][g] >= 0]
        for eng, t in active:
            eng.open_phase(t)
        value = gross = 0.0
        for _, eng in engines:
            if eng.units:
                v, g_ = eng.marked()
                value += v
                gross += g_
        equity = book.cash + value
        if gate.monitors and gate.mark(g, equity, gross, value) == "flatten":
            for k, (_, eng) in enumerate(engines):
                if eng.trade is not None:
                    last = local[k][g] if local[k][g] >= 0 else int(np.searchsorted(eng.gidx, g, side="right") - 1)
                    eng._flatten(last)
        for eng, t in active:
            eng._decide(t)
        eq.append(equity)
        self.cash.append(book.cash)
        self.gross.append(gross)

    def finish(self) -> None:
        for _, eng in self.engines:
            eng.finalize()

    def result(self, rows: list[dict[str, Any]], policy: str, mode: str) -> results.Result:
        self.finish()
        f64 = lambda x: np.asarray(x, dtype=np.float64)  # noqa: E731
        return build(self.graph, self.engines, self.timeline, f64(self.eq), f64(self.cash), f64(self.gross),
                     self.gate, rows, policy, mode)


def tagged_tables(trades: list[dict[str, Any]], fills: list[dict[str, Any]], tags: list[str], fp12: str,
                  fill_extra: list[str] = (), trade_extra: list[str] = ()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """trades.csv and fills.csv of a run over several instruments (or slots): each row says whose
    it is (``tags``: ``instrument``, or ``slot`` and ``instrument``) before the usual columns;
    ``trade_extra`` columns (a pair's) are empty on rows that lack them."""
    t_cols = ["trade", *tags, *results.TRADE_COLUMNS[1:], *trade_extra]
    trades_df = pd.DataFrame([{"trade": i, **{k: r.get(k) for k in t_cols[1:]}} for i, r in enumerate(trades, 1)],
                             columns=t_cols)
    trades_df["exit_price"] = trades_df["exit_price"].astype(float)
    trades_df["fingerprint"] = fp12
    f_cols = ["time", *tags, "decided_time", "action", "reason", "units", "price", "reference_price", "commission",
              *fill_extra]
    fills_df = pd.DataFrame([{k: r[k] for k in f_cols} for r in fills], columns=f_cols)
    fills_df["fingerprint"] = fp12
    return trades_df, fills_df


def build(graph: Graph, engines: list[tuple[str, Engine]], timeline: Timeline, eq: np.ndarray, cash: np.ndarray,
          gross: np.ndarray, gate: RiskGate, rows: list[dict[str, Any]], policy: str,
          mode: str = "backtest") -> results.Result:
    plan = graph.plan
    fp12 = graph.fingerprint[:12]
    trades, fills, holds = [], [], {}
    hold_by_inst: dict[str, dict[str, int]] = {}
    for inst, eng in engines:
        times = results.utc_times(eng.m.ts)
        rows_t = list(eng.trades)
        if eng.open_trade_row() is not None:
            rows_t.append(eng.open_trade_row())
        for r in rows_t:
            trades.append({"instrument": inst, **r, "entry_time": times[r["entry_bar"]],
                           "exit_time": times[r["exit_bar"]] if r["exit_bar"] is not None else pd.NaT})
        for f in eng.fills:
            fills.append({"instrument": inst, **f, "time": times[f["bar"]], "decided_time": times[f["decided_bar"]]})
        hold = eng.hold[:eng.m.n]
        codes, counts = np.unique(hold[hold > 0], return_counts=True)
        per = {HoldReason(c).label: int(k) for c, k in zip(codes.tolist(), counts.tolist())}
        hold_by_inst[inst] = dict(sorted(per.items()))
        for k, v in per.items():
            holds[k] = holds.get(k, 0) + v
    order = {inst: i for i, (inst, _) in enumerate(engines)}
    trades.sort(key=lambda r: (r["entry_time"], order[r["instrument"]]))
    fills.sort(key=lambda r: (r["time"], order[r["instrument"]]))
    trades_df, fills_df = tagged_tables(trades, fills, ["instrument"], fp12, ["cash_after"])
    times = results.utc_times(timeline.ts)
    equity_df = pd.DataFrame({"time": times, "gross": gross, "cash": cash, "equity": eq})
    equity_df["fingerprint"] = fp12
    all_trades = [dict(r) for r in trades]
    metrics = metrics_mod.compute(eq, gross, timeline.ts, float(plan["capital"]), float(plan["bars_per_year"]),
                                  all_trades, [dict(f) for f in fills])
    ev = [e for e in gate.events if e["type"] == "risk_event"]
    risk_events = pd.DataFrame({
        "time": times[np.array([e["bar"] for e in ev], dtype=np.int64)], "limit": [e["limit"] for e in ev],
        "value": [e["value"] for e in ev], "threshold": [float(e["threshold"]) for e in ev],
        "severity": [e["severity"] for e in ev], "action": [e["action"] for e in ev]},
        columns=["time", "limit", "value", "threshold", "severity", "action"])
    risk_events["fingerprint"] = fp12
    tl = gate.timeline
    severity_df = pd.DataFrame({
        "time": times[np.array([x["bar"] for x in tl], dtype=np.int64)], "limit": [x["limit"] for x in tl],
        "from": [x["from"] for x in tl], "to": [x["to"] for x in tl], "utilization": [x["utilization"] for x in tl]},
        columns=["time", "limit", "from", "to", "utilization"])
    severity_df["fingerprint"] = fp12
    by_limit: dict[str, int] = {}
    for e in ev:
        by_limit[e["limit"]] = by_limit.get(e["limit"], 0) + 1
    ranks = {"GREEN": 0, "YELLOW": 1, "RED": 2}
    risk = {"profile": gate.name, "events": len(ev), "by_limit": dict(sorted(by_limit.items())),
            "final_severity": gate.overall(),
            "worst_severity": max((x["to"] for x in tl), key=ranks.__getitem__, default="GREEN"),
            "halted": gate.halted or None, "severity_changes": len(tl)}
    notes = [] if plan.get("risk_profile_name") else [
        "no risk profile: the run is limited only by its sizing (the documented default)"]
    settings = {"params": plan["params"], "timeframe": plan["timeframe"], "capital": plan["capital"],
                "fill": plan["execution"]["fill"], "warmup_bars": graph.warmup, "policy": policy,
                "instruments": [inst for inst, _ in engines]}
    res = results.Result(graph.target, graph.fingerprint, mode, ",".join(i for i, _ in engines), metrics,
                         trades_df, fills_df, equity_df, dict(sorted(holds.items())), rows, settings, notes, None,
                         risk_events, severity_df, risk, {}, None, timeline.ts, {})
    res.holds_by_instrument = hold_by_inst
    return res
