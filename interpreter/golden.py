"""Golden regression runs: each case of a suite backtested and compared with its golden result.

Metrics compare within the suite's tolerances (relative, with an absolute floor); trades
compare exactly, row by row. ``update=True`` rewrites the goldens instead. A case whose
golden is missing is reported as ``new`` (and written with ``update``).
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd


@dataclass
class CaseOutcome:
    name: str
    status: str  # ok | changed | new | error | updated
    moved: list[tuple[str, Any, Any]] = field(default_factory=list)  # (what, golden, now)
    error: str | None = None


@dataclass
class RegressReport:
    suite: str
    outcomes: list[CaseOutcome]

    @property
    def ok(self) -> bool:
        return all(o.status in ("ok", "updated") for o in self.outcomes)

    def render(self) -> str:
        width = max(len(o.name) for o in self.outcomes)
        lines = [f"suite {self.suite}: {len(self.outcomes)} cases"]
        for o in self.outcomes:
            lines.append(f"  {o.name:<{width}}  {o.status}")
            for what, old, new in o.moved[:12]:
                lines.append(f"      {what}: {_fmt(old)} -> {_fmt(new)}{_delta(old, new)}")
            if len(o.moved) > 12:
                lines.append(f"      ... and {len(o.moved) - 12} more")
            if o.error:
                lines.append(f"      {o.error}")
        bad = [o for o in self.outcomes if o.status not in ("ok", "updated")]
        lines.append("all cases match their goldens" if not bad else
                     f"{len(bad)} case(s) moved or failed; rerun with --update to accept, after review")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"suite": self.suite, "ok": self.ok, "cases": [
            {"name": o.name, "status": o.status, "error": o.error,
             "moved": [{"what": w, "golden": a, "now": b} for w, a, b in o.moved]} for o in self.outcomes]}


def _fmt(v: Any) -> str:
    return f"{v:.10g}" if isinstance(v, float) else str(v)


def _delta(old: Any, new: Any) -> str:
    if isinstance(old, (int, float)) and isinstance(new, (int, float)) and old not in (0, None):
        return f" ({(new - old) / abs(old) * 100:+.4g}%)"
    return ""


def compare_metrics(golden: dict[str, Any], now: dict[str, Any], rel: float, abs_: float,
                    per_metric: dict[str, float]) -> list[tuple[str, Any, Any]]:
    moved = []
    for key in sorted(set(golden) | set(now)):
        a, b = golden.get(key), now.get(key)
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            tol = per_metric.get(key, rel)
            if not math.isclose(a, b, rel_tol=tol, abs_tol=abs_):
                moved.append((f"metric {key}", a, b))
        elif a != b:
            moved.append((f"metric {key}", a, b))
    return moved


def compare_trades(golden_csv: Path, now_csv: Path, what: str = "trade") -> list[tuple[str, Any, Any]]:
    """Row-by-row exact comparison of two CSV files (a missing file has no rows)."""
    def read(p: Path) -> pd.DataFrame:
        return pd.read_csv(p, dtype=str, keep_default_na=False) if p.exists() else pd.DataFrame()

    g, n = read(golden_csv), read(now_csv)
    moved: list[tuple[str, Any, Any]] = []
    if len(g) != len(n):
        moved.append((f"{what} count", len(g), len(n)))
    for i in range(min(len(g), len(n))):
        a, b = g.iloc[i].to_dict(), n.iloc[i].to_dict()
        if a != b:
            diff = [k for k in a if a.get(k) != b.get(k)]
            moved.append((f"{what} {i + 1} {','.join(diff)}", {k: a.get(k) for k in diff}, {k: b.get(k) for k in diff}))
    return moved


def run_suite(suite, folder: Path, run_case: Callable[[Any, Path], Any], *, update: bool = False,
              only: list[str] | None = None) -> RegressReport:
    """``run_case(case, root) -> Result``; goldens live in ``folder / suite.goldens / case.name``."""
    root = (folder / suite.root).resolve()
    goldens = folder / suite.goldens
    outcomes = []
    for case in suite.cases:
        if only and case.name not in only:
            continue
        target = goldens / case.name
        try:
            result = run_case(case, root)
        except Exception as exc:  # a case that cannot run is reported, the others still run
            msg = getattr(exc, "diagnostics", None)
            text = "; ".join(f"{d.code} {d.message}" for d in msg) if msg else f"{type(exc).__name__}: {exc}"
            outcomes.append(CaseOutcome(case.name, "error", error=text))
            continue
        tmp = goldens / f".{case.name}.new"
        if tmp.exists():
            shutil.rmtree(tmp)
        result.write(tmp)
        (tmp / "equity.csv").unlink()  # goldens pin metrics, trades and fills; equity is derived from fills
        if update or not (target / "metrics.json").exists():
            status = "updated" if update else "new"
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)
            outcomes.append(CaseOutcome(case.name, status))
            continue
        golden = json.loads((target / "metrics.json").read_text())
        now = json.loads((tmp / "metrics.json").read_text())
        tol = suite.tolerances
        moved = compare_metrics(golden["metrics"], now["metrics"], tol.rel, tol.abs, tol.metrics)
        if golden.get("fingerprint") != now.get("fingerprint"):
            moved.insert(0, ("fingerprint", golden.get("fingerprint", "")[:12], now.get("fingerprint", "")[:12]))
        if golden.get("hold_reasons") != now.get("hold_reasons"):
            moved.append(("hold_reasons", golden.get("hold_reasons"), now.get("hold_reasons")))
        moved += compare_trades(target / "trades.csv", tmp / "trades.csv")
        if (target / "risk_events.csv").exists() or (tmp / "risk_events.csv").exists():
            moved += compare_trades(target / "risk_events.csv", tmp / "risk_events.csv", what="risk event")
        if golden.get("risk") != now.get("risk"):
            moved.append(("risk", golden.get("risk"), now.get("risk")))
        shutil.rmtree(tmp)
        outcomes.append(CaseOutcome(case.name, "ok" if not moved else "changed", moved))
    return RegressReport(suite.suite, outcomes)
