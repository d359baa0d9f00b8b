"""``kind: fuzzy`` — a fuzzy rule base: variables with membership terms, rules, and operators."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from dsl.models.common import Formula, Model, Name, SpecValueError

TNorm = Literal["minimum", "algebraic_product", "bounded_difference", "drastic_product",
                "einstein_product", "hamacher_product", "nilpotent_minimum"]
SNorm = Literal["maximum", "algebraic_sum", "bounded_sum", "drastic_sum", "einstein_sum",
                "hamacher_sum", "nilpotent_maximum", "normalized_sum", "unbounded_sum"]
Activation = Literal["general", "first", "last", "highest", "lowest", "proportional", "threshold"]
Comparator = Literal["<", "<=", "==", "!=", ">=", ">"]
Defuzzifier = Literal["centroid", "bisector", "mean_of_maximum", "smallest_of_maximum",
                      "largest_of_maximum", "weighted_average", "weighted_sum"]


class Variable(Model):
    range: tuple[float, float]
    terms: dict[Name, Formula] = Field(default_factory=dict, description="term name -> membership function call, "
                                       "e.g. triangle(0, 50, 100); an input read only by linear terms may have none")
    description: str = ""
    lock_range: bool = Field(False, description="clip input values to the range before evaluation")

    @model_validator(mode="after")
    def _range_ordered(self) -> "Variable":
        lo, hi = self.range
        if lo >= hi:
            raise SpecValueError(f"range [{lo:g}, {hi:g}] must be [low, high] with low < high", ("range",),
                                 hint=f"write [{hi:g}, {lo:g}]" if lo > hi else "make the range wider than one point")
        return self


class OutputVariable(Variable):
    default: float | Literal["nan"] = Field("nan", description="value when no rule fires")
    lock_previous: bool = Field(False, description="when no rule fires, keep the previous output")
    lock_range: bool = Field(False, description="clip the output to the variable's range")
    defuzzifier: Defuzzifier | None = None
    resolution: int = Field(1000, ge=2, le=1_000_000)
    aggregation: SNorm | None = None

    @model_validator(mode="after")
    def _has_terms(self) -> "OutputVariable":
        if not self.terms:
            raise SpecValueError("an output variable needs at least one term", ("terms",),
                                 hint="add e.g. 'low: triangle(0, 0, 50)'")
        return self


class RuleBlock(Model):
    name: Name = "rules"
    conjunction: TNorm | None = None
    disjunction: SNorm | None = None
    implication: TNorm | None = None
    activation: Activation = "general"
    activation_rules: int | None = Field(None, ge=1, description="first/last/highest/lowest: how many rules may "
                                         "trigger (default 1)")
    activation_threshold: float | None = Field(None, description="threshold: the degree compared with; "
                                               "first/last: the least degree that triggers (default 0)")
    activation_comparator: Comparator | None = Field(None, description="threshold: how a rule's degree is "
                                                     "compared with the threshold (default >)")
    rules: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _activation_options(self) -> "RuleBlock":
        uses = {"activation_rules": ("first", "last", "highest", "lowest"),
                "activation_threshold": ("first", "last", "threshold"),
                "activation_comparator": ("threshold",)}
        for name, kinds in uses.items():
            if getattr(self, name) is not None and self.activation not in kinds:
                raise SpecValueError(f"'{name}' does not apply to activation '{self.activation}'", (name,),
                                     at_key=True, hint=f"it applies to activation {' or '.join(kinds)}")
        return self


class Fuzzy(Model):
    kind: Literal["fuzzy"]
    name: Name
    description: str = ""
    engine: Literal["mamdani", "larsen", "takagi_sugeno", "tsukamoto"] = "mamdani"
    conjunction: TNorm = "minimum"
    disjunction: SNorm = "maximum"
    implication: TNorm = "minimum"
    aggregation: SNorm = "maximum"
    defuzzifier: Defuzzifier | None = None
    inputs: dict[Name, Variable]
    outputs: dict[Name, OutputVariable]
    rules: list[str] = Field(default_factory=list)
    blocks: list[RuleBlock] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_rules(self) -> "Fuzzy":
        if not self.rules and not self.blocks:
            raise SpecValueError("a rule base needs 'rules' (or 'blocks' of rules)", code="E201",
                                 hint="add 'rules:' with lines like '- if x is low then y is high'")
        if self.rules and self.blocks:
            raise SpecValueError("write either 'rules' or 'blocks', not both", ("blocks",), at_key=True,
                                 hint="move the rules into a block, or remove 'blocks'")
        for name in self.outputs:
            if name in self.inputs:
                raise SpecValueError(f"'{name}' is both an input and an output; names must be unique",
                                     ("outputs", name), at_key=True, hint="rename one of them")
        if not self.outputs:
            raise SpecValueError("a rule base needs at least one output", ("outputs",), "E201", at_key=True)
        return self

    def rule_blocks(self) -> list[RuleBlock]:
        """Rules as blocks: a plain ``rules`` list is one block using the engine's operators."""
        if self.blocks:
            return list(self.blocks)
        return [RuleBlock(rules=list(self.rules))]

    def default_defuzzifier(self) -> str:
        if self.defuzzifier:
            return self.defuzzifier
        return "weighted_average" if self.engine in ("takagi_sugeno", "tsukamoto") else "centroid"
