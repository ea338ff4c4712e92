"""A full report on real prices: a walk-forward backtest of five tickers with the DenseNet-LSTM,
traded long-short on its forecasts' signs, beside the random walk and buy-and-hold.

    FORECAST_DATA_DIR=../shared/datasets python -m experiments.reports.stocks --out stocks-report \
        [--tickers AAPL,MSFT,JPM,XOM,KO] [--epochs 5]

The same as `forecast backtest stocks:AAPL,MSFT,JPM,XOM,KO --start 504 --refit-every 63
--positions long-short --report --out OUT` with the DenseNet-LSTM: OUT holds forecasts.csv,
equity.csv, trades.csv, stats.json, config.yaml, report.html, report.md and report_files/.
Not committed: rerun to regenerate.
"""

from __future__ import annotations

import argparse
import sys

from forecast.cli import main as forecast


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--tickers", default="AAPL,MSFT,JPM,XOM,KO")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    sys.exit(forecast(["backtest", f"stocks:{args.tickers}", "--model", "densenet-lstm", "--head", "direct",
                       "--lookback", "60", "--horizon", "2", "--max-epochs", str(args.epochs), "--start", "504",
                       "--refit-every", "63", "--positions", "long-short", "--report", "--out", args.out]))


if __name__ == "__main__":
    main()
