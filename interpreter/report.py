"""One self-contained HTML file per backtest: it opens offline and makes no network request.

``render_report(result, explain_html)`` returns the page: metrics, equity and drawdown
charts, price with trade markers, monthly returns heatmap, trades, hold-reason breakdown,
risk events and the severity timeline (when the result has them), and the explain
document as an appendix. Charts are inline SVG computed here; a few lines of inline
script add hover read-outs. A Content-Security-Policy meta tag forbids every fetch, so
even a stray URL in spec text could not load anything. Same result, same bytes: nothing
depends on the clock, the locale or dict order.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import math
import re
from dataclasses import asdict, is_dataclass
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from interpreter.reasons import DESCRIPTIONS, HoldReason

W = 920  # chart width in SVG units
MAX_POINTS = 1200  # per series, after min/max bucketing
MAX_TRADE_ROWS = 2000
SEVERITY_COLORS = {"GREEN": "#2e7d32", "YELLOW": "#f9a825", "RED": "#c62828"}

_METRICS = [  # key, label, format
    ("final_equity", "final equity", "money"), ("capital", "starting capital", "money"),
    ("total_return", "total return", "pct"), ("cagr", "CAGR", "pct"), ("ann_vol", "annual volatility", "pct"),
    ("sharpe", "Sharpe", "num"), ("sortino", "Sortino", "num"), ("calmar", "Calmar", "num"),
    ("max_drawdown", "max drawdown", "pct"), ("max_drawdown_bars", "max drawdown length (bars)", "int"),
    ("trade_count", "closed trades", "int"), ("open_trades", "open trades", "int"), ("win_rate", "win rate", "pct"),
    ("profit_factor", "profit factor", "num"), ("avg_trade", "average trade", "money"),
    ("avg_trade_return", "average trade return", "pct"), ("avg_bars_held", "average bars held", "num"),
    ("exposure", "time in market", "pct"), ("turnover", "turnover (x per year)", "num"),
    ("expected_shortfall_95", "expected shortfall 95%", "pct"), ("total_commission", "commission paid", "money"),
    ("bars", "bars", "int"), ("years", "years", "num"),
]


def fmt(value: Any, kind: str = "num") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if kind == "pct":
        return f"{value * 100:.2f}%"
    if kind == "money":
        return f"{value:,.2f}"
    if kind == "int":
        return f"{int(value):,d}"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


# ---------------------------------------------------------------- series helpers


def _ns(col: Any) -> np.ndarray:
    """Timestamps (tz-aware or naive, Series or array) as int64 UTC nanoseconds."""
    idx = pd.DatetimeIndex(pd.to_datetime(pd.Series(col).reset_index(drop=True), utc=True))
    return idx.asi8.astype(np.int64) if hasattr(idx, "asi8") else idx.view("int64")


def _iso(ns: int, with_time: bool) -> str:
    t = pd.Timestamp(int(ns), unit="ns", tz="UTC")
    return t.strftime("%Y-%m-%d %H:%M") if with_time else t.strftime("%Y-%m-%d")


def _bucket(x: np.ndarray, y: np.ndarray, n: int = MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ~n points: each bucket keeps its min and its max, in time order (peaks survive)."""
    if len(x) <= n:
        return x, y
    edges = np.linspace(0, len(x), n // 2 + 1).astype(np.int64)
    keep: list[int] = []
    for a, b in zip(edges[:-1], edges[1:]):
        if b <= a:
            continue
        seg = y[a:b]
        finite = np.isfinite(seg)
        if not finite.any():
            keep.append(int(a))
            continue
        i, j = int(np.nanargmin(np.where(finite, seg, np.nan))), int(np.nanargmax(np.where(finite, seg, np.nan)))
        keep.extend(sorted({a + i, a + j}))
    idx = np.array(keep, dtype=np.int64)
    return x[idx], y[idx]


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [round(first + k * step, 12) for k in range(int((hi - first) / step + 1e-9) + 1)]


def _time_ticks(t0: int, t1: int) -> list[tuple[int, str]]:
    days = (t1 - t0) / 86_400e9
    a, b = pd.Timestamp(t0, unit="ns", tz="UTC"), pd.Timestamp(t1, unit="ns", tz="UTC")
    if days > 3 * 365:
        step = max(1, math.ceil(days / 365 / 10))
        stamps = pd.date_range(a.normalize().replace(month=1, day=1), b, freq=f"{12 * step}MS", tz="UTC")
        label = "%Y"
    elif days > 60:
        step = max(1, math.ceil(days / 30 / 10))
        stamps = pd.date_range(a.normalize().replace(day=1), b, freq=f"{step}MS", tz="UTC")
        label = "%Y-%m"
    elif days > 2:
        stamps = pd.date_range(a.normalize(), b, freq=f"{max(1, math.ceil(days / 10))}D", tz="UTC")
        label = "%m-%d"
    else:
        stamps = pd.date_range(a.floor("h"), b, freq=f"{max(1, math.ceil(days * 24 / 10))}h", tz="UTC")
        label = "%d %H:%M"
    return [(int(s.value), s.strftime(label)) for s in stamps if t0 <= s.value <= t1]


class _Frame:
    """Maps time and value to SVG coordinates for one chart."""

    def __init__(self, t0: int, t1: int, lo: float, hi: float, height: int, left: int = 64, top: int = 10,
                 bottom: int = 24) -> None:
        if hi <= lo:
            lo, hi = lo - 1, hi + 1
        pad = (hi - lo) * 0.04
        self.t0, self.t1 = t0, max(t1, t0 + 1)
        self.lo, self.hi = lo - pad, hi + pad
        self.left, self.top, self.h = left, top, height
        self.pw, self.ph = W - left - 12, height - top - bottom

    def x(self, t: float) -> float:
        return self.left + (t - self.t0) / (self.t1 - self.t0) * self.pw

    def y(self, v: float) -> float:
        return self.top + self.ph - (v - self.lo) / (self.hi - self.lo) * self.ph

    def axes(self, value_fmt) -> list[str]:
        out = [f'<rect x="{self.left}" y="{self.top}" width="{self.pw}" height="{self.ph}" class="plot"/>']
        for v in _nice_ticks(self.lo, self.hi):
            y = self.y(v)
            out.append(f'<line x1="{self.left}" x2="{self.left + self.pw}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                       f'<text x="{self.left - 5}" y="{y + 3:.1f}" class="yl">{escape(value_fmt(v))}</text>')
        for t, label in _time_ticks(self.t0, self.t1):
            x = self.x(t)
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{self.top}" y2="{self.top + self.ph}" class="grid"/>'
                       f'<text x="{x:.1f}" y="{self.h - 6}" class="xl">{escape(label)}</text>')
        return out

    def path(self, ts: np.ndarray, vs: np.ndarray) -> str:
        parts, pen = [], "M"
        for t, v in zip(ts.tolist(), vs.tolist()):
            if not math.isfinite(v):
                pen = "M"
                continue
            parts.append(f"{pen}{self.x(t):.1f},{self.y(v):.1f}")
            pen = "L"
        return "".join(parts)


def _hover(chart_id: str, frame: _Frame, ts: np.ndarray, vs: np.ndarray, value_fmt, with_time: bool) -> tuple[str, str]:
    """The hover overlay (a line and a read-out) and its data island."""
    data = {"px": [round(frame.x(t), 1) for t in ts.tolist()],
            "t": [_iso(t, with_time) for t in ts.tolist()],
            "v": [value_fmt(v) for v in vs.tolist()]}
    overlay = (f'<line class="hover-line" x1="0" x2="0" y1="{frame.top}" y2="{frame.top + frame.ph}"/>'
               f'<text class="hover-tip" x="{frame.left + 6}" y="{frame.top + 14}"></text>')
    island = f'<script type="application/json" id="{chart_id}-data">{_json(data)}</script>'
    return overlay, island


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True).replace("</", "<\\/")


