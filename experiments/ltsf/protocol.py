"""The LTSF protocol, shared by the table (run.py), the ablations (ablate.py), the search
(tune.py) and the speed bench: the rows, how one cell is fitted and scored, and the verdict.

Look-back 336, all channels, z-scored with training statistics, MSE/MAE on the normalized scale
over every stride-1 test window. ``train_stride`` thins only the windows gradient descent sees;
validation and test windows are never thinned, and the closed-form ridge, naive and the highway's
ridge start read every training window, so the bar is never weakened.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
import yaml

import forecast
from forecast.config import defaults
from forecast.data import ltsf_split
from forecast.data.registry import dataset_path, stock_path
from forecast.data.splits import Splits, split_by_fraction
from forecast.evaluation.skill import diebold_mariano
from forecast.models.registry import model_spec
from forecast.training.precision import default_precision

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "densenet-lstm.yaml"
# row name -> Forecaster settings (model names from forecast.models.registry, defaults from forecast.config)
ROWS = {
    "naive": dict(model="naive"),
    "linear (closed-form ridge)": dict(model="linear"),
    "RevIN ridge (the LSTM models' untrained start)": dict(model="densenet-lstm", head="direct", max_epochs=0),
    "DLinear (ours)": dict(model="dlinear"),
    "LSTM": dict(model="lstm", head="direct", lr=1e-4),
    "ResNet1D-LSTM": dict(model="resnet-lstm", head="direct", lr=1e-4),
    "DenseNet2D-LSTM": dict(model="densenet2d-lstm", head="direct", lr=1e-4),
    "DenseNet-LSTM (RevIN and direct head)": dict(model="densenet-lstm", head="direct", lr=1e-4),
    # each channel its own sample (PatchTST's setting); on validation it beats mixed channels given
    # the same training windows (Weather-96, every 32nd: 0.4323 against 0.4490; ETTh1-96: 0.6565
    # against 0.6712)
    "DenseNet-LSTM (channel-independent)": dict(model="densenet-lstm", head="direct", lr=1e-4,
                                                channel_independent=True),
    "DenseNet-LSTM (configs/densenet-lstm.yaml)": "config",
    # what `forecast fit` trains unless told otherwise (seq2seq head, the registry's lr)
    "DenseNet-LSTM (the library's defaults)": dict(model="densenet-lstm"),
    # the mean forecast of three networks of a row (its `ensemble` setting), each from a seed of its
    # own: what of the networks' correction to their start is the noise one seed's network adds and
    # the mean removes
    "DenseNet-LSTM (configs/densenet-lstm.yaml; the mean of 3 networks)":
        dict(members_of="DenseNet-LSTM (configs/densenet-lstm.yaml)", ensemble=3),
    "DenseNet-LSTM (the library's defaults; the mean of 3 networks)":
        dict(members_of="DenseNet-LSTM (the library's defaults)", ensemble=3),
}
RIDGE = "linear (closed-form ridge)"
# the highway's ridge, fitted in RevIN's normalization, before any training step: what the
# LSTM-head rows start from, so the gap to it is what training the network adds
START = "RevIN ridge (the LSTM models' untrained start)"
ONE_RUN = ("naive", RIDGE, START)  # one run says all: no seed changes them (to 1e-5)
UNTRAINED = "no training"
# the encoder rows differ from it in the encoder alone (same head, RevIN, start, lr): the verdict
# against it, seed against seed, is what the encoder adds
PLAIN = "LSTM"
# fair-protocol figures (every test window), DESIGN.md: MSE at 96/192/336/720
PUBLISHED = {
    "etth1": {"PatchTST (TFB/OpenTS)": (0.377, 0.409, 0.431, 0.457),
              "DLinear (TFB/OpenTS)": (0.379, 0.408, 0.440, 0.471),
              "SegRNN, L=720 (SparseTSF repo)": (0.351, 0.390, 0.449, 0.492),
              "DUET (TFB/OpenTS)": (0.352, 0.398, 0.414, 0.429)},
    "weather": {"PatchTST (TFB/OpenTS)": (0.150, 0.191, 0.242, 0.312),
                "DLinear (TFB/OpenTS)": (0.170, 0.216, 0.258, 0.323),
                "SegRNN, L=720 (SparseTSF repo)": (0.141, 0.185, 0.241, 0.318),
                "DUET (TFB/OpenTS)": (0.146, 0.188, 0.234, 0.305)},
}
HORIZON_COLUMN = {96: 0, 192: 1, 336: 2, 720: 3}
# early stopping for every LTSF script (the issue asks for >= 10)
PATIENCE = 10
PATIENCE_HELP = ("epochs without a better validation loss before stopping; 3 stopped DLinear at a high "
                 "learning rate mid-schedule (validation MSE 0.66-0.69 against 0.65 run to the end)")


def members_of(row: str) -> tuple[str, int]:
    """The row whose networks ``row`` averages and how many (``row`` itself and 1 for a plain row)."""
    chosen = ROWS[row]
    if isinstance(chosen, dict) and "members_of" in chosen:
        return chosen["members_of"], chosen["ensemble"]
    return row, 1


def settings_of(row: str, args: argparse.Namespace, horizon: int, seed: int) -> dict:
    """The Forecaster settings of one seed of ``row``."""
    base = {"lookback": 336, "horizon": horizon, "max_epochs": args.epochs, "seed": seed,
            "batch_size": args.batch_size, "patience": args.patience, "accelerator": args.accelerator,
            "validations_per_epoch": args.validations_per_epoch}
    of, ensemble = members_of(row)
    chosen = ROWS[of]
    if chosen == "config":
        chosen = yaml.safe_load(CONFIG.read_text())
    stride = 1 if chosen["model"] in ("naive", "linear") else args.train_stride
    return {**base, **chosen, "train_stride": stride, **({"ensemble": ensemble} if ensemble > 1 else {})}


def run_cell(settings: dict, data, split) -> dict:
    """Fit one model once; its per-window test losses on the normalized scale, and timings. Seed s
    of an ensemble of n networks trains seeds s*n to s*n + n - 1, so that no two seeds of a cell
    share a network; each network's own test and validation MSE is kept beside the mean's."""
    count = settings.get("ensemble", 1)
    start = time.perf_counter()
    seeded = {**settings, "seed": settings["seed"] * count} if count > 1 else settings
    model = forecast.Forecaster(**seeded).fit(data, split=split)
    seconds = time.perf_counter() - start
    test = scaled_errors(model, "test")
    result = {"mse": (test ** 2).mean(axis=(1, 2)), "mae": np.abs(test).mean(axis=(1, 2)),
              "val_mse": float((scaled_errors(model, "val") ** 2).mean()),  # what a choice may be made on
              "seconds": seconds, "precision": precision_of(settings)}
    if count == 1:
        return {**result, **fit_facts(model.training_metrics_)}
    networks = [{**fit_facts(trained), **network_scores(model, network, result["mse"], settings["horizon"])}
                for trained, network in zip(model.training_metrics_["networks"], model.network_.networks)]
    return {**result, "kept_start": all(network["kept_start"] for network in networks), "members": networks}


def network_scores(model: forecast.Forecaster, network, mean_mse: np.ndarray, horizon: int) -> dict:
    """One network of an ensemble alone: its test and validation MSE, and the p-value of the
    one-sided Diebold-Mariano test that the ensemble's mean forecasts test below it (1 where the
    two differ by rounding: every network kept the same start)."""
    own = (scaled_errors(model, "test", network) ** 2).mean(axis=(1, 2))
    same = abs(own.mean() - mean_mse.mean()) < NEGLIGIBLE * own.mean()
    return {"mse": float(own.mean()), "val_mse": float((scaled_errors(model, "val", network) ** 2).mean()),
            "mean_better_p": 1.0 if same else
            float(diebold_mariano(mean_mse, own, min(horizon, len(own) - 1), "less").p_value)}


def fit_facts(trained: dict) -> dict:
    """What a record keeps of how one network trained."""
    return {"epochs": trained.get("epochs", 0),
            "kept_start": trained.get("best_epoch") == 0,  # no epoch beat the start
            "best_epoch": trained.get("best_epoch", 0), "validations": trained.get("validations", 0),
            "best_validation": trained.get("best_validation", 0)}


def scaled_errors(model: forecast.Forecaster, part: str, network=None) -> np.ndarray:
    """The (windows, H, C) errors of the point forecasts of every window of ``part`` (of one of an
    ensemble's networks when given), each channel divided by its scale (the LTSF papers' normalized scale)."""
    module = model.data_
    forecasts, truth = model.predict_windows(module.datasets[part], module.target_scaler, network)
    return (forecasts[..., 0] - truth) / module.target_scaler.scale


def precision_of(settings: dict) -> str | None:
    """The precision a fit of ``settings`` trains in: the library's choice unless they name one
    (bf16 on a CPU with bf16 units for channel-independent networks); None for models that train no steps."""
    full = {**defaults(), **settings}
    if model_spec(full["model"]).kind != "neural":
        return None
    return full["precision"] or default_precision(full["accelerator"], full["channel_independent"])


def metrics_of(result: dict) -> dict:
    """The figures a record keeps of one fit."""
    return {"mse": float(result["mse"].mean()), "mae": float(result["mae"].mean()),
            "val_mse": float(result["val_mse"]), "fit_s": round(result["seconds"], 1),
            **{key: result[key] for key in ("epochs", "kept_start", "best_epoch", "validations", "best_validation",
                                            "members") if key in result},
            **({"precision": result["precision"]} if result.get("precision") else {})}


# a gap under this share of the bar's MSE is rounding, not a model's: an untrained start that
# forecasts in bf16 moves by about 0.003 %, which the DM test, over thousands of windows, can call
# significant in every seed
NEGLIGIBLE = 1e-3


def verdict(runs: list[dict], bars: list[dict], horizon: int) -> str:
    """Better / worse than the bar only when every seed's Diebold-Mariano test (HLN, one-sided, 5 %)
    says so and the gap exceeds the seed spread and NEGLIGIBLE of the bar's MSE; level otherwise.
    ``bars`` is one run (the ridge: no seed changes it) or one per seed of another trained row,
    compared seed against seed."""
    if len(bars) == 1:
        bars = bars * len(runs)
    if len(bars) != len(runs):
        raise ValueError(f"{len(runs)} seeds against {len(bars)} runs of the bar")
    gaps = np.array([run["mse"].mean() - bar["mse"].mean() for run, bar in zip(runs, bars)])
    gap = gaps.mean()
    spread = gaps.std(ddof=1) if len(gaps) > 1 else 0.0
    lag = min(horizon, len(bars[0]["mse"]) - 1)  # overlapping windows: autocovariances to h-1
    same = [np.array_equal(run["mse"], bar["mse"]) for run, bar in zip(runs, bars)]
    if all(same):
        return "level (the same forecasts in every seed: training kept the untrained start)"

    def p_value(seed: int, side: str) -> float:  # a seed that kept the start forecasts as the bar
        return 1.0 if same[seed] else diebold_mariano(runs[seed]["mse"], bars[seed]["mse"], lag, side).p_value
    better = [p_value(seed, "less") for seed in range(len(runs))]
    worse = [p_value(seed, "greater") for seed in range(len(runs))]
    beyond = max(spread, NEGLIGIBLE * float(np.mean([bar["mse"].mean() for bar in bars])))
    if max(better) < 0.05 and -gap > beyond:
        return f"better (DM p <= {max(better):.2g} in every seed; gap {gap:+.4f}, seed std {spread:.4f})"
    if max(worse) < 0.05 and gap > beyond:
        return f"worse (DM p <= {max(worse):.2g} in every seed; gap {gap:+.4f}, seed std {spread:.4f})"
    return f"level (gap {gap:+.4f}, seed std {spread:.4f}, DM p for better {min(better):.2g}-{max(better):.2g})"


def encoder_only(row: str) -> bool:
    """Whether ``row`` is the plain LSTM row with an encoder added and nothing else changed."""
    chosen = ROWS[row]
    return isinstance(chosen, dict) and chosen.get("model") not in (None, "lstm") \
        and {**chosen, "model": "lstm"} == ROWS[PLAIN]


def judged_against(bar: str, trained: list[str]) -> list[str]:
    """The trained rows that a verdict against ``bar`` speaks about."""
    if bar == START:  # the rows that start from it
        chosen = {row: ROWS[members_of(row)[0]] for row in trained}
        return [row for row in trained if chosen[row] != "config" and chosen[row]["model"] != "dlinear"]
    if bar == PLAIN:
        return [row for row in trained if encoder_only(row)]
    return trained


@contextlib.contextmanager
def cell_map(jobs: int) -> Iterator[Callable]:
    """A map over cells: in this process, or in `jobs` processes of one thread each."""
    if jobs == 1:
        yield map
        return
    # spawn, not fork: a forked child inherits the parent's torch thread pool in an unknown state
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=torch.set_num_threads, initargs=(1,)) as pool:
        yield pool.map


def split_of(data, name: str) -> tuple[Splits, str]:
    """The LTSF papers' split of a benchmark set, or their 70/10/20 by rows for other data; and its name."""
    try:
        return ltsf_split(data, name), "LTSF split"
    except ValueError:
        return split_by_fraction(data, 0.7, 0.1, 0.2), "split 70/10/20 by rows"


