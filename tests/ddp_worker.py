"""Run by test_ddp.py: train one epoch with two CPU processes (DDP over gloo), then validate.

    python tests/ddp_worker.py OUT_DIR

Rank 0 writes OUT_DIR/weights.pt and OUT_DIR/metrics.json. A script rather than a test, because
Lightning's "ddp" strategy starts the other process by running the same command again.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from forecast.data import SeriesDataModule, WindowSpec, read_series, split_by_fraction
from forecast.models.forecasters import build_forecaster
from forecast.training.forecasting import ForecastingModule
from forecast.training.seeding import seed_everything
from forecast.training.trainer import make_trainer


def setup():
    rng = np.random.default_rng(0)
    t = np.arange(600)
    frame = pd.DataFrame({"y": np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.1, 600)},
                         index=pd.date_range("2023-01-01", periods=600, freq="h"))
    series = read_series(frame)
    # 131 validation windows: odd, so an even split between two processes would need padding
    data = SeriesDataModule(series, WindowSpec(24, 6), split_by_fraction(series, 0.6, 0.2266, 0.1734),
                            batch_size=32, eval_batch_size=16, calendar=None)
    data.setup()
    model = build_forecaster("densenet-lstm", 1, 1, 6, head="direct", hidden_size=16, lookback=24)
    target = data.target_scaler
    return data, ForecastingModule(model, target.center.tolist(), target.scale.tolist())


def main(out: Path) -> None:
    seed_everything(0)
    data, module = setup()
    trainer = make_trainer(max_epochs=1, accelerator="cpu", devices=2, strategy="ddp", log_dir=None,
                           progress=False, patience=None)
    trainer.fit(module, data)
    metrics = trainer.validate(module, data, verbose=False)[0]
    if trainer.global_rank == 0:
        out.mkdir(parents=True, exist_ok=True)
        torch.save(module.state_dict(), out / "weights.pt")
        (out / "metrics.json").write_text(json.dumps({"val_mse": metrics["val_mse"],
                                                      "val_windows": len(data.datasets["val"]),
                                                      "world_size": trainer.world_size}))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
