"""Link validated documents into one workspace: every reference by kind + name must land.

Errors name both places: the reference and, for duplicates and wrong kinds, the other
document. Reference cycles (a risk profile extending itself through others, a plan that
contains itself) print as ``a --> b --> a``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dsl.errors import Collector, Diagnostic, suggest
from dsl.source import Span, path_text
from dsl.validate import SpecDoc

#: (source kind, path to the field, target kind)
REFERENCES: tuple[tuple[str, tuple, str], ...] = (
    ("strategy", ("universe",), "universe"),
    ("strategy", ("risk_profile",), "risk_profile"),
    ("strategy", ("sizing", "rulebase"), "fuzzy"),
    ("risk_profile", ("extends",), "risk_profile"),
    ("schedule", ("risk_profile",), "risk_profile"),
    ("schedule", ("slots", "*", "strategy"), "strategy"),
    ("schedule", ("slots", "*", "plan"), "schedule"),
    ("schedule", ("slots", "*", "universe"), "universe"),
)


#: how messages name each kind of document, singular and plural
KIND_WORDS = {
    "strategy": ("strategy", "strategies"), "risk_profile": ("risk profile", "risk profiles"),
    "fuzzy": ("fuzzy rule base", "fuzzy rule bases"), "universe": ("universe", "universes"),
    "schedule": ("schedule", "schedules"),
}


def kind_word(kind: str, plural: bool = False) -> str:
    return KIND_WORDS.get(kind, (kind, kind + "s"))[1 if plural else 0]


@dataclass
class Workspace:
    """All documents of a run, addressable by (kind, name)."""

    docs: dict[tuple[str, str], SpecDoc] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)

    def get(self, kind: str, name: str) -> SpecDoc | None:
        return self.docs.get((kind, name))

    def of_kind(self, kind: str) -> list[SpecDoc]:
        return [d for (k, _), d in sorted(self.docs.items()) if k == kind]

    def names(self, kind: str) -> list[str]:
        return sorted(n for (k, n) in self.docs if k == kind)

    def __iter__(self):
        return iter(d for _, d in sorted(self.docs.items()))

    def __len__(self) -> int:
        return len(self.docs)


def _values_at(model, path: tuple) -> list[tuple[tuple, str]]:
    """(concrete path, value) for a reference path, expanding '*' over lists."""
    out: list[tuple[tuple, str]] = []

    def go(obj, rest: tuple, done: tuple) -> None:
        if obj is None:
            return
        if not rest:
            if isinstance(obj, str):
                out.append((done, obj))
            return
        head = rest[0]
        if head == "*":
            for i, item in enumerate(obj):
                go(item, rest[1:], done + (i,))
        else:
            go(getattr(obj, head, None), rest[1:], done + (head,))

    go(model, path, ())
    return out


def references(doc: SpecDoc) -> list[tuple[tuple, str, str]]:
    """Every outgoing reference of a document: (field path, target name, target kind)."""
    refs = []
    for kind, path, target in REFERENCES:
        if doc.kind == kind:
            for concrete, value in _values_at(doc.model, path):
                refs.append((concrete, value, target))
    return refs


def resolve(docs: list[SpecDoc], sources: dict[str, list[str]] | None = None) -> tuple[Workspace, list[Diagnostic]]:
    ws = Workspace(sources=dict(sources or {}))
    diags = Collector()
    for doc in docs:
        key = (doc.kind, doc.name)
        if key in ws.docs:
            first = ws.docs[key]
            diags.add("E402", f"{kind_word(doc.kind)} '{doc.name}' is defined twice", doc.span("name"),
                      f"rename one of them; two {kind_word(doc.kind, True)} cannot share a name",
                      notes=(f"first defined at {first.span('name')}",))
            continue
        ws.docs[key] = doc
    by_name: dict[str, list[SpecDoc]] = {}
    for d in ws:
        by_name.setdefault(d.name, []).append(d)
    invalid = getattr(docs, "invalid", set())  # documents with errors of their own (validate.ValidDocs)
    for doc in ws:
        for path, name, target in references(doc):
            if ws.get(target, name) or (target, name) in invalid:
                continue
            span = doc.span(*path)
            field_name = path_text(path)
            others = [d for d in by_name.get(name, []) if d.kind != target]
            if others:
                o = others[0]
                diags.add("E403", f"{field_name} of {kind_word(doc.kind)} '{doc.name}' must name a "
                          f"{kind_word(target)}, but '{name}' is a {kind_word(o.kind)}", span,
                          _known_hint(ws, target, name) if ws.names(target) else
                          f"write the name of a {kind_word(target)} here (none is loaded)",
                          notes=(f"{kind_word(o.kind)} '{name}' is at {o.span('name')}",))
                continue
            diags.add("E401", f"{kind_word(doc.kind)} '{doc.name}' uses {kind_word(target)} '{name}', "
                      "which is not defined", span, _known_hint(ws, target, name))
    for cycle, span, kind in _cycles(ws):
        diags.add("E404", f"reference cycle between {kind_word(kind, True)}: " + " --> ".join(cycle), span,
                  "break the cycle: a document cannot depend on itself")
    return ws, diags.items


def _known_hint(ws: Workspace, kind: str, name: str) -> str:
    names = ws.names(kind)
    if not names:
        return (f"no {kind_word(kind, True)} are loaded; pass the file or folder that defines "
                f"'{name}' too (e.g. specs/)")
    s = suggest(name, names)
    listed = ", ".join(names[:12]) + (" ..." if len(names) > 12 else "")
    return (f"did you mean '{s}'? " if s else "") + f"defined {kind_word(kind, True)}: {listed}"


def _cycles(ws: Workspace) -> list[tuple[list[str], Span | None, str]]:
    """Cycles among same-kind references (extends, nested plans)."""
    edges: dict[str, list[tuple[str, tuple]]] = {}
    for doc in ws:
        for path, name, target in references(doc):
            if target == doc.kind and ws.get(target, name):
                edges.setdefault(doc.ref, []).append((f"{target}.{name}", path))
    found: list[tuple[list[str], Span | None, str]] = []
    seen_cycles: set[frozenset] = set()
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt, path in edges.get(node, []):
            if state.get(nxt) == 1:
                cyc = stack[stack.index(nxt):] + [nxt]
                key = frozenset(cyc)
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    kind, name = node.split(".", 1)
                    found.append(([c.split(".", 1)[1] for c in cyc], ws.get(kind, name).span(*path), kind))
            elif state.get(nxt) is None:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])
    return found
