"""Window throughput on Weather (52,696 x 21, L=336, H=96): our Dataset/DataLoader path against a
naive per-window pandas loop and numpy's sliding_window_view gather (the bound for materialized
batches), all on the same shuffled batches of 256 in one process; peak memory of each path is
measured alone in a child process. Writes records to the records' windows.jsonl.

    FORECAST_DATA_DIR=../shared/datasets python -m experiments.bench.windows
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from forecast.data import SeriesDataModule, WindowSpec, load_dataset, ltsf_split
from forecast.data.registry import dataset_path

from experiments import records

LOOKBACK, HORIZON, BATCH, SEED = 336, 96, 256, 0
NAIVE_SAMPLE = 3000


def build():
    data = load_dataset("weather")
    module = SeriesDataModule(data, WindowSpec(LOOKBACK, HORIZON), ltsf_split(data, "weather"),
                              batch_size=BATCH, calendar=None, seed=SEED)
    return data, module


def shuffled_origins(module) -> np.ndarray:
    generator = torch.Generator().manual_seed(SEED)
    order = torch.randperm(len(module.datasets["train"]), generator=generator)
    return module.datasets["train"].origins[order].numpy()


def ours(module) -> int:
    count = 0
    for batch in module.train_dataloader():
        count += len(batch["x"])
    return count


def gather(values: np.ndarray, origins: np.ndarray) -> int:
    past = np.lib.stride_tricks.sliding_window_view(values, LOOKBACK, axis=0)
    ahead = np.lib.stride_tricks.sliding_window_view(values, HORIZON, axis=0)
    count = 0
    for start in range(0, len(origins), BATCH):
        chunk = origins[start:start + BATCH]
        x, y = torch.from_numpy(past[chunk - LOOKBACK]), torch.from_numpy(ahead[chunk])
        count += len(x) + 0 * len(y)
    return count


def naive(frame, origins: np.ndarray) -> int:
    count = 0
    for start in range(0, len(origins), BATCH):
        chunk = origins[start:start + BATCH]
        x = torch.tensor(np.stack([frame.iloc[o - LOOKBACK:o].to_numpy() for o in chunk]))
        y = torch.tensor(np.stack([frame.iloc[o:o + HORIZON].to_numpy() for o in chunk]))
        count += len(x) + 0 * len(y)
    return count


def rate(function, *args, repeats: int = 5) -> tuple[float, float]:
    """Windows per second and seconds of one pass: the median of ``repeats`` passes."""
    times, count = [], 0
    for _ in range(repeats):
        start = time.perf_counter()
        count = function(*args)
        times.append(time.perf_counter() - start)
    seconds = float(np.median(times))
    return count / seconds, seconds


def _rss_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def peak_alone(method: str) -> None:
    """Child process: run one path once; print its peak RSS above the RSS it started from."""
    data, module = build()
    if method == "ours":  # our peak includes building the arrays
        Path("/proc/self/clear_refs").write_text("5")  # Linux: reset the peak (VmHWM) to now
        before = _rss_mib("VmRSS")
        module.setup()
        ours(module)
    else:
        module.setup()
        values = module.datasets["train"].inputs.numpy()
        origins = shuffled_origins(module)
        Path("/proc/self/clear_refs").write_text("5")
        before = _rss_mib("VmRSS")
        if method == "gather":
            gather(values, origins)
        else:
            naive(data.frames["weather"], origins[:NAIVE_SAMPLE])
    print(_rss_mib("VmHWM") - before)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peak", choices=["ours", "gather", "naive"], help=argparse.SUPPRESS)
    records.add_records_option(parser)
    args = parser.parse_args(argv)
    if args.peak:
        return peak_alone(args.peak)

    wall = time.perf_counter()
    data, module = build()
    start = time.perf_counter()
    module.setup()
    setup_seconds = time.perf_counter() - start
    train = module.datasets["train"]
    values = train.inputs.numpy()
    origins = shuffled_origins(module)
    scaled = data.frames["weather"].copy()
    scaled.iloc[:] = values  # the naive loop reads the same scaled values, through pandas

    ours(module)  # warm-up: first-touch page faults and thread start-up stay out of the figures
    results = {"ours: SeriesDataModule + DataLoader": rate(ours, module),
               "gather bound: numpy sliding_window_view": rate(gather, values, origins)}
    naive_rate, naive_seconds = rate(naive, scaled, origins[:NAIVE_SAMPLE], repeats=1)
    results["naive: pandas .iloc per window"] = (naive_rate, naive_seconds * len(origins) / NAIVE_SAMPLE)

    peaks = {}
    for method in ("ours", "gather", "naive"):
        done = subprocess.run([sys.executable, "-m", __spec__.name, "--peak", method], capture_output=True,
                              text=True, check=True, cwd=records.REPOSITORY)
        peaks[method] = float(done.stdout.strip().splitlines()[-1])
    facts = {**records.provenance("cpu", weather=dataset_path("weather")), "training_windows": len(train),
             "setup_s": setup_seconds, "data_mib": values.nbytes / 2**20,
             "batch_mib": BATCH * (LOOKBACK + HORIZON) * values.shape[1] * 4 / 2**20,
             "run_wall_s": round(time.perf_counter() - wall)}
    bound = results["gather bound: numpy sliding_window_view"][0]
    written = [records.record("windows", name, {"windows/s": windows, "epoch s": seconds, "vs gather bound": windows / bound,
                                                "peak memory MiB": peaks[method]},
                              dataset="weather", horizon=HORIZON, budget=f"L={LOOKBACK}, batch {BATCH}", seed=SEED, **facts)
               for (name, (windows, seconds)), method in zip(results.items(), ("ours", "gather", "naive"))]
    print(f"records: {records.save('windows', written, args.records)}")

if __name__ == "__main__":
    main()
