"""Reports of a fitted model or of a run folder: the model beside baselines fitted on the same
rows, then the sections of :mod:`forecast.evaluation.sections`, rendered by
:func:`forecast.evaluation.report.write_report`."""

from __future__ import annotations

import json
import math
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.api import Forecaster
from forecast.data.registry import source_sha256
from forecast.data.splits import Split
from forecast.errors import DataError
from forecast.evaluation.report import Report, when, write_report
from forecast.evaluation.sections import (forecast_section, levels_of, metrics_table, safe_naive_scale,
                                          sensor_section, skill_section, trading_section)
from forecast.workflows.runs import MODEL_FILE, device, manifest_data, read_manifest, versions
from forecast.models.registry import model_spec
from forecast.workflows.walkforward import forecasts_at

MAX_ORIGINS = 200  # per series: a report's plots and tables need no more


def fit_report(model: Forecaster, data=None, baselines: tuple[str, ...] = ("drift", "linear"),
               max_origins: int = MAX_ORIGINS, source: str | None = None) -> Report:
    """The report of a fitted Forecaster on its held-out windows (of ``data``, or of the data it
    was fitted on): those whose first forecast step comes after every row training and
    validation saw. A fit without a test part has none in its own data; its validation windows
    are shown instead, labelled as the windows that chose the model. The model stands beside the
    naive forecast and ``baselines``, each fitted on the same training rows with the same
    validation rows; at most ``max_origins`` origins a series, evenly spaced."""
    if data is None and model.data_ is None:
        raise DataError("a loaded model keeps no data: pass the data to report on")
    series = model.data_.data if data is None else model.schema_.read(data)
    settings = model.get_params()
    lookback, horizon = settings["lookback"], settings["horizon"]
    schema = model.schema_
    held_out = {sid: int(frame.index.searchsorted(schema.seen_until(sid), side="right"))
                for sid, frame in series.frames.items()}
    trained = {sid: int(frame.index.searchsorted(schema.training_end(sid), side="right"))
               for sid, frame in series.frames.items()}
    part = "held out"
    if not any(len(frame) - held_out[sid] >= horizon for sid, frame in series.frames.items()):
        held_out, part = trained, "validation (these windows chose the model: not held out)"
    origins, stride = {}, 1
    for sid, frame in series.frames.items():
        rows = np.arange(max(held_out[sid], lookback), len(frame) - horizon + 1)
        stride = max(stride, math.ceil(len(rows) / max_origins))
        origins[sid] = rows
    stride = _coprime(stride, _steps_per_day(series.freq))
    origins = {sid: rows[::stride] for sid, rows in origins.items()}
    if not any(len(rows) for rows in origins.values()):
        raise DataError(f"{series.name}: no complete window after the training rows to report on")
    evaluation = forecasts_at(model, series, origins)
    columns = {settings["model"]: "forecast", "naive": "naive"}
    seen = {sid: frame.iloc[:held_out[sid]] for sid, frame in series.frames.items() if held_out[sid]}
    same_split = {sid: Split(min(trained[sid], len(frame)), len(frame), len(frame)) for sid, frame in seen.items()}
    for name in baselines:
        if name != settings["model"]:
            baseline = Forecaster(model=name, lookback=lookback, horizon=horizon, season=settings["season"],
                                  target=schema.target, covariates=schema.past_covariates)
            baseline.fit(replace(series, frames=seen), split=same_split)
            evaluation[name] = forecasts_at(baseline, series, origins)["forecast"].to_numpy()
            columns[name] = name
    season = settings["season"] or 1
    scale = {(sid, target): safe_naive_scale(series.frames[sid][target].to_numpy()[:trained[sid]], season)
             for sid in series.ids for target in schema.target}
    levels = levels_of(evaluation)
    table = metrics_table(evaluation, columns, scale, "naive", levels)
    verdict = None
    naive_mae = float((evaluation["naive"] - evaluation["actual"]).abs().mean())
    model_mae = float((evaluation["forecast"] - evaluation["actual"]).abs().mean())
    if model_mae >= naive_mae:
        verdict = (f"The model does not beat the naive forecast on these windows: MAE {model_mae:.4g} "
                   f"against the naive forecast's {naive_mae:.4g}.")
    ends = sorted({when(schema.training_end(sid)) for sid in series.ids})
    seen_ends = sorted({when(schema.seen_until(sid)) for sid in series.ids})
    name = _file_name(source or series.name)
    facts = {
        "data": name, "sha256": source_sha256(source or series.name),
        "rows": f"{len(series)} in {len(series.ids)} series", "time range": _time_range(series),
        "frequency": series.freq or "unknown",
        "split": (f"trained on rows up to {', '.join(ends)}, validated up to {', '.join(seen_ends)}; "
                  f"scored: {part}, {sum(len(r) for r in origins.values())} origins"
                  + (f", every {stride} rows" if stride > 1 else "")),
        "model": configuration(settings), "seed": str(settings["seed"]), **_machine(),
        "wall time": f"{model.fit_seconds_:.1f} s to fit" if getattr(model, "fit_seconds_", None) else "unknown",
    }
    sections = [forecast_section(evaluation, table, columns, levels, stride)]
    if isinstance(evaluation["timestamp"].iloc[0], pd.Timestamp):
        sections.append(sensor_section(evaluation, columns))
    return Report(f"{settings['model']} on {name}", facts, verdict, sections)


