"""Mamdani aggregation on the midpoint grid, and the integral defuzzifiers' reduction.

The fuzzy set of an output is aggregation over activations of implication(degree, term(x))
at the ``resolution`` midpoints. It is computed in slabs of samples laid out (grid point,
sample), so every operation runs along samples, and only where each term is non-zero.

Example:
    >>> from library.fuzzy.model import OutputVariable, Term
    >>> g = Grid(OutputVariable("y", (0.0, 1.0), (Term("a", "triangle", (0.0, 0.0, 0.5)),), resolution=10))
    >>> g.slices
    [(0, 5)]
"""

from __future__ import annotations

import numpy as np

from library.fuzzy import defuzz, formula, norms, terms
from library.fuzzy.model import OutputVariable

#: samples x resolution cells per slab of the aggregation (8 bytes each)
CHUNK_CELLS = 1 << 17
#: fewest samples per slab (wide grids would otherwise make slabs too narrow to vectorise)
MIN_SLAB = 256


class Grid:
    """The midpoints of an output with an integral defuzzifier, each term sampled on them, and
    where each term is non-zero (outside it, implication gives 0 and aggregation keeps the value)."""

    def __init__(self, var: OutputVariable):
        lo, hi = var.range
        self.x = defuzz.midpoints(lo, hi, var.resolution)
        self.mu = [terms.membership(t.shape, t.params, t.height, self.x) if t.shape != "function"
                   else formula.evaluate(t.formula, {"x": self.x}) * np.ones_like(self.x) for t in var.terms]
        nonneg = all(bool(np.all(~(m < 0))) for m in self.mu)
        self.slices = []
        for m in self.mu:
            nz = np.flatnonzero(m != 0) if nonneg else np.arange(len(self.x))
            self.slices.append((int(nz[0]), int(nz[-1]) + 1) if len(nz) else (0, 0))
        used = [s for s in self.slices if s[1] > s[0]]
        self.lo = min((s[0] for s in used), default=0)
        self.hi = max((s[1] for s in used), default=0)
        self.restricted = nonneg
        self.plans: dict = {}  # aggregation plans by the shape of the activations (see _plan)


def aggregate_and_defuzzify(g: Grid, var: OutputVariable, entries: list, n: int) -> np.ndarray:
    """Aggregate on the grid in slabs of samples, laid out (grid point, sample) so every
    operation runs along samples; sums over the grid are sequential per sample whatever
    the slab width (a slab of one sample is widened to two, which numpy would sum
    pairwise instead)."""
    agg_name = var.aggregation
    agg = norms.snorm(agg_name)
    if agg_name == "maximum":  # max_r T(d_r, mu) == T(max_r d_r, mu): T is monotone
        groups: dict[tuple[int, str], np.ndarray] = {}
        for e in entries:
            k = (e.term, e.implication)
            groups[k] = e.degree if k not in groups else np.maximum(groups[k], e.degree)
        items = [(t, imp, d) for (t, imp), d in groups.items()]
    else:
        items = [(e.term, e.implication, e.degree) for e in entries]
    restricted = g.restricted and all(imp != "bounded_difference" for _, imp, _ in items)
    lo, hi = (g.lo, g.hi) if restricted else (0, len(g.x))
    plan, gaps = _plan(g, items, restricted, agg_name, lo, hi)
    width = hi - lo
    ops = []  # (item, rows a:b of acc, how, the term on those grid points as a column)
    for k, ((t, imp, _), pieces) in enumerate(zip(items, plan)):
        for a, b, direct in pieces:
            fast = imp == "minimum" and (direct or agg_name == "maximum")
            how = ("min" if direct else "maxmin") if fast else ("direct" if direct else "general")
            ops.append((k, a, b, how, g.mu[t][lo + a:lo + b, None], norms.tnorm(imp)))
    out = np.empty(n)
    step = max(MIN_SLAB, CHUNK_CELLS // max(width, 1))
    acc_full = np.empty((width, min(max(n, 2), step)))
    buf_full = np.empty_like(acc_full)
    for s in range(0, n, step):
        e = min(n, s + step)
        c = max(2, e - s)
        acc, buf = acc_full[:, :c], buf_full[:, :c]
        for a, b in gaps:
            acc[a:b] = 0.0
        ds = [np.repeat(d[s:e], 2)[None, :] if e - s == 1 else d[None, s:e] for _, _, d in items]
        for k, a, b, how, mu, tnorm in ops:
            d, part = ds[k], acc[a:b]
            if how == "min":  # nothing aggregated here yet: max(0, v) == v
                np.minimum(d, mu, out=part)
            elif how == "maxmin":
                np.maximum(part, np.minimum(d, mu, out=buf[:b - a]), out=part)
            elif how == "direct":
                part[...] = tnorm(d, mu)
            else:
                part[...] = agg(part, tnorm(d, mu))
        out[s:e] = _reduce(var.defuzzifier, acc, buf, g, lo, hi)[:e - s]
    return out


def _reduce(kind: str, acc: np.ndarray, buf: np.ndarray, g: Grid, lo: int, hi: int) -> np.ndarray:
    if kind == "centroid":
        den = np.add.reduce(acc, axis=0)
        return np.add.reduce(np.multiply(acc, g.x[lo:hi, None], out=buf), axis=0) / den
    rows = np.zeros((acc.shape[1], len(g.x)))
    rows[:, lo:hi] = acc.T
    return defuzz.INTEGRAL[kind](rows, g.x)


def _plan(g: Grid, items: list, restricted: bool, agg_name: str, lo: int, hi: int):
    """For each aggregated item, the row ranges it touches, marked ``direct`` where no earlier
    item wrote (the implication is then written, not aggregated with zeros: exact for maximum
    over non-negative values); and the row ranges to zero-fill before aggregating."""
    can = tuple(agg_name == "maximum" and imp in ("minimum", "algebraic_product") and restricted
                and (len(d) == 0 or float(d.min()) >= 0.0) for _, imp, d in items)
    key = (tuple((t, imp) for t, imp, _ in items), can, restricted, agg_name, lo, hi)
    if key not in g.plans:
        g.plans[key] = _make_plan(g, key[0], can, restricted, lo, hi)
    return g.plans[key]


def _make_plan(g: Grid, items: tuple, can: tuple, restricted: bool, lo: int, hi: int):
    ready = np.zeros(hi - lo, dtype=bool)  # rows holding an aggregated value already
    zero = np.zeros(hi - lo, dtype=bool)
    plan = []
    for (t, imp), direct in zip(items, can):
        s0, s1 = g.slices[t] if restricted else (0, len(g.x))
        s0, s1 = max(s0 - lo, 0), min(s1 - lo, hi - lo)
        pieces = []
        for a, b, seen in _runs(ready, s0, s1):
            if not seen and not direct:
                zero[a:b] = True
            pieces.append((a, b, direct and not seen))
        ready[s0:s1] = True
        plan.append(pieces)
    zero |= ~ready
    gaps = [(a, b) for a, b, z in _runs(zero, 0, hi - lo) if z]
    return plan, gaps


def _runs(mask: np.ndarray, a: int, b: int):
    """Maximal runs [i, j) of equal values of mask within [a, b), with the value."""
    if b <= a:
        return []
    cuts = [a] + [a + 1 + int(k) for k in np.flatnonzero(mask[a + 1:b] != mask[a:b - 1])] + [b]
    return [(i, j, bool(mask[i])) for i, j in zip(cuts, cuts[1:])]
