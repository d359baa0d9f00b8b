"""Fuzzy inference speed: the vectorised evaluator against the per-sample loop, same run.

Workload (issue "fuzzy rule bases"): a 2-input, 9-rule Mamdani rule base (minimum
conjunction and implication, maximum aggregation, centroid) on 100,000 seeded random samples
at resolution 100 and 1000. The rule base goes the normal way (YAML -> dsl.analyze ->
build_engine -> library.fuzzy.Evaluator). The vectorised figure is the best of ``--repeat``
runs over all samples; the per-sample figure times ``Evaluator.evaluate_one`` over the first
``--loop`` samples in order (the paper-mode form), whose results are checked equal to the
vectorised ones bit for bit. Goal: >= 2.5 million evaluations/s at resolution 100 and >= 100x
the per-sample loop.

    python benchmarks/fuzzy_speed.py
    python benchmarks/fuzzy_speed.py --samples 1000000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dsl  # noqa: E402
from dsl.fuzzy_compile import build_engine  # noqa: E402
from library.fuzzy import Engine, Evaluator, State  # noqa: E402

RULEBASE = """\
kind: fuzzy
name: bench
engine: mamdani
conjunction: minimum
implication: minimum
aggregation: maximum
defuzzifier: centroid
inputs:
  rsi:
    range: [0, 100]
    terms: {{low: "triangle(0, 0, 50)", mid: "triangle(20, 50, 80)", high: "triangle(50, 100, 100)"}}
  vol:
    range: [0, 1]
    terms: {{low: "triangle(0, 0, 0.5)", mid: "triangle(0.2, 0.5, 0.8)", high: "triangle(0.5, 1, 1)"}}
outputs:
  size:
    range: [0, 1]
    resolution: {resolution}
    terms:
      none: triangle(0, 0, 0.25)
      small: triangle(0, 0.25, 0.5)
      medium: triangle(0.25, 0.5, 0.75)
      large: triangle(0.5, 0.75, 1)
      full: triangle(0.75, 1, 1)
rules:
  - if rsi is low and vol is low then size is full
  - if rsi is low and vol is mid then size is large
  - if rsi is low and vol is high then size is medium
  - if rsi is mid and vol is low then size is large
  - if rsi is mid and vol is mid then size is medium
  - if rsi is mid and vol is high then size is small
  - if rsi is high and vol is low then size is small
  - if rsi is high and vol is mid then size is none
  - if rsi is high and vol is high then size is none
"""


def evaluator(resolution: int) -> Evaluator:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(RULEBASE.format(resolution=resolution))
        analysis = dsl.analyze([path])
        if not analysis.ok:
            raise SystemExit("\n".join(d.message for d in analysis.errors))
        data = build_engine(analysis.project.fuzzies["bench"])
    return Evaluator(Engine.from_data(json.loads(json.dumps(data))))


def run(resolution: int, samples: int, loop: int, repeat: int, seed: int) -> dict:
    ev = evaluator(resolution)
    rng = np.random.default_rng(seed)
    inputs = {"rsi": rng.uniform(0, 100, samples), "vol": rng.uniform(0, 1, samples)}
    ev.evaluate({k: v[:1000] for k, v in inputs.items()})  # warm up
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = ev.evaluate(inputs)
        best = min(best, time.perf_counter() - t0)
    n = min(loop, samples)
    state = State()
    t0 = time.perf_counter()
    one = [ev.evaluate_one({"rsi": float(inputs["rsi"][i]), "vol": float(inputs["vol"][i])}, state).outputs["size"]
           for i in range(n)]
    per_sample = (time.perf_counter() - t0) / n
    if not np.array_equal(np.array(one), res.outputs["size"][:n], equal_nan=True):
        raise SystemExit("per-sample results differ from the vectorised ones")
    vec_rate, loop_rate = samples / best, 1.0 / per_sample
    return {"resolution": resolution, "samples": samples, "vectorised_s": best, "vectorised_per_s": vec_rate,
            "loop_samples": n, "loop_per_s": loop_rate, "ratio": vec_rate / loop_rate}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--loop", type=int, default=3_000, help="samples timed in the per-sample loop")
    ap.add_argument("--repeat", type=int, default=7, help="vectorised runs; the best is reported")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--resolution", type=int, nargs="*", default=[100, 1000])
    args = ap.parse_args(argv)
    print(f"2-input, 9-rule Mamdani (min/max, centroid); {args.samples:,} samples; "
          f"per-sample loop over {args.loop:,} samples in order")
    print(f"{'resolution':>10} {'vectorised evals/s':>19} {'per-sample evals/s':>19} {'ratio':>8}  goal")
    for r in args.resolution:
        m = run(r, args.samples, args.loop, args.repeat, args.seed)
        goal = ""
        if r == 100:
            ok = m["vectorised_per_s"] >= 2.5e6 and m["ratio"] >= 100
            goal = ">= 2.5M/s and >= 100x: " + ("met" if ok else "NOT met")
        print(f"{r:>10} {m['vectorised_per_s']:>19,.0f} {m['loop_per_s']:>19,.0f} {m['ratio']:>7.0f}x  {goal}")


if __name__ == "__main__":
    main()
