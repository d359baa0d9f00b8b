"""docs/architecture.md keeps up with the code: its module map names every module that exists
(and nothing that does not), and its table of layering violations is the test's list."""

from __future__ import annotations

import re
import sys

from mdblocks import ROOT

DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
MAP = DOC.split("## Module map", 1)[1].split("\n## ", 1)[0]


def _modules() -> set[str]:
    out = set()
    for pkg in ("dsl", "library", "interpreter"):
        for p in (ROOT / pkg).rglob("*.py"):
            if "__pycache__" not in p.parts:
                out.add(p.relative_to(ROOT).as_posix())
    out.add("dsl/grammar/spec.lark")
    return out


def _listed() -> set[str]:
    return set(re.findall(r"^\| `([a-z_/]+\.(?:py|lark))` \|", MAP, re.M))


def test_every_module_is_in_the_module_map() -> None:
    missing = sorted(_modules() - _listed())
    assert not missing, f"add one line per module to the module map of docs/architecture.md: {missing}"


def test_the_module_map_names_only_real_modules() -> None:
    gone = sorted(_listed() - _modules())
    assert not gone, f"docs/architecture.md lists modules that do not exist: {gone}"


def test_layering_violation_table_matches_the_test() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from test_layering import KNOWN_VIOLATIONS
    finally:
        sys.path.pop(0)
    section = DOC.split("## Layering", 1)[1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `([a-z_/]+\.py)` \| `([a-z_.]+)` \|", section, re.M))
    assert rows == set(KNOWN_VIOLATIONS), (
        f"docs/architecture.md lists {sorted(rows)}, tests/test_layering.py knows {sorted(KNOWN_VIOLATIONS)}")
