"""Training and inference speed of DenseNet-LSTM (experiments/configs/densenet-lstm.yaml) in
windows per second, against a plain fp32 eager PyTorch loop over the same network and windows in
the same run: the plain loop in bf16 autocast and under ``torch.compile`` (its compile time
counted apart), ours (``train_network``: one epoch and its validation pass) in fp32 and
bf16-mixed, with the epoch's time by part (data, forward, backward, optimizer, validation,
checkpointing, hooks and logging) from Lightning's profiler. Achieved GFLOP/s are set against
the machine's own peak, a large matrix product in fp32 and in bf16 measured in the same run, and
the processor is named (and its bf16 units). Each epoch of ours is set against a plain fp32 epoch
timed just before it, ``--pairs`` times alternated, whole and by the median of its steps (which
leaves out an epoch's fixed costs and its slowest steps); the medians over the pairs are recorded,
with their range. Inference: the plain loop in fp32 and bf16 and ours.
The reference for the channels-last encoder is the plain fp32 loop with the encoder on the 1D
kernels it ran on before. ``--config defaults`` times the library's defaults instead of the YAML
(tables "speed (defaults)" and so on).
Then, beside a peer library: neuralforecast's DLinear (the ``bench`` extra) and our DLinear and
DenseNet-LSTM, each trained for ``--peer-epochs`` passes over the same training windows of the
first dataset (H=96, no early stopping) and scored on every test window, in the same process.

    FORECAST_DATA_DIR=../shared/datasets python -m experiments.bench.train_speed \
        [--datasets etth1,weather] [--threads 2] [--windows 4096] [--eval-windows N] [--device cpu|cuda] \
        [--compile yes|no] [--peer neuralforecast|none] [--peer-epochs 10] [--config yaml|defaults] [--pairs 3]

Writes records to the records' train_speed.jsonl (tables peak, speed, profile, inference, peer),
replacing this machine's earlier rows of those tables; the budget names the processor, so that
machines stand side by side.
"""

from __future__ import annotations

import argparse
import copy
import importlib.metadata
import importlib.util
import logging
import math
import statistics
import time
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
import yaml
from torch import nn

from forecast.config import defaults, resolve
from forecast.data import load_dataset, ltsf_split
from forecast.data.datamodule import SeriesDataModule
from forecast.data.registry import dataset_path
from forecast.data.windows import WindowSpec
from forecast.evaluation.inference import forecast_windows
from forecast.models.build import build_model
from forecast.models.densenet import DenseStack
from forecast.models.encoders import DenseNet1D, PatchStem
from forecast.training.fit import train_network
from forecast.training.precision import cpu_bf16_units

from experiments import records
from experiments.ltsf.protocol import CONFIG, ROWS, run_cell


def setup(name: str, windows: int, device: str, eval_windows: int | None = None, config: str = "yaml"):
    """The DataModule (training windows cut to the first ``windows``, validation and test windows
    to the first ``eval_windows``) and a fresh network, both as the YAML configures them
    (channel-independent: each channel of a window is one sample; batches of 256) or, with
    ``config="defaults"``, as the library's defaults do (seq2seq head, every channel in one
    sample; batches of 128). Without
    ``eval_windows``, the validation windows are cut in proportion to the training windows kept,
    so that an epoch's validation pass weighs what it weighs in a fit on every training window
    (all of Weather's validation windows beside 4,096 training windows would be 9 times that),
    and the test windows are all kept."""
    chosen = yaml.safe_load(CONFIG.read_text()) if config == "yaml" else {}
    settings = resolve({**defaults(), "target": None, "lookback": 336, "horizon": 96, **chosen})
    data = load_dataset(name)
    module = SeriesDataModule(data, WindowSpec(336, 96), ltsf_split(data, name), batch_size=settings["batch_size"],
                              eval_batch_size=256, channel_independent=settings["channel_independent"])
    module.setup("fit")
    train, val = module.datasets["train"], module.datasets["val"]
    in_proportion = max(round(len(val.origins) * min(windows, len(train.origins)) / len(train.origins)), 1)
    train.origins = train.origins[:windows]
    val.origins = val.origins[:eval_windows or in_proportion]
    module.datasets["test"].origins = module.datasets["test"].origins[:eval_windows]
    per_sample = 1 if module.channel_independent else len(module.input_columns)
    network = build_model("densenet-lstm", settings, per_sample,
                          1 if module.channel_independent else len(module.target), train.future.shape[1])
    return module, network, settings


