"""The decision log: every signal, decision, risk check, order, fill and risk event, in order.

Schema ``tradespec.decisions/1`` (docs/decision-log.md): one JSON object per line with
``v`` (schema version), ``seq`` (0, 1, 2, ...), ``ts`` (the bar's timestamp from the data,
ISO 8601 UTC), ``bar`` (index), ``fp`` (12-character spec fingerprint) and ``type``, then
the type's fields. Keys are sorted and floats written in shortest round-trip form, so the
same run writes the same bytes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

SCHEMA = "tradespec.decisions/1"
TYPES = ("session", "signal", "decision", "risk_check", "order", "fill", "risk_event", "daily_reset")


def _clean(v: Any) -> Any:
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (np.floating,)):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


class DecisionLog:
    """Collects events in memory during a run; written once at the end (JSONL)."""

    def __init__(self, fingerprint: str) -> None:
        self.fp = fingerprint[:12]
        self.events: list[tuple[str, int, dict[str, Any]]] = []

    def add(self, kind: str, bar: int, data: dict[str, Any]) -> None:
        self.events.append((kind, bar, data))

    def lines(self, ts: np.ndarray, header: dict[str, Any] | None = None) -> list[str]:
        from interpreter.results import iso

        out = []
        seq = 0
        if header is not None:
            out.append(json.dumps(_clean({"v": 1, "schema": SCHEMA, "seq": seq, "type": "session", "fp": self.fp,
                                          **header}), sort_keys=True, allow_nan=False))
            seq += 1
        for kind, bar, data in self.events:
            row = {"v": 1, "seq": seq, "type": kind, "bar": bar, "ts": iso(int(ts[bar])), "fp": self.fp,
                   **_clean(data)}
            out.append(json.dumps(row, sort_keys=True, allow_nan=False))
            seq += 1
        return out

    def write(self, path: str | Path, ts: np.ndarray, header: dict[str, Any] | None = None) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("\n".join(self.lines(ts, header)) + "\n", encoding="utf-8")
        return p

    def at(self, bar: int) -> list[tuple[str, dict[str, Any]]]:
        return [(k, d) for k, b, d in self.events if b == bar]


class TaggedLog:
    """One engine's (or gate's) view of a shared log in a run over several instruments or slots:
    its bar indices are moved onto the shared timeline (``gidx``: local bar -> shared index) and
    every event says who decided (``instrument``, ``slot``), so one JSONL tells them apart."""

    def __init__(self, log: DecisionLog, tags: dict[str, str], gidx: np.ndarray | None = None) -> None:
        self.log, self.tags, self.gidx = log, tags, gidx

    def add(self, kind: str, bar: int, data: dict[str, Any]) -> None:
        self.log.add(kind, bar if self.gidx is None else int(self.gidx[bar]), {**self.tags, **data})
