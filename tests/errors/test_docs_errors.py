"""docs/errors.md is complete and true.

Every code in ``dsl.errors.CODES`` has a section; every code the corpus produces is in
CODES; no code in CODES is dead. Each documented bad spec, checked with the shipped specs,
produces exactly the message printed under it, and each corrected spec produces no error.
The data examples (D1xx) produce their code, and their corrections do not.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import dsl
from dsl.errors import CODES, render

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "errors.md"
CASES = sorted((ROOT / "tests" / "errors" / "cases").glob("bad_*.yaml"))

_BLOCK = re.compile(r"^(Bad|Corrected|Message)([^\n]*):\n\n```(\w+)\n(.*?)\n```", re.M | re.S)


@dataclass
class Section:
    code: str
    title: str
    body: str
    blocks: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # label -> (extra, lang, text)


def sections() -> dict[str, Section]:
    text = DOC.read_text(encoding="utf-8")
    out: dict[str, Section] = {}
    for chunk in re.split(r"^## ", text, flags=re.M)[1:]:
        heading, _, body = chunk.partition("\n")
        code, _, title = heading.partition(" ")
        sec = Section(code, title.strip(), body)
        for m in _BLOCK.finditer(body):
            sec.blocks.setdefault(m.group(1), (m.group(2), m.group(3), m.group(4)))
        assert code not in out, f"{code} is documented twice"
        out[code] = sec
    return out


SECTIONS = sections()
YAML_EXAMPLES = sorted(c for c, s in SECTIONS.items() if s.blocks.get("Bad", ("", ""))[1] == "yaml")
CSV_EXAMPLES = sorted(c for c, s in SECTIONS.items() if s.blocks.get("Bad", ("", ""))[1] == "csv")


def test_every_code_has_a_section_with_its_title():
    assert set(SECTIONS) == set(CODES), (
        f"missing: {sorted(set(CODES) - set(SECTIONS))}, unknown: {sorted(set(SECTIONS) - set(CODES))}")
    for code, title in CODES.items():
        assert SECTIONS[code].title == title, code
        assert "**When:**" in SECTIONS[code].body, f"{code}: say when it happens"
        assert "Message" in SECTIONS[code].body, f"{code}: show the message"


def test_every_code_the_corpus_produces_is_known(monkeypatch):
    monkeypatch.chdir(ROOT)
    produced: set[str] = set()
    for case in CASES:
        produced |= {d.code for d in dsl.analyze([case.relative_to(ROOT).as_posix()]).diagnostics}
    assert produced <= set(CODES), sorted(produced - set(CODES))
    assert len(produced) >= 35


def test_no_code_is_dead():
    """A code in the table is emitted somewhere (as the literal "CODE") in dsl/ or interpreter/."""
    sources = "".join(p.read_text(encoding="utf-8") for d in ("dsl", "interpreter")
                      for p in (ROOT / d).rglob("*.py") if p.name != "errors.py")
    dead = [c for c in CODES if f'"{c}"' not in sources]
    assert not dead, f"codes never produced: {dead}"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "specs", work / "specs")
    return work


def _check_example(work: Path, text: str) -> dsl.Analysis:
    (work / "example.yaml").write_text(text + "\n", encoding="utf-8")
    return dsl.analyze(["example.yaml", "specs"])


@pytest.mark.parametrize("code", YAML_EXAMPLES)
def test_documented_yaml_example(code, workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    sec = SECTIONS[code]
    assert {"Bad", "Corrected", "Message"} <= set(sec.blocks), code
    analysis = _check_example(workdir, sec.blocks["Bad"][2])
    mine = [d for d in analysis.diagnostics if d.span and d.span.file == "example.yaml"]
    hits = [d for d in mine if d.code == code]
    assert hits, f"{code}: the bad example gives {[(d.code, d.message) for d in mine]}"
    actual = render(hits[0], analysis.sources)
    assert actual == sec.blocks["Message"][2], f"docs/errors.md {code} is out of date; the message is now:\n{actual}"
    analysis = _check_example(workdir, sec.blocks["Corrected"][2])
    errors = [d for d in analysis.errors if d.span and d.span.file == "example.yaml"]
    assert not errors, f"{code}: the corrected example still gives {[(d.code, d.message) for d in errors]}"


@pytest.mark.parametrize("code", CSV_EXAMPLES)
def test_documented_data_example(code, workdir, monkeypatch):
    from interpreter.data import check_file

    monkeypatch.chdir(workdir)
    sec = SECTIONS[code]
    extra = sec.blocks["Bad"][0]
    tf = re.search(r"timeframe `([^`]+)`", extra)
    kw = {"timeframe": tf.group(1)} if tf else {}
    (workdir / "bars.csv").write_text(sec.blocks["Bad"][2] + "\n", encoding="utf-8")
    codes = {d.code for d in check_file("bars.csv", **kw).findings}
    assert code in codes, f"{code}: the bad data gives {sorted(codes)}"
    (workdir / "bars.csv").write_text(sec.blocks["Corrected"][2] + "\n", encoding="utf-8")
    codes = {d.code for d in check_file("bars.csv", **kw).findings}
    assert code not in codes, f"{code}: the corrected data still gives it"
    header = sec.blocks["Message"][2].splitlines()[0]
    assert f" {code} " in header
