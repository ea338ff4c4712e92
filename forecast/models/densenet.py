"""DenseNet building blocks for 1D (time) and 2D (images, variables x time) inputs.

One implementation serves both: ``dim`` picks Conv1d/Conv2d, BatchNorm1d/2d and AvgPool1d/2d.
Layer names follow torchvision's ``models/densenet.py`` so that its state dicts load unchanged.
References: Huang et al. 2017, "Densely Connected Convolutional Networks" (DenseNet-B bottleneck
layers, DenseNet-C compression); Pleiss et al. 2017, "Memory-Efficient Implementation of DenseNets".
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from forecast.models.dropout import dropout

Pool = int | tuple[int, ...]


def conv(dim: int, *args, **kwargs) -> nn.Module:
    """Conv1d or Conv2d."""
    return (nn.Conv1d, nn.Conv2d)[_index(dim)](*args, **kwargs)


def batch_norm(dim: int, channels: int) -> nn.Module:
    """BatchNorm1d or BatchNorm2d."""
    return (nn.BatchNorm1d, nn.BatchNorm2d)[_index(dim)](channels)


def avg_pool(dim: int, size: Pool) -> nn.Module:
    """AvgPool1d or AvgPool2d; a tuple size pools each axis on its own (e.g. (1, 2): time only)."""
    return (nn.AvgPool1d, nn.AvgPool2d)[_index(dim)](kernel_size=size, stride=size)


def _index(dim: int) -> int:
    if dim not in (1, 2):
        raise ValueError(f"dim must be 1 or 2, not {dim!r}")
    return dim - 1


class DenseLayer(nn.Module):
    """BN-ReLU-Conv1x1(bn_size*k)-BN-ReLU-Conv3(k): k new feature maps from all earlier ones.

    ``kernel`` is the second convolution's size, 3 or per axis (e.g. (1, 3) for a series held as
    a map one row high), padded to keep the length.

    With ``memory_efficient`` the concatenation, first BN, ReLU and 1x1 convolution are
    recomputed in the backward pass instead of stored (gradient checkpointing), so a block's
    activation memory grows linearly, not quadratically, with depth.
    """

    def __init__(self, in_channels: int, growth_rate: int, bn_size: int = 4, drop_rate: float = 0.0,
                 dim: int = 2, memory_efficient: bool = False, kernel: Pool = 3):
        super().__init__()
        padding = tuple(size // 2 for size in kernel) if isinstance(kernel, tuple) else kernel // 2
        self.norm1 = batch_norm(dim, in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = conv(dim, in_channels, bn_size * growth_rate, kernel_size=1, bias=False)
        self.norm2 = batch_norm(dim, bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = conv(dim, bn_size * growth_rate, growth_rate, kernel_size=kernel, padding=padding, bias=False)
        self.drop_rate = float(drop_rate)
        self.memory_efficient = memory_efficient

    def bottleneck(self, inputs: list[Tensor], recomputing: bool = False) -> Tensor:
        """Concatenate, then BN-ReLU-Conv1x1."""
        features = torch.cat(inputs, 1)
        if recomputing:
            # the same operation as the first pass, but its running-statistics update goes to
            # copies: the module's statistics are updated once per step, as without checkpointing
            norm = self.norm1
            normed = F.batch_norm(features, norm.running_mean.clone(), norm.running_var.clone(),
                                  norm.weight, norm.bias, training=True, momentum=norm.momentum or 0.0,
                                  eps=norm.eps)
        else:
            normed = self.norm1(features)
        return self.conv1(self.relu1(normed))

    def forward(self, inputs: Tensor | list[Tensor]) -> Tensor:
        inputs = [inputs] if isinstance(inputs, Tensor) else inputs
        if self.memory_efficient and self.training and any(t.requires_grad for t in inputs):
            passes = iter((False, True))  # the forward pass, then the recomputation in backward
            bottleneck = checkpoint(lambda *tensors: self.bottleneck(list(tensors), next(passes, True)),
                                    *inputs, use_reentrant=False)
        else:
            bottleneck = self.bottleneck(inputs)
        new_features = self.conv2(self.relu2(self.norm2(bottleneck)))
        if self.drop_rate > 0:
            new_features = dropout(new_features, self.drop_rate, self.training)
        return new_features


class DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers; the output holds the input and every layer's k new maps."""

    def __init__(self, num_layers: int, in_channels: int, growth_rate: int, bn_size: int = 4,
                 drop_rate: float = 0.0, dim: int = 2, memory_efficient: bool = False, kernel: Pool = 3):
        super().__init__()
        for i in range(num_layers):
            self[f"denselayer{i + 1}"] = DenseLayer(in_channels + i * growth_rate, growth_rate,
                                                    bn_size, drop_rate, dim, memory_efficient, kernel)
        self.out_channels = in_channels + num_layers * growth_rate

    def forward(self, x: Tensor) -> Tensor:
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    """BN-ReLU-Conv1x1 to ``out_channels`` (floor(theta * C) for compression theta), then AvgPool."""

    def __init__(self, in_channels: int, out_channels: int, dim: int = 2, pool: Pool = 2):
        super().__init__()
        self.norm = batch_norm(dim, in_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv = conv(dim, in_channels, out_channels, kernel_size=1, bias=False)
        self.pool = avg_pool(dim, pool)


class DenseStack(nn.Sequential):
    """Dense blocks joined by compressing transitions: ``denseblock1, transition1, ..., denseblockN``.

    The shared body of the image backbone and of the forecasting encoders; ``pool`` sets how
    transitions downsample (2, or per axis such as (1, 2) to pool along time only) and ``kernel``
    the dense layers' second convolution (3, or per axis such as (1, 3)).
    """

    def __init__(self, in_channels: int, block_config: tuple[int, ...], growth_rate: int,
                 bn_size: int = 4, compression: float = 0.5, drop_rate: float = 0.0, dim: int = 2,
                 pool: Pool = 2, memory_efficient: bool = False, kernel: Pool = 3):
        super().__init__()
        if not 0 < compression <= 1:
            raise ValueError(f"compression must be in (0, 1], got {compression}")
        channels = in_channels
        for i, num_layers in enumerate(block_config):
            block = DenseBlock(num_layers, channels, growth_rate, bn_size, drop_rate, dim,
                               memory_efficient, kernel)
            self.add_module(f"denseblock{i + 1}", block)
            channels = block.out_channels
            if i != len(block_config) - 1:
                reduced = int(channels * compression)
                self.add_module(f"transition{i + 1}", Transition(channels, reduced, dim, pool))
                channels = reduced
        self.out_channels = channels
