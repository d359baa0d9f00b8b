"""The shipped risk profiles differ in documented, testable ways, and limits hold on random orders."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import interpreter as ts

ROOT = Path(__file__).resolve().parents[2]


def _with_profile(tmp_path: Path, strategy: str, profile: str) -> Path:
    ws = tmp_path / profile / "specs"
    shutil.copytree(ROOT / "specs", ws)
    for d in ("data",):
        if not (tmp_path / profile / d).exists():
            (tmp_path / profile / d).symlink_to(ROOT / d)
    spec = ws / "strategies" / f"{strategy}.yaml"
    text = spec.read_text()
    lines = [ln if not ln.startswith("risk_profile:") else f"risk_profile: {profile}" for ln in text.splitlines()]
    spec.write_text("\n".join(lines) + "\n")
    return spec


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("profiles")
    return {p: ts.backtest(_with_profile(tmp, "zscore_reversion", p)) for p in ("conservative", "moderate", "aggressive")}


def test_conservative_clips_exposure_to_a_fifth(runs):
    entries = runs["conservative"].fills[runs["conservative"].fills["action"] == "entry"]
    notional = (entries["units"].abs() * entries["price"])
    equity_before = entries["cash_after"] + entries["units"] * entries["price"] + entries["commission"]
    assert (notional / equity_before <= 0.20 + 1e-9).all()
    assert "instrument.max_exposure" in runs["conservative"].risk["by_limit"]


def test_cooldown_exists_in_conservative_and_moderate_not_aggressive(runs):
    assert runs["conservative"].holds.get("cooldown", 0) >= runs["moderate"].holds.get("cooldown", 0) > 0
    assert runs["aggressive"].holds.get("cooldown", 0) == 0


def test_profiles_order_from_strict_to_loose(runs):
    c, m, a = (runs[p] for p in ("conservative", "moderate", "aggressive"))
    assert c.metrics["exposure"] < m.metrics["exposure"] <= a.metrics["exposure"] + 1e-12
    assert c.metrics["trade_count"] <= m.metrics["trade_count"] <= a.metrics["trade_count"]
    assert {c.risk["profile"], m.risk["profile"], a.risk["profile"]} == {"conservative", "moderate", "aggressive"}


LIMITS = """
---
kind: risk_profile
name: p
limits:
  instrument: {{max_exposure: {exp}, max_position: {pos}, max_order_notional: {notional}}}
  portfolio: {{max_gross_exposure: {gross}}}
on_breach: {{max_exposure: {action}, max_position: {action}, max_order_notional: {action}, max_gross_exposure: {action}}}
"""


@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), action=st.sampled_from(["reduce", "block_new"]),
       exp=st.sampled_from(["30%", "60%", "100%"]), pos=st.sampled_from([20, 50, 200]),
       notional=st.sampled_from([20000, 60000, 200000]), gross=st.sampled_from(["50%", "100%"]))
def test_random_orders_never_break_a_block_or_reduce_limit(tmp_path, seed, action, exp, pos, notional, gross):
    """Random entry/exit streams on real S&P data: every entry fill respects every order limit."""
    bars = pd.read_csv(ROOT / "data" / "sp500_daily_1999_2018.csv").iloc[:1500].copy()
    rng = np.random.default_rng(seed)
    bars["volume"] = rng.choice([0, 1, 2], size=len(bars), p=[0.8, 0.1, 0.1])
    case = tmp_path / f"c{seed}_{action}_{exp}_{pos}_{notional}_{gross}".replace("%", "")
    case.mkdir()
    bars.to_csv(case / "bars.csv", index=False)
    spec = case / "s.yaml"
    spec.write_text(f"""kind: strategy
name: s
universe: u
timeframe: 1d
entry: {{long: volume == 1}}
exit: {{long: volume == 2}}
sizing: {{method: percent_equity, percent: 100%}}
risk_profile: p
---
kind: universe
name: u
instruments:
  - {{id: x, symbol: X, data: bars.csv, timeframe: 1d}}
""" + LIMITS.format(exp=exp, pos=pos, notional=notional, gross=gross, action=action))
    res = ts.backtest(spec)
    entries = res.fills[res.fills["action"] == "entry"]
    size = entries["units"].abs()
    notional_v = size * entries["price"]
    equity_before = entries["cash_after"] + entries["units"] * entries["price"] + entries["commission"]
    frac = lambda s: float(s.rstrip("%")) / 100  # noqa: E731
    assert (notional_v <= notional * (1 + 1e-9)).all()
    assert (size <= pos).all()
    assert (notional_v / equity_before <= frac(exp) * (1 + 1e-9)).all()
    assert (notional_v / equity_before <= frac(gross) * (1 + 1e-9)).all()
    if action == "block_new":
        assert (size == 0).sum() == 0
