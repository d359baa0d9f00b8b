"""Market data: load OHLCV bars from CSV or Parquet, check their quality, resample them.

``load_bars`` reads a file into a :class:`LoadedBars` (int64 UTC nanoseconds, float64
columns) and runs the D1xx quality checks of :mod:`interpreter.quality`; the policy
(``fail`` | ``warn`` | ``drop``, default ``fail``) decides what a finding does.
``check_file`` runs the same load and returns the report without raising for data
problems (``tradespec data check``). ``resample`` aggregates bars to a coarser timeframe.
The rules are documented in ``docs/data.md``.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dsl.errors import Diagnostic, DslError, did_you_mean
from interpreter.quality import (
    DEFAULT_MAX_FINDINGS,
    POLICIES,
    PRICE_COLUMNS,
    ROW_VALUE,
    WEEK_NS,
    WEEK_OFFSET_NS,
    DataQualityReport,
    Rows,
    check_rows,
    find_gaps,
    format_timeframe,
    infer_timeframe,
    iso,
    parse_timeframe,
    report_gaps,
)

__all__ = [
    "DataError",
    "DataQualityReport",
    "LoadedBars",
    "bars_from_arrays",
    "check_file",
    "format_timeframe",
    "infer_timeframe",
    "load_bars",
    "parse_timeframe",
    "resample",
]

REQUIRED = ("timestamp", "open", "high", "low", "close")
OPTIONAL = ("volume", "symbol", "venue")
_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}
_NS_MIN, _NS_MAX = pd.Timestamp.min.value, pd.Timestamp.max.value


class DataError(DslError):
    """A load that cannot go on: carries every finding (``diagnostics``, sorted by file
    position as :class:`DslError` does) and the full ``report`` when there is one.

    A subclass of :class:`DslError`, so the CLI's error handling renders it like any other
    stage's diagnostics. Bad arguments (unknown policy, malformed timeframe) raise it too,
    with code U101 and no report.
    """

    def __init__(self, diagnostics, report: DataQualityReport | None = None):
        super().__init__(diagnostics)
        self.report = report


def _usage(message: str) -> DataError:
    return DataError([Diagnostic("U101", message)])


# --------------------------------------------------------------------------- LoadedBars

@dataclass(frozen=True, eq=False, repr=False)
class LoadedBars:
    """Bars of one instrument, sorted by strictly increasing bar-open time (UTC ns).

    The arrays are read-only. ``gap_after[i]`` is True when bar ``i`` follows a gap
    (D110), so the engine can hold with reason DATA_GAP.
    """

    ts: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    symbol: str | None = None
    venue: str | None = None
    timeframe: str | None = None
    source: str = "<memory>"
    sha256: str | None = None
    quality: DataQualityReport | None = None
    gap_after: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.ts)
        for name in ("ts", "open", "high", "low", "close", "volume"):
            arr = getattr(self, name)
            if len(arr) != n:
                raise ValueError(f"column {name} has {len(arr)} values, ts has {n}")
            arr.setflags(write=False)
        for arr in self.extra.values():
            arr.setflags(write=False)
        if self.gap_after is None:
            object.__setattr__(self, "gap_after", np.zeros(n, dtype=bool))
        self.gap_after.setflags(write=False)

    def __len__(self) -> int:
        return len(self.ts)

    def __repr__(self) -> str:
        span = f"{iso(self.ts[0])} -> {iso(self.ts[-1])}" if len(self) else "empty"
        return (f"LoadedBars({self.source!r}, {len(self)} bars, timeframe={self.timeframe!r}, "
                f"symbol={self.symbol!r}, venue={self.venue!r}, {span})")

    @property
    def columns(self) -> tuple[str, ...]:
        return ("timestamp", "open", "high", "low", "close", "volume", *self.extra)

    def column(self, name: str) -> np.ndarray:
        """A column by name: timestamp (or ts), open, high, low, close, volume, or an extra."""
        if name in ("timestamp", "ts"):
            return self.ts
        if name in ("open", "high", "low", "close", "volume"):
            return getattr(self, name)
        if name in self.extra:
            return self.extra[name]
        hint = did_you_mean(name, self.columns)
        raise KeyError(f"no column {name!r} in {self.source}" + (f"; {hint}" if hint else ""))

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame indexed by a UTC DatetimeIndex named ``timestamp``."""
        index = pd.DatetimeIndex(pd.to_datetime(self.ts, unit="ns", utc=True), name="timestamp")
        data = {c: self.column(c) for c in self.columns[1:]}
        return pd.DataFrame(data, index=index)


# --------------------------------------------------------------------------- public API

