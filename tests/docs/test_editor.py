"""docs/editor.md: the commands and settings it shows work on this repository."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from mdblocks import ROOT, blocks

DOC = ROOT / "docs" / "editor.md"
BLOCKS = blocks(DOC)


def _settings() -> dict:
    found = [json.loads(b.text) for b in BLOCKS if b.lang == "json" and "yaml.schemas" in b.text]
    assert len(found) == 1, "docs/editor.md shows one VS Code settings block with yaml.schemas"
    return found[0]["yaml.schemas"]


def test_json_blocks_parse() -> None:
    for b in BLOCKS:
        if b.lang == "json":
            json.loads(b.text)


def test_vscode_mapping_covers_every_kind_and_matches_the_files() -> None:
    import interpreter as api

    mapping = _settings()
    kinds = set()
    for schema_path, globs in mapping.items():
        path = ROOT / schema_path
        assert path.is_file(), f"{schema_path} does not exist"
        kind = json.loads(path.read_text())["properties"]["kind"]["const"]
        kinds.add(kind)
        files = [f for g in globs for f in ROOT.glob(g)]
        assert files, f"{globs} matches no file"
        for f in files:
            for doc in yaml.safe_load_all(f.read_text()):
                assert doc["kind"] == kind, f"{f} holds a {doc['kind']}, mapped to the {kind} schema"
    assert kinds == set(api.json_schemas()), "every kind needs a mapping"


def test_modeline_path_resolves_from_a_strategy_file() -> None:
    modelines = [ln for b in BLOCKS if b.lang == "yaml" for ln in b.text.splitlines()
                 if ln.startswith("# yaml-language-server: $schema=")]
    assert modelines
    for ln in modelines:
        rel = ln.split("$schema=", 1)[1].strip()
        assert (ROOT / "specs" / "strategies" / rel).resolve().is_file(), rel


def test_modeline_example_is_a_valid_spec(tmp_path: Path) -> None:
    import shutil

    import dsl

    example = next(b for b in BLOCKS if b.lang == "yaml" and "yaml-language-server" in b.text)
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    (tmp_path / "specs" / "strategies" / "editor_example.yaml").write_text(example.text)
    analysis = dsl.analyze([tmp_path / "specs"])
    assert analysis.ok, [d.message for d in analysis.errors]


def test_schema_command_output(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from interpreter.cli import app

    shown = [b for b in BLOCKS if b.lang == "console" and b.first_line.startswith("$ tradespec schema -o ")]
    assert shown
    for b in shown:
        folder = b.first_line.split()[-1]
        cwd = os.getcwd()
        os.chdir(tmp_path)
        try:
            result = CliRunner().invoke(app, ["schema", "-o", folder])
        finally:
            os.chdir(cwd)
        assert result.exit_code == 0
        assert result.stdout == b.text.split("\n", 1)[1]
        for f in (tmp_path / folder).iterdir():
            assert f.read_text() == (ROOT / "docs" / "reference" / "schema" / f.name).read_text()


def test_shipped_specs_satisfy_the_schemas() -> None:
    """What an editor shows for the shipped specs: no squiggles (needs the jsonschema package)."""
    jsonschema = pytest.importorskip("jsonschema")
    import interpreter as api

    schemas = api.json_schemas()
    for f in sorted((ROOT / "specs").rglob("*.yaml")):
        for doc in yaml.safe_load_all(f.read_text()):
            errors = list(jsonschema.Draft202012Validator(schemas[doc["kind"]]).iter_errors(doc))
            assert not errors, f"{f}: {[e.message for e in errors]}"
