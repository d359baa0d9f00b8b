"""Diagnostics: errors are data, collected by every stage, sorted, and rendered once.

Codes by stage: E1xx load, E2xx validate, E3xx parse, E4xx resolve, E5xx check,
E6xx compile (W6xx warnings), D1xx data quality, U1xx usage. ``docs/errors.md``
lists every code with a bad and a corrected example; a test keeps it complete.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from dsl.source import Span, render_snippet

#: code -> one-line title; the table docs/errors.md is checked against.
CODES: dict[str, str] = {
    "E101": "YAML syntax error",
    "E102": "duplicate key",
    "E103": "document root is not a mapping",
    "E104": "unknown or missing kind",
    "E105": "file too large",
    "E106": "nesting too deep",
    "E107": "YAML feature not allowed (tags, anchors, aliases)",
    "E108": "file cannot be read",
    "E109": "no spec files found",
    "E110": "formula split by a comma in a '{...}' mapping",
    "E201": "missing field",
    "E202": "unknown field",
    "E203": "invalid value",
    "E204": "invalid quantity or unit",
    "E205": "wrong type",
    "E301": "formula syntax error",
    "E302": "formula too long",
    "E303": "rule syntax error",
    "E401": "unknown reference",
    "E402": "duplicate document name",
    "E403": "reference to the wrong kind",
    "E404": "reference cycle",
    "E501": "unknown function",
    "E502": "unknown name",
    "E503": "wrong number of arguments",
    "E504": "argument type mismatch",
    "E505": "expression has the wrong type",
    "E506": "unknown fuzzy variable",
    "E507": "unknown fuzzy term or membership shape",
    "E508": "unknown hedge",
    "E509": "fuzzy term outside the variable's range",
    "E510": "duplicate fuzzy term",
    "E511": "constant argument expected",
    "E512": "unknown output field",
    "E513": "value outside its declared range",
    "E514": "unknown instrument",
    "E515": "trade state used outside a trade",
    "E601": "cycle between signals",
    "E602": "lookahead (negative lag)",
    "W601": "unused signal",
    "D101": "data file cannot be read",
    "D102": "missing column",
    "D103": "unparseable timestamp",
    "D104": "timestamps not sorted",
    "D105": "duplicate timestamp",
    "D106": "missing value (NaN)",
    "D107": "non-positive price",
    "D108": "high below low",
    "D109": "high/low does not contain open/close",
    "D110": "gap against the timeframe",
    "D111": "empty data",
    "U101": "bad command-line value",
}


@dataclass(frozen=True)
class Diagnostic:
    code: str
    message: str
    span: Span | None = None
    hint: str | None = None
    severity: str = "error"  # error | warning | info
    notes: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def sort_key(self) -> tuple:
        if self.span is None:
            return ("", 0, 0, self.code, self.message)
        return (self.span.file, self.span.line, self.span.col, self.code, self.message)

    def to_dict(self) -> dict:
        d: dict = {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
            "file": None,
            "line": None,
            "col": None,
            "end_line": None,
            "end_col": None,
        }
        if self.span:
            d.update(
                file=self.span.file,
                line=self.span.line,
                col=self.span.col,
                end_line=self.span.end_line,
                end_col=self.span.end_col,
            )
        if self.notes:
            d["notes"] = list(self.notes)
        return d


class DslError(Exception):
    """Raised by a facade verb when its stage produced errors; carries all of them."""

    def __init__(self, diagnostics: Sequence[Diagnostic], sources: dict[str, list[str]] | None = None):
        self.diagnostics = sort_diagnostics(diagnostics)
        self.sources = sources
        first = self.diagnostics[0] if self.diagnostics else None
        super().__init__(first.message if first else "error")


def sort_diagnostics(diags: Iterable[Diagnostic]) -> list[Diagnostic]:
    seen: set = set()
    out = []
    for d in sorted(diags, key=Diagnostic.sort_key):
        k = (d.code, d.message, d.span)
        if k not in seen:
            seen.add(k)
            out.append(d)
    return out


def suggestions(word: str, candidates: Iterable[str]) -> list[str]:
    """Candidates close to a misspelt word: the closest one, or several equally close.

    A short word may be close to the start of longer names ("fixd" -> "fixed_units" and
    "fixed_notional"); then every name with that best-matching start is returned.
    """
    cands = sorted({str(c) for c in candidates})
    if not word or not cands:
        return []
    match = difflib.get_close_matches(word, cands, n=1, cutoff=0.6)
    if match:
        return match
    low = {c.lower(): c for c in cands}
    match = difflib.get_close_matches(word.lower(), list(low), n=1, cutoff=0.6)
    if match:
        return [low[match[0]]]
    best, found = 0.0, []
    for c in cands:
        parts = c.lower().split("_")
        for k in range(1, len(parts)):
            r = difflib.SequenceMatcher(None, word.lower(), "_".join(parts[:k])).ratio()
            if r >= 0.75 and r >= best:
                found = ([] if r > best else found) + [c]
                best = r
    return sorted(set(found))


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelt word, if one is close enough."""
    found = suggestions(word, candidates)
    return found[0] if found else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    found = [f"'{s}'" for s in suggestions(word, candidates)[:3]]
    if not found:
        return None
    return f"did you mean {' or '.join(found)}?"


def render(diag: Diagnostic, sources: dict[str, list[str]] | None = None) -> str:
    """``file:line:col: CODE message``, the source line underlined, then the hint."""
    head = f"{diag.code} {diag.message}"
    if diag.severity == "warning":
        head = f"{diag.code} warning: {diag.message}"
    lines = [f"{diag.span}: {head}" if diag.span else head]
    if diag.span and sources is not None:
        snippet = render_snippet(diag.span, sources.get(diag.span.file))
        if snippet:
            lines.append(snippet)
    for note in diag.notes:
        lines.append(f"note: {note}")
    if diag.hint:
        lines.append(f"hint: {diag.hint}")
    return "\n".join(lines)


def render_all(
    diags: Sequence[Diagnostic], sources: dict[str, list[str]] | None = None, cap: int = 20
) -> str:
    """All diagnostics, sorted, capped at ``cap`` with '... and N more', plus a count line."""
    ordered = sort_diagnostics(diags)
    shown = [render(d, sources) for d in ordered[:cap]]
    if len(ordered) > cap:
        shown.append(f"... and {len(ordered) - cap} more")
    n_err = sum(d.is_error for d in ordered)
    n_warn = sum(d.severity == "warning" for d in ordered)
    parts = []
    if n_err:
        parts.append(f"{n_err} error{'s' if n_err != 1 else ''}")
    if n_warn:
        parts.append(f"{n_warn} warning{'s' if n_warn != 1 else ''}")
    if parts:
        shown.append(", ".join(parts))
    return "\n\n".join(shown[:-1]) + ("\n\n" if len(shown) > 1 else "") + shown[-1] if shown else ""


def to_json(diags: Sequence[Diagnostic]) -> str:
    return json.dumps([d.to_dict() for d in sort_diagnostics(diags)], indent=2, sort_keys=True)


@dataclass
class Collector:
    """Accumulates diagnostics within a stage."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, code: str, message: str, span: Span | None = None, hint: str | None = None,
            severity: str = "error", notes: tuple[str, ...] = ()) -> None:
        self.items.append(Diagnostic(code, message, span, hint, severity, notes))

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        self.items.extend(diags)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)

    def raise_if_errors(self) -> None:
        if self.has_errors:
            raise DslError(self.items)
