"""Trading on forecasts: signals, an equal-weight portfolio filled after the signal's bar, and its
statistics beside buy-and-hold.

Timing. A signal belongs to the bar whose close produced it (the forecast's origin). It is never
executed on that bar: ``execution="next_close"`` fills at the next bar's close (as zipline does),
``"next_open"`` at the next bar's open. A position filled at the close of bar j earns the returns
of bars j+1, j+2, ...; one filled at the open of bar j earns bar j from its open on.

Portfolio. Each of N tickers gets a sleeve of 1/N of the equity; a signal in [-1, 1] is the share
of the sleeve held (negative: short); what is not held is cash at zero interest. Weights are
rebalanced to their targets every bar. Costs: ``cost_bps + slippage_bps`` basis points of every
unit of turnover, the sum of |change of weight| over the tickers, charged at the fill.

Statistics (:func:`statistics`), for bar returns R_t, t = 1..n, and ``periods_per_year`` P:
252 for daily bars (business days, exchange sessions or calendar days alike), 52 weekly,
12 monthly, 4 quarterly, 1 yearly; other frequencies must be given. ``risk_free`` is an annual
rate, taken per period as (1 + rf)^(1/P) - 1 (0 unless given).

- total return = prod(1 + R_t) - 1; CAGR = (1 + total)^(P / n) - 1
- volatility = std(R, ddof=1) * sqrt(P)
- Sharpe = mean(R - rf) / std(R - rf, ddof=1) * sqrt(P)
- Sortino = mean(R - rf) / sqrt(mean(min(R - rf, 0)^2)) * sqrt(P), the downside deviation over
  all n periods (zero for periods without a loss)
- max drawdown = min over t of equity_t / max(1, equity_1..t) - 1, equity starting at 1; its
  duration: the most bars spent below a previous peak (to the recovery, or to the end)
- Calmar = CAGR / |max drawdown|
- hit rate = share of bars with a position whose return was positive
- turnover = the sum of turnover per year (1.0: the whole equity traded once a year)
- exposure = mean gross exposure, sum of |weight| (1: fully invested every bar)
- trades = the number of fills (a ticker whose weight changes at a bar)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

Execution = Literal["next_close", "next_open"]
PERIODS_PER_YEAR = {"B": 252, "C": 252, "D": 252, "W": 52, "M": 12, "MS": 12, "ME": 12, "BM": 12,
                    "BME": 12, "BMS": 12, "Q": 4, "QS": 4, "QE": 4, "Y": 1, "YS": 1, "YE": 1, "A": 1}


@dataclass
class Simulation:
    """``returns`` per bar, ``equity`` (starting at 1), ``positions`` (weights held over each bar),
    ``trades`` (one row per fill), ``statistics`` of the strategy and of ``buy_and_hold``."""

    returns: pd.Series
    equity: pd.Series
    positions: pd.DataFrame
    trades: pd.DataFrame
    statistics: dict
    buy_and_hold: dict
    buy_and_hold_equity: pd.Series


def expected_returns(forecasts: pd.DataFrame, kind: Literal["log", "simple", "none"]) -> pd.DataFrame:
    """Bars (each origin, the bar whose close the forecast saw) x series: the first step's
    forecast as a return. ``kind`` says what the backtest forecast: log or simple returns (taken
    as they are; their signs agree), or prices (the forecast over the last price, less one)."""
    first = forecasts[forecasts["step"] == 1]
    if first.duplicated(["origin", "series"]).any():
        raise ValueError("one target per series: a backtest to trade forecasts a single price column")
    value = first["forecast"] if kind != "none" else first["forecast"] / first["naive"] - 1
    return (pd.DataFrame({"origin": first["origin"], "series": first["series"], "value": value})
            .pivot(index="origin", columns="series", values="value"))


def signals(forecasts: pd.DataFrame, strategy: Literal["long-only", "long-short"] = "long-only",
            threshold: float = 0.0, volatility: pd.DataFrame | None = None, cap: float = 1.0) -> pd.DataFrame:
    """Target exposure per bar (rows) and ticker (columns) from forecast returns: long when the
    forecast exceeds ``threshold``, short (long-short only) when it is below ``-threshold``, flat
    otherwise. With ``volatility`` (same shape: each ticker's recent return std at that bar),
    exposure is the forecast over that volatility, capped at ``cap`` and at 1; without it, 1."""
    if strategy not in ("long-only", "long-short"):
        raise ValueError(f"strategy must be 'long-only' or 'long-short', not {strategy!r}")
    if threshold < 0 or not 0 < cap <= 1:
        raise ValueError("threshold must be >= 0 and cap in (0, 1]")
    size = pd.DataFrame(1.0, index=forecasts.index, columns=forecasts.columns)
    if volatility is not None:
        ratio = forecasts.abs() / volatility.reindex_like(forecasts)
        size = ratio.where(np.isfinite(ratio), 0.0).clip(upper=cap)
    long = (forecasts > threshold).astype(float)
    short = (forecasts < -threshold).astype(float) if strategy == "long-short" else 0.0
    return ((long - short) * size).fillna(0.0)


def simulate(closes: pd.DataFrame, exposure: pd.DataFrame, execution: Execution = "next_close",
             opens: pd.DataFrame | None = None, cost_bps: float = 0.0, slippage_bps: float = 0.0,
             periods_per_year: int | None = None, risk_free: float = 0.0) -> Simulation:
    """Trade ``exposure`` (target share of each ticker's sleeve, indexed by the bar whose close
    produced it) on adjusted ``closes`` (bars x tickers). ``opens`` (adjusted, same shape) are
    needed for ``execution="next_open"``. Bars before the first signal hold cash; the statistics
    cover the bars from the first fill's bar on (its cost included), for the strategy and
    buy-and-hold alike."""
    if execution not in ("next_close", "next_open"):
        raise ValueError(f"execution must be 'next_close' or 'next_open', not {execution!r}")
    if execution == "next_open" and opens is None:
        raise ValueError("execution='next_open' needs the bars' open prices")
    if cost_bps < 0 or slippage_bps < 0:
        raise ValueError("cost_bps and slippage_bps must not be negative")
    closes = closes.sort_index()
    periods = periods_per_year or periods_per_year_of(closes.index)
    tickers = list(closes.columns)
    unknown = [t for t in exposure.columns if t not in tickers]
    if unknown:
        raise ValueError(f"signal for '{unknown[0]}', which has no prices")
    signal = exposure.reindex(index=closes.index, columns=tickers).fillna(0.0) / len(tickers)
    # fills happen one bar after the signal's bar; a fill at bar j's open counts towards bar j
    filled = signal.shift(1).fillna(0.0)
    change = filled - filled.shift(1).fillna(0.0)
    turnover = change.abs()
    charge = turnover.sum(axis=1) * (cost_bps + slippage_bps) / 1e4
    bar = (closes / closes.shift(1) - 1).fillna(0.0)
    if execution == "next_close":
        held = filled.shift(1).fillna(0.0)
        returns = (held * bar).sum(axis=1) - charge
    else:
        opens = opens.sort_index().reindex(index=closes.index, columns=tickers)
        overnight = (opens / closes.shift(1) - 1).fillna(0.0)
        intraday = (closes / opens - 1).fillna(0.0)
        held = filled
        returns = (1 + (filled.shift(1).fillna(0.0) * overnight).sum(axis=1)) * (1 - charge) * \
                  (1 + (filled * intraday).sum(axis=1)) - 1
    first = _first_fill(filled)
    returns = returns.iloc[first:]
    fills = change.stack()
    fills = fills[fills != 0]
    trades = pd.DataFrame({"time": fills.index.get_level_values(0), "ticker": fills.index.get_level_values(1),
                           "change": fills.to_numpy(), "weight": filled.stack()[fills.index].to_numpy(),
                           "cost": fills.abs().to_numpy() * (cost_bps + slippage_bps) / 1e4})
    positions = held.iloc[first:]
    stats = statistics(returns, positions, turnover.iloc[first:].sum(axis=1), periods, risk_free)
    stats["trades"] = int(len(trades))
    hold_returns = _buy_and_hold(closes, opens, execution, first, cost_bps + slippage_bps)
    hold_positions = pd.DataFrame(1.0 / len(tickers), index=hold_returns.index, columns=tickers)
    hold_turnover = pd.Series(0.0, index=hold_returns.index)
    hold_turnover.iloc[0] = 1.0
    hold = statistics(hold_returns, hold_positions, hold_turnover, periods, risk_free)
    hold["trades"] = len(tickers)
    return Simulation(returns, (1 + returns).cumprod(), positions, trades, stats, hold,
                      (1 + hold_returns).cumprod())


def periods_per_year_of(index: pd.Index) -> int:
    """Bars a year for a DatetimeIndex: from its frequency, else from the median gap between bars
    (a day or a few, as between trading sessions: 252); a ValueError when neither tells."""
    base = (getattr(index, "freqstr", None) or "").split("-")[0].lstrip("0123456789")
    if base in PERIODS_PER_YEAR:
        return PERIODS_PER_YEAR[base]
    if isinstance(index, pd.DatetimeIndex) and len(index) > 2:
        days = pd.Series(index).diff().median() / pd.Timedelta(days=1)
        for low, high, periods in ((0.8, 4.5, 252), (6, 8, 52), (27, 32, 12), (88, 93, 4), (360, 367, 1)):
            if low <= days <= high:
                return periods
    raise ValueError(f"cannot tell bars a year from the timestamps ({base or 'no frequency'}); "
                     "pass periods_per_year")


def statistics(returns: pd.Series, positions: pd.DataFrame, turnover: pd.Series,
               periods_per_year: int, risk_free: float = 0.0) -> dict:
    """The module docstring's statistics of per-bar ``returns``, the weights held over each bar
    and the turnover at each bar."""
    r = returns.to_numpy(dtype=np.float64)
    n = len(r)
    if n < 2:
        raise ValueError("statistics need at least two bars of returns")
    p = periods_per_year
    excess = r - ((1 + risk_free) ** (1 / p) - 1)
    equity = np.cumprod(1 + r)
    total = float(equity[-1] - 1)
    cagr = float((1 + total) ** (p / n) - 1) if total > -1 else -1.0
    std = excess.std(ddof=1)
    downside = np.sqrt(np.mean(np.minimum(excess, 0) ** 2))
    peaks = np.maximum.accumulate(np.concatenate([[1.0], equity]))[1:]
    drawdown = equity / peaks - 1
    below = drawdown < 0
    longest = run = 0
    for is_below in below:
        run = run + 1 if is_below else 0
        longest = max(longest, run)
    max_drawdown = float(drawdown.min())
    gross = positions.abs().sum(axis=1).to_numpy()
    active = gross > 0
    return {
        "total_return": total, "cagr": cagr, "volatility": float(r.std(ddof=1) * np.sqrt(p)),
        "sharpe": float(excess.mean() / std * np.sqrt(p)) if std > 0 else float("nan"),
        "sortino": float(excess.mean() / downside * np.sqrt(p)) if downside > 0 else float("nan"),
        "max_drawdown": max_drawdown, "max_drawdown_bars": int(longest),
        "calmar": cagr / abs(max_drawdown) if max_drawdown < 0 else float("nan"),
        "hit_rate": float((r[active] > 0).mean()) if active.any() else float("nan"),
        "turnover": float(turnover.sum() / (n / p)), "exposure": float(gross.mean()),
        "bars": n, "periods_per_year": p,
    }


def _first_fill(filled: pd.DataFrame) -> int:
    """The bar of the first fill: the statistics start there (its cost included)."""
    fills = np.flatnonzero(filled.abs().sum(axis=1).to_numpy() > 0)
    if not len(fills):
        raise ValueError("the signals never open a position")
    if fills[0] >= len(filled) - 2:
        raise ValueError("the first position is filled too late to earn two bars of returns")
    return int(fills[0])


def _buy_and_hold(closes: pd.DataFrame, opens: pd.DataFrame | None, execution: Execution,
                  first: int, cost_bps: float) -> pd.Series:
    """Returns of 1/N of the equity in each ticker, bought at the strategy's first fill (that
    bar's close or open) and held without rebalancing, paying the cost once."""
    entry = closes.iloc[first] if execution == "next_close" else opens.iloc[first]
    equity = (closes.iloc[first:] / entry).mean(axis=1) * (1 - cost_bps / 1e4)
    returns = equity / equity.shift(1) - 1
    returns.iloc[0] = equity.iloc[0] - 1
    return returns


def drawdown_episodes(curve: pd.Series, count: int) -> list[list[str]]:
    """Peak, trough, recovery (or 'not recovered'), depth (a negative share) and length in bars of
    the deepest drawdowns, deepest first."""
    peak_value, peak_at, episodes, trough = 1.0, None, [], None
    for position, (stamp, value) in enumerate(curve.items()):
        if value >= peak_value:
            if trough is not None:
                episodes.append((peak_at, trough[0], stamp, trough[1], position - trough[2]))
                trough = None
            peak_value, peak_at = value, stamp
        else:
            depth = value / peak_value - 1
            if trough is None or depth < trough[1]:
                trough = (stamp, depth, trough[2] if trough else position)
    if trough is not None:
        episodes.append((peak_at, trough[0], "not recovered", trough[1], len(curve) - trough[2]))
    episodes.sort(key=lambda e: e[3])
    return [[p if p is not None else "start", t, r, d, n] for p, t, r, d, n in episodes[:count]]
