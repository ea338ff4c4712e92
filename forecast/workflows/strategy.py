"""The strategy backtest: walk-forward forecasts of a price series' returns, their skill against
the random walk, and a trading simulation of their signs. One function that the command line
and the experiments both call; see DESIGN.md ("Trading") for the conventions."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.api import Forecaster
from forecast.config import RunConfig
from forecast.data.registry import read_data
from forecast.data.returns import to_returns
from forecast.data.series import SeriesData
from forecast.errors import DataError
from forecast.evaluation.skill import random_walk_skill
from forecast.evaluation.trading import annualization, holding_returns, signals, simulate
from forecast.workflows.runs import check_out, run_folder, set_threads, strict_json, write_manifest
from forecast.workflows.walkforward import FEW_WINDOWS, Backtest, walk_forward


@dataclass
class Prices:
    """What a backtest reads of its data: the model's series (the fill price, and any
    covariates), the fill prices to trade, and the name of the fill-price column."""

    model_data: SeriesData
    traded: SeriesData
    target: str


@dataclass
class StrategyBacktest:
    """The walk-forward (``forecasts``, ``folds`` and models), the equity curves of the strategy
    and of buy-and-hold (``equity``), the ``trades``, and ``stats`` (trading statistics, skill
    per series, folds, warnings and data notes, JSON-ready)."""

    walk: Backtest
    equity: pd.DataFrame
    trades: pd.DataFrame
    stats: dict
    target: str


ADJUSTED_OPEN = "Adj Open"
# annualized statistics over fewer bars than this say little; the output says so
FEW_BARS = 63


def read_prices(data, config: RunConfig) -> Prices:
    """``data`` read once: the price column is the ``target`` setting, else Adj Close, else the
    only column. Next-open fills trade (and the model forecasts) the open adjusted as the price
    column is (Open x price / Close). Gaps stay gaps: no bar is invented, and missing values are
    filled from the past only."""
    if config.data.fill == "interpolate":
        raise DataError("fill: a backtest fills missing prices from the past only (ffill); "
                        "interpolate would read later prices")
    given, covariates = config.data.target, config.data.covariates or []
    if given and len(given) > 1:
        raise DataError(f"target: a backtest trades one price column, not {', '.join(given)}")
    rows = config.model.lookback + config.model.horizon + 2
    extra = ["Open", "Close"] if config.backtest.execution == "next-open" else []
    options = {**config.read_options(), "fill_gaps": False}
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
    if extra:  # yfinance's Open is not adjusted for dividends and splits; price / Close adjusts it
        frames = {sid: f.assign(**{ADJUSTED_OPEN: f["Open"] * f[target] / f["Close"]}) for sid, f in series.frames.items()}
        series, target = replace(series, frames=frames), ADJUSTED_OPEN
    return Prices(_columns(series, [target], covariates), _columns(series, [target], []), target)


def strategy_backtest(data, config: RunConfig, progress: bool = False) -> StrategyBacktest:
    """Read ``data``, forecast the fill price's returns walk-forward with the configured model,
    score the forecasts against the random walk and trade them as ``config.backtest`` says."""
    settings = config.backtest
    need = settings.step + 1
    if config.model.horizon < need:
        raise DataError(f"horizon: a backtest fills at the bar after the forecast and holds {settings.step} "
                        f"bar(s), so it trades the forecast of steps 2..{need}; give --horizon {need} or more")
    prices = read_prices(data, config)
    series = to_returns(prices.model_data, settings.returns)
    try:
        walk = walk_forward(Forecaster(**config.keywords()), series, start=settings.start,
                            step=settings.step, refit_every=settings.refit_every or False,
                            window=settings.window, train_length=settings.train_length,
                            val=config.training.val, progress=progress, jobs=settings.jobs,
                            scheduler=settings.scheduler)
    except ValueError as error:  # the walk-forward arguments, checked against the data
        if isinstance(error, DataError):
            raise
        raise DataError(f"{prices.model_data.name}: {error}") from None
    return trade(walk, prices, config)


def trade(walk: Backtest, prices: Prices, config: RunConfig) -> StrategyBacktest:
    """The trading simulation and skill of a walk-forward's forecasts: each origin's signal is
    ordered at the series' next bar (its step-1 timestamp) and held to the next order."""
    settings = config.backtest
    frame = walk.forecasts
    forecast = holding_returns(frame, settings.returns, settings.step)
    volatility = _volatility(prices, forecast, config.model.lookback) if settings.sizing == "vol" else None
    exposure = signals(forecast, settings.positions, settings.threshold, volatility)
    fills = frame.loc[frame["step"] == 1, ["origin", "series", "timestamp"]]
    placed = exposure.stack().rename("target").reset_index().merge(fills, on=["origin", "series"])
    orders = placed.pivot(index="timestamp", columns="series", values="target")
    closes = pd.DataFrame({sid: f[prices.target] for sid, f in prices.traded.frames.items()}).sort_index()
    periods, basis = annualization(closes.index)
    try:
        trading = simulate(closes, orders, (settings.cost_bps + settings.slippage_bps) / 1e4, periods)
    except ValueError as error:
        raise DataError(f"{prices.model_data.name}: {error}") from None
    skill = random_walk_skill(frame, walk.history, "zero" if settings.returns != "none" else "naive")
    data = prices.model_data
    warnings = [f"fold {row.fold} trained on {row.training_windows} windows (fewer than {FEW_WINDOWS}): "
                "its forecasts are weakly fitted" for row in walk.folds.itertuples() if row.few_windows]
    if trading.statistics["bars"] < FEW_BARS:
        warnings.append(f"the statistics cover {trading.statistics['bars']} bars (fewer than {FEW_BARS}): "
                        "annualized figures from so few say little")
    stats = {"strategy": trading.statistics, "buy_and_hold": trading.buy_and_hold,
             "annualization": basis, "fills": f"{settings.execution}: the position ordered at an origin fills at "
                                              f"the next bar and earns the forecast steps 2..{settings.step + 1}",
             "skill": skill.to_dict(orient="records"), "warnings": warnings,
             "folds": json.loads(walk.folds.to_json(orient="records", date_format="iso")),
             "data": {"source": data.name, "rows": len(data), "series": data.ids, "notes": data.notes}}
    equity = pd.DataFrame({"strategy": trading.equity, "buy_and_hold": trading.buy_and_hold_equity,
                           "strategy_return": trading.returns}).rename_axis("time")
    return StrategyBacktest(walk, equity, trading.trades, stats, prices.target)


def _volatility(prices: Prices, forecast: pd.DataFrame, window: int) -> pd.DataFrame:
    """Each series' std of its last ``window`` log returns of the fill price, at each origin."""
    returns = pd.DataFrame({sid: np.log(f[prices.target]).diff() for sid, f in prices.traded.frames.items()})
    return returns.rolling(window, min_periods=2).std().reindex(index=forecast.index, columns=forecast.columns)


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
