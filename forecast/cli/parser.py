"""The command line's flags: every default shown in --help, taken from the registry."""

from __future__ import annotations

import argparse

from forecast.cli.settings import FIT_DEFAULTS, MAX_EPOCHS_VARIABLE
from forecast.models.registry import HEADS, MODELS

DATA_HELP = "CSV or Parquet path, or a dataset name (etth1, weather, stock:AAPL, stocks:AAPL,MSFT)"


def build_parser() -> argparse.ArgumentParser:
    from forecast.cli import data, run, use
    from forecast.cli.backtest import BACKTEST_DEFAULTS
    from forecast.cli.backtest import backtest as run_backtest

    parser = argparse.ArgumentParser(
        prog="forecast", description="Time-series forecasting with DenseNet-LSTM models.",
        epilog=f"Set {MAX_EPOCHS_VARIABLE}=N to cap the epochs of every training run.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    fit = commands.add_parser("fit", help="train a model on DATA and write a run folder",
                              description="Train on DATA; write model.pt, metrics.json, config.yaml "
                                          "and logs to --out, a folder that must not exist yet.")
    fit.add_argument("data", metavar="DATA", help=DATA_HELP)
    fit.add_argument("--out", required=True, help="run folder to write")
    fit.add_argument("--config", help="YAML file with any of the settings below; flags override it")
    fit.add_argument("--resume", action="store_true",
                     help="continue a run to --out that was stopped, from its last finished epoch")
    add_column_options(fit)
    add_read_options(fit)
    fit.add_argument("--future-covariates",
                     help="covariates known ahead, comma-separated (default: none)")
    add_model_options(fit)
    fit.add_argument("--test", type=float,
                     help=f"share of the rows held out for testing (default: {FIT_DEFAULTS['test']})")
    fit.add_argument("--logger", choices=["csv", "tensorboard"],
                     help="training logs under --out/logs: CSV, or TensorBoard event files with losses, "
                          "learning rate, validation metrics and a forecast figure per epoch (needs the "
                          "tensorboard extra) (default: csv)")
    fit.add_argument("--report", action="store_true",
                     help="also write report.html and report.md (errors beside the baselines, plots)")
    fit.add_argument("--quiet", action="store_true", help="no progress output at all")
    fit.set_defaults(run=run.fit)

    backtest = commands.add_parser(
        "backtest", help="walk-forward forecasts of prices, their skill and a trading simulation",
        description="Forecast DATA's returns from every origin from --start on, refitting on earlier "
                    "rows only; score the forecasts against the random walk; trade their signs, "
                    "filled after the signal's bar. Writes forecasts.csv, equity.csv, trades.csv, "
                    "stats.json and config.yaml to --out, a folder that must not exist yet.")
    backtest.add_argument("data", metavar="DATA", help=DATA_HELP)
    backtest.add_argument("--out", required=True, help="run folder to write")
    backtest.add_argument("--config", help="YAML file with model settings; flags override it")
    backtest.add_argument("--target", help="the price column (default: Adj Close, or the only column)")
    backtest.add_argument("--covariates", help="past covariate column(s), comma-separated (default: none)")
    add_read_options(backtest)
    add_model_options(backtest, BACKTEST_DEFAULTS)
    backtest.add_argument("--returns", choices=["log", "simple", "none"], default="log",
                          help="forecast log or simple returns of the prices, or the prices (default: log)")
    backtest.add_argument("--start", default="0.5",
                          help="first forecast: a date, a row number, or a fraction of the rows; rows count "
                               "in the forecast series (returns start one row after the prices) (default: 0.5)")
    backtest.add_argument("--step", type=int, default=1, help="rows between origins (default: 1)")
    backtest.add_argument("--refit-every", type=int,
                          help="refit every N rows on the rows before (default: fit once, before --start)")
    backtest.add_argument("--window", choices=["expanding", "sliding"], default="expanding",
                          help="train on every earlier row, or on the last --train-length (default: expanding)")
    backtest.add_argument("--train-length", type=int, help="rows of a sliding window")
    backtest.add_argument("--strategy", choices=["long-only", "long-short"], default="long-only",
                          help="default: long-only")
    backtest.add_argument("--execution", choices=["next-close", "next-open"], default="next-close",
                          help="fill at the bar after the signal's: its close or its open (needs Open "
                               "and Close columns) (default: next-close)")
    backtest.add_argument("--threshold", type=float, default=0.0,
                          help="trade only forecast returns beyond this (default: 0)")
    backtest.add_argument("--cost-bps", type=float, default=5.0,
                          help="cost in basis points of each unit of turnover (default: 5)")
    backtest.add_argument("--slippage-bps", type=float, default=0.0, help="default: 0")
    backtest.add_argument("--report", action="store_true",
                          help="also write report.html and report.md (skill, equity, drawdowns, trades)")
    backtest.add_argument("--quiet", action="store_true", help="no progress output at all")
    backtest.set_defaults(run=run_backtest)

    report = commands.add_parser("report", help="write report.html and report.md for a run folder",
                                 description="Write RUN_DIR/report.html (one self-contained file) and "
                                             "RUN_DIR/report.md with report_files/ for a folder written by "
                                             "`forecast fit` or `forecast backtest`.")
    report.add_argument("run_dir", metavar="RUN_DIR")
    add_threads(report)
    report.set_defaults(run=use.report)

    predict = commands.add_parser("predict", help="forecast from the end of DATA with a saved model",
                                  description="Forecast the model's horizon from the end of DATA, read "
                                              "as the model's training data was read.")
    predict.add_argument("model", metavar="MODEL", help="model.pt written by `forecast fit`")
    predict.add_argument("data", metavar="DATA", help=DATA_HELP)
    predict.add_argument("--future", metavar="FILE",
                         help="CSV of the known-future covariates at the forecast timestamps (with "
                              "a unique_id column for several series)")
    predict.add_argument("--out", help="CSV to write (default: standard output)")
    add_read_options(predict)
    add_threads(predict)
    predict.set_defaults(run=use.predict)

    evaluate = commands.add_parser(
        "evaluate", help="errors of a saved model on the windows of DATA after its training data")
    evaluate.add_argument("model", metavar="MODEL")
    evaluate.add_argument("data", metavar="DATA", help=DATA_HELP)
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate.add_argument("--all-windows", action="store_true",
                          help="score every window, the training ones too (labelled in-sample)")
    evaluate.add_argument("--report", metavar="DIR",
                          help="also write DIR/report.html and DIR/report.md for these windows")
    add_read_options(evaluate)
    add_threads(evaluate)
    evaluate.set_defaults(run=use.evaluate)

    demo = commands.add_parser("demo", help="train DenseNet-LSTM and baselines on ETTh1 (about "
                                            "half a minute on two CPU cores; works offline)")
    demo.add_argument("--out", default="forecast-demo", help="run folder (default: forecast-demo)")
    demo.add_argument("--quiet", action="store_true", help="no progress output at all")
    add_threads(demo)
    demo.set_defaults(run=run.demo)

    data_parser = commands.add_parser("data", help="inspect and fetch datasets")
    data_commands = data_parser.add_subparsers(title="data commands", metavar="COMMAND")
    info = data_commands.add_parser(
        "info", help="rows, columns, time range, frequency, gaps and duplicates of a series",
        description="Read and validate DATA as fitting would, then summarise it.")
    info.add_argument("data", metavar="DATA", help=DATA_HELP)
    add_column_options(info)
    add_read_options(info)
    info.add_argument("--lookback", type=int, default=0, help="check the series can hold one window")
    info.add_argument("--horizon", type=int, default=0, help="check the series can hold one window")
    info.set_defaults(run=data.info)
    fetch = data_commands.add_parser("fetch", help="write a named dataset to a CSV file that "
                                                   "reads back as it is")
    fetch.add_argument("name", metavar="NAME", help="etth1, weather, stock:AAPL, stocks:AAPL,MSFT")
    fetch.add_argument("-o", "--output", required=True, help="CSV file to write")
    fetch.add_argument("--start", help="first date to keep (e.g. 2018-01-01; default: all)")
    fetch.add_argument("--end", help="last date to keep (default: all)")
    fetch.add_argument("--interval", default="1d", choices=["1d"], help="bar size (daily only)")
    fetch.set_defaults(run=data.fetch)
    return parser


