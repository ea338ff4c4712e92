"""Search DenseNet-LSTM settings on VALIDATION MSE (never test) and write the best to
experiments/configs/densenet-lstm.yaml, which the LTSF table (run.py) reads; every trial is a
record in the records' tune.jsonl (its settings and validation MSE per dataset).

    pip install -e ".[tune]"
    FORECAST_DATA_DIR=../shared/datasets python -m experiments.ltsf.tune \
        [--trials 20] [--datasets etth1,weather] [--train-stride 8,64] [--horizon 96]

Optuna's TPE sampler (seeded) over head (direct, seq2seq or flatten), channel mixing or
channel-independent samples, learning rate, schedule warm-up, dropout, weight decay, hidden size,
patch length and stride, and RevIN on or off; the highway starts at the ridge (in RevIN's
normalization, weighted by window variance, when RevIN is on). A randomly started highway is left
out: in a first search on two CPU cores such trials scored validation MSE 0.75 and 0.92, far behind
the ridge start. ``--train-stride`` trains every trial on every k-th training window (the same for
all trials, so they compare alike; written into the YAML header). Each trial trains on the LTSF
training rows and scores every validation window; the test rows are left out of the data
altogether.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import yaml

import forecast
from forecast.data import load_dataset, ltsf_split
from forecast.data.registry import dataset_path
from forecast.data.splits import Split

from experiments import records
from experiments.ltsf.protocol import CONFIG, PATIENCE, PATIENCE_HELP, budget


def space(trial) -> dict:
    patch = trial.suggest_categorical("patch", [8, 16])
    return {"model": "densenet-lstm",
            "head": trial.suggest_categorical("head", ["direct", "seq2seq", "flatten"]),
            "channel_independent": trial.suggest_categorical("channel_independent", [False, True]),
            "lr": trial.suggest_float("lr", 1e-4, 3e-3, log=True),
            "warmup": trial.suggest_categorical("warmup", [0.0, 0.05]),
            "dropout": trial.suggest_float("dropout", 0.0, 0.3),
            "weight_decay": trial.suggest_float("weight_decay", 1e-5, 1e-2, log=True),
            "hidden_size": trial.suggest_categorical("hidden_size", [64, 128]),
            "patch": patch,
            "patch_stride": patch // trial.suggest_categorical("overlap", [1, 2]),
            "highway": "ridge",
            "revin": trial.suggest_categorical("revin", [True, False])}


def validation_data(name: str) -> tuple:
    """The dataset with its test rows cut off (nothing in the search can see them)."""
    data = load_dataset(name)
    split = {sid: Split(s.train_end, s.val_end, s.val_end) for sid, s in ltsf_split(data, name).items()}
    return data, split


def validation_mse(settings: dict, data, split, args: argparse.Namespace, stride: int) -> float:
    model = forecast.Forecaster(lookback=336, horizon=args.horizon, max_epochs=args.epochs,
                                patience=args.patience, batch_size=args.batch_size, seed=args.seed,
                                train_stride=stride, **settings)
    return model.fit(data, split=split).evaluate(part="val")["mse_scaled"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="etth1",
                        help="comma-separated; with several, the objective is the mean over them of the "
                             "validation MSE divided by the closed-form ridge's, so each dataset weighs alike")
    parser.add_argument("--horizon", type=int, default=96)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--patience", type=int, default=PATIENCE, help=PATIENCE_HELP)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=128,
                        help="every trial's batch, written into the YAML beside the settings searched")
    parser.add_argument("--train-stride", default="1",
                        help="train on every k-th training window; one k, or one per dataset (comma-separated)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds; no trial starts after it (the trials run so far are the search)")
    parser.add_argument("--out", default=str(CONFIG))
    records.add_records_option(parser)
    args = parser.parse_args(argv)
    import optuna  # the tune extra; imported after --help, which needs nothing of it
    wall = time.perf_counter()
    names = args.datasets.split(",")
    strides = [int(k) for k in args.train_stride.split(",")]
    if len(strides) == 1:
        strides *= len(names)
    if len(strides) != len(names):
        parser.error(f"--train-stride: {len(strides)} values for {len(names)} datasets")
    datasets = {name: validation_data(name) for name in names}
    # the bar each dataset's score is divided by: the ridge sees every training window
    ridge = {name: validation_mse({"model": "linear"}, *datasets[name], args, 1) for name in names}

    def objective(trial) -> float:
        settings = space(trial)
        began = time.perf_counter()
        scores = {name: validation_mse(settings, *datasets[name], args, stride)
                  for name, stride in zip(names, strides)}
        trial.set_user_attr("settings", settings)
        trial.set_user_attr("scores", scores)
        shown = ", ".join(f"{name} {score:.4f}" for name, score in scores.items())
        print(f"trial {trial.number}: validation MSE {shown} ({time.perf_counter() - began:.0f} s) {settings}",
              flush=True)
        return float(np.mean([scores[name] / ridge[name] for name in names]))

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=args.seed))
    study.optimize(objective, n_trials=args.trials, timeout=args.timeout)
    best = study.best_trial
    scores = best.user_attrs["scores"]
    facts = {**records.provenance("cpu", **{name: dataset_path(name) for name in names}),
             "run_wall_s": round(time.perf_counter() - wall)}
    written = [records.record("tune", "closed-form ridge (the bar)", {f"val_mse_{name}": ridge[name] for name in names},
                              dataset=args.datasets, horizon=args.horizon, budget="no training", **facts)]
    for trial in study.trials:
        if "scores" not in trial.user_attrs:
            continue
        metrics = {f"val_mse_{name}": trial.user_attrs["scores"][name] for name in names}
        metrics |= {"objective": trial.value, "chosen": trial.number == best.number}
        written.append(records.record(
            "tune", f"trial {trial.number}", metrics, dataset=args.datasets, horizon=args.horizon, seed=args.seed,
            budget="; ".join(f"{name}: {budget('trial', k, args.epochs, args.patience)}" for name, k in zip(names, strides)),
            settings=trial.user_attrs["settings"], **facts))
    lines = [f"# Written by: {facts['command']}",
             f"# best of {len(study.trials)} trials (trial {best.number}) by validation MSE: "
             + ", ".join(f"{name} {scores[name]:.4f} (ridge {ridge[name]:.4f})" for name in names)
             + "; test windows never seen; every trial in the records' tune.jsonl"]
    chosen = {**best.user_attrs["settings"], "batch_size": args.batch_size}
    Path(args.out).write_text("\n".join(lines) + "\n" + yaml.safe_dump(chosen, sort_keys=False))
    print(Path(args.out).read_text())
    search = (args.datasets, args.horizon)  # this search replaces every trial of the last one
    path = records.save("tune", written, args.records, replaces=lambda old: (old["dataset"], old["horizon"]) == search)
    print(f"records: {path}")

if __name__ == "__main__":
    main()
