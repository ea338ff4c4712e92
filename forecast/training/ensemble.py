"""fit_ensemble: N networks trained from seeds seed, seed+1, ..., each as a fit with its seed alone
trains it; a stopped ensemble continues where it stopped."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from forecast.atomic import write_atomically
from forecast.data.datamodule import SeriesDataModule
from forecast.training.fit import Trained, fit_network
from forecast.training.seeding import seed_everything

# in a network's log folder once it has trained: its weights, metrics and notes, so that a resumed
# ensemble reads it back instead of training it again
TRAINED_FILE = "trained.pt"


def network_folder(log_dir: str | Path, k: int) -> Path:
    """Where the k-th network (from 0) of an ensemble logs."""
    return Path(log_dir) / f"network-{k + 1}"


def fit_ensemble(build: Callable[[dict], nn.Module], data: SeriesDataModule, settings: dict,
                 resume_from: str | Path | None = None) -> list[Trained]:
    """Train ``settings["ensemble"]`` networks, the k-th (from 0) from seed ``seed + k``: its own
    initialization, dropout and shuffle of the training windows, as a fit with that seed alone (the
    caller has seeded the first). Each logs under ``log_dir``/network-(k+1) and, trained, leaves
    its result there. ``resume_from``: the ``log_dir`` of a stopped fit of the same settings;
    its trained networks are read back, the one it stopped in continues from its last epoch, and
    the rest train."""
    fits = []
    try:
        for k in range(settings["ensemble"]):
            own = {**settings, "seed": settings["seed"] + k}
            if k:
                seed_everything(own["seed"])
            data.seed = own["seed"]  # the training windows' shuffle
            if settings["log_dir"]:
                own["log_dir"] = str(network_folder(settings["log_dir"], k))
            stopped = network_folder(resume_from, k) if resume_from is not None else None
            if stopped is not None and (stopped / TRAINED_FILE).is_file():
                fits.append(_read_trained(build(own), stopped / TRAINED_FILE))
                continue
            last = stopped / "checkpoints" / "last.ckpt" if stopped is not None else None
            fits.append(fit_network(build(own), data, own, last if last and last.is_file() else None))
            if own["log_dir"]:  # whole or not at all: a half file would stop the resume that reads it
                trained = {"state_dict": fits[-1].network.state_dict(), "metrics": fits[-1].metrics,
                           "notes": fits[-1].notes}
                write_atomically(Path(own["log_dir"]) / TRAINED_FILE, lambda path: torch.save(trained, path))
    finally:
        data.seed = settings["seed"]
    return fits


def _read_trained(network: nn.Module, path: Path) -> Trained:
    saved = torch.load(path, map_location="cpu", weights_only=True)
    network.load_state_dict(saved["state_dict"])
    return Trained(network.eval(), saved["metrics"], saved["notes"])
