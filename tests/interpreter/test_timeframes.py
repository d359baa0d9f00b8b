"""Higher timeframes (``close@15m``, ``close@1h``, ``high@1h``, ``volume@1h``, ``close@1d``) see no
lookahead: at every base bar the value is that of the last *closed* higher-timeframe bar.

The expectation is recomputed here independently of ``interpreter.feed``: pandas' resample
(label left, closed left; open first, high max, low min, close last, volume sum; empty bins
dropped) and the visibility rule "a higher bar is visible at base bar t iff its end <= the end
of bar t", applied bar by bar. Checked on constructed 5-minute bars (boundaries and gaps pinned
bar by bar) and on the shipped Kraken BTC 5-minute file; the batch form (``feed.align_closed``)
and the stream form (``paper.HigherTimeframe``, through a real ``PaperSession``) agree bit for
bit, volume included; paper equals backtest for a strategy that reads them.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import interpreter as ts
from interpreter.data import load_bars, resample
from interpreter.feed import load_run_data, market_inputs
from interpreter.modes.paper import open_session

ROOT = Path(__file__).resolve().parents[2]
KRAKEN = ROOT / "data" / "btc_usd_kraken_5m_2019-10-22_2019-11-11.csv"
GEMINI = ROOT / "data" / "btc_usd_gemini_5m_2019-10-22_2019-11-11.csv"
FIVE = pd.Timedelta("5min")
COLS = ("open", "high", "low", "close", "volume")
RULES = {"15m": "15min", "1h": "1h", "1d": "1D"}
INPUTS = [f"{c}@{tf}" for tf in RULES for c in COLS]

SPEC = """\
kind: strategy
name: htf
universe: htf_universe
timeframe: 5m
signals:
{signals}
entry:
  long: {entry}
exit:
  long: bars_in_trade >= 6
sizing: {{method: percent_equity, percent: 50%, fractional: true}}
---
kind: universe
name: htf_universe
instruments:
  - {{id: x, symbol: X, data: {data}, timeframe: 5m, asset_class: crypto}}
"""


def write_spec(directory: Path, data: Path, entry: str = "c1h > c1h[1] and v1h > v1h[1] and c1d > 0") -> Path:
    """A 5m strategy reading every column at 15m, 1h and 1d (so every input is a graph node)."""
    directory.mkdir(parents=True, exist_ok=True)
    names = {f"{c}@{tf}": f"{c[0]}{tf}" for tf in RULES for c in COLS}
    signals = "\n".join(f"  {names[k]}: {k}" for k in INPUTS)
    spec = directory / "htf.yaml"
    spec.write_text(SPEC.format(signals=signals, entry=entry, data=data), encoding="utf-8")
    return spec


def write_bars(path: Path, frame: pd.DataFrame) -> Path:
    out = frame.copy()
    out.index = out.index.map(lambda t: t.isoformat())
    out.index.name = "timestamp"
    out.to_csv(path, float_format=None)
    return path


def constructed(n: int = 2 * 288, seed: int = 7) -> pd.DataFrame:
    """``n`` 5-minute bars from 2024-01-01 00:00 UTC; closes all distinct, whole-number volumes."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2024-01-01", periods=n, freq="5min", tz="UTC")
    close = np.round(100 + np.cumsum(rng.normal(0, 0.5, n)), 2) + np.arange(n) * 1e-4
    open_ = np.r_[100.0, close[:-1]]
    high = np.round(np.maximum(open_, close) + rng.uniform(0.01, 1, n), 4)
    low = np.round(np.minimum(open_, close) - rng.uniform(0.01, 1, n), 4)
    volume = rng.integers(1, 50, n).astype(float)
    return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=idx)


def expected(frame: pd.DataFrame, rule: str) -> pd.DataFrame:
    """Independent expectation: pandas resample + the visibility rule, one base bar at a time."""
    agg = frame.resample(rule, label="left", closed="left").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
    agg = agg[frame["close"].resample(rule, label="left", closed="left").count() > 0]
    ends = (agg.index + pd.Timedelta(rule)).as_unit("ns").asi8
    rows = []
    for t in frame.index:
        visible = ends <= (t + FIVE).value  # the higher bar has closed by the end of bar t
        k = int(visible.sum())  # ends are increasing: the visible bars are a prefix
        assert visible[:k].all() and not visible[k:].any()
        rows.append(agg.iloc[k - 1].to_numpy() if k else np.full(5, np.nan))
    return pd.DataFrame(rows, index=frame.index, columns=list(COLS))


