"""Append speed of the journal (not a test): ``python tests/journal/bench_journal_append.py``.

Events are typical paper-mode lines (~200 bytes). For each fsync policy it times single
``append`` calls with a ``commit`` every 4 events (one bar = 4 events), and bars written as
one ``append_many`` of 4 events + ``commit``; then ``verify`` over the result.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from interpreter.journal import JournalWriter, verify

KEY = b"bench-key-0123456789"
FP = "0123456789ab"


def _event(i: int) -> dict:
    return {"bar": i // 4, "ts": "2024-01-02T15:30:00+00:00", "close": 101.25 + i * 1e-3,
            "values": {"fast": 100.5, "slow": 99.75, "rsi": 55.1}, "side": "long", "reason": "entry"}


def run(policy: str, grouped: bool, n: int, tmp: Path) -> tuple[float, float]:
    p = tmp / f"{policy}-{grouped}.jsonl"
    w = JournalWriter(p, KEY, None, FP, fsync=policy)
    w.start({"fingerprint": FP})
    t0 = time.perf_counter()
    for i in range(0, n, 4):
        if grouped:
            w.append_many([("signal", _event(i)), ("decision", _event(i + 1)), ("order", _event(i + 2)),
                           ("fill", _event(i + 3))])
        else:
            for k, t in enumerate(("signal", "decision", "order", "fill")):
                w.append(t, _event(i + k))
        w.commit()
    dt = time.perf_counter() - t0
    w.stop({})
    w.close()
    t1 = time.perf_counter()
    assert verify(p, KEY).ok
    return n / dt, n / (time.perf_counter() - t1)


def main() -> int:
    """Best of 3 runs (fsync timings depend on the disk and on what else is writing to it).
    An optional argument names the directory to write in (default: the system temp dir)."""
    sizes = {"never": 100_000, "bar": 4_000, "always": 4_000}
    with tempfile.TemporaryDirectory(dir=sys.argv[1] if len(sys.argv) > 1 else None) as d:
        print(f"{'fsync':8} {'write':12} {'events/s':>10} {'bars/s':>9} {'us/event':>9}   verify lines/s")
        for policy, n in sizes.items():
            for grouped in (False, True):
                runs = []
                for k in range(3):
                    sub = Path(d) / f"{policy}{grouped}{k}"
                    sub.mkdir()
                    runs.append(run(policy, grouped, n, sub))
                rate, vrate = max(r[0] for r in runs), max(r[1] for r in runs)
                print(f"{policy:8} {'append_many' if grouped else 'append':12} {rate:10,.0f} {rate / 4:9,.0f} "
                      f"{1e6 / rate:9.1f}   {vrate:,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
