"""SIGKILL a real writer process at random moments, many times, on the same journal.

After every kill, verify() finds at most a torn final write; open_for_resume() (in the next
writer) repairs it; the final journal verifies, and its bars are 0, 1, 2, ... each recorded
exactly once with its whole write group: no bar half-written, repeated or lost.

Four kinds of kill, chosen at random (seeded): during ordinary bars (small writes, fsync at
each bar); during bars with megabyte writes and no fsync (the kill may land inside the
kernel's copy of a write, which then stops at a page boundary: a genuinely torn tail, often
mid-group); while the writer is still starting or resuming; and "self" kills, where the
writer puts a random prefix of a bar's group on disk and SIGKILLs itself (a torn tail every
time, cut anywhere in the group).
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from interpreter.journal import open_for_resume, read_journal, verify

HERE = Path(__file__).resolve().parent
HELPER = HERE / "journal_crash_writer.py"
KEY = b"crash-test-key"
FP = "c0ffee123456"
SEED = 20240611
KILLS = 12

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL") or sys.platform == "win32",
                                reason="needs SIGKILL and select on pipes")


def _spawn(path: Path, mode: str, seed: int, max_pad: int, fsync: str, self_kill: int = -1) -> subprocess.Popen:
    env = {**os.environ, "TRADESPEC_JOURNAL_KEY": KEY.decode()}
    return subprocess.Popen([sys.executable, str(HELPER), str(path), mode, str(seed), str(max_pad), fsync,
                             str(self_kill)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=HERE.parents[1])


def _wait_ready(proc: subprocess.Popen, timeout: float = 60.0) -> int:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the writer did not start in time"
    line = proc.stdout.readline().decode()
    if not line.startswith("ready"):
        proc.kill()
        proc.wait()
        raise AssertionError(f"writer failed: {line!r} {proc.stderr.read().decode()}")
    return int(line.split()[1])


def _kill(proc: subprocess.Popen, send: bool = True) -> None:
    if send:
        proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    err = proc.stderr.read().decode()
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, f"the writer ended by itself ({proc.returncode}): {err}"


def _check_after_crash(path: Path) -> tuple[bool, int]:
    """At most a torn final write. Returns (torn?, complete lines of a cut group)."""
    rep = verify(path, KEY)
    r = read_journal(path, KEY)
    assert r.ok, rep.render()
    if rep.status == "verified":
        assert not r.torn and rep.warnings and "ends without session_stop" in rep.warnings[0].message
        return False, 0
    assert rep.problem is not None and rep.problem.kind == "truncated", rep.render()
    assert r.torn and r.good_bytes + r.torn_bytes == path.stat().st_size
    with open(path, "rb") as f:
        good_lines = f.read(r.good_bytes).count(b"\n")
    assert rep.problem.line == good_lines + 1 == r.torn_line
    return True, r.torn_lines


def test_sigkill_at_random_moments(tmp_path: Path) -> None:
    rnd = random.Random(SEED)
    p = tmp_path / "paper.jsonl"
    stats = {"small": 0, "big": 0, "early": 0, "self": 0, "torn": 0, "torn_groups": 0}
    kinds = ["small", "self", "self"] + [rnd.choice(["small", "big", "early", "self"]) for _ in range(KILLS - 3)]
    for kill, kind in enumerate(kinds):
        stats[kind] += 1
        max_pad, fsync = (1_000_000, "never") if kind == "big" else (24_000, "bar")
        self_kill = rnd.randrange(0, 40) if kind == "self" else -1
        proc = _spawn(p, "start" if kill == 0 else "resume", rnd.randrange(1 << 30), max_pad, fsync, self_kill)
        if kind == "early":  # somewhere between interpreter start-up and the first bars, maybe mid-resume
            time.sleep(rnd.uniform(0.0, 1.0))
        else:
            _wait_ready(proc)
            if kind != "self":
                time.sleep(rnd.uniform(0.01, 0.05) if kind == "big" else rnd.uniform(0.02, 0.3))
        _kill(proc, send=kind != "self")
        torn, cut = _check_after_crash(p)
        assert torn or kind != "self"
        stats["torn"] += torn
        stats["torn_groups"] += cut > 0

    w, r = open_for_resume(p, KEY, None, FP)
    assert r.ok
    w.stop({"reason": "test over"})
    w.close()
    rep = verify(p, KEY)
    assert rep.ok and rep.stopped and not rep.warnings, rep.render()

    events = read_journal(p, KEY).events
    groups: list[list[dict]] = []
    for e in events:
        assert e["type"] in ("session_start", "tick", "bar", "signal", "order", "snapshot", "recovered",
                             "session_stop")
        if "grp" in e:
            if e["grp"][0] == 0:
                groups.append([])
            groups[-1].append(e)
    bars = [g[0]["bar"] for g in groups]
    assert bars == list(range(len(bars))), "a bar was repeated or lost"
    assert len(bars) > KILLS
    for g in groups:
        b = g[0]["bar"]
        assert [e["type"] for e in g] == ["bar", "signal", "order"] + (["snapshot"] if b % 5 == 4 else [])
        assert all(e["bar"] == b and e["grp"] == [i, len(g)] for i, e in enumerate(g))
    # a kill mid-resume (after the cut, before the `recovered` line) repairs without a record
    assert len([e for e in events if e["type"] == "recovered"]) <= stats["torn"]
    print(f"\n{stats}, {len(bars)} bars, {len(events)} lines, {p.stat().st_size / 1e6:.1f} MB")
