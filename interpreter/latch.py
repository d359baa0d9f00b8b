"""The latch: a tight loop over trades for strategies whose exits are plain market signals.

When a strategy has one side, no stops, no trade-state exits and fills at the next open,
its whole decision sequence is a latch over two sorted lists of signal bars: the first
entry bar at or after t opens a trade at the next open, the first exit bar at or after the
fill bar closes it at the following open, and the search resumes at that bar. No bar in
between can change anything, so the loop costs O(trades log bars) instead of O(bars).

Fills go through the engine's own ``_execute``/``_close`` (the same sizing, costs and
bookkeeping), and hold reasons are recorded exactly where ``Engine.process`` would record
them; ``tests/interpreter/test_latch.py`` proves identical results against the per-bar loop.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import TYPE_CHECKING

import numpy as np

from interpreter.reasons import HoldReason

if TYPE_CHECKING:  # pragma: no cover
    from interpreter.engine import Engine


def eligible(engine: "Engine") -> bool:
    m = engine.m
    return (not engine.fill_on_close and not engine.plan["stops"] and len(engine.sides) == 1 and not engine.hedge
            and m.exit_root.get(engine.sides[0]) is None)


def run(engine: "Engine") -> None:
    from interpreter.engine import SIDES, Order

    m = engine.m
    n = m.n
    name = engine.sides[0]
    side = SIDES[name]
    entry = m.entry[name]
    exit_arr = m.exit.get(name)
    warm = min(engine.warmup, n)
    engine.hold[:warm][entry[:warm]] = HoldReason.WARMUP
    entry_bars = np.flatnonzero(entry).tolist()
    exit_bars = np.flatnonzero(exit_arr).tolist() if exit_arr is not None else []
    opens = m.open
    reason = f"entry.{name}"
    held = np.zeros(n + 1, dtype=np.int32)  # +1 / -1 marks of in-position spans
    t = warm
    while True:
        k = bisect_left(entry_bars, t)
        if k == len(entry_bars):
            break
        e = entry_bars[k]
        if e + 1 >= n:
            engine.hold[e] = HoldReason.NO_NEXT_BAR
            break
        f = e + 1
        engine._execute(Order(f, e, side, "entry", reason), f, float(opens[f]))
        if engine.trade is None:  # sized to zero: flat again, decisions resume on the fill bar
            t = f
            continue
        j = bisect_left(exit_bars, f)
        held[f] += 1
        if j == len(exit_bars) or exit_bars[j] + 1 >= n:
            held[n] -= 1
            break
        x = exit_bars[j]
        held[x + 1] -= 1
        engine._close(x + 1, float(opens[x + 1]), "signal", x)
        t = x + 1
    in_position = np.cumsum(held[:n]) > 0
    engine.hold[in_position & entry] = HoldReason.ALREADY_IN_POSITION
