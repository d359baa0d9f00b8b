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

    @property
    def fp12(self) -> str:
        return self.fingerprint[:12]

    def metrics_document(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "target": self.target,
            "fingerprint": self.fingerprint,
            "mode": self.mode,
            "instrument": self.instrument,
            "metrics": self.metrics,
            "hold_reasons": self.holds,
            "data": self.data,
            "settings": self.settings,
            "notes": self.notes,
        }

    def write(self, out_dir: str | Path) -> list[Path]:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        p = out / "metrics.json"
        p.write_text(json.dumps(self.metrics_document(), indent=2, sort_keys=True, allow_nan=False) + "\n",
                     encoding="utf-8")
        paths.append(p)
        for name, df in (("trades", self.trades), ("fills", self.fills), ("equity", self.equity)):
            p = out / f"{name}.csv"
            df.to_csv(p, index=False, lineterminator="\n")
            paths.append(p)
        return paths

    def summary(self) -> str:
        m = self.metrics

        def pct(x: Any) -> str:
            return "n/a" if x is None else f"{x * 100:.2f}%"

        def num(x: Any, fmt: str = ".2f") -> str:
            return "n/a" if x is None else format(x, fmt)

        rows = [
            ("target", self.target), ("fingerprint", self.fp12), ("instrument", self.instrument),
            ("period", f"{self.data[0]['first']} -> {self.data[0]['last']} ({m['bars']} bars)"),
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
        width = max(len(k) for k, _ in rows)
        lines = [f"{k:<{width}}  {v}" for k, v in rows]
        if self.holds:
            lines.append("hold reasons".ljust(width) + "  " + ", ".join(f"{k} {v}" for k, v in self.holds.items()))
        for note in self.notes:
            lines.append(f"note: {note}")
        return "\n".join(lines)


def _iso(ns: np.ndarray | int | None) -> Any:
    if ns is None:
        return None
    return pd.Timestamp(int(ns), unit="ns", tz="UTC").isoformat()


def build(target: str, fingerprint: str, mode: str, instrument: str, ts: np.ndarray, close: np.ndarray,
          engine, metrics: dict[str, Any], data: list[dict[str, Any]], settings: dict[str, Any],
          notes: list[str]) -> Result:
    fp12 = fingerprint[:12]
    trades = list(engine.trades)
    open_row = engine.open_trade_row()
    if open_row is not None:
        trades.append(open_row)
    rows = []
    for i, t in enumerate(trades, 1):
        rows.append({
            "trade": i, "side": t["side"], "entry_time": _iso(ts[t["entry_bar"]]), "entry_price": t["entry_price"],
            "units": t["units"], "exit_time": _iso(ts[t["exit_bar"]]) if t["exit_bar"] is not None else None,
            "exit_price": t["exit_price"], "commission": t["commission"], "slippage": t["slippage"],
            "pnl": t["pnl"], "return": t["return"], "bars_held": t["bars_held"], "exit_reason": t["exit_reason"],
        })
    trades_df = pd.DataFrame(rows, columns=TRADE_COLUMNS)
    trades_df["fingerprint"] = fp12
    fills_df = pd.DataFrame([{
        "time": _iso(ts[f["bar"]]), "decided_time": _iso(ts[f["decided_bar"]]), "action": f["action"],
        "reason": f["reason"], "units": f["units"], "price": f["price"], "reference_price": f["reference_price"],
        "commission": f["commission"], "cash_after": f["cash_after"]} for f in engine.fills],
        columns=["time", "decided_time", "action", "reason", "units", "price", "reference_price", "commission",
                 "cash_after"])
    fills_df["fingerprint"] = fp12
    eq, cash, units = engine.equity()
    peak = np.maximum.accumulate(eq)
    equity_df = pd.DataFrame({
        "time": pd.to_datetime(ts, unit="ns", utc=True).map(lambda x: x.isoformat()),
        "close": close, "units": units, "cash": cash, "equity": eq, "drawdown": 1.0 - eq / peak,
    })
    equity_df["fingerprint"] = fp12
    counts = {}
    codes, n = np.unique(engine.hold[engine.hold > 0], return_counts=True)
    for c, k in zip(codes.tolist(), n.tolist()):
        counts[HoldReason(c).label] = int(k)
    return Result(target, fingerprint, mode, instrument, metrics, trades_df, fills_df, equity_df,
                  dict(sorted(counts.items())), data, settings, notes, engine.hold)
