"""``execution.commission: venue`` charges each instrument its universe's taker fee (Kraken 26
bps, Gemini 35 bps in the shipped btc_two_venues), in a single-instrument run, in a basket
where each instrument pays its own venue's rate, and the same in paper as in backtest."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import numpy as np
import pytest

import interpreter as ts
from dsl.errors import DslError

ROOT = Path(__file__).resolve().parents[2]


def workspace(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    shutil.copytree(ROOT / "data", tmp_path / "data")
    return tmp_path / "specs"


def rates(result) -> dict[str, np.ndarray]:
    f = result.fills
    rate = (f["commission"] / (f["units"].abs() * f["price"])).to_numpy()
    inst = f["instrument"].to_numpy() if "instrument" in f else np.array([result.instrument] * len(f))
    return {i: rate[inst == i] for i in sorted(set(inst))}


def test_the_venue_rate_on_one_instrument_and_paper_agrees(tmp_path):
    spec = workspace(tmp_path) / "strategies" / "cross_venue_arb.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("commission: 2bps", "commission: venue"),
                    encoding="utf-8")
    graph = ts.compile_spec(spec)
    back = ts.backtest(graph)
    got = rates(back)
    assert list(got) == ["btc_gemini", "btc_kraken"] and len(got["btc_kraken"]) >= 2  # a pair: both legs
    assert len(got["btc_gemini"]) == len(got["btc_kraken"])
    assert np.allclose(got["btc_kraken"], 0.0026, rtol=1e-12, atol=0)
    assert np.allclose(got["btc_gemini"], 0.0035, rtol=1e-12, atol=0)
    files_b = back.write(tmp_path / "backtest")
    files_p = ts.paper(graph).write(tmp_path / "paper")
    for a, b in zip(files_b, files_p):
        assert filecmp.cmp(a, b, shallow=False), f"{a.name} differs between backtest and paper"


def test_a_basket_pays_each_venue_its_own_rate(tmp_path):
    spec = workspace(tmp_path) / "strategies" / "crypto_basket_reversion.yaml"
    text = spec.read_text(encoding="utf-8").replace("universe: crypto_majors", "universe: btc_two_venues")
    spec.write_text(text.replace("commission: 16bps", "commission: venue"), encoding="utf-8")
    got = rates(ts.backtest(spec))
    assert set(got) == {"btc_kraken", "btc_gemini"}
    assert np.allclose(got["btc_kraken"], 0.0026, rtol=1e-12, atol=0)
    assert np.allclose(got["btc_gemini"], 0.0035, rtol=1e-12, atol=0)


def test_venue_changes_the_fingerprint(tmp_path):
    specs = workspace(tmp_path)
    spec = specs / "strategies" / "cross_venue_arb.yaml"
    before = ts.compile_spec(spec).fingerprint
    spec.write_text(spec.read_text(encoding="utf-8").replace("commission: 2bps", "commission: venue"),
                    encoding="utf-8")
    assert ts.compile_spec(spec).fingerprint != before


def test_a_misspelt_venue_is_refused_with_a_hint(tmp_path):
    spec = workspace(tmp_path) / "strategies" / "cross_venue_arb.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("commission: 2bps", "commission: vneue"),
                    encoding="utf-8")
    with pytest.raises(DslError) as err:
        ts.compile_spec(spec)
    first = err.value.diagnostics[0]
    assert first.code == "E204" and "'vneue'" in first.message and "did you mean 'venue'" in first.hint
    assert len(err.value.diagnostics) == 1
    assert (first.span.line, first.span.col) == (27, 42)
