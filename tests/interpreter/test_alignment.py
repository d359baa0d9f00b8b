"""Other instruments line up by a documented, per-instrument policy (docs/language.md, "Other
instruments and higher timeframes"): ``alignment: asof`` (default) takes the other instrument's
last bar if at most ``max_staleness`` old (default one strategy bar), ``alignment: exact`` only a
bar at the same timestamp; ``age@other`` exposes the lag in seconds; ``feed.stale_bars`` says
where an input is NaN for want of a fresh bar (results report those as ``data_gap``).

Checked on the shipped Kraken/Gemini BTC 5-minute files with their real gaps (Gemini misses 22
bars, among them a 1h45 hole 2019-10-24 23:00 -> 2019-10-25 00:45) against pandas'
``merge_asof`` / an exact join computed here, batch (``feed.market_inputs``) against stream
(``paper.AsOf`` through a real ``PaperSession``) bit for bit, and paper against backtest.
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import interpreter as ts
from dsl.errors import DslError
from interpreter.data import load_bars
from interpreter.feed import alignment, load_run_data, market_inputs, stale_bars
from interpreter.modes.paper import open_session

ROOT = Path(__file__).resolve().parents[2]
KRAKEN = ROOT / "data" / "btc_usd_kraken_5m_2019-10-22_2019-11-11.csv"
GEMINI = ROOT / "data" / "btc_usd_gemini_5m_2019-10-22_2019-11-11.csv"
NS = 1_000_000_000
UTC = lambda s: pd.Timestamp(s, tz="UTC")  # noqa: E731

STRATEGY = """\
kind: strategy
name: {name}
universe: btc_two_venues
instrument: {instrument}
timeframe: 5m
params:
  entry_spread: {{default: 0.0015}}
signals:
  spread: close@{other} / close - 1
  conf: exp(-age@{other} / 300)
  gap_high: high@{other} - low@{other}
entry:
  long: spread * conf > entry_spread and gap_high >= 0
exit:
  long: spread < 0.0005 or bars_in_trade >= 36
sizing: {{method: percent_equity, percent: 50%, fractional: true}}
execution: {{fill: next_open, commission: 10bps, slippage: 1bps}}
"""


def workspace(tmp_path: Path, policy: str = "", *, instrument: str = "btc_kraken", name: str = "aligned") -> Path:
    """A copy of specs/ (data beside it) whose btc_two_venues gives the *other* instrument
    ``policy`` (YAML lines such as ``alignment: exact``), plus a strategy reading it."""
    specs = tmp_path / "specs"
    if not specs.exists():
        shutil.copytree(ROOT / "specs", specs)
        (tmp_path / "data").symlink_to(ROOT / "data")
    other = "btc_gemini" if instrument == "btc_kraken" else "btc_kraken"
    uni = specs / "universes" / "btc_two_venues.yaml"
    text = (ROOT / "specs" / "universes" / "btc_two_venues.yaml").read_text(encoding="utf-8")
    anchor = f"  - id: {other}\n"
    assert anchor in text
    extra = "".join(f"    {line.strip()}\n" for line in policy.splitlines() if line.strip())
    head, tail = text.split(anchor)
    uni.write_text(head + anchor + extra + tail, encoding="utf-8")
    spec = specs / "strategies" / f"{name}.yaml"
    spec.write_text(STRATEGY.format(name=name, instrument=instrument, other=other), encoding="utf-8")
    return spec


def batch_and_stream(graph) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict]:
    """Inputs from feed.market_inputs, and as a PaperSession saw them bar by bar (its AsOf's
    ``stale`` per bar too, checked against feed.stale_bars)."""
    bars = load_run_data(graph)
    batch = market_inputs(graph, bars)
    session, it = open_session(graph, None)
    stale = {inst: [] for inst in session.others}
    for bar in it:
        if session.on_bar(bar) is not None:
            for inst, src in session.others.items():
                stale[inst].append(src.stale(bar.ts))
    n = session.market.n
    ids = {nd.key: nd.id for nd in graph.nodes if nd.op == "input"}
    stream = {k: np.array(session.market.values[ids[k]][:n]) for k in batch}
    for inst, flags in stale_bars(graph, bars).items():
        assert np.array_equal(flags, stale[inst]), f"stale bars of {inst}: stream differs from batch"
    return batch, stream, bars


def same(a, b) -> bool:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.array_equal(a.view(np.int64), b.view(np.int64)))


def frame(path: Path) -> pd.DataFrame:
    f = load_bars(path).to_frame()
    f.index = f.index.as_unit("ns")
    return f


def expected_asof(prim: pd.DataFrame, other: pd.DataFrame, col: str, max_age: pd.Timedelta | None) -> np.ndarray:
    """pandas' own as-of join (backward, tolerance inclusive); ``None``: exact timestamps only."""
    if max_age is None:
        return other[col].reindex(prim.index).to_numpy(dtype=np.float64)
    left = pd.DataFrame({"t": prim.index})
    right = pd.DataFrame({"t": other.index, "v": other[col].to_numpy()})
    return pd.merge_asof(left, right, on="t", direction="backward", tolerance=max_age)["v"].to_numpy(dtype=np.float64)


