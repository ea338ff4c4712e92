"""Do validation and test agree on what helps? The closed-form ridge's forecasts, damped toward
the training mean or toward each window's own look-back mean, scored on both parts. A change
that lowers validation MSE and raises test MSE is one no choice made on validation can refuse:
a network that learns it is kept by early stopping and loses on test.

    python -m experiments.ltsf.shift --datasets etth1,weather --horizons 96,192,336,720

Nothing is trained or chosen here; the damping shares are fixed (10 % and 30 %).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import forecast
from forecast.data import load_dataset
from forecast.data.windows import WindowDataset

from experiments import records
from experiments.ltsf.protocol import RIDGE, data_file, split_of

SHARES = (0.1, 0.3)
# what each window's forecast is damped toward, on the normalized scale
TRAINING_MEAN, WINDOW_MEAN = "the training mean", "the window's look-back mean"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="etth1,weather", help="comma-separated dataset names")
    parser.add_argument("--horizons", default="96,192,336,720", help="comma-separated horizons")
    records.add_records_option(parser)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    written = []
    for name in args.datasets.split(","):
        data = load_dataset(name)
        split, split_name = split_of(data, name)
        facts = records.provenance(**{name: data_file(name)})
        for horizon in [int(h) for h in args.horizons.split(",")]:
            for row, metrics in damped_scores(data, split, horizon).items():
                written.append(records.record("shift", row, metrics, dataset=name, horizon=horizon,
                                              split=split_name, **facts))
                print(f"{name} H={horizon} {row}: " + ", ".join(f"{k} {v:+.2f}" if "%" in k else f"{k} {v:.4f}"
                                                                for k, v in metrics.items()), flush=True)
    wall = round(time.perf_counter() - started)
    path = records.save("shift", [{**item, "run_wall_s": wall} for item in written], args.records)
    print(f"records: {path}")


def damped_scores(data, split, horizon: int) -> dict[str, dict[str, float]]:
    """Validation and test MSE (normalized scale) of the ridge and of its damped forecasts, with
    each one's change against the ridge in percent."""
    model = forecast.Forecaster(model="linear", lookback=336, horizon=horizon).fit(data, split=split)
    module = model.data_
    scaler = module.target_scaler
    parts = {}
    for part in ("val", "test"):
        dataset = module.datasets[part]
        forecasts, truth = model.predict_windows(dataset, scaler)
        parts[part] = ((forecasts[..., 0] - scaler.center) / scaler.scale,
                       (truth - scaler.center) / scaler.scale, lookback_means(dataset, len(scaler.center)))
    scores = {}
    for row, damping in [(RIDGE, None)] + [(f"damped {share:.0%} toward {toward}", (share, toward))
                                           for toward in (TRAINING_MEAN, WINDOW_MEAN) for share in SHARES]:
        scores[row] = {}
        for part, (normalized, truth, window_mean) in parts.items():
            if damping is not None:
                share, toward = damping
                center = 0.0 if toward == TRAINING_MEAN else window_mean  # the scaler's training mean is 0
                normalized = center + (1 - share) * (normalized - center)
            scores[row][f"{part} MSE"] = float(((normalized - truth) ** 2).mean())
    for row in scores:
        for part in ("val", "test"):
            change = 100 * (scores[row][f"{part} MSE"] / scores[RIDGE][f"{part} MSE"] - 1)
            scores[row][f"{part} change %"] = round(change, 2)
    return scores


def lookback_means(dataset: WindowDataset, channels: int) -> np.ndarray:
    """Each window's look-back mean per target channel, (windows, 1, channels), normalized."""
    means = np.zeros((len(dataset.origins), 1, channels))
    for batch in dataset.loader(1024):
        means[batch["window"].numpy(), 0] = batch["x"][..., :channels].double().mean(1).numpy()
    return means


if __name__ == "__main__":
    main()
