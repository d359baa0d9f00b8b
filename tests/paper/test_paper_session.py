"""Paper sessions with a journal: parity with backtest, crash and resume, tamper evidence, replay, what-if."""

from __future__ import annotations

import filecmp
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

import interpreter as ts
from dsl.errors import DslError
from interpreter.cli import app

ROOT = Path(__file__).resolve().parents[2]
SPEC = "specs/strategies/ma_crossover.yaml"
FILES = ("metrics.json", "trades.csv", "fills.csv", "equity.csv", "risk_events.csv", "severity.csv")


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("TRADESPEC_JOURNAL_KEY", "test-secret")


@pytest.fixture(scope="module")
def backtest_files(tmp_path_factory):
    os.chdir(ROOT)
    out = tmp_path_factory.mktemp("backtest")
    ts.backtest(SPEC).write(out)
    return out


def same_files(a: Path, b: Path) -> None:
    for name in FILES:
        assert filecmp.cmp(a / name, b / name, shallow=False), f"{name} differs"


def bar_indexes(journal: Path) -> list[int]:
    return [json.loads(line)["bar"] for line in journal.read_text().splitlines()
            if '"type":"bar"' in line and json.loads(line).get("instrument") is None]


def test_session_equals_backtest_and_replays(tmp_path, backtest_files):
    journal = tmp_path / "j.jsonl"
    res = ts.paper_session(SPEC, journal)
    res.write(tmp_path / "paper")
    same_files(tmp_path / "paper", backtest_files)
    report = ts.journal_verify(journal)
    assert report.ok and report.exit_code == 0
    replayed, result = ts.replay(journal, results=True)
    assert replayed.identical and replayed.bars == 5031
    result.write(tmp_path / "replayed")
    same_files(tmp_path / "replayed", backtest_files)
    assert bar_indexes(journal) == list(range(5031))


def test_stop_and_resume_in_process(tmp_path, backtest_files):
    journal = tmp_path / "j.jsonl"
    assert ts.paper_session(SPEC, journal, stop_after=700) is None
    assert ts.paper_session(SPEC, journal, stop_after=1500) is None
    res = ts.paper_session(SPEC, journal)
    res.write(tmp_path / "paper")
    same_files(tmp_path / "paper", backtest_files)
    assert bar_indexes(journal) == list(range(5031))
    assert ts.journal_verify(journal).ok


def test_sigkill_at_random_moments_then_resume(tmp_path, backtest_files):
    """A real process, killed with SIGKILL at seeded random moments, resumes to the same result."""
    journal = tmp_path / "j.jsonl"
    exe = str(Path(sys.executable).with_name("tradespec"))
    cmd = [exe, "paper", SPEC, "--journal", str(journal), "--speed", "40000000", "--out", str(tmp_path / "out")]
    rng = random.Random(7)
    env = {**os.environ, "TRADESPEC_JOURNAL_KEY": "test-secret"}
    kills = 0
    for _ in range(6):
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.8, 2.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        if journal.exists():
            idx = bar_indexes(journal)
            assert idx == list(range(len(idx))), "a bar was repeated or lost in the journal"
    assert kills >= 2
    final = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    same_files(tmp_path / "out", backtest_files)
    assert bar_indexes(journal) == list(range(5031))
    assert ts.journal_verify(journal).ok


def test_tampering_is_caught_and_replay_refuses(tmp_path):
    journal = tmp_path / "j.jsonl"
    ts.paper_session(SPEC, journal, stop_after=300)
    lines = journal.read_text().splitlines()
    i = next(k for k, line in enumerate(lines) if '"type":"fill"' in line)
    lines[i] = lines[i].replace('"price":', '"price":1', 1)
    journal.write_text("\n".join(lines) + "\n")
    report = ts.journal_verify(journal)
    assert not report.ok and report.exit_code == 1
    assert f"line {i + 1}" in report.render() and "edited" in report.render()
    with pytest.raises(DslError, match="journal problem"):
        ts.replay(journal)


def test_verify_without_key_is_not_success(tmp_path, monkeypatch):
    journal = tmp_path / "j.jsonl"
    ts.paper_session(SPEC, journal, stop_after=50)
    monkeypatch.delenv("TRADESPEC_JOURNAL_KEY")
    r = CliRunner().invoke(app, ["journal", "verify", str(journal)])
    assert r.exit_code == 2 and "impossible" in r.output.lower()
    r = CliRunner().invoke(app, ["paper", SPEC, "--journal", str(tmp_path / "k.jsonl")])
    assert r.exit_code == 1 and "TRADESPEC_JOURNAL_KEY" in r.output


def test_what_if_lists_decisions_that_would_differ(tmp_path):
    journal = tmp_path / "j.jsonl"
    ts.paper_session(SPEC, journal)
    assert ts.replay(journal, spec=SPEC) == []
    changed = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", changed)
    s = changed / "strategies" / "ma_crossover.yaml"
    s.write_text(s.read_text().replace("default: 20", "default: 10"))
    rows = ts.replay(journal, spec=s)
    assert rows and all({"time", "old", "new", "why"} <= set(r) for r in rows)
    r = CliRunner().invoke(app, ["replay", str(journal), "--spec", str(s)])
    assert r.exit_code == 1 and "would decide differently" in r.output


def test_replay_names_the_changed_document(tmp_path):
    work = tmp_path / "w"
    shutil.copytree(ROOT / "specs", work / "specs")
    (work / "data").symlink_to(ROOT / "data")
    os.chdir(work)
    journal = tmp_path / "j.jsonl"
    ts.paper_session("specs/strategies/ma_crossover.yaml", journal, stop_after=200)
    risk = work / "specs" / "risk" / "moderate.yaml"
    risk.write_text(risk.read_text().replace("max_daily_loss: 2%", "max_daily_loss: 3%"))
    report = ts.replay(journal)
    assert not report.fingerprint_ok and "risk_profile.moderate" in report.changed_documents


def test_json_lines_on_stdin(tmp_path):
    import pandas as pd

    df = pd.read_csv(ROOT / "data" / "sp500_daily_1999_2018.csv").iloc[:400]
    lines = "\n".join(json.dumps({k: r[k] for k in ("timestamp", "open", "high", "low", "close", "volume")})
                      for r in df.to_dict("records")) + "\n"
    r = CliRunner().invoke(app, ["--json", "paper", SPEC, "--journal", str(tmp_path / "j.jsonl"), "--feed", "-",
                                 "--out", str(tmp_path / "o")], input=lines)
    assert r.exit_code == 0, r.output
    rows = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    assert rows[0]["bar"] == 0 and rows[-2]["bar"] == 399 and "metrics" in rows[-1]
