"""The strategy backtest as a quant checks it: oracles under both fill rules, causal data, tickers
that come and go, positions held between origins, tests that hold their size, and folds that run
in processes or on Dask with the same forecasts."""

import numpy as np
import pandas as pd
import pytest

import forecast
from forecast.config import RunConfig
from forecast.data.returns import to_returns
from forecast.errors import DataError
from forecast.evaluation.skill import random_walk_skill
from forecast.workflows.strategy import read_prices, strategy_backtest, trade
from forecast.workflows.walkforward import Backtest, walk_forward

DAYS = pd.bdate_range("2018-01-01", periods=300)


def prices_csv(path, rows: int = 300, alternating: bool = False, tickers=("AAA",), spans=None):
    """Daily bars in yfinance's layout (Open, Close, Adj Close); ``spans`` gives each ticker's
    first and last row in a long file."""
    frames = []
    for k, ticker in enumerate(tickers):
        rng = np.random.default_rng(k)
        moves = np.where(np.arange(rows) % 2 == 0, 0.012, -0.01) if alternating else 0.01 * rng.normal(size=rows)
        close = 50 * np.exp(np.cumsum(moves))
        opens = close * np.exp(0.004 * rng.normal(size=rows))
        frame = pd.DataFrame({"Date": DAYS[:rows], "Open": opens, "Close": close, "Adj Close": close * 0.9})
        if spans:
            frame = frame.iloc[spans[ticker][0]:spans[ticker][1]]
        frames.append(frame.assign(unique_id=ticker) if len(tickers) > 1 else frame)
    pd.concat(frames).to_csv(path, index=False)
    return path


def oracle(prices, config: RunConfig, wrong_bar: bool = False) -> Backtest:
    """A walk-forward whose forecasts are the truth of each step (or, ``wrong_bar``, the truth of
    the step before it: the bar that has closed when the order fills)."""
    horizon = config.model.horizon
    rows, history = [], {}
    for sid, frame in to_returns(prices.model_data, "log").frames.items():
        values, index = frame[prices.target].to_numpy(), frame.index
        history[sid] = frame.iloc[:60]
        for t in range(60, len(frame) - horizon, config.backtest.step):
            for step in range(1, horizon + 1):
                truth = values[t + step - 1 if wrong_bar else t + step]
                rows.append({"fold": 0, "series": sid, "origin": index[t], "timestamp": index[t + step], "step": step,
                             "target": prices.target, "actual": values[t + step], "forecast": truth, "naive": values[t]})
    folds = pd.DataFrame([{"fold": 0, "training_windows": 1000, "few_windows": False}])
    return Backtest(pd.DataFrame(rows), folds, [], history)


@pytest.mark.parametrize("execution", ["next-close", "next-open"])
def test_the_truth_of_the_held_bar_makes_money_on_every_bar_and_the_wrong_bar_does_not(tmp_path, execution):
    data = prices_csv(tmp_path / "p.csv", alternating=True)
    config = RunConfig.build({"model": "linear", "lookback": 10, "horizon": 2, "positions": "long-short",
                              "cost_bps": 0.0, "execution": execution})
    prices = read_prices(data, config)
    truth = trade(oracle(prices, config), prices, config)
    held = truth.equity["strategy_return"].iloc[1:]
    assert (held > 0).all() and truth.stats["strategy"]["sharpe"] > 10
    wrong = trade(oracle(prices, config, wrong_bar=True), prices, config)
    assert wrong.stats["strategy"]["total_return"] < -0.5 and (wrong.equity["strategy_return"].iloc[1:] < 0).mean() > 0.9


def test_a_step_of_three_holds_each_position_until_the_next_origin_and_trades_steps_2_to_4(tmp_path):
    data = prices_csv(tmp_path / "p.csv")
    config = RunConfig.build({"model": "linear", "lookback": 10, "horizon": 4, "step": 3, "cost_bps": 0.0,
                              "positions": "long-short"})
    prices = read_prices(data, config)
    walk = oracle(prices, config)
    result = trade(walk, prices, config)
    assert (np.diff(DAYS.get_indexer(result.trades["time"])) % 3 == 0).all()  # orders only at origins' next bars
    # from one fill to the next the position earns steps 2..4 of its origin: with the truth, a gain
    fills = walk.forecasts.loc[walk.forecasts["step"] == 1, "timestamp"].unique()
    at_fills = result.equity["strategy"].reindex(fills).dropna()
    assert len(at_fills) > 50 and (np.diff(at_fills.to_numpy()) > 0).all()
    # and the bars between are held, not flat
    assert (result.equity["strategy_return"].iloc[1:] != 0).all()
    with pytest.raises(DataError, match="horizon 4"):
        strategy_backtest(data, RunConfig.build({"model": "linear", "lookback": 10, "horizon": 2, "step": 3}))


