"""The risk gate: a risk profile's limits acting on orders and on the marked portfolio.

Three kinds of limit (docs/risk.md has the full table):

* **order limits**, checked when an entry is sized at its fill: ``max_order_notional``,
  ``max_position``, ``min_order_size`` and the exposure limits (instrument and strategy
  ``max_exposure``, portfolio ``max_gross_exposure`` / ``max_net_exposure``). Action
  ``reduce`` clips the order to what fits; ``block_new`` refuses it; ``warn`` lets it through.
* **state limits**, checked when an entry is decided: ``max_open_positions``,
  ``cooldown_after_loss``, ``max_orders_per_day``, ``rate_limit``,
  ``max_consecutive_losses`` (a pause until the next daily reset), plus the blocks and halts
  left by loss limits. Exits are never refused.
* **loss limits**, checked on each bar's close: ``max_daily_loss`` (against the equity at
  the last daily reset) and ``max_drawdown`` (against the running peak). On breach:
  ``block_new`` (no entries until the next reset), ``flatten`` (close at the next fill),
  ``flatten_and_halt`` (close and stop: until the next reset for the daily loss, for the
  rest of the run for the drawdown kill switch), or ``warn``.

Severity per limit: GREEN below ``warn_at`` utilisation, YELLOW from it, RED at or beyond
the limit; the timeline records every change, with the bar it happened on.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from interpreter.reasons import HoldReason

DAY_NS = 86_400 * 1_000_000_000
GREEN, YELLOW, RED = "GREEN", "YELLOW", "RED"
_RANK = {GREEN: 0, YELLOW: 1, RED: 2}

#: limits whose utilisation is tracked on every bar close
CONTINUOUS = ("max_daily_loss", "max_drawdown", "max_gross_exposure", "max_net_exposure", "max_exposure")


@dataclass
class Limit:
    key: str  # "portfolio.max_daily_loss"
    level: str
    name: str
    action: str
    threshold: float
    unit: str = ""  # "pct" | "money" for max_daily_loss
    bars: int | None = None
    seconds: float | None = None

    @staticmethod
    def from_plan(d: dict[str, Any]) -> "Limit":
        thr = d.get("threshold")
        if d["name"] == "cooldown_after_loss":
            thr = float(d.get("bars") or d.get("seconds") or 0)
        return Limit(d["key"], d["level"], d["name"], d["action"], float(thr), d.get("unit", ""),
                     d.get("bars"), d.get("seconds"))


@dataclass
class Check:
    """One limit evaluated for one decision: what it saw and what it did."""

    limit: Limit
    value: float
    utilization: float
    severity: str
    action: str  # "pass" | the limit's action when breached
    reason: HoldReason = HoldReason.NONE
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"limit": self.limit.key, "value": _j(self.value), "threshold": _j(self.limit.threshold),
                "utilization": _j(self.utilization), "severity": self.severity, "action": self.action}


def _j(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def severity(util: float, warn_at: float) -> str:
    if util >= 1.0:
        return RED
    return YELLOW if util >= warn_at else GREEN


@dataclass
class RiskGate:
    plan: dict[str, Any] | None
    market: Any  # reads .ts (may grow bar by bar in paper mode)
    capital: float
    log: Any = None  # interpreter.decisions.DecisionLog or None
    limits: dict[str, Limit] = field(default_factory=dict)

    def __post_init__(self) -> None:
        risk = self.plan or {}
        self.name = risk.get("name", "none")
        self.warn_at = float(risk.get("warn_at", 0.8))
        for d in risk.get("limits", []):
            lim = Limit.from_plan(d)
            self.limits[lim.key] = lim
        self.offset = int(risk.get("reset_minutes_utc", 0)) * 60 * 1_000_000_000
        self.day: int | None = None
        self.seen = 0  # next bar whose reset boundary is still to be applied
        self.day_start_equity = self.capital
        self.peak = self.capital
        self.halted: str = ""  # "" | "until_reset" | "forever"
        self.blocked: dict[str, str] = {}  # limit key -> "until_reset"
        self.orders: deque[int] = deque()  # decision bars of recent orders (the rate-limit window)
        self.orders_today = 0
        self.losses_in_row = 0
        self.paused = False
        self.cooldown_from: int | None = None  # bar of the losing exit
        self.state: dict[str, str] = {k: GREEN for k in self.limits}
        self.util: dict[str, float] = {k: 0.0 for k in self.limits}
        self.value: dict[str, float] = {k: 0.0 for k in self.limits}
        self.timeline: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        codes = {"max_daily_loss": 0, "max_drawdown": 1, "max_gross_exposure": 2, "max_exposure": 2,
                 "max_net_exposure": 3}
        self._marks = [(lim, codes[lim.name]) for lim in self.limits.values() if lim.name in codes]
        self._last_equity: float | None = None
        self._reset_since_mark = True
        names = {lim.name for lim in self.limits.values()}
        #: the engine must look at every bar close while a position is open
        self.monitors = bool(names & set(CONTINUOUS))
        #: the engine must ask before each entry decision
        self.gates_decisions = bool(names - {"max_order_notional", "max_position", "min_order_size",
                                             "max_gross_exposure", "max_net_exposure", "max_exposure"})

    @property
    def active(self) -> bool:
        return bool(self.limits)

    def _find(self, name: str, level: str | None = None) -> list[Limit]:
        return [lim for lim in self.limits.values() if lim.name == name and (level is None or lim.level == level)]

    # ------------------------------------------------------------ time
    def roll(self, t: int, equity_at) -> None:
        """Apply every daily reset whose boundary falls on bars (seen, t]; idempotent.

        ``equity_at(bar)`` marks the portfolio at a bar's close; the day's starting equity is
        the mark of the bar before the boundary.
        """
        if t < self.seen:
            return
        if self.day is None:
            self.day = self._day(0)
        start = max(self.seen, 1)
        if t >= start and self._day(t) != self.day:
            ids = (np.asarray(self.market.ts[start:t + 1], dtype=np.int64) - self.offset) // DAY_NS
            changes = np.flatnonzero(ids[1:] != ids[:-1]) + 1
            bars = [start] if int(ids[0]) != self.day else []
            bars += [start + int(c) for c in changes]
            for b in bars:
                self._reset(b, equity_at(b - 1))
            self.day = self._day(t)
        self.seen = t + 1

    def _day(self, t: int) -> int:
        return (int(self.market.ts[t]) - self.offset) // DAY_NS

    def _reset(self, bar: int, equity: float) -> None:
        self._reset_since_mark = True
        self.day_start_equity = equity
        self.orders_today = 0
        lifted = sorted(k for k, how in self.blocked.items() if how == "until_reset")
        for k in lifted:
            del self.blocked[k]
        was_halted = self.halted == "until_reset"
        if was_halted:
            self.halted = ""
        unpaused = self.paused
        self.paused = False
        self._emit("daily_reset", bar, {"equity": equity, "lifted": lifted + (["halt"] if was_halted else [])
                                        + (["pause"] if unpaused else [])})
        for lim in self._find("max_daily_loss") + self._find("max_orders_per_day"):
            self._set(lim, bar, 0.0)

    # ------------------------------------------------------------ severity bookkeeping
    def _set(self, lim: Limit, bar: int, util: float) -> str:
        sev = severity(util, self.warn_at)
        self.util[lim.key] = util
        if sev != self.state[lim.key]:
            self.timeline.append({"bar": bar, "limit": lim.key, "from": self.state[lim.key], "to": sev,
                                  "utilization": _j(util)})
            self.state[lim.key] = sev
        return sev

    def overall(self) -> str:
        return max(self.state.values(), key=_RANK.__getitem__, default=GREEN)

    def _emit(self, kind: str, bar: int, data: dict[str, Any]) -> None:
        ev = {"type": kind, "bar": bar, **data}
        if kind in ("risk_event", "daily_reset"):
            self.events.append(ev)
        if self.log is not None:
            self.log.add(kind, bar, data)

    # ------------------------------------------------------------ on each bar close
    def mark(self, t: int, equity: float, gross: float, net: float) -> str | None:
        """Mark-to-market at bar t's close; returns "flatten" when positions must close.

        When flat with the same equity as at the last mark and no reset since, nothing can
        change: the mark is skipped (the result is the same, per-bar or event-skipping)."""
        if gross == 0.0 and equity == self._last_equity and not self._reset_since_mark:
            return None
        self._last_equity = equity
        self._reset_since_mark = False
        if equity > self.peak:
            self.peak = equity
        flatten = None
        warn = self.warn_at
        state, utils, values = self.state, self.util, self.value
        for lim, code in self._marks:
            thr = lim.threshold
            if code == 0:
                loss = self.day_start_equity - equity
                value = loss / self.day_start_equity if lim.unit == "pct" else loss
                util = value / thr if thr > 0 else (math.inf if value > 0 else 0.0)
            elif code == 1:
                value = 1.0 - equity / self.peak if self.peak > 0 else 0.0
                util = value / thr if thr > 0 else (math.inf if value > 0 else 0.0)
            elif code == 2:
                value = gross / equity if equity > 0 else math.inf
                util = value / thr if thr > 0 else math.inf
            else:
                value = abs(net) / equity if equity > 0 else math.inf
                util = value / thr if thr > 0 else math.inf
            if util < 0.0:
                util = 0.0
            key = lim.key
            values[key] = value
            utils[key] = util
            sev = RED if util >= 1.0 else YELLOW if util >= warn else GREEN
            before = state[key]
            if sev != before:
                self.timeline.append({"bar": t, "limit": key, "from": before, "to": sev, "utilization": _j(util)})
                state[key] = sev
                if sev == RED and code <= 1:
                    flatten = self._breach(lim, t, value) or flatten
        return flatten

    def _breach(self, lim: Limit, t: int, value: float) -> str | None:
        act = lim.action
        self._emit("risk_event", t, {"limit": lim.key, "value": _j(value), "threshold": lim.threshold,
                                     "severity": RED, "action": act})
        if act == "warn":
            return None
        until = "forever" if lim.name == "max_drawdown" else "until_reset"
        if act == "block_new":
            self.blocked[lim.key] = until
            return None
        if act == "flatten_and_halt":
            self.halted = until if self.halted != "forever" else "forever"
        return "flatten"

    # ------------------------------------------------------------ before an entry decision
    def check_decision(self, t: int, open_positions: int) -> list[Check]:
        """State limits for an entry decided on bar t: the failing checks, primary first."""
        failed: list[Check] = []
        if self.halted:
            lim = next((x for x in self.limits.values() if x.name in ("max_drawdown", "max_daily_loss")
                        and x.action == "flatten_and_halt"), None)
            if lim is not None:
                failed.append(Check(lim, self.value[lim.key], self.util[lim.key], RED, "halted", HoldReason.HALTED,
                                    f"{self.name}.{lim.key} halted {'for good' if self.halted == 'forever' else 'until the daily reset'}"))
        for key in sorted(self.blocked):
            lim = self.limits[key]
            failed.append(Check(lim, self.value[key], self.util[key], RED, "block_new", HoldReason.RISK_LIMIT,
                                f"{self.name}.{key} breached: new entries blocked"))
        passed: list[Check] = []
        for lim in self.limits.values():
            c = self._state_check(lim, t, open_positions)
            if c is not None:
                (passed if c.action == "pass" else failed).append(c)
        if self.log is not None:
            for c in passed + failed:
                self.log.add("risk_check", t, c.to_dict())
        return failed

    def _state_check(self, lim: Limit, t: int, open_positions: int) -> Check | None:
        name = lim.name
        if name == "max_open_positions":
            value = float(open_positions)
            util = (value + 1) / lim.threshold if lim.threshold > 0 else math.inf
            breach = value + 1 > lim.threshold
            reason, detail = HoldReason.RISK_LIMIT, f"{self.name}.{lim.key} {int(value)}/{int(lim.threshold)}"
        elif name == "cooldown_after_loss":
            if self.cooldown_from is None:
                return None
            if lim.bars is not None:
                value = float(t - self.cooldown_from)
                breach = value < lim.bars
                util = 1.0 - value / lim.bars if lim.bars else 0.0
                detail = f"{self.name}.{lim.key} {int(value)}/{lim.bars} bars since the losing exit"
            else:
                value = (int(self.market.ts[t]) - int(self.market.ts[self.cooldown_from])) / 1e9
                breach = value < (lim.seconds or 0)
                util = 1.0 - value / lim.seconds if lim.seconds else 0.0
                detail = f"{self.name}.{lim.key} {value:g}/{lim.seconds:g} s since the losing exit"
            reason = HoldReason.COOLDOWN
        elif name == "max_orders_per_day":
            value = float(self.orders_today)
            util = value / lim.threshold if lim.threshold > 0 else math.inf
            breach = value >= lim.threshold
            reason, detail = HoldReason.RISK_LIMIT, f"{self.name}.{lim.key} {int(value)}/{int(lim.threshold)}"
        elif name == "rate_limit":
            value = float(self._in_window(lim, t))
            util = value / lim.threshold if lim.threshold > 0 else math.inf
            breach = value >= lim.threshold
            per = f"{lim.bars} bars" if lim.bars is not None else f"{lim.seconds:g} s"
            reason, detail = HoldReason.RISK_LIMIT, f"{self.name}.{lim.key} {int(value)}/{int(lim.threshold)} per {per}"
        elif name == "max_consecutive_losses":
            value = float(self.losses_in_row)
            util = value / lim.threshold if lim.threshold > 0 else math.inf
            breach = self.paused
            reason = HoldReason.RISK_LIMIT
            detail = f"{self.name}.{lim.key} {int(value)} losses in a row: paused until the daily reset"
        else:
            return None
        sev = RED if breach else severity(util, self.warn_at)
        act = (lim.action if breach else "pass")
        if act == "warn":
            self._emit("risk_event", t, {"limit": lim.key, "value": _j(value), "threshold": lim.threshold,
                                         "severity": RED, "action": "warn"})
            return None
        return Check(lim, value, util, sev, act, reason if breach else HoldReason.NONE, detail)

    def _in_window(self, lim: Limit, t: int) -> int:
        if lim.bars is not None:
            lo = t - lim.bars
            while self.orders and self.orders[0] <= lo:  # older than any window still to ask about
                self.orders.popleft()
            return len(self.orders)
        ts = self.market.ts
        horizon = int(ts[t]) - int((lim.seconds or 0) * 1e9)
        while self.orders and int(ts[self.orders[0]]) <= horizon:
            self.orders.popleft()
        return len(self.orders)

    # ------------------------------------------------------------ when an entry is sized
    def check_order(self, t: int, units: float, price: float, equity: float, gross_now: float,
                    net_now: float, round_units, net_price: float | None = None) -> tuple[float, list[Check]]:
        """Order limits at the fill: returns (units after reductions, checks that acted).

        ``price`` is the order's gross notional per unit; ``net_price`` its signed net notional
        per unit when that differs (a pair: both legs gross, their difference net)."""
        npx = price if net_price is None else net_price
        acted: list[Check] = []
        side = math.copysign(1.0, units)
        size = abs(units)
        for lim in sorted(self.limits.values(), key=lambda x: _ORDER_PRIORITY.get(x.name, 99)):
            name = lim.name
            if name == "max_order_notional":
                cap = lim.threshold / price
                value = size * price
            elif name == "max_position":
                cap = lim.threshold
                value = size
            elif name in ("max_exposure", "max_gross_exposure"):
                room = lim.threshold * max(equity, 0.0) - gross_now
                cap = max(room, 0.0) / price
                value = (gross_now + size * price) / equity if equity > 0 else math.inf
            elif name == "max_net_exposure":
                room = lim.threshold * max(equity, 0.0) - math.copysign(side, npx) * net_now
                cap = max(room, 0.0) / abs(npx) if npx else math.inf
                value = abs(net_now + side * size * npx) / equity if equity > 0 else math.inf
            else:
                continue
            if size <= cap * (1.0 + 1e-12):
                if self.log is not None:
                    util = value / lim.threshold if lim.threshold > 0 else math.inf
                    if name == "max_order_notional":
                        util = value / lim.threshold
                    self.log.add("risk_check", t, Check(lim, value, util, severity(util, self.warn_at),
                                                        "pass").to_dict())
                continue
            thr_value = value / (lim.threshold if name != "max_order_notional" else 1.0)
            if lim.action == "warn":
                self._emit("risk_event", t, {"limit": lim.key, "value": _j(value), "threshold": lim.threshold,
                                             "severity": RED, "action": "warn"})
                continue
            if lim.action == "reduce":
                new = round_units(cap)
                acted.append(Check(lim, value, thr_value, RED, "reduce", HoldReason.RISK_LIMIT,
                                   f"{self.name}.{lim.key}: {size:g} -> {new:g} units"))
                size = new
                if size <= 0:
                    acted[-1].action = "block_new"
                    break
            else:
                acted.append(Check(lim, value, thr_value, RED, "block_new", HoldReason.RISK_LIMIT,
                                   f"{self.name}.{lim.key} {value:g} over {lim.threshold:g}"))
                size = 0.0
                break
        for lim in self._find("min_order_size"):
            if size > 0 and size * price < lim.threshold:
                value = size * price
                if lim.action == "warn":
                    self._emit("risk_event", t, {"limit": lim.key, "value": value, "threshold": lim.threshold,
                                                 "severity": RED, "action": "warn"})
                    continue
                acted.append(Check(lim, value, value / lim.threshold, RED, "block_new", HoldReason.RISK_LIMIT,
                                   f"{self.name}.{lim.key} {value:g} under {lim.threshold:g}"))
                size = 0.0
        if self.log is not None:
            for c in acted:
                self.log.add("risk_check", t, c.to_dict())
        for c in acted:
            self._emit("risk_event", t, {"limit": c.limit.key, "value": _j(c.value), "threshold": c.limit.threshold,
                                         "severity": RED, "action": c.action})
        return side * size if size > 0 else 0.0, acted

    # ------------------------------------------------------------ bookkeeping
    def on_order(self, t: int) -> None:
        if self._find("rate_limit"):
            self.orders.append(t)
        self.orders_today += 1
        for lim in self._find("max_orders_per_day"):
            self._set(lim, t, self.orders_today / lim.threshold if lim.threshold > 0 else math.inf)

    def on_trade_closed(self, pnl: float, exit_bar: int) -> None:
        if pnl < 0:
            self.losses_in_row += 1
            self.cooldown_from = exit_bar
            for lim in self._find("max_consecutive_losses"):
                util = self.losses_in_row / lim.threshold
                self._set(lim, exit_bar, util)
                if self.losses_in_row >= lim.threshold and not self.paused:
                    if lim.action == "warn":
                        self._emit("risk_event", exit_bar, {"limit": lim.key, "value": self.losses_in_row,
                                                            "threshold": lim.threshold, "severity": RED,
                                                            "action": "warn"})
                    else:
                        self.paused = True
                        self._emit("risk_event", exit_bar, {"limit": lim.key, "value": self.losses_in_row,
                                                            "threshold": lim.threshold, "severity": RED,
                                                            "action": "block_new"})
        else:
            self.losses_in_row = 0
            for lim in self._find("max_consecutive_losses"):
                self._set(lim, exit_bar, 0.0)


_ORDER_PRIORITY = {"max_order_notional": 0, "max_position": 1, "max_exposure": 2, "max_gross_exposure": 3,
                   "max_net_exposure": 4}
