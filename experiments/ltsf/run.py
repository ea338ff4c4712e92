"""The LTSF table: ETTh1 and Weather, horizons 96/192/336/720, every model beside the naive and
linear baselines, 3 seeds for every trained model, and a Diebold-Mariano verdict per cell.

    FORECAST_DATA_DIR=../shared/datasets python -m experiments.ltsf.run \
        [--datasets etth1,weather] [--horizons 96,192,336,720] [--seeds 0,1,2] [--epochs 10] \
        [--train-stride 1] [--rows ...] [--jobs 2]

``--datasets`` also takes ``stock:TICKER`` (e.g. ``stock:GSPC_2000-2017``, the S&P 500 index): a
check of the chosen configuration on data the search never saw, split 70/10/20 by rows as the LTSF
papers split their non-ETT sets. The protocol is in protocol.py. ``--jobs N`` fits N cells at a
time, each in a process of one thread. DenseNet-LSTM's YAML row runs
experiments/configs/densenet-lstm.yaml (written by tune.py from validation MSE, never test).

Writes one record per seed of each cell (test MSE and MAE, validation MSE, fit seconds, epochs,
whether the untrained start was kept) and one per verdict to the records' ``ltsf.jsonl``, each
cell as soon as its seeds are done (a stopped run keeps the cells it finished); a cell run again
replaces its old records. ``python -m experiments.render`` renders the summary. On a GPU
(``--accelerator gpu``, or ``auto`` where one is found) the trained rows' budgets name it, so that
they stand beside the CPU's rows instead of replacing them.

``--keep-fits DIR`` keeps each fit's per-window test losses in DIR (not committed), and a later run
takes a fit it finds there instead of fitting it again: a cell longer than a session (Weather's
network on every training window) runs over several, one seed at a time. A kept fit is found only
under the same dataset, settings, data checksum and commit, so a cell's seeds all come from one
version of the code; each seed's record names the machine that fitted it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np

from forecast.data import load_dataset

from experiments import records
from experiments.ltsf.protocol import (ONE_RUN, PATIENCE, PATIENCE_HELP, PLAIN, RIDGE, ROWS, START, budget,
                                       cell_map, data_file, judged_against, metrics_of, run_cell, settings_of,
                                       split_of, verdict)

BARS = (RIDGE, START, "naive", PLAIN)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="etth1,weather",
                        help="etth1, weather, or stock:TICKER for data the search never saw")
    parser.add_argument("--horizons", default="96,192,336,720")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--patience", type=int, default=PATIENCE, help=PATIENCE_HELP)
    parser.add_argument("--validations-per-epoch", type=int, default=1,
                        help="validations an epoch; patience counts them (early stopping inside an epoch)")
    parser.add_argument("--batch-size", type=int, default=128,
                        help="for the rows that set none (the YAML configuration sets its own)")
    parser.add_argument("--train-stride", type=int, default=1,
                        help="neural models train on every Nth training window (never val or test)")
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated names from ROWS (no name holds a comma)")
    parser.add_argument("--accelerator", default="auto")
    parser.add_argument("--jobs", type=int, default=1, help="cells fitted at a time, each in a process of one thread")
    parser.add_argument("--keep-fits", metavar="DIR",
                        help="keep each fit in DIR and take one kept there by an earlier run instead of fitting it again")
    records.add_records_option(parser)
    args = parser.parse_args(argv)
    wall = time.perf_counter()
    horizons = [int(h) for h in args.horizons.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = args.rows.split(",")
    unknown = [row for row in rows if row not in ROWS]
    if unknown:
        parser.error(f"unknown row {unknown[0]!r}; rows: {', '.join(ROWS)}")
    datasets = {name: load_dataset(name) for name in args.datasets.split(",")}
    splits = {name: split_of(data, name) for name, data in datasets.items()}
    keys = [(name, horizon, row, seed) for name in datasets for horizon in horizons for row in rows
            for seed in (seeds[:1] if row in ONE_RUN else seeds)]
    runs: dict[tuple[str, int, str], list[dict]] = {}
    settings = [settings_of(row, args, horizon, seed) for _, horizon, row, seed in keys]
    data, split = [datasets[key[0]] for key in keys], [splits[key[0]][0] for key in keys]
    facts = records.provenance(args.accelerator, **{name: data_file(name) for name in datasets})
    kept = [kept_fit(args.keep_fits, key, setting, facts) if args.keep_fits else None
            for key, setting in zip(keys, settings)]
    seeds_of = Counter(key[:3] for key in keys)
    with cell_map(args.jobs) as fit:
        for (name, horizon, row, seed), result in zip(keys, fit(fit_or_reuse, settings, data, split, kept)):
            runs.setdefault((name, horizon, row), []).append(result)
            print(f"{name} H={horizon} {row} seed {seed}: MSE {result['mse'].mean():.4f} "
                  f"({result['seconds']:.0f} s, {epochs_of(result)} epochs"
                  f"{', the untrained start kept' if result['kept_start'] else ''}"
                  f"{', fitted by an earlier run' if result.get('reused') else ''})", flush=True)
            if len(runs[name, horizon, row]) == seeds_of[name, horizon, row]:
                done = {cell: results for cell, results in runs.items() if len(results) == seeds_of[cell]}
                facts["run_wall_s"] = round(time.perf_counter() - wall)
                path = records.save("ltsf", cell_records(done, args, seeds, rows, datasets, splits, facts), args.records)
    print(f"records: {path}")


def kept_fit(folder: str, key: tuple[str, int, str, int], settings: dict, facts: dict) -> Path:
    """Where one fit is kept: named by its cell and seed, and by a digest of everything it depends on
    (dataset, settings, data checksum, commit), so that no other fit is ever taken for it."""
    name, horizon, row, seed = key
    depends = json.dumps({"dataset": name, "settings": settings, "data": facts["data_sha256"][name],
                          "commit": facts["commit"]}, sort_keys=True, default=str)
    digest = hashlib.sha256(depends.encode()).hexdigest()[:16]
    slug = re.sub(r"[^a-z0-9]+", "-", f"{name}-{horizon}-{row}".lower()).strip("-")
    return Path(folder) / f"{slug}-seed{seed}-{digest}.npz"


def fit_or_reuse(settings: dict, data, split, kept: Path | None) -> dict:
    """``run_cell``, or the fit an earlier run kept at ``kept``; a new fit is kept there whole or not
    at all (written, then renamed)."""
    if kept is not None and kept.is_file():
        with np.load(kept, allow_pickle=False) as saved:
            return {"mse": saved["mse"], "mae": saved["mae"], **json.loads(str(saved["facts"])), "reused": True}
    result = {**run_cell(settings, data, split), "machine": records.machine()}
    if kept is not None:
        facts = {key: value for key, value in result.items() if key not in ("mse", "mae")}
        kept.parent.mkdir(parents=True, exist_ok=True)
        part = kept.with_suffix(".part")
        with part.open("wb") as file:
            np.savez(file, mse=result["mse"], mae=result["mae"], facts=json.dumps(facts))
        part.replace(kept)
    return result


def epochs_of(result: dict) -> str:
    """A fit's epochs, or each member's for a row that averages several networks."""
    members = result.get("members")
    return "+".join(str(member["epochs"]) for member in members) if members else str(result["epochs"])


def cell_records(runs: dict[tuple[str, int, str], list[dict]], args: argparse.Namespace, seeds: list[int],
                 rows: list[str], datasets: dict, splits: dict, facts: dict) -> list[dict]:
    """The records of the finished cells ``runs``: one per seed, and a verdict against each bar
    that has finished too."""
    written = []
    for (name, horizon, row), results in runs.items():
        batch = settings_of(row, args, horizon, seeds[0])["batch_size"]
        cell = dict(dataset=name, horizon=horizon, budget=budget(row, args.train_stride, args.epochs, args.patience,
                                                                   args.validations_per_epoch, batch, facts["device"]))
        common = {**facts, "split": splits[name][1], "rows_of_data": sum(datasets[name].lengths().values())}
        for seed, result in zip(seeds, results):
            fitted = {"machine": result["machine"], **({"fitted_by_an_earlier_run": True} if result.get("reused") else {})}
            written.append(records.record("ltsf", row, metrics_of(result), seed=None if row in ONE_RUN else seed,
                                          **cell, **{**common, **fitted}))
        trained = [r for r in rows if r not in ONE_RUN]
        for bar in BARS:
            if (name, horizon, bar) in runs and row in judged_against(bar, trained):
                text = verdict(results, runs[(name, horizon, bar)], horizon)
                written.append(records.record("ltsf", row, {"verdict": text}, table="verdict", against=bar,
                                              **cell, **common))
    return written


if __name__ == "__main__":
    main()
