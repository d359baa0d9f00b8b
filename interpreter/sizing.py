"""Position sizing at the fill: how many units an entry buys or sells.

An entry whose notional would exceed equity times the method's leverage (1, or
``max_leverage`` for vol_target, or the percent for percent_equity above 100%) is refused
with INSUFFICIENT_CASH rather than silently borrowing.

Units are computed at the fill price from the equity at that moment (cash, since entries
happen when flat), then rounded toward zero to whole lots unless the spec allows
fractional units. Methods:

* ``fixed_units`` — that many units.
* ``fixed_notional`` — notional / price.
* ``percent_equity`` — percent * equity / price.
* ``vol_target`` — equity * min(target / realized_vol, max_leverage) / price, with the
  annualised realized volatility of the decision bar (NaN volatility sizes to zero).
* ``fuzzy`` — the rule base's output on the decision bar (0..1 by the rule base's range)
  times ``max_percent`` of equity / price; NaN (no rule fired and no default) sizes to zero.
* ``all_in`` — as many units as cash buys after commission (the peer convention:
  floor(cash / (price * (1 + commission))) for a pure percentage commission).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from interpreter.broker import commission, round_units
from interpreter.reasons import HoldReason

if TYPE_CHECKING:  # pragma: no cover
    from interpreter.engine import Engine, Order


class Sizer:
    def __init__(self, plan: dict[str, Any]) -> None:
        self.spec = plan["sizing"]
        self.method = self.spec["method"]
        self.lot = float(self.spec.get("lot_size", 1.0))
        self.fractional = bool(self.spec.get("fractional", False))
        #: notional / equity an entry may reach: 1 unless the method says otherwise
        self.leverage = {"vol_target": float(self.spec.get("max_leverage", 1.0)),
                         "percent_equity": max(1.0, float(self.spec.get("percent", 1.0))),
                         "fuzzy": max(1.0, float(self.spec.get("max_percent", 1.0)))}.get(self.method, 1.0)

    def round(self, units: float) -> float:
        """Round toward zero to whole lots (or keep fractional units)."""
        return round_units(units, self.lot, self.fractional)

    def units_for(self, eng: "Engine", order: "Order", price: float) -> tuple[float, HoldReason]:
        """Unsigned units for an entry at ``price`` (0 with the reason when none)."""
        equity = eng.equity_with(price)
        sp = self.spec
        if price <= 0 or math.isnan(price):
            return 0.0, HoldReason.SIZED_TO_ZERO
        if self.method == "fixed_units":
            raw = float(sp["units"])
        elif self.method == "fixed_notional":
            raw = float(sp["notional"]) / price
        elif self.method == "percent_equity":
            raw = float(sp["percent"]) * equity / price
        elif self.method == "vol_target":
            vol = float(eng.m.sizing_series["vol"][order.decided])
            if math.isnan(vol) or vol <= 0:
                return 0.0, HoldReason.SIZED_TO_ZERO
            lev = min(float(sp["target"]) / vol, float(sp["max_leverage"]))
            raw = equity * lev / price
        elif self.method == "fuzzy":
            size = float(eng.m.sizing_series["fuzzy"][order.decided])
            if math.isnan(size) or size <= 0:
                return 0.0, HoldReason.SIZED_TO_ZERO
            raw = size * float(sp["max_percent"]) * equity / price
        elif self.method == "all_in":
            return self._all_in(eng, price)
        else:
            raise ValueError(f"sizing method {self.method!r} is not supported by this engine")
        units = round_units(raw, self.lot, self.fractional)
        if units <= 0 or math.isnan(units):
            return 0.0, HoldReason.SIZED_TO_ZERO
        if units * price > max(equity, 0.0) * self.leverage * (1.0 + 1e-9):
            return 0.0, HoldReason.INSUFFICIENT_CASH
        return units, HoldReason.NONE

    def _all_in(self, eng: "Engine", price: float) -> tuple[float, HoldReason]:
        cash = eng.cash
        costs = eng.costs
        per_unit = price + price * costs.commission + costs.per_unit
        raw = cash / per_unit if per_unit > 0 else 0.0
        if raw > 0 and costs.minimum > (per_unit - price) * raw:
            raw = (cash - costs.minimum) / price  # the minimum commission binds: it is paid in full
        units = round_units(raw, self.lot, self.fractional) if raw > 0 else 0.0
        while units > 0 and units * price + commission(costs, units, price) > cash:
            units = round_units(units - (self.lot if not self.fractional else units * 1e-9), self.lot,
                                self.fractional)
        if units <= 0:
            return 0.0, HoldReason.INSUFFICIENT_CASH
        return units, HoldReason.NONE
