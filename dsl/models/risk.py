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
LEVEL_FIELDS = {"portfolio": PortfolioLimits.model_fields, "strategy": StrategyLimits.model_fields,
                "instrument": InstrumentLimits.model_fields}
#: qualified names: "portfolio.max_daily_loss", ...
QUALIFIED_LIMITS = sorted(f"{lvl}.{f}" for lvl, fields in LEVEL_FIELDS.items() for f in fields)

_SIZE = ("reduce", "block_new", "warn")
_STATE = ("block_new", "warn")
_LOSS = ("block_new", "flatten", "flatten_and_halt", "warn")
#: which actions make sense for each limit (a limit on order size can clip the order; a loss limit can
#: close positions; a counter can only refuse new entries)
ALLOWED_ACTIONS: dict[str, tuple[str, ...]] = {
    "max_gross_exposure": _SIZE, "max_net_exposure": _SIZE, "max_exposure": _SIZE, "max_position": _SIZE,
    "max_order_notional": _SIZE, "min_order_size": _STATE, "max_open_positions": _STATE,
    "max_daily_loss": _LOSS, "max_drawdown": _LOSS, "cooldown_after_loss": _STATE,
    "max_orders_per_day": _STATE, "rate_limit": _STATE, "max_consecutive_losses": _STATE,
}
#: what happens on breach when on_breach does not say (docs/risk.md)
DEFAULT_ACTIONS: dict[str, str] = {
    "max_gross_exposure": "reduce", "max_net_exposure": "reduce", "max_exposure": "reduce",
    "max_position": "reduce", "max_order_notional": "reduce", "min_order_size": "block_new",
    "max_open_positions": "block_new", "max_daily_loss": "block_new", "max_drawdown": "flatten_and_halt",
    "cooldown_after_loss": "block_new", "max_orders_per_day": "block_new", "rate_limit": "block_new",
    "max_consecutive_losses": "block_new",
}


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

        for name, action in self.on_breach.items():
            if name not in LIMIT_NAMES and name not in QUALIFIED_LIMITS:
                s = suggest(name, LIMIT_NAMES + QUALIFIED_LIMITS)
                raise SpecValueError(f"on_breach names an unknown limit '{name}'", ("on_breach", name), "E202",
                                     f"did you mean '{s}'?" if s else f"limits are: {', '.join(LIMIT_NAMES)}",
                                     at_key=True)
            base = name.split(".")[-1]
            if action not in ALLOWED_ACTIONS[base]:
                raise SpecValueError(f"on_breach: '{action}' cannot apply to {base}",
                                     ("on_breach", name), "E203",
                                     f"{base} allows: {', '.join(ALLOWED_ACTIONS[base])}")
        return self

    def action_for(self, level: str, name: str) -> str:
        """The action for a limit: a qualified entry wins over a bare one, then the default."""
        return self.on_breach.get(f"{level}.{name}") or self.on_breach.get(name) or DEFAULT_ACTIONS[name]
