"""Another instrument on another timeframe (docs/language.md, "Other instruments and higher
timeframes"): a *coarser* file loaded separately lines up by close — its bar is visible from
the strategy bar that closes when it closes, never earlier — and a *finer* one is resampled to
the strategy's bars. Both agree between backtest and paper (which receives bars as they close).

The proof of "never earlier" is an identity on the shipped Kraken BTC 5-minute file: its own
hourly resample, written out and loaded as a separate 1h instrument, must give ``close@hourly``
equal to the derived ``close@1h`` on every bar (whose no-lookahead rule test_timeframes.py
proves independently of the code).
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import interpreter as ts
from dsl.errors import DslError
from interpreter.data import load_bars, resample
from interpreter.feed import load_run_data, market_inputs

ROOT = Path(__file__).resolve().parents[2]
KRAKEN = ROOT / "data" / "btc_usd_kraken_5m_2019-10-22_2019-11-11.csv"

SPEC = """\
kind: strategy
name: tf_mix
universe: mix
instrument: btc
timeframe: 5m
signals:
  own_hour: close@1h
  other: close@{other}
  lag: age@{other}
entry:
  long: other > other[1] and close > own_hour * 0.0
exit:
  long: bars_in_trade >= 6
sizing: {{method: percent_equity, percent: 50%, fractional: true}}
---
kind: universe
name: mix
instruments:
  - {{id: btc, symbol: BTC/USD, data: btc.csv, timeframe: 5m}}
  - {{id: {other}, symbol: BTC/USD, data: {file}, timeframe: {tf}{extra}}}
