"""The command line's flags: every default shown in --help, taken from the registry."""

from __future__ import annotations

import argparse

from forecast.cli.settings import FIT_DEFAULTS, MAX_EPOCHS_VARIABLE
from forecast.models.registry import HEADS, MODELS

DATA_HELP = "CSV or Parquet path, or a dataset name (etth1, weather, stock:AAPL, stocks:AAPL,MSFT)"


def build_parser() -> argparse.ArgumentParser:
    from forecast.cli import data, run, use

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
    default = FIT_DEFAULTS
    fit.add_argument("--model", choices=list(MODELS), help=f"default: {default['model']}")
    fit.add_argument("--head", choices=HEADS, help=f"default: {default['head']}")
    fit.add_argument("--horizon", type=int, help=f"steps to forecast (default: {default['horizon']})")
    fit.add_argument("--lookback", type=int, help=f"steps the model reads (default: {default['lookback']})")
    fit.add_argument("--quantiles", help="levels such as 0.1,0.9; the median is always added "
                                         "(default: point forecasts)")
    fit.add_argument("--season", type=int, help="season length, for seasonal-naive (default: none)")
    fit.add_argument("--max-epochs", type=int, help=f"default: {default['max_epochs']}")
    fit.add_argument("--batch-size", type=int, help=f"default: {default['batch_size']}")
    fit.add_argument("--lr", type=float, help="learning rate (default: the model's)")
    fit.add_argument("--patience", type=int,
                     help=f"early-stopping patience in epochs (default: {default['patience']})")
    fit.add_argument("--val", type=float,
                     help=f"share of the rows for validation (default: {default['val']})")
    fit.add_argument("--test", type=float,
                     help=f"share of the rows held out for testing (default: {default['test']})")
    fit.add_argument("--device", choices=["auto", "cpu", "cuda"], help="default: auto")
    fit.add_argument("--seed", type=int, help=f"default: {default['seed']}")
    add_threads(fit)
    fit.add_argument("--quiet", action="store_true", help="no progress output at all")
    fit.set_defaults(run=run.fit)

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
