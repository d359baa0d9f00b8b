"""Bar-by-bar evaluation of a graph's market nodes, each library call in its stream form.

O(1) work per node per bar (O(window) at most for window entries), flat in history
length. For the same bars it yields exactly what ``batch.evaluate`` yields at each index.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from dsl.graph import Graph, Node
from interpreter.elementwise import binop_scalar, cmp_scalar
from library import REGISTRY


class StreamEvaluator:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.order = [n for n in graph.nodes if not n.trade]
        self.states: dict[str, Any] = {}
        for node in self.order:
            if node.op == "call":
                self.states[node.id] = REGISTRY[node.attr("func")].stream(**dict(node.attr("consts")))
            elif node.op == "lag":
                self.states[node.id] = deque(maxlen=node.attr("bars") + 1)
            elif node.op == "fuzzy":
                self.states[node.id] = _FuzzyState(graph.plan["fuzzy_calls"][node.attr("rulebase")],
                                                   node.attr("outputs"))
        self.values: dict[str, Any] = {}

    def step(self, inputs: dict[str, float]) -> dict[str, Any]:
        """Feed one bar (input node key -> value); returns node id -> value for this bar."""
        v = self.values
        for node in self.order:
            v[node.id] = self._eval(node, v, inputs)
        return v

    def _eval(self, node: Node, v: dict[str, Any], inputs: dict[str, float]) -> Any:
        op = node.op
        if op == "input":
            return inputs[node.key]
        if op == "const":
            return node.attr("value")
        args = [v[a] for a in node.args]
        if op == "call" or op == "fuzzy":
            return self.states[node.id].update(*args)
        if op == "field":
            return args[0][node.attr("index")]
        if op == "lag":
            buf = self.states[node.id]
            buf.append(args[0])
            if len(buf) < buf.maxlen:
                return False if node.vtype == "BoolSeries" else math.nan
            return buf[0]
        return eval_scalar(node, args)


class _FuzzyState:
    """A rule base called from a formula, one bar at a time (lock_previous carries over)."""

    def __init__(self, engine_data: dict, outputs: tuple[str, ...]) -> None:
        from library.fuzzy import Engine, Evaluator, State

        engine = Engine.from_data(engine_data)
        self.names = [v.name for v in engine.inputs]
        self.evaluator = Evaluator(engine)
        self.state = State()
        self.outputs = outputs

    def update(self, *values: float) -> Any:
        d = self.evaluator.evaluate_one({k: float(v) for k, v in zip(self.names, values)}, self.state)
        outs = tuple(math.nan if d.outputs[o] is None else float(d.outputs[o]) for o in self.outputs)
        return outs if len(outs) > 1 else outs[0]


def eval_scalar(node: Node, args: list[Any]) -> Any:
    """One bar of an element-wise node (also used for trade-state nodes in the engine)."""
    op = node.op
    if op == "neg":
        return -args[0]
    if op == "binop":
        return binop_scalar(node.attr("op"), float(args[0]), float(args[1]))
    if op == "cmp":
        return cmp_scalar(node.attr("op"), float(args[0]), float(args[1]))
    if op == "and":
        return bool(args[0]) and bool(args[1])
    if op == "or":
        return bool(args[0]) or bool(args[1])
    if op == "not":
        return not bool(args[0])
    if op == "ifelse":
        return args[1] if args[0] else args[2]
    if op == "const":
        return node.attr("value")
    raise AssertionError(f"stream evaluator cannot run op {op!r}")
