"""Fuzzy membership term shapes: the parameters each takes, and which are positions on x.

The checker reads this table to validate ``terms:`` in fuzzy documents (arity, numbers,
positions inside the variable's range). The numeric evaluation of each shape lives with the
fuzzy engine.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TermShape:
    name: str
    params: tuple[str, ...]
    positions: tuple[int, ...]  # indices of params that are x positions
    variadic: bool = False  # discrete / linear take any number of values
    doc: str = ""


_SHAPES = [
    TermShape("triangle", ("a", "b", "c"), (0, 1, 2), doc="0 at a, 1 at b, 0 at c"),
    TermShape("trapezoid", ("a", "b", "c", "d"), (0, 1, 2, 3), doc="rises a..b, 1 on b..c, falls c..d"),
    TermShape("rectangle", ("start", "end"), (0, 1), doc="1 on [start, end]"),
    TermShape("gaussian", ("mean", "sd"), (0,), doc="exp(-(x-mean)^2 / (2 sd^2))"),
    TermShape("gaussian_product", ("mean_a", "sd_a", "mean_b", "sd_b"), (0, 2)),
    TermShape("bell", ("center", "width", "slope"), (0,), doc="1 / (1 + |(x-center)/width|^(2 slope))"),
    TermShape("sigmoid", ("inflection", "slope"), (0,), doc="1 / (1 + exp(-slope (x - inflection)))"),
    TermShape("sigmoid_difference", ("left", "rising", "falling", "right"), (0, 3)),
    TermShape("sigmoid_product", ("left", "rising", "falling", "right"), (0, 3)),
    TermShape("pi_shape", ("bottom_left", "top_left", "top_right", "bottom_right"), (0, 1, 2, 3)),
    TermShape("s_shape", ("start", "end"), (0, 1)),
    TermShape("z_shape", ("start", "end"), (0, 1)),
    TermShape("ramp", ("start", "end"), (0, 1), doc="0 at start, 1 at end (either direction)"),
    TermShape("concave", ("inflection", "end"), (0, 1)),
    TermShape("cosine", ("center", "width"), (0,)),
    TermShape("spike", ("center", "width"), (0,)),
    TermShape("arc", ("start", "end"), (0, 1)),
    TermShape("semi_ellipse", ("start", "end"), (0, 1)),
    TermShape("binary", ("start", "direction"), (0,)),
    TermShape("discrete", ("x1", "y1"), (), variadic=True, doc="pairs x, y; linear in between"),
    TermShape("constant", ("value",), ()),
    TermShape("linear", ("coefficients",), (), variadic=True, doc="c1*in1 + ... + cn*inn + intercept"),
    TermShape("function", ("formula",), ()),
]

TERM_SHAPES: dict[str, TermShape] = {s.name: s for s in _SHAPES}
#: Hedges, applied to a membership degree; they stack ("very very high").
HEDGES = ("not", "very", "somewhat", "extremely", "seldom", "any")
