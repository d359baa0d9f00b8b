"""A rule base called from a formula: its output as a series, usable as an entry filter."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import dsl
import interpreter as ts
from interpreter.batch import as_array, evaluate
from interpreter.feed import load_run_data, market_inputs, primary_id
from interpreter.stream import StreamEvaluator

ROOT = Path(__file__).resolve().parents[2]
STRATEGY = """\
kind: strategy
name: rsi_fuzzy_filter
universe: us_indices
instrument: spx
timeframe: 1d
signals:
  rsi: rsi(close, 14)
  conviction: fis_sizer(rsi=rsi, trend=close / sma(close, 200) - 1, vol=realized_vol(close, 20))
entry:
  long: rsi < 35 and conviction > 0.5
exit:
  long: rsi > 55
sizing: {method: percent_equity, percent: 90%}
risk_profile: moderate
"""


@pytest.fixture()
def workspace(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    (tmp_path / "data").symlink_to(ROOT / "data")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(ws: Path, text: str) -> Path:
    p = ws / "specs" / "strategies" / "rsi_fuzzy_filter.yaml"
    p.write_text(text)
    return p


def test_filter_runs_and_modes_agree(workspace):
    spec = write(workspace, STRATEGY)
    graph = ts.compile_spec(spec)
    assert any(n.op == "fuzzy" for n in graph.nodes)
    assert "fuzzy.fis_sizer" in {ref for ref, _, _ in graph.documents}
    back, paper = ts.backtest(graph), ts.paper(graph)
    assert back.metrics["trade_count"] > 0
    assert back.trades.equals(paper.trades) and back.equity.equals(paper.equity)
    bars = load_run_data(graph)
    n = len(bars[primary_id(graph.plan)])
    inputs = market_inputs(graph, bars)
    batch = evaluate(graph, inputs, n)
    node = graph.output("signal.conviction")
    stream = StreamEvaluator(graph)
    got = [stream.step({k: float(v[t]) for k, v in inputs.items()})[node.id] for t in range(n)]
    assert np.array_equal(as_array(graph, batch, node.id, n), np.array(got), equal_nan=True)


def test_filter_changes_the_fingerprint_with_the_rule_base(workspace):
    spec = write(workspace, STRATEGY)
    before = ts.compile_spec(spec).fingerprint
    fz = workspace / "specs" / "fuzzy" / "fis_sizer.yaml"
    fz.write_text(fz.read_text().replace("oversold: trapezoid(0, 0, 20, 35)", "oversold: trapezoid(0, 0, 20, 30)"))
    assert ts.compile_spec(spec).fingerprint != before


@pytest.mark.parametrize("formula, code", [
    ("fis_sizer(rsi=rsi, trend=0, volume=1)", "E506"),
    ("fis_sizer(rsi=rsi, trend=0)", "E503"),
    ("fis_sizer(rsi, 0, 1)", "E503"),
    ("fis_sizer(rsi=rsi > 3, trend=0, vol=1)", "E504"),
    ("fis_sizer(rsi=rsi, trend=0, vol=1).sizee", "E512"),
])
def test_misuse_is_reported(workspace, formula, code):
    write(workspace, STRATEGY.replace(
        "fis_sizer(rsi=rsi, trend=close / sma(close, 200) - 1, vol=realized_vol(close, 20))", formula))
    analysis = dsl.analyze(["specs"])
    assert code in {d.code for d in analysis.errors}, [d.message for d in analysis.errors]
