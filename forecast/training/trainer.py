"""make_trainer: the Lightning Trainer with this package's defaults."""

from __future__ import annotations

import sys
from pathlib import Path

import lightning as L
import torch
import torch.utils.deterministic
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from forecast.training.precision import default_precision


class EpochLines(L.Callback):
    """Progress as one line per epoch on stderr (never stdout, where results go): epoch, losses."""

    def on_train_epoch_end(self, trainer: L.Trainer, module: L.LightningModule) -> None:
        if trainer.sanity_checking or trainer.global_rank != 0:
            return
        shown = [f"{key} {float(value):.5g}" for key, value in sorted(trainer.callback_metrics.items())
                 if key.endswith("loss")]
        print(f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}: {', '.join(shown)}",
              file=sys.stderr, flush=True)


def make_trainer(max_epochs: int = 20, accelerator: str = "auto", devices: int | str = "auto",
                 strategy: str = "auto", precision: str | None = None, patience: int | None = 5,
                 log_dir: str | Path | None = "runs", logger: str = "csv", progress: bool = True,
                 gradient_clip: float | None = 1.0, checkpoints: bool = True,
                 validation: bool = True, deterministic: bool | None = None,
                 callbacks: list[L.Callback] | None = None, **trainer_options) -> L.Trainer:
    """A Trainer with early stopping and best-checkpointing on ``val_loss`` (when there is
    ``validation``), the last epoch's full checkpoint (``last.ckpt``, to resume from), a CSV (or
    TensorBoard) logger under ``log_dir``, gradient clipping, and bf16 on capable GPUs;
    ``progress`` prints one line per epoch on stderr; ``callbacks`` are added to these.

    Distributed samplers come from :class:`~forecast.data.SeriesDataModule` (no padding, so
    every validation window counts once), hence ``use_distributed_sampler=False``.
    """
    callbacks = [*(callbacks or []), *([EpochLines()] if progress else [])]
    if patience is not None and validation:
        callbacks.append(EarlyStopping(monitor="val_loss", patience=patience, mode="min"))
    if checkpoints and log_dir is not None:
        callbacks.append(ModelCheckpoint(dirpath=Path(log_dir) / "checkpoints",
                                         monitor="val_loss" if validation else None, mode="min",
                                         save_top_k=1 if validation else 0, save_last=True,
                                         filename="best"))
    if log_dir is None:
        run_logger = False
    elif logger == "tensorboard":
        from lightning.pytorch.callbacks import LearningRateMonitor

        from forecast.training.tensorboard import ForecastFigure

        run_logger = TensorBoardLogger(str(log_dir), name="", version="", default_hp_metric=False)
        callbacks += [LearningRateMonitor(logging_interval="epoch"), ForecastFigure()]
    else:
        run_logger = CSVLogger(str(log_dir), name="", version="")
    if deterministic is None:  # cuDNN's LSTM kernels have no deterministic variant
        deterministic = True if not torch.cuda.is_available() else "warn"
    trainer = L.Trainer(max_epochs=max_epochs, accelerator=accelerator, devices=devices,
                        strategy=strategy, precision=precision or default_precision(accelerator),
                        callbacks=callbacks, logger=run_logger, enable_checkpointing=bool(checkpoints and log_dir),
                        enable_progress_bar=False, enable_model_summary=False,
                        gradient_clip_val=gradient_clip, deterministic=deterministic,
                        use_distributed_sampler=False, default_root_dir=str(log_dir) if log_dir else None,
                        # validate() before fit() scores the untrained network; under inference mode it
                        # would leave the module's metric states as inference tensors fit() cannot update
                        inference_mode=False, **trainer_options)
    # deterministic mode also fills every new tensor with NaN, to expose kernels that read memory
    # they never wrote; that debugging aid cost 10 % of a CPU training epoch, and no result
    # depends on it (train_network's scope restores the caller's setting)
    torch.utils.deterministic.fill_uninitialized_memory = False
    return trainer
