"""The fuzzy engine description: plain frozen data, no behaviour.

``dsl`` compiles a ``kind: fuzzy`` document into this shape (as JSON-ready data, see
``Engine.to_data`` / ``Engine.from_data``: dsl may not import this package, and run plans are
JSON), and ``library.fuzzy.engine.Evaluator`` evaluates it. Every operator is resolved here: no
"use the document's default" is left for the evaluator.

Example:
    >>> t = Term("low", "triangle", (0.0, 0.0, 50.0))
    >>> Term.from_data(t.to_data()) == t
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Union

TNORMS = ("minimum", "algebraic_product", "bounded_difference", "drastic_product",
          "einstein_product", "hamacher_product", "nilpotent_minimum")
SNORMS = ("maximum", "algebraic_sum", "bounded_sum", "drastic_sum", "einstein_sum",
          "hamacher_sum", "nilpotent_maximum", "normalized_sum", "unbounded_sum")
ACTIVATIONS = ("general", "first", "last", "highest", "lowest", "proportional", "threshold")
COMPARATORS = ("<", "<=", "==", "!=", ">=", ">")
INTEGRAL = ("centroid", "bisector", "mean_of_maximum", "smallest_of_maximum", "largest_of_maximum")
WEIGHTED = ("weighted_average", "weighted_sum")
DEFUZZIFIERS = INTEGRAL + WEIGHTED
KINDS = ("mamdani", "larsen", "takagi_sugeno", "tsukamoto")


def _num_out(v: float) -> float | str:
    """JSON-ready number: non-finite values as the strings 'nan', 'inf', '-inf'."""
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return float(v)


def _num_in(v: Any) -> float:
    return float(v)  # float("nan"), float("inf"), float("-inf") parse the strings


@dataclass(frozen=True)
class Formula:
    """A formula of a ``function`` term: ``op`` is "num" (value: float), "var" (value: name),
    "call" (value: function name), "neg", or one of ``+ - * / ^`` (two args)."""

    op: str
    value: float | str = 0.0
    args: tuple["Formula", ...] = ()

    def names(self) -> set[str]:
        out = {str(self.value)} if self.op == "var" else set()
        for a in self.args:
            out |= a.names()
        return out

    def to_data(self) -> dict:
        d: dict[str, Any] = {"op": self.op}
        if self.op == "num":
            d["value"] = _num_out(float(self.value))
        elif self.op in ("var", "call"):
            d["value"] = self.value
        if self.args:
            d["args"] = [a.to_data() for a in self.args]
        return d

    @classmethod
    def from_data(cls, d: dict) -> "Formula":
        value = d.get("value", 0.0)
        if d["op"] == "num":
            value = _num_in(value)
        return cls(d["op"], value, tuple(cls.from_data(a) for a in d.get("args", ())))


@dataclass(frozen=True)
class Term:
    """A membership term: ``shape`` is a name of library/membership.py, ``params`` its numbers
    (for ``discrete`` the flat x, y pairs; for ``linear`` the coefficients), ``formula`` only
    for ``function``."""

    name: str
    shape: str
    params: tuple[float, ...] = ()
    height: float = 1.0
    formula: Formula | None = None

    def to_data(self) -> dict:
        d: dict[str, Any] = {"name": self.name, "shape": self.shape,
                             "params": [_num_out(p) for p in self.params]}
        if self.height != 1.0:
            d["height"] = _num_out(self.height)
        if self.formula is not None:
            d["formula"] = self.formula.to_data()
        return d

    @classmethod
    def from_data(cls, d: dict) -> "Term":
        f = d.get("formula")
        return cls(d["name"], d["shape"], tuple(_num_in(p) for p in d.get("params", ())),
                   _num_in(d.get("height", 1.0)), Formula.from_data(f) if f else None)


@dataclass(frozen=True)
class InputVariable:
    name: str
    range: tuple[float, float]
    terms: tuple[Term, ...]
    lock_range: bool = False  # clip input values to the range before evaluation

    def to_data(self) -> dict:
        return {"name": self.name, "range": [_num_out(v) for v in self.range],
                "lock_range": self.lock_range, "terms": [t.to_data() for t in self.terms]}

    @classmethod
    def from_data(cls, d: dict) -> "InputVariable":
        lo, hi = (_num_in(v) for v in d["range"])
        return cls(d["name"], (lo, hi), tuple(Term.from_data(t) for t in d["terms"]),
                   bool(d.get("lock_range", False)))


@dataclass(frozen=True)
class OutputVariable:
    """An output: its terms, how activations of one term combine (``aggregation``), the
    defuzzifier (``resolution`` slices for the integral ones) and the no-fire chain:
    NaN -> ``lock_previous`` -> ``default`` -> ``lock_range``."""

    name: str
    range: tuple[float, float]
    terms: tuple[Term, ...]
    defuzzifier: str = "centroid"
    resolution: int = 1000
    aggregation: str = "maximum"
    default: float = math.nan
    lock_previous: bool = False
    lock_range: bool = False

    def to_data(self) -> dict:
        return {"name": self.name, "range": [_num_out(v) for v in self.range],
                "terms": [t.to_data() for t in self.terms], "defuzzifier": self.defuzzifier,
                "resolution": self.resolution, "aggregation": self.aggregation,
                "default": _num_out(self.default), "lock_previous": self.lock_previous,
                "lock_range": self.lock_range}

    @classmethod
    def from_data(cls, d: dict) -> "OutputVariable":
        lo, hi = (_num_in(v) for v in d["range"])
        return cls(d["name"], (lo, hi), tuple(Term.from_data(t) for t in d["terms"]),
                   d.get("defuzzifier", "centroid"), int(d.get("resolution", 1000)),
                   d.get("aggregation", "maximum"), _num_in(d.get("default", "nan")),
                   bool(d.get("lock_previous", False)), bool(d.get("lock_range", False)))


@dataclass(frozen=True)
class Proposition:
    """``var is hedges... term``; hedges apply innermost-last (``not very x`` = not(very(x))).
    ``term`` "any" means degree 1 (before hedges)."""

    var: str
    hedges: tuple[str, ...]
    term: str

    def to_data(self) -> dict:
        return {"var": self.var, "hedges": list(self.hedges), "term": self.term}

    @classmethod
    def from_data(cls, d: dict) -> "Proposition":
        return cls(d["var"], tuple(d.get("hedges", ())), d["term"])


@dataclass(frozen=True)
class Connective:
    op: str  # "and" | "or"
    left: "Antecedent"
    right: "Antecedent"

    def to_data(self) -> dict:
        return {"op": self.op, "left": self.left.to_data(), "right": self.right.to_data()}


Antecedent = Union[Proposition, Connective]


def antecedent_from_data(d: dict) -> Antecedent:
    if "op" in d:
        return Connective(d["op"], antecedent_from_data(d["left"]), antecedent_from_data(d["right"]))
    return Proposition.from_data(d)


@dataclass(frozen=True)
class Rule:
    antecedent: Antecedent
    consequents: tuple[Proposition, ...]
    weight: float = 1.0
    text: str = ""

    def to_data(self) -> dict:
        return {"text": self.text, "weight": _num_out(self.weight), "antecedent": self.antecedent.to_data(),
                "consequents": [c.to_data() for c in self.consequents]}

    @classmethod
    def from_data(cls, d: dict) -> "Rule":
        return cls(antecedent_from_data(d["antecedent"]),
                   tuple(Proposition.from_data(c) for c in d["consequents"]),
                   _num_in(d.get("weight", 1.0)), d.get("text", ""))


@dataclass(frozen=True)
class RuleBlock:
    """Rules evaluated together with one set of operators and an activation method.

    ``activation_rules`` is the count for first/last/highest/lowest; ``activation_threshold``
    the minimum degree for first/last and, with ``activation_comparator``, the test of
    ``threshold``."""

    name: str
    rules: tuple[Rule, ...]
    conjunction: str = "minimum"
    disjunction: str = "maximum"
    implication: str = "minimum"
    activation: str = "general"
    activation_rules: int = 1
    activation_threshold: float = 0.0
    activation_comparator: str = ">"

    def to_data(self) -> dict:
        return {"name": self.name, "conjunction": self.conjunction, "disjunction": self.disjunction,
                "implication": self.implication, "activation": self.activation,
                "activation_rules": self.activation_rules,
                "activation_threshold": _num_out(self.activation_threshold),
                "activation_comparator": self.activation_comparator,
                "rules": [r.to_data() for r in self.rules]}

    @classmethod
    def from_data(cls, d: dict) -> "RuleBlock":
        return cls(d["name"], tuple(Rule.from_data(r) for r in d["rules"]),
                   d.get("conjunction", "minimum"), d.get("disjunction", "maximum"),
                   d.get("implication", "minimum"), d.get("activation", "general"),
                   int(d.get("activation_rules", 1)), _num_in(d.get("activation_threshold", 0.0)),
                   d.get("activation_comparator", ">"))


@dataclass(frozen=True)
class Engine:
    """A whole rule base: inputs and outputs in order, rule blocks evaluated in order."""

    name: str
    inputs: tuple[InputVariable, ...]
    outputs: tuple[OutputVariable, ...]
    blocks: tuple[RuleBlock, ...]
    kind: str = "mamdani"

    def to_data(self) -> dict:
        return {"schema": "tradespec-fuzzy-engine/1", "name": self.name, "kind": self.kind,
                "inputs": [v.to_data() for v in self.inputs],
                "outputs": [v.to_data() for v in self.outputs],
                "blocks": [b.to_data() for b in self.blocks]}

    @classmethod
    def from_data(cls, d: dict) -> "Engine":
        return cls(d["name"], tuple(InputVariable.from_data(v) for v in d["inputs"]),
                   tuple(OutputVariable.from_data(v) for v in d["outputs"]),
                   tuple(RuleBlock.from_data(b) for b in d["blocks"]), d.get("kind", "mamdani"))

    def rules(self) -> list[tuple[int, int, Rule]]:
        """(block index, rule index, rule) in evaluation order: the columns of activations."""
        return [(bi, ri, r) for bi, b in enumerate(self.blocks) for ri, r in enumerate(b.rules)]
