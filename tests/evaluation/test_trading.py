"""Trading simulation: fills, costs, drift, missing and ending prices, and every statistic, against
hand-computed values and against vectorbt."""

import numpy as np
import pandas as pd
import pytest

from forecast.evaluation.trading import annualization, signals, simulate, statistics

DAYS = pd.bdate_range("2020-01-06", periods=6)
# +10 %, +10 %, -10 %, flat, +10 %
CLOSES = pd.DataFrame({"A": [100, 110, 121, 108.9, 108.9, 119.79]}, index=DAYS)
# orders at the fill bars: buy at bar 1, sell at bar 3, buy at bar 5 (no order elsewhere)
ORDERS = pd.DataFrame({"A": [np.nan, 1, np.nan, 0, np.nan, 1]}, index=DAYS)
COST = 0.001
# bar 1: the whole sleeve buys, its fee included (1 / 1.001 held); bar 2: +10 % on that, the
# first return, measured from the equity before the fill; bar 3: sold at 108.9 (-10 %), the fee
# of the sale; bar 4: cash; bar 5: bought again, the fee
RETURNS = [1.1 / 1.001 - 1, 0.9 * 0.999 - 1, 0.0, 1 / 1.001 - 1]


def test_orders_fill_at_their_bar_and_pay_their_costs():
    sim = simulate(CLOSES, ORDERS, cost=COST)
    assert sim.returns.tolist() == pytest.approx(RETURNS, abs=1e-12)
    assert sim.positions["A"].tolist() == pytest.approx([1, 1, 0, 0])  # held over each bar
    assert (sim.trades["value"] > 0).tolist() == [True, False, True]
    assert sim.trades["cost"].tolist() == pytest.approx((sim.trades["value"].abs() * COST).tolist())


def test_statistics_by_hand():
    stats = simulate(CLOSES, ORDERS, cost=COST).statistics
    r = np.array(RETURNS)
    equity = np.cumprod(1 + r)
    assert stats["total_return"] == pytest.approx(equity[-1] - 1)
    assert stats["cagr"] == pytest.approx(equity[-1] ** (252 / 4) - 1)
    std = r.std(ddof=1)
    assert stats["volatility"] == pytest.approx(std * 252 ** 0.5)
    assert stats["sharpe"] == pytest.approx(r.mean() / std * 252 ** 0.5)
    downside = np.sqrt(np.mean(np.minimum(r, 0) ** 2))  # over all four bars
    assert stats["sortino"] == pytest.approx(r.mean() / downside * 252 ** 0.5)
    assert stats["max_drawdown"] == pytest.approx(equity[-1] / equity[0] - 1)  # peak after bar 2
    assert stats["max_drawdown_bars"] == 3
    assert stats["calmar"] == pytest.approx(stats["cagr"] / abs(stats["max_drawdown"]))
    assert stats["hit_rate"] == 0.5  # in the market over bars 2 (+) and 3 (-)
    assert stats["exposure"] == pytest.approx(2 / 4)
    traded = [1 / 1.001, 0.99 / 1.001, equity[2] / 1.001]  # each fill's value over the equity before it
    before = [1.0, equity[0], equity[2]]
    assert stats["turnover"] == pytest.approx(sum(t / b for t, b in zip(traded, before)) / (4 / 252))
    assert stats["trades"] == 3


def test_buy_and_hold_enters_at_the_first_fill_drifts_and_pays_its_cost():
    hold = simulate(CLOSES, ORDERS, cost=COST).buy_and_hold
    assert hold["total_return"] == pytest.approx(119.79 / 110 / 1.001 - 1)
    assert hold["max_drawdown"] == pytest.approx(108.9 / 121 - 1)
    assert hold["trades"] == 1 and hold["exposure"] == pytest.approx(1.0)


def test_sleeves_drift_between_orders_and_cash_stays_for_flat_tickers():
    closes = pd.DataFrame({"A": [100, 100, 110, 121], "B": [50, 50, 40, 40]}, index=DAYS[:4])
    orders = pd.DataFrame({"A": [np.nan, 1, np.nan, np.nan], "B": [np.nan, 0, np.nan, np.nan]}, index=DAYS[:4])
    sim = simulate(closes, orders)
    # half the equity in A from bar 1, held without rebalancing; B's half in cash
    assert sim.returns.tolist() == pytest.approx([0.05, 1.105 / 1.05 - 1])
    # buy-and-hold: each half bought at its ticker's first order, held
    assert sim.buy_and_hold["total_return"] == pytest.approx((121 / 100 + 40 / 50) / 2 - 1)


def test_a_missing_price_is_carried_and_a_ticker_whose_data_ends_is_sold_at_its_last_price():
    closes = pd.DataFrame({"A": [100, 100, np.nan, 121, 121], "B": [50, 50, 40, np.nan, np.nan]}, index=DAYS[:5])
    orders = pd.DataFrame({"A": [np.nan, 1, 1, np.nan, np.nan], "B": [np.nan, 1, np.nan, np.nan, np.nan]},
                          index=DAYS[:5])
    sim = simulate(closes, orders)
    # bar 2: A has no price (valued at 100; its order waits for none), B falls to 40;
    # B's data ends at bar 2: sold there, its half then cash at 0.4
    assert sim.equity.tolist() == pytest.approx([1.0, 0.9, 0.5 * 1.21 + 0.4, 0.5 * 1.21 + 0.4])
    sold = sim.trades[sim.trades["ticker"] == "B"]
    assert sold["time"].tolist() == [DAYS[1], DAYS[2]] and sold["value"].iloc[-1] == pytest.approx(-0.4)
    # buy-and-hold values the same way: no jump when a price is missing
    assert simulate(closes, orders).buy_and_hold_equity.tolist() == pytest.approx(sim.equity.tolist())


