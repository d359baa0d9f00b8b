"""Schedules: allocation, cadence, windows, holidays, priority and plan-level limits, on small built data."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import interpreter as ts

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "interpreter"))
from conftest import T, flat, write_bars  # noqa: E402

H = "1h"


def strategy(name: str, universe: str, extra: str = "", sizing: str = "{method: fixed_units, units: 10}") -> str:
    return f"""kind: strategy
name: {name}
universe: {universe}
timeframe: 1h
entry: {{long: volume == 1}}
exit: {{long: volume == 2}}
sizing: {sizing}
{extra}---
"""


def universe(name: str, file: str) -> str:
    return f"""kind: universe
name: {name}
instruments:
  - {{id: {name}_x, symbol: X, data: {file}, timeframe: 1h}}
---
"""


def marks(rows, m):
    rows = [list(r) for r in rows]
    for i, v in m.items():
        rows[i][4] = v
    return [tuple(r) for r in rows]


def write_plan(tmp: Path, plan: str, a_marks: dict, b_marks: dict, n: int = 60, extra_docs: str = "") -> Path:
    write_bars(tmp / "a.csv", marks(flat(n, 100.0), a_marks), H)
    write_bars(tmp / "b.csv", marks(flat(n, 50.0), b_marks), H)
    text = (strategy("sa", "ua") + strategy("sb", "ub") + universe("ua", "a.csv") + universe("ub", "b.csv")
            + extra_docs + plan)
    p = tmp / "plan.yaml"
    p.write_text(text)
    return p


def test_allocation_gives_each_slot_its_own_cash(tmp_path):
    p = write_plan(tmp_path, """kind: schedule
name: p
capital: 10000
slots:
  - {strategy: sa, allocation: 60%}
  - {strategy: sb, allocation: 30%}
""", {1: 1, 5: 2}, {2: 1, 6: 2})
    res = ts.backtest(p)
    assert set(res.slots) == {"sa", "sb"}
    assert res.equity["equity.sa"].iloc[0] == 6000 and res.equity["equity.sb"].iloc[0] == 3000
    assert res.equity["equity"].iloc[0] == 10000  # 10% reserve cash
    assert list(res.fills["slot"]) == ["sa", "sb", "sa", "sb"]
    assert res.slots["sa"]["trades"] == 1 and res.slots["sb"]["trades"] == 1


def test_cadence_and_window_and_holidays(tmp_path):
    p = write_plan(tmp_path, """kind: schedule
name: p
capital: 10000
holidays: ["2024-01-02"]
slots:
  - {strategy: sa, allocation: 50%, cadence: 4h}
  - {strategy: sb, allocation: 50%, window: "Mon-Fri 10:00-12:00 UTC"}
""", {2: 1, 3: 1, 8: 2, 26: 1}, {1: 1, 10: 1, 20: 2, 30: 1})
    res = ts.backtest(p)
    sa, sb = res.slots["sa"]["hold_reasons"], res.slots["sb"]["hold_reasons"]
    # sa decides on bars whose close falls on a 4-hour boundary: bar 3 (03:00-04:00) yes, bar 2 no
    assert sa.get("off_cadence") == 2  # bars 2 and 26 close at 03:00
    entries = res.fills[(res.fills["action"] == "entry") & (res.fills["slot"] == "sa")]
    assert list(entries["time"]) == [T(4, H)]
    # sb: bar 1 closes at 02:00, outside 10:00-12:00; bar 10 closes 11:00, inside; bar 30 is on the holiday
    assert sb.get("outside_window") == 2
    entries = res.fills[(res.fills["action"] == "entry") & (res.fills["slot"] == "sb")]
    assert list(entries["time"]) == [T(11, H)]


def test_plan_limit_blocks_the_lower_priority_slot(tmp_path):
    p = write_plan(tmp_path, """kind: schedule
name: p
capital: 10000
risk_profile: plan_limits
slots:
  - {strategy: sa, allocation: 50%}
  - {strategy: sb, allocation: 50%, priority: 5}
""", {1: 1}, {1: 1}, extra_docs="""kind: risk_profile
name: plan_limits
limits:
  portfolio: {max_open_positions: 1}
