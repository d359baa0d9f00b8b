"""What a run produces, in memory (DataFrames) and on disk (byte-stable files).

Files written by ``Result.write``: ``metrics.json`` (metrics, hold-reason counts, the spec
fingerprint, data sources with their sha256), ``trades.csv``, ``fills.csv`` and
``equity.csv``. Every row carries the 12-character fingerprint prefix. JSON is written
with sorted keys and CSV floats in shortest round-trip form, so the same inputs give the
same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from interpreter.reasons import HoldReason

TRADE_COLUMNS = ["trade", "side", "entry_time", "entry_price", "units", "exit_time", "exit_price",
                 "commission", "slippage", "pnl", "return", "bars_held", "exit_reason"]
#: What a pair's trade adds (a strategy with ``hedge:``): commission, slippage and pnl are both legs'.
PAIR_COLUMNS = ["hedge_instrument", "hedge_units", "hedge_entry_price", "hedge_exit_price", "entry_spread",
                "exit_spread"]


@dataclass
class Result:
    target: str
    fingerprint: str
    mode: str
    instrument: str
    metrics: dict[str, Any]
    trades: pd.DataFrame
    fills: pd.DataFrame
    equity: pd.DataFrame
    holds: dict[str, int]
    data: list[dict[str, Any]]
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    hold_bars: np.ndarray | None = None
    risk_events: pd.DataFrame | None = None
    severity: pd.DataFrame | None = None
    risk: dict[str, Any] = field(default_factory=dict)
    hold_details: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    decisions: Any = None  # DecisionLog when the run kept one
    ts: np.ndarray | None = None
    conditions: dict[str, np.ndarray] = field(default_factory=dict)  # kept with the decision log

    @property
    def fp12(self) -> str:
        return self.fingerprint[:12]

    def metrics_document(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "target": self.target,
            "fingerprint": self.fingerprint,
            "instrument": self.instrument,
            "metrics": self.metrics,
            "hold_reasons": self.holds,
            "hold_reasons_by_strategy": {self.target.split(".", 1)[-1]: self.holds},
            **({"hold_reasons_by_instrument": self.holds_by_instrument}
               if getattr(self, "holds_by_instrument", None) else {}),
            **({"slots": self.slots} if getattr(self, "slots", None) else {}),
            "risk": self.risk,
            "data": self.data,
            "settings": self.settings,
            "notes": self.notes,
        }

    def write(self, out_dir: str | Path) -> list[Path]:
        out = Path(out_dir)
        if out.exists() and not out.is_dir():
            from dsl.errors import Diagnostic, DslError

            raise DslError([Diagnostic("U101", f"cannot write results to '{out}': it is a file, not a folder", None,
                                       "pass --out with a folder path")])
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        p = out / "metrics.json"
        p.write_text(json.dumps(self.metrics_document(), indent=2, sort_keys=True, allow_nan=False) + "\n",
                     encoding="utf-8")
        paths.append(p)
        frames = [("trades", self.trades), ("fills", self.fills), ("equity", self.equity)]
        if self.risk_events is not None:
            frames += [("risk_events", self.risk_events), ("severity", self.severity)]
        for name, df in frames:
            p = out / f"{name}.csv"
            write_csv(df, p)
            paths.append(p)
        return paths

    def write_decisions(self, path: str | Path) -> Path:
        """Write the decision log (JSONL, schema tradespec.decisions/1); needs a run with log=True."""
        if self.decisions is None:
            raise ValueError("this result was run without a decision log (pass log=True)")
        header = {"target": self.target, "fingerprint": self.fingerprint, "mode": self.mode,
                  "instrument": self.instrument, "data": self.data, "settings": self.settings}
        return self.decisions.write(path, self.ts, header)

    def why(self, when: str) -> dict[str, Any]:
        """Everything the run knows about one bar: signals, conditions, decision and reasons."""
        if self.ts is None or len(self.ts) == 0:
            raise ValueError("no bars in this result")
        if self.hold_bars is None:
            raise ValueError("--why explains single-instrument runs; pick one with 'instrument:' in the strategy")
        stamp = pd.Timestamp(when)
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
        ns = stamp.value
        bar = int(np.searchsorted(self.ts, ns, side="right") - 1)
        if bar < 0:
            raise ValueError(f"{when} is before the first bar ({iso(int(self.ts[0]))})")
        out: dict[str, Any] = {"asked": when, "bar": bar, "time": iso(int(self.ts[bar])),
                               "exact": int(self.ts[bar]) == ns}
        reason = HoldReason(int(self.hold_bars[bar])) if self.hold_bars is not None else HoldReason.NONE
        details = self.hold_details.get(bar, [])
        out["hold_reason"] = reason.label if reason else None
        out["detail"] = details[0][1] if details else ""
        out["other_reasons"] = [{"reason": r, "detail": d} for r, d in details[1:]]
        out["values"] = {k: (bool(v[bar]) if v.dtype == bool else _num(v[bar])) for k, v in self.conditions.items()}
        events = self.decisions.at(bar) if self.decisions is not None else []
        out["events"] = [{"type": k, **d} for k, d in events]
        eq = self.equity.iloc[bar]
        out["position_units"] = float(eq["units"])
        out["equity"] = float(eq["equity"])
        fills = self.fills[self.fills["time"] == self.fills["time"].dtype.type(stamp)] if len(self.fills) else self.fills
        out["fills"] = fills.drop(columns=["fingerprint"]).to_dict("records") if len(fills) else []
        return out

    def summary(self) -> str:
        m = self.metrics

        def pct(x: Any) -> str:
            return "n/a" if x is None else f"{x * 100:.2f}%"

        def num(x: Any, fmt: str = ".2f") -> str:
            return "n/a" if x is None else format(x, fmt)

        rows = [
            ("target", self.target), ("fingerprint", self.fp12), ("instrument", self.instrument),
            ("period", f"{iso(int(self.ts[0])) if self.ts is not None and len(self.ts) else self.data[0]['first']} -> "
                       f"{iso(int(self.ts[-1])) if self.ts is not None and len(self.ts) else self.data[0]['last']} "
                       f"({m['bars']} bars)"),
            ("final equity", f"{m['final_equity']:,.2f} (from {m['capital']:,.0f})"),
            ("total return", pct(m["total_return"])), ("CAGR", pct(m["cagr"])),
            ("annual vol", pct(m["ann_vol"])), ("Sharpe", num(m["sharpe"])), ("Sortino", num(m["sortino"])),
            ("Calmar", num(m["calmar"])), ("max drawdown", f"{pct(m['max_drawdown'])} ({m['max_drawdown_bars']} bars)"),
            ("trades", f"{m['trade_count']} closed, {m['open_trades']} open"),
            ("win rate", pct(m["win_rate"])), ("profit factor", num(m["profit_factor"])),
            ("avg trade", num(m["avg_trade"], ",.2f")), ("exposure", pct(m["exposure"])),
            ("turnover", num(m["turnover"], ".2f") + "x/yr" if m["turnover"] is not None else "n/a"),
            ("exp. shortfall 95%", pct(m["expected_shortfall_95"])),
            ("commission paid", f"{m['total_commission']:,.2f}"),
        ]
        width = max([len(k) for k, _ in rows] + [len(f"slot {name}") for name in (getattr(self, "slots", None) or {})])
        lines = [f"{k:<{width}}  {v}" for k, v in rows]
        if self.holds:
            lines.append("hold reasons".ljust(width) + "  " + ", ".join(f"{k} {v}" for k, v in self.holds.items()))
        if self.risk:
            r = self.risk
            text = f"{r['profile']}: {r['events']} risk event{'s' if r['events'] != 1 else ''}"
            if r["by_limit"]:
                text += " (" + ", ".join(f"{k} {v}" for k, v in r["by_limit"].items()) + ")"
            text += f"; severity now {r['final_severity']}, worst {r['worst_severity']}"
            lines.append("risk".ljust(width) + "  " + text)
        for name, s in (getattr(self, "slots", None) or {}).items():
            lines.append(f"slot {name}".ljust(width) + f"  {s['strategy']} {s['allocation'] * 100:g}%: "
                         f"P&L {s['pnl']:,.2f}, {s['trades']} trades, final equity {s['final_equity']:,.2f}, "
                         f"in market {s.get('time_in_market', 0.0) * 100:.1f}% of the time")
        for note in self.notes:
            lines.append(f"note: {note}")
        return "\n".join(lines)


def _num(x: Any) -> float | None:
    f = float(x)
    return f if np.isfinite(f) else None


def iso(ns: np.ndarray | int | None) -> Any:
    if ns is None:
        return None
    return pd.Timestamp(int(ns), unit="ns", tz="UTC").isoformat()


_iso = iso


def utc_times(ts: np.ndarray) -> pd.DatetimeIndex:
    """int64 ns timestamps as a UTC DatetimeIndex (no copy of the data)."""
    return pd.DatetimeIndex(np.asarray(ts, dtype=np.int64).view("datetime64[ns]")).tz_localize("UTC")


def write_csv(df: pd.DataFrame, path: Path | Any) -> None:
    """CSV through Arrow's writer: fast at a million rows, floats in shortest round-trip form,
    timestamps in ISO 8601 with a +00:00 offset (as the shipped data files write them)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    table = pa.Table.from_pandas(df, preserve_index=False)
    cols = []
    for name, col in zip(table.column_names, table.columns):
        if pa.types.is_timestamp(col.type):
            naive = pc.cast(col, pa.timestamp(col.type.unit))
            try:  # whole seconds print without a fraction: "2020-01-01 00:00:00"
                naive = pc.cast(naive, pa.timestamp("s"), safe=True)
            except pa.ArrowInvalid:
                pass  # sub-second timestamps keep their fraction
            text = pc.cast(naive, pa.string())
            col = pc.binary_join_element_wise(pc.replace_substring(text, " ", "T"), "+00:00", "")
        cols.append(col)
    table = pa.table(cols, names=table.column_names)
    needs_quotes = any(
        pa.types.is_string(c.type) and pc.any(pc.match_substring_regex(c, r'[,"\n\r]')).as_py()
        for c in table.columns)
    opts = pacsv.WriteOptions(include_header=False, quoting_style="needed" if needs_quotes else "none")
    header = ",".join(_csv_field(n) for n in table.column_names) + "\n"
    if hasattr(path, "write"):
        path.write(header.encode("utf-8"))
        pacsv.write_csv(table, path, write_options=opts)
        return
    with open(path, "wb") as fh:
        fh.write(header.encode("utf-8"))
        pacsv.write_csv(table, fh, write_options=opts)


