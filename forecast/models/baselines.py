"""Baselines every report shows: naive, seasonal naive, drift, DLinear and a closed-form ridge."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class Naive(nn.Module):
    """Repeat the last observed value of each target."""

    def __init__(self, out_channels: int, horizon: int):
        super().__init__()
        self.out_channels, self.horizon = out_channels, horizon

    def forward(self, x: Tensor, f: Tensor, y: Tensor | None = None, teacher_forcing: float = 0.0) -> Tensor:
        return x[:, -1:, :self.out_channels].expand(-1, self.horizon, -1)


class SeasonalNaive(nn.Module):
    """Repeat the last full season: the forecast for t + h is the value one season earlier."""

    def __init__(self, out_channels: int, horizon: int, season: int):
        super().__init__()
        self.out_channels, self.horizon, self.season = out_channels, horizon, season

    def forward(self, x: Tensor, f: Tensor, y: Tensor | None = None, teacher_forcing: float = 0.0) -> Tensor:
        if x.shape[1] < self.season:
            raise ValueError(f"seasonal naive needs a look-back of at least one season ({self.season})")
        last_season = x[:, -self.season:, :self.out_channels]
        repeats = -(-self.horizon // self.season)
        return last_season.repeat(1, repeats, 1)[:, :self.horizon]


class Drift(nn.Module):
    """Extend the straight line through the first and last values of the look-back."""

    def __init__(self, out_channels: int, horizon: int):
        super().__init__()
        self.out_channels, self.horizon = out_channels, horizon

    def forward(self, x: Tensor, f: Tensor, y: Tensor | None = None, teacher_forcing: float = 0.0) -> Tensor:
        targets = x[..., :self.out_channels]
        slope = (targets[:, -1] - targets[:, 0]) / max(x.shape[1] - 1, 1)
        steps = torch.arange(1, self.horizon + 1, device=x.device, dtype=x.dtype).view(1, -1, 1)
        return targets[:, -1:] + steps * slope.unsqueeze(1)


class DLinear(nn.Module):
    """DLinear (Zeng et al. 2023): a moving average splits each channel into trend and remainder,
    and one linear map per part, shared across channels, takes the look-back to the horizon."""

    def __init__(self, lookback: int, horizon: int, out_channels: int, kernel_size: int = 25):
        super().__init__()
        self.out_channels, self.kernel_size = out_channels, kernel_size
        self.trend = nn.Linear(lookback, horizon)
        self.remainder = nn.Linear(lookback, horizon)
        for linear in (self.trend, self.remainder):  # start as the look-back mean, as in the paper
            nn.init.constant_(linear.weight, 1.0 / lookback)

    def forward(self, x: Tensor, f: Tensor, y: Tensor | None = None, teacher_forcing: float = 0.0) -> Tensor:
        series = x[..., :self.out_channels].transpose(1, 2)  # (B, C, L)
        pad = self.kernel_size - 1
        padded = F.pad(series, (pad // 2, pad - pad // 2), mode="replicate")
        trend = F.avg_pool1d(padded, self.kernel_size, stride=1)
        out = self.trend(trend) + self.remainder(series - trend)
        return out.transpose(1, 2)


class RidgeLinear(nn.Module):
    """Closed-form ridge regression from the look-back (plus an intercept) to the horizon, one
    weight matrix shared by all channels; fitted with :meth:`fit`, never by gradient descent."""

    def __init__(self, lookback: int, horizon: int, out_channels: int):
        super().__init__()
        self.out_channels = out_channels
        self.register_buffer("weight", torch.zeros(lookback + 1, horizon))
        self.alpha = None

    def forward(self, x: Tensor, f: Tensor, y: Tensor | None = None, teacher_forcing: float = 0.0) -> Tensor:
        series = x[..., :self.out_channels].transpose(1, 2)  # (B, C, L)
        design = F.pad(series, (0, 1), value=1.0)
        return (design @ self.weight).transpose(1, 2)

    @torch.no_grad()
    def fit(self, train_batches, val_batches, alphas=(0.1, 1.0, 10.0, 100.0, 1000.0)) -> float:
        """Solve (X'WX + alpha I) B = X'WY on the training windows of every channel, keep the alpha
        with the lowest validation MSE; returns that MSE. W weighs each (window, channel) row by
        the batch's ``w`` (B, C) when given, by one otherwise."""
        gram, cross = None, None
        for batch in train_batches:
            design, target, weight = self._rows(batch)
            weighted = design * weight
            gram = weighted.T @ design if gram is None else gram + weighted.T @ design
            cross = weighted.T @ target if cross is None else cross + weighted.T @ target
        eye = torch.eye(len(gram), dtype=gram.dtype)
        eye[-1, -1] = 0  # the intercept is not shrunk
        best = (float("inf"), None, None)
        for alpha in alphas:
            solution = torch.linalg.solve(gram + alpha * eye, cross)
            errors, count = 0.0, 0
            for batch in val_batches:
                design, target, weight = self._rows(batch)
                errors += float((weight * (design @ solution - target) ** 2).sum())
                count += target.numel()
            if errors / count < best[0]:
                best = (errors / count, alpha, solution)
        self.weight.copy_(best[2].to(self.weight.dtype))
        self.alpha = best[1]
        return best[0]

    def _rows(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor, Tensor]:
        x = batch["x"][..., :self.out_channels].transpose(1, 2).reshape(-1, batch["x"].shape[1])
        y = batch["y"].transpose(1, 2).reshape(-1, batch["y"].shape[1])
        weight = batch["w"].reshape(-1, 1).double() if "w" in batch else torch.ones(len(y), 1, dtype=torch.double)
        return F.pad(x.double(), (0, 1), value=1.0), y.double(), weight
