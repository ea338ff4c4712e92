"""train_network: the training recipe. A network and a DataModule in, the trained network out."""

from __future__ import annotations

import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import lightning as L
import pandas as pd
import torch
from lightning.pytorch.profilers import SimpleProfiler
from torch import nn

from forecast.atomic import write_atomically
from forecast.data.datamodule import SeriesDataModule
from forecast.models.registry import LR, SLOW_HIGHWAY_LR, model_spec
from forecast.training.averaging import EpochAverage
from forecast.training.cores import CoreShare
from forecast.training.forecasting import ForecastingModule
from forecast.training.profile import epoch_phases, step_durations
from forecast.training.scope import quiet, restored_torch_flags
from forecast.training.precision import default_precision, on_gpu
from forecast.training.trainer import make_trainer

START_FILE = "start.pt"  # the untrained network's weights and validation loss, beside last.ckpt


@dataclass
class Trained:
    """The trained network (when there was validation, the best by validation loss of the
    epochs' checkpoints and the untrained network; on the CPU), the last logged metrics (the
    untrained network's validation figures when it is the one returned), and notes on how
    training went."""

    network: nn.Module
    metrics: dict[str, float]
    notes: list[str] = field(default_factory=list)
    profile: dict[str, float] | None = None  # seconds by part of the fit, when asked for
    step_seconds: list[float] | None = None  # each training step's forward, backward and optimizer step, likewise


def fit_network(network: nn.Module, data: SeriesDataModule, settings: dict,
                resume_from: str | None = None) -> Trained:
    """Fit a network as its kind asks (``settings``: the run's resolved settings): the closed-form
    ridge on the training windows (its alpha chosen on validation), the LSTM models' highway
    started at the ridge (and kept there when "frozen", trained at a tenth of the learning rate
    when "slow"), then gradient training for the neural models."""
    train, val_windows = data.datasets["train_every"], data.datasets["val"]
    validation = val_windows.loader(4096) if len(val_windows) else None
    spec = model_spec(settings["model"])
    if spec.kind == "closed-form":
        network.fit(train.loader(4096), validation or train.loader(4096))
    if spec.lstm_head and settings["highway"] in ("ridge", "slow", "frozen"):
        network.start_from_ridge(train.loader(4096), validation)
        network.highway.requires_grad_(settings["highway"] != "frozen")
    if spec.kind != "neural":
        return Trained(network, {})
    options = {key: settings[key] for key in (
        "lr", "weight_decay", "schedule", "warmup", "teacher_forcing", "average", "max_epochs",
        "validations_per_epoch", "patience", "accelerator", "devices", "strategy", "precision", "deterministic", "log_dir", "logger",
        "progress", "verbose")}
    highway_lr = SLOW_HIGHWAY_LR if settings["highway"] == "slow" else 1.0
    return train_network(network, data, loss="quantile" if settings["quantiles"] else settings["loss"],
                         highway_lr=highway_lr, resume_from=resume_from and str(resume_from), **options)


