"""A fuzzy document -> engine description (dsl/fuzzy_compile.py), and what the checker says
about fuzzy-specific mistakes added with the engine (dsl/check_fuzzy.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from fuzzyhelp import analyze_text, engine_from_yaml

from dsl.check_fuzzy import FUNCTION_TERM_CALLS
from library.fuzzy.formula import FUNCTIONS

DOC = """\
kind: fuzzy
name: rb
engine: {engine}
{top}
inputs:
  x:
    range: [0, 10]
    terms:
      lo: ramp(10, 0)
      hi: ramp(0, 10)
      edge: binary(5, inf)
      bump: gaussian(5, 1, height=0.5)
outputs:
  y:
    range: [0, 1]
{out}
    terms:
{yterms}
blocks:
  - name: first
    rules:
      - if x is lo then y is {t1}
  - name: second
    conjunction: algebraic_product
    implication: drastic_product
    activation: lowest
    activation_rules: 2
    rules:
      - if x is hi and x is edge then y is {t2} with 0.25
"""
MAMDANI_TERMS = "      a: triangle(0, 0, 1)\n      b: triangle(0, 1, 1)"
TSK_TERMS = "      a: constant(0)\n      b: linear(0.1, 0)"


def doc(engine="mamdani", top="", out="", terms=MAMDANI_TERMS, t1="a", t2="b") -> str:
    return DOC.format(engine=engine, top=top or "description: test", out=out or "    description: y",
                      yterms=terms, t1=t1, t2=t2)


def test_defaults_are_resolved(tmp_path: Path) -> None:
    e = engine_from_yaml(doc(), tmp_path)
    first, second = e.blocks
    assert (first.conjunction, first.disjunction, first.implication, first.activation) == \
        ("minimum", "maximum", "minimum", "general")
    assert (second.conjunction, second.implication, second.activation, second.activation_rules) == \
        ("algebraic_product", "drastic_product", "lowest", 2)
    assert second.rules[0].weight == 0.25 and second.rules[0].text.endswith("with 0.25")
    y = e.outputs[0]
    assert (y.defuzzifier, y.resolution, y.aggregation, y.lock_previous, y.lock_range) == \
        ("centroid", 1000, "maximum", False, False)
    assert math.isnan(y.default)
    terms = {t.name: t for t in e.inputs[0].terms}
    assert terms["edge"].params == (5.0, math.inf) and terms["bump"].height == 0.5


def test_larsen_means_product_implication_unless_written(tmp_path: Path) -> None:
    assert engine_from_yaml(doc("larsen"), tmp_path).blocks[0].implication == "algebraic_product"
    e = engine_from_yaml(doc("larsen", top="implication: minimum"), tmp_path)
    assert e.blocks[0].implication == "minimum"


def test_weighted_outputs_sum_a_terms_activations_unless_told(tmp_path: Path) -> None:
    e = engine_from_yaml(doc("takagi_sugeno", terms=TSK_TERMS), tmp_path)
    assert (e.outputs[0].defuzzifier, e.outputs[0].aggregation) == ("weighted_average", "unbounded_sum")
    e = engine_from_yaml(doc("takagi_sugeno", top="aggregation: maximum", terms=TSK_TERMS), tmp_path)
    assert e.outputs[0].aggregation == "maximum"
    e = engine_from_yaml(doc("takagi_sugeno", out="    aggregation: algebraic_sum", terms=TSK_TERMS), tmp_path)
    assert e.outputs[0].aggregation == "algebraic_sum"


def errors(text: str, tmp_path: Path) -> list[tuple[str, str]]:
    return [(d.code, d.message) for d in analyze_text(text, tmp_path).errors]


@pytest.mark.parametrize("change, code, words", [
    (dict(terms="      a: constant(0)\n      b: linear(1, 2, 3)"), "E505", "linear terms belong to outputs"),
    (dict(engine="takagi_sugeno", terms="      a: constant(0)\n      b: linear(1, 2, 3)"), "E503",
     "one coefficient per input"),
    (dict(engine="takagi_sugeno", terms="      a: constant(0)\n      b: ramp(0, 1)"), "E505", "mixes kinds"),
    (dict(engine="takagi_sugeno", terms="      a: constant(0)\n      b: function(q + x)"), "E502",
     "unknown name 'q'"),
    (dict(engine="takagi_sugeno", terms="      a: constant(0)\n      b: function(sinh(x, 2))"), "E503",
     "sinh takes 1 argument"),
    (dict(engine="takagi_sugeno", terms="      a: constant(0)\n      b: function(cbrt(x))"), "E501",
     "unknown function 'cbrt'"),
    (dict(terms="      a: function(x)\n      b: function(x * y)"), "E502", "unknown name 'y'"),
    (dict(terms="      a: discrete(0, 0, 1, 1, 0.5, 0)\n      b: triangle(0, 1, 1)"), "E503", "increasing x"),
    (dict(terms="      a: triangle(0, 0, 1, height=much)\n      b: triangle(0, 1, 1)"), "E511", "height"),
    (dict(terms="      a: gaussian(5, 0.5)\n      b: triangle(0, 1, 1)"), "E509", "outside the range"),
])
def test_checker_catches(change: dict, code: str, words: str, tmp_path: Path) -> None:
    found = errors(doc(**change), tmp_path)
    assert any(c == code and words in m for c, m in found), found


def test_activation_options_must_fit_the_activation(tmp_path: Path) -> None:
    text = doc().replace("    activation: lowest\n", "    activation: general\n")
    assert any("'activation_rules' does not apply to activation 'general'" in m for _, m in errors(text, tmp_path))


@pytest.mark.parametrize("terms", [
    "      a: bell(1.01, 0.2, 2)\n      b: triangle(0, 1, 1)",  # a bell centred just outside still covers
    "      a: constant(0.5)\n      b: constant(0.5)",  # Takagi-Sugeno outputs may repeat a value
    "      a: discrete(" + ", ".join(f"{i / 200:g}, {(i % 7) / 7:.4f}" for i in range(201)) + ")\n"
    "      b: triangle(0, 1, 1)",  # longer than the formula limit: a table of points is data
])
def test_checker_accepts(terms: str, tmp_path: Path) -> None:
    engine = "takagi_sugeno" if "constant" in terms else "mamdani"
    assert errors(doc(engine, terms=terms), tmp_path) == []


def test_inputs_read_only_by_linear_terms_need_no_terms(tmp_path: Path) -> None:
    text = doc("takagi_sugeno", terms=TSK_TERMS).replace("inputs:\n", "inputs:\n  z:\n    range: [0, 1]\n")
    text = text.replace("linear(0.1, 0)", "linear(0.1, 0, 1)")
    assert errors(text, tmp_path) == []


def test_function_term_calls_are_the_librarys() -> None:
    assert FUNCTION_TERM_CALLS == {name: arity for name, (arity, _) in FUNCTIONS.items()}
