"""The strategy backtest: walk-forward forecasts of a price series' returns, their skill against
the random walk, and a trading simulation of their signs. One function that the command line
and the experiments both call; see DESIGN.md ("Trading") for the conventions."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from forecast.api import Forecaster
from forecast.config import RunConfig
from forecast.data.registry import read_data
from forecast.data.returns import to_returns
from forecast.data.series import SeriesData
from forecast.errors import DataError
from forecast.evaluation.skill import random_walk_skill
from forecast.evaluation.trading import expected_returns, signals, simulate
from forecast.workflows.runs import check_out, run_folder, set_threads, strict_json, write_manifest
from forecast.workflows.walkforward import Backtest, walk_forward


@dataclass
class Prices:
    """What a backtest reads of its data: the model's series (the price column and any
    covariates), the prices to trade (with Open and Close for next-open fills), and the name of
    the price column."""

    model_data: SeriesData
    traded: SeriesData
    target: str


@dataclass
class StrategyBacktest:
    """The walk-forward (``forecasts``, ``folds`` and models), the equity curves of the strategy
    and of buy-and-hold (``equity``), the ``trades``, and ``stats`` (trading statistics, skill
    per series, folds and data notes, JSON-ready)."""

    walk: Backtest
    equity: pd.DataFrame
    trades: pd.DataFrame
    stats: dict
    target: str


def read_prices(data, config: RunConfig) -> Prices:
    """``data`` read once: the price column is the ``target`` setting, else Adj Close, else the
    only column."""
    given, covariates = config.data.target, config.data.covariates or []
    if given and len(given) > 1:
        raise DataError(f"target: a backtest trades one price column, not {', '.join(given)}")
    rows = config.model.lookback + config.model.horizon + 2
    extra = ["Open", "Close"] if config.backtest.execution == "next-open" else []
    options = config.read_options()
    if given:
        wanted = list(dict.fromkeys(given + extra + covariates))
        series = read_data(data, target=wanted[:1], covariates=wanted[1:], min_rows=rows, **options)
        target = given[0]
    else:
        series = read_data(data, min_rows=rows, **options)
        columns = series.columns
        if "Adj Close" in columns:
            target = "Adj Close"
        elif len(columns) == 1:
            target = columns[0]
        else:
            raise DataError(f"{data}: name the price column with target (columns: {', '.join(columns)})")
        absent = [c for c in extra + covariates if c not in columns]
        if absent:
            raise DataError(f"{data}: column '{absent[0]}' not found; columns are: {', '.join(columns)}")
    prices = list(dict.fromkeys([target] + extra))
    return Prices(_columns(series, [target], covariates), _columns(series, prices, []), target)


def strategy_backtest(data, config: RunConfig, progress: bool = False) -> StrategyBacktest:
    """Read ``data``, forecast its returns walk-forward with the configured model, score the
    forecasts against the random walk and trade their signs as ``config.backtest`` says."""
    prices = read_prices(data, config)
    settings = config.backtest
    series = to_returns(prices.model_data, settings.returns)
    try:
        walk = walk_forward(Forecaster(**config.keywords()), series, start=settings.start,
                            step=settings.step, refit_every=settings.refit_every or False,
                            window=settings.window, train_length=settings.train_length,
                            val=config.training.val, progress=progress)
    except ValueError as error:  # the walk-forward arguments, checked against the data
        if isinstance(error, DataError):
            raise
        raise DataError(f"{prices.model_data.name}: {error}") from None
    return trade(walk, prices, config)


def trade(walk: Backtest, prices: Prices, config: RunConfig) -> StrategyBacktest:
    """The trading simulation and skill of a walk-forward's forecasts."""
    settings = config.backtest
    frame = walk.forecasts
    exposure = signals(expected_returns(frame, settings.returns), settings.positions, settings.threshold)
    closes = pd.DataFrame({sid: f[prices.target] for sid, f in prices.traded.frames.items()})
    opens = None
    if settings.execution == "next-open":
        # yfinance's Open is not adjusted for dividends and splits; Adj Close / Close adjusts it
        opens = pd.DataFrame({sid: f["Open"] * f[prices.target] / f["Close"]
                              for sid, f in prices.traded.frames.items()})
    try:
        trading = simulate(closes, exposure, settings.execution.replace("-", "_"), opens,
                           settings.cost_bps, settings.slippage_bps)
    except ValueError as error:
        raise DataError(f"{prices.model_data.name}: {error}") from None
    skill = random_walk_skill(frame, walk.history, "zero" if settings.returns != "none" else "naive")
    data = prices.model_data
    stats = {"strategy": trading.statistics, "buy_and_hold": trading.buy_and_hold,
             "skill": skill.to_dict(orient="records"),
             "folds": json.loads(walk.folds.to_json(orient="records", date_format="iso")),
             "data": {"source": data.name, "rows": len(data), "series": data.ids, "notes": data.notes}}
    equity = pd.DataFrame({"strategy": trading.equity, "buy_and_hold": trading.buy_and_hold_equity,
                           "strategy_return": trading.returns}).rename_axis("time")
    return StrategyBacktest(walk, equity, trading.trades, stats, prices.target)


def _columns(series: SeriesData, target: list[str], covariates: list[str]) -> SeriesData:
    """``series`` with only these columns, in these roles."""
    return replace(series, frames={sid: f[target + covariates] for sid, f in series.frames.items()},
                   target=target, covariates=covariates)


def backtest_run(data, config: RunConfig, out: Path, *, report: bool = False, progress: bool = False,
                 command: str = "") -> StrategyBacktest:
    """:func:`strategy_backtest`, written to the run folder ``out`` all at once: forecasts.csv,
    equity.csv, trades.csv, stats.json (strict JSON), config.yaml and run.json."""
    started = time.perf_counter()
    check_out(out)
    set_threads(config.runtime.threads)
    with run_folder(out) as scratch:
        result = strategy_backtest(data, config, progress=progress)
        result.walk.forecasts.to_csv(scratch / "forecasts.csv", index=False)
        result.equity.to_csv(scratch / "equity.csv")
        result.trades.to_csv(scratch / "trades.csv", index=False)
        (scratch / "stats.json").write_text(strict_json(result.stats))
        folds = {"first_forecast": str(result.walk.folds["first_forecast"].iloc[0]),
                 "fits": len(result.walk.folds)}
        config = replace(config, data=replace(config.data, target=[result.target]))
        write_manifest(scratch, "backtest", config, data, command, folds,
                       {"wall_seconds": time.perf_counter() - started})
        if report:
            from forecast.evaluation.report import write_report
            from forecast.workflows.reports import backtest_report

            write_report(backtest_report(scratch), scratch)
    return result
