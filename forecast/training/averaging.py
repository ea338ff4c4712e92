"""EpochAverage: an exponential moving average of the weights whose span is counted in epochs."""

from __future__ import annotations

import lightning as L
from lightning.pytorch.callbacks import WeightAveraging
from torch import Tensor


class EpochAverage(WeightAveraging):
    """Keeps an exponential moving average of the weights, updated after every training step,
    with a decay of ``1 - 1 / (epochs x steps per epoch)``: the average spans about ``epochs``
    epochs whatever the batch size or the number of windows (a fixed decay such as 0.999 would
    span a hundred epochs of a small dataset and a tenth of one of a large one). Validation,
    checkpoints and the trained network are the average's (Lightning's WeightAveraging swaps it
    in)."""

    def __init__(self, epochs: float):
        if not epochs > 0:
            raise ValueError(f"the weight average must span a positive number of epochs, not {epochs}")
        super().__init__(avg_fn=self._update)
        self.epochs = epochs
        self.decay = 0.0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # the steps per epoch are known only once the training loader is set up
        self.decay = 1 - 1 / max(self.epochs * trainer.num_training_batches, 1)

    def _update(self, averaged: Tensor, current: Tensor, num_averaged: Tensor) -> Tensor:
        return self.decay * averaged + (1 - self.decay) * current
