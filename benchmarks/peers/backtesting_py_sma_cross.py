"""Peer-agreement fixture: SMA 10/30 crossover, long only, run by backtesting.py.

backtesting.py is NOT a dependency of tradespec.  It is installed only in a
throwaway venv used by this script:

    python3 -m venv /tmp/peer-venv
    /tmp/peer-venv/bin/pip install backtesting pandas numpy

Regenerate the fixtures (from the repository root):

    /tmp/peer-venv/bin/python benchmarks/peers/backtesting_py_sma_cross.py

This runs backtesting.py on each dataset, writes
tests/fixtures/peer/sma_cross_<dataset>.json, and then re-derives every trade
and the final equity with a plain numpy/python re-implementation of the
conventions documented in tests/fixtures/peer/README.md.  The script fails
(exit 1) unless the re-implementation reproduces the peer exactly: same entry
and exit bars, prices and units, and final equity within 1e-9 relative.

Re-check existing fixtures without backtesting.py installed (any env with
numpy + pandas, e.g. /work/venv):

    python benchmarks/peers/backtesting_py_sma_cross.py --check-only

Settings used (see the README for why):
  cash=100_000 (sp500_daily) / 1_000_000 (btc_usd_kraken_5m: BTC ~ 9000 USD,
  so whole units need more cash), commission=0.001, spread=0, margin=1,
  trade_on_close=False, hedging=False, exclusive_orders=False,
  finalize_trades=False (the fixture run; a finalize_trades=True run is
  recorded alongside for comparison), default order size (all-in).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import platform
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "tests" / "fixtures" / "peer"

FAST, SLOW = 10, 30
COMMISSION = 0.001

SP500 = "data/sp500_daily_1999_2018.csv"
BTC = "data/btc_usd_kraken_5m_2019-10-22_2019-11-11.csv"

# "bars": use only the first N rows.  The full datasets both end flat, so three
# truncations of the S&P 500 file pin down the end-of-data conventions:
#   first2600: long at the end (entered bar 2570), no signal on the last bar
#   first2653: flat, up-cross on the last bar (entry order placed, never filled)
#   first2727: long, down-cross on the last bar (close order placed, never filled)
DATASETS = {
    "sp500_daily": {"path": SP500, "cash": 100_000.0},
    "btc_usd_kraken_5m": {"path": BTC, "cash": 1_000_000.0},
    "sp500_daily_first2600": {"path": SP500, "cash": 100_000.0, "bars": 2600},
    "sp500_daily_first2653": {"path": SP500, "cash": 100_000.0, "bars": 2653},
    "sp500_daily_first2727": {"path": SP500, "cash": 100_000.0, "bars": 2727},
}

# backtesting.py's default order size: Strategy._FULL_EQUITY == 1 - sys.float_info.epsilon
FULL_EQUITY = 1.0 - sys.float_info.epsilon


# --------------------------------------------------------------------------- data


def load_ohlcv(path: Path) -> pd.DataFrame:
    """CSV (timestamp,open,high,low,close,volume,...) -> DataFrame with a UTC
    DatetimeIndex and the columns backtesting.py wants."""
    raw = pd.read_csv(path)
    idx = pd.DatetimeIndex(pd.to_datetime(raw["timestamp"], utc=True), name="timestamp")
    df = pd.DataFrame(
        {
            "Open": raw["open"].to_numpy(np.float64),
            "High": raw["high"].to_numpy(np.float64),
            "Low": raw["low"].to_numpy(np.float64),
            "Close": raw["close"].to_numpy(np.float64),
            "Volume": raw["volume"].to_numpy(np.float64),
        },
        index=idx,
    )
    assert df.index.is_monotonic_increasing and df.index.is_unique
    return df


def iso(ts: pd.Timestamp) -> str:
    return pd.Timestamp(ts).tz_convert("UTC").isoformat()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- indicators


def sma_pandas(values, n: int) -> np.ndarray:
    """SMA as in backtesting.py's docs/tests (backtesting.test.SMA):
    pandas rolling(n).mean(); NaN for the first n-1 bars."""
    return pd.Series(np.asarray(values, dtype=np.float64)).rolling(n).mean().to_numpy()


def sma_numpy(values, n: int) -> np.ndarray:
    """Independent SMA (numpy sliding-window mean), used to show that the
    signals do not depend on ulp-level differences between SMA implementations."""
    x = np.asarray(values, dtype=np.float64)
    out = np.full(len(x), np.nan)
    if len(x) >= n:
        out[n - 1 :] = np.lib.stride_tricks.sliding_window_view(x, n).mean(axis=1)
    return out


def sma_fsum(values, n: int) -> np.ndarray:
    """Correctly rounded window sum / n (math.fsum); a third, slow reference."""
    x = [float(v) for v in values]
    out = np.full(len(x), np.nan)
    for i in range(n - 1, len(x)):
        out[i] = math.fsum(x[i - n + 1 : i + 1]) / n
    return out


def cross_signals(fast: np.ndarray, slow: np.ndarray):
    """backtesting.lib.crossover semantics, evaluated at every bar t >= 1:
    up[t]   = fast[t-1] <  slow[t-1] and fast[t] >  slow[t]   (strict, both bars)
    down[t] = slow[t-1] <  fast[t-1] and slow[t] >  fast[t]
    Any comparison with NaN is False."""
    up = np.zeros(len(fast), dtype=bool)
    down = np.zeros(len(fast), dtype=bool)
    with np.errstate(invalid="ignore"):
        up[1:] = (fast[:-1] < slow[:-1]) & (fast[1:] > slow[1:])
        down[1:] = (slow[:-1] < fast[:-1]) & (slow[1:] > fast[1:])
    return up, down


def warmup_start(*indicators: np.ndarray) -> int:
    """backtesting.py's first bar passed to Strategy.next():
    1 + max over indicators of (index of the first non-NaN value)."""
    return 1 + max(int(np.isnan(ind).argmin()) for ind in indicators)


# --------------------------------------------------------------------------- self-check re-implementation


def _entry_units(cash: float, price: float) -> int:
    """All-in whole units, exactly as _Broker._process_orders computes them for the
    default relative size (spread 0, margin 1, flat so equity == cash)."""
    comm_per_unit = (0.0 + abs(FULL_EQUITY) * price * COMMISSION) / abs(FULL_EQUITY)
    price_plus_comm = price * (1 + math.copysign(0.0, FULL_EQUITY)) + comm_per_unit
    margin_available = max(0.0, cash + 0.0)
    return int((margin_available * 1.0 * abs(FULL_EQUITY)) // price_plus_comm)


def reimplement(open_: np.ndarray, close: np.ndarray, cash0: float, fast: np.ndarray,
                slow: np.ndarray, finalize: bool = False):
    """Plain numpy/python re-implementation of the peer run.

    Signals vectorised; a loop over signal bars only.  Every float operation is
    written in the same order as backtesting.py 0.6.x performs it, so results are
    bit-identical, not merely close.  ``finalize`` mirrors Backtest(finalize_trades=True)."""
    n = len(close)
    up, down = cross_signals(fast, slow)
    start = warmup_start(fast, slow)
    up[:start] = False
    down[:start] = False
    events = np.flatnonzero(up | down)

    cash = float(cash0)
    trades = []
    pos = None  # (units, entry_bar, entry_price, entry_commission)
    ignored = {"up_while_long": 0, "down_while_flat": 0, "last_bar_signal": None}

    def enter(bar: int) -> None:
        nonlocal cash, pos
        price = float(open_[bar])  # market order: fills at this bar's open (spread 0)
        units = _entry_units(cash, price)
        if units == 0:
            return  # broker cancels the order (warning); not hit on these datasets
        entry_comm = 0.0 + abs(units) * price * COMMISSION
        cash -= entry_comm
        pos = (units, bar, price, entry_comm)

    def exit_(bar: int) -> None:
        nonlocal cash, pos
        units, e, entry_price, _ = pos
        exit_price = float(open_[bar])
        gross = units * (exit_price - entry_price)
        exit_comm = 0.0 + abs(units) * exit_price * COMMISSION
        cash += gross - exit_comm
        # the peer recomputes the entry commission from the closed trade's size
        commission = exit_comm + (0.0 + abs(units) * entry_price * COMMISSION)
        trades.append({"entry_bar": e, "entry_price": entry_price, "units": units,
                       "exit_bar": bar, "exit_price": exit_price,
                       "pnl": gross - commission, "commission": commission})
        pos = None

    pending_entry = False
    for t in events.tolist():
        if pos is None and up[t]:
            if t + 1 >= n:  # order placed on the last bar: never filled by the bar loop
                ignored["last_bar_signal"] = "entry"
                pending_entry = True
                continue
            enter(t + 1)
        elif pos is not None and down[t]:
            if t + 1 >= n:
                ignored["last_bar_signal"] = "exit"
                continue
            exit_(t + 1)
        elif up[t]:
            ignored["up_while_long"] += 1
        else:
            ignored["down_while_flat"] += 1

    if finalize:
        # Backtest.run(): every open trade gets a close order, then the broker is run
        # once more on the LAST bar: market orders fill at the last bar's OPEN.  Close
        # orders are queued first, then any entry order placed on the last bar, which
        # is then filled at that same open and stays open.
        if pos is not None:
            exit_(n - 1)
        if pending_entry:
            enter(n - 1)

    last_close = float(close[-1])
    if pos is not None:
        units, e, entry_price, entry_comm = pos
        # Broker.equity = cash + (last_close * position_size - sum(size * entry_price))
        final_equity = cash + (last_close * units - units * entry_price)
        open_position = {"entry_bar": e, "entry_price": entry_price, "units": units,
                         "entry_commission": entry_comm}
    else:
        final_equity = cash + 0.0
        open_position = None
    return {
        "trades": trades,
        "final_equity": final_equity,
        "final_cash": cash,
        "open_position": open_position,
        "start": start,
        "ignored_signals": ignored,
    }


def signal_margin(fast: np.ndarray, slow: np.ndarray, close: np.ndarray, start: int) -> dict:
    """How far |fast - slow| stays from 0 (relative to close) over the bars that
    feed crossover() (start-1 .. n-1): a large value means any SMA implementation
    within a few ulps gives the same signals."""
    s = slice(start - 1, None)
    gap = np.abs(fast[s] - slow[s]) / close[s]
    k = int(np.argmin(gap))
    return {
        "min_abs_gap_over_close": float(gap[k]),
        "at_bar": int(k + start - 1),
        "exact_ties": int(np.count_nonzero(fast[s] == slow[s])),
    }


# --------------------------------------------------------------------------- peer run


def run_peer(df: pd.DataFrame, cash: float, finalize_trades: bool):
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    class SmaCrossLong(Strategy):
        n1 = FAST
        n2 = SLOW

        def init(self):
            self.sma1 = self.I(sma_pandas, self.data.Close, self.n1, name="sma10")
            self.sma2 = self.I(sma_pandas, self.data.Close, self.n2, name="sma30")

        def next(self):
            if crossover(self.sma1, self.sma2):
                if not self.position:
                    self.buy()  # default size = all-in (1 - eps of available margin)
            elif crossover(self.sma2, self.sma1):
                if self.position:
                    self.position.close()

    settings = dict(
        cash=cash,
        commission=COMMISSION,
        spread=0.0,
        margin=1.0,
        trade_on_close=False,
        hedging=False,
        exclusive_orders=False,
        finalize_trades=finalize_trades,
    )
    bt = Backtest(df, SmaCrossLong, **settings)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stats = bt.run()
    strat = stats["_strategy"]
    tdf = stats["_trades"]
    trades = []
    for r in tdf.itertuples(index=False):
        trades.append(
            {
                "entry_time": iso(r.EntryTime),
                "entry_bar": int(r.EntryBar),
                "entry_price": float(r.EntryPrice),
                "units": int(r.Size),
                "exit_time": iso(r.ExitTime),
                "exit_bar": int(r.ExitBar),
                "exit_price": float(r.ExitPrice),
                "pnl": float(r.PnL),
                "commission": float(r.Commission),
            }
        )
    eq = stats["_equity_curve"]["Equity"].to_numpy()
    open_trades = [
        {
            "entry_time": iso(t.entry_time),
            "entry_bar": int(t.entry_bar),
            "entry_price": float(t.entry_price),
            "units": int(t.size),
            "unrealized_pnl_at_last_close": float(t.pl),
        }
        for t in strat.trades
    ]
    pending_orders = [{"size": float(o.size)} for o in strat.orders]
    return {
        "settings": {k: v for k, v in settings.items()},
        "trades": trades,
        "final_equity": float(stats["Equity Final [$]"]),
        "equity_curve_last": float(eq[-1]),
        "open_trades_at_end": open_trades,
        "pending_orders_at_end": pending_orders,
        "n_trades": int(stats["# Trades"]),
        "warnings": sorted({f"{w.category.__name__}: {str(w.message)[:160]}" for w in caught}),
    }


# --------------------------------------------------------------------------- compare


def compare(peer: dict, mine: dict, index: pd.DatetimeIndex) -> list[str]:
    errs = []
    pt, mt = peer["trades"], mine["trades"]
    if len(pt) != len(mt):
        errs.append(f"trade count peer={len(pt)} reimpl={len(mt)}")
    for i, (a, b) in enumerate(zip(pt, mt)):
        for k in ("entry_bar", "exit_bar", "units"):
            if a[k] != b[k]:
                errs.append(f"trade {i}: {k} peer={a[k]} reimpl={b[k]}")
        for k in ("entry_price", "exit_price"):
            if a[k] != b[k]:
                errs.append(f"trade {i}: {k} peer={a[k]!r} reimpl={b[k]!r}")
        if a["entry_time"] != iso(index[b["entry_bar"]]) or a["exit_time"] != iso(index[b["exit_bar"]]):
            errs.append(f"trade {i}: times differ")
        for k in ("pnl", "commission"):
            if not math.isclose(a[k], b[k], rel_tol=1e-9, abs_tol=1e-9):
                errs.append(f"trade {i}: {k} peer={a[k]!r} reimpl={b[k]!r}")
    rel = abs(peer["final_equity"] - mine["final_equity"]) / abs(peer["final_equity"])
    if rel > 1e-9:
        errs.append(f"final equity peer={peer['final_equity']!r} reimpl={mine['final_equity']!r} rel={rel:.3g}")
    p_open = peer.get("open_trades_at_end") or []
    m_open = mine["open_position"]
    if bool(p_open) != bool(m_open):
        errs.append(f"open position at end: peer={p_open} reimpl={m_open}")
    elif m_open:
        po = p_open[0]
        if (po["entry_bar"], po["entry_price"], po["units"]) != (
            m_open["entry_bar"], m_open["entry_price"], m_open["units"]):
            errs.append(f"open position differs: peer={po} reimpl={m_open}")
    return errs


def self_check(df: pd.DataFrame, cash: float, peer: dict, peer_fin: dict) -> tuple[dict, list[str]]:
    o = df["Open"].to_numpy()
    c = df["Close"].to_numpy()
    f_pd, s_pd = sma_pandas(c, FAST), sma_pandas(c, SLOW)
    mine = reimplement(o, c, cash, f_pd, s_pd)
    mine_fin = reimplement(o, c, cash, f_pd, s_pd, finalize=True)
    errs = compare(peer, mine, df.index)
    errs += [f"[finalize_trades=True] {e}" for e in compare(peer_fin, mine_fin, df.index)]
    # Signals must not depend on the SMA implementation (ulp-level differences).
    up0, dn0 = cross_signals(f_pd, s_pd)
    for name, fn in (("numpy_sliding_mean", sma_numpy), ("fsum", sma_fsum)):
        f1, s1 = fn(c, FAST), fn(c, SLOW)
        up1, dn1 = cross_signals(f1, s1)
        if not (np.array_equal(up0, up1) and np.array_equal(dn0, dn1)):
            errs.append(f"signals differ between pandas rolling mean and {name} SMA")
        errs += [f"[{name} SMA] {e}" for e in compare(peer, reimplement(o, c, cash, f1, s1), df.index)]
    info = {
        "start_bar": mine["start"],
        "start_time": iso(df.index[mine["start"]]),
        "signal_margin": signal_margin(f_pd, s_pd, c, mine["start"]),
        "ignored_signals": mine["ignored_signals"],
        "final_cash": mine["final_cash"],
        "final_equity": mine["final_equity"],
        "final_equity_bit_identical": mine["final_equity"] == peer["final_equity"],
        "finalize_final_equity": mine_fin["final_equity"],
        "finalize_final_equity_bit_identical": mine_fin["final_equity"] == peer_fin["final_equity"],
    }
    return info, errs


# --------------------------------------------------------------------------- main


def versions() -> dict:
    v = {"python": platform.python_version(), "pandas": pd.__version__, "numpy": np.__version__}
    try:
        import backtesting

        v["backtesting"] = backtesting.__version__
    except ImportError:
        v["backtesting"] = None
    return v


def load_dataset(spec: dict) -> pd.DataFrame:
    df = load_ohlcv(ROOT / spec["path"])
    if "bars" in spec:
        df = df.iloc[: spec["bars"]]
    return df


def valuation_note(peer: dict, last_open: float) -> str:
    if peer["open_trades_at_end"]:
        return ("position open at the end: final equity = equity[-1] = cash + units * (last_close - "
                "entry_price), where cash is already net of the entry commission; NO exit commission; "
                "the open trade is NOT in the trades list (nor in '# Trades')")
    if peer["pending_orders_at_end"]:
        return ("flat at the end; the entry order placed on the last bar is never filled; "
                "final equity == cash")
    return "flat at the end: final equity == cash (all commissions paid)"


def build_fixture(key: str, spec: dict) -> dict:
    path = ROOT / spec["path"]
    df = load_dataset(spec)
    peer = run_peer(df, spec["cash"], finalize_trades=False)
    peer_fin = run_peer(df, spec["cash"], finalize_trades=True)
    check, errs = self_check(df, spec["cash"], peer, peer_fin)
    if errs:
        raise SystemExit(f"{key}: re-implementation disagrees with backtesting.py:\n  " + "\n  ".join(errs))
    last_open = float(df["Open"].iloc[-1])
    n_common = 0
    while (n_common < min(len(peer["trades"]), len(peer_fin["trades"]))
           and peer["trades"][n_common] == peer_fin["trades"][n_common]):
        n_common += 1
    return {
        "dataset": key,
        "data": {
            "path": spec["path"],
            "sha256": sha256(path),
            "rows_used": f"first {spec['bars']} rows" if "bars" in spec else "all",
            "bars": len(df),
            "first_time": iso(df.index[0]),
            "last_time": iso(df.index[-1]),
            "last_open": last_open,
            "last_close": float(df["Close"].iloc[-1]),
        },
        "peer": "backtesting.py",
        "versions": versions(),
        "strategy": {
            "description": "SMA(close,10) / SMA(close,30) crossover, long only. At bar close: "
            "if crossover(sma10, sma30) and flat -> buy() (all-in, whole units); "
            "elif crossover(sma30, sma10) and long -> position.close(). "
            "Market orders fill at the next bar's open.",
            "fast": FAST,
            "slow": SLOW,
            "sma": "pandas.Series(close).rolling(n).mean()",
            "crossover": "a[t-1] < b[t-1] and a[t] > b[t] (strict; NaN -> False)",
            "order_size": "default Strategy.buy() size = 1 - sys.float_info.epsilon (all-in)",
        },
        "settings": peer["settings"],
        "trades": peer["trades"],
        "n_trades": len(peer["trades"]),
        "final_equity": peer["final_equity"],
        "final_cash": check["final_cash"],
        "open_position_at_end": bool(peer["open_trades_at_end"]),
        "open_trades_at_end": peer["open_trades_at_end"],
        "pending_orders_at_end": peer["pending_orders_at_end"],
        "last_bar_signal": check["ignored_signals"]["last_bar_signal"],
        "final_equity_valuation": valuation_note(peer, last_open),
        "warmup": {
            "first_next_bar": check["start_bar"],
            "first_next_time": check["start_time"],
            "rule": "first bar given to Strategy.next() = 1 + max(first non-NaN index over indicators) "
            f"= 1 + ({SLOW} - 1) = {SLOW}; earlier bars have NaN equity (back-filled with initial cash)",
        },
        "signal_robustness": {
            **check["signal_margin"],
            "same_signals_with_numpy_and_fsum_sma": True,
            "ignored_signals": check["ignored_signals"],
        },
        "finalize_trades_true": {
            "settings_diff": {"finalize_trades": True},
            "n_trades": len(peer_fin["trades"]),
            "first_n_trades_identical_to_default_run": n_common,
            "trades_not_in_default_run": peer_fin["trades"][n_common:],
            "final_equity": peer_fin["final_equity"],
            "open_trades_at_end": peer_fin["open_trades_at_end"],
            "rule": "after the bar loop every open trade gets a close order, then the broker runs once "
            f"more on the LAST bar: market orders fill at the last bar's OPEN ({last_open!r}) with commission; "
            "an entry order placed on the last bar is filled there too and stays open (valued at last close)",
        },
        "self_check": {
            "trades_identical": True,
            "final_equity_bit_identical": check["final_equity_bit_identical"],
            "finalize_trades_true_final_equity_bit_identical": check["finalize_final_equity_bit_identical"],
        },
        "warnings": peer["warnings"],
    }


def check_only(keys) -> int:
    bad = 0
    for key in keys:
        spec = DATASETS[key]
        fx = json.loads((OUT_DIR / f"sma_cross_{key}.json").read_text())
        df = load_dataset(spec)
        peer = {"trades": fx["trades"], "final_equity": fx["final_equity"],
                "open_trades_at_end": fx["open_trades_at_end"]}
        fin = fx["finalize_trades_true"]
        k = fin["first_n_trades_identical_to_default_run"]
        peer_fin = {"trades": fx["trades"][:k] + fin["trades_not_in_default_run"],
                    "final_equity": fin["final_equity"], "open_trades_at_end": fin["open_trades_at_end"]}
        info, errs = self_check(df, fx["settings"]["cash"], peer, peer_fin)
        status = "OK" if not errs else "FAIL"
        print(f"{key}: {status}  trades={len(fx['trades'])} final_equity={fx['final_equity']!r} "
              f"bit_identical={info['final_equity_bit_identical']}")
        for e in errs:
            print("   ", e)
        bad += bool(errs)
    return 1 if bad else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("datasets", nargs="*", metavar="DATASET",
                    help=f"subset of {list(DATASETS)} (default: all)")
    ap.add_argument("--check-only", action="store_true",
                    help="re-verify existing fixtures with the re-implementation (no backtesting.py needed)")
    args = ap.parse_args(argv)
    keys = args.datasets or list(DATASETS)
    unknown = [k for k in keys if k not in DATASETS]
    if unknown:
        ap.error(f"unknown dataset(s) {unknown}; choose from {list(DATASETS)}")
    if args.check_only:
        return check_only(keys)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for key in keys:
        fx = build_fixture(key, DATASETS[key])
        out = OUT_DIR / f"sma_cross_{key}.json"
        out.write_text(json.dumps(fx, indent=2) + "\n")
        print(f"{key}: {fx['n_trades']} trades, final equity {fx['final_equity']!r}, "
              f"open at end={fx['open_position_at_end']}, last-bar signal={fx['last_bar_signal']}, "
              f"finalize_trades=True -> {fx['finalize_trades_true']['n_trades']} trades / "
              f"{fx['finalize_trades_true']['final_equity']!r}; self-check OK "
              f"(bit-identical={fx['self_check']['final_equity_bit_identical']}) -> {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