"""


def write_bars(path: Path, bars) -> Path:
    frame = pd.DataFrame({"timestamp": pd.to_datetime(bars.ts, utc=True).map(lambda t: t.isoformat()),
                          "open": bars.open, "high": bars.high, "low": bars.low, "close": bars.close,
                          "volume": bars.volume})
    frame.to_csv(path, index=False, float_format="%.17g")
    return path


def workspace(tmp_path: Path, other: str, file: str, tf: str, extra: str = "", btc: Path = KRAKEN) -> Path:
    (tmp_path / "btc.csv").write_bytes(btc.read_bytes())
    spec = tmp_path / "mix.yaml"
    spec.write_text(SPEC.format(other=other, file=file, tf=tf, extra=extra), encoding="utf-8")
    return spec


@pytest.fixture
def hourly(tmp_path):
    write_bars(tmp_path / "btc_1h.csv", resample(load_bars(KRAKEN), "1h"))
    return workspace(tmp_path, "hourly", "btc_1h.csv", "1h", ", max_staleness: 2h")


def test_a_coarser_file_equals_the_derived_higher_timeframe_on_every_bar(hourly):
    graph = ts.compile_spec(hourly)
    bars = load_run_data(graph)
    inputs = market_inputs(graph, bars)
    derived, loaded = inputs["close@1h"], inputs["close@hourly"]
    both = ~np.isnan(derived)
    assert both.sum() > 5000
    assert np.array_equal(derived[both], loaded[both])  # bit for bit, never an hour early
    # where the derived hour is NaN (before the first hour closed) the loaded one is too
    assert np.isnan(loaded[~both]).all()


def test_the_hour_appears_on_the_5m_bar_that_closes_with_it(hourly):
    graph = ts.compile_spec(hourly)
    bars = load_run_data(graph)
    inputs = market_inputs(graph, bars)
    t = pd.to_datetime(bars["btc"].ts, utc=True)
    hour = resample(load_bars(KRAKEN), "1h")
    hour_close = dict(zip(pd.to_datetime(hour.ts, utc=True), hour.close))
    i = int(np.flatnonzero((t.hour == 10) & (t.minute == 55))[3])  # some 10:55 bar: it closes at 11:00
    assert inputs["close@hourly"][i] == hour_close[t[i].floor("h")]  # the 10:00 hour, just closed
    assert inputs["close@hourly"][i - 1] == hour_close[t[i].floor("h") - pd.Timedelta("1h")]  # 10:50: still 09:00
    # age is measured between closes: 0 s on the bar that closes with the hour, 5 min later one bar on
    assert inputs["age@hourly"][i] == 0.0 and inputs["age@hourly"][i + 1] == 300.0


def test_paper_equals_backtest_with_a_coarser_instrument(hourly, tmp_path):
    graph = ts.compile_spec(hourly)
    back = ts.backtest(graph).write(tmp_path / "backtest")
    paper = ts.paper(graph).write(tmp_path / "paper")
    for a, b in zip(back, paper):
        assert filecmp.cmp(a, b, shallow=False), f"{a.name} differs"


def test_the_default_staleness_of_a_coarser_instrument_is_its_own_bar(tmp_path):
    write_bars(tmp_path / "btc_1h.csv", resample(load_bars(KRAKEN), "1h"))
    graph = ts.compile_spec(workspace(tmp_path, "hourly", "btc_1h.csv", "1h"))
    inputs = market_inputs(graph, load_run_data(graph))
    ok = ~np.isnan(inputs["close@1h"])
    # with the default (one hour) the last closed hour is usable on every bar of the next hour
    # except where Kraken's own file has holes
    assert np.count_nonzero(np.isnan(inputs["close@hourly"][ok])) < 40


def test_a_finer_instrument_is_resampled_and_paper_agrees(tmp_path):
    """Gemini's 5m file as a 'finer' instrument of a 15m strategy (whose own Kraken file is 5m
    too): backtest resamples both to 15m bins; paper's file feeds are resampled the same way,
    so the result files are the same (they differed before: paper read the raw 5m bars)."""
    (tmp_path / "gemini.csv").write_bytes((ROOT / "data" / "btc_usd_gemini_5m_2019-10-22_2019-11-11.csv").read_bytes())
    spec = workspace(tmp_path, "gemini", "gemini.csv", "5m")
    spec.write_text(spec.read_text(encoding="utf-8").replace("timeframe: 5m\nsignals", "timeframe: 15m\nsignals")
                    .replace("data: btc.csv, timeframe: 5m", "data: btc.csv, timeframe: 5m"), encoding="utf-8")
    graph = ts.compile_spec(spec)
    bars = load_run_data(graph)
    g15 = resample(load_bars(tmp_path / "gemini.csv"), "15m")
    inputs = market_inputs(graph, bars)
    t = bars["btc"].ts
    i = np.searchsorted(g15.ts, t[100])
    assert g15.ts[i] == t[100] and inputs["close@gemini"][100] == g15.close[i]
    back = ts.backtest(graph)
    assert len(back.trades) > 10
    files_b = back.write(tmp_path / "backtest")
    files_p = ts.paper(graph).write(tmp_path / "paper")
    for a, b in zip(files_b, files_p):
        assert filecmp.cmp(a, b, shallow=False), f"{a.name} differs"


def test_a_finer_instrument_in_a_basket_paper_session_is_refused(tmp_path):
    (tmp_path / "gemini.csv").write_bytes((ROOT / "data" / "btc_usd_gemini_5m_2019-10-22_2019-11-11.csv").read_bytes())
    spec = workspace(tmp_path, "gemini", "gemini.csv", "5m")
    text = spec.read_text(encoding="utf-8").replace("timeframe: 5m\nsignals", "timeframe: 15m\nsignals")
    (tmp_path / "plan.yaml").write_text("""kind: schedule
name: p
capital: 100000
slots:
  - {strategy: tf_mix, allocation: 50%}
""", encoding="utf-8")
    spec.write_text(text, encoding="utf-8")
    assert len(ts.backtest(tmp_path / "plan.yaml").trades) > 10  # backtest runs it
    with pytest.raises(DslError) as err:
        ts.paper(tmp_path / "plan.yaml")
    d = err.value.diagnostics[0]
    assert d.code == "U101" and "finer than its 15m bars" in d.message and "gemini" in d.hint


def test_a_finer_instrument_that_does_not_divide_the_bars_is_refused(tmp_path):
    write_bars(tmp_path / "odd.csv", resample(load_bars(KRAKEN), "10m"))
    spec = workspace(tmp_path, "odd", "odd.csv", "10m")
    spec.write_text(spec.read_text(encoding="utf-8").replace("timeframe: 5m\nsignals", "timeframe: 15m\nsignals"),
                    encoding="utf-8")
    with pytest.raises(DslError) as err:
        ts.backtest(spec)
    assert "do not divide" in err.value.diagnostics[0].message