def _svg(chart_id: str, height: int, body: list[str], label: str, hover: bool = True) -> str:
    attr = f' data-hover="{chart_id}-data"' if hover else ""
    return (f'<svg id="{chart_id}" class="chart" viewBox="0 0 {W} {height}" width="{W}" height="{height}" '
            f'role="img" aria-label="{escape(label)}"{attr}>' + "".join(body) + "</svg>")


# ---------------------------------------------------------------- sections


def equity_charts(result) -> tuple[str, str, str]:
    eq = result.equity
    if eq is None or len(eq) == 0:
        return "", "", ""
    t, v = _ns(eq["time"]), eq["equity"].to_numpy(dtype=float)
    with_time = _intraday(t)
    money = lambda x: f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"  # noqa: E731
    bt, bv = _bucket(t, v)
    fr = _Frame(int(t[0]), int(t[-1]), float(np.nanmin(v)), float(np.nanmax(v)), 260)
    cap = float(result.metrics.get("capital", v[0]))
    body = fr.axes(money)
    if fr.lo <= cap <= fr.hi:
        body.append(f'<line x1="{fr.left}" x2="{fr.left + fr.pw}" y1="{fr.y(cap):.1f}" y2="{fr.y(cap):.1f}" class="ref"/>')
    body.append(f'<path d="{fr.path(bt, bv)}" class="line equity"/>')
    overlay, island1 = _hover("equity", fr, bt, bv, money, with_time)
    equity_svg = _svg("equity", 260, body + [overlay], "equity over time")
    peak = np.fmax.accumulate(np.where(np.isfinite(v), v, -np.inf))
    dd = np.where(peak > 0, v / peak - 1, 0.0)
    dt, dv = _bucket(t, dd)
    fr2 = _Frame(int(t[0]), int(t[-1]), float(np.nanmin(dv)), 0.0, 150)
    area = fr2.path(dt, dv)
    pct = lambda x: f"{x * 100:.1f}%"  # noqa: E731
    body2 = fr2.axes(pct)
    if area:
        body2.append(f'<path d="{area}L{fr2.x(dt[-1]):.1f},{fr2.y(0):.1f}L{fr2.x(dt[0]):.1f},{fr2.y(0):.1f}Z" class="area dd"/>')
    overlay2, island2 = _hover("drawdown", fr2, dt, dv, pct, with_time)
    return equity_svg, _svg("drawdown", 150, body2 + [overlay2], "drawdown from the running peak"), island1 + island2


