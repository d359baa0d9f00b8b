"""Simulated fills and costs: spread, slippage and commission, all adverse to the trader.

A buy pays ``price * (1 + spread/2)`` plus slippage, a sell receives
``price * (1 - spread/2)`` minus slippage. Slippage is a fraction of price (``5bps``) or a
price distance evaluated on the decision bar (``0.1 * atr(14)``). Commission per order is
``max(rate * |units| * fill + per_unit * |units|, minimum)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Costs:
    commission: float = 0.0  # fraction of notional per side
    per_unit: float = 0.0
    minimum: float = 0.0
    spread: float = 0.0  # full spread as a fraction
    slippage_mode: str = "pct"  # "pct" | "distance"
    slippage_value: float = 0.0  # for pct mode (or a constant distance)

    @staticmethod
    def from_plan(plan: dict, instrument: str | None = None) -> "Costs":
        """``instrument``: whose venue fee ``commission: venue`` takes (default the strategy's)."""
        ex = plan["execution"]
        slip = plan["slippage"]
        rate = ex.get("commission", 0.0)
        if rate == "venue":
            inst = instrument or plan.get("instrument") or plan["universe"]["instruments"][0]["id"]
            rate = next(i["fees"]["taker"] for i in plan["universe"]["instruments"] if i["id"] == inst)
        return Costs(
            commission=float(rate),
            per_unit=float(ex.get("commission_per_unit", 0.0)),
            minimum=float(ex.get("min_commission", 0.0)),
            spread=float(ex.get("spread", 0.0)),
            slippage_mode=slip["mode"],
            slippage_value=float(slip.get("value", 0.0) or 0.0),
        )


def fill_price(costs: Costs, ref: float, side: int, slip_distance: float) -> float:
    """Price paid (side=+1, buying) or received (side=-1, selling) for a reference price."""
    p = ref * (1.0 + side * costs.spread / 2.0) if costs.spread else ref
    if costs.slippage_mode == "pct":
        if costs.slippage_value:
            p = p * (1.0 + side * costs.slippage_value)
    else:
        d = slip_distance if not math.isnan(slip_distance) else 0.0
        p = p + side * d
    return p


def to_tick(price: float, tick: float, side: int) -> float:
    """A fill price on the venue's tick grid, against the trader: a buy rounds up, a sell down
    (a price already on the grid, up to float noise, stays)."""
    q = price / tick
    k = math.ceil(q - 1e-9) if side > 0 else math.floor(q + 1e-9)
    return round(k * tick, 12)


def to_lot(units: float, lot: float) -> float:
    """Units rounded toward zero to whole venue lots (the sign kept)."""
    return round_units(units, lot, False)


def commission(costs: Costs, units: float, price: float) -> float:
    u = abs(units)
    if u == 0.0:
        return 0.0
    c = costs.commission * u * price + costs.per_unit * u
    return max(c, costs.minimum)


def round_units(units: float, lot: float, fractional: bool) -> float:
    """Round a unit count toward zero to a whole number of lots (unless fractional)."""
    if fractional:
        return units
    q = abs(units) / lot
    lots = math.floor(q * (1.0 + 1e-10))  # 0.3 / 0.1 is 2.9999999999999996 in floats: still 3 lots
    return math.copysign(round(lots * lot, 12), units) if lots else 0.0
