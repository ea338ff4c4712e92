"""RevIN: reversible instance normalization (Kim et al. 2022) against distribution shift."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class RevIN(nn.Module):
    """Normalize each input window by its own per-channel mean and std (with a learned affine
    map), and map forecasts of the first ``out_channels`` channels back to the input scale."""

    def __init__(self, num_channels: int, affine: bool = True, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(num_channels)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_channels)) if affine else None

    def statistics(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Mean and std over time of a (B, L, C) window, each (B, 1, C); the window is not changed."""
        mean = x.mean(1, keepdim=True).detach()
        std = torch.sqrt(x.var(1, keepdim=True, unbiased=False) + self.eps).detach()
        return mean, std

    def normalize(self, x: Tensor, mean: Tensor, std: Tensor) -> Tensor:
        channels = x.shape[-1]
        x = (x - mean[..., :channels]) / std[..., :channels]
        if self.weight is not None:
            x = x * self.weight[:channels] + self.bias[:channels]
        return x

    def denormalize(self, y: Tensor, mean: Tensor, std: Tensor) -> Tensor:
        """Inverse of :meth:`normalize` for (B, H, C_out) or (B, H, C_out, Q) forecasts."""
        channels = y.shape[2]
        extra = (1,) * (y.dim() - 3)
        mean, std = mean[..., :channels].view(-1, 1, channels, *extra), std[..., :channels].view(-1, 1, channels, *extra)
        if self.weight is not None:
            weight = self.weight[:channels].view(channels, *extra)
            bias = self.bias[:channels].view(channels, *extra)
            y = (y - bias) / (weight + self.eps ** 2)
        return y * std + mean