SLOT_COLOURS = ("#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#5d4037", "#455a64")


def slot_section(result) -> tuple[list[list[str]], str]:
    """A plan's slots: one row each (what it ran, its share, what it did) and their equity curves
    in one chart (each slot's sub-book, rebalancing transfers included)."""
    slots = getattr(result, "slots", None)
    if not slots:
        return [], ""
    rows = []
    for i, (name, s) in enumerate(slots.items()):
        holds = sorted(s.get("hold_reasons", {}).items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        rows.append([name, s["strategy"], fmt(s["allocation"], "pct"), s.get("cadence") or "every bar",
                     str(s.get("orders", "")), str(s["trades"]), fmt(float(s["pnl"]), "money"),
                     fmt(float(s["final_equity"]), "money"), fmt(float(s["transfers"]), "money"),
                     fmt(float(s.get("avg_exposure", 0.0)), "pct"), fmt(float(s.get("time_in_market", 0.0)), "pct"),
                     ", ".join(f"{k} {v}" for k, v in holds) or "—", SLOT_COLOURS[i % len(SLOT_COLOURS)]])
    eq = result.equity
    cols = [f"equity.{name}" for name in slots if f"equity.{name}" in eq]
    if eq is None or len(eq) == 0 or not cols:
        return rows, ""
    t = _ns(eq["time"])
    series = [eq[c].to_numpy(dtype=float) for c in cols]
    lo = min(float(np.nanmin(v)) for v in series)
    hi = max(float(np.nanmax(v)) for v in series)
    fr = _Frame(int(t[0]), int(t[-1]), lo, hi, 240)
    money = lambda x: f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}"  # noqa: E731
    body = fr.axes(money)
    for i, v in enumerate(series):
        bt, bv = _bucket(t, v)
        body.append(f'<path d="{fr.path(bt, bv)}" class="line" style="stroke:{SLOT_COLOURS[i % len(SLOT_COLOURS)]}"/>')
    return rows, _svg("slots", 240, body, "each slot's equity over time", hover=False)


