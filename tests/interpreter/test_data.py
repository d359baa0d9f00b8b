"""interpreter.data: loading bars, the D1xx quality checks, policies, resampling."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dsl.errors import DslError
from interpreter.data import (
    DataError,
    LoadedBars,
    bars_from_arrays,
    check_file,
    infer_timeframe,
    load_bars,
    parse_timeframe,
    resample,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
CASES = Path(__file__).resolve().parent / "data_cases"
SHARED = ROOT / ".." / "shared" / "data"


def case(name: str) -> str:
    return str(CASES / name)


def only(report, code):
    found = [d for d in report.findings if d.code == code]
    assert found, f"no {code} in {[d.code for d in report.findings]}"
    return found


# --------------------------------------------------------------------------- shipped data

# file, rows, timeframe, first, last, missing bars (README), gap events, symbol, venue, extras
SHIPPED = [
    ("btc_usd_kraken_5m_2019-10-22_2019-11-11.csv", 6000, "5m", "2019-10-22T01:50:00+00:00",
     "2019-11-11T21:50:00+00:00", 1, 1, "BTC/USD", "kraken", []),
    ("btc_usd_gemini_5m_2019-10-22_2019-11-11.csv", 6001, "5m", "2019-10-22T00:20:00+00:00",
     "2019-11-11T22:10:00+00:00", 22, 3, "BTC/USD", "gemini", []),
    ("eth_usd_kraken_5m_2019-10-21_2019-11-11.csv", 6000, "5m", "2019-10-21T09:25:00+00:00",
     "2019-11-11T21:55:00+00:00", 199, 179, "ETH/USD", "kraken", []),
    ("eth_usd_gemini_5m_2019-10-18_2019-11-11.csv", 6000, "5m", "2019-10-18T22:05:00+00:00",
     "2019-11-11T22:10:00+00:00", 914, 600, "ETH/USD", "gemini", []),
    ("sp500_daily_1999_2018.csv", 5031, "1d", "1999-01-04T00:00:00+00:00",
     "2018-12-31T00:00:00+00:00", None, None, "^GSPC", "index", ["adj_close"]),
    ("nasdaq_composite_daily_1999_2018.csv", 5031, "1d", "1999-01-04T00:00:00+00:00",
     "2018-12-31T00:00:00+00:00", None, None, "^IXIC", "index", ["adj_close"]),
]


@pytest.mark.parametrize("name,rows,tf,first,last,missing,events,symbol,venue,extras", SHIPPED,
                         ids=[s[0].split("_20")[0].split("_19")[0] for s in SHIPPED])
def test_shipped_data_loads_clean(name, rows, tf, first, last, missing, events, symbol, venue, extras):
    bars = load_bars(DATA / name)  # default policy fail: must not raise
    q = bars.quality
    assert len(bars) == rows == q.rows_read == q.rows_loaded
    assert bars.timeframe == tf and q.timeframe_inferred
    assert (q.first, q.last) == (first, last)
    assert (bars.symbol, bars.venue) == (symbol, venue)
    assert sorted(bars.extra) == extras
    assert q.ok and not q.errors
    assert set(q.counts) <= {"D110"}  # gaps are the only finding in real data
    assert np.all(np.diff(bars.ts) > 0)
    assert bars.ts.dtype == np.int64 and bars.close.dtype == np.float64
    if missing is not None:
        assert q.counts.get("D110", 0) == q.missing_bars == missing
        assert q.gap_events == events == int(bars.gap_after.sum())
    assert len(bars.sha256) == 64


def test_daily_gaps_are_missing_business_days_not_weekends():
    bars = load_bars(DATA / "sp500_daily_1999_2018.csv", max_findings=1000)
    q = bars.quality
    # 5031 sessions over 1999-2018; the weekdays between them that are absent are holidays
    # (plus the 2001-09-11 and 2012 Hurricane Sandy closures): no weekend is ever counted.
    days = pd.to_datetime(bars.ts, utc=True)
    weekdays = pd.bdate_range(days[0].date(), days[-1].date())
    assert q.missing_bars == len(weekdays) - len(days) == 185
    gap = [d for d in q.findings if "2001-09-10" in d.message]
    assert gap and gap[0].message == "4 missing business days between 2001-09-10 and 2001-09-17"
    assert gap[0].severity == "warning"


def test_gemini_gap_message_names_the_hole():
    q = check_file(DATA / "btc_usd_gemini_5m_2019-10-22_2019-11-11.csv")
    big = [d for d in q.findings if d.code == "D110" and "2019-10-24T23:00" in d.message]
    assert len(big) == 1
    assert big[0].message == ("20 missing bars (5m) between 2019-10-24T23:00:00+00:00 "
                              "and 2019-10-25T00:45:00+00:00")


def test_infer_timeframe_from_median_spacing():
    day = parse_timeframe("1d")
    weekdays = pd.bdate_range("2020-01-01", periods=30, tz="UTC").as_unit("ns").asi8
    assert infer_timeframe(weekdays) == "1d"
    jitter = np.array([0, 8 * 3600 * 10**9 + 17_000_000, 16 * 3600 * 10**9 + 3_000_000])
    assert infer_timeframe(jitter) == "8h"
    assert infer_timeframe(np.array([day])) is None
    with pytest.raises(ValueError, match="invalid timeframe"):
        parse_timeframe("5x")


# --------------------------------------------------------------------------- one test per kind

def test_d101_missing_file(tmp_path):
    q = check_file(tmp_path / "nope.csv")
    (d,) = only(q, "D101")
    assert d.message.startswith(f"cannot read {tmp_path / 'nope.csv'}: ")
    assert "No such file" in d.message
    assert not q.ok
    with pytest.raises(DataError):
        load_bars(tmp_path / "nope.csv", policy="drop")  # no policy rescues an unreadable file


def test_d101_unsupported_extension(tmp_path):
    p = tmp_path / "bars.json"
    p.write_text("[]")
    (d,) = only(check_file(p), "D101")
    assert "unsupported file type" in d.message


def test_d101_ragged_row_names_the_line():
    (d,) = only(check_file(case("d101_ragged.csv")), "D101")
    assert d.span.line == 4
    assert "Expected 8 fields in line 4, saw 9" in d.message


def test_d101_corrupt_parquet(tmp_path):
    p = tmp_path / "bad.parquet"
    p.write_bytes(b"PAR1 this is not parquet")
    (d,) = only(check_file(p), "D101")
    assert d.message.startswith(f"cannot read {p}: ")


def test_d102_missing_column():
    q = check_file(case("d102_missing_column.csv"))
    (d,) = only(q, "D102")
    assert d.span.line == 1  # the header
    assert d.message == ("missing column 'close'; the file has: timestamp, open, high, low, "
                         "closing, volume")
    assert d.hint == "did you mean 'closing'?"
    assert d.severity == "error"


def test_d102_mapped_column_missing():
    q = check_file(case("clean_5m.csv"), columns={"volume": "Vol"})
    (d,) = only(q, "D102")
    assert d.message.startswith("missing column 'Vol' (mapped to volume)")


def test_d103_unparseable_timestamp():
    q = check_file(case("d103_bad_timestamp.csv"))
    d1, d2 = only(q, "D103")
    assert (d1.span.line, d2.span.line) == (4, 6)
    assert d1.message == ("cannot parse timestamp '2019-13-22T00:10:00+00:00' "
                          "(expected ISO 8601 or epoch seconds/milliseconds)")
    assert d2.message == "empty timestamp"
    assert q.counts["D103"] == 2


def test_d104_unsorted():
    q = check_file(case("d104_unsorted.csv"))
    (d,) = only(q, "D104")
    assert d.span.line == 5
    assert d.message == ("timestamp 2019-10-22T00:10:00+00:00 is earlier than "
                         "2019-10-22T00:15:00+00:00 on line 4")
    assert "drop" in d.hint


def test_d105_duplicate():
    q = check_file(case("d105_duplicate.csv"))
    (d,) = only(q, "D105")
    assert d.span.line == 5
    assert d.message == "duplicate timestamp 2019-10-22T00:10:00+00:00 (first at line 4)"


def test_d106_missing_and_non_numeric_values():
    q = check_file(case("d106_missing_value.csv"))
    d1, d2 = only(q, "D106")
    assert (d1.span.line, d1.message) == (4, "close is missing")
    assert (d2.span.line, d2.message) == (6, "high '1O1.25' is not a number")


def test_d107_non_positive_price_and_negative_volume():
    q = check_file(case("d107_non_positive.csv"))
    d1, d2 = only(q, "D107")
    assert (d1.span.line, d1.message) == (4, "non-positive price: low 0.0")
    assert (d2.span.line, d2.message) == (5, "negative volume -3.25")


def test_d108_high_below_low():
    q = check_file(case("d108_high_below_low.csv"))
    (d,) = only(q, "D108")
    assert (d.span.line, d.message) == (3, "high 99.0 is below low 100.0")
    assert "D109" not in q.counts  # a D108 row is not reported twice


def test_d109_high_low_do_not_contain_open_close():
    q = check_file(case("d109_not_contained.csv"))
    d1, d2 = only(q, "D109")
    assert (d1.span.line, d1.message) == (4, "high 101.0 is below open 101.5")
    assert (d2.span.line, d2.message) == (6, "low 101.3 is above open 101.25")


def test_d110_intraday_gaps():
    bars = load_bars(case("d110_gaps_5m.csv"))
    q = bars.quality
    d1, d2 = only(q, "D110")
    assert (d1.span.line, d1.severity) == (5, "warning")
    assert d1.message == ("2 missing bars (5m) between 2019-10-22T00:10:00+00:00 "
                          "and 2019-10-22T00:25:00+00:00")
    assert (d2.span.line, d2.message) == (
        7, "1 missing bar (5m) between 2019-10-22T00:30:00+00:00 and 2019-10-22T00:40:00+00:00")
    assert q.counts["D110"] == 3 and q.gap_events == 2 and q.ok
    assert bars.gap_after.tolist() == [False, False, False, True, False, True]


def test_d110_daily_weekends_are_not_gaps():
    bars = load_bars(case("d110_gaps_daily.csv"))
    q = bars.quality
    assert bars.timeframe == "1d"
    d1, d2 = only(q, "D110")
    assert (d1.span.line, d1.message) == (8, "1 missing business day between 2019-10-21 and 2019-10-23")
    assert (d2.span.line, d2.message) == (9, "2 missing business days between 2019-10-23 and 2019-10-28")
    # Friday 10-18 -> Monday 10-21 (line 7) is not a gap
    assert bars.gap_after.tolist() == [False] * 6 + [True, True]


def test_d110_against_a_given_timeframe():
    q = check_file(case("clean_5m.csv"), timeframe="1m")
    assert q.timeframe == "1m" and not q.timeframe_inferred
    assert q.counts["D110"] == 5 * 4 and q.gap_events == 5


def test_d111_empty_file():
    (d,) = only(check_file(case("d111_empty.csv")), "D111")
    assert d.message.endswith("d111_empty.csv is empty (no header, no rows)")


def test_d111_header_only():
    q = check_file(case("d111_header_only.csv"))
    (d,) = only(q, "D111")
    assert d.span.line == 1 and d.message.endswith("has no bars")


def test_d111_window_without_bars():
    q = check_file(case("clean_5m.csv"), start="2020-01-01")
    (d,) = only(q, "D111")
    assert d.message.endswith("has no bars between start and end")


def test_blank_lines_do_not_shift_line_numbers():
    q = check_file(case("blank_line.csv"))
    (d,) = only(q, "D108")
    assert d.span.line == 5 and q.rows_read == 4


def test_findings_are_capped_with_counts(tmp_path):
    lines = ["timestamp,open,high,low,close"]
    for i in range(50):
        lines.append(f"2020-01-01T00:{i:02d}:00+00:00,10,9,11,10")  # high < low everywhere
    p = tmp_path / "many.csv"
    p.write_text("\n".join(lines) + "\n")
    q = check_file(p, max_findings=5)
    found = only(q, "D108")
    assert len(found) == 6 and q.counts["D108"] == 50
    assert [d.span.line for d in found[:5]] == [2, 3, 4, 5, 6]
    assert found[5].message == "... and 45 more (high below low), 50 in total"
    assert found[5].span.line == 7


# --------------------------------------------------------------------------- policies

def test_fail_raises_with_all_findings():
    with pytest.raises(DataError) as info:
        load_bars(case("mixed_bad.csv"))
    err = info.value
    assert isinstance(err, DslError)  # rendered by the CLI like any other stage
    codes = sorted({d.code for d in err.diagnostics})
    assert codes == ["D104", "D105", "D106", "D108", "D109"]
    assert all(d.severity == "error" for d in err.diagnostics)
    assert {d.span.line for d in err.diagnostics} == {4, 6, 7, 8, 10}
    assert err.report is not None and not err.report.ok


def test_warn_keeps_rows_and_reports():
    bars = load_bars(case("d109_not_contained.csv"), policy="warn")
    assert len(bars) == 6
    assert bars.high[2] == 101.0  # the offending bar is kept as written
    q = bars.quality
    assert q.ok and q.counts == {"D109": 2}
    assert all(d.severity == "warning" for d in q.findings)
    nan_bars = load_bars(case("d106_missing_value.csv"), policy="warn")
    assert np.isnan(nan_bars.close[2]) and np.isnan(nan_bars.high[4])


def test_warn_still_refuses_a_broken_time_axis():
    for name, code in [("d104_unsorted.csv", "D104"), ("d105_duplicate.csv", "D105"),
                       ("d103_bad_timestamp.csv", "D103")]:
        with pytest.raises(DataError) as info:
            load_bars(case(name), policy="warn")
        assert [d.code for d in info.value.diagnostics if d.is_error] == [code] * len(
            [d for d in info.value.diagnostics if d.is_error])


def test_drop_removes_rows_sorts_and_reports():
    bars = load_bars(case("mixed_bad.csv"), policy="drop")
    q = bars.quality
    assert len(bars) == 6 and q.rows_read == 10 and q.rows_loaded == 6 and q.rows_dropped == 4
    assert q.dropped == {"D105": 1, "D106": 1, "D108": 1, "D109": 1}
    assert q.sorted
    minutes = ((bars.ts - bars.ts[0]) // 60_000_000_000).tolist()
    assert minutes == [0, 5, 10, 15, 30, 40]
    assert bars.volume[1] == 2.0  # duplicate 00:05: the first row (line 3) is kept
    assert q.ok and all(d.severity == "warning" for d in q.findings)
    # the dropped rows leave gaps, which are reported against the result
    assert q.counts["D110"] == 3 and bars.gap_after.tolist() == [False] * 4 + [True, True]
    assert "4 dropped" in q.render()


def test_drop_of_everything_is_empty(tmp_path):
    p = tmp_path / "all_bad.csv"
    p.write_text("timestamp,open,high,low,close\n2020-01-01,1,0.5,2,1\n")
    with pytest.raises(DataError) as info:
        load_bars(p, policy="drop")
    assert [d.code for d in info.value.diagnostics if d.is_error] == ["D111"]


def test_bad_arguments_are_usage_errors():
    with pytest.raises(DataError) as info:
        load_bars(case("clean_5m.csv"), policy="ignore")
    assert info.value.diagnostics[0].code == "U101"
    with pytest.raises(DataError):
        load_bars(case("clean_5m.csv"), timeframe="5 minutes")


def test_check_file_never_raises_for_data_problems():
    for name in sorted(p.name for p in CASES.iterdir()):
        for policy in ("fail", "warn", "drop"):
            q = check_file(case(name), policy=policy)
            assert q.policy == policy


# --------------------------------------------------------------------------- formats

def test_parquet_round_trip(tmp_path):
    bars = load_bars(DATA / "sp500_daily_1999_2018.csv")
    p = tmp_path / "sp500.parquet"
    bars.to_frame().to_parquet(p)
    back = load_bars(p)
    assert back.quality.format == "parquet" and back.quality.row_label == "row"
    for c in ("timestamp", "open", "high", "low", "close", "volume", "adj_close"):
        np.testing.assert_array_equal(back.column(c), bars.column(c))
    assert back.timeframe == "1d" and back.quality.counts == bars.quality.counts
    # a plain column table (string timestamps, symbol/venue) also loads
    frame = pd.read_csv(DATA / "btc_usd_kraken_5m_2019-10-22_2019-11-11.csv")
    q = tmp_path / "kraken.parquet"
    frame.to_parquet(q, index=False)
    k = load_bars(q)
    assert (len(k), k.symbol, k.venue, k.quality.counts) == (6000, "BTC/USD", "kraken", {"D110": 1})
    csv_line = check_file(DATA / "btc_usd_kraken_5m_2019-10-22_2019-11-11.csv").findings[0].span.line
    assert k.quality.findings[0].span.line == csv_line - 1 == 5485  # rows, 1-based, no header


def test_parquet_row_numbers_in_findings(tmp_path):
    frame = pd.read_csv(case("d108_high_below_low.csv"))
    p = tmp_path / "x.parquet"
    frame.to_parquet(p, index=False)
    (d,) = only(check_file(p), "D108")
    assert d.span.line == 2  # the second row (CSV line 3)


def test_compressed_csv(tmp_path):
    import gzip
    p = tmp_path / "clean.csv.gz"
    p.write_bytes(gzip.compress((CASES / "clean_5m.csv").read_bytes()))
    assert len(load_bars(p)) == 6


def test_column_mapping_and_case_insensitive_names():
    bars = load_bars(case("yahoo_columns.csv"), columns={"timestamp": "Date"})
    assert len(bars) == 5 and bars.timeframe == "1d"
    assert list(bars.extra) == ["adj_close"]
    assert bars.open[0] == 1229.22998 and bars.volume[0] == 877000000.0
    assert bars.to_frame().index[0] == pd.Timestamp("1999-01-04", tz="UTC")
    # use the adjusted close as close: the raw Close column is then ignored
    adj = load_bars(case("yahoo_columns.csv"), columns={"timestamp": "Date", "close": "Adj Close"})
    assert adj.close[1] == 1244.780029 and "Close" in adj.quality.ignored_columns
    with pytest.raises(DataError) as info:
        load_bars(case("yahoo_columns.csv"))
    assert info.value.diagnostics[0].code == "D102"


def test_timestamp_format_option():
    bars = load_bars(case("yahoo_mdy.csv"), columns={"timestamp": "Date"}, timestamp_format="%m/%d/%Y")
    assert pd.to_datetime(bars.ts, utc=True).strftime("%Y-%m-%d").tolist() == [
        "1999-01-04", "1999-01-05", "1999-01-06"]
    q = check_file(case("yahoo_mdy.csv"), columns={"timestamp": "Date"})  # not ISO 8601
    assert q.counts["D103"] == 3


def test_epoch_seconds_and_milliseconds():
    s = load_bars(case("epoch_seconds.csv"), columns={"timestamp": "closing_time"})
    ms = load_bars(case("epoch_millis.csv"))
    np.testing.assert_array_equal(s.ts, ms.ts)
    assert s.quality.first == "2019-10-22T00:10:00+00:00" and s.timeframe == "5m"


def test_offsets_and_naive_timestamps_become_utc():
    bars = load_bars(case("offsets.csv"))
    assert pd.to_datetime(bars.ts, utc=True).strftime("%H:%M").tolist() == [
        "00:00", "00:05", "00:10", "00:15"]
    assert bars.volume.tolist() == [0.0] * 4  # volume column absent
    assert bars.symbol is None and bars.venue is None


def test_start_inclusive_end_exclusive():
    path = DATA / "btc_usd_kraken_5m_2019-10-22_2019-11-11.csv"
    bars = load_bars(path, start="2019-11-01", end="2019-11-02T00:00:00+00:00")
    assert len(bars) == 288
    assert bars.quality.first == "2019-11-01T00:00:00+00:00"
    assert bars.quality.last == "2019-11-01T23:55:00+00:00"


def test_loaded_bars_helpers():
    bars = load_bars(case("clean_5m.csv"))
    assert isinstance(bars, LoadedBars) and len(bars) == 6
    assert bars.column("close") is bars.close and bars.column("timestamp") is bars.ts
    with pytest.raises(KeyError, match="did you mean 'close'"):
        bars.column("closee")
    with pytest.raises(ValueError):
        bars.close[0] = 1.0  # read-only
    frame = bars.to_frame()
    assert list(frame.columns) == ["open", "high", "low", "close", "volume"]
    assert str(frame.index.tz) == "UTC" and frame.index.name == "timestamp"
    assert "6 bars" in repr(bars)
    made = bars_from_arrays(bars.ts, bars.open, bars.high, bars.low, bars.close)
    assert made.timeframe == "5m" and len(made) == 6


# --------------------------------------------------------------------------- report output

def test_report_json_is_deterministic():
    a = check_file(case("mixed_bad.csv"), policy="drop").to_json()
    b = check_file(case("mixed_bad.csv"), policy="drop").to_json()
    assert a == b
    d = json.loads(a)
    assert list(d["counts"]) == sorted(d["counts"])
    assert [f["code"] for f in d["findings"]] == ["D104", "D105", "D106", "D108", "D109", "D110", "D110"]
    assert d["rows"] == {"read": 10, "loaded": 6, "dropped": 4}
    assert d["ok"] is True and d["error_codes"] == []
    assert d["sha256"] == check_file(case("mixed_bad.csv")).sha256


def test_report_render_is_a_short_table():
    text = check_file(case("mixed_bad.csv")).render()
    head = text.splitlines()
    assert head[2] == "policy fail: FAILED (errors: D104, D105, D106, D108, D109)"
    assert "D105  error          1  duplicate timestamp" in text
    assert "mixed_bad.csv:4: D105 duplicate timestamp 2019-10-22T00:05:00+00:00 (first at line 3)" in text


# --------------------------------------------------------------------------- resampling

def test_resample_rules():
    bars = load_bars(case("clean_5m.csv"))
    r = resample(bars, "15m")
    assert r.timeframe == "15m" and len(r) == 2
    assert r.open.tolist() == [100.0, 101.0]
    assert r.high.tolist() == [102.0, 103.0]
    assert r.low.tolist() == [99.5, 100.75]
    assert r.close.tolist() == [101.0, 102.75]
    assert r.volume.tolist() == [4.0, 10.375]
    assert r.quality.first == "2019-10-22T00:00:00+00:00"
    with pytest.raises(DataError):
        resample(bars, "7m")  # not a multiple of 5m
    # only bins with data; the gaps are reported against the new timeframe
    g = resample(load_bars(case("d110_gaps_5m.csv")), "10m")
    assert pd.to_datetime(g.ts, utc=True).strftime("%H:%M").tolist() == ["00:00", "00:10", "00:20", "00:30", "00:40"]
    assert g.gap_after.tolist() == [False] * 5
    d = resample(load_bars(DATA / "btc_usd_gemini_5m_2019-10-22_2019-11-11.csv"), "1h")
    assert d.quality.counts.get("D110", 0) == d.quality.missing_bars


def test_resample_daily_and_weekly_alignment():
    bars = load_bars(DATA / "btc_usd_kraken_5m_2019-10-22_2019-11-11.csv")
    daily = resample(bars, "1d")
    assert pd.to_datetime(daily.ts, utc=True)[0] == pd.Timestamp("2019-10-22", tz="UTC")
    weekly = resample(bars, "1w")
    assert all(d.weekday() == 0 for d in pd.to_datetime(weekly.ts[1:], utc=True))  # Mondays
    assert weekly.volume.sum() == pytest.approx(bars.volume.sum())


GOLDEN_1M = SHARED / "eth_btc_bittrex_1m_2018-01-20_2018-01-30.csv"
GOLDEN_5M = SHARED / "eth_btc_bittrex_5m_2018-01-10_2018-01-30.csv"


@pytest.mark.skipif(not (GOLDEN_1M.exists() and GOLDEN_5M.exists()),
                    reason="golden resampling check needs ../shared/data next to the repo "
                           "(GPL-sourced Bittrex files, deliberately not copied into the repo)")
def test_resample_golden_bittrex_1m_to_5m():
    m1 = load_bars(GOLDEN_1M)
    m5 = load_bars(GOLDEN_5M)
    assert m1.quality.counts == {"D110": 1} and len(m1) == 14397
    r = resample(m1, "5m")
    # compare the bins the 1m file covers completely: not the first (starts at 04:53) and
    # not the last (ends at 04:50); the bin holding the missing minute 2018-01-24 05:18 stays
    inner = slice(1, len(r) - 1)
    common, ia, ib = np.intersect1d(r.ts[inner], m5.ts, return_indices=True)
    assert len(common) == len(r) - 2 == 2879
    for c in ("open", "high", "low", "close"):
        np.testing.assert_array_equal(r.column(c)[inner][ia], m5.column(c)[ib], err_msg=c)
    # volumes are sums of decimal fractions: equal up to float rounding (< 1e-15 relative)
    np.testing.assert_allclose(r.volume[inner][ia], m5.volume[ib], rtol=1e-14, atol=0)


def test_golden_files_are_not_in_the_repo():
    assert not [p for p in ROOT.rglob("*bittrex*") if ".git" not in p.parts]
