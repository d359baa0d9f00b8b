"""Whole-history evaluation of a graph's market nodes, each library call in its batch form.

Trade-state nodes (``bars_in_trade``, ``entry_price``...) are skipped here; the engine
evaluates them per open trade with :func:`eval_trade_nodes`, over a slice of bars.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dsl.graph import Graph, Node
from interpreter.elementwise import binop_array, cmp_array
from library import REGISTRY


def _full(v: Any, n: int, vtype: str) -> np.ndarray:
    if isinstance(v, np.ndarray):
        return v
    if vtype == "BoolSeries":
        return np.full(n, bool(v), dtype=bool)
    return np.full(n, float(v), dtype=np.float64)


def _series(values: dict[str, Any], node: Node, n: int) -> np.ndarray:
    return _full(values[node.id], n, node.vtype)


def eval_node(node: Node, graph: Graph, values: dict[str, Any], n: int, inputs: dict[str, np.ndarray]) -> Any:
    op = node.op
    args = [values[a] for a in node.args]
    if op == "input":
        return inputs[node.key]
    if op == "const":
        return node.attr("value")
    if op == "call":
        entry = REGISTRY[node.attr("func")]
        series = [_full(a, n, graph.node(aid).vtype) for a, aid in zip(args, node.args)]
        return entry.batch(*series, **dict(node.attr("consts")))
    if op == "fuzzy":
        from library.fuzzy import Engine, Evaluator, State

        engine = Engine.from_data(graph.plan["fuzzy_calls"][node.attr("rulebase")])
        inputs = {v.name: _full(a, n, "Series") for v, a in zip(engine.inputs, args)}
        res = Evaluator(engine).evaluate(inputs, State())
        outs = tuple(np.asarray(res.outputs[o], dtype=np.float64) for o in node.attr("outputs"))
        return outs if len(outs) > 1 else outs[0]
    if op == "field":
        return args[0][node.attr("index")]
    if op == "lag":
        x = _full(args[0], n, node.vtype)
        k = node.attr("bars")
        out = np.empty_like(x)
        out[:k] = False if x.dtype == bool else np.nan
        out[k:] = x[:-k] if k < n else x[:0]
        return out
    if op == "neg":
        return -args[0] if isinstance(args[0], np.ndarray) else -float(args[0])
    if op == "binop":
        return binop_array(node.attr("op"), args[0], args[1])
    if op == "cmp":
        return cmp_array(node.attr("op"), args[0], args[1])
    if op == "and":
        return np.logical_and(args[0], args[1])
    if op == "or":
        return np.logical_or(args[0], args[1])
    if op == "not":
        return np.logical_not(args[0])
    if op == "ifelse":
        return np.where(args[0], args[1], args[2])
    raise AssertionError(f"batch evaluator cannot run op {op!r}")


def evaluate(graph: Graph, inputs: dict[str, np.ndarray], n: int) -> dict[str, Any]:
    """node id -> array (or scalar for constants) for every market node."""
    values: dict[str, Any] = {}
    for node in graph.nodes:
        if node.trade:
            continue
        values[node.id] = eval_node(node, graph, values, n, inputs)
    return values


def as_array(graph: Graph, values: dict[str, Any], node_id: str, n: int) -> np.ndarray:
    node = graph.node(node_id)
    return _full(values[node_id], n, node.vtype)


def eval_trade_nodes(graph: Graph, root: str, values: dict[str, Any], lo: int, hi: int,
                     state: dict[str, Any]) -> np.ndarray:
    """Evaluate a trade-dependent subgraph over bars [lo, hi) given the trade's state arrays."""
    n = hi - lo
    local: dict[str, Any] = {}

    def get(nid: str) -> Any:
        if nid in local:
            return local[nid]
        node = graph.node(nid)
        if not node.trade:
            v = values[nid]
            r = v[lo:hi] if isinstance(v, np.ndarray) else v
        elif node.op == "trade":
            r = state[node.attr("name")]
        else:
            sub = {a: get(a) for a in node.args}
            r = eval_node(node, graph, sub, n, {})
        local[nid] = r
        return r

    return _full(get(root), n, graph.node(root).vtype)
