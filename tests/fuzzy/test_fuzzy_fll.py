"""The FLL importer: readable YAML that checks and evaluates, and errors that name the FLL line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fuzzyhelp import REFERENCE, analyze_text, evaluator_from_yaml

from dsl.errors import DslError, render
from dsl.fll import fll_to_yaml

DIMMER = """\
# a comment line
Engine: dimmer
  description: a lamp
InputVariable: ambient
  enabled: true
  range: 0.000 1.000
  lock-range: true
  term: DARK Triangle 0.000 0.250 0.500
  term: BRIGHT Triangle 0.500 0.750 1.000 0.9   # with a height
OutputVariable: power
  enabled: true
  range: 0.000 1.000
  lock-range: false
  aggregation: Maximum
  defuzzifier: Centroid 200
  default: 0.5
  lock-previous: true
  term: LOW Triangle 0.000 0.250 0.500
  term: HIGH Discrete 0.5 0 0.75 1 1 0
RuleBlock: main
  enabled: true
  conjunction: none
  disjunction: none
  implication: Minimum
  activation: General
  rule: if ambient is DARK then power is HIGH
  rule: if ambient is BRIGHT then power is LOW with 0.5
"""


def test_import_is_readable_ordered_yaml_that_checks(tmp_path: Path) -> None:
    text = fll_to_yaml(DIMMER, "dimmer", "dimmer.fll")
    data = yaml.safe_load(text)
    assert list(data) == ["kind", "name", "description", "engine", "inputs", "outputs", "implication", "rules"]
    assert data["inputs"]["ambient"] == {"range": [0, 1], "lock_range": True, "terms": {
        "DARK": "triangle(0, 0.25, 0.5)", "BRIGHT": "triangle(0.5, 0.75, 1, height=0.9)"}}
    assert data["outputs"]["power"] == {"range": [0, 1], "default": 0.5, "lock_previous": True,
                                        "defuzzifier": "centroid", "resolution": 200, "aggregation": "maximum",
                                        "terms": {"LOW": "triangle(0, 0.25, 0.5)",
                                                  "HIGH": "discrete(0.5, 0, 0.75, 1, 1, 0)"}}
    assert data["rules"][1] == "if ambient is BRIGHT then power is LOW with 0.5"
    ev = evaluator_from_yaml(text, tmp_path)
    assert ev.engine.inputs[0].lock_range and ev.engine.outputs[0].lock_previous
    r = ev.evaluate({"ambient": [2.0, 0.25, 2.0]})  # 2.0 is clipped to 1, where no term reaches
    assert r.outputs["power"][0] == 0.5 and r.outputs["power"][2] == r.outputs["power"][1] == pytest.approx(0.75)


def fail(text: str) -> tuple[str, int, str]:
    with pytest.raises(DslError) as e:
        fll_to_yaml(text, "x", "bad.fll")
    d = e.value.diagnostics[0]
    assert d.span is not None and d.span.file == "bad.fll"
    assert render(d, e.value.sources).count("^") >= 1  # the line is shown, underlined
    return d.code, d.span.line, d.message


@pytest.mark.parametrize("old, new, code, line, words", [
    ("term: HIGH Discrete", "term: HIGH Wiggle", "E507", 19, "unknown term type 'Wiggle'"),
    ("  default: 0.5", "  colour: red", "E203", 16, "'colour' is not a key of OutputVariable"),
    ("InputVariable: ambient\n  enabled: true", "InputVariable: ambient\n  enabled: false", "E203", 5,
     "disabled variable"),
    ("rule: if ambient is DARK then", "rule: if ambient is DARK than", "E303", 26, "FLL line 26"),
    ("Centroid 200", "Centre 200", "E203", 15, "unknown defuzzifier 'Centre'"),
    ("aggregation: Maximum", "aggregation: none", "E203", 14, "needs an aggregation"),
    ("implication: Minimum", "implication: Minimal", "E203", 24, "unknown implication t-norm 'Minimal'"),
    ("activation: General", "activation: Highest two", "E203", 25, "expected a number of rules"),
    ("term: LOW Triangle 0.000 0.250 0.500", "term: LOW Triangle 0.000 0.250", "E503", 18, "takes 3 parameters"),
    ("term: DARK", "term: very", "E203", 8, "reserved word"),
    ("range: 0.000 1.000\n  lock-range: true", "range: 1 0\n  lock-range: true", "E203", 6, "low < high"),
    ("Engine: dimmer", "Engine: dimmer\n  version: 7", "E203", 3, "'version' is not a key of Engine"),
])
def test_errors_name_the_fll_line(old: str, new: str, code: str, line: int, words: str) -> None:
    assert old in DIMMER
    got_code, got_line, message = fail(DIMMER.replace(old, new, 1))
    assert (got_code, got_line) == (code, line), message
    assert words in message and message.startswith(f"FLL line {line}:")


def test_function_formulas_are_translated_or_refused(tmp_path: Path) -> None:
    base = """Engine: f
InputVariable: a
  range: 0 10
  term: all Triangle -1 5 11
OutputVariable: y
  range: -10 10
  aggregation: none
  defuzzifier: WeightedAverage TakagiSugeno
  term: f Function {formula}
RuleBlock:
  activation: General
  rule: if a is all then y is f
"""
    text = fll_to_yaml(base.format(formula="fabs(a-pi)/2"), "f")
    assert "f: function(abs(a - 3.141592653589793) / 2)" in text
    assert analyze_text(text, tmp_path).ok
    code, line, message = fail(base.format(formula="a % 2"))
    assert (code, line) == ("E301", 9) and "'%' is not supported" in message


def test_disabled_rule_blocks_are_left_out_with_a_note() -> None:
    text = DIMMER + "RuleBlock: spare\n  enabled: false\n  activation: General\n  rule: if ambient is DARK then power is LOW\n"
    out = fll_to_yaml(text, "d")
    assert "# FLL line 28: rule block 'spare' is disabled (enabled: false) and left out" in out
    assert "spare" not in yaml.safe_load(out).get("blocks", [])


def test_conclusion_hedges_accumulate_as_in_fuzzylite() -> None:
    text = DIMMER.replace("then power is HIGH", "then power is very HIGH and power is LOW")
    out = fll_to_yaml(text, "d")
    assert "- if ambient is DARK then power is very HIGH, power is very LOW" in out
    assert "# fuzzylite applies a conclusion's hedges" in out


def test_activation_parameters_and_several_blocks() -> None:
    text = DIMMER.replace("activation: General", "activation: Threshold >= 0.3") + \
        "RuleBlock: second\n  activation: Last 2 0.1\n  rule: if ambient is DARK then power is LOW\n"
    data = yaml.safe_load(fll_to_yaml(text, "d"))
    assert data["blocks"][0]["activation_comparator"] == ">=" and data["blocks"][0]["activation_threshold"] == 0.3
    assert data["blocks"][1] == {"name": "second", "activation": "last", "activation_rules": 2,
                                 "activation_threshold": 0.1, "rules": ["if ambient is DARK then power is LOW"]}


@pytest.mark.skipif(not (REFERENCE / "fll").is_dir(), reason=f"no FLL files at {REFERENCE / 'fll'}")
def test_every_reference_fll_file_imports_and_checks(tmp_path: Path) -> None:
    for path in sorted((REFERENCE / "fll").glob("*.fll")):
        text = fll_to_yaml(path.read_text(), path.stem, str(path))
        a = analyze_text(text, tmp_path, f"{path.stem}.yaml")
        assert a.ok, (path.name, [(d.code, d.message) for d in a.errors])
