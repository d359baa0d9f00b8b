"""``tradespec fuzzy``: evaluate a rule base with rule-by-rule activations, and picture it.

``evaluate`` runs rows in order from a fresh state (so ``lock_previous`` behaves as in a
run) and returns, per row, the outputs, how each was settled (rules, lock_previous,
default, none) and each rule's activation degree. ``plot_svg`` draws every variable's
membership functions (exact values from ``library.fuzzy.terms`` on a 400-point grid),
with the given inputs marked.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import numpy as np
import pandas as pd

from library.fuzzy import SOURCES, Engine, Evaluator, State
from library.fuzzy.terms import membership

_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def evaluate(engine_data: dict[str, Any], rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(outputs per row, activation per row and rule, rule labels)."""
    engine = Engine.from_data(engine_data)
    ev = Evaluator(engine)
    names = [v.name for v in engine.inputs]
    missing = [n for n in names if n not in rows.columns]
    if missing:
        raise KeyError(f"missing input(s) {missing}; the rule base's inputs are {names}")
    res = ev.evaluate({n: rows[n].to_numpy(dtype=float) for n in names}, State())
    out = rows[names].copy()
    for k, arr in res.outputs.items():
        out[k] = arr
        out[f"{k}_source"] = [SOURCES[int(c)] for c in np.asarray(res.source[k]).tolist()]
    act = pd.DataFrame(np.asarray(res.activation), columns=list(res.rules))
    return out, act, list(res.rules)


def render_eval(out: pd.DataFrame, act: pd.DataFrame, rules: list[str]) -> str:
    lines = []
    for i in range(len(out)):
        row = out.iloc[i]
        lines.append("inputs: " + ", ".join(f"{c} = {row[c]:g}" for c in out.columns
                                            if not c.endswith("_source") and f"{c}_source" not in out.columns))
        for c in out.columns:
            if f"{c}_source" in out.columns:
                v = row[c]
                lines.append(f"output {c} = {'NaN' if v != v else format(v, '.6g')} ({row[c + '_source']})")
        lines.append("rules (activation degree):")
        degrees = act.iloc[i].tolist()
        width = max((len(r) for r in rules), default=10)
        for r, d in zip(rules, degrees):
            mark = "fired" if d > 0 else "     "
            lines.append(f"  {d:6.3f}  {mark}  {r:<{width}}")
        if i + 1 < len(out):
            lines.append("")
    return "\n".join(lines) + "\n"


def plot_svg(engine_data: dict[str, Any], inputs: dict[str, float] | None = None, title: str = "") -> str:
    """One panel per variable: every term's membership over the variable's range."""
    engine = Engine.from_data(engine_data)
    variables = [("input", v) for v in engine.inputs] + [("output", v) for v in engine.outputs]
    w, h, pad = 560, 150, 40
    total_h = len(variables) * (h + 30) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{total_h}" '
             f'viewBox="0 0 {w} {total_h}" font-family="sans-serif" font-size="11">',
             f'<text x="{pad}" y="20" font-size="14">{escape(title or engine.name)}</text>']
    for k, (role, var) in enumerate(variables):
        top = 40 + k * (h + 30)
        lo, hi = float(var.range[0]), float(var.range[1])
        xs = np.linspace(lo, hi, 400)

        def sx(x: float) -> float:
            return pad + (x - lo) / (hi - lo) * (w - 2 * pad) if hi > lo else pad

        def sy(y: float) -> float:
            return top + h - y * (h - 20)

        parts.append(f'<text x="{pad}" y="{top + 8}">{escape(role)} {escape(var.name)} [{lo:g}, {hi:g}]</text>')
        parts.append(f'<line x1="{pad}" y1="{sy(0):.1f}" x2="{w - pad}" y2="{sy(0):.1f}" stroke="#999"/>')
        for j, term in enumerate(var.terms):
            if term.shape in ("constant", "linear", "function"):
                continue
            ys = membership(term.shape, tuple(term.params), float(term.height), xs)
            ys = np.clip(np.nan_to_num(ys, nan=0.0), 0.0, 1.0)
            pts = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in zip(xs.tolist(), ys.tolist()))
            color = _COLORS[j % len(_COLORS)]
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{pts}"/>')
            peak = float(xs[int(np.argmax(ys))])
            parts.append(f'<text x="{sx(peak):.1f}" y="{top + 20}" fill="{color}" text-anchor="middle">'
                         f'{escape(term.name)}</text>')
        if inputs and var.name in inputs and not math.isnan(inputs[var.name]):
            x = sx(min(max(inputs[var.name], lo), hi))
            parts.append(f'<line x1="{x:.1f}" y1="{top + 10}" x2="{x:.1f}" y2="{sy(0):.1f}" stroke="black" '
                         f'stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{pad}" y="{sy(0) + 14:.1f}">{lo:g}</text>'
                     f'<text x="{w - pad}" y="{sy(0) + 14:.1f}" text-anchor="end">{hi:g}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
