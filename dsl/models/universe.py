"""``kind: universe`` — a named basket of instruments, each with its data and trading terms."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_serializer, model_validator

from dsl.models.common import BarsOrDuration, Duration, Model, Name, Pct, SpecValueError


class Fees(Model):
    maker: Pct = 0.0
    taker: Pct = 0.0


class Instrument(Model):
    id: Name = Field(description="how formulas refer to it: close@<id>")
    symbol: str = Field(min_length=1)
    venue: str = "unknown"
    data: str = Field(min_length=1, description="bars file (CSV or Parquet), relative to this spec file")
    timeframe: Duration
    columns: dict[str, str] = Field(default_factory=dict, description="our column name -> the file's")
    tick_size: float = Field(0.01, gt=0)
    lot_size: float = Field(1.0, gt=0)
    fees: Fees = Field(default_factory=Fees)
    currency: str = "USD"
    asset_class: Literal["equity", "index", "crypto", "future", "fx", "other"] = "other"
    alignment: Literal["asof", "exact"] = Field(
        "asof", description="how close@<id> lines up with the strategy's bars: the last bar at most "
                            "max_staleness old (asof), or only a bar at the same timestamp (exact)")
    max_staleness: BarsOrDuration | None = Field(
        None, description="asof: the oldest bar close@<id> may use, as a duration ('15m') or in bars of "
                          "the strategy's timeframe ('3 bars'); default one strategy bar")

    @model_validator(mode="after")
    def _staleness_needs_asof(self) -> "Instrument":
        if self.alignment == "exact" and self.max_staleness is not None:
            raise SpecValueError("max_staleness applies to alignment 'asof'; 'exact' only uses bars at the "
                                 "same timestamp", ("max_staleness",),
                                 hint="remove max_staleness, or use alignment: asof")
        return self

    @model_serializer(mode="wrap")
    def _omit_default_alignment(self, handler):
        # The alignment fields are left out while they hold their defaults, so documents that do not
        # use them dump (and so fingerprint) exactly as they did before the fields existed.
        data = handler(self)
        if isinstance(data, dict):
            if self.max_staleness is None:
                data.pop("max_staleness", None)
            if self.alignment == "asof":
                data.pop("alignment", None)
        return data


class Universe(Model):
    kind: Literal["universe"]
    name: Name
    description: str = ""
    instruments: list[Instrument] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> "Universe":
        ids = [i.id for i in self.instruments]
        for n, i in enumerate(ids):
            if i in ids[:n]:
                raise SpecValueError(f"instrument id '{i}' is used twice (also by instruments[{ids.index(i)}])",
                                     ("instruments", n, "id"), hint="ids must be unique within a universe")
        return self

    def get(self, inst_id: str) -> Instrument | None:
        return next((i for i in self.instruments if i.id == inst_id), None)
