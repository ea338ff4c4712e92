"""Does anything beat the random walk on daily stock returns? A walk-forward backtest of 40 tickers.

    FORECAST_DATA_DIR=../shared/datasets python experiments/stocks/run.py \
        [--models densenet-lstm,lstm,dlinear,linear,naive,drift] [--tickers all|AAPL,MSFT] [--epochs 10]

Protocol: next-day log returns of Adj Close from the last 60 days; one model for all tickers
(fitted on every ticker's windows), expanding window, refit every 63 rows, first forecast after two
years (row 504 of the returns, January 2017); the last 20 % of each fit's rows validate (early
stopping for the networks, alpha for the ridge). Per ticker: MASE, directional accuracy with its
binomial and Pesaran-Timmermann p-values, and the Diebold-Mariano p-value against the random walk
(a zero return); then the equal-weight portfolio of the tickers traded long-only and long-short
on the forecasts' signs, filled at the next close, after 5 bps, beside buy-and-hold.
Writes experiments/results/stocks.md (or --out).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from provenance import publish, sha256  # noqa: E402

from forecast.config import RunConfig  # noqa: E402
from forecast.data.registry import read_data, stock_path  # noqa: E402
from forecast.workflows.strategy import read_prices, strategy_backtest, trade  # noqa: E402

TICKERS = ("AAPL ABT AMT AMZN BA BAC C CAT CSCO CVX DIS DUK GE GOOGL GS HD IBM INTC JNJ JPM KO MA "
           "MCD MMM MRK MSFT NEE NKE NVDA ORCL PEP PFE SPG T UNH V VZ WFC WMT XOM").split()
NEURAL = ("densenet-lstm", "lstm", "dlinear")
START, REFIT, COST_BPS, LEVEL = 504, 63, 5.0, 0.05


def run_model(name: str, args) -> tuple[pd.DataFrame, dict, float]:
    """One walk-forward backtest of all tickers (the library's strategy backtest, traded both
    ways on the same forecasts): per-ticker skill, the portfolios' statistics, seconds."""
    settings = {"model": name, "lookback": 60, "horizon": 1, "seed": args.seed, "accelerator": "cpu",
                "target": ["Adj Close"], "covariates": [], "start": str(START), "refit_every": REFIT,
                "cost_bps": COST_BPS}
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


def passes(p_values: pd.Series) -> str:
    """How many tickers pass at 5 %, what that count means with this many tests, and after
    Benjamini-Hochberg control of the false discovery rate."""
    p = p_values.dropna().to_numpy()
    count = int((p < LEVEL).sum())
    chance = stats.binom.sf(count - 1, len(p), LEVEL)  # P(at least `count` of m pass | no skill, independent)
    adjusted = int((stats.false_discovery_control(p) < LEVEL).sum()) if len(p) else 0
    return f"{count}/{len(p)} (P≥ by chance {chance:.2f}; BH {adjusted})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="densenet-lstm,lstm,dlinear,linear,naive,drift")
    parser.add_argument("--tickers", default="all")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="experiments/results/stocks.md")
    args = parser.parse_args()
    wall = time.perf_counter()
    tickers = TICKERS if args.tickers == "all" else args.tickers.split(",")
    args.data = "stocks:" + ",".join(tickers)
    data = read_data(args.data, target=["Adj Close"], covariates=[])
    skill_rows, trade_rows = [], []
    for name in args.models.split(","):
        skill, portfolios, seconds = run_model(name, args)
        print(f"{name}: {seconds:.0f} s, median MASE {skill['mase'].median():.3f}", flush=True)
        skill_rows.append(f"| {name} | {skill['mase'].median():.3f} | {(skill['mase'] < 1).sum()} | "
                          f"{skill['direction'].mean():.3f} | {passes(skill['direction_binomial_p'])} | "
                          f"{passes(skill['direction_pt_p'])} | {passes(skill['dm_p'])} | {seconds:.0f} |")
        row = [name]
        for strategy in ("long-only", "long-short"):
            s = portfolios[strategy]
            row += [f"{s['sharpe']:.2f}", f"{s['max_drawdown']:.1%}", f"{s['total_return']:.1%}"]
        trade_rows.append("| " + " | ".join(row) + " |")
    hold = portfolios["buy-and-hold"]
    origins = int(skill["origins"].iloc[0])
    lines = [
        "## Skill against the random walk, per ticker", "",
        f"{len(tickers)} tickers, {origins} origins each (first forecast {data.frames[tickers[0]].index[START + 1].date()}). "
        "MASE < 1 counts tickers whose MAE is below the in-sample MAE of the naive forecast (last "
        "return); on returns that naive forecast is a poor yardstick (its error is about sqrt(2) times "
        "the random walk's), so MASE < 1 is not skill: the Diebold-Mariano column is the test against "
        "the random walk (a zero return). Each test column: tickers with p < 0.05; the chance of that many or "
        "more passing with no skill at all if the tickers were independent (they are not: returns "
        "move together, so the true chance is larger); and how many survive Benjamini-Hochberg at 5 %.", "",
        "| model | median MASE | MASE < 1 | mean directional accuracy | binomial p < 0.05 | "
        "Pesaran-Timmermann p < 0.05 | DM (better than random walk) p < 0.05 | seconds |",
        "|---|---|---|---|---|---|---|---|", *skill_rows, "",
        f"## Equal-weight portfolio of the {len(tickers)} tickers, next-close fills, {COST_BPS:g} bps a unit of turnover", "",
        "| model | long-only Sharpe | long-only max drawdown | long-only total return | "
        "long-short Sharpe | long-short max drawdown | long-short total return |",
        "|---|---|---|---|---|---|---|", *trade_rows,
        f"| buy-and-hold | {hold['sharpe']:.2f} | {hold['max_drawdown']:.1%} | {hold['total_return']:.1%} | | | |", "",
        "Sharpe: mean over sample std (ddof 1) of daily returns times sqrt(252), risk-free rate 0; "
        "total return and drawdown over the same bars as buy-and-hold (from the first fill).",
    ]
    path = stock_path("AAPL")
    command = f"python experiments/stocks/run.py --models {args.models} --tickers {args.tickers} --epochs {args.epochs} --seed {args.seed}"
    facts = {"data": f"stocks/daily/<TICKER>.csv, e.g. AAPL sha256 {sha256(path)[:16]}",
             "training": f"neural models up to {args.epochs} epochs, patience 3, batch 256, one seed; "
                         "ridge alpha chosen on each fit's validation rows",
             "seed": args.seed, "device": "CPU", "wall time": f"{time.perf_counter() - wall:.0f} s"}
    publish(args.out, "Stocks: walk-forward next-day returns against the random walk", command, facts, "\n".join(lines))


if __name__ == "__main__":
    main()
