"""The tradespec command, through typer's CliRunner: exit codes, outputs, and no tracebacks."""

from __future__ import annotations

import json
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
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def test_version():
    r = run("--version")
    assert r.exit_code == 0 and r.output.startswith("tradespec ")


def test_check_shipped_specs_ok():
    r = run("check", "specs/")
    assert r.exit_code == 0, r.output
    assert "documents valid" in r.output


def test_check_json_lists_diagnostics(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: strategy\nname: x\nuniverse: u\ntimeframe: 1d\nentry: {long: smaa(close, 3) > 1}\n")
    r = run("check", str(bad), "--format", "json")
    assert r.exit_code == 1
    items = json.loads(r.output)
    assert {"file", "line", "col", "end_line", "end_col", "code", "message", "hint"} <= set(items[0])


def test_usage_errors_exit_2():
    assert run("check", "specs/", "--format", "xml").exit_code == 2
    assert run("backtest", "specs/strategies/ma_crossover.yaml", "--param", "fast").exit_code == 2
    assert run("backtest", "specs/strategies/ma_crossover.yaml", "--on-bad-data", "ignore").exit_code == 2


def test_schema_every_kind():
    r = run("schema")
    doc = json.loads(r.output)
    assert sorted(doc) == ["fuzzy", "risk_profile", "schedule", "strategy", "universe"]
    assert run("schema", "strategy").exit_code == 0
    assert run("schema", "strategyy").exit_code == 2


def test_library_list_and_show():
    r = run("library", "list")
    assert r.exit_code == 0 and "sma(x: Series, period: Int) -> Series" in r.output
    assert run("library", "list", "--kind", "math").exit_code == 0
    r = run("library", "show", "rsi")
    assert r.exit_code == 0 and "lookback" in r.output
    r = run("library", "show", "rsii")
    assert r.exit_code == 2 and "did you mean 'rsi'" in r.output


def test_backtest_writes_results(tmp_path):
    r = run("backtest", "specs/strategies/ma_crossover.yaml", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    assert "total return" in r.output
    for name in ("metrics.json", "trades.csv", "fills.csv", "equity.csv"):
        assert (tmp_path / name).exists()
    doc = json.loads((tmp_path / "metrics.json").read_text())
    assert len(doc["fingerprint"]) == 64


def test_backtest_json_and_params(tmp_path):
    r = run("--json", "backtest", "specs/strategies/ma_crossover.yaml", "--param", "fast=10",
            "--from", "2005-01-01", "--to", "2010-01-01", "--out", str(tmp_path))
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["settings"]["params"]["fast"] == 10.0
    assert doc["data"][0]["first"].startswith("2005-01-03")


def test_backtest_spec_error_exit_1():
    r = run("backtest", "specs/strategies/ma_crossover.yaml", "--param", "fst=10")
    assert r.exit_code == 1
    assert "did you mean 'fast'" in r.output


def test_backtest_missing_file_exit_1():
    r = run("backtest", "specs/strategies/nope.yaml")
    assert r.exit_code == 1 and "E108" in r.output


def test_backtest_bad_data_file(tmp_path):
    bad = tmp_path / "bars.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n2020-01-01T00:00:00+00:00,1,0.5,2,1,1\n")
    r = run("backtest", "specs/strategies/ma_crossover.yaml", "--data", str(bad), "--out", str(tmp_path / "o"))
    assert r.exit_code == 1
    assert "D108" in r.output


def test_compile_formats():
    for fmt in ("text", "json", "dot", "mermaid"):
        r = run("compile", "specs/strategies/rsi_reversion.yaml", "--format", fmt)
        assert r.exit_code == 0, r.output
    assert "rsi(close, period=14)" in run("compile", "specs/strategies/rsi_reversion.yaml").output


def test_signals_csv(tmp_path):
    out = tmp_path / "sig.csv"
    r = run("signals", "specs/strategies/ma_crossover.yaml", "-o", str(out))
    assert r.exit_code == 0, r.output
    header = out.read_text().splitlines()[0].split(",")
    assert header[:3] == ["timestamp", "fast_ma", "slow_ma"]


def test_data_check():
    r = run("data", "check", "data/btc_usd_gemini_5m_2019-10-22_2019-11-11.csv")
    assert r.exit_code == 0 and "D110" in r.output


def test_unknown_command_exit_2():
    assert run("bogus").exit_code == 2


def test_backtest_with_column_mapping(tmp_path):
    """A Yahoo-style file (Date, Open, ...) mapped with --column backtests like the shipped file."""
    import pandas as pd

    src = pd.read_csv(ROOT / "data" / "sp500_daily_1999_2018.csv")
    src = src.rename(columns={"timestamp": "Date", "close": "Last"})
    path = tmp_path / "yahoo.csv"
    src.to_csv(path, index=False)
    r = run("--json", "backtest", "specs/strategies/ma_crossover.yaml", "--data", str(path),
            "--column", "timestamp=Date", "--column", "close=Last", "--out", str(tmp_path / "o"))
    assert r.exit_code == 0, r.output
    ref = run("--json", "backtest", "specs/strategies/ma_crossover.yaml", "--out", str(tmp_path / "p"))
    assert json.loads(r.output)["metrics"] == json.loads(ref.output)["metrics"]
    assert run("backtest", "specs/strategies/ma_crossover.yaml", "--column", "close").exit_code == 2


def test_check_notes_a_strategy_without_risk_profile(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("kind: strategy\nname: free\nuniverse: u\ntimeframe: 1d\nentry: {long: close > 1}\n---\n"
                    "kind: universe\nname: u\ninstruments:\n  - {id: x, symbol: X, data: x.csv, timeframe: 1d}\n")
    r = run("check", str(spec))
    assert r.exit_code == 0
    assert "note: strategy 'free'" in r.output and "no risk limits" in r.output


@pytest.mark.parametrize("flags", [["--data", "data/btc_usd_kraken_5m_2019-10-22_2019-11-11.csv"],
                                   ["--column", "close=Close"]], ids=["data", "column"])
def test_a_schedule_refuses_strategy_only_flags(flags):
    r = run("backtest", "specs/schedules/stage4_multi.yaml", *flags)
    assert r.exit_code == 1
    assert "U101 --data and --column apply to strategies; a schedule runs each slot on its universe's data" in r.output
