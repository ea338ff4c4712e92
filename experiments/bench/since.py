"""A fit now against the same fit at a past commit, on this machine in this run: one epoch of the
YAML DenseNet-LSTM (at the batch each commit's YAML trains at: 128 at the issue's start, 256 since
the YAML chose it on validation) over the first ``--windows`` training windows with its validation pass over
every validation window, timed whole (``train_network``, as the train_speed bench timed ours when
issue 31 was filed). Each commit's code runs in a process of its own, from a git worktree for the
past one; the two alternate ``--repeats`` times and the fastest fit of each counts. Now is timed in
the precision a fit chooses by default and in fp32. After each fit, inference over every test
window (``forecast_windows``, in the precision each commit forecasts in) is timed too. Training
alone is the fit less its validation passes (Lightning's evaluation loops, timed in the worker):
since issue 31 a fit also scores its untrained network, a pass the fit at its start did not make.

    FORECAST_DATA_DIR=../shared/datasets python -m experiments.bench.since --commit 54ec61d \
        [--datasets etth1,weather] [--windows 4096] [--repeats 2]

Writes records to the records' train_speed.jsonl (table since), replacing this machine's earlier
ones; the budget names the machine, so that machines stand side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from forecast.data.registry import dataset_path

from experiments import records
from experiments.bench.worktree import checked_out

# runs inside the tree it times, so that the package and the bench are that commit's own
WORKER = """
import inspect, json, sys, time
import forecast, torch
from lightning.pytorch.loops.evaluation_loop import _EvaluationLoop
from experiments.bench.train_speed import setup
from forecast.evaluation.inference import forecast_windows
from forecast.training.fit import train_network
name, windows, precision, evaluated = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
torch.set_num_threads(2)
# the bench at the issue's start validated and tested on every window; later benches can cut them
cut = {"eval_windows": evaluated} if "eval_windows" in inspect.signature(setup).parameters else {}
module, network, _ = setup(name, windows, "cpu", **cut)
chosen = {} if precision == "default" else {"precision": precision}
validating, evaluation_loop = [0.0], _EvaluationLoop.run
def timed_evaluation_loop(*args, **kwargs):  # the validation passes, timed to be taken out of the fit's time
    started = time.perf_counter()
    try:
        return evaluation_loop(*args, **kwargs)
    finally:
        validating[0] += time.perf_counter() - started
_EvaluationLoop.run = timed_evaluation_loop
start = time.perf_counter()
trained = train_network(network, module, lr=1e-4, max_epochs=1, patience=None, accelerator="cpu", **chosen)
seconds = time.perf_counter() - start
test = module.datasets["test"]
try:  # since c5fb602 a network forecasts in the precision this CPU trained it in by default
    from forecast.training.precision import inference_precision
    forecasting = {"precision": inference_precision(chosen.get("precision"), module.channel_independent)}
except ImportError:  # before it, in fp32
    forecasting = {}
start = time.perf_counter()
forecast_windows(network, test, module.target_scaler, **forecasting)
inference = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "validating": validating[0], "windows": len(module.datasets["train"].origins),
                  "batch": module.batch_size,
                  "inference windows/s": len(test.origins) / inference,
                  "inference precision": forecasting.get("precision", "32-true"), "package": forecast.__file__,
                  "bf16": any(note.startswith("bf16-mixed") for note in getattr(trained, "notes", []))}))
"""


def timed_fit(tree: Path, name: str, windows: int, precision: str, evaluated: int) -> dict:
    """One fit in a fresh process whose ``forecast`` and ``experiments`` are ``tree``'s."""
    environment = {**os.environ, "PYTHONPATH": str(tree), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-c", WORKER, name, str(windows), precision, str(evaluated)], cwd=tree,
                          env=environment, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the fit in {tree} failed: {done.stderr.strip().splitlines()[-1:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if not Path(result["package"]).resolve().is_relative_to(tree.resolve()):
        raise RuntimeError(f"the fit in {tree} imported forecast from {result['package']}")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commit", required=True, help="the past commit (the issue's start: 54ec61d)")
    parser.add_argument("--datasets", default="etth1,weather")
    parser.add_argument("--windows", type=int, default=4096, help="training windows in the epoch")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--eval-windows", type=int, default=10 ** 9,
                        help="validation and test windows now (default: every one, as at the issue's start)")
    records.add_records_option(parser)
    args = parser.parse_args(argv)
    wall = time.perf_counter()
    validated = ("every validation window" if args.eval_windows >= 10 ** 9 else
                 f"the first {args.eval_windows} validation windows where the commit's bench cuts them")
    names = args.datasets.split(",")
    facts = {**records.provenance("cpu", **{n: dataset_path(n) for n in names}), "threads": 2}
    written = []
    with checked_out(args.commit) as (past, tree):
        for name in names:
            runs = {("past", "default"): [], ("now", "default"): [], ("now", "32-true"): []}
            for _ in range(args.repeats):
                for when, precision in runs:
                    code = tree if when == "past" else records.REPOSITORY
                    result = timed_fit(code, name, args.windows, precision, args.eval_windows)
                    runs[when, precision].append(result)
                    print(name, when, precision, f"{result['seconds']:.1f} s", flush=True)
            best = {key: min(results, key=lambda r: r["seconds"]) for key, results in runs.items()}
            past_fit = best["past", "default"]
            then, then_inferring = past_fit["seconds"], past_fit["inference windows/s"]
            training = then - past_fit["validating"]  # the fit without its validation passes
            chose = {when: "bf16-mixed" if best[when, "default"]["bf16"] else "fp32" for when in ("past", "now")}
            labels = {("past", "default"): f"at {past} (the issue's start), the precision it chose "
                                           f"({chose['past']})",
                      ("now", "default"): f"now, the precision a fit chooses ({chose['now']}; it forecasts "
                                          f"in {best['now', 'default']['inference precision']})",
                      ("now", "32-true"): "now, fp32 (precision='32-true')"}
            for key, label in labels.items():
                result = best[key]
                written.append(records.record(
                    study="train_speed", table="since", dataset=name, row=label,
                    budget=f"one epoch of {result['windows']} training windows in batches of {result['batch']} "
                           f"and {validated}, "
                           f"fastest of {args.repeats}, {facts['machine']} (2 threads)",
                    metrics={"windows/s": result["windows"] / result["seconds"],
                             "times the issue's start": then / result["seconds"],
                             "fit s": result["seconds"],
                             "validation passes s": result["validating"],
                             "training, times the issue's start": training / (result["seconds"] - result["validating"]),
                             "inference windows/s (every test window)": result["inference windows/s"],
                             "inference, times the issue's start": result["inference windows/s"] / then_inferring},
                    **facts))
    print(f"records: {records.save_machine_rows('train_speed', written, args.records, {'since'}, wall)}")


if __name__ == "__main__":
    main()