def load_bars(path, *, timeframe: str | None = None, columns: dict[str, str] | None = None,
              policy: str = "fail", start=None, end=None, timestamp_format: str | None = None,
              max_findings: int = DEFAULT_MAX_FINDINGS) -> LoadedBars:
    """Read bars from ``path`` (``.csv``, ``.csv.gz`` etc., ``.parquet``/``.pq``).

    ``columns`` maps our names to the file's (``{"timestamp": "Date"}``). ``start`` is
    inclusive, ``end`` exclusive (anything ``pd.Timestamp`` accepts; naive = UTC).
    Raises :class:`DataError` when the report has errors under ``policy``.
    """
    bars, report = _load(path, timeframe, columns, policy, start, end, timestamp_format, max_findings)
    if bars is None or not report.ok:
        raise DataError(report.findings, report)
    return bars


def check_file(path, *, timeframe: str | None = None, columns: dict[str, str] | None = None,
               policy: str = "fail", start=None, end=None, timestamp_format: str | None = None,
               max_findings: int = DEFAULT_MAX_FINDINGS) -> DataQualityReport:
    """The quality report of ``path`` under ``policy``; never raises for data problems."""
    return _load(path, timeframe, columns, policy, start, end, timestamp_format, max_findings)[1]


def resample_if_finer(bars: LoadedBars, timeframe: str) -> LoadedBars:
    """``bars`` resampled to ``timeframe`` when they are finer and divide it; else as they are
    (coarser bars, or finer ones that do not divide it: the caller decides what that means)."""
    if not bars.timeframe:
        return bars
    src, dst = parse_timeframe(bars.timeframe), parse_timeframe(timeframe)
    return resample(bars, timeframe) if src < dst and dst % src == 0 else bars


def resample(bars: LoadedBars, timeframe: str) -> LoadedBars:
    """Aggregate to a coarser ``timeframe``: left-closed, left-labelled bins aligned to the
    epoch (UTC midnight for days; Mondays for weeks); open=first, high=max, low=min,
    close=last, volume=sum, extras=last. Only bins that hold bars are produced."""
    try:
        tf = parse_timeframe(timeframe)
    except ValueError as e:
        raise _usage(str(e)) from None
    if bars.timeframe:
        src = parse_timeframe(bars.timeframe)
        if tf < src or tf % src:
            raise _usage(f"cannot resample {bars.timeframe} bars to {timeframe}: "
                         f"the target must be a whole multiple of {bars.timeframe}")
    label_tf = format_timeframe(tf)
    offset = WEEK_OFFSET_NS if tf % WEEK_NS == 0 else 0
    n = len(bars)
    if n == 0:
        empty = np.array([], dtype=np.float64)
        out = dict(ts=np.array([], dtype=np.int64), open=empty, high=empty.copy(), low=empty.copy(),
                   close=empty.copy(), volume=empty.copy(),
                   extra={k: empty.copy() for k in bars.extra})
    else:
        bins = (bars.ts - offset) // tf
        starts = np.flatnonzero(np.r_[True, bins[1:] != bins[:-1]])
        ends = np.r_[starts[1:], n] - 1
        out = dict(
            ts=bins[starts] * tf + offset,
            open=bars.open[starts].copy(),
            high=np.fmax.reduceat(bars.high, starts),
            low=np.fmin.reduceat(bars.low, starts),
            close=bars.close[ends].copy(),
            volume=np.add.reduceat(np.nan_to_num(bars.volume, nan=0.0), starts),
            extra={k: v[ends].copy() for k, v in bars.extra.items()},
        )
    src_report = bars.quality
    report = DataQualityReport(
        source=bars.source, policy=src_report.policy if src_report else "fail", format="resampled",
        sha256=bars.sha256, rows_read=n, rows_loaded=len(out["ts"]), timeframe=label_tf,
        max_findings=src_report.max_findings if src_report else DEFAULT_MAX_FINDINGS)
    if len(out["ts"]):
        report.first, report.last = iso(out["ts"][0]), iso(out["ts"][-1])
    gap_after = report_gaps(report, out["ts"], None, label_tf)
    return LoadedBars(symbol=bars.symbol, venue=bars.venue, timeframe=label_tf, source=bars.source,
                      sha256=bars.sha256, quality=report, gap_after=gap_after, **out)


# --------------------------------------------------------------------------- loading

