"""Explain documents: snapshots of every shipped strategy, escaping, and every warning kind.

An updated snapshot is a change in what compliance reads: say why in the commit.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers_compliance import CONSERVATIVE, UNIVERSE, project

import dsl
from dsl.errors import DslError
from dsl.explain import explain
from dsl.parse import parse_expr, plain_locator
from dsl.english import Context, english

ROOT = Path(__file__).resolve().parents[2]
STRATEGIES = sorted(p.stem for p in (ROOT / "specs" / "strategies").glob("*.yaml"))


@pytest.fixture(scope="module")
def shipped():
    import os

    here = os.getcwd()
    os.chdir(ROOT)
    try:
        analysis = dsl.analyze(["specs/"])
    finally:
        os.chdir(here)
    assert analysis.ok
    return analysis.project


@pytest.mark.parametrize("name", STRATEGIES)
def test_strategy_markdown_snapshot(shipped, name, snapshot):
    assert explain(shipped, name).to_markdown() == snapshot


def test_strategy_html_snapshot(shipped, snapshot):
    assert explain(shipped, "rsi_reversion").to_html() == snapshot


@pytest.mark.parametrize("target", ["schedule.stage4_multi", "fuzzy.fis_sizer", "risk_profile.aggressive",
                                    "universe.us_indices"])
def test_other_kinds_markdown_snapshot(shipped, target, snapshot):
    assert explain(shipped, target).to_markdown() == snapshot


def test_strategy_document_says_what_compliance_needs(shipped):
    md = explain(shipped, "ma_crossover").to_markdown()
    for text in ("## Warnings", "## What it trades", "## Signals", "## Entry and exit", "## Sizing", "## Stops",
                 "## Costs", "## Risk limits (moderate)", "## Documents", "action on breach",
                 "the 20-bar simple moving average of close", "fast_ma crosses above slow_ma",
                 "`crosses_above(fast_ma, slow_ma)`", "specs/strategies/ma_crossover.yaml:15", "core: a production strategy"):
        assert text in md, text
    graph_fp = __import__("dsl.compile", fromlist=["compile_strategy"]).compile_strategy(shipped, "ma_crossover").fingerprint
    assert graph_fp in md  # the fingerprint every result carries


def test_schedule_has_slots_table_and_timeline(shipped):
    doc = explain(shipped, "stage4_multi")
    md, html = doc.to_markdown(), doc.to_html()
    assert "| slot | Mon | Tue | Wed | Thu | Fri | Sat | Sun |" in md
    assert "| 2 vol_target | 00:00-24:00 |" in md
    assert 'class="ts-week"' in html and html.count("<rect") > 10
    assert "Slot 1: strategy zscore_reversion" in md


def test_fuzzy_terms_are_pictured_and_rules_are_sentences(shipped):
    doc = explain(shipped, "fis_sizer")
    html = doc.to_html()
    assert html.count('class="ts-terms"') == 4  # rsi, trend, vol, size
    assert "<polyline" in html
    md = doc.to_markdown()
    assert "- If rsi is oversold and trend is up and vol is low, then size is large." in md
    assert "(weight 0.5: the conclusion counts 50%)" in md


def test_unknown_target_is_a_dsl_error(shipped):
    with pytest.raises(DslError) as exc:
        explain(shipped, "rsi_reversoin")
    assert "rsi_reversion" in (exc.value.diagnostics[0].hint or "")


def test_a_workspace_is_checked_first(tmp_path):
    loaded = dsl.load([ROOT / "specs"])
    ws = dsl.resolve(loaded)
    assert explain(ws, "strategy.vol_target").kind == "strategy"


# ---------------------------------------------------------------- escaping

EVIL = "<script>alert('x')</script> & <b>bold</b>"


def _evil_project(tmp_path):
    return project(tmp_path, {"uni.yaml": UNIVERSE, "s.yaml": f"""\
        kind: strategy
        name: evil
        description: "{EVIL}"
        universe: uni
        timeframe: 1d
        params:
          n: {{default: 20, range: [5, 50], description: "<img src=x onerror=alert(1)>"}}
        entry:
          long: close > sma(close, n)
        stops: {{stop_loss: 2%}}
        """})


def test_spec_text_is_escaped_in_html(tmp_path):
    html = explain(_evil_project(tmp_path), "evil").to_html()
    assert "<script>" not in html and "<img" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_spec_text_is_escaped_in_markdown(tmp_path):
    md = explain(_evil_project(tmp_path), "evil").to_markdown()
    assert "<script>" not in md and "<img" not in md
    assert "&lt;script&gt;alert('x')&lt;/script&gt; & &lt;b&gt;bold&lt;/b&gt;" in md


# ---------------------------------------------------------------- warnings

CLEAN = """\
kind: strategy
name: s
universe: uni
timeframe: 1d
params:
  n: {default: 20, range: [5, 50]}
