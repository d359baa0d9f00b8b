"""Fuzzy rule bases: terms are membership shapes that fit their variable's range, and every
rule names declared variables, terms and hedges."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from dsl import ast
from dsl.errors import Collector, Diagnostic, did_you_mean
from dsl.formula import const_value, locator
from dsl.parse import parse_expr, parse_rule
from dsl.source import Span, path_text
from dsl.validate import SpecDoc
from library.membership import HEDGES, TERM_SHAPES

@dataclass
class CheckedFuzzy:
    doc: SpecDoc
    terms: dict[tuple[str, str], ast.Call] = field(default_factory=dict)
    rules: list[tuple[int, ast.Rule]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.doc.name



def _word_span(sources: dict[str, list[str]], within: Span, word: str, after: Span | None = None) -> Span | None:
    """Where ``word`` is written inside ``within`` (one line), after ``after`` if given."""
    import re

    lines = sources.get(within.file)
    if not lines or within.line != within.end_line or not 1 <= within.line <= len(lines):
        return None
    text = lines[within.line - 1]
    lo = within.col - 1
    if after is not None and after.line == within.line:
        lo = max(lo, after.end_col - 1)
    m = re.search(rf"(?<![A-Za-z0-9_.]){re.escape(word)}(?![A-Za-z0-9_])", text[lo:within.end_col - 1])
    if not m:
        return None
    col = lo + m.start() + 1
    return Span(within.file, within.line, col, within.line, col + len(word))


def check_fuzzy(doc: SpecDoc, diags: Collector, sources: dict[str, list[str]] | None = None) -> CheckedFuzzy:
    m = doc.model
    out = CheckedFuzzy(doc)
    variables = {**{k: ("inputs", v) for k, v in m.inputs.items()},
                 **{k: ("outputs", v) for k, v in m.outputs.items()}}
    for vname, (section, var) in variables.items():
        lo, hi = var.range
        for tname, text in var.terms.items():
            path = (section, vname, "terms", tname)
            node, diag = parse_term(text, locator(doc, path, text), what=f"term {vname}.{tname}")
            if diag:
                diags.items.append(diag)
                continue
            if not isinstance(node, ast.Call):
                diags.add("E505", f"term {vname}.{tname} must be a shape call like triangle(0, 50, 100)",
                          node.span, f"shapes: {', '.join(sorted(TERM_SHAPES))}")
                continue
            shape = TERM_SHAPES.get(node.func)
            if shape is None:
                diags.add("E507", f"unknown membership shape '{node.func}'", node.name_span,
                          did_you_mean(node.func, TERM_SHAPES) or f"shapes: {', '.join(sorted(TERM_SHAPES))}")
                continue
            out.terms[(vname, tname)] = node
            if shape.name == "function":
                _check_function(node, vname, tname, m, section, diags)
                continue
            values = []
            for a in node.args:
                v = term_number(a)
                if v is None:
                    diags.add("E511", f"term {vname}.{tname}: parameters must be numbers", a.span)
                values.append(v)
            for k in node.kwargs:
                if k.name != "height":
                    diags.add("E503", f"{shape.name} has no argument '{k.name}'", k.span,
                              "the only keyword for terms is height=")
                elif shape.name in ("constant", "linear"):
                    diags.add("E503", f"{shape.name} has no height", k.span, "remove height=")
                elif term_number(k.value) is None:
                    diags.add("E511", f"term {vname}.{tname}: height must be a number", k.value.span)
            n_args = len(node.args)
            if shape.variadic:
                if n_args < 1 or (shape.name == "discrete" and n_args % 2):
                    diags.add("E503", f"{shape.name} needs {'x, y pairs' if shape.name == 'discrete' else 'coefficients'}",
                              node.span, shape.doc)
            elif n_args != len(shape.params):
                diags.add("E503", f"{shape.name} takes {len(shape.params)} parameters "
                          f"({', '.join(shape.params)}), got {n_args}", node.span,
                          f"write {shape.name}({', '.join(shape.params)})" + (f": {shape.doc}" if shape.doc else ""))
                continue
            xs = [values[i] for i in shape.positions if i < len(values) and values[i] is not None]
            if shape.name in _REACH and len(values) == len(shape.params) and None not in values:
                xs = _REACH[shape.name](*values)
            if shape.name == "discrete":
                xs = [v for v in values[0::2] if v is not None]
                if xs != sorted(xs):
                    diags.add("E503", f"term {vname}.{tname}: discrete points must be in increasing x order",
                              node.span, "write discrete(x1, y1, x2, y2, ...) with x1 <= x2 <= ...")
            if shape.name == "linear":
                _check_linear(node, vname, tname, m, section, diags)
            if xs and (max(xs) < lo or min(xs) > hi):
                diags.add("E509", f"term {vname}.{tname} lies outside the range [{lo:g}, {hi:g}] of '{vname}'",
                          node.span, "move the term inside the range or widen the range")
    _check_weighted_outputs(doc, m, diags)
    for bi, block in enumerate(m.rule_blocks()):
        for ri, text in enumerate(block.rules):
            path = ("blocks", bi, "rules", ri) if m.blocks else ("rules", ri)
            rule, diag = parse_rule(text, locator(doc, path, text), what=path_text(path))
            if diag:
                diags.items.append(diag)
                continue
            _check_rule(rule, m, variables, diags, sources or {})
            out.rules.append((bi, rule))
    return out


def _check_rule(rule: ast.Rule, m: Any, variables: dict, diags: Collector,
                sources: dict[str, list[str]]) -> None:
    for prop in ast.propositions(rule.antecedent):
        _check_prop(prop, variables, diags, consequent=False, sources=sources)
    for prop in rule.consequents:
        if prop.var in m.inputs:
            diags.add("E506", f"'{prop.var}' is an input; a rule's 'then' part sets outputs", prop.var_span,
                      f"outputs of this rule base: {', '.join(m.outputs)}")
            continue
        _check_prop(prop, variables, diags, consequent=True, sources=sources)
    if rule.weight is not None and not 0.0 <= rule.weight <= 1.0:
        last = rule.consequents[-1].span if rule.consequents else None
        written = None
        with_span = _word_span(sources, rule.span, "with", after=last)
        if with_span is not None:
            line = sources[with_span.file][with_span.line - 1]
            rest = line[with_span.end_col - 1:rule.span.end_col - 1]
            num = rest.strip()
            if num:
                written = _word_span(sources, rule.span, num, after=with_span)
        diags.add("E513", f"rule weight {rule.weight:g} is outside [0, 1]", written or rule.span,
                  "a weight scales the rule's conclusion: write a number from 0 to 1, e.g. 'with 0.5'")


def _check_prop(prop: ast.Proposition, variables: dict, diags: Collector, consequent: bool,
                sources: dict[str, list[str]] | None = None) -> None:
    if prop.var not in variables:
        diags.add("E506", f"unknown fuzzy variable '{prop.var}'", prop.var_span,
                  did_you_mean(prop.var, variables) or f"variables: {', '.join(variables)}")
        return
    for h in prop.hedges:
        if h not in HEDGES:
            where = _word_span(sources or {}, prop.span, h, after=prop.var_span)
            diags.add("E508", f"unknown hedge '{h}' in '{prop.to_text()}'", where or prop.span,
                      did_you_mean(h, HEDGES) or f"hedges: {', '.join(HEDGES)}")
    _, var = variables[prop.var]
    if prop.term == "any" and not consequent:
        return
    if prop.term not in var.terms:
        diags.add("E507", f"'{prop.var}' has no term '{prop.term}'", prop.term_span,
                  did_you_mean(prop.term, var.terms) or f"terms of {prop.var}: {', '.join(var.terms)}")


_NUM = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_DISCRETE = re.compile(rf"\s*discrete\s*\(\s*({_NUM}(?:\s*,\s*{_NUM})*)\s*(?:,\s*height\s*=\s*({_NUM})\s*)?\)\s*")


def parse_term(text: str, locate, what: str):
    """Parse a term call. ``discrete(x1, y1, ...)`` with plain numbers is data, read directly
    (a table of points may be longer than the formula length limit); anything else is a formula."""
    m = _DISCRETE.fullmatch(text)
    if m is None:
        return parse_expr(text, locate, what=what)
    args, kwargs = [], []
    for tok in re.finditer(_NUM, m.group(1)):
        a, b = m.start(1) + tok.start(), m.start(1) + tok.end()
        v = float(tok.group())
        args.append(ast.Num(v, re.fullmatch(r"[-+]?[0-9]+", tok.group()) is not None, locate(a, b)))
    if m.group(2) is not None:
        a, b = m.start(2), m.end(2)
        kwargs.append(ast.Kwarg("height", ast.Num(float(m.group(2)), False, locate(a, b)), locate(a, b)))
    start = text.index("discrete")
    return ast.Call("discrete", tuple(args), tuple(kwargs), locate(start, len(text.rstrip())),
                    locate(start, start + len("discrete"))), None


def _gauss_reach(mean: float, sd: float) -> list[float]:
    r = abs(sd) * math.sqrt(2 * math.log(100))
    return [mean - r, mean + r]


def _sigmoid_reach(inflection: float, slope: float) -> list[float]:
    r = math.log(99) / abs(slope) if slope else math.inf
    return [inflection - r, inflection + r]


#: shapes without a bounded support: where the membership is above 1% (E509 looks at this,
#: not at the centre alone: a bell centred just outside the range still covers part of it)
_REACH = {
    "gaussian": _gauss_reach,
    "gaussian_product": lambda ma, sa, mb, sb: [_gauss_reach(ma, sa)[0], _gauss_reach(mb, sb)[1]],
    "bell": lambda c, w, s: [c - abs(w) * 99 ** (1 / (2 * abs(s))) if s else -math.inf,
                             c + abs(w) * 99 ** (1 / (2 * abs(s))) if s else math.inf],
    "sigmoid": _sigmoid_reach,
    "sigmoid_difference": lambda lf, r, f, rt: [_sigmoid_reach(lf, r)[0], _sigmoid_reach(rt, f)[1]],
    "sigmoid_product": lambda lf, r, f, rt: [_sigmoid_reach(lf, r)[0], _sigmoid_reach(rt, f)[1]],
    "spike": lambda c, w: [c - abs(w) * math.log(100) / 10, c + abs(w) * math.log(100) / 10],
    "cosine": lambda c, w: [c - abs(w) / 2, c + abs(w) / 2],
}


def term_number(n: ast.Expr) -> float | None:
    """A term parameter: a constant number, or ``inf`` / ``-inf`` (open shoulders, binary edges)."""
    if isinstance(n, ast.Name) and n.name == "inf":
        return math.inf
    if isinstance(n, ast.Neg) and isinstance(n.operand, ast.Name) and n.operand.name == "inf":
        return -math.inf
    return const_value(n, {})


#: functions a ``function`` term's formula may call (library/fuzzy/formula.py implements them;
#: tests/fuzzy checks the two lists agree): name -> number of arguments
FUNCTION_TERM_CALLS = {
    **{f: 1 for f in ("abs", "sqrt", "exp", "log", "log10", "log1p", "sin", "cos", "tan", "asin", "acos",
                      "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "floor", "ceil", "round")},
    **{f: 2 for f in ("min", "max", "pow", "atan2", "fmod", "gt", "ge", "eq", "neq", "le", "lt")},
}
_WEIGHTED = ("weighted_average", "weighted_sum")
_TSK = ("constant", "linear", "function")
_MONOTONIC = ("arc", "concave", "ramp", "sigmoid", "s_shape", "z_shape")


def _defuzzifier(m: Any, out_var: Any) -> str:
    return out_var.defuzzifier or m.default_defuzzifier()


def _check_function(node: ast.Call, vname: str, tname: str, m: Any, section: str, diags: Collector) -> None:
    """function(formula): one formula of x and the variables settled before this one."""
    if len(node.args) != 1 or node.kwargs:
        diags.add("E503", f"term {vname}.{tname}: function takes one formula, e.g. function(sin(x) / x)", node.span)
        return
    if section == "inputs":
        names = {"x", *m.inputs}
        where = "an input's function term may use x and the inputs"
    elif _defuzzifier(m, m.outputs[vname]) in _WEIGHTED:
        earlier = list(m.outputs)[:list(m.outputs).index(vname)]
        names = {"x", *m.inputs, *earlier}
        where = "a weighted output's function term may use x (the rule's degree), the inputs and earlier outputs"
    else:
        names = {"x"}
        where = "a term of an output with an integral defuzzifier may use only x"
    for n in ast.walk(node.args[0]):
        if isinstance(n, ast.Name) and n.name not in names:
            diags.add("E502", f"term {vname}.{tname}: unknown name '{n.name}'", n.span,
                      (did_you_mean(n.name, names) or "") + f" ({where})")
        elif isinstance(n, ast.Call):
            arity = FUNCTION_TERM_CALLS.get(n.func)
            if arity is None:
                diags.add("E501", f"term {vname}.{tname}: unknown function '{n.func}'", n.name_span,
                          did_you_mean(n.func, FUNCTION_TERM_CALLS) or
                          f"functions: {', '.join(sorted(FUNCTION_TERM_CALLS))}")
            elif len(n.args) != arity or n.kwargs:
                diags.add("E503", f"{n.func} takes {arity} argument{'s' if arity > 1 else ''}", n.span)
        elif not isinstance(n, (ast.Num, ast.Name, ast.Call, ast.Neg, ast.BinOp)):
            diags.add("E505", f"term {vname}.{tname}: a function term is arithmetic (+ - * / ^ and "
                      "functions) only", n.span)


def _check_linear(node: ast.Call, vname: str, tname: str, m: Any, section: str, diags: Collector) -> None:
    if section == "inputs" or _defuzzifier(m, m.outputs[vname]) not in _WEIGHTED:
        diags.add("E505", f"term {vname}.{tname}: linear terms belong to outputs with a weighted defuzzifier",
                  node.span, "use weighted_average or weighted_sum (takagi_sugeno), or another shape")
    elif len(node.args) not in (len(m.inputs), len(m.inputs) + 1):
        diags.add("E503", f"linear takes one coefficient per input ({', '.join(m.inputs)}) and an optional "
                  f"constant: {len(m.inputs)} or {len(m.inputs) + 1} numbers, got {len(node.args)}", node.span)


def _check_weighted_outputs(doc: SpecDoc, m: Any, diags: Collector) -> None:
    """A weighted defuzzifier reads either Takagi-Sugeno terms (constant, linear, function) or
    monotonic ones (Tsukamoto), not both."""
    for vname, var in m.outputs.items():
        if _defuzzifier(m, var) not in _WEIGHTED:
            continue
        shapes = {n: text.split("(", 1)[0].strip() for n, text in var.terms.items()}
        tsk = sorted(n for n, sh in shapes.items() if sh in _TSK)
        other = sorted(n for n, sh in shapes.items() if sh not in _TSK)
        mono = [n for n in other if shapes[n] in _MONOTONIC]
        if tsk and other or (mono and len(mono) != len(other)):
            diags.add("E505", f"output '{vname}' mixes kinds of terms for its weighted defuzzifier",
                      doc.span("outputs", vname, "terms"),
                      "use only constant/linear/function terms (Takagi-Sugeno) or only monotonic terms "
                      f"({', '.join(_MONOTONIC)}; Tsukamoto)")


def duplicate_terms(doc: SpecDoc) -> list[Diagnostic]:
    """Two terms of one variable with the same shape and parameters (names are unique by YAML)."""
    out = []
    for section in ("inputs", "outputs"):
        for vname, var in getattr(doc.model, section).items():
            seen: dict[str, str] = {}
            for tname, text in var.terms.items():
                if section == "outputs" and text.split("(", 1)[0].strip() in _TSK:
                    continue  # Takagi-Sugeno terms are rule outputs: two rules may share a value
                key = "".join(text.split())
                if key in seen:
                    out.append(Diagnostic("E510", f"terms '{seen[key]}' and '{tname}' of '{vname}' are identical "
                                          f"({text})", doc.span(section, vname, "terms", tname),
                                          "remove one, or change its parameters"))
                else:
                    seen[key] = tname
    return out
