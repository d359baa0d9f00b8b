"""The ``tradespec`` command: thin typer wrappers over the Python API in ``interpreter``.

Exit codes: 0 ok, 1 spec or data errors (rendered as diagnostics), 2 usage errors,
3 an internal error (a bug; the message says how to get the traceback).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

import interpreter as api
from dsl.errors import Diagnostic, DslError, render_all, to_json

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="tradespec: declarative trading specs, checked, compiled and run.")
library_app = typer.Typer(no_args_is_help=True, help="What formulas may call.")
app.add_typer(library_app, name="library")

JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON output")]
Paths = Annotated[list[Path], typer.Argument(help="spec files or folders", show_default=False)]


class State:
    json = False


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tradespec {api.__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    json_out: JsonOpt = False,
    version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                    help="print the version and exit")] = None,
) -> None:
    State.json = json_out


def fail(diags: list[Diagnostic], sources: dict[str, list[str]] | None, as_json: bool) -> None:
    """Print diagnostics and exit 1 (errors) — the one place errors are rendered."""
    if as_json:
        typer.echo(to_json(diags))
    else:
        typer.echo(render_all(diags, sources), err=True)
    raise typer.Exit(1 if any(d.is_error for d in diags) else 0)


def usage_error(message: str, hint: str | None = None) -> None:
    typer.echo(f"error: {message}" + (f"\nhint: {hint}" if hint else ""), err=True)
    raise typer.Exit(2)


# ------------------------------------------------------------------ check / schema


@app.command()
def check(
    paths: Paths,
    fmt: Annotated[str, typer.Option("--format", help="text or json")] = "text",
    json_out: JsonOpt = False,
) -> None:
    """Validate spec files: YAML, fields, references, formulas and rules."""
    if fmt not in ("text", "json"):
        usage_error(f"--format must be 'text' or 'json', not '{fmt}'")
    as_json = json_out or State.json or fmt == "json"
    result = api.check_specs(paths)
    if as_json:
        typer.echo(to_json(result.diagnostics))
        raise typer.Exit(0 if result.ok else 1)
    if result.diagnostics:
        typer.echo(render_all(result.diagnostics, result.sources), err=not result.ok)
    if result.ok:
        kinds: dict[str, int] = {}
        for d in result.documents:
            kinds[d.kind] = kinds.get(d.kind, 0) + 1
        plural = {"strategy": "strategies", "fuzzy": "fuzzy rule bases", "risk_profile": "risk profiles"}
        summary = ", ".join(f"{n} {plural.get(k, k + 's') if n != 1 else k.replace('_', ' ')}"
                            for k, n in sorted(kinds.items()))
        typer.echo(f"ok: {len(result.documents)} documents valid ({summary})")
        for note in result.notes:
            typer.echo(f"note: {note}")
    raise typer.Exit(0 if result.ok else 1)


@app.command()
def schema(
    kind: Annotated[Optional[str], typer.Argument(help="strategy, risk_profile, fuzzy, universe or schedule")] = None,
    out: Annotated[Optional[Path], typer.Option("-o", "--out", help="write to a folder (one file per kind)")] = None,
) -> None:
    """Print the JSON Schema of a kind (or all kinds), for editor completion and hover."""
    try:
        schemas = api.json_schemas(kind)
    except KeyError as exc:
        usage_error(str(exc.args[0]))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for k, s in schemas.items():
            (out / f"{k}.schema.json").write_text(json.dumps(s, indent=2, sort_keys=True) + "\n")
        typer.echo(f"wrote {len(schemas)} schema files to {out}")
        return
    doc = schemas[kind] if kind else schemas
    typer.echo(json.dumps(doc, indent=2, sort_keys=True))


# ------------------------------------------------------------------ compile / run

Spec = Annotated[Path, typer.Argument(help="a strategy spec file", show_default=False)]
DataOpt = Annotated[Optional[list[str]], typer.Option("--data", help="bars file for the strategy's instrument, "
                                                      "or ID=FILE for one instrument of its universe")]
ParamOpt = Annotated[Optional[list[str]], typer.Option("--param", "-p", help="override a param: NAME=VALUE")]
FromOpt = Annotated[Optional[str], typer.Option("--from", help="first bar (inclusive), e.g. 2010-01-01")]
ToOpt = Annotated[Optional[str], typer.Option("--to", help="end (exclusive), e.g. 2015-01-01")]
TargetOpt = Annotated[Optional[str], typer.Option("--target", help="which strategy, if the file has several")]
PolicyOpt = Annotated[str, typer.Option("--on-bad-data", help="fail, warn or drop")]
ColumnOpt = Annotated[Optional[list[str]], typer.Option("--column", help="map a column: OURS=FILE'S, "
                                                        "e.g. --column timestamp=Date")]


def _columns(items: list[str] | None) -> dict[str, str] | None:
    if not items:
        return None
    out = {}
    for item in items:
        ours, sep, theirs = item.partition("=")
        if not sep or not ours or not theirs:
            usage_error(f"--column '{item}' is not OURS=FILE'S", "e.g. --column timestamp=Date")
        out[ours.strip()] = theirs.strip()
    return out


def _params(items: list[str] | None) -> dict[str, float] | None:
    if not items:
        return None
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep or not name:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            usage_error(f"--param '{item}' is not NAME=NUMBER", "e.g. --param fast=10")
    return out


def _data(items: list[str] | None, spec: Path, target: str | None) -> dict[str, str] | None:
    if not items:
        return None
    out: dict[str, str] = {}
    for item in items:
        inst, sep, path = item.partition("=")
        if sep and not Path(item).exists():
            out[inst] = path
        else:
            out[""] = item
    if "" in out:
        from dsl.graph import Graph
        from interpreter.feed import primary_id

        graph = api.compile_spec(spec, target=target)
        if isinstance(graph, Graph):  # a schedule has no primary instrument: the API refuses --data
            out[primary_id(graph.plan)] = out.pop("")
    return out


def _policy(value: str) -> str:
    if value not in ("fail", "warn", "drop"):
        usage_error(f"--on-bad-data must be fail, warn or drop, not '{value}'")
    return value


@app.command("compile")
def compile_cmd(
    spec: Spec,
    fmt: Annotated[str, typer.Option("--format", help="text, json, dot or mermaid")] = "text",
    target: TargetOpt = None,
    param: ParamOpt = None,
) -> None:
    """Compile a strategy and print its graph (one line per node: type, lookback, source)."""
    if fmt not in ("text", "json", "dot", "mermaid"):
        usage_error(f"--format must be text, json, dot or mermaid, not '{fmt}'")
    graph = api.compile_spec(spec, target=target, params=_params(param))
    if fmt == "json" or State.json:
        typer.echo(json.dumps(graph.to_json(), indent=2, sort_keys=True))
    else:
        typer.echo({"text": graph.to_text, "dot": graph.to_dot, "mermaid": graph.to_mermaid}[fmt](), nl=False)


@app.command()
def backtest(
    spec: Spec,
    data: DataOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    param: ParamOpt = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="folder for metrics.json, trades.csv, "
                                                "fills.csv, equity.csv (default results/<strategy>)")] = None,
    target: TargetOpt = None,
    policy: PolicyOpt = "fail",
    column: ColumnOpt = None,
    why: Annotated[Optional[str], typer.Option("--why", help="explain one bar: signals, conditions, "
                                               "decision and reasons, e.g. --why 2019-11-03T14:05")] = None,
    log: Annotated[Optional[Path], typer.Option("--log", help="write the decision log (JSONL) here")] = None,
    report: Annotated[Optional[Path], typer.Option("--report", help="write a self-contained HTML report here")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Backtest a strategy on its universe's shipped data (or --data) and print a summary."""
    from interpreter.progress import status

    with status("backtesting"):
        result = api.backtest(spec, data=_data(data, spec, target), start=start, end=end,
                              params=_params(param), policy=_policy(policy), target=target,
                              columns=_columns(column), log=bool(why or log))
    if why is not None:
        try:
            answer = result.why(why)
        except ValueError as exc:
            usage_error(f"--why: {exc}", "give a timestamp inside the data, e.g. 2010-05-06 or 2019-11-03T14:05")
        if json_out or State.json:
            typer.echo(json.dumps(answer, indent=2, sort_keys=True, default=str))
        else:
            from interpreter.explain_bar import render_why

            typer.echo(render_why(answer))
        return
    folder = out or Path("results") / result.target.split(".", 1)[1]
    written = result.write(folder)
    if log is not None:
        written.append(result.write_decisions(log))
    extra = []
    if report is not None:
        extra.append(api.html_report(result, report, spec=spec))
    if json_out or State.json:
        doc = result.metrics_document()
        doc["files"] = [str(p) for p in written + extra]
        typer.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    typer.echo(result.summary())
    typer.echo(f"wrote {', '.join(p.name for p in written if p.parent == folder)} to {folder}")
    for p in [q for q in written if q.parent != folder] + extra:
        typer.echo(f"wrote {p}")


