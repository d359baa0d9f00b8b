"""Data-quality checks for bar data: timeframes, row checks, gaps and the report.

Every check is vectorised over whole columns; only the findings that are shown
(at most ``max_findings`` per code) are formatted into messages. ``docs/data.md``
describes every check, the policies and the report format.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dsl.errors import CODES, Diagnostic
from dsl.source import Span

NS_PER_S = 1_000_000_000
DAY_NS = 86_400 * NS_PER_S
WEEK_NS = 7 * DAY_NS
#: 1970-01-05, the first Monday after the epoch: weekly bins start on Mondays.
WEEK_OFFSET_NS = 4 * DAY_NS

_UNITS = {"w": WEEK_NS, "d": DAY_NS, "h": 3600 * NS_PER_S, "m": 60 * NS_PER_S, "s": NS_PER_S}
_TF_RE = re.compile(r"^\s*([1-9][0-9]*)\s*(s|m|h|d|w)\s*$")

POLICIES = ("fail", "warn", "drop")
DEFAULT_MAX_FINDINGS = 20
#: Problems no policy can repair: the file is unusable.
ALWAYS_FATAL = frozenset({"D101", "D102", "D111"})
#: Time-axis problems: fatal under fail and warn (LoadedBars.ts is strictly increasing).
TIME_AXIS = frozenset({"D103", "D104", "D105"})
#: Row problems a policy can keep (warn) or drop (drop).
ROW_VALUE = frozenset({"D106", "D107", "D108", "D109"})
PRICE_COLUMNS = ("open", "high", "low", "close")


# --------------------------------------------------------------------------- timeframes

def parse_timeframe(text: str) -> int:
    """``"5m"`` -> 300_000_000_000 (nanoseconds). Units: s, m, h, d, w.

    >>> parse_timeframe("1d") == DAY_NS
    True
    """
    m = _TF_RE.match(str(text))
    if not m:
        raise ValueError(
            f"invalid timeframe {text!r}: expected a count and a unit, e.g. 1m, 5m, 1h, 4h, 1d, 1w "
            "(units s, m, h, d, w)"
        )
    return int(m.group(1)) * _UNITS[m.group(2)]


def format_timeframe(ns: int) -> str:
    """The shortest spelling of a period: 300 s -> ``"5m"``, 86400 s -> ``"1d"``.

    >>> format_timeframe(7 * DAY_NS), format_timeframe(90 * 60 * NS_PER_S)
    ('1w', '90m')
    """
    ns = int(ns)
    if ns <= 0:
        raise ValueError(f"timeframe must be positive, got {ns} ns")
    for unit, size in _UNITS.items():
        if ns % size == 0:
            return f"{ns // size}{unit}"
    return f"{ns}ns"


def infer_timeframe(ts: np.ndarray) -> str | None:
    """The median spacing of sorted, distinct timestamps, rounded to whole seconds.

    Daily data with weekends and holidays infers ``"1d"`` (most steps are one day).
    ``None`` when there are fewer than two distinct timestamps.
    """
    if len(ts) < 2:
        return None
    d = np.diff(np.asarray(ts, dtype=np.int64))
    d = d[d > 0]
    if len(d) == 0:
        return None
    med = int(np.median(d))
    if med >= NS_PER_S:
        med = int(round(med / NS_PER_S)) * NS_PER_S
    return format_timeframe(med)


# --------------------------------------------------------------------------- gaps

def find_gaps(ts: np.ndarray, timeframe: str | None) -> tuple[np.ndarray, np.ndarray]:
    """``(gap_after, missing)``: bar i follows a gap; ``missing[i]`` bars are absent before it.

    Intraday and other non-daily timeframes: ``round(step / timeframe) - 1`` bars are missing
    (rounding tolerates timestamp jitter). ``1d``: weekdays (Mon-Fri) strictly between two
    consecutive dates; weekends are never gaps, holidays are (no calendar is applied).
    """
    n = len(ts)
    missing = np.zeros(n, dtype=np.int64)
    if n >= 2 and timeframe:
        tf = parse_timeframe(timeframe)
        ts = np.asarray(ts, dtype=np.int64)
        if tf == DAY_NS:
            days = (ts // DAY_NS).astype("datetime64[D]")
            missing[1:] = np.busday_count(days[:-1] + np.timedelta64(1, "D"), days[1:])
        else:
            missing[1:] = np.rint(np.diff(ts) / tf).astype(np.int64) - 1
        np.maximum(missing, 0, out=missing)
    return missing > 0, missing


# --------------------------------------------------------------------------- formatting helpers

def iso(ns: int) -> str:
    """``2019-10-22T00:20:00+00:00`` for nanoseconds since the epoch (UTC)."""
    return pd.Timestamp(int(ns), tz="UTC").isoformat()


def num(x: float) -> str:
    """A float as Python writes it (``8207.25``, ``7267451.9000000004``, ``nan``)."""
    return repr(float(x))


def severity_for(code: str, policy: str) -> str:
    """How a policy treats a finding: ``error`` stops the load, ``warning`` does not."""
    if code == "D110":
        return "warning"
    if code in ALWAYS_FATAL or policy == "fail":
        return "error"
    if policy == "warn":
        return "error" if code in TIME_AXIS else "warning"
    return "warning"  # drop: the offending rows were removed (or, for D104, sorted)


# --------------------------------------------------------------------------- the report

@dataclass
class DataQualityReport:
    """What a load found in one data source. ``ok``: nothing the policy treats as an error.

    ``counts[code]`` is the number of offending rows (for D110: missing bars, with
    ``gap_events`` holes). ``findings`` lists at most ``max_findings`` diagnostics per code
    (in row order), then one ``... and N more`` diagnostic for the rest.
    """

    source: str
    policy: str = "fail"
    format: str | None = None
    sha256: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    timeframe: str | None = None
    timeframe_inferred: bool = False
    first: str | None = None
    last: str | None = None
    findings: list[Diagnostic] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    rows_dropped: int = 0
    sorted: bool = False
    gap_events: int = 0
    missing_bars: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    row_label: str = "line"  # "line" (CSV file line, header = 1) or "row" (Parquet, 1-based)
    max_findings: int = DEFAULT_MAX_FINDINGS

    # -- building
    def add(self, code: str, message: str, line: int | None = None, *, hint: str | None = None,
            severity: str | None = None, count: int = 1, notes: tuple[str, ...] = ()) -> None:
        """One finding, counted ``count`` times."""
        span = Span(self.source, int(line), 1, int(line), 2) if line is not None else None
        sev = severity or severity_for(code, self.policy)
        self.findings.append(Diagnostic(code, message, span, hint, sev, notes))
        self.counts[code] = self.counts.get(code, 0) + count

    def add_rows(self, code: str, rows: np.ndarray, lines: np.ndarray, message, *,
                 hint: str | None = None, weights: np.ndarray | None = None) -> None:
        """Findings for row positions ``rows`` (ascending); ``message(i)`` formats row ``i``.

        Only the first ``max_findings`` rows are formatted; the rest become one summary
        finding placed at the first row left out. ``weights`` (per row) adds to the count
        instead of 1 per row (used for missing bars).
        """
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return
        total = int(weights[rows].sum()) if weights is not None else len(rows)
        shown = rows[: self.max_findings]
        sev = severity_for(code, self.policy)
        for i in shown:
            span = Span(self.source, int(lines[i]), 1, int(lines[i]), 2)
            self.findings.append(Diagnostic(code, message(int(i)), span, hint, sev))
        rest = len(rows) - len(shown)
        if rest:
            first = int(lines[rows[len(shown)]])
            span = Span(self.source, first, 1, first, 2)
            what = CODES[code]
            self.findings.append(Diagnostic(
                code, f"... and {rest} more ({what}), {len(rows)} in total", span, None, sev))
        self.counts[code] = self.counts.get(code, 0) + total

    # -- reading
    @property
    def ok(self) -> bool:
        """True when no finding is an error under the policy (the data loads)."""
        return not any(d.is_error for d in self.findings)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.findings if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.findings if d.severity == "warning"]

    def ordered(self) -> list[Diagnostic]:
        """Findings by code, then by row (the order of ``to_dict`` and ``render``)."""
        return sorted(self.findings, key=lambda d: (d.code, d.span.line if d.span else 0, d.message))

    def to_dict(self) -> dict:
        """A JSON-ready dict with a fixed key set and deterministic ordering."""
        return {
            "source": self.source,
            "format": self.format,
            "sha256": self.sha256,
            "policy": self.policy,
            "ok": self.ok,
            "rows": {"read": self.rows_read, "loaded": self.rows_loaded, "dropped": self.rows_dropped},
            "row_label": self.row_label,
            "timeframe": self.timeframe,
            "timeframe_inferred": self.timeframe_inferred,
            "first": self.first,
            "last": self.last,
            "sorted": self.sorted,
            "gaps": {"events": self.gap_events, "missing_bars": self.missing_bars},
            "counts": {k: self.counts[k] for k in sorted(self.counts)},
            "dropped": {k: self.dropped[k] for k in sorted(self.dropped)},
            "ignored_columns": sorted(self.ignored_columns),
            "error_codes": sorted({d.code for d in self.errors}),
            "warning_codes": sorted({d.code for d in self.warnings}),
            "findings": [d.to_dict() for d in self.ordered()],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    def render(self, limit: int = 10) -> str:
        """A short human summary: header, one line per code, then the first ``limit`` findings."""
        out = [f"{self.source} ({self.format or '?'}"
               + (f", sha256 {self.sha256[:12]}" if self.sha256 else "") + ")"]
        tf = self.timeframe or "?"
        if self.timeframe and self.timeframe_inferred:
            tf += " (inferred)"
        line = f"rows: {self.rows_read} read, {self.rows_loaded} loaded"
        if self.rows_dropped:
            line += f", {self.rows_dropped} dropped"
        line += f"; timeframe {tf}"
        if self.first and self.last:
            line += f"; {self.first} -> {self.last}"
        out.append(line)
        verdict = "OK" if self.ok else "FAILED"
        errs = sorted({d.code for d in self.errors})
        warns = sorted({d.code for d in self.warnings})
        detail = "; ".join(p for p in (f"errors: {', '.join(errs)}" if errs else "",
                                       f"warnings: {', '.join(warns)}" if warns else "") if p)
        out.append(f"policy {self.policy}: {verdict}" + (f" ({detail})" if detail else ", no findings"))
        if self.counts:
            out.append("")
            out.append(f"{'code':<5} {'severity':<8} {'count':>7}  check")
            for code in sorted(self.counts):
                sevs = {d.severity for d in self.findings if d.code == code}
                sev = "error" if "error" in sevs else ("warning" if "warning" in sevs else "info")
                what = CODES.get(code, "")
                if code == "D110":
                    unit = "missing business days" if self.timeframe == "1d" else "missing bars"
                    what += f" ({unit} in {self.gap_events} gap{'s' * (self.gap_events != 1)})"
                if code in self.dropped:
                    k = self.dropped[code]
                    what += f"; {k} row{'s' * (k != 1)} dropped"
                if code == "D104" and self.sorted:
                    what += "; rows sorted"
                out.append(f"{code:<5} {sev:<8} {self.counts[code]:>7}  {what}")
        ordered = self.ordered()
        if ordered and limit:
            out.append("")
            for d in ordered[:limit]:
                where = f"{d.span.file}:{d.span.line}: " if d.span else ""
                sev = "" if d.severity == "error" else f"{d.severity}: "
                out.append(f"{where}{d.code} {sev}{d.message}")
            if len(ordered) > limit:
                k = len(ordered) - limit
                out.append(f"... {k} more finding{'s' * (k != 1)} (the JSON report lists all)")
        return "\n".join(out)


# --------------------------------------------------------------------------- row checks

@dataclass
class Rows:
    """Columns of the rows under check, in file order (blank rows and rows outside the
    start/end window already removed). ``ts`` is valid where ``ts_ok``."""

    lines: np.ndarray
    ts: np.ndarray
    ts_ok: np.ndarray
    ts_text: object  # callable: row -> raw timestamp text (only called for D103 messages)
    values: dict[str, np.ndarray]  # open, high, low, close, volume (float64)
    bad_text: dict[str, dict[int, str]]  # column -> {row: text that is not a number}


def check_rows(rows: Rows, report: DataQualityReport) -> dict[str, np.ndarray]:
    """Run D103-D109 over ``rows``; add findings to ``report``; return a row mask per code."""
    n = len(rows.lines)
    lines, ts = rows.lines, rows.ts
    masks: dict[str, np.ndarray] = {}
    unit = report.row_label

    # D103 unparseable timestamp
    bad_ts = ~rows.ts_ok
    masks["D103"] = bad_ts

    def d103(i: int) -> str:
        text = rows.ts_text(i)
        text = "" if text is None or pd.isna(text) else str(text)
        if not text.strip():
            return "empty timestamp"
        return f"cannot parse timestamp {text!r} (expected ISO 8601 or epoch seconds/milliseconds)"

    report.add_rows("D103", np.flatnonzero(bad_ts), lines, d103,
                    hint="timestamps must be ISO 8601 (2019-10-22T00:20:00+00:00; naive = UTC) or epoch numbers")

    # D104 unsorted / D105 duplicate: among rows with a valid timestamp, in file order
    vi = np.flatnonzero(rows.ts_ok)
    t = ts[vi]
    unsorted = np.zeros(n, dtype=bool)
    dup = np.zeros(n, dtype=bool)
    first_of = np.full(n, -1, dtype=np.int64)
    prev_of = np.full(n, -1, dtype=np.int64)
    if len(vi) >= 2:
        desc = np.flatnonzero(t[1:] < t[:-1])
        unsorted[vi[desc + 1]] = True
        prev_of[vi[desc + 1]] = vi[desc]
        order = np.argsort(t, kind="stable")
        st = t[order]
        same = np.zeros(len(st), dtype=bool)
        same[1:] = st[1:] == st[:-1]
        if same.any():
            run_start = np.maximum.accumulate(np.where(same, 0, np.arange(len(st))))
            dup[vi[order[same]]] = True
            first_of[vi[order[same]]] = vi[order[run_start[same]]]
    masks["D104"] = unsorted
    masks["D105"] = dup
    report.add_rows(
        "D104", np.flatnonzero(unsorted), lines,
        lambda i: f"timestamp {iso(ts[i])} is earlier than {iso(ts[prev_of[i]])} on {unit} {lines[prev_of[i]]}",
        hint="sort the file by timestamp, or load with --on-bad-data drop (sorts stably)")
    report.add_rows(
        "D105", np.flatnonzero(dup), lines,
        lambda i: f"duplicate timestamp {iso(ts[i])} (first at {unit} {lines[first_of[i]]})",
        hint="remove the repeated rows, or load with --on-bad-data drop (keeps the first)")

    # D106 missing / non-numeric / non-finite values
    v = rows.values
    nonfinite = {c: ~np.isfinite(v[c]) for c in (*PRICE_COLUMNS, "volume")}
    d106 = np.zeros(n, dtype=bool)
    for m in nonfinite.values():
        d106 |= m
    masks["D106"] = d106

    def d106_msg(i: int) -> str:
        parts = []
        for c in (*PRICE_COLUMNS, "volume"):
            if not nonfinite[c][i]:
                continue
            text = rows.bad_text.get(c, {}).get(i)
            if text is not None:
                parts.append(f"{c} {text!r} is not a number")
            elif np.isnan(v[c][i]):
                parts.append(f"{c} is missing")
            else:
                parts.append(f"{c} is {num(v[c][i])}")
        return "; ".join(parts)

    report.add_rows("D106", np.flatnonzero(d106), lines, d106_msg)

    # D107 non-positive prices, negative volume
    nonpos = {c: v[c] <= 0 for c in PRICE_COLUMNS}  # NaN compares False
    negvol = v["volume"] < 0
    d107 = negvol.copy()
    for m in nonpos.values():
        d107 |= m
    masks["D107"] = d107

    def d107_msg(i: int) -> str:
        parts = [f"{c} {num(v[c][i])}" for c in PRICE_COLUMNS if nonpos[c][i]]
        msg = f"non-positive price: {', '.join(parts)}" if parts else ""
        if negvol[i]:
            msg += ("; " if msg else "") + f"negative volume {num(v['volume'][i])}"
        return msg

    report.add_rows("D107", np.flatnonzero(d107), lines, d107_msg)

    # D108 high < low
    o, h, lo, c = v["open"], v["high"], v["low"], v["close"]
    d108 = h < lo
    masks["D108"] = d108
    report.add_rows("D108", np.flatnonzero(d108), lines,
                    lambda i: f"high {num(h[i])} is below low {num(lo[i])}")

    # D109 high/low do not contain open/close (rows with high < low are D108 only)
    with np.errstate(invalid="ignore"):
        hi_o, hi_c, lo_o, lo_c = h < o, h < c, lo > o, lo > c
    d109 = (hi_o | hi_c | lo_o | lo_c) & ~d108
    masks["D109"] = d109

    def d109_msg(i: int) -> str:
        parts = []
        if hi_o[i]:
            parts.append(f"high {num(h[i])} is below open {num(o[i])}")
        if hi_c[i]:
            parts.append(f"high {num(h[i])} is below close {num(c[i])}")
        if lo_o[i]:
            parts.append(f"low {num(lo[i])} is above open {num(o[i])}")
        if lo_c[i]:
            parts.append(f"low {num(lo[i])} is above close {num(c[i])}")
        return "; ".join(parts)

    report.add_rows("D109", np.flatnonzero(d109), lines, d109_msg)
    return masks


def report_gaps(report: DataQualityReport, ts: np.ndarray, lines: np.ndarray | None,
                timeframe: str | None) -> np.ndarray:
    """Add D110 findings (warnings) for gaps in sorted ``ts``; return ``gap_after``."""
    gap_after, missing = find_gaps(ts, timeframe)
    rows = np.flatnonzero(gap_after)
    report.gap_events = len(rows)
    report.missing_bars = int(missing.sum())
    if len(rows) == 0:
        return gap_after
    daily = timeframe == "1d"

    def msg(i: int) -> str:
        k = int(missing[i])
        if daily:
            what = f"{k} missing business day{'s' * (k != 1)}"
            return f"{what} between {iso(ts[i - 1])[:10]} and {iso(ts[i])[:10]}"
        return (f"{k} missing bar{'s' * (k != 1)} ({timeframe}) between "
                f"{iso(ts[i - 1])} and {iso(ts[i])}")

    if lines is None:  # no file rows (resampled data): findings carry no span
        for i in rows[: report.max_findings]:
            report.findings.append(Diagnostic("D110", msg(int(i)), None, None, "warning"))
        rest = len(rows) - min(len(rows), report.max_findings)
        if rest:
            report.findings.append(Diagnostic(
                "D110", f"... and {rest} more ({CODES['D110']}), {len(rows)} in total",
                None, None, "warning"))
        report.counts["D110"] = report.counts.get("D110", 0) + int(missing.sum())
    else:
        report.add_rows("D110", rows, lines, msg, weights=missing,
                        hint=None if not daily else "weekends are not gaps; exchange holidays are counted")
    return gap_after
