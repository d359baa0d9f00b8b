"""Import directions between the three packages, read from the source with ``ast``.

The rules (docs/architecture.md, "Layering"):

1. ``library`` imports only the standard library, numpy, pandas and itself.
2. ``dsl`` imports the standard library, lark, pydantic, jinja2, yaml, itself, and from
   ``library`` only ``library.registry``, ``library.types`` and ``library.membership``.
   It never imports ``interpreter``.
3. ``interpreter`` imports the standard library, numpy, pandas, pyarrow, jinja2, typer,
   rich, ``library``, itself, and from ``dsl`` only ``dsl.graph`` and ``dsl.errors`` (the
   contract between the two).
4. Only ``interpreter/__init__.py`` (the Python API) and ``interpreter/cli.py`` may touch
   the ``dsl`` facade (``import dsl`` / ``from dsl import ...``).

Every import counts: at module level, inside functions and under ``TYPE_CHECKING``.

``KNOWN_VIOLATIONS`` lists the imports that break a rule today. They are reported to the
lead, not silently allowed: the test fails for any violation not listed, and also when a
listed one disappears (so the list can only shrink).
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("library", "dsl", "interpreter")
STDLIB = set(sys.stdlib_module_names) | {"__future__"}

THIRD_PARTY = {
    "library": {"numpy", "pandas"},
    "dsl": {"lark", "pydantic", "jinja2", "yaml"},
    "interpreter": {"numpy", "pandas", "pyarrow", "jinja2", "typer", "rich"},
}
#: cross-package imports each package may make (a module or anything under it)
CROSS = {
    "library": set(),
    "dsl": {"library.registry", "library.types", "library.membership"},
    "interpreter": {"library", "dsl.graph", "dsl.errors"},
}
FACADE_USERS = {"interpreter/__init__.py", "interpreter/cli.py"}

#: (file, imported module) -> why it is here. Reported to the lead; do not add to this list
#: to make a new import pass -- fix the import or change the rule in docs/architecture.md.
KNOWN_VIOLATIONS: dict[tuple[str, str], str] = {
    ("interpreter/__init__.py", "dsl.models"):
        "json_schemas() reads dsl.models.MODELS; the facade exports no schema/models verb",
    ("interpreter/__init__.py", "dsl.suite"):
        "regress() calls dsl.suite.load_suite; the facade does not export it",
    ("interpreter/quality.py", "dsl.source"):
        "data-quality findings build Span directly (dsl.source), not through dsl.errors/dsl.graph",
}


@dataclass(frozen=True)
class Import:
    file: str  # relative to the repository root, with '/'
    line: int
    module: str  # absolute dotted name of what is imported
    facade: bool  # `import dsl` or `from dsl import <name>` where <name> is not a submodule

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: imports {self.module}"


def _package_of(rel: str) -> str:
    return rel.split("/", 1)[0]


def _module_name(rel: str) -> str:
    parts = rel[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _is_submodule(dotted: str) -> bool:
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imports_of(path: Path) -> list[Import]:
    rel = path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    here = _module_name(rel)
    is_pkg = path.name == "__init__.py"
    out: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.append(Import(rel, node.lineno, alias.name, alias.name == "dsl"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base if is_pkg else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:
                full = f"{mod}.{alias.name}"
                if _is_submodule(full):  # `from dsl import ast` imports the module dsl.ast
                    out.append(Import(rel, node.lineno, full, False))
                else:
                    out.append(Import(rel, node.lineno, mod, mod == "dsl"))
    return out


def source_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "__pycache__" not in p.parts)


def _within(module: str, allowed: set[str]) -> bool:
    return any(module == a or module.startswith(a + ".") for a in allowed)


def violation(imp: Import) -> str | None:
    """Why ``imp`` breaks a rule, or None."""
    pkg = _package_of(imp.file)
    top = imp.module.split(".")[0]
    if top in STDLIB or top == pkg:
        return None
    if top in PACKAGES:
        if imp.facade:
            if pkg == "interpreter" and imp.file in FACADE_USERS:
                return None
            return (f"only {' and '.join(sorted(FACADE_USERS))} may use the dsl facade; "
                    f"import dsl.graph or dsl.errors instead")
        if _within(imp.module, CROSS[pkg]):
            return None
        allowed = ", ".join(sorted(CROSS[pkg])) or "nothing"
        return f"{pkg} may import from other packages only: {allowed}"
    if top in THIRD_PARTY[pkg]:
        return None
    return f"{pkg} may use only these third-party packages: {', '.join(sorted(THIRD_PARTY[pkg]))}"


def all_violations() -> dict[tuple[str, str], list[str]]:
    found: dict[tuple[str, str], list[str]] = {}
    for path in source_files():
        for imp in imports_of(path):
            why = violation(imp)
            if why:
                found.setdefault((imp.file, imp.module), []).append(f"{imp} -- {why}")
    return found


def test_import_directions() -> None:
    found = all_violations()
    new = {k: v for k, v in found.items() if k not in KNOWN_VIOLATIONS}
    if new:
        lines = [line for k in sorted(new) for line in new[k]]
        pytest.fail("imports against the layering rules (see docs/architecture.md):\n  " + "\n  ".join(lines))


def test_known_violations_are_still_real() -> None:
    """A known violation that was fixed must leave the list, so the list only shrinks."""
    found = all_violations()
    gone = [f"{f} -> {m}" for (f, m) in KNOWN_VIOLATIONS if (f, m) not in found]
    assert not gone, f"fixed, remove from KNOWN_VIOLATIONS in tests/test_layering.py: {gone}"


def test_dsl_never_imports_interpreter_and_library_imports_neither() -> None:
    """The hard part of the rules, never allowed even as a known violation."""
    bad = []
    for path in source_files():
        for imp in imports_of(path):
            pkg, top = _package_of(imp.file), imp.module.split(".")[0]
            if (pkg == "dsl" and top == "interpreter") or (pkg == "library" and top in ("dsl", "interpreter")):
                bad.append(str(imp))
    assert not bad, "imports against the direction library -> dsl -> interpreter:\n  " + "\n  ".join(bad)


# ---- the checker itself, on small made-up sources ----


def _check_text(rel: str, text: str, tmp_path: Path, monkeypatch) -> list[str]:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    for pkg in PACKAGES:
        (tmp_path / pkg).mkdir(exist_ok=True)
        (tmp_path / pkg / "__init__.py").touch()
    (tmp_path / "dsl" / "graph.py").touch()
    path = tmp_path / rel
    path.write_text(text)
    return [w for imp in imports_of(path) if (w := violation(imp))]


@pytest.mark.parametrize("rel, text, bad", [
    ("library/x.py", "import numpy\nimport math\nfrom library import registry\n", 0),
    ("library/x.py", "import dsl.graph\n", 1),
    ("library/x.py", "def f():\n    import scipy\n", 1),
    ("dsl/x.py", "from library.registry import REGISTRY\nfrom library.types import VType\n", 0),
    ("dsl/x.py", "from library import REGISTRY\n", 1),
    ("dsl/x.py", "from interpreter import backtest\n", 1),
    ("interpreter/x.py", "from dsl.graph import Graph\nfrom dsl import graph\nimport library\n", 0),
    ("interpreter/x.py", "import dsl\n", 1),
    ("interpreter/x.py", "from dsl import analyze\n", 1),
    ("interpreter/x.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from dsl.check import Project\n", 1),
    ("interpreter/cli.py", "import dsl\nfrom dsl import analyze\n", 0),
    ("interpreter/sub/y.py", "from ..graph import x\n", 0),
])
def test_checker_on_examples(rel, text, bad, tmp_path, monkeypatch) -> None:
    (tmp_path / "interpreter" / "sub").mkdir(parents=True, exist_ok=True)
    assert len(_check_text(rel, text, tmp_path, monkeypatch)) == bad