@app.command("signals")
def signals_cmd(
    spec: Spec,
    data: DataOpt = None,
    start: FromOpt = None,
    end: ToOpt = None,
    param: ParamOpt = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help=".csv or .parquet")] = None,
    target: TargetOpt = None,
    policy: PolicyOpt = "fail",
    column: ColumnOpt = None,
) -> None:
    """Write every named signal and indicator of the compiled graph, per bar."""
    if output is not None and output.suffix not in (".csv", ".parquet"):
        usage_error(f"-o must end in .csv or .parquet, not '{output.suffix or output}'")
    frame = api.signals(spec, data=_data(data, spec, target), start=start, end=end, params=_params(param),
                        policy=_policy(policy), target=target, columns=_columns(column))
    if output is None:
        import io

        from interpreter.results import write_csv

        buf = io.BytesIO()
        write_csv(frame, buf)
        typer.echo(buf.getvalue().decode("utf-8"), nl=False)
    elif output.suffix == ".csv":
        from interpreter.results import write_csv

        write_csv(frame, output)
        typer.echo(f"wrote {len(frame)} rows x {len(frame.columns)} columns to {output}")
    else:
        frame.to_parquet(output, index=False)
        typer.echo(f"wrote {len(frame)} rows x {len(frame.columns)} columns to {output}")


