"""Fuzzy sizing: a rule base's output per bar, in batch (backtest) and one bar at a time (paper).

The strategy's ``sizing.inputs`` formulas are graph outputs (``sizing.input.<name>``); their
values feed the rule base's evaluator in bar order, so ``lock_previous`` carries over from
bar to bar exactly as in a run. The batch and per-bar forms are the same computation
(``library.fuzzy.Evaluator.evaluate`` / ``evaluate_one``) and give identical values.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from library.fuzzy import Engine, Evaluator, State


class FuzzySizer:
    def __init__(self, fuzzy_plan: dict[str, Any]) -> None:
        self.engine = Engine.from_data(fuzzy_plan["engine"])
        self.evaluator = Evaluator(self.engine)
        self.output = fuzzy_plan["output"]
        self.input_names = [v.name for v in self.engine.inputs]
        self.state = State()

    def batch(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        ev = self.evaluator.evaluate(inputs, State())
        return np.asarray(ev.outputs[self.output], dtype=np.float64)

    def one(self, inputs: dict[str, float]) -> float:
        d = self.evaluator.evaluate_one({k: float(v) for k, v in inputs.items()}, self.state)
        v = d.outputs[self.output]
        return float(v) if v is not None else math.nan
