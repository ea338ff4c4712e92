"""Forecasts of many windows in batched forward passes, on the original scale, and as frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from forecast.data.scaling import Scaler
from forecast.data.series import SeriesData
from forecast.data.windows import WindowDataset
from forecast.models.registry import median_index


@torch.no_grad()
def forecast_windows(network: nn.Module, dataset: WindowDataset, target_scaler: Scaler,
                     batch_size: int = 256, precision: str = "32-true") -> tuple[np.ndarray, np.ndarray | None]:
    """Original-scale forecasts (windows, H, C, Q) of every window, Q = 1 for point forecasts,
    and the truths (windows, H, C) when the dataset has targets. Channel-independent samples are
    put back in their window and channel. ``precision`` "bf16-mixed" runs the network under bf16
    autocast (:func:`~forecast.training.precision.inference_precision` says where that pays);
    the results stay float64. (Batches of 256 ran twice as fast as 1024 on two CPU cores:
    experiments/bench/train_speed.py.)"""
    if precision not in ("32-true", "bf16-mixed"):
        raise ValueError(f"precision must be '32-true' or 'bf16-mixed', not {precision!r}")
    network.eval()
    device = next((parameter.device.type for parameter in network.parameters()), "cpu")
    windows, horizon = len(dataset.origins), dataset.spec.horizon
    channels = len(target_scaler.center)
    # restored batch by batch into the float64 results: a second pass over whole arrays would
    # allocate two more of Weather's 168 MB test sets, whose fresh pages cost more than the products
    forecasts = None
    truths = np.zeros((windows, horizon, channels)) if dataset.targets is not None else None
    for batch in dataset.loader(batch_size):
        with torch.autocast(device, torch.bfloat16, enabled=precision == "bf16-mixed"):
            out = network(batch["x"], batch["f"])
        out = out.float().numpy()
        out = out[..., None] if out.ndim == 3 else out
        if forecasts is None:
            forecasts = np.zeros((windows, horizon, channels, out.shape[-1]))
        window = batch["window"].numpy()
        if "channel" in batch:  # each sample is one channel of its window, scaled as that channel
            channel = batch["channel"].numpy()
            scaler = target_scaler.subset(channel)
            forecasts[window, :, channel] = scaler.inverse_transform(out[:, :, 0], axis=0)
            if truths is not None:
                truths[window, :, channel] = scaler.inverse_transform(batch["y"][:, :, 0].numpy(), axis=0)
        else:
            forecasts[window] = target_scaler.inverse_transform(out, axis=-2)
            if truths is not None:
                truths[window] = target_scaler.inverse_transform(batch["y"].numpy())
    if forecasts is None:
        raise ValueError("no windows to forecast")
    if not np.isfinite(forecasts).all():
        raise FloatingPointError("the model produced non-finite forecasts")
    return forecasts, truths


def forecast_frame(forecasts: np.ndarray, series: SeriesData, targets: list[str],
                   levels: list[float] | None) -> pd.DataFrame:
    """One forecast (H, C, Q) per series as a frame indexed by the future timestamps (by
    (unique_id, time) for several series): a column per target holding the median, and
    ``<target>_q<level>`` columns when there are quantile ``levels``."""
    frames = []
    median = median_index(levels)
    horizon = forecasts.shape[1]
    for forecast, sid in zip(forecasts, series.ids):
        if series.freq:
            index = series.future_index(sid, horizon)
        else:
            length = series.lengths()[sid]
            index = pd.RangeIndex(length, length + horizon)
        columns = {target: forecast[:, i, median] for i, target in enumerate(targets)}
        for i, target in enumerate(targets):
            columns.update({f"{target}_q{level:g}": forecast[:, i, q] for q, level in enumerate(levels or [])})
        frame = pd.DataFrame(columns, index=index.rename("time"))
        if len(series.ids) > 1:
            frame.index = pd.MultiIndex.from_product([[sid], frame.index], names=["unique_id", "time"])
        frames.append(frame)
    return pd.concat(frames)
