"""Loaded YAML data -> frozen document models, with pydantic errors mapped to file positions."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError

from dsl.errors import Collector, Diagnostic, did_you_mean, suggest
from dsl.loader import LoadedDoc
from dsl.models import MODELS, Document
from dsl.models.common import SpecValueError
from dsl.quantities import QuantityError
from dsl.source import KeyPath, SourceMap, Span, path_text


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


@lru_cache(maxsize=None)
def _schema(model: type[BaseModel]) -> tuple[dict, dict]:
    try:
        sch = model.model_json_schema(mode="validation")
    except Exception:  # a schema we cannot build only costs us the example in a hint
        return {}, {}
    return sch.get("properties", {}), sch.get("$defs", {})


def _schema_words(p: dict, defs: dict) -> str | None:
    """What a JSON-schema property expects, in words: "a duration like '5m', '1h' or '1d'"."""
    if "examples" in p and p["examples"]:
        ex = [f"'{e}'" if isinstance(e, str) else str(e) for e in p["examples"][:3]]
        return "e.g. " + (", ".join(ex[:-1]) + " or " + ex[-1] if len(ex) > 1 else ex[0])
    if p.get("description") and p.get("type") in ("string", "number", "integer"):
        return p["description"]
    if "enum" in p:
        return "one of " + ", ".join(str(e) for e in p["enum"])
    if "const" in p:
        return f"'{p['const']}'"
    if "$ref" in p:
        target = defs.get(p["$ref"].split("/")[-1], {})
        if "enum" in target:
            return _schema_words(target, defs)
        fields = ", ".join(target.get("properties", {}))
        return f"a mapping with {fields}" if fields else "a mapping of 'key: value' lines"
    for key in ("anyOf", "oneOf"):
        if key in p:
            for alt in p[key]:
                if alt.get("type") != "null":
                    return _schema_words(alt, defs)
    t = p.get("type")
    return {"object": "a mapping of 'key: value' lines", "array": "a list", "string": "text",
            "number": "a number", "integer": "a whole number", "boolean": "true or false"}.get(t)


def _expected(model: type[BaseModel] | None, field: str) -> str | None:
    if model is None:
        return None
    props, defs = _schema(model)
    return _schema_words(props[field], defs) if field in props else None


def _owner(doc: LoadedDoc, path: KeyPath) -> str:
    if path:
        return f"'{path_text(path)}'"
    data = doc.data if isinstance(doc.data, dict) else {}
    name = data.get("name")
    return f"{data.get('kind')} '{name}'" if isinstance(name, str) else "the document"


def _type_hint(model: type[BaseModel], data: Any, path: KeyPath, want: str, inp: Any) -> str | None:
    """How to write the value the field expects, for a value of the wrong type."""
    if not path:
        return None
    here = _model_at(model, data, path)
    if want.startswith("a mapping") and here is not None:
        return f"'{path[-1]}' takes 'key: value' lines: {', '.join(here.model_fields)}"
    parent = _model_at(model, data, path[:-1])
    field = parent.model_fields.get(path[-1]) if parent and isinstance(path[-1], str) else None
    if want == "text" and isinstance(inp, dict):
        return f"write the value on the same line as '{path[-1]}:', in quotes if it contains ': '"
    if field is not None and isinstance(field.default, (int, float)) and not isinstance(field.default, bool):
        return f"write a number, e.g. {path[-1]}: {field.default:g}"
    return None


@dataclass(frozen=True)
class _Mapped:
    diag: Diagnostic
    missing: tuple | None = None  # (parent path, field) of an E201
    meant: tuple | None = None  # (parent path, suggested field) of an E202 with a suggestion


def _error_to_diag(doc: LoadedDoc, model: type[BaseModel], err: dict) -> _Mapped:
    smap = doc.source
    path, rest = _data_path(doc.data, tuple(err["loc"]))
    etype = err["type"]
    where = path_text(path) or "document"
    inp = err.get("input")
    if etype == "missing":
        field = str(rest[-1] if rest else (path[-1] if path else "?"))
        span = smap.key(path) if path else smap.root
        owner = _owner(doc, path)
        words = _expected(_model_at(model, doc.data, path), field)
        hint = f"add '{field}: ...' under {owner}" if path else f"add a line '{field}: ...'"
        return _Mapped(Diagnostic("E201", f"missing field '{field}' in {owner}", span,
                                  hint + (f" ({words})" if words else "")), missing=(path, field))
    if etype == "extra_forbidden":
        field = path[-1] if path else str(rest[-1] if rest else "?")
        span = smap.key(path)
        parent = _model_at(model, doc.data, path[:-1])
        allowed = sorted(parent.model_fields) if parent else []
        best = suggest(str(field), allowed)
        hint = f"did you mean '{best}'?" if best else None
        if not hint and allowed:
            hint = f"allowed fields here: {', '.join(allowed)}"
        owner = f" in '{path_text(path[:-1])}'" if len(path) > 1 else ""
        return _Mapped(Diagnostic("E202", f"unknown field '{field}'{owner}", span, hint),
                       meant=(path[:-1], best) if best else None)
    span = smap.value(path)
    if etype in ("literal_error", "enum"):
        expected = err.get("ctx", {}).get("expected", "")
        options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",") if o.strip()]
        hint = did_you_mean(str(inp), options) if isinstance(inp, (str, int, float)) else None
        return _Mapped(Diagnostic("E203", f"{where}: {_describe(inp)} is not one of {expected}", span,
                                  hint or f"write one of: {', '.join(options)}"))
    if etype == "union_tag_invalid":
        ctx = err.get("ctx", {})
        tag = ctx.get("tag", "?")
        options = [o.strip().strip("'") for o in str(ctx.get("expected_tags", "")).split(",")]
        disc = ctx.get("discriminator", "method").strip("'")
        span = smap.value(path + (disc,)) or span
        return _Mapped(Diagnostic("E203", f"{where}: {disc} '{tag}' is not one of {', '.join(options)}",
                                  span, did_you_mean(str(tag), options) or f"write one of: {', '.join(options)}"))
    if etype == "union_tag_not_found":
        disc = err.get("ctx", {}).get("discriminator", "method").strip("'")
        field = _model_at(model, doc.data, path[:-1]) if path else None
        words = _expected(field, path[-1]) if field and path else None
        return _Mapped(Diagnostic("E201", f"missing field '{disc}' in '{where}'", smap.key(path) or span,
                                  f"add '{disc}: ...'" + (f" ({words})" if words else "")), missing=(path, disc))
    if etype == "value_error":
        exc = err.get("ctx", {}).get("error")
        msg = str(exc) if exc is not None else str(err.get("msg", "")).removeprefix("Value error, ")
        if isinstance(exc, SpecValueError):
            full = path + exc.path
            span = (smap.key(full) if exc.at_key else smap.value(full)) or span
            return _Mapped(Diagnostic(exc.code, f"{path_text(path)}: {msg}" if path else msg, span, exc.hint))
        if isinstance(exc, QuantityError):
            return _Mapped(Diagnostic("E204", f"{where}: {msg}", span, exc.hint))
        return _Mapped(Diagnostic("E203", f"{where}: {msg}", span))
    base = etype.split("_")[0]
    if etype in ("string_too_short", "too_short") and err.get("ctx", {}).get("min_length") == 1:
        what = "text" if etype == "string_too_short" else "list"
        return _Mapped(Diagnostic("E203", f"{where} is empty", span,
                                  f"write a value here (an empty {what} is not allowed)"))
    if etype.endswith("_type") or etype.endswith("_parsing") or etype in ("model_attributes_type",):
        want = _TYPE_WORDS.get(base, base)
        if etype == "int_parsing" and isinstance(inp, str):
            want = "a whole number"
        return _Mapped(Diagnostic("E205", f"{where}: expected {want}, got {_describe(inp)}", span,
                                  _type_hint(model, doc.data, path, want, inp)))
    if etype == "int_from_float":
        return _Mapped(Diagnostic("E205", f"{where}: expected a whole number, got {_describe(inp)}", span))
    if etype == "string_pattern_mismatch":
        return _Mapped(Diagnostic("E203", f"{where}: {_describe(inp)} is not a valid name", span,
                                  "names use letters, digits and '_' and do not start with a digit"))
    msg = str(err.get("msg", etype))
    msg = msg[0].lower() + msg[1:] if msg else etype
    return _Mapped(Diagnostic("E203", f"{where}: {msg} (got {_describe(inp)})", span))


class ValidDocs(list):
    """The documents that passed validation, plus ``invalid``: (kind, name) of the ones that did
    not but say what they are. ``resolve`` reads it so that a reference to a document with an
    error of its own is not reported again as "not defined"."""

    invalid: set[tuple[str, str]]

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.invalid = set()


def validate(docs: list[LoadedDoc]) -> tuple[list[SpecDoc], list[Diagnostic]]:
    """Validate each loaded document against the model for its ``kind``."""
    out: ValidDocs = ValidDocs()
    diags = Collector()
    for doc in docs:
        data = doc.data
        if not isinstance(data, dict):
            diags.add("E103", f"a spec document must be a mapping of 'key: value' lines, got {_describe(data)}",
                      doc.source.root, "start the document with a line 'kind: strategy' (or another kind)"
                      + (" and remove the '- ' in front of the keys" if isinstance(data, list) else ""))
            continue
        kind = data.get("kind")
        if not isinstance(kind, str) or kind not in MODELS:
            span = doc.source.value(("kind",)) if "kind" in data else doc.source.root
            if kind is None:
                diags.add("E104", "document has no 'kind'", span,
                          f"add 'kind: ...', one of: {', '.join(sorted(MODELS))}")
            elif not isinstance(kind, str):
                diags.add("E104", f"'kind' must be a word, got {_describe(kind)}", span,
                          f"write one of: {', '.join(sorted(MODELS))}")
            else:
                diags.add("E104", f"unknown kind {_describe(kind)}", span,
                          did_you_mean(str(kind), MODELS) or f"kinds are: {', '.join(sorted(MODELS))}")
            continue
        model = MODELS[kind]
        try:
            out.append(SpecDoc(model.model_validate(data), doc.source, doc.file, doc.sha256))
        except ValidationError as exc:
            if isinstance(data.get("name"), str):
                out.invalid.add((kind, data["name"]))
            mapped = [_error_to_diag(doc, model, err) for err in exc.errors(include_url=False)]
            # 'symbl' for 'symbol' is one mistake: say "unknown field", not also "missing symbol"
            meant = {m.meant for m in mapped if m.meant}
            diags.extend(m.diag for m in mapped if m.missing not in meant)
    return out, diags.items
