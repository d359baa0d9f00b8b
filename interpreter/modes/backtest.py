"""Backtest mode: the whole history through the batch evaluator, then the shared engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dsl.graph import Graph
from interpreter import metrics as metrics_mod
from interpreter import results
from interpreter.batch import as_array, evaluate
from interpreter.data import LoadedBars
from interpreter.decisions import DecisionLog
from interpreter.engine import Engine, Market
from interpreter.feed import load_run_data, market_inputs, primary_id, run_ids


def build_market(graph: Graph, bars: LoadedBars, values: dict[str, Any]) -> Market:
    n = len(bars)
    plan = graph.plan
    entry, exit_, exit_root = {}, {}, {}
    for side in ("long", "short"):
        node = graph.output(f"entry.{side}")
        if node is not None:
            entry[side] = as_array(graph, values, node.id, n).astype(bool, copy=False)
        node = graph.output(f"exit.{side}")
        if node is None:
            exit_[side] = None
            exit_root[side] = None
        elif node.trade:
            exit_[side] = None
            exit_root[side] = node.id
        else:
            exit_[side] = as_array(graph, values, node.id, n).astype(bool, copy=False)
            exit_root[side] = None
    stop_dist = {}
    for kind, spec in plan["stops"].items():
        if spec["mode"] == "distance":
            stop_dist[kind] = as_array(graph, values, spec["node"], n)
    slip = None
    if plan["slippage"]["mode"] == "distance":
        slip = as_array(graph, values, plan["slippage"]["node"], n)
    sizing_series = {}
    vol = graph.output("sizing.vol")
    if vol is not None:
        sizing_series["vol"] = as_array(graph, values, vol.id, n)
    if plan.get("fuzzy"):
        from interpreter.fuzzy_sizing import FuzzySizer

        fz = FuzzySizer(plan["fuzzy"])
        inputs = {name: as_array(graph, values, graph.output(f"sizing.input.{name}").id, n) for name in fz.input_names}
        sizing_series["fuzzy"] = fz.batch(inputs)
    market = Market(bars.ts, bars.open, bars.high, bars.low, bars.close, entry, exit_, exit_root, stop_dist, slip,
                    values, sizing_series)
    if plan.get("hedge"):
        market.hedge_open = as_array(graph, values, graph.output("hedge.open").id, n)
        market.hedge_close = as_array(graph, values, graph.output("hedge.close").id, n)
    return market


def run(graph: Graph, data: dict[str, str | Path] | None = None, *, start=None, end=None,
        policy: str = "fail", fast: bool = True, bars: dict[str, LoadedBars] | None = None,
        columns: dict[str, str] | None = None, log: bool = False) -> results.Result:
    """Backtest ``graph``; ``data`` maps instrument id -> file to override the universe's files.

    ``log=True`` keeps the decision log (``Result.decisions``; write it with
    ``Result.write_decisions``).
    """
    plan = graph.plan
    bars = bars or load_run_data(graph, data, start=start, end=end, policy=policy, columns=columns)
    if len(run_ids(plan)) > 1:
        from interpreter.multi import run_multi

        return run_multi(graph, bars, log=DecisionLog(graph.fingerprint) if log else None, policy=policy)
    prim_id = primary_id(plan)
    prim = bars[prim_id]
    n = len(prim)
    values = evaluate(graph, market_inputs(graph, bars), n)
    market = build_market(graph, prim, values)
    market.stale = stale_mask(graph, bars, prim_id)
    engine = Engine(graph, market, plan, DecisionLog(graph.fingerprint) if log else None, instrument=prim_id)
    engine.run_fast() if fast else engine.run_all()
    return finish(graph, engine, bars, prim_id, "backtest", policy)


def stale_mask(graph: Graph, bars: dict[str, LoadedBars], primary: str) -> np.ndarray | None:
    """Bars where an input from another instrument is stale (any of them), or None if none can be."""
    from interpreter.feed import stale_bars

    masks = stale_bars(graph, bars, primary)
    if not masks:
        return None
    out = np.zeros(len(bars[primary]), dtype=bool)
    for m in masks.values():
        out |= m
    return out


def data_rows(bars: dict[str, LoadedBars], prim_id: str) -> list[dict[str, Any]]:
    """What each run says about its data: file, sha256, bars, span and gaps."""
    rows = []
    for inst_id, b in sorted(bars.items()):
        rows.append({
            "instrument": inst_id, "source": str(b.source), "sha256": b.sha256, "bars": len(b),
            "timeframe": b.timeframe,
            "first": results.iso(b.ts[0]) if len(b) else None,
            "last": results.iso(b.ts[-1]) if len(b) else None,
            "gaps": int(np.count_nonzero(b.gap_after)),
        })
    rows.sort(key=lambda r: (r["instrument"] != prim_id, r["instrument"]))
    return rows


def finish(graph: Graph, engine: Engine, bars: dict[str, LoadedBars] | list[dict[str, Any]], prim_id: str,
           mode: str, policy: str) -> results.Result:
    """Metrics and result frames from a finished engine — the same for every mode."""
    plan = graph.plan
    m = engine.m
    eq, _, units = engine.equity()
    trades = list(engine.trades)
    open_row = engine.open_trade_row()
    if open_row is not None:
        trades.append(open_row)
    metrics = metrics_mod.compute(eq, units, m.ts, float(plan["capital"]), float(plan["bars_per_year"]), trades,
                                  engine.fills)
    rows = bars if isinstance(bars, list) else data_rows(bars, prim_id)
    notes = []
    if not plan.get("risk_profile_name"):
        notes.append("no risk profile: the run is limited only by its sizing (the documented default)")
    settings = {
        "params": plan["params"], "timeframe": plan["timeframe"], "capital": plan["capital"],
        "fill": plan["execution"]["fill"], "warmup_bars": graph.warmup, "policy": policy,
    }
    return results.build(graph.target, graph.fingerprint, mode, prim_id, m.ts, m.close, engine, metrics,
                         rows, settings, notes)
