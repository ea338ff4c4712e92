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
replaces its old records. ``python -m experiments.render`` renders the summary.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from forecast.data import load_dataset

from experiments import records
from experiments.ltsf.protocol import (ONE_RUN, PATIENCE, PATIENCE_HELP, PLAIN, RIDGE, ROWS, START, budget,
                                       cell_map, data_file, judged_against, run_cell, settings_of, split_of,
                                       verdict)

BARS = (RIDGE, START, "naive", PLAIN)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="etth1,weather",
                        help="etth1, weather, or stock:TICKER for data the search never saw")
    parser.add_argument("--horizons", default="96,192,336,720")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--patience", type=int, default=PATIENCE, help=PATIENCE_HELP)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--train-stride", type=int, default=1,
                        help="neural models train on every Nth training window (never val or test)")
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated names from ROWS (no name holds a comma)")
    parser.add_argument("--accelerator", default="auto")
    parser.add_argument("--jobs", type=int, default=1, help="cells fitted at a time, each in a process of one thread")
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
    seeds_of = Counter(key[:3] for key in keys)
    with cell_map(args.jobs) as fit:
        for (name, horizon, row, seed), result in zip(keys, fit(run_cell, settings, data, split)):
            runs.setdefault((name, horizon, row), []).append(result)
            print(f"{name} H={horizon} {row} seed {seed}: MSE {result['mse'].mean():.4f} "
                  f"({result['seconds']:.0f} s, {result['epochs']} epochs"
                  f"{', the untrained start kept' if result['kept_start'] else ''})", flush=True)
            if len(runs[name, horizon, row]) == seeds_of[name, horizon, row]:
                done = {cell: results for cell, results in runs.items() if len(results) == seeds_of[cell]}
                facts["run_wall_s"] = round(time.perf_counter() - wall)
                path = records.save("ltsf", cell_records(done, args, seeds, rows, datasets, splits, facts), args.records)
    print(f"records: {path}")


def cell_records(runs: dict[tuple[str, int, str], list[dict]], args: argparse.Namespace, seeds: list[int],
                 rows: list[str], datasets: dict, splits: dict, facts: dict) -> list[dict]:
    """The records of the finished cells ``runs``: one per seed, and a verdict against each bar
    that has finished too."""
    written = []
    for (name, horizon, row), results in runs.items():
        cell = dict(dataset=name, horizon=horizon, budget=budget(row, args.train_stride, args.epochs, args.patience))
        common = {**facts, "split": splits[name][1], "rows_of_data": sum(datasets[name].lengths().values())}
        for seed, result in zip(seeds, results):
            metrics = {"mse": float(result["mse"].mean()), "mae": float(result["mae"].mean()),
                       "val_mse": float(result["val_mse"]), "fit_s": round(result["seconds"], 1),
                       "epochs": result["epochs"], "kept_start": result["kept_start"]}
            written.append(records.record("ltsf", row, metrics, seed=None if row in ONE_RUN else seed,
                                          **cell, **common))
        trained = [r for r in rows if r not in ONE_RUN]
        for bar in BARS:
            if (name, horizon, bar) in runs and row in judged_against(bar, trained):
                text = verdict(results, runs[(name, horizon, bar)], horizon)
                written.append(records.record("ltsf", row, {"verdict": text}, table="verdict", against=bar,
                                              **cell, **common))
    return written


if __name__ == "__main__":
    main()
