"""Image data modules: scikit-learn's bundled digits (offline) and torchvision's datasets."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset

from forecast.errors import DataError, DownloadError

TORCHVISION_SETS = {
    # name -> (channels, normalisation mean, std)
    "fashionmnist": (1, (0.2860,), (0.3530,)),
    "cifar10": (3, (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "imagefolder": (3, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}


class _ImageParts(L.LightningDataModule):
    """Serves ``self.parts`` (train/val/test datasets that ``setup`` fills) as seeded loaders."""

    def __init__(self, batch_size: int, seed: int, num_workers: int):
        super().__init__()
        self.batch_size, self.seed, self.num_workers = batch_size, seed, num_workers
        self.parts: dict[str, Dataset] = {}

    def _loader(self, part: str) -> DataLoader:
        self.setup()
        return DataLoader(self.parts[part], batch_size=self.batch_size, shuffle=part == "train",
                          generator=torch.Generator().manual_seed(self.seed),
                          num_workers=self.num_workers, persistent_workers=self.num_workers > 0)

    def train_dataloader(self) -> DataLoader:
        return self._loader("train")

    def val_dataloader(self) -> DataLoader:
        return self._loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")


class DigitsDataModule(_ImageParts):
    """The 1,797 real 8x8 handwritten digits bundled with scikit-learn, split stratified by class
    into train/val/test and standardised with training statistics; images (B, 1, 8, 8)."""

    num_classes = 10
    in_channels = 1

    def __init__(self, batch_size: int = 64, val_fraction: float = 0.1,
                 test_fraction: float = 0.2, seed: int = 0, num_workers: int = 0):
        super().__init__(batch_size, seed, num_workers)
        self.val_fraction = val_fraction
        self.test_fraction = test_fraction

    def setup(self, stage: str | None = None) -> None:
        if self.parts:
            return
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        digits = load_digits()
        images, labels = digits.images.astype(np.float32), digits.target
        rest, test = train_test_split(np.arange(len(labels)), test_size=self.test_fraction,
                                      stratify=labels, random_state=self.seed)
        val_share = self.val_fraction / (1 - self.test_fraction)
        train, val = train_test_split(rest, test_size=val_share, stratify=labels[rest],
                                      random_state=self.seed)
        mean, std = images[train].mean(), images[train].std()
        for part, rows in (("train", train), ("val", val), ("test", test)):
            x = torch.from_numpy((images[rows] - mean) / std).unsqueeze(1)
            self.parts[part] = TensorDataset(x, torch.from_numpy(labels[rows]).long())


class TorchvisionDataModule(_ImageParts):
    """FashionMNIST, CIFAR-10 (downloaded into ``root`` where the network allows) or an
    ImageFolder at ``root`` (resized to ``image_size``); a seeded share of train becomes val."""

    def __init__(self, name: str, root: str | Path, batch_size: int = 128, val_fraction: float = 0.1,
                 image_size: int = 224, seed: int = 0, num_workers: int = 2, download: bool = True):
        super().__init__(batch_size, seed, num_workers)
        if name not in TORCHVISION_SETS:
            raise DataError(f"unknown image dataset '{name}'; known: digits, {', '.join(TORCHVISION_SETS)}")
        self.name, self.root = name, Path(root)
        self.in_channels = TORCHVISION_SETS[name][0]
        self.val_fraction, self.image_size, self.download = val_fraction, image_size, download

    def setup(self, stage: str | None = None) -> None:
        if self.parts:
            return
        try:
            from torchvision import datasets, transforms
        except ImportError:
            raise DataError(f"the {self.name} images need torchvision: pip install torchvision") from None
        _, mean, std = TORCHVISION_SETS[self.name]
        steps = [transforms.ToTensor(), transforms.Normalize(mean, std)]
        if self.name == "imagefolder":
            steps = [transforms.Resize((self.image_size, self.image_size)), *steps]
            if not self.root.is_dir():
                raise DataError(f"{self.root}: no such image folder")
            full = datasets.ImageFolder(self.root, transforms.Compose(steps))
            train, test = _seeded_halves(full, 0.2, self.seed)
        else:
            kind = {"fashionmnist": datasets.FashionMNIST, "cifar10": datasets.CIFAR10}[self.name]
            try:
                train = kind(self.root, train=True, download=self.download, transform=transforms.Compose(steps))
                test = kind(self.root, train=False, download=self.download, transform=transforms.Compose(steps))
            except (OSError, RuntimeError) as error:
                raise DownloadError(f"{self.name} is not in {self.root} and could not be downloaded "
                                    f"({error}); download it on a connected machine into that folder") from None
        train, val = _seeded_halves(train, self.val_fraction, self.seed)
        self.parts = {"train": train, "val": val, "test": test}

def _seeded_halves(dataset: Dataset, fraction: float, seed: int) -> tuple[Subset, Subset]:
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()
    cut = len(order) - int(len(order) * fraction)
    return Subset(dataset, order[:cut]), Subset(dataset, order[cut:])
