"""The one registry of what formulas may call.

Every entry is registered once with a batch form (whole history, numpy arrays in, array
or tuple of arrays out) and a stream form (a class: constants go to ``__init__`` as
keyword arguments, per-bar values go to ``update`` positionally; ``update`` returns one
value, or a tuple for multi-output entries). Both forms must give bit-identical results:
``tests/library/test_parity.py`` walks the registry and proves it on shipped data.

The signature the checker reads is taken from the batch form's type hints, so the
documentation, the checker and the runtime cannot drift apart.
"""

from __future__ import annotations

import inspect
import typing
from dataclasses import dataclass, field
from typing import Any, Callable

from library.types import ANNOTATION_TYPES, BarsPerYear, VType

KINDS = ("indicator", "math", "signal", "fuzzy", "cost", "sizing", "execution")


@dataclass(frozen=True)
class Param:
    name: str
    vtype: VType
    default: Any = inspect.Parameter.empty
    context: str | None = None  # filled by the compiler (e.g. "bars_per_year"), not the user

    @property
    def required(self) -> bool:
        return self.default is inspect.Parameter.empty and self.context is None

    @property
    def is_series(self) -> bool:
        return self.vtype in (VType.SERIES, VType.BOOL)

    def render(self) -> str:
        text = f"{self.name}: {self.vtype.value}"
        if self.default is not inspect.Parameter.empty:
            text += f" = {self.default!r}"
        return text


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str
    batch: Callable[..., Any]
    stream: type
    lookback_fn: Callable[..., int]
    params: tuple[Param, ...]
    returns: VType
    outputs: tuple[str, ...] = ()
    doc: str = ""
    summary: str = ""
    aliases: tuple[str, ...] = field(default=())

    @property
    def signature(self) -> str:
        shown = [p.render() for p in self.params if p.context is None]
        ret = self.returns.value
        if self.outputs:
            ret = "(" + ", ".join(f"{o}: Series" for o in self.outputs) + ")"
        return f"{self.name}({', '.join(shown)}) -> {ret}"

    @property
    def series_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.is_series)

    @property
    def const_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if not p.is_series)

    def lookback(self, **consts: Any) -> int:
        """Extra past bars one output needs beyond the current bar, given the constants."""
        names = inspect.signature(self.lookback_fn).parameters
        return int(self.lookback_fn(**{k: v for k, v in consts.items() if k in names}))


class Registry:
    """Name -> Entry; iteration is in name order so listings and docs are stable."""

    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}

    def add(self, entry: Entry) -> Entry:
        if entry.name in self._entries:
            raise ValueError(f"library entry {entry.name!r} is registered twice")
        self._entries[entry.name] = entry
        return entry

    def __getitem__(self, name: str) -> Entry:
        return self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def get(self, name: str) -> Entry | None:
        return self._entries.get(name)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __iter__(self):
        return iter(self._entries[n] for n in self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def by_kind(self, kind: str) -> list[Entry]:
        return [e for e in self if e.kind == kind]


REGISTRY = Registry()


def _const_lookback(value: int) -> Callable[..., int]:
    def lookback() -> int:
        return value

    return lookback


def register(
    name: str,
    *,
    kind: str,
    batch: Callable[..., Any],
    stream: type,
    lookback: int | Callable[..., int] = 0,
    outputs: tuple[str, ...] = (),
    registry: Registry | None = None,
) -> Entry:
    """Register one library function; fail at import if any part of its contract is missing."""
    if kind not in KINDS:
        raise ValueError(f"{name}: unknown kind {kind!r}; expected one of {KINDS}")
    if stream is None or not hasattr(stream, "update"):
        raise TypeError(f"{name}: a stream form with an update() method is required")
    doc = inspect.getdoc(batch) or ""
    if not doc:
        raise TypeError(f"{name}: the batch form needs a docstring")
    if "Example:" not in doc and ">>>" not in doc:
        raise TypeError(f"{name}: the docstring needs an Example: doctest")
    hints = typing.get_type_hints(batch)
    sig = inspect.signature(batch)
    params: list[Param] = []
    for pname, p in sig.parameters.items():
        if pname not in hints:
            raise TypeError(f"{name}: parameter {pname!r} has no type hint")
        ann = hints[pname]
        if ann is BarsPerYear:
            params.append(Param(pname, VType.NUMBER, p.default, context="bars_per_year"))
            continue
        if ann not in ANNOTATION_TYPES:
            raise TypeError(f"{name}: parameter {pname!r} has unsupported type {ann!r}")
        params.append(Param(pname, ANNOTATION_TYPES[ann], p.default))
    if "return" not in hints:
        raise TypeError(f"{name}: the batch form needs a return annotation")
    ret = hints["return"]
    if outputs:
        returns = VType.MULTI
    elif ret in ANNOTATION_TYPES:
        returns = ANNOTATION_TYPES[ret]
    else:
        raise TypeError(f"{name}: unsupported return type {ret!r}")
    lb = _const_lookback(lookback) if isinstance(lookback, int) else lookback
    summary = doc.strip().splitlines()[0]
    entry = Entry(
        name=name,
        kind=kind,
        batch=batch,
        stream=stream,
        lookback_fn=lb,
        params=tuple(params),
        returns=returns,
        outputs=tuple(outputs),
        doc=doc,
        summary=summary,
    )
    return (registry or REGISTRY).add(entry)
