"""`forecast predict` and `forecast evaluate`: a saved model on new data."""

from __future__ import annotations

import argparse
import json
import sys

from forecast.cli.settings import read_options
from forecast.cli.tables import metrics_table


def predict(args: argparse.Namespace) -> None:
    from forecast.atomic import write_atomically

    set_threads(args.threads)
    model = _load(args.model)
    future = _future(args.future, model) if args.future else None
    forecasts = model.predict(args.data, future=future, **read_options(args))
    rows = long_rows(forecasts, model.schema_.target)
    if args.out:
        write_atomically(args.out, lambda path: rows.to_csv(path, index=False))
        print(f"wrote {len(rows)} forecast rows to {args.out}", file=sys.stderr)
    else:
        rows.to_csv(sys.stdout, index=False)


def evaluate(args: argparse.Namespace) -> None:
    set_threads(args.threads)
    model = _load(args.model)
    result = model.evaluate(args.data, in_sample=args.all_windows, **read_options(args))
    if args.report:
        path = model.report(args.report, data=args.data, **read_options(args))
        print(f"wrote {path} and report.md", file=sys.stderr)
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(metrics_table({result["part"]: result}, model.model))
    scope = "every window, in-sample" if result["in_sample"] else "after the training data"
    print(f"windows: {result['windows']} ({scope})")
    for sid, scores in result.get("series", {}).items():
        print(f"series {sid}: windows {scores['windows']}, mse {scores['mse']:.5g}, "
              f"mae {scores['mae']:.5g}, naive mse {scores['naive_mse']:.5g}")


def report(args: argparse.Namespace) -> None:
    from pathlib import Path

    from forecast.errors import DataError
    from forecast.evaluation.report import report_run

    set_threads(args.threads)
    if not Path(args.run_dir).is_dir():
        raise DataError(f"{args.run_dir}: no such run folder")
    print(f"wrote {report_run(args.run_dir)} and report.md", file=sys.stderr)


def set_threads(threads: int | None) -> None:
    """Let torch use ``threads`` CPU threads (None: its default, the cores it sees)."""
    if threads is not None:
        from forecast.errors import DataError

        if threads < 1:
            raise DataError(f"--threads must be a positive whole number, not {threads}")
        import torch

        torch.set_num_threads(threads)


def long_rows(forecasts, targets: list[str]):
    """One row per future timestamp and target: [unique_id,] time, target, forecast[, q...]."""
    import pandas as pd

    frame = forecasts.reset_index()
    keys = [c for c in ("unique_id", "time") if c in frame.columns]
    parts = []
    for target in targets:
        quantile_columns = [c for c in frame.columns if c.startswith(f"{target}_q")]
        part = frame[keys + [target] + quantile_columns].rename(columns={target: "forecast"})
        part = part.rename(columns={c: c[len(target) + 1:] for c in quantile_columns})
        part.insert(len(keys), "target", target)
        parts.append(part)
    return pd.concat(parts, ignore_index=True).sort_values(keys + ["target"], kind="stable")


def _load(path: str):
    import forecast

    return forecast.load(path)


def _future(path: str, model):
    """The known-future covariates file as frames keyed by timestamp (by series for long files)."""
    from forecast.data.reading import read_series

    columns = model.schema_.future_covariates
    if not columns:
        from forecast.errors import DataError

        raise DataError(f"--future {path}: the model has no known-future covariates")
    future = read_series(path, target=columns, min_rows=1)
    if len(future.frames) == 1:
        return next(iter(future.frames.values()))
    return future.frames
