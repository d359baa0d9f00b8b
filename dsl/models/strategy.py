"""``kind: strategy`` — what to trade, when to enter and leave, how much, at what cost."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BeforeValidator, Field, WithJsonSchema, model_validator

from dsl.models.common import Duration, Formula, Model, Name, Pct, SpecValueError, Tier


class Param(Model):
    """A tunable number; ``range`` is what sweeps explore and what explain checks against."""

    default: float
    range: tuple[float, float] | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _range_ordered(self) -> "Param":
        if self.range is not None and self.range[0] > self.range[1]:
            lo, hi = self.range
            raise SpecValueError(f"range [{lo:g}, {hi:g}] is reversed", ("range",),
                                 hint=f"write [low, high]: [{hi:g}, {lo:g}]")
        return self


def _param(v: Any) -> Any:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return {"default": v}
    return v


ParamSpec = Annotated[Param, BeforeValidator(_param)]


class Sides(Model):
    long: Formula | None = None
    short: Formula | None = None


class _Sizing(Model):
    lot_size: float = Field(1.0, gt=0, description="units are rounded down to a multiple of this")
    fractional: bool = Field(False, description="allow fractional units (lot_size is then ignored)")


class FixedUnits(_Sizing):
    method: Literal["fixed_units"]
    units: float = Field(gt=0)


class FixedNotional(_Sizing):
    method: Literal["fixed_notional"]
    notional: float = Field(gt=0)


class PercentEquity(_Sizing):
    method: Literal["percent_equity"]
    percent: Pct


class VolTarget(_Sizing):
    method: Literal["vol_target"]
    target: Pct = Field(description="annualised volatility target, e.g. 10%")
    lookback: int = Field(20, ge=2)
    max_leverage: float = Field(1.0, gt=0)


class AllIn(_Sizing):
    method: Literal["all_in"]


class FuzzySizing(_Sizing):
    method: Literal["fuzzy"]
    rulebase: Name
    inputs: dict[Name, Formula]
    output: Name | None = Field(None, description="which output of the rule base; default: its only one")
    max_percent: Pct = Field(1.0, description="position at fuzzy output 1.0, as a fraction of equity")


Sizing = Annotated[Union[FixedUnits, FixedNotional, PercentEquity, VolTarget, AllIn, FuzzySizing],
                   Field(discriminator="method")]


def _formula_text(v: Any) -> Any:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    return v


StopFormula = Annotated[Formula, BeforeValidator(_formula_text)]


class Stops(Model):
    """Each is a price distance (``2 * atr(14)``, or a number: ``5`` points) or a fraction of the
    entry price (``2%``)."""

    stop_loss: StopFormula | None = None
    take_profit: StopFormula | None = None
    trailing_stop: StopFormula | None = None


def _commission(v: Any) -> float | str:
    """A percentage, or ``venue``; a word close to ``venue`` gets that as its hint."""
    import difflib

    from dsl import quantities as q

    if v == "venue":
        return v
    if isinstance(v, str) and difflib.get_close_matches(v.strip().lower(), ["venue"], cutoff=0.6):
        raise q.QuantityError(f"expected a percentage like '10bps' or 'venue', got {v!r}", "did you mean 'venue'?")
    return q.parse_pct(v)


#: ``commission``: a percentage of notional, or ``venue`` (the instrument's taker fee).
Commission = Annotated[float | Literal["venue"], BeforeValidator(_commission), WithJsonSchema(
    {"anyOf": [{"type": "string", "pattern": r"^-?[0-9.]+\s*(%|bps|bp)$", "examples": ["10bps"]},
               {"const": "venue"}]})]


class Execution(Model):
    fill: Literal["next_open", "close"] = "next_open"
    commission: Commission = Field(
        0.0, description="per side, as a fraction of notional; 'venue': each instrument's taker fee "
                         "from its universe (fills at the open or close take liquidity)")
    commission_per_unit: float = Field(0.0, ge=0)
    min_commission: float = Field(0.0, ge=0)
    slippage: Annotated[Formula, BeforeValidator(_formula_text)] = Field(
        "0bps", description="'5bps' of price, or a price-distance formula such as '0.1 * atr(14)'")
    spread: Pct = Field(0.0, description="full quoted spread; half is paid on each side")
    venue_increments: bool = Field(False, description="round order units down to the instrument's lot_size and "
                                                      "fill prices to its tick_size, against the trader")


class Hedge(Model):
    """The second leg of a pair: every position on ``instrument`` comes with the opposite
    position on this one, opened and closed on the same fills, reported as one trade."""

    instrument: Name = Field(description="the universe member traded against the strategy's instrument")
    ratio: float = Field(1.0, gt=0, description="hedge units per unit of the primary leg")


class Strategy(Model):
    kind: Literal["strategy"]
    name: Name
    description: str = ""
    tier: Tier = "core"
    universe: Name
    instrument: Name | None = Field(None, description="run on one member of the universe only")
    timeframe: Duration
    capital: float = Field(100_000.0, gt=0)
    params: dict[Name, ParamSpec] = Field(default_factory=dict)
    signals: dict[Name, Formula] = Field(default_factory=dict)
    entry: Sides
    exit: Sides = Field(default_factory=Sides)
    sizing: Sizing = Field(default_factory=lambda: AllIn(method="all_in"))
    stops: Stops = Field(default_factory=Stops)
    execution: Execution = Field(default_factory=Execution)
    risk_profile: Name | None = None
    hedge: Hedge | None = Field(None, description="trade a pair: the opposite position on another instrument")

    @model_validator(mode="after")
    def _has_entry(self) -> "Strategy":
        if self.entry.long is None and self.entry.short is None:
            raise SpecValueError("entry needs a 'long' or a 'short' condition", ("entry",), "E201",
                                 "add 'long: <condition>' under entry, e.g. long: close > sma(close, 50)",
                                 at_key=True)
        return self
