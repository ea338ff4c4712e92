"""`forecast predict`, `forecast evaluate` and `forecast report`: a saved model or a run folder."""

from __future__ import annotations

import argparse
import sys

from forecast.cli.settings import check_output_file, read_options, threads
from forecast.cli.tables import metrics_table


def predict(args: argparse.Namespace) -> None:
    from forecast.atomic import write_atomically

    if args.out:
        check_output_file(args.out, "--out")
    model = _load(args)
    future = _future(args.future, model) if args.future else None
    forecasts = model.predict(args.data, future=future, **read_options(args))
    from forecast.models.registry import quantile_levels

    levels = quantile_levels(model.quantiles) if model.quantiles else None
    rows = long_rows(forecasts, model.schema_.target, levels)
    if args.out:
        write_atomically(args.out, lambda path: rows.to_csv(path, index=False))
        print(f"wrote {len(rows)} forecast rows to {args.out}", file=sys.stderr)
    else:
        rows.to_csv(sys.stdout, index=False)


def evaluate(args: argparse.Namespace) -> None:
    model = _load(args)
    result = model.evaluate(args.data, in_sample=args.all_windows, **read_options(args))
    if args.report:
        from forecast.evaluation.report import write_report
        from forecast.workflows.reports import fit_report

        path = write_report(fit_report(model, model.schema_.read(args.data, **read_options(args)),
                                       source=args.data), args.report)
        print(f"wrote {path} and report.md", file=sys.stderr)
    if args.json:
        from forecast.workflows.runs import strict_json

        print(strict_json(result))
        return
    print(metrics_table({result["part"]: result}, model.model))
    scope = "every window, in-sample" if result["in_sample"] else \
        "held out: after every row that training and validation saw"
    print(f"windows: {result['windows']} ({scope})")
    for sid, scores in result.get("series", {}).items():
        print(f"series {sid}: windows {scores['windows']}, mse {scores['mse']:.5g}, "
              f"mae {scores['mae']:.5g}, naive mse {scores['naive_mse']:.5g}")


def report(args: argparse.Namespace) -> None:
    from pathlib import Path

    from forecast.errors import DataError
    from forecast.workflows.reports import report_run
    from forecast.workflows.runs import set_threads

    set_threads(threads(args))
    if not Path(args.run_dir).is_dir():
        raise DataError(f"{args.run_dir}: no such run folder")
    print(f"wrote {report_run(args.run_dir)} and report.md", file=sys.stderr)


def long_rows(forecasts, targets: list[str], levels: list[float] | None):
    """One row per future timestamp and target: [unique_id,] time, target, forecast[, q...]; the
    quantile columns of each target matched exactly (``sales`` never takes ``sales_qty``'s)."""
    import pandas as pd

    frame = forecasts.reset_index()
    keys = [c for c in ("unique_id", "time") if c in frame.columns]
    parts = []
    for target in targets:
        quantile_columns = {f"{target}_q{level:g}": f"q{level:g}" for level in levels or []}
        part = frame[keys + [target] + list(quantile_columns)].rename(columns={target: "forecast", **quantile_columns})
        part.insert(len(keys), "target", target)
        parts.append(part)
    return pd.concat(parts, ignore_index=True).sort_values(keys + ["target"], kind="stable")


def _load(args: argparse.Namespace):
    """The model of ``args.model`` (a model file or a fit's run folder), with torch's threads set
    first."""
    from forecast.workflows.runs import model_file, set_threads

    import forecast

    set_threads(threads(args))
    return forecast.load(model_file(args.model))


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