def train_network(network: nn.Module, data: SeriesDataModule, *, loss: str = "mse",
                  lr: float = LR, weight_decay: float = 1e-4, teacher_forcing: float = 0.0,
                  schedule: str = "cosine", warmup: float = 0.0, highway_lr: float = 1.0,
                  average: float | None = None, max_epochs: int = 20, validations_per_epoch: int = 1,
                  patience: int | None = 5, accelerator: str = "auto",
                  devices: int | str = 1, strategy: str = "auto", precision: str | None = None,
                  deterministic: bool | None = None, log_dir: str | None = None,
                  logger: str = "csv", progress: bool = False, verbose: bool = False,
                  resume_from: str | None = None, profile: bool = False) -> Trained:
    """Train ``network`` on ``data``'s training windows with a Lightning Trainer, which is handed
    the DataModule itself (so DDP shards it). Early stopping and checkpoint selection watch the
    validation loss, and the untrained network is scored first: when no epoch beats it, it is
    returned and the notes say so. Without validation windows, training runs all ``max_epochs``
    and says so in the notes. ``log_dir`` keeps the last epoch's checkpoint (``checkpoints/last.ckpt``) and the
    ``logger``'s files ("csv", or "tensorboard": losses, learning rate, validation metrics and a
    forecast figure per epoch);
    ``resume_from`` such a file continues that run where it stopped. Lightning's output and its
    process-wide switches stay inside this call. ``highway_lr``: the linear highway's learning
    rate as a share of ``lr``. ``average``: validate, checkpoint and return an exponential moving
    average of the weights spanning about this many epochs (:class:`EpochAverage`) instead of the
    weights themselves. ``validations_per_epoch``: validate every 1/N of an epoch's steps (rounded
    down), so that early stopping (``patience`` counts validations) and the checkpoint choice can
    stop inside an epoch. ``profile`` returns the seconds spent by part
    (:func:`~forecast.training.profile.epoch_phases`, and the untrained network's scoring) and
    the seconds of each training step (:func:`~forecast.training.profile.step_durations`).
    """
    data.setup("fit")
    target = data.target_scaler
    module = ForecastingModule(network, target.center.tolist(), target.scale.tolist(), loss=loss,
                               lr=lr, weight_decay=weight_decay, teacher_forcing=teacher_forcing,
                               schedule=schedule, warmup=warmup, highway_lr=highway_lr)
    has_val = len(data.datasets["val"]) > 0
    notes = [] if has_val else [f"no validation windows: trained for all {max_epochs} epochs "
                                "without early stopping or checkpoint selection"]
    chosen = precision or default_precision(accelerator, data.channel_independent)
    if precision is None and chosen == "bf16-mixed" and not on_gpu(accelerator):
        notes.append("bf16-mixed precision: this CPU has bf16 units (AVX512-BF16 or AMX), where a "
                     "channel-independent network trains faster in it at level accuracy "
                     "(precision='32-true' turns it off)")
    hardware = {"accelerator": accelerator, "devices": devices, "strategy": strategy,
                "precision": chosen, "deterministic": deterministic}
    share = CoreShare()  # the cores are shared with the other fits running on this machine
    profiler = SimpleProfiler() if profile else None
    with quiet(verbose), restored_torch_flags(), tempfile.TemporaryDirectory() as scratch, share.sharing():
        trainer = make_trainer(max_epochs=max_epochs, patience=patience, validation=has_val,
                               val_check_interval=1 / validations_per_epoch,
                               log_dir=log_dir or scratch, logger=logger, progress=progress,
                               callbacks=[share, *([EpochAverage(average)] if average else [])],
                               profiler=profiler, num_sanity_val_steps=0, **hardware)
        started = time.perf_counter()
        # the untrained network (for the LSTM models, the ridge start) is a candidate too: a run
        # that never beats it on validation returns it rather than a worse trained one; scored by
        # a Trainer of its own, without the run's loggers and callbacks (and it replaces the
        # run's sanity check of two validation batches)
        start = (_start(make_trainer(log_dir=None, progress=False, **hardware), module, data,
                        log_dir or scratch, resume_from) if has_val and max_epochs else None)
        scoring_start = time.perf_counter() - started
        history = _history(log_dir) if resume_from and log_dir else None
        try:
            _fit(trainer, module, data, resume_from)
        finally:  # a resume that fails or is stopped again keeps the history too
            if history is not None:
                _keep_history(log_dir, history)
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
        metrics = {key: float(value) for key, value in trainer.callback_metrics.items()}
        if best:
            checkpoint = torch.load(best, map_location="cpu", weights_only=True)
            module.load_state_dict(checkpoint["state_dict"])
            metrics["best_epoch"] = checkpoint["epoch"] + 1  # the epoch whose weights are returned
            metrics["best_step"] = checkpoint["global_step"]
        if start and best and start["loss"] <= float(trainer.checkpoint_callback.best_model_score):
            module.load_state_dict(start["state"])
            metrics.update(start["metrics"], best_epoch=0, best_step=0)  # the validation figures of the network returned
            notes.append(f"no epoch beat the untrained network's validation loss ({start['loss']:.5g}): "
                         "it is kept, untrained")
        metrics["epochs"] = trainer.current_epoch
        steps = _validation_steps(trainer) if has_val else []
        metrics["steps"], metrics["validations"] = trainer.global_step, len(steps)
        if "best_step" in metrics:  # which validation chose the weights returned (0: the start)
            metrics["best_validation"] = steps.index(metrics["best_step"]) + 1 if metrics["best_step"] else 0
        epochs_run = trainer.global_step / max(trainer.num_training_batches, 1)  # a share of the last one
    if metrics.get("best_validation") == len(steps) > 1:
        notes.append(f"validation loss was still falling at the last validation of {max_epochs} epochs: "
                     "more epochs (max_epochs) may pay")
    if trainer.should_stop and has_val and epochs_run < max_epochs:
        notes.append(f"early stopping after {epochs_run:.3g} epochs")
    phases = {"scoring the untrained network": scoring_start, **epoch_phases(profiler)} if profile else None
    steps_timed = step_durations(profiler) if profile else None
    return Trained(module.model.cpu().eval(), metrics, notes, phases, steps_timed)


