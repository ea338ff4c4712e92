"""`forecast backtest`: walk-forward forecasts of a price series, their skill against the random
walk, and a trading simulation, written to a run folder all at once."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from forecast.cli.run import check_out, scratch_folder
from forecast.cli.settings import fit_settings, forecaster, read_options
from forecast.cli.tables import number
from forecast.cli.use import set_threads
from forecast.errors import DataError

# what a backtest assumes unless told: daily bars, next-day forecasts from 60 days
BACKTEST_DEFAULTS = {"horizon": 1, "lookback": 60}


def backtest(args: argparse.Namespace) -> None:
    for key, value in BACKTEST_DEFAULTS.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    settings = fit_settings(args)
    options = _backtest_options(args)
    out = Path(args.out)
    check_out(out)
    set_threads(settings["threads"])
    model_data, prices, target = _read(args.data, settings, options["execution"])
    started = time.perf_counter()
    scratch = scratch_folder(out)
    scratch.mkdir(parents=True)
    try:
        results = _run(model_data, prices, target, settings, options, quiet=args.quiet)
        results["stats"]["wall_seconds"] = round(time.perf_counter() - started, 2)
        _write(scratch, results, settings, options, args.data)
        if args.report:
            from forecast.evaluation.report import backtest_report, write_report

            write_report(backtest_report(scratch), scratch)
        os.replace(scratch, out)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    _summary(results["stats"])
    print(f"wrote {out}/forecasts.csv, equity.csv, trades.csv, stats.json, config.yaml"
          + (", report.html, report.md" if args.report else ""), file=sys.stderr)


def _backtest_options(args: argparse.Namespace) -> dict:
    """The walk-forward and trading flags, checked."""
    if args.step < 1:
        raise DataError(f"--step must be a positive whole number, not {args.step}")
    if args.refit_every is not None and args.refit_every < 0:
        raise DataError(f"--refit-every must be a positive number of rows (0: never), not {args.refit_every}")
    if (args.window == "sliding") != (args.train_length is not None):
        raise DataError("--window sliding needs --train-length, and --train-length goes with it")
    if args.cost_bps < 0 or args.slippage_bps < 0 or args.threshold < 0:
        raise DataError("--cost-bps, --slippage-bps and --threshold must not be negative")
    return {"returns": args.returns, "start": _start(args.start), "step": args.step,
            "refit_every": args.refit_every or False, "window": args.window,
            "train_length": args.train_length, "strategy": args.strategy,
            "execution": args.execution.replace("-", "_"), "cost_bps": args.cost_bps,
            "slippage_bps": args.slippage_bps, "threshold": args.threshold}


def _start(text: str):
    """--start: a fraction such as 0.5, a row number such as 504, or a date."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return text
    if not 0 < value < 1:
        raise DataError(f"--start {text}: a fraction must lie between 0 and 1")
    return value


def _read(data: str, settings: dict, execution: str):
    """DATA read once: the model's series (the price column and any covariates), the prices to
    trade (with Open and Close for next-open fills), and the price column's name: --target, else
    Adj Close, else the only column."""
    from forecast.data.registry import read_data

    given, covariates = settings["target"], settings["covariates"] or []
    if given and len(given) > 1:
        raise DataError(f"--target: a backtest trades one price column, not {', '.join(given)}")
    rows = settings["lookback"] + settings["horizon"] + 2
    extra = ["Open", "Close"] if execution == "next_open" else []
    if given:
        wanted = list(dict.fromkeys(given + extra + covariates))
        series = read_data(data, target=wanted[:1], covariates=wanted[1:], min_rows=rows, **read_options(settings))
        target = given[0]
    else:
        series = read_data(data, min_rows=rows, **read_options(settings))
        columns = series.columns
        if "Adj Close" in columns:
            target = "Adj Close"
        elif len(columns) == 1:
            target = columns[0]
        else:
            raise DataError(f"{data}: name the price column with --target (columns: {', '.join(columns)})")
        absent = [c for c in extra + covariates if c not in columns]
        if absent:
            raise DataError(f"{data}: column '{absent[0]}' not found; columns are: {', '.join(columns)}")
    prices = list(dict.fromkeys([target] + extra))
    return (_columns(series, [target], covariates), _columns(series, prices, []), target)


