"""One graph, two evaluators: bar-by-bar stream values equal whole-history batch values, bit for bit.

Paper and replay modes rely on this: every market node of every shipped strategy, on its
shipped data, gives the same float (or bool) at every bar in both evaluators.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import interpreter as ts
from interpreter.batch import as_array, evaluate
from interpreter.feed import load_run_data, market_inputs, run_ids
from interpreter.stream import StreamEvaluator

ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = sorted((ROOT / "specs" / "strategies").glob("*.yaml"))


@pytest.mark.parametrize("spec", STRATEGIES, ids=lambda p: p.stem)
def test_stream_equals_batch(spec, monkeypatch):
    monkeypatch.chdir(ROOT)
    graph = ts.compile_spec(spec.relative_to(ROOT))
    bars = load_run_data(graph)
    first = run_ids(graph.plan)[0]
    n = len(bars[first])
    inputs = market_inputs(graph, bars, first)
    batch = evaluate(graph, inputs, n)
    stream = StreamEvaluator(graph)
    nodes = [nd for nd in graph.nodes if not nd.trade and nd.vtype != "Multi"]
    got = {nd.id: [] for nd in nodes}
    keys = list(inputs)
    for t in range(n):
        values = stream.step({k: float(inputs[k][t]) for k in keys})
        for nd in nodes:
            got[nd.id].append(values[nd.id])
    for nd in nodes:
        want = as_array(graph, batch, nd.id, n)
        have = np.array(got[nd.id], dtype=want.dtype)
        assert np.array_equal(want, have, equal_nan=want.dtype != bool), f"{spec.stem}: node {nd.id} {nd.key}"
