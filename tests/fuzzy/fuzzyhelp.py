"""Shared helpers of the fuzzy tests: a rule base from YAML text or FLL text, through the
normal path (load, check, ``build_engine``) to an ``Evaluator``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

import dsl
from dsl.fll import fll_to_yaml
from dsl.fuzzy_compile import build_engine
from library.fuzzy import Engine, Evaluator

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference" / "fuzzy"


def analyze_text(text: str, tmp_path: Path, name: str = "rb.yaml") -> dsl.Analysis:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return dsl.analyze([path])


def engine_from_yaml(text: str, tmp_path: Path, name: str | None = None) -> Engine:
    a = analyze_text(text, tmp_path)
    assert a.ok, "\n".join(f"{d.code} {d.message} ({d.span})" for d in a.errors)
    fuzzies = a.project.fuzzies
    checked = fuzzies[name] if name else next(iter(fuzzies.values()))
    data = build_engine(checked)
    return Engine.from_data(json.loads(json.dumps(data)))  # the plain data survives JSON


def evaluator_from_yaml(text: str, tmp_path: Path) -> Evaluator:
    return Evaluator(engine_from_yaml(text, tmp_path))


def evaluator_from_fll(fll_path: Path, name: str, tmp_path: Path) -> tuple[Evaluator, str]:
    text = fll_to_yaml(fll_path.read_text(encoding="utf-8"), name, str(fll_path))
    return Evaluator(engine_from_yaml(text, tmp_path, name)), text


def number(v) -> float:
    return float(v) if not isinstance(v, str) else {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}[v]


def load_case(path: Path) -> dict:
    case = json.loads(path.read_text(encoding="utf-8"))
    case["X"] = np.array([[number(v) for v in row] for row in case["vectors"]["inputs"]], dtype=float)
    case["Y"] = np.array([[number(v) for v in row] for row in case["vectors"]["expected"]], dtype=float)
    return case


def tolerance(output, expected: np.ndarray) -> np.ndarray:
    """The README's acceptance: centroid within 1e-6 x max(range, 1); bisector and the
    maxima within one integration step; weighted defuzzifiers within 1e-9 relative."""
    lo, hi = output.range
    if output.defuzzifier == "centroid":
        return np.full(expected.shape, 1e-6 * max(hi - lo, 1.0))
    if output.defuzzifier in ("bisector", "mean_of_maximum", "smallest_of_maximum", "largest_of_maximum"):
        return np.full(expected.shape, (hi - lo) / output.resolution)
    return 1e-9 * np.maximum(np.abs(np.nan_to_num(expected, posinf=0, neginf=0)), 1.0)


def compare(got: np.ndarray, expected: np.ndarray, output) -> tuple[float, list[str]]:
    """(max abs error over finite positions, problems)."""
    problems = []
    nan_bad = np.flatnonzero(np.isnan(got) != np.isnan(expected))
    if len(nan_bad):
        problems.append(f"NaN at different rows, e.g. {nan_bad[:5].tolist()}")
    inf = np.isinf(got) | np.isinf(expected)
    inf_bad = np.flatnonzero(inf & (got != expected))
    if len(inf_bad):
        problems.append(f"inf differs at rows {inf_bad[:5].tolist()}")
    finite = np.isfinite(got) & np.isfinite(expected)
    with np.errstate(invalid="ignore"):
        err = np.abs(got - expected)
    worst = float(err[finite].max()) if finite.any() else 0.0
    tol = tolerance(output, expected)
    over = np.flatnonzero(finite & (err > tol))
    if len(over):
        i = over[np.argmax(err[over])]
        problems.append(f"{len(over)} rows over tolerance; worst row {i}: got {got[i]!r}, expected "
                        f"{expected[i]!r} (tolerance {tol[i]:.3g})")
    return worst, problems