def _csv_field(text: str) -> str:
    """A header field, quoted only when it must be (RFC 4180)."""
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def build(target: str, fingerprint: str, mode: str, instrument: str, ts: np.ndarray, close: np.ndarray,
          engine, metrics: dict[str, Any], data: list[dict[str, Any]], settings: dict[str, Any],
          notes: list[str]) -> Result:
    fp12 = fingerprint[:12]
    trades = list(engine.trades)
    open_row = engine.open_trade_row()
    if open_row is not None:
        trades.append(open_row)
    times = utc_times(ts)
    tdf = pd.DataFrame(trades, columns=["side", "entry_bar", "exit_bar", "units", "entry_price", "exit_price",
                                        "commission", "slippage", "pnl", "return", "bars_held", "exit_reason"])
    entry_bar = tdf["entry_bar"].to_numpy(dtype=np.int64)
    exit_bar = tdf["exit_bar"].to_numpy(dtype=np.float64)
    has_exit = ~np.isnan(exit_bar)
    exit_times = pd.Series(pd.NaT, index=range(len(tdf)), dtype="datetime64[ns, UTC]")
    if has_exit.any():
        exit_times[has_exit] = times[exit_bar[has_exit].astype(np.int64)]
    trades_df = pd.DataFrame({
        "trade": np.arange(1, len(tdf) + 1), "side": tdf["side"], "entry_time": times[entry_bar],
        "entry_price": tdf["entry_price"], "units": tdf["units"], "exit_time": exit_times.to_numpy(),
        "exit_price": tdf["exit_price"].astype(float), "commission": tdf["commission"], "slippage": tdf["slippage"],
        "pnl": tdf["pnl"], "return": tdf["return"], "bars_held": tdf["bars_held"],
        "exit_reason": tdf["exit_reason"]}, columns=TRADE_COLUMNS)
    if engine.hedge:
        pair = pd.DataFrame(trades, columns=PAIR_COLUMNS)
        for col in PAIR_COLUMNS:
            trades_df[col] = pair[col] if col == "hedge_instrument" else pair[col].astype(float)
    trades_df["fingerprint"] = fp12
    fdf = pd.DataFrame(engine.fills, columns=["bar", "decided_bar", "action", "reason", "units", "price",
                                              "reference_price", "commission", "cash_after"])
    fills_df = pd.DataFrame({
        "time": times[fdf["bar"].to_numpy(dtype=np.int64)], "decided_time": times[fdf["decided_bar"].to_numpy(dtype=np.int64)],
        "action": fdf["action"], "reason": fdf["reason"], "units": fdf["units"], "price": fdf["price"],
        "reference_price": fdf["reference_price"], "commission": fdf["commission"], "cash_after": fdf["cash_after"]})
    if engine.hedge:  # a pair's fills say which leg they are
        fills_df.insert(1, "instrument", pd.DataFrame(engine.fills, columns=["instrument"])["instrument"])
    fills_df["fingerprint"] = fp12
    eq, cash, units = engine.equity()
    equity_df = pd.DataFrame({"time": times, "units": units, "cash": cash, "equity": eq})
    equity_df["fingerprint"] = fp12
    counts = {}
    hold = engine.hold[:len(ts)]
    codes, n = np.unique(hold[hold > 0], return_counts=True)
    for c, k in zip(codes.tolist(), n.tolist()):
        counts[HoldReason(c).label] = int(k)
    from interpreter.decisions import DecisionLog

    log = engine.log if isinstance(engine.log, DecisionLog) else None
    gate = engine.gate
    ev = [e for e in gate.events if e["type"] == "risk_event"]
    risk_events = pd.DataFrame({
        "time": times[np.array([e["bar"] for e in ev], dtype=np.int64)],
        "limit": [e["limit"] for e in ev], "value": [e["value"] for e in ev],
        "threshold": [float(e["threshold"]) for e in ev], "severity": [e["severity"] for e in ev],
        "action": [e["action"] for e in ev]},
        columns=["time", "limit", "value", "threshold", "severity", "action"])
    risk_events["fingerprint"] = fp12
    tl = gate.timeline
    severity_df = pd.DataFrame({
        "time": times[np.array([x["bar"] for x in tl], dtype=np.int64)], "limit": [x["limit"] for x in tl],
        "from": [x["from"] for x in tl], "to": [x["to"] for x in tl],
        "utilization": [x["utilization"] for x in tl]},
        columns=["time", "limit", "from", "to", "utilization"])
    severity_df["fingerprint"] = fp12
    by_limit: dict[str, int] = {}
    for e in ev:
        by_limit[e["limit"]] = by_limit.get(e["limit"], 0) + 1
    ranks = {"GREEN": 0, "YELLOW": 1, "RED": 2}
    worst = max((x["to"] for x in tl), key=ranks.__getitem__, default="GREEN")
    risk = {"profile": gate.name, "events": len(ev), "by_limit": dict(sorted(by_limit.items())),
            "final_severity": gate.overall(), "worst_severity": worst,
            "halted": gate.halted or None, "severity_changes": len(tl)}
    return Result(target, fingerprint, mode, instrument, metrics, trades_df, fills_df, equity_df,
                  dict(sorted(counts.items())), data, settings, notes, hold, risk_events, severity_df,
                  risk, dict(engine.hold_detail), log, ts, _conditions(engine) if log is not None else {})


def _conditions(engine) -> dict[str, np.ndarray]:
    """Named signals and the entry/exit conditions per bar, for ``Result.why``."""
    out: dict[str, np.ndarray] = {}
    n = engine.m.n
    for name, nid in engine.signal_ids:
        v = engine.m.values.get(nid)
        if v is not None and not isinstance(v, tuple):
            a = np.asarray(v)
            out[f"signal.{name}"] = a[:n] if a.ndim else np.broadcast_to(a, (n,))
    for side, arr in engine.m.entry.items():
        out[f"entry.{side}"] = arr[:n]
    for side, arr in engine.m.exit.items():
        if arr is not None:
            out[f"exit.{side}"] = arr[:n]
    return out
