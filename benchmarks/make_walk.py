"""Write a seeded random-walk OHLCV file for the speed benchmark.

    . /work/venv/bin/activate
    python benchmarks/make_walk.py --bars 100000                 # -> benchmarks/out/walk_100000_seed0.parquet
    python benchmarks/make_walk.py --bars 1000000 --seed 7 --csv # Parquet and CSV
    python benchmarks/make_walk.py --bars 10000 -o /tmp/w.parquet
    python benchmarks/make_walk.py --all                         # 10k, 100k and 1M bars

Bars are 1-minute bars from 2020-01-01T00:00Z.  Columns: timestamp (UTC),
open, high, low, close, volume (all float64 but timestamp).

The walk is geometric, so prices stay positive:
    close[t] = close[t-1] * exp(r[t]),         r ~ N(0, 0.001)
    open[t]  = close[t-1] * exp(g[t]),         g ~ N(0, 0.0002)   (small gaps)
    high[t]  = max(open, close) * exp(|h[t]|), h ~ N(0, 0.0005)
    low[t]   = min(open, close) * exp(-|l[t]|), l ~ N(0, 0.0005)
    volume   ~ lognormal(mean=3, sigma=1)
so high >= max(open, close) and low <= min(open, close) hold exactly.
Everything is drawn from numpy.random.default_rng(seed) in a fixed order, so a
(seed, bars) pair always gives the same file with a given numpy version.  The
generator settings are stored in the Parquet schema metadata.  Prices are not
rounded to a tick, so the SMA crossover benchmark has no exact ties.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = ROOT / "benchmarks" / "out"
START = np.datetime64("2020-01-01T00:00:00", "ns")
P0 = 100.0
SIGMA, GAP, WICK = 0.001, 0.0002, 0.0005
STANDARD_SIZES = (10_000, 100_000, 1_000_000)


def make_walk(bars: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Return the columns of a ``bars``-long walk as numpy arrays."""
    if bars < 1:
        raise ValueError("bars must be >= 1")
    rng = np.random.default_rng(seed)
    r = rng.normal(0.0, SIGMA, bars)
    g = rng.normal(0.0, GAP, bars)
    h = np.abs(rng.normal(0.0, WICK, bars))
    lo = np.abs(rng.normal(0.0, WICK, bars))
    volume = rng.lognormal(3.0, 1.0, bars)

    log_close = np.log(P0) + np.cumsum(r)
    close = np.exp(log_close)
    prev_close = np.empty(bars)
    prev_close[0] = P0
    prev_close[1:] = close[:-1]
    open_ = prev_close * np.exp(g)
    high = np.maximum(open_, close) * np.exp(h)
    low = np.minimum(open_, close) * np.exp(-lo)
    # exp(+x) >= 1 and exp(-x) <= 1 in IEEE arithmetic, but make the invariant explicit.
    high = np.maximum(high, np.maximum(open_, close))
    low = np.minimum(low, np.minimum(open_, close))
    ts = START + np.arange(bars, dtype=np.int64) * np.timedelta64(60, "s").astype("timedelta64[ns]")
    return {"timestamp": ts, "open": open_, "high": high, "low": low, "close": close, "volume": volume}


def check(cols: dict[str, np.ndarray]) -> None:
    o, h, l, c = cols["open"], cols["high"], cols["low"], cols["close"]
    assert np.all(np.isfinite(o) & np.isfinite(h) & np.isfinite(l) & np.isfinite(c))
    assert np.all(l > 0), "prices must be positive"
    assert np.all(h >= np.maximum(o, c)) and np.all(l <= np.minimum(o, c))
    assert np.all(cols["volume"] > 0)


def metadata(bars: int, seed: int) -> dict[str, str]:
    return {
        "generator": "benchmarks/make_walk.py",
        "bars": str(bars),
        "seed": str(seed),
        "rng": "numpy.random.default_rng",
        "numpy": np.__version__,
        "params": json.dumps({"p0": P0, "sigma": SIGMA, "gap": GAP, "wick": WICK,
                              "volume": "lognormal(3, 1)", "start": "2020-01-01T00:00Z",
                              "freq": "1min"}),
    }


def write_parquet(cols: dict[str, np.ndarray], path: Path, meta: dict[str, str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "timestamp": pa.array(cols["timestamp"], type=pa.timestamp("ns", tz="UTC")),
            **{k: pa.array(cols[k], type=pa.float64()) for k in ("open", "high", "low", "close", "volume")},
        }
    )
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
    pq.write_table(table, path)


def write_csv(cols: dict[str, np.ndarray], path: Path) -> None:
    """Same layout as the CSVs in data/: ISO timestamps with a +00:00 offset; floats
    written with repr (shortest round-trip form), so the CSV reads back bit-identical."""
    import pandas as pd

    ts = np.datetime_as_string(cols["timestamp"], unit="s")
    df = pd.DataFrame({"timestamp": np.char.add(ts.astype(str), "+00:00"),
                       **{k: cols[k] for k in ("open", "high", "low", "close", "volume")}})
    df.to_csv(path, index=False)


def default_path(bars: int, seed: int, ext: str) -> Path:
    return DEFAULT_DIR / f"walk_{bars}_seed{seed}.{ext}"


def generate(bars: int, seed: int, out: Path | None, csv: bool, csv_only: bool) -> list[Path]:
    cols = make_walk(bars, seed)
    check(cols)
    written = []
    if out is not None and out.suffix == ".csv":
        csv_only, csv = True, True
    pq_path = out if (out is not None and out.suffix != ".csv") else default_path(bars, seed, "parquet")
    csv_path = (out if (out is not None and out.suffix == ".csv") else pq_path.with_suffix(".csv"))
    if not csv_only:
        pq_path.parent.mkdir(parents=True, exist_ok=True)
        write_parquet(cols, pq_path, metadata(bars, seed))
        written.append(pq_path)
    if csv or csv_only:
        csv_path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(cols, csv_path)
        written.append(csv_path)
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Seeded random-walk OHLCV (1-minute bars from 2020-01-01T00:00Z).")
    ap.add_argument("-n", "--bars", type=int, default=100_000, help="number of bars (default 100000)")
    ap.add_argument("--seed", type=int, default=0, help="numpy default_rng seed (default 0)")
    ap.add_argument("-o", "--out", type=Path, default=None,
                    help="output file (.parquet, or .csv for CSV only); "
                         "default benchmarks/out/walk_<bars>_seed<seed>.parquet")
    ap.add_argument("--csv", action="store_true", help="also write a CSV next to the Parquet file")
    ap.add_argument("--csv-only", action="store_true", help="write only the CSV")
    ap.add_argument("--all", action="store_true",
                    help=f"write the standard sizes {STANDARD_SIZES} to the default directory")
    args = ap.parse_args(argv)
    sizes = STANDARD_SIZES if args.all else (args.bars,)
    if args.all and args.out is not None:
        ap.error("--all writes to the default directory; do not pass --out")
    for bars in sizes:
        for p in generate(bars, args.seed, args.out, args.csv, args.csv_only):
            try:
                shown = p.relative_to(Path.cwd())
            except ValueError:
                shown = p
            print(f"wrote {shown} ({bars} bars, seed {args.seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