def price_chart(result, prices: pd.DataFrame | None) -> tuple[str, str, str]:
    """Price line (when a price series is known) with entry and exit markers; returns (svg, islands, note)."""
    tr = result.trades
    marks: list[tuple[int, float, str, str]] = []  # time, price, kind, title
    if tr is not None and len(tr):
        et, xt = _ns(tr["entry_time"]), _ns(tr["exit_time"]) if tr["exit_time"].notna().any() else None
        for i, row in enumerate(tr.itertuples(index=False)):
            buy = row.side == "long"
            marks.append((int(et[i]), float(row.entry_price), "buy" if buy else "sell",
                          f"trade {row.trade} {row.side} entry {float(row.entry_price):,.2f}"))
            if xt is not None and pd.notna(row.exit_time) and math.isfinite(float(row.exit_price)):
                marks.append((int(xt[i]), float(row.exit_price), "sell" if buy else "buy",
                              f"trade {row.trade} exit {float(row.exit_price):,.2f} ({row.exit_reason})"))
    note = ""
    if prices is None or len(prices) == 0:
        note = "The price series was not available for this result; the chart shows fill prices only."
        if not marks:
            return "", "", note
    t = _ns(prices["time"]) if prices is not None and len(prices) else np.array([m[0] for m in marks], dtype=np.int64)
    v = prices["close"].to_numpy(dtype=float) if prices is not None and len(prices) else np.array([m[1] for m in marks])
    allv = np.concatenate([v[np.isfinite(v)], np.array([m[1] for m in marks], dtype=float)])
    t0 = int(min(t.min(), min((m[0] for m in marks), default=t.min())))
    t1 = int(max(t.max(), max((m[0] for m in marks), default=t.max())))
    fr = _Frame(t0, t1, float(allv.min()), float(allv.max()), 320)
    money = lambda x: f"{x:,.2f}" if abs(x) < 1000 else f"{x:,.0f}"  # noqa: E731
    body = fr.axes(money)
    islands = ""
    if prices is not None and len(prices):
        bt, bv = _bucket(t, v)
        body.append(f'<path d="{fr.path(bt, bv)}" class="line price"/>')
    for when, price, kind, title in marks[: 2 * MAX_TRADE_ROWS]:
        x, y = fr.x(when), fr.y(price)
        pts = f"{x:.1f},{y - 7:.1f} {x - 5:.1f},{y + 2:.1f} {x + 5:.1f},{y + 2:.1f}" if kind == "buy" else \
            f"{x:.1f},{y + 7:.1f} {x - 5:.1f},{y - 2:.1f} {x + 5:.1f},{y - 2:.1f}"
        body.append(f'<polygon points="{pts}" class="mark {kind}"><title>{escape(title)}</title></polygon>')
    if prices is not None and len(prices):
        overlay, islands = _hover("price", fr, *_bucket(t, v), money, _intraday(t))
        body.append(overlay)
    return _svg("price", 320, body, "price with trade entries and exits", hover=bool(islands)), islands, note


def monthly_returns(result) -> dict[str, Any] | None:
    eq = result.equity
    if eq is None or len(eq) == 0:
        return None
    s = pd.Series(eq["equity"].to_numpy(dtype=float), index=pd.DatetimeIndex(pd.to_datetime(eq["time"], utc=True)))
    month_end = s.groupby([s.index.year, s.index.month]).last()
    start = float(result.metrics.get("capital", s.iloc[0]))
    prev = start
    cells: dict[tuple[int, int], float] = {}
    for (y, m), v in month_end.items():
        cells[(int(y), int(m))] = v / prev - 1 if prev else math.nan
        prev = v
    years = sorted({y for y, _ in cells})
    worst = max((abs(r) for r in cells.values() if math.isfinite(r)), default=0.0) or 1.0
    rows = []
    for y in years:
        row = []
        for m in range(1, 13):
            r = cells.get((y, m))
            row.append(None if r is None else {"text": f"{r * 100:.1f}", "style": _heat(r, worst),
                                               "title": f"{calendar.month_abbr[m]} {y}: {r * 100:.2f}%"})
        total = math.prod(1 + cells[(y, m)] for m in range(1, 13) if (y, m) in cells) - 1
        rows.append({"year": y, "cells": row, "total": f"{total * 100:.1f}%"})
    return {"months": [calendar.month_abbr[m] for m in range(1, 13)], "rows": rows}


