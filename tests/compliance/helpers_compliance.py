"""Small workspaces written to a temporary folder, for the compliance tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

import dsl

UNIVERSE = """\
kind: universe
name: uni
instruments:
  - {id: spx, symbol: SPX, data: bars.csv, timeframe: 1d}
"""

CONSERVATIVE = """\
kind: risk_profile
name: conservative
limits:
  portfolio: {max_gross_exposure: 100%, max_drawdown: 10%}
  strategy: {cooldown_after_loss: 5 bars}
on_breach: {max_drawdown: flatten_and_halt}
"""


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def project(folder: Path, files: dict[str, str]):
    """Write ``files`` into ``folder`` and check them; the project must have no errors."""
    write(folder, files)
    analysis = dsl.analyze([folder])
    assert analysis.ok, "\n".join(str(d) for d in analysis.errors)
    return analysis.project
