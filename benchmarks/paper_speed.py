"""Paper-mode cost per bar: graph evaluation (stream forms) plus the engine and risk gate,
with no journal, and journal I/O measured separately (fsync never / bar / always).

Flatness: the cost per bar after 100k bars of history must stay near the cost after 1k
(the stream forms keep O(1) state). Measured on the shipped specs over a seeded random walk
of 1-minute bars (benchmarks/make_walk.py), timing blocks of bars at two depths of history.

    python benchmarks/make_walk.py --all
    python benchmarks/paper_speed.py
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import interpreter as ts  # noqa: E402
from interpreter import journal as jn  # noqa: E402
from interpreter.data import load_bars  # noqa: E402
from interpreter.feeds import Bar  # noqa: E402
from interpreter.modes.live import BarLog, bar_fields  # noqa: E402
from interpreter.modes.paper import PaperSession  # noqa: E402

SPECS = ["ma_crossover", "rsi_reversion", "donchian_breakout", "zscore_reversion", "vol_target", "trend_following"]


def walk_spec(tmp: Path, name: str, data: Path) -> Path:
    """The shipped strategy, pointed at the walk (1-minute bars, no instrument choice)."""
    text = (ROOT / "specs" / "strategies" / f"{name}.yaml").read_text()
    lines = []
    for line in text.splitlines():
        if line.startswith("universe:"):
            line = "universe: walk"
        elif line.startswith("instrument:"):
            continue
        elif line.startswith("timeframe:"):
            line = "timeframe: 1m"
        lines.append(line)
    spec = tmp / name / "s.yaml"
    spec.parent.mkdir(parents=True)
    risk = (ROOT / "specs" / "risk").glob("*.yaml")
    docs = "\n".join(lines) + "\n---\nkind: universe\nname: walk\ninstruments:\n" \
        f"  - {{id: w, symbol: W, data: {data}, timeframe: 1m}}\n"
    for r in risk:
        docs += "---\n" + r.read_text()
    spec.write_text(docs)
    return spec


def per_bar_us(session: PaperSession, bars: list[Bar], lo: int, hi: int) -> float:
    t0 = time.perf_counter()
    for b in bars[lo:hi]:
        session.on_bar(b)
    return (time.perf_counter() - t0) / (hi - lo) * 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bars", type=int, default=100_000)
    ap.add_argument("--block", type=int, default=1000)
    args = ap.parse_args()
    data = HERE / "out" / "walk_100000_seed0.parquet"
    if not data.exists():
        print("run python benchmarks/make_walk.py --all first", file=sys.stderr)
        return 1
    loaded = load_bars(data, timeframe="1m")
    bars = [Bar(int(t), o, h, lo, c, v) for t, o, h, lo, c, v in zip(
        loaded.ts.tolist(), loaded.open.tolist(), loaded.high.tolist(), loaded.low.tolist(), loaded.close.tolist(),
        loaded.volume.tolist())][:args.bars]
    n = len(bars)
    tmp = Path(tempfile.mkdtemp(prefix="tradespec-paper-bench-"))
    print(f"{'strategy':<20} {'us/bar @1k':>11} {'us/bar @end':>12} {'ratio':>6}")
    for name in SPECS:
        graph = ts.compile_spec(walk_spec(tmp, name, data))
        session = PaperSession(graph, policy="warn")
        per_bar_us(session, bars, 0, 1000)
        early = per_bar_us(session, bars, 1000, 1000 + args.block)
        per_bar_us(session, bars, 1000 + args.block, n - args.block)
        late = per_bar_us(session, bars, n - args.block, n)
        print(f"{name:<20} {early:>11.1f} {late:>12.1f} {late / early:>6.2f}")
    # journal I/O alone: one bar group of typical size per bar
    key = b"bench-key"
    group = [("bar", bar_fields(bars[0], 0)), ("signal", {"bar": 0, "entry": [], "exit": False,
                                                          "values": {"fast": 1.0, "slow": 2.0}})]
    print(f"\n{'journal fsync':<14} {'us/bar':>8}")
    for policy in ("never", "bar", "always"):
        path = tmp / f"j_{policy}.jsonl"
        w = jn.JournalWriter(path, key, None, "0" * 12, fsync=policy)
        w.start({"bench": True})
        times = []
        for _ in range(2000):
            t0 = time.perf_counter()
            w.append_many(group)
            w.commit()
            times.append(time.perf_counter() - t0)
        w.close()
        print(f"{policy:<14} {statistics.median(times) * 1e6:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
