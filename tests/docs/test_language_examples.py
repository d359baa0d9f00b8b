"""Every example in docs/language.md is valid (or, for counter-examples, refused as documented).

Markers (docs/language.md, top): a ```yaml block starting with ``# example: <kind>`` is a
complete document, analysed beside the shipped specs with no errors or warnings (strategies
are compiled too); ``# counter-example: <CODE>`` must produce that code; ``# fragment`` is
loaded as YAML only. ```formula / ```rule lines must parse, ```formula-error / ```rule-error
lines must not, and ```canonical lines ``written ==> canonical`` must print as shown.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import dsl
from dsl.compile import compile_project
from dsl.errors import DslError, render_all
from dsl.loader import load_text
from dsl.parse import parse_expr, parse_rule, plain_locator
from mdblocks import ROOT, Block, anchored_links, anchors, blocks, relative_links

DOC = ROOT / "docs" / "language.md"
BLOCKS = blocks(DOC)
YAML = [b for b in BLOCKS if b.lang == "yaml"]
MARKER = re.compile(r"^#\s*(example|counter-example|fragment)\s*(?::\s*([A-Za-z0-9_]+))?\s*$")


def _marker(b: Block) -> tuple[str, str | None]:
    m = MARKER.match(b.first_line)
    assert m, (f"{b.where}: a ```yaml block must start with '# example: <kind>', "
               f"'# counter-example: <CODE>' or '# fragment' (found {b.first_line!r})")
    return m.group(1), m.group(2)


def _group(b: Block) -> str | None:
    m = re.search(r"^#\s*fingerprint-group:\s*(\S+)\s*$", b.text, re.M)
    return m.group(1) if m else None


def _workspace(tmp_path: Path, b: Block) -> Path:
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", specs)
    (specs / "examples").mkdir()
    path = specs / "examples" / f"language_md_line_{b.line}.yaml"
    path.write_text(b.text, encoding="utf-8")
    return path


def _analyze(tmp_path: Path, b: Block):
    path = _workspace(tmp_path, b)
    analysis = dsl.analyze([tmp_path / "specs"])
    mine = [d for d in analysis.diagnostics if d.span is not None and d.span.file == str(path)]
    return path, analysis, mine


def _compiled(analysis, path: Path):
    """Fingerprints of the strategies defined in ``path`` (raises DslError on compile errors)."""
    out = {}
    for doc in analysis.documents:
        if doc.file == str(path) and doc.kind == "strategy":
            out[doc.name] = compile_project(analysis.project, doc.name)
    return out


def _id(b: Block) -> str:
    return f"line{b.line}"


EXAMPLES = [b for b in YAML if _marker(b)[0] == "example"]
COUNTER = [b for b in YAML if _marker(b)[0] == "counter-example"]
FRAGMENTS = [b for b in YAML if _marker(b)[0] == "fragment"]


def test_every_yaml_block_is_marked() -> None:
    assert YAML, "docs/language.md has no ```yaml blocks"
    for b in YAML:
        _marker(b)
    assert len(EXAMPLES) >= 10 and COUNTER


@pytest.mark.parametrize("b", EXAMPLES, ids=_id)
def test_example_is_valid(b: Block, tmp_path: Path) -> None:
    kind = _marker(b)[1]
    path, analysis, mine = _analyze(tmp_path, b)
    problems = [d for d in analysis.diagnostics if d.is_error] + [d for d in mine if not d.is_error]
    assert not problems, f"{b.where}: the example is not valid:\n{render_all(problems, analysis.sources)}"
    defined = [d for d in analysis.documents if d.file == str(path)]
    assert defined, f"{b.where}: no document was loaded from the example"
    assert {d.kind for d in defined} == {kind}, f"{b.where}: marked '{kind}' but defines {[d.kind for d in defined]}"
    try:
        _compiled(analysis, path)
    except DslError as exc:
        pytest.fail(f"{b.where}: compiling the example failed:\n{render_all(exc.diagnostics, analysis.sources)}")


@pytest.mark.parametrize("b", COUNTER, ids=_id)
def test_counter_example_is_refused_as_documented(b: Block, tmp_path: Path) -> None:
    code = _marker(b)[1]
    path, analysis, mine = _analyze(tmp_path, b)
    codes = {d.code for d in mine if d.is_error}
    if not codes:
        try:
            _compiled(analysis, path)
        except DslError as exc:
            codes = {d.code for d in exc.diagnostics}
    assert code in codes, f"{b.where}: expected {code}, got {sorted(codes) or 'no error'}"
    others = [d for d in analysis.diagnostics if d.is_error and d.span is not None and d.span.file != str(path)]
    assert not others, "the shipped specs themselves have errors:\n" + render_all(others, analysis.sources)


def test_fragments_are_plain_yaml() -> None:
    for b in FRAGMENTS:
        res = load_text(b.text, b.where)
        assert not res.diagnostics, f"{b.where}: {[d.message for d in res.diagnostics]}"


def test_fingerprint_groups(tmp_path: Path) -> None:
    groups: dict[str, list[tuple[Block, str]]] = {}
    for i, b in enumerate(x for x in EXAMPLES if _group(x)):
        work = tmp_path / f"g{i}"
        work.mkdir()
        path, analysis, _ = _analyze(work, b)
        graphs = _compiled(analysis, path)
        assert len(graphs) == 1, f"{b.where}: a fingerprint-group example defines one strategy"
        groups.setdefault(_group(b), []).append((b, next(iter(graphs.values())).fingerprint))
    assert groups, "docs/language.md shows no fingerprint-group"
    for name, members in groups.items():
        assert len(members) >= 2, f"fingerprint-group {name} has one member"
        prints = {fp for _, fp in members}
        assert len(prints) == 1, f"fingerprint-group {name} differs: " + ", ".join(
            f"{b.where} {fp[:12]}" for b, fp in members)


def _lines(lang: str) -> list[tuple[str, str]]:
    return [(f"{b.file}:{n}", text) for b in BLOCKS if b.lang == lang for n, text in b.lines()]


FORMULAS = _lines("formula")
RULES = _lines("rule")


def test_there_are_formula_and_rule_examples() -> None:
    assert len(FORMULAS) > 30 and len(RULES) > 5 and _lines("formula-error") and _lines("rule-error")


@pytest.mark.parametrize("where, text", FORMULAS, ids=[w for w, _ in FORMULAS])
def test_formula_parses(where: str, text: str) -> None:
    node, diag = parse_expr(text, plain_locator(where))
    assert diag is None, f"{where}: {text!r}: {diag.message}" if diag else ""


@pytest.mark.parametrize("where, text", RULES, ids=[w for w, _ in RULES])
def test_rule_parses(where: str, text: str) -> None:
    node, diag = parse_rule(text, plain_locator(where))
    assert diag is None, f"{where}: {text!r}: {diag.message}" if diag else ""


@pytest.mark.parametrize("where, text", _lines("formula-error"), ids=[w for w, _ in _lines("formula-error")])
def test_formula_error_is_refused(where: str, text: str) -> None:
    node, diag = parse_expr(text, plain_locator(where))
    assert diag is not None and diag.code == "E301", f"{where}: {text!r} should not parse as a formula"


@pytest.mark.parametrize("where, text", _lines("rule-error"), ids=[w for w, _ in _lines("rule-error")])
def test_rule_error_is_refused(where: str, text: str) -> None:
    node, diag = parse_rule(text, plain_locator(where))
    assert diag is not None and diag.code == "E303", f"{where}: {text!r} should not parse as a rule"


CANONICAL = _lines("canonical")


@pytest.mark.parametrize("where, text", CANONICAL, ids=[w for w, _ in CANONICAL])
def test_canonical_form(where: str, text: str) -> None:
    written, sep, canonical = text.partition("  ==>  ")
    assert sep, f"{where}: write 'written  ==>  canonical'"
    parse = parse_rule if written.strip().startswith("if ") else parse_expr
    node, diag = parse(written, plain_locator(where))
    assert diag is None, f"{where}: {written!r}: {diag.message}" if diag else ""
    assert node.to_text() == canonical.strip(), f"{where}: {written!r} prints as {node.to_text()!r}"
    again, _ = parse(canonical, plain_locator(where))
    assert again.to_text() == canonical.strip(), f"{where}: the canonical text is not a fixed point"


# ---- the reference stays complete as the models, grammar and tables grow ----

TEXT = DOC.read_text(encoding="utf-8")


def _model_fields() -> set[str]:
    """Every field name of every document model, nested models included."""
    import typing

    from pydantic import BaseModel

    from dsl.models import MODELS

    seen: set[type] = set()
    names: set[str] = set()

    def visit(tp) -> None:
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp in seen:
                return
            seen.add(tp)
            for name, f in tp.model_fields.items():
                names.add(name)
                visit(f.annotation)
            return
        for arg in typing.get_args(tp):
            visit(arg)

    for model in MODELS.values():
        visit(model)
    return names - {"value", "unit"}  # MoneyOrPct internals: written as '5000' or '2%'


@pytest.mark.parametrize("name", sorted(_model_fields()))
def test_every_model_field_is_documented(name: str) -> None:
    part = r"[A-Za-z0-9_\[\]*]+"
    path = rf"`(?:{part}\.)*{re.escape(name)}(?:\.{part})*`"  # `name`, `limits.portfolio`, `slots[*].plan`
    assert re.search(path, TEXT), f"field '{name}' of a document model is not described in docs/language.md"


def _literal_values() -> set[str]:
    import typing

    from pydantic import BaseModel

    from dsl.models import MODELS

    seen: set = set()
    out: set[str] = set()

    def visit(tp) -> None:
        if typing.get_origin(tp) is typing.Literal:
            out.update(str(a) for a in typing.get_args(tp))
            return
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp in seen:
                return
            seen.add(tp)
            for f in tp.model_fields.values():
                visit(f.annotation)
            return
        for arg in typing.get_args(tp):
            visit(arg)

    for model in MODELS.values():
        visit(model)
    return out - {"money", "pct"}


@pytest.mark.parametrize("value", sorted(_literal_values()))
def test_every_choice_is_documented(value: str) -> None:
    assert re.search(rf"(?<![A-Za-z0-9_]){re.escape(value)}(?![A-Za-z0-9_])", TEXT), \
        f"the choice '{value}' (a Literal in dsl/models) is not mentioned in docs/language.md"


def test_every_shape_and_hedge_is_listed() -> None:
    from library.membership import HEDGES, TERM_SHAPES

    for name in list(TERM_SHAPES) + list(HEDGES):
        assert f"`{name}`" in TEXT, f"'{name}' (library/membership.py) is not in docs/language.md"


def test_every_keyword_of_the_grammar_is_reserved() -> None:
    grammar = (ROOT / "dsl" / "grammar" / "spec.lark").read_text(encoding="utf-8")
    words = set(re.findall(r'"([a-z]+)"', grammar))
    section = TEXT.split("## Reserved words", 1)[1].split("\n## ", 1)[0]
    missing = sorted(w for w in words if f"`{w}`" not in section)
    assert not missing, f"keywords of spec.lark not listed under 'Reserved words': {missing}"


def test_compile_output_shown_is_real() -> None:
    """The ```text block that shows `$ tradespec compile SPEC` is what compiling gives today
    (fingerprints masked: they move whenever any default of any model does)."""
    import interpreter as api

    shown = [b for b in BLOCKS if b.lang == "text" and b.first_line.startswith("$ tradespec compile ")]
    assert shown
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        for b in shown:
            spec = b.first_line.split()[-1]
            real = api.compile_spec(spec).to_text()
            body = b.text.split("\n", 1)[1]
            mask = lambda s: re.sub(r"fingerprint [0-9a-f]{12}", "fingerprint <fp>", s)  # noqa: E731
            assert mask(body) == mask(real), (f"{b.where}: the compile output shown is out of date; "
                                              f"run `tradespec compile {spec}` and paste it:\n{real}")
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("doc", ["language.md", "editor.md", "architecture.md"])
def test_links_resolve(doc: str) -> None:
    path = ROOT / "docs" / doc
    if not path.exists():
        pytest.fail(f"docs/{doc} is missing")
    in_progress = {"errors.md"}  # written by someone else; may not be there yet
    for line, target in relative_links(path):
        if Path(target).name in in_progress:
            continue
        assert (path.parent / target).exists(), f"docs/{doc}:{line}: link to {target}, which does not exist"
    for line, dest, anchor in anchored_links(path):
        if dest.name in in_progress or not dest.exists():
            continue
        assert anchor in anchors(dest), f"docs/{doc}:{line}: no heading '#{anchor}' in {dest.name}"
