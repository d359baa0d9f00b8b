"""Hand-written numpy reference for the speed benchmark.

Strategy (same conventions as the backtesting.py peer fixture, see
tests/fixtures/peer/README.md, except the fixed size):
  * sma10, sma30 = simple moving averages of close (NaN until the window is full)
  * signal at bar t's close: up[t]   = sma10[t-1] < sma30[t-1] and sma10[t] > sma30[t]
                             down[t] = sma10[t-1] > sma30[t-1] and sma10[t] < sma30[t]
  * long only, 1 unit: up while flat -> buy 1 at open[t+1]; down while long -> sell at open[t+1]
  * commission 0.1% of notional (price * units) on entry and on exit
  * a signal on the last bar is not filled; a position still open at the end is
    marked at the last close, without exit commission
  * final equity = cash0 + sum(trade pnl) + open position mark-to-market

Vectorised throughout: SMAs by one cumulative sum (centred on the first close,
the convention of library/indicators.py), signals by array comparisons, the
long-only state machine by collapsing runs of equal-type events.  No Python loop.

Usage (venv with numpy + pyarrow, e.g. /work/venv):

    python benchmarks/numpy_reference.py benchmarks/out/walk_100000_seed0.parquet
    python benchmarks/numpy_reference.py FILE --repeat 5 --tracemalloc --json
    python benchmarks/numpy_reference.py data/sp500_daily_1999_2018.csv \\
        --compare-fixture tests/fixtures/peer/sma_cross_sp500_daily.json

Whole-process timing: `/usr/bin/time -v python benchmarks/numpy_reference.py FILE`
(the default run does one load and one compute pass, nothing extra).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

FAST, SLOW = 10, 30
COMMISSION = 0.001
UNITS = 1.0
CASH0 = 100_000.0


# --------------------------------------------------------------------------- load


def import_reader(path: Path) -> None:
    """Import the reader library up front so that its import time (pyarrow: ~0.2 s)
    is reported apart from the read itself."""
    if path.suffix == ".parquet":
        import pyarrow.parquet  # noqa: F401
    else:
        import pandas  # noqa: F401


def _column(table, name: str, dtype) -> np.ndarray:
    """Arrow column -> numpy via its data buffers.  pyarrow's own to_numpy() imports
    pandas on first use (~0.2 s), which would dominate the load of small files."""
    import pyarrow as pa

    col = table.column(name)
    if pa.types.is_timestamp(col.type):
        scale = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[col.type.unit]
        col = col.cast(pa.int64())
    else:
        scale = 1
    parts = []
    for chunk in col.chunks:
        if chunk.null_count:
            raise ValueError(f"column {name!r} has nulls")
        parts.append(np.frombuffer(chunk.buffers()[1], dtype=dtype, count=len(chunk), offset=chunk.offset * 8))
    out = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return out * scale if scale != 1 else out


def load(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(timestamp int64 ns since epoch UTC, open float64, close float64)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        # ParquetFile.read, not pq.read_table: the latter lazily imports pyarrow.dataset (~0.2 s).
        t = pq.ParquetFile(path).read(columns=["timestamp", "open", "close"])
        return _column(t, "timestamp", np.int64), _column(t, "open", np.float64), _column(t, "close", np.float64)
    import pandas as pd

    df = pd.read_csv(path, usecols=["timestamp", "open", "close"])
    ts = pd.to_datetime(df["timestamp"], utc=True).dt.tz_localize(None).to_numpy("datetime64[ns]").view(np.int64)
    return ts, df["open"].to_numpy(np.float64), df["close"].to_numpy(np.float64)


# --------------------------------------------------------------------------- compute


def sma(x: np.ndarray, n: int) -> np.ndarray:
    """Rolling mean by one cumulative sum of (x - x[0]); NaN for the first n-1 bars."""
    out = np.full(len(x), np.nan)
    if len(x) < n:
        return out
    ref = x[0]
    c = np.cumsum(x - ref)
    win = c[n - 1 :].copy()
    win[1:] -= c[: len(x) - n]
    win /= n
    win += ref
    out[n - 1 :] = win
    return out


def backtest(open_: np.ndarray, close: np.ndarray, fast: int = FAST, slow: int = SLOW,
             commission: float = COMMISSION, units: float = UNITS, cash0: float = CASH0) -> dict:
    n = len(close)
    f = sma(close, fast)
    s = sma(close, slow)
    # Comparisons with NaN are False, so bars before the slow window is full never signal.
    with np.errstate(invalid="ignore"):
        above = f > s
        below = f < s
    up = below[:-1] & above[1:]  # signal at bar t = index + 1
    down = above[:-1] & below[1:]
    ev = np.flatnonzero(up | down)  # event index i -> signal bar i+1, fill bar i+2
    is_up = up[ev]
    # Long-only state machine: keep the first event of each run of equal type,
    # then drop a leading exit (nothing to close yet).
    keep = np.empty(len(ev), dtype=bool)
    if len(ev):
        keep[0] = True
        np.not_equal(is_up[1:], is_up[:-1], out=keep[1:])
    ev, is_up = ev[keep], is_up[keep]
    if len(ev) and not is_up[0]:
        ev, is_up = ev[1:], is_up[1:]
    fill = ev + 2
    fill = fill[fill < n]  # a signal on the last bar is never filled
    entry_bar = fill[0::2]
    exit_bar = fill[1::2]
    n_closed = len(exit_bar)
    ep = open_[entry_bar[:n_closed]]
    xp = open_[exit_bar]
    pnl = units * (xp - ep) - commission * units * (ep + xp)
    equity = cash0 + pnl.sum()
    open_entry = int(entry_bar[-1]) if len(entry_bar) > n_closed else None
    if open_entry is not None:
        p = open_[open_entry]
        equity += units * (close[-1] - p) - commission * units * p
    return {
        "entry_bar": entry_bar[:n_closed],
        "exit_bar": exit_bar,
        "entry_price": ep,
        "exit_price": xp,
        "pnl": pnl,
        "open_entry_bar": open_entry,
        "final_equity": float(equity),
    }


# --------------------------------------------------------------------------- reporting


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def iso(ns: int) -> str:
    return str(np.datetime64(int(ns), "ns").astype("datetime64[s]")) + "+00:00"


def compare_fixture(res: dict, ts: np.ndarray, fixture: Path) -> list[str]:
    """Same entry/exit bars, times and prices as the peer fixture (sizes differ: all-in there)."""
    fx = json.loads(fixture.read_text())
    errs = []
    trades = fx["trades"]
    if len(trades) != len(res["exit_bar"]):
        errs.append(f"trade count: fixture {len(trades)} vs reference {len(res['exit_bar'])}")
    for i, t in enumerate(trades[: len(res["exit_bar"])]):
        mine = (int(res["entry_bar"][i]), float(res["entry_price"][i]), int(res["exit_bar"][i]),
                float(res["exit_price"][i]), iso(ts[res["entry_bar"][i]]), iso(ts[res["exit_bar"][i]]))
        theirs = (t["entry_bar"], t["entry_price"], t["exit_bar"], t["exit_price"], t["entry_time"], t["exit_time"])
        if mine != theirs:
            errs.append(f"trade {i}: reference {mine} vs fixture {theirs}")
    fx_open = [o["entry_bar"] for o in fx["open_trades_at_end"]]
    mine_open = [] if res["open_entry_bar"] is None else [res["open_entry_bar"]]
    if fx_open != mine_open:
        errs.append(f"open position at end: fixture {fx_open} vs reference {mine_open}")
    return errs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="numpy reference: SMA 10/30 crossover, long only, 1 unit.")
    ap.add_argument("file", type=Path, help="OHLCV .parquet (benchmarks/make_walk.py) or .csv")
    ap.add_argument("--repeat", type=int, default=1, help="compute passes to time (report min and median)")
    ap.add_argument("--tracemalloc", action="store_true",
                    help="one extra compute pass under tracemalloc to report its peak allocation")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    ap.add_argument("--trades-out", type=Path, help="write the trades as CSV")
    ap.add_argument("--compare-fixture", type=Path,
                    help="assert the same trade bars/prices as a tests/fixtures/peer JSON (exit 1 if not)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    import_reader(args.file)
    t_import = time.perf_counter() - t0
    t0 = time.perf_counter()
    ts, open_, close = load(args.file)
    t_load = time.perf_counter() - t0
    n = len(close)

    times = []
    for _ in range(max(1, args.repeat)):
        t1 = time.perf_counter()
        res = backtest(open_, close)
        times.append(time.perf_counter() - t1)
    t_compute = times[0]

    trace_peak = None
    if args.tracemalloc:
        tracemalloc.start()
        backtest(open_, close)
        trace_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()

    out = {
        "file": str(args.file),
        "bars": n,
        "trades": int(len(res["exit_bar"])),
        "open_position_at_end": res["open_entry_bar"] is not None,
        "final_equity": res["final_equity"],
        "import_reader_s": t_import,
        "load_s": t_load,
        "compute_s": t_compute,
        "compute_s_min": min(times),
        "compute_s_median": float(np.median(times)),
        "load_plus_compute_s": t_load + t_compute,
        "bars_per_s": n / min(times),
        "bars_per_s_incl_load": n / (t_load + t_compute),
        "peak_rss_mib": peak_rss_mib(),
        "tracemalloc_peak_compute_mib": trace_peak,
        "repeat": len(times),
    }

    if args.trades_out:
        with args.trades_out.open("w") as fh:
            fh.write("entry_time,entry_price,exit_time,exit_price,units,pnl\n")
            for e, x, ep, xp, p in zip(res["entry_bar"], res["exit_bar"], res["entry_price"],
                                       res["exit_price"], res["pnl"]):
                fh.write(f"{iso(ts[e])},{float(ep)!r},{iso(ts[x])},{float(xp)!r},{UNITS!r},{float(p)!r}\n")

    errs = compare_fixture(res, ts, args.compare_fixture) if args.compare_fixture else []
    out["fixture_match"] = None if not args.compare_fixture else not errs

    if args.json:
        print(json.dumps(out))
    else:
        print(f"file            {out['file']}")
        print(f"bars            {n}")
        print(f"trades          {out['trades']} (open at end: {out['open_position_at_end']})")
        print(f"final equity    {out['final_equity']!r}")
        print(f"import reader   {t_import:.6f} s (not counted below)")
        print(f"load            {t_load:.6f} s")
        print(f"compute         {t_compute:.6f} s (min {min(times):.6f}, median {out['compute_s_median']:.6f}"
              f" over {len(times)})")
        print(f"load + compute  {t_load + t_compute:.6f} s")
        print(f"bars/s          {out['bars_per_s']:.4g} (compute), {out['bars_per_s_incl_load']:.4g} (incl. load)")
        print(f"peak RSS        {out['peak_rss_mib']:.1f} MiB (whole process)")
        if trace_peak is not None:
            print(f"tracemalloc     {trace_peak:.2f} MiB peak during one compute pass")
        if args.compare_fixture:
            print(f"fixture         {'MATCH' if not errs else 'MISMATCH'} ({args.compare_fixture})")
    for e in errs:
        print("  ", e, file=sys.stderr)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