def _validation_steps(trainer: L.Trainer) -> list[int]:
    """The training steps after which the run validated: every ``val_check_batch`` steps of each
    epoch, counted from its start (so an epoch's last steps may follow its last validation), up to
    where the run stopped."""
    per_epoch, every = trainer.num_training_batches, trainer.val_check_batch
    inside = range(every, per_epoch + 1, every)
    return [epoch * per_epoch + step for epoch in range(trainer.current_epoch) for step in inside
            if epoch * per_epoch + step <= trainer.global_step]


def _start(trainer: L.Trainer, module: ForecastingModule, data: SeriesDataModule, log_dir: str,
           resume_from: str | None) -> dict | None:
    """The untrained network's validation loss and weights: scored now and kept beside the run's
    checkpoints, or read back from there when the run is resumed."""
    if resume_from:
        saved = Path(resume_from).with_name(START_FILE)
        return torch.load(saved, map_location="cpu", weights_only=True) if saved.is_file() else None
    state = {key: value.detach().cpu().clone() for key, value in module.state_dict().items()}
    scores = trainer.validate(module, datamodule=data, verbose=False)[0]
    metrics = {key: float(value) for key, value in scores.items()}
    start = {"loss": metrics["val_loss"], "metrics": metrics, "state": state}
    if trainer.global_rank == 0:  # whole or not at all, as the resume reads it back
        write_atomically(Path(log_dir) / "checkpoints" / START_FILE, lambda path: torch.save(start, path))
    return start


def _history(log_dir: str) -> pd.DataFrame | None:
    """The epochs a stopped run logged (the CSV logger starts its file afresh on a resume)."""
    path = Path(log_dir) / "metrics.csv"
    return pd.read_csv(path) if path.is_file() and path.stat().st_size else None


def _keep_history(log_dir: str, history: pd.DataFrame) -> None:
    """The stopped run's rows of the epochs before the resumed ones, then the resumed run's."""
    path = Path(log_dir) / "metrics.csv"
    resumed = pd.read_csv(path) if path.is_file() and path.stat().st_size else history.iloc[:0]
    if "epoch" in resumed and len(resumed) and "epoch" in history:
        history = history[history["epoch"] < resumed["epoch"].min()]
    pd.concat([history, resumed], ignore_index=True).to_csv(path, index=False)


def _fit(trainer: L.Trainer, module: ForecastingModule, data: SeriesDataModule,
         resume_from: str | None) -> None:
    """``trainer.fit``, except that Ctrl-C stays a KeyboardInterrupt: Lightning turns it into
    ``sys.exit(1)`` and leaves SIGINT ignored for the rest of the process."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    handler = signal.getsignal(signal.SIGINT) if in_main_thread else None
    try:
        trainer.fit(module, datamodule=data, ckpt_path=resume_from)
    except SystemExit:
        if trainer.interrupted:
            raise KeyboardInterrupt from None
        raise
    finally:
        if in_main_thread and handler is not None:
            signal.signal(signal.SIGINT, handler)
