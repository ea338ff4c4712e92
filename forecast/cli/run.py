"""`forecast fit` and `forecast demo`: train, evaluate, and write a run folder all at once."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from forecast.cli.settings import FIT_DEFAULTS, capped_epochs, fit_settings, forecaster, read_options
from forecast.cli.tables import metrics_table, number
from forecast.cli.use import set_threads
from forecast.errors import DataError


def fit(args: argparse.Namespace) -> None:
    settings = fit_settings(args)
    out = Path(args.out)
    check_out(out, resume=args.resume)
    set_threads(settings["threads"])
    from forecast.data.registry import read_data

    columns = (settings["covariates"] or []) + (settings["future_covariates"] or [])
    data = read_data(args.data, target=settings["target"], covariates=columns or None,
                     min_rows=settings["lookback"] + settings["horizon"], **read_options(settings))
    train_and_write(data, settings, out, quiet=args.quiet, source=args.data, config_path=args.config,
                    resume=args.resume, report=args.report)


def demo(args: argparse.Namespace) -> None:
    from forecast.data.registry import load_dataset
    from forecast.data.splits import ltsf_split

    out = Path(args.out)
    check_out(out)
    set_threads(args.threads)
    data = load_dataset("etth1")
    split = ltsf_split(data, "etth1")
    base = {**FIT_DEFAULTS, "lookback": 336, "horizon": 96, "head": "direct",
            "batch_size": 128, "max_epochs": capped_epochs(4), "patience": 2}
    results = {}
    for name in ("densenet-lstm", "linear", "dlinear", "naive"):
        settings = {**base, "model": name, "lr": 1e-4 if name == "densenet-lstm" else None}
        folder = out if name == "densenet-lstm" else out / "baselines" / name
        metrics = train_and_write(data, settings, folder, quiet=args.quiet, source="etth1",
                                  split=split, summary=False)
        results[name] = metrics["test"]
    print("ETTh1, L=336, H=96, LTSF split, test windows: "
          f"{results['naive']['windows']} (normalized scale, as the LTSF papers report)")
    print(f"{'model':<16} {'mse':>8} {'mae':>8}")
    for name, result in results.items():
        print(f"{name:<16} {number(result['mse_scaled']):>8} {number(result['mae_scaled']):>8}")
    print(f"run folder: {out}")


def check_out(out: Path, resume: bool = False) -> None:
    """--out must be a new folder in a writable place. A stopped run's scratch folder is named,
    never reused unless --resume asks for it."""
    if out.exists():
        kind = "a folder" if out.is_dir() else "a file"
        raise DataError(f"--out {out} is {kind} that exists already; name a new folder")
    scratch = scratch_folder(out)
    if resume and not last_checkpoint(out).is_file():
        raise DataError(f"--resume: no stopped run of {out} to continue ({last_checkpoint(out)} "
                        "does not exist)")
    if scratch.exists() and not resume:
        raise DataError(f"--out {out}: a stopped run left {scratch}; continue it with --resume, "
                        "or remove it to start afresh")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise DataError(f"--out {out}: cannot write in {parent}")


def scratch_folder(out: Path) -> Path:
    """Where a run works until it is complete; renamed to ``out`` only on success."""
    return out.parent / f".{out.name}.partial"


def last_checkpoint(out: Path) -> Path:
    """The last finished epoch of a run in progress (Lightning's full checkpoint)."""
    return scratch_folder(out) / "logs" / "checkpoints" / "last.ckpt"


def train_and_write(data, settings: dict, out: Path, quiet: bool, source: str,
                    config_path: str | None = None, split=None, summary: bool = True,
                    resume: bool = False, report: bool = False) -> dict:
    """Fit, evaluate model and naive on val and test, and write the run folder all at once.
    The work happens in a scratch folder beside ``out``, renamed to ``out`` when complete; an
    interrupted run leaves it, with its last epoch's checkpoint, for ``resume``."""
    import yaml

    from forecast.atomic import write_atomically

    scratch = scratch_folder(out)
    scratch.mkdir(parents=True, exist_ok=resume)
    try:
        model = forecaster(settings, target=settings["target"], covariates=settings["covariates"],
                           future_covariates=settings["future_covariates"], log_dir=str(scratch / "logs"),
                           logger=settings.get("logger", "csv"), progress=not quiet and sys.stderr.isatty())
        resume_from = last_checkpoint(out) if resume else None
        if split is None:
            model.fit(data, val=settings["val"], test=settings["test"], resume_from=resume_from)
        else:
            model.fit(data, split=split, resume_from=resume_from)
        trained = model.training_metrics_
        if trained and not quiet and not sys.stderr.isatty():  # no epoch lines: one summary line
            loss = f", last val_loss {number(trained['val_loss'])}" if "val_loss" in trained else ""
            print(f"trained {settings['model']} for {trained['epochs']} epochs{loss}", file=sys.stderr)
        for note in model.notes_:
            print(f"note: {note}", file=sys.stderr)
        metrics = {part: model.evaluate(part=part) for part in ("val", "test")
                   if len(model.data_.datasets[part])}
        model.save(scratch / "model.pt")
        write_atomically(scratch / "metrics.json", lambda p: Path(p).write_text(json.dumps(metrics, indent=2)))
        header = f"# forecast fit {source}" + (f" --config {config_path}" if config_path else "")
        header += f"\n# wall time {model.fit_seconds_:.1f} s"
        config = f"{header}\n{yaml.safe_dump(settings, sort_keys=False)}"
        write_atomically(scratch / "config.yaml", lambda p: Path(p).write_text(config))
        if report:
            model.report(scratch, source=source)
        os.replace(scratch, out)
    except KeyboardInterrupt:
        raise  # the scratch folder stays, to be continued with --resume
    except BaseException:
        if not resume:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    if summary:
        print(metrics_table(metrics, settings["model"]))
        print(f"wrote {out}/model.pt, metrics.json, config.yaml" + (", report.html, report.md" if report else ""),
              file=sys.stderr)
    return metrics
