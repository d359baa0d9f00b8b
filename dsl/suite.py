"""Regression suite manifests: specs x datasets x params -> golden results.

A suite is YAML like the specs (loaded with positions, strict models), but it is not a
spec kind: it names spec files and data files and says how far each metric may move.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, model_validator

from dsl.errors import Collector, DslError
from dsl.loader import load_paths
from dsl.models.common import Model, Name
from dsl.validate import _error_to_diag


class Tolerances(Model):
    rel: float = Field(1e-9, ge=0, description="default relative tolerance for metrics")
    abs: float = Field(1e-12, ge=0, description="default absolute tolerance for metrics")
    metrics: dict[str, float] = Field(default_factory=dict, description="metric -> relative tolerance")


class Case(Model):
    name: Name
    spec: str = Field(min_length=1)
    target: Name | None = None
    data: dict[str, str] = Field(default_factory=dict, description="instrument id -> bars file")
    params: dict[str, float] = Field(default_factory=dict)
    start: str | None = None
    end: str | None = None


class Suite(Model):
    suite: Name
    description: str = ""
    root: str = Field(".", description="folder that spec and data paths are relative to (from this file)")
    goldens: str = Field("goldens", description="folder of golden results (from this file)")
    tolerances: Tolerances = Field(default_factory=Tolerances)
    cases: list[Case] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "Suite":
        names = [c.name for c in self.cases]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"case names {dup} appear more than once")
        return self


def load_suite(path: str | Path) -> tuple[Suite, Path]:
    """Validate a suite manifest; returns it and its folder. Raises DslError with positions."""
    res = load_paths([path])
    diags = Collector()
    diags.extend(res.diagnostics)
    if not res.docs and not diags.has_errors:
        diags.add("E103", f"'{path}' holds no suite document")
    suite = None
    if res.docs:
        doc = res.docs[0]
        try:
            suite = Suite.model_validate(doc.data)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                diags.items.append(_error_to_diag(doc, Suite, err))
    if diags.has_errors or suite is None:
        raise DslError(diags.items, res.sources)
    return suite, Path(path).resolve().parent
