"""Backtest speed: ours beside Darts on the same work, the DenseNet-LSTM's refit cost, and how the
time grows with tickers and origins.

    FORECAST_DATA_DIR=../shared/datasets python -m experiments.bench.backtest \
        [--threads 2] [--parts darts,densenet,tickers] [--tickers 1,10,40]

1. AAPL 2015-2020 log returns, DLinear L=60 H=1, origins from row 504 (754 origins):
   (a) fit once (5 epochs) then forecast every origin; (b) refit every 63 rows with 5 epochs.
   Darts (the optional ``bench`` extra) does the same in the same process: DLinearModel,
   historical_forecasts(retrain=False | 63). Neither side validates (val=0 for ours).
2. The DenseNet-LSTM (registry defaults, direct head, L=60, H=1) on AAPL, refit every 63 rows:
   wall time and the share spent in refits vs forecasting.
3. Ridge and DLinear over 1, 10 and 40 tickers in one call; and 1 ticker with origins every 1, 2, 4 rows.
4. Folds in parallel: the DenseNet-LSTM on five tickers, refit every 63 rows (12 folds), in one
   process (torch's threads on every core), in ``--jobs`` processes (the cores shared out), and on
   a local Dask cluster of as many workers; the speed-up against one process, and whether the
   forecasts are identical.

Writes records to the records' backtest_speed.jsonl (tables darts, densenet and growth).
"""

from __future__ import annotations

import argparse
import logging
import time
import warnings

import numpy as np
import torch

import forecast
from forecast.data.registry import read_data, stock_path
from forecast.data.returns import to_returns
from forecast.workflows.walkforward import walk_forward

from experiments import records
from experiments.stocks.run import REFIT, START, TICKERS


def returns(tickers) -> forecast.data.SeriesData:
    return to_returns(read_data("stocks:" + ",".join(tickers), target=["Adj Close"], covariates=[]), "log")


def ours(model: str, data, refit_every, **settings) -> tuple[float, int]:
    """Wall seconds and origins of one backtest call without validation."""
    clock = time.perf_counter()
    result = walk_forward(forecast.Forecaster(model=model, lookback=60, horizon=1, accelerator="cpu", **settings),
        data, start=START, refit_every=refit_every, val=0.0)
    return time.perf_counter() - clock, len(result.forecasts)


