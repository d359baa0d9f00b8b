"""``kind: universe`` — a named basket of instruments, each with its data and trading terms."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dsl.models.common import Duration, Model, Name, Pct, SpecValueError


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
