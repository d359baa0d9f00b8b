"""The one bar loop shared by every mode.

Algorithm, for bar t of one instrument (``Engine.process``):

1. **Fill** orders decided on bar t-1 at bar t's open (``_execute``): entries are sized
   at the fill price (``sizing.units_for``) and pay spread, slippage and commission
   (``broker``); stop levels are fixed from distances evaluated on the decision bar.
2. **Stops** of the open position are tested intrabar (``_check_stops``): a gap through a
   stop fills at the open; otherwise at the stop level. When a stop and a take-profit could
   both trigger in one bar, the stop is assumed to come first (the conservative order).
   A trailing stop trails the best price seen on *earlier* bars of the trade.
3. **Decide** at bar t's close (``_decide``): with a position, the exit condition (market
   series and trade state such as ``bars_in_trade``) queues an exit for t+1's open (or
   exits at the close with ``fill: close``); when flat, an entry condition queues an entry.
   Every entry signal that does not become an order records one ``HoldReason``.
4. **Mark**: equity = cash + units * close, rebuilt from the fill events after the run.

``run_all`` calls ``process`` on every bar (paper mode's order of work). ``run_fast`` —
backtest — calls it only on bars where something can happen (a pending fill, a stop or
exit trigger, an entry signal), found with whole-array scans; the bars it skips are bars
on which ``process`` provably does nothing but record ``ALREADY_IN_POSITION``. Both give
identical fills, trades and hold reasons (``tests/interpreter/test_engine_parity.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dsl.graph import Graph
from interpreter.batch import eval_trade_nodes
from interpreter.broker import Costs, commission, fill_price, to_lot, to_tick
from interpreter.decisions import DecisionLog
from interpreter.reasons import HoldReason
from interpreter.risk import RiskGate
from interpreter.sizing import Sizer

SIDES = {"long": 1, "short": -1}


@dataclass
class Market:
    """Per-bar arrays of one instrument that the engine reads."""

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    entry: dict[str, np.ndarray]  # side -> bool per bar
    exit: dict[str, np.ndarray | None]  # side -> bool per bar (market-only exits)
    exit_root: dict[str, str | None]  # side -> node id when the exit reads trade state
    stop_dist: dict[str, np.ndarray]  # stop kind -> price distance per bar (distance mode)
    slip: np.ndarray | None  # slippage distance per bar (distance mode)
    values: dict[str, Any]  # batch node values (for trade-state subgraphs)
    sizing_series: dict[str, np.ndarray] = field(default_factory=dict)
    stale: np.ndarray | None = None  # bool per bar: an input from another instrument was stale (NaN)
    hedge_open: np.ndarray | None = None  # the hedge leg's prices on these bars (NaN where stale)
    hedge_close: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.ts)


@dataclass
class Order:
    bar: int  # fill bar
    decided: int  # decision bar
    side: int  # +1 buy/long, -1 sell/short
    action: str  # "entry" | "exit"
    reason: str


@dataclass
class Trade:
    side: int
    units: float
    entry_bar: int
    decided: int
    entry_price: float
    entry_ref: float
    entry_commission: float
    stop_loss: float | None = None
    take_profit: float | None = None
    trail_dist: float | None = None
    anchor: float = 0.0
    anchor_upto: int = 0
    h_units: float = 0.0  # the hedge leg (a pair): opposite units, its fill, reference and commission
    h_price: float = 0.0
    h_ref: float = 0.0
    h_commission: float = 0.0


class Book:
    """Cash, shared by every instrument a strategy trades (one instrument: its own book)."""

    def __init__(self, capital: float) -> None:
        self.cash = capital
        self.engines: list["Engine"] = []

    def others(self, eng: "Engine") -> tuple[float, float, int]:
        """(value, gross) of the other instruments' positions at their last closes, and how
        many instruments hold or are about to hold a position (pending entries count)."""
        value = gross = 0.0
        busy = 0
        for e in self.engines:
            if e is eng:
                continue
            if e.units:
                v, g = e.marked()
                value += v
                gross += g
            if e.trade is not None or any(o.action == "entry" for o in e.pending):
                busy += 1
        return value, gross, busy


class Engine:
    def __init__(self, graph: Graph, market: Market, plan: dict[str, Any], log: DecisionLog | None = None,
                 book: Book | None = None, gate: RiskGate | None = None, gidx: np.ndarray | None = None,
                 instrument: str | None = None) -> None:
        self.graph = graph
        self.m = market
        self.plan = plan
        self.costs = Costs.from_plan(plan, instrument)
        self.instrument = instrument or plan.get("instrument")
        self.hedge = plan.get("hedge")  # a pair: every position comes with the opposite one on this instrument
        self.hratio = float(self.hedge["ratio"]) if self.hedge else 0.0
        self.hcosts = Costs.from_plan(plan, self.hedge["instrument"]) if self.hedge else None
        self.hunits = 0.0
        self.last_hclose = math.nan
        self.hevents: list[tuple[int, float]] = []  # (bar, hedge units after) — a pair's second leg
        # execution.venue_increments: the universe's lot and tick for each leg (None: not applied)
        self.lot = self.tick = self.hlot = self.htick = None
        if plan["execution"].get("venue_increments"):
            spec = {i["id"]: i for i in plan["universe"]["instruments"]}
            own = spec.get(self.instrument) or {}
            self.lot, self.tick = own.get("lot_size"), own.get("tick_size")
            if self.hedge:
                self.hlot = spec[self.hedge["instrument"]].get("lot_size")
                self.htick = spec[self.hedge["instrument"]].get("tick_size")
        self.orders = 0  # orders placed (entries, exits, risk flattens), filled or not
        self.deferred: list[tuple[int, int]] | None = None  # (trade row, bar): closed trades the gate hears of later
        self.sizer = Sizer(plan)
        self.fill_on_close = plan["execution"]["fill"] == "close"
        self.warmup = graph.warmup
        self.stops = plan["stops"]
        self.book = book if book is not None else Book(float(plan["capital"]))
        self.book.engines.append(self)
        self.multi = book is not None  # several instruments share the book and the risk gate
        self.entry_window = None  # schedule slots: t -> (HoldReason, detail) when entries may not be decided
        self.gidx = gidx  # local bar -> the shared timeline's index (several instruments)
        self.units = 0.0
        self.last_close = math.nan
        self.trade: Trade | None = None
        self.pending: list[Order] = []
        self.events: list[tuple[int, float, float]] = []  # (bar, cash after, units after)
        self.fills: list[dict[str, Any]] = []
        self.trades: list[dict[str, Any]] = []
        self.hold = np.zeros(len(market.ts), dtype=np.int8)  # the market's capacity (paper grows it)
        self.hold_detail: dict[int, list[tuple[str, str]]] = {}  # bar -> [(reason, detail)], primary first
        self.sides = [s for s in ("long", "short") if s in market.entry]
        self.log = log
        self.gate = gate if gate is not None else RiskGate(plan.get("risk"), market, float(plan["capital"]), log)
        self.signal_ids = [(role[len("signal."):], nid) for role, nid in graph.outputs if role.startswith("signal.")]

    @property
    def cash(self) -> float:
        return self.book.cash

    @cash.setter
    def cash(self, value: float) -> None:
        self.book.cash = value

    def _g(self, t: int) -> int:
        """The risk gate's bar index for local bar t."""
        return t if self.gidx is None else int(self.gidx[t])

    def equity_with(self, price: float) -> float:
        """Equity with this instrument marked at ``price`` (others at their last closes)."""
        own = self.units * price + (self.hunits * self.last_hclose if self.hunits else 0.0)
        if self.multi:
            value, _, _ = self.book.others(self)
            return self.cash + value + own
        return self.cash + own

    def marked(self) -> tuple[float, float]:
        """(value, gross) of the position at the last closes seen (both legs of a pair)."""
        v = self.units * self.last_close
        if not self.hunits:
            return v, abs(v)
        h = self.hunits * self.last_hclose
        return v + h, abs(v) + abs(h)

    def value_at(self, t: int) -> tuple[float, float]:
        """(value, gross) of the position marked at bar t's close."""
        v = self.units * float(self.m.close[t])
        if not self.hunits:
            return v, abs(v)
        h = self.hunits * self._hedge_mark(t)
        return v + h, abs(v) + abs(h)

    def _hedge_mark(self, t: int) -> float:
        """The hedge leg's last known close at or before bar t (it can be stale on bar t)."""
        hc = self.m.hedge_close
        while t >= 0:
            v = float(hc[t])
            if v == v:
                return v
            t -= 1
        return math.nan

    # ------------------------------------------------------------ modes
    def run_all(self) -> None:
        for t in range(self.m.n):
            self.process(t)
        self.finalize()

    def finalize(self) -> None:
        """End of data: orders still waiting for a next open never fill. An entry among them
        records NO_NEXT_BAR on its decision bar; an exit leaves the position open (marked at
        the last close). The same in every mode, since no mode knows a bar is the last one."""
        for o in self.pending:
            if o.action == "entry":
                self._held(o.decided, HoldReason.NO_NEXT_BAR)
        self.pending = []

    def run_fast(self) -> None:
        from interpreter import latch

        if latch.eligible(self) and not self.gate.active and self.log is None and self.m.stale is None:
            latch.run(self)
            self.finalize()
            return
        n = self.m.n
        any_entry = np.zeros(n, dtype=bool)
        for s in self.sides:
            any_entry |= self.m.entry[s]
        self._any_entry = any_entry
        candidates = any_entry | self.m.stale if self.m.stale is not None else any_entry
        entry_bars = np.flatnonzero(candidates)
        t = 0
        while t < n:
            if self.pending:
                t = self.pending[0].bar
            elif self.trade is not None:
                if not self.gate.monitors:  # with loss limits every bar in a trade is marked
                    e = self._next_trade_event(t)
                    skipped = np.flatnonzero(any_entry[t:e]) + t
                    self.hold[skipped] = HoldReason.ALREADY_IN_POSITION
                    if self.log is not None:
                        for b in skipped.tolist():
                            self._log_signal(b, self._entry_sides(b), False)
                            self.log.add("decision", b, {"action": "hold", "reason": "already_in_position"})
                    t = e
            else:
                k = np.searchsorted(entry_bars, t)
                if k >= len(entry_bars):
                    break
                t = int(entry_bars[k])
            if t >= n:
                break
            self.process(t)
            t += 1
        self.finalize()

    # ------------------------------------------------------------ one bar
    def process(self, t: int) -> None:
        gate = self.gate
        if gate.active:
            gate.roll(t, self._equity_at)
        self.open_phase(t)
        if gate.monitors:
            value, gross = self.value_at(t)
            if gate.mark(t, self.cash + value, gross, value) == "flatten" and self.trade is not None:
                self._flatten(t)
        self._decide(t)

    def open_phase(self, t: int) -> None:
        """Bar t up to its close: fills at the open, then stops."""
        m = self.m
        self.last_close = float(m.close[t])
        if self.pending and self.pending[0].bar == t:
            orders, self.pending = self.pending, []
            for o in orders:
                self._execute(o, t, float(m.open[t]))
        if self.trade is not None:
            self._check_stops(t)
        if self.hunits:
            self.last_hclose = self._hedge_mark(t)

    def _equity_at(self, bar: int) -> float:
        """Equity marked at bar's close with the current position (valid across skipped bars)."""
        return self.cash + self.value_at(bar)[0] if bar >= 0 else self.cash

    def _flatten(self, t: int) -> None:
        """A loss limit's flatten: close at the next fill unless an exit is already on its way."""
        if self.pending and any(o.action == "exit" for o in self.pending):
            return
        reason = "risk"
        self.orders += 1
        self.gate.on_order(self._g(t))
        side = -self.trade.side
        if self.fill_on_close:
            self._execute(Order(t, t, side, "exit", reason), t, float(self.m.close[t]))
        else:
            self.pending = [o for o in self.pending if o.action != "entry"]
            self.pending.append(Order(t + 1, t, side, "exit", reason))
            if self.log is not None:
                self.log.add("order", t, {"action": "exit", "side": "sell" if side < 0 else "buy",
                                          "reason": reason, "fill_bar": t + 1})

    # ------------------------------------------------------------ decisions
    def _entry_sides(self, t: int) -> list[str]:
        return [s for s in self.sides if self.m.entry[s][t]]

    def _exit_true(self, t: int) -> bool:
        side = "long" if self.trade.side > 0 else "short"
        root = self.m.exit_root.get(side)
        if root is not None:
            return bool(eval_trade_nodes(self.graph, root, self.m.values, t, t + 1, self._trade_state(t, t + 1))[0])
        arr = self.m.exit.get(side)
        return bool(arr[t]) if arr is not None else False

    def _trade_state(self, lo: int, hi: int) -> dict[str, Any]:
        tr = self.trade
        return {"bars_in_trade": np.arange(lo - tr.entry_bar, hi - tr.entry_bar, dtype=np.float64),
                "entry_price": tr.entry_price, "position_side": float(tr.side)}

    def _log_signal(self, t: int, entries: list[str], exiting: bool) -> None:
        vals = {name: self._value(nid, t) for name, nid in self.signal_ids}
        self.log.add("signal", t, {"entry": entries, "exit": exiting, "values": vals})

    def _value(self, nid: str, t: int) -> Any:
        v = self.m.values.get(nid)
        if isinstance(v, np.ndarray):
            x = v[t]
            return bool(x) if v.dtype == bool else float(x)
        return v

    def _held(self, t: int, reason: HoldReason, detail: str = "", others: list[tuple[str, str]] = ()) -> None:
        self.hold[t] = reason
        if detail or others:
            self.hold_detail[t] = [(reason.label, detail), *others]
        if self.log is not None:
            self.log.add("decision", t, {"action": "hold", "reason": reason.label, "detail": detail,
                                         "others": [list(o) for o in others]})

    def _decide(self, t: int) -> None:
        entries = self._entry_sides(t)
        if self.trade is not None:
            if self.pending:
                return
            exiting = self._exit_true(t)
            if self.log is not None and (entries or exiting):
                self._log_signal(t, entries, exiting)
            if exiting:
                side = -self.trade.side
                self.orders += 1
                self.gate.on_order(self._g(t))
                if self.log is not None:
                    self.log.add("order", t, {"action": "exit", "side": "sell" if side < 0 else "buy",
                                              "reason": "signal", "fill_bar": t if self.fill_on_close else t + 1})
                if self.fill_on_close:
                    self._execute(Order(t, t, side, "exit", "signal"), t, float(self.m.close[t]))
                else:
                    self.pending.append(Order(t + 1, t, side, "exit", "signal"))
                opposite = [s for s in entries if SIDES[s] == side]
                if opposite and len(entries) == 1:
                    if not self._gated(t, open_positions=0):
                        self._queue_entry(t, side, entries[0])
                elif entries:
                    self._held(t, HoldReason.ALREADY_IN_POSITION)
                return
            if entries:
                self._held(t, HoldReason.ALREADY_IN_POSITION)
            return
        if not entries:
            stale = self.m.stale
            if stale is not None and stale[t] and t >= self.warmup:
                self._held(t, HoldReason.DATA_GAP, "another instrument had no bar within its alignment")
            return
        if self.log is not None:
            self._log_signal(t, entries, False)
        if t < self.warmup:
            self._held(t, HoldReason.WARMUP)
            return
        if len(entries) > 1:
            self._held(t, HoldReason.CONFLICTING_SIGNALS)
            return
        if self._gated(t, open_positions=0):
            return
        self._queue_entry(t, SIDES[entries[0]], entries[0])

    def _gated(self, t: int, open_positions: int) -> bool:
        """Ask the schedule (window, holidays) and the risk gate about an entry decided on bar t;
        records the hold if refused."""
        if self.entry_window is not None:
            refused = self.entry_window(t)
            if refused is not None:
                self._held(t, refused[0], refused[1])
                return True
        if not self.gate.gates_decisions:
            return False
        if self.multi:
            open_positions = self.book.others(self)[2]
        failed = self.gate.check_decision(self._g(t), open_positions)
        if not failed:
            return False
        first = failed[0]
        self._held(t, first.reason, first.detail, [(c.reason.label, c.detail) for c in failed[1:]])
        return True

    def _queue_entry(self, t: int, side: int, name: str) -> None:
        self.orders += 1
        self.gate.on_order(self._g(t))
        if self.log is not None:
            self.log.add("order", t, {"action": "entry", "side": "buy" if side > 0 else "sell",
                                      "reason": f"entry.{name}", "fill_bar": t if self.fill_on_close else t + 1})
        if self.fill_on_close:
            self._execute(Order(t, t, side, "entry", f"entry.{name}"), t, float(self.m.close[t]))
            return
        self.pending.append(Order(t + 1, t, side, "entry", f"entry.{name}"))

    # ------------------------------------------------------------ fills
    def _slip(self, bar: int) -> float:
        s = self.m.slip
        return float(s[bar]) if s is not None else 0.0

    def _price(self, costs: Costs, ref: float, side: int, slip: float, tick: float | None) -> float:
        p = fill_price(costs, ref, side, slip)
        return to_tick(p, tick, side) if tick else p

    def _execute(self, o: Order, t: int, ref: float) -> None:
        if o.action == "exit":
            self._close(t, ref, o.reason, o.decided)
            return
        price = self._price(self.costs, ref, o.side, self._slip(o.decided), self.tick)
        units, reason = self.sizer.units_for(self, o, price)
        if units and self.lot:
            units = to_lot(units, self.lot)
            if units == 0.0:
                self._held(o.decided, HoldReason.SIZED_TO_ZERO, f"below the venue's lot size {self.lot:g}")
                return
        if units == 0.0:
            self._held(o.decided, reason)
            return
        units = o.side * units
        href = hprice = 0.0
        if self.hedge:
            href = float((self.m.hedge_close if self.fill_on_close else self.m.hedge_open)[t])
            if href != href:
                self._held(o.decided, HoldReason.DATA_GAP,
                           f"hedge leg {self.hedge['instrument']} has no price at the fill bar")
                return
            hprice = self._price(self.hcosts, href, -o.side, self._slip(o.decided) * href / ref, self.htick)
        if self.gate.active:
            value = self.units * price
            others, gross_others = self.book.others(self)[:2] if self.multi else (0.0, 0.0)
            # a pair's order: its gross is both legs, its net the difference
            gross_price = price + self.hratio * hprice
            net_price = price - self.hratio * hprice if self.hedge else None
            rounder = self.sizer.round if not self.lot else (lambda u: to_lot(self.sizer.round(u), self.lot))
            units, acted = self.gate.check_order(self._g(t), units, gross_price, self.cash + others + value,
                                                 gross_others + abs(value), others + value, rounder, net_price)
            if units == 0.0:
                first = acted[0]
                self._held(o.decided, first.reason, first.detail, [(c.reason.label, c.detail) for c in acted[1:]])
                return
        fee = commission(self.costs, units, price)
        self.cash -= units * price + fee
        self.units = units
        tr = Trade(o.side, units, t, o.decided, price, ref, fee)
        self._set_stops(tr, o.decided)
        self.trade = tr
        self.fills.append(self._fill_row(t, o.decided, "entry", o.reason, units, price, ref, fee))
        if self.hedge:
            tr.h_units = -self.hratio * units if not self.hlot else to_lot(-self.hratio * units, self.hlot)
            tr.h_price, tr.h_ref = hprice, href
            tr.h_commission = commission(self.hcosts, tr.h_units, hprice)
            self.cash -= tr.h_units * hprice + tr.h_commission
            self.hunits = tr.h_units
            self.hevents.append((t, self.hunits))
            self.last_hclose = self._hedge_mark(t)
            self.fills.append(self._fill_row(t, o.decided, "entry", o.reason, tr.h_units, hprice, href,
                                             tr.h_commission, self.hedge["instrument"]))
        self.events.append((t, self.cash, self.units))
        if self.log is not None:
            extra = {"hedge": {"instrument": self.hedge["instrument"], "units": tr.h_units, "price": tr.h_price,
                               "commission": tr.h_commission}} if self.hedge else {}
            self.log.add("fill", t, {"action": "entry", "units": units, "price": price, "commission": fee,
                                     "cash_after": self.cash, **extra})

    def _close(self, t: int, ref: float, reason: str, decided: int) -> None:
        tr = self.trade
        units = tr.units
        price = self._price(self.costs, ref, -tr.side, self._slip(decided), self.tick)
        fee = commission(self.costs, units, price)
        self.cash += units * price - fee
        self.units = 0.0
        self.trade = None
        self.fills.append(self._fill_row(t, decided, "exit", reason, -units, price, ref, fee))
        gross = units * (price - tr.entry_price)
        pnl = gross - tr.entry_commission - fee
        pair: dict[str, Any] = {}
        if self.hedge:
            href, hprice, hfee = self._close_hedge(tr, t, ref, decided, reason)
            pnl += tr.h_units * (hprice - tr.h_price) - tr.h_commission - hfee
            fee += hfee
            pair = self._pair_columns(tr, hprice, price)
        self.events.append((t, self.cash, 0.0))
        if self.log is not None:
            extra = {"hedge": {"instrument": self.hedge["instrument"], "units": -tr.h_units, "price": hprice,
                               "commission": hfee}} if self.hedge else {}
            self.log.add("fill", t, {"action": "exit", "reason": reason, "units": -units, "price": price,
                                     "commission": fee, "cash_after": self.cash, "pnl": pnl, **extra})
        if self.deferred is not None:  # a plan may still reprice this exit (netting): tell the gate after
            self.deferred.append((len(self.trades), t))
        elif self.gate.active:
            self.gate.on_trade_closed(pnl, self._g(t))
        self.trades.append({
            "side": "long" if tr.side > 0 else "short",
            "entry_bar": tr.entry_bar, "exit_bar": t,
            "units": abs(units), "entry_price": tr.entry_price, "exit_price": price,
            "commission": tr.entry_commission + tr.h_commission + fee,
            "slippage": abs(units) * (abs(tr.entry_price - tr.entry_ref) + abs(price - ref))
            + (abs(tr.h_units) * (abs(tr.h_price - tr.h_ref) + abs(pair["hedge_exit_price"] - href)) if pair else 0.0),
            "pnl": pnl, "return": pnl / (abs(units) * tr.entry_price),
            "bars_held": t - tr.entry_bar, "exit_reason": reason, **pair,
        })

    def flush_closed(self) -> None:
        """Tell the risk gate of the trades closed since the last call, with their final P&L."""
        if self.deferred:
            if self.gate.active:
                for i, t in self.deferred:
                    self.gate.on_trade_closed(self.trades[i]["pnl"], self._g(t))
            self.deferred.clear()

    def cross(self, k: int, q: float, t: int) -> None:
        """Netting: ``q`` units of fill row ``k`` (an order at bar t's open) were matched with an
        opposite order on the same instrument, so they fill at the reference price with no
        spread, slippage or commission; only the rest went to the venue. Reprices the row, the
        cash, and the trade it opened or closed."""
        f = self.fills[k]
        u, p, r, c = f["units"], f["price"], f["reference_price"], f["commission"]
        a = abs(u)
        hedge_leg = bool(self.hedge) and f.get("instrument") == self.hedge["instrument"]
        p2 = (q * r + (a - q) * p) / a
        c2 = commission(self.hcosts if hedge_leg else self.costs, a - q, p) if a - q > 0 else 0.0
        d = u * (p - p2) + (c - c2)
        self.cash += d
        f.update(price=p2, commission=c2, cash_after=f["cash_after"] + d)
        f["netted"] = f.get("netted", 0.0) + q
        if self.events and self.events[-1][0] == t:
            bar, cash, units = self.events[-1]
            self.events[-1] = (bar, cash + d, units)
        if f["action"] == "entry":
            tr = self.trade
            if hedge_leg:
                tr.h_price, tr.h_commission = p2, c2
            else:  # stop levels stay where the venue fill placed them (they were live this bar already)
                tr.entry_price, tr.entry_commission = p2, c2
        else:
            row = self.trades[-1]
            if hedge_leg:
                row["hedge_exit_price"] = p2
            else:
                row["exit_price"] = p2
            if self.hedge:
                row["exit_spread"] = row["hedge_exit_price"] / row["exit_price"] - 1.0
            row["commission"] -= c - c2
            row["slippage"] -= q * abs(p - r)
            row["pnl"] += d
            row["return"] = row["pnl"] / (row["units"] * row["entry_price"])
        if self.log is not None:
            self.log.add("net", t, {"instrument": f.get("instrument", self.instrument), "action": f["action"],
                                    "units": u, "crossed": q, "price": p2, "venue_price": p, "commission": c2,
                                    "venue_commission": c, "saved": d})

    def _close_hedge(self, tr: Trade, t: int, ref: float, decided: int, reason: str) -> tuple[float, float, float]:
        """Close the hedge leg with the primary one. An exit is never refused: with no fresh
        quote on the fill bar the hedge closes at its last known close before the fill."""
        href = float((self.m.hedge_close if self.fill_on_close else self.m.hedge_open)[t])
        if href != href:
            href = self._hedge_mark(t if self.fill_on_close else t - 1)
        hprice = self._price(self.hcosts, href, tr.side, self._slip(decided) * href / ref, self.htick)
        hfee = commission(self.hcosts, tr.h_units, hprice)
        self.cash += tr.h_units * hprice - hfee
        self.hunits = 0.0
        self.hevents.append((t, 0.0))
        self.fills.append(self._fill_row(t, decided, "exit", reason, -tr.h_units, hprice, href, hfee,
                                         self.hedge["instrument"]))
        return href, hprice, hfee

    def _pair_columns(self, tr: Trade, h_exit: float | None, p_exit: float | None) -> dict[str, Any]:
        """What a pair's trade row adds: the hedge leg and the spread (hedge / primary - 1) at both ends."""
        return {"hedge_instrument": self.hedge["instrument"], "hedge_units": abs(tr.h_units),
                "hedge_entry_price": tr.h_price, "hedge_exit_price": h_exit,
                "entry_spread": tr.h_price / tr.entry_price - 1.0,
                "exit_spread": h_exit / p_exit - 1.0 if h_exit is not None else None}

    def _fill_row(self, t, decided, action, reason, units, price, ref, fee, instrument=None) -> dict[str, Any]:
        row = {"bar": t, "decided_bar": decided, "action": action, "reason": reason,
               "units": units, "price": price, "reference_price": ref, "commission": fee,
               "cash_after": self.cash}
        if self.hedge:  # a pair's fills name their leg
            row["instrument"] = instrument or self.instrument
        return row

    # ------------------------------------------------------------ stops
    def _set_stops(self, tr: Trade, decided: int) -> None:
        for kind in ("stop_loss", "take_profit", "trailing_stop"):
            spec = self.stops.get(kind)
            if spec is None:
                continue
            if spec["mode"] == "pct":
                dist = tr.entry_price * spec["value"]
            else:
                dist = float(self.m.stop_dist[kind][decided])
            if math.isnan(dist) or dist < 0:
                continue
            if kind == "stop_loss":
                tr.stop_loss = tr.entry_price - tr.side * dist
            elif kind == "take_profit":
                tr.take_profit = tr.entry_price + tr.side * dist
            else:
                tr.trail_dist = dist
        tr.anchor = tr.entry_price
        # A fill at the close comes after the fill bar's whole range: its high/low is not the trade's.
        tr.anchor_upto = tr.entry_bar + 1 if self.fill_on_close else tr.entry_bar

    def _anchor(self, tr: Trade, t: int) -> float:
        """Best price of the trade before bar t (fill price, then earlier highs/lows)."""
        if tr.anchor_upto < t:
            if tr.side > 0:
                tr.anchor = max(tr.anchor, float(self.m.high[tr.anchor_upto:t].max()))
            else:
                tr.anchor = min(tr.anchor, float(self.m.low[tr.anchor_upto:t].min()))
            tr.anchor_upto = t
        return tr.anchor

    def _stop_level(self, tr: Trade, t: int) -> tuple[float | None, str]:
        level, kind = tr.stop_loss, "stop_loss"
        if tr.trail_dist is not None:
            trail = self._anchor(tr, t) - tr.side * tr.trail_dist
            if level is None or (tr.side > 0 and trail > level) or (tr.side < 0 and trail < level):
                level, kind = trail, "trailing_stop"
        return level, kind

    def _check_stops(self, t: int) -> None:
        tr = self.trade
        if tr.entry_bar > t:
            return
        m = self.m
        level, kind = self._stop_level(tr, t)
        tp = tr.take_profit
        o, hi, lo = float(m.open[t]), float(m.high[t]), float(m.low[t])
        s = tr.side
        at_open = tr.entry_bar < t  # on the fill bar the open is the fill, not a gap
        if level is not None and at_open and (o - level) * s <= 0:
            self._close(t, o, kind, t - 1)
        elif tp is not None and at_open and (o - tp) * s >= 0:
            self._close(t, o, "take_profit", t - 1)
        elif level is not None and ((lo if s > 0 else hi) - level) * s <= 0:
            self._close(t, level, kind, t - 1)
        elif tp is not None and ((hi if s > 0 else lo) - tp) * s >= 0:
            self._close(t, tp, "take_profit", t - 1)

    # ------------------------------------------------------------ fast scan
    def _next_trade_event(self, t: int) -> int:
        """First bar >= t where an open trade can stop out or its exit condition holds."""
        n = self.m.n
        tr = self.trade
        side = "long" if tr.side > 0 else "short"
        size = 64
        a = t
        while a < n:
            b = min(n, a + size)
            mask = self._stop_mask(tr, a, b)
            root = self.m.exit_root.get(side)
            if root is not None:
                mask = mask | eval_trade_nodes(self.graph, root, self.m.values, a, b, self._trade_state(a, b))
            elif self.m.exit.get(side) is not None:
                mask = mask | self.m.exit[side][a:b]
            hit = np.flatnonzero(mask)
            if hit.size:
                return a + int(hit[0])
            a = b
            size *= 2
        return n

    def _stop_mask(self, tr: Trade, a: int, b: int) -> np.ndarray:
        m = self.m
        s = tr.side
        mask = np.zeros(b - a, dtype=bool)
        levels = None
        if tr.stop_loss is not None:
            levels = np.full(b - a, tr.stop_loss)
        if tr.trail_dist is not None:
            start = self._peek_anchor(tr, a)
            ext = m.high if s > 0 else m.low
            prior = np.concatenate(([start], ext[a:b - 1])) if b - a > 1 else np.array([start])
            acc = np.maximum.accumulate(prior) if s > 0 else np.minimum.accumulate(prior)
            trail = acc - s * tr.trail_dist
            if levels is None:
                levels = trail
            else:
                levels = np.maximum(levels, trail) if s > 0 else np.minimum(levels, trail)
        if levels is not None:
            mask |= ((m.low[a:b] if s > 0 else m.high[a:b]) - levels) * s <= 0
        if tr.take_profit is not None:
            mask |= ((m.high[a:b] if s > 0 else m.low[a:b]) - tr.take_profit) * s >= 0
        return mask

    def _peek_anchor(self, tr: Trade, t: int) -> float:
        if tr.anchor_upto >= t:
            return tr.anchor
        ext = self.m.high if tr.side > 0 else self.m.low
        seg = ext[tr.anchor_upto:t]
        return max(tr.anchor, float(seg.max())) if tr.side > 0 else min(tr.anchor, float(seg.min()))

    # ------------------------------------------------------------ end
    def open_trade_row(self) -> dict[str, Any] | None:
        tr = self.trade
        if tr is None:
            return None
        last = float(self.m.close[-1])
        pnl = tr.units * (last - tr.entry_price) - tr.entry_commission
        pair: dict[str, Any] = {}
        if self.hedge:
            pnl += tr.h_units * (self._hedge_mark(self.m.n - 1) - tr.h_price) - tr.h_commission
            pair = self._pair_columns(tr, None, None)
        return {"side": "long" if tr.side > 0 else "short", "entry_bar": tr.entry_bar, "exit_bar": None,
                "units": abs(tr.units), "entry_price": tr.entry_price, "exit_price": None,
                "commission": tr.entry_commission + tr.h_commission,
                "slippage": abs(tr.units) * abs(tr.entry_price - tr.entry_ref)
                + abs(tr.h_units) * abs(tr.h_price - tr.h_ref),
                "pnl": pnl, "return": pnl / (abs(tr.units) * tr.entry_price),
                "bars_held": self.m.n - 1 - tr.entry_bar, "exit_reason": "open_at_end", **pair}

    def equity(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(equity, cash, units) per bar, marked at each bar's close (computed once per run)."""
        key = len(self.events)
        cached = getattr(self, "_equity_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        out = self._equity()
        self._equity_cache = (key, out)
        return out

    def _equity(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = self.m.n
        idx = _last_event([e[0] for e in self.events], n)
        cash = _carry(idx, [e[1] for e in self.events], float(self.plan["capital"]))
        units = _carry(idx, [e[2] for e in self.events], 0.0)
        if self.hedge:  # the hedge leg, marked at its last known close
            hc = _ffill(np.asarray(self.m.hedge_close[:n], dtype=np.float64))
            hunits = _carry(_last_event([e[0] for e in self.hevents], n), [e[1] for e in self.hevents], 0.0)
            value = units * self.m.close + hunits * hc
            value[units == 0.0] = 0.0
            return cash + value, cash, units
        return cash + units * self.m.close, cash, units


def _last_event(bars: list[int], n: int) -> np.ndarray:
    """Per bar 0..n-1, the index of the last event at or before it (-1 before the first)."""
    if not bars:
        return np.full(n, -1)
    return np.searchsorted(np.array(bars), np.arange(n), side="right") - 1


def _carry(idx: np.ndarray, values: list[float], before: float) -> np.ndarray:
    """Each bar's value after its last event (``before`` until the first): a step series."""
    out = np.full(len(idx), before)
    has = idx >= 0
    if values:
        out[has] = np.array(values)[idx[has]]
    return out


def _ffill(a: np.ndarray) -> np.ndarray:
    """Forward-fill NaNs (what ``Engine._hedge_mark`` does one bar at a time)."""
    idx = np.where(np.isnan(a), 0, np.arange(len(a)))
    np.maximum.accumulate(idx, out=idx)
    out = a[idx]
    return out
