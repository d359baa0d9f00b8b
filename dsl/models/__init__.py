"""Document models, one module per kind; ``MODELS`` maps ``kind:`` to its model class."""

from dsl.models.fuzzy import Fuzzy
from dsl.models.risk import RiskProfile
from dsl.models.schedule import Schedule
from dsl.models.strategy import Strategy
from dsl.models.universe import Universe

MODELS = {
    "strategy": Strategy,
    "risk_profile": RiskProfile,
    "fuzzy": Fuzzy,
    "universe": Universe,
    "schedule": Schedule,
}

Document = Strategy | RiskProfile | Fuzzy | Universe | Schedule

__all__ = ["MODELS", "Document", "Fuzzy", "RiskProfile", "Schedule", "Strategy", "Universe"]
