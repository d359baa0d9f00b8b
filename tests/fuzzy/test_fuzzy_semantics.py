"""Engine semantics on small rule bases written as documents: the no-fire chain, activation
methods, outputs read by later rules, function terms, and the per-sample form giving the
vectorised results bit for bit (lock_previous carried in order)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from fuzzyhelp import evaluator_from_yaml

from library.fuzzy import SOURCES, State

GAP = """\
kind: fuzzy
name: gap
inputs:
  x:
    range: [0, 10]
    terms:
      low: triangle(0, 0, 3)
      high: triangle(7, 10, 10)
outputs:
  y:
    range: [0, 1]
{options}
    terms:
      small: triangle(0, 0, 0.5)
      big: triangle(0.5, 1, 1)
rules:
  - if x is low then y is small
  - if x is high then y is big
"""


def gap(tmp_path: Path, **options):
    text = "\n".join(f"    {k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in options.items())
    return evaluator_from_yaml(GAP.format(options=text or "    description: gap"), tmp_path)


def test_no_rule_fires_gives_nan(tmp_path: Path) -> None:
    ev = gap(tmp_path)
    r = ev.evaluate({"x": [5.0, 1.0]})
    assert math.isnan(r.outputs["y"][0]) and not math.isnan(r.outputs["y"][1])
    assert [SOURCES[c] for c in r.source["y"]] == ["none", "rules"]
    assert not r.fired[0].any() and r.fired[1].tolist() == [True, False]


def test_chain_lock_previous_then_default_then_lock_range(tmp_path: Path) -> None:
    ev = gap(tmp_path, lock_previous=True, default=2, lock_range=True)
    xs = [5.0, 1.0, 5.0, 9.0, 5.0, float("nan")]
    r = ev.evaluate({"x": xs})
    y = r.outputs["y"]
    assert y[0] == 1.0 and r.clipped["y"][0]  # no previous: default 2, clipped to the range
    assert y[2] == y[1] and y[4] == y[3] == y[5]  # lock_previous keeps the last output
    assert [SOURCES[c] for c in r.source["y"]] == ["default", "rules", "lock_previous", "rules",
                                                   "lock_previous", "lock_previous"]
    state = State()
    for i, x in enumerate(xs):
        d = ev.evaluate_one({"x": x}, state)
        assert d.outputs["y"] == y[i] and d.source["y"] == SOURCES[r.source["y"][i]]


def test_default_without_lock_previous(tmp_path: Path) -> None:
    r = gap(tmp_path, default=0.25).evaluate({"x": [5.0, 1.0, 5.0]})
    assert r.outputs["y"][0] == r.outputs["y"][2] == 0.25
    assert np.isnan(r.raw["y"][[0, 2]]).all()


def test_state_carries_lock_previous_across_calls(tmp_path: Path) -> None:
    ev = gap(tmp_path, lock_previous=True)
    state = State()
    first = ev.evaluate({"x": [1.0]}, state)
    later = ev.evaluate({"x": [5.0, 5.0]}, state)
    assert later.outputs["y"].tolist() == [first.outputs["y"][0]] * 2
    assert math.isnan(ev.evaluate({"x": [5.0]}).outputs["y"][0])  # a fresh state has nothing to keep


ACTIVATION = """\
kind: fuzzy
name: act
engine: takagi_sugeno
inputs:
  x:
    range: [0, 10]
    terms:
      a: ramp(0, 10)
      b: ramp(10, 0)
outputs:
  y:
    range: [0, 5]
    terms: {{p: constant(1), q: constant(2), r: constant(3)}}
blocks:
  - name: only
    activation: {activation}
{options}
    rules:
      - if x is a then y is p
      - if x is b then y is q
      - if x is any then y is r with 0.5
