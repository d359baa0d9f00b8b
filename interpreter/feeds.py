"""Where paper mode's bars come from, one at a time.

* ``FileFeed`` — a CSV or Parquet file, loaded and checked like backtest data, then replayed
  at a pace: ``speed=0`` as fast as possible, ``speed=60`` sixty times real time.
* ``JsonLinesFeed`` — one JSON object per line (standard input): ``{"timestamp": ...,
  "open": ..., "high": ..., "low": ..., "close": ..., "volume": ...}`` with an optional
  ``"instrument"`` for another member of the universe.
* ``TailFeed`` — a CSV file that grows; new complete lines become bars; it ends after
  ``idle`` seconds without a new line.

A feed yields ``Bar`` records; checking them against the previous bar (order, duplicates,
gaps, bad values) is the session's job, so every feed gets the same policy.
"""

from __future__ import annotations

import io
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

import pandas as pd

from dsl.errors import Diagnostic, DslError
from interpreter.data import load_bars


@dataclass(frozen=True)
class Bar:
    ts: int  # bar-open time, ns UTC
    open: float
    high: float
    low: float
    close: float
    volume: float
    instrument: str | None = None  # None: the strategy's own instrument
    where: str = ""  # source position for messages ("stdin:12", "bars.csv:40")


def _ts(value: object) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        v = float(value)
        scale = 1 if v > 1e17 else 1_000 if v > 1e14 else 1_000_000 if v > 1e11 else 1_000_000_000
        return int(v * scale)
    stamp = pd.Timestamp(str(value))
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return int(stamp.value)


def bar_from_mapping(d: dict, where: str) -> Bar:
    """A Bar from a JSON object; a missing field or a non-number is a D-code error."""
    try:
        ts = _ts(d["timestamp"])
    except KeyError:
        raise DslError([Diagnostic("D102", f"{where}: bar has no 'timestamp'", _span(where),
                                   'write {"timestamp": "2019-11-03T14:05:00Z", "open": ..., ...}')]) from None
    except (ValueError, TypeError):
        raise DslError([Diagnostic("D103", f"{where}: cannot read timestamp {d.get('timestamp')!r}", _span(where),
                                   "use ISO 8601 with a zone, or epoch seconds/ms")]) from None
    vals = []
    for k in ("open", "high", "low", "close"):
        if k not in d:
            raise DslError([Diagnostic("D102", f"{where}: bar has no '{k}'", _span(where))])
        try:
            vals.append(float(d[k]))
        except (TypeError, ValueError):
            raise DslError([Diagnostic("D106", f"{where}: '{k}' is not a number: {d[k]!r}", _span(where))]) from None
    try:
        vol = float(d.get("volume", 0.0) or 0.0)
    except (TypeError, ValueError):
        vol = math.nan
    inst = d.get("instrument")
    return Bar(ts, *vals, vol, str(inst) if inst is not None else None, where)


def _span(where: str) -> None:
    """Feed positions go into the message text (``stdin:12``); diagnostics carry no file span."""
    return None


class FileFeed:
    def __init__(self, path: str | Path, *, timeframe: str | None = None, columns: dict | None = None,
                 policy: str = "fail", start=None, end=None, speed: float = 0.0,
                 instrument: str | None = None, resample_to: str | None = None) -> None:
        """``resample_to``: a strategy's timeframe; finer bars are gathered into it as backtest does."""
        self.path = str(path)
        self.bars = load_bars(path, timeframe=timeframe, columns=columns, policy=policy, start=start, end=end)
        if resample_to:
            from interpreter.data import resample_if_finer

            self.bars = resample_if_finer(self.bars, resample_to)
        self.speed = speed
        self.instrument = instrument
        self.source = {"kind": "file", "path": self.path, "sha256": self.bars.sha256, "speed": speed}

    def __iter__(self) -> Iterator[Bar]:
        b = self.bars
        ts, o, h, lo, c, v = (b.ts.tolist(), b.open.tolist(), b.high.tolist(), b.low.tolist(), b.close.tolist(),
                              b.volume.tolist())
        prev = None
        for i in range(len(ts)):
            if self.speed and prev is not None:
                time.sleep(max(0.0, (ts[i] - prev) / 1e9 / self.speed))
            prev = ts[i]
            yield Bar(ts[i], o[i], h[i], lo[i], c[i], v[i], self.instrument, f"{self.path}:{i + 2}")


class JsonLinesFeed:
    def __init__(self, stream: IO[str] | None = None, name: str = "stdin") -> None:
        import sys

        self.stream = stream if stream is not None else sys.stdin
        self.name = name
        self.source = {"kind": "jsonl", "path": name}

    def __iter__(self) -> Iterator[Bar]:
        for i, line in enumerate(self.stream, 1):
            text = line.strip()
            if not text:
                continue
            where = f"{self.name}:{i}"
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DslError([Diagnostic("D101", f"{where}: not a JSON object ({exc.msg})", _span(where),
                                           "one bar per line as a JSON object")]) from None
            if not isinstance(obj, dict):
                raise DslError([Diagnostic("D101", f"{where}: expected a JSON object, got {type(obj).__name__}",
                                           _span(where))])
            yield bar_from_mapping(obj, where)


class TailFeed:
    """Follow a CSV file as it grows (header first); stop after ``idle`` seconds of silence."""

    def __init__(self, path: str | Path, idle: float = 5.0, poll: float = 0.1) -> None:
        self.path = Path(path)
        self.idle = idle
        self.poll = poll
        self.source = {"kind": "tail", "path": str(path)}

    def __iter__(self) -> Iterator[Bar]:
        header: list[str] | None = None
        pos = 0
        line_no = 0
        buf = ""
        quiet_since = time.monotonic()
        while True:
            try:
                with open(self.path, encoding="utf-8") as fh:
                    fh.seek(pos)
                    chunk = fh.read()
                    pos = fh.tell()
            except FileNotFoundError:
                chunk = ""
            if chunk:
                quiet_since = time.monotonic()
                buf += chunk
                *complete, buf = buf.split("\n")
                for raw in complete:
                    line_no += 1
                    if not raw.strip():
                        continue
                    if header is None:
                        header = [h.strip() for h in raw.split(",")]
                        continue
                    row = next(iter(pd.read_csv(io.StringIO(raw), header=None, names=header, dtype=str)
                                    .to_dict("records")))
                    yield bar_from_mapping(row, f"{self.path}:{line_no}")
            elif time.monotonic() - quiet_since > self.idle:
                return
            else:
                time.sleep(self.poll)