def data_file(name: str) -> Path:
    """The local file behind a dataset name: a registered set or one ticker's daily prices."""
    if name.lower().startswith("stock:"):
        return stock_path(name.split(":", 1)[1].strip().upper())
    return dataset_path(name)


def budget(row: str, stride: int, epochs: int, patience: int, validations: int = 1,
           batch_size: int | None = None, device: str = "CPU") -> str:
    """A row's training budget, part of its cell's key: naive and the two ridges train nothing;
    ``validations`` an epoch are named when there are more than one (patience counts them), the
    batch when it is not the library's default (the YAML's 256 since a09272a), and the ``device``
    (:func:`experiments.records.device`) when it is not the CPU, so that a GPU's run stands beside
    the CPU's rows instead of replacing them."""
    if row in ONE_RUN:
        return UNTRAINED
    suffix = "th" if 10 <= stride % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(stride % 10, "th")
    windows = "every training window" if stride == 1 else f"every {stride}{suffix} training window"
    checks = f", {validations} validations an epoch" if validations > 1 else ""
    batches = f", batches of {batch_size}" if batch_size not in (None, defaults()["batch_size"]) else ""
    on = f", on {device}" if device != "CPU" else ""
    return f"{windows}, {epochs} epochs, patience {patience}{checks}{batches}{on}"


def verdict_word(text: str) -> str:
    """better, worse or level: a verdict's word; a list of per-seed verdicts says better or worse
    only when every seed does."""
    parts = text.split("; seed ")
    if text.startswith("seed "):
        parts = [part.split(": ", 1)[1] for part in parts]
    words = {part.split(" ", 1)[0] for part in parts}
    return words.pop() if len(words) == 1 and words <= {"better", "worse", "level"} else "level"
