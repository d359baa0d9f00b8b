"""``kind: schedule`` — several strategies run together on one capital base."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dsl.models.common import Cadence, Model, Name, Pct, SpecValueError, Window


class Slot(Model):
    strategy: Name | None = None
    plan: Name | None = Field(None, description="another schedule run as one slot of this one")
    universe: Name | None = Field(None, description="overrides the strategy's universe")
    allocation: Pct
    cadence: Cadence | None = Field(None, description="decide every N minutes/hours of bar closes ('15m'), or "
                                                     "once a day ('daily 15:55 UTC'); default every bar")
    window: Window | None = None
    priority: int = 0

    @model_validator(mode="after")
    def _one_target(self) -> "Slot":
        if (self.strategy is None) == (self.plan is None):
            both = self.strategy is not None
            raise SpecValueError("a slot runs exactly one of 'strategy' or 'plan'"
                                 + (", not both" if both else ""), ("plan",) if both else (),
                                 "E203" if both else "E201",
                                 "remove one of them" if both else "add 'strategy: <name>'")
        return self

    @property
    def target(self) -> str:
        return self.strategy or self.plan or ""


class AllocationPlan(Model):
    method: Literal["fixed", "inverse_vol", "risk_parity"] = "fixed"
    rebalance: Literal["never", "daily", "weekly", "monthly"] = "never"
    lookback: int = Field(60, ge=2)


class Schedule(Model):
    kind: Literal["schedule"]
    name: Name
    description: str = ""
    capital: float = Field(gt=0)
    risk_profile: Name | None = None
    slots: list[Slot] = Field(min_length=1)
    allocation: AllocationPlan = Field(default_factory=AllocationPlan)
    holidays: list[str] = Field(default_factory=list, description="dates (YYYY-MM-DD) with no trading")
    netting: bool = Field(True, description="cross opposite orders on one instrument filling at the same open "
                                            "internally: the matched units pay no spread, slippage or commission")

    @model_validator(mode="after")
    def _allocations(self) -> "Schedule":
        total = sum(s.allocation for s in self.slots)
        if total > 1.0 + 1e-9:
            parts = " + ".join(f"{s.allocation * 100:g}%" for s in self.slots)
            raise SpecValueError(f"slot allocations add up to {total * 100:g}% ({parts}), more than 100%",
                                 ("slots",), at_key=True,
                                 hint="lower the allocations so that they add up to at most 100%")
        return self
