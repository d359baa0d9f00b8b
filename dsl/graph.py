"""The compiled graph: immutable typed nodes in evaluation order, plus the run plan.

This module is the contract between ``dsl`` and ``interpreter``: everything a run needs is
here as plain data (nodes, named outputs, the strategy's settings as JSON-ready dicts),
so the interpreter never sees spec models. ``fingerprint`` ties results to the exact specs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from dsl.source import Span

SCHEMA_VERSION = 1

#: node operations, for evaluators
OPS = ("input", "const", "call", "field", "lag", "neg", "binop", "cmp", "and", "or", "not", "ifelse", "trade")


@dataclass(frozen=True)
class Node:
    id: str
    op: str
    args: tuple[str, ...]  # ids of input nodes, in order
    attrs: tuple[tuple[str, Any], ...]  # op details: func, consts, column, symbol, lag, value
    vtype: str  # "Series" | "BoolSeries" | "Multi"
    lookback: int  # extra past bars this node itself reads
    warmup: int  # bars before its first valid value (lookbacks summed along the longest path)
    key: str  # canonical text: equal keys are one node
    span: Span | None = None
    names: tuple[str, ...] = ()  # signal names and roles bound to this node
    trade: bool = False  # reads the open trade's state (evaluated per trade, not per history)

    def attr(self, name: str, default: Any = None) -> Any:
        for k, v in self.attrs:
            if k == name:
                return v
        return default

    def describe(self) -> str:
        return self.key


@dataclass(frozen=True)
class Graph:
    """One compiled run target (a strategy, with everything it references)."""

    target: str  # "strategy.rsi_reversion"
    nodes: tuple[Node, ...]
    outputs: tuple[tuple[str, str], ...]  # role -> node id, e.g. ("entry.long", "n12")
    plan: dict[str, Any] = field(hash=False, compare=False)  # settings for the run, JSON-ready
    fingerprint: str = ""
    documents: tuple[tuple[str, str, str], ...] = ()  # (ref, file, sha256) of every document used

    @property
    def warmup(self) -> int:
        """Bars before any decision can be taken: the largest warm-up of a decision input."""
        ids = {nid for role, nid in self.outputs if not role.startswith("signal.")}
        return max((n.warmup for n in self.nodes if n.id in ids and not n.trade), default=0)

    def node(self, node_id: str) -> Node:
        return self._index()[node_id]

    def output(self, role: str) -> Node | None:
        for r, nid in self.outputs:
            if r == role:
                return self.node(nid)
        return None

    def _index(self) -> dict[str, Node]:
        cache = self.__dict__.get("_idx")
        if cache is None:
            cache = {n.id: n for n in self.nodes}
            object.__setattr__(self, "_idx", cache)
        return cache

    @property
    def short_fingerprint(self) -> str:
        return self.fingerprint[:12]

    # ---- renderings ----
    def to_text(self) -> str:
        lines = [f"graph {self.target}  fingerprint {self.short_fingerprint}  warmup {self.warmup} bars"]
        roles: dict[str, list[str]] = {}
        for role, nid in self.outputs:
            roles.setdefault(nid, []).append(role)
        w = max((len(n.key) for n in self.nodes), default=10)
        w = min(w, 60)
        for n in self.nodes:
            where = f"{_short_file(n.span.file)}:{n.span.line}:{n.span.col}" if n.span else "-"
            text = n.key if len(n.key) <= 60 else n.key[:57] + "..."
            tags = ", ".join(roles.get(n.id, []))
            flags = " trade" if n.trade else ""
            lines.append(f"{n.id:<4} {n.op:<6} {text:<{w}}  {n.vtype:<10} lb={n.lookback:<3} wu={n.warmup:<4}"
                         f"{flags}  {where}" + (f"  -> {tags}" if tags else ""))
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "target": self.target,
            "fingerprint": self.fingerprint,
            "warmup": self.warmup,
            "documents": [{"ref": r, "file": f, "sha256": h} for r, f, h in self.documents],
            "nodes": [_node_json(n) for n in self.nodes],
            "outputs": {role: nid for role, nid in self.outputs},
            "plan": self.plan,
        }

    def to_dot(self) -> str:
        out = [f'digraph "{self.target}" {{', "  rankdir=LR;", '  node [shape=box, fontname="monospace"];']
        for n in self.nodes:
            label = n.key.replace('"', '\\"')
            out.append(f'  {n.id} [label="{n.id}: {label}\\n{n.vtype} wu={n.warmup}"];')
        for n in self.nodes:
            for a in n.args:
                out.append(f"  {a} -> {n.id};")
        for role, nid in self.outputs:
            rid = "out_" + role.replace(".", "_")
            out.append(f'  {rid} [label="{role}", shape=ellipse];')
            out.append(f"  {nid} -> {rid};")
        out.append("}")
        return "\n".join(out) + "\n"

    def to_mermaid(self) -> str:
        out = ["flowchart LR"]
        for n in self.nodes:
            label = n.key.replace('"', "#quot;")
            out.append(f'  {n.id}["{n.id}: {label}"]')
        for n in self.nodes:
            for a in n.args:
                out.append(f"  {a} --> {n.id}")
        for role, nid in self.outputs:
            rid = "out_" + role.replace(".", "_")
            out.append(f'  {rid}(["{role}"])')
            out.append(f"  {nid} --> {rid}")
        return "\n".join(out) + "\n"


def _short_file(path: str) -> str:
    parts = path.replace("\\", "/").split("/")
    return "/".join(parts[-2:]) if len(parts) > 1 else path


def _node_json(n: Node) -> dict[str, Any]:
    d = asdict(n)
    d["attrs"] = {k: v for k, v in n.attrs}
    d["args"] = list(n.args)
    d["names"] = list(n.names)
    d["span"] = None if n.span is None else {"file": n.span.file, "line": n.span.line, "col": n.span.col,
                                              "end_line": n.span.end_line, "end_col": n.span.end_col}
    return d


def canonical_json(data: Any) -> str:
    """The canonical text fingerprints are taken of: sorted keys, no whitespace, plain floats."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=True)


def fingerprint(data: Any) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()
