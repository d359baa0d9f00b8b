"""Semantic diff: reformatting is no change; every kind of meaningful change is found, with
old and new values and file:line positions; loosening a limit is flagged."""

from __future__ import annotations

import json

import pytest
from helpers_compliance import CONSERVATIVE, UNIVERSE, project

from dsl.diff import compare_limit, diff
from dsl.english import canonical_formula
from dsl.parse import parse_expr, plain_locator

STRATEGY = """\
kind: strategy
name: s
description: Buy strength.
universe: uni
timeframe: 1d
params:
  fast: {default: 20, range: [5, 50]}
signals:
  trend: sma(close, fast)
  vol: atr(14) / close
entry:
  long: close > trend and vol < 0.03 and rsi(close) < 70
exit:
  long: close < trend
stops: {stop_loss: 2%}
execution: {commission: 5bps}
risk_profile: conservative
"""

# the same meaning: keys reordered, comments, quotes, flow/block style, spacing and
# parentheses in formulas, call spelling (keywords, implicit columns, defaults), 5bps == 0.05%
REFORMATTED = """\
# a comment
risk_profile: "conservative"
timeframe: 1d
name: s
kind: strategy
universe: 'uni'
description: "Buy strength."
execution:
  commission: 0.05%     # 5bps written as a percentage
  fill: next_open       # the default, written out
stops:
  stop_loss: "2%"
exit: {long: "close<trend"}
entry:
  long: (close > trend) and (vol < 0.03) and rsi(close, period=14) < 70
signals:
  vol: atr(high, low, close, 14) / close
  trend: sma( close , period = fast )
params:
  fast:
    range: [5, 50]
    default: 20
"""

FUZZY = """\
kind: fuzzy
name: f
inputs:
  x: {range: [0, 10], terms: {low: "triangle(0, 0, 6)", high: "triangle(4, 10, 10)"}}
outputs:
  y: {range: [0, 1], terms: {a: "triangle(0, 0, 1)", b: "triangle(0, 1, 1)"}}
rules:
  - if x is low then y is a
  - if x is high then y is b
"""


def _pair(tmp_path, old: dict[str, str], new: dict[str, str]):
    base = {"uni.yaml": UNIVERSE, "conservative.yaml": CONSERVATIVE, "s.yaml": STRATEGY, "f.yaml": FUZZY}
    return (project(tmp_path / "old", {**base, **old}), project(tmp_path / "new", {**base, **new}))


def _changes(tmp_path, old: dict[str, str], new: dict[str, str]):
    d = diff(*_pair(tmp_path, old, new))
    assert not d.equivalent
    return d, {(c.document, c.path): c for c in d.changes}


def test_reformatting_is_no_change(tmp_path):
    d = diff(*_pair(tmp_path, {}, {"s.yaml": REFORMATTED}))
    assert d.equivalent, d.to_markdown()
    assert d.changes == []
    assert d.old_fingerprint == d.new_fingerprint
    assert {x["status"] for x in d.documents} == {"same"}
    assert "No material change" in d.to_markdown()
    assert d.to_json()["equivalent"] is True


def test_canonical_calls_bind_every_argument_by_name():
    def canon(text: str) -> str:
        return canonical_formula(parse_expr(text, plain_locator())[0])

    assert canon("sma(close, 20)") == canon("sma(close, period=20)") == canon("sma(x=close, period=20)")
    assert canon("atr(14)") == canon("atr(high, low, close, 14)") == canon("atr()") == \
        "atr(high=high, low=low, close=close, period=14)"
    assert canon("bars_in_trade >= 20 bars") == canon("bars_in_trade >= 20")
    assert canon("sma(close, 20)") != canon("sma(close, 21)")
    assert canon("bollinger(close, 20, k=2.5).lower") == "bollinger(x=close, period=20, k=2.5).lower"


def test_param_change(tmp_path):
    d, ch = _changes(tmp_path, {}, {"s.yaml": STRATEGY.replace("default: 20", "default: 30")})
    c = ch[("strategy.s", "params.fast.value")]
    assert (c.kind, c.old, c.new) == ("param_changed", 20.0, 30.0)
    assert c.old_at.endswith("old/s.yaml:7") and c.new_at.endswith("new/s.yaml:7")
    assert len(d.changes) == 1


def test_formula_change_added_and_removed(tmp_path):
    new = STRATEGY.replace("sma(close, fast)", "ema(close, fast)").replace("  vol: atr(14) / close\n", "") \
        .replace(" and vol < 0.03", "").replace("signals:\n", "signals:\n  mom: roc(close) > 0\n")
    d, ch = _changes(tmp_path, {}, {"s.yaml": new})
    assert ch[("strategy.s", "signals.trend")].kind == "formula_changed"
    assert (ch[("strategy.s", "signals.trend")].old, ch[("strategy.s", "signals.trend")].new) == \
        ("sma(close, fast)", "ema(close, fast)")
    assert ch[("strategy.s", "signals.vol")].kind == "formula_removed"
    assert ch[("strategy.s", "signals.mom")].kind == "formula_added"
    c = ch[("strategy.s", "entry.long")]
    assert c.old == "close > trend and vol < 0.03 and rsi(close) < 70" and c.new.startswith("close > trend and rsi")
    assert c.old_at.endswith("old/s.yaml:12") and c.new_at.endswith("new/s.yaml:12")
    assert "`sma(close, fast)`" in d.to_markdown()