"""


@pytest.mark.parametrize("activation, options, fired", [
    ("general", {}, [1, 1, 1]),
    ("highest", {"activation_rules": 2}, [0, 1, 1]),
    ("highest", {}, [0, 1, 0]),
    ("lowest", {"activation_rules": 1}, [1, 0, 0]),
    ("first", {"activation_rules": 2}, [1, 1, 0]),
    ("first", {"activation_rules": 2, "activation_threshold": 0.3}, [0, 1, 1]),
    ("last", {}, [0, 0, 1]),
    ("last", {"activation_rules": 2}, [0, 1, 1]),
    ("threshold", {"activation_threshold": 0.5, "activation_comparator": '">="'}, [0, 1, 1]),
    ("threshold", {"activation_threshold": 0.5, "activation_comparator": '"<"'}, [1, 0, 0]),
    ("threshold", {"activation_threshold": 0.5}, [0, 1, 0]),
    ("proportional", {}, [1, 1, 1]),
])
def test_activation_methods(activation: str, options: dict, fired: list, tmp_path: Path) -> None:
    text = ACTIVATION.format(activation=activation,
                             options="\n".join(f"    {k}: {v}" for k, v in options.items()) or "    name2: x")
    text = text.replace("    name2: x\n", "")
    ev = evaluator_from_yaml(text, tmp_path)
    d = ev.evaluate_one({"x": 2.0})  # degrees: a 0.2, b 0.8, any (weight 0.5) 0.5
    assert list(map(int, d.fired)) == fired
    w = np.array([0.2, 0.8, 0.5])
    if activation == "proportional":
        w = w / w.sum()
        assert d.activation == pytest.approx(tuple(w))
    on = np.array(fired, dtype=bool)
    assert d.outputs["y"] == pytest.approx(float((w[on] * np.array([1, 2, 3])[on]).sum() / w[on].sum()))


CHAINED = """\
kind: fuzzy
name: chained
inputs:
  x:
    range: [0, 1]
    terms: {lo: "ramp(1, 0)", hi: "ramp(0, 1)"}
outputs:
  power:
    range: [0, 1]
    terms: {low: "triangle(0, 0, 1)", high: "triangle(0, 1, 1)"}
  inverse:
    range: [0, 1]
    terms: {low: "triangle(0, 0, 1)", high: "triangle(0, 1, 1)"}
rules:
  - if x is lo then power is high
  - if x is hi then power is low
  - if x is lo then power is high with 0.5
  - if power is high then inverse is low
  - if power is very low then inverse is high
"""


def test_an_output_in_an_antecedent_is_its_aggregated_activation(tmp_path: Path) -> None:
    ev = evaluator_from_yaml(CHAINED, tmp_path)
    r = ev.evaluate({"x": [0.2, 0.7]})
    act = r.activation
    np.testing.assert_array_equal(act[:, 3], np.maximum(act[:, 0], act[:, 2]))  # maximum aggregation
    np.testing.assert_array_equal(act[:, 4], act[:, 1] ** 2)


FUNCTION = """\
kind: fuzzy
name: fn
engine: takagi_sugeno
inputs:
  u:
    range: [0, 10]
    terms: {near: "triangle(0, 5, 10)", any_x: "function(min(1, x / 10))"}
outputs:
  fx:
    range: [-1, 1]
    terms: {f: "function(sin(u) / u)"}
  diff:
    range: [-1, 1]
    terms: {d: "function(abs(fx - 0.5) + 0 * x)"}
  degree:
    range: [0, 1]
    terms: {w: "function(x)"}
  lin:
    range: [-100, 100]
    terms: {l: "linear(2, 1)"}
rules:
  - if u is any then fx is f, diff is d
  - if u is any_x then lin is l, degree is w
"""


def test_function_and_linear_terms(tmp_path: Path) -> None:
    ev = evaluator_from_yaml(FUNCTION, tmp_path)
    xs = np.array([0.5, 2.0, 7.0])
    r = ev.evaluate({"u": xs})
    np.testing.assert_allclose(r.outputs["degree"], np.minimum(1, xs / 10), rtol=1e-15)  # x: the degree
    np.testing.assert_allclose(r.outputs["fx"], np.sin(xs) / xs, rtol=1e-15)
    np.testing.assert_allclose(r.outputs["diff"], np.abs(np.sin(xs) / xs - 0.5), rtol=1e-15)
    np.testing.assert_allclose(r.outputs["lin"], 2 * xs + 1, rtol=1e-15)
    np.testing.assert_allclose(r.activation[:, 1], np.minimum(1, xs / 10), rtol=1e-15)


RICH = """\
kind: fuzzy
name: rich
inputs:
  rsi:
    range: [0, 100]
    lock_range: true
    terms:
      oversold: trapezoid(0, 0, 20, 35)
      neutral: gaussian(50, 12)
      overbought: trapezoid(65, 80, 100, 100)
  vol:
    range: [0, 1]
    terms:
      low: ramp(0.3, 0.1)
      high: s_shape(0.2, 0.6)
