"""Sliding windows as an index over contiguous float32 arrays: no window is ever copied ahead of time.

A window with origin ``o`` reads past rows ``[o - lookback, o)`` of the inputs and rows
``[o, o + horizon)`` of the targets and known-future covariates. Several series are stored end to
end in one array; their origins are chosen so that no window crosses from one series into the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset


@dataclass(frozen=True)
class WindowSpec:
    """Look-back length, forecast horizon and the step between consecutive window origins."""

    lookback: int
    horizon: int
    stride: int = 1

    def __post_init__(self):
        for name in ("lookback", "horizon", "stride"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")

    @property
    def length(self) -> int:
        return self.lookback + self.horizon

    def origins(self, start: int, end: int) -> np.ndarray:
        """Origins whose whole window lies in rows [0, end) and whose origin is at or after ``start``."""
        first = max(start, self.lookback)
        return np.arange(first, end - self.horizon + 1, self.stride, dtype=np.int64)


class WindowDataset(Dataset):
    """Windows gathered batch-wise from contiguous arrays; items are dicts of tensors.

    ``x`` (B, L, C_in) past inputs, ``f`` (B, H, C_f) known-future covariates (C_f may be 0),
    ``y`` (B, H, C_out) targets when given, ``window`` (B,) the window number. In
    channel-independent mode each channel of each window is its own sample (C_in = C_out = 1)
    and ``channel`` (B,) says which. Use :func:`collate_batch` (or :meth:`loader`) with a
    DataLoader: batches come whole from ``__getitems__``, not from per-item collation.
    """

    def __init__(self, inputs: torch.Tensor, origins: np.ndarray | torch.Tensor, spec: WindowSpec,
                 targets: torch.Tensor | None = None, future: torch.Tensor | None = None,
                 channel_independent: bool = False):
        self.inputs = _contiguous_float(inputs)
        self.targets = None if targets is None else _contiguous_float(targets)
        rows = len(self.inputs)
        self.future = (torch.zeros(rows, 0, device=self.inputs.device) if future is None
                       else _contiguous_float(future))
        self.origins = torch.as_tensor(origins, dtype=torch.long, device=self.inputs.device)
        self.spec = spec
        self.channel_independent = channel_independent
        if channel_independent and self.targets is not None and \
                self.targets.shape[1] != self.inputs.shape[1]:
            raise ValueError("channel-independent windows need the same channels in and out "
                             f"({self.inputs.shape[1]} inputs, {self.targets.shape[1]} targets)")
        if len(self.origins) and (int(self.origins.min()) < spec.lookback
                                  or int(self.origins.max()) + spec.horizon > rows):
            raise ValueError("an origin leaves its window outside the arrays")
        # Every window is a contiguous block of rows, so a strided view holds all of them
        # without copying, and one index_select copies a batch block by block.
        self._sources = {"x": _Windows(self.inputs, spec.lookback),
                         "f": _Windows(self.future, spec.horizon)}
        if self.targets is not None:
            self._sources["y"] = _Windows(self.targets, spec.horizon)

    @property
    def channels(self) -> int:
        return self.inputs.shape[1]

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays the windows read."""
        arrays = [self.inputs, self.future] + ([] if self.targets is None else [self.targets])
        return sum(a.numel() * a.element_size() for a in arrays)

    def to(self, device: torch.device | str) -> WindowDataset:
        """The same windows with their arrays on ``device``: batches are then gathered there, so
        a GPU run copies no batch from the host (indices may still come from the CPU)."""
        return WindowDataset(self.inputs.to(device), self.origins.to(device), self.spec,
                             None if self.targets is None else self.targets.to(device),
                             self.future.to(device), self.channel_independent)

    def __len__(self) -> int:
        per_window = self.channels if self.channel_independent else 1
        return len(self.origins) * per_window

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"window {index} out of range for {len(self)} samples")
        batch = self.__getitems__([index % len(self)])
        return {key: value[0] for key, value in batch.items()}

    def __getitems__(self, indices: Sequence[int]) -> dict[str, torch.Tensor]:
        indices = torch.as_tensor(indices, dtype=torch.long, device=self.origins.device)
        if self.channel_independent:
            window, channel = indices // self.channels, indices % self.channels
        else:
            window, channel = indices, None
        origin = self.origins[window]
        first_rows = {"x": origin - self.spec.lookback, "f": origin, "y": origin}
        batch = {key: source.select(first_rows[key], None if key == "f" else channel)
                 for key, source in self._sources.items()}
        batch["window"] = window
        if channel is not None:
            batch["channel"] = channel
        return batch

    def loader(self, batch_size: int, shuffle: bool = False, seed: int | None = None,
               **kwargs) -> DataLoader:
        """A DataLoader that fetches whole batches; ``seed`` fixes the shuffle order."""
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        return DataLoader(self, batch_size=batch_size, shuffle=shuffle, generator=generator,
                          collate_fn=collate_batch, **kwargs)


def collate_batch(batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The collate function for :class:`WindowDataset`: batches arrive already stacked."""
    return batch


class _Windows:
    """All windows of ``steps`` rows of a (rows, channels) array, as a strided view."""

    def __init__(self, array: torch.Tensor, steps: int):
        rows, width = array.shape
        self.array = array
        self.steps = steps
        self.view = array.as_strided((max(rows - steps + 1, 0), steps, width), (width, width, 1))

    def select(self, first_rows: torch.Tensor, channel: torch.Tensor | None) -> torch.Tensor:
        """Windows starting at ``first_rows``: (B, steps, channels), or (B, steps, 1) per channel."""
        if channel is None:
            return self.view.index_select(0, first_rows)
        # one channel per sample: gather single elements rather than whole rows
        width = self.array.shape[1]
        steps = torch.arange(self.steps, device=first_rows.device)
        elements = (first_rows[:, None] + steps) * width + channel[:, None]
        return self.array.view(-1).index_select(0, elements.reshape(-1)).view(-1, self.steps, 1)


def _contiguous_float(array) -> torch.Tensor:
    return torch.as_tensor(array, dtype=torch.float32).contiguous()
