"""Semantic diff of two checked projects: what a new version changes in meaning, not in text.

Each document is reduced to its canonical form (validated data, defaults filled in,
quantities parsed, every formula printed by ``dsl.english.canonical_formula``) and
fingerprinted; documents with equal fingerprints are unchanged whatever their formatting,
key order, comments, quoting or call spelling. Documents that differ are compared field by
field, and each change carries its old and new value and their file:line positions:

* params changed, added or removed;
* risk limits loosened or tightened, by the direction table ``LIMIT_DIRECTION`` (a larger
  ``max_*`` is looser, a shorter ``cooldown_after_loss`` is looser, ...), compared on the
  profile's *effective* values (its ``extends`` chain merged), with breach actions ranked by
  ``ACTION_RANK``; loosening is flagged;
* formulas (signals, entry, exit, stops, slippage, sizing inputs) changed, added, removed;
* fuzzy rules added, removed or changed (matched in order), terms and variables changed;
* documents added or removed; any other field changed.

See docs/explain.md for the direction of every limit.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dsl.bind import COLUMNS
from dsl.check import Project, check
from dsl.compile import _canonical_doc, merged_risk_profile
from dsl.english import canonical_formula, num
from dsl.graph import fingerprint
from dsl.resolve import Workspace, references
from dsl.validate import SpecDoc

#: +1: a larger value is looser; -1: a smaller value is looser (a shorter cooldown, a smaller minimum order)
LIMIT_DIRECTION: dict[str, int] = {
    "max_gross_exposure": +1, "max_net_exposure": +1, "max_daily_loss": +1, "max_drawdown": +1,
    "max_open_positions": +1, "max_exposure": +1, "max_orders_per_day": +1, "rate_limit": +1,
    "max_consecutive_losses": +1, "max_position": +1, "max_order_notional": +1,
    "cooldown_after_loss": -1, "min_order_size": -1, "warn_at": +1,
}
#: breach actions from weakest to strongest; a weaker action is looser
ACTION_RANK = {"warn": 0, "reduce": 1, "block_new": 2, "flatten": 3, "flatten_and_halt": 4}
#: strategy fields where a larger value takes more risk (flagged like a loosened limit)
RISK_UP = {("sizing", "percent"), ("sizing", "max_leverage"), ("sizing", "max_percent"), ("sizing", "notional"),
           ("sizing", "units")}
#: fields shown as percentages
PCT_FIELDS = {"max_gross_exposure", "max_net_exposure", "max_drawdown", "max_exposure", "warn_at", "percent",
              "max_percent", "target", "commission", "spread", "allocation", "maker", "taker"}
LEVELS = ("portfolio", "strategy", "instrument")
FORMULA_SECTIONS = ("signals", "entry", "exit", "stops")


@dataclass(frozen=True)
class Change:
    kind: str  # document_added/removed, param_*, limit_loosened/tightened/changed, action_*, formula_*, rule_*, term_*, field_changed
    document: str  # "strategy.rsi_reversion"
    path: str  # "limits.portfolio.max_drawdown"
    old: Any
    new: Any
    old_at: str | None = None  # file:line
    new_at: str | None = None
    loosened: bool = False
    note: str = ""

    @property
    def is_code(self) -> bool:
        """Whether old and new are formula text (shown as code)."""
        return self.kind.startswith(("formula_", "term_"))

    @property
    def old_text(self) -> str:
        return show(self.path, self.old)

    @property
    def new_text(self) -> str:
        return show(self.path, self.new)


@dataclass
class SemanticDiff:
    old_fingerprint: str
    new_fingerprint: str
    documents: list[dict[str, Any]] = field(default_factory=list)  # ref, status, old/new fingerprint, used_by
    changes: list[Change] = field(default_factory=list)

    @property
    def equivalent(self) -> bool:
        """No material change: every document has the same canonical fingerprint."""
        return self.old_fingerprint == self.new_fingerprint

    @property
    def loosened(self) -> list[Change]:
        return [c for c in self.changes if c.loosened]

    def to_json(self) -> dict[str, Any]:
        return {"schema_version": 1, "equivalent": self.equivalent, "old_fingerprint": self.old_fingerprint,
                "new_fingerprint": self.new_fingerprint, "documents": self.documents,
                "changes": [{**asdict(c), "old_text": c.old_text, "new_text": c.new_text} for c in self.changes]}

    def to_json_text(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True, default=str) + "\n"

    def to_markdown(self) -> str:
        from dsl.explain import render_template

        return render_template("diff.md.j2", diff=self)


def show(path: str, value: Any) -> str:
    """A value as a reviewer reads it: 10% rather than 0.1, 'none' for an unset limit."""
    if value is None:
        return "none"
    leaf = path.rsplit(".", 1)[-1].split("[")[0]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"{num(round(value * 100, 10))}%" if leaf in PCT_FIELDS else num(value)
    if isinstance(value, dict) and set(value) == {"value", "unit"}:
        return f"{num(round(value['value'] * 100, 10))}%" if value["unit"] == "pct" else num(value["value"])
    if isinstance(value, dict) and set(value) == {"count", "per"}:
        return f"{value['count']} per {value['per']}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


# ---------------------------------------------------------------- canonical forms


def as_project(source: Project | Workspace | Any) -> Project:
    """A Project from a Project, a Workspace (checked here) or an ``dsl.Analysis``."""
    if isinstance(source, Project):
        return source
    if isinstance(source, Workspace):
        from dsl.errors import DslError

        project, diags = check(source)
        if any(d.is_error for d in diags):
            raise DslError([d for d in diags if d.is_error], source.sources)
        return project
    project = getattr(source, "project", None)
    if isinstance(project, Project):
        return project
    raise TypeError(f"expected a Project, Workspace or Analysis, got {type(source).__name__}")


def canonical_document(project: Project, doc: SpecDoc) -> dict[str, Any]:
    """The document as fingerprinted: ``dsl.compile._canonical_doc`` with every strategy
    formula in canonical call form (so ``sma(close, 20)`` and ``sma(close, period=20)``
    are one meaning)."""
    cs = project.strategies.get(doc.name) if doc.kind == "strategy" else None
    fz = project.fuzzies.get(doc.name) if doc.kind == "fuzzy" else None
    data = _canonical_doc(doc, cs, fz)
    if cs is not None:
        for path, expr in strategy_formulas(cs).items():
            _set(data, path, canonical_formula(expr, lambda n: n in COLUMNS or n in cs.signals))
    return data


def strategy_formulas(cs) -> dict[tuple, Any]:
    """Every formula of a checked strategy by its path in the document."""
    out: dict[tuple, Any] = {("signals", k): v for k, v in cs.signals.items()}
    for section, exprs in (("entry", cs.entry), ("exit", cs.exit)):
        out.update({(section, side): e for side, e in exprs.items()})
    out.update({("stops", k): e for k, e in cs.stops.items()})
    if cs.slippage is not None:
        out[("execution", "slippage")] = cs.slippage
    out.update({("sizing", "inputs", k): e for k, e in cs.sizing_inputs.items()})
    return out


def _set(data: dict, path: tuple, value: Any) -> None:
    for p in path[:-1]:
        data = data[p]
    data[path[-1]] = value


def document_fingerprints(project: Project) -> dict[str, str]:
    return {doc.ref: fingerprint(canonical_document(project, doc)) for doc in project.workspace}


def workspace_fingerprint(fps: dict[str, str]) -> str:
    """The fingerprint of a whole workspace: of its documents' fingerprints by reference."""
    return fingerprint({"schema": 1, "documents": fps})


