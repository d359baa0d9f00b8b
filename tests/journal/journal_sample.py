"""Helpers for the journal tests: a sample session, and reading/writing a journal's lines."""

from __future__ import annotations

from pathlib import Path

from interpreter.journal import JournalWriter

KEY = b"test-journal-key-0123456789abcdef"
FP = "39fa888d8bcf0123456789"
START = {"fingerprint": FP, "tradespec": "0.1.0", "params": {"fast": 10, "slow": 30},
         "data": {"source": "data/spy.csv", "sha256": "ab" * 32}}


def write_sample(path: Path, bars: int = 6, key: bytes = KEY, stop: bool = True, fsync: str = "never") -> Path:
    """session_start, then per bar: `bar` alone, then a group (signal, decision or order),
    then a commit; every third bar also a `fill`; then session_stop."""
    w = JournalWriter(path, key, None, FP, fsync=fsync)
    w.start(START)
    for b in range(bars):
        w.append("bar", {"bar": b, "ts": f"2024-01-{b + 1:02d}T00:00:00+00:00", "close": 100.0 + b * 0.25})
        second = ("order", {"bar": b, "side": "long", "action": "entry"}) if b % 2 else \
            ("decision", {"bar": b, "action": "hold", "reason": "no_signal"})
        w.append_many([("signal", {"bar": b, "values": {"fast": 1.0 + b, "slow": float("nan")}}), second])
        if b % 3 == 2:
            w.append("fill", {"bar": b, "units": 10, "price": 100.5})
        w.commit()
    if stop:
        w.stop({"bars": bars})
    w.close()
    return path


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def put(path: Path, rows: list[bytes]) -> None:
    path.write_bytes(b"".join(rows))


def line_of(path: Path, pred) -> int:
    """1-based number of the first line whose text satisfies pred."""
    for i, raw in enumerate(lines(path), 1):
        if pred(raw.decode()):
            return i
    raise AssertionError("no such line")
