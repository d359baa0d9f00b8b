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
        summary = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in sorted(kinds.items()))
        typer.echo(f"ok: {len(result.documents)} documents valid ({summary})")
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