def test_prices_after_an_origin_change_no_forecast_signal_fill_or_equity_before_it(tmp_path):
    data = prices_csv(tmp_path / "p.csv", tickers=("AAA", "BBB"))
    config = RunConfig.build({"model": "linear", "lookback": 10, "horizon": 2, "start": "100", "refit_every": 20,
                              "positions": "long-short"})
    changed = pd.read_csv(data)
    later = changed["Date"] > str(DAYS[200].date())
    rng = np.random.default_rng(5)
    for column in ("Open", "Close", "Adj Close"):
        changed.loc[later, column] *= np.exp(0.05 * rng.normal(size=later.sum()))
    changed.to_csv(tmp_path / "q.csv", index=False)
    runs = [strategy_backtest(path, config) for path in (data, tmp_path / "q.csv")]
    cut = DAYS[200]
    first, second = ([run.walk.forecasts.loc[run.walk.forecasts["origin"] <= cut, "forecast"] for run in runs])
    assert len(first) > 100 and first.equals(second)
    fills = [run.trades[run.trades["time"] <= cut].reset_index(drop=True) for run in runs]
    pd.testing.assert_frame_equal(*fills)
    pd.testing.assert_frame_equal(*(run.equity.loc[:cut] for run in runs))
    assert not runs[0].equity.loc[cut:].iloc[2:].equals(runs[1].equity.loc[cut:].iloc[2:])  # the change is seen after


def test_a_late_listed_and_an_early_ending_ticker_backtest_in_one_long_file(tmp_path):
    spans = {"AAA": (0, 300), "LATE": (150, 300), "GONE": (0, 220)}
    data = prices_csv(tmp_path / "p.csv", tickers=tuple(spans), spans=spans)
    config = RunConfig.build({"model": "linear", "lookback": 10, "horizon": 2, "start": "100", "refit_every": 20})
    result = strategy_backtest(data, config)
    origins = result.walk.forecasts.groupby("series")["origin"]
    # LATE joins the first fold with 2 x (look-back + horizon) of its rows before the cut
    assert origins.min()["LATE"] >= DAYS[150 + 24] and origins.max()["GONE"] <= DAYS[219 - 2]
    gone = result.trades[result.trades["ticker"] == "GONE"]
    assert gone["time"].max() <= DAYS[219] and result.equity[["strategy", "buy_and_hold"]].notna().all().all()
    assert {row["series"] for row in result.stats["skill"]} == set(spans)


def test_interpolation_is_refused_and_ffill_never_fills_from_later_rows(tmp_path):
    frame = pd.read_csv(prices_csv(tmp_path / "p.csv"))
    frame.loc[[0, 1, 120], "Adj Close"] = np.nan
    frame.to_csv(tmp_path / "gaps.csv", index=False)
    with pytest.raises(DataError, match="from the past only"):
        strategy_backtest(tmp_path / "gaps.csv", RunConfig.build({"model": "linear", "lookback": 10, "fill": "interpolate"}))
    prices = read_prices(tmp_path / "gaps.csv", RunConfig.build({"model": "linear", "lookback": 10, "fill": "ffill"}))
    closes = prices.traded.frames[prices.traded.ids[0]][prices.target]
    assert closes.index[0] == DAYS[2]  # the two leading gaps dropped, not filled from row 2
    assert closes[DAYS[120]] == closes[DAYS[119]]
    assert any("leading rows" in note for note in prices.traded.notes)


def test_direction_tests_hold_their_size_without_skill():
    rng = np.random.default_rng(0)
    horizon, origins, runs = 10, 150, 500
    rejected = {"pt": 0, "binomial": 0, "drift_binomial": 0, "drift_pt": 0}
    for run in range(runs):
        returns = rng.normal(0.0005 if run % 2 else 0.0, 0.01, origins + horizon)
        drift = returns + 0.004  # a rising market: most days up
        steps = np.arange(1, horizon + 1)
        rows = {"series": "x", "target": "r", "origin": np.repeat(np.arange(origins), horizon),
                "step": np.tile(steps, origins), "naive": 0.0}
        index = (np.arange(origins)[:, None] + steps[None, :]).ravel()
        for name, actual, noise in (("", returns, rng.normal(size=origins * horizon)),
                                    ("drift_", drift, rng.normal(0.7, 1.0, origins * horizon))):
            frame = pd.DataFrame({**rows, "actual": actual[index], "forecast": noise})  # no skill: independent
            row = random_walk_skill(frame, {"x": pd.DataFrame({"r": returns[:50]})}, "zero").iloc[0]
            rejected[name + "pt"] += row["direction_pt_p"] < 0.05
            rejected[name + "binomial"] += row["direction_binomial_p"] < 0.05
    rates = {name: count / runs for name, count in rejected.items()}
    assert all(rate <= 0.08 for rate in rates.values()), rates


def test_folds_in_processes_and_on_dask_give_the_forecasts_of_one_process():
    pytest.importorskip("distributed")
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"y": np.cumsum(rng.normal(size=260))}, index=pd.date_range("2020-01-01", periods=260))
    model = forecast.Forecaster(model="linear", lookback=8, horizon=2)
    one = walk_forward(model, data, start=120, refit_every=30).forecasts
    for jobs, scheduler in ((2, None), (2, "local")):
        other = walk_forward(model, data, start=120, refit_every=30, jobs=jobs, scheduler=scheduler).forecasts
        pd.testing.assert_frame_equal(one, other)
