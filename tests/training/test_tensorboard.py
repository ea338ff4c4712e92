"""TensorBoard logs of a fit: losses, learning rate, validation metrics and a forecast figure per epoch."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import forecast
from forecast.cli import main


def hourly(rows: int = 400) -> pd.DataFrame:
    t = np.arange(rows)
    return pd.DataFrame({"y": 10 + np.sin(2 * np.pi * t / 24)}, index=pd.date_range("2024-01-01", periods=rows, freq="h"))


def tags(folder: Path) -> dict:
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    files = list(folder.glob("events.out.tfevents.*"))
    assert len(files) == 1
    events = accumulator.EventAccumulator(str(files[0]), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    return {"scalars": {tag: len(events.Scalars(tag)) for tag in events.Tags()["scalars"]},
            "images": {tag: len(events.Images(tag)) for tag in events.Tags()["images"]}}


def test_tensorboard_logger_writes_losses_learning_rate_metrics_and_a_figure_per_epoch(tmp_path):
    pytest.importorskip("tensorboard")
    forecast.Forecaster(model="lstm", lookback=24, horizon=6, head="direct", max_epochs=2, patience=None,
                        log_dir=str(tmp_path), logger="tensorboard").fit(hourly())
    found = tags(tmp_path)
    assert {"train_loss", "val_loss", "val_mae", "lr-AdamW"} <= set(found["scalars"])
    assert found["images"] == {"forecast/first_validation_window": 2}  # one figure per epoch


def test_cli_logger_flag_and_a_wrong_logger(tmp_path, capsys):
    pytest.importorskip("tensorboard")
    data = tmp_path / "y.csv"
    hourly().rename_axis("time").to_csv(data)
    assert main(["fit", str(data), "--horizon", "6", "--lookback", "24", "--max-epochs", "1", "--quiet",
                 "--logger", "tensorboard", "--out", str(tmp_path / "run")]) == 0
    assert "val_loss" in tags(tmp_path / "run" / "logs")["scalars"]
    with pytest.raises(ValueError, match="logger must be"):
        forecast.Forecaster(logger="wandb")