def _file_kind(path: Path) -> tuple[str, str | None] | None:
    suffixes = [s.lower() for s in path.suffixes]
    compression = None
    if suffixes and suffixes[-1] in _COMPRESSION:
        compression = _COMPRESSION[suffixes.pop()]
    last = suffixes[-1] if suffixes else ""
    if last in (".parquet", ".pq") and compression is None:
        return "parquet", None
    if last in (".csv", ".txt"):
        return "csv", compression
    return None


def _to_ns_bound(value, what: str) -> int | None:
    if value is None:
        return None
    try:
        t = pd.Timestamp(value)
    except (ValueError, TypeError) as e:
        raise _usage(f"bad {what} {value!r}: {e}") from None
    if t is pd.NaT:
        raise _usage(f"bad {what} {value!r}")
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return int(t.as_unit("ns").value)


def _resolve_columns(header: list[str], mapping: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """our name -> file column, and the names that are missing: required ones, and any
    named in ``mapping``. Without a mapping a name matches exactly, else case-insensitively."""
    found: dict[str, str] = {}
    missing: list[str] = []
    lower: dict[str, list[str]] = {}
    for h in header:
        lower.setdefault(str(h).strip().lower(), []).append(h)
    for ours, theirs in mapping.items():
        if theirs in header:
            found[ours] = theirs
        else:  # a column named explicitly must exist, required or not
            missing.append(ours)
    for name in (*REQUIRED, *OPTIONAL):
        if name in found or name in mapping:
            continue
        if name in header:
            found[name] = name
        elif len(lower.get(name, [])) == 1:
            found[name] = lower[name][0]
        elif name in REQUIRED:
            missing.append(name)
    return found, missing


def _snake(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).strip().lower()).strip("_") or "column"


def _read_table(data: bytes, kind: str, compression: str | None, mapping: dict[str, str],
                report: DataQualityReport):
    """The raw table plus our-name -> file-column map, or None after adding D101/D102/D111."""
    if kind == "parquet":
        df = pd.read_parquet(io.BytesIO(data))
        if not isinstance(df.index, pd.RangeIndex):  # e.g. LoadedBars.to_frame() written as is
            df = df.reset_index()
        header = [str(c) for c in df.columns]
        df.columns = header
    else:
        header = list(pd.read_csv(io.BytesIO(data), nrows=0, compression=compression).columns)
    found, missing = _resolve_columns(header, mapping)
    if missing:
        hl = 1 if kind == "csv" else None
        for name in missing:
            want = mapping.get(name, name)
            hint = did_you_mean(want, header)
            mapped = f" (mapped to {name})" if name in mapping else ""
            report.add("D102", f"missing column {want!r}{mapped}; the file has: {', '.join(map(str, header))}",
                       hl, hint=hint or "name the file's column with columns={'%s': '...'}" % name)
        return None
    numeric = [found[c] for c in (*PRICE_COLUMNS, "volume") if c in found]
    if kind == "csv":
        dtypes: dict[str, object] = {found["timestamp"]: str}
        for name in ("symbol", "venue"):
            if name in found:
                dtypes[found[name]] = str

        def read(numeric_type):
            return pd.read_csv(io.BytesIO(data), compression=compression, skip_blank_lines=False,
                               dtype={**dtypes, **{c: numeric_type for c in numeric}})
        try:
            df = read("float64")
        except ValueError:  # some value is not a number: read as text, report it per row
            df = read(str)
    bad_text: dict[str, dict[int, str]] = {}
    for ours in (*PRICE_COLUMNS, "volume"):
        col = found.get(ours)
        if col is None or pd.api.types.is_numeric_dtype(df[col].dtype):
            continue
        vals = pd.to_numeric(df[col], errors="coerce")
        text = df[col].astype(str).str.strip()
        bad = (vals.isna() & df[col].notna() & (text != "")).to_numpy()
        bad_text[ours] = {int(i): str(df[col].iloc[i]) for i in np.flatnonzero(bad)}
        df[col] = vals.astype("float64")
    return df, found, bad_text