def batch_and_stream(spec: Path) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Input arrays by key from feed.market_inputs, and the same inputs as a PaperSession saw them."""
    graph = ts.compile_spec(spec)
    batch = market_inputs(graph, load_run_data(graph))
    session, bars = open_session(graph, None)
    for bar in bars:
        session.on_bar(bar)
    n = session.market.n
    ids = {nd.key: nd.id for nd in graph.nodes if nd.op == "input"}
    stream = {key: np.array(session.market.values[ids[key]][:n]) for key in batch}
    return batch, stream


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit for bit, NaN included."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and bool(np.array_equal(a.view(np.int64), b.view(np.int64)))


def check_against_expectation(frame: pd.DataFrame, got: dict[str, np.ndarray], volume_rtol: float = 0.0) -> None:
    for tf, rule in RULES.items():
        want = expected(frame, rule)
        for c in COLS:
            w = want[c].to_numpy(dtype=np.float64)
            g = got[f"{c}@{tf}"]
            assert np.array_equal(np.isnan(w), np.isnan(g)), f"{c}@{tf}: visible on other bars"
            if c == "volume" and volume_rtol:
                np.testing.assert_allclose(g, w, rtol=volume_rtol, err_msg=f"{c}@{tf}")
            else:
                assert np.array_equal(w, g, equal_nan=True), f"{c}@{tf}: differs from the last closed bar"


# ----------------------------------------------------------------- constructed bars


@pytest.fixture
def frame_case(tmp_path):
    def make(frame: pd.DataFrame, name: str = "case"):
        data = write_bars(tmp_path / f"{name}.csv", frame)
        return batch_and_stream(write_spec(tmp_path / name, data))

    return make


def test_constructed_bars_see_only_closed_higher_bars(frame_case):
    frame = constructed()
    batch, stream = frame_case(frame)
    check_against_expectation(frame, batch)
    for key in INPUTS:
        assert same(batch[key], stream[key]), f"{key}: stream differs from batch"


def test_the_hour_becomes_visible_on_the_close_of_its_last_5m_bar(frame_case):
    frame = constructed()
    batch, stream = frame_case(frame)
    t = {ts_: i for i, ts_ in enumerate(frame.index)}
    at = lambda hhmm: t[pd.Timestamp(f"2024-01-01 {hhmm}", tz="UTC")]  # noqa: E731
    hour0 = frame.loc["2024-01-01 00:00":"2024-01-01 00:55"]
    hour1 = frame.loc["2024-01-01 01:00":"2024-01-01 01:55"]
    for got in (batch, stream):
        # before 00:55 no hour has closed; 00:55 is the last 5m bar of hour 00 (it ends at 01:00)
        assert np.isnan(got["close@1h"][:at("00:55")]).all()
        assert got["close@1h"][at("00:55")] == frame["close"].iloc[at("00:55")] == hour0["close"].iloc[-1]
        assert got["high@1h"][at("00:55")] == hour0["high"].max()
        assert got["low@1h"][at("00:55")] == hour0["low"].min()
        assert got["open@1h"][at("00:55")] == hour0["open"].iloc[0]
        assert got["volume@1h"][at("00:55")] == hour0["volume"].sum()
        # during hour 01 its own bars are not visible: still hour 00, until 01:55 closes
        for hhmm in ("01:00", "01:25", "01:50"):
            assert got["close@1h"][at(hhmm)] == hour0["close"].iloc[-1], hhmm
            assert got["volume@1h"][at(hhmm)] == hour0["volume"].sum(), hhmm
        assert got["close@1h"][at("01:55")] == hour1["close"].iloc[-1]
        assert got["volume@1h"][at("01:55")] == hour1["volume"].sum()
        # 15m: visible on its third 5m bar; 1d: the day on its 23:55 bar, never earlier
        assert np.isnan(got["close@15m"][at("00:05")]) and got["close@15m"][at("00:10")] == frame["close"].iloc[2]
        day = frame.loc["2024-01-01"]
        assert np.isnan(got["close@1d"][:at("23:55")]).all()
        assert got["close@1d"][at("23:55")] == day["close"].iloc[-1]
        assert got["volume@1d"][at("23:55")] == day["volume"].sum()
        assert got["close@1d"][at("23:55") + 1] == day["close"].iloc[-1]  # 2024-01-02 00:00


def test_a_gap_over_the_last_bar_of_an_hour_shows_the_hour_on_the_next_bar(frame_case):
    full = constructed()
    # 01:55 (the last 5m bar of hour 01) is missing; so are 02:50 .. 03:10 (across the next boundary)
    drop = [pd.Timestamp("2024-01-01 01:55", tz="UTC")] + list(
        pd.date_range("2024-01-01 02:50", "2024-01-01 03:10", freq="5min", tz="UTC"))
    frame = full.drop(index=drop)
    batch, stream = frame_case(frame, "gap")
    pos = {ts_: i for i, ts_ in enumerate(frame.index)}
    at = lambda hhmm: pos[pd.Timestamp(f"2024-01-01 {hhmm}", tz="UTC")]  # noqa: E731
    hour1 = frame.loc["2024-01-01 01:00":"2024-01-01 01:50"]  # 11 bars: 01:55 is missing
    hour2 = frame.loc["2024-01-01 02:00":"2024-01-01 02:45"]
    for got in (batch, stream):
        assert got["close@1h"][at("01:50")] == frame.loc["2024-01-01 00:55", "close"]  # still hour 00
        # 02:00 is the next bar after the gap: hour 01 (ended 02:00) is now visible, as it was
        assert got["close@1h"][at("02:00")] == hour1["close"].iloc[-1] == frame.loc["2024-01-01 01:50", "close"]
        assert got["high@1h"][at("02:00")] == hour1["high"].max()
        assert got["volume@1h"][at("02:00")] == hour1["volume"].sum()
        assert got["close@1h"][at("02:45")] == hour1["close"].iloc[-1]  # 02:45 ends 02:50 < 03:00
        assert got["close@1h"][at("03:15")] == hour2["close"].iloc[-1]
        assert got["volume@1h"][at("03:15")] == hour2["volume"].sum()
        # hour 03 (03:15 .. 03:55) closes on 03:55 as usual
        assert got["close@1h"][at("03:55")] == frame.loc["2024-01-01 03:55", "close"]
    check_against_expectation(frame, batch)
    for key in INPUTS:
        assert same(batch[key], stream[key]), f"{key}: stream differs from batch"


def test_never_earlier_at_any_boundary(frame_case):
    """Every hour's close is distinct; no bar may see an hour whose end is after its own end."""
    frame = constructed()
    batch, _ = frame_case(frame)
    hourly = frame["close"].resample("1h").last()
    hour_of = {v: t for t, v in hourly.items()}
    for i, t in enumerate(frame.index):
        v = batch["close@1h"][i]
        if np.isnan(v):
            assert t + FIVE < frame.index[0] + pd.Timedelta("1h")
            continue
        assert hour_of[v] + pd.Timedelta("1h") <= t + FIVE  # closed by the end of bar t
        assert hour_of[v] + pd.Timedelta("2h") > t + FIVE  # and it is the latest such hour


