"""explain, diff, report and backtest --report/--why/--log through the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from interpreter.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(autouse=True)
def _root(monkeypatch):
    monkeypatch.chdir(ROOT)


def run(*args: str):
    r = runner.invoke(app, list(args))
    assert "Traceback" not in r.output
    return r


def test_explain_md_and_html(tmp_path):
    r = run("explain", "specs/strategies/rsi_reversion.yaml")
    assert r.exit_code == 0 and r.output.startswith("# Strategy rsi_reversion")
    out = tmp_path / "x.html"
    r = run("explain", "specs/strategies/rsi_reversion.yaml", "--format", "html", "-o", str(out))
    assert r.exit_code == 0 and out.read_text().lstrip().lower().startswith("<!doctype html")
    assert run("explain", "specs/strategies/rsi_reversion.yaml", "--format", "pdf").exit_code == 2


def test_diff_exit_codes(tmp_path):
    new = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", new)
    same = run("diff", "specs", str(new))
    assert same.exit_code == 0, same.output
    moderate = new / "risk" / "moderate.yaml"
    moderate.write_text(moderate.read_text().replace("max_drawdown: 30%", "max_drawdown: 40%"))
    changed = run("diff", "specs", str(new), "--format", "json")
    assert changed.exit_code == 1
    doc = json.loads(changed.output)
    assert any(c.get("loosened") or c.get("direction") == "loosened" for c in doc["changes"]) or "loos" in changed.output


def test_backtest_report_log_and_why(tmp_path):
    rep, log = tmp_path / "r.html", tmp_path / "d.jsonl"
    r = run("backtest", "specs/strategies/ma_crossover.yaml", "--out", str(tmp_path / "o"), "--report", str(rep),
            "--log", str(log))
    assert r.exit_code == 0, r.output
    html = rep.read_text()
    assert "http://" not in html.replace("http://www.w3.org", "") and "<svg" in html
    assert json.loads(log.read_text().splitlines()[0])["type"] == "session"
    r = run("backtest", "specs/strategies/ma_crossover.yaml", "--why", "2003-01-27")
    assert r.exit_code == 0 and "portfolio.max_drawdown" in r.output and "flatten_and_halt" in r.output
    r = run("report", str(tmp_path / "o"), "-o", str(tmp_path / "again.html"))
    assert r.exit_code == 0 and (tmp_path / "again.html").exists()
    assert run("report", str(tmp_path / "nope")).exit_code == 2
