"""Diagnostics point at the exact line and column of the mistake, in real spec files.

Each test copies the shipped ``specs/`` into a temporary folder, breaks one file at a known
place, and checks the diagnostic's position. Expected columns are computed from the edited
text (never typed in by hand), so the tests keep working when the shipped specs change.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import dsl
from dsl.errors import Diagnostic

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


@pytest.fixture()
def specs(tmp_path: Path, monkeypatch) -> Path:
    shutil.copytree(SPECS, tmp_path / "specs")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "specs"


def edit(path: Path, pattern: str, replacement: str) -> tuple[int, int, str]:
    """Replace the first match of ``pattern`` in ``path``.

    Returns (line, col) of the first character of the replacement (1-based) and the new line.
    """
    text = path.read_text(encoding="utf-8")
    m = re.search(pattern, text, flags=re.MULTILINE)
    assert m, f"{pattern!r} not found in {path}"
    new = text[:m.start()] + replacement + text[m.end():]
    path.write_text(new, encoding="utf-8")
    line = new.count("\n", 0, m.start()) + 1
    col = m.start() - (new.rfind("\n", 0, m.start()) + 1) + 1
    return line, col, new.splitlines()[line - 1]


def only(code: str, rel: str, analysis: dsl.Analysis) -> Diagnostic:
    found = [d for d in analysis.diagnostics if d.code == code and d.span and d.span.file.endswith(rel)]
    assert len(found) == 1, [str(d.span) + " " + d.code + " " + d.message for d in analysis.diagnostics]
    return found[0]


def run(specs: Path) -> dsl.Analysis:
    return dsl.analyze(["specs"])


# ---------------------------------------------------------------- formulas


def test_misspelt_function_in_formula(specs):
    f = specs / "strategies" / "ma_crossover.yaml"
    line, col, text = edit(f, r"sma\(", "smaa(")
    d = only("E501", "ma_crossover.yaml", run(specs))
    assert (d.span.line, d.span.col) == (line, col)
    assert d.span.end_col == col + len("smaa")
    assert text[d.span.col - 1:d.span.end_col - 1] == "smaa"
    assert "did you mean 'sma'?" in d.hint


def test_misspelt_function_later_in_a_line(specs):
    f = specs / "strategies" / "rsi_reversion.yaml"
    line, col, text = edit(f, r"(?<=close > )sma\(", "smma(")
    d = only("E501", "rsi_reversion.yaml", run(specs))
    assert (d.span.line, d.span.col) == (line, col)
    assert text[col - 1:].startswith("smma(")
    assert "'sma'" in d.hint


def test_unknown_name_in_formula(specs):
    f = specs / "strategies" / "ma_crossover.yaml"
    line, col, _ = edit(f, r"(?<=sma\()close(?=, fast\))", "clsoe")
    d = only("E502", "ma_crossover.yaml", run(specs))
    assert (d.span.line, d.span.col, d.span.end_col) == (line, col, col + 5)
    assert "did you mean 'close'?" in d.hint


def test_misspelt_param_in_formula(specs):
    f = specs / "strategies" / "ma_crossover.yaml"
    line, col, _ = edit(f, r"(?<=sma\(close, )slow", "slwo")
    d = only("E502", "ma_crossover.yaml", run(specs))
    assert (d.span.line, d.span.col) == (line, col)
    assert "did you mean 'slow'?" in d.hint


def test_unclosed_parenthesis_points_at_the_open_one(specs):
    f = specs / "strategies" / "ma_crossover.yaml"
    line, col, text = edit(f, r"crosses_above\(fast_ma, slow_ma\)", "crosses_above(fast_ma, slow_ma")
    d = only("E301", "ma_crossover.yaml", run(specs))
    paren = col + len("crosses_above")
    assert (d.span.line, d.span.col) == (line, paren)
    assert text[paren - 1] == "("
    assert "never closed" in d.message


def test_stray_closing_parenthesis(specs):
    f = specs / "strategies" / "ma_crossover.yaml"
    line, col, text = edit(f, r"crosses_below\(fast_ma, slow_ma\)", "crosses_below(fast_ma, slow_ma))")
    d = only("E301", "ma_crossover.yaml", run(specs))
    stray = col + len("crosses_below(fast_ma, slow_ma)")
    assert (d.span.line, d.span.col) == (line, stray)
    assert text[stray - 1] == ")"


def test_single_equals_in_a_flow_mapping_value(specs):
    f = specs / "strategies" / "vol_target.yaml"
    line, col, text = edit(f, r"(?<=long: close )> trend_ma\n", "= trend_ma\n")
    d = only("E301", "vol_target.yaml", run(specs))
    assert (d.span.line, d.span.col) == (line, col)
    assert text[col - 1] == "="
    assert "'=='" in d.hint


def test_formula_inside_a_flow_mapping(specs):
    f = specs / "strategies" / "donchian_breakout.yaml"
    line, col, text = edit(f, r"(?<=trailing_stop: 3 \* )atr\(", "art(")
    d = only("E501", "donchian_breakout.yaml", run(specs))
    assert (d.span.line, d.span.col) == (line, col)
    assert text.startswith("stops: {")
    assert "did you mean 'atr'?" in d.hint


def test_formula_in_a_folded_block_scalar(specs):
    f = specs / "strategies" / "regime_portfolio.yaml"
    original = f.read_text(encoding="utf-8")
    m = re.search(r"^  long: \(trend_up and not turbulent\) or \(dip and turbulent\)$", original, re.M)
    assert m
    block = "  long: >\n    (trend_up and not turbulent)\n    or (dip and turbulnt)"
    f.write_text(original[:m.start()] + block + original[m.end():], encoding="utf-8")
    lines = f.read_text(encoding="utf-8").splitlines()
    line = lines.index("    or (dip and turbulnt)") + 1
    col = lines[line - 1].index("turbulnt") + 1
    d = only("E502", "regime_portfolio.yaml", run(specs))
    assert (d.span.line, d.span.col, d.span.end_col) == (line, col, col + len("turbulnt"))
    assert "did you mean 'turbulent'?" in d.hint


def test_misspelt_hedge_and_term_in_a_fuzzy_rule(specs):
    f = specs / "fuzzy" / "fis_sizer.yaml"
    line, col, text = edit(f, r"(?<=then size is )large$", "larg")
    d = only("E507", "fis_sizer.yaml", run(specs))
    assert (d.span.line, d.span.col) == (line, col)
    assert "did you mean 'large'?" in d.hint
    line, col, text = edit(f, r"(?<=if vol is )very(?= high)", "verry")
    d = only("E508", "fis_sizer.yaml", run(specs))
    assert (d.span.line, d.span.col, d.span.end_col) == (line, col, col + len("verry"))
    assert "did you mean 'very'?" in d.hint


# ---------------------------------------------------------------- keys and values


def test_misspelt_top_level_key(specs):
    f = specs / "strategies" / "ma_crossover.yaml"
    line, col, _ = edit(f, r"^signals:", "signls:")
    d = only("E202", "ma_crossover.yaml", run(specs))
    assert (d.span.line, d.span.col, d.span.end_col) == (line, col, col + len("signls"))
    assert d.hint == "did you mean 'signals'?"


def test_misspelt_nested_key_in_flow_mapping(specs):
    f = specs / "strategies" / "ma_crossover.yaml"
    line, col, text = edit(f, r"(?<=execution: \{)fill", "fil")
    d = only("E202", "ma_crossover.yaml", run(specs))
    assert (d.span.line, d.span.col) == (line, col)
    assert text[col - 1:col + 2] == "fil"
    assert d.hint == "did you mean 'fill'?"


def test_misspelt_key_in_a_list_item(specs):
    f = specs / "universes" / "us_indices.yaml"
    line, col, _ = edit(f, r"(?<=^    )tick_size", "tick_sise")
    d = only("E202", "us_indices.yaml", run(specs))
    assert (d.span.line, d.span.col) == (line, col)
    assert d.hint == "did you mean 'tick_size'?"


def test_misspelt_limit_deep_in_risk_profile(specs):
    f = specs / "risk" / "moderate.yaml"
    line, col, _ = edit(f, r"(?<=^    )max_drawdown", "max_drawdwn")
    d = only("E202", "moderate.yaml", run(specs))
    assert (d.span.line, d.span.col) == (line, col)
    assert d.hint == "did you mean 'max_drawdown'?"


def test_bad_choice_points_at_the_value(specs):
    f = specs / "strategies" / "ma_crossover.yaml"
    line, col, _ = edit(f, r"(?<=fill: )next_open", "next_opn")
    d = only("E203", "ma_crossover.yaml", run(specs))
    assert (d.span.line, d.span.col, d.span.end_col) == (line, col, col + len("next_opn"))
    assert d.hint == "did you mean 'next_open'?"


def test_bad_unit_points_at_the_value(specs):
    f = specs / "strategies" / "ma_crossover.yaml"
    line, col, _ = edit(f, r"(?<=commission: )5bps", "5")
    d = only("E204", "ma_crossover.yaml", run(specs))
    assert (d.span.line, d.span.col) == (line, col)


def test_misspelt_reference_points_at_the_name(specs):
    f = specs / "strategies" / "ma_crossover.yaml"
    line, col, _ = edit(f, r"(?<=^risk_profile: )moderate", "moderat")
    d = only("E401", "ma_crossover.yaml", run(specs))
    assert (d.span.line, d.span.col) == (line, col)
    assert "did you mean 'moderate'?" in d.hint


def test_yaml_syntax_error_position(specs):
    f = specs / "strategies" / "ma_crossover.yaml"
    line, col, text = edit(f, r"\{fill: next_open,", "{fill: next_open, commission: [5bps,")
    d = only("E101", "ma_crossover.yaml", run(specs))
    assert d.span.line == line
    opener = text.index("[") + 1
    assert d.span.col in (opener, text.rindex("}") + 1)


def test_the_rest_of_the_shipped_specs_stay_clean(specs):
    edit(specs / "strategies" / "ma_crossover.yaml", r"sma\(", "smaa(")
    analysis = run(specs)
    files = {d.span.file for d in analysis.errors if d.span and d.code != "E501"}
    assert files <= {str(Path("specs") / "strategies" / "ma_crossover.yaml")}
