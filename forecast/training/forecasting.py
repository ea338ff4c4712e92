"""ForecastingModule: loss, optimisation and original-scale metrics for any forecaster."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import Literal

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics import MeanAbsoluteError, MeanMetric, MeanSquaredError

from forecast.models.registry import median_index

Loss = Literal["mse", "mae", "huber", "quantile"]


def pinball_loss(forecast: Tensor, target: Tensor, quantiles: Sequence[float]) -> Tensor:
    """Mean pinball loss of (..., Q) quantile forecasts against (...) targets."""
    levels = torch.tensor(quantiles, device=forecast.device, dtype=forecast.dtype)
    error = target.unsqueeze(-1) - forecast
    return torch.maximum(levels * error, (levels - 1) * error).mean()


class ForecastingModule(L.LightningModule):
    """Trains a forecaster on scaled windows; logs val/test MSE and MAE on the original scale.

    ``schedule``: cosine decay of the learning rate per step (after a linear warm-up over the
    first ``warmup`` share of the steps), one-cycle, or none. ``highway_lr`` is the learning rate
    of the model's linear highway (when it has one) as a share of ``lr``: below 1, the linear start
    moves more slowly than the network that corrects it. ``teacher_forcing`` is the
    starting probability of feeding the decoder the truth; it falls
    linearly to zero over the training epochs. A NaN or infinite loss stops training with an error
    naming the epoch and step.
    """

    def __init__(self, model: nn.Module, target_center: Sequence[float], target_scale: Sequence[float],
                 loss: Loss = "mse", lr: float = 1e-3, weight_decay: float = 1e-4,
                 schedule: Literal["cosine", "onecycle", "none"] = "cosine",
                 teacher_forcing: float = 0.0, warmup: float = 0.0, highway_lr: float = 1.0):
        super().__init__()
        self.model = model
        self.save_hyperparameters(ignore=["model"])
        self.register_buffer("center", torch.tensor(list(target_center), dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(list(target_scale), dtype=torch.float32))
        self.metrics = nn.ModuleDict({f"{part}_{name}": metric() for part in ("val", "test")
                                      for name, metric in (("mse", MeanSquaredError),
                                                           ("mae", MeanAbsoluteError))})
        # the epoch's mean training loss, kept in checkpoints: a run resumed inside an epoch
        # reports the whole epoch's mean, as the uninterrupted run does
        self.train_mean = MeanMetric()
        self.train_mean.persistent(True)
        self._resumed_rng: dict = {}  # the random streams of the checkpoint a run resumed from

    @property
    def quantiles(self) -> list[float] | None:
        return getattr(self.model, "quantiles", None)

    def forward(self, x: Tensor, f: Tensor) -> Tensor:
        return self.model(x, f)

    def point(self, forecast: Tensor) -> Tensor:
        """The point forecast: the median of quantile forecasts, or the forecast itself."""
        if not self.quantiles:
            return forecast
        return forecast[..., median_index(self.quantiles)]

    def loss(self, forecast: Tensor, target: Tensor) -> Tensor:
        kind = self.hparams.loss
        if self.quantiles or kind == "quantile":
            if not self.quantiles:
                raise ValueError("the quantile loss needs a model with quantile outputs")
            return pinball_loss(forecast, target, self.quantiles)
        if kind == "mse":
            return F.mse_loss(forecast, target)
        if kind == "mae":
            return F.l1_loss(forecast, target)
        if kind == "huber":
            return F.huber_loss(forecast, target)
        raise ValueError(f"loss must be mse, mae, huber or quantile, not {kind!r}")

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        epochs = max(self.trainer.max_epochs or 1, 1)
        ratio = self.hparams.teacher_forcing * max(0.0, 1 - self.current_epoch / epochs)
        forecast = self.model(batch["x"], batch["f"], batch["y"], ratio)
        loss = self.loss(forecast.float(), batch["y"])
        if not torch.isfinite(loss):
            raise FloatingPointError(f"training loss became {loss.item()} at epoch {self.current_epoch}, "
                                     f"step {self.global_step}; lower the learning rate or check the data")
        # the epoch's mean, logged once an epoch: small datasets have fewer steps than a logging interval
        self.train_mean.update(loss.detach(), len(batch["y"]))
        self.log("train_loss", self.train_mean, prog_bar=True, on_step=False, on_epoch=True)
        return loss

    def _evaluate(self, batch: dict[str, Tensor], part: str) -> None:
        forecast = self.model(batch["x"], batch["f"]).float()
        self.log(f"{part}_loss", self.loss(forecast, batch["y"]), prog_bar=True,
                 batch_size=len(batch["y"]), sync_dist=True)
        scale, center = self._target_scaling(batch)
        original, truth = self.point(forecast) * scale + center, batch["y"] * scale + center
        for name in ("mse", "mae"):
            metric = self.metrics[f"{part}_{name}"]
            metric.update(original.reshape(-1), truth.reshape(-1))
            self.log(f"{part}_{name}", metric, on_step=False, on_epoch=True)

    def _target_scaling(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        if "channel" in batch:  # channel-independent samples: each has its own channel's scaling
            return self.scale[batch["channel"]].view(-1, 1, 1), self.center[batch["channel"]].view(-1, 1, 1)
        return self.scale, self.center

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "test")

    def predict_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        return self.model(batch["x"], batch["f"]).float()

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # the random streams too (dropout, teacher forcing), so that a resumed run repeats an
        # uninterrupted one exactly
        checkpoint["rng"] = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            checkpoint["rng"]["cuda"] = torch.cuda.get_rng_state_all()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        for name in ("mean_value", "weight"):  # a checkpoint written before the mean was kept in it
            checkpoint["state_dict"].setdefault(f"train_mean.{name}", torch.tensor(0.0))
        self._resumed_rng = checkpoint.get("rng", {})
        _set_rng(self._resumed_rng)

    def on_train_epoch_start(self) -> None:
        # not called when a run resumes inside an epoch, whose mean so far the checkpoint holds;
        # called when it resumes at an epoch's end, whose checkpoint holds that whole epoch's
        self.train_mean.reset()

    def on_train_start(self) -> None:
        # a run resumed inside an epoch: Lightning has drawn from the random stream since the
        # checkpoint was read (a new iterator over the training batches takes a seed from it),
        # where the uninterrupted run drew nothing before its next step; at an epoch's end both
        # draw alike, as the next epoch begins
        if self.trainer.fit_loop.restarted_mid_epoch:
            _set_rng(self._resumed_rng)

    def configure_optimizers(self):
        hp = self.hparams
        # one fused kernel for the whole step instead of a loop over tensors (CPU and CUDA); not
        # under fp16, whose loss scale a fused optimizer removes only inside its step, after clipping
        fused = self.device.type in ("cpu", "cuda") and str(self.trainer.precision) != "16-mixed"
        groups = self._parameter_groups()
        optimizer = torch.optim.AdamW(groups, lr=hp.lr, weight_decay=hp.weight_decay, fused=fused)
        if hp.schedule == "none":
            return optimizer
        steps = max(int(self.trainer.estimated_stepping_batches), 1)
        if hp.schedule == "cosine":  # linear warm-up over the first `warmup` share, then cosine
            warm = int(hp.warmup * steps)
            schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, partial(_warm_cosine, warm=warm,
                                                                             total=steps))
        elif hp.schedule == "onecycle":
            schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[group["lr"] for group in groups],
                                                           total_steps=steps)
        else:
            raise ValueError(f"schedule must be cosine, onecycle or none, not {hp.schedule!r}")
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def configure_gradient_clipping(self, optimizer, gradient_clip_val=None, gradient_clip_algorithm=None) -> None:
        by_norm = gradient_clip_algorithm in (None, "norm")
        if gradient_clip_val and by_norm and str(self.trainer.precision) == "bf16-mixed":
            # bf16 scales no loss, so the gradients are the true ones and may be clipped before a
            # fused step; Lightning's mixed-precision plugin refuses them, as it must under fp16
            torch.nn.utils.clip_grad_norm_(self.parameters(), gradient_clip_val)
        else:
            super().configure_gradient_clipping(optimizer, gradient_clip_val, gradient_clip_algorithm)

    def _parameter_groups(self) -> list[dict]:
        """The trained parameters: the highway's at ``highway_lr`` x ``lr``, the rest at ``lr``
        (one group when they are the same, so the learning rate is logged under one name)."""
        highway = getattr(self.model, "highway", None)
        slow = ([p for p in highway.parameters() if p.requires_grad]
                if highway is not None and self.hparams.highway_lr != 1 else [])
        own = {id(p) for p in slow}
        rest = [p for p in self.parameters() if p.requires_grad and id(p) not in own]
        groups = [{"params": rest, "lr": self.hparams.lr}]
        if slow:
            groups.append({"params": slow, "lr": self.hparams.lr * self.hparams.highway_lr})
        return groups


def _warm_cosine(step: int, warm: int, total: int) -> float:
    """The learning-rate factor at ``step``: rising linearly to 1 over ``warm`` steps, then
    falling along a half cosine to 0 at ``total``."""
    if step < warm:
        return (step + 1) / warm
    return 0.5 * (1 + math.cos(math.pi * min(step - warm, total - warm) / max(total - warm, 1)))


def _set_rng(states: dict) -> None:
    if "torch" in states:
        torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
