"""Shared pieces of every document model: strictness, names, and typed quantities."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

from dsl import quantities as q


class SpecValueError(ValueError):
    """A validator's complaint about one part of a document.

    ``path`` is relative to the model being validated (``("slots",)``, ``("on_breach", "x")``)
    so the diagnostic points at that part, not at the whole mapping; ``code`` and ``hint``
    go straight into the diagnostic. ``at_key`` points at the key rather than its value.
    """

    def __init__(self, message: str, path: tuple = (), code: str = "E203", hint: str | None = None,
                 at_key: bool = False) -> None:
        super().__init__(message)
        self.path = tuple(path)
        self.code = code
        self.hint = hint
        self.at_key = at_key


class Model(BaseModel):
    """Strict and inert: unknown fields are errors and documents never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"

#: A document or member name: letters, digits and underscores, not starting with a digit.
Name = Annotated[str, Field(pattern=NAME_PATTERN, min_length=1, max_length=64)]

#: Formula text in the expression language (parsed by dsl.parse, never evaluated by Python).
Formula = Annotated[str, Field(min_length=1), WithJsonSchema(
    {"type": "string", "description": "a formula in the tradespec expression language",
     "examples": ["rsi(close, 14) < 30 and close > sma(close, 200)"]})]


def _quantity(parser, schema: dict) -> Any:
    def validate(v: Any) -> Any:
        if isinstance(v, (q.Duration, q.Bars, q.TimeOfDay, q.Window, q.DailyAt)):
            return v
        return parser(v)  # a QuantityError (a ValueError) becomes an E204 diagnostic

    return (BeforeValidator(validate), WithJsonSchema(schema))


def _pct(v: Any) -> float:
    return q.parse_pct(v)


#: A fraction written with a unit: "2%" -> 0.02, "10bps" -> 0.001.
Pct = Annotated[float, BeforeValidator(_pct), WithJsonSchema(
    {"type": "string", "pattern": r"^-?[0-9.]+\s*(%|bps|bp)$", "examples": ["2%", "10bps"]})]

Duration = Annotated[q.Duration, *_quantity(q.parse_duration, {
    "type": "string", "pattern": r"^[0-9]+(ms|s|m|h|d|w)$", "examples": ["5m", "1h", "1d"]}),
    PlainSerializer(str, return_type=str)]

BarsOrDuration = Annotated[q.Bars | q.Duration, *_quantity(q.parse_bars_or_duration, {
    "type": "string", "examples": ["3 bars", "4h"]}), PlainSerializer(str, return_type=str)]

TimeOfDay = Annotated[q.TimeOfDay, *_quantity(q.parse_time_of_day, {
    "type": "string", "pattern": r"^[0-9]{1,2}:[0-9]{2} [A-Z]+$", "examples": ["00:00 UTC"]}),
    PlainSerializer(str, return_type=str)]

Cadence = Annotated[q.Duration | q.DailyAt, *_quantity(q.parse_cadence, {
    "type": "string", "examples": ["5m", "1h", "daily 15:55 UTC"]}), PlainSerializer(str, return_type=str)]

Window = Annotated[q.Window, *_quantity(q.parse_window, {
    "type": "string", "examples": ["Mon-Fri 13:30-20:00 UTC"]}), PlainSerializer(str, return_type=str)]


def _money_or_pct(v: Any) -> Any:
    if isinstance(v, dict):
        return v
    if isinstance(v, bool):
        raise q.QuantityError("expected an amount like 5000 or a percentage like '2%'")
    if isinstance(v, (int, float)):
        return {"value": float(v), "unit": "money"}
    try:
        return {"value": q.parse_pct(v), "unit": "pct"}
    except q.QuantityError:
        raise q.QuantityError(f"expected an amount like 5000 or a percentage like '2%', got {v!r}") from None


class MoneyOrPct(Model):
    value: float
    unit: Literal["money", "pct"]

    def __str__(self) -> str:
        return f"{self.value * 100:g}%" if self.unit == "pct" else f"{self.value:g}"


AmountOrPct = Annotated[MoneyOrPct, BeforeValidator(_money_or_pct), WithJsonSchema(
    {"anyOf": [{"type": "number"}, {"type": "string", "examples": ["2%"]}]})]

Tier = Literal["core", "aux", "legacy", "research"]