def test_limit_loosened_and_tightened(tmp_path):
    looser = CONSERVATIVE.replace("max_drawdown: 10%", "max_drawdown: 20%").replace("5 bars", "2 bars")
    tighter = CONSERVATIVE.replace("max_gross_exposure: 100%", "max_gross_exposure: 80%") \
        .replace("strategy: {cooldown_after_loss: 5 bars}", "strategy: {cooldown_after_loss: 8 bars, max_orders_per_day: 4}")
    d, ch = _changes(tmp_path, {}, {"conservative.yaml": looser})
    dd = ch[("risk_profile.conservative", "limits.portfolio.max_drawdown")]
    assert (dd.kind, dd.old_text, dd.new_text, dd.loosened) == ("limit_loosened", "10%", "20%", True)
    assert dd.old_at.endswith("old/conservative.yaml:4") and dd.new_at.endswith("new/conservative.yaml:4")
    cool = ch[("risk_profile.conservative", "limits.strategy.cooldown_after_loss")]
    assert (cool.kind, cool.old, cool.new, cool.loosened) == ("limit_loosened", "5 bars", "2 bars", True)
    assert len(d.loosened) == 2
    md = d.to_markdown()
    assert "## Loosened (review first)" in md and "**2 of them loosen risk**" in md
    d, ch = _changes(tmp_path / "t", {}, {"conservative.yaml": tighter})
    assert {c.kind for c in d.changes} == {"limit_tightened"} and not d.loosened
    assert ch[("risk_profile.conservative", "limits.strategy.max_orders_per_day")].old is None


def test_breach_action_weakened_is_loosening(tmp_path):
    d, ch = _changes(tmp_path, {}, {"conservative.yaml": CONSERVATIVE.replace("flatten_and_halt", "warn")})
    c = ch[("risk_profile.conservative", "on_breach.portfolio.max_drawdown")]
    assert (c.kind, c.old, c.new, c.loosened) == ("action_weakened", "flatten_and_halt", "warn", True)


def test_removing_a_stop_loss_is_flagged(tmp_path):
    d, ch = _changes(tmp_path, {}, {"s.yaml": STRATEGY.replace("stops: {stop_loss: 2%}", "stops: {stop_loss: 4%}")})
    c = ch[("strategy.s", "stops.stop_loss")]
    assert (c.old, c.new, c.loosened) == ("2%", "4%", True)
    d, ch = _changes(tmp_path / "b", {}, {"s.yaml": STRATEGY.replace("stops: {stop_loss: 2%}\n", "")})
    c = ch[("strategy.s", "stops.stop_loss")]
    assert (c.kind, c.new, c.loosened, c.note) == ("formula_removed", None, True, "protective stop removed")


def test_rules_added_removed_changed(tmp_path):
    changed = FUZZY.replace("if x is high then y is b", "if x is very high then y is b")
    d, ch = _changes(tmp_path, {}, {"f.yaml": changed})
    c = ch[("fuzzy.f", "rules[1]")]
    assert (c.kind, c.old, c.new) == ("rule_changed", "if x is high then y is b", "if x is very high then y is b")
    assert c.old_at.endswith("old/f.yaml:9") and c.new_at.endswith("new/f.yaml:9")
    added = FUZZY + "  - if x is any then y is a with 0.1\n"
    d, ch = _changes(tmp_path / "a", {}, {"f.yaml": added})
    c = ch[("fuzzy.f", "rules[2]")]
    assert (c.kind, c.old, c.new) == ("rule_added", None, "if x is any then y is a with 0.1")
    assert c.new_at.endswith("new/f.yaml:10")
    d, ch = _changes(tmp_path / "r", {}, {"f.yaml": FUZZY.replace("  - if x is low then y is a\n", "")})
    c = ch[("fuzzy.f", "rules[0]")]
    assert (c.kind, c.old, c.new) == ("rule_removed", "if x is low then y is a", None)
    assert len(d.changes) == 1  # the remaining rule is matched, not reported as changed


def test_term_change(tmp_path):
    d, ch = _changes(tmp_path, {}, {"f.yaml": FUZZY.replace("triangle(4, 10, 10)", "triangle(5, 10, 10)")})
    c = ch[("fuzzy.f", "inputs.x.terms.high")]
    assert (c.kind, c.old, c.new) == ("term_changed", "triangle(4, 10, 10)", "triangle(5, 10, 10)")


def test_documents_added_and_removed(tmp_path):
    other = CONSERVATIVE.replace("name: conservative", "name: extra")
    old, new = _pair(tmp_path, {"extra.yaml": other}, {"g.yaml": FUZZY.replace("name: f", "name: g")})
    d = diff(old, new)
    kinds = {(c.kind, c.document) for c in d.changes}
    assert kinds == {("document_removed", "risk_profile.extra"), ("document_added", "fuzzy.g")}
    status = {x["ref"]: x["status"] for x in d.documents}
    assert status["risk_profile.extra"] == "removed" and status["fuzzy.g"] == "added" and status["strategy.s"] == "same"


