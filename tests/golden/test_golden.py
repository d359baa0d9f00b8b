"""Golden snapshots on the shipped specs and data: compiled graphs, results, and the regress suite.

An updated snapshot is a behaviour change: say why in the commit that updates it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import interpreter as ts

ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = sorted(p.stem for p in (ROOT / "specs" / "strategies").glob("*.yaml"))


@pytest.fixture(autouse=True)
def _repo_root(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("name", STRATEGIES)
def test_compiled_graph(name, snapshot):
    graph = ts.compile_spec(Path("specs/strategies") / f"{name}.yaml")
    assert graph.to_text() == snapshot


@pytest.mark.parametrize("name", STRATEGIES)
def test_backtest_result(name, snapshot, tmp_path):
    result = ts.backtest(Path("specs/strategies") / f"{name}.yaml")
    doc = result.metrics_document()
    for row in doc["data"]:
        row["source"] = os.path.basename(row["source"])
    assert json.dumps(doc, indent=2, sort_keys=True) == snapshot(name="metrics")
    result.write(tmp_path)
    assert (tmp_path / "trades.csv").read_text() == snapshot(name="trades")


def test_regress_suite_matches_goldens():
    report = ts.regress(ROOT / "tests" / "golden" / "suite.yaml")
    assert report.ok, report.render()
    assert len(report.outcomes) >= len(STRATEGIES)


def test_regress_reports_movement(tmp_path):
    """A golden edited by hand is reported as moved, with the metric and both values."""
    import shutil

    suite_dir = tmp_path / "suite"
    shutil.copytree(ROOT / "tests" / "golden" / "goldens" / "ma_crossover", suite_dir / "goldens" / "ma_crossover")
    (suite_dir / "suite.yaml").write_text(
        f"suite: one\nroot: {ROOT}\ngoldens: goldens\ncases:\n  - {{name: ma_crossover, spec: specs/strategies/ma_crossover.yaml}}\n")
    metrics_path = suite_dir / "goldens" / "ma_crossover" / "metrics.json"
    doc = json.loads(metrics_path.read_text())
    doc["metrics"]["final_equity"] += 1.0
    metrics_path.write_text(json.dumps(doc))
    report = ts.regress(suite_dir / "suite.yaml")
    assert not report.ok
    assert report.outcomes[0].status == "changed"
    assert any(w == "metric final_equity" for w, _, _ in report.outcomes[0].moved)
    assert "final_equity" in report.render()
    updated = ts.regress(suite_dir / "suite.yaml", update=True)
    assert updated.ok and ts.regress(suite_dir / "suite.yaml").ok
