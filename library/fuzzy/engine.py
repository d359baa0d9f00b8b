"""Evaluate a fuzzy engine description over many samples at once, or one sample at a time.

The algorithm, for a chunk of samples (every step is elementwise over the samples):

1. inputs: clipped to their range where ``lock_range``; memberships computed once per term;
2. rule blocks, in order. A rule's degree is ``weight x antecedent`` (``and`` = the block's
   conjunction, ``or`` = its disjunction, hedges innermost-last, ``x is any`` = 1, an output
   in an antecedent = that term's aggregated activation so far). The block's activation
   method picks the rules that trigger: ``general`` all; ``threshold`` those whose degree
   compares true with the threshold; ``first``/``last`` the first/last ``activation_rules``
   rules with a degree > 0 and >= the threshold; ``highest``/``lowest`` the
   ``activation_rules`` rules with the highest/lowest degree > 0 (ties: rule order);
   ``proportional`` every rule with a degree > 0, its degree divided by their sum. General,
   threshold, first and last trigger each rule as soon as it is evaluated (a later rule
   sees an earlier one's conclusion); the others evaluate the whole block first. A
   triggered rule adds, for each conclusion, (term, hedged degree, the block's
   implication) to the output's activations; a NaN degree counts as 0, +inf as 1;
3. outputs, in order: integral defuzzifiers aggregate ``implication(degree, term(x))``
   over the activations with the output's aggregation, on ``resolution`` midpoints, and
   reduce that set to one number; weighted ones group activations by term (aggregation),
   and combine each group's degree w with the term's value z at it (``constant``,
   ``linear``, ``function``: the term's value; monotonic terms: the x where the term
   reaches w, i.e. Tsukamoto): sum(w z) / sum(w), or sum(w z) for weighted_sum;
4. the no-fire chain, per output: the defuzzified value is NaN when no rule fired; then
   ``lock_previous`` takes the previous sample's output, then ``default`` replaces a value
   still NaN, then ``lock_range`` clips to the range. Outputs are settled in order, so a
   ``function`` term may read the outputs before its own.

Rows are independent except for ``lock_previous``, whose memory is the ``State``: chunks
are evaluated in order and carry it, and ``evaluate_one`` is the same computation on a
chunk of one row, so the two forms agree bit for bit.

Example:
    >>> from library.fuzzy.model import Engine, InputVariable, OutputVariable, RuleBlock, Rule, Proposition, Term
    >>> x = InputVariable("x", (0.0, 1.0), (Term("low", "ramp", (1.0, 0.0)), Term("high", "ramp", (0.0, 1.0))))
    >>> y = OutputVariable("y", (0.0, 1.0), (Term("small", "triangle", (0.0, 0.0, 1.0)),
    ...                                      Term("big", "triangle", (0.0, 1.0, 1.0))))
    >>> rules = (Rule(Proposition("x", (), "low"), (Proposition("y", (), "small"),)),
    ...          Rule(Proposition("x", (), "high"), (Proposition("y", (), "big"),)))
    >>> ev = Evaluator(Engine("e", (x,), (y,), (RuleBlock("rules", rules),)))
    >>> round(float(ev.evaluate({"x": [0.5]}).outputs["y"][0]), 6)
    0.5
    >>> ev.evaluate_one({"x": 1.0}).fired
    (False, True)
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from library.fuzzy import defuzz, formula, norms, terms
from library.fuzzy.aggregate import Grid, aggregate_and_defuzzify
from library.fuzzy.hedges import apply_hedges
from library.fuzzy.model import Connective, Engine, OutputVariable, Proposition, Rule
from library.fuzzy.validate import validate

#: samples evaluated together (rule degrees, weighted outputs): bounds memory on long inputs
CHUNK_ROWS = 16384
_CMP = {"<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne,
        ">=": operator.ge, ">": operator.gt}
#: how each output's value was settled (Evaluation.source)
SOURCES = ("rules", "lock_previous", "default", "none")


@dataclass
class State:
    """What evaluation carries from one sample to the next: each output's last value."""

    previous: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """One sample: outputs, the value before the no-fire chain, how it was settled, and each
    rule's degree (weight x antecedent; normalised under proportional activation)."""

    outputs: dict[str, float]
    raw: dict[str, float]
    source: dict[str, str]  # "rules" | "lock_previous" | "default" | "none"
    clipped: dict[str, bool]
    activation: tuple[float, ...]
    fired: tuple[bool, ...]
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Evaluation:
    """N samples: ``outputs``/``raw`` name -> array (N,); ``activation`` (N, rules) degrees;
    ``fired`` (N, rules): the rule triggered with a degree > 0; ``source`` name -> codes into
    ``SOURCES``; ``rules`` the column labels ("block: rule text")."""

    outputs: dict[str, np.ndarray]
    raw: dict[str, np.ndarray]
    source: dict[str, np.ndarray]
    clipped: dict[str, np.ndarray]
    activation: np.ndarray
    fired: np.ndarray
    rules: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.activation)

    def at(self, i: int) -> Decision:
        return Decision({k: float(v[i]) for k, v in self.outputs.items()},
                        {k: float(v[i]) for k, v in self.raw.items()},
                        {k: SOURCES[int(v[i])] for k, v in self.source.items()},
                        {k: bool(v[i]) for k, v in self.clipped.items()},
                        tuple(float(a) for a in self.activation[i]), tuple(bool(f) for f in self.fired[i]),
                        self.rules)


