"""Trading simulation: next-bar execution, costs, and every statistic against hand-computed values."""

import numpy as np
import pandas as pd
import pytest

from forecast.evaluation.trading import periods_per_year_of, signals, simulate, statistics

DAYS = pd.bdate_range("2020-01-06", periods=6)
# +10 %, +10 %, -10 %, flat, +10 %
CLOSES = pd.DataFrame({"A": [100, 110, 121, 108.9, 108.9, 119.79]}, index=DAYS)
# the signal of each bar's close: long, long, flat, flat, long, flat
SIGNAL = pd.DataFrame({"A": [1, 1, 0, 0, 1, 0.0]}, index=DAYS)


def test_next_close_fills_one_bar_after_the_signal_and_pays_costs():
    sim = simulate(CLOSES, SIGNAL, cost_bps=10)
    # fills at the closes of bars 1 (buy), 3 (sell), 5 (buy); held over bars 2 and 3.
    # bar 1: the fill's cost only; bar 2: +10 %; bar 3: -10 % and the sale's cost; bar 4: flat;
    # bar 5: the last buy's cost.
    assert sim.returns.tolist() == pytest.approx([-0.001, 0.10, -0.101, 0.0, -0.001], abs=1e-12)
    assert sim.positions["A"].tolist() == [0, 1, 1, 0, 0]
    assert sim.trades["change"].tolist() == [1, -1, 1] and sim.trades["cost"].tolist() == pytest.approx([0.001] * 3)


def test_acting_on_the_signal_bar_itself_would_give_another_result():
    sim = simulate(CLOSES, SIGNAL)
    # trading at the close that made the signal would hold over bars 1, 2 and 5: +10 %, +10 %, +10 %
    same_bar = (1.1 * 1.1 * 1.1) - 1
    assert sim.statistics["total_return"] != pytest.approx(same_bar)
    assert sim.statistics["total_return"] == pytest.approx(1.1 * 0.9 - 1)  # held over bars 2 and 3


def test_statistics_by_hand():
    stats = simulate(CLOSES, SIGNAL, cost_bps=10).statistics
    r = [-0.001, 0.10, -0.101, 0.0, -0.001]
    # equity 0.999, 1.0989, 0.9879111, 0.9879111, 0.98692319
    assert stats["total_return"] == pytest.approx(0.98692319 - 1)
    assert stats["cagr"] == pytest.approx(0.98692319 ** (252 / 5) - 1)
    mean = sum(r) / 5  # -0.0006
    std = (sum((x - mean) ** 2 for x in r) / 4) ** 0.5  # ddof = 1
    assert stats["volatility"] == pytest.approx(std * 252 ** 0.5)
    assert stats["sharpe"] == pytest.approx(mean / std * 252 ** 0.5)
    downside = ((0.001 ** 2 + 0.101 ** 2 + 0.001 ** 2) / 5) ** 0.5  # over all five bars
    assert stats["sortino"] == pytest.approx(mean / downside * 252 ** 0.5)
    # the peak 1.0989 after bar 2; the lowest point after: 0.98692319
    assert stats["max_drawdown"] == pytest.approx(0.98692319 / 1.0989 - 1)
    assert stats["max_drawdown_bars"] == 3  # bars 3, 4, 5 below the peak (bar 1 below the start)
    assert stats["calmar"] == pytest.approx(stats["cagr"] / abs(stats["max_drawdown"]))
    assert stats["hit_rate"] == 0.5  # in the market on bars 2 (+) and 3 (-)
    assert stats["exposure"] == pytest.approx(2 / 5)
    assert stats["turnover"] == pytest.approx(3 / (5 / 252))  # three whole-equity trades in 5 bars
    assert stats["trades"] == 3


def test_buy_and_hold_enters_at_the_first_fill_and_pays_once():
    hold = simulate(CLOSES, SIGNAL, cost_bps=10).buy_and_hold
    # bought at bar 1's close (110) less 10 bps, held to 119.79
    assert hold["total_return"] == pytest.approx(119.79 / 110 * 0.999 - 1)
    assert hold["max_drawdown"] == pytest.approx(108.9 / 121 - 1)
    assert hold["trades"] == 1 and hold["exposure"] == 1.0


def test_next_open_fills_at_the_next_open_with_overnight_and_intraday_parts():
    closes = pd.DataFrame({"A": [100, 110, 121, 108.9]}, index=DAYS[:4])
    opens = pd.DataFrame({"A": [100, 105, 115, 120]}, index=DAYS[:4])
    signal = pd.DataFrame({"A": [1, 0, 0, 0.0]}, index=DAYS[:4])
    sim = simulate(closes, signal, execution="next_open", opens=opens, cost_bps=10)
    # bought at bar 1's open (105): earns 110/105 that day; sold at bar 2's open: earns the
    # overnight 115/110; each fill costs 10 bps
    assert sim.returns.tolist() == pytest.approx([0.999 * 110 / 105 - 1, 115 / 110 * 0.999 - 1, 0.0])


def test_equal_weight_portfolio_keeps_cash_for_flat_tickers():
    closes = pd.DataFrame({"A": [100, 100, 110, 121], "B": [50, 50, 40, 40]}, index=DAYS[:4])
    signal = pd.DataFrame({"A": [1, 1, 1, 1.0], "B": [0, 0, 0, 0.0]}, index=DAYS[:4])
    sim = simulate(closes, signal)
    # half the equity in A from bar 1's close, half in cash
    assert sim.returns.tolist() == pytest.approx([0.0, 0.05, 0.05])
    assert sim.buy_and_hold["total_return"] == pytest.approx((121 / 100 + 40 / 50) / 2 - 1)


def test_long_short_signals_threshold_and_volatility_sizing():
    forecasts = pd.DataFrame({"A": [0.02, -0.02, 0.001, np.nan]})
    assert signals(forecasts, "long-only").A.tolist() == [1, 0, 1, 0]
    assert signals(forecasts, "long-short", threshold=0.005).A.tolist() == [1, -1, 0, 0]
    sized = signals(forecasts, "long-short", volatility=pd.DataFrame({"A": [0.04, 0.01, 0.01, 0.01]}), cap=0.8)
    assert sized.A.tolist() == pytest.approx([0.5, -0.8, 0.1, 0])


def test_periods_per_year_follow_the_frequency():
    assert periods_per_year_of(pd.bdate_range("2020-01-01", periods=10)) == 252
    assert periods_per_year_of(pd.date_range("2020-01-31", periods=10, freq="ME")) == 12
    assert periods_per_year_of(pd.date_range("2020-01-05", periods=10, freq="W-SUN")) == 52
    with pytest.raises(ValueError, match="periods_per_year"):
        periods_per_year_of(pd.date_range("2020-01-01", periods=10, freq="h"))


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
    # a risk-free rate: empyrical takes it per period
    rf = 0.02
    per_bar = (1 + rf) ** (1 / 252) - 1
    with_rf = statistics(returns, held, pd.Series(0.0, index=returns.index), 252, risk_free=rf)
    assert with_rf["sharpe"] == pytest.approx(empyrical.sharpe_ratio(returns, risk_free=per_bar), rel=1e-9)