# ---------------------------------------------------------------- comparing


def compare_limit(name: str, old: Any, new: Any) -> str | None:
    """'looser', 'tighter', 'changed' (not comparable: other units) or None (equal)."""
    if old == new:
        return None
    if old is None:
        return "tighter"
    if new is None:
        return "looser"
    a, b = _magnitude(old), _magnitude(new)
    if a is None or b is None or a[1] != b[1]:
        return "changed"
    if a[0] == b[0]:
        return None
    return "looser" if (b[0] - a[0]) * LIMIT_DIRECTION.get(name, +1) > 0 else "tighter"


def _magnitude(v: Any) -> tuple[float, str] | None:
    from dsl.quantities import QuantityError, parse_bars_or_duration

    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v), ""
    if isinstance(v, dict) and set(v) == {"value", "unit"}:
        return float(v["value"]), v["unit"]
    if isinstance(v, dict) and set(v) == {"count", "per"}:
        per = _magnitude(v["per"])
        return (v["count"] / per[0], "per " + per[1]) if per and per[0] else None
    if isinstance(v, str):
        try:
            q = parse_bars_or_duration(v)
        except QuantityError:
            return None
        return (float(q.count), "bars") if hasattr(q, "count") else (float(q.seconds), "seconds")
    return None


def action_for(profile: dict[str, Any], level: str, name: str) -> str | None:
    """The breach action of a limit in a merged profile: a qualified key ('portfolio.max_exposure')
    wins over a bare one, then the engine's default if the models declare one."""
    from dsl.models import risk as risk_models

    on = profile.get("on_breach") or {}
    return on.get(f"{level}.{name}") or on.get(name) or getattr(risk_models, "DEFAULT_ACTIONS", {}).get(name)


