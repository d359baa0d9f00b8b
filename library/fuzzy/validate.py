"""Consistency of an engine description, checked once before evaluation (ValueError).

The dsl checker reports the same problems with positions for documents; this guards engines
built by other means (tests, FLL, the data form).

Example:
    >>> from library.fuzzy.model import Engine
    >>> validate(Engine("e", (), (), ()))
    Traceback (most recent call last):
    ...
    ValueError: engine 'e': needs at least one output
"""

from __future__ import annotations

from library.fuzzy import formula, terms
from library.fuzzy.model import (ACTIVATIONS, COMPARATORS, DEFUZZIFIERS, INTEGRAL, SNORMS, TNORMS,
                                 Connective, Engine, Proposition, Term)
from library.fuzzy.hedges import HEDGES


def weighted_mode(var_terms: tuple[Term, ...]) -> str:
    """How a weighted defuzzifier reads an output's terms, as fuzzylite infers it:
    "tsukamoto" (all monotonic: inverse), "takagi_sugeno" (constant/linear/function) or
    "membership" (other shapes: the term's membership at the degree). Mixed kinds are an error."""
    kinds = {("takagi_sugeno" if t.shape in terms.TSK_SHAPES else
              "tsukamoto" if t.shape in terms.MONOTONIC else "membership") for t in var_terms}
    if len(kinds) > 1:
        raise ValueError(f"weighted defuzzifier over mixed kinds of terms ({', '.join(sorted(kinds))}): "
                         "use only constant/linear/function terms (Takagi-Sugeno) or only monotonic "
                         f"terms ({', '.join(terms.MONOTONIC)}; Tsukamoto)")
    return kinds.pop() if kinds else "takagi_sugeno"


def _term(where: str, t: Term, n_inputs: int, names: set[str], side: str) -> list[str]:
    out = []
    if t.shape == "linear":
        if side != "weighted":
            out.append(f"{where}: linear terms belong to outputs with a weighted defuzzifier")
        elif len(t.params) not in (n_inputs, n_inputs + 1):
            out.append(f"{where}: linear needs {n_inputs} coefficients (one per input) or {n_inputs + 1} "
                       f"(plus a constant), got {len(t.params)}")
    elif t.shape == "function":
        if t.formula is None:
            out.append(f"{where}: function term without a formula")
        else:
            allowed = {"x"} | (names if side != "integral" else set())
            out += [f"{where}: {p}" for p in formula.check(t.formula, allowed)]
    elif t.shape == "discrete":
        if not t.params or len(t.params) % 2:
            out.append(f"{where}: discrete needs x, y pairs")
        elif list(t.params[0::2]) != sorted(t.params[0::2]):
            out.append(f"{where}: discrete points must be in increasing x")
    elif t.shape not in terms.SHAPES:
        out.append(f"{where}: unknown shape '{t.shape}'")
    elif len(t.params) != terms.ARITY[t.shape]:
        out.append(f"{where}: {t.shape} takes {terms.ARITY[t.shape]} parameters, got {len(t.params)}")
    return out


def validate(engine: Engine) -> None:
    errs: list[str] = []
    if not engine.outputs:
        errs.append("needs at least one output")
    names = [v.name for v in engine.inputs + engine.outputs]
    for n in {n for n in names if names.count(n) > 1}:
        errs.append(f"variable name '{n}' is used twice")
    inputs = {v.name for v in engine.inputs}
    for v in engine.inputs:
        for t in v.terms:
            errs += _term(f"input {v.name}.{t.name}", t, len(engine.inputs), inputs, "input")
    earlier = set(inputs)
    for v in engine.outputs:
        if v.defuzzifier not in DEFUZZIFIERS:
            errs.append(f"output {v.name}: unknown defuzzifier '{v.defuzzifier}'")
        if v.aggregation not in SNORMS:
            errs.append(f"output {v.name}: unknown aggregation '{v.aggregation}'")
        if v.resolution < 1:
            errs.append(f"output {v.name}: resolution must be at least 1")
        side = "integral" if v.defuzzifier in INTEGRAL else "weighted"
        for t in v.terms:
            errs += _term(f"output {v.name}.{t.name}", t, len(engine.inputs), earlier, side)
        if side == "weighted":
            try:
                weighted_mode(v.terms)
            except ValueError as e:
                errs.append(f"output {v.name}: {e}")
        earlier.add(v.name)
    terms_of = {v.name: {t.name for t in v.terms} for v in engine.inputs + engine.outputs}
    outputs = {v.name for v in engine.outputs}
    for b in engine.blocks:
        for op, allowed in ((b.conjunction, TNORMS), (b.disjunction, SNORMS), (b.implication, TNORMS)):
            if op not in allowed:
                errs.append(f"block {b.name}: unknown operator '{op}'")
        if b.activation not in ACTIVATIONS:
            errs.append(f"block {b.name}: unknown activation '{b.activation}'")
        if b.activation_comparator not in COMPARATORS:
            errs.append(f"block {b.name}: unknown comparator '{b.activation_comparator}'")
        for r in b.rules:
            props = list(_props(r.antecedent)) + [(c, True) for c in r.consequents]
            for p, consequent in props:
                if p.var not in terms_of:
                    errs.append(f"rule '{r.text}': unknown variable '{p.var}'")
                elif consequent and p.var not in outputs:
                    errs.append(f"rule '{r.text}': '{p.var}' is not an output")
                elif p.term not in terms_of[p.var] and not (p.term == "any" and not consequent):
                    errs.append(f"rule '{r.text}': '{p.var}' has no term '{p.term}'")
                for h in p.hedges:
                    if h not in HEDGES:
                        errs.append(f"rule '{r.text}': unknown hedge '{h}'")
    if errs:
        raise ValueError(f"engine '{engine.name}': " + "; ".join(errs))


def _props(node):
    if isinstance(node, Proposition):
        yield node, False
    elif isinstance(node, Connective):
        yield from _props(node.left)
        yield from _props(node.right)