def expected_age(prim: pd.DataFrame, other: pd.DataFrame) -> np.ndarray:
    left = pd.DataFrame({"t": prim.index})
    right = pd.DataFrame({"t": other.index, "last": other.index})
    last = pd.merge_asof(left, right, on="t", direction="backward")["last"]
    return ((left["t"] - last).dt.total_seconds()).to_numpy(dtype=np.float64)


# policy as written -> (max age for pandas, or None for exact; NaN bars of close@btc_gemini on Kraken)
POLICIES = {
    "default": ("", pd.Timedelta("5min"), 19),
    "one_bar": ("max_staleness: 1 bar", pd.Timedelta("5min"), 19),
    "3_bars": ("max_staleness: 3 bars", pd.Timedelta("15min"), 17),
    "15m": ("max_staleness: 15m", pd.Timedelta("15min"), 17),
    "19_bars": ("max_staleness: 19 bars", pd.Timedelta("95min"), 1),
    "20_bars": ("max_staleness: 20 bars", pd.Timedelta("100min"), 0),
    "2h": ("max_staleness: 2h", pd.Timedelta("2h"), 0),
    "0_bars": ("max_staleness: 0 bars", pd.Timedelta(0), 22),
    "exact": ("alignment: exact", None, 22),
    "asof_written": ("alignment: asof", pd.Timedelta("5min"), 19),
}


@pytest.fixture(scope="module")
def shipped():
    return frame(KRAKEN), frame(GEMINI)


@pytest.mark.parametrize("key", list(POLICIES))
def test_policies_on_the_shipped_venues(key, tmp_path, shipped):
    policy, max_age, nan_bars = POLICIES[key]
    graph = ts.compile_spec(workspace(tmp_path, policy))
    batch, stream, bars = batch_and_stream(graph)
    kraken, gemini = shipped
    for col in ("close", "high", "low"):
        want = expected_asof(kraken, gemini, col, max_age)
        got = batch[f"{col}@btc_gemini"]
        assert np.array_equal(want, got, equal_nan=True), f"{key}: {col}@btc_gemini differs from pandas"
    assert int(np.isnan(batch["close@btc_gemini"]).sum()) == nan_bars
    # age@ is the lag itself, the same under every policy
    assert np.array_equal(batch["age@btc_gemini"], expected_age(kraken, gemini), equal_nan=True)
    for k in batch:
        assert same(batch[k], stream[k]), f"{key}: {k} differs between batch and stream"
    stale = stale_bars(graph, bars)
    assert list(stale) == ["btc_gemini"]
    assert np.array_equal(stale["btc_gemini"], np.isnan(batch["close@btc_gemini"]))


def test_the_default_is_todays_rule(tmp_path):
    """Nothing written: the shipped plan has no alignment keys and close@ is as-of one bar old,
    exactly what align_asof did with the strategy's timeframe before the policy existed."""
    graph = ts.compile_spec(ROOT / "specs" / "strategies" / "cross_venue_arb.yaml")
    for inst in graph.plan["universe"]["instruments"]:
        assert "alignment" not in inst and "max_staleness" not in inst
    assert alignment(graph.plan, "btc_gemini") == ("asof", 300 * NS)
    bars = load_run_data(graph)
    k, g = bars["btc_kraken"], bars["btc_gemini"]
    idx = np.searchsorted(g.ts, k.ts, side="right") - 1
    old = np.where((idx >= 0) & (k.ts - g.ts[np.clip(idx, 0, None)] <= 300 * NS), g.close[idx], np.nan)
    assert same(market_inputs(graph, bars)["close@btc_gemini"], old)


def test_written_asof_keeps_the_fingerprint_and_exact_changes_it(tmp_path):
    base = ts.compile_spec(workspace(tmp_path / "a", "")).fingerprint
    assert ts.compile_spec(workspace(tmp_path / "b", "alignment: asof")).fingerprint == base
    assert ts.compile_spec(workspace(tmp_path / "c", "alignment: exact")).fingerprint != base
    assert ts.compile_spec(workspace(tmp_path / "d", "max_staleness: 3 bars")).fingerprint != base