def compare_action(old: str | None, new: str | None) -> str | None:
    if old == new:
        return None
    a, b = ACTION_RANK.get(old or "", -1), ACTION_RANK.get(new or "", -1)
    return "looser" if b < a else "tighter"


class _Differ:
    def __init__(self, old: Project, new: Project) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []

    def at(self, doc: SpecDoc | None, path: tuple) -> str | None:
        """file:line of the value at ``path``, or of its nearest parent that is written."""
        if doc is None:
            return None
        p = tuple(path)
        while p:
            sp = doc.span(*p) or doc.key_span(*p)
            if sp is not None:
                return f"{sp.file}:{sp.line}"
            p = p[:-1]
        sp = doc.span("name")
        return f"{sp.file}:{sp.line}" if sp else doc.file

    def add(self, kind: str, ref: str, path: tuple, old: Any, new: Any, od: SpecDoc | None, nd: SpecDoc | None,
            loosened: bool = False, note: str = "", new_path: tuple | None = None) -> None:
        text = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")
        self.changes.append(Change(kind, ref, text, old, new, self.at(od, path), self.at(nd, new_path or path),
                                   loosened, note))

    def document(self, od: SpecDoc, nd: SpecDoc) -> None:
        a, b = canonical_document(self.old, od), canonical_document(self.new, nd)
        handled: set[str] = set()
        if od.kind == "strategy":
            handled = self.strategy(od, nd, a, b)
        elif od.kind == "risk_profile":
            handled = self.risk(od, nd)
        elif od.kind == "fuzzy":
            handled = self.fuzzy(od, nd, a, b)
        for key in sorted(set(a) | set(b)):
            if key not in handled:
                self.walk(od, nd, (key,), a.get(key), b.get(key))

    def walk(self, od, nd, path: tuple, a: Any, b: Any, kind: str = "field_changed") -> None:
        if a == b:
            return
        if isinstance(a, dict) and isinstance(b, dict) and not _is_quantity(a):
            for k in sorted(set(a) | set(b), key=str):
                self.walk(od, nd, path + (k,), a.get(k), b.get(k), kind)
            return
        if path and path[0] == "instruments" and isinstance(a, list) and isinstance(b, list):
            ia, ib = {i["id"]: i for i in a}, {i["id"]: i for i in b}
            for k in sorted(set(ia) | set(ib)):
                pa = ("instruments", a.index(ia[k])) if k in ia else ("instruments",)
                pb = ("instruments", b.index(ib[k])) if k in ib else ("instruments",)
                if k not in ia or k not in ib:
                    self.add("instrument_added" if k not in ia else "instrument_removed", od.ref, pb if k in ib else pa,
                             ia.get(k, {}).get("id"), ib.get(k, {}).get("id"), od, nd, new_path=pb)
                    continue
                for f in sorted(set(ia[k]) | set(ib[k])):
                    if ia[k].get(f) != ib[k].get(f):
                        self.add(kind, od.ref, pa + (f,), ia[k].get(f), ib[k].get(f), od, nd, new_path=pb + (f,))
            return
        if isinstance(a, list) and isinstance(b, list) and all(isinstance(x, dict) for x in a + b):
            for i in range(max(len(a), len(b))):
                if i >= len(a) or i >= len(b):
                    self.add("item_added" if i >= len(a) else "item_removed", od.ref, path + (i,),
                             a[i] if i < len(a) else None, b[i] if i < len(b) else None, od, nd,
                             new_path=path + (i,) if i < len(b) else path)
                else:
                    self.walk(od, nd, path + (i,), a[i], b[i], kind)
            return
        risky = path[:2] in RISK_UP and isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > a
        self.add(kind, od.ref, path, a, b, od, nd, loosened=risky,
                 note="takes more risk per trade" if risky else "")

    # ---- strategies
    def strategy(self, od, nd, a: dict, b: dict) -> set[str]:
        texts = [{p: e.to_text() for p, e in strategy_formulas(p.strategies[d.name]).items()}
                 for p, d in ((self.old, od), (self.new, nd))]
        for path in sorted(set(texts[0]) | set(texts[1]), key=str):
            ca, cb = _get(a, path), _get(b, path)
            if ca == cb:
                continue
            kind = "formula_added" if ca is None else "formula_removed" if cb is None else "formula_changed"
            loose, note = False, ""
            if path[0] == "stops":
                loose, note = _stop_looser(path[1], texts[0].get(path), texts[1].get(path))
            self.add(kind, od.ref, path, texts[0].get(path), texts[1].get(path), od, nd, loose, note)
        for name in sorted(set(a["params"]) | set(b["params"])):
            pa, pb = a["params"].get(name), b["params"].get(name)
            if pa == pb:
                continue
            if pa is None or pb is None:
                self.add("param_added" if pa is None else "param_removed", od.ref, ("params", name),
                         None if pa is None else pa["value"], None if pb is None else pb["value"], od, nd)
                continue
            for f in ("value", "default", "range", "description"):
                if f == "default" and pa["value"] != pb["value"]:
                    continue  # one change: the value the run uses
                if pa.get(f) != pb.get(f):
                    self.add("param_changed", od.ref, ("params", name, f), pa.get(f), pb.get(f), od, nd)
        for section in ("execution", "sizing"):  # their formulas are handled above, the rest walks
            sa = {k: v for k, v in a[section].items() if not (section, k) in texts[0] and k != "inputs"}
            sb = {k: v for k, v in b[section].items() if not (section, k) in texts[1] and k != "inputs"}
            self.walk(od, nd, (section,), sa, sb)
        return {"params", "signals", "entry", "exit", "stops", "execution", "sizing"}

    # ---- risk profiles: effective (merged) limits
    def risk(self, od, nd) -> set[str]:
        ma, _ = merged_risk_profile(self.old, od.name)
        mb, chain_b = merged_risk_profile(self.new, nd.name)
        _, chain_a = merged_risk_profile(self.old, od.name)
        for level in LEVELS:
            for name in sorted(set(ma["limits"][level]) | set(mb["limits"][level])):
                va, vb = ma["limits"][level].get(name), mb["limits"][level].get(name)
                how = compare_limit(name, va, vb)
                path = ("limits", level, name)
                if how is not None:
                    note = "" if how != "changed" else "units differ; review by hand"
                    note = _inherited(chain_b, path, note)
                    self.add(f"limit_{how.replace('looser', 'loosened').replace('tighter', 'tightened')}",
                             od.ref, path, va, vb, _definer(chain_a, path), _definer(chain_b, path),
                             loosened=how == "looser", note=note)
                aa, ab = action_for(ma, level, name), action_for(mb, level, name)
                how = compare_action(aa, ab) if (va is not None or vb is not None) else None
                if how is not None:
                    self.add("action_weakened" if how == "looser" else "action_strengthened", od.ref,
                             ("on_breach", f"{level}.{name}"), aa, ab, _definer(chain_a, ("on_breach",)),
                             _definer(chain_b, ("on_breach",)), loosened=how == "looser")
        how = compare_limit("warn_at", ma["severity"]["warn_at"], mb["severity"]["warn_at"])
        if how is not None:
            self.add(f"limit_{'loosened' if how == 'looser' else 'tightened'}", od.ref, ("severity", "warn_at"),
                     ma["severity"]["warn_at"], mb["severity"]["warn_at"], _definer(chain_a, ("severity", "warn_at")),
                     _definer(chain_b, ("severity", "warn_at")), loosened=how == "looser",
                     note="limits turn YELLOW later" if how == "looser" else "limits turn YELLOW earlier")
        for key in ("daily_reset", "extends", "description"):
            if ma.get(key) != mb.get(key):
                self.add("field_changed", od.ref, (key,), ma.get(key), mb.get(key), od, nd)
        return {"limits", "on_breach", "severity", "daily_reset", "extends", "description"}

    # ---- fuzzy rule bases: rules matched in order
    def fuzzy(self, od, nd, a: dict, b: dict) -> set[str]:
        ra, rb = _rules(od, a), _rules(nd, b)
        sm = difflib.SequenceMatcher(a=[t for t, _ in ra], b=[t for t, _ in rb], autojunk=False)
        for op, i1, i2, j1, j2 in sm.get_opcodes():
            if op == "equal":
                continue
            pairs = list(zip(range(i1, i2), range(j1, j2)))
            for i, j in pairs:
                self.add("rule_changed", od.ref, ra[i][1], ra[i][0], rb[j][0], od, nd, new_path=rb[j][1])
            for i in range(i1 + len(pairs), i2):
                self.add("rule_removed", od.ref, ra[i][1], ra[i][0], None, od, nd, new_path=ra[i][1][:-1])
            for j in range(j1 + len(pairs), j2):
                self.add("rule_added", od.ref, rb[j][1], None, rb[j][0], od, nd, new_path=rb[j][1])
        for section in ("inputs", "outputs"):
            for var in sorted(set(a[section]) | set(b[section])):
                va, vb = a[section].get(var), b[section].get(var)
                if va is None or vb is None:
                    self.add("variable_added" if va is None else "variable_removed", od.ref, (section, var),
                             None if va is None else var, None if vb is None else var, od, nd)
                    continue
                ta, tb = va.pop("terms"), vb.pop("terms")
                for t in sorted(set(ta) | set(tb)):
                    if ta.get(t) != tb.get(t):
                        kind = "term_added" if t not in ta else "term_removed" if t not in tb else "term_changed"
                        self.add(kind, od.ref, (section, var, "terms", t), ta.get(t), tb.get(t), od, nd)
                self.walk(od, nd, (section, var), va, vb)
        return {"rules", "blocks", "inputs", "outputs"}


