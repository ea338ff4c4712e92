"""Residual networks from basic blocks (He et al. 2016), 1D or 2D: the comparison for DenseNets.

ResNet-18 follows the d2l.ai layout (7x7/2 stem and 3x3/2 max-pool, four stages of two basic
blocks, global average pooling); ``small_inputs`` swaps the stem for one 3x3 convolution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from forecast.models.densenet import batch_norm, conv


class BasicBlock(nn.Module):
    """Conv3-BN-ReLU-Conv3-BN added to the input (Conv1x1-BN projected when the shape changes), ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, dim: int = 2):
        super().__init__()
        self.conv1 = conv(dim, in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = batch_norm(dim, out_channels)
        self.conv2 = conv(dim, out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = batch_norm(dim, out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(conv(dim, in_channels, out_channels, 1, stride=stride, bias=False),
                                          batch_norm(dim, out_channels))

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResidualStack(nn.Sequential):
    """Stages of basic blocks; every stage after the first halves the length (stride 2)."""

    def __init__(self, in_channels: int, widths: tuple[int, ...], blocks_per_stage: tuple[int, ...],
                 dim: int = 2):
        super().__init__()
        channels = in_channels
        for stage, (width, blocks) in enumerate(zip(widths, blocks_per_stage)):
            for block in range(blocks):
                stride = 2 if stage > 0 and block == 0 else 1
                self.add_module(f"stage{stage + 1}_block{block + 1}",
                                BasicBlock(channels, width, stride, dim))
                channels = width
        self.out_channels = channels


class ResNet(nn.Module):
    """Image ResNet from basic blocks; ``features(x)`` gives the pooled feature vector."""

    def __init__(self, blocks_per_stage: tuple[int, ...] = (2, 2, 2, 2),
                 widths: tuple[int, ...] = (64, 128, 256, 512), num_classes: int = 1000,
                 in_channels: int = 3, small_inputs: bool = False):
        super().__init__()
        if small_inputs:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
                                      nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        else:
            self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 7, 2, 3, bias=False),
                                      nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True),
                                      nn.MaxPool2d(3, 2, 1))
        self.body = ResidualStack(widths[0], widths, blocks_per_stage, dim=2)
        self.num_features = self.body.out_channels
        self.classifier = nn.Linear(self.num_features, num_classes)

    def features(self, x: Tensor) -> Tensor:
        """(B, C, H, W) images -> (B, num_features) globally pooled features."""
        return torch.flatten(F.adaptive_avg_pool2d(self.body(self.stem(x)), 1), 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


def resnet18(num_classes: int = 1000, in_channels: int = 3, small_inputs: bool = False) -> ResNet:
    """ResNet-18: four stages of two basic blocks, widths 64-128-256-512 (11.7M parameters)."""
    return ResNet((2, 2, 2, 2), (64, 128, 256, 512), num_classes, in_channels, small_inputs)