def test_the_hole_bar_by_bar(tmp_path, shipped):
    """Gemini has no bars from 2019-10-24 23:05 to 2019-10-25 00:40 (its 23:00 bar is the last)."""
    kraken, gemini = shipped
    pos = {t: i for i, t in enumerate(kraken.index)}
    g23 = gemini.loc[UTC("2019-10-24 23:00")]
    runs = {}
    for key in ("default", "3_bars", "exact", "2h"):
        graph = ts.compile_spec(workspace(tmp_path / key, POLICIES[key][0]))
        batch, stream, _ = batch_and_stream(graph)
        runs[key] = batch
        for got in (batch, stream):
            close = got["close@btc_gemini"]
            age = got["age@btc_gemini"]
            at = lambda s: pos[UTC(s)]  # noqa: E731
            assert age[at("2019-10-24 23:00")] == 0.0
            assert age[at("2019-10-24 23:05")] == 300.0
            assert age[at("2019-10-25 00:40")] == 6000.0  # 1h40 since the 23:00 bar opened
            assert age[at("2019-10-25 00:45")] == 0.0
            assert close[at("2019-10-25 00:45")] == gemini.loc[UTC("2019-10-25 00:45"), "close"]
    d, three, exact, two_h = (runs[k]["close@btc_gemini"] for k in ("default", "3_bars", "exact", "2h"))
    at = lambda s: pos[UTC(s)]  # noqa: E731
    # default: one bar old is fine, two is not
    assert d[at("2019-10-24 23:05")] == g23["close"] and np.isnan(d[at("2019-10-24 23:10")])
    # 3 bars: up to 15 minutes, inclusive
    assert three[at("2019-10-24 23:15")] == g23["close"] and np.isnan(three[at("2019-10-24 23:20")])
    # exact: nothing but the same timestamp
    assert exact[at("2019-10-24 23:00")] == g23["close"] and np.isnan(exact[at("2019-10-24 23:05")])
    # 2h: the 23:00 bar carries over the whole hole
    assert (two_h[at("2019-10-24 23:00"):at("2019-10-25 00:45")] == g23["close"]).all()


def test_single_missing_bars_under_asof_and_exact(tmp_path, shipped):
    """Gemini misses 11:05 on 2019-11-03 and 06:10 on 2019-11-04: as-of covers them, exact does not."""
    kraken, gemini = shipped
    pos = {t: i for i, t in enumerate(kraken.index)}
    asof = market_inputs(g := ts.compile_spec(workspace(tmp_path / "a", "")), load_run_data(g))
    exact = market_inputs(g := ts.compile_spec(workspace(tmp_path / "e", "alignment: exact")), load_run_data(g))
    for t, prev in (("2019-11-03 11:05", "2019-11-03 11:00"), ("2019-11-04 06:10", "2019-11-04 06:05")):
        i = pos[UTC(t)]
        assert asof["close@btc_gemini"][i] == gemini.loc[UTC(prev), "close"]
        assert np.isnan(exact["close@btc_gemini"][i])
        assert asof["age@btc_gemini"][i] == exact["age@btc_gemini"][i] == 300.0


def test_age_is_nan_before_the_other_instruments_first_bar(tmp_path, shipped):
    """Run on Gemini (from 00:20) reading Kraken (from 01:50): age@ and close@ are NaN until 01:50."""
    kraken, gemini = shipped
    graph = ts.compile_spec(workspace(tmp_path, "max_staleness: 2h", instrument="btc_gemini", name="on_gemini"))
    batch, stream, bars = batch_and_stream(graph)
    first = gemini.index.get_loc(UTC("2019-10-22 01:50"))
    for got in (batch, stream):
        assert np.isnan(got["age@btc_kraken"][:first]).all() and np.isnan(got["close@btc_kraken"][:first]).all()
        assert got["age@btc_kraken"][first] == 0.0
    assert np.array_equal(batch["age@btc_kraken"], expected_age(gemini, kraken), equal_nan=True)
    # Kraken misses 2019-11-10 02:50: one bar old at Gemini's 02:50 (age 300 s), within 2h
    i = gemini.index.get_loc(UTC("2019-11-10 02:50"))
    assert batch["age@btc_kraken"][i] == 300.0
    assert batch["close@btc_kraken"][i] == kraken.loc[UTC("2019-11-10 02:45"), "close"]
    stale = stale_bars(graph, bars)["btc_kraken"]
    assert stale[:first].all() and not stale[first:].any()
    for k in batch:
        assert same(batch[k], stream[k]), k