def _is_quantity(d: dict) -> bool:
    return set(d) in ({"value", "unit"}, {"count", "per"})


def _get(data: dict, path: tuple) -> Any:
    for p in path:
        if not isinstance(data, dict) or p not in data:
            return None
        data = data[p]
    return data


def written(doc: SpecDoc, path: tuple):
    """The span of ``path`` if the document writes it (not an ancestor's, unlike ``SpecDoc.span``)."""
    return doc.source.keys.get(tuple(path)) or doc.source.values.get(tuple(path))


def _definer(chain: list[SpecDoc], path: tuple) -> SpecDoc | None:
    """The profile of an ``extends`` chain (child first) that writes ``path``; else the child."""
    for doc in chain:
        if written(doc, path):
            return doc
    return chain[0] if chain else None


def _inherited(chain: list[SpecDoc], path: tuple, note: str) -> str:
    d = _definer(chain, path)
    if chain and d is not None and d is not chain[0] and written(d, path):
        extra = f"inherited from {d.kind.replace('_', ' ')} '{d.name}'"
        return f"{note}; {extra}" if note else extra
    return note


def _stop_looser(name: str, old: str | None, new: str | None) -> tuple[bool, str]:
    if name == "take_profit":
        return False, ""
    if new is None:
        return True, "protective stop removed"
    if old is not None and old.endswith("%") and new.endswith("%"):
        try:
            if float(new[:-1]) > float(old[:-1]):
                return True, "stop is further from the entry"
        except ValueError:
            pass
    return False, "" if old is not None else "protective stop added"


