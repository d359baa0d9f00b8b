"""One graph, two modes: paper over a shipped file writes the same result files as backtest, byte
for byte — every shipped strategy, those over several instruments included (their paper sessions
step a shared timeline, ``interpreter/modes/plan_paper.py``)."""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

import interpreter as ts
from dsl.errors import DslError

ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = sorted((ROOT / "specs" / "strategies").glob("*.yaml"))


@pytest.mark.parametrize("spec", STRATEGIES, ids=lambda p: p.stem)
def test_paper_equals_backtest_byte_for_byte(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    rel = spec.relative_to(ROOT)
    graph = ts.compile_spec(rel)
    if graph.plan["tier"] == "research":
        with pytest.raises(DslError, match="research"):
            ts.paper(graph)
        return
    back = ts.backtest(graph).write(tmp_path / "backtest")
    paper = ts.paper(graph).write(tmp_path / "paper")
    assert [p.name for p in back] == [p.name for p in paper]
    for a, b in zip(back, paper):
        assert filecmp.cmp(a, b, shallow=False), f"{spec.stem}: {a.name} differs between backtest and paper"


def test_paper_json_lines_feed_matches_the_file(tmp_path, monkeypatch):
    """Bars as JSON lines (as on standard input) give the same result as the file they came from."""
    import io
    import json

    import pandas as pd

    from interpreter.feeds import JsonLinesFeed

    monkeypatch.chdir(ROOT)
    df = pd.read_csv(ROOT / "data" / "sp500_daily_1999_2018.csv")
    lines = "\n".join(json.dumps({k: r[k] for k in ("timestamp", "open", "high", "low", "close", "volume")})
                      for r in df.to_dict("records"))
    graph = ts.compile_spec("specs/strategies/ma_crossover.yaml")
    from_json = ts.paper(graph, feed=JsonLinesFeed(io.StringIO(lines), "bars.jsonl"))
    from_file = ts.paper(graph)
    assert from_json.trades.equals(from_file.trades)
    assert from_json.equity.equals(from_file.equity)
    assert from_json.metrics == from_file.metrics


def test_bad_bars_on_arrival(tmp_path, monkeypatch):
    import io

    from interpreter.feeds import JsonLinesFeed

    monkeypatch.chdir(ROOT)
    graph = ts.compile_spec("specs/strategies/ma_crossover.yaml")
    good = '{"timestamp": "2020-01-02", "open": 1, "high": 2, "low": 0.5, "close": 1.5}'
    older = '{"timestamp": "2020-01-01", "open": 1, "high": 2, "low": 0.5, "close": 1.5}'
    bad = '{"timestamp": "2020-01-03", "open": 1, "high": 0.2, "low": 0.5, "close": 1.5}'
    with pytest.raises(DslError) as err:
        ts.paper(graph, feed=JsonLinesFeed(io.StringIO("\n".join([good, older])), "in"))
    assert err.value.diagnostics[0].code == "D104" and "in:2" in err.value.diagnostics[0].message
    res = ts.paper(graph, feed=JsonLinesFeed(io.StringIO("\n".join([good, bad, older])), "in"), policy="drop")
    assert res.metrics["bars"] == 1