def _heat(r: float, scale: float) -> str:
    if not math.isfinite(r):
        return "background:#eee"
    if r == 0:
        return "background:#fafafa;color:#999"
    a = min(1.0, abs(r) / scale)
    base = (46, 125, 50) if r >= 0 else (198, 40, 40)
    rgb = tuple(round(255 + (c - 255) * (0.15 + 0.85 * a)) for c in base)
    return f"background:#{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}" + (";color:#fff" if a > 0.6 else "")


def trade_rows(result) -> tuple[list[tuple[str, bool]], list[list[str]], int]:
    """(columns as (header, numeric), rows, number of trades): the usual columns, with the slot
    and instrument of a plan or basket first, and a pair's spread at entry and exit."""
    tr = result.trades
    if tr is None or len(tr) == 0:
        return [], [], 0
    tags = [c for c in ("slot", "instrument") if c in tr]
    pair = "entry_spread" in tr
    cols = [("#", True)] + [(c, False) for c in tags] + [
        ("side", False), ("entry", False), ("entry price", True), ("units", True), ("exit", False),
        ("exit price", True), ("commission", True), ("pnl", True), ("return", True), ("bars", True),
        ("exit reason", False)]
    if pair:
        cols += [("hedge", False), ("spread in", True), ("spread out", True)]
    rows = []
    for row in tr.head(MAX_TRADE_ROWS).to_dict("records"):
        reason = row.get("exit_reason")
        cells = [str(row["trade"])] + [str(row[c]) for c in tags] + [
            str(row["side"]), _time_text(row["entry_time"]), fmt(float(row["entry_price"]), "money"),
            fmt(float(row["units"])), _time_text(row["exit_time"]), fmt(float(row["exit_price"]), "money"),
            fmt(float(row["commission"]), "money"), fmt(float(row["pnl"]), "money"), fmt(float(row["return"]), "pct"),
            str(row["bars_held"]), reason if isinstance(reason, str) else "open"]
        if pair:
            hedge = row.get("hedge_instrument")
            cells += [hedge if isinstance(hedge, str) else "—", _pct_or_dash(row.get("entry_spread")),
                      _pct_or_dash(row.get("exit_spread"))]
        rows.append(cells)
    return cols, rows, len(tr)


def _pct_or_dash(v: Any) -> str:
    return "—" if v is None or pd.isna(v) else f"{float(v) * 100:.3f}%"


def _time_text(v: Any) -> str:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return "open"
    t = pd.Timestamp(v)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.strftime("%Y-%m-%d %H:%M") if (t.hour or t.minute) else t.strftime("%Y-%m-%d")


def hold_rows(result) -> list[dict[str, Any]]:
    by_label = {r.label: DESCRIPTIONS.get(r, "") for r in HoldReason}
    total = sum(result.holds.values()) or 1
    top = max(result.holds.values(), default=1) or 1
    return [{"reason": k, "count": v, "share": f"{v / total * 100:.1f}%", "width": round(v / top * 300, 1),
             "meaning": by_label.get(k, "")} for k, v in sorted(result.holds.items(), key=lambda kv: (-kv[1], kv[0]))]


def _records(obj: Any) -> list[dict[str, Any]] | None:
    if obj is None:
        return None
    if isinstance(obj, pd.DataFrame):
        return obj.to_dict("records")
    out = []
    for item in obj:
        if is_dataclass(item):
            item = asdict(item)
        elif not isinstance(item, dict):
            item = dict(getattr(item, "__dict__", {}))
        out.append(item)
    return out


def risk_section(result) -> dict[str, Any]:
    """Risk events (a table) and the severity timeline (one band per limit), from the result's
    ``risk_events`` and ``severity`` if it has them."""
    events = _records(getattr(result, "risk_events", None))
    changes = _records(getattr(result, "severity", None)) or []
    summary = {k: _cell(v) for k, v in (getattr(result, "risk", None) or {}).items()}
    if not events and not changes:
        return {"present": False, "summary": summary}
    events = events or []
    cols = [c for c in ("time", "limit", "severity", "action", "value", "threshold", "detail") if any(c in e for e in events)]
    cols += sorted({k for e in events for k in e} - set(cols) - {"fingerprint"})
    rows = [[_cell(e.get(c)) for c in cols] for e in events[:MAX_TRADE_ROWS]]
    eq_t = _ns(result.equity["time"]) if result.equity is not None and len(result.equity) else np.array([0, 1])
    t0, t1 = int(eq_t[0]), int(eq_t[-1])
    if not changes:  # derive the timeline from the events' own severities
        changes = [{"time": e.get("time"), "limit": e.get("limit", "risk"), "to": e.get("severity")}
                   for e in events if e.get("severity")]
    lanes: dict[str, list[tuple[int, str]]] = {}
    for c in changes:
        to = c.get("to") or c.get("severity") or c.get("level")
        if c.get("time") is None or to is None:
            continue
        lanes.setdefault(str(c.get("limit", "risk")), []).append((int(_ns([c["time"]])[0]), str(to)))
    return {"present": True, "summary": summary, "columns": cols, "rows": rows, "count": len(events),
            "timeline": severity_svg(lanes, t0, t1) if lanes else ""}


