"""open_for_resume: a torn tail (and only that) is cut, recorded as `recovered`, and the MAC
chain continues; anything else refuses with a clear error and leaves the file alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interpreter.journal import JournalError, JournalWriter, open_for_resume, verify
from journal_sample import FP, KEY, lines, put, write_sample


def _finish(p: Path, fp: str = FP) -> None:
    w, _ = open_for_resume(p, KEY, None, fp)
    w.close()


def test_torn_tail_is_dropped_and_recorded(tmp_path: Path) -> None:
    p = write_sample(tmp_path / "j.jsonl", stop=False)
    good = p.read_bytes()
    garbage = b'{"bar":6,"fp":"39fa888d8bcf","seq":21,"ty'
    p.write_bytes(good + garbage)
    assert verify(p, KEY).problem.kind == "truncated"
    w, r = open_for_resume(p, KEY, None, FP, fsync="bar")
    assert r.ok and r.torn_bytes == len(garbage) and r.torn_lines == 0 and r.last_seq == 20
    assert len(r.events) == 21 and r.events[-1]["type"] == "fill"
    assert w.seq == 22  # seq 21 is the recovered event
    w.append("bar", {"bar": 6})
    w.commit()
    w.stop({})
    w.close()
    data = p.read_bytes()
    assert data.startswith(good) and garbage not in data
    rows = [json.loads(x) for x in data.splitlines()]
    rec = rows[21]
    assert rec["type"] == "recovered" and rec["seq"] == 21
    assert (rec["dropped_bytes"], rec["dropped_lines"], rec["after_seq"]) == (len(garbage), 0, 20)
    rep = verify(p, KEY)
    assert rep.ok and rep.stopped and rep.recoveries == 1 and rep.lines == 24
    assert "1 torn tail repaired" in rep.render()


def test_last_line_not_json_with_newline_is_torn(tmp_path: Path) -> None:
    p = write_sample(tmp_path / "j.jsonl", stop=False)
    p.write_bytes(p.read_bytes() + b"\x00\x00\x00\n")  # e.g. zeros after a power cut
    _finish(p)
    rep = verify(p, KEY)
    assert rep.ok and rep.recoveries == 1


def test_torn_write_group_is_dropped_whole(tmp_path: Path) -> None:
    """A group cut inside its second line: its complete first line goes too, so a bar is
    never half-recorded."""
    p = write_sample(tmp_path / "j.jsonl", stop=False)
    rows = lines(p)
    assert json.loads(rows[18])["grp"] == [0, 2]
    keep = b"".join(rows[:18])
    p.write_bytes(keep + rows[18] + rows[19][:30])
    w, r = open_for_resume(p, KEY, None, FP)
    assert (r.torn_bytes, r.torn_lines, r.last_seq) == (len(rows[18]) + 30, 1, 17)
    assert [e["seq"] for e in r.events] == list(range(18))
    w.append_many([("signal", {"bar": 5}), ("order", {"bar": 5})])
    w.close()
    data = p.read_bytes()
    assert data.startswith(keep)
    assert json.loads(data.splitlines()[18])["type"] == "recovered"
    rep = verify(p, KEY)
    assert rep.ok and rep.warnings and rep.lines == 21


def test_clean_resume_writes_nothing(tmp_path: Path) -> None:
    p = write_sample(tmp_path / "j.jsonl", stop=False)
    before = p.read_bytes()
    w, r = open_for_resume(p, KEY, None, FP)
    assert not r.torn and r.last_seq == 20 and w.seq == 21 and w.last_mac == r.last_mac
    w.close()
    assert p.read_bytes() == before
    w, _ = open_for_resume(p, KEY, None, FP)
    w.append("bar", {"bar": 6})
    w.stop({})
    w.close()
    assert verify(p, KEY).ok


def test_repeated_crashes_and_resumes(tmp_path: Path) -> None:
    p = write_sample(tmp_path / "j.jsonl", stop=False)
    for i in range(4):
        p.write_bytes(p.read_bytes() + b'{"half a line ' + bytes([48 + i]) * i)
        w, r = open_for_resume(p, KEY, None, FP)
        assert r.torn
        w.append("bar", {"bar": 6 + i})
        w.close()
    w, _ = open_for_resume(p, KEY, None, FP)
    w.stop({})
    w.close()
    rep = verify(p, KEY)
    assert rep.ok and rep.recoveries == 4 and rep.stopped


@pytest.mark.parametrize("damage", ["edited", "garbage_then_more", "deleted"])
def test_damage_before_the_tail_refuses_and_leaves_the_file(tmp_path: Path, damage: str) -> None:
    p = write_sample(tmp_path / "j.jsonl", stop=False)
    rows = lines(p)
    if damage == "edited":
        rows[5] = rows[5].replace(b'"bar":1', b'"bar":7')
    elif damage == "garbage_then_more":
        rows.insert(20, b"garbage\n")
    else:
        del rows[3]
    put(p, rows + [b'{"torn'])
    before = p.read_bytes()
    with pytest.raises(JournalError, match="cannot be resumed") as exc:
        open_for_resume(p, KEY, None, FP)
    assert exc.value.kind == {"garbage_then_more": "malformed"}.get(damage, damage)
    assert p.read_bytes() == before


def test_resume_refuses_another_key(tmp_path: Path) -> None:
    p = write_sample(tmp_path / "j.jsonl", stop=False)
    with pytest.raises(JournalError, match="written with key id") as exc:
        open_for_resume(p, b"a different key", None, FP)
    assert exc.value.kind == "foreign"


def test_resume_refuses_another_spec(tmp_path: Path) -> None:
    p = write_sample(tmp_path / "j.jsonl", stop=False)
    with pytest.raises(JournalError, match="spec fingerprint 39fa888d8bcf; this spec's is 000000000000"):
        open_for_resume(p, KEY, None, "0" * 12)


def test_resume_refuses_a_stopped_session(tmp_path: Path) -> None:
    p = write_sample(tmp_path / "j.jsonl")
    with pytest.raises(JournalError, match="ends with session_stop"):
        open_for_resume(p, KEY, None, FP)


def test_resume_refuses_without_session_start(tmp_path: Path) -> None:
    p = tmp_path / "j.jsonl"
    with pytest.raises(JournalError, match="no journal"):
        open_for_resume(p, KEY, None, FP)
    p.write_bytes(b'{"fingerprint":"39fa')  # died while writing line 0
    with pytest.raises(JournalError, match="no complete session_start"):
        open_for_resume(p, KEY, None, FP)
    assert p.read_bytes() == b'{"fingerprint":"39fa'


def test_broken_writer_refuses_more(tmp_path: Path, monkeypatch) -> None:
    import interpreter.journal as jm

    p = tmp_path / "j.jsonl"
    w = JournalWriter(p, KEY, None, FP, fsync="never")
    w.start({})

    def short_then_fail(fd, data, _calls=[]):
        _calls.append(1)
        if len(_calls) == 1:
            return real_write(fd, bytes(data[:10]))
        raise OSError(28, "No space left on device")

    real_write = jm.os.write
    monkeypatch.setattr(jm.os, "write", short_then_fail)
    with pytest.raises(OSError):
        w.append("bar", {"bar": 0})
    monkeypatch.setattr(jm.os, "write", real_write)
    with pytest.raises(JournalError, match="broken"):
        w.append("bar", {"bar": 0})
    w.close()
    w, r = open_for_resume(p, KEY, None, FP)
    assert r.torn_bytes == 10
    w.append("bar", {"bar": 0})
    w.close()
    assert verify(p, KEY).ok
