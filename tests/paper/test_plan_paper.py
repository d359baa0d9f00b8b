"""Paper mode for plans (docs/paper.md, "Plans"): the shipped Stage-4 plan fed bar by bar from
its slots' files gives the backtest's result files byte for byte; its journal has one group per
time of the plan's timeline naming the slot of every event; a session stopped (as a crash
would) resumes to the same result, including under SIGKILL; replay verifies the journal."""

from __future__ import annotations

import filecmp
import json
import os
import random
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
PLAN = "specs/schedules/stage4_multi.yaml"
FILES = ("metrics.json", "trades.csv", "fills.csv", "equity.csv", "risk_events.csv", "severity.csv")


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("TRADESPEC_JOURNAL_KEY", "test-secret")


@pytest.fixture(scope="module")
def backtest(tmp_path_factory):
    os.chdir(ROOT)
    out = tmp_path_factory.mktemp("plan_backtest")
    res = ts.backtest(PLAN, log=True)
    res.write(out)
    return out, res


def same_files(a: Path, b: Path) -> None:
    for name in FILES:
        assert filecmp.cmp(a / name, b / name, shallow=False), f"{name} differs"


def steps(journal: Path) -> list[int]:
    """The step index of every journaled bar that belongs to a step, in order, once per time."""
    out = []
    for line in journal.read_text().splitlines():
        e = json.loads(line)
        if e["type"] == "bar" and "step" in e and (not out or out[-1] != e["step"]):
            out.append(e["step"])
    return out


def test_paper_plan_gives_the_backtest_files(tmp_path, backtest):
    files, res = backtest
    paper = ts.paper(PLAN)
    paper.write(tmp_path / "paper")
    same_files(tmp_path / "paper", files)
    assert paper.mode == "paper" and set(paper.slots) == set(res.slots)


def test_journal_groups_steps_and_names_slots_then_replays(tmp_path, backtest):
    files, res = backtest
    journal = tmp_path / "plan.jsonl"
    out = ts.paper_session(PLAN, journal)
    out.write(tmp_path / "paper")
    same_files(tmp_path / "paper", files)
    n = len(res.equity)
    assert steps(journal) == list(range(n))
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    assert events[0]["type"] == "session_start" and events[0]["kind"] == "schedule"
    assert {s["instrument"] for s in events[0]["sources"]} == {"btc_gemini", "btc_kraken", "spx"}
    acted = [e for e in events if e["type"] in ("signal", "decision", "order", "fill")]
    assert acted and all("slot" in e for e in acted)
    # the journal's decisions are the backtest's decision log, event for event
    logged = [json.loads(line) for line in res.decisions.lines(res.ts)]
    key = lambda e: (e["type"], e.get("slot"), e.get("instrument"), e["bar"], e.get("action"), e.get("reason"))  # noqa: E731
    assert sorted(map(key, acted)) == sorted(key(e) for e in logged if e["type"] in ("signal", "decision", "order",
                                                                                       "fill"))
    assert ts.journal_verify(journal).ok
    report, replayed = ts.replay(journal, results=True)
    assert report.identical and report.bars == n
    replayed.write(tmp_path / "replayed")
    same_files(tmp_path / "replayed", files)


def test_stop_and_resume_in_process(tmp_path, backtest):
    files, res = backtest
    journal = tmp_path / "plan.jsonl"
    assert ts.paper_session(PLAN, journal, stop_after=2000) is None
    assert ts.paper_session(PLAN, journal, stop_after=5000) is None
    out = ts.paper_session(PLAN, journal)
    out.write(tmp_path / "paper")
    same_files(tmp_path / "paper", files)
    assert steps(journal) == list(range(len(res.equity)))
    assert ts.journal_verify(journal).ok
    assert ts.replay(journal).identical


def test_sigkill_at_random_moments_then_resume(tmp_path, backtest):
    files, res = backtest
    journal = tmp_path / "plan.jsonl"
    exe = str(Path(sys.executable).with_name("tradespec"))
    cmd = [exe, "paper", PLAN, "--journal", str(journal), "--out", str(tmp_path / "out")]
    rng = random.Random(11)
    env = {**os.environ, "TRADESPEC_JOURNAL_KEY": "test-secret"}
    kills = 0
    for _ in range(4):
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.5, 3.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        if journal.exists():
            got = steps(journal)
            assert got == list(range(len(got))), "a step was repeated or lost in the journal"
    assert kills >= 1
    final = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    assert final.returncode == 0, final.stderr
    same_files(tmp_path / "out", files)
    assert steps(journal) == list(range(len(res.equity)))
    assert ts.journal_verify(journal).ok


def test_a_plan_takes_no_feed_and_no_what_if(tmp_path):
    r = CliRunner().invoke(app, ["paper", PLAN, "--journal", str(tmp_path / "j.jsonl"), "--feed",
                                 "data/sp500_daily_1999_2018.csv"])
    assert r.exit_code == 1 and "takes no --feed or --tail" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "j.jsonl").exists()
    journal = tmp_path / "plan.jsonl"
    ts.paper_session(PLAN, journal, stop_after=50)
    with pytest.raises(DslError) as err:
        ts.replay(journal, spec="specs/strategies/ma_crossover.yaml")
    assert "a plan" in err.value.diagnostics[0].message