def test_inherited_limits_change_with_their_parent(tmp_path):
    """A profile is compared on its effective limits (extends merged); the parent's own change is
    reported on the parent, with the documents that use it."""
    child = "kind: risk_profile\nname: child\nextends: conservative\nlimits: {portfolio: {max_open_positions: 2}}\n"
    loose = CONSERVATIVE.replace("max_drawdown: 10%", "max_drawdown: 12%")
    d, ch = _changes(tmp_path, {"child.yaml": child},
                     {"child.yaml": child.replace("positions: 2", "positions: 1"), "conservative.yaml": loose})
    assert ch[("risk_profile.conservative", "limits.portfolio.max_drawdown")].loosened
    assert ch[("risk_profile.child", "limits.portfolio.max_open_positions")].kind == "limit_tightened"
    c = ch[("risk_profile.child", "limits.portfolio.max_drawdown")]
    assert c.loosened and "inherited from risk profile 'conservative'" in c.note
    assert c.new_at.endswith("new/conservative.yaml:4")
    used = {x["ref"]: x["used_by"] for x in d.documents}
    assert used["risk_profile.conservative"] == ["risk_profile.child", "strategy.s"]


def test_json_rendering(tmp_path):
    d, _ = _changes(tmp_path, {}, {"conservative.yaml": CONSERVATIVE.replace("max_drawdown: 10%", "max_drawdown: 20%")})
    doc = json.loads(d.to_json_text())
    assert doc["equivalent"] is False
    [c] = doc["changes"]
    assert c["kind"] == "limit_loosened" and c["loosened"] is True
    assert (c["old"], c["new"], c["old_text"], c["new_text"]) == (0.1, 0.2, "10%", "20%")
    assert c["old_at"].endswith("conservative.yaml:4")


@pytest.mark.parametrize("name, old, new, how", [
    ("max_drawdown", 0.1, 0.2, "looser"), ("max_drawdown", 0.2, 0.1, "tighter"),
    ("max_open_positions", None, 3, "tighter"), ("max_open_positions", 3, None, "looser"),
    ("cooldown_after_loss", "5 bars", "3 bars", "looser"), ("cooldown_after_loss", "1h", "2h", "tighter"),
    ("cooldown_after_loss", "5 bars", "1h", "changed"), ("min_order_size", 100.0, 50.0, "looser"),
    ("rate_limit", {"count": 4, "per": "1h"}, {"count": 8, "per": "1h"}, "looser"),
    ("max_daily_loss", {"value": 0.01, "unit": "pct"}, {"value": 5000.0, "unit": "money"}, "changed"),
    ("max_drawdown", 0.1, 0.1, None),
])
def test_limit_directions(name, old, new, how):
    assert compare_limit(name, old, new) == how


def test_diff_of_two_files_sees_their_workspace(tmp_path):
    """`tradespec diff OLD NEW` on files: each is checked with the documents of NEW's `specs`
    folder it does not define, and the table lists what the files define."""
    from dsl.diff import diff_paths
    from helpers_compliance import write

    specs = write(tmp_path / "repo" / "specs", {"uni.yaml": UNIVERSE, "conservative.yaml": CONSERVATIVE,
                                                 "s.yaml": STRATEGY})
    old = write(tmp_path / "old", {"s.yaml": STRATEGY}) / "s.yaml"
    same = diff_paths(old, specs / "s.yaml")
    assert same.equivalent and [d["ref"] for d in same.documents] == ["strategy.s"]
    write(tmp_path / "reformatted", {"s.yaml": REFORMATTED})
    assert diff_paths(tmp_path / "reformatted" / "s.yaml", specs / "s.yaml").equivalent
    changed = diff_paths(old, write(tmp_path / "new", {"s.yaml": STRATEGY.replace("2%", "3%")}) / "s.yaml",
                         context=[specs])
    [c] = changed.changes
    assert (c.path, c.old, c.new, c.loosened) == ("stops.stop_loss", "2%", "3%", True)
    assert c.old_at.endswith("old/s.yaml:15") and c.new_at.endswith("new/s.yaml:15")


def test_diff_of_two_folders_and_errors(tmp_path):
    from dsl.diff import diff_paths
    from dsl.errors import DslError
    from helpers_compliance import write

    base = {"uni.yaml": UNIVERSE, "conservative.yaml": CONSERVATIVE, "s.yaml": STRATEGY}
    a, b = write(tmp_path / "a", base), write(tmp_path / "b", {**base, "s.yaml": REFORMATTED})
    assert diff_paths(a, b).equivalent
    bad = write(tmp_path / "bad", {**base, "s.yaml": STRATEGY.replace("sma(close, fast)", "smaa(close, fast)")})
    with pytest.raises(DslError) as exc:
        diff_paths(a, bad)
    assert exc.value.diagnostics[0].code == "E501"