def darts_runs(values: np.ndarray) -> dict:
    """Darts' DLinearModel on the same returns: (a) fit, then forecast every origin; (b) refits."""
    from darts import TimeSeries
    from darts.models import DLinearModel

    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning").setLevel(logging.ERROR)
    series = TimeSeries.from_values(values.astype(np.float32))
    trainer = {"accelerator": "cpu", "enable_progress_bar": False, "logger": False,
               "enable_model_summary": False, "enable_checkpointing": False}

    def model():
        return DLinearModel(input_chunk_length=60, output_chunk_length=1, n_epochs=5, random_state=0,
                            pl_trainer_kwargs=trainer)

    result = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model().fit(series[:START], verbose=False)  # warm-up: first-call costs are not the method's
        fitted = model()
        clock = time.perf_counter()
        fitted.fit(series[:START], verbose=False)
        result["a_fit"] = time.perf_counter() - clock
        clock = time.perf_counter()
        once = fitted.historical_forecasts(series, start=START, forecast_horizon=1, stride=1, retrain=False,
                                           verbose=False, last_points_only=True)
        result["a_forecast"] = time.perf_counter() - clock
        clock = time.perf_counter()
        refits = model().historical_forecasts(series, start=START, forecast_horizon=1, stride=1,
                                              retrain=REFIT, verbose=False, last_points_only=True)
        result["b"] = time.perf_counter() - clock
    result["a_origins"], result["b_origins"] = len(once), len(refits)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--parts", default="darts,densenet,tickers,parallel")
    parser.add_argument("--jobs", type=int, default=2, help="processes and Dask workers of the parallel part")
    parser.add_argument("--tickers", default="1,10,40")
    records.add_records_option(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    parts = args.parts.split(",")
    wall = time.perf_counter()
    aapl = returns(["AAPL"])
    facts = {**records.provenance("cpu", AAPL=stock_path("AAPL")), "threads": args.threads}
    written = []

    def add(table: str, row: str, metrics: dict, **cell) -> None:
        written.append(records.record("backtest_speed", row, metrics, table=table, horizon=1, seed=0, **cell, **facts))

    if "darts" in parts:
        fit_once = forecast.Forecaster(model="dlinear", lookback=60, horizon=1, max_epochs=5, accelerator="cpu")
        fit_once.fit(aapl, val=0.0)  # warm-up, as for Darts
        clock = time.perf_counter()
        a = walk_forward(fit_once, aapl, start=START, refit_every=False, val=0.0)
        a_wall = time.perf_counter() - clock
        clock = time.perf_counter()
        b = walk_forward(fit_once, aapl, start=START, refit_every=REFIT, val=0.0)
        b_wall = time.perf_counter() - clock
        try:
            import darts
            theirs, version = darts_runs(aapl.frames["AAPL"]["Adj Close"].to_numpy()), darts.__version__
        except ImportError:
            theirs, version = None, "not installed (pip install -e '.[bench]')"
        budget = f"DLinear L=60, 5 epochs, batch 32, no validation; Darts {version}"
        rows = [("(a) fit once: the fit", a.folds["fit_seconds"].sum(), theirs and theirs["a_fit"]),
                (f"(a) fit once: forecasting {len(a.forecasts)} origins", a.folds["forecast_seconds"].sum(),
                 theirs and theirs["a_forecast"]),
                ("(a) whole call, fit included", a_wall, theirs and theirs["a_fit"] + theirs["a_forecast"]),
                (f"(b) refit every {REFIT} rows ({len(b.folds)} fits), {len(b.forecasts)} origins", b_wall,
                 theirs and theirs["b"])]
        for label, mine, other in rows:
            add("darts", label, {"ours s": mine, "Darts s": other, "ours / Darts": mine / other if other else None},
                dataset="AAPL", budget=budget)
    if "densenet" in parts:
        model = forecast.Forecaster(model="densenet-lstm", lookback=60, horizon=1, head="direct", accelerator="cpu")
        clock = time.perf_counter()
        result = walk_forward(model, aapl, start=START, refit_every=REFIT)
        seconds = time.perf_counter() - clock
        epochs = [m.training_metrics_.get("epochs", 0) for m in result.models]
        add("densenet", f"DenseNet-LSTM, refit every {REFIT} rows", {
            "fits": len(result.folds), "epochs min": min(epochs), "epochs max": max(epochs),
            "origins": len(result.forecasts), "wall s": seconds, "refits s": result.folds["fit_seconds"].sum(),
            "forecasting s": result.folds["forecast_seconds"].sum()},
            dataset="AAPL", budget="registry defaults, direct head, L=60, early stopping on each fit's last 20 %")
    if "tickers" in parts:
        for count in [int(n) for n in args.tickers.split(",")]:
            data = returns(TICKERS[:count])
            for name, settings in (("linear", {}), ("dlinear", {"max_epochs": 5})):
                once, origins = ours(name, data, False, **settings)
                refit, _ = ours(name, data, REFIT, **settings)
                add("growth", name, {"origins": origins, "fit once s": once, f"refit every {REFIT} s": refit},
                    dataset=f"{count} tickers", budget="step 1")
        for step in (1, 2, 4):
            clock = time.perf_counter()
            result = walk_forward(forecast.Forecaster(model="linear", lookback=60, horizon=1),
                                  aapl, start=START, step=step, refit_every=REFIT, val=0.0)
            add("steps", "linear", {"origins": len(result.forecasts), f"refit every {REFIT} s": time.perf_counter() - clock},
                dataset="1 tickers", budget=f"step {step}")
    if "parallel" in parts:
        data = returns(["AAPL", "MSFT", "JPM", "XOM", "KO"])
        model = forecast.Forecaster(model="densenet-lstm", lookback=60, horizon=2, head="direct", max_epochs=5,
                                    accelerator="cpu")
        runs = {}
        plan = ((f"one process, {args.threads} threads", 1, None, args.threads), ("one process, 1 thread", 1, None, 1),
                (f"{args.jobs} processes", args.jobs, None, args.threads),
                (f"Dask, local cluster of {args.jobs}", args.jobs, "local", args.threads))
        for label, jobs, scheduler, threads in plan:
            torch.set_num_threads(threads)
            clock = time.perf_counter()
            result = walk_forward(model, data, start=START, refit_every=REFIT, jobs=jobs, scheduler=scheduler)
            runs[label] = (time.perf_counter() - clock, result.forecasts)
        torch.set_num_threads(args.threads)
        alone = runs[plan[0][0]][0]
        reference = runs["one process, 1 thread"][1]  # what each worker computes with: one thread
        for label, (seconds, forecasts) in runs.items():
            add("parallel", label, {"folds": 12, "wall s": seconds, "speed-up": alone / seconds,
                                    "forecasts as one thread's": bool(forecasts.equals(reference)),
                                    "largest forecast difference": float((forecasts["forecast"] - reference["forecast"]).abs().max())},
                dataset="5 tickers", budget="DenseNet-LSTM, 5 epochs, refit every 63 rows")
    for item in written:
        item["run_wall_s"] = round(time.perf_counter() - wall)
    print(f"records: {records.save('backtest_speed', written, args.records)}")

if __name__ == "__main__":
    main()
