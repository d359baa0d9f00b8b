"""Backtest speed: the shipped SMA-crossover strategy through tradespec vs a numpy reference.

Workload (issue "backtest"): SMA crossover 10/30, next-open fills, 1 unit, 0.1% commission,
long only, on seeded random-walk 1-minute bars (benchmarks/make_walk.py) at 10k, 100k and
1M bars. Both sides run in this process on the same loaded arrays; figures are medians of
``--repeat`` runs, and the ratio is tradespec / numpy reference. With ``--whole`` it also
times both as whole processes (start-up, parse, compile, load, run, write results).

    python benchmarks/make_walk.py --all
    python benchmarks/backtest_speed.py            # in-process
    python benchmarks/backtest_speed.py --whole    # plus whole-process timings
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import numpy_reference as ref  # noqa: E402

import interpreter as ts  # noqa: E402
from interpreter.feed import load_run_data  # noqa: E402
from interpreter.modes import backtest as bt  # noqa: E402

SPEC = """\
kind: strategy
name: sma_cross_bench
universe: walk
timeframe: 1m
capital: 1000000
signals:
  fast: sma(close, 10)
  slow: sma(close, 30)
entry:
  long: crosses_above(fast, slow)
exit:
  long: crosses_below(fast, slow)
sizing: {{method: fixed_units, units: 1}}
execution: {{fill: next_open, commission: 0.1%}}
---
kind: universe
name: walk
instruments:
  - {{id: walk, symbol: WALK, data: {data}, timeframe: 1m}}
"""


def median_time(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def peak_mib(fn) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def whole(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--whole", action="store_true", help="also time whole processes")
    args = ap.parse_args()
    out = HERE / "out"
    tmp = Path(tempfile.mkdtemp(prefix="tradespec-bench-"))
    print(f"{'bars':>9} {'tradespec s':>12} {'numpy s':>9} {'ratio':>6} {'bars/s':>12} "
          f"{'peak MiB':>9} {'ref MiB':>8} {'trades':>7}")
    for n in [int(s) for s in args.sizes.split(",")]:
        data = out / f"walk_{n}_seed0.parquet"
        if not data.exists():
            print(f"missing {data}: run python benchmarks/make_walk.py --all", file=sys.stderr)
            return 1
        (tmp / str(n)).mkdir()
        spec = tmp / str(n) / "bench.yaml"
        spec.write_text(SPEC.format(data=data))
        t0 = time.perf_counter()
        graph = ts.compile_spec(spec)
        first_compile = time.perf_counter() - t0
        bars = load_run_data(graph)
        o, _, c = None, None, None
        _, o, c = ref.load(data)

        def ours():
            return bt.run(graph, bars=bars)

        def theirs():
            return ref.backtest(o, c)

        t0 = time.perf_counter()
        first = ours()
        first_call = time.perf_counter() - t0
        med, _ = median_time(ours, args.repeat)
        rmed, _ = median_time(theirs, args.repeat)
        mem = peak_mib(ours)
        rmem = peak_mib(theirs)
        print(f"{n:>9} {med:>12.4f} {rmed:>9.4f} {med / rmed:>6.2f} {n / med:>12,.0f} {mem:>9.1f} {rmem:>8.1f} "
              f"{first.metrics['trade_count']:>7}")
        print(f"{'':>9} first call {first_call:.4f} s vs warm {med:.4f} s (x{first_call / med:.2f}); "
              f"first compile {first_compile:.4f} s")
        if args.whole:
            cli = [str(Path(sys.executable).with_name("tradespec")), "backtest", str(spec), "--out",
                   str(tmp / f"res_{n}")]
            numpy_cmd = [sys.executable, str(HERE / "numpy_reference.py"), str(data)]
            w_ours = whole(cli, 3)
            w_ref = whole(numpy_cmd, 3)
            print(f"{'':>9} whole process: tradespec {w_ours:.3f} s, numpy reference {w_ref:.3f} s, "
                  f"ratio {w_ours / w_ref:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