def _rules(doc: SpecDoc, data: dict) -> list[tuple[str, tuple]]:
    if data.get("blocks"):
        return [(f"[{blk['name']}] {r}", ("blocks", bi, "rules", ri))
                for bi, blk in enumerate(data["blocks"]) for ri, r in enumerate(blk["rules"])]
    return [(r, ("rules", i)) for i, r in enumerate(data.get("rules") or [])]


def _used_by(project: Project, ref: str) -> list[str]:
    kind, name = ref.split(".", 1)
    users = set()
    for doc in project.workspace:
        for _, target_name, target_kind in references(doc):
            if (target_kind, target_name) == (kind, name):
                users.add(doc.ref)
    if kind == "risk_profile":  # profiles extending this one pass it on
        for doc in project.workspace:
            if doc.kind == "risk_profile" and doc.name != name:
                _, chain = merged_risk_profile(project, doc.name)
                if any(c.name == name for c in chain[1:]):
                    users.add(doc.ref)
    return sorted(users)


def diff(old: Project | Workspace | Any, new: Project | Workspace | Any) -> SemanticDiff:
    """Compare two versions of a workspace by meaning. Both must check without errors."""
    old_p, new_p = as_project(old), as_project(new)
    fa, fb = document_fingerprints(old_p), document_fingerprints(new_p)
    out = SemanticDiff(workspace_fingerprint(fa), workspace_fingerprint(fb))
    d = _Differ(old_p, new_p)
    for ref in sorted(set(fa) | set(fb)):
        kind, name = ref.split(".", 1)
        od, nd = old_p.workspace.get(kind, name), new_p.workspace.get(kind, name)
        status = "added" if od is None else "removed" if nd is None else "same" if fa[ref] == fb[ref] else "changed"
        out.documents.append({"ref": ref, "status": status, "old_fingerprint": fa.get(ref),
                              "new_fingerprint": fb.get(ref), "old_file": od.file if od else None,
                              "new_file": nd.file if nd else None,
                              "used_by": _used_by(new_p if nd else old_p, ref)})
        if status == "added":
            d.add("document_added", ref, ("name",), None, ref, None, nd)
        elif status == "removed":
            d.add("document_removed", ref, ("name",), ref, None, od, None)
        elif status == "changed":
            d.document(od, nd)
    out.changes = d.changes
    return out


