"""The numeric pieces of library/fuzzy, each against values worked out by hand from
fuzzylite's definitions: every term shape (and the Tsukamoto inverses), t-norm, s-norm,
hedge and defuzzifier; the engine description's data form."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from library.fuzzy import Engine, Formula, InputVariable, OutputVariable, Proposition, Rule, RuleBlock, Term
from library.fuzzy import defuzz, formula, terms
from library.fuzzy.hedges import HEDGES, apply_hedges
from library.fuzzy.norms import SNORMS, TNORMS
from library.membership import HEDGES as CHECKER_HEDGES
from library.membership import TERM_SHAPES

INF = math.inf
E = math.e

SHAPE_CASES = [
    ("triangle", (0, 5, 10), [(-1, 0), (0, 0), (2.5, 0.5), (5, 1), (7.5, 0.5), (10, 0), (11, 0)]),
    ("triangle", (-INF, 0, 1), [(-100, 1), (0, 1), (0.5, 0.5), (2, 0)]),
    ("triangle", (0, 0, 1), [(0, 1), (0.25, 0.75), (-0.1, 0)]),
    ("trapezoid", (0, 2, 4, 6), [(-1, 0), (1, 0.5), (2, 1), (3, 1), (5, 0.5), (7, 0)]),
    ("trapezoid", (0, 1, 2, INF), [(100, 1), (0.5, 0.5)]),
    ("trapezoid", (0, 0, 1, 2), [(0, 1), (1.5, 0.5)]),
    ("rectangle", (2, 1), [(1.5, 1), (1, 1), (2, 1), (3, 0), (0, 0)]),
    ("gaussian", (0, 1), [(0, 1), (1, math.exp(-0.5)), (-2, math.exp(-2))]),
    ("gaussian_product", (0, 1, 2, 1), [(-1, math.exp(-0.5)), (1, 1), (3, math.exp(-0.5))]),
    ("bell", (0, 2, 1), [(0, 1), (2, 0.5), (-2, 0.5), (4, 0.2)]),
    ("sigmoid", (0, 2), [(0, 0.5), (1, 1 / (1 + math.exp(-2)))]),
    ("sigmoid_difference", (-1, 5, 5, 1), [(0, abs(1 / (1 + math.exp(-5)) - 1 / (1 + math.exp(5))))]),
    ("sigmoid_product", (-1, 5, -5, 1), [(0, (1 / (1 + math.exp(-5))) ** 2)]),
    ("pi_shape", (0, 1, 2, 3), [(0.5, 0.5), (1.5, 1), (2.5, 0.5), (4, 0)]),
    ("s_shape", (0, 1), [(-1, 0), (0.25, 0.125), (0.5, 0.5), (0.75, 0.875), (2, 1)]),
    ("z_shape", (0, 1), [(-1, 1), (0.25, 0.875), (0.75, 0.125), (2, 0)]),
    ("ramp", (0, 10), [(-1, 0), (2.5, 0.25), (10, 1), (11, 1)]),
    ("ramp", (10, 0), [(-1, 1), (2.5, 0.75), (10, 0), (11, 0)]),
    ("concave", (0.5, 1), [(0.75, 0.5 / 0.75), (1, 1), (1.5, 1)]),
    ("concave", (1, 0.5), [(0.75, 0.5 / 0.75), (0.5, 1), (0, 1)]),
    ("cosine", (0, 2), [(0, 1), (0.5, 0.5), (1, 0.5 * (1 + math.cos(math.pi))), (1.5, 0)]),
    ("spike", (0, 10), [(0, 1), (1, math.exp(-1)), (-1, math.exp(-1))]),
    ("arc", (0, 1), [(-1, 0), (0.5, math.sqrt(0.75)), (1, 1), (2, 1)]),
    ("arc", (1, 0), [(-1, 1), (0, 1), (0.5, math.sqrt(0.75)), (2, 0)]),
    ("semi_ellipse", (0, 2), [(1, 1), (0.5, math.sqrt(0.75)), (3, 0)]),
    ("binary", (0.5, INF), [(0.7, 1), (0.5, 1), (0.3, 0)]),
    ("binary", (0.5, -INF), [(0.3, 1), (0.5, 1), (0.7, 0)]),
    ("discrete", (0, 0, 1, 1, 2, 0), [(-1, 0), (0.5, 0.5), (1, 1), (1.5, 0.5), (3, 0)]),
    ("discrete", (0, 1, 1, 0), [(-5, 1), (5, 0)]),
    ("constant", (3,), [(0, 3), (100, 3)]),
]


@pytest.mark.parametrize("shape, params, points", SHAPE_CASES,
                         ids=[f"{c[0]}{c[1]}" for c in SHAPE_CASES])
def test_shape_values(shape: str, params: tuple, points: list) -> None:
    x = np.array([p[0] for p in points], dtype=float)
    want = np.array([p[1] for p in points], dtype=float)
    got = terms.membership(shape, tuple(float(v) for v in params), 1.0, x)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    half = terms.membership(shape, tuple(float(v) for v in params), 0.5, x)
    if shape != "constant":
        np.testing.assert_allclose(half, 0.5 * want, rtol=1e-12, atol=1e-15)
        assert np.isnan(terms.membership(shape, tuple(float(v) for v in params), 1.0, np.array([np.nan])))[0]


def test_every_shape_of_the_checker_is_evaluated() -> None:
    covered = {c[0] for c in SHAPE_CASES} | {"linear", "function"}
    assert covered == set(TERM_SHAPES)
    assert set(terms.SHAPES) | set(terms.ENGINE_SHAPES) == set(TERM_SHAPES)


def test_degenerate_ramp_is_nan() -> None:
    assert np.isnan(terms.membership("ramp", (1.0, 1.0), 1.0, np.array([0.5, 1.0]))).all()


@pytest.mark.parametrize("shape, params", [("ramp", (0.2, 0.8)), ("ramp", (0.9, 0.1)), ("sigmoid", (0.5, 12.0)),
                                           ("sigmoid", (0.5, -12.0)), ("s_shape", (0.1, 0.9)),
                                           ("z_shape", (0.1, 0.9)), ("concave", (0.3, 0.6)),
                                           ("concave", (0.9, 0.6)), ("arc", (0.1, 0.7)), ("arc", (0.9, 0.2))])
@pytest.mark.parametrize("height", [1.0, 0.8])
def test_tsukamoto_inverts_monotonic_terms(shape: str, params: tuple, height: float) -> None:
    y = np.array([0.1, 0.3, 0.5, 0.7]) * height
    x = terms.tsukamoto(shape, params, height, y)
    np.testing.assert_allclose(terms.membership(shape, params, height, x), y, rtol=1e-9, atol=1e-12)


def test_tsukamoto_refuses_non_monotonic_terms() -> None:
    with pytest.raises(ValueError, match="not monotonic"):
        terms.tsukamoto("triangle", (0.0, 0.5, 1.0), 1.0, np.array([0.5]))


NORM_VALUES = {
    "minimum": [((0.3, 0.6), 0.3)], "algebraic_product": [((0.5, 0.6), 0.3)],
    "bounded_difference": [((0.7, 0.6), 0.3), ((0.2, 0.3), 0.0)],
    "drastic_product": [((1.0, 0.3), 0.3), ((0.9, 0.3), 0.0)],
    "einstein_product": [((0.5, 0.5), 0.2)], "hamacher_product": [((0.5, 0.5), 1 / 3), ((0.0, 0.0), 0.0)],
    "nilpotent_minimum": [((0.5, 0.6), 0.5), ((0.4, 0.5), 0.0)],
    "maximum": [((0.3, 0.6), 0.6)], "algebraic_sum": [((0.5, 0.5), 0.75)],
    "bounded_sum": [((0.7, 0.6), 1.0), ((0.2, 0.3), 0.5)],
    "drastic_sum": [((0.0, 0.3), 0.3), ((0.1, 0.3), 1.0)], "einstein_sum": [((0.5, 0.5), 0.8)],
    "hamacher_sum": [((0.5, 0.5), 2 / 3), ((1.0, 1.0), 1.0)],
    "nilpotent_maximum": [((0.3, 0.4), 0.4), ((0.6, 0.5), 1.0)],
    "normalized_sum": [((0.7, 0.6), 1.0), ((0.2, 0.3), 0.5)], "unbounded_sum": [((0.7, 0.6), 1.3)],
}


@pytest.mark.parametrize("name", sorted(NORM_VALUES))
def test_norm_values(name: str) -> None:
    fn = TNORMS.get(name) or SNORMS[name]
    for (a, b), want in NORM_VALUES[name]:
        assert float(fn(np.float64(a), np.float64(b))) == pytest.approx(want, abs=1e-15)
        assert float(fn(np.float64(b), np.float64(a))) == pytest.approx(want, abs=1e-15)


@pytest.mark.parametrize("name", sorted(TNORMS))
def test_tnorm_boundaries(name: str) -> None:
    a = np.linspace(0, 1, 11)
    np.testing.assert_allclose(TNORMS[name](a, np.ones_like(a)), a, atol=1e-15)
    np.testing.assert_allclose(TNORMS[name](a, np.zeros_like(a)), 0.0, atol=1e-15)


@pytest.mark.parametrize("name", sorted(SNORMS))
def test_snorm_boundaries(name: str) -> None:
    a = np.linspace(0, 1, 11)
    np.testing.assert_allclose(SNORMS[name](a, np.zeros_like(a)), a, atol=1e-15)
    if name != "unbounded_sum":
        np.testing.assert_allclose(SNORMS[name](a, np.ones_like(a)), 1.0, atol=1e-15)


def test_norm_tables_cover_the_model() -> None:
    from library.fuzzy.model import SNORMS as MS
    from library.fuzzy.model import TNORMS as MT
    assert set(TNORMS) == set(MT) and set(SNORMS) == set(MS) and set(NORM_VALUES) == set(MT) | set(MS)


@pytest.mark.parametrize("hedges, x, want", [
    (("not",), 0.3, 0.7), (("very",), 0.5, 0.25), (("somewhat",), 0.25, 0.5),
    (("extremely",), 0.25, 0.125), (("extremely",), 0.75, 0.875), (("seldom",), 0.5, 0.5),
    (("seldom",), 0.98, 0.9), (("seldom",), 0.08, 0.2), (("any",), 0.3, 1.0), (("not", "any"), 0.3, 0.0),
    (("not", "very"), 0.5, 0.75), (("very", "not"), 0.5, 0.25), (("very", "very"), 0.5, 0.0625),
])
def test_hedges(hedges: tuple, x: float, want: float) -> None:
    assert float(apply_hedges(hedges, np.array([x]))[0]) == pytest.approx(want, abs=1e-12)


def test_hedge_tables_agree() -> None:
    assert set(HEDGES) == set(CHECKER_HEDGES)


def test_midpoints_and_integral_defuzzifiers() -> None:
    x = defuzz.midpoints(0.0, 1.0, 4)
    assert x.tolist() == [0.125, 0.375, 0.625, 0.875]
    y = np.array([[0.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0], [0.2, 0.4, 0.4, 0.0]])
    assert defuzz.centroid(y, x)[:2].tolist() == [0.5, 0.5]
    assert defuzz.bisector(y, x)[1] == 0.375  # cumulative area reaches half at the 2nd slice
    assert defuzz.mean_of_maximum(y, x)[0] == 0.5
    assert defuzz.smallest_of_maximum(y, x)[3] == 0.375
    assert defuzz.largest_of_maximum(y, x)[3] == 0.625
    for fn in defuzz.INTEGRAL.values():
        assert np.isnan(fn(y, x)[2]), fn.__name__  # nothing aggregated: NaN, never 0 or mid-range


def test_weighted_defuzzifiers() -> None:
    wz, w = np.array([1.5, 0.0]), np.array([0.5, 0.0])
    assert defuzz.weighted("weighted_average", wz, w)[0] == 3.0
    assert defuzz.weighted("weighted_sum", wz, w)[0] == 1.5
    assert np.isnan(defuzz.weighted("weighted_average", wz, w)[1])
    assert np.isnan(defuzz.weighted("weighted_sum", wz, w)[1])


def test_function_formulas() -> None:
    f = Formula("+", args=(Formula("call", "abs", (Formula("var", "a"),)),
                           Formula("^", args=(Formula("var", "x"), Formula("num", 2.0)))))
    got = formula.evaluate(f, {"a": np.array([-1.0, 2.0]), "x": np.array([3.0, 0.5])})
    assert got.tolist() == [10.0, 2.25]
    assert formula.check(f, {"x"}) == ["'a' is not available (use x, or no other names)"]
    assert "unknown function 'nope'" in formula.check(Formula("call", "nope", (Formula("num", 1.0),)), set())


def _tiny() -> Engine:
    x = InputVariable("x", (0.0, 1.0), (Term("lo", "ramp", (1.0, 0.0)), Term("edge", "binary", (0.5, INF))))
    y = OutputVariable("y", (0.0, 1.0), (Term("a", "triangle", (0.0, 0.0, 1.0), 0.5),), default=math.nan)
    rule = Rule(Proposition("x", ("not",), "lo"), (Proposition("y", (), "a"),), 0.5, "if x is not lo then y is a")
    return Engine("tiny", (x,), (y,), (RuleBlock("b", (rule,), activation="threshold",
                                                  activation_comparator=">=", activation_threshold=0.25),))


def test_engine_data_round_trips_through_json() -> None:
    e = _tiny()
    text = json.dumps(e.to_data(), allow_nan=False)
    back = Engine.from_data(json.loads(text))
    assert back.to_data() == e.to_data() and back.blocks == e.blocks and back.inputs == e.inputs
    assert math.isnan(back.outputs[0].default)
    assert '"inf"' in text and '"default": "nan"' in text


def test_validation_names_the_problem() -> None:
    from library.fuzzy import Evaluator

    e = _tiny()
    bad = Engine("bad", e.inputs, (OutputVariable("y", (0.0, 1.0), (Term("a", "wiggle", (1.0,)),)),), e.blocks)
    with pytest.raises(ValueError, match="unknown shape 'wiggle'"):
        Evaluator(bad)
    mixed = OutputVariable("y", (0.0, 1.0), (Term("a", "constant", (1.0,)), Term("b", "ramp", (0.0, 1.0))),
                           defuzzifier="weighted_average")
    with pytest.raises(ValueError, match="mixed kinds of terms"):
        Evaluator(Engine("m", e.inputs, (mixed,), e.blocks))