@dataclass
class _Entry:
    term: int
    degree: np.ndarray  # 0 where not triggered, NaN -> 0, +inf -> 1
    present: np.ndarray | None  # None: triggered in every sample
    implication: str


class Evaluator:
    """A compiled engine: ``evaluate`` (arrays of samples) and ``evaluate_one`` (one sample)."""

    def __init__(self, engine: Engine):
        validate(engine)
        self.engine = engine
        self.inputs = engine.inputs
        self.outputs = engine.outputs
        self._in = {v.name: i for i, v in enumerate(engine.inputs)}
        self._out = {v.name: j for j, v in enumerate(engine.outputs)}
        self._terms = {v.name: {t.name: k for k, t in enumerate(v.terms)} for v in engine.inputs + engine.outputs}
        self._rules = engine.rules()
        self.rule_labels = tuple(f"{engine.blocks[bi].name}: {r.text}" if r.text else f"{engine.blocks[bi].name}[{ri}]"
                                 for bi, ri, r in self._rules)
        self._grids: dict[int, Grid] = {}
        self._inverse: dict[int, bool] = {}
        for j, v in enumerate(engine.outputs):
            if v.defuzzifier in defuzz.INTEGRAL:
                self._grids[j] = Grid(v)
            else:
                self._inverse[j] = all(t.shape in terms.MONOTONIC for t in v.terms)

    # ---- public forms ----

    def evaluate(self, inputs: Mapping[str, Sequence[float] | np.ndarray], state: State | None = None,
                 chunk: int | None = None) -> Evaluation:
        """Every sample in order; ``state`` (updated in place) carries lock_previous memory.
        ``chunk`` (rows evaluated together) changes memory use, never results."""
        self._require(inputs)
        cols = [np.asarray(inputs[v.name], dtype=float).reshape(-1) for v in self.inputs]
        n = len(cols[0]) if cols else 0
        if any(len(c) != n for c in cols):
            raise ValueError("every input needs the same number of samples")
        state = State() if state is None else state
        prev = np.array([state.previous.get(v.name, math.nan) for v in self.outputs], dtype=float)
        step = chunk or CHUNK_ROWS
        parts = []
        for s in range(0, n, step):
            part = self._chunk([c[s:s + step] for c in cols], prev)
            prev = np.array([part[0][j][-1] for j in range(len(self.outputs))], dtype=float)
            parts.append(part)
        for j, v in enumerate(self.outputs):
            state.previous[v.name] = float(prev[j])
        nr = len(self._rules)

        def cat(k: int, j: int) -> np.ndarray:
            return np.concatenate([p[k][j] for p in parts]) if parts else np.zeros(0)

        names = [v.name for v in self.outputs]
        return Evaluation({nm: cat(0, j) for j, nm in enumerate(names)},
                          {nm: cat(1, j) for j, nm in enumerate(names)},
                          {nm: cat(2, j).astype(np.int8) for j, nm in enumerate(names)},
                          {nm: cat(3, j).astype(bool) for j, nm in enumerate(names)},
                          np.concatenate([p[4] for p in parts]) if parts else np.zeros((0, nr)),
                          np.concatenate([p[5] for p in parts]) if parts else np.zeros((0, nr), bool),
                          self.rule_labels)

    def evaluate_one(self, inputs: Mapping[str, float], state: State | None = None) -> Decision:
        """One sample: the same computation as ``evaluate`` on one row."""
        self._require(inputs)
        state = State() if state is None else state
        prev = np.array([state.previous.get(v.name, math.nan) for v in self.outputs], dtype=float)
        out, raw, src, clip, act, fired = self._chunk([np.array([float(inputs[v.name])]) for v in self.inputs], prev)
        for j, v in enumerate(self.outputs):
            state.previous[v.name] = float(out[j][0])
        return Decision({v.name: float(out[j][0]) for j, v in enumerate(self.outputs)},
                        {v.name: float(raw[j][0]) for j, v in enumerate(self.outputs)},
                        {v.name: SOURCES[int(src[j][0])] for j, v in enumerate(self.outputs)},
                        {v.name: bool(clip[j][0]) for j, v in enumerate(self.outputs)},
                        tuple(float(a) for a in act[0]), tuple(bool(f) for f in fired[0]), self.rule_labels)

    def _require(self, inputs: Mapping) -> None:
        missing = [v.name for v in self.inputs if v.name not in inputs]
        if missing:
            raise ValueError(f"rule base '{self.engine.name}' needs inputs {', '.join(missing)} "
                             f"(its inputs: {', '.join(v.name for v in self.inputs)})")

    # ---- one chunk ----

    def _chunk(self, cols: list[np.ndarray], prev: np.ndarray):
        with np.errstate(all="ignore"):
            return self._run(cols, prev)

    def _run(self, cols: list[np.ndarray], prev: np.ndarray):
        n = len(cols[0]) if cols else 1
        values: dict[str, np.ndarray] = {}
        for v, c in zip(self.inputs, cols):
            values[v.name] = np.clip(c, v.range[0], v.range[1]) if v.lock_range else c
        ctx = _Context(self, values, n)
        act = np.zeros((n, len(self._rules)))
        fired = np.zeros((n, len(self._rules)), dtype=bool)
        col = 0
        for block in self.engine.blocks:
            self._block(block, ctx, act, fired, col)
            col += len(block.rules)
        outs, raws, srcs, clips = [], [], [], []
        for j, var in enumerate(self.outputs):
            raw = self._defuzzify(j, var, ctx)
            final, src, clipped = _no_fire_chain(var, raw, prev[j])
            values[var.name] = final
            outs.append(final)
            raws.append(raw)
            srcs.append(src)
            clips.append(clipped)
        return outs, raws, srcs, clips, act, fired

    def _block(self, block, ctx: "_Context", act: np.ndarray, fired: np.ndarray, col: int) -> None:
        conj, disj = norms.tnorm(block.conjunction), norms.snorm(block.disjunction)
        rules = block.rules
        n = ctx.n
        kind = block.activation
        if kind in ("general", "threshold", "first", "last"):
            order = range(len(rules) - 1, -1, -1) if kind == "last" else range(len(rules))
            count = np.zeros(n, dtype=np.int64)
            for ri in order:
                d = _weighted_degree(rules[ri], ctx.antecedent(rules[ri].antecedent, conj, disj))
                act[:, col + ri] = d
                if kind == "general":
                    trig = None
                elif kind == "threshold":
                    trig = _CMP[block.activation_comparator](d, block.activation_threshold)
                else:
                    trig = (count < block.activation_rules) & (d > 0.0) & (d >= block.activation_threshold)
                    count += trig
                self._trigger(rules[ri], d, trig, block.implication, ctx, fired, col + ri)
            return
        degrees = np.empty((n, len(rules)))
        for ri, rule in enumerate(rules):
            degrees[:, ri] = _weighted_degree(rule, ctx.antecedent(rule.antecedent, conj, disj))
        eligible = degrees > 0.0
        if kind == "proportional":
            total = np.zeros(n)
            for ri in range(len(rules)):
                total = total + np.where(eligible[:, ri], degrees[:, ri], 0.0)
            degrees = np.where(eligible, degrees / total[:, None], degrees)
            chosen = eligible
        else:
            key = np.where(eligible, -degrees if kind == "highest" else degrees, np.inf)
            order = np.argsort(key, axis=1, kind="stable")[:, :block.activation_rules]
            chosen = np.zeros_like(eligible)
            np.put_along_axis(chosen, order, np.take_along_axis(eligible, order, axis=1), axis=1)
        act[:, col:col + len(rules)] = degrees
        for ri, rule in enumerate(rules):
            self._trigger(rule, degrees[:, ri], chosen[:, ri], block.implication, ctx, fired, col + ri)

    def _trigger(self, rule: Rule, d: np.ndarray, trig: np.ndarray | None, implication: str,
                 ctx: "_Context", fired: np.ndarray, col: int) -> None:
        fired[:, col] = (d > 0.0) if trig is None else (trig & (d > 0.0))
        for c in rule.consequents:
            j = self._out[c.var]
            deg = apply_hedges(c.hedges, d)
            if not math.isfinite(float(np.add.reduce(deg))):  # NaN, -inf -> 0; inf -> 1
                deg = np.where(np.isfinite(deg), deg, np.where(deg > 0.0, 1.0, 0.0))
            if trig is not None:
                deg = np.where(trig, deg, 0.0)
            ctx.entries[j].append(_Entry(self._terms[c.var][c.term], deg, trig, implication))

    # ---- defuzzification ----

    def _defuzzify(self, j: int, var: OutputVariable, ctx: "_Context") -> np.ndarray:
        entries = ctx.entries[j]
        if j in self._grids:
            return aggregate_and_defuzzify(self._grids[j], var, entries, ctx.n)
        return self._weighted(j, var, entries, ctx)

    def _weighted(self, j: int, var: OutputVariable, entries: list[_Entry], ctx: "_Context") -> np.ndarray:
        n = ctx.n
        agg = norms.snorm(var.aggregation)
        groups: dict[int, list[_Entry]] = {}
        for e in entries:
            groups.setdefault(e.term, []).append(e)
        any_present = np.zeros(n, dtype=bool)
        for e in entries:
            any_present |= True if e.present is None else e.present
        wz = np.where(any_present, 0.0, np.nan)
        wsum = np.zeros(n)
        for t, group in groups.items():
            w = np.zeros(n)
            has = np.zeros(n, dtype=bool)
            for e in group:
                p = np.ones(n, dtype=bool) if e.present is None else e.present
                w = np.where(p, np.where(has, agg(w, e.degree), e.degree), w)
                has = has | p
            z = self._term_value(j, var, t, w, ctx)
            wz = wz + np.where(has, w * z, 0.0)
            wsum = wsum + np.where(has, w, 0.0)
        return defuzz.weighted(var.defuzzifier, wz, wsum)

    def _term_value(self, j: int, var: OutputVariable, t: int, w: np.ndarray, ctx: "_Context") -> np.ndarray:
        term = var.terms[t]
        if self._inverse[j]:
            return terms.tsukamoto(term.shape, term.params, term.height, w)
        if term.shape == "linear":
            return _linear(term.params, [ctx.values[v.name] for v in self.inputs], ctx.n)
        if term.shape == "function":
            return np.broadcast_to(formula.evaluate(term.formula, {**ctx.values, "x": w}), (ctx.n,))
        return terms.membership_raw(term.shape, term.params, term.height, w)


