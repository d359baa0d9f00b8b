"""Bars for a run: which files, and how other instruments and timeframes line up.

Alignment rules (docs/data.md):

* ``close@other`` — the other instrument's value as of the bar's timestamp: the last bar of
  ``other`` that opened at or before this bar, if it is at most one bar of the strategy's
  timeframe old; otherwise NaN (so conditions on it are false on that bar).
* ``close@1h`` — bars resampled left-closed, left-labelled (open=first, high=max, low=min,
  close=last); at bar t a higher-timeframe bar is visible only once it has closed, i.e.
  its end is at or before the end of bar t. Never earlier: no lookahead at the boundary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dsl.errors import Diagnostic, DslError
from dsl.graph import Graph
from interpreter.data import LoadedBars, load_bars, resample

NS = 1_000_000_000


def _fail(message: str, hint: str | None = None) -> DslError:
    return DslError([Diagnostic("U101", message, None, hint)])


def instruments(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return plan["universe"]["instruments"]


def run_ids(plan: dict[str, Any]) -> list[str]:
    """The instruments a strategy trades: its ``instrument``, or every member of its universe."""
    if plan.get("instrument"):
        return [plan["instrument"]]
    return [i["id"] for i in instruments(plan)]


def primary_id(plan: dict[str, Any]) -> str:
    insts = instruments(plan)
    if plan.get("instrument"):
        return plan["instrument"]
    if len(insts) == 1:
        return insts[0]["id"]
    ids = ", ".join(i["id"] for i in insts)
    raise _fail(f"strategy '{plan['name']}' runs over universe '{plan['universe']['name']}' with several "
                f"instruments ({ids}); this version backtests one instrument per run",
                "add 'instrument: <id>' to the strategy, or pass --instrument")


def needed_instruments(graph: Graph) -> set[str]:
    return {n.attr("instrument") for n in graph.nodes if n.op == "input" and n.attr("instrument")}


def load_run_data(graph: Graph, data: dict[str, str | Path] | None = None, *, start=None, end=None,
                  policy: str = "fail", columns: dict[str, str] | None = None) -> dict[str, LoadedBars]:
    """Load the primary instrument and every instrument a formula refers to.

    ``columns`` (our name -> the file's) overrides the universe's column mapping for the
    strategy's own instrument. Other instruments are brought to the strategy's timeframe
    (resampled when finer); a coarser one is refused, since its bars close later than the
    strategy's and reading them bar by bar would look ahead.
    """
    plan = graph.plan
    runs = run_ids(plan)
    prim = runs[0]
    by_id = {i["id"]: i for i in instruments(plan)}
    data = dict(data or {})
    unknown = sorted(set(data) - set(by_id))
    if unknown:
        raise _fail(f"--data names instrument(s) {unknown} not in universe '{plan['universe']['name']}'",
                    f"instruments: {', '.join(sorted(by_id))}")
    out: dict[str, LoadedBars] = {}
    for inst_id in sorted(set(runs) | needed_instruments(graph)):
        spec = by_id[inst_id]
        path = data.get(inst_id, spec["data_file"])
        mapping = dict(spec.get("columns") or {})
        if inst_id == prim and columns:
            mapping.update(columns)
        out[inst_id] = load_bars(path, timeframe=spec.get("timeframe"), columns=mapping or None,
                                 policy=policy, start=start, end=end)
    tf_ns = int(round(plan["timeframe_seconds"] * NS))
    for inst_id, other in list(out.items()):
        if inst_id in runs or not other.timeframe or _tf_ns(other.timeframe) == tf_ns:
            continue
        if _tf_ns(other.timeframe) < tf_ns and tf_ns % _tf_ns(other.timeframe) == 0:
            out[inst_id] = resample(other, plan["timeframe"])
        else:
            raise _fail(f"close@{inst_id}: instrument '{inst_id}' has {other.timeframe} bars but strategy "
                        f"'{plan['name']}' trades {plan['timeframe']} bars; a coarser bar closes later than "
                        f"the strategy's, so reading it bar by bar would look ahead",
                        f"give '{inst_id}' data at {plan['timeframe']} or finer")
    for run in runs:
        bars = out[run]
        if bars.timeframe and _tf_ns(bars.timeframe) != tf_ns:
            if _tf_ns(bars.timeframe) < tf_ns and tf_ns % _tf_ns(bars.timeframe) == 0:
                out[run] = resample(bars, plan["timeframe"])
            else:
                raise _fail(f"data for '{run}' has {bars.timeframe} bars but strategy '{plan['name']}' "
                            f"trades {plan['timeframe']} bars", "use data at the strategy's timeframe or finer")
        if len(out[run]) == 0:
            raise _fail(f"no bars for '{run}' in the selected period", "widen --from/--to")
    return out


def _tf_ns(tf: str) -> int:
    from interpreter.quality import parse_timeframe

    return parse_timeframe(tf)


def market_inputs(graph: Graph, bars: dict[str, LoadedBars], primary: str | None = None) -> dict[str, np.ndarray]:
    """Input node key -> float64 array aligned to the (given, else the) primary instrument's bars."""
    plan = graph.plan
    prim = bars[primary or primary_id(plan)]
    tf_ns = int(round(plan["timeframe_seconds"] * NS))
    out: dict[str, np.ndarray] = {}
    for node in graph.nodes:
        if node.op != "input":
            continue
        col = node.attr("column")
        if node.attr("instrument"):
            other = bars[node.attr("instrument")]
            out[node.key] = align_asof(prim.ts, other.ts, np.asarray(other.column(col), dtype=np.float64), tf_ns)
        elif node.attr("timeframe"):
            htf = resample(prim, node.attr("timeframe"))
            htf_ns = int(round(node.attr("timeframe_seconds") * NS))
            out[node.key] = align_closed(prim.ts, tf_ns, htf.ts, htf_ns, np.asarray(htf.column(col), dtype=np.float64))
        else:
            out[node.key] = np.asarray(prim.column(col), dtype=np.float64)
    return out


def align_asof(ts: np.ndarray, other_ts: np.ndarray, values: np.ndarray, max_age_ns: int) -> np.ndarray:
    idx = np.searchsorted(other_ts, ts, side="right") - 1
    ok = idx >= 0
    out = np.full(len(ts), np.nan)
    age = np.where(ok, ts - other_ts[np.clip(idx, 0, None)], np.iinfo(np.int64).max)
    keep = ok & (age <= max_age_ns)
    out[keep] = values[idx[keep]]
    return out


def align_closed(ts: np.ndarray, tf_ns: int, htf_ts: np.ndarray, htf_ns: int, values: np.ndarray) -> np.ndarray:
    """At each base bar, the last higher-timeframe bar whose end <= the base bar's end."""
    ends = htf_ts + htf_ns
    idx = np.searchsorted(ends, ts + tf_ns, side="right") - 1
    out = np.full(len(ts), np.nan)
    ok = idx >= 0
    out[ok] = values[idx[ok]]
    return out
