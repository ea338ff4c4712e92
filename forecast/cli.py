"""The ``forecast`` command. Start-up stays light: each command imports what it needs when it runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from forecast.errors import DataError


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 2 bad usage or input, 1 internal error)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        args.run(args)
    except DataError as error:
        print(f"forecast: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("forecast: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # an unexpected failure: a bug of ours, not the user's
        if args.debug:
            raise
        print(f"forecast: internal error: {type(error).__name__}: {error} "
              "(run with --debug for the traceback)", file=sys.stderr)
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forecast", description="Time-series forecasting with DenseNet-LSTM models.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    data = commands.add_parser("data", help="inspect and fetch datasets")
    data_commands = data.add_subparsers(title="data commands", metavar="COMMAND")
    info = data_commands.add_parser(
        "info", help="rows, columns, time range, frequency, gaps and duplicates of a series",
        description="Read and validate DATA as fitting would, then summarise it.")
    info.add_argument("data", metavar="DATA", help="CSV or Parquet path, or a dataset name "
                      "(etth1, weather, stock:AAPL)")
    _add_read_options(info)
    info.add_argument("--lookback", type=int, default=0, help="check the series can hold one window")
    info.add_argument("--horizon", type=int, default=0, help="check the series can hold one window")
    info.set_defaults(run=_data_info)
    return parser


def _add_read_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", help="target column(s), comma-separated (default: all numeric)")
    parser.add_argument("--covariates", help="covariate column(s), comma-separated")
    parser.add_argument("--time-col", help="time column (default: inferred)")
    parser.add_argument("--id-col", help="series id column of a long-layout file")
    parser.add_argument("--freq", help="pandas frequency alias (default: inferred)")
    parser.add_argument("--fill", choices=["ffill", "interpolate"],
                        help="fill missing values and gaps (default: report them as errors)")
    parser.add_argument("--duplicates", choices=["error", "drop", "keep"], default=None,
                        help="what to do with duplicated timestamps (default: error)")
    parser.add_argument("--sort", action="store_true", help="sort rows that are out of time order")


def read_data(args: argparse.Namespace, min_rows: int = 3):
    """The series named on the command line: a file path or a registry name."""
    from forecast.data.reading import read_series
    from forecast.data.registry import is_registered, load_dataset

    options = {"target": args.target, "covariates": args.covariates, "time_col": args.time_col,
               "id_col": args.id_col, "freq": args.freq, "fill": args.fill, "sort": args.sort,
               "min_rows": min_rows}
    if args.duplicates:
        options["duplicates"] = args.duplicates
    if not Path(args.data).exists() and is_registered(args.data):
        options = {k: v for k, v in options.items() if v is not None and v is not False}
        return load_dataset(args.data, **options)
    return read_series(args.data, **options)


def _data_info(args: argparse.Namespace) -> None:
    data = read_data(args, min_rows=max(3, args.lookback + args.horizon))
    print(data.describe())


if __name__ == "__main__":
    sys.exit(main())