def add_model_options(parser: argparse.ArgumentParser, defaults: dict | None = None) -> None:
    """The model, training and device flags of fit and backtest (``defaults``: the command's own,
    shown in the help where they differ from the registry's)."""
    default = {**FIT_DEFAULTS, **(defaults or {})}
    parser.add_argument("--model", choices=list(MODELS), help=f"default: {default['model']}")
    parser.add_argument("--head", choices=HEADS, help=f"default: {default['head']}")
    parser.add_argument("--horizon", type=int, help=f"steps to forecast (default: {default['horizon']})")
    parser.add_argument("--lookback", type=int, help=f"steps the model reads (default: {default['lookback']})")
    parser.add_argument("--quantiles", help="levels such as 0.1,0.9; the median is always added "
                                            "(default: point forecasts)")
    parser.add_argument("--season", type=int, help="season length, for seasonal-naive (default: none)")
    parser.add_argument("--max-epochs", type=int, help=f"default: {default['max_epochs']}")
    parser.add_argument("--batch-size", type=int, help=f"default: {default['batch_size']}")
    parser.add_argument("--train-stride", type=int, help="train on every Nth window; validation "
                        f"windows are never thinned (default: {default['train_stride']})")
    parser.add_argument("--lr", type=float, help="learning rate (default: the model's)")
    parser.add_argument("--patience", type=int,
                        help=f"early-stopping patience in epochs (default: {default['patience']})")
    parser.add_argument("--val", type=float,
                        help=f"share of the rows for validation (default: {default['val']})")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], help="default: auto")
    parser.add_argument("--seed", type=int, help=f"default: {default['seed']}")
    add_threads(parser)


