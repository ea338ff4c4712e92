"""Training and inference speed of DenseNet-LSTM (experiments/configs/densenet-lstm.yaml) in
windows per second, against a plain fp32 eager PyTorch loop over the same network and windows in
the same process (the ratio shows what our training recipe and batched inference cost or save),
and the FLOPs of a training window with the rate ours achieves. With ``--device cuda`` ours trains
in bf16-mixed with the windows kept on the GPU, a bare loop under ``torch.compile`` and bf16 is
timed beside it, and the achieved TFLOP/s is set against the card's bf16 peak.
Then, beside a peer library: neuralforecast's DLinear (the ``bench`` extra) and our DLinear and
DenseNet-LSTM, each trained for ``--peer-epochs`` passes over the same training windows of the
first dataset (H=96, no early stopping) and scored on every test window, in the same process.

    FORECAST_DATA_DIR=../shared/datasets python -m experiments.bench.train_speed \
        [--datasets etth1,weather] [--threads 2] [--windows 4096] [--device cpu|cuda] \
        [--peer neuralforecast|none] [--peer-epochs 10]

Writes records to the records' train_speed.jsonl (tables speed and peer).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import logging
import math
import time
import warnings

import torch
import yaml

from forecast.config import defaults, resolve
from forecast.data import load_dataset, ltsf_split
from forecast.data.datamodule import SeriesDataModule
from forecast.data.registry import dataset_path
from forecast.data.windows import WindowSpec
from forecast.evaluation.inference import forecast_windows
from forecast.models.build import build_model
from forecast.training.fit import train_network

from experiments import records
from experiments.ltsf.protocol import CONFIG, ROWS, run_cell


def setup(name: str, windows: int, device: str):
    """The DataModule (training windows cut to the first ``windows``) and a fresh network, both as
    the YAML configures them (channel-independent: each channel of a window is one sample)."""
    settings = resolve({**defaults(), "target": None, "lookback": 336, "horizon": 96,
                        **yaml.safe_load(CONFIG.read_text())})
    data = load_dataset(name)
    module = SeriesDataModule(data, WindowSpec(336, 96), ltsf_split(data, name), batch_size=128,
                              eval_batch_size=1024, channel_independent=settings["channel_independent"])
    module.setup("fit")
    train = module.datasets["train"]
    train.origins = train.origins[:windows]
    per_sample = 1 if module.channel_independent else len(module.input_columns)
    network = build_model("densenet-lstm", settings, per_sample,
                          1 if module.channel_independent else len(module.target), train.future.shape[1])
    return module, network, settings


def plain_epoch(network, dataset, device: str, compiled: bool = False) -> float:
    """Seconds for one epoch of a bare loop: AdamW, MSE, fp32, no framework. ``compiled``: the
    network under ``torch.compile`` with bf16 autocast, timing the second epoch (the first compiles)."""
    network = network.to(device).train()
    step = torch.compile(network) if compiled else network
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-4)
    for epoch in range(2 if compiled else 1):
        start = time.perf_counter()
        for batch in dataset.loader(128, shuffle=True, seed=epoch):
            x, f, y = (batch[k].to(device) for k in ("x", "f", "y"))
            with torch.autocast(device, torch.bfloat16, enabled=compiled):
                loss = torch.nn.functional.mse_loss(step(x, f).float(), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        if device == "cuda":
            torch.cuda.synchronize()
    return time.perf_counter() - start


def training_flops(network, dataset) -> float:
    """FLOPs of one training step per window (forward and backward): PyTorch's counter for the
    convolutions and matrix products, plus the LSTM's gate products, which it does not count
    (their backward taken as twice the forward)."""
    from torch.utils.flop_counter import FlopCounterMode

    lstm = 0

    def gates(module: torch.nn.LSTM, inputs, output) -> None:
        nonlocal lstm
        windows, steps = inputs[0].shape[:2]
        width, directions = module.input_size, 2 if module.bidirectional else 1
        for _ in range(module.num_layers):
            lstm += directions * 2 * windows * steps * 4 * module.hidden_size * (width + module.hidden_size)
            width = directions * module.hidden_size

    network = network.cpu().train()
    batch = dataset.__getitems__(list(range(16)))
    hooks = [m.register_forward_hook(gates) for m in network.modules() if isinstance(m, torch.nn.LSTM)]
    with FlopCounterMode(display=False) as counter:
        torch.nn.functional.mse_loss(network(batch["x"], batch["f"]), batch["y"]).backward()
    for hook in hooks:
        hook.remove()
    network.zero_grad()
    return (counter.get_total_flops() + 3 * lstm) / 16


# dense bf16 tensor-core peaks (vendor data sheets), TFLOP/s
BF16_PEAK = {"H100 80GB HBM3": 989, "H100 PCIe": 756, "H100 NVL": 835, "H200": 989, "A100": 312}


def bf16_peak() -> float | None:
    name = torch.cuda.get_device_name()
    return next((peak for key, peak in BF16_PEAK.items() if key in name), None)


def plain_inference(network, dataset, device: str) -> float:
    network = network.to(device).eval()
    start = time.perf_counter()
    with torch.no_grad():
        for batch in dataset.loader(256):
            network(batch["x"].to(device), batch["f"].to(device))
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def beside_neuralforecast(name: str, epochs: int, device: str) -> list[tuple]:
    """Table rows: neuralforecast DLinear and ours, the same epochs over the same training windows
    (channel by channel: one window of one channel is one sample), MSE over every test window on
    the training-z-scored scale. Each library keeps its own defaults otherwise (learning rate,
    optimizer); both train with the MSE loss and batches of 128 windows."""
    data = load_dataset(name)
    split = ltsf_split(data, name)
    module = SeriesDataModule(data, WindowSpec(336, 96), split)
    module.setup("fit")
    channels = len(module.input_columns)
    samples = epochs * len(module.datasets["train"]) * channels
    rows = []
    for label in ("DLinear (ours)", "DenseNet-LSTM (configs/densenet-lstm.yaml)"):  # as the LTSF table's rows
        chosen = yaml.safe_load(CONFIG.read_text()) if ROWS[label] == "config" else ROWS[label]
        start = time.perf_counter()
        result = run_cell({**chosen, "lookback": 336, "horizon": 96, "max_epochs": epochs, "patience": None,
                           "batch_size": 128, "seed": 0, "accelerator": "gpu" if device == "cuda" else "cpu"},
                          data, split)
        rows.append((f"ours: {label}", time.perf_counter() - start, result["mse"].mean(), result["mae"].mean()))
        print(f"{label}: {rows[-1][1]:.0f} s, MSE {rows[-1][2]:.4f}", flush=True)
    seconds, mse, mae = _neuralforecast_dlinear(module, split[data.ids[0]], samples, device)
    rows.append((f"neuralforecast {importlib.metadata.version('neuralforecast')}, DLinear", seconds, mse, mae))
    print(f"neuralforecast DLinear: {seconds:.0f} s, MSE {mse:.4f}", flush=True)
    return [(label, {"training samples/s": samples / seconds, "fit and every test forecast, s": seconds,
                     "test MSE": mse, "test MAE": mae}) for label, seconds, mse, mae in rows]


def _neuralforecast_dlinear(module: SeriesDataModule, split, samples: int, device: str) -> tuple[float, float, float]:
    """Fit and cross-validate neuralforecast's DLinear on the same z-scored rows: seconds, MSE, MAE."""
    import pandas as pd
    from neuralforecast import NeuralForecast
    from neuralforecast.models import DLinear
    from neuralforecast.losses.pytorch import MSE

    frame = module.data.frames[module.data.ids[0]][module.input_columns].iloc[:split.test_end]
    scaled = pd.DataFrame(module.input_scaler.transform(frame.to_numpy()), index=frame.index, columns=frame.columns)
    long = scaled.rename_axis("ds").reset_index().melt("ds", var_name="unique_id", value_name="y")
    steps = math.ceil(samples / 128)  # 128 windows a step, as our batches
    for logger in ("pytorch_lightning", "lightning_fabric", "neuralforecast"):
        logging.getLogger(logger).setLevel(logging.ERROR)
    model = DLinear(h=96, input_size=336, loss=MSE(), max_steps=steps, windows_batch_size=128,
                    val_check_steps=steps, scaler_type="identity", random_seed=0,
                    enable_progress_bar=False, enable_model_summary=False, logger=False,
                    accelerator="gpu" if device == "cuda" else "cpu")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        forecasts = NeuralForecast(models=[model], freq=module.data.freq).cross_validation(
            long, n_windows=None, val_size=split.val_end - split.train_end,
            test_size=split.test_end - split.val_end, step_size=1, refit=False)
    seconds = time.perf_counter() - start
    error = forecasts["DLinear"] - forecasts["y"]
    return seconds, float((error ** 2).mean()), float(error.abs().mean())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="etth1")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--windows", type=int, default=4096, help="training windows per epoch")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--peer", default="neuralforecast", choices=("neuralforecast", "none"))
    parser.add_argument("--peer-epochs", type=int, default=10)
    records.add_records_option(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    wall = time.perf_counter()
    names = args.datasets.split(",")
    facts = {**records.provenance(args.device, **{n: dataset_path(n) for n in names}), "threads": args.threads}
    budget = f"{args.threads} threads, {args.device}"
    written = []
    for name in names:
        module, network, settings = setup(name, args.windows, args.device)
        train, test = module.datasets["train"], module.datasets["test"]
        plain = plain_epoch(network, train, args.device)
        start = time.perf_counter()
        train_network(network, module, lr=1e-4, max_epochs=1, patience=None,
                      accelerator="gpu" if args.device == "cuda" else "cpu")
        ours = time.perf_counter() - start
        # a window holds every channel; channel-independent training makes each channel a sample
        windows, samples = len(train.origins), len(train)
        flops = training_flops(network, train) * samples / windows
        peak = bf16_peak() if args.device == "cuda" else None
        how = "; bf16-mixed, windows on the GPU" if args.device == "cuda" else ""
        speed = dict(study="train_speed", table="speed", dataset=name, budget=budget, **facts)
        written.append(records.record(
            row=f"training, one epoch of {windows} windows ({samples} samples; ours: Lightning, with its validation pass{how})",
            metrics={"ours windows/s": windows / ours, "plain fp32 loop windows/s": windows / plain,
                     "ratio": plain / ours, "MFLOP per window": flops / 1e6, "ours GFLOP/s": flops * windows / ours / 1e9,
                     "share of bf16 peak": flops * windows / ours / 1e12 / peak if peak else None}, **speed))
        if args.device == "cuda":
            compiled = plain_epoch(network, train, args.device, compiled=True)
            written.append(records.record(
                row="training, bare loop under torch.compile and bf16 autocast (second epoch)",
                metrics={"ours windows/s": windows / compiled, "plain fp32 loop windows/s": windows / plain,
                         "ratio": plain / compiled}, **speed))
        plain = plain_inference(network, test, args.device)
        start = time.perf_counter()
        forecast_windows(network, test, module.target_scaler)
        ours = time.perf_counter() - start
        written.append(records.record(
            row=f"inference, {len(test.origins)} test windows",
            metrics={"ours windows/s": len(test.origins) / ours, "plain fp32 loop windows/s": len(test.origins) / plain,
                     "ratio": plain / ours}, **speed))
        print(written[-1]["row"], written[-1]["metrics"], flush=True)
    if args.peer == "neuralforecast" and importlib.util.find_spec("neuralforecast") is None:
        print("neuralforecast is not installed (pip install -e '.[bench]'): no peer records")
    elif args.peer == "neuralforecast":
        peer = dict(study="train_speed", table="peer", dataset=names[0], horizon=96, seed=0,
                    budget=f"L=336, {args.peer_epochs} epochs, no early stopping, {args.device}", **facts)
        written += [records.record(row=label, metrics=metrics, **peer)
                    for label, metrics in beside_neuralforecast(names[0], args.peer_epochs, args.device)]
    for item in written:
        item["run_wall_s"] = round(time.perf_counter() - wall)
    print(f"records: {records.save('train_speed', written, args.records)}")

if __name__ == "__main__":
    main()