outputs:
  size:
    range: [0, 1]
    lock_previous: true
    lock_range: true
    resolution: 157
    aggregation: algebraic_sum
    terms:
      none: triangle(0, 0, 0.2)
      small: bell(0.3, 0.1, 2)
      large: trapezoid(0.6, 0.9, 1, 1, height=0.8)
  mood:
    range: [0, 1]
    defuzzifier: bisector
    resolution: 333
    terms: {calm: "triangle(0, 0, 0.6)", wild: "triangle(0.4, 1, 1)"}
  tilt:
    range: [-1, 1]
    defuzzifier: weighted_sum
    terms: {down: "constant(-1)", up: "linear(0.01, -0.5, 0.2)"}
  sway:
    range: [0, 1]
    defuzzifier: weighted_average
    terms: {a: "ramp(0, 1)", b: "sigmoid(0.5, -10)"}
blocks:
  - name: sizing
    conjunction: einstein_product
    disjunction: hamacher_sum
    implication: algebraic_product
    rules:
      - if rsi is oversold and vol is not high then size is large
      - if rsi is extremely neutral or vol is somewhat low then size is small with 0.7
      - if (rsi is overbought or vol is very very high) and rsi is not oversold then size is none
  - name: mood
    activation: highest
    activation_rules: 2
    rules:
      - if size is large then mood is calm
      - if size is seldom none then mood is wild
      - if vol is high then mood is wild with 0.3
  - name: tilt
    activation: first
    activation_rules: 1
    activation_threshold: 0.1
    rules:
      - if rsi is oversold then tilt is up
      - if rsi is overbought then tilt is down
      - if vol is high then sway is a, tilt is down
      - if vol is low then sway is b
"""


def test_per_sample_equals_vectorised_bit_for_bit(tmp_path: Path) -> None:
    ev = evaluator_from_yaml(RICH, tmp_path)
    rng = np.random.default_rng(11)
    n = 700
    rsi = rng.uniform(-20, 120, n)
    vol = rng.uniform(-0.1, 1.1, n)
    rsi[::53] = np.nan
    vol[5::71] = np.nan
    whole = ev.evaluate({"rsi": rsi, "vol": vol})
    assert whole.fired.any(axis=0).all()  # every rule fires somewhere
    for chunk in (1, 2, 3, 64):
        part = ev.evaluate({"rsi": rsi, "vol": vol}, chunk=chunk)
        for k in whole.outputs:
            assert np.array_equal(part.outputs[k], whole.outputs[k], equal_nan=True), (chunk, k)
    state = State()
    for i in range(n):
        d = ev.evaluate_one({"rsi": rsi[i], "vol": vol[i]}, state)
        assert d == whole.at(i) or _same(d, whole.at(i)), i


def _same(a, b) -> bool:
    def eq(u, v):
        return u == v or (isinstance(u, float) and math.isnan(u) and math.isnan(v))
    return (all(eq(a.outputs[k], b.outputs[k]) and eq(a.raw[k], b.raw[k]) for k in a.outputs)
            and all(eq(u, v) for u, v in zip(a.activation, b.activation)) and a.fired == b.fired
            and a.source == b.source)


def test_shipped_fis_sizer_evaluates(tmp_path: Path) -> None:
    from fuzzyhelp import ROOT

    ev = evaluator_from_yaml((ROOT / "specs" / "fuzzy" / "fis_sizer.yaml").read_text(), tmp_path)
    r = ev.evaluate({"rsi": [10, 50, 90], "trend": [0.1, 0.0, -0.1], "vol": [0.05, 0.3, 0.6]})
    size = r.outputs["size"]
    assert size[0] > 0.8 and size[1] < 0.2 and size[2] < 0.1
    assert len(r.rules) == 8 and r.rules[0].startswith("rules: if rsi is oversold")
