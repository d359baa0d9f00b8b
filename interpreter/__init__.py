"""The Python API of tradespec — what the CLI calls and what tests use first.

    >>> import interpreter as ts
    >>> result = ts.check_specs(["specs/"])
    >>> result.ok
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dsl
import library
from dsl.models import MODELS
from library.registry import Entry

__version__ = "0.1.0"


def check_specs(paths: list[str | Path], params: dict[str, dict[str, float]] | None = None) -> dsl.Analysis:
    """Run every stage of the language on ``paths`` and collect all diagnostics."""
    return dsl.analyze(list(paths), params)


def json_schemas(kind: str | None = None) -> dict[str, Any]:
    """JSON Schema per document kind (from the pydantic models)."""
    if kind is not None and kind not in MODELS:
        from dsl.errors import did_you_mean

        hint = did_you_mean(kind, MODELS) or ""
        raise KeyError(f"unknown kind '{kind}'; kinds: {', '.join(sorted(MODELS))}. {hint}".strip())
    kinds = [kind] if kind else sorted(MODELS)
    out = {}
    for k in kinds:
        s = MODELS[k].model_json_schema(mode="validation")
        s["$id"] = f"https://tradespec.dev/schema/{k}.schema.json"
        s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out[k] = s
    return out


# ---------------------------------------------------------------- library


def library_kinds() -> list[str]:
    return sorted({e.kind for e in library.REGISTRY})


def library_entries(kind: str | None = None) -> list[Entry]:
    return [e for e in library.REGISTRY if kind is None or e.kind == kind]


def library_entry(name: str) -> Entry | None:
    return library.REGISTRY.get(name)


def _lookback_text(e: Entry) -> str:
    import inspect

    try:
        src = inspect.getsource(e.lookback_fn).strip()
    except (OSError, TypeError):
        src = ""
    if "lambda" in src:
        body = src.split("lambda", 1)[1].split(":", 1)[1].strip().rstrip(",)").strip()
        return body.split(", outputs")[0].strip() or src
    try:
        return str(e.lookback())
    except TypeError:
        return "depends on arguments"


def library_entry_dict(e: Entry) -> dict[str, Any]:
    return {
        "name": e.name,
        "kind": e.kind,
        "signature": e.signature,
        "params": [{"name": p.name, "type": p.vtype.value,
                    "default": None if p.required or p.context else p.default,
                    "required": p.required, "filled_by": p.context} for p in e.params],
        "returns": e.returns.value,
        "outputs": list(e.outputs),
        "lookback": _lookback_text(e),
        "summary": e.summary,
        "doc": e.doc,
    }


def library_entry_text(e: Entry) -> str:
    lines = [e.signature, "", f"kind: {e.kind}", f"lookback: {_lookback_text(e)}"]
    if e.outputs:
        lines.append(f"outputs: {', '.join(e.outputs)} (pick one with .{e.outputs[0]})")
    lines += ["", e.doc]
    return "\n".join(lines)


# ---------------------------------------------------------------- compile and run


def _workspace_root(spec: Path) -> Path:
    """The folder whose specs a run may reference: the nearest ancestor named 'specs',
    else the spec's own folder."""
    for parent in spec.resolve().parents:
        if parent.name == "specs":
            return parent
    return spec.resolve().parent


def _relative(path: Path) -> Path:
    try:
        return path.resolve().relative_to(Path.cwd())
    except ValueError:
        return path


