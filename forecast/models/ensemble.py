"""MeanForecast: several trained networks of one architecture, forecasting their mean."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


class MeanForecast(nn.Module):
    """The mean of the forecasts of ``networks`` (a seed ensemble: the same network trained from
    different seeds), and of each quantile level where they forecast quantiles. Each network is
    trained on its own; this module only forecasts. Each forecast is taken in float32 before the
    mean, so that networks forecasting in bf16 are not averaged in bf16's three digits."""

    def __init__(self, networks: Sequence[nn.Module]):
        super().__init__()
        if len(networks) < 2:
            raise ValueError(f"a mean forecast needs at least two networks, not {len(networks)}")
        self.networks = nn.ModuleList(networks)

    @property
    def quantiles(self) -> list[float] | None:
        return getattr(self.networks[0], "quantiles", None)

    def forward(self, x: Tensor, f: Tensor) -> Tensor:
        return torch.stack([network(x, f).float() for network in self.networks]).mean(0)
