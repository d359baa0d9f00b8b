"""``kind: risk_profile`` — limits at three levels, what to do on breach, and severity."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dsl import quantities as q
from dsl.models.common import AmountOrPct, BarsOrDuration, Model, Name, Pct, SpecValueError, TimeOfDay

Action = Literal["block_new", "reduce", "flatten", "flatten_and_halt", "warn"]


class RateLimit(Model):
    count: int = Field(gt=0)
    per: BarsOrDuration


class PortfolioLimits(Model):
    max_gross_exposure: Pct | None = None
    max_net_exposure: Pct | None = None
    max_daily_loss: AmountOrPct | None = None
    max_drawdown: Pct | None = None
    max_open_positions: int | None = Field(None, ge=0)


class StrategyLimits(Model):
    max_exposure: Pct | None = None
    cooldown_after_loss: BarsOrDuration | None = None
    max_orders_per_day: int | None = Field(None, ge=0)
    rate_limit: RateLimit | None = None
    max_consecutive_losses: int | None = Field(None, ge=1)


class InstrumentLimits(Model):
    max_exposure: Pct | None = None
    max_position: float | None = Field(None, gt=0, description="units")
    max_order_notional: float | None = Field(None, gt=0)
    min_order_size: float | None = Field(None, ge=0, description="notional")


class Limits(Model):
    portfolio: PortfolioLimits = Field(default_factory=PortfolioLimits)
    strategy: StrategyLimits = Field(default_factory=StrategyLimits)
    instrument: InstrumentLimits = Field(default_factory=InstrumentLimits)


class Severity(Model):
    warn_at: Pct = Field(0.8, description="utilisation at which a limit turns YELLOW")


LIMIT_NAMES = sorted(
    set(PortfolioLimits.model_fields) | set(StrategyLimits.model_fields) | set(InstrumentLimits.model_fields)
)


class RiskProfile(Model):
    kind: Literal["risk_profile"]
    name: Name
    description: str = ""
    extends: Name | None = Field(None, description="another profile whose limits this one starts from")
    limits: Limits = Field(default_factory=Limits)
    daily_reset: TimeOfDay = Field(default_factory=lambda: q.parse_time_of_day("00:00 UTC"))
    on_breach: dict[str, Action] = Field(default_factory=dict)
    severity: Severity = Field(default_factory=Severity)

    @model_validator(mode="after")
    def _known_limits(self) -> "RiskProfile":
        from dsl.errors import suggest

        for name in self.on_breach:
            if name not in LIMIT_NAMES:
                s = suggest(name, LIMIT_NAMES)
                raise SpecValueError(f"on_breach names an unknown limit '{name}'", ("on_breach", name), "E202",
                                     f"did you mean '{s}'?" if s else f"limits are: {', '.join(LIMIT_NAMES)}",
                                     at_key=True)
        return self
