"""SeriesDataModule: the windows of :class:`SeriesWindows` served as Lightning's loaders."""

from __future__ import annotations

from collections.abc import Callable

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler

from forecast.data.windowed import SeriesWindows
from forecast.data.windows import WindowDataset, collate_batch


class ShardBatches(Sampler[list[int]]):
    """One process's training batches: each epoch, one shuffle of every window (seeded by seed +
    epoch) shared by all processes, cut into disjoint shards with no window repeated or left
    out. Every process gets the same number of batches (DDP's gradient exchange needs that),
    each of at most ``batch_size`` and at least one window. ``done``, asked as each epoch's
    batches begin to be drawn: how many of them the fit has trained on already (a fit resumed
    inside an epoch), which are not drawn again."""

    def __init__(self, windows: int, batch_size: int, rank: int, world: int, seed: int = 0,
                 done: Callable[[], int] | None = None):
        if windows < world:
            raise ValueError(f"{windows} training windows cannot be shared by {world} processes")
        self.windows, self.batch_size, self.rank, self.world = windows, batch_size, rank, world
        self.seed, self.epoch, self.done = seed, 0, done
        self.steps = min(-(-windows // (batch_size * world)), windows // world)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.steps

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed + self.epoch)
        order = torch.randperm(self.windows, generator=generator).numpy()
        chunks = np.array_split(order, self.steps * self.world)
        done = self.done() if self.done else 0
        for step in range(done if 0 < done < self.steps else 0, self.steps):
            yield chunks[step * self.world + self.rank].tolist()


class SeriesDataModule(SeriesWindows, L.LightningDataModule):
    """Windows of one or several series for Lightning: :class:`SeriesWindows` (split, scalers
    fitted on training rows, windows) plus the train/val/test/predict loaders. Under DDP each
    process gets a disjoint shard of the training windows (:class:`ShardBatches`) and of the
    evaluation windows (no padding, so every window counts once). On a GPU the training and
    validation windows' arrays move to it when they fit (:meth:`placed`)."""

    def __init__(self, *args, **kwargs):
        L.LightningDataModule.__init__(self)
        SeriesWindows.__init__(self, *args, **kwargs)
        self._placed: dict[str, WindowDataset] = {}

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")

    def predict_dataloader(self) -> DataLoader:
        return self._loader("predict")

    def _loader(self, part: str, shuffle: bool = False) -> DataLoader:
        self.setup("predict" if part == "predict" else "fit")
        dataset = self.placed(part) if part in ("train", "val") else self.datasets[part]
        size = self.batch_size if part == "train" else self.eval_batch_size
        options = {"num_workers": self.num_workers, "persistent_workers": self.num_workers > 0}
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        if shuffle:  # each epoch's order follows seed + epoch, so a resumed run repeats it
            batches = ShardBatches(len(dataset), size, rank, world, self.seed,
                                   done=lambda: _trained_this_epoch(self.trainer))
            return DataLoader(dataset, batch_sampler=batches, collate_fn=collate_batch, **options)
        if world == 1:
            return dataset.loader(size, **options)
        # evaluation: disjoint shards, no padding, so every window counts exactly once
        sampler = list(range(rank, len(dataset), world))
        return DataLoader(dataset, batch_size=size, sampler=sampler, collate_fn=collate_batch, **options)

    def placed(self, part: str) -> WindowDataset:
        """A part's windows where the Trainer computes: on its GPU when no worker processes load
        batches and the arrays take at most a tenth of the free GPU memory (then no batch is
        copied from the host each step), else where they are."""
        dataset = self.datasets[part]
        device = self.trainer.strategy.root_device if self.trainer is not None else None
        if device is None or device.type != "cuda" or self.num_workers > 0:
            return dataset
        if part not in self._placed:
            free, _ = torch.cuda.mem_get_info(device)
            self._placed[part] = dataset.to(device) if dataset.nbytes <= free / 10 else dataset
        return self._placed[part]


def _trained_this_epoch(trainer: L.Trainer | None) -> int:
    """The batches of the epoch under way that the fit has trained on: none when an epoch begins,
    some when a fit resumes from a checkpoint written at a validation inside an epoch. Lightning
    draws a resumed epoch's batches from the start and counts on from where it stopped, so unless
    they are skipped the rest of that epoch trains on its first batches again instead of its last."""
    if trainer is None:
        return 0
    return trainer.fit_loop.epoch_loop.batch_progress.current.completed
