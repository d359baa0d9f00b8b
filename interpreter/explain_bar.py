"""``tradespec backtest --why``: one bar, told plainly."""

from __future__ import annotations

from typing import Any


def _fmt(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:,.6g}"
    return "n/a" if v is None else str(v)


def render_why(w: dict[str, Any]) -> str:
    lines = [f"bar {w['time']} (#{w['bar']})" + ("" if w["exact"] else f", the last bar at or before {w['asked']}")]
    lines.append(f"position: {w['position_units']:g} units; equity {w['equity']:,.2f}")
    sig = {k[len('signal.'):]: v for k, v in w["values"].items() if k.startswith("signal.")}
    if sig:
        lines.append("signals: " + ", ".join(f"{k} = {_fmt(v)}" for k, v in sig.items()))
    cond = {k: v for k, v in w["values"].items() if not k.startswith("signal.")}
    if cond:
        lines.append("conditions: " + ", ".join(f"{k} {_fmt(v)}" for k, v in cond.items()))
    if w["hold_reason"]:
        text = f"decision: held — {w['hold_reason']}"
        if w["detail"]:
            text += f" ({w['detail']})"
        lines.append(text)
        for o in w["other_reasons"]:
            lines.append(f"  also: {o['reason']}" + (f" ({o['detail']})" if o["detail"] else ""))
    else:
        orders = [e for e in w["events"] if e["type"] == "order"]
        if orders:
            for o in orders:
                lines.append(f"decision: {o['action']} ({o['side']}, {o['reason']}), fills on bar #{o['fill_bar']}")
        elif any(v is True for k, v in cond.items() if k.startswith("entry.")):
            lines.append("decision: entry condition held; see events")
        else:
            lines.append("decision: none (no entry or exit condition held)")
    for e in w["events"]:
        kind = e["type"]
        if kind == "risk_check" and e.get("action") == "pass":
            continue
        rest = {k: v for k, v in e.items() if k != "type"}
        if kind in ("signal", "order", "decision"):
            continue
        lines.append(f"{kind}: " + ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(rest.items())))
    for f in w["fills"]:
        lines.append(f"fill: {f['action']} {f['units']:g} @ {f['price']:,.6g} ({f['reason']})")
    return "\n".join(lines)