@pytest.mark.parametrize("policy", ["", "alignment: exact", "max_staleness: 30m"], ids=["default", "exact", "30m"])
def test_paper_equals_backtest(policy, tmp_path):
    spec = workspace(tmp_path, policy)
    graph = ts.compile_spec(spec)
    back = ts.backtest(graph)
    assert len(back.trades) > 5
    files_b = back.write(tmp_path / "backtest")
    files_p = ts.paper(graph).write(tmp_path / "paper")
    assert [p.name for p in files_b] == [p.name for p in files_p]
    for a, b in zip(files_b, files_p):
        assert filecmp.cmp(a, b, shallow=False), f"{a.name} differs between backtest and paper"


# ----------------------------------------------------------------- constructed boundaries


CASE = """\
kind: strategy
name: case
universe: case_universe
instrument: a
timeframe: 5m
signals:
  b_close: close@b
  b_age: age@b
entry:
  long: b_close > 0 and b_age >= 0
exit:
  long: bars_in_trade >= 2
---
kind: universe
name: case_universe
instruments:
  - {{id: a, symbol: A, data: {a}, timeframe: 5m}}
  - id: b
    symbol: B
    data: {b}
    timeframe: 5m
{policy}
"""


def _bars(path: Path, times: list[str]) -> Path:
    rows = ["timestamp,open,high,low,close,volume"]
    for i, t in enumerate(times):
        p = 100 + i
        rows.append(f"{UTC(t).isoformat()},{p},{p + 1},{p - 1},{p},1")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("policy, visible", [
    ("", [0, 1, None, 2, 3, None, None, None, None, 4, 4, None]),
    ("max_staleness: 10m", [0, 1, 1, 2, 3, 3, None, None, None, 4, 4, 4]),
    ("max_staleness: 2 bars", [0, 1, 1, 2, 3, 3, None, None, None, 4, 4, 4]),
    ("max_staleness: 30s", [0, None, None, 2, None, None, None, None, None, 4, None, None]),
    ("alignment: exact", [0, None, None, 2, None, None, None, None, None, 4, None, None]),
], ids=["default", "10m", "2bars", "30s", "exact"])
def test_staleness_limits_are_inclusive(policy, visible, tmp_path):
    """a: 5m bars 00:00..00:55; b: bars at 00:00, 00:02, 00:15, 00:18, 00:45 (off the grid too).

    Ages of b's last bar at a's bars: 0, 3, 8, 0, 2, 7, 12, 17, 22, 0, 5, 10 minutes; a bar
    exactly as old as the limit is used (00:50 by default, 00:10 and 00:55 with 10m)."""
    a_times = [f"2024-01-01 00:{m:02d}" for m in range(0, 60, 5)]
    b_times = ["2024-01-01 00:00", "2024-01-01 00:02", "2024-01-01 00:15", "2024-01-01 00:18", "2024-01-01 00:45"]
    a = _bars(tmp_path / "a.csv", a_times)
    b = _bars(tmp_path / "b.csv", b_times)
    pol = "".join(f"    {line}\n" for line in policy.splitlines())
    spec = tmp_path / "case.yaml"
    spec.write_text(CASE.format(a=a, b=b, policy=pol.rstrip("\n")), encoding="utf-8")
    graph = ts.compile_spec(spec)
    batch, stream, bars = batch_and_stream(graph)
    b_close = [100.0 + i for i in range(len(b_times))]
    want = np.array([np.nan if v is None else b_close[v] for v in visible])
    last = [max(j for j, t in enumerate(b_times) if UTC(t) <= UTC(s)) for s in a_times]
    want_age = np.array([(UTC(s) - UTC(b_times[j])).total_seconds() for s, j in zip(a_times, last)])
    for got in (batch, stream):
        assert np.array_equal(got["close@b"], want, equal_nan=True)
        assert np.array_equal(got["age@b"], want_age)
    assert np.array_equal(stale_bars(graph, bars)["b"], np.isnan(want))


