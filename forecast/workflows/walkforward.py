"""Walk-forward backtests: refit on the data before each origin, then forecast every origin of the
segment in one batched forward pass (the semantics of Darts' ``historical_forecasts`` and
NeuralForecast's ``cross_validation``, on pandas frames)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from forecast.data.series import SeriesData
from forecast.data.splits import Split
from forecast.errors import DataError
from forecast.api import Forecaster
from forecast.config import resolve
from forecast.models.registry import median_index
from forecast.workflows import parallel


@dataclass
class Backtest:
    """What a walk-forward backtest produced.

    ``forecasts``: one row per series, origin, step and target column: ``fold``, ``series``,
    ``origin`` (the last timestamp the forecast could see), ``timestamp`` (the forecast one),
    ``step`` (1..horizon), ``target``, ``actual``, ``forecast`` (the median), ``naive`` (the last
    value seen at the origin) and ``q<level>`` columns with quantiles.
    ``folds``: one row per fit: its first forecast timestamp, training rows and span, origins,
    MSE and MAE of its forecasts and of the naive forecast, seconds to fit and to forecast.
    ``models``: the fitted Forecaster of each fold, for inspection. ``history``: per series, the
    target columns of the first fold's training rows (what MASE is scaled by).
    """

    forecasts: pd.DataFrame
    folds: pd.DataFrame
    models: list
    history: dict[str, pd.DataFrame]


# a series joins a fold when it has this many times (look-back + horizon) rows before the cut, so
# that its fit has windows to train and validate on; a fold with fewer training windows than
# FEW_WINDOWS in all is flagged (``folds["few_windows"]``): its forecasts are weakly fitted
JOIN_FACTOR = 2
FEW_WINDOWS = 100


def walk_forward(forecaster: Forecaster, data, start: float | int | str | pd.Timestamp = 0.5, step: int = 1,
                 refit_every: int | bool = False, window: Literal["expanding", "sliding"] = "expanding",
                 train_length: int | None = None, val: float = 0.2, progress: bool = False,
                 jobs: int = 1, scheduler: str | None = None, **read_options) -> Backtest:
    """Forecast ``data`` from every origin from ``start`` on, ``step`` rows apart, fitting only on
    rows before each origin.

    ``start`` is the first forecast timestamp: a timestamp, a row position, or a fraction of the
    rows (with several series: of the union of their timestamps). ``refit_every``: False fits
    once, on the rows before ``start``; N refits at the first origin N or more rows (of the union
    of timestamps, not origins) after the last fit; True refits at every origin. ``window``:
    "expanding" trains on every earlier row, "sliding" on the last ``train_length``. Each fit is a
    fresh copy of ``forecaster`` (scalers, the ridge start and its alpha, the network: all fitted
    again); its last ``val`` share of the training rows validates. A series joins the first fold
    at whose cut it has JOIN_FACTOR x (look-back + horizon) rows, and leaves when its data ends:
    only origins whose whole horizon lies in its data are forecast. ``jobs`` fits that many folds
    at once in processes, ``scheduler`` on Dask (see :mod:`forecast.workflows.parallel`); the
    forecasts are the same.
    """
    if not isinstance(step, (int, np.integer)) or isinstance(step, bool) or step < 1:
        raise ValueError(f"step must be a positive integer, got {step!r}")
    if window not in ("expanding", "sliding"):
        raise ValueError(f"window must be 'expanding' or 'sliding', not {window!r}")
    if (window == "sliding") != (train_length is not None):
        raise ValueError("train_length goes with window='sliding', and sliding needs it")
    if train_length is not None and (not isinstance(train_length, (int, np.integer)) or train_length < 1):
        raise ValueError(f"train_length must be a positive integer, got {train_length!r}")
    series = forecaster.read(data, **read_options)
    settings = forecaster.get_params()
    timeline = _timeline(series)
    first = _start_position(start, timeline)
    positions = np.arange(first, len(timeline), step)
    needed = JOIN_FACTOR * (settings["lookback"] + settings["horizon"])
    needed = min(needed, train_length) if train_length else needed
    tasks = []
    for block in _folds(positions, refit_every):
        cut = timeline[block[0]]
        training = _training_rows(series, cut, train_length, needed)
        origins = _rows(series, timeline[block], settings["lookback"], settings["horizon"])
        origins = {sid: rows for sid, rows in origins.items() if len(rows) and sid in training.frames}
        if origins:
            tasks.append(_Fold(type(forecaster), settings, training, series, origins, val, cut))
    if not tasks:
        raise DataError(f"{series.name}: no origin from {timeline[first - 1] if first else timeline[0]} on has "
                        f"a whole {settings['horizon']}-step horizon after {needed} rows to train on "
                        f"({JOIN_FACTOR} x (look-back + horizon))")
    with parallel.fold_map(jobs, scheduler) as mapped:
        done = mapped(_fit_fold, tqdm(tasks, desc="refits", unit="fit", file=sys.stderr, disable=not progress))
    forecasts, folds, models, history = [], [], [], {}
    for number, (task, (frame, model, fitted, forecasting)) in enumerate(zip(tasks, done)):
        frame.insert(0, "fold", number)
        forecasts.append(frame)
        models.append(model)
        for sid, part in task.training.frames.items():  # MASE's scale: a series' first training rows
            history.setdefault(sid, part[model.schema_.target])
        error, naive = frame["forecast"] - frame["actual"], frame["naive"] - frame["actual"]
        frames = task.training.frames.values()
        windows = sum(max(len(f) - settings["lookback"] - settings["horizon"] + 1, 0) for f in frames)
        folds.append({"fold": number, "first_forecast": task.cut, "train_from": min(f.index[0] for f in frames),
                      "train_to": max(f.index[-1] for f in frames), "train_rows": len(task.training),
                      "series": len(task.training.frames), "training_windows": windows, "few_windows": windows < FEW_WINDOWS,
                      "origins": int(sum(len(rows) for rows in task.origins.values())),
                      "mse": float((error ** 2).mean()), "mae": float(error.abs().mean()),
                      "naive_mse": float((naive ** 2).mean()), "naive_mae": float(naive.abs().mean()),
                      "fit_seconds": fitted, "forecast_seconds": forecasting})
    return Backtest(pd.concat(forecasts, ignore_index=True), pd.DataFrame(folds), models, history)


@dataclass
class _Fold:
    """One fit and its forecasts: what a worker process needs, and nothing it does not."""

    kind: type
    settings: dict
    training: SeriesData
    series: SeriesData
    origins: dict[str, np.ndarray]
    val: float
    cut: pd.Timestamp


def _fit_fold(task: _Fold) -> tuple[pd.DataFrame, Forecaster, float, float]:
    clock = time.perf_counter()
    model = task.kind(**task.settings).fit(task.training, val=task.val)
    fitted = time.perf_counter() - clock
    frame = forecasts_at(model, task.series, task.origins)
    return frame, model, fitted, time.perf_counter() - clock - fitted


def _timeline(series: SeriesData) -> pd.Index:
    """Every timestamp of every series, sorted: origins are positions on it."""
    indexes = [frame.index for frame in series.frames.values()]
    timeline = indexes[0]
    for index in indexes[1:]:
        timeline = timeline.union(index)
    return timeline


def _start_position(start, timeline: pd.Index) -> int:
    """The position of the first forecast timestamp; 1 at least, so that every origin has a past."""
    if isinstance(start, bool):
        raise ValueError(f"start must be a timestamp, a row position or a fraction, not {start!r}")
    if isinstance(start, float):
        if not 0 < start < 1:
            raise ValueError(f"a fractional start must lie in (0, 1), got {start}")
        position = int(len(timeline) * start)
    elif isinstance(start, (int, np.integer)):
        position = int(start)
    else:
        try:
            stamp = pd.Timestamp(start)
        except (TypeError, ValueError):
            raise ValueError(f"start {start!r} is not a timestamp, row position or fraction") from None
        if getattr(timeline, "tz", None) is not None and stamp.tz is None:
            stamp = stamp.tz_localize(timeline.tz)
        position = int(timeline.searchsorted(stamp))
    if not 1 <= position < len(timeline):
        raise ValueError(f"start {start!r} falls outside the data ({timeline[0]} .. {timeline[-1]})")
    return position


def _folds(positions: np.ndarray, refit_every: int | bool) -> list[np.ndarray]:
    """Origins grouped by the fit that forecasts them."""
    if refit_every is False:
        return [positions]
    if refit_every is True:
        return [positions[i:i + 1] for i in range(len(positions))]
    if not isinstance(refit_every, (int, np.integer)) or refit_every < 1:
        raise ValueError(f"refit_every must be False, True or a positive number of rows, got {refit_every!r}")
    starts, last = [], None
    for i, position in enumerate(positions):
        if last is None or position - last >= refit_every:
            starts.append(i)
            last = position
    return np.split(positions, starts[1:])


def _rows(series: SeriesData, stamps: pd.Index, lookback: int, horizon: int) -> dict[str, np.ndarray]:
    """Per series, the rows of its first forecast step at these timestamps, where a whole window fits."""
    rows = {}
    for sid, frame in series.frames.items():
        found = frame.index.get_indexer(stamps)
        rows[sid] = found[(found >= lookback) & (found + horizon <= len(frame))]
    return rows


def _training_rows(series: SeriesData, cut, train_length: int | None, needed: int) -> SeriesData:
    """Each series' rows before ``cut`` (the last ``train_length`` of them for a sliding window),
    for the series that have ``needed`` of them (the others join a later fold)."""
    frames = {}
    for sid, frame in series.frames.items():
        before = frame.loc[frame.index < cut]
        if train_length is not None:
            before = before.iloc[-train_length:]
        if len(before) >= needed:
            frames[sid] = before
    return replace(series, frames=frames)


def forecasts_at(model: Forecaster, series: SeriesData, origins: dict[str, np.ndarray]) -> pd.DataFrame:
    """Tidy rows of a fitted model's forecasts at ``origins`` (per series id, the rows of the first
    forecast step), all in one batched pass. Columns as :class:`Backtest`'s forecasts, less ``fold``."""
    settings = model.get_params()
    whole = {sid: Split(0, 0, n) for sid, n in series.lengths().items()}
    module = model.schema_.module(series, whole, settings, model.scalers_)
    forecasts, _ = model.predict_windows(module.windows_at(origins), module.target_scaler)
    levels = resolve(settings)["quantiles"]
    targets, horizon = model.schema_.target, settings["horizon"]
    parts, first = [], 0
    for sid, rows in origins.items():
        if not len(rows):
            continue
        count = len(rows)
        block = slice(first, first + count)
        first += count
        index = series.frames[sid].index
        values = series.frames[sid][targets].to_numpy()
        # (origin, step, target) flattened in that order
        origin_rows = np.repeat(rows, horizon * len(targets))
        steps = np.tile(np.repeat(np.arange(1, horizon + 1), len(targets)), count)
        columns = np.tile(np.arange(len(targets)), count * horizon)
        part = {"series": sid, "origin": index[origin_rows - 1], "timestamp": index[origin_rows + steps - 1],
                "step": steps, "target": np.asarray(targets)[columns],
                "actual": values[origin_rows + steps - 1, columns],
                "forecast": forecasts[block][..., median_index(levels)].reshape(-1),
                "naive": values[origin_rows - 1, columns]}
        for q, level in enumerate(levels or []):
            part[f"q{level:g}"] = forecasts[block][..., q].reshape(-1)
        parts.append(pd.DataFrame(part))
    return pd.concat(parts, ignore_index=True)
