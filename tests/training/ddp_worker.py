"""Run by test_ddp.py: ``Forecaster(devices=2, strategy="ddp")`` on two CPU processes (gloo).

    python tests/ddp_worker.py OUT_DIR MODE

MODE is ``mixed`` (one sample per window) or ``independent`` (``channel_independent=True``: each
channel of each window its own sample). Each process writes the training samples its loader
serves (OUT_DIR/train-rank<N>.json, as [window, channel] pairs); rank 0 writes OUT_DIR/metrics.json
with the validation MSE logged under DDP and the one-process MSE of the same weights. A script
rather than a test, because Lightning's "ddp" strategy starts the other process by running the
same command again.
"""

import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import forecast
from forecast.data import SeriesDataModule, read_series, split_by_fraction


def record_training_samples(out: Path) -> None:
    """Wrap the DataModule's training loader so that each process notes the samples it gets."""
    original = SeriesDataModule.train_dataloader

    def recording(self):
        loader = original(self)
        rank = self.trainer.global_rank if self.trainer is not None else 0
        seen = []
        for batch in loader:
            channels = batch["channel"].tolist() if "channel" in batch else [-1] * len(batch["window"])
            seen += [[w, c] for w, c in zip(batch["window"].tolist(), channels)]
        (out / f"train-rank{rank}.json").write_text(json.dumps(seen))
        return loader
    SeriesDataModule.train_dataloader = recording


def main(out: Path, mode: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    record_training_samples(out)
    rng = np.random.default_rng(0)
    t = np.arange(600)
    frame = pd.DataFrame({"a": np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.1, 600),
                          "b": np.cos(2 * np.pi * t / 12) + rng.normal(0, 0.1, 600)},
                         index=pd.date_range("2023-01-01", periods=600, freq="h"))
    # 131 validation windows: odd, so an even split between two processes would need padding
    split = split_by_fraction(read_series(frame), 0.6, 0.2266, 0.1734)
    model = forecast.Forecaster(model="densenet-lstm", head="direct", lookback=24, horizon=6,
                                hidden_size=16, max_epochs=1, patience=None, calendar=None,
                                batch_size=32, accelerator="cpu", devices=2, strategy="ddp",
                                # fp32 (not the bf16 a CPU with bf16 units would choose for channel-independent
                                # windows): the DDP metric is compared with evaluate(), which runs in fp32
                                precision="32-true", channel_independent=mode == "independent")
    model.fit(frame, split=split)
    if os.environ.get("LOCAL_RANK", "0") == "0":
        (out / "metrics.json").write_text(json.dumps({
            "ddp_val_mse": model.training_metrics_["val_mse"],
            "one_process_val_mse": model.evaluate(part="val")["mse"],
            "val_windows": len(model.data_.datasets["val"].origins),
            "train_windows": len(model.data_.datasets["train"].origins)}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