def test_replay_of_a_plan_names_the_changed_document(tmp_path):
    import shutil

    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    (tmp_path / "data").symlink_to(ROOT / "data")
    os.chdir(tmp_path)
    journal = tmp_path / "plan.jsonl"
    ts.paper_session("specs/schedules/stage4_multi.yaml", journal, stop_after=100)
    arb = tmp_path / "specs" / "strategies" / "cross_venue_arb.yaml"
    arb.write_text(arb.read_text(encoding="utf-8").replace("min_edge: {default: 0.0012", "min_edge: {default: 0.002"),
                   encoding="utf-8")
    report = ts.replay(journal)
    assert not report.identical and not report.fingerprint_ok
    assert report.changed_documents == ["strategy.cross_venue_arb"]
    r = CliRunner().invoke(app, ["replay", str(journal)])
    assert r.exit_code == 1 and "strategy.cross_venue_arb" in r.output


BASKET = "specs/strategies/crypto_basket_reversion.yaml"


def test_a_basket_strategy_runs_in_paper_mode_journaled_and_resumed(tmp_path):
    back = ts.backtest(BASKET)
    back.write(tmp_path / "backtest")
    journal = tmp_path / "basket.jsonl"
    assert ts.paper_session(BASKET, journal, stop_after=1500) is None
    out = ts.paper_session(BASKET, journal)
    out.write(tmp_path / "paper")
    same_files(tmp_path / "paper", tmp_path / "backtest")
    header = json.loads(journal.read_text().splitlines()[0])
    assert header["kind"] == "basket" and header["instruments"] == ["btc_kraken", "eth_kraken"]
    assert steps(journal) == list(range(len(back.equity)))
    report, replayed = ts.replay(journal, results=True)
    assert report.identical
    replayed.write(tmp_path / "replayed")
    same_files(tmp_path / "replayed", tmp_path / "backtest")
    r = CliRunner().invoke(app, ["paper", BASKET, "--journal", str(tmp_path / "j2.jsonl"), "--feed", "-"])
    assert r.exit_code == 1 and "trades several instruments" in r.output and "Traceback" not in r.output
    with pytest.raises(DslError, match="--column applies to a strategy on one instrument"):
        ts.paper(BASKET, columns={"close": "Close"})


def test_one_instrument_id_with_two_files_is_refused_in_paper(tmp_path):
    """Two slots whose universes give instrument 'x' different files: backtest can run each slot
    on its own file, but a paper session feeds each instrument once, so it refuses and says so."""
    sys.path.insert(0, str(ROOT / "tests" / "interpreter"))
    from conftest import flat, write_bars

    write_bars(tmp_path / "a.csv", flat(30, 100.0), "1h")
    write_bars(tmp_path / "b.csv", flat(30, 50.0), "1h")
    docs = []
    for name, uni, file in (("sa", "ua", "a.csv"), ("sb", "ub", "b.csv")):
        docs.append(f"kind: strategy\nname: {name}\nuniverse: {uni}\ntimeframe: 1h\nentry: {{long: close > 0}}\n"
                    f"exit: {{long: bars_in_trade >= 2}}\n")
        docs.append(f"kind: universe\nname: {uni}\ninstruments:\n  - {{id: x, symbol: X, data: {file}, timeframe: 1h}}\n")
    docs.append("kind: schedule\nname: p\ncapital: 10000\nslots:\n  - {strategy: sa, allocation: 50%}\n"
                "  - {strategy: sb, allocation: 50%}\n")
    (tmp_path / "plan.yaml").write_text("---\n".join(docs), encoding="utf-8")
    assert len(ts.backtest(tmp_path / "plan.yaml").trades) > 0
    r = CliRunner().invoke(app, ["paper", str(tmp_path / "plan.yaml"), "--journal", str(tmp_path / "j.jsonl")])
    assert r.exit_code == 1 and "Traceback" not in r.output
    assert "instrument 'x' reads" in r.output and "slot 'sb'" in r.output and "one file per instrument id" in r.output


def test_resume_refuses_a_journal_the_engine_no_longer_replays(tmp_path, monkeypatch):
    """Same spec, different behaviour (here: an engine that never decides): resuming must stop
    with the time that does not replay, not continue from a state that differs from the journal's."""
    from interpreter.engine import Engine

    journal = tmp_path / "plan.jsonl"
    assert ts.paper_session(PLAN, journal, stop_after=3000) is None
    monkeypatch.setattr(Engine, "_decide", lambda self, t: None)
    with pytest.raises(DslError) as err:
        ts.paper_session(PLAN, journal)
    d = err.value.diagnostics[0]
    assert d.code == "U101" and "does not replay to what the journal recorded" in d.message
    assert "tradespec replay JOURNAL" in d.hint
