"""Training and inference speed of DenseNet-LSTM (experiments/configs/densenet-lstm.yaml) in
windows per second, against a plain fp32 eager PyTorch loop over the same network and windows in
the same process (the ratio shows what our training recipe and batched inference cost or save).

    FORECAST_DATA_DIR=../shared/datasets python experiments/bench/train_speed.py \
        [--datasets etth1,weather] [--threads 2] [--windows 4096] [--device cpu|cuda]

Writes experiments/results/train_speed.md (or --out) with machine, versions, commit and checksums.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from provenance import publish, sha256  # noqa: E402

from forecast.data import load_dataset, ltsf_split  # noqa: E402
from forecast.data.datamodule import SeriesDataModule  # noqa: E402
from forecast.data.registry import dataset_path  # noqa: E402
from forecast.data.windows import WindowSpec  # noqa: E402
from forecast.evaluation.inference import forecast_windows  # noqa: E402
from forecast.models.build import build_model  # noqa: E402
from forecast.models.registry import DEFAULTS, resolve  # noqa: E402
from forecast.training.fit import train_network  # noqa: E402

CONFIG = ROOT / "configs" / "densenet-lstm.yaml"


def setup(name: str, windows: int, device: str):
    """The DataModule (training windows cut to the first ``windows``) and a fresh network."""
    data = load_dataset(name)
    module = SeriesDataModule(data, WindowSpec(336, 96), ltsf_split(data, name), batch_size=128,
                              eval_batch_size=1024)
    module.setup("fit")
    train = module.datasets["train"]
    train.origins = train.origins[:windows]
    settings = resolve({**DEFAULTS, "target": None, "lookback": 336, "horizon": 96,
                        **yaml.safe_load(CONFIG.read_text())})
    network = build_model("densenet-lstm", settings, len(module.input_columns), len(module.target),
                          train.future.shape[1])
    return module, network, settings


def plain_epoch(network, dataset, device: str) -> float:
    """Seconds for one epoch of a bare loop: AdamW, MSE, fp32, no framework."""
    network = network.to(device).train()
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-4)
    start = time.perf_counter()
    for batch in dataset.loader(128, shuffle=True, seed=0):
        x, f, y = (batch[k].to(device) for k in ("x", "f", "y"))
        loss = torch.nn.functional.mse_loss(network(x, f), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def plain_inference(network, dataset, device: str) -> float:
    network = network.to(device).eval()
    start = time.perf_counter()
    with torch.no_grad():
        for batch in dataset.loader(256):
            network(batch["x"].to(device), batch["f"].to(device))
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", default="etth1")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--windows", type=int, default=4096, help="training windows per epoch")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="experiments/results/train_speed.md")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    wall = time.perf_counter()
    rows = ["| dataset | what | ours windows/s | plain fp32 loop windows/s | ratio |", "|---|---|---|---|---|"]
    for name in args.datasets.split(","):
        module, network, settings = setup(name, args.windows, args.device)
        train, test = module.datasets["train"], module.datasets["test"]
        plain = plain_epoch(network, train, args.device)
        start = time.perf_counter()
        train_network(network, module, lr=1e-4, max_epochs=1, patience=None,
                      accelerator="gpu" if args.device == "cuda" else "cpu")
        ours = time.perf_counter() - start
        rows.append(f"| {name} | training, one epoch of {len(train)} windows (ours: Lightning, with "
                    f"its validation pass) | {len(train) / ours:,.0f} | {len(train) / plain:,.0f} | "
                    f"{plain / ours:.2f} |")
        plain = plain_inference(network, test, args.device)
        start = time.perf_counter()
        forecast_windows(network, test, module.target_scaler)
        ours = time.perf_counter() - start
        rows.append(f"| {name} | inference, {len(test)} test windows | {len(test) / ours:,.0f} | "
                    f"{len(test) / plain:,.0f} | {plain / ours:.2f} |")
        print(rows[-2], rows[-1], sep="\n", flush=True)
    checksums = ", ".join(f"{n} {sha256(dataset_path(n))[:16]}" for n in args.datasets.split(","))
    command = (f"python experiments/bench/train_speed.py --datasets {args.datasets} --threads "
               f"{args.threads} --windows {args.windows} --device {args.device}")
    facts = {"threads": args.threads, "data": f"sha256 {checksums}", "wall time": f"{time.perf_counter() - wall:.0f} s"}
    publish(args.out, "DenseNet-LSTM training and inference speed", command, facts,
            "\n".join(rows) + "\n\nRatio > 1: ours is faster than the plain loop.")


if __name__ == "__main__":
    main()
