"""Schedules: several strategies on one capital base, in one bar loop.

Each slot is a strategy over its universe's instruments with its own sub-book (cash =
allocation x capital; what no slot is given stays as reserve cash) and its own risk profile;
the plan's risk profile sits above them all, marking the total. The shared timeline is the
union of every slot's bar times. At each time:

1. daily resets (every gate);
2. fills and stops of every slot's instruments that have a bar, slots in priority order;
3. marks: each slot's gate on its sub-book, then the plan gate on the total; a loss limit
   that flattens closes the positions it governs;
4. rebalance when the allocation's period turns (fixed weights, or inverse volatility of the
   slots' recent returns), moving cash between sub-books;
5. decisions of every slot with a bar — only on its cadence's bars (``off_cadence``), new
   entries only inside its window and not on holidays (``outside_window``); every entry asks
   the slot's gate and the plan's gate, higher-priority slots first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from interpreter import metrics as metrics_mod
from interpreter import results
from interpreter.batch import evaluate
from interpreter.engine import Book, Engine
from interpreter.feed import load_run_data, market_inputs, run_ids
from interpreter.multi import Timeline, tagged_tables
from interpreter.reasons import HoldReason
from interpreter.risk import RiskGate

NS = 1_000_000_000
DAY_NS = 86_400 * NS


class PlanGate:
    """A slot's gate and the plan's gate, asked together by the slot's engines."""

    def __init__(self, slot: RiskGate, plan: RiskGate | None) -> None:
        self.gates = [g for g in (slot, plan) if g is not None and g.active]
        self.slot, self.plan = slot, plan
        self.active = bool(self.gates)
        self.monitors = False  # the scheduler marks the gates itself
        self.gates_decisions = any(g.gates_decisions for g in self.gates)

    def check_decision(self, t: int, open_positions: int) -> list:
        failed = []
        for g in self.gates:
            failed += g.check_decision(t, self.busy if g is self.plan else open_positions)
        return failed

    def check_order(self, t, units, price, equity, gross, net, round_units, net_price=None):
        acted = []
        for g in self.gates:
            if g is self.plan:
                equity, gross, net = self.totals()
            units, a = g.check_order(t, units, price, equity, gross, net, round_units, net_price)
            acted += a
            if units == 0.0:
                break
        return units, acted

    def on_order(self, t: int) -> None:
        for g in self.gates:
            g.on_order(t)

    def on_trade_closed(self, pnl: float, t: int) -> None:
        for g in self.gates:
            g.on_trade_closed(pnl, t)

    def overall(self) -> str:
        return self.slot.overall()


@dataclass
class SlotRun:
    settings: dict[str, Any]
    graph: Any
    book: Book
    gate: RiskGate
    engines: list[tuple[str, Engine]] = field(default_factory=list)
    transfers: float = 0.0  # net cash moved in by rebalancing
    local: list[list[int]] = field(default_factory=list)
    tf_ns: int = 0
    composite: Any = None

    @property
    def name(self) -> str:
        return self.settings["name"]

    def value(self) -> tuple[float, float, float]:
        value = gross = 0.0
        for _, e in self.engines:
            if e.units:
                v, g = e.marked()
                value += v
                gross += g
        return self.book.cash + value, gross, value


