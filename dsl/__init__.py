"""The spec language: text -> checked project -> graph. One verb per stage.

    >>> from dsl import load, resolve, check          # doctest: +SKIP
    >>> docs = load(["specs/"])                       # E1xx/E2xx: YAML and fields
    >>> ws = resolve(docs)                            # E4xx: references between documents
    >>> project = check(ws)                           # E3xx/E5xx: formulas and rules

Each verb raises ``DslError`` carrying every diagnostic of its stage; ``analyze`` runs all
stages and returns diagnostics instead of raising, for ``tradespec check``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dsl import check as _check
from dsl import resolve as _resolve
from dsl.errors import Diagnostic, DslError, sort_diagnostics
from dsl.loader import load_paths
from dsl.resolve import Workspace
from dsl.validate import SpecDoc, validate

__all__ = ["Analysis", "DslError", "Diagnostic", "Workspace", "analyze", "check", "load", "resolve"]


@dataclass
class Loaded:
    docs: list[SpecDoc]
    sources: dict[str, list[str]]


def load(paths: list[str | Path]) -> Loaded:
    """Read and validate spec files (files or folders)."""
    res = load_paths(list(paths))
    docs, diags = validate(res.docs)
    errors = [d for d in res.diagnostics + diags if d.is_error]
    if errors:
        raise DslError(errors)
    return Loaded(docs, res.sources)


def resolve(loaded: Loaded) -> Workspace:
    ws, diags = _resolve.resolve(loaded.docs, loaded.sources)
    if any(d.is_error for d in diags):
        raise DslError(diags)
    return ws


def check(ws: Workspace, params: dict[str, dict[str, float]] | None = None) -> _check.Project:
    project, diags = _check.check(ws, params)
    if any(d.is_error for d in diags):
        raise DslError(diags)
    return project


@dataclass
class Analysis:
    """Everything ``tradespec check`` reports: all diagnostics of every stage that could run."""

    documents: list[SpecDoc] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)
    project: _check.Project | None = None

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    def workspace_has(self, kind: str, name: str) -> bool:
        return any(d.kind == kind and d.name == name for d in self.documents)

    @property
    def notes(self) -> list[str]:
        """Facts a reviewer should see that are not problems (e.g. strategies without limits)."""
        out = []
        for d in self.documents:
            if d.kind == "strategy" and d.model.risk_profile is None:
                out.append(f"strategy '{d.name}' ({d.span('name')}) names no risk_profile: it runs under the "
                           f"default, with no risk limits beyond its sizing (docs/risk.md)")
        return sorted(out)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]


def analyze(paths: list[str | Path], params: dict[str, dict[str, float]] | None = None) -> Analysis:
    """Run every stage as far as it can go and collect all diagnostics (never raises on bad input).

    Stages run on the documents that passed the previous stage, so one bad file does not
    hide the errors of the others.
    """
    res = load_paths(list(paths))
    docs, vdiags = validate(res.docs)
    out = Analysis(docs, list(res.diagnostics) + vdiags, res.sources)
    ws, rdiags = _resolve.resolve(docs, res.sources)
    out.diagnostics += rdiags
    project, cdiags = _check.check(ws, params)
    out.diagnostics += cdiags
    out.project = project
    out.diagnostics = sort_diagnostics(out.diagnostics)
    return out


def explain_document(source, target: str):
    """Explain a document and what it references (``dsl.explain.ExplainDoc``: md and html)."""
    from dsl import explain as _explain

    return _explain.explain(source, target)


def diff_specs(old, new, context=None):
    """Semantic diff of two spec files or folders (``dsl.diff.SemanticDiff``)."""
    from dsl import diff as _diff

    return _diff.diff_paths(old, new, context)


def fuzzy_engine_data(checked_fuzzy) -> dict:
    """A checked fuzzy rule base as its engine description (plain data for library.fuzzy)."""
    from dsl.fuzzy_compile import build_engine

    return build_engine(checked_fuzzy)


def import_fll(text: str, name: str, file: str = "<fll>") -> str:
    """fuzzylite FLL text -> a ``kind: fuzzy`` YAML document (DslError naming the FLL line)."""
    from dsl.fll import fll_to_yaml

    return fll_to_yaml(text, name, file=file)


def compile_plan(project, name: str):
    """A checked schedule compiled into its slots' graphs and the plan (``PlanGraph``)."""
    from dsl.compile_schedule import compile_schedule

    return compile_schedule(project, name)


def compile_target(project, name: str):
    """A strategy's Graph."""
    from dsl.compile import compile_project

    return compile_project(project, name)