def compile_spec(spec: str | Path, *, target: str | None = None, workspace: list[str | Path] | None = None,
                 params: dict[str, float] | None = None):
    """Check ``spec`` with its workspace and compile its strategy (a Graph) or schedule (a PlanGraph).

    Raises ``DslError`` (with sources, for rendering) on any spec error.
    """
    from dsl.errors import Diagnostic, DslError, did_you_mean

    spec = Path(spec)
    if not spec.is_file():
        raise DslError([Diagnostic("E108", f"no such spec file: '{spec}'", None,
                                   "pass a strategy file, e.g. specs/strategies/ma_crossover.yaml")])
    roots = [Path(p) for p in workspace] if workspace else [_relative(_workspace_root(spec))]
    paths = [_relative(spec)] + [r for r in roots if _relative(r) != _relative(spec)]
    pre = dsl.analyze(paths)
    if not pre.ok:
        raise DslError(pre.errors, pre.sources)
    in_file = [d for d in pre.documents if Path(d.file).resolve() == spec.resolve()
               and d.kind in ("strategy", "schedule")]
    plans = [d for d in in_file if d.kind == "schedule"]
    if target is None and len(plans) == 1:
        in_file = plans  # a plan file may also hold its strategies: the plan is what runs
    if target is None:
        if len(in_file) != 1:
            names = [d.name for d in in_file]
            raise DslError([Diagnostic("E401", f"'{spec}' defines {len(in_file)} strategies or schedules; say "
                                       "which to run", None, f"pass --target NAME ({', '.join(names) or 'none found'})")],
                           pre.sources)
        target = in_file[0].name
    if pre.workspace_has("schedule", target) and not pre.workspace_has("strategy", target):
        if params:
            raise DslError([Diagnostic("U101", "--param applies to strategies, not to schedules", None,
                                       "change the params in the slot's strategy spec")])
        return dsl.compile_plan(pre.project, target)
    overrides = {target: dict(params)} if params else None
    analysis = dsl.analyze(paths, overrides) if overrides else pre
    if not analysis.ok:
        raise DslError(analysis.errors, analysis.sources)
    if target not in analysis.project.strategies:
        hint = did_you_mean(target, analysis.project.strategies) or ""
        raise DslError([Diagnostic("E401", f"no strategy named '{target}'", None, hint or None)])
    return dsl.compile_target(analysis.project, target)


def backtest(spec_or_graph, *, data: dict[str, str | Path] | None = None, start=None, end=None,
             params: dict[str, float] | None = None, policy: str = "fail", target: str | None = None,
             fast: bool = True, columns: dict[str, str] | None = None, log: bool = False):
    """Backtest a strategy spec (path) or a compiled Graph; returns a ``Result``.

    ``data`` maps instrument id -> bars file (default: the universe's files).
    """
    from dsl.graph import Graph
    from interpreter.modes import backtest as bt

    graph = spec_or_graph if not isinstance(spec_or_graph, (str, Path)) else compile_spec(
        spec_or_graph, target=target, params=params)
    if not isinstance(graph, Graph):  # a schedule
        from dsl.errors import Diagnostic, DslError
        from interpreter.scheduler import run_schedule

        if data or columns:
            raise DslError([Diagnostic("U101", "--data and --column apply to strategies; a schedule runs "
                                       "each slot on its universe's data", None, None)])
        return run_schedule(graph, start=start, end=end, policy=policy, log=log)
    return bt.run(graph, data, start=start, end=end, policy=policy, fast=fast, columns=columns, log=log)


def signals(spec_or_graph, *, data: dict[str, str | Path] | None = None, start=None, end=None,
            params: dict[str, float] | None = None, policy: str = "fail", target: str | None = None,
            columns: dict[str, str] | None = None):
    """Every named signal and every indicator node of the graph, per bar, as a DataFrame.

    Columns: ``timestamp``, then one column per signal name (``fast_ma``), then one per
    other indicator node, named by its canonical call (``atr(high, low, close, period=14)``).
    """
    import numpy as np
    import pandas as pd

    from dsl.graph import Graph
    from interpreter.batch import as_array, evaluate
    from interpreter.feed import load_run_data, market_inputs, primary_id

    graph = spec_or_graph if isinstance(spec_or_graph, Graph) else compile_spec(spec_or_graph, target=target,
                                                                                params=params)
    bars = load_run_data(graph, data, start=start, end=end, policy=policy, columns=columns)
    prim = bars[primary_id(graph.plan)]
    n = len(prim)
    values = evaluate(graph, market_inputs(graph, bars), n)
    cols: dict[str, np.ndarray] = {"timestamp": pd.to_datetime(prim.ts, unit="ns", utc=True)}
    seen: set[str] = set()
    for role, nid in graph.outputs:
        if role.startswith("signal."):
            node = graph.node(nid)
            if node.vtype == "Multi":
                continue
            cols[role[len("signal."):]] = as_array(graph, values, nid, n)
            seen.add(nid)
    for node in graph.nodes:
        if node.id in seen or node.trade or node.vtype == "Multi":
            continue
        if node.op in ("call", "field"):
            cols[node.key] = as_array(graph, values, node.id, n)
    return pd.DataFrame(cols)


