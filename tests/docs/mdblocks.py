"""Fenced code blocks of a Markdown file, with the line each starts on (shared by the doc tests)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_FENCE = re.compile(r"^(`{3,})([A-Za-z0-9_-]*)\s*$")


@dataclass(frozen=True)
class Block:
    file: str
    line: int  # 1-based line of the first line inside the fence
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def first_line(self) -> str:
        return self.text.splitlines()[0].strip() if self.text.strip() else ""

    def lines(self) -> list[tuple[int, str]]:
        """(file line, text) of every non-blank line that is not a '# ' comment."""
        return [(self.line + i, ln.strip()) for i, ln in enumerate(self.text.splitlines())
                if ln.strip() and not ln.lstrip().startswith("# ")]


def blocks(path: Path) -> list[Block]:
    rel = path.relative_to(ROOT).as_posix()
    out: list[Block] = []
    fence = None
    lang = ""
    start = 0
    body: list[str] = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if fence is None:
            m = _FENCE.match(line)
            if m:
                fence, lang, start, body = m.group(1), m.group(2), i + 1, []
        elif line.strip() == fence:
            out.append(Block(rel, start, lang, "\n".join(body) + "\n"))
            fence = None
        else:
            body.append(line)
    assert fence is None, f"{rel}: a ``` fence opened on line {start - 1} is never closed"
    return out


def relative_links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every relative Markdown link outside code blocks and code spans."""
    out = []
    in_code = False
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            continue
        line = re.sub(r"`[^`]*`", "", line)
        for target in re.findall(r"\]\(([^)\s]+)\)", line):
            if "://" in target or target.startswith(("#", "mailto:")):
                continue
            out.append((i, target.split("#", 1)[0]))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    out = set()
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            out.add(slug(line.lstrip("#")))
    return out


def anchored_links(path: Path) -> list[tuple[int, Path, str]]:
    """(line, target file, anchor) of every Markdown link with a '#anchor' to a .md file."""
    out = []
    in_code = False
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            continue
        line = re.sub(r"`[^`]*`", "", line)
        for target in re.findall(r"\]\(([^)\s]*#[^)\s]+)\)", line):
            if "://" in target:
                continue
            file, anchor = target.split("#", 1)
            dest = (path.parent / file) if file else path
            if dest.suffix == ".md":
                out.append((i, dest, anchor))
    return out
