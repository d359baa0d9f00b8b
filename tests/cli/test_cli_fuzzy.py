"""tradespec fuzzy import / eval / plot, and a fuzzy-sized strategy through backtest."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from interpreter.cli import app

ROOT = Path(__file__).resolve().parents[2]
FLL = ROOT.parent / "shared" / "reference" / "fuzzy" / "fll"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _root(monkeypatch):
    monkeypatch.chdir(ROOT)


def run(*args: str):
    r = runner.invoke(app, list(args))
    assert "Traceback" not in r.output
    return r


def test_eval_explains_rule_by_rule():
    r = run("fuzzy", "eval", "specs/fuzzy/fis_sizer.yaml", "--input", "rsi=25", "--input", "trend=0.1",
            "--input", "vol=0.12")
    assert r.exit_code == 0, r.output
    assert "output size = 0.775775 (rules)" in r.output
    assert "0.667  fired  rules: if rsi is oversold and trend is up and vol is low then size is large" in r.output
    r = run("--json", "fuzzy", "eval", "specs/fuzzy/fis_sizer.yaml", "-i", "rsi=90", "-i", "trend=0", "-i", "vol=0.1")
    doc = json.loads(r.output)
    assert doc["outputs"][0]["size_source"] in ("rules", "default")


def test_eval_many_rows_in_order(tmp_path):
    rows = tmp_path / "in.csv"
    pd.DataFrame({"rsi": [25, 50, 90], "trend": [0.1, 0.0, -0.2], "vol": [0.12, 0.3, 0.5]}).to_csv(rows, index=False)
    out = tmp_path / "out.csv"
    r = run("fuzzy", "eval", "specs/fuzzy/fis_sizer.yaml", "--inputs", str(rows), "-o", str(out))
    assert r.exit_code == 0, r.output
    table = pd.read_csv(out)
    assert len(table) == 3 and "size" in table.columns and any(c.startswith("rule: ") for c in table.columns)


def test_eval_usage_errors():
    assert run("fuzzy", "eval", "specs/fuzzy/fis_sizer.yaml").exit_code == 2
    assert run("fuzzy", "eval", "specs/fuzzy/fis_sizer.yaml", "-i", "rsi").exit_code == 2
    r = run("fuzzy", "eval", "specs/fuzzy/fis_sizer.yaml", "-i", "rsi=1")
    assert r.exit_code == 2 and "missing input" in r.output


def test_plot_svg(tmp_path):
    out = tmp_path / "f.svg"
    r = run("fuzzy", "plot", "specs/fuzzy/fis_sizer.yaml", "-o", str(out), "-i", "rsi=25")
    assert r.exit_code == 0
    svg = out.read_text()
    assert svg.startswith("<svg") and "oversold" in svg and svg.count("<polyline") == 13
    assert run("fuzzy", "plot", "specs/fuzzy/fis_sizer.yaml", "-o", str(tmp_path / "f.png")).exit_code == 2


@pytest.mark.skipif(not FLL.exists(), reason="needs ../shared/reference/fuzzy (the reference cases)")
def test_import_then_check(tmp_path):
    out = tmp_path / "tipper.yaml"
    r = run("fuzzy", "import", str(FLL / "hybrid__tipper.fll"), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert run("check", str(out)).exit_code == 0
    assert run("fuzzy", "eval", str(out), "-i", "service=5", "-i", "food=5").exit_code == 0


def test_import_bad_file(tmp_path):
    bad = tmp_path / "bad.fll"
    bad.write_text("Engine: x\nInputVariable: a\n  range: 0 1\n  term: t Nonsense 1 2\n")
    r = run("fuzzy", "import", str(bad))
    assert r.exit_code == 1 and "bad.fll:4" in r.output


def test_fuzzy_sized_strategy_backtests():
    r = run("--json", "backtest", "specs/strategies/rsi_reversion_fuzzy.yaml", "--out", "/tmp/tradespec-fz")
    assert r.exit_code == 0, r.output
    trades = pd.read_csv("/tmp/tradespec-fz/trades.csv")
    assert trades["units"].nunique() > 3  # the rule base sizes each entry differently