---
""")
    res = ts.backtest(p)
    entries = res.fills[res.fills["action"] == "entry"]
    assert list(entries["slot"]) == ["sb"]  # the higher priority slot decides first and takes the one position
    assert res.slots["sa"]["hold_reasons"] == {"risk_limit": 1}


def test_weekly_rebalance_restores_weights(tmp_path):
    n = 24 * 9  # nine days of hourly bars from Monday 2024-01-01
    rows_a = flat(n, 100.0)
    rows_a[30:] = [(110.0, 111.0, 109.0, 110.0, 0)] * (n - 30)  # a gains while held
    write_bars(tmp_path / "a.csv", marks(rows_a, {1: 1}), H)
    write_bars(tmp_path / "b.csv", flat(n, 50.0), H)
    (tmp_path / "plan.yaml").write_text(strategy("sa", "ua") + strategy("sb", "ub") + universe("ua", "a.csv")
                                        + universe("ub", "b.csv") + """kind: schedule
name: p
capital: 10000
slots:
  - {strategy: sa, allocation: 50%}
  - {strategy: sb, allocation: 50%}
allocation: {method: fixed, rebalance: weekly}
""")
    res = ts.backtest(tmp_path / "plan.yaml")
    eq = res.equity.set_index("time")
    monday = pd.Timestamp("2024-01-08T00:00:00Z")
    at = eq.loc[monday]
    assert at["equity.sa"] == pytest.approx(at["equity.sb"], rel=1e-12)  # back to 50/50 on the new week
    before = eq.loc[monday - pd.Timedelta(hours=1)]
    assert before["equity.sa"] > before["equity.sb"]
    assert res.slots["sa"]["transfers"] < 0 < res.slots["sb"]["transfers"]


def test_shipped_plan_runs_with_slot_telemetry(monkeypatch):
    monkeypatch.chdir(ROOT)
    res = ts.backtest("specs/schedules/stage4_multi.yaml")
    assert set(res.slots) == {"zscore_reversion", "vol_target", "cross_venue_arb"}
    total = sum(s["pnl"] for s in res.slots.values())
    assert total == pytest.approx(res.trades["pnl"].sum())
    assert {"slot", "instrument"} <= set(res.trades.columns)
    assert np.isfinite(res.metrics["final_equity"])


def test_the_plan_journal_says_which_slot_decided(monkeypatch, tmp_path):
    """One decision log for the whole plan: each fill carries its slot and instrument and lines
    up with the plan's fills table; the plan's own limits are tagged ``level: plan``; the shared
    timeline keeps the events in time order; two runs write the same bytes."""
    import json

    monkeypatch.chdir(ROOT)
    res = ts.backtest("specs/schedules/stage4_multi.yaml", log=True)
    path = res.write_decisions(tmp_path / "plan.jsonl")
    again = ts.backtest("specs/schedules/stage4_multi.yaml", log=True).write_decisions(tmp_path / "again.jsonl")
    assert path.read_bytes() == again.read_bytes()
    events = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert events[0]["type"] == "session"
    body = events[1:]
    assert [e["seq"] for e in body] == list(range(1, len(events)))
    assert all(("slot" in e) != ("level" in e) for e in body)
    assert {e["slot"] for e in body if "slot" in e} == set(res.slots)
    assert {e["level"] for e in body if "level" in e} == {"plan"}
    fills = [e for e in body if e["type"] == "fill"]
    got = [(e["ts"], e["slot"], e["instrument"], e["action"]) for e in fills]
    # a pair's fill event carries its hedge leg, which fills.csv lists as a row of its own
    got += [(e["ts"], e["slot"], e["hedge"]["instrument"], e["action"]) for e in fills if "hedge" in e]
    want = [(t.isoformat(), s, i, a) for t, s, i, a in
            zip(res.fills["time"], res.fills["slot"], res.fills["instrument"], res.fills["action"])]
    assert sorted(got) == sorted(want)
    assert len(got) == sum(s["fills"] for s in res.slots.values())
    engine = [e for e in body if e["type"] in ("signal", "decision", "order", "fill")]
    assert all("instrument" in e for e in engine)
    stamps = [e["ts"] for e in body]
    assert stamps == sorted(stamps)


def test_plan_gross_limit_clips_the_lower_priority_slot(tmp_path):
    """Plan capital 10000, portfolio max_gross_exposure 12% (reduce) = 1200: sb (priority 5)
    buys 10 x 50 = 500 first; sa's 10 x 100 = 1000 would make 1500, so it is clipped to the
    700 left: 7 units."""
    p = write_plan(tmp_path, """kind: schedule