entry:
  long: close > sma(close, n)
stops: {stop_loss: 2%}
risk_profile: conservative
"""


def _codes(tmp_path, strategy: str, *extra: tuple[str, str], target: str = "s") -> list[str]:
    files = {"uni.yaml": UNIVERSE, "conservative.yaml": CONSERVATIVE, "s.yaml": strategy, **dict(extra)}
    return [w.code for w in explain(project(tmp_path, files), target).warnings]


def test_a_clean_strategy_has_no_warnings(tmp_path):
    assert _codes(tmp_path, CLEAN) == []


@pytest.mark.parametrize("edit, code", [
    (("stops: {stop_loss: 2%}", "stops: {take_profit: 2%}"), "no_stop_loss"),
    (("stops: {stop_loss: 2%}", "stops: {stop_loss: 2%}\nsizing: {method: percent_equity, percent: 150%}"), "leverage"),
    (("sizing", "sizing"), None),
    (("timeframe: 1d", "timeframe: 1d\ntier: research"), "research_tier"),
    (("n: {default: 20, range: [5, 50]}", "n: {default: 80, range: [5, 50]}"), "param_out_of_range"),
    (("risk_profile: conservative\n", ""), "no_risk_profile"),
])
def test_each_strategy_warning(tmp_path, edit, code):
    old, new = edit
    codes = _codes(tmp_path, CLEAN.replace(old, new))
    assert codes == ([code] if code else [])


def test_warning_limit_looser_than_conservative(tmp_path):
    loose = """\
        kind: risk_profile
        name: loose
        limits:
          portfolio: {max_gross_exposure: 100%, max_drawdown: 25%}
          strategy: {cooldown_after_loss: 2 bars}
        on_breach: {max_drawdown: warn}
        """
    doc = explain(project(tmp_path, {"uni.yaml": UNIVERSE, "conservative.yaml": CONSERVATIVE, "loose.yaml": loose,
                                     "s.yaml": CLEAN.replace("risk_profile: conservative", "risk_profile: loose")}), "s")
    [w] = doc.warnings
    assert w.code == "looser_than_conservative"
    assert "portfolio.max_drawdown 25% (conservative: 10%)" in w.message
    assert "strategy.cooldown_after_loss 2 bars (conservative: 5 bars)" in w.message  # shorter cooldown is looser
    assert "max_gross_exposure" not in w.message  # equal is not looser
    assert w.where.endswith("loose.yaml:4")  # the limits
    assert "| portfolio | max_drawdown | 25% | warn: warn only |" in doc.to_markdown()


def test_warning_leverage_from_the_risk_profile(tmp_path):
    lev = CONSERVATIVE.replace("name: conservative", "name: levered").replace("max_gross_exposure: 100%",
                                                                              "max_gross_exposure: 200%")
    codes = _codes(tmp_path, CLEAN.replace("risk_profile: conservative", "risk_profile: levered"), ("lev.yaml", lev))
    assert codes == ["looser_than_conservative", "leverage"]


GAPPY = """\
kind: fuzzy
name: gappy
inputs:
  x:
    range: [0, 10]
    terms: {low: "triangle(0, 0, 3)", high: "triangle(7, 10, 10)"}
outputs:
  y:
    range: [0, 1]
    default: 0
    terms: {a: "triangle(0, 0, 1)", b: "triangle(0, 1, 1)"}
