"""The HTML backtest report: self-contained, deterministic, every section present."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pandas as pd
import pytest
from helpers_compliance import UNIVERSE, project

import dsl
import interpreter as ts
from dsl.explain import explain
from interpreter.report import read_result, render_report, write_report

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("summary", "metrics", "equity-section", "drawdown-section", "price-section", "monthly", "trades", "holds",
            "risk", "appendix")


@pytest.fixture(scope="module")
def run():
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        result = ts.backtest("specs/strategies/rsi_reversion.yaml")
        analysis = dsl.analyze(["specs/"])
        appendix = explain(analysis.project, "rsi_reversion").to_html(fragment=True)
        html = render_report(result, appendix)
    finally:
        os.chdir(here)
    return result, appendix, html


def external_references(html: str) -> list[str]:
    """Everything in a page that could make the browser fetch from elsewhere."""
    found = re.findall(r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*((?:[a-z]+:)?//[^"'\s>]*)""", html, re.I)
    found += re.findall(r"""url\(\s*["']?\s*((?:[a-z]+:)?//[^)"']*)""", html, re.I)
    found += re.findall(r"@import[^;]*", html, re.I)
    found += re.findall(r"<(?:link|iframe|object|embed|base)\b[^>]*>", html, re.I)
    found += re.findall(r"<(?:script|img)\b[^>]*\bsrc\s*=[^>]*>", html, re.I)
    return found


def test_self_contained(run):
    _, _, html = run
    assert external_references(html) == []
    assert "http://" not in html and "https://" not in html
    assert "default-src 'none'" in html  # the page itself forbids every fetch


def test_deterministic(run, tmp_path):
    result, appendix, html = run
    assert render_report(result, appendix) == html
    here = os.getcwd()
    os.chdir(ROOT)
    try:  # a second run of the same spec and data gives the same bytes
        again = render_report(ts.backtest("specs/strategies/rsi_reversion.yaml"), appendix)
    finally:
        os.chdir(here)
    assert again == html
    path = write_report(result, tmp_path / "r" / "report.html", appendix)
    assert path.read_bytes() == html.encode("utf-8")


def test_every_section_is_there(run):
    result, _, html = run
    for sid in SECTIONS:
        assert f'id="{sid}"' in html, sid
    for chart in ("equity", "drawdown", "price"):
        assert f'<svg id="{chart}" class="chart"' in html
    assert html.count('class="mark buy"') >= len(result.trades)  # entries (long) and exits
    assert f"Trades ({len(result.trades)})" in html
    assert "<h2>Monthly returns (%)</h2>" in html and "<th>Dec</th>" in html
    assert result.fingerprint in html
    assert 'class="ts-explain"' in html  # the appendix


def test_risk_events_and_severity_when_present(run):
    result, _, _ = run
    times = result.equity["time"]
    events = pd.DataFrame({"time": [times.iloc[300], times.iloc[900]], "limit": ["portfolio.max_drawdown"] * 2,
                           "value": [0.09, 0.11], "threshold": [0.1, 0.1], "severity": ["YELLOW", "RED"],
                           "action": ["warn", "flatten_and_halt"]})
    fake = dataclasses.replace(result) if dataclasses.is_dataclass(result) else result
    fake.risk_events, fake.severity = events, None
    html = render_report(fake)
    assert "Events (2)" in html and "flatten_and_halt" in html
    assert '<svg id="severity" class="chart"' in html
    assert html.count('fill="#c62828"') >= 2  # the RED stretch, on the limit's lane and the overall lane
    fake.risk_events = None
    if hasattr(fake, "severity"):
        fake.severity = None
    assert "No risk events recorded." in render_report(fake)


def test_without_a_price_series_the_chart_shows_fills(run):
    result, _, _ = run
    bare = dataclasses.replace(result, data=[])
    html = render_report(bare)
    assert "The price series was not available" in html
    assert 'class="mark sell"' in html


def test_without_an_appendix(run):
    result, _, _ = run
    assert "No explain document was attached" in render_report(result)


def test_a_whole_explain_page_is_embedded_as_its_body(run):
    result, _, _ = run
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        page = explain(dsl.analyze(["specs/"]).project, "rsi_reversion").to_html()
    finally:
        os.chdir(here)
    html = render_report(result, page)
    assert html.count("<html") == 1 and html.count("<body") == 1
    assert ".ts-explain {" in html and 'class="ts-explain"' in html


def test_spec_text_in_the_appendix_stays_escaped(run, tmp_path):
    result, _, _ = run
    p = project(tmp_path, {"uni.yaml": UNIVERSE, "s.yaml": """\
        kind: strategy
        name: evil
        description: "<script>alert(1)</script>"
        universe: uni
        timeframe: 1d
        entry:
          long: close > open
        """})
    html = render_report(result, explain(p, "evil").to_html(fragment=True))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_read_back_from_a_results_folder(run, tmp_path):
    result, appendix, html = run
    result.write(tmp_path)
    back = read_result(tmp_path)
    again = render_report(back, appendix)
    assert f"Trades ({len(result.trades)})" in again
    for sid in SECTIONS:
        assert f'id="{sid}"' in again
    assert external_references(again) == []


def test_a_plan_report_shows_each_slot_and_the_whole(tmp_path):
    root = Path(__file__).resolve().parents[2]
    res = ts.backtest(root / "specs" / "schedules" / "stage4_multi.yaml")
    html = ts.html_report(res, tmp_path / "plan.html").read_text(encoding="utf-8")
    assert '<section id="slots">' in html and 'href="#slots"' in html and '<svg id="slots"' in html
    for name, s in res.slots.items():
        assert f"<td>{name}</td>" in html
    assert "<th>slot</th>" in html  # the trades table names each trade's slot
    text = res.summary()
    assert all(f"slot {name}" in text for name in res.slots)
