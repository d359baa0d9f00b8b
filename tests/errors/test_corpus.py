"""The error corpus: every bad spec gets a precise, readable diagnostic, and nothing crashes.

Each ``cases/bad_<CODE>_<what>.yaml`` is checked on its own. The rendered text (position,
source line, underline, hint) is pinned with a snapshot: it *is* the user experience, so a
snapshot with a poor message is a bug to fix in ``dsl/``, not something to pin. The code in
the file name must be among the diagnostics, and ``tradespec check`` must exit 1 without a
traceback. Cases that need huge or unreadable files are generated here instead of committed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dsl
from dsl.errors import CODES, render_all
from dsl.loader import MAX_DEPTH, MAX_DOCUMENTS, MAX_FILE_BYTES
from interpreter.cli import app

ROOT = Path(__file__).resolve().parents[2]
CASES_DIR = ROOT / "tests" / "errors" / "cases"
CASES = sorted(CASES_DIR.glob("bad_*.yaml"))
JSON_KEYS = {"file", "line", "col", "end_line", "end_col", "code", "message", "hint"}

runner = CliRunner()


def rel(path: Path) -> str:
    """Paths relative to the repository root, so messages are the same on every machine."""
    return path.relative_to(ROOT).as_posix()


def expected_code(path: Path) -> str:
    return path.name.split("_")[1]


def cli(*args: str):
    result = runner.invoke(app, list(args))
    output = result.output + (getattr(result, "stderr", "") or "")
    return result, output


def _check_diagnostics(analysis: dsl.Analysis) -> None:
    for d in analysis.diagnostics:
        assert d.code in CODES, d
        assert d.message and "\n" not in d.message, d
        if d.span is not None:
            lines = analysis.sources.get(d.span.file)
            if lines is None:  # a file that could not be read at all: only its start is named
                assert d.code in ("E105", "E108") and (d.span.line, d.span.col) == (1, 1), d
            else:
                assert 1 <= d.span.line <= len(lines) + 1, d
            assert d.span.col >= 1 and d.span.end_col >= 1, d
            assert (d.span.end_line, d.span.end_col) >= (d.span.line, d.span.col), d


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def test_corpus_is_large_and_named_by_code():
    assert len(CASES) >= 45
    for case in CASES:
        assert expected_code(case) in CODES, f"{case.name}: name it bad_<CODE>_<what>.yaml"


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_case(case: Path, snapshot):
    analysis = dsl.analyze([rel(case)])
    text = render_all(analysis.diagnostics, analysis.sources)
    assert text == snapshot
    assert analysis.errors, "a bad spec must produce at least one error"
    assert expected_code(case) in {d.code for d in analysis.diagnostics}
    _check_diagnostics(analysis)
    # every error shows where it is: file:line:col, the source line and an underline
    for d in analysis.errors:
        assert d.span is not None, d
        assert f"{rel(case)}:{d.span.line}:{d.span.col}: {d.code} " in text


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_cli_exits_1_without_traceback(case: Path):
    result, output = cli("check", rel(case))
    assert result.exit_code == 1, output
    assert "Traceback" not in output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert f"{rel(case)}:" in output
    assert expected_code(case) in output


@pytest.mark.parametrize("case", CASES[::7], ids=lambda p: p.stem)
def test_cli_json(case: Path):
    result, output = cli("check", "--format", "json", rel(case))
    assert result.exit_code == 1
    items = json.loads(result.stdout if hasattr(result, "stdout") else output)
    assert isinstance(items, list) and items
    for item in items:
        assert JSON_KEYS <= set(item), item
        assert item["code"] in CODES
        assert item["file"] == rel(case)
        assert isinstance(item["line"], int) and isinstance(item["col"], int)
    assert expected_code(case) in {i["code"] for i in items}


def test_all_errors_of_all_files_are_collected_and_sorted():
    picked = [CASES_DIR / "bad_E502_unknown_name.yaml", CASES_DIR / "bad_E101_unclosed_quote.yaml",
              CASES_DIR / "bad_E202_unknown_deep_field.yaml"]
    analysis = dsl.analyze([rel(p) for p in picked])
    codes = [d.code for d in analysis.errors]
    assert {"E502", "E101", "E202"} <= set(codes)
    assert codes.count("E202") == 2
    keys = [(d.span.file, d.span.line, d.span.col) for d in analysis.diagnostics]
    assert keys == sorted(keys)


# ---------------------------------------------------------------- generated cases


def _generated(tmp_path: Path, monkeypatch, name: str, data: bytes | str) -> dsl.Analysis:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    analysis = dsl.analyze([name])
    _check_diagnostics(analysis)
    result, output = cli("check", name)
    assert result.exit_code == 1, output
    assert "Traceback" not in output
    return analysis


def test_generated_file_too_large(tmp_path, monkeypatch, snapshot):
    text = "kind: strategy\ndescription: |\n" + ("  " + "x" * 98 + "\n") * (MAX_FILE_BYTES // 100 + 10)
    analysis = _generated(tmp_path, monkeypatch, "huge.yaml", text)
    assert [d.code for d in analysis.errors] == ["E105"]
    assert render_all(analysis.diagnostics, analysis.sources) == snapshot


def test_generated_too_many_documents(tmp_path, monkeypatch, snapshot):
    text = "\n".join(f"---\nkind: risk_profile\nname: p{i}" for i in range(MAX_DOCUMENTS + 5))
    analysis = _generated(tmp_path, monkeypatch, "many.yaml", text)
    assert "E105" in {d.code for d in analysis.errors}
    assert render_all(analysis.diagnostics, analysis.sources) == snapshot


def test_generated_nesting_too_deep_block_style(tmp_path, monkeypatch, snapshot):
    lines = ["kind: risk_profile", "name: deep", "limits:"]
    for depth in range(MAX_DEPTH + 6):
        lines.append("  " * (depth + 1) + f"k{depth}:")
    lines.append("  " * (MAX_DEPTH + 7) + "x: 1")
    analysis = _generated(tmp_path, monkeypatch, "deep.yaml", "\n".join(lines) + "\n")
    assert [d.code for d in analysis.errors] == ["E106"]
    assert render_all(analysis.diagnostics, analysis.sources) == snapshot


def test_generated_nesting_far_too_deep_does_not_recurse(tmp_path, monkeypatch):
    analysis = _generated(tmp_path, monkeypatch, "abyss.yaml", "a: " + "[" * 5000 + "]" * 5000 + "\n")
    assert "E106" in {d.code for d in analysis.errors}


def test_generated_not_utf8(tmp_path, monkeypatch, snapshot):
    analysis = _generated(tmp_path, monkeypatch, "latin1.yaml",
                          "kind: strategy\nname: caf\u00e9\n".encode("latin-1"))
    assert [d.code for d in analysis.errors] == ["E108"]
    assert render_all(analysis.diagnostics, analysis.sources) == snapshot


def test_generated_control_character(tmp_path, monkeypatch, snapshot):
    analysis = _generated(tmp_path, monkeypatch, "ctrl.yaml", "kind: strategy\nname: a\x07b\n")
    assert [d.code for d in analysis.errors] == ["E101"]
    assert render_all(analysis.diagnostics, analysis.sources) == snapshot


def test_missing_path_and_empty_folder(tmp_path, monkeypatch, snapshot):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    analysis = dsl.analyze(["nowhere.yaml", "empty"])
    assert sorted(d.code for d in analysis.errors) == ["E108", "E109"]
    assert render_all(analysis.diagnostics, analysis.sources) == snapshot
    result, output = cli("check", "empty")
    assert result.exit_code == 1 and "E109" in output and "Traceback" not in output
