"""The 39 reference cases of ../shared/reference/fuzzy/ (fuzzylite's outputs).

Each case goes the way a user's file would: its FLL file through the importer
(``dsl.fll.fll_to_yaml``), the YAML through ``dsl.analyze`` (load, validate, check) and
``build_engine``, then ``library.fuzzy.Evaluator``. Every vector is evaluated at once
(vectorised), compared under the README's tolerances (NaN and inf at the same rows;
centroid 1e-6 x max(range, 1); bisector and maxima one integration step; weighted 1e-9
relative), and the per-sample form must give the same numbers bit for bit: every row in
order for the stateful cases, a sample of rows for the others.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from fuzzyhelp import REFERENCE, compare, evaluator_from_fll, load_case

from library.fuzzy import State

CASES = sorted(REFERENCE.glob("*.json")) if REFERENCE.is_dir() else []
SKIP = f"reference cases not found at {REFERENCE} (the shared folder next to the repository)"


def test_all_39_cases_are_present() -> None:
    if not CASES:
        pytest.skip(SKIP)
    assert len(CASES) == 39
    assert sum(len(load_case(p)["X"]) for p in CASES) == 43_392


@pytest.mark.parametrize("path", CASES or [None], ids=[p.stem for p in CASES] or ["missing"])
def test_reference_case(path: Path | None, tmp_path: Path) -> None:
    if path is None:
        pytest.skip(SKIP)
    case = load_case(path)
    fll = path.parent / "fll" / f"{case['id']}.fll"
    ev, _ = evaluator_from_fll(fll, case["id"], tmp_path)
    ins, outs = case["columns"]["inputs"], case["columns"]["outputs"]
    assert [v.name for v in ev.inputs] == ins and [v.name for v in ev.outputs] == outs
    X, Y = case["X"], case["Y"]
    res = ev.evaluate({name: X[:, i] for i, name in enumerate(ins)})
    problems = []
    for j, name in enumerate(outs):
        _, found = compare(res.outputs[name], Y[:, j], ev.outputs[j])
        problems += [f"{name}: {p}" for p in found]
    assert not problems, f"{case['id']}: " + "; ".join(problems)

    rows = range(len(X)) if case["stateful"] else range(0, len(X), 17)
    state = State()
    for i in rows:
        one = ev.evaluate_one({name: float(X[i, k]) for k, name in enumerate(ins)},
                              state if case["stateful"] else None)
        for name in outs:
            a, b = one.outputs[name], float(res.outputs[name][i])
            assert a == b or (math.isnan(a) and math.isnan(b)), \
                f"{case['id']} row {i} {name}: per-sample {a!r} != vectorised {b!r}"
        assert np.array_equal(np.array(one.activation), res.activation[i], equal_nan=True)


CHUNKED = [p for p in CASES if p.stem in ("synthetic__sizer_lock_previous", "takagi_sugeno__approximation",
                                          "synthetic__sizer_activation", "mamdani__laundry")]


@pytest.mark.parametrize("path", CHUNKED or [None], ids=[p.stem for p in CHUNKED] or ["missing"])
def test_chunking_never_changes_results(path: Path | None, tmp_path: Path) -> None:
    if path is None:
        pytest.skip(SKIP)
    case = load_case(path)
    ev, _ = evaluator_from_fll(path.parent / "fll" / f"{case['id']}.fll", case["id"], tmp_path)
    cols = {name: case["X"][:300, i] for i, name in enumerate(case["columns"]["inputs"])}
    whole = ev.evaluate(cols)
    for chunk in (1, 2, 5, 333):
        part = ev.evaluate(cols, chunk=chunk)
        for name in whole.outputs:
            assert np.array_equal(part.outputs[name], whole.outputs[name], equal_nan=True), (chunk, name)
        assert np.array_equal(part.activation, whole.activation, equal_nan=True)
        assert np.array_equal(part.fired, whole.fired)
