"""A full report on real sensor data: the DenseNet-LSTM on Weather (21 variables, every 10
minutes), beside the naive forecast, drift and the ridge.

    FORECAST_DATA_DIR=../shared/datasets python -m experiments.reports.weather --out weather-report \
        [--epochs 3] [--lookback 144] [--horizon 36]

Writes OUT/report.html (one self-contained file), OUT/report.md and OUT/report_files/. The model
trains on the first 70 % of the rows (the last 20 % of those validate) and is reported on the
held-out windows (the last 30 %, after every row training and validation saw). Not committed: rerun to regenerate.
"""

from __future__ import annotations

import argparse

import forecast


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lookback", type=int, default=144)  # one day
    parser.add_argument("--horizon", type=int, default=36)  # six hours
    args = parser.parse_args()
    model = forecast.Forecaster(model="densenet-lstm", lookback=args.lookback, horizon=args.horizon,
                                head="direct", lr=1e-4, batch_size=128, max_epochs=args.epochs, patience=2)
    model.fit("weather", val=0.2, test=0.3)
    print(forecast.report(model, args.out, source="weather"))


if __name__ == "__main__":
    main()