class Conv1dEncoder(nn.Module):
    """The reference for channels-last: a DenseNet1D of the same shapes and FLOPs on the 1D kernels
    (Conv1d, BatchNorm1d and AvgPool1d over (B, C, L)) the library ran it on before."""

    def __init__(self, encoder: DenseNet1D):
        super().__init__()
        stem = encoder.stem.conv
        patch, stride = stem.kernel_size[1], stem.stride[1]
        blocks = [len(block) for name, block in encoder.stack.named_children() if name.startswith("denseblock")]
        first = encoder.stack.denseblock1.denselayer1
        self.stem = PatchStem(nn.Conv1d(stem.in_channels, stem.out_channels, patch, stride), patch, stride,
                               encoder.downsample)
        self.stack = DenseStack(stem.out_channels, tuple(blocks), first.conv2.out_channels,
                                first.conv1.out_channels // first.conv2.out_channels,
                                drop_rate=first.drop_rate, dim=1, pool=2)
        self.norm = nn.BatchNorm1d(self.stack.out_channels)
        if sum(p.numel() for p in self.parameters()) != sum(p.numel() for p in encoder.parameters()):
            raise ValueError("the 1D reference does not match the encoder it stands for")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.norm(self.stack(self.stem(x.transpose(1, 2))))).transpose(1, 2)


def on_1d_kernels(network: nn.Module) -> nn.Module:
    """A copy of ``network`` whose DenseNet1D encoder runs on the 1D kernels (freshly initialized:
    only its speed is measured)."""
    network = copy.deepcopy(network)
    network.encoder = Conv1dEncoder(network.encoder)
    return network


@dataclass
class Epoch:
    """A plain loop's epoch: its seconds, and each step's (forward, backward and optimizer step,
    without fetching the batch; on the CPU, where no kernel runs on after its call returns)."""

    seconds: float
    steps: list[float]


def accelerator_of(device: str) -> str:
    """The Lightning accelerator that trains on ``device`` (cpu or cuda)."""
    return "gpu" if device == "cuda" else "cpu"