# ----------------------------------------------------------------- shipped data


@pytest.fixture(scope="module")
def kraken_inputs(tmp_path_factory):
    spec = write_spec(tmp_path_factory.mktemp("kraken"), KRAKEN)
    return batch_and_stream(spec)


def test_shipped_kraken_sees_only_closed_higher_bars(kraken_inputs):
    batch, _ = kraken_inputs
    frame = load_bars(KRAKEN).to_frame()[list(COLS)]
    # OHLC exactly; volume is equal bit for bit today too, but pandas may sum in another order
    check_against_expectation(frame, batch, volume_rtol=1e-12)


def test_shipped_kraken_stream_equals_batch_bit_for_bit(kraken_inputs):
    batch, stream = kraken_inputs
    assert set(batch) >= set(INPUTS)
    for key in INPUTS:
        assert same(batch[key], stream[key]), f"{key}: stream differs from batch"
    # volume@1h really is a sum of many bars here (the sum order matters)
    assert np.isfinite(batch["volume@1h"]).sum() > 5900


def test_shipped_kraken_boundary_after_dropping_the_last_bar_of_an_hour(tmp_path):
    frame = load_bars(KRAKEN).to_frame()[list(COLS)]
    t55 = pd.Timestamp("2019-11-01 12:55", tz="UTC")
    cut = frame.drop(index=[t55])
    batch, stream = batch_and_stream(write_spec(tmp_path / "cut", write_bars(tmp_path / "cut.csv", cut)))
    i50 = cut.index.get_loc(pd.Timestamp("2019-11-01 12:50", tz="UTC"))
    hour12 = cut.loc["2019-11-01 12:00":"2019-11-01 12:50"]
    for got in (batch, stream):
        assert got["close@1h"][i50] == cut.loc["2019-11-01 11:55", "close"]  # hour 11
        assert got["close@1h"][i50 + 1] == hour12["close"].iloc[-1]  # 13:00, next bar after the gap
        assert got["high@1h"][i50 + 1] == hour12["high"].max()
    for key in INPUTS:
        assert same(batch[key], stream[key]), key


