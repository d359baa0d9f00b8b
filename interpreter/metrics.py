"""Performance metrics with stated formulas (also in docs/metrics.md).

Bar returns are r_t = E_t / E_{t-1} - 1 of the equity marked at each close. Annualisation
uses the strategy's bars per year (252 for daily bars, 365 * bars per day for intraday
24/7 markets). Risk-free rate is 0.

* total_return = E_end / capital - 1
* cagr = (E_end / capital) ** (1 / years) - 1, years = calendar span / 365.25 days
* ann_vol = std(r, ddof=1) * sqrt(bars_per_year)
* sharpe = mean(r) / std(r, ddof=1) * sqrt(bars_per_year)
* sortino = mean(r) / sqrt(mean(min(r, 0)^2)) * sqrt(bars_per_year)
* max_drawdown = max over t of 1 - E_t / max_{s<=t} E_s (a positive fraction)
* max_drawdown_bars = the longest run of bars spent below a previous peak
* calmar = cagr / max_drawdown
* win_rate = winning closed trades / closed trades; profit_factor = gross win / gross loss
* avg_trade = mean net P&L per closed trade; avg_trade_return = mean of trade returns
* exposure = share of bars with an open position
* turnover = traded notional / mean equity / years (per year)
* expected_shortfall_95 = -mean of the worst 5% of bar returns (at least one bar)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

NS_PER_YEAR = 365.25 * 86400 * 1e9


def _f(x: float) -> float | None:
    """JSON-safe float: NaN and infinities become None."""
    if x is None or not math.isfinite(x):
        return None
    return float(x)


def _longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of True values."""
    if not mask.any():
        return 0
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return int((ends - starts).max())


def compute(equity: np.ndarray, units: np.ndarray, ts: np.ndarray, capital: float, bars_per_year: float,
            trades: list[dict[str, Any]], fills: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(equity)
    final = float(equity[-1]) if n else capital
    out: dict[str, Any] = {"bars": n, "capital": capital, "final_equity": final}
    out["total_return"] = final / capital - 1.0
    years = (float(ts[-1]) - float(ts[0])) / NS_PER_YEAR if n > 1 else 0.0
    out["years"] = years
    ratio = final / capital
    out["cagr"] = _f(ratio ** (1.0 / years) - 1.0) if years > 0 and ratio > 0 else None
    r = equity[1:] / equity[:-1] - 1.0 if n > 1 else np.zeros(0)
    r = r[np.isfinite(r)]
    sd = float(np.std(r, ddof=1)) if r.size > 1 else math.nan
    mean = float(np.mean(r)) if r.size else math.nan
    ann = math.sqrt(bars_per_year)
    out["ann_vol"] = _f(sd * ann)
    out["sharpe"] = _f(mean / sd * ann) if sd and sd > 0 else None
    down = float(np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))) if r.size else math.nan
    out["sortino"] = _f(mean / down * ann) if down and down > 0 else None
    peak = np.maximum.accumulate(equity) if n else equity
    dd = 1.0 - equity / peak if n else equity
    mdd = float(dd.max()) if n else 0.0
    out["max_drawdown"] = mdd
    out["max_drawdown_bars"] = _longest_run(dd > 0)
    out["calmar"] = _f(out["cagr"] / mdd) if out["cagr"] is not None and mdd > 0 else None
    closed = [t for t in trades if t["exit_bar"] is not None]
    pnls = np.array([t["pnl"] for t in closed], dtype=float)
    out["trade_count"] = len(closed)
    out["open_trades"] = len(trades) - len(closed)
    wins = pnls[pnls > 0]
    losses = pnls[pnls < 0]
    out["win_rate"] = _f(len(wins) / len(closed)) if closed else None
    out["profit_factor"] = _f(wins.sum() / -losses.sum()) if losses.size else None
    out["avg_trade"] = _f(float(pnls.mean())) if closed else None
    out["avg_trade_return"] = _f(float(np.mean([t["return"] for t in closed]))) if closed else None
    out["avg_bars_held"] = _f(float(np.mean([t["bars_held"] for t in closed]))) if closed else None
    out["exposure"] = float(np.count_nonzero(units) / n) if n else 0.0
    notional = sum(abs(f["units"]) * f["price"] for f in fills)
    mean_eq = float(np.mean(equity)) if n else capital
    out["turnover"] = _f(notional / mean_eq / years) if years > 0 and mean_eq > 0 else None
    if r.size:
        k = max(1, int(math.floor(0.05 * r.size)))
        worst = np.sort(np.partition(r, k - 1)[:k])  # sorted: the same sum order as a full sort
        out["expected_shortfall_95"] = _f(-float(worst.mean()))
    else:
        out["expected_shortfall_95"] = None
    out["total_commission"] = float(sum(f["commission"] for f in fills))
    return out
