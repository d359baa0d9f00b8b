"""Schedule cost: a plan of 3 strategies over 4 instruments at 5-minute bars, against the sum of
the same three strategies backtested one at a time (each over the same 4 instruments).

The bars are seeded random walks written to benchmarks/out/ (5-minute, 24/7). Figures are
seconds in this process (median of --repeat runs) and the ratio plan / sum of singles.

    python benchmarks/plan_speed.py --days 365
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import interpreter as ts  # noqa: E402

STRATEGIES = {
    "zrev": """signals:
  z: zscore(close, 24)
entry: {long: z < -2.5}
exit: {long: z > 0}
sizing: {method: percent_equity, percent: 20%, fractional: true}""",
    "macross": """signals:
  f: sma(close, 20)
  s: sma(close, 100)
entry:
  long: crosses_above(f, s)
exit:
  long: crosses_below(f, s)
sizing: {method: percent_equity, percent: 20%, fractional: true}""",
    "breakout": """signals:
  hi: donchian(high, low, 55).upper[1]
  lo: donchian(high, low, 20).lower[1]
entry: {long: close > hi}
exit: {long: close < lo}
stops:
  trailing_stop: 3 * atr(14)
sizing: {method: percent_equity, percent: 20%, fractional: true}""",
}


def walk(path: Path, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    ts0 = pd.Timestamp("2021-01-01", tz="UTC")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.002, n)))
    open_ = np.r_[close[0], close[:-1]]
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.001, n)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.001, n)))
    pd.DataFrame({"timestamp": pd.date_range(ts0, periods=n, freq="5min"), "open": open_, "high": high,
                  "low": low, "close": close, "volume": rng.integers(1, 100, n)}).to_parquet(path, index=False)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--paper", action="store_true", help="also time the plan in paper mode (bar by bar)")
    args = ap.parse_args()
    n = args.days * 288
    tmp = Path(tempfile.mkdtemp(prefix="tradespec-plan-bench-"))
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    inst = []
    for k in range(4):
        p = out / f"plan_walk_{k}_{args.days}d.parquet"
        if not p.exists():
            walk(p, n, seed=100 + k)
        inst.append(f"  - {{id: w{k}, symbol: W{k}, data: {p}, timeframe: 5m}}")
    universe = "kind: universe\nname: walks\ninstruments:\n" + "\n".join(inst) + "\n"
    docs = []
    for name, body in STRATEGIES.items():
        docs.append(f"kind: strategy\nname: {name}\nuniverse: walks\ntimeframe: 5m\ncapital: 1000000\n{body}\n")
    plan = ("kind: schedule\nname: bench\ncapital: 3000000\nslots:\n"
            + "".join(f"  - {{strategy: {s}, allocation: 33%}}\n" for s in STRATEGIES))
    (tmp / "specs").mkdir()
    (tmp / "specs" / "plan.yaml").write_text("\n---\n".join(docs + [universe, plan]))
    for name in STRATEGIES:
        (tmp / "specs" / f"{name}.yaml").write_text("\n---\n".join(
            [d for d in docs if f"name: {name}\n" in d] + [universe]))
    singles, plans, papers = [], [], []
    for _ in range(args.repeat):
        singles_t = 0.0
        for name in STRATEGIES:
            ws = tmp / name
            ws.mkdir(exist_ok=True)
            spec = ws / "s.yaml"
            spec.write_text((tmp / "specs" / f"{name}.yaml").read_text())
            t0 = time.perf_counter()
            ts.backtest(spec)
            singles_t += time.perf_counter() - t0
        singles.append(singles_t)
        pw = tmp / "planws"
        pw.mkdir(exist_ok=True)
        (pw / "plan.yaml").write_text((tmp / "specs" / "plan.yaml").read_text())
        t0 = time.perf_counter()
        ts.backtest(pw / "plan.yaml")
        plans.append(time.perf_counter() - t0)
        if args.paper:
            t0 = time.perf_counter()
            ts.paper(pw / "plan.yaml")
            papers.append(time.perf_counter() - t0)
    s, p = statistics.median(singles), statistics.median(plans)
    print(f"{args.days} days of 5-minute bars, 4 instruments, 3 strategies ({n:,} bars per instrument)")
    print(f"sum of single-strategy backtests: {s:.2f} s")
    print(f"plan:                             {p:.2f} s")
    print(f"ratio plan / sum of singles:      {p / s:.2f}  (goal <= 1.5)")
    if papers:
        q = statistics.median(papers)
        steps = n  # the four walks share their timestamps: one plan step per 5-minute bar
        print(f"plan in paper mode:               {q:.2f} s  ({q / p:.2f}x the plan's backtest; "
              f"{q / steps * 1e6:.0f} us per step of 4 instruments x 3 strategies)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
