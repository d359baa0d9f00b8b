"""verify() names the first problem: its line, its kind, and nothing before it.

The sample journal (journal_sample.write_sample, 6 bars) has 22 lines: 1 session_start;
per bar a `bar` line and a two-line write group (signal + decision/order), plus a `fill` on
bars 2 and 5 (lines 11 and 21); 22 session_stop.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from interpreter.journal import NO_KEY, canonical, key_id_of, read_journal, verify, JournalWriter
from journal_sample import FP, KEY, lines, put, write_sample


@pytest.fixture
def j(tmp_path: Path) -> Path:
    p = write_sample(tmp_path / "j.jsonl")
    assert len(lines(p)) == 22
    return p


def _problem(p: Path, key: bytes = KEY):
    rep = verify(p, key)
    assert rep.status == "problem" and rep.exit_code == 1 and not rep.ok
    assert rep.problem is not None
    d = rep.to_dict()
    assert d["problem"]["line"] == rep.problem.line and d["exit_code"] == 1
    assert f":{rep.problem.line}: {rep.problem.kind}:" in rep.render()
    return rep


def _edit(p: Path, line: int, **changes) -> None:
    rows = lines(p)
    obj = json.loads(rows[line - 1])
    obj.update(changes)
    rows[line - 1] = canonical(obj) + b"\n"  # the mac is kept: the attacker has no key
    put(p, rows)


def test_edit_a_value_in_the_middle(j: Path) -> None:
    _edit(j, 12, close=1.0)  # line 12: bar 3
    rep = _problem(j)
    assert (rep.problem.kind, rep.problem.line, rep.problem.seq) == ("edited", 12, 11)
    assert rep.lines == 11 and "lines 1-11 verified" in rep.render()
    assert "MAC does not match" in rep.problem.message


def test_edit_inside_a_write_group(j: Path) -> None:
    _edit(j, 14, side="short")  # second line of bar 3's group
    rep = _problem(j)
    assert (rep.problem.kind, rep.problem.line) == ("edited", 14)
    assert rep.lines == 13


def test_edit_the_bytes_only(j: Path) -> None:
    rows = lines(j)
    rows[6] = rows[6].replace(b'"bar":1,', b'"bar": 1,')  # same values, other bytes
    put(j, rows)
    rep = _problem(j)
    assert (rep.problem.kind, rep.problem.line) == ("edited", 7)
    assert "bytes were rewritten" in rep.problem.message


def test_edit_the_seq(j: Path) -> None:
    _edit(j, 9, seq=40)
    rep = _problem(j)
    assert (rep.problem.kind, rep.problem.line) == ("edited", 9)
    assert "its seq was changed" in rep.problem.message


def test_delete_a_line(j: Path) -> None:
    rows = lines(j)
    del rows[10]  # line 11: the fill of bar 2
    put(j, rows)
    rep = _problem(j)
    assert (rep.problem.kind, rep.problem.line, rep.problem.seq) == ("deleted", 11, 11)
    assert "seq 10 missing before line 11" in rep.problem.message


def test_delete_several_lines(j: Path) -> None:
    rows = lines(j)
    del rows[4:8]  # lines 5-8
    put(j, rows)
    rep = _problem(j)
    assert (rep.problem.kind, rep.problem.line) == ("deleted", 5)
    assert "seqs 4-7 missing" in rep.problem.message and "4 lines deleted" in rep.problem.message


def test_delete_the_first_line(j: Path) -> None:
    put(j, lines(j)[1:])
    rep = _problem(j)
    assert (rep.problem.kind, rep.problem.line) == ("deleted", 1)


def test_swap_two_lines(j: Path) -> None:
    rows = lines(j)
    rows[14], rows[15] = rows[15], rows[14]  # lines 15 and 16
    put(j, rows)
    rep = _problem(j)
    assert (rep.problem.kind, rep.problem.line, rep.problem.seq) == ("reordered", 15, 15)
    assert "seq 14 comes later (line 16)" in rep.problem.message


def test_move_a_line_back(j: Path) -> None:
    rows = lines(j)
    rows.insert(17, rows[4])  # a copy of line 5 after line 17
    put(j, rows)
    rep = _problem(j)
    assert (rep.problem.kind, rep.problem.line) == ("reordered", 18)
    assert "already seen" in rep.problem.message


def test_truncate_mid_line(j: Path) -> None:
    data = j.read_bytes()
    cut = sum(len(x) for x in lines(j)[:17]) + 40  # 40 bytes into line 18
    j.write_bytes(data[:cut])
    rep = _problem(j)
    assert (rep.problem.kind, rep.problem.line) == ("truncated", 18)
    assert "torn last write" in rep.problem.message and "40 bytes" in rep.problem.message
    assert rep.lines == 17


def test_truncate_mid_group(j: Path) -> None:
    """Cut inside the second line of a write group: the whole group is the torn tail."""
    cut = sum(len(x) for x in lines(j)[:19]) + 10  # 10 bytes into line 20 (group = lines 19-20)
    j.write_bytes(j.read_bytes()[:cut])
    rep = _problem(j)
    assert (rep.problem.kind, rep.problem.line) == ("truncated", 19)
    assert "1 complete line of a write group" in rep.problem.message
    r = read_journal(j, KEY)
    assert r.ok and r.torn and r.torn_lines == 1 and r.last_seq == 17 and len(r.events) == 18


def test_truncate_at_a_group_boundary_inside_a_group(j: Path) -> None:
    """The file ends after the first line of a group: a torn tail of whole lines."""
    rows = lines(j)
    assert json.loads(rows[18])["grp"] == [0, 2]
    put(j, rows[:19])  # lines 1-18, then the first line of bar 5's group
    rep = _problem(j)
    assert (rep.problem.kind, rep.problem.line) == ("truncated", 19)
    assert read_journal(j, KEY).torn_lines == 1


def test_truncate_at_a_line_boundary(j: Path) -> None:
    put(j, lines(j)[:15])
    rep = verify(j, KEY)
    assert rep.status == "verified" and rep.exit_code == 0 and rep.lines == 15 and not rep.stopped
    [w] = rep.warnings
    assert (w.kind, w.line, w.severity) == ("truncated", 16, "warning")
    assert "ends without session_stop (still running or crashed)" in rep.render()


def test_append_a_forged_line_without_the_key(j: Path) -> None:
    rows = lines(j)
    last = json.loads(rows[-1])
    fake = {"v": 1, "seq": last["seq"] + 1, "type": "fill", "fp": FP[:12], "units": 1000, "price": 1.0}
    guess = b"not-the-key"
    fake["mac"] = hmac.new(guess, bytes.fromhex(last["mac"]) + canonical(fake), hashlib.sha256).hexdigest()
    put(j, rows + [canonical(fake) + b"\n"])
    rep = _problem(j)
    assert (rep.problem.kind, rep.problem.line) == ("edited", 23)
    assert "forged without the key" in rep.problem.message


def test_forge_instead_of_session_stop(j: Path) -> None:
    rows = lines(j)[:-1]
    last = json.loads(rows[-1])
    fake = {"v": 1, "seq": last["seq"] + 1, "type": "session_stop", "fp": FP[:12]}
    fake["mac"] = "0" * 64
    put(j, rows + [canonical(fake) + b"\n"])
    rep = _problem(j)
    assert (rep.problem.kind, rep.problem.line) == ("edited", 22)


def test_wrong_key(j: Path) -> None:
    rep = _problem(j, b"some other key")
    assert (rep.problem.kind, rep.problem.line) == ("foreign", 1)
    assert key_id_of(KEY) in rep.problem.message and key_id_of(b"some other key") in rep.problem.message
    assert rep.lines == 0


def test_rewritten_with_another_key(tmp_path: Path) -> None:
    """An attacker without the key writes a whole new journal with theirs: foreign. If they
    also copy the real key id into it, line 1 fails its MAC."""
    p = write_sample(tmp_path / "j.jsonl", key=b"attacker")
    assert _problem(p).problem.kind == "foreign"
    rows = lines(p)
    obj = json.loads(rows[0])
    obj["key_id"] = key_id_of(KEY)
    rows[0] = canonical(obj) + b"\n"
    put(p, rows)
    rep = _problem(p)
    assert (rep.problem.kind, rep.problem.line) == ("edited", 1)


def test_garbage_line_in_the_middle(j: Path) -> None:
    rows = lines(j)
    rows.insert(5, b"{not json\n")
    put(j, rows)
    rep = _problem(j)
    assert (rep.problem.kind, rep.problem.line) == ("malformed", 6)


def test_empty_journal(tmp_path: Path) -> None:
    p = tmp_path / "j.jsonl"
    p.write_bytes(b"")
    rep = _problem(p)
    assert (rep.problem.kind, rep.problem.line) == ("truncated", 1)


def test_no_key_is_never_success(j: Path) -> None:
    rep = verify(j, None)
    assert rep.status == "no_key" and rep.exit_code == 2 and not rep.ok and rep.problem is None
    text = rep.render()
    assert NO_KEY in text and "verification impossible" in text and "NOT verified" in text
    assert key_id_of(KEY) in text and ": verified" not in text
    d = rep.to_dict()
    assert d["ok"] is False and d["exit_code"] == 2 and d["status"] == "no_key"
    # the same without a key even when the file is tampered: no claim either way
    _edit(j, 3, bar=99)
    assert verify(j, None).status == "no_key"


def test_read_without_key_checks_structure_only(j: Path) -> None:
    r = read_journal(j, None)
    assert r.ok and not r.verified and len(r.events) == 22
    _edit(j, 3, bar=99)
    assert read_journal(j, None).ok  # the MAC is not checked without the key...
    assert read_journal(j, KEY).problem.kind == "edited"  # ...and is with it


def test_a_key_holder_cannot_write_after_stop(tmp_path: Path) -> None:
    """Lines after session_stop are refused even with valid MACs (only a key holder can make them)."""
    p = write_sample(tmp_path / "j.jsonl")
    w = JournalWriter(tmp_path / "k.jsonl", KEY, None, FP, fsync="never")
    w.start({})
    w.close()
    rows = lines(p)
    last = json.loads(rows[-1])
    extra = {"v": 1, "seq": last["seq"] + 1, "type": "fill", "fp": FP[:12]}
    extra["mac"] = hmac.new(KEY, bytes.fromhex(last["mac"]) + canonical(extra), hashlib.sha256).hexdigest()
    put(p, rows + [canonical(extra) + b"\n"])
    rep = _problem(p)
    assert (rep.problem.kind, rep.problem.line) == ("malformed", 23)
    assert "after session_stop" in rep.problem.message


def test_missing_file_is_an_error_not_a_report(tmp_path: Path) -> None:
    from interpreter.journal import JournalError

    for key in (KEY, None):
        with pytest.raises(JournalError, match="cannot read journal"):
            verify(tmp_path / "nope.jsonl", key)


def test_verified_report_gives_the_last_mac(j: Path) -> None:
    rep = verify(j, KEY)
    last = json.loads(lines(j)[-1])["mac"]
    assert rep.last_mac == last and last in rep.render() and rep.to_dict()["last_mac"] == last
