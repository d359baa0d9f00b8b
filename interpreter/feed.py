"""Bars for a run: which files, and how other instruments and timeframes line up.

Alignment rules (docs/language.md, "Other instruments and higher timeframes"; docs/data.md):

* ``close@other`` — the other instrument's value as of the bar's timestamp, by the instrument's
  ``alignment`` in its universe:

  - ``asof`` (default): the last bar of ``other`` that opened at or before this bar, if it is at
    most ``max_staleness`` old (default: one bar of the strategy's timeframe; ``"3 bars"`` counts
    strategy bars); otherwise NaN (so conditions on it are false on that bar);
  - ``exact``: only a bar of ``other`` that opened at the same timestamp; otherwise NaN.

  ``age@other`` is the seconds from the last bar of ``other`` that opened at or before this bar
  to this bar (NaN before its first bar), whatever the policy: it exposes the lag itself.
  A coarser ``other`` compares by close instead of open (``close_shift``): its bar is as of
  the strategy's bar that closes when it closes, and its default staleness is its own bar.
  :func:`stale_bars` says on which bars such inputs are NaN for want of a fresh bar.
* ``close@1h`` — bars resampled left-closed, left-labelled (open=first, high=max, low=min,
  close=last, volume=sum); at bar t a higher-timeframe bar is visible only once it has closed,
  i.e. its end is at or before the end of bar t. Never earlier: no lookahead at the boundary.

The stream forms of these rules are ``interpreter.modes.paper.AsOf`` and ``HigherTimeframe``;
they give the same floats bit for bit (tests/interpreter/test_alignment.py, test_timeframes.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from dsl.errors import Diagnostic, DslError
from dsl.graph import Graph
from interpreter.data import LoadedBars, load_bars, resample, resample_if_finer

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
    strategy's own instrument, whose bars must be at the strategy's timeframe or finer
    (resampled). Other instruments may be finer (resampled to the strategy's timeframe) or
    coarser: a coarser bar lines up by its *close* (``close_shift``), visible from the
    strategy bar that closes when it closes, never earlier.
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
        if inst_id in runs:
            continue
        out[inst_id] = resample_if_finer(other, plan["timeframe"])
        if out[inst_id].timeframe and _tf_ns(out[inst_id].timeframe) < tf_ns:
            raise _fail(f"close@{inst_id}: instrument '{inst_id}' has {other.timeframe} bars, which do not divide "
                        f"strategy '{plan['name']}''s {plan['timeframe']} bars into whole bins",
                        f"give '{inst_id}' data at {plan['timeframe']}, a divisor of it, or coarser")
    for run in runs:
        bars = out[run] = resample_if_finer(out[run], plan["timeframe"])
        if bars.timeframe and _tf_ns(bars.timeframe) != tf_ns:
            raise _fail(f"data for '{run}' has {bars.timeframe} bars but strategy '{plan['name']}' "
                        f"trades {plan['timeframe']} bars", "use data at the strategy's timeframe or finer")
        if len(out[run]) == 0:
            raise _fail(f"no bars for '{run}' in the selected period", "widen --from/--to")
    return out


def _tf_ns(tf: str) -> int:
    from interpreter.quality import parse_timeframe

    return parse_timeframe(tf)


def alignment(plan: dict[str, Any], inst_id: str) -> tuple[str, int]:
    """How ``column@inst_id`` lines up with the strategy's bars: (``"asof"`` | ``"exact"``, the
    oldest bar it may use in ns). ``exact`` is as-of with a maximum age of 0 (same timestamp).
    The default age is one bar of the strategy's timeframe, or of the instrument's if coarser."""
    spec = next(i for i in instruments(plan) if i["id"] == inst_id)
    tf_ns = int(round(plan["timeframe_seconds"] * NS))
    mode = spec.get("alignment") or "asof"
    if mode == "exact":
        return mode, 0
    limit = spec.get("max_staleness")
    return mode, tf_ns + close_shift(plan, inst_id) if limit is None else staleness_ns(limit, tf_ns)


def instrument_tf_ns(plan: dict[str, Any], inst_id: str) -> int:
    """The bar length of an instrument's data (its universe's ``timeframe``)."""
    spec = next(i for i in instruments(plan) if i["id"] == inst_id)
    tf = spec.get("timeframe")
    return _tf_ns(str(tf)) if tf else int(round(plan["timeframe_seconds"] * NS))


def close_shift(plan: dict[str, Any], inst_id: str) -> int:
    """Nanoseconds added to a coarser instrument's bar times so that bars compare by close: its
    bar (t, t + T) is as of the strategy's bar (s, s + S) when t + T <= s + S, i.e.
    t + (T - S) <= s. Zero for an instrument at the strategy's timeframe or finer (resampled)."""
    tf_ns = int(round(plan["timeframe_seconds"] * NS))
    return max(0, instrument_tf_ns(plan, inst_id) - tf_ns)


