"""DenseNet-BC against ResNet-18 on scikit-learn's digits under one training budget.

    python experiments/image/run.py [--epochs 30] [--seed 0]

Writes experiments/results/image.md: test accuracy, parameters, seconds per epoch, device.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import lightning as L

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from provenance import publish  # noqa: E402

from forecast.data.images import DigitsDataModule  # noqa: E402
from forecast.models.image import densenet_bc  # noqa: E402
from forecast.models.resnet import resnet18  # noqa: E402
from forecast.training.classification import ImageClassifier  # noqa: E402


class EpochTimer(L.Callback):
    """Wall seconds of each training epoch."""

    def __init__(self):
        self.seconds: list[float] = []

    def on_train_epoch_start(self, trainer, module):
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer, module):
        self.seconds.append(time.perf_counter() - self._start)


MODELS = {
    "DenseNet-BC (L=100, k=12)": lambda: densenet_bc(100, 12, num_classes=10, in_channels=1),
    "ResNet-18 (3x3 stem)": lambda: resnet18(num_classes=10, in_channels=1, small_inputs=True),
}


def train(name: str, epochs: int, seed: int) -> dict:
    L.seed_everything(seed, workers=True)
    data = DigitsDataModule(batch_size=64, seed=seed)
    model = MODELS[name]()
    module = ImageClassifier(model, lr=0.1, optimizer="sgd", weight_decay=5e-4, label_smoothing=0.1)
    timer = EpochTimer()
    trainer = L.Trainer(max_epochs=epochs, accelerator="auto", devices=1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[timer], deterministic=True)
    trainer.fit(module, data)
    val = trainer.validate(module, data, verbose=False)[0]
    test = trainer.test(module, data, verbose=False)[0]
    return {"params": sum(p.numel() for p in model.parameters()), "val_acc": val["val_acc"],
            "test_acc": test["test_acc"], "epoch_s": sorted(timer.seconds)[len(timer.seconds) // 2],
            "device": str(trainer.strategy.root_device)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="experiments/results/image.md")
    args = parser.parse_args()
    start = time.perf_counter()
    results = {name: train(name, args.epochs, args.seed) for name in MODELS}
    rows = ["| model | parameters | val accuracy | test accuracy | s per epoch (median) | device |",
            "|---|---|---|---|---|---|"]
    for name, r in results.items():
        rows.append(f"| {name} | {r['params']:,} | {r['val_acc']:.4f} | {r['test_acc']:.4f} | "
                    f"{r['epoch_s']:.2f} | {r['device']} |")
    facts = {"data": "sklearn.datasets.load_digits (1,797 8x8 images), stratified 70/10/20 split",
             "budget": f"{args.epochs} epochs, batch 64, SGD Nesterov lr 0.1 cosine, weight decay "
                       "5e-4, label smoothing 0.1, no augmentation",
             "seed": args.seed, "wall time": f"{time.perf_counter() - start:.0f} s"}
    command = f"python experiments/image/run.py --epochs {args.epochs} --seed {args.seed}"
    publish(args.out, "DenseNet-BC vs ResNet-18 on digits", command, facts, "\n".join(rows))


if __name__ == "__main__":
    main()
