"""`forecast data info` and `forecast data fetch`."""

from __future__ import annotations

import argparse
import sys

from forecast.cli.settings import check_output_file, read_options
from forecast.errors import DataError


def info(args: argparse.Namespace) -> None:
    from forecast.data.registry import read_data

    data = read_data(args.data, target=args.target, covariates=args.covariates,
                     min_rows=max(3, args.lookback + args.horizon), **read_options(args))
    print(data.describe())


def fetch(args: argparse.Namespace) -> None:
    """Write a named dataset so that it reads back as it was: several series in long layout
    (a unique_id column), which `read_series` recognises without flags."""
    from forecast.atomic import write_atomically
    from forecast.data.registry import is_registered, load_dataset

    if not is_registered(args.name):
        raise DataError(f"unknown dataset '{args.name}'; known: etth1, weather, stock:TICKER, stocks:T1,T2")
    check_output_file(args.output, "-o", overwrite=args.force)
    frame = load_dataset(args.name).to_frame()
    if args.start:
        frame = frame[frame.index >= timestamp(args.start, "--start")]
    if args.end:
        frame = frame[frame.index <= timestamp(args.end, "--end")]
    if frame.empty:
        raise DataError(f"{args.name}: no rows between {args.start or 'the start'} and {args.end or 'the end'}")
    write_atomically(args.output, lambda path: frame.to_csv(path, index_label="date"))
    print(f"wrote {len(frame)} rows of {args.name} to {args.output}", file=sys.stderr)


def timestamp(text: str, flag: str):
    import pandas as pd

    try:
        return pd.Timestamp(text)
    except ValueError:
        raise DataError(f"{flag} '{text}' is not a date") from None