def test_long_short_signals_threshold_and_volatility_sizing():
    forecasts = pd.DataFrame({"A": [0.02, -0.02, 0.001, np.nan]})
    assert signals(forecasts, "long-only").A.tolist()[:3] == [1, 0, 1]
    assert np.isnan(signals(forecasts, "long-only").A.iloc[3])  # no forecast: no order, not flat
    assert signals(forecasts, "long-short", threshold=0.005).A.tolist()[:3] == [1, -1, 0]
    sized = signals(forecasts, "long-short", volatility=pd.DataFrame({"A": [0.04, 0.01, 0.01, 0.01]}), cap=0.8)
    assert sized.A.tolist()[:3] == pytest.approx([0.5, -0.8, 0.1])


def test_annualization_follows_the_calendar_of_the_bars():
    assert annualization(pd.bdate_range("2020-01-01", periods=10))[0] == 252
    assert annualization(pd.date_range("2020-01-01", periods=30, freq="D"))[0] == 365  # weekends traded
    assert annualization(pd.date_range("2020-01-31", periods=10, freq="ME"))[0] == 12
    assert annualization(pd.date_range("2020-01-05", periods=10, freq="W-SUN"))[0] == 52
    hours = pd.DatetimeIndex([d + pd.Timedelta(hours=h) for d in pd.bdate_range("2020-01-06", periods=5)
                              for h in range(9, 16)])
    assert annualization(hours)[0] == 7 * 252


def test_a_year_of_ten_percent_on_calendar_days_has_a_cagr_of_ten_percent():
    days = pd.date_range("2021-01-01", periods=366, freq="D")
    closes = pd.DataFrame({"A": 100 * 1.1 ** (np.arange(366) / 365)}, index=days)
    orders = pd.DataFrame({"A": [1.0] + [np.nan] * 365}, index=days)
    stats = simulate(closes, orders).statistics
    assert stats["periods_per_year"] == 365 and stats["cagr"] == pytest.approx(0.10, rel=1e-9)


def test_statistics_agree_with_empyrical_on_a_real_ticker(data_dir):
    empyrical = pytest.importorskip("empyrical")
    prices = pd.read_csv(data_dir / "stocks" / "daily" / "AAPL.csv", index_col="Date", parse_dates=True)
    returns = prices["Adj Close"].pct_change().dropna()
    held = pd.DataFrame({"AAPL": 1.0}, index=returns.index)
    stats = statistics(returns, held, pd.Series(0.0, index=returns.index), 252, risk_free=0.0)
    assert stats["sharpe"] == pytest.approx(empyrical.sharpe_ratio(returns), rel=1e-9)
    assert stats["sortino"] == pytest.approx(empyrical.sortino_ratio(returns), rel=1e-9)
    assert stats["max_drawdown"] == pytest.approx(empyrical.max_drawdown(returns), rel=1e-9)
    assert stats["cagr"] == pytest.approx(empyrical.annual_return(returns), rel=1e-9)
    assert stats["volatility"] == pytest.approx(empyrical.annual_volatility(returns), rel=1e-9)
    assert stats["calmar"] == pytest.approx(empyrical.calmar_ratio(returns), rel=1e-9)
    rf = 0.02  # empyrical takes it per period
    per_bar = (1 + rf) ** (1 / 252) - 1
    with_rf = statistics(returns, held, pd.Series(0.0, index=returns.index), 252, risk_free=rf)
    assert with_rf["sharpe"] == pytest.approx(empyrical.sharpe_ratio(returns, risk_free=per_bar), rel=1e-9)


@pytest.mark.parametrize("fill", ["next-close", "next-open"])
@pytest.mark.parametrize("positions", ["long-only", "long-short"])
@pytest.mark.parametrize("cost", [0.0, 0.001])
def test_equity_agrees_with_vectorbt_on_real_tickers(data_dir, fill, positions, cost):
    vbt = pytest.importorskip("vectorbt")
    frames = {t: pd.read_csv(data_dir / "stocks" / "daily" / f"{t}.csv", index_col="Date", parse_dates=True)
              for t in ("AAPL", "KO")}
    # the fill prices: adjusted closes, or opens adjusted the same way (Open x Adj Close / Close)
    prices = pd.DataFrame({t: f["Adj Close"] if fill == "next-close" else f["Open"] * f["Adj Close"] / f["Close"]
                           for t, f in frames.items()})
    rng = np.random.default_rng(7)
    low = -1.0 if positions == "long-short" else 0.0
    orders = pd.DataFrame(rng.choice([low, 0.5, 1.0], size=prices.shape), index=prices.index, columns=prices.columns)
    orders.iloc[:20] = np.nan
    orders = orders.where(rng.random(prices.shape) < 0.4)  # an order on about two bars in five
    ours = simulate(prices, orders, cost=cost)
    theirs = vbt.Portfolio.from_orders(prices, orders, size_type="targetpercent", fees=cost, init_cash=0.5,
                                       direction="both", cash_sharing=False, freq="D").value().sum(axis=1)
    assert len(ours.equity) > 1000
    np.testing.assert_allclose(ours.equity.to_numpy(), theirs.loc[ours.equity.index].to_numpy(), rtol=0, atol=1e-8)
