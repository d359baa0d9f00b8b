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


try:
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _CParser = None


if _CParser is not None:
    class _CLoader(_CParser, _Resolver):  # type: ignore[misc, valid-type]
        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _Resolver.__init__(self)


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


def _mark_span(file: str, mark: Any, end: Any = None) -> Span:
    line = getattr(mark, "line", 0) + 1
    col = getattr(mark, "column", 0) + 1
    end_col = col + 1
    if end is not None and getattr(end, "line", -1) + 1 == line:
        end_col = max(end.column + 1, col + 1)
    return Span(file, line, col, line, end_col)


def _open_brackets(text: str) -> int:
    return text.count("(") + text.count("[") - text.count(")") - text.count("]")


class _Builder:
    """Turns a composed node tree into plain data and fills the SourceMap."""

    def __init__(self, file: str, lines: list[str], diags: Collector, text: str = "") -> None:
        self.file = file
        self.lines = lines
        self.diags = diags
        self.text = text
        self.broken = False  # set when a part of the document could not be read at all

    def _flow_pairs(self, node: yaml.MappingNode) -> list:
        """Pairs of a ``{...}`` mapping, with formulas that YAML split at their commas rejoined.

        ``{fast: sma(close, 20)}`` is, to YAML, ``fast: 'sma(close'`` and a key ``'20)'`` with
        no value. That is almost never what the author meant: report it (E110) and rejoin the
        pieces from the source text so the rest of the document can still be checked.
        """
        pairs = list(node.value)
        out = []
        i = 0
        while i < len(pairs):
            knode, vnode = pairs[i]
            i += 1
            if (isinstance(vnode, yaml.ScalarNode) and vnode.style is None
                    and _open_brackets(vnode.value) > 0):
                end = vnode.end_mark
                j = i
                while j < len(pairs) and _open_brackets(
                        self.text[vnode.start_mark.index:end.index]) > 0:
                    k2, v2 = pairs[j]
                    if not (isinstance(k2, yaml.ScalarNode) and k2.style is None
                            and isinstance(v2, yaml.ScalarNode) and v2.value == ""
                            and v2.tag.endswith(":null")):
                        break
                    end = k2.end_mark
                    j += 1
                if j > i:
                    raw = self.text[vnode.start_mark.index:end.index]
                    joined = " ".join(raw.split())
                    vnode = yaml.ScalarNode("tag:yaml.org,2002:str", joined if "\n" in raw else raw,
                                            vnode.start_mark, end, style=None)
                    self.diags.add(
                        "E110", f"the ',' inside '{joined}' ends the value early: in a '{{...}}' "
                        "mapping, ',' separates entries", _span(self.file, vnode),
                        f"quote the formula ({knode.value}: \"{joined}\") or write the mapping "
                        "with one 'key: value' per line")
                    i = j
            out.append((knode, vnode))
        return out

    def build(self, node: yaml.Node, path: KeyPath, smap: SourceMap, depth: int = 0) -> Any:
        span = _span(self.file, node)
        smap.values[path] = span
        if depth > MAX_DEPTH:
            self.broken = True
            self.diags.add("E106", f"nesting deeper than {MAX_DEPTH} levels", span,
                           "spec documents are shallow; flatten this structure")
            return None
        if node.tag.startswith("!") or (node.tag.startswith("tag:yaml.org,2002:")
                                        and node.tag.split(":")[-1] not in
                                        ("str", "int", "float", "bool", "null", "map", "seq")):
            self.broken = True
            self.diags.add("E107", f"YAML tag {node.tag!r} is not allowed", span,
                           "remove the tag; specs are plain data")
            return None
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            pairs = self._flow_pairs(node) if node.flow_style else node.value
            for knode, vnode in pairs:
                if not isinstance(knode, yaml.ScalarNode):
                    self.diags.add("E203", "mapping keys must be plain words, not a list or mapping",
                                   _span(self.file, knode), "write 'key: value'")
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
        if span.end_line > span.line:  # multi-line: keep its source lines to map positions
            raw_lines = tuple(self.lines[span.line - 1: span.end_line])
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
                what = "anchor" if isinstance(tok, yaml.AnchorToken) else "alias"
                diags.add("E107", f"YAML {what} '{text[tok.start_mark.index:tok.end_mark.index]}' "
                          "is not allowed (no anchors or aliases)",
                          _mark_span(file, tok.start_mark, tok.end_mark),
                          "write the value out in full; specs refer to each other by name")
                return False
            if isinstance(tok, yaml.TagToken):
                diags.add("E107", f"YAML tag '{text[tok.start_mark.index:tok.end_mark.index]}' is "
                          "not allowed", _mark_span(file, tok.start_mark, tok.end_mark),
                          "remove the tag; specs are plain data")
                return False
    except yaml.YAMLError:
        return True  # the parse below reports the syntax error with its position
    return True