def plain_epochs(network, dataset, device: str, batch_size: int, bf16: bool = False, compiled: bool = False,
                 epochs: int = 1) -> list[Epoch]:
    """``epochs`` epochs of a bare loop: AdamW, MSE, no framework; ``bf16`` under bf16 autocast,
    ``compiled`` the network under ``torch.compile`` (the first epoch compiles)."""
    network = network.to(device).train()
    step = torch.compile(network) if compiled else network
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-4)
    timed = []
    for epoch in range(epochs):
        start, steps = time.perf_counter(), []
        for batch in dataset.loader(batch_size, shuffle=True, seed=epoch):
            x, f, y = (batch[k].to(device) for k in ("x", "f", "y"))
            stepping = time.perf_counter()
            with torch.autocast(device, torch.bfloat16, enabled=bf16):
                loss = torch.nn.functional.mse_loss(step(x, f).float(), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps.append(time.perf_counter() - stepping)
        if device == "cuda":
            torch.cuda.synchronize()
        timed.append(Epoch(time.perf_counter() - start, steps))
    return timed


@dataclass
class Pair:
    """One epoch of ours (its validation pass included, the scoring of the untrained network not)
    and the plain fp32 epoch timed just before it; ``by_step``: the plain loop's median step over
    ours."""

    plain: float
    epoch: float
    scoring: float
    profile: dict[str, float]
    by_step: float

    @property
    def alone(self) -> float:
        """The plain epoch over ours without its validation pass (the plain loop validates nothing)."""
        return self.plain / (self.epoch - self.profile["validation"])


def ours_beside_plain(fresh: nn.Module, module: SeriesDataModule, precision: str, device: str) -> Pair:
    """A plain fp32 epoch, then one of ours (``train_network``) in ``precision``: the host's speed
    drifts over minutes, so each of ours is set against a plain epoch just before it."""
    beside = plain_epochs(copy.deepcopy(fresh), module.datasets["train"], device, module.batch_size)[0]
    start = time.perf_counter()
    trained = train_network(copy.deepcopy(fresh), module, lr=1e-4, max_epochs=1, patience=None,
                            accelerator=accelerator_of(device), precision=precision, profile=True)
    scoring = trained.profile.pop("scoring the untrained network")
    epoch = time.perf_counter() - start - scoring
    # a step's median leaves out an epoch's fixed costs and its slowest steps
    by_step = statistics.median(beside.steps) / statistics.median(trained.step_seconds)
    return Pair(beside.seconds, epoch, scoring, trained.profile, by_step)


def matmul_peak(dtype: torch.dtype, device: str) -> float:
    """The machine's own peak in GFLOP/s: the best of five large square matrix products."""
    n = 8192 if device == "cuda" else 2048
    a, b = (torch.randn(n, n, device=device).to(dtype) for _ in range(2))
    best = math.inf
    for _ in range(6):  # the first warms up
        start = time.perf_counter()
        a @ b
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


def cpu_model() -> str:
    return f"{records.machine()}, bf16 units: {', '.join(cpu_bf16_units()) or 'none'}"


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


def plain_inference(network, dataset, device: str, bf16: bool = False) -> float:
    network = network.to(device).eval()
    start = time.perf_counter()
    with torch.no_grad(), torch.autocast(device, torch.bfloat16, enabled=bf16):
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
                           "batch_size": 128, "seed": 0, "accelerator": accelerator_of(device)},
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
                    accelerator=accelerator_of(device))
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
    parser.add_argument("--eval-windows", type=int, default=None,
                        help="validation and test windows (default: validation in proportion to --windows, every test window)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--config", default="yaml", choices=("yaml", "defaults"),
                        help="the network: configs/densenet-lstm.yaml or the library's defaults")
    parser.add_argument("--compile", default="yes", choices=("yes", "no"), help="time the compiled loops")
    parser.add_argument("--peer", default="neuralforecast", choices=("neuralforecast", "none"))
    parser.add_argument("--peer-epochs", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=3,
                        help="plain and ours epochs alternated, for each precision (their medians are recorded)")
    records.add_records_option(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    wall = time.perf_counter()
    names = args.datasets.split(",")
    processor = torch.cuda.get_device_name() if args.device == "cuda" else cpu_model()
    facts = {**records.provenance(args.device, **{n: dataset_path(n) for n in names}), "threads": args.threads,
             "processor": processor}
    budget = f"{processor}, {args.threads} threads"  # part of each cell: machines stand side by side
    peaks = {"fp32": matmul_peak(torch.float32, args.device), "bf16": matmul_peak(torch.bfloat16, args.device)}
    written = [records.record(study="train_speed", table="peak", row=f"{kind} matrix product", budget=budget,
                              metrics={"GFLOP/s": peak}, **facts) for kind, peak in peaks.items()]
    print(f"{processor}: peak {peaks['fp32']:.0f} GFLOP/s fp32, {peaks['bf16']:.0f} bf16", flush=True)
    tables = "" if args.config == "yaml" else " (defaults)"
    for name in names:
        module, fresh, settings = setup(name, args.windows, args.device, args.eval_windows, args.config)
        train, test = module.datasets["train"], module.datasets["test"]
        # a window holds every channel; channel-independent training makes each channel a sample
        windows, samples = len(train.origins), len(train)
        flops = training_flops(copy.deepcopy(fresh), train) * samples / windows
        speed = dict(study="train_speed", table=f"speed{tables}", dataset=name, budget=budget, **facts)

        def row(label: str, seconds: float, reference: float, **extra) -> dict:
            achieved = flops * windows / seconds / 1e9
            return records.record(row=label, metrics={
                "windows/s": windows / seconds, "times the plain fp32 loop": reference / seconds,
                "GFLOP/s": achieved, "share of the fp32 peak": achieved / peaks["fp32"],
                "share of the bf16 peak": achieved / peaks["bf16"], **extra}, **speed)

        plain = plain_epochs(copy.deepcopy(fresh), train, args.device, module.batch_size)[0].seconds
        written.append(row("plain loop, fp32 (the reference)", plain, plain))
        written.append(row("plain loop, fp32, the encoder on 1D kernels (as before channels-last)",
                           plain_epochs(on_1d_kernels(fresh), train, args.device, module.batch_size)[0].seconds, plain))
        written.append(row("plain loop, bf16 autocast", plain_epochs(copy.deepcopy(fresh), train, args.device,
                                                                     module.batch_size, bf16=True)[0].seconds, plain))
        for bf16 in ((False, True) if args.compile == "yes" else ()):
            first, second = plain_epochs(copy.deepcopy(fresh), train, args.device, module.batch_size, bf16,
                                         compiled=True, epochs=2)
            written.append(row(f"plain loop, torch.compile, {'bf16 autocast' if bf16 else 'fp32'} (second epoch)",
                               second.seconds, plain, **{"compile s (first epoch minus second)": first.seconds - second.seconds}))
        for precision in ("32-true", "bf16-mixed"):
            pairs = [ours_beside_plain(fresh, module, precision, args.device) for _ in range(args.pairs)]
            middle = sorted(pairs, key=lambda pair: pair.alone)[len(pairs) // 2]  # its epoch and profile are shown
            alone, by_step = [pair.alone for pair in pairs], [pair.by_step for pair in pairs]
            written.append(row(f"ours, {precision}: one epoch and its validation pass", middle.epoch, middle.plain,
                               **{"training alone, times the plain fp32 loop": statistics.median(alone),
                                  "training alone, lowest of the pairs": min(alone),
                                  "training alone, highest of the pairs": max(alone),
                                  "median training step, times the plain fp32 loop's": statistics.median(by_step),
                                  "median training step, lowest of the pairs": min(by_step),
                                  "median training step, highest of the pairs": max(by_step),
                                  "pairs": len(pairs), "plain fp32 loop just before, windows/s": windows / middle.plain}))
            written.append(records.record(
                study="train_speed", table=f"profile{tables}", dataset=name, budget=budget,
                row=f"ours, {precision}", metrics={**{f"{part} s": seconds for part, seconds in middle.profile.items()},
                                                   "before the epochs: scoring the untrained network s": middle.scoring,
                                                   "validation windows": len(module.datasets["val"].origins)},
                **facts))
            print(written[-2]["row"], {k: round(v, 3) for k, v in written[-2]["metrics"].items()}, flush=True)
            print(written[-1]["row"], {k: round(v, 2) for k, v in written[-1]["metrics"].items()}, flush=True)
        network = copy.deepcopy(fresh)
        inference = dict(study="train_speed", table=f"inference{tables}", dataset=name, budget=budget, **facts)
        plain = plain_inference(network, test, args.device)
        for label, seconds in (("plain loop, fp32 (the reference)", plain),
                               ("plain loop, fp32, the encoder on 1D kernels (as before channels-last)",
                                plain_inference(on_1d_kernels(network), test, args.device)),
                               ("plain loop, bf16 autocast", plain_inference(network, test, args.device, bf16=True)),
                               ("ours (forecast_windows), fp32", _timed(forecast_windows, network, test, module.target_scaler)),
                               ("ours (forecast_windows), bf16 autocast", _timed(
                                   forecast_windows, network, test, module.target_scaler, precision="bf16-mixed"))):
            written.append(records.record(row=f"{label}, {len(test.origins)} test windows", metrics={
                "windows/s": len(test.origins) / seconds, "times the plain fp32 loop": plain / seconds}, **inference))
        print(written[-1]["row"], written[-1]["metrics"], flush=True)
    if args.peer == "neuralforecast" and importlib.util.find_spec("neuralforecast") is None:
        print("neuralforecast is not installed (pip install -e '.[bench]'): no peer records")
    elif args.peer == "neuralforecast":
        peer = dict(study="train_speed", table="peer", dataset=names[0], horizon=96, seed=0,
                    budget=f"L=336, {args.peer_epochs} epochs, no early stopping, {args.device}", **facts)
        written += [records.record(row=label, metrics=metrics, **peer)
                    for label, metrics in beside_neuralforecast(names[0], args.peer_epochs, args.device)]
    rerun = {"peak", *(f"{part}{tables}" for part in ("speed", "profile", "inference"))}
    print(f"records: {records.save_machine_rows('train_speed', written, args.records, rerun, wall)}")


def _timed(function, *args, **options) -> float:
    start = time.perf_counter()
    function(*args, **options)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
