"""Trading on forecasts: signals, orders, a portfolio of sleeves filled at the next bar, and
its statistics beside buy-and-hold valued by the same rules.

Timing. A forecast made at the close of bar t sees data up to that close. Its order fills at the
next tradable price (the close of bar t+1 for next-close fills, the open of t+1 for next-open),
and the position earns the return from that fill to the next fill. The backtest models the
returns of that fill price (closes, or adjusted opens), so a signal at t must come from the
forecast of the fill-price returns of steps 2 .. step+1 (:func:`holding_returns`): step 1,
r(t+1), has already happened when the order fills. Feed a backtest the true returns of that
period and it makes money on every held bar before costs; feed it those of step 1 and it does not.

Portfolio (:func:`simulate`). Each of N tickers has a sleeve of 1/N of the starting equity. An
order sets the sleeve's holding to ``target`` x the sleeve's value at that bar's fill price
(negative: short), except that a buy spends at most the sleeve's cash, its fee included (so a
whole-sleeve long with costs holds value / (1 + cost)); the rest of the sleeve is cash at zero
interest. An order is placed at every origin (re-targeting what drifted, at a cost); between
orders nothing is traded and holdings drift with prices. Costs: ``cost`` (a fraction:
(cost_bps + slippage_bps) / 1e4) of the value traded, paid from the sleeve's cash at the fill. A price missing on a bar is carried
from the last one for valuation and no order fills there. This is what vectorbt's
``Portfolio.from_orders(size_type="targetpercent", fees=cost)`` does per column without cash
sharing (a test holds the two equal to 1e-8). Buy-and-hold is the same simulation with a target
of 1 from each ticker's first fill: it drifts and pays its costs too.

Statistics (:func:`statistics`), for bar returns R_t, t = 1..n, and P bars a year
(:func:`annualization`: 252 for exchange sessions, 365 for calendar days, bars per day times
those for intraday bars, 52 weekly, 12 monthly). ``risk_free`` is an annual rate, taken per
period as (1 + rf)^(1/P) - 1 (0 unless given).

- total return = prod(1 + R_t) - 1; CAGR = (1 + total)^(P / n) - 1
- volatility = std(R, ddof=1) * sqrt(P)
- Sharpe = mean(R - rf) / std(R - rf, ddof=1) * sqrt(P)
- Sortino = mean(R - rf) / sqrt(mean(min(R - rf, 0)^2)) * sqrt(P), the downside deviation over
  all n periods (zero for periods without a loss)
- max drawdown = min over t of equity_t / max(1, equity_1..t) - 1, equity starting at 1; its
  duration: the most bars spent below a previous peak (to the recovery, or to the end)
- Calmar = CAGR / |max drawdown|
- hit rate = share of bars with a position whose return was positive
- turnover = the value traded per year over the equity (1.0: the whole equity traded once a year)
- exposure = mean gross exposure, sum of |weight| held over a bar (1: fully invested every bar)
- trades = the number of fills (an order that changed a holding)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

PERIODS_PER_YEAR = {"W": 52, "M": 12, "MS": 12, "ME": 12, "BM": 12, "BME": 12, "BMS": 12,
                    "Q": 4, "QS": 4, "QE": 4, "Y": 1, "YS": 1, "YE": 1, "A": 1}


@dataclass
class Simulation:
    """``returns`` per bar (from the first fill's bar on), ``equity`` (starting at 1), ``positions``
    (weights held over each bar), ``trades`` (one row per fill), ``statistics``; and the same
    for ``buy_and_hold``."""

    returns: pd.Series
    equity: pd.Series
    positions: pd.DataFrame
    trades: pd.DataFrame
    statistics: dict
    buy_and_hold: dict
    buy_and_hold_equity: pd.Series


def holding_returns(forecasts: pd.DataFrame, kind: Literal["log", "simple", "none"], step: int = 1) -> pd.DataFrame:
    """Origins x series: the forecast return of the period a signal at that origin holds, from its
    fill at the next bar to the next fill ``step`` bars later: steps 2 .. step+1 of the fill-price
    returns, summed (log), compounded (simple), or for prices (``"none"``) the forecast price at
    step+1 over the forecast at step 1, less one. A ValueError when the horizon is shorter."""
    need = step + 1
    horizon = int(forecasts["step"].max())
    if horizon < need:
        raise ValueError(f"a backtest fills at the bar after the forecast and holds {step} bar(s), so it "
                         f"trades the forecast of steps 2..{need}: horizon must be at least {need}, not {horizon}")
    if forecasts.duplicated(["origin", "series", "step"]).any():
        raise ValueError("one target per series: a backtest to trade forecasts a single price column")
    table = forecasts.pivot_table(index=["origin", "series"], columns="step", values="forecast", sort=True)
    if kind == "log":
        value = table.loc[:, 2:need].sum(axis=1)
    elif kind == "simple":
        value = (1 + table.loc[:, 2:need]).prod(axis=1) - 1
    else:
        value = table[need] / table[1] - 1
    return value.unstack("series")


def signals(forecasts: pd.DataFrame, strategy: Literal["long-only", "long-short"] = "long-only",
            threshold: float = 0.0, volatility: pd.DataFrame | None = None, cap: float = 1.0) -> pd.DataFrame:
    """Target exposure per bar (rows) and ticker (columns) from forecast returns: long when the
    forecast exceeds ``threshold``, short (long-short only) when it is below ``-threshold``, flat
    otherwise. With ``volatility`` (same shape: each ticker's recent return std at that bar),
    exposure is the forecast over that volatility, capped at ``cap`` and at 1; without it, 1.
    Bars without a forecast stay missing (no order), never flat."""
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
    return ((long - short) * size).where(forecasts.notna())


def simulate(prices: pd.DataFrame, orders: pd.DataFrame, cost: float = 0.0,
             periods_per_year: int | None = None, risk_free: float = 0.0) -> Simulation:
    """Fill ``orders`` (bars x tickers: a target share of the sleeve, missing: no order) at
    ``prices`` (the fill prices, bars x tickers, missing where a ticker has no bar), as the
    module docstring says; buy-and-hold by the same rules from each ticker's first order."""
    if cost < 0:
        raise ValueError("costs must not be negative")
    prices = prices.sort_index()
    unknown = [t for t in orders.columns if t not in prices.columns]
    if unknown:
        raise ValueError(f"orders for '{unknown[0]}', which has no prices")
    orders = _closed_when_data_ends(prices, orders.reindex(index=prices.index, columns=prices.columns))
    periods = periods_per_year or annualization(prices.index)[0]
    book = _fill(prices, orders, cost)
    first = np.flatnonzero(book["traded"].abs().sum(axis=1).to_numpy() > 0)
    if not len(first) or first[0] >= len(prices) - 2:
        raise ValueError("the signals never open a position early enough to earn two bars of returns")
    start = int(first[0])
    stats, returns, equity = _statistics_of(book, start, periods, risk_free)
    stats["trades"] = int((book["traded"] != 0).to_numpy().sum())
    entry = orders.notna() & orders.notna().cumsum().eq(1)  # each ticker's first order
    hold_orders = pd.DataFrame(np.where(entry, 1.0, np.nan), index=orders.index, columns=orders.columns)
    hold = _fill(prices, _closed_when_data_ends(prices, hold_orders), cost)
    hold_stats, _, hold_equity = _statistics_of(hold, start, periods, risk_free)
    hold_stats["trades"] = int((hold["traded"] != 0).to_numpy().sum())
    traded = book["traded"].stack()
    traded = traded[traded != 0]
    trades = pd.DataFrame({"time": traded.index.get_level_values(0), "ticker": traded.index.get_level_values(1),
                           "value": traded.to_numpy(), "weight": book["weights"].stack()[traded.index].to_numpy(),
                           "cost": traded.abs().to_numpy() * cost})
    return Simulation(returns, equity, book["held"].iloc[start + 1:], trades, stats, hold_stats, hold_equity)


def _closed_when_data_ends(prices: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """``orders`` with a sale at each ticker's last price when its data ends before the others'
    (a delisted ticker leaves the portfolio at its last close, into its sleeve's cash)."""
    orders = orders.copy()
    for ticker in prices.columns:
        last = prices[ticker].last_valid_index()
        if last is not None and last != prices.index[-1] and orders[ticker].loc[:last].notna().any():
            orders.loc[last, ticker] = 0.0
    return orders


def _fill(prices: pd.DataFrame, orders: pd.DataFrame, cost: float) -> dict:
    """Sleeve by sleeve, bar by bar: ``traded`` (signed value filled at each bar), ``weights``
    (each holding over the equity after the bar's fills), ``held`` (the weights held over each
    bar: the last bar's), ``equity`` and ``turnover`` (value traded over the equity before it)."""
    quote = prices.to_numpy(dtype=np.float64)
    carried = prices.ffill().to_numpy(dtype=np.float64)
    target = orders.to_numpy(dtype=np.float64)
    bars, count = quote.shape
    shares, cash = np.zeros(count), np.full(count, 1.0 / count)
    invested, traded, equity = np.zeros((bars, count)), np.zeros((bars, count)), np.zeros(bars)
    for i in range(bars):
        mark = np.where(np.isnan(carried[i]), 0.0, carried[i])
        before = cash + shares * mark
        fills = ~np.isnan(target[i]) & ~np.isnan(quote[i])
        if fills.any():
            price = quote[i, fills]
            change = target[i, fills] * before[fills] / price - shares[fills]
            # a buy spends at most the sleeve's cash, its fee included (no borrowing)
            affordable = np.maximum(cash[fills], 0.0) / (price * (1 + cost))
            change = np.where(change > 0, np.minimum(change, affordable), change)
            change[np.abs(change * price) < 1e-15] = 0.0  # a target already held trades nothing
            cash[fills] -= change * price + np.abs(change * price) * cost
            shares[fills] += change
            traded[i, fills] = change * price
        invested[i] = shares * mark
        equity[i] = (cash + invested[i]).sum()
    weights = invested / equity[:, None]

    def frame(values: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(values, index=prices.index, columns=prices.columns)
    before = np.concatenate([[1.0], equity[:-1]])
    return {"traded": frame(traded), "weights": frame(weights),
            "held": frame(np.vstack([np.zeros((1, count)), weights[:-1]])),
            "equity": pd.Series(equity, index=prices.index),
            "turnover": pd.Series(np.abs(traded).sum(axis=1) / before, index=prices.index)}


def _statistics_of(book: dict, start: int, periods: int, risk_free: float) -> tuple[dict, pd.Series, pd.Series]:
    """Statistics, returns and equity of a filled book: the returns of the bars after the first
    fill (at bar ``start``), the first one measured from the equity before the fill, so that the
    fill's cost is in it and n counts the bars a position was held."""
    equity = book["equity"]
    returns = (equity / equity.shift(1) - 1).iloc[start + 1:]
    returns.iloc[0] = equity.iloc[start + 1] - 1  # the equity is 1 until the first fill
    stats = statistics(returns, book["held"].iloc[start + 1:], book["turnover"].iloc[start:], periods, risk_free)
    return stats, returns, equity.iloc[start:]


def annualization(index: pd.Index) -> tuple[int, str]:
    """Bars a year, and why, from the timestamps: exchange sessions (no weekend bars) 252,
    calendar days (weekend bars present) 365, intraday bars the bars of a median day times either,
    weekly 52, monthly 12, quarterly 4, yearly 1; a ValueError when the timestamps do not tell."""
    base = (getattr(index, "freqstr", None) or "").split("-")[0].lstrip("0123456789")
    if base in PERIODS_PER_YEAR:
        return PERIODS_PER_YEAR[base], f"{PERIODS_PER_YEAR[base]} bars a year ({base} frequency)"
    if not isinstance(index, pd.DatetimeIndex) or len(index) < 3:
        raise ValueError("cannot tell bars a year from the timestamps; pass periods_per_year")
    days = pd.Series(index).diff().median() / pd.Timedelta(days=1)
    weekends = bool((index.day_of_week >= 5).mean() > 0.05)
    year = 365 if weekends else 252
    kind = "calendar days, weekends included" if weekends else "exchange sessions, no weekend bars"
    if days < 0.8:
        per_day = int(pd.Series(index.normalize()).value_counts().median())
        return per_day * year, f"{per_day * year} bars a year ({per_day} a day, {year} days: {kind})"
    if days <= 4.5:
        return year, f"{year} bars a year: {kind}"
    for low, high, periods in ((6, 8, 52), (27, 32, 12), (88, 93, 4), (360, 367, 1)):
        if low <= days <= high:
            return periods, f"{periods} bars a year (median gap {days:.0f} days)"
    raise ValueError(f"cannot tell bars a year from a median gap of {days:.1f} days; pass periods_per_year")


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