@pytest.mark.parametrize("path", [KRAKEN, GEMINI], ids=["kraken", "gemini"])
@pytest.mark.parametrize("tf", ["15m", "1h", "1d"])
def test_resample_equals_pandas_on_shipped_data(path, tf):
    bars = load_bars(path)
    got = resample(bars, tf)
    frame = bars.to_frame()
    rule = RULES[tf]
    want = frame.resample(rule, label="left", closed="left").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
    want = want[frame["close"].resample(rule).count() > 0]  # only bins that hold bars
    assert np.array_equal(want.index.as_unit("ns").asi8, got.ts)
    for c in ("open", "high", "low", "close"):
        assert np.array_equal(want[c].to_numpy(), got.column(c)), c
    np.testing.assert_allclose(got.volume, want["volume"].to_numpy(), rtol=1e-12)
    assert (got.ts % pd.Timedelta(rule).value == 0).all()  # bins aligned to the epoch / UTC midnight


def test_daily_bins_on_24_7_crypto_start_at_utc_midnight(kraken_inputs):
    batch, _ = kraken_inputs
    bars = load_bars(KRAKEN)
    days = resample(bars, "1d")
    assert (days.ts % 86_400_000_000_000 == 0).all()
    frame = bars.to_frame()
    # the file starts 2019-10-22 01:50: that partial day is labelled 00:00 and closes on its 23:55 bar
    first_day = frame.loc["2019-10-22"]
    assert days.ts[0] == pd.Timestamp("2019-10-22", tz="UTC").value
    assert days.close[0] == first_day["close"].iloc[-1] and days.open[0] == first_day["open"].iloc[0]
    i = frame.index.get_loc(pd.Timestamp("2019-10-22 23:55", tz="UTC"))
    assert np.isnan(batch["close@1d"][:i]).all()
    assert batch["close@1d"][i] == first_day["close"].iloc[-1]
    # weekends are ordinary days for 24/7 data: Saturday 2019-10-26 is a bin of 288 bars
    assert len(frame.loc["2019-10-26"]) == 288
    sat = frame.loc["2019-10-26"]
    j = frame.index.get_loc(pd.Timestamp("2019-10-26 23:55", tz="UTC"))
    assert batch["close@1d"][j] == sat["close"].iloc[-1] and batch["high@1d"][j] == sat["high"].max()


def test_weekly_bins_on_daily_bars_stream_equals_batch(tmp_path):
    """Weekly bins start Monday 00:00 UTC (an epoch offset): the stream form keeps it too."""
    spec = tmp_path / "weekly.yaml"
    spec.write_text(f"""\
kind: strategy
name: weekly
universe: weekly_universe
timeframe: 1d
entry:
  long: close > high@1w and volume@1w > 0 and low@1w > 0 and open@1w > 0 and close@1w > 0
exit:
  long: bars_in_trade >= 5
---
kind: universe
name: weekly_universe
instruments:
  - {{id: spx, symbol: SPX, data: {ROOT / 'data' / 'sp500_daily_1999_2018.csv'}, timeframe: 1d}}
""", encoding="utf-8")
    batch, stream = batch_and_stream(spec)
    keys = [k for k in batch if k.endswith("@1w")]
    assert len(keys) == 5
    for key in keys:
        assert same(batch[key], stream[key]), key


def test_paper_equals_backtest_with_higher_timeframes(tmp_path):
    """A strategy trading on close@1h / volume@1h / close@1d: paper writes the same files as backtest."""
    work = tmp_path / "ws"
    spec = write_spec(work, KRAKEN, entry="c1h > c1h[12] and v1h > v1h[1] and close > c1d")
    graph = ts.compile_spec(spec)
    back = ts.backtest(graph)
    assert len(back.trades) > 10  # the higher-timeframe inputs drive real trades
    files_b = back.write(tmp_path / "backtest")
    files_p = ts.paper(graph).write(tmp_path / "paper")
    assert [p.name for p in files_b] == [p.name for p in files_p]
    for a, b in zip(files_b, files_p):
        assert filecmp.cmp(a, b, shallow=False), f"{a.name} differs between backtest and paper"