def _weighted_degree(rule: Rule, d: np.ndarray) -> np.ndarray:
    return d if rule.weight == 1.0 else rule.weight * d


def _linear(coef: tuple[float, ...], inputs: list[np.ndarray], n: int) -> np.ndarray:
    z = np.zeros(n)
    for c, x in zip(coef, inputs):
        z = z + c * x
    if len(coef) > len(inputs):
        z = z + coef[-1]
    return z


def _no_fire_chain(var: OutputVariable, raw: np.ndarray, prev: float):
    """NaN -> lock_previous -> default -> lock_range; returns (value, source codes, clipped)."""
    value = raw
    src = np.where(np.isnan(raw), 3, 0).astype(np.int8)
    if var.lock_previous and np.isnan(raw).any():
        idx = np.where(np.isnan(raw), -1, np.arange(len(raw)))
        np.maximum.accumulate(idx, out=idx)
        value = np.where(idx >= 0, raw[np.maximum(idx, 0)], prev)
        src = np.where(np.isnan(raw) & ~np.isnan(value), 1, src).astype(np.int8)
    if not math.isnan(var.default):
        src = np.where(np.isnan(value), 2, src).astype(np.int8)
        value = np.where(np.isnan(value), var.default, value)
    clipped = np.zeros(len(raw), dtype=bool)
    if var.lock_range:
        lo, hi = var.range
        out = np.clip(value, lo, hi)
        clipped = out != value
        value = out
    return value, src, clipped


