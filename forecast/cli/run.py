"""`forecast fit` and `forecast demo`: a fit run (forecast.workflows.fitting), printed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from forecast.cli.settings import FIT_SETTINGS, run_config, threads
from forecast.cli.tables import metrics_table, number


def fit(args: argparse.Namespace) -> None:
    config = run_config(args, FIT_SETTINGS)
    from forecast.workflows.fitting import fit_run
    from forecast.workflows.runs import command_line

    run = fit_run(args.data, config, Path(args.out), resume=args.resume, report=args.report,
                  progress=not args.quiet and sys.stderr.isatty(), command=command_line())
    trained = run.model.training_metrics_
    if trained and not args.quiet and not sys.stderr.isatty():  # no epoch lines: one summary line
        for k, network in enumerate(trained.get("networks", [trained])):
            loss = f", last val_loss {number(network['val_loss'])}" if "val_loss" in network else ""
            which = f" (network {k + 1} of {config.model.ensemble})" if config.model.ensemble > 1 else ""
            print(f"trained {config.model.model}{which} for {network['epochs']} epochs{loss}", file=sys.stderr)
    for note in run.data_notes + run.model.notes_:
        print(f"note: {note}", file=sys.stderr)
    print(metrics_table(run.metrics, config.model.model))
    print(f"wrote {run.out}/model.pt, metrics.json, config.yaml, run.json"
          + (", report.html, report.md" if args.report else ""), file=sys.stderr)


def demo(args: argparse.Namespace) -> None:
    from forecast.workflows.fitting import demo as run_demo
    from forecast.workflows.runs import set_threads

    set_threads(threads(args))
    results = run_demo(Path(args.out), 4, progress=not args.quiet and sys.stderr.isatty())
    print("ETTh1, L=336, H=96, LTSF split, test windows: "
          f"{results['naive']['windows']} (normalized scale, as the LTSF papers report)")
    print(f"{'model':<16} {'mse':>8} {'mae':>8}")
    for name, result in results.items():
        print(f"{name:<16} {number(result['mse_scaled']):>8} {number(result['mae_scaled']):>8}")
    print(f"run folder: {args.out}")
