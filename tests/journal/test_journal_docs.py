"""docs/journal.md tells the truth: its example journal is what the writer writes, its
verification snippet checks it, and the reports it shows are what verify() renders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from interpreter.journal import JournalWriter, open_for_resume, verify

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "journal.md").read_text(encoding="utf-8")
KEY = b"example-key"
FP = "39fa888d8bcf"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", DOC, re.M | re.S)


def _example(path: Path) -> Path:
    w = JournalWriter(path, KEY, None, FP, fsync="bar")
    w.start({"fingerprint": "39fa888d8bcf5e0c", "tradespec": "0.1.0", "mode": "paper",
             "params": {"fast": 10, "slow": 30}, "data": {"source": "data/spy_daily.csv"}})
    w.append("bar", {"bar": 0, "ts": "2024-01-02T00:00:00+00:00", "close": 472.65})
    w.append_many([("signal", {"bar": 0, "entry": ["long"], "values": {"fast": 470.1, "slow": None}}),
                   ("order", {"bar": 0, "action": "entry", "side": "long", "reason": "entry"})])
    w.commit()
    w.stop({"reason": "end of feed"})
    w.close()
    return path


def test_example_journal_is_what_the_writer_writes(tmp_path: Path) -> None:
    [shown] = _blocks("json")
    assert _example(tmp_path / "ex.jsonl").read_text() == shown


def test_verification_snippet_checks_the_example(tmp_path: Path) -> None:
    [snippet] = _blocks("python")
    path = _example(tmp_path / "ex.jsonl")
    exec(snippet, {"path": path, "key": KEY})
    rows = path.read_bytes().splitlines(True)
    rows[1] = rows[1].replace(b"472.65", b"482.65")
    path.write_bytes(b"".join(rows))
    with pytest.raises(AssertionError):
        exec(snippet, {"path": path, "key": KEY})


def test_reports_shown_are_rendered(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    no_key, reports = [b for b in _blocks("text") if re.match(r"\S+\.jsonl", b)]
    _example(Path("j.jsonl"))
    assert verify("j.jsonl", None).render() + "\n" == no_key

    shown = reports.rstrip("\n").split("\n\n")
    Path("a").mkdir()
    good = _example(Path("a") / "ex.jsonl")
    rendered = [verify(good, KEY).render()]
    rows = good.read_bytes().splitlines(True)
    edited = Path("b") / "ex.jsonl"
    edited.parent.mkdir()
    edited.write_bytes(b"".join([rows[0], rows[1].replace(b"472.65", b"482.65")] + rows[2:]))
    rendered.append(verify(edited, KEY).render())
    torn = Path("c") / "ex.jsonl"
    torn.parent.mkdir()
    torn.write_bytes(b"".join(rows[:3]) + rows[3][:50])
    rendered.append(verify(torn, KEY).render())
    strip = lambda s: re.sub(r"^[abc]/", "", s, flags=re.M)  # noqa: E731
    assert [strip(r) for r in rendered] == shown
    w, r = open_for_resume(torn, KEY, None, FP)
    w.close()
    assert r.torn_bytes == 248 and r.torn_lines == 1  # as the report above says
