"""Loaded YAML data -> frozen document models, with pydantic errors mapped to file positions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from dsl.errors import Collector, Diagnostic, did_you_mean
from dsl.loader import LoadedDoc
from dsl.models import MODELS, Document
from dsl.source import KeyPath, SourceMap, Span


@dataclass(frozen=True)
class SpecDoc:
    """A validated document and where it came from."""

    model: Document
    source: SourceMap
    file: str
    sha256: str

    @property
    def kind(self) -> str:
        return self.model.kind

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def ref(self) -> str:
        return f"{self.kind}.{self.name}"

    def span(self, *path: str | int) -> Span | None:
        return self.source.value(tuple(path))

    def key_span(self, *path: str | int) -> Span | None:
        return self.source.key(tuple(path))


def _describe(v: Any) -> str:
    if isinstance(v, str):
        return f"'{v}'"
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "nothing"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    return repr(v)


_TYPE_WORDS = {
    "int": "a whole number", "float": "a number", "string": "text", "bool": "true or false",
    "dict": "a mapping (key: value lines)", "list": "a list", "tuple": "a list",
    "model": "a mapping (key: value lines)",
}


def _data_path(data: Any, loc: tuple) -> tuple[KeyPath, list]:
    """Follow a pydantic ``loc`` through the data, skipping union-branch labels.

    Returns the path that exists in the data and the loc elements left over.
    """
    path: list = []
    cur = data
    rest = list(loc)
    while rest:
        el = rest[0]
        if isinstance(cur, dict) and isinstance(el, str) and el in cur:
            path.append(el)
            cur = cur[el]
            rest.pop(0)
        elif isinstance(cur, list) and isinstance(el, int) and 0 <= el < len(cur):
            path.append(el)
            cur = cur[el]
            rest.pop(0)
        elif isinstance(cur, dict) and len(rest) > 1:
            rest.pop(0)  # a union tag or model name pydantic inserted
        else:
            break
    return tuple(path), rest


def _model_at(model: type[BaseModel], data: Any, path: KeyPath) -> type[BaseModel] | None:
    """The model class that validates the mapping at ``path`` (for field-name suggestions)."""
    cur: Any = model
    node = data
    for el in path:
        if isinstance(el, int):
            node = node[el]
            continue
        if not (isinstance(cur, type) and issubclass(cur, BaseModel)):
            return None
        field = cur.model_fields.get(el)
        if field is None:
            return None
        cur = _unwrap(field.annotation, node.get(el) if isinstance(node, dict) else None)
        node = node.get(el) if isinstance(node, dict) else None
    return cur if isinstance(cur, type) and issubclass(cur, BaseModel) else None


def _unwrap(ann: Any, value: Any) -> Any:
    import typing

    origin = typing.get_origin(ann)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(ann)[0], value)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        candidates = [a for a in typing.get_args(ann) if a is not type(None)]
        if isinstance(value, dict) and "method" in value:
            for c in candidates:
                c2 = _unwrap(c, value)
                if isinstance(c2, type) and issubclass(c2, BaseModel):
                    lit = c2.model_fields.get("method")
                    if lit is not None and value["method"] in typing.get_args(lit.annotation):
                        return c2
        for c in candidates:
            c2 = _unwrap(c, value)
            if isinstance(c2, type) and issubclass(c2, BaseModel):
                return c2
        return candidates[0] if candidates else ann
    if origin in (list, tuple):
        args = typing.get_args(ann)
        return _unwrap(args[0], None) if args else ann
    if origin is dict:
        return _unwrap(typing.get_args(ann)[1], None)
    return ann


def _error_to_diag(doc: LoadedDoc, model: type[BaseModel], err: dict) -> Diagnostic:
    smap = doc.source
    path, rest = _data_path(doc.data, tuple(err["loc"]))
    etype = err["type"]
    where = ".".join(str(p) for p in path) or "document"
    inp = err.get("input")
    if etype == "missing":
        field = rest[-1] if rest else (path[-1] if path else "?")
        span = smap.key(path) if path else smap.root
        owner = f"'{where}'" if path else "the document"
        return Diagnostic("E201", f"missing field '{field}' in {owner}", span,
                          f"add '{field}: ...' under {owner}")
    if etype == "extra_forbidden":
        field = path[-1] if path else str(rest[-1] if rest else "?")
        span = smap.key(path)
        parent = _model_at(model, doc.data, path[:-1])
        allowed = sorted(parent.model_fields) if parent else []
        hint = did_you_mean(str(field), allowed)
        if not hint and allowed:
            hint = f"allowed fields here: {', '.join(allowed)}"
        return Diagnostic("E202", f"unknown field '{field}'", span, hint)
    span = smap.value(path)
    if etype in ("literal_error", "enum"):
        expected = err.get("ctx", {}).get("expected", "")
        options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",") if o.strip()]
        hint = did_you_mean(str(inp), options) if isinstance(inp, str) else None
        return Diagnostic("E203", f"{where}: {_describe(inp)} is not one of {expected}", span,
                          hint or f"write one of: {', '.join(options)}")
    if etype == "union_tag_invalid":
        ctx = err.get("ctx", {})
        tag = ctx.get("tag", "?")
        options = [o.strip().strip("'") for o in str(ctx.get("expected_tags", "")).split(",")]
        disc = ctx.get("discriminator", "method").strip("'")
        span = smap.value(path + (disc,)) or span
        return Diagnostic("E203", f"{where}: {disc} '{tag}' is not one of {', '.join(options)}",
                          span, did_you_mean(str(tag), options) or f"write one of: {', '.join(options)}")
    if etype == "union_tag_not_found":
        disc = err.get("ctx", {}).get("discriminator", "method").strip("'")
        return Diagnostic("E201", f"missing field '{disc}' in '{where}'", smap.key(path) or span,
                          f"add '{disc}: ...'")
    if etype == "value_error":
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        code = "E204" if any(w in msg for w in ("percentage", "duration", "bar count", "time",
                                                 "window", "zone", "day", "amount")) else "E203"
        return Diagnostic(code, f"{where}: {msg}", span)
    base = etype.split("_")[0]
    if etype.endswith("_type") or etype.endswith("_parsing") or etype in ("model_attributes_type",):
        want = _TYPE_WORDS.get(base, base)
        return Diagnostic("E205", f"{where}: expected {want}, got {_describe(inp)}", span)
    if etype in ("greater_than", "greater_than_equal", "less_than", "less_than_equal",
                 "too_short", "too_long", "string_pattern_mismatch", "string_too_short",
                 "string_too_long", "list_type", "tuple_type"):
        msg = str(err.get("msg", ""))
        if etype == "string_pattern_mismatch":
            msg = "names use letters, digits and '_' and do not start with a digit"
        return Diagnostic("E203", f"{where}: {msg[0].lower() + msg[1:] if msg else etype}"
                          f" (got {_describe(inp)})", span)
    msg = str(err.get("msg", etype))
    return Diagnostic("E203", f"{where}: {msg}", span)


def validate(docs: list[LoadedDoc]) -> tuple[list[SpecDoc], list[Diagnostic]]:
    """Validate each loaded document against the model for its ``kind``."""
    out: list[SpecDoc] = []
    diags = Collector()
    for doc in docs:
        data = doc.data
        if not isinstance(data, dict):
            diags.add("E103", f"a spec document must be a mapping of 'key: value' lines, got {_describe(data)}",
                      doc.source.root, "start the document with 'kind: strategy' (or another kind)")
            continue
        kind = data.get("kind")
        if kind not in MODELS:
            span = doc.source.value(("kind",)) if "kind" in data else doc.source.root
            if kind is None:
                diags.add("E104", "document has no 'kind'", span,
                          f"add 'kind: ...', one of: {', '.join(sorted(MODELS))}")
            else:
                diags.add("E104", f"unknown kind {_describe(kind)}", span,
                          did_you_mean(str(kind), MODELS) or f"kinds are: {', '.join(sorted(MODELS))}")
            continue
        model = MODELS[kind]
        try:
            out.append(SpecDoc(model.model_validate(data), doc.source, doc.file, doc.sha256))
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                diags.items.append(_error_to_diag(doc, model, err))
    return out, diags.items
