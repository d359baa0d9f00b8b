"""Re-run every ``$ tradespec ...`` block in the examples' READMEs and paste the real output.

Run from the repository root after a change that moves the numbers:

    python examples/refresh_outputs.py

tests/docs/test_examples.py fails until the READMEs show what the commands print.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

from typer.testing import CliRunner

from interpreter.cli import app

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(```text\n\$ (tradespec [^\n]*)\n)(.*?)(```)", re.S)


def refresh(readme: Path) -> bool:
    text = readme.read_text(encoding="utf-8")
    runner = CliRunner()

    def run(m: re.Match) -> str:
        import os

        tmp = Path(os.environ["TRADESPEC_REFRESH_TMP"])
        args = shlex.split(m.group(2))[1:]
        for i, a in enumerate(args[:-1]):
            if a in ("-o", "--out", "--output", "--log"):
                args[i + 1] = str(tmp / args[i + 1])
        result = runner.invoke(app, args)
        return m.group(1) + result.stdout.replace(str(tmp) + os.sep, "") + m.group(4)

    new = BLOCK.sub(run, text)
    if new != text:
        readme.write_text(new, encoding="utf-8")
        return True
    return False


def main() -> int:
    import os
    import tempfile

    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as tmp:  # files the commands write (-o, --out) go here
        readmes = sorted((ROOT / "examples").glob("*/README.md"))
        os.environ["TRADESPEC_REFRESH_TMP"] = tmp
        changed = [p for p in readmes if refresh(p)]
    for p in changed:
        print(f"updated {p.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