rules:
  - if x is low then y is a
  - if x is high then y is b
"""


def test_warning_fuzzy_rule_base_with_a_gap(tmp_path):
    doc = explain(project(tmp_path, {"f.yaml": GAPPY}), "gappy")
    [w] = doc.warnings
    assert w.code == "fuzzy_gap"
    # x from 3 to 7 (both terms are 0 at their feet): 41 of the grid points 0, 0.1, ... 10
    assert "no rule fires at 41 of 101 sampled input points" in w.message
    assert "e.g. x = 3; x = 3.1; x = 3.2" in w.message and "(y = 0)" in w.message


def test_a_covering_rule_base_has_no_gap(tmp_path):
    full = GAPPY.replace("triangle(0, 0, 3)", "triangle(0, 0, 8)")
    assert explain(project(tmp_path, {"f.yaml": full}), "gappy").warnings == []


def test_fuzzy_sizing_strategy_explains_its_rule_base(tmp_path):
    s = CLEAN.replace("entry:", "sizing: {method: fuzzy, rulebase: gappy, inputs: {x: close / 100}}\nentry:")
    doc = explain(project(tmp_path, {"uni.yaml": UNIVERSE, "conservative.yaml": CONSERVATIVE, "s.yaml": s,
                                     "f.yaml": GAPPY}), "s")
    assert [w.code for w in doc.warnings] == ["fuzzy_gap"]
    md = doc.to_markdown()
    assert "## Sizing rule base gappy" in md and "close divided by 100" in md
    assert any(d["ref"] == "fuzzy.gappy" for d in doc.documents)


def test_undrawn_shapes_fall_back_to_a_table(tmp_path):
    odd = GAPPY.replace('high: "triangle(7, 10, 10)"', 'high: "spike(8, 2)"')
    doc = explain(project(tmp_path, {"f.yaml": odd}), "gappy")
    md, html = doc.to_markdown(), doc.to_html()
    assert "| high | spike | spike(8, 2) | `spike(8, 2)` |" in md
    assert "<td>spike</td>" in html  # the table is shown beside the picture of the drawable terms
    assert "Coverage not analysed" in md


# ---------------------------------------------------------------- English


@pytest.mark.parametrize("formula, words", [
    ("crosses_above(sma(close, 20), sma(close, 100))",
     "the 20-bar simple moving average of close crosses above the 100-bar simple moving average of close"),
    ("rsi(close, 14) < 30 and close > sma(close, 200)",
     "the 14-bar RSI of close is below 30 and close is above the 200-bar simple moving average of close"),
    ("donchian(high, low, 55).upper[1]", "the highest high of the last 55 bars, as of 1 bar ago"),
    ("2 * atr(14)", "2 times the 14-bar average true range"),
    ("bars_in_trade >= 20 or not x", "the number of bars in the trade is at or above 20 or not x"),
    ("close@btc / close - 1", "close of btc divided by close minus 1"),
    ("bars_since(close > open)", "the number of bars since close is above open"),
    ("macd(close).histogram > 0", "the MACD histogram of close (12/26/9) is above 0"),
])
def test_english(formula, words):
    node, diag = parse_expr(formula, plain_locator())
    assert diag is None
    assert english(node, Context(signals=frozenset({"x"}))) == words


def test_english_unknown_function_uses_the_registry_summary_or_says_so():
    node, _ = parse_expr("true_range(high, low, close) + foo(1)", plain_locator())
    assert english(node) == "the true range plus foo(1) [not in the library]"
    node, _ = parse_expr("corr(close, open, 30)", plain_locator())
    assert english(node) == "the 30-bar correlation of close and open"


def test_english_params_show_their_values():
    node, _ = parse_expr("sma(close, fast) > level", plain_locator())
    assert english(node, Context(params={"fast": 20, "level": 3.5})) == \
        "the 20-bar simple moving average of close is above level (3.5)"


def test_html_ids_are_unique(shipped):
    html = explain(shipped, "stage4_multi").to_html()
    ids = re.findall(r'id="([^"]+)"', html)
    assert len(ids) == len(set(ids))
