"""Fuzzy inference (Mamdani, Larsen, Takagi-Sugeno, Tsukamoto), vectorised over samples.

``model`` holds the engine description (plain frozen data; ``Engine.from_data`` reads the
JSON-ready form that ``dsl.fuzzy_compile.build_engine`` produces), ``engine`` evaluates it
(``Evaluator.evaluate`` for arrays, ``Evaluator.evaluate_one`` for one sample, identical
results), and ``terms``, ``norms``, ``hedges``, ``defuzz``, ``formula`` are the pieces.
Semantics: docs/fuzzy.md.

Example:
    >>> from library.fuzzy import Engine, Evaluator
    >>> Evaluator.evaluate_one.__doc__.split(":")[0]
    'One sample'
"""

from library.fuzzy.engine import SOURCES, Decision, Evaluation, Evaluator, State
from library.fuzzy.model import (Connective, Engine, Formula, InputVariable, OutputVariable, Proposition, Rule,
                                 RuleBlock, Term)
from library.fuzzy.validate import validate, weighted_mode

__all__ = ["SOURCES", "Connective", "Decision", "Engine", "Evaluation", "Evaluator", "Formula", "InputVariable",
           "OutputVariable", "Proposition", "Rule", "RuleBlock", "State", "Term", "validate", "weighted_mode"]