def backtest_report(run: str | os.PathLike) -> Report:
    """The report of a ``forecast backtest`` run folder: forecasts against the naive forecast
    and the random walk, skill per series, and the trading simulation against buy-and-hold."""
    run = Path(run)
    manifest = read_manifest(run)
    try:
        stats = json.loads((run / "stats.json").read_text())
        evaluation = pd.read_csv(run / "forecasts.csv", parse_dates=["origin", "timestamp"])
        equity = pd.read_csv(run / "equity.csv", index_col="time", parse_dates=True)
        trades = pd.read_csv(run / "trades.csv")
    except OSError as error:  # its message repeats the path: name the file alone
        raise DataError(f"{run}: not a complete backtest run folder ({Path(error.filename or '?').name} "
                        "is missing or unreadable)") from None
    except (ValueError, KeyError) as error:
        raise DataError(f"{run}: not a complete backtest run folder ({type(error).__name__}: {error})") from None
    settings = {k: v for group in manifest["settings"].values() for k, v in group.items()}
    returns = settings["returns"]
    name = settings["model"]
    columns = {name: "forecast", "naive (last value)": "naive"}
    if returns != "none":
        evaluation["random walk"] = 0.0
        columns["random walk (no change)"] = "random walk"
    walk = "random walk" if returns != "none" else "naive"
    scale = {(row["series"], row["target"]): row["mae"] / row["mase"] if row["mase"] else np.nan
             for row in stats["skill"]}
    levels = levels_of(evaluation)
    table = metrics_table(evaluation, columns, scale, walk, levels, relative=returns == "none")
    dm = [row["dm_p"] for row in stats["skill"] if row["dm_p"] is not None]
    verdict = None
    if dm and min(dm) >= 0.05:
        verdict = (f"The model does not beat the random walk: no series' Diebold-Mariano test is "
                   f"significant at 5 % (p from {min(dm):.2g} to {max(dm):.2g}).")
    folds = stats["folds"]
    source = _file_name(manifest["data"]["source"])
    facts = {"data": source, "sha256": manifest["data"]["sha256"], "rows": f"{stats['data']['rows']} in "
             f"{len(stats['data']['series'])} series ({', '.join(map(str, stats['data']['series']))})",
             "time range": f"{when(evaluation['origin'].min())} .. {when(evaluation['timestamp'].max())} (forecasts)",
             "target": (f"{returns} returns of " if returns != "none" else "") + ", ".join(settings["target"] or ["the price"]),
             "folds": f"{len(folds)} fits, {settings['window']} window, refit every "
                      f"{settings['refit_every'] or 'never'} rows, first forecast {when(pd.Timestamp(folds[0]['first_forecast']))}",
             "model": configuration(settings), "seed": str(settings["seed"]),
             "versions": ", ".join(f"{k} {v}" for k, v in manifest["versions"].items()),
             "device": manifest["device"], "wall time": f"{manifest['timings'].get('wall_seconds', float('nan')):.1f} s"}
    sections = [forecast_section(evaluation, table, columns, levels, settings["step"]),
                skill_section(stats["skill"]),
                trading_section(equity, trades, stats, settings)]
    return Report(f"Backtest of {name} on {source}", facts, verdict, sections)


def report_run(run: str | os.PathLike) -> Path:
    """The report of a run folder written by ``forecast fit`` or ``forecast backtest``, into it;
    the data is found through the manifest's absolute path, from any folder."""
    run = Path(run)
    manifest = read_manifest(run)
    if manifest["kind"] == "backtest":
        return write_report(backtest_report(run), run)
    model = Forecaster.load(run / MODEL_FILE)
    model.fit_seconds_ = manifest["timings"].get("fit_seconds")
    data = manifest_data(manifest)
    return write_report(fit_report(model, model.schema_.read(data), source=manifest["data"]["source"]), run)


def configuration(settings: dict) -> str:
    """The settings the model uses, as key=value text (a baseline has no epochs, a DLinear no head)."""
    spec = model_spec(settings["model"])
    keys = ["model", "lookback", "horizon"] + (["season"] if settings["model"] == "seasonal-naive" else [])
    if spec.kind == "neural":
        keys += ["max_epochs", "batch_size", "lr", "patience"]
    if spec.lstm_head:
        keys += ["head", "hidden_size", "patch", "highway", "revin", "dropout", "quantiles"]
    return ", ".join(f"{k}={settings[k]}" for k in keys if settings.get(k) is not None)


def _steps_per_day(freq: str | None) -> int:
    """Rows a day for sub-daily data (24 for hourly), else 1."""
    try:
        step = pd.to_timedelta(pd.tseries.frequencies.to_offset(freq))
    except (TypeError, ValueError):
        return 1
    return max(1, int(pd.Timedelta(days=1) / step)) if step < pd.Timedelta(days=1) else 1


def _coprime(stride: int, period: int) -> int:
    """The smallest stride from ``stride`` on that shares no factor with ``period``: thinned
    origins then visit every hour of the day alike."""
    while math.gcd(stride, period) > 1:
        stride += 1
    return stride


def _time_range(series) -> str:
    first = min(frame.index[0] for frame in series.frames.values())
    last = max(frame.index[-1] for frame in series.frames.values())
    return f"{when(first)} .. {when(last)}"


def _file_name(source: str) -> str:
    """A file by its name, a dataset by its registry name."""
    return Path(source).name if Path(source).suffix else source


def _machine() -> dict[str, str]:
    return {"versions": ", ".join(f"{k} {v}" for k, v in versions().items()), "device": device()}


def report(model: Forecaster, out: str | os.PathLike, data=None, source: str | None = None) -> Path:
    """Write ``out``/report.html (self-contained) and report.md with its images for a fitted
    model (see :func:`fit_report`); returns the HTML file's path."""
    return write_report(fit_report(model, data, source=source), out)
