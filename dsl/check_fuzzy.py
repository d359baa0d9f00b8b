"""Fuzzy rule bases: terms are membership shapes that fit their variable's range, and every
rule names declared variables, terms and hedges."""

from __future__ import annotations

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
            node, diag = parse_expr(text, locator(doc, path, text), what=f"term {vname}.{tname}")
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
                continue
            values = []
            for a in node.args:
                v = const_value(a, {})
                if v is None:
                    diags.add("E511", f"term {vname}.{tname}: parameters must be numbers", a.span)
                values.append(v)
            for k in node.kwargs:
                if k.name != "height":
                    diags.add("E503", f"{shape.name} has no argument '{k.name}'", k.span,
                              "the only keyword for terms is height=")
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
            if shape.name == "discrete":
                xs = [v for v in values[0::2] if v is not None]
            if xs and (max(xs) < lo or min(xs) > hi):
                diags.add("E509", f"term {vname}.{tname} lies outside the range [{lo:g}, {hi:g}] of '{vname}'",
                          node.span, "move the term inside the range or widen the range")
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


def duplicate_terms(doc: SpecDoc) -> list[Diagnostic]:
    """Two terms of one variable with the same shape and parameters (names are unique by YAML)."""
    out = []
    for section in ("inputs", "outputs"):
        for vname, var in getattr(doc.model, section).items():
            seen: dict[str, str] = {}
            for tname, text in var.terms.items():
                key = "".join(text.split())
                if key in seen:
                    out.append(Diagnostic("E510", f"terms '{seen[key]}' and '{tname}' of '{vname}' are identical "
                                          f"({text})", doc.span(section, vname, "terms", tname),
                                          "remove one, or change its parameters"))
                else:
                    seen[key] = tname
    return out
