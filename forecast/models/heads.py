"""LSTM heads: turn an encoder's feature sequence into H steps of forecasts (point or quantiles)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from forecast.models.dropout import Dropout
from forecast.models.registry import median_index, quantile_levels


# The output layer starts this small: the forecast begins at the linear highway's (to about
# 1e-6 of the target scale), yet every weight below it gets a gradient from the first step, and
# Adam's updates do not shrink with the gradient's size.
OUTPUT_INIT_STD = 1e-7


class QuantileOutput(nn.Module):
    """Linear map to C_out x Q values; with several quantiles, each level is the one below plus a
    softplus step, so the quantiles can never cross. The median is always one of the levels."""

    def __init__(self, in_features: int, out_channels: int, quantiles: Sequence[float] | None):
        super().__init__()
        self.quantiles = quantile_levels(quantiles)
        self.out_channels = out_channels
        self.linear = nn.Linear(in_features, out_channels * len(self.quantiles))
        nn.init.normal_(self.linear.weight, std=OUTPUT_INIT_STD)
        nn.init.zeros_(self.linear.bias)

    @property
    def median_index(self) -> int:
        """Position of the 0.5 level: the point forecast."""
        return median_index(self.quantiles)

    def forward(self, h: Tensor) -> Tensor:
        raw = self.linear(h).unflatten(-1, (self.out_channels, len(self.quantiles)))
        if raw.shape[-1] == 1:
            return raw
        # the median is a free value; levels above and below it step away by softplus amounts
        m = self.median_index
        median = raw[..., m:m + 1]
        above = median + F.softplus(raw[..., m + 1:]).cumsum(-1)
        below = median - F.softplus(raw[..., :m]).flip(-1).cumsum(-1).flip(-1)
        return torch.cat([below, median, above], -1)


def _lstm(input_size: int, hidden_size: int, num_layers: int, dropout: float) -> nn.LSTM:
    return nn.LSTM(input_size, hidden_size, num_layers, batch_first=True,
                   dropout=dropout if num_layers > 1 else 0.0)


class _LSTMHead(nn.Module):
    """What both heads share: an LSTM over the encoder's features, dropout, the output layer."""

    def __init__(self, in_features: int, out_channels: int, horizon: int, hidden_size: int,
                 num_layers: int, dropout: float, quantiles: Sequence[float] | None):
        super().__init__()
        self.horizon = horizon
        self.encoder = _lstm(in_features, hidden_size, num_layers, dropout)
        self.dropout = Dropout(dropout)
        self.output = QuantileOutput(hidden_size, out_channels, quantiles)


class Seq2SeqHead(_LSTMHead):
    """An LSTM encoder over the features; an LSTM decoder unrolled for ``horizon`` steps whose input
    is its previous forecast (the truth, with probability ``teacher_forcing``, in training) and that
    step's known-future covariates. With a ``base`` forecast (B, H, C_out) the head outputs a
    correction to it, and the previous forecast fed back is base plus correction. Output
    (B, H, C_out, Q)."""

    def __init__(self, in_features: int, out_channels: int, horizon: int, future_channels: int = 0,
                 hidden_size: int = 128, num_layers: int = 1, dropout: float = 0.0,
                 quantiles: Sequence[float] | None = None):
        super().__init__(in_features, out_channels, horizon, hidden_size, num_layers, dropout, quantiles)
        self.decoder = _lstm(out_channels + future_channels, hidden_size, num_layers, dropout)

    def forward(self, features: Tensor, last: Tensor, future: Tensor, targets: Tensor | None = None,
                teacher_forcing: float = 0.0, base: Tensor | None = None) -> Tensor:
        _, state = self.encoder(features)
        previous, steps = last, []
        for t in range(self.horizon):
            step_input = torch.cat([previous, future[:, t]], -1).unsqueeze(1)
            out, state = self.decoder(step_input, state)
            forecast = self.output(self.dropout(out[:, 0]))
            steps.append(forecast)
            # the next step reads the whole forecast of this one, as the truth it stands for under
            # teacher forcing: the head's correction plus the base (highway) forecast it corrects
            previous = forecast[..., self.output.median_index]
            if base is not None:
                previous = previous + base[:, t]
            if targets is not None and teacher_forcing > 0:
                use_truth = torch.rand(len(previous), 1, device=previous.device) < teacher_forcing
                previous = torch.where(use_truth, targets[:, t], previous)
        return torch.stack(steps, 1)


class DirectHead(_LSTMHead):
    """An LSTM over the features; its last state, with all known-future covariates, mapped to the
    whole horizon in one shot. Output (B, H, C_out, Q)."""

    def __init__(self, in_features: int, out_channels: int, horizon: int, future_channels: int = 0,
                 hidden_size: int = 128, num_layers: int = 1, dropout: float = 0.0,
                 quantiles: Sequence[float] | None = None):
        super().__init__(in_features, out_channels, horizon, hidden_size, num_layers, dropout, quantiles)
        self.future = nn.Linear(future_channels, hidden_size) if future_channels else None
        self.step = nn.Parameter(torch.randn(horizon, hidden_size) * 0.02)  # one embedding per lead time

    def forward(self, features: Tensor, last: Tensor, future: Tensor, targets: Tensor | None = None,
                teacher_forcing: float = 0.0, base: Tensor | None = None) -> Tensor:
        _, (hidden, _) = self.encoder(features)
        # the embeddings in the LSTM's dtype: under bf16 autocast an fp32 one would promote the
        # (B, H, hidden) map, its GELU and its dropout to fp32 before the output layer casts it back
        h = hidden[-1].unsqueeze(1) + self.step.to(hidden.dtype)  # (B, H, hidden)
        if self.future is not None:
            h = h + self.future(future)
        return self.output(self.dropout(F.gelu(h)))


class FlattenHead(_LSTMHead):
    """An LSTM over the features, then every step's output flattened and mapped to the whole
    horizon at once, as PatchTST's head maps its patches (known-future covariates join the
    flattened vector). ``steps`` is the encoder's output length. Output (B, H, C_out, Q)."""

    def __init__(self, in_features: int, out_channels: int, horizon: int, future_channels: int = 0,
                 hidden_size: int = 128, num_layers: int = 1, dropout: float = 0.0,
                 quantiles: Sequence[float] | None = None, steps: int = 1):
        super().__init__(in_features, out_channels, horizon, hidden_size, num_layers, dropout, quantiles)
        self.out_channels = out_channels
        self.output = QuantileOutput(steps * hidden_size + horizon * future_channels,
                                     horizon * out_channels, quantiles)

    def forward(self, features: Tensor, last: Tensor, future: Tensor, targets: Tensor | None = None,
                teacher_forcing: float = 0.0, base: Tensor | None = None) -> Tensor:
        outputs, _ = self.encoder(features)  # (B, L', hidden)
        # the covariates in the LSTM's dtype: under bf16 autocast an fp32 part would promote the
        # whole vector to fp32, only for the output layer to cast it back (two copies a step)
        flat = torch.cat([self.dropout(outputs).flatten(1), future.flatten(1).to(outputs.dtype)], -1)
        out = self.output(flat)  # (B, H * C_out, Q)
        return out.unflatten(1, (self.horizon, self.out_channels))
