"""What formulas may call. Importing this package registers every entry in ``REGISTRY``."""

from library import indicators, mathfns, rolling, signals, wilder  # noqa: F401  (registers entries)
from library.registry import REGISTRY, Entry, Param, register

__all__ = ["REGISTRY", "Entry", "Param", "register"]
