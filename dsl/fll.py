"""Import fuzzylite's FLL text format as a ``kind: fuzzy`` YAML document.

FLL is line based: a section header (``Engine:``, ``InputVariable: name``,
``OutputVariable: name``, ``RuleBlock: [name]``) followed by ``key: value`` lines; ``#``
starts a comment. Everything is mapped to a field of the tradespec document (docs/fuzzy.md,
"FLL import", lists the mapping); what cannot be mapped raises ``DslError`` whose
diagnostic points at the FLL line.

Two FLL behaviours are written out rather than carried over: a conclusion's hedges in
fuzzylite also apply to the conclusions after it in the same rule (``then a is very x and b
is y`` hedges b with ``very`` too), so the importer writes the accumulated hedges on each
conclusion; and ``aggregation: none`` on a weighted output (sum the activations of a term)
becomes ``aggregation: unbounded_sum``.

Example:
    >>> text = '''Engine: dimmer
    ... InputVariable: ambient
    ...   range: 0 1
    ...   term: dark Triangle 0 0.25 0.5
    ... OutputVariable: power
    ...   range: 0 1
    ...   aggregation: Maximum
    ...   defuzzifier: Centroid 100
    ...   term: high Triangle 0.5 0.75 1
    ... RuleBlock:
    ...   implication: Minimum
    ...   activation: General
    ...   rule: if ambient is dark then power is high'''
    >>> print(fll_to_yaml(text, "dimmer").split("inputs:")[1].split("outputs:")[0].rstrip())
    <BLANKLINE>
      ambient:
        range: [0, 1]
        terms:
          dark: triangle(0, 0.25, 0.5)
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

from dsl import ast
from dsl.errors import Diagnostic, DslError
from dsl.parse import parse_expr, parse_rule, plain_locator
from dsl.source import Span
from library.membership import TERM_SHAPES

def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _table(*names: str) -> dict[str, str]:
    """FLL class name -> tradespec name (``SigmoidDifference`` -> ``sigmoid_difference``)."""
    return {n: _snake(n) for n in names}


SHAPES = _table("Triangle", "Trapezoid", "Rectangle", "Gaussian", "GaussianProduct", "Bell", "Sigmoid",
                "SigmoidDifference", "SigmoidProduct", "PiShape", "SShape", "ZShape", "Ramp", "Concave", "Cosine",
                "Spike", "Arc", "SemiEllipse", "Binary", "Discrete", "Constant", "Linear", "Function")
ARITY = {s.name: len(s.params) for s in TERM_SHAPES.values() if not s.variadic and s.name not in ("constant", "function")}
TNORMS = _table("Minimum", "AlgebraicProduct", "BoundedDifference", "DrasticProduct", "EinsteinProduct",
                "HamacherProduct", "NilpotentMinimum")
SNORMS = _table("Maximum", "AlgebraicSum", "BoundedSum", "DrasticSum", "EinsteinSum", "HamacherSum",
                "NilpotentMaximum", "NormalizedSum", "UnboundedSum")
INTEGRAL = _table("Centroid", "Bisector", "MeanOfMaximum", "SmallestOfMaximum", "LargestOfMaximum")
WEIGHTED = _table("WeightedAverage", "WeightedSum")
ACTIVATIONS = _table("General", "First", "Last", "Highest", "Lowest", "Proportional", "Threshold")
MONOTONIC = ("arc", "concave", "ramp", "sigmoid", "s_shape", "z_shape")
TSK = ("constant", "linear", "function")
#: words of the rule and formula languages, which cannot name variables or terms
RESERVED = {"and", "or", "not", "if", "else", "true", "false", "is", "then", "with", "very", "somewhat",
            "extremely", "seldom", "any", "inf"}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_FORMULA_NAMES = {"fabs": "abs"}


@dataclass
class _Line:
    no: int
    key: str
    value: str
    col: int  # 1-based column where the value starts


@dataclass
class _Section:
    kind: str
    head: _Line
    lines: list[_Line] = field(default_factory=list)


class _Importer:
    def __init__(self, text: str, file: str):
        self.file = file
        self.source = text.splitlines()

    # ---- errors ----

    def fail(self, line: _Line | int, message: str, hint: str | None = None, code: str = "E203",
             col: int | None = None, length: int | None = None) -> None:
        no = line if isinstance(line, int) else line.no
        text = self.source[no - 1] if 1 <= no <= len(self.source) else ""
        start = col or (len(text) - len(text.lstrip()) + 1)
        end = start + (length if length else max(len(text.rstrip()) - start + 1, 1))
        raise DslError([Diagnostic(code, f"FLL line {no}: {message}", Span(self.file, no, start, no, end), hint)],
                       {self.file: self.source})

    # ---- reading ----

    def sections(self) -> list[_Section]:
        out: list[_Section] = []
        for no, raw in enumerate(self.source, 1):
            text = raw.split("#", 1)[0]
            if not text.strip():
                continue
            if ":" not in text:
                self.fail(no, f"expected 'key: value', found '{text.strip()}'")
            key, value = text.split(":", 1)
            col = len(key) + 2 + (len(value) - len(value.lstrip()))
            line = _Line(no, key.strip(), value.strip(), col)
            if line.key in ("Engine", "InputVariable", "OutputVariable", "RuleBlock"):
                out.append(_Section(line.key, line))
            elif not out:
                self.fail(line, f"'{line.key}' before any section", "an FLL file starts with 'Engine: name'")
            else:
                out[-1].lines.append(line)
        if not out:
            self.fail(1, "no FLL sections found", "an FLL file starts with 'Engine: name'")
        return out

    def name(self, line: _Line, text: str, what: str) -> str:
        if not _IDENT.fullmatch(text) or text in RESERVED:
            why = "a reserved word" if text in RESERVED else "not a name (letters, digits, _; at most 64)"
            self.fail(line, f"{what} '{text}' is {why}", "rename it in the FLL file", col=line.col, length=len(text))
        return text

    def boolean(self, line: _Line) -> bool:
        if line.value not in ("true", "false"):
            self.fail(line, f"'{line.key}' must be true or false, not '{line.value}'", col=line.col)
        return line.value == "true"

    def number(self, line: _Line, text: str, what: str = "a number") -> float:
        try:
            return float(text)
        except ValueError:
            self.fail(line, f"expected {what}, found '{text}'", col=line.col)
        raise AssertionError  # unreachable

    def range(self, line: _Line) -> tuple[float, float]:
        parts = line.value.split()
        if len(parts) != 2:
            self.fail(line, "range needs two numbers: 'range: low high'", col=line.col)
        lo, hi = (self.number(line, p) for p in parts)
        if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
            self.fail(line, f"range {line.value} must be finite with low < high", col=line.col)
        return lo, hi

    def operator(self, line: _Line, table: dict[str, str], what: str) -> str | None:
        if line.value in ("", "none"):
            return None
        if line.value not in table:
            self.fail(line, f"unknown {what} '{line.value}'", f"{what}s: {', '.join(table)}", col=line.col)
        return table[line.value]

    # ---- terms ----

    def term(self, line: _Line) -> tuple[str, str, str]:
        """(name, shape, call text) of a 'term: name Type parameters' line."""
        parts = line.value.split(None, 2)
        if len(parts) < 2:
            self.fail(line, "expected 'term: name Type parameters'", col=line.col)
        name = self.name(line, parts[0], "term name")
        kind = parts[1]
        shape = SHAPES.get(kind)
        if shape is None:
            self.fail(line, f"unknown term type '{kind}'", f"term types: {', '.join(SHAPES)}", code="E507",
                      col=line.col + line.value.index(kind, len(parts[0])), length=len(kind))
        rest = parts[2] if len(parts) > 2 else ""
        if shape == "function":
            return name, shape, f"function({self.formula(line, rest)})"
        values = [self.number(line, p) for p in rest.split()]
        if any(math.isnan(v) for v in values):
            self.fail(line, "a term parameter is nan", col=line.col)
        height = 1.0
        if shape == "discrete":
            if len(values) % 2:
                height = values.pop()
            if len(values) < 2:
                self.fail(line, "Discrete needs x y pairs", code="E503", col=line.col)
        elif shape in ARITY:
            n = ARITY[shape]
            if len(values) == n + 1:
                height = values.pop()
            if len(values) != n:
                self.fail(line, f"{kind} takes {n} parameters (and an optional height), got {len(values)}",
                          code="E503", col=line.col)
        elif shape == "constant" and len(values) != 1:
            self.fail(line, f"Constant takes one value, got {len(values)}", code="E503", col=line.col)
        args = ", ".join(_fmt(v) for v in values)
        if height != 1.0:
            args += f", height={_fmt(height)}"
        return name, shape, f"{shape}({args})"

    def formula(self, line: _Line, text: str) -> str:
        """An FLL function formula in the expression language (fabs -> abs, pi -> its value)."""
        where = line.col + line.value.index(text) if text else line.col
        if not text.strip():
            self.fail(line, "Function needs a formula", code="E503", col=line.col)
        bad = re.search(r"[%!~]|\*\*", text)
        if bad:
            self.fail(line, f"'{bad.group()}' is not supported in function formulas", "use + - * / ^ and functions",
                      code="E301", col=where + bad.start(), length=len(bad.group()))
        mapped = re.sub(r"[A-Za-z_][A-Za-z0-9_]*", lambda m: _FORMULA_NAMES.get(m.group(), repr(math.pi)
                        if m.group() == "pi" else m.group()), text)
        node, diag = parse_expr(mapped, plain_locator(self.file, line.no, where), "function formula")
        if diag is not None:
            raise DslError([Diagnostic(diag.code, f"FLL line {line.no}: {diag.message}", diag.span, diag.hint)],
                           {self.file: self.source})
        return node.to_text()

    # ---- sections ----

    def variable(self, sec: _Section, output: bool) -> dict:
        name = self.name(sec.head, sec.head.value, "variable name")
        v: dict = {"name": name, "line": sec.head.no, "terms": {}, "term_lines": {}, "lock_range": False,
                   "description": "", "range": None, "aggregation": None, "defuzzifier": None,
                   "weighted_type": None, "resolution": None, "default": math.nan, "lock_previous": False}
        allowed = {"description", "enabled", "range", "lock-range", "term"}
        if output:
            allowed |= {"aggregation", "defuzzifier", "default", "lock-previous"}
        for line in sec.lines:
            if line.key not in allowed:
                self.fail(line, f"'{line.key}' is not a key of {sec.kind}", f"keys: {', '.join(sorted(allowed))}")
            if line.key == "description":
                v["description"] = line.value
            elif line.key == "enabled":
                if not self.boolean(line):
                    self.fail(line, f"disabled variable '{name}' cannot be imported",
                              "remove the variable (and the rules that use it), or enable it")
            elif line.key == "range":
                v["range"] = self.range(line)
            elif line.key == "lock-range":
                v["lock_range"] = self.boolean(line)
            elif line.key == "term":
                tname, shape, call = self.term(line)
                if tname in v["terms"]:
                    self.fail(line, f"'{name}' already has a term '{tname}'", code="E510")
                v["terms"][tname] = (shape, call)
                v["term_lines"][tname] = line
            elif line.key == "aggregation":
                v["aggregation"] = self.operator(line, SNORMS, "aggregation s-norm")
                v["aggregation_line"] = line
            elif line.key == "defuzzifier":
                self.defuzzifier(line, v)
            elif line.key == "default":
                v["default"] = self.number(line, line.value)
                if math.isinf(v["default"]):
                    self.fail(line, "an infinite default cannot be imported", col=line.col)
            elif line.key == "lock-previous":
                v["lock_previous"] = self.boolean(line)
        if v["range"] is None:
            self.fail(sec.head, f"variable '{name}' has no range", "add 'range: low high'")
        if output and not v["terms"]:
            self.fail(sec.head, f"output '{name}' has no terms", "add 'term: name Type parameters'")
        if output:
            self.check_output(sec, v)
        return v

    def defuzzifier(self, line: _Line, v: dict) -> None:
        parts = line.value.split()
        if not parts or parts[0] == "none":
            self.fail(line, "an output needs a defuzzifier", f"defuzzifiers: {', '.join([*INTEGRAL, *WEIGHTED])}")
        kind, params = parts[0], parts[1:]
        v["defuzzifier_line"] = line
        if kind in INTEGRAL:
            v["defuzzifier"] = INTEGRAL[kind]
            if len(params) > 1 or (params and not params[0].isdigit()) or (params and int(params[0]) < 2):
                self.fail(line, f"{kind} takes one resolution (a whole number >= 2)", col=line.col)
            v["resolution"] = int(params[0]) if params else 1000
        elif kind in WEIGHTED:
            v["defuzzifier"] = WEIGHTED[kind]
            if len(params) > 1 or (params and params[0] not in ("Automatic", "TakagiSugeno", "Tsukamoto")):
                self.fail(line, f"{kind} takes one type: Automatic, TakagiSugeno or Tsukamoto", col=line.col)
            v["weighted_type"] = params[0] if params else "Automatic"
        else:
            self.fail(line, f"unknown defuzzifier '{kind}'", f"defuzzifiers: {', '.join([*INTEGRAL, *WEIGHTED])}",
                      col=line.col, length=len(kind))

    def check_output(self, sec: _Section, v: dict) -> None:
        if v["defuzzifier"] is None:
            self.fail(sec.head, f"output '{v['name']}' has no defuzzifier", "add e.g. 'defuzzifier: Centroid 1000'")
        shapes = {s for s, _ in v["terms"].values()}
        if v["defuzzifier"] in INTEGRAL.values():
            if v["aggregation"] is None:
                self.fail(v.get("aggregation_line", sec.head), f"output '{v['name']}' needs an aggregation for "
                          "its integral defuzzifier", "write e.g. 'aggregation: Maximum'")
            return
        if v["aggregation"] is None:
            v["aggregation"] = "unbounded_sum"  # fuzzylite sums the activations of a term when none is set
        inferred = ("TakagiSugeno" if shapes <= set(TSK) else "Tsukamoto" if shapes <= set(MONOTONIC)
                    else "Automatic")
        wanted = v["weighted_type"]
        if wanted == "Tsukamoto" and inferred != "Tsukamoto" or wanted == "TakagiSugeno" and inferred == "Tsukamoto":
            self.fail(v["defuzzifier_line"], f"a {wanted} defuzzifier over these terms is not supported",
                      f"tradespec reads {'monotonic terms as Tsukamoto' if inferred == 'Tsukamoto' else 'these terms by their membership'}"
                      "; write 'Automatic'")

    def rule_block(self, sec: _Section, index: int, variables: dict[str, dict]) -> dict | None:
        b: dict = {"name": sec.head.value or f"block{index + 1}", "conjunction": None, "disjunction": None,
                   "implication": None, "activation": "general", "options": {}, "rules": [], "line": sec.head.no,
                   "description": ""}
        if sec.head.value:
            self.name(sec.head, sec.head.value, "rule block name")
        enabled = True
        for line in sec.lines:
            if line.key == "description":
                b["description"] = line.value
            elif line.key == "enabled":
                enabled = self.boolean(line)
            elif line.key == "conjunction":
                b["conjunction"] = self.operator(line, TNORMS, "conjunction t-norm")
            elif line.key == "disjunction":
                b["disjunction"] = self.operator(line, SNORMS, "disjunction s-norm")
            elif line.key == "implication":
                b["implication"] = self.operator(line, TNORMS, "implication t-norm")
            elif line.key == "activation":
                self.activation(line, b)
            elif line.key == "rule":
                b["rules"].append(self.rule(line, variables))
            else:
                self.fail(line, f"'{line.key}' is not a key of RuleBlock",
                          "keys: activation, conjunction, description, disjunction, enabled, implication, rule")
        if not b["rules"]:
            self.fail(sec.head, f"rule block '{b['name']}' has no rules", "add 'rule: if ... then ...'")
        return b if enabled else None

    def activation(self, line: _Line, b: dict) -> None:
        parts = line.value.split()
        if not parts or parts[0] == "none":
            return  # fuzzylite engines default to General
        kind, params = parts[0], parts[1:]
        if kind not in ACTIVATIONS:
            self.fail(line, f"unknown activation '{kind}'", f"activations: {', '.join(ACTIVATIONS)}", col=line.col)
        b["activation"] = ACTIVATIONS[kind]
        n_params = {"First": 2, "Last": 2, "Highest": 1, "Lowest": 1, "Threshold": 2}.get(kind, 0)
        if params and len(params) != n_params:
            self.fail(line, f"{kind} takes {n_params or 'no'} parameters, got {len(params)}", col=line.col)
        if not params:
            return
        if kind in ("First", "Last", "Highest", "Lowest"):
            rules = self.number(line, params[0], "a number of rules")
            if rules < 1 or not rules.is_integer():
                self.fail(line, f"the number of rules must be a whole number >= 1, got {params[0]}", col=line.col)
            b["options"]["activation_rules"] = int(rules)
            if kind in ("First", "Last"):
                b["options"]["activation_threshold"] = self.number(line, params[1], "a threshold")
        else:
            if params[0] not in ("<", "<=", "==", "!=", ">=", ">"):
                self.fail(line, f"unknown comparator '{params[0]}'", "comparators: < <= == != >= >", col=line.col)
            b["options"]["activation_comparator"] = params[0]
            b["options"]["activation_threshold"] = self.number(line, params[1], "a threshold")

    def rule(self, line: _Line, variables: dict[str, dict]) -> tuple[str, bool]:
        """(rule text in tradespec form, whether conclusion hedges were accumulated)."""
        node, diag = parse_rule(line.value, plain_locator(self.file, line.no, line.col), "rule")
        if diag is not None:
            raise DslError([Diagnostic(diag.code, f"FLL line {line.no}: {diag.message}", diag.span, diag.hint)],
                           {self.file: self.source})
        acc: tuple[str, ...] = ()
        cons = []
        for c in node.consequents:
            acc = tuple(c.hedges) + acc
            cons.append(ast.Proposition(c.var, acc, c.term, c.span, c.var_span, c.term_span))
        rewritten = tuple(cons) != node.consequents
        node = ast.Rule(node.antecedent, tuple(cons), node.weight, node.span)
        return node.to_text(), rewritten

    # ---- the document ----

    def run(self, doc_name: str) -> str:
        sections = self.sections()
        if sections[0].kind != "Engine":
            self.fail(sections[0].head, "an FLL file starts with 'Engine: name'")
        description = ""
        for line in sections[0].lines:
            if line.key != "description":
                self.fail(line, f"'{line.key}' is not a key of Engine", "keys: description")
            description = line.value
        inputs, outputs, blocks = [], [], []
        for sec in sections[1:]:
            if sec.kind == "Engine":
                self.fail(sec.head, "a second 'Engine:' section", "one engine per FLL file")
            elif sec.kind == "InputVariable":
                inputs.append(self.variable(sec, output=False))
            elif sec.kind == "OutputVariable":
                outputs.append(self.variable(sec, output=True))
        variables: dict[str, dict] = {}
        for v in inputs + outputs:
            if v["name"] in variables:
                self.fail(v["line"], f"variable '{v['name']}' is defined twice", code="E402")
            variables[v["name"]] = v
        dropped = []
        for sec in sections[1:]:
            if sec.kind == "RuleBlock":
                b = self.rule_block(sec, len(blocks) + len(dropped), variables)
                if b is None:
                    dropped.append(sec.head)
                else:
                    blocks.append(b)
        if not outputs:
            self.fail(sections[0].head, "the engine has no OutputVariable")
        if not blocks:
            self.fail(sections[0].head, "the engine has no (enabled) RuleBlock with rules")
        names = [b["name"] for b in blocks]
        for b in blocks:
            if names.count(b["name"]) > 1:
                self.fail(b["line"], f"two rule blocks are named '{b['name']}'", "rename one")
        return _emit(doc_name, description, inputs, outputs, blocks, dropped, self.file)


def _fmt(v: float) -> str:
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _str(s: str) -> str:
    """A YAML scalar: plain when that reads back as the same string, else double-quoted."""
    if re.fullmatch(r"[A-Za-z_(][^:#'\"\n]*", s) and s == s.strip() and ": " not in s and " #" not in s \
            and s.lower() not in ("true", "false", "null", "yes", "no", "on", "off", "~"):
        return s
    return json.dumps(s)


def _kind(outputs: list[dict], blocks: list[dict]) -> str:
    defuzz = {v["defuzzifier"] for v in outputs}
    if defuzz <= set(INTEGRAL.values()):
        larsen = all(b["implication"] == "algebraic_product" for b in blocks)
        return "larsen" if larsen else "mamdani"
    if defuzz <= set(WEIGHTED.values()):
        shapes = {s for v in outputs for s, _ in v["terms"].values()}
        return "tsukamoto" if shapes <= set(MONOTONIC) else "takagi_sugeno"
    return "mamdani"  # hybrid: each output names its defuzzifier


def _emit(name: str, description: str, inputs: list[dict], outputs: list[dict], blocks: list[dict],
          dropped: list[_Line], file: str) -> str:
    kind = _kind(outputs, blocks)
    out = [f"# imported from {file} (fuzzylite FLL) by tradespec", "kind: fuzzy", f"name: {name}"]
    if description:
        out.append(f"description: {_str(description)}")
    out.append(f"engine: {kind}")
    for section, variables in (("inputs", inputs), ("outputs", outputs)):
        out.append(f"{section}:")
        for v in variables:
            out.append(f"  {v['name']}:")
            if v["description"]:
                out.append(f"    description: {_str(v['description'])}")
            out.append(f"    range: [{_fmt(v['range'][0])}, {_fmt(v['range'][1])}]")
            if v["lock_range"]:
                out.append("    lock_range: true")
            if section == "outputs":
                if not math.isnan(v["default"]):
                    out.append(f"    default: {_fmt(v['default'])}")
                if v["lock_previous"]:
                    out.append("    lock_previous: true")
                out.append(f"    defuzzifier: {v['defuzzifier']}")
                if v["resolution"] not in (None, 1000):
                    out.append(f"    resolution: {v['resolution']}")
                out.append(f"    aggregation: {v['aggregation']}")
            if v["terms"]:
                out.append("    terms:")
            for tname, (_, call) in v["terms"].items():
                out.append(f"      {tname}: {_str(call)}")
    single = len(blocks) == 1 and blocks[0]["activation"] == "general" and not blocks[0]["options"]
    if single:
        b = blocks[0]
        for op in ("conjunction", "disjunction", "implication"):
            if b[op]:
                out.append(f"{op}: {b[op]}")
        out.append("rules:")
        out += _rules(b["rules"], "  ")
    else:
        out.append("blocks:")
        for b in blocks:
            out.append(f"  - name: {b['name']}")
            for op in ("conjunction", "disjunction", "implication"):
                if b[op]:
                    out.append(f"    {op}: {b[op]}")
            if b["activation"] != "general":
                out.append(f"    activation: {b['activation']}")
            for k, val in b["options"].items():
                out.append(f"    {k}: {_fmt(val) if isinstance(val, (int, float)) else _str(val)}")
            out.append("    rules:")
            out += _rules(b["rules"], "      ")
    for head in dropped:
        out.append(f"# FLL line {head.no}: rule block '{head.value}' is disabled (enabled: false) and left out")
    return "\n".join(out) + "\n"


def _rules(rules: list[tuple[str, bool]], indent: str) -> list[str]:
    out = []
    for text, rewritten in rules:
        if rewritten:
            out.append(f"{indent}# fuzzylite applies a conclusion's hedges to the conclusions after it too; "
                       "written out here")
        out.append(f"{indent}- {_str(text)}")
    return out


def fll_to_yaml(text: str, name: str, file: str = "<fll>") -> str:
    """A ``kind: fuzzy`` YAML document (named ``name``) equivalent to the FLL engine ``text``.

    Raises ``DslError`` (its diagnostic names the FLL line) for anything that cannot be mapped.
    """
    if not _IDENT.fullmatch(name):
        raise DslError([Diagnostic("E203", f"'{name}' is not a valid document name",
                                   hint="letters, digits and _, not starting with a digit")])
    return _Importer(text, file).run(name)