def add_column_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", help="target column(s), comma-separated (default: every "
                                         "numeric column; y in long layout)")
    parser.add_argument("--covariates", help="past covariate column(s), comma-separated "
                                             "(default: none)")


def add_read_options(parser: argparse.ArgumentParser) -> None:
    """How to read DATA. A saved model remembers the options it was fitted with; flags override."""
    parser.add_argument("--time-col", help="time column (default: inferred)")
    parser.add_argument("--id-col", help="series id column of a long-layout file "
                                         "(default: unique_id when present)")
    parser.add_argument("--freq", help="pandas frequency alias such as h, D, B (default: inferred)")
    parser.add_argument("--fill", choices=["ffill", "interpolate"],
                        help="fill missing values and the gaps in the time grid (default: missing "
                             "values are errors, gaps are reported and left)")
    parser.add_argument("--duplicates", choices=["error", "drop", "keep"],
                        help="duplicated timestamps (default: error)")
    parser.add_argument("--sort", action="store_true", help="sort rows that are out of time order")
    parser.add_argument("--dayfirst", action="store_true",
                        help="dates are day first, as 31/01/2020 (default: refuse ambiguous dates)")
    parser.add_argument("--date-format", help="strftime format of the time column, e.g. %%d.%%m.%%Y")
    parser.add_argument("--date-unit", choices=["s", "ms", "us", "ns"],
                        help="the time column holds epoch numbers in this unit")
    parser.add_argument("--decimal", help="decimal mark of the numbers, e.g. ',' (default: '.')")
    parser.add_argument("--calendar", "--exchange", dest="exchange", metavar="EXCHANGE",
                        help="date forecasts on an exchange's trading sessions, e.g. XNYS "
                             "(default: XNYS for registry stocks, else the frequency's grid)")


def add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threads", type=int,
                        help="CPU threads torch may use (default: the cores torch sees)")
