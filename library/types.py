"""The value types of the formula language, as used in library signatures.

A library function's type hints *are* the language's type system: the checker reads
them from the registry and nothing else. Per-bar inputs are annotated ``Series`` or
``BoolSeries``; arguments that must be known when the graph is compiled (a window
length, a multiplier) are annotated ``int``, ``float`` or ``Pct``. ``BarsPerYear`` is
filled in by the compiler from the strategy's timeframe, never written by the user.
"""

from __future__ import annotations

from enum import Enum


class Series:
    """A float64 value per bar (NaN during warm-up or where undefined)."""


class BoolSeries:
    """A boolean value per bar (False during warm-up)."""


class Pct(float):
    """A fraction written as a percentage (``2%`` is 0.02) or in basis points."""


class BarsPerYear(float):
    """Annualisation factor supplied by the compiler from the timeframe (252 for 1d)."""


class VType(str, Enum):
    """Types the checker assigns to formula expressions."""

    SERIES = "Series"
    BOOL = "BoolSeries"
    NUMBER = "Number"  # a compile-time constant number
    INT = "Int"  # a compile-time constant integer
    PCT = "Pct"  # a compile-time constant fraction written with % or bps
    BOOL_CONST = "Bool"  # a compile-time constant boolean
    DURATION = "Duration"
    MULTI = "Multi"  # a call with several named outputs; must be followed by .field

    @property
    def is_const(self) -> bool:
        return self in (VType.NUMBER, VType.INT, VType.PCT, VType.BOOL_CONST, VType.DURATION)


#: annotation -> VType, for reading signatures
ANNOTATION_TYPES: dict[object, VType] = {
    Series: VType.SERIES,
    BoolSeries: VType.BOOL,
    float: VType.NUMBER,
    int: VType.INT,
    Pct: VType.PCT,
    bool: VType.BOOL_CONST,
}


def accepts(param: VType, arg: VType) -> bool:
    """Whether an argument of type ``arg`` may be passed where ``param`` is declared.

    Constants broadcast to series; integers are numbers; a percentage is a number, but a
    plain number is not accepted where a percentage is declared (write ``2%`` or ``0.02``
    explicitly through a Pct param).
    """
    if param == arg:
        return True
    if param == VType.SERIES:
        return arg in (VType.NUMBER, VType.INT, VType.PCT)
    if param == VType.BOOL:
        return arg == VType.BOOL_CONST
    if param == VType.NUMBER:
        return arg in (VType.INT, VType.PCT)
    if param == VType.PCT:
        return False
    return False
