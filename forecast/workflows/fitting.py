"""A fit run: read, train, score the validation and held-out test parts, and write the run folder
(model.pt, metrics.json, config.yaml, run.json, logs/, and the report when asked) all at once."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from forecast.api import Forecaster
from forecast.atomic import write_atomically
from forecast.config import MODEL_GROUPS, RunConfig
from forecast.data.registry import load_dataset, read_data
from forecast.data.splits import Splits, ltsf_split
from forecast.workflows.runs import (MODEL_FILE, RESUME_SETTINGS, check_out, last_checkpoints, resume_point,
                                     run_folder, set_threads, stopped_seconds, strict_json, write_manifest)


@dataclass
class FitRun:
    """The fitted model, the errors of each part (``val``: the windows that chose the
    checkpoint; ``test``: held out), the folder written, and what reading the data noticed
    (gaps, fills, kept duplicates), as ``forecast data info`` reports it."""

    model: Forecaster
    metrics: dict[str, dict]
    out: Path
    data_notes: list[str]


def fit_run(data, config: RunConfig, out: Path, *, split: Splits | None = None, resume: bool = False,
            report: bool = False, progress: bool = False, command: str = "") -> FitRun:
    """Fit the configured model on ``data`` (a path, dataset name or SeriesData) and write ``out``.
    The work happens in a scratch folder beside ``out``, renamed to ``out`` when complete; a
    stopped run leaves it, with its last epoch's checkpoint, for ``resume``."""
    started = time.perf_counter()
    notes = check_out(out, resume=resume)
    resume = resume and bool(last_checkpoints(out))
    kept = config.flat(MODEL_GROUPS)  # what a resumed run must ask for again
    before = stopped_seconds(out, kept) if resume else 0.0
    set_threads(config.runtime.threads)
    columns = (config.data.covariates or []) + (config.data.future_covariates or [])
    series = read_data(data, target=config.data.target, covariates=columns or None,
                       min_rows=config.model.lookback + config.model.horizon, **config.read_options())
    with run_folder(out, resume) as scratch:
        if not resume:
            write_atomically(scratch / RESUME_SETTINGS, lambda p: Path(p).write_text(
                strict_json({"settings": kept, "started": time.time()})))
        keywords = {**config.keywords(), "log_dir": str(scratch / "logs"), "progress": progress}
        model = Forecaster(**keywords)
        resume_from = resume_point(out, config.model.ensemble) if resume else None
        if split is None:
            model.fit(series, val=config.training.val, test=config.training.test, resume_from=resume_from)
        else:
            model.fit(series, split=split, resume_from=resume_from)
        metrics = {part: model.evaluate(part=part) for part in ("val", "test")
                   if len(model.data_.datasets[part])}
        model.save(scratch / MODEL_FILE)
        write_atomically(scratch / "metrics.json", lambda p: Path(p).write_text(strict_json(metrics)))
        if report:
            from forecast.workflows.reports import fit_report
            from forecast.evaluation.report import write_report

            write_report(fit_report(model, source=_name(data)), scratch)
        write_manifest(scratch, "fit", config, data, command, _splits(model),
                       {"fit_seconds": before + model.fit_seconds_,
                        "wall_seconds": before + time.perf_counter() - started})
        (scratch / RESUME_SETTINGS).unlink()
    return FitRun(model, metrics, out, notes + series.notes)


def demo(out: Path, epochs: int, progress: bool = False) -> dict[str, dict]:
    """A small DenseNet-LSTM and the baselines on ETTh1 (the LTSF split, L=336, H=96): each
    model's run folder under ``out``, and the test errors of each. Each run reads the dataset by
    its registry name, so that its manifest carries the registered checksum."""
    data = load_dataset("etth1")
    split = ltsf_split(data, "etth1")
    base = {"lookback": 336, "horizon": 96, "head": "direct", "batch_size": 128, "max_epochs": epochs,
            "patience": 2}
    results = {}
    check_out(out)
    for name in ("densenet-lstm", "linear", "dlinear", "naive"):
        config = RunConfig.build({**base, "model": name, "lr": 1e-4 if name == "densenet-lstm" else None})
        folder = out if name == "densenet-lstm" else out / "baselines" / name
        run = fit_run("etth1", config, folder, split=split, progress=progress, command="forecast demo")
        results[name] = run.metrics["test"]
    return results


def _splits(model: Forecaster) -> dict:
    """Per series, the rows and last timestamps of the train, val and test parts."""
    frames, split = model.data_.data.frames, model.data_.split
    result = {}
    for sid, frame in frames.items():
        part = split[sid]
        bounds = {"train": (0, part.train_end), "val": (part.train_end, part.val_end),
                  "test": (part.val_end, part.test_end)}
        result[sid] = {name: {"rows": end - start, "last": frame.index[end - 1].isoformat() if end > start else None}
                       for name, (start, end) in bounds.items()}
    return result


def _name(data) -> str:
    return str(data) if isinstance(data, (str, Path)) else getattr(data, "name", "data")

