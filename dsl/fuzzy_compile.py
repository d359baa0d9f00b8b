"""A checked fuzzy rule base -> the engine description that ``library.fuzzy`` evaluates.

``build_engine`` returns the description as JSON-ready plain data, the form
``library.fuzzy.Engine.from_data`` reads (``dsl`` may import only the library's registry, types
and membership table, and a run plan carries plain data anyway):

    >>> from library.fuzzy import Engine, Evaluator          # doctest: +SKIP
    >>> ev = Evaluator(Engine.from_data(build_engine(checked)))  # doctest: +SKIP

Every default is resolved here, so the engine never looks back at the document:
operators of a block default to the rule base's; ``engine: larsen`` makes the implication
``algebraic_product`` unless one is written; an output's aggregation defaults to the rule
base's, except that a weighted defuzzifier (Takagi-Sugeno, Tsukamoto) sums the activations
of one term (``unbounded_sum``, each rule counts) unless an aggregation is written.
"""

from __future__ import annotations

import math
from typing import Any

from dsl import ast
from dsl.check_fuzzy import CheckedFuzzy, term_number

_WEIGHTED = ("weighted_average", "weighted_sum")


def _num(v: float) -> float | str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return float(v)


def formula_data(n: ast.Expr) -> dict[str, Any]:
    """A function term's formula as data (library.fuzzy.model.Formula.from_data reads it).

    Example:
        >>> from dsl.parse import parse_expr, plain_locator
        >>> formula_data(parse_expr("abs(a - 2)", plain_locator())[0])["value"]
        'abs'
    """
    if isinstance(n, (ast.Num, ast.Quantity)):
        return {"op": "num", "value": _num(n.value)}
    if isinstance(n, ast.Name):
        return {"op": "var", "value": n.name}
    if isinstance(n, ast.Neg):
        return {"op": "neg", "args": [formula_data(n.operand)]}
    if isinstance(n, ast.BinOp):
        return {"op": n.op, "args": [formula_data(n.left), formula_data(n.right)]}
    if isinstance(n, ast.Call):
        return {"op": "call", "value": n.func, "args": [formula_data(a) for a in n.args]}
    raise ValueError(f"'{n.to_text()}' is not arithmetic; function terms use + - * / ^ and functions")


def _term(name: str, call: ast.Call) -> dict[str, Any]:
    d: dict[str, Any] = {"name": name, "shape": call.func, "params": []}
    if call.func == "function":
        d["formula"] = formula_data(call.args[0])
        return d
    values = [term_number(a) for a in call.args]
    if any(v is None for v in values):
        raise ValueError(f"term {name}: parameters must be numbers (check the rule base first)")
    d["params"] = [_num(v) for v in values]
    for k in call.kwargs:
        if k.name == "height":
            d["height"] = _num(term_number(k.value))
    return d


def _antecedent(n: ast.AntExpr) -> dict[str, Any]:
    if isinstance(n, ast.Proposition):
        return {"var": n.var, "hedges": list(n.hedges), "term": n.term}
    return {"op": n.op, "left": _antecedent(n.left), "right": _antecedent(n.right)}


def build_engine(checked: CheckedFuzzy) -> dict[str, Any]:
    """The engine description of a rule base that checked without errors, as plain data."""
    m = checked.doc.model
    blocks = m.rule_blocks()
    if len(checked.rules) != sum(len(b.rules) for b in blocks):
        raise ValueError(f"rule base '{m.name}' has rules that did not check; fix its errors first")
    explicit = m.model_fields_set
    implication = m.implication
    if m.engine == "larsen" and "implication" not in explicit:
        implication = "algebraic_product"

    def terms_of(vname: str, var: Any) -> list[dict]:
        out = []
        for tname in var.terms:
            call = checked.terms.get((vname, tname))
            if call is None:
                raise ValueError(f"term {vname}.{tname} did not check; fix the rule base's errors first")
            out.append(_term(tname, call))
        return out

    inputs = [{"name": n, "range": [_num(v.range[0]), _num(v.range[1])], "lock_range": v.lock_range,
               "terms": terms_of(n, v)} for n, v in m.inputs.items()]
    outputs = []
    for n, v in m.outputs.items():
        defuzzifier = v.defuzzifier or m.default_defuzzifier()
        aggregation = v.aggregation or m.aggregation
        if v.aggregation is None and "aggregation" not in explicit and defuzzifier in _WEIGHTED:
            aggregation = "unbounded_sum"
        outputs.append({"name": n, "range": [_num(v.range[0]), _num(v.range[1])], "terms": terms_of(n, v),
                        "defuzzifier": defuzzifier, "resolution": v.resolution, "aggregation": aggregation,
                        "default": _num(math.nan if v.default == "nan" else float(v.default)),
                        "lock_previous": v.lock_previous, "lock_range": v.lock_range})
    rules_of: dict[int, list[ast.Rule]] = {}
    for bi, rule in checked.rules:
        rules_of.setdefault(bi, []).append(rule)
    out_blocks = []
    for bi, b in enumerate(blocks):
        out_blocks.append({
            "name": b.name, "conjunction": b.conjunction or m.conjunction,
            "disjunction": b.disjunction or m.disjunction, "implication": b.implication or implication,
            "activation": b.activation,
            "activation_rules": b.activation_rules if b.activation_rules is not None else 1,
            "activation_threshold": _num(b.activation_threshold if b.activation_threshold is not None else 0.0),
            "activation_comparator": b.activation_comparator or ">",
            "rules": [{"text": r.to_text(), "weight": _num(1.0 if r.weight is None else r.weight),
                       "antecedent": _antecedent(r.antecedent),
                       "consequents": [{"var": c.var, "hedges": list(c.hedges), "term": c.term}
                                       for c in r.consequents]} for r in rules_of.get(bi, [])],
        })
    return {"schema": "tradespec-fuzzy-engine/1", "name": m.name, "kind": m.engine,
            "inputs": inputs, "outputs": outputs, "blocks": out_blocks}
