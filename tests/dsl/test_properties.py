"""Whatever is written in a spec file, ``analyze`` answers with diagnostics, never a crash.

Three generators: arbitrary text (and bytes) as a whole file; YAML documents built from
dicts, lists and scalars, some shaped like real documents with random fields; and formula
strings from a grammar-ish alphabet placed in a strategy's signal, entry and fuzzy rules.
Every diagnostic must render, and every span must lie inside the file it names.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dsl
from dsl.errors import CODES, render, render_all
from dsl.models import MODELS

#: TRADESPEC_FUZZ_EXAMPLES=5000 for a longer hunt; 200 keeps the suite fast
SETTINGS = settings(max_examples=int(os.environ.get("TRADESPEC_FUZZ_EXAMPLES", "200")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
WORK = Path(tempfile.mkdtemp(prefix="tradespec-props-"))
atexit.register(shutil.rmtree, WORK, True)

UNIVERSE = {"kind": "universe", "name": "u",
            "instruments": [{"id": "spx", "symbol": "SPX", "data": "spx.csv", "timeframe": "1d"},
                            {"id": "ndx", "symbol": "NDX", "data": "ndx.csv", "timeframe": "1d"}]}


def analyze_file(name: str, data: str | bytes) -> dsl.Analysis:
    path = WORK / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8", newline="")
    analysis = dsl.analyze([str(path)])
    assert_well_formed(analysis)
    return analysis


def assert_well_formed(analysis: dsl.Analysis) -> None:
    text = render_all(analysis.diagnostics, analysis.sources)
    assert isinstance(text, str)
    for d in analysis.diagnostics:
        assert d.code in CODES, d
        assert d.severity in ("error", "warning", "info")
        assert isinstance(render(d, analysis.sources), str)
        assert d.to_dict()["code"] == d.code
        if d.span is None:
            continue
        lines = analysis.sources.get(d.span.file)
        if lines is None:
            assert d.code in ("E105", "E108"), d
            continue
        assert 1 <= d.span.line <= len(lines) + 1, d
        assert 1 <= d.span.end_line <= len(lines) + 1, d
        assert d.span.col >= 1 and d.span.end_col >= 1, d
        assert (d.span.end_line, d.span.end_col) >= (d.span.line, d.span.col), d


# ---------------------------------------------------------------- arbitrary text


@SETTINGS
@given(st.text(max_size=400))
def test_arbitrary_text_as_a_file(text):
    analyze_file("any.yaml", text)


@SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes_as_a_file(data):
    analyze_file("bytes.yaml", data)


YAMLISH = st.lists(
    st.sampled_from(["kind: strategy\n", "kind: fuzzy\n", "name: x\n", "---\n", "  ", "- ", ": ",
                     "{", "}", "[", "]", ",", "'", '"', "&a ", "*a", "!!str ", "|\n", ">\n", "#",
                     "\t", "\n", "signals:\n", "  a: ", "sma(close, 3)", "x", "1", "%", "@"]),
    max_size=40).map("".join)


@SETTINGS
@given(YAMLISH)
def test_yaml_like_fragments(text):
    analyze_file("fragments.yaml", text)


# ---------------------------------------------------------------- YAML documents

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
                    st.sampled_from(["1d", "5m", "2%", "10bps", "3 bars", "00:00 UTC", "core",
                                     "close > open", "sma(close, 20)", "us_indices", "fixed_units",
                                     "Mon-Fri 13:30-20:00 UTC", "if a is b then c is d"]))
KEYS = st.one_of(st.text(min_size=1, max_size=10),
                 st.sampled_from(sorted({f for m in MODELS.values() for f in m.model_fields})
                                 + ["long", "short", "method", "default", "range", "terms", "rules",
                                    "portfolio", "strategy", "instrument", "fill", "commission"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(KEYS, inner, max_size=5)),
                      max_leaves=25)


@SETTINGS
@given(st.dictionaries(KEYS, VALUES, max_size=8), st.sampled_from(sorted(MODELS) + [None]))
def test_random_documents(doc, kind):
    if kind is not None:
        doc = {"kind": kind, "name": "doc", **doc}
    text = yaml.safe_dump_all([doc, UNIVERSE], allow_unicode=True, sort_keys=False)
    analyze_file("doc.yaml", text)


@SETTINGS
@given(VALUES)
def test_random_values_at_the_root(value):
    analyze_file("root.yaml", yaml.safe_dump(value, allow_unicode=True))


# ---------------------------------------------------------------- formulas

FORMULA_PIECES = st.one_of(
    st.sampled_from(["close", "open", "high", "volume", "sma", "ema", "rsi", "atr", "bollinger",
                     "donchian", "adx", "fast", "sig", "bars_in_trade", "entry_price", "x", "e",
                     "and", "or", "not", "if", "else", "true", "false", "upper", "lower"]),
    st.sampled_from(["0", "1", "14", "2.5", ".5", "1e3", "-1", "20%", "5bps", "3 bars", "5m", "1d"]),
    st.sampled_from(["+", "-", "*", "/", "^", "<", ">", "<=", ">=", "==", "!=", "=", "&&", "||",
                     "!", "(", ")", "[", "]", ",", ".", "@", "spx", "'", '"', "#", "$", " ", "  "]),
    st.characters(codec="utf-8"),
)
FORMULAS = st.lists(FORMULA_PIECES, min_size=1, max_size=25).map("".join)


def strategy_doc(formula: str) -> dict:
    return {"kind": "strategy", "name": "s", "universe": "u", "timeframe": "1d",
            "params": {"fast": {"default": 20, "range": [5, 50]}},
            "signals": {"sig": formula, "ok": "close > sma(close, fast)"},
            "entry": {"long": f"sig and ok"}, "exit": {"long": formula},
            "stops": {"stop_loss": formula}}


@SETTINGS
@given(FORMULAS)
def test_arbitrary_formulas(formula):
    text = yaml.safe_dump_all([strategy_doc(formula), UNIVERSE], allow_unicode=True, sort_keys=False)
    analysis = analyze_file("formula.yaml", text)
    lines = analysis.sources[str(WORK / "formula.yaml")]
    for d in analysis.diagnostics:
        if d.code.startswith(("E3", "E5")) and d.span is not None:
            assert d.span.line <= len(lines), d


@SETTINGS
@given(FORMULAS, st.sampled_from(["plain", "block", "folded"]))
def test_arbitrary_formulas_in_hand_written_yaml(formula, style):
    body = formula.replace("\n", " ").replace("\r", " ")
    if style == "plain":
        value = yaml.safe_dump(body, allow_unicode=True, width=10_000).strip()
        if value.endswith("..."):
            value = value[:-3].strip()
        value = value.splitlines()[0] if value else "''"
        sig = f"  sig: {value}\n"
    else:
        indicator = "|" if style == "block" else ">"
        sig = f"  sig: {indicator}\n    {body}\n    and close > open\n"
    text = ("kind: strategy\nname: s\nuniverse: u\ntimeframe: 1d\nsignals:\n" + sig
            + "entry:\n  long: sig\n---\n" + yaml.safe_dump(UNIVERSE))
    analyze_file("hand.yaml", text)


@SETTINGS
@given(FORMULAS)
def test_arbitrary_fuzzy_rules_and_terms(text):
    doc = {"kind": "fuzzy", "name": "f",
           "inputs": {"rsi": {"range": [0, 100], "terms": {"low": text, "high": "ramp(60, 80)"}}},
           "outputs": {"size": {"range": [0, 1], "terms": {"big": "triangle(0.5, 1, 1)"}}},
           "rules": [f"if rsi is {text} then size is big", text, "if rsi is high then size is big"]}
    analyze_file("fuzzy.yaml", yaml.safe_dump(doc, allow_unicode=True))
