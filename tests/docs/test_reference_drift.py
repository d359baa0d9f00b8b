"""docs/reference/ is generated from the registry and the models; the files on disk must be
exactly what ``interpreter.reference.render_reference()`` renders today."""

from __future__ import annotations

from pathlib import Path

import pytest

from interpreter.reference import HAND_WRITTEN, REFERENCE_DIR, REGENERATE, render_reference, stale_files

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / REFERENCE_DIR
HOW = f"docs/reference/ is out of date; regenerate it from the repository root with `{REGENERATE}`"

RENDERED = render_reference()


@pytest.mark.parametrize("rel", sorted(RENDERED))
def test_generated_file_matches(rel: str) -> None:
    path = BASE / rel
    assert path.is_file(), f"missing docs/reference/{rel}. {HOW}"
    on_disk = path.read_text(encoding="utf-8")
    if on_disk != RENDERED[rel]:
        import difflib

        diff = "".join(list(difflib.unified_diff(on_disk.splitlines(True), RENDERED[rel].splitlines(True),
                                                 f"on disk: docs/reference/{rel}", "rendered now"))[:40])
        pytest.fail(f"docs/reference/{rel} differs from what the registry renders. {HOW}\n{diff}")


def test_no_stale_generated_files() -> None:
    stale = [p.relative_to(ROOT).as_posix() for p in stale_files(ROOT, RENDERED)]
    assert not stale, f"generated files that no entry produces any more: {stale}. {HOW} (it deletes them)"


def test_every_registry_entry_has_a_page_and_an_index_row() -> None:
    import library

    index = RENDERED["index.md"]
    for e in library.REGISTRY:
        assert f"{e.name}.md" in RENDERED
        assert f"[{e.name}]({e.name}.md)" in index
        assert e.signature in index


def test_hand_written_conventions_are_linked_and_kept() -> None:
    for name in HAND_WRITTEN:
        assert name not in RENDERED, f"the generator must never produce {name}"
        assert (BASE / name).is_file(), f"docs/reference/{name} (hand-written) is missing"
        assert f"]({name})" in RENDERED["index.md"], f"index.md must link {name}"


def test_schemas_are_the_cli_schemas() -> None:
    """`tradespec schema -o DIR` writes the same bytes as docs/reference/schema/."""
    import json

    import interpreter as api

    for kind, schema in api.json_schemas().items():
        assert RENDERED[f"schema/{kind}.schema.json"] == json.dumps(schema, indent=2, sort_keys=True) + "\n"


def test_relative_links_resolve() -> None:
    import re

    for rel, text in RENDERED.items():
        if not rel.endswith(".md"):
            continue
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text):
            if "://" in target:
                continue
            assert (BASE / rel).parent.joinpath(target).resolve().exists() or target in RENDERED, \
                f"docs/reference/{rel} links to {target}, which does not exist"


def test_anchors_into_the_language_reference_exist() -> None:
    import re

    from mdblocks import anchors

    heads = anchors(ROOT / "docs" / "language.md")
    for rel, text in RENDERED.items():
        for anchor in re.findall(r"\]\(\.\./language\.md#([^)]+)\)", text):
            assert anchor in heads, f"docs/reference/{rel} links to language.md#{anchor}, which is not a heading"