def data_check(path: str | Path, *, timeframe: str | None = None, policy: str = "fail",
               columns: dict[str, str] | None = None):
    """The data-quality report of one bars file (never raises for data problems)."""
    from interpreter.data import check_file

    return check_file(path, timeframe=timeframe, policy=policy, columns=columns)


def regress(suite_path: str | Path, *, update: bool = False, only: list[str] | None = None):
    """Run a golden regression suite; returns a ``RegressReport`` (``.ok``, ``.render()``)."""
    from dsl.suite import load_suite
    from interpreter.golden import run_suite

    suite, folder = load_suite(suite_path)

    def run_case(case, root: Path):
        spec = root / case.spec
        data = {k: str(root / v) for k, v in case.data.items()} or None
        return backtest(_relative(spec), data=data, params=case.params or None, start=case.start, end=case.end,
                        target=case.target)

    return run_suite(suite, folder, run_case, update=update, only=only)


def paper(spec_or_graph, *, feed: "str | Path | object | None" = None, speed: float = 0.0,
          policy: str = "fail", params: dict[str, float] | None = None, target: str | None = None,
          columns: dict[str, str] | None = None, journal=None, on_bar=None, max_bars: int | None = None):
    """Run a strategy in paper mode over a feed; returns the ``Result`` when the feed ends.

    ``feed``: a bars file (CSV/Parquet, replayed at ``speed``; 0 = as fast as possible), ``"-"``
    for JSON lines on standard input, a feed object (``interpreter.feeds``), or None for the
    universe's own file. Other instruments a formula reads come from their universe files.
    ``journal``: a journal writer-like object with ``bar(t, events)`` (see ``interpreter.journal``).
    ``on_bar(session, t)`` is called after every processed bar (live status).

    A schedule, or a strategy over several instruments, runs too: every instrument from its
    universe's file (no ``feed``), each time of the shared timeline once all its bars are in;
    ``t`` is then the timeline index.
    """
    from interpreter.modes import paper as pm

    graph = spec_or_graph if not isinstance(spec_or_graph, (str, Path)) else compile_spec(
        spec_or_graph, target=target, params=params)
    if _stepped(graph, columns):  # a schedule, or a strategy over several instruments
        from interpreter.modes import plan_paper as pp

        session, bars = pp.open_stepped_session(graph, feed, speed=speed, policy=policy, log=journal)
        return pp.run_plan_session(session, bars, on_bar=on_bar, max_bars=max_bars)
    session, bars = pm.open_session(graph, feed, speed=speed, policy=policy, columns=columns, log=journal)
    return pm.run_session(session, bars, on_bar=on_bar, max_bars=max_bars)


def _stepped(graph, columns) -> bool:
    """True for what paper mode runs on a shared timeline: a schedule, or a basket strategy."""
    from dsl.errors import Diagnostic, DslError
    from dsl.graph import Graph
    from interpreter.feed import run_ids

    if isinstance(graph, Graph) and len(run_ids(graph.plan)) == 1:
        return False
    if columns:
        raise DslError([Diagnostic("U101", "--column applies to a strategy on one instrument; this run reads each "
                                   "instrument's universe file with its own columns", None, None)])
    return True


def _analysis_for(spec: Path, workspace: list[str | Path] | None = None) -> tuple[dsl.Analysis, list[Path]]:
    roots = [Path(p) for p in workspace] if workspace else [_relative(_workspace_root(spec))]
    paths = [_relative(spec)] + [r for r in roots if _relative(r) != _relative(spec)]
    return dsl.analyze(paths), paths


