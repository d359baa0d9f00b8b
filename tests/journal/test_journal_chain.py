"""The journal's line format and MAC chain: round trip, every MAC recomputed independently,
the same events and key give the same bytes, and the writer's rules."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

import numpy as np
import pytest

from interpreter.journal import (SCHEMA, JournalError, JournalWriter, key_id_of, load_key,
                                 read_journal, verify)
from journal_sample import FP, KEY, START, lines, write_sample


def test_round_trip(tmp_path: Path) -> None:
    p = write_sample(tmp_path / "j.jsonl")
    r = read_journal(p, KEY)
    assert r.ok and r.verified and not r.torn and r.stopped
    assert [e["seq"] for e in r.events] == list(range(22))
    assert r.events[0]["type"] == "session_start" and r.events[-1]["type"] == "session_stop"
    start = r.session_start
    assert start is not None
    assert start["schema"] == SCHEMA and start["key_id"] == key_id_of(KEY) and start["fsync"] == "never"
    assert start["params"] == START["params"] and start["data"] == START["data"]
    assert start["fingerprint"] == FP and all(e["fp"] == FP[:12] for e in r.events)
    bars = [e for e in r.events if e["type"] == "bar"]
    assert [b["close"] for b in bars] == [100.0 + b * 0.25 for b in range(6)]
    sig = next(e for e in r.events if e["type"] == "signal")
    assert sig["values"] == {"fast": 1.0, "slow": None}  # nan -> null
    assert sig["grp"] == [0, 2]
    assert r.last_seq == 21 and r.last_mac == r.events[-1]["mac"] and r.good_bytes == p.stat().st_size
    rep = verify(p, KEY)
    assert rep.ok and rep.exit_code == 0 and rep.lines == 22 and rep.stopped and not rep.warnings
    assert "verified: 22 lines (seq 0-21)" in rep.render()


def test_every_mac_recomputed_independently(tmp_path: Path) -> None:
    p = write_sample(tmp_path / "j.jsonl")
    prev = bytes(32)
    for i, raw in enumerate(lines(p)):
        assert raw.endswith(b"\n") and raw.count(b"\n") == 1
        obj = json.loads(raw)
        assert obj["seq"] == i and obj["v"] == 1
        mac = obj.pop("mac")
        body = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
        assert hmac.new(KEY, prev + body, hashlib.sha256).hexdigest() == mac
        obj["mac"] = mac
        assert json.dumps(obj, sort_keys=True, separators=(",", ":")).encode() + b"\n" == raw
        prev = bytes.fromhex(mac)


def test_same_events_same_key_same_bytes(tmp_path: Path) -> None:
    a = write_sample(tmp_path / "a.jsonl").read_bytes()
    b = write_sample(tmp_path / "b.jsonl").read_bytes()
    assert a == b
    c = write_sample(tmp_path / "c.jsonl", key=b"another key").read_bytes()
    assert c != a
    strip = lambda data: [{k: v for k, v in json.loads(x).items() if k not in ("mac", "key_id")}  # noqa: E731
                          for x in data.splitlines()]
    assert strip(a) == strip(c)  # only the MACs and the key id differ


def test_line_format(tmp_path: Path) -> None:
    p = tmp_path / "j.jsonl"
    with JournalWriter(p, KEY, key_id_of(KEY), FP, fsync="never") as w:
        w.start({"fingerprint": FP})
        w.append("bar", {"x": 0.1 + 0.2, "big": 1e300, "neg": float("-inf"), "i": np.int64(7),
                         "f": np.float64(2.5), "b": np.bool_(False), "t": (1, 2), "s": "é\n\"",
                         "nested": {"z": 1, "a": [float("nan"), 3]}})
    raw = lines(p)[1]
    assert raw == (b'{"b":false,"big":1e+300,"f":2.5,"fp":"39fa888d8bcf","i":7,"mac":"'
                   + json.loads(raw)["mac"].encode()
                   + b'","neg":null,"nested":{"a":[null,3],"z":1},"s":"\\u00e9\\n\\"","seq":1,"t":[1,2],'
                     b'"type":"bar","v":1,"x":0.30000000000000004}\n')
    assert verify(p, KEY).ok  # a journal without session_stop still verifies (with a warning)


def test_key_is_never_written(tmp_path: Path) -> None:
    p = write_sample(tmp_path / "j.jsonl")
    data = p.read_bytes()
    assert KEY not in data and KEY.hex().encode() not in data
    assert key_id_of(KEY).encode() in data and len(key_id_of(KEY)) == 16


def test_writer_rules(tmp_path: Path) -> None:
    p = tmp_path / "j.jsonl"
    with pytest.raises(ValueError, match="fsync policy"):
        JournalWriter(p, KEY, None, FP, fsync="sometimes")
    with pytest.raises(ValueError, match="not the id of this key"):
        JournalWriter(p, KEY, "0" * 16, FP)
    w = JournalWriter(p, KEY, None, FP)
    with pytest.raises(JournalError, match="not started"):
        w.append("bar", {})
    with pytest.raises(ValueError, match="key_id"):
        w.start({"key_id": "abc"})
    w.start({})
    for bad in ("session_stop", "recovered", "session_start"):
        with pytest.raises(ValueError, match="written by the journal"):
            w.append(bad, {})
    with pytest.raises(ValueError, match="lowercase"):
        w.append("Bar", {})
    with pytest.raises(ValueError, match="reserved"):
        w.append("bar", {"seq": 3})
    with pytest.raises(TypeError, match="cannot write"):
        w.append("bar", {"when": object()})
    with pytest.raises(TypeError, match="field names"):
        w.append("bar", {"values": {1: 2}})
    assert w.seq == 1  # nothing above was written
    assert w.append_many([]) == []
    assert w.append_many([("a", {}), ("b", {}), ("c", {})]) == [1, 2, 3]
    w.commit()
    w.stop({})
    with pytest.raises(JournalError, match="stopped"):
        w.append("bar", {})
    w.close()
    w.close()  # idempotent
    r = read_journal(p, KEY)
    assert [e["type"] for e in r.events] == ["session_start", "a", "b", "c", "session_stop"]
    with pytest.raises(JournalError, match="already exists"):
        JournalWriter(p, KEY, None, FP).start({})


@pytest.mark.parametrize("policy", ["always", "bar", "never"])
def test_fsync_policies_write_the_same_lines(tmp_path: Path, policy: str, monkeypatch) -> None:
    import interpreter.journal as jm

    calls = []
    monkeypatch.setattr(jm, "_fsync", lambda fd: calls.append(fd))
    p = write_sample(tmp_path / "j.jsonl", fsync=policy)
    ref = write_sample(tmp_path / "ref.jsonl", fsync="never").read_bytes()
    assert [json.loads(x)["type"] for x in p.read_bytes().splitlines()] == \
        [json.loads(x)["type"] for x in ref.splitlines()]
    assert verify(p, KEY).ok
    # start + stop always; "bar": one per commit (6 bars); "always": one per append call (18)
    assert len(calls) == {"never": 0, "bar": 2 + 6, "always": 2 + 6 * 2 + 2}[policy]


def test_one_writer_at_a_time(tmp_path: Path) -> None:
    pytest.importorskip("fcntl")
    from interpreter.journal import open_for_resume

    p = tmp_path / "j.jsonl"
    w = JournalWriter(p, KEY, None, FP)
    w.start({})
    with pytest.raises(JournalError, match="in use by another process"):
        open_for_resume(p, KEY, None, FP)
    w.close()
    w2, r = open_for_resume(p, KEY, None, FP)
    assert r.last_seq == 0
    w2.close()


def test_load_key(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("TRADESPEC_JOURNAL_KEY", raising=False)
    assert load_key(None) is None
    monkeypatch.setenv("TRADESPEC_JOURNAL_KEY", "")
    assert load_key(None) is None
    monkeypatch.setenv("TRADESPEC_JOURNAL_KEY", "s3cret é")
    assert load_key(None) == ("s3cret é".encode(), key_id_of("s3cret é".encode()))
    f = tmp_path / "key"
    f.write_bytes(b"from-file\n")
    assert load_key(f) == (b"from-file", key_id_of(b"from-file"))  # the file wins, newline stripped
    f.write_bytes(b"crlf\r\n")
    assert load_key(str(f))[0] == b"crlf"
    f.write_bytes(b"\x00\xffbin")
    assert load_key(f)[0] == b"\x00\xffbin"
    f.write_bytes(b"\n")
    with pytest.raises(JournalError, match="empty"):
        load_key(f)
    with pytest.raises(JournalError, match="cannot read the journal key file"):
        load_key(tmp_path / "missing")
    assert key_id_of(b"abc") == hashlib.sha256(b"abc").hexdigest()[:16]


def test_append_returns_after_the_line_is_in_the_file(tmp_path: Path) -> None:
    """'Flushed before the action takes effect': another reader sees the line as soon as
    append returns, with no close or commit."""
    p = tmp_path / "j.jsonl"
    w = JournalWriter(p, KEY, None, FP, fsync="never")
    w.start({})
    seq = w.append("order", {"side": "long"})
    r = read_journal(p, KEY)
    assert r.ok and r.last_seq == seq and r.events[-1]["type"] == "order"
    w.append_many([("fill", {"units": 1}), ("snapshot", {"equity": 1.0})])
    assert read_journal(p, KEY).last_seq == 3
    assert os.path.getsize(p) == read_journal(p, KEY).good_bytes
    w.close()
