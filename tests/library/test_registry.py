"""Contract tests for the library registry and every registered entry."""

from __future__ import annotations

import inspect
import pickle

import numpy as np
import pytest
from libcase import const_args, entries, load, series_args

from library.registry import KINDS, REGISTRY, Entry, Registry, register
from library.types import BarsPerYear, Series, VType

ENTRIES = entries()
IDS = [e.name for e in ENTRIES]


class _Twin:
    def update(self, x: float) -> float:
        return x


def _documented(x: Series) -> Series:
    """Identity.

    Example:
        >>> _documented(np.array([1.0])).tolist()
        [1.0]
    """
    return x


# ---------------------------------------------------------------- every entry


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_entry_is_documented_with_an_example(entry: Entry) -> None:
    assert entry.summary and "\n" not in entry.summary
    assert entry.summary.endswith("."), f"{entry.name}: summary should be a sentence"
    assert "Example:" in entry.doc and ">>>" in entry.doc
    assert entry.kind in KINDS
    assert entry.name.isidentifier() and entry.name == entry.name.lower()


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_entry_has_a_signature(entry: Entry) -> None:
    sig = entry.signature
    assert sig.startswith(f"{entry.name}(") and " -> " in sig
    for p in entry.params:
        assert isinstance(p.vtype, VType)
        if p.context is None:
            assert p.name in sig
        else:
            assert p.name not in sig, "compiler-filled parameters are not shown"
    if entry.outputs:
        assert entry.returns == VType.MULTI
        assert len(set(entry.outputs)) == len(entry.outputs)
        assert all(o.isidentifier() for o in entry.outputs)
    else:
        assert entry.returns in (VType.SERIES, VType.BOOL)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_stream_form_matches_the_signature(entry: Entry) -> None:
    """Constants go to ``__init__`` by name, series values to ``update`` by position."""
    init = inspect.signature(entry.stream)
    init_names = list(init.parameters)
    assert sorted(init_names) == sorted(p.name for p in entry.const_params)
    for p in entry.const_params:
        default = init.parameters[p.name].default
        if p.default is not inspect.Parameter.empty:
            assert default == p.default, f"{entry.name}.{p.name}: stream default differs"
    upd = [n for n in inspect.signature(entry.stream.update).parameters if n != "self"]
    assert upd == [p.name for p in entry.series_params]


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_lookback_accepts_the_constants(entry: Entry) -> None:
    lb = entry.lookback(**const_args(entry))
    assert isinstance(lb, int) and lb >= 0


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_stream_state_does_not_grow_with_history(entry: Entry) -> None:
    frame = load("btc")
    consts = const_args(entry)
    series = series_args(entry, frame)
    cols = [series[p.name].tolist() for p in entry.series_params]
    sizes = []
    for n in (300, 3000):
        state = entry.stream(**consts)
        for row in zip(*(c[:n] for c in cols)):
            state.update(*row)
        sizes.append(len(pickle.dumps(state)))
    assert sizes[1] <= sizes[0] + 64, f"{entry.name}: state grew from {sizes[0]} to {sizes[1]} bytes"


def test_known_signatures() -> None:
    assert REGISTRY["rsi"].signature == "rsi(x: Series, period: Int = 14) -> Series"
    assert REGISTRY["bollinger"].signature == (
        "bollinger(x: Series, period: Int = 20, k: Number = 2.0) -> "
        "(upper: Series, middle: Series, lower: Series)"
    )
    assert REGISTRY["crosses_below"].returns == VType.BOOL
    assert REGISTRY["bars_since"].params[0].vtype == VType.BOOL
    vol = REGISTRY["realized_vol"]
    assert vol.signature == "realized_vol(x: Series, period: Int) -> Series"
    assert [p.context for p in vol.params] == [None, None, "bars_per_year"]
    assert vol.lookback(period=20) == 20
    assert REGISTRY["macd"].lookback(fast=12, slow=26, signal=9) == 33
    assert REGISTRY["adx"].lookback(period=14) == 27


def test_registry_lists_entries_in_name_order() -> None:
    names = REGISTRY.names()
    assert names == sorted(names) and [e.name for e in REGISTRY] == names
    assert {"sma", "ema", "abs", "crosses_above", "bars_since"} <= set(names)
    assert all(e.kind == "math" for e in REGISTRY.by_kind("math"))


# ---------------------------------------------------------------- register() refuses


def test_registering_twice_fails() -> None:
    reg = Registry()
    register("ident", kind="math", batch=_documented, stream=_Twin, registry=reg)
    with pytest.raises(ValueError, match="registered twice"):
        register("ident", kind="math", batch=_documented, stream=_Twin, registry=reg)
    before = REGISTRY["sma"]
    with pytest.raises(ValueError, match="registered twice"):
        register("sma", kind="indicator", batch=_documented, stream=_Twin)
    assert REGISTRY["sma"] is before


def test_a_function_without_hints_fails() -> None:
    def bare(x):
        """No hints.

        Example:
            >>> 1
            1
        """
        return x

    with pytest.raises(TypeError, match="no type hint"):
        register("bare", kind="math", batch=bare, stream=_Twin, registry=Registry())


def test_a_function_without_return_hint_fails() -> None:
    def no_ret(x: Series):
        """No return hint.

        Example:
            >>> 1
            1
        """
        return x

    with pytest.raises(TypeError, match="return annotation"):
        register("no_ret", kind="math", batch=no_ret, stream=_Twin, registry=Registry())


def test_an_unsupported_annotation_fails() -> None:
    def odd(x: list) -> Series:
        """Odd type.

        Example:
            >>> 1
            1
        """
        return x

    with pytest.raises(TypeError, match="unsupported type"):
        register("odd", kind="math", batch=odd, stream=_Twin, registry=Registry())


def test_missing_doc_example_or_stream_fails() -> None:
    def undocumented(x: Series) -> Series:
        return x

    def no_example(x: Series) -> Series:
        """Has a summary only."""
        return x

    reg = Registry()
    with pytest.raises(TypeError, match="docstring"):
        register("a", kind="math", batch=undocumented, stream=_Twin, registry=reg)
    with pytest.raises(TypeError, match="Example"):
        register("b", kind="math", batch=no_example, stream=_Twin, registry=reg)
    with pytest.raises(TypeError, match="stream form"):
        register("c", kind="math", batch=_documented, stream=object, registry=reg)
    with pytest.raises(ValueError, match="unknown kind"):
        register("d", kind="nope", batch=_documented, stream=_Twin, registry=reg)
    assert len(reg) == 0


def test_bars_per_year_is_filled_by_the_compiler() -> None:
    def vol(x: Series, period: int, bars_per_year: BarsPerYear = 252.0) -> Series:
        """Vol.

        Example:
            >>> 1
            1
        """
        return x

    entry = register("vol", kind="indicator", batch=vol, stream=_Twin, registry=Registry())
    bpy = entry.params[-1]
    assert bpy.context == "bars_per_year" and not bpy.required
    assert entry.params[1].required and entry.params[1].vtype == VType.INT


def test_doctest_helper_runs() -> None:
    assert _documented(np.array([2.0])).tolist() == [2.0]
