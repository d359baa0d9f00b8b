"""Every walkthrough in examples/ runs as written, and shows output that the commands really print.

In each ``examples/*/README.md``:

* the ```bash block starting with ``# example: run`` holds the example's one command; it must
  exit 0 (run through ``typer.testing.CliRunner`` on ``interpreter.cli.app``, from the
  repository root, with ``--out``/``-o`` redirected into a temporary folder);
* every ```text block starting with ``$ tradespec ...`` is run the same way and must print
  exactly the rest of the block (the redirected paths put back);
* a ```csv block after a command that wrote a CSV file shows lines of that file;
* a ```mermaid block is the example's ``compile --format mermaid`` output.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interpreter.cli import app
from mdblocks import ROOT, Block, blocks

READMES = sorted((ROOT / "examples").glob("*/README.md"))
OUT_OPTIONS = ("--out", "-o", "--output")


def _run(command: str, tmp_path: Path) -> tuple[int, str, dict[str, Path], str]:
    """Run ``tradespec ...`` from the repository root; (exit code, stdout, outputs, output text)."""
    argv = shlex.split(command)
    assert argv[0] == "tradespec", f"not a tradespec command: {command}"
    args = argv[1:]
    written: dict[str, Path] = {}
    for i, a in enumerate(args[:-1]):
        if a in OUT_OPTIONS:
            original = args[i + 1]
            target = tmp_path / original.replace("/", "_")
            written[original] = target
            args[i + 1] = str(target)
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(app, args)
    finally:
        os.chdir(cwd)
    out = result.stdout
    for original, target in written.items():
        out = out.replace(str(target), original)
    detail = out + (result.stderr if hasattr(result, "stderr") else "")
    if result.exception and not isinstance(result.exception, SystemExit):
        import traceback

        detail += "".join(traceback.format_exception(result.exception))
    return result.exit_code, out, written, detail


def _readme_id(p: Path) -> str:
    return p.parent.name


def test_there_are_examples() -> None:
    names = [p.parent.name for p in READMES]
    assert "01_ma_crossover" in names and "02_rsi_reversion" in names


@pytest.mark.parametrize("readme", READMES, ids=_readme_id)
def test_the_example_command_runs(readme: Path, tmp_path: Path) -> None:
    runs = [b for b in blocks(readme) if b.lang == "bash" and b.first_line == "# example: run"]
    assert len(runs) == 1, f"{readme}: needs exactly one ```bash block starting with '# example: run'"
    commands = [text for _, text in runs[0].lines()]
    assert len(commands) == 1, f"{runs[0].where}: the run block holds one command"
    code, _, written, detail = _run(commands[0], tmp_path)
    assert code == 0, f"{runs[0].where}: `{commands[0]}` exited {code}:\n{detail}"
    for original, target in written.items():
        assert target.exists(), f"{runs[0].where}: `{commands[0]}` did not write {original}"


def _shown(readme: Path) -> list[Block]:
    return [b for b in blocks(readme) if b.lang in ("text", "csv", "mermaid")]


@pytest.mark.parametrize("readme", READMES, ids=_readme_id)
def test_the_output_shown_is_real(readme: Path, tmp_path: Path) -> None:
    last_files: dict[str, Path] = {}
    spec = None
    checked = 0
    for b in _shown(readme):
        if b.lang == "text" and b.first_line.startswith("$ tradespec "):
            command = b.first_line[2:]
            expected = b.text.split("\n", 1)[1]
            code, out, written, detail = _run(command, tmp_path)
            assert code == 0, f"{b.where}: `{command}` exited {code}:\n{detail}"
            assert out == expected, (f"{b.where}: `{command}` prints something else now; paste its real "
                                     f"output into the README:\n{out}")
            last_files = written
            spec = spec or next((a for a in shlex.split(command) if a.endswith(".yaml")), None)
            checked += 1
        elif b.lang == "csv":
            csvs = [p for o, p in last_files.items() if o.endswith(".csv")]
            assert csvs, f"{b.where}: a ```csv block must follow a command that writes a .csv file"
            lines = set(csvs[0].read_text(encoding="utf-8").splitlines())
            missing = [ln for ln in b.text.splitlines() if ln and ln not in lines]
            assert not missing, f"{b.where}: not in the file the command wrote: {missing}"
        elif b.lang == "mermaid":
            assert spec, f"{b.where}: a ```mermaid block must come after a command on a spec"
            code, out, _, detail = _run(f"tradespec compile {spec} --format mermaid", tmp_path)
            assert code == 0, detail
            assert out == b.text, f"{b.where}: `tradespec compile {spec} --format mermaid` prints:\n{out}"
    assert checked >= 3, f"{readme}: show the real output of the run, a --param run and signals"


@pytest.mark.parametrize("readme", READMES, ids=_readme_id)
def test_links_resolve(readme: Path) -> None:
    from mdblocks import anchored_links, anchors, relative_links

    for line, target in relative_links(readme):
        assert (readme.parent / target).exists(), f"{readme.relative_to(ROOT)}:{line}: no such file {target}"
    for line, dest, anchor in anchored_links(readme):
        assert anchor in anchors(dest), f"{readme.relative_to(ROOT)}:{line}: no heading '#{anchor}' in {dest}"
