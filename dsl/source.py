"""Where things came from: spans in files, and the map from a document's key path to its span."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

#: A path into a loaded document: keys and list indices, e.g. ("signals", "rsi").
KeyPath = tuple[str | int, ...]


def path_text(path: KeyPath) -> str:
    """``("slots", 0, "window")`` -> ``slots[0].window``, as messages name a place in a document."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


@dataclass(frozen=True, order=True)
class Span:
    """A 1-based line/column range in a file; ``end_col`` is exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def shifted(self, offset: int, length: int) -> "Span":
        """A sub-span on the same line, ``offset`` characters in, ``length`` long."""
        col = self.col + offset
        return Span(self.file, self.line, col, self.line, col + max(length, 1))


@dataclass(frozen=True)
class ScalarText:
    """How a scalar's text sits in the file, to map a character index back to line:col."""

    span: Span
    style: str | None  # None (plain), "'", '"', "|", ">"
    raw_lines: tuple[str, ...] = ()  # source lines span.line..span.end_line of multi-line scalars

    def locate(self, index: int, length: int = 1, text: str = "") -> Span:
        """Span of ``text[index:index+length]`` where ``text`` is the scalar's value."""
        if self.style in (None, "'", '"') and self.span.line == self.span.end_line:
            quote = 0 if self.style is None else 1
            return self.span.shifted(quote + index, length)
        segments = self._segments(text) if text else []
        if not segments:
            return self.span
        seg = segments[0]
        for s in segments:
            if s[0] <= index:
                seg = s
        start, line, col, size = seg
        off = max(0, min(index - start, size))
        width = max(1, min(length, size - off))
        return Span(self.span.file, line, col + off, line, col + off + width)

    def _segments(self, text: str) -> list[tuple[int, int, int, int]]:
        """(index in ``text``, line, column, length) of each source line's piece of the value.

        Multi-line scalars are folded or kept by YAML in ways that change their text; every
        non-blank source line still appears in the value in order, so find them one by one.
        """
        sp = self.span
        rows = list(self.raw_lines)
        if not rows:
            return []
        pieces: list[tuple[int, int, str]] = []  # (line, col, text)
        last = sp.end_line - sp.line  # index of the last row
        if self.style in ("|", ">"):
            body = rows[1:last + 1] if sp.end_col > 1 else rows[1:last]
            indent = min((len(r) - len(r.lstrip(" ")) for r in body if r.strip()), default=0)
            for i, r in enumerate(body):
                pieces.append((sp.line + 1 + i, indent + 1, r[indent:]))
        else:
            quote = 0 if self.style is None else 1
            for i, r in enumerate(rows[:last + 1]):
                if i == last:
                    if sp.end_col <= 1:
                        break
                    r = r[:sp.end_col - 1 - quote]
                if i == 0:
                    c = sp.col - 1 + quote
                    pieces.append((sp.line, c + 1, r[c:]))
                else:
                    c = len(r) - len(r.lstrip(" \t"))
                    pieces.append((sp.line + i, c + 1, r[c:]))
        out = []
        pos = 0
        for line, col, piece in pieces:
            piece = piece.rstrip()
            if not piece:
                continue
            k = text.find(piece, pos)
            if k < 0:
                continue
            out.append((k, line, col, len(piece)))
            pos = k + len(piece)
        return out


@dataclass
class SourceMap:
    """Key path -> span of the value (and of the key, for mapping entries)."""

    file: str
    values: dict[KeyPath, Span] = field(default_factory=dict)
    keys: dict[KeyPath, Span] = field(default_factory=dict)
    scalars: dict[KeyPath, ScalarText] = field(default_factory=dict)
    root: Span | None = None

    def value(self, path: KeyPath) -> Span | None:
        """Span of the value at ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.root

    def key(self, path: KeyPath) -> Span | None:
        return self.keys.get(tuple(path)) or self.value(path)

    def locate(self, path: KeyPath, index: int, length: int, text: str) -> Span | None:
        """Span of characters ``index..index+length`` inside the string value at ``path``."""
        st = self.scalars.get(tuple(path))
        if st is None:
            return self.value(path)
        return st.locate(index, length, text)


def render_snippet(span: Span, lines: Iterable[str] | None, context: int = 0) -> str:
    """The source line of ``span`` with the offending text underlined by carets."""
    if lines is None:
        return ""
    lines = list(lines)
    if not 1 <= span.line <= len(lines):
        return ""
    text = lines[span.line - 1].rstrip("\n").expandtabs(1)
    text = "".join(c if c.isprintable() else "?" for c in text)  # keep the carets aligned
    width = len(str(span.line))
    start = max(span.col, 1)
    end = span.end_col if span.end_line == span.line else len(text) + 1
    end = max(min(end, len(text) + 1), start + 1)
    if len(text) > 100:  # window long lines around the offending text
        lo = max(0, start - 40)
        hi = min(len(text), max(end, start + 1) + 40)
        text = ("..." if lo else "") + text[lo:hi] + ("..." if hi < len(text) else "")
        shift = lo - (3 if lo else 0)
        start, end = start - shift, min(end - shift, start - shift + 60)
    gutter = " " * (width + 1)
    out = [f" {span.line} | {text}", f"{gutter} | {' ' * (start - 1)}{'^' * (end - start)}"]
    return "\n".join(out)
