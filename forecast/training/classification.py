"""ImageClassifier: the LightningModule that trains any image backbone (DenseNet, ResNet) alike."""

from __future__ import annotations

from typing import Literal

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor, nn


class ImageClassifier(L.LightningModule):
    """Cross-entropy (optional label smoothing), SGD with Nesterov momentum or AdamW, cosine decay
    over all training steps; logs loss and accuracy for train, val and test."""

    def __init__(self, model: nn.Module, lr: float = 0.1,
                 optimizer: Literal["sgd", "adamw"] = "sgd", momentum: float = 0.9,
                 weight_decay: float = 1e-4, label_smoothing: float = 0.0):
        super().__init__()
        self.model = model
        self.save_hyperparameters(ignore=["model"])

    def forward(self, images: Tensor) -> Tensor:
        return self.model(images)

    def _step(self, batch: tuple[Tensor, Tensor], part: str) -> Tensor:
        images, labels = batch
        logits = self(images)
        smoothing = self.hparams.label_smoothing if part == "train" else 0.0
        loss = F.cross_entropy(logits, labels, label_smoothing=smoothing)
        accuracy = (logits.argmax(1) == labels).float().mean()
        on_step = part == "train"
        self.log(f"{part}_loss", loss, on_step=on_step, on_epoch=True, prog_bar=True,
                 batch_size=len(labels), sync_dist=not on_step)
        self.log(f"{part}_acc", accuracy, on_step=False, on_epoch=True, prog_bar=part != "train",
                 batch_size=len(labels), sync_dist=True)
        return loss

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val")

    def test_step(self, batch, batch_idx):
        self._step(batch, "test")

    def configure_optimizers(self):
        hp = self.hparams
        if hp.optimizer == "sgd":
            optimizer = torch.optim.SGD(self.parameters(), lr=hp.lr, momentum=hp.momentum,
                                        nesterov=True, weight_decay=hp.weight_decay)
        elif hp.optimizer == "adamw":
            optimizer = torch.optim.AdamW(self.parameters(), lr=hp.lr, weight_decay=hp.weight_decay)
        else:
            raise ValueError(f"optimizer must be 'sgd' or 'adamw', not {hp.optimizer!r}")
        steps = max(int(self.trainer.estimated_stepping_batches), 1)
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}
