"""Encoder + LSTM head forecasters (DenseNet-LSTM and its comparisons), built by name."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import Tensor, nn

from forecast.models.baselines import RidgeLinear
from forecast.models.encoders import DenseNet1D, DenseNet2D, Projection, ResNet1D
from forecast.models.heads import DirectHead, FlattenHead, Seq2SeqHead
from forecast.models.revin import RevIN

HEADS = {"seq2seq": Seq2SeqHead, "direct": DirectHead, "flatten": FlattenHead}


class EncoderLSTM(nn.Module):
    """encoder -> LSTM head, with optional RevIN around both and an optional linear highway.

    The highway (the autoregressive component of LSTNet, Lai et al. 2018) adds a linear map from
    each target's look-back to its horizon, so the network learns a correction to a linear
    forecast rather than the whole forecast. :meth:`start_from_ridge` sets it to the closed-form
    ridge solution in the normalization it reads; the head's output layer starts near zero, so
    the untrained network forecasts what that ridge forecasts.

    Inputs x (B, L, C_in) whose first ``out_channels`` channels are the targets, known-future
    covariates f (B, H, C_f), and in training the targets y (B, H, C_out) for teacher forcing.
    Returns (B, H, C_out), or (B, H, C_out, Q) when the head has quantiles.
    """

    def __init__(self, encoder: nn.Module, head: nn.Module, in_channels: int, out_channels: int,
                 revin: bool = True, highway: tuple[int, int] | None = None):
        super().__init__()
        self.encoder = encoder
        self.head = head
        self.out_channels = out_channels
        self.revin = RevIN(in_channels) if revin else None
        self.highway = nn.Linear(*highway) if highway else None  # (lookback, horizon)

    @property
    def quantiles(self) -> list[float] | None:
        levels = self.head.output.quantiles
        return levels if len(levels) > 1 else None

    def forward(self, x: Tensor, f: Tensor, y: Tensor | None = None,
                teacher_forcing: float = 0.0) -> Tensor:
        x, y, statistics = self._normalize(x, y)
        last = x[:, -1, :self.out_channels]
        linear = self._linear(x) if self.highway is not None else None
        out = self.head(self.encoder(x), last, f, y, teacher_forcing, base=linear)
        if linear is not None:
            out = out + linear.unsqueeze(-1)
        if self.revin is not None:
            out = self.revin.denormalize(out, *statistics)
        return out if self.quantiles else out[..., 0]

    @torch.no_grad()
    def start_from_ridge(self, train_batches: Iterable[dict[str, Tensor]],
                         val_batches: Iterable[dict[str, Tensor]] | None = None) -> RidgeLinear:
        """Set the highway to the ridge regression fitted on the training windows as the highway
        sees them (RevIN-normalized when RevIN is on), alpha chosen on ``val_batches`` (on the
        training windows when None). Returns that ridge. Under RevIN each window's squared errors
        are weighted by its variance, so the ridge minimizes the error on the scale the training
        loss is taken: unweighted, nearly flat windows (a dry spell of rain) blow up to huge
        normalized values and dominate the fit."""
        if self.highway is None:
            raise ValueError("this network has no highway to start")
        ridge = RidgeLinear(self.highway.in_features, self.highway.out_features, self.out_channels)
        choose_on = val_batches if val_batches is not None else train_batches
        ridge.fit(_Normalized(self, train_batches), _Normalized(self, choose_on))
        self.highway.weight.copy_(ridge.weight[:-1].T)
        self.highway.bias.copy_(ridge.weight[-1])
        return ridge

    def _normalize(self, x: Tensor, y: Tensor | None) -> tuple[Tensor, Tensor | None, tuple]:
        """Inputs and targets as the encoder and highway see them, and what undoes it."""
        if self.revin is None:
            return x, y, ()
        mean, std = self.revin.statistics(x)
        y = None if y is None else self.revin.normalize(y, mean, std)
        return self.revin.normalize(x, mean, std), y, (mean, std)

    def _linear(self, x: Tensor) -> Tensor:
        return self.highway(x[..., :self.out_channels].transpose(1, 2)).transpose(1, 2)


class _Normalized:
    """Batches as the highway reads them, made anew on each pass (ridge reads them twice)."""

    def __init__(self, network: EncoderLSTM, batches: Iterable[dict[str, Tensor]]):
        self.network, self.batches = network, batches

    def __iter__(self):
        channels = self.network.out_channels
        for batch in self.batches:
            x, y, undo = self.network._normalize(batch["x"], batch["y"])
            if undo:  # RevIN: an error e in its scale is e * std in the loss's
                yield {"x": x, "y": y, "w": undo[1][:, 0, :channels] ** 2}
            else:
                yield {"x": x, "y": y}


def build_forecaster(name: str, in_channels: int, out_channels: int, horizon: int,
                     future_channels: int = 0, head: str = "seq2seq", hidden_size: int = 128,
                     num_layers: int = 1, dropout: float = 0.1,
                     quantiles: Sequence[float] | None = None, revin: bool = True,
                     patch: int = 8, memory_efficient: bool = False,
                     lookback: int | None = None, highway: bool = True,
                     patch_stride: int | None = None) -> EncoderLSTM:
    """``densenet-lstm``, ``densenet2d-lstm``, ``resnet-lstm`` or ``lstm`` with a seq2seq, direct
    or flatten head. Given ``lookback``, a linear highway from look-back to horizon is added
    (unless ``highway`` is False); the flatten head needs ``lookback``. Patches of ``patch``
    steps every ``patch_stride`` (default: ``patch``, no overlap)."""
    encoders = {
        "densenet-lstm": lambda: DenseNet1D(in_channels, patch=patch, drop_rate=dropout,
                                            memory_efficient=memory_efficient, patch_stride=patch_stride),
        "densenet2d-lstm": lambda: DenseNet2D(in_channels, patch=patch, drop_rate=dropout,
                                              memory_efficient=memory_efficient, patch_stride=patch_stride),
        "resnet-lstm": lambda: ResNet1D(in_channels, patch=patch, patch_stride=patch_stride),
        "lstm": lambda: Projection(in_channels),
    }
    if name not in encoders:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(encoders)}")
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; known: {', '.join(HEADS)}")
    encoder = encoders[name]()
    options = {}
    if head == "flatten":
        if lookback is None:
            raise ValueError("the flatten head needs the look-back length")
        options["steps"] = encoder.output_length(lookback)
    lstm_head = HEADS[head](encoder.out_features, out_channels, horizon, future_channels,
                            hidden_size, num_layers, dropout, quantiles, **options)
    linear = (lookback, horizon) if lookback and highway else None
    return EncoderLSTM(encoder, lstm_head, in_channels, out_channels, revin, linear)
