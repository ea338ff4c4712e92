"""The command line's commands and flags; the run settings' flags come from forecast.config."""

from __future__ import annotations

import argparse

from forecast.cli.settings import (BACKTEST_SETTINGS, FIT_SETTINGS, READ_OPTIONS,
                                   add_settings)
from forecast.config import BACKTEST_DEFAULTS, MAX_EPOCHS_VARIABLE

DATA_HELP = "CSV or Parquet path, or a dataset name (etth1, weather, stock:AAPL, stocks:AAPL,MSFT)"
MODEL_HELP = "model.pt written by `forecast fit`, or the run folder that holds it"


class _Parser(argparse.ArgumentParser):
    """A command's parser: a flag is written whole (``--device`` never stands for ``--devices``),
    and a usage mistake is one line with a pointer to --help, not the whole usage."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "allow_abbrev": False})

    def error(self, message: str):
        self.exit(2, f"forecast: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    from forecast.cli import data, run, use
    from forecast.cli.backtest import backtest as run_backtest

    parser = _Parser(
        prog="forecast", description="Time-series forecasting with DenseNet-LSTM models.",
        epilog=f"Set {MAX_EPOCHS_VARIABLE}=N to cap the epochs of every training run (the library's too).")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    fit = commands.add_parser("fit", help="train a model on DATA and write a run folder",
                              description="Train on DATA; write model.pt, metrics.json, config.yaml, "
                                          "run.json and logs to --out, a folder that must not exist yet. "
                                          "Every setting below can come from a YAML file (--config, "
                                          "the same names with underscores); flags override it.")
    fit.add_argument("data", metavar="DATA", help=DATA_HELP)
    fit.add_argument("--out", required=True, help="run folder to write")
    fit.add_argument("--config", help="YAML file with any of the settings below; flags override it")
    fit.add_argument("--resume", action="store_true",
                     help="continue a run to --out that was stopped, from its last finished epoch")
    fit.add_argument("--report", action="store_true",
                     help="also write report.html and report.md (errors beside the baselines, plots)")
    fit.add_argument("--quiet", action="store_true", help="no progress output at all")
    add_settings(fit, FIT_SETTINGS)
    fit.set_defaults(run=run.fit)

    backtest = commands.add_parser(
        "backtest", help="walk-forward forecasts of prices, their skill and a trading simulation",
        description="Forecast DATA's returns from every origin from --start on, refitting on earlier "
                    "rows only; score the forecasts against the random walk; trade their signs, "
                    "filled after the signal's bar. Writes forecasts.csv, equity.csv, trades.csv, "
                    "stats.json, config.yaml and run.json to --out, a folder that must not exist yet.")
    backtest.add_argument("data", metavar="DATA", help=DATA_HELP)
    backtest.add_argument("--out", required=True, help="run folder to write")
    backtest.add_argument("--config", help="YAML file with any of the settings below; flags override it")
    backtest.add_argument("--report", action="store_true",
                          help="also write report.html and report.md (skill, equity, drawdowns, trades)")
    backtest.add_argument("--quiet", action="store_true", help="no progress output at all")
    add_settings(backtest, BACKTEST_SETTINGS, BACKTEST_DEFAULTS)
    backtest.set_defaults(run=run_backtest)

    report = commands.add_parser("report", help="write report.html and report.md for a run folder",
                                 description="Write RUN_DIR/report.html (one self-contained file) and "
                                             "RUN_DIR/report.md with report_files/ for a folder written by "
                                             "`forecast fit` or `forecast backtest`.")
    report.add_argument("run_dir", metavar="RUN_DIR")
    add_settings(report, ["threads"])
    report.set_defaults(run=use.report)

    predict = commands.add_parser("predict", help="forecast from the end of DATA with a saved model",
                                  description="Forecast the model's horizon from the end of DATA, read "
                                              "as the model's training data was read (flags override).")
    predict.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    predict.add_argument("data", metavar="DATA", help=DATA_HELP)
    predict.add_argument("--future", metavar="FILE",
                         help="CSV of the known-future covariates at the forecast timestamps (with "
                              "a unique_id column for several series)")
    predict.add_argument("--out", help="CSV to write (default: standard output)")
    add_settings(predict, READ_OPTIONS + ["threads"])
    predict.set_defaults(run=use.predict)

    evaluate = commands.add_parser(
        "evaluate", help="errors of a saved model on the held-out windows of DATA",
        description="Score the windows of DATA whose first forecast step comes after every row "
                    "that training and validation saw; DATA is read as the model's training data "
                    "was read (flags override).")
    evaluate.add_argument("model", metavar="MODEL", help=MODEL_HELP)
    evaluate.add_argument("data", metavar="DATA", help=DATA_HELP)
    evaluate.add_argument("--json", action="store_true", help="print JSON instead of a table")
    evaluate.add_argument("--all-windows", action="store_true",
                          help="score every window, the training ones too (labelled in-sample)")
    evaluate.add_argument("--report", metavar="DIR",
                          help="also write DIR/report.html and DIR/report.md for these windows")
    add_settings(evaluate, READ_OPTIONS + ["threads"])
    evaluate.set_defaults(run=use.evaluate)

    demo = commands.add_parser("demo", help="train DenseNet-LSTM and baselines on ETTh1 (about "
                                            "half a minute on two CPU cores; works offline)")
    demo.add_argument("--out", default="forecast-demo", help="run folder (default: forecast-demo)")
    demo.add_argument("--quiet", action="store_true", help="no progress output at all")
    add_settings(demo, ["threads"])
    demo.set_defaults(run=run.demo)

    data_parser = commands.add_parser("data", help="inspect and fetch datasets")
    data_commands = data_parser.add_subparsers(title="data commands", metavar="COMMAND")
    info = data_commands.add_parser(
        "info", help="rows, columns, time range, frequency, gaps and duplicates of a series",
        description="Read and validate DATA as fitting would, then summarise it.")
    info.add_argument("data", metavar="DATA", help=DATA_HELP)
    add_settings(info, ["target", "covariates"] + READ_OPTIONS)
    info.add_argument("--lookback", type=int, default=0, help="check the series can hold one window")
    info.add_argument("--horizon", type=int, default=0, help="check the series can hold one window")
    info.set_defaults(run=data.info)
    fetch = data_commands.add_parser("fetch", help="write a named dataset to a CSV file that "
                                                   "reads back as it is")
    fetch.add_argument("name", metavar="NAME", help="etth1, weather, stock:AAPL, stocks:AAPL,MSFT")
    fetch.add_argument("-o", "--output", required=True, help="CSV file to write (an existing one only with --force)")
    fetch.add_argument("--force", action="store_true", help="overwrite --output when it exists")
    fetch.add_argument("--start", help="first date to keep (e.g. 2018-01-01; default: all)")
    fetch.add_argument("--end", help="last date to keep (default: all)")
    fetch.add_argument("--interval", default="1d", choices=["1d"], help="bar size (daily only)")
    fetch.set_defaults(run=data.fetch)
    return parser
