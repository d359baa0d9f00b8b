"""Safe YAML -> plain data + a SourceMap of every key and value + the file's sha256.

Strict on purpose: no tags, anchors or aliases (no billion-laughs), only ``true``/``false``
as booleans (no YAML 1.1 "yes"/"no"/"on"), no implicit timestamps, duplicate keys are
errors, and size and nesting are bounded so hostile input gives a clean error, not a hang.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dsl.errors import Collector, Diagnostic
from dsl.source import KeyPath, ScalarText, SourceMap, Span

MAX_FILE_BYTES = 1_000_000
MAX_DEPTH = 24
MAX_DOCUMENTS = 64
SPEC_SUFFIXES = (".yaml", ".yml")


class _Resolver(yaml.resolver.BaseResolver):
    """Only null, true/false, ints and floats are implicit; everything else is a string."""


_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789")
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9_]+|[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."),
)
_Resolver.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
              yaml.composer.Composer, _Resolver):
    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Resolver.__init__(self)


@dataclass(frozen=True)
class LoadedDoc:
    """One YAML document: its data, where each part came from, and the file it is in."""

    data: Any
    source: SourceMap
    file: str
    sha256: str
    index: int  # document number within the file (multi-document files)


@dataclass
class LoadResult:
    docs: list[LoadedDoc]
    sources: dict[str, list[str]]  # file -> lines, for rendering snippets
    diagnostics: list[Diagnostic]


def _span(file: str, node: yaml.Node) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(file, s.line + 1, s.column + 1, e.line + 1, e.column + 1)


def _mark_span(file: str, mark: Any) -> Span:
    line = getattr(mark, "line", 0) + 1
    col = getattr(mark, "column", 0) + 1
    return Span(file, line, col, line, col + 1)


class _Builder:
    """Turns a composed node tree into plain data and fills the SourceMap."""

    def __init__(self, file: str, lines: list[str], diags: Collector) -> None:
        self.file = file
        self.lines = lines
        self.diags = diags

    def build(self, node: yaml.Node, path: KeyPath, smap: SourceMap, depth: int = 0) -> Any:
        span = _span(self.file, node)
        smap.values[path] = span
        if depth > MAX_DEPTH:
            self.diags.add("E106", f"nesting deeper than {MAX_DEPTH} levels", span,
                           "spec documents are shallow; flatten this structure")
            return None
        if node.tag.startswith("!") or (node.tag.startswith("tag:yaml.org,2002:")
                                        and node.tag.split(":")[-1] not in
                                        ("str", "int", "float", "bool", "null", "map", "seq")):
            self.diags.add("E107", f"YAML tag {node.tag!r} is not allowed", span,
                           "remove the tag; specs are plain data")
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for knode, vnode in node.value:
                if not isinstance(knode, yaml.ScalarNode):
                    self.diags.add("E203", "mapping keys must be plain words", _span(self.file, knode))
                    continue
                key = knode.value
                kspan = _span(self.file, knode)
                if key in out:
                    first = smap.keys.get(path + (key,))
                    self.diags.add(
                        "E102", f"duplicate key '{key}'", kspan,
                        "each key may appear once in a mapping; remove or rename one of them",
                        notes=(f"first defined at {first}",) if first else (),
                    )
                    continue
                smap.keys[path + (key,)] = kspan
                out[key] = self.build(vnode, path + (key,), smap, depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(v, path + (i,), smap, depth + 1) for i, v in enumerate(node.value)]
        return self.scalar(node, path, span, smap)

    def scalar(self, node: yaml.ScalarNode, path: KeyPath, span: Span, smap: SourceMap) -> Any:
        raw_lines: tuple[str, ...] = ()
        if node.style in ("|", ">"):
            n = node.value.count("\n") + 1
            raw_lines = tuple(self.lines[span.line: span.line + n])
        smap.scalars[path] = ScalarText(span, node.style, raw_lines)
        tag = node.tag.split(":")[-1]
        text = node.value
        if node.style is not None or tag == "str":
            return text
        try:
            if tag == "null":
                return None
            if tag == "bool":
                return text.lower() == "true"
            if tag == "int":
                return int(text.replace("_", ""))
            if tag == "float":
                return float(text.replace("_", ""))
        except ValueError:
            return text
        return text


def _check_no_aliases(text: str, file: str, diags: Collector) -> bool:
    """Reject anchors/aliases up front (cheap scan of the token stream)."""
    try:
        for tok in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(tok, (yaml.AnchorToken, yaml.AliasToken)):
                diags.add("E107", "YAML anchors and aliases are not allowed",
                          _mark_span(file, tok.start_mark),
                          "write the value out in full; specs refer to each other by name")
                return False
            if isinstance(tok, yaml.TagToken):
                diags.add("E107", "YAML tags are not allowed", _mark_span(file, tok.start_mark),
                          "remove the tag; specs are plain data")
                return False
    except yaml.YAMLError:
        return True  # the parse below reports the syntax error with its position
    return True


def _yaml_error(file: str, exc: yaml.YAMLError) -> Diagnostic:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    msg = f"YAML syntax error: {problem}"
    if context:
        msg += f" ({context})"
    hint = "check indentation and that every 'key: value' has a space after the colon"
    if "found character '\\t'" in problem or "\t" in problem:
        hint = "YAML does not allow tabs for indentation; use spaces"
    elif "mapping values are not allowed" in problem:
        hint = "a value containing ': ' must be quoted, e.g. \"a: b\""
    elif "could not find expected ':'" in problem:
        hint = "a key is missing its ':' or a quoted string is not closed"
    return Diagnostic("E101", msg, _mark_span(file, mark) if mark else Span(file, 1, 1, 1, 2), hint)


def load_text(text: str, file: str, sha256: str | None = None) -> LoadResult:
    """Load every YAML document in ``text`` (already read from ``file``)."""
    diags = Collector()
    sha = sha256 or hashlib.sha256(text.encode("utf-8")).hexdigest()
    lines = text.splitlines()
    sources = {file: lines}
    if len(text.encode("utf-8")) > MAX_FILE_BYTES:
        diags.add("E105", f"file is larger than {MAX_FILE_BYTES} bytes", Span(file, 1, 1, 1, 2),
                  "split it into several spec files")
        return LoadResult([], sources, diags.items)
    if not _check_no_aliases(text, file, diags):
        return LoadResult([], sources, diags.items)
    docs: list[LoadedDoc] = []
    loader = _Loader(text)
    builder = _Builder(file, lines, diags)
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                break
            if index >= MAX_DOCUMENTS:
                diags.add("E105", f"more than {MAX_DOCUMENTS} documents in one file",
                          _span(file, node), "split it into several files")
                break
            smap = SourceMap(file=file, root=_span(file, node))
            data = builder.build(node, (), smap)
            docs.append(LoadedDoc(data, smap, file, sha, index))
            index += 1
    except yaml.YAMLError as exc:
        diags.items.append(_yaml_error(file, exc))
    except RecursionError:
        diags.add("E106", "nesting too deep to read", Span(file, 1, 1, 1, 2),
                  "spec documents are shallow; flatten this structure")
    finally:
        loader.dispose()
    return LoadResult(docs, sources, diags.items)


def discover(paths: list[str | Path]) -> tuple[list[Path], list[Diagnostic]]:
    """Expand files and folders into spec files (sorted; folders searched recursively)."""
    files: list[Path] = []
    diags = Collector()
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted(q for q in path.rglob("*") if q.suffix in SPEC_SUFFIXES and q.is_file())
            if not found:
                diags.add("E109", f"no .yaml or .yml files under '{p}'", None,
                          "pass spec files or a folder that contains them")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            diags.add("E108", f"no such file or folder: '{p}'", None,
                      "check the path; spec files end in .yaml or .yml")
    unique = sorted(dict.fromkeys(files), key=lambda q: str(q))
    return unique, diags.items


def load_paths(paths: list[str | Path]) -> LoadResult:
    """Load every spec file under ``paths``; never raises for bad input."""
    files, diags = discover(paths)
    result = LoadResult([], {}, list(diags))
    for f in files:
        name = str(f)
        try:
            size = f.stat().st_size
            if size > MAX_FILE_BYTES:
                result.diagnostics.append(Diagnostic(
                    "E105", f"file is larger than {MAX_FILE_BYTES} bytes ({size})",
                    Span(name, 1, 1, 1, 2), "split it into several spec files"))
                continue
            raw = f.read_bytes()
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            result.diagnostics.append(Diagnostic(
                "E108", f"file is not valid UTF-8 text (byte {exc.start})", Span(name, 1, 1, 1, 2),
                "save the file as UTF-8"))
            continue
        except OSError as exc:
            result.diagnostics.append(Diagnostic("E108", f"cannot read file: {exc.strerror}",
                                                 Span(name, 1, 1, 1, 2)))
            continue
        one = load_text(text, name, hashlib.sha256(raw).hexdigest())
        result.docs.extend(one.docs)
        result.sources.update(one.sources)
        result.diagnostics.extend(one.diagnostics)
    return result