def _period(ts: int, rebalance: str) -> int | None:
    if rebalance == "daily":
        return ts // DAY_NS
    if rebalance == "weekly":
        return (ts // DAY_NS + 3) // 7  # weeks start on Monday (1970-01-01 was a Thursday)
    if rebalance == "monthly":
        d = pd.Timestamp(ts, unit="ns")
        return d.year * 12 + d.month
    return None


def run_schedule(pg, *, start=None, end=None, policy: str = "fail", log: bool = False) -> results.Result:
    """``log=True`` keeps one decision log for the plan: every event tagged with the ``slot`` (and
    ``instrument``) that decided it, the plan's own limits with ``level: plan``."""
    from interpreter.decisions import DecisionLog
    from interpreter.modes.backtest import build_market, stale_mask

    journal = DecisionLog(pg.fingerprint) if log else None
    all_bars = {settings["name"]: load_run_data(graph, start=start, end=end, policy=policy)
                for settings, graph in pg.slots}
    ts_all = [all_bars[settings["name"]][i].ts for settings, graph in pg.slots for i in run_ids(graph.plan)]
    timeline = Timeline(np.unique(np.concatenate(ts_all)))
    n = timeline.n
    run = PlanRun(pg, timeline, journal)
    for s in run.slots:
        bars = all_bars[s.name]
        for inst in run_ids(s.graph.plan):
            b = bars[inst]
            values = evaluate(s.graph, market_inputs(s.graph, bars, inst), len(b))
            gidx = np.searchsorted(timeline.ts, b.ts)
            market = build_market(s.graph, b, values)
            market.stale = stale_mask(s.graph, bars, inst)
            run.add_engine(s, inst, market, gidx)
            row = np.full(n, -1, dtype=np.int64)
            row[gidx] = np.arange(len(gidx))
            s.local.append(row.tolist())
    for g in range(n):
        run.step(g)
    res = run.result(plan_data_rows(run.slots, all_bars), policy, "backtest")
    res.decisions = journal
    return res


def plan_data_rows(slots: list["SlotRun"], all_bars: dict[str, dict]) -> list[dict[str, Any]]:
    """Each instrument's data row once, in slot order."""
    from interpreter.modes.backtest import data_rows

    rows = []
    seen = set()
    for s in slots:
        for r in data_rows(all_bars[s.name], run_ids(s.graph.plan)[0]):
            if r["instrument"] not in seen:
                seen.add(r["instrument"])
                rows.append(r)
    return rows


class PlanRun:
    """A plan's loop, one time of the shared timeline at a time: backtest steps through the whole
    timeline, paper mode steps as bars arrive — the same code, so both decide the same.

    ``timeline.ts`` (and every slot's ``local`` map from timeline index to each engine's bar,
    -1 when it has none) must cover time g when ``step(g)`` runs.
    """

    def __init__(self, pg, timeline, log=None) -> None:
        from interpreter.decisions import TaggedLog

        self.pg = pg
        plan = pg.plan
        self.timeline = timeline
        self.view = (lambda tags, gidx=None: TaggedLog(log, tags, gidx)) if log is not None else (lambda *a, **k: None)
        capital = self.capital = float(plan["capital"])
        self.slots = [SlotRun(settings, graph, Book(capital * settings["allocation"]), None)
                      for settings, graph in pg.slots]
        self.plan_gate = RiskGate(plan.get("risk"), timeline, capital, self.view({"level": "plan"}))
        self.reserve = capital * (1.0 - sum(s.settings["allocation"] for s in self.slots))
        for s in self.slots:
            gplan = s.graph.plan
            s.gate = RiskGate(gplan.get("risk"), timeline, s.book.cash, self.view({"slot": s.name}))
            s.tf_ns = int(round(gplan["timeframe_seconds"] * NS))
            s.composite = PlanGate(s.gate, self.plan_gate if self.plan_gate.active else None)
        self.slot_eq: dict[str, list[float]] = {s.name: [] for s in self.slots}
        self.slot_gross: dict[str, list[float]] = {s.name: [] for s in self.slots}
        self.total_eq: list[float] = []
        self.gross: list[float] = []
        self.period = None
        self.plan_counts = any(lim.name == "max_open_positions" for lim in self.plan_gate.limits.values())
        self.rebalance = plan["allocation"]["rebalance"]
        self.method = plan["allocation"]["method"]
        self.lookback = int(plan["allocation"]["lookback"])
        self.netting = plan.get("netting", False)

    def totals(self) -> tuple[float, float, float]:
        """The plan gate's view of the whole portfolio: (equity, gross, net)."""
        value = gross = 0.0
        for s in self.slots:
            _, g, v = s.value()
            value += v
            gross += g
        return sum(s.book.cash for s in self.slots) + self.reserve + value, gross, value

    def add_engine(self, s: "SlotRun", inst: str, market, gidx) -> Engine:
        """An engine for one instrument of slot ``s``; ``gidx`` maps its bars to timeline indices."""
        eng = Engine(s.graph, market, s.graph.plan, self.view({"slot": s.name, "instrument": inst}, gidx),
                     book=s.book, gate=s.composite, gidx=gidx, instrument=inst)
        eng.entry_window = _window_check(s.settings, self.pg.plan["holidays"], market, s.tf_ns)
        eng.gate.totals = self.totals
        eng.gate.busy = 0
        if self.netting:
            eng.deferred = []
        s.engines.append((inst, eng))
        return eng

    def step(self, g: int) -> None:
        slots, capital = self.slots, self.capital
        total_eq, slot_eq = self.total_eq, self.slot_eq
        if self.plan_gate.active:
            self.plan_gate.roll(g, lambda b: float(total_eq[b]) if b >= 0 else capital)
        for s in slots:
            if s.gate.active:
                s.gate.roll(g, lambda b, s=s: float(slot_eq[s.name][b]) if b >= 0 else s.book.cash)
        made = []
        for s in slots:
            for k, (inst, eng) in enumerate(s.engines):
                t = s.local[k][g]
                if t >= 0:
                    before = len(eng.fills)
                    eng.open_phase(t)
                    made.append((inst, eng, t, before))
        if self.netting:
            _net(made)
        total = self.reserve
        gross_total = value_total = 0.0
        for s in slots:
            eq, gross, value = s.value()
            if s.gate.monitors and s.gate.mark(g, eq, gross, value) == "flatten":
                _flatten(s, g)
            total += eq
            gross_total += gross
            value_total += value
        if self.plan_gate.monitors and self.plan_gate.mark(g, total, gross_total, value_total) == "flatten":
            for s in slots:
                _flatten(s, g)
        p = _period(int(self.timeline.ts[g]), self.rebalance)
        if p is not None and self.period is not None and p != self.period:
            _rebalance(slots, self.method, self.lookback, slot_eq, g, total - self.reserve)
        self.period = p
        for s in slots:
            for k, (_, eng) in enumerate(s.engines):
                t = s.local[k][g]
                if t < 0:
                    continue
                if self.plan_counts:  # the plan's max_open_positions counts every slot's positions
                    eng.gate.busy = sum(1 for s2 in slots for _, e in s2.engines
                                        if e.trade is not None or any(o.action == "entry" for o in e.pending))
                if _on_cadence(s, eng.m, t):
                    eng._decide(t)
                elif any(eng.m.entry[side][t] for side in eng.sides):
                    cad = s.settings["cadence"]
                    eng._held(t, HoldReason.OFF_CADENCE,
                              f"{s.name} decides {cad if cad.startswith('daily') else 'every ' + cad}")
        total = self.reserve
        gross_total = 0.0
        for s in slots:
            eq, gross, _ = s.value()
            slot_eq[s.name].append(eq)
            self.slot_gross[s.name].append(gross)
            total += eq
            gross_total += gross
        total_eq.append(total)
        self.gross.append(gross_total)

    def finish(self) -> None:
        for s in self.slots:
            for _, e in s.engines:
                e.finalize()

    def result(self, rows: list[dict[str, Any]], policy: str, mode: str) -> results.Result:
        self.finish()
        slot_eq = {k: np.asarray(v, dtype=np.float64) for k, v in self.slot_eq.items()}
        res = _build(self.pg, self.slots, self.timeline, np.asarray(self.total_eq, dtype=np.float64),
                     np.asarray(self.gross, dtype=np.float64), slot_eq, self.plan_gate, rows, policy, mode)
        for s in self.slots:  # exposure telemetry: how much of its equity a slot had at work, and how often
            eq = slot_eq[s.name]
            gross = np.asarray(self.slot_gross[s.name], dtype=np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(eq > 0, gross / eq, 0.0)
            res.slots[s.name].update({
                "orders": sum(e.orders for _, e in s.engines),
                "avg_exposure": float(ratio.mean()) if len(ratio) else 0.0,
                "max_exposure": float(ratio.max()) if len(ratio) else 0.0,
                "time_in_market": float(np.count_nonzero(gross) / len(gross)) if len(gross) else 0.0,
            })
            res.slots[s.name] = dict(sorted(res.slots[s.name].items()))
        return res


STOP_REASONS = ("stop_loss", "trailing_stop", "take_profit")


def _net(made: list[tuple[str, Engine, int, int]]) -> None:
    """Cross opposite orders on one instrument that filled at this bar's open (market orders
    decided on the previous bar; stop fills are the venue's): the matched units — the smaller
    of the bought and sold totals, shared pro rata — fill at the open with no costs."""
    legs: dict[str, list[tuple[Engine, int, int, float]]] = {}
    for inst, eng, t, before in made:
        for k in range(before, len(eng.fills)):
            f = eng.fills[k]
            if f["reason"] in STOP_REASONS or f["bar"] != t or f["decided_bar"] >= t:
                continue
            if f["action"] == "entry" and (eng.trade is None or eng.trade.entry_bar != t):
                continue  # opened and stopped out within the bar: the venue filled it
            legs.setdefault(f.get("instrument", inst), []).append((eng, k, t, f["units"]))
    for rows in legs.values():
        bought = sum(u for *_, u in rows if u > 0)
        sold = -sum(u for *_, u in rows if u < 0)
        matched = min(bought, sold)
        if matched <= 0.0:
            continue
        for eng, k, t, u in rows:
            eng.cross(k, abs(u) * matched / (bought if u > 0 else sold), t)
    for _, eng, _, _ in made:
        eng.flush_closed()


def _on_cadence(s: SlotRun, m, t: int) -> bool:
    """Does slot ``s`` decide on bar t of market ``m``? Every N: the bar's close falls on a
    multiple of N since the epoch. Daily at a time: the first bar whose close is at or after
    that time of its UTC day (so a missing bar moves the decision to the next one)."""
    close = int(m.ts[t]) + s.tf_ns
    at = s.settings.get("cadence_daily_minutes")
    if at is not None:
        target = close - close % DAY_NS + at * 60 * NS
        return close >= target and (t == 0 or int(m.ts[t - 1]) + s.tf_ns < target)
    cad = s.settings.get("cadence_seconds")
    if not cad:
        return True
    return close % int(round(cad * NS)) == 0


def _window_check(settings: dict[str, Any], holidays: list[str], market, tf_ns: int):
    window = settings.get("window")
    hol = set(holidays)
    if window is None and not hol:
        return None
    days = set(window["days"]) if window else None

    def check(t: int):
        stamp = pd.Timestamp(int(market.ts[t]) + tf_ns - 1, unit="ns")  # the bar's last instant: its close
        if stamp.date().isoformat() in hol:
            return HoldReason.OUTSIDE_WINDOW, f"{stamp.date()} is a holiday of the plan"
        if window is not None:
            minute = stamp.hour * 60 + stamp.minute
            if stamp.day_of_week not in days or not window["start"] <= minute < window["end"]:
                return HoldReason.OUTSIDE_WINDOW, f"{settings['name']} trades {window['text']}"
        return None

    return check


def _flatten(s: SlotRun, g: int) -> None:
    for k, (_, eng) in enumerate(s.engines):
        if eng.trade is not None:
            t = s.local[k][g]
            eng._flatten(t if t >= 0 else int(np.searchsorted(eng.gidx, g, side="right") - 1))


def _rebalance(slots: list[SlotRun], method: str, lookback: int, slot_eq: dict, g: int, invested: float) -> None:
    weights = [s.settings["allocation"] for s in slots]
    if method in ("inverse_vol", "risk_parity") and g > lookback:
        vols = []
        for s in slots:
            hist = np.asarray(slot_eq[s.name][g - lookback:g], dtype=np.float64)
            r = hist[1:] / hist[:-1] - 1.0
            sd = float(np.std(r, ddof=1)) if len(r) > 1 else 0.0
            vols.append(sd)
        if all(v > 0 for v in vols):
            inv = [1.0 / v for v in vols]
            scale = sum(weights) / sum(inv)
            weights = [w * scale for w in inv]
    total_w = sum(weights)
    for s, w in zip(slots, weights):
        eq, _, _ = s.value()
        move = invested * w / total_w - eq
        s.book.cash += move
        s.transfers += move


def _build(pg, slots: list[SlotRun], timeline: Timeline, total_eq, gross, slot_eq, plan_gate, data: list[dict],
           policy: str, mode: str) -> results.Result:
    fp12 = pg.fingerprint[:12]
    trades, fills = [], []
    telemetry: dict[str, Any] = {}
    holds: dict[str, int] = {}
    for s in slots:
        slot_holds: dict[str, int] = {}
        slot_trades = 0
        for inst, eng in s.engines:
            times = results.utc_times(eng.m.ts)
            rows = list(eng.trades) + ([eng.open_trade_row()] if eng.open_trade_row() else [])
            slot_trades += len(eng.trades)
            for r in rows:
                trades.append({"slot": s.name, "instrument": inst, **r, "entry_time": times[r["entry_bar"]],
                               "exit_time": times[r["exit_bar"]] if r["exit_bar"] is not None else pd.NaT})
            for f in eng.fills:
                fills.append({"slot": s.name, "instrument": inst, "netted": 0.0, **f, "time": times[f["bar"]],
                              "decided_time": times[f["decided_bar"]]})
            hold = eng.hold[:eng.m.n]
            codes, counts = np.unique(hold[hold > 0], return_counts=True)
            for c, k in zip(codes.tolist(), counts.tolist()):
                label = HoldReason(c).label
                slot_holds[label] = slot_holds.get(label, 0) + int(k)
                holds[label] = holds.get(label, 0) + int(k)
        series = slot_eq[s.name]
        start_eq = s.settings["allocation"] * float(pg.plan["capital"])
        pnl = sum(r["pnl"] for r in trades if r["slot"] == s.name)
        telemetry[s.name] = {
            "strategy": s.settings["strategy"], "allocation": s.settings["allocation"],
            "cadence": s.settings["cadence"], "window": (s.settings["window"] or {}).get("text"),
            "priority": s.settings["priority"], "instruments": [i for i, _ in s.engines],
            "trades": slot_trades, "fills": sum(len(e.fills) for _, e in s.engines),
            "final_equity": float(series[-1]) if len(series) else start_eq,
            "pnl": pnl,
            "transfers": s.transfers,
            "hold_reasons": dict(sorted(slot_holds.items())),
            "risk_events": sum(1 for e in s.gate.events if e["type"] == "risk_event"),
            "fingerprint": s.graph.fingerprint,
        }
    trades.sort(key=lambda r: (r["entry_time"], r["slot"], r["instrument"]))
    fills.sort(key=lambda r: (r["time"], r["slot"], r["instrument"]))
    paired = any(e.hedge for s in slots for _, e in s.engines)
    trades_df, fills_df = tagged_tables(trades, fills, ["slot", "instrument"], fp12,
                                        fill_extra=["netted"] if pg.plan.get("netting") else (),
                                        trade_extra=results.PAIR_COLUMNS if paired else ())
    times = results.utc_times(timeline.ts)
    eq_cols = {"time": times, "gross": gross, "equity": total_eq}
    for s in slots:
        eq_cols[f"equity.{s.name}"] = slot_eq[s.name]
    equity_df = pd.DataFrame(eq_cols)
    equity_df["fingerprint"] = fp12
    metrics = _plan_metrics(total_eq, gross, timeline.ts, float(pg.plan["capital"]), trades, fills)
    ev = []
    for scope, gate in [("plan", plan_gate)] + [(s.name, s.gate) for s in slots]:
        ev += [{**e, "scope": scope} for e in gate.events if e["type"] == "risk_event"]
    ev.sort(key=lambda e: (e["bar"], e["scope"]))
    risk_events = pd.DataFrame({
        "time": times[np.array([e["bar"] for e in ev], dtype=np.int64)], "scope": [e["scope"] for e in ev],
        "limit": [e["limit"] for e in ev], "value": [e["value"] for e in ev],
        "threshold": [float(e["threshold"]) for e in ev], "severity": [e["severity"] for e in ev],
        "action": [e["action"] for e in ev]},
        columns=["time", "scope", "limit", "value", "threshold", "severity", "action"])
    risk_events["fingerprint"] = fp12
    tl = [{**x, "scope": "plan"} for x in plan_gate.timeline]
    for s in slots:
        tl += [{**x, "scope": s.name} for x in s.gate.timeline]
    tl.sort(key=lambda x: (x["bar"], x["scope"], x["limit"]))
    severity_df = pd.DataFrame({
        "time": times[np.array([x["bar"] for x in tl], dtype=np.int64)], "scope": [x["scope"] for x in tl],
        "limit": [x["limit"] for x in tl], "from": [x["from"] for x in tl], "to": [x["to"] for x in tl],
        "utilization": [x["utilization"] for x in tl]},
        columns=["time", "scope", "limit", "from", "to", "utilization"])
    severity_df["fingerprint"] = fp12
    ranks = {"GREEN": 0, "YELLOW": 1, "RED": 2}
    by_limit: dict[str, int] = {}
    for e in ev:
        k = f"{e['scope']}:{e['limit']}"
        by_limit[k] = by_limit.get(k, 0) + 1
    risk = {"profile": plan_gate.name, "events": len(ev), "by_limit": dict(sorted(by_limit.items())),
            "final_severity": plan_gate.overall(),
            "worst_severity": max((x["to"] for x in tl), key=ranks.__getitem__, default="GREEN"),
            "halted": plan_gate.halted or None, "severity_changes": len(tl)}
    seen = {r["instrument"] for r in data}
    settings = {"capital": pg.plan["capital"], "allocation": pg.plan["allocation"], "policy": policy,
                "slots": [s.name for s in slots]}
    res = results.Result(pg.target, pg.fingerprint, mode, ",".join(sorted(seen)), metrics, trades_df,
                         fills_df, equity_df, dict(sorted(holds.items())), data, settings, [], None, risk_events,
                         severity_df, risk, {}, None, timeline.ts, {})
    res.slots = telemetry
    return res


def _plan_metrics(equity: np.ndarray, gross: np.ndarray, ts: np.ndarray, capital: float, trades, fills):
    """A plan mixes timeframes (daily and 5-minute bars), so its return statistics come from
    the equity at each UTC day's last bar, annualised with 365 days; exposure counts every bar."""
    day = ts // DAY_NS
    last = np.flatnonzero(np.r_[day[1:] != day[:-1], True])
    m = metrics_mod.compute(equity[last], gross[last], ts[last], capital, 365.0, [dict(r) for r in trades],
                            [dict(f) for f in fills])
    m["bars"] = int(len(equity))
    m["days"] = int(len(last))
    m["exposure"] = float(np.count_nonzero(gross) / len(gross)) if len(gross) else 0.0
    m["max_drawdown"] = float((1.0 - equity / np.maximum.accumulate(equity)).max()) if len(equity) else 0.0
    return m