def _cell(v: Any) -> str:
    if isinstance(v, pd.Timestamp):
        return _time_text(v)
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_cell(x)}" for k, x in sorted(v.items())) or "none"
    if isinstance(v, float):
        return fmt(v)
    return "—" if v is None else str(v)


def severity_svg(lanes: dict[str, list[tuple[int, str]]], t0: int, t1: int) -> str:
    names = sorted(lanes)
    lane_h, left, top = 20, 190, 8
    height = top + lane_h * (len(names) + 1) + 24
    fr = _Frame(t0, t1, 0, 1, height, left=left, top=top, bottom=24)
    body = [f'<text x="{left - 6}" y="{top + 14}" class="yl">overall (worst)</text>']
    overall: list[tuple[int, int, str]] = []
    for i, name in enumerate(names, 1):
        y = top + i * lane_h
        body.append(f'<text x="{left - 6}" y="{y + 14}" class="yl">{escape(name)}</text>')
        steps = sorted(lanes[name])
        spans = [(t0, steps[0][0], "GREEN")] if steps and steps[0][0] > t0 else []
        for (a, level), nxt in zip(steps, steps[1:] + [(t1, "")]):
            spans.append((max(a, t0), min(nxt[0], t1), level))
        for a, b, level in spans:
            overall.append((a, b, level))
            body.append(f'<rect x="{fr.x(a):.1f}" y="{y + 3}" width="{max(fr.x(b) - fr.x(a), 2.0):.1f}" '
                        f'height="{lane_h - 6}" fill="{SEVERITY_COLORS.get(level.upper(), "#888")}">'
                        f'<title>{escape(name)} {escape(level)} from {_iso(a, True)}</title></rect>')
    rank = {"GREEN": 0, "YELLOW": 1, "RED": 2}
    cuts = sorted({t0, t1} | {a for a, _, _ in overall} | {b for _, b, _ in overall})
    for a, b in zip(cuts, cuts[1:]):
        levels = [lv for x, y, lv in overall if x <= a < y]
        worst = max(levels, key=lambda lv: rank.get(lv.upper(), 0), default="GREEN")
        body.append(f'<rect x="{fr.x(a):.1f}" y="{top + 3}" width="{max(fr.x(b) - fr.x(a), 2.0):.1f}" '
                    f'height="{lane_h - 6}" fill="{SEVERITY_COLORS.get(worst.upper(), "#888")}"/>')
    for t, label in _time_ticks(t0, t1):
        body.append(f'<text x="{fr.x(t):.1f}" y="{height - 6}" class="xl">{escape(label)}</text>')
    return _svg("severity", height, body, "severity timeline per limit", hover=False)


def _intraday(t: np.ndarray) -> bool:
    return bool(len(t) and np.any(t % 86_400_000_000_000))


# ---------------------------------------------------------------- prices


def load_prices(result) -> pd.DataFrame | None:
    """The primary instrument's closes for the chart: from the result if it carries them,
    else from the recorded data file when its sha256 still matches the one the run used."""
    for name in ("prices", "bars"):
        df = getattr(result, name, None)
        if isinstance(df, pd.DataFrame) and {"time", "close"} <= set(df.columns):
            return df[["time", "close"]]
    row = next((d for d in (result.data or []) if d.get("instrument") == result.instrument), None)
    if not row or not row.get("source") or not Path(row["source"]).is_file():
        return None
    raw = Path(row["source"]).read_bytes()
    if hashlib.sha256(raw).hexdigest() != row.get("sha256"):
        return None
    from interpreter.data import load_bars, resample

    try:
        bars = load_bars(row["source"], timeframe=row.get("timeframe"), policy=result.settings.get("policy", "fail"))
        tf = result.settings.get("timeframe")
        if tf and bars.timeframe and tf != bars.timeframe:
            bars = resample(bars, tf)
    except Exception:  # noqa: BLE001 - a chart is optional; the report says the series is missing
        return None
    t = _ns(result.equity["time"])
    keep = np.isin(bars.ts, t)
    return pd.DataFrame({"time": pd.to_datetime(bars.ts[keep], unit="ns", utc=True), "close": bars.close[keep]})


