"""Two fits side by side: each DenseNet-LSTM fit (ETTh1's first ``--rows`` rows, the defaults,
``--epochs`` epochs) timed alone, then two started together, each in a process of its own with
torch's default threads (the cores it sees). With the cores shared between fits (the default,
forecast/training/cores.py) and, as the reference, each fit blind to the other (its own
registry folder): the situation before the sharing, stopped at ``--cap`` times the time alone.

    FORECAST_DATA_DIR=../shared/datasets python -m experiments.bench.contention \
        [--rows 6000] [--epochs 2] [--cap 6]

Writes records to the records' contention.jsonl.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from forecast.data.registry import dataset_path

from experiments import records


def fit_once(rows: int, epochs: int) -> dict:
    """One fit in this process: its seconds and the threads torch had at the end."""
    import torch

    import forecast

    data = forecast.load_dataset("etth1")
    frame = data.frames[data.ids[0]].iloc[:rows]
    start = time.perf_counter()
    forecast.Forecaster(max_epochs=epochs, seed=0).fit(frame)
    return {"seconds": time.perf_counter() - start, "threads": torch.get_num_threads()}


def started(rows: int, epochs: int, folder: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "experiments.bench.contention", "--worker",
                             "--rows", str(rows), "--epochs", str(epochs)],
                            env={**os.environ, "FORECAST_FITS_DIR": folder}, stdout=subprocess.PIPE, text=True)


def finished(process: subprocess.Popen, deadline: float) -> float | None:
    """The fit's seconds, or None when it was still running at ``deadline`` (then it is stopped)."""
    try:
        out, _ = process.communicate(timeout=max(deadline - time.time(), 1))
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return None
    return json.loads(out.strip().splitlines()[-1])["seconds"]


def side_by_side(rows: int, epochs: int, shared: bool, limit: float) -> list[float | None]:
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        processes = [started(rows, epochs, a), started(rows, epochs, a if shared else b)]
        deadline = time.time() + limit
        return [finished(process, deadline) for process in processes]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--cap", type=float, default=6.0, help="stop the reference pair at this many times the time alone")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    records.add_records_option(parser)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(fit_once(args.rows, args.epochs)))
        return
    wall = time.perf_counter()
    facts = {**records.provenance("cpu", etth1=dataset_path("etth1")),
             "budget": f"ETTh1 first {args.rows} rows, defaults, {args.epochs} epochs, one process per fit"}
    with tempfile.TemporaryDirectory() as folder:
        alone = finished(started(args.rows, args.epochs, folder), time.time() + 3600)
    print(f"alone: {alone:.1f} s", flush=True)
    written = [records.record(study="contention", table="contention", dataset="etth1", row="one fit alone",
                              metrics={"seconds, the slower fit": alone, "times alone": 1.0}, **facts)]
    for shared, row in ((True, "two side by side, cores shared (the default)"),
                        (False, "two side by side, each blind to the other (before)")):
        pair = side_by_side(args.rows, args.epochs, shared, args.cap * alone)
        stopped = [seconds is None for seconds in pair]
        slowest = max(args.cap * alone if seconds is None else seconds for seconds in pair)
        print(f"{row}: {pair}", flush=True)
        written.append(records.record(
            study="contention", table="contention", dataset="etth1", row=row,
            metrics={"seconds, the slower fit": slowest, "times alone": slowest / alone,
                     "stopped at the cap": any(stopped)}, **facts))
    for item in written:
        item["run_wall_s"] = round(time.perf_counter() - wall)
    print(f"records: {records.save('contention', written, args.records)}")


if __name__ == "__main__":
    main()
