"""The Python API of tradespec — what the CLI calls and what tests use first.

    >>> import interpreter as ts
    >>> result = ts.check_specs(["specs/"])
    >>> result.ok
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dsl
import library
from dsl.models import MODELS
from library.registry import Entry

__version__ = "0.1.0"


def check_specs(paths: list[str | Path], params: dict[str, dict[str, float]] | None = None) -> dsl.Analysis:
    """Run every stage of the language on ``paths`` and collect all diagnostics."""
    return dsl.analyze(list(paths), params)


def json_schemas(kind: str | None = None) -> dict[str, Any]:
    """JSON Schema per document kind (from the pydantic models)."""
    if kind is not None and kind not in MODELS:
        from dsl.errors import did_you_mean

        hint = did_you_mean(kind, MODELS) or ""
        raise KeyError(f"unknown kind '{kind}'; kinds: {', '.join(sorted(MODELS))}. {hint}".strip())
    kinds = [kind] if kind else sorted(MODELS)
    out = {}
    for k in kinds:
        s = MODELS[k].model_json_schema(mode="validation")
        s["$id"] = f"https://tradespec.dev/schema/{k}.schema.json"
        s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[k] = s
    return out


# ---------------------------------------------------------------- library


def library_kinds() -> list[str]:
    return sorted({e.kind for e in library.REGISTRY})


def library_entries(kind: str | None = None) -> list[Entry]:
    return [e for e in library.REGISTRY if kind is None or e.kind == kind]


def library_entry(name: str) -> Entry | None:
    return library.REGISTRY.get(name)


def _lookback_text(e: Entry) -> str:
    import inspect

    try:
        src = inspect.getsource(e.lookback_fn).strip()
    except (OSError, TypeError):
        src = ""
    if "lambda" in src:
        body = src.split("lambda", 1)[1].split(":", 1)[1].strip().rstrip(",)").strip()
        return body.split(", outputs")[0].strip() or src
    try:
        return str(e.lookback())
    except TypeError:
        return "depends on arguments"


def library_entry_dict(e: Entry) -> dict[str, Any]:
    return {
        "name": e.name,
        "kind": e.kind,
        "signature": e.signature,
        "params": [{"name": p.name, "type": p.vtype.value,
                    "default": None if p.required or p.context else p.default,
                    "required": p.required, "filled_by": p.context} for p in e.params],
        "returns": e.returns.value,
        "outputs": list(e.outputs),
        "lookback": _lookback_text(e),
        "summary": e.summary,
        "doc": e.doc,
    }


def library_entry_text(e: Entry) -> str:
    lines = [e.signature, "", f"kind: {e.kind}", f"lookback: {_lookback_text(e)}"]
    if e.outputs:
        lines.append(f"outputs: {', '.join(e.outputs)} (pick one with .{e.outputs[0]})")
    lines += ["", e.doc]
    return "\n".join(lines)
