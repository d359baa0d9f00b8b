"""Why a trade was not taken: a fixed taxonomy, one primary reason per held entry signal.

Codes are small integers so a whole run's reasons fit in one int8 array per instrument;
their names are what results, journals and reports show.
"""

from __future__ import annotations

from enum import IntEnum


class HoldReason(IntEnum):
    NONE = 0
    WARMUP = 1  # indicators not yet valid (the graph's warm-up)
    ALREADY_IN_POSITION = 2  # entry condition holds while a position is open
    PENDING_ORDER = 3  # an order from the previous bar has not filled yet
    SIZED_TO_ZERO = 4  # sizing gave less than one lot (or a NaN volatility)
    NO_NEXT_BAR = 5  # signal on the last bar: there is no next open to fill at
    CONFLICTING_SIGNALS = 6  # long and short entry both hold on one bar
    INSUFFICIENT_CASH = 7  # cash does not cover one lot plus costs
    DATA_GAP = 8  # another instrument's input was stale or missing on the bar
    RISK_LIMIT = 9  # a risk-profile limit refused the order
    COOLDOWN = 10
    HALTED = 11
    OUTSIDE_WINDOW = 12
    TIER_NOT_ALLOWED = 13
    OFF_CADENCE = 14  # a schedule slot decides only on its cadence's bars

    @property
    def label(self) -> str:
        return self.name.lower()


DESCRIPTIONS = {
    HoldReason.WARMUP: "indicators are still warming up (the graph's warm-up bars)",
    HoldReason.ALREADY_IN_POSITION: "the entry condition held while a position was already open",
    HoldReason.PENDING_ORDER: "an order decided on the previous bar had not filled yet",
    HoldReason.SIZED_TO_ZERO: "sizing gave less than one lot",
    HoldReason.NO_NEXT_BAR: "the signal came on the last bar; there is no next open to fill at",
    HoldReason.CONFLICTING_SIGNALS: "long and short entries held on the same bar",
    HoldReason.INSUFFICIENT_CASH: "cash did not cover one lot plus costs",
    HoldReason.DATA_GAP: "an input from another instrument had no bar within its alignment (stale or missing)",
    HoldReason.RISK_LIMIT: "a risk limit refused the order",
    HoldReason.COOLDOWN: "cooling down after a losing trade",
    HoldReason.HALTED: "trading halted by the risk profile",
    HoldReason.OUTSIDE_WINDOW: "outside the trading window",
    HoldReason.TIER_NOT_ALLOWED: "the strategy's tier may not run in this mode",
    HoldReason.OFF_CADENCE: "not a decision bar of the schedule slot's cadence",
}
