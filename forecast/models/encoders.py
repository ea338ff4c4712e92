"""Encoders that turn a past window into a feature sequence (B, L', F) for an LSTM head."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from forecast.models.densenet import DenseStack
from forecast.models.image import DenseNet
from forecast.models.resnet import ResidualStack


def stem_padding(length: int, patch: int, stride: int, downsample: int) -> int:
    """Steps to add on the left of a look-back of ``length`` so that the stem's patches end
    exactly at the newest step and the poolings after it divide evenly: nothing is dropped,
    least of all the latest steps."""
    patches = max(-(-(length - patch) // stride) + 1, 1)  # enough patches to cover the input
    patches = -(-patches // downsample) * downsample
    return patch + stride * (patches - 1) - length


class _ChannelsLastGradient(torch.autograd.Function):
    """The identity, whose backward hands the gradient on in channels-last memory."""

    @staticmethod
    def forward(ctx, maps: Tensor) -> Tensor:
        return maps.view_as(maps)

    @staticmethod
    def backward(ctx, gradient: Tensor) -> Tensor:
        return gradient.contiguous(memory_format=torch.channels_last)


class PatchStem(nn.Module):
    """Replicate-pad on the left as :func:`stem_padding` says, then patches of ``patch`` steps
    every ``stride`` steps (overlapping when stride < patch), as (B, C, L) -> (B, C_out, L')."""

    def __init__(self, conv: nn.Module, patch: int, stride: int, downsample: int):
        super().__init__()
        self.conv, self.patch, self.stride, self.downsample = conv, patch, stride, downsample

    def output_length(self, length: int) -> int:
        return (length + stem_padding(length, self.patch, self.stride, self.downsample)
                - self.patch) // self.stride + 1

    def forward(self, x: Tensor) -> Tensor:
        extra = stem_padding(x.shape[-1], self.patch, self.stride, self.downsample)
        if extra:  # along the last (time) axis only, for (B, C, L) and (B, 1, C, L) alike
            x = F.pad(x, (extra, 0) + (0, 0) * (x.dim() - 3), mode="replicate")
        return self.conv(x)


class DenseNet1D(nn.Module):
    """Dense blocks over time. A stem of non-overlapping patches (a convolution with kernel and
    stride ``patch``) shortens long look-backs; each transition halves the length again.

    The series is computed as a map one row high, (B, C, 1, L), in channels-last memory: on the
    CPU, oneDNN's channels-last 2D convolutions and batch norms are faster than its 1D kernels
    (the train_speed bench measures both in one run), and (B, L, C) windows already lie in that
    layout, so nothing is copied on the way in or out."""

    def __init__(self, in_channels: int, patch: int = 8, stem_channels: int = 32,
                 growth_rate: int = 16, block_config: tuple[int, ...] = (3, 3), bn_size: int = 4,
                 compression: float = 0.5, drop_rate: float = 0.0, memory_efficient: bool = False,
                 patch_stride: int | None = None):
        super().__init__()
        stride, self.downsample = patch_stride or patch, 2 ** (len(block_config) - 1)
        self.stem = PatchStem(nn.Conv2d(in_channels, stem_channels, kernel_size=(1, patch), stride=(1, stride)),
                              patch, stride, self.downsample)
        self.stack = DenseStack(stem_channels, block_config, growth_rate, bn_size, compression,
                                drop_rate, dim=2, pool=(1, 2), memory_efficient=memory_efficient,
                                kernel=(1, 3))
        self.norm = nn.BatchNorm2d(self.stack.out_channels)
        self.out_features = self.stack.out_channels
        self.to(memory_format=torch.channels_last)  # the weights too, or each step reorders them

    def output_length(self, lookback: int) -> int:
        """Feature steps for a look-back of ``lookback`` steps."""
        return self.stem.output_length(lookback) // self.downsample

    def forward(self, x: Tensor) -> Tensor:
        row = x.transpose(1, 2).unsqueeze(2)  # (B, C, 1, L)
        # with one input channel the stem's output comes back plain (NCHW): the stack wants channels-last
        maps = self.stem(row).contiguous(memory_format=torch.channels_last)
        # the LSTM's gradient comes back time-major; in that layout oneDNN's batch-norm backward
        # takes a path ten times as slow (2 ms against 0.2 for a 128 x 88 x 1 x 21 bf16 map)
        features = _ChannelsLastGradient.apply(F.relu(self.norm(self.stack(maps))))
        return features.squeeze(2).transpose(1, 2)


class DenseNet2D(nn.Module):
    """Dense blocks over the (variables x time) map as a one-channel image, pooling along time
    only: 3x3 convolutions see neighbouring variables, so cross-variable patterns are learned.
    Output features per step: channels x variables."""

    def __init__(self, in_channels: int, patch: int = 8, stem_channels: int = 16,
                 growth_rate: int = 8, block_config: tuple[int, ...] = (3, 3), bn_size: int = 4,
                 compression: float = 0.5, drop_rate: float = 0.0, memory_efficient: bool = False,
                 patch_stride: int | None = None):
        super().__init__()
        stride, self.downsample = patch_stride or patch, 2 ** (len(block_config) - 1)
        self.stem = PatchStem(nn.Conv2d(1, stem_channels, kernel_size=(1, patch), stride=(1, stride)),
                              patch, stride, self.downsample)
        self.stack = DenseStack(stem_channels, block_config, growth_rate, bn_size, compression,
                                drop_rate, dim=2, pool=(1, 2), memory_efficient=memory_efficient)
        self.norm = nn.BatchNorm2d(self.stack.out_channels)
        self.out_features = self.stack.out_channels * in_channels

    def output_length(self, lookback: int) -> int:
        """Feature steps for a look-back of ``lookback`` steps."""
        return self.stem.output_length(lookback) // self.downsample

    def forward(self, x: Tensor) -> Tensor:
        image = x.transpose(1, 2).unsqueeze(1)  # (B, 1, C, L)
        # channels-last, as in DenseNet1D: oneDNN trains 3x3 convolutions faster so on the CPU
        maps = self.stem(image).contiguous(memory_format=torch.channels_last)
        maps = F.relu(self.norm(self.stack(maps)))  # (B, F, C, L')
        return maps.permute(0, 3, 1, 2).flatten(2)  # (B, L', F * C)


class ResNet1D(nn.Module):
    """The residual counterpart of DenseNet1D: the same patch stem, basic blocks instead of dense
    layers, each stage after the first halving the length."""

    def __init__(self, in_channels: int, patch: int = 8, widths: tuple[int, ...] = (32, 64),
                 blocks_per_stage: tuple[int, ...] = (2, 2), patch_stride: int | None = None):
        super().__init__()
        stride, self.downsample = patch_stride or patch, 2 ** (len(widths) - 1)
        conv = nn.Conv1d(in_channels, widths[0], kernel_size=patch, stride=stride)
        self.stem = nn.Sequential(PatchStem(conv, patch, stride, self.downsample),
                                  nn.BatchNorm1d(widths[0]), nn.ReLU(inplace=True))
        self.stack = ResidualStack(widths[0], widths, blocks_per_stage, dim=1)
        self.out_features = self.stack.out_channels

    def output_length(self, lookback: int) -> int:
        """Feature steps for a look-back of ``lookback`` steps."""
        return self.stem[0].output_length(lookback) // self.downsample

    def forward(self, x: Tensor) -> Tensor:
        return self.stack(self.stem(x.transpose(1, 2))).transpose(1, 2)


class FrameEncoder(nn.Module):
    """An image DenseNet applied with shared weights to every frame: (B, T, C, H, W) -> (B, T, F)."""

    def __init__(self, backbone: DenseNet):
        super().__init__()
        self.backbone = backbone
        self.out_features = backbone.num_features

    def forward(self, frames: Tensor) -> Tensor:
        batch, steps = frames.shape[:2]
        features = self.backbone.features(frames.flatten(0, 1))
        return features.view(batch, steps, -1)


class Projection(nn.Module):
    """No convolution: each time step's inputs linearly projected (the plain-LSTM baseline)."""

    def __init__(self, in_channels: int, out_features: int = 32):
        super().__init__()
        self.linear = nn.Linear(in_channels, out_features)
        self.out_features = out_features

    def output_length(self, lookback: int) -> int:
        """Feature steps for a look-back of ``lookback`` steps: one per step."""
        return lookback

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x)

