"""A paper-like writer for test_journal_crash.py, run as a subprocess and killed with SIGKILL.

    python journal_crash_writer.py JOURNAL start|resume SEED [MAX_PAD [FSYNC [SELF_KILL_BAR]]]

The key comes from TRADESPEC_JOURNAL_KEY. Per bar it appends a `tick` line on its own (the
bar arrived), then the bar's events as one write group (`bar`, `signal` with a padding of
random size up to MAX_PAD bytes (default 24 KB, so writes span pages), `order`, and a
`snapshot` every fifth bar), then commits (FSYNC policy, default "bar"). With a MAX_PAD of
megabytes a kill often lands inside the kernel's copy of a write, which then stops at a page
boundary: a real torn tail. On resume it continues after the last bar whose group is in the
journal. Prints ``ready NEXT_BAR`` once the journal is open, then writes until killed.

With SELF_KILL_BAR = k, the k-th bar's group write puts only a random prefix of its bytes on
disk (cutting anywhere in the group, as a kill inside the kernel's copy does) and the process
then sends itself SIGKILL: a torn tail on demand.
"""

from __future__ import annotations

import random
import sys

FP = "c0ffee123456"


def main(argv: list[str]) -> int:
    from interpreter.journal import JournalWriter, load_key, open_for_resume

    path, mode, seed = argv[0], argv[1], int(argv[2])
    max_pad = int(argv[3]) if len(argv) > 3 else 24_000
    fsync = argv[4] if len(argv) > 4 else "bar"
    self_kill = int(argv[5]) if len(argv) > 5 else -1
    loaded = load_key(None)
    assert loaded is not None, "set TRADESPEC_JOURNAL_KEY"
    key, key_id = loaded
    if mode == "start":
        w = JournalWriter(path, key, key_id, FP, fsync=fsync)
        w.start({"fingerprint": FP, "tradespec": "test", "data": {"source": "crash-test"}})
        nxt = 0
    else:
        w, r = open_for_resume(path, key, key_id, FP, fsync=fsync)
        bars = [e["bar"] for e in r.events if e["type"] == "bar"]
        nxt = bars[-1] + 1 if bars else 0
    print("ready", nxt, flush=True)
    rnd = random.Random(seed)
    b = nxt
    while b < nxt + 10_000_000:
        w.append("tick", {"bar": b})
        group = [("bar", {"bar": b, "close": 100 + rnd.random()}),
                 ("signal", {"bar": b, "pad": "x" * rnd.randrange(0, max_pad)}),
                 ("order", {"bar": b, "side": rnd.choice(["long", "short"])})]
        if b % 5 == 4:
            group.append(("snapshot", {"bar": b, "equity": 1e5 + b}))
        if b - nxt == self_kill:
            _tear_next_write(rnd)
        w.append_many(group)
        w.commit()
        b += 1
    return 0


def _tear_next_write(rnd: random.Random) -> None:
    import os
    import signal

    import interpreter.journal as jm

    real = os.write

    def torn_write(fd: int, data: bytes) -> int:
        cut = rnd.randrange(1, len(data))
        real(fd, bytes(data[:cut]))
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")

    jm.os.write = torn_write  # type: ignore[assignment]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