def explain(spec: str | Path, *, target: str | None = None, fmt: str = "md", fragment: bool = False) -> str:
    """The compliance document of a spec (and everything it references), as Markdown or HTML.

    ``target`` picks a document when the file holds several (``strategy.x`` or a bare name).
    """
    from dsl.errors import Diagnostic, DslError

    spec = Path(spec)
    if not spec.is_file():
        raise DslError([Diagnostic("E108", f"no such spec file: '{spec}'", None)])
    analysis, _ = _analysis_for(spec)
    if not analysis.ok:
        raise DslError(analysis.errors, analysis.sources)
    if target is None:
        own = [d for d in analysis.documents if Path(d.file).resolve() == spec.resolve()]
        if len(own) != 1:
            raise DslError([Diagnostic("E401", f"'{spec}' defines {len(own)} documents; say which to explain", None,
                                       "pass --target NAME (" + ", ".join(d.ref for d in own) + ")")])
        target = own[0].ref
    doc = dsl.explain_document(analysis.project, target)
    if fmt == "md":
        return doc.to_markdown()
    return doc.to_html(fragment=fragment) if fragment else doc.to_html()


def diff(old: str | Path, new: str | Path, context: list[str | Path] | None = None):
    """Semantic diff of two spec files or two folders: ``.equivalent``, ``.changes``, md/json."""
    return dsl.diff_specs(old, new, context)


def html_report(result, path: str | Path, *, spec: str | Path | None = None) -> Path:
    """Write the self-contained HTML report of a result (with the explain appendix if ``spec``)."""
    from interpreter.report import write_report

    appendix = explain(spec, target=result.target, fmt="html", fragment=True) if spec else None
    return write_report(result, path, appendix)


def read_results(results_dir: str | Path):
    """A ``Result`` read back from a results folder written by ``Result.write``."""
    from interpreter.report import read_result

    return read_result(results_dir)


def fuzzy_engine(spec: str | Path, *, target: str | None = None) -> dict[str, Any]:
    """A fuzzy rule base document compiled to its engine description (plain data)."""
    from dsl.errors import Diagnostic, DslError

    spec = Path(spec)
    if not spec.is_file():
        raise DslError([Diagnostic("E108", f"no such spec file: '{spec}'", None)])
    analysis = dsl.analyze([_relative(spec)])  # a rule base refers to nothing: the file is its workspace
    if not analysis.ok:
        raise DslError(analysis.errors, analysis.sources)
    own = [d for d in analysis.documents if Path(d.file).resolve() == spec.resolve() and d.kind == "fuzzy"]
    if target is not None:
        own = [d for d in own if d.name == target]
    if len(own) != 1:
        raise DslError([Diagnostic("E401", f"'{spec}' must define exactly one fuzzy rule base (found {len(own)})",
                                   None, "pass --target NAME")])
    return dsl.fuzzy_engine_data(analysis.project.fuzzies[own[0].name])


def fuzzy_import(fll_path: str | Path, name: str | None = None) -> str:
    """fuzzylite FLL text -> a ``kind: fuzzy`` YAML document."""
    p = Path(fll_path)
    return dsl.import_fll(p.read_text(encoding="utf-8"), name or p.stem.replace("-", "_"), file=str(p))


def fuzzy_eval(spec: str | Path, rows, *, target: str | None = None):
    """Evaluate a rule base on rows (a DataFrame, or a dict of input -> value for one row)."""
    import pandas as pd

    from interpreter.fuzzy_tools import evaluate

    frame = pd.DataFrame([rows]) if isinstance(rows, dict) else rows
    return evaluate(fuzzy_engine(spec, target=target), frame)


def fuzzy_plot(spec: str | Path, inputs: dict[str, float] | None = None, *, target: str | None = None) -> str:
    """An SVG picture of every variable's membership functions (inputs marked if given)."""
    from interpreter.fuzzy_tools import plot_svg

    return plot_svg(fuzzy_engine(spec, target=target), inputs)