_STALE_BARS = re.compile(r"\s*([0-9]+)\s*bars?\s*")
_STALE_DUR = re.compile(r"\s*([0-9]+)\s*(ms|s|m|h|d|w)\s*")
_DUR_NS = {"ms": 1_000_000, "s": NS, "m": 60 * NS, "h": 3600 * NS, "d": 86400 * NS, "w": 604800 * NS}


def staleness_ns(text: str, tf_ns: int) -> int:
    """``max_staleness`` as written in the plan (``"3 bars"``, ``"15m"``) -> nanoseconds."""
    m = _STALE_BARS.fullmatch(str(text))
    if m:
        return int(m.group(1)) * tf_ns
    m = _STALE_DUR.fullmatch(str(text))
    if m:
        return int(m.group(1)) * _DUR_NS[m.group(2)]
    raise _fail(f"max_staleness {text!r}: expected a bar count like '3 bars' or a duration like '15m'")


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
            other_ts = other.ts + close_shift(plan, node.attr("instrument"))  # compare by close
            if col == "age":
                out[node.key] = asof_age(prim.ts, other_ts)
            else:
                _, max_age = alignment(plan, node.attr("instrument"))
                out[node.key] = align_asof(prim.ts, other_ts, np.asarray(other.column(col), dtype=np.float64),
                                           max_age)
        elif node.attr("timeframe"):
            htf = resample(prim, node.attr("timeframe"))
            htf_ns = int(round(node.attr("timeframe_seconds") * NS))
            out[node.key] = align_closed(prim.ts, tf_ns, htf.ts, htf_ns, np.asarray(htf.column(col), dtype=np.float64))
        else:
            out[node.key] = np.asarray(prim.column(col), dtype=np.float64)
    return out


def asof_index(ts: np.ndarray, other_ts: np.ndarray, max_age_ns: int | None = None) -> np.ndarray:
    """Per bar of ``ts``: the index of the last ``other_ts`` at or before it, at most ``max_age_ns``
    older (any age when None); -1 where there is none."""
    idx = np.searchsorted(other_ts, ts, side="right") - 1
    if max_age_ns is not None:
        ok = idx >= 0
        age = np.where(ok, ts - other_ts[np.clip(idx, 0, None)], np.iinfo(np.int64).max)
        idx = np.where(ok & (age <= max_age_ns), idx, -1)
    return idx


def align_asof(ts: np.ndarray, other_ts: np.ndarray, values: np.ndarray, max_age_ns: int) -> np.ndarray:
    """``values`` of the last other bar at or before each bar, if at most ``max_age_ns`` old; else NaN."""
    idx = asof_index(ts, other_ts, max_age_ns)
    out = np.full(len(ts), np.nan)
    keep = idx >= 0
    out[keep] = values[idx[keep]]
    return out


def asof_age(ts: np.ndarray, other_ts: np.ndarray) -> np.ndarray:
    """``age@other``: seconds from the last other bar at or before each bar to that bar (NaN if none)."""
    idx = asof_index(ts, other_ts)
    out = np.full(len(ts), np.nan)
    ok = idx >= 0
    out[ok] = (ts[ok] - other_ts[idx[ok]]) / 1e9
    return out


def stale_bars(graph: Graph, bars: dict[str, LoadedBars], primary: str | None = None) -> dict[str, np.ndarray]:
    """Per other instrument whose columns a formula reads: a bool per bar of the (given, else the)
    primary instrument, true where ``column@other`` is NaN because ``other`` had no bar within
    its alignment (``asof``: none at most ``max_staleness`` old; ``exact``: none at this timestamp).

    A NaN input makes every comparison on it false, so an entry that would have held on such a
    bar leaves no trace in the engine's hold reasons. Results should report these bars under the
    ``data_gap`` hold reason (``HoldReason.DATA_GAP``), e.g. per instrument the number of bars
    where the strategy was flat (could have entered) and ``stale_bars(...)[inst]`` is true, and in
    the per-bar hold array ``DATA_GAP`` on such bars that carry no other reason. Instruments read
    only through ``age@`` are left out: ``age`` is never NaN for staleness.
    """
    plan = graph.plan
    prim = bars[primary or primary_id(plan)]
    out: dict[str, np.ndarray] = {}
    for node in graph.nodes:
        inst = node.attr("instrument") if node.op == "input" else None
        if not inst or node.attr("column") == "age" or inst in out:
            continue
        _, max_age = alignment(plan, inst)
        out[inst] = asof_index(prim.ts, bars[inst].ts + close_shift(plan, inst), max_age) < 0
    return dict(sorted(out.items()))


def align_closed(ts: np.ndarray, tf_ns: int, htf_ts: np.ndarray, htf_ns: int, values: np.ndarray) -> np.ndarray:
    """At each base bar, the last higher-timeframe bar whose end <= the base bar's end."""
    ends = htf_ts + htf_ns
    idx = np.searchsorted(ends, ts + tf_ns, side="right") - 1
    out = np.full(len(ts), np.nan)
    ok = idx >= 0
    out[ok] = values[idx[ok]]
    return out