def load_side(path: str | Path, context: list[str | Path] | None = None) -> Project:
    """One side of a diff, checked. A folder is a workspace of its own; a file is checked
    together with the documents of ``context`` that it does not define itself, so
    ``diff old/rsi.yaml specs/strategies/rsi.yaml`` sees the universe and profiles. Raises
    ``DslError`` with every error (a diff of specs that do not check means nothing)."""
    from dsl.errors import DslError, sort_diagnostics
    from dsl.loader import load_paths
    from dsl.resolve import resolve
    from dsl.validate import validate

    res = load_paths([Path(path)])
    docs, vdiags = validate(res.docs)
    docs, sources = list(docs), dict(res.sources)
    errors = [d for d in list(res.diagnostics) + vdiags if d.is_error]
    if Path(path).is_file() and context:
        own = {(d.kind, d.name) for d in docs}
        more = load_paths([Path(c) for c in context])
        mdocs, mdiags = validate(more.docs)
        keep = [d for d in mdocs if (d.kind, d.name) not in own and Path(d.file).resolve() != Path(path).resolve()]
        docs += keep
        sources = {**more.sources, **sources}
        kept = {d.file for d in keep}
        errors += [d for d in list(more.diagnostics) + mdiags if d.is_error and (d.span is None or d.span.file in kept)]
    ws, rdiags = resolve(docs, sources)
    project, cdiags = check(ws)
    errors += [d for d in rdiags + cdiags if d.is_error]
    if errors:
        raise DslError(sort_diagnostics(errors), sources)
    return project


def diff_paths(old: str | Path, new: str | Path, context: list[str | Path] | None = None) -> SemanticDiff:
    """``tradespec diff OLD NEW``: two folders (workspaces) or two files. Files are checked with
    ``context`` (default: the nearest ancestor folder of NEW named ``specs``, else NEW's folder),
    and the documents table lists only what the files define or what changed."""
    old, new = Path(old), Path(new)
    files = old.is_file() and new.is_file()
    if files and context is None:
        root = next((p for p in new.resolve().parents if p.name == "specs"), new.resolve().parent)
        context = [root]
    a, b = load_side(old, context if files else None), load_side(new, context if files else None)
    out = diff(a, b)
    if files:
        own = {d.ref for p in (a, b) for d in p.workspace if Path(d.file).resolve() in (old.resolve(), new.resolve())}
        out.documents = [d for d in out.documents if d["ref"] in own or d["status"] != "same"]
    return out