name: p
capital: 10000
risk_profile: plan_limits
slots:
  - {strategy: sa, allocation: 50%}
  - {strategy: sb, allocation: 50%, priority: 5}
""", {1: 1}, {1: 1}, extra_docs="""kind: risk_profile
name: plan_limits
limits:
  portfolio: {max_gross_exposure: 12%}
on_breach: {max_gross_exposure: reduce}
---
""")
    res = ts.backtest(p)
    entries = res.fills[res.fills["action"] == "entry"].set_index("slot")
    assert entries.loc["sb", "units"] == 10.0
    assert entries.loc["sa", "units"] == 7.0
    assert res.risk["by_limit"] == {"plan:portfolio.max_gross_exposure": 1}
    assert res.slots["sa"]["orders"] == 1 and res.slots["sb"]["orders"] == 1
    assert 0 < res.slots["sa"]["time_in_market"] <= 1


def test_a_daily_cadence_at_a_time(tmp_path):
    """cadence 'daily 10:00 UTC' on hourly bars: a slot decides on the bar closing at 10:00 (the
    09:00 bar) each day; when that bar is missing, on the first bar closing after 10:00. The
    day-1 trade's exit waits for day 2's decision bar, so the next entry is on day 3."""
    n = 24 * 3
    rows = marks(flat(n, 100.0), {h: 1 for h in range(n)})  # an entry signal on every bar
    write_bars(tmp_path / "a.csv", rows, H)
    lines = (tmp_path / "a.csv").read_text().splitlines()
    (tmp_path / "a.csv").write_text("\n".join(x for x in lines if not x.startswith("2024-01-02T09:00")) + "\n")
    write_bars(tmp_path / "b.csv", flat(n, 50.0), H)
    (tmp_path / "plan.yaml").write_text(
        strategy("sa", "ua", sizing="{method: fixed_units, units: 1}").replace("exit: {long: volume == 2}",
                                                                              "exit: {long: bars_in_trade >= 1}")
        + strategy("sb", "ub") + universe("ua", "a.csv") + universe("ub", "b.csv") + """kind: schedule
name: p
capital: 10000
slots:
  - {strategy: sa, allocation: 50%, cadence: "daily at 10:00 UTC"}
  - {strategy: sb, allocation: 50%}
""")
    res = ts.backtest(tmp_path / "plan.yaml")
    entries = res.fills[(res.fills["action"] == "entry") & (res.fills["slot"] == "sa")]
    exits = res.fills[(res.fills["action"] == "exit") & (res.fills["slot"] == "sa")]
    assert [t.strftime("%d %H:%M") for t in entries["decided_time"]] == ["01 09:00", "03 09:00"]
    assert [t.strftime("%d %H:%M") for t in exits["decided_time"]] == ["02 10:00"]  # 09:00 is missing
    assert res.slots["sa"]["cadence"] == "daily 10:00 UTC"
    held = res.slots["sa"]["hold_reasons"]
    assert held["off_cadence"] > 60


def test_a_daily_cadence_on_daily_bars_is_refused(tmp_path):
    from dsl.errors import DslError

    write_bars(tmp_path / "a.csv", flat(10, 100.0), "B")
    write_bars(tmp_path / "b.csv", flat(10, 50.0), "B")
    text = (strategy("sa", "ua") + strategy("sb", "ub") + universe("ua", "a.csv") + universe("ub", "b.csv")).replace(
        "timeframe: 1h", "timeframe: 1d")
    (tmp_path / "plan.yaml").write_text(text + """kind: schedule
name: p
capital: 10000
slots:
  - {strategy: sa, allocation: 50%, cadence: daily 15:55 UTC}
  - {strategy: sb, allocation: 50%, cadence: 1d}
""")
    with pytest.raises(DslError) as err:
        ts.backtest(tmp_path / "plan.yaml")
    d = err.value.diagnostics[0]
    assert d.code == "E203" and "close only at midnight" in d.message and d.span.line > 1
    (tmp_path / "plan.yaml").write_text((tmp_path / "plan.yaml").read_text().replace("daily 15:55 UTC", "dayly 15:55"))
    with pytest.raises(DslError) as err:
        ts.backtest(tmp_path / "plan.yaml")
    d = err.value.diagnostics[0]
    assert d.code == "E204" and "expected a duration" in d.message and "daily 15:55 UTC" in d.hint