def _parse_timestamps(col: pd.Series, fmt: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(int64 ns, ok mask) from a column of ISO text, epoch numbers or datetimes."""
    if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(col.dtype):
        parsed = pd.to_datetime(col, utc=True)
    elif pd.api.types.is_numeric_dtype(col.dtype):
        parsed = _epoch(pd.to_numeric(col, errors="coerce"))
    else:
        text = col.astype("str") if col.dtype != object else col
        head = text.dropna().head(1000).astype(str).str.strip()
        head = head[head != ""]
        probe = head.iloc[0] if len(head) else ""
        if fmt is None and re.fullmatch(r"[+-]?\d+(\.\d+)?", probe):
            parsed = _epoch(pd.to_numeric(text, errors="coerce"))
        else:
            parsed = pd.to_datetime(text, format=fmt or "ISO8601", utc=True, errors="coerce")
    idx = pd.DatetimeIndex(parsed)
    ok = ~idx.isna()
    # anything outside what int64 nanoseconds can hold is unparseable for us
    if idx.unit != "ns":
        lo, hi = pd.Timestamp.min.tz_localize("UTC"), pd.Timestamp.max.tz_localize("UTC")
        inside = np.asarray((idx >= lo) & (idx <= hi))
        ok &= inside
        idx = idx.where(ok)
    ns = idx.as_unit("ns").asi8.copy()
    ns[~ok] = 0
    return ns, np.asarray(ok)


def _epoch(values: pd.Series) -> pd.Series:
    """Epoch numbers -> UTC datetimes; unit from the median magnitude: <1e11 s, <1e14 ms,
    <1e17 us, else ns."""
    finite = values.dropna()
    mag = float(np.median(np.abs(finite.to_numpy(dtype=np.float64)))) if len(finite) else 0.0
    unit = "s" if mag < 1e11 else "ms" if mag < 1e14 else "us" if mag < 1e17 else "ns"
    return pd.to_datetime(values, unit=unit, utc=True, errors="coerce")


def _single(df: pd.DataFrame, col: str | None, keep: np.ndarray) -> str | None:
    """The column's one value over the kept rows; None when absent or mixed."""
    if col is None:
        return None
    s = df[col]
    if len(keep) != len(s):
        s = s.iloc[np.sort(keep)]
    uniq = s.dropna().unique()
    return str(uniq[0]) if len(uniq) == 1 else None


def _load(path, timeframe, columns, policy, start, end, timestamp_format, max_findings):
    if policy not in POLICIES:
        raise _usage(f"unknown data policy {policy!r}: expected one of {', '.join(POLICIES)}")
    if timeframe is not None:
        try:
            timeframe = format_timeframe(parse_timeframe(timeframe))
        except ValueError as e:
            raise _usage(str(e)) from None
    start_ns, end_ns = _to_ns_bound(start, "start"), _to_ns_bound(end, "end")
    mapping = dict(columns or {})
    source = str(path)
    p = Path(path)
    kind = _file_kind(p)
    report = DataQualityReport(source=source, policy=policy, max_findings=max_findings,
                               format=kind[0] if kind else None,
                               row_label="row" if kind and kind[0] == "parquet" else "line")
    if kind is None:
        report.add("D101", f"cannot read {source}: unsupported file type "
                   "(expected .csv, .csv.gz/.bz2/.xz/.zip, .txt, .parquet or .pq)")
        return None, report
    try:
        data = p.read_bytes()
    except OSError as e:
        report.add("D101", f"cannot read {source}: {e.strerror or e}")
        return None, report
    report.sha256 = hashlib.sha256(data).hexdigest()
    try:
        table = _read_table(data, kind[0], kind[1], mapping, report)
    except pd.errors.EmptyDataError:
        report.add("D111", f"{source} is empty (no header, no rows)")
        return None, report
    except Exception as e:  # parser errors, corrupt Parquet, bad encoding
        text = " ".join(str(e).split())
        m = re.search(r"line (\d+)", text)
        line = int(m.group(1)) if m and kind[0] == "csv" else None
        report.add("D101", f"cannot read {source}: {text}", line)
        return None, report
    if table is None:
        return None, report
    df, found, bad_text = table

    # blank lines (kept by the reader so line numbers stay right) are skipped silently
    req = [found[c] for c in REQUIRED]
    blank = df[req].isna().all(axis=1).to_numpy()
    lines_all = np.arange(len(df), dtype=np.int64) + (2 if kind[0] == "csv" else 1)
    try:
        ts_all, ts_ok_all = _parse_timestamps(df[found["timestamp"]], timestamp_format)
    except (ValueError, TypeError) as e:
        raise _usage(f"bad timestamp_format {timestamp_format!r}: {e}") from None
    keep = ~blank
    report.rows_read = int(keep.sum())
    if start_ns is not None:
        keep &= ~ts_ok_all | (ts_all >= start_ns)
    if end_ns is not None:
        keep &= ~ts_ok_all | (ts_all < end_ns)
    sel = np.flatnonzero(keep)
    if len(sel) == 0:
        where = " between start and end" if (start_ns is not None or end_ns is not None) and report.rows_read else ""
        report.add("D111", f"{source} has no bars{where}", 1 if kind[0] == "csv" else None)
        return None, report

    values = {}
    for c in (*PRICE_COLUMNS, "volume"):
        if c in found:
            values[c] = df[found[c]].to_numpy(dtype=np.float64, na_value=np.nan)[sel]
        else:
            values[c] = np.zeros(len(sel), dtype=np.float64)
    pos = {int(r): i for i, r in enumerate(sel)} if bad_text else {}
    rows = Rows(
        lines=lines_all[sel], ts=ts_all[sel], ts_ok=ts_ok_all[sel],
        ts_text=lambda i, _col=df[found["timestamp"]]: _col.iloc[int(sel[i])], values=values,
        bad_text={c: {pos[r]: t for r, t in d.items() if r in pos} for c, d in bad_text.items()},
    )
    masks = check_rows(rows, report)

    # extra numeric columns
    used = {found[c] for c in (*REQUIRED, *OPTIONAL) if c in found}
    extras: dict[str, np.ndarray] = {}
    renamed = {theirs: ours for ours, theirs in mapping.items() if ours not in (*REQUIRED, *OPTIONAL)}
    for col in df.columns:
        if col in used or str(col).startswith("Unnamed:"):
            continue
        if pd.api.types.is_numeric_dtype(df[col].dtype) and not pd.api.types.is_bool_dtype(df[col].dtype):
            name = renamed.get(col, _snake(col))
            if name in extras or name in (*REQUIRED, *OPTIONAL):
                report.ignored_columns.append(str(col))
                continue
            extras[name] = df[col].to_numpy(dtype=np.float64, na_value=np.nan)[sel]
        else:
            report.ignored_columns.append(str(col))

    if not report.ok:
        # still describe the time axis: timeframe and gaps of the distinct valid timestamps
        valid = np.flatnonzero(rows.ts_ok)
        t, first = np.unique(rows.ts[valid], return_index=True)
        _finish_time_axis(report, t, rows.lines[valid][first], timeframe)
        return None, report

    n = len(sel)
    order = np.arange(n)
    if policy == "drop":
        drop = np.zeros(n, dtype=bool)
        for code in ("D103", "D105", *sorted(ROW_VALUE)):
            m = masks[code]
            if m.any():
                report.dropped[code] = int(m.sum())
                drop |= m
        report.rows_dropped = int(drop.sum())
        order = np.flatnonzero(~drop)
        if masks["D104"].any():
            order = order[np.argsort(rows.ts[order], kind="stable")]
            report.sorted = True
        if len(order) == 0:
            report.add("D111", f"{source} has no bars left after dropping bad rows")
            return None, report

    ts = rows.ts[order]
    lines = rows.lines[order]
    gap_after = _finish_time_axis(report, ts, lines, timeframe)
    report.rows_loaded = len(order)
    keep_rows = sel[order]
    bars = LoadedBars(
        ts=ts, **{c: values[c][order] for c in (*PRICE_COLUMNS, "volume")},
        extra={k: v[order] for k, v in extras.items()},
        symbol=_single(df, found.get("symbol"), keep_rows),
        venue=_single(df, found.get("venue"), keep_rows),
        timeframe=report.timeframe, source=source, sha256=report.sha256, quality=report,
        gap_after=gap_after,
    )
    return bars, report


def _finish_time_axis(report: DataQualityReport, ts: np.ndarray, lines: np.ndarray,
                      timeframe: str | None) -> np.ndarray:
    """Timeframe (given or inferred), first/last, and D110 gaps for sorted ``ts``."""
    if timeframe is None:
        report.timeframe = infer_timeframe(ts)
        report.timeframe_inferred = report.timeframe is not None
    else:
        report.timeframe = timeframe
    if len(ts):
        report.first, report.last = iso(ts[0]), iso(ts[-1])
    return report_gaps(report, ts, lines, report.timeframe)


def bars_from_arrays(ts, open, high, low, close, volume=None, **kw) -> LoadedBars:
    """Build LoadedBars in memory (tests, synthetic data); ts in UTC ns, strictly increasing."""
    ts = np.array(ts, dtype=np.int64)  # copies: LoadedBars makes its arrays read-only
    if len(ts) > 1 and not (np.diff(ts) > 0).all():
        raise ValueError("ts must be strictly increasing")
    vol = np.zeros(len(ts)) if volume is None else np.array(volume, dtype=np.float64)
    tf = kw.pop("timeframe", None) or infer_timeframe(ts)
    kw.setdefault("gap_after", find_gaps(ts, tf)[0])
    f64 = {k: np.array(v, dtype=np.float64) for k, v in
           (("open", open), ("high", high), ("low", low), ("close", close))}
    return LoadedBars(ts=ts, volume=vol, timeframe=tf, **f64, **kw)