def test_stale_bars_while_flat_are_data_gap_holds(tmp_path):
    """The default policy on the case above: b is stale at a's bars 2, 5, 6, 7, 8 and 11. The
    strategy holds a position over 2, 5-7 and 11 (those say nothing), and is flat at 8: the only
    ``data_gap`` hold, the same in backtest and paper."""
    a_times = [f"2024-01-01 00:{m:02d}" for m in range(0, 60, 5)]
    b_times = ["2024-01-01 00:00", "2024-01-01 00:02", "2024-01-01 00:15", "2024-01-01 00:18", "2024-01-01 00:45"]
    spec = tmp_path / "case.yaml"
    spec.write_text(CASE.format(a=_bars(tmp_path / "a.csv", a_times), b=_bars(tmp_path / "b.csv", b_times),
                                policy=""), encoding="utf-8")
    graph = ts.compile_spec(spec)
    for run in (ts.backtest(graph), ts.backtest(graph, fast=False), ts.paper(graph)):
        assert [str(t) for t in run.trades["entry_time"]] == [
            "2024-01-01 00:05:00+00:00", "2024-01-01 00:25:00+00:00", "2024-01-01 00:50:00+00:00"]
        assert list(run.hold_bars) == [0, 2, 0, 2, 0, 0, 0, 0, 8, 0, 2, 0]
        assert run.holds == {"already_in_position": 3, "data_gap": 1}


def test_age_only_instruments_are_not_reported_stale(tmp_path):
    a = _bars(tmp_path / "a.csv", [f"2024-01-01 00:{m:02d}" for m in range(0, 30, 5)])
    b = _bars(tmp_path / "b.csv", ["2024-01-01 00:10"])
    spec = tmp_path / "case.yaml"
    spec.write_text(CASE.format(a=a, b=b, policy="").replace("b_close > 0 and ", "").replace(
        "  b_close: close@b\n", ""), encoding="utf-8")
    graph = ts.compile_spec(spec)
    bars = load_run_data(graph)
    assert stale_bars(graph, bars) == {}
    age = market_inputs(graph, bars)["age@b"]
    assert np.array_equal(age, [np.nan, np.nan, 0, 300, 600, 900], equal_nan=True)


# ----------------------------------------------------------------- the language


def _refused(tmp_path: Path, policy: str = "", formula: str = "close@btc_gemini / close - 1") -> list[str]:
    spec = workspace(tmp_path, policy)
    text = spec.read_text(encoding="utf-8").replace("close@btc_gemini / close - 1", formula)
    spec.write_text(text, encoding="utf-8")
    with pytest.raises(DslError) as err:
        ts.compile_spec(spec)
    return [d.code for d in err.value.diagnostics]


def test_exact_with_a_staleness_is_refused(tmp_path):
    assert "E203" in _refused(tmp_path, "alignment: exact\nmax_staleness: 10m")


@pytest.mark.parametrize("value", ["3", "'3 days'", "fast"])
def test_bad_staleness_is_refused(value, tmp_path):
    assert "E204" in _refused(tmp_path, f"max_staleness: {value}")


def test_bad_alignment_is_refused(tmp_path):
    assert _refused(tmp_path, "alignment: nearest")


@pytest.mark.parametrize("formula, code", [
    ("age@1h", "E505"),  # age is a lag between instruments, not a timeframe column
    ("age@btc_nowhere", "E514"),
    ("sma(close, 3)@btc_gemini", "E505"),
], ids=["age_at_timeframe", "age_unknown_instrument", "at_on_indicator"])
def test_age_formula_errors(formula, code, tmp_path):
    assert code in _refused(tmp_path, formula=formula)


def test_age_needs_no_column_in_the_file(tmp_path):
    """age@ is computed from timestamps; the compiled input node asks for column 'age'."""
    graph = ts.compile_spec(workspace(tmp_path))
    node = next(nd for nd in graph.nodes if nd.op == "input" and nd.attr("column") == "age")
    assert node.key == "age@btc_gemini" and node.attr("instrument") == "btc_gemini"


def test_own_instrument_by_id_reads_the_bar_itself(tmp_path):
    """``close@btc_kraken`` in a strategy on btc_kraken is its own close, in backtest and in paper
    (paper used to open the primary file a second time and refuse the duplicate timestamps)."""
    spec = workspace(tmp_path)
    text = spec.read_text(encoding="utf-8").replace("  spread: close@btc_gemini / close - 1\n",
                                                    "  spread: close@btc_gemini / close@btc_kraken - 1\n")
    spec.write_text(text, encoding="utf-8")
    graph = ts.compile_spec(spec)
    bars = load_run_data(graph)
    got = market_inputs(graph, bars)
    assert np.array_equal(got["close@btc_kraken"], bars["btc_kraken"].close)
    back = ts.backtest(graph)
    assert len(back.trades) > 5
    files_b = back.write(tmp_path / "backtest")
    files_p = ts.paper(graph).write(tmp_path / "paper")
    for a, b in zip(files_b, files_p):
        assert filecmp.cmp(a, b, shallow=False), f"{a.name} differs between backtest and paper"
