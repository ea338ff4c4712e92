"""Image DenseNets: DenseNet-121/169/201/161 as in Huang et al. (2017) and DenseNet-BC for 32x32 inputs.

Parameter counts equal torchvision's, and torchvision state dicts load as they are: our module
``body`` is torchvision's ``features`` (keys are renamed on load), every other name is the same.
"""

from __future__ import annotations

import re
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from forecast.errors import DownloadError
from forecast.models.densenet import DenseStack

# torchvision's ImageNet weights (the file name carries the start of the sha256)
WEIGHT_URLS = {
    "densenet121": "https://download.pytorch.org/models/densenet121-a639ec97.pth",
    "densenet169": "https://download.pytorch.org/models/densenet169-b2777c0a.pth",
    "densenet201": "https://download.pytorch.org/models/densenet201-c1103571.pth",
    "densenet161": "https://download.pytorch.org/models/densenet161-8d451a50.pth",
}
# checkpoints saved before PyTorch 0.4 name layers "norm.1" where modules now say "norm1"
_OLD_LAYER_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$")


class DenseNet(nn.Module):
    """DenseNet-BC image classifier; ``features(x)`` gives the pooled feature vector.

    ``small_inputs`` selects the CIFAR stem (one 3x3 convolution, no downsampling) instead of
    ImageNet's 7x7/2 convolution and 3x3/2 max-pool.
    """

    def __init__(self, growth_rate: int = 32, block_config: tuple[int, ...] = (6, 12, 24, 16),
                 num_init_features: int = 64, bn_size: int = 4, drop_rate: float = 0.0,
                 num_classes: int = 1000, memory_efficient: bool = False, in_channels: int = 3,
                 small_inputs: bool = False, compression: float = 0.5):
        super().__init__()
        if small_inputs:
            stem = [("conv0", nn.Conv2d(in_channels, num_init_features, 3, padding=1, bias=False))]
        else:
            stem = [("conv0", nn.Conv2d(in_channels, num_init_features, 7, 2, 3, bias=False)),
                    ("norm0", nn.BatchNorm2d(num_init_features)),
                    ("relu0", nn.ReLU(inplace=True)),
                    ("pool0", nn.MaxPool2d(3, 2, 1))]
        stack = DenseStack(num_init_features, block_config, growth_rate, bn_size, compression,
                           drop_rate, dim=2, memory_efficient=memory_efficient)
        # flat like torchvision's `features`, so that its state dicts map one to one
        self.body = nn.Sequential(OrderedDict([*stem, *stack.named_children(),
                                               ("norm5", nn.BatchNorm2d(stack.out_channels))]))
        self.num_features = stack.out_channels
        self.classifier = nn.Linear(stack.out_channels, num_classes)
        self.register_load_state_dict_pre_hook(_rename_torchvision_keys)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)

    def features(self, x: Tensor) -> Tensor:
        """(B, C, H, W) images -> (B, num_features) globally pooled features."""
        maps = F.relu(self.body(x))
        return torch.flatten(F.adaptive_avg_pool2d(maps, 1), 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


def _rename_torchvision_keys(module, state_dict, prefix, *args) -> None:
    for key in list(state_dict):
        if not key.startswith(prefix):
            continue
        name = key[len(prefix):]
        old = _OLD_LAYER_KEY.match(name)
        if old:
            name = old.group(1) + old.group(2)
        if name.startswith("features."):
            name = "body." + name[len("features."):]
        if prefix + name != key:
            state_dict[prefix + name] = state_dict.pop(key)


def _imagenet_densenet(name: str, growth_rate: int, block_config: tuple[int, ...],
                       num_init_features: int, pretrained: bool, **kwargs) -> DenseNet:
    model = DenseNet(growth_rate, block_config, num_init_features, **kwargs)
    if pretrained:
        model.load_state_dict(_download_weights(name))
    return model


def _download_weights(name: str) -> dict[str, Tensor]:
    url = WEIGHT_URLS[name]
    try:
        return torch.hub.load_state_dict_from_url(url, progress=False, check_hash=True,
                                                  weights_only=True)
    except (OSError, RuntimeError) as error:  # urllib errors are OSErrors; hash failures RuntimeErrors
        raise DownloadError(f"pretrained {name} weights could not be fetched from {url} ({error}); "
                            f"put the file in {torch.hub.get_dir()}/checkpoints or pass "
                            "pretrained=False") from None


def densenet121(pretrained: bool = False, **kwargs) -> DenseNet:
    """DenseNet-121 (7,978,856 parameters with 1000 classes)."""
    return _imagenet_densenet("densenet121", 32, (6, 12, 24, 16), 64, pretrained, **kwargs)


def densenet169(pretrained: bool = False, **kwargs) -> DenseNet:
    """DenseNet-169 (14,149,480 parameters with 1000 classes)."""
    return _imagenet_densenet("densenet169", 32, (6, 12, 32, 32), 64, pretrained, **kwargs)


def densenet201(pretrained: bool = False, **kwargs) -> DenseNet:
    """DenseNet-201 (20,013,928 parameters with 1000 classes)."""
    return _imagenet_densenet("densenet201", 32, (6, 12, 48, 32), 64, pretrained, **kwargs)


def densenet161(pretrained: bool = False, **kwargs) -> DenseNet:
    """DenseNet-161 (28,681,000 parameters with 1000 classes)."""
    return _imagenet_densenet("densenet161", 48, (6, 12, 36, 24), 96, pretrained, **kwargs)


def densenet_bc(depth: int = 100, growth_rate: int = 12, num_classes: int = 10,
                **kwargs) -> DenseNet:
    """DenseNet-BC for 32x32 images: three blocks of (depth - 4) / 6 bottleneck layers, 3x3 stem
    with 2k maps, compression 0.5 (L=100, k=12: about 0.8M parameters, as in the paper)."""
    if (depth - 4) % 6:
        raise ValueError(f"DenseNet-BC depth must be 6n + 4, got {depth}")
    layers = (depth - 4) // 6
    kwargs.setdefault("small_inputs", True)
    return DenseNet(growth_rate, (layers,) * 3, 2 * growth_rate, num_classes=num_classes, **kwargs)
