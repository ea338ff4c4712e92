"""DenseNet-BC against ResNet-18 on scikit-learn's digits under one training budget.

    python -m experiments.image.run [--epochs 30] [--seed 0]

Writes one record per model to the records' image.jsonl: accuracy, parameters, seconds per epoch.
"""

from __future__ import annotations

import argparse
import time

import lightning as L

from forecast.data.images import DigitsDataModule
from forecast.models.image import densenet_bc
from forecast.models.resnet import resnet18
from forecast.training.classification import ImageClassifier

from experiments import records


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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    records.add_records_option(parser)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    results = {name: train(name, args.epochs, args.seed) for name in MODELS}
    facts = {**records.provenance(), "run_wall_s": round(time.perf_counter() - start),
             "data_about": "sklearn.datasets.load_digits (1,797 8x8 images), stratified 70/10/20 split"}
    budget = (f"{args.epochs} epochs, batch 64, SGD Nesterov lr 0.1 cosine, weight decay 5e-4, "
              "label smoothing 0.1, no augmentation")
    written = [records.record("image", name, {"parameters": r["params"], "val accuracy": r["val_acc"],
                                              "test accuracy": r["test_acc"], "s per epoch": r["epoch_s"]},
                              dataset="digits", budget=budget, seed=args.seed, **facts)
               for name, r in results.items()]
    print(f"records: {records.save('image', written, args.records)}")

if __name__ == "__main__":
    main()