@app.command()
def regress(
    suite: Annotated[Path, typer.Argument(help="suite manifest (YAML)", show_default=False)],
    update: Annotated[bool, typer.Option("--update", help="rewrite the goldens with today's results")] = False,
    case: Annotated[Optional[list[str]], typer.Option("--case", help="run only this case (repeatable)")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a golden regression suite and show what moved; exit 1 if anything did."""
    report = api.regress(suite, update=update, only=case)
    if json_out or State.json:
        typer.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True))
    else:
        typer.echo(report.render())
    raise typer.Exit(0 if report.ok else 1)


@app.command("explain")
def explain_cmd(
    spec: Spec,
    fmt: Annotated[str, typer.Option("--format", help="md or html")] = "md",
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="write to a file")] = None,
    target: Annotated[Optional[str], typer.Option("--target", help="which document, if the file has several")] = None,
) -> None:
    """A plain document for review: the spec, what it references, its limits, warnings up front."""
    if fmt not in ("md", "html"):
        usage_error(f"--format must be md or html, not '{fmt}'")
    text = api.explain(spec, target=target, fmt=fmt)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")


@app.command("diff")
def diff_cmd(
    old: Annotated[Path, typer.Argument(help="old spec file or folder", show_default=False)],
    new: Annotated[Path, typer.Argument(help="new spec file or folder", show_default=False)],
    fmt: Annotated[str, typer.Option("--format", help="md or json")] = "md",
    json_out: JsonOpt = False,
) -> None:
    """Compare two versions by meaning; exit 0 when equivalent, 1 when materially changed."""
    if fmt not in ("md", "json"):
        usage_error(f"--format must be md or json, not '{fmt}'")
    for p in (old, new):
        if not p.exists():
            usage_error(f"no such file or folder: '{p}'")
    result = api.diff(old, new)
    if fmt == "json" or json_out or State.json:
        typer.echo(result.to_json_text())
    else:
        typer.echo(result.to_markdown(), nl=False)
    raise typer.Exit(0 if result.equivalent else 1)


@app.command("report")
def report_cmd(
    results: Annotated[Path, typer.Argument(help="a results folder written by backtest", show_default=False)],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="the HTML file")] = None,
    spec: Annotated[Optional[Path], typer.Option("--spec", help="the strategy spec, for the explain appendix")] = None,
) -> None:
    """Render a results folder as one self-contained HTML report (opens offline)."""
    if not (results / "metrics.json").is_file():
        usage_error(f"'{results}' is not a results folder (no metrics.json)", "run tradespec backtest --out DIR first")
    result = api.read_results(results)
    path = api.html_report(result, output or results / "report.html", spec=spec)
    typer.echo(f"wrote {path}")


@app.command("paper")
def paper_cmd(
    spec: Spec,
    journal: Annotated[Path, typer.Option("--journal", help="the session journal (created, or resumed)")],
    feed: Annotated[Optional[str], typer.Option("--feed", help="bars file (CSV/Parquet) or - for JSON lines "
                                                "on standard input (default: the universe's file)")] = None,
    tail: Annotated[Optional[Path], typer.Option("--tail", help="follow a growing CSV file")] = None,
    speed: Annotated[float, typer.Option("--speed", help="0 = as fast as possible, 60 = 60x real time")] = 0.0,
    key_file: Annotated[Optional[Path], typer.Option("--key-file", help="journal key (else TRADESPEC_JOURNAL_KEY)")] = None,
    fsync: Annotated[str, typer.Option("--fsync", help="always, bar or never")] = "bar",
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="results folder at the end")] = None,
    policy: PolicyOpt = "fail",
    param: ParamOpt = None,
    target: TargetOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a strategy (or a schedule: every slot, from its universes' files) bar by bar with a
    journal; restarting with the same journal resumes it."""
    import sys

    from interpreter import feeds as fd

    if fsync not in ("always", "bar", "never"):
        usage_error(f"--fsync must be always, bar or never, not '{fsync}'")
    if speed < 0:
        usage_error("--speed must be 0 or more")
    src = fd.TailFeed(tail) if tail is not None else feed
    as_json = json_out or State.json
    tty = sys.stderr.isatty()

    def status(session, t):
        if hasattr(session, "run"):  # a plan: t is the time's index on its timeline
            from interpreter.results import iso

            engines = session.engines()
            gate = session.gate
            row = {"step": t, "time": iso(int(session.timeline.ts[t])), "equity": round(session.equity(), 2),
                   "positions": sum(1 for e in engines if e.trade is not None),
                   "severity": gate.overall() if gate.active else "GREEN",
                   "trades": sum(len(e.trades) for e in engines)}
            if as_json:
                typer.echo(json.dumps(row, sort_keys=True))
            elif tty:
                sys.stderr.write(f"\r{row['time']}  positions {row['positions']}  equity {row['equity']:,.2f}  "
                                 f"{row['severity']}  trades {row['trades']}   ")
                sys.stderr.flush()
            return
        eng = session.engine
        row = {"bar": t, "time": str(session.market.ts[t]), "units": eng.units,
               "equity": round(eng.cash + eng.value_at(t)[0], 2), "severity": eng.gate.overall() if eng.gate.active
               else "GREEN", "trades": len(eng.trades)}
        if as_json:
            from interpreter.results import iso

            row["time"] = iso(int(session.market.ts[t]))
            typer.echo(json.dumps(row, sort_keys=True))
        elif tty:
            from interpreter.results import iso

            sys.stderr.write(f"\r{iso(int(session.market.ts[t]))}  pos {eng.units:g}  equity {row['equity']:,.2f}  "
                             f"{row['severity']}  trades {row['trades']}   ")
            sys.stderr.flush()

    result = api.paper_session(spec, journal, feed=src, speed=speed, policy=_policy(policy), key_file=key_file,
                               fsync=fsync, params=_params(param), target=target, on_bar=status)
    if tty and not as_json:
        sys.stderr.write("\n")
    folder = out or Path("results") / (result.target.split(".", 1)[1] + "_paper")
    written = result.write(folder)
    if as_json:
        doc = result.metrics_document()
        doc["files"] = [str(p) for p in written]
        doc["journal"] = str(journal)
        typer.echo(json.dumps(doc, sort_keys=True))
        return
    typer.echo(result.summary())
    typer.echo(f"wrote {', '.join(p.name for p in written)} to {folder}; journal {journal}")


journal_app = typer.Typer(no_args_is_help=True, help="Session journals: verify.")
app.add_typer(journal_app, name="journal")


@journal_app.command("verify")
def journal_verify_cmd(
    path: Annotated[Path, typer.Argument(help="a journal file", show_default=False)],
    key_file: Annotated[Optional[Path], typer.Option("--key-file", help="journal key (else TRADESPEC_JOURNAL_KEY)")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Check the MAC chain; report the first edited, deleted, reordered or truncated line.
    Exit 0 verified, 1 a problem found, 2 no key (verification impossible)."""
    if not path.is_file():
        usage_error(f"no such file: '{path}'")
    report = api.journal_verify(path, key_file)
    typer.echo(json.dumps(report.to_dict(), indent=2, sort_keys=True) if (json_out or State.json) else report.render())
    raise typer.Exit(report.exit_code)


@app.command("replay")
def replay_cmd(
    journal: Annotated[Path, typer.Argument(help="a journal file", show_default=False)],
    verify: Annotated[bool, typer.Option("--verify", help="confirm every recorded decision (the default)")] = True,
    spec: Annotated[Optional[Path], typer.Option("--spec", help="what-if: run the recorded bars through this spec")] = None,
    key_file: Annotated[Optional[Path], typer.Option("--key-file", help="journal key (else TRADESPEC_JOURNAL_KEY)")] = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", "-o", help="also write the replayed results here")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Re-run a journal's bars: prove the same decisions come out, or show what a new spec changes."""
    if not journal.is_file():
        usage_error(f"no such file: '{journal}'")
    if out_dir is not None and spec is None:
        out, result = api.replay(journal, key_file=key_file, results=True)
        result.write(out_dir)
    else:
        out = api.replay(journal, spec=spec, key_file=key_file)
    if spec is not None:
        from interpreter.modes.replay import render_what_if

        if json_out or State.json:
            typer.echo(json.dumps(out, indent=2, sort_keys=True))
        else:
            typer.echo(render_what_if(out), nl=False)
        raise typer.Exit(0 if not out else 1)
    typer.echo(json.dumps(out.to_dict(), indent=2, sort_keys=True) if (json_out or State.json) else out.render())
    raise typer.Exit(0 if out.identical else 1)


fuzzy_app = typer.Typer(no_args_is_help=True, help="Fuzzy rule bases: import, evaluate, picture.")
app.add_typer(fuzzy_app, name="fuzzy")


def _inputs(items: list[str] | None) -> dict[str, float]:
    out = {}
    for item in items or []:
        k, sep, v = item.partition("=")
        try:
            if not sep or not k:
                raise ValueError
            out[k.strip()] = float(v)
        except ValueError:
            usage_error(f"--input '{item}' is not NAME=NUMBER", "e.g. --input rsi=25")
    return out


@fuzzy_app.command("import")
def fuzzy_import_cmd(
    fll: Annotated[Path, typer.Argument(help="a fuzzylite .fll file", show_default=False)],
    name: Annotated[Optional[str], typer.Option("--name", help="document name (default: the file name)")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="write the YAML here")] = None,
) -> None:
    """Convert a fuzzylite FLL engine into a tradespec fuzzy document."""
    if not fll.is_file():
        usage_error(f"no such file: '{fll}'")
    text = api.fuzzy_import(fll, name)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")


@fuzzy_app.command("eval")
def fuzzy_eval_cmd(
    spec: Annotated[Path, typer.Argument(help="a fuzzy rule base spec file", show_default=False)],
    inp: Annotated[Optional[list[str]], typer.Option("--input", "-i", help="NAME=VALUE (repeat per input)")] = None,
    inputs_file: Annotated[Optional[Path], typer.Option("--inputs", help="CSV of input rows, evaluated in order")] = None,
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="CSV of outputs (with --inputs)")] = None,
    target: TargetOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Outputs and each rule's activation degree, for one input row or a CSV of rows."""
    import pandas as pd

    if inputs_file is not None:
        if not inputs_file.is_file():
            usage_error(f"no such file: '{inputs_file}'")
        rows = pd.read_csv(inputs_file)
    elif inp:
        rows = pd.DataFrame([_inputs(inp)])
    else:
        usage_error("give --input NAME=VALUE (one per input) or --inputs FILE.csv")
    try:
        out, act, rules = api.fuzzy_eval(spec, rows, target=target)
    except KeyError as exc:
        usage_error(str(exc.args[0]))
    if output is not None:
        from interpreter.results import write_csv

        write_csv(pd.concat([out, act.add_prefix("rule: ")], axis=1), output)
        typer.echo(f"wrote {len(out)} rows to {output}")
        return
    if json_out or State.json:
        typer.echo(json.dumps({"outputs": out.to_dict("records"), "rules": rules,
                               "activation": act.to_numpy().tolist()}, indent=2, default=str))
        return
    from interpreter.fuzzy_tools import render_eval

    typer.echo(render_eval(out, act, rules), nl=False)


@fuzzy_app.command("plot")
def fuzzy_plot_cmd(
    spec: Annotated[Path, typer.Argument(help="a fuzzy rule base spec file", show_default=False)],
    output: Annotated[Optional[Path], typer.Option("-o", "--output", help="an .svg file")] = None,
    inp: Annotated[Optional[list[str]], typer.Option("--input", "-i", help="NAME=VALUE to mark")] = None,
    target: TargetOpt = None,
) -> None:
    """Draw every variable's membership functions as SVG."""
    if output is not None and output.suffix.lower() != ".svg":
        usage_error(f"-o must be an .svg file, not '{output.name}'",
                    "tradespec draws SVG; open it in a browser or convert it with any SVG tool")
    svg = api.fuzzy_plot(spec, _inputs(inp), target=target)
    if output is None:
        typer.echo(svg, nl=False)
    else:
        output.write_text(svg, encoding="utf-8")
        typer.echo(f"wrote {output}")


data_app = typer.Typer(no_args_is_help=True, help="Bars files: quality checks.")
app.add_typer(data_app, name="data")


@data_app.command("check")
def data_check_cmd(
    path: Annotated[Path, typer.Argument(help="CSV or Parquet bars file", show_default=False)],
    timeframe: Annotated[Optional[str], typer.Option("--timeframe", help="e.g. 5m, 1d (default: inferred)")] = None,
    policy: PolicyOpt = "fail",
    column: ColumnOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Report data-quality findings (unsorted, duplicates, gaps, NaN, bad prices) by row."""
    report = api.data_check(path, timeframe=timeframe, policy=_policy(policy), columns=_columns(column))
    if json_out or State.json:
        typer.echo(report.to_json())
    else:
        typer.echo(report.render())
    raise typer.Exit(0 if report.ok else 1)


# ------------------------------------------------------------------ library


@library_app.command("list")
def library_list(
    kind: Annotated[Optional[str], typer.Option("--kind", help="indicator, math, signal, ...")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List every function formulas may call, with its signature."""
    entries = api.library_entries(kind)
    if kind and not entries:
        usage_error(f"no library entries of kind '{kind}'", f"kinds: {', '.join(api.library_kinds())}")
    if json_out or State.json:
        typer.echo(json.dumps([api.library_entry_dict(e) for e in entries], indent=2, sort_keys=True))
        return
    width = max(len(e.signature) for e in entries)
    for e in entries:
        typer.echo(f"{e.signature:<{width}}  [{e.kind}] {e.summary}")


@library_app.command("show")
def library_show(name: str, json_out: JsonOpt = False) -> None:
    """Show one function: signature, lookback, outputs and documentation."""
    entry = api.library_entry(name)
    if entry is None:
        from dsl.errors import did_you_mean

        usage_error(f"no library function '{name}'", did_you_mean(name, [e.name for e in api.library_entries()])
                    or "see `tradespec library list`")
    if json_out or State.json:
        typer.echo(json.dumps(api.library_entry_dict(entry), indent=2, sort_keys=True))
        return
    typer.echo(api.library_entry_text(entry))


def _guard(fn):
    """Render spec and data errors as diagnostics with exit 1 (also under CliRunner)."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DslError as exc:
            fail(exc.diagnostics, getattr(exc, "sources", None), State.json)

    return wrapper


for _typer in (app, library_app, data_app, fuzzy_app, journal_app):
    for _info in _typer.registered_commands:
        _info.callback = _guard(_info.callback)


def main() -> None:
    """Console entry point: no traceback ever reaches the user."""
    try:
        rc = app(standalone_mode=False)
        sys.exit(rc if isinstance(rc, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except DslError as exc:
        typer.echo(render_all(exc.diagnostics, getattr(exc, "sources", None)), err=True)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as exc:  # click usage errors (typer vendors click) and genuine bugs
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(2 if "Usage" in type(exc).__name__ or "Param" in type(exc).__name__ else exc.exit_code)
        if os.environ.get("TRADESPEC_DEBUG"):
            raise
        typer.echo(f"internal error: {type(exc).__name__}: {exc}\n"
                   "this is a bug in tradespec; rerun with TRADESPEC_DEBUG=1 to see the traceback", err=True)
        sys.exit(3)


if __name__ == "__main__":
    main()