# ---------------------------------------------------------------- page


@lru_cache(maxsize=1)
def _template():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(str(Path(__file__).with_name("templates"))), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    return env.get_template("report.html.j2")


def _explain_parts(explain_html: str | None) -> tuple[str, str]:
    """(style, body) of an explain document: a whole page or a fragment."""
    if not explain_html:
        return "", ""
    m = re.search(r"<body[^>]*>(.*)</body>", explain_html, re.S | re.I)
    if not m:
        return "", explain_html
    styles = "".join(re.findall(r"<style[^>]*>(.*?)</style>", explain_html.split("<body", 1)[0], re.S | re.I))
    return styles, m.group(1)


def render_report(result, explain_html: str | None = None, *, prices: pd.DataFrame | None = None) -> str:
    """The report page for ``result``; ``explain_html`` (``ExplainDoc.to_html(fragment=True)``
    or a whole explain page) becomes the appendix. ``prices`` (columns time, close) overrides
    the price series found by ``load_prices``."""
    prices = prices if prices is not None else load_prices(result)
    equity_svg, dd_svg, islands = equity_charts(result)
    price_svg, price_island, price_note = price_chart(result, prices)
    trade_cols, rows, n_trades = trade_rows(result)
    slot_rows, slot_svg = slot_section(result)
    style, appendix = _explain_parts(explain_html)
    m = result.metrics
    metrics = [(label, fmt(m.get(k), kind)) for k, label, kind in _METRICS if k in m]
    metrics += [(k, fmt(v)) for k, v in sorted(m.items()) if k not in {x[0] for x in _METRICS}]
    period = (f"{result.data[0]['first']} to {result.data[0]['last']}" if result.data else "")
    return _template().render( r=result, period=period, metrics=metrics, equity_svg=equity_svg, dd_svg=dd_svg,
        price_svg=price_svg, price_note=price_note, islands=islands + price_island, monthly=monthly_returns(result),
        trades=rows, trade_cols=trade_cols, n_trades=n_trades, slot_rows=slot_rows, slot_svg=slot_svg, max_rows=MAX_TRADE_ROWS, holds=hold_rows(result), risk=risk_section(result),
        settings=json.dumps(result.settings, sort_keys=True, default=str), explain_style=style, appendix=appendix)


def write_report(result, path: str | Path, explain_html: str | None = None, **kw: Any) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_report(result, explain_html, **kw), encoding="utf-8")
    return p


def read_result(results_dir: str | Path):
    """A ``Result`` read back from the files ``Result.write`` made (for ``tradespec report DIR``)."""
    from interpreter.results import Result

    d = Path(results_dir)
    doc = json.loads((d / "metrics.json").read_text(encoding="utf-8"))

    def csv(name: str, times: tuple[str, ...]) -> pd.DataFrame | None:
        p = d / f"{name}.csv"
        if not p.is_file():
            return None
        df = pd.read_csv(p)
        for c in times:
            if c in df:
                df[c] = pd.to_datetime(df[c], utc=True)
        return df

    res = Result(doc["target"], doc["fingerprint"], doc.get("mode", "backtest"), doc.get("instrument", ""),
                 doc["metrics"], csv("trades", ("entry_time", "exit_time")), csv("fills", ("time", "decided_time")),
                 csv("equity", ("time",)), doc.get("hold_reasons", {}), doc.get("data", []), doc.get("settings", {}),
                 doc.get("notes", []))
    for name in ("risk_events", "severity"):
        df = csv(name, ("time",))
        if df is not None and hasattr(res, name):
            setattr(res, name, df)
    if doc.get("risk") and hasattr(res, "risk"):
        res.risk = doc["risk"]
    return res
