"""Does anything beat the random walk on daily stock returns? A walk-forward backtest of 40 tickers.

    FORECAST_DATA_DIR=../shared/datasets python -m experiments.stocks.run \
        [--models densenet-lstm,lstm,dlinear,linear,naive,drift] [--tickers all|AAPL,MSFT] \
        [--epochs 10] [--seeds 0,1,2] [--jobs 2]

Protocol: log returns of Adj Close from the last 60 days, forecast two days ahead (a position
filled at the next close earns the day after it: the forecast's step 2); one model for all
tickers (fitted on every ticker's windows), expanding window, refit every 63 rows, first forecast
after two years (row 504 of the returns, January 2017); the last 20 % of each fit's rows validate
(early stopping for the networks, alpha for the ridge). Per ticker: MASE, directional accuracy of
the next day with its binomial and Pesaran-Timmermann p-values (against the base rate), and the
Diebold-Mariano p-value against the random walk (a zero return); then the equal-weight portfolio
of the tickers traded long-only and long-short on the sign of the step-2 forecast, filled at the
next close, after 5 bps, beside buy-and-hold valued the same way. The neural models run once per
seed (``--seeds``), the others once. ``--jobs`` fits that many folds at once.
Writes one record per model and seed to the records' stocks.jsonl (tables skill and trading).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import pandas as pd
from scipy import stats

from forecast.config import RunConfig
from forecast.data.registry import read_data, stock_path
from forecast.workflows.strategy import read_prices, strategy_backtest, trade

from experiments import records

TICKERS = ("AAPL ABT AMT AMZN BA BAC C CAT CSCO CVX DIS DUK GE GOOGL GS HD IBM INTC JNJ JPM KO MA "
           "MCD MMM MRK MSFT NEE NKE NVDA ORCL PEP PFE SPG T UNH V VZ WFC WMT XOM").split()
NEURAL = ("densenet-lstm", "lstm", "dlinear")
START, REFIT, COST_BPS, LEVEL = 504, 63, 5.0, 0.05


def run_model(name: str, seed: int, args) -> tuple[pd.DataFrame, dict, float]:
    """One walk-forward backtest of all tickers (the library's strategy backtest, traded both
    ways on the same forecasts): per-ticker skill, the portfolios' statistics, seconds."""
    settings = {"model": name, "lookback": 60, "horizon": 2, "seed": seed, "accelerator": "cpu",
                "target": ["Adj Close"], "covariates": [], "start": str(START), "refit_every": REFIT,
                "cost_bps": COST_BPS, "jobs": args.jobs}
    if name in NEURAL:
        settings |= {"max_epochs": args.epochs, "patience": 3, "batch_size": 256}
    if name in ("densenet-lstm", "lstm"):
        settings["head"] = "direct"
    config = RunConfig.build(settings)
    clock = time.perf_counter()
    long_only = strategy_backtest(args.data, config)
    seconds = time.perf_counter() - clock
    short = replace(config, backtest=replace(config.backtest, positions="long-short"))
    long_short = trade(long_only.walk, read_prices(args.data, short), short)
    portfolios = {"long-only": long_only.stats["strategy"], "long-short": long_short.stats["strategy"],
                  "buy-and-hold": long_only.stats["buy_and_hold"]}
    return pd.DataFrame(long_only.stats["skill"]), portfolios, seconds


def passes(p_values: pd.Series, test: str) -> dict:
    """How many tickers pass ``test`` at 5 %, the chance of that many or more with no skill if the
    tickers were independent, and how many survive Benjamini-Hochberg control of the false
    discovery rate."""
    p = p_values.dropna().to_numpy()
    count = int((p < LEVEL).sum())
    chance = float(stats.binom.sf(count - 1, len(p), LEVEL))
    adjusted = int((stats.false_discovery_control(p) < LEVEL).sum()) if len(p) else 0
    return {f"{test} p<0.05": count, f"{test} chance": round(chance, 2), f"{test} BH": adjusted}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="densenet-lstm,lstm,dlinear,linear,naive,drift")
    parser.add_argument("--tickers", default="all")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", default="0,1,2", help="seeds of the neural models (the others run once)")
    parser.add_argument("--jobs", type=int, default=1, help="folds fitted at once, each in its own process")
    records.add_records_option(parser)
    args = parser.parse_args(argv)
    wall = time.perf_counter()
    tickers = TICKERS if args.tickers == "all" else args.tickers.split(",")
    args.data = "stocks:" + ",".join(tickers)
    data = read_data(args.data, target=["Adj Close"], covariates=[])
    seeds = [int(s) for s in args.seeds.split(",")]
    results = {}
    for name in args.models.split(","):
        for seed in seeds if name in NEURAL else seeds[:1]:
            results[(name, seed)] = run_model(name, seed, args)
            skill, _, seconds = results[(name, seed)]
            print(f"{name} seed {seed}: {seconds:.0f} s, median MASE {skill['mase'].median():.3f}", flush=True)
    facts = {**records.provenance("cpu", **{ticker: stock_path(ticker) for ticker in tickers}),
             "run_wall_s": round(time.perf_counter() - wall), "tickers": len(tickers),
             "first_forecast": str(data.frames[tickers[0]].index[START + 1].date())}
    budget = f"up to {args.epochs} epochs, patience 3, refit every {REFIT} rows"
    cell = dict(dataset=f"{len(tickers)} tickers", horizon=2, budget=budget)
    written = []
    for (name, seed), (skill, portfolios, seconds) in results.items():
        seeded = dict(seed=seed if name in NEURAL else None, **cell, **facts)
        metrics = {"origins": int(skill["origins"].iloc[0]), "median MASE": float(skill["mase"].median()),
                   "MASE<1": int((skill["mase"] < 1).sum()), "directional accuracy": float(skill["direction"].mean()),
                   **passes(skill["direction_binomial_p"], "binomial"), **passes(skill["direction_pt_p"], "PT"),
                   **passes(skill["dm_p"], "DM"), "seconds": round(seconds)}
        written.append(records.record("stocks", name, metrics, table="skill", **seeded))
        trading = {f"{side} {stat}": float(portfolios[side][stat]) for side in ("long-only", "long-short")
                   for stat in ("sharpe", "max_drawdown", "total_return")}
        written.append(records.record("stocks", name, trading, table="trading", cost_bps=COST_BPS, **seeded))
    hold = portfolios["buy-and-hold"]
    written.append(records.record("stocks", "buy-and-hold", {f"long-only {stat}": float(hold[stat])
                                  for stat in ("sharpe", "max_drawdown", "total_return")},
                                  table="trading", cost_bps=COST_BPS, **cell, **facts))
    print(f"records: {records.save('stocks', written, args.records)}")


if __name__ == "__main__":
    main()