def _columns(series, target: list[str], covariates: list[str]):
    """``series`` with only these columns, in these roles."""
    from dataclasses import replace

    return replace(series, frames={sid: f[target + covariates] for sid, f in series.frames.items()},
                   target=target, covariates=covariates)


def _run(model_data, prices, target: str, settings: dict, options: dict, quiet: bool) -> dict:
    import pandas as pd

    from forecast.data.returns import to_returns
    from forecast.evaluation.skill import random_walk_skill
    from forecast.evaluation.trading import expected_returns, signals, simulate

    model = forecaster(settings)
    series = to_returns(model_data, options["returns"])
    try:
        result = model.backtest(series, start=options["start"], step=options["step"],
                                refit_every=options["refit_every"], window=options["window"],
                                train_length=options["train_length"], val=settings["val"],
                                progress=not quiet and sys.stderr.isatty())
    except ValueError as error:  # the walk-forward arguments, checked against the data
        raise DataError(f"{model_data.name}: {error}") from None
    frame = result.forecasts
    exposure = signals(expected_returns(frame, options["returns"]), options["strategy"], options["threshold"])
    closes = pd.DataFrame({sid: f[target] for sid, f in prices.frames.items()})
    opens = None
    if options["execution"] == "next_open":
        # yfinance's Open is not adjusted for dividends and splits; Adj Close / Close adjusts it
        opens = pd.DataFrame({sid: f["Open"] * f[target] / f["Close"] for sid, f in prices.frames.items()})
    try:
        trading = simulate(closes, exposure, options["execution"], opens, options["cost_bps"],
                           options["slippage_bps"])
    except ValueError as error:
        raise DataError(f"{model_data.name}: {error}") from None
    skill = random_walk_skill(frame, result.history, "zero" if options["returns"] != "none" else "naive")
    stats = {"strategy": trading.statistics, "buy_and_hold": trading.buy_and_hold,
             "skill": skill.to_dict(orient="records"),
             "folds": json.loads(result.folds.to_json(orient="records", date_format="iso")),
             "data": {"source": model_data.name, "rows": len(model_data), "series": model_data.ids,
                      "notes": model_data.notes}}
    equity = pd.DataFrame({"strategy": trading.equity, "buy_and_hold": trading.buy_and_hold_equity,
                           "strategy_return": trading.returns}).rename_axis("time")
    return {"forecasts": frame, "equity": equity, "trades": trading.trades, "stats": stats, "target": target}


def _write(folder: Path, results: dict, settings: dict, options: dict, source: str) -> None:
    import yaml

    results["forecasts"].to_csv(folder / "forecasts.csv", index=False)
    results["equity"].to_csv(folder / "equity.csv")
    results["trades"].to_csv(folder / "trades.csv", index=False)
    (folder / "stats.json").write_text(json.dumps(results["stats"], indent=2, default=str))
    config = {**settings, "target": [results["target"]], **{f"backtest_{k}": v for k, v in options.items()}}
    (folder / "config.yaml").write_text(f"# forecast backtest {source}\n{yaml.safe_dump(config, sort_keys=False)}")


def _summary(stats: dict) -> None:
    """Strategy beside buy-and-hold, then the skill of each series against the random walk."""
    keys = ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "turnover", "exposure", "trades")
    print(f"{'':<14}" + "".join(f"{k:>14}" for k in keys))
    for name in ("strategy", "buy_and_hold"):
        print(f"{name:<14}" + "".join(f"{number(stats[name][k]):>14}" for k in keys))
    print(f"\n{'series':<10} {'origins':>8} {'mase':>8} {'direction':>10} {'binom p':>8} {'PT p':>8} {'DM p':>8}")
    for row in stats["skill"]:
        print(f"{str(row['series']):<10} {row['origins']:>8} {number(row['mase']):>8} "
              f"{number(row['direction']):>10} {number(row['direction_binomial_p']):>8} "
              f"{number(row['direction_pt_p']):>8} {number(row['dm_p']):>8}")