class _Context:
    """Per-chunk memory: input values, membership cache, and each output's activations."""

    def __init__(self, ev: Evaluator, values: dict[str, np.ndarray], n: int):
        self.ev = ev
        self.values = values
        self.n = n
        self.cache: dict[tuple[str, str], np.ndarray] = {}
        self.entries: list[list[_Entry]] = [[] for _ in ev.outputs]

    def antecedent(self, node, conj, disj) -> np.ndarray:
        if isinstance(node, Connective):
            a = self.antecedent(node.left, conj, disj)
            b = self.antecedent(node.right, conj, disj)
            return conj(a, b) if node.op == "and" else disj(a, b)
        return apply_hedges(node.hedges, self._degree(node))

    def _degree(self, p: Proposition) -> np.ndarray:
        if p.term == "any":
            return np.ones(self.n)
        ev = self.ev
        if p.var in ev._out:
            j = ev._out[p.var]
            t = ev._terms[p.var][p.term]
            agg = norms.snorm(ev.outputs[j].aggregation)
            y = np.zeros(self.n)
            for e in self.entries[j]:
                if e.term == t:
                    y = agg(y, e.degree)
            return y
        key = (p.var, p.term)
        mu = self.cache.get(key)
        if mu is None:
            var = ev.inputs[ev._in[p.var]]
            term = var.terms[ev._terms[p.var][p.term]]
            x = self.values[p.var]
            if term.shape == "function":
                mu = np.broadcast_to(formula.evaluate(term.formula, {**self.values, "x": x}), (self.n,))
            else:
                mu = terms.membership_raw(term.shape, term.params, term.height, x)
            self.cache[key] = mu
        return mu