_JARGON = {
    "<block end>": "the end of the block", "<stream end>": "the end of the file",
    "<block mapping start>": "a new key", "<block sequence start>": "a list item",
    "<scalar>": "a value", "<document start>": "'---'", "'?'": "a key",
}


def _plain(text: str) -> str:
    for k, v in _JARGON.items():
        text = text.replace(k, v)
    return text


def _line_end_span(file: str, lines: list[str], mark: Any) -> Span:
    """From ``mark`` to the end of its line (at least one character)."""
    line, col = mark.line + 1, mark.column + 1
    text = lines[mark.line] if 0 <= mark.line < len(lines) else ""
    return Span(file, line, col, line, max(len(text.rstrip()) + 1, col + 1))


def _at(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _yaml_error(file: str, exc: yaml.YAMLError, lines: list[str] | None = None,
                text: str = "") -> Diagnostic:
    """A PyYAML error in words a spec author understands, pointing at what to fix."""
    lines = lines or []
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[:exc.position]
        line = before.count("\n") + 1
        col = exc.position - (before.rfind("\n") + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        return Diagnostic("E101", f"YAML syntax error: the control character U+{char:04X} is not "
                          "allowed in a spec file", Span(file, line, col, line, col + 1),
                          "remove it; spec files are plain text")
    pmark = getattr(exc, "problem_mark", None)
    cmark = getattr(exc, "context_mark", None)
    problem = str(getattr(exc, "problem", None) or exc)
    context = str(getattr(exc, "context", None) or "")
    span = _mark_span(file, pmark) if pmark else (_mark_span(file, cmark) if cmark else Span(file, 1, 1, 1, 2))
    hint = "check indentation and that every 'key: value' has a space after the colon"
    msg = _plain(problem)
    if "end of stream" in problem and "quoted scalar" in context and cmark:
        quote = lines[cmark.line][cmark.column] if cmark.line < len(lines) and cmark.column < len(lines[cmark.line]) else '"'
        msg = f"a quoted string is never closed (the {quote} at {_at(cmark)})"
        span = _line_end_span(file, lines, cmark)
        hint = f"add the closing {quote} at the end of the value"
    elif "could not find expected ':'" in problem and cmark:
        msg = "this line is not a 'key: value' pair"
        span = _line_end_span(file, lines, cmark)
        hint = "write 'key: value' with a space after the ':' (or close a quote left open above)"
    elif "found character '\\t'" in problem or "'\t'" in problem:
        msg = "a tab character is not allowed here"
        hint = "YAML does not allow tabs for indentation; use spaces"
    elif "cannot start any token" in problem:
        ch = problem.split("'")[1] if problem.count("'") >= 2 else "?"
        msg = f"a value cannot start with '{ch}'"
        hint = f"put the value in quotes, e.g. \"{ch}...\""
    elif "mapping values are not allowed" in problem:
        msg = "a ':' followed by a space is not allowed inside this value"
        hint = "a value containing ': ' must be quoted, e.g. description: \"a: b\""
    elif problem.startswith("expected <block end>"):
        msg = "this line is not indented like the lines around it"
        hint = ("keys of one mapping, and the items of one list, must start in the same column; "
                "indent with spaces only")
        if cmark and cmark.column > 0:
            hint += f" (the block started at {_at(cmark)})"
    elif "flow mapping" in context or "flow sequence" in context:
        opener, closer = ("{", "}") if "mapping" in context else ("[", "]")
        found = problem.split("but got ")[-1] if "but got " in problem else "something else"
        if cmark and (pmark is None or pmark.line != cmark.line or "<stream end>" in problem):
            msg = f"the '{opener}' at {_at(cmark)} is never closed"
            span = _mark_span(file, cmark)
            hint = f"add '{closer}' at the end of the value; separate entries with ', '"
        else:
            msg = f"expected ',' or '{closer}', found {_plain(found)}"
            where = f" at {_at(cmark)}" if cmark else ""
            hint = f"close the '{opener}'{where} with '{closer}'"
    elif "expected the node content" in problem:
        found = problem.split("but found ")[-1]
        msg = f"unexpected {found} where a value should be"
        hint = "remove it, or put the value in quotes"
    elif "<document start>" in problem:
        msg = "unexpected text after the end of the document"
        hint = "start each new document with a line '---'"
    elif context:
        msg += f" ({_plain(context)})"
    return Diagnostic("E101", f"YAML syntax error: {msg}", span, hint)


def _add_doc(node: yaml.Node, index: int, builder: "_Builder", diags: Collector, docs: list[LoadedDoc],
             file: str, sha: str) -> bool:
    """Build one composed document; False when the file has too many documents."""
    if index >= MAX_DOCUMENTS:
        diags.add("E105", f"more than {MAX_DOCUMENTS} documents in one file",
                  _span(file, node), "split it into several files")
        return False
    smap = SourceMap(file=file, root=_span(file, node))
    builder.broken = False
    data = builder.build(node, (), smap)
    if not builder.broken:  # a document with parts refused (E106/E107) is not checked further
        docs.append(LoadedDoc(data, smap, file, sha, index))
    return True


def _compose_fast(text: str) -> list[yaml.Node] | None:
    """Compose with libyaml when it is installed and the text is plain, valid YAML.

    Anything unusual (anchors, aliases, tags, a syntax error, a control character, deep
    nesting) returns None, and the pure-Python path takes over to produce the diagnostic.
    """
    if _CParser is None:
        return None
    try:
        for tok in yaml.scan(text, Loader=yaml.CSafeLoader):
            if isinstance(tok, (yaml.AnchorToken, yaml.AliasToken, yaml.TagToken)):
                return None
        loader = _CLoader(text)
        nodes = []
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                break
            nodes.append(node)
    except Exception:  # noqa: BLE001 - any trouble: let the careful path explain it
        return None
    for node in nodes:
        _plain_style(node)
    return nodes


def _plain_style(node: yaml.Node, depth: int = 0) -> None:
    """libyaml marks plain scalars with style '' where PyYAML uses None."""
    if depth > MAX_DEPTH + 2:
        return
    if isinstance(node, yaml.ScalarNode):
        if node.style == "":
            node.style = None
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            _plain_style(k, depth + 1)
            _plain_style(v, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for v in node.value:
            _plain_style(v, depth + 1)


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
    docs: list[LoadedDoc] = []
    builder = _Builder(file, lines, diags, text)
    fast = _compose_fast(text)
    if fast is not None:  # libyaml composed it cleanly: no anchors, tags or syntax errors
        for index, node in enumerate(fast):
            if not _add_doc(node, index, builder, diags, docs, file, sha):
                break
        return LoadResult(docs, sources, diags.items)
    if not _check_no_aliases(text, file, diags):
        return LoadResult(docs, sources, diags.items)
    loader = None
    try:
        loader = _Loader(text)  # the reader rejects control characters up front
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None or not _add_doc(node, index, builder, diags, docs, file, sha):
                break
            index += 1
    except yaml.YAMLError as exc:
        diags.items.append(_yaml_error(file, exc, lines, text))
    except RecursionError:
        diags.add("E106", "nesting too deep to read", Span(file, 1, 1, 1, 2),
                  "spec documents are shallow; flatten this structure")
    finally:
        if loader is not None:
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
            line = raw.count(b"\n", 0, exc.start) + 1
            col = len(raw[raw.rfind(b"\n", 0, exc.start) + 1:exc.start].decode("utf-8", "replace")) + 1
            result.sources[name] = raw.decode("utf-8", "replace").splitlines()
            result.diagnostics.append(Diagnostic(
                "E108", f"file is not valid UTF-8 text (byte 0x{raw[exc.start]:02x})",
                Span(name, line, col, line, col + 1), "save the file as UTF-8"))
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