def paper_session(spec: str | Path, journal: str | Path, *, feed=None, speed: float = 0.0, policy: str = "fail",
                  key_file: str | Path | None = None, fsync: str = "bar", params: dict[str, float] | None = None,
                  target: str | None = None, columns: dict[str, str] | None = None, on_bar=None,
                  stop_after: int | None = None):
    """A journaled paper session (starts, or resumes a crashed one); the Result when the feed ends.

    The journal key comes from ``key_file`` or the environment variable TRADESPEC_JOURNAL_KEY.
    """
    from dsl.errors import Diagnostic, DslError
    from interpreter import journal as jn
    from interpreter.modes.live import run_journaled

    loaded = jn.load_key(key_file)
    if loaded is None:
        raise DslError([Diagnostic("U101", "paper mode needs a journal key", None,
                                   f"set {jn.ENV_KEY}=<secret> or pass --key-file FILE; the journal records "
                                   "only the key's id")])
    key, key_id = loaded
    graph = compile_spec(spec, target=target, params=params)
    if _stepped(graph, columns):  # a schedule, or a strategy over several instruments
        from interpreter.modes.plan_paper import run_plan_journaled

        return run_plan_journaled(graph, journal, key, key_id, feed=feed, speed=speed, policy=policy, fsync=fsync,
                                  spec=str(_relative(Path(spec))), version=__version__, on_bar=on_bar,
                                  stop_after=stop_after)
    return run_journaled(graph, journal, key, key_id, feed=feed, speed=speed, policy=policy, columns=columns,
                         fsync=fsync, spec=str(_relative(Path(spec))), version=__version__, on_bar=on_bar,
                         stop_after=stop_after)


def journal_verify(path: str | Path, key_file: str | Path | None = None):
    """Check a journal's MAC chain: the first edited, deleted, reordered or truncated line."""
    from interpreter import journal as jn

    loaded = jn.load_key(key_file)
    return jn.verify(path, loaded[0] if loaded else None)


def replay(journal: str | Path, *, spec: str | Path | None = None, key_file: str | Path | None = None,
           results: bool = False):
    """Re-run a journal's bars: ``spec=None`` verifies against the recorded spec (ReplayReport);
    a new ``spec`` returns the what-if rows (bars whose decision would differ)."""
    from dsl.errors import Diagnostic, DslError
    from interpreter import journal as jn
    from interpreter.modes import replay as rp

    loaded = jn.load_key(key_file)
    if loaded is None:
        raise DslError([Diagnostic("U101", "replay needs the journal key to trust the journal", None,
                                   f"set {jn.ENV_KEY} or pass --key-file")])
    rec, read = rp.read_recorded(journal, loaded[0])
    if read.problem is not None:
        raise DslError([Diagnostic("U101", f"journal problem: {read.problem}", None,
                                   "run `tradespec journal verify` for details")])
    if spec is None:
        recorded_spec = rec.header.get("spec")
        if not recorded_spec or not Path(recorded_spec).is_file():
            raise DslError([Diagnostic("E108", f"the journal's spec '{recorded_spec}' is not here", None,
                                       "run from the folder the session ran in, or pass --spec")])
        graph = compile_spec(recorded_spec, params=rec.header.get("params") or None)
        if rec.header.get("kind") in ("schedule", "basket"):
            return rp.verify_plan_replay(graph, rec.header, read.events, results=results)
        report = rp.verify_replay(graph, rec)
        if results:
            return report, rp.replay_result(graph, rec)
        return report
    graph = compile_spec(spec)
    if rec.header.get("kind") in ("schedule", "basket"):
        raise DslError([Diagnostic("U101", "what-if (--spec) compares one strategy on one instrument; this journal "
                                   f"is a {'plan' if rec.header['kind'] == 'schedule' else 'basket'}'s", None,
                                   "verify it with `tradespec replay JOURNAL`")])
    return rp.what_if(graph, rec)
