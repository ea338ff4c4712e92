"""Forecaster: fit / predict / evaluate / save / load on DataFrames, CSV paths or dataset names.

The facade conducts; data/, models/, training/ and evaluation/ do the work.
"""

from __future__ import annotations

import inspect
import os
import time
from pathlib import Path

import pandas as pd

from forecast.checkpoint import load_checkpoint, save_checkpoint
from forecast.data.scaling import Scaler
from forecast.data.registry import read_data
from forecast.data.schema import Schema, training_module
from forecast.data.splits import Split, Splits, split_by_fraction
from forecast.errors import DataError
from forecast.evaluation.inference import forecast_frame, forecast_windows
from forecast.evaluation.metrics import scores
from forecast.models.baselines import Naive
from forecast.models.build import build_model
from forecast.models.registry import DEFAULTS, model_spec, resolve

D = DEFAULTS


class Forecaster:
    """Forecast the next ``horizon`` steps of ``target`` from the last ``lookback`` steps.

    Data: ``target`` columns (default: every numeric column); ``covariates`` past-only inputs
    (default: the other columns); ``future_covariates`` known ahead, given to :meth:`predict` as
    ``future=``; ``calendar`` features of the timestamps ("auto": by frequency; None: none);
    ``scaler`` "standard" | "robust" | "minmax" | "none", fitted on training rows only;
    ``channel_independent`` makes each target channel its own sample (no covariates then).

    Model: ``model``, a name of :data:`forecast.models.registry.MODELS`; ``head`` "seq2seq" (an
    LSTM decoder over the horizon), "direct" (the LSTM's last state to the whole horizon) or
    "flatten" (every LSTM step, flattened, to the whole horizon); ``hidden_size`` of the LSTM;
    ``dropout``; ``patch`` length of the convolutional stem's patches, one every
    ``patch_stride`` steps (None: ``patch``, no overlap); ``revin`` normalizes each window (RevIN);
    ``highway`` a linear map from look-back to horizon beside the network: "ridge" (started at
    the closed-form ridge fitted in the normalization it reads, so training corrects a linear
    forecast), "learned" (from a random start) or None; ``season`` for seasonal-naive;
    ``quantiles`` levels in (0, 1) trained with the pinball loss; 0.5 is always added, and the
    point forecast is that median.

    Training: ``loss`` "mse" | "mae" | "huber" (pinball with quantiles); ``max_epochs``;
    ``batch_size``; ``train_stride`` steps between training windows (validation and test
    windows always step by one; a stride above one trades data for speed on long series, and
    the closed-form ridge and the highway's ridge start still read every training window);
    ``lr`` (None: the model's default); ``weight_decay`` of AdamW;
    ``schedule`` of the learning rate, "cosine" (after a linear ``warmup`` over that share of the
    steps), "onecycle" or "none";
    ``teacher_forcing`` the starting probability of feeding the seq2seq decoder the truth;
    ``patience`` epochs without validation improvement before stopping (None: never);
    ``accelerator``, ``devices``, ``strategy``, ``precision`` as Lightning's Trainer takes them
    (``devices=2, strategy="ddp"`` shards the windows); ``deterministic`` kernels (None: on the
    CPU), set for the fit only; ``seed``; ``log_dir`` for logs and checkpoints, written by
    ``logger`` "csv" or "tensorboard" (losses, learning rate, validation metrics and a forecast
    figure per epoch; needs the ``tensorboard`` extra); ``progress``
    shows progress bars; ``verbose`` lets Lightning's messages and warnings through.

    Fitted state ends in ``_``: ``network_``, ``schema_``, ``scalers_``, ``data_`` (the fitted
    DataModule), ``notes_``, ``training_metrics_``, ``fit_seconds_``.
    """

    def __init__(self, model: str = D["model"], lookback: int = D["lookback"],
                 horizon: int = D["horizon"], target: str | list[str] | None = None,
                 covariates: list[str] | None = None, future_covariates: list[str] | None = None,
                 calendar: str | list[str] | None = "auto", head: str = D["head"],
                 quantiles: list[float] | None = D["quantiles"], loss: str = D["loss"],
                 scaler: str = D["scaler"], channel_independent: bool = D["channel_independent"],
                 revin: bool = D["revin"], hidden_size: int = D["hidden_size"],
                 dropout: float = D["dropout"], patch: int = D["patch"],
                 patch_stride: int | None = D["patch_stride"],
                 highway: str | None = D["highway"], season: int | None = D["season"],
                 max_epochs: int = D["max_epochs"], batch_size: int = D["batch_size"],
                 train_stride: int = D["train_stride"],
                 lr: float | None = None, weight_decay: float = D["weight_decay"],
                 schedule: str = D["schedule"], warmup: float = D["warmup"],
                 teacher_forcing: float = D["teacher_forcing"], patience: int | None = D["patience"],
                 accelerator: str = "auto", devices: int | str = 1, strategy: str = "auto",
                 precision: str | None = None, deterministic: bool | None = None,
                 seed: int = D["seed"], log_dir: str | None = None, logger: str = "csv",
                 progress: bool = False,
                 verbose: bool = False):
        for name, value in locals().items():
            if name != "self":
                setattr(self, name, value)
        self._settings()  # refuse bad settings now rather than after reading the data

    # ---- scikit-learn's estimator protocol ----------------------------------------------
    def get_params(self, deep: bool = True) -> dict:
        """The constructor's arguments, as given."""
        return {name: getattr(self, name) for name in inspect.signature(type(self)).parameters}

    def set_params(self, **params) -> Forecaster:
        """Change constructor arguments (checked as the constructor checks them)."""
        unknown = set(params) - set(self.get_params())
        if unknown:
            raise ValueError(f"unknown parameter {sorted(unknown)[0]!r}")
        for name, value in params.items():
            setattr(self, name, value)
        self._settings()
        return self

    # ---- fit, forecast, evaluate ---------------------------------------------------------
    def fit(self, data, split: Splits | None = None, val: float = D["val"], test: float = D["test"],
            resume_from: str | os.PathLike | None = None, **read_options) -> Forecaster:
        """Train on ``data`` (a path, DataFrame or dataset name), split chronologically: the last
        ``val`` share validates, the last ``test`` share is held out (or an explicit ``split``).
        Scalers, the ridge start and the network see the training rows only. ``resume_from`` a
        ``last.ckpt`` under an earlier fit's ``log_dir`` continues that fit."""
        from forecast.training.fit import train_network
        from forecast.training.seeding import seed_everything

        started = time.perf_counter()
        settings = self._settings()
        seed_everything(settings["seed"])
        series = self.read(data, **read_options)
        module = training_module(series, split or split_by_fraction(series, 1 - val - test, val, test),
                                 settings)
        module.setup("fit")
        schema = Schema.of(module, read_options)
        network = self._network(settings, schema)
        train, val_windows = module.datasets["train_every"], module.datasets["val"]
        validation = val_windows.loader(4096) if len(val_windows) else None
        self.notes_, self.training_metrics_ = [], {}
        spec = model_spec(settings["model"])
        if spec.kind == "closed-form":
            network.fit(train.loader(4096), validation or train.loader(4096))
        if spec.lstm_head and settings["highway"] == "ridge":
            network.start_from_ridge(train.loader(4096), validation)
        if spec.kind == "neural":
            options = {key: settings[key] for key in (
                "lr", "weight_decay", "schedule", "warmup", "teacher_forcing", "max_epochs",
                "patience", "accelerator",
                "devices", "strategy", "precision", "deterministic", "log_dir", "logger", "progress",
                "verbose")}
            trained = train_network(network, module, loss="quantile" if settings["quantiles"]
                                    else settings["loss"], resume_from=resume_from and str(resume_from),
                                    **options)
            network, self.training_metrics_, self.notes_ = trained.network, trained.metrics, trained.notes
        self.network_, self.schema_, self.data_ = network.eval(), schema, module
        self.scalers_ = (module.input_scaler, module.future_scaler)
        if len(val_windows) and settings["model"] != "naive":  # on a random walk nothing may
            check = self.evaluate(part="val")
            if check["mse"] >= check["naive_mse"]:
                self.notes_.append(f"{settings['model']} does not beat the naive forecast on "
                                   f"validation (MSE {check['mse']:.5g}, naive {check['naive_mse']:.5g})")
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def predict(self, data=None, future: pd.DataFrame | dict[str, pd.DataFrame] | None = None,
                **read_options) -> pd.DataFrame:
        """Forecasts from the end of ``data`` (default: the fitted data), indexed by the future
        timestamps (by (unique_id, time) for several series). ``future`` holds the known-future
        covariates, matched by timestamp. The target columns hold the median; quantile levels add
        ``<target>_q<level>`` columns."""
        settings, series = self._settings(), self._series(data, read_options)
        for sid, n in series.lengths().items():
            if n < settings["lookback"]:
                raise DataError(f"{series.name}: series '{sid}' has {n} rows; the model looks back "
                                f"{settings['lookback']}")
        whole = {sid: Split(n, n, n) for sid, n in series.lengths().items()}
        module = self.schema_.module(series, whole, settings, self.scalers_, future)
        module.setup("predict")
        forecasts, _ = forecast_windows(self.network_, module.datasets["predict"], module.target_scaler)
        return forecast_frame(forecasts, series, self.schema_.target, settings["quantiles"])

    def evaluate(self, data=None, part: str = "test", in_sample: bool = False,
                 **read_options) -> dict:
        """Errors of every stride-1 window: mse, mae, rmse, smape (original scale), ``*_scaled``
        (per-channel scaled, as the LTSF papers report), the naive forecast's on the same windows,
        pinball and coverage with quantiles. Without ``data``: the ``part`` of the fit split. With
        ``data``: the windows whose first forecast step comes after the training rows (all of
        them with ``in_sample=True``, and the result says ``in_sample``)."""
        settings, series = self._settings(), self._series(data, read_options)
        if data is None:
            module, label = self.data_, part
        else:
            split = {sid: Split(0, 0, n) for sid, n in series.lengths().items()} if in_sample \
                else self.schema_.after_training(series)
            module, part = self.schema_.module(series, split, settings, self.scalers_), "test"
            label = "in-sample" if in_sample else "after training"
            module.setup("test")
        dataset = module.datasets[part]
        if len(dataset) == 0:
            hint = "" if data is None or in_sample else " after the training rows; in_sample=True scores every window"
            raise DataError(f"{series.name}: no complete window (lookback {settings['lookback']} + "
                            f"horizon {settings['horizon']}) in the {label} part{hint}")
        scaler, levels = module.target_scaler, settings["quantiles"]
        forecasts, truth = forecast_windows(self.network_, dataset, scaler)
        naive = forecast_windows(Naive(len(scaler.center), settings["horizon"]), dataset, scaler)[0][..., 0]
        ids = [sid for sid, _ in module.origins(part)]
        return {"windows": len(truth), "part": label, "in_sample": bool(in_sample and data is not None),
                **scores(forecasts, truth, naive, scaler.scale, levels, ids)}

    def backtest(self, data, start: float | int | str | pd.Timestamp = 0.5, step: int = 1,
                 refit_every: int | bool = False, window: str = "expanding", train_length: int | None = None,
                 val: float = D["val"], progress: bool = False, **read_options):
        """Walk-forward forecasts of ``data`` from ``start`` on, every ``step`` rows, each made by a
        copy of this Forecaster fitted only on earlier rows (refitted every ``refit_every`` rows;
        False: once). See :func:`forecast.evaluation.backtest.backtest`."""
        from forecast.evaluation.backtest import backtest

        return backtest(self, data, start=start, step=step, refit_every=refit_every, window=window,
                        train_length=train_length, val=val, progress=progress, **read_options)

    def report(self, out: str | os.PathLike, data=None, source: str | None = None, **read_options) -> Path:
        """Write ``out``/report.html (self-contained) and report.md with its images: errors of the
        windows after the training rows (of ``data``, or of the fitted data) beside the naive
        forecast, drift and the ridge, plots, and per-variable and calendar errors. ``source``
        names the data in the header (default: the data's own name)."""
        from forecast.evaluation.report import fit_report, write_report

        self._check_fitted()
        series = self.schema_.read(data, **read_options) if data is not None else None
        return write_report(fit_report(self, series, source=source), out)

    def read(self, data, **read_options):
        """``data`` (a path, DataFrame, SeriesData or dataset name) read as :meth:`fit` reads it:
        the ``target`` columns, and the covariates when given."""
        settings = self._settings()
        covariates = (settings["covariates"] or []) + (settings["future_covariates"] or [])
        return read_data(data, target=settings["target"], covariates=covariates or None, **read_options)

    # ---- persistence ---------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """One file: weights, settings, scalers and schema (loads with ``weights_only=True``)."""
        self._check_fitted()
        return save_checkpoint(path, {"params": self.get_params(), "schema": self.schema_.to_dict(),
                                      "state_dict": self.network_.state_dict(),
                                      "scalers": [s.state() if s.center is not None else None
                                                  for s in self.scalers_]})

    @classmethod
    def load(cls, path: str | os.PathLike) -> Forecaster:
        """A fitted Forecaster from :meth:`save`'s file; nothing executable is unpickled."""
        checkpoint = load_checkpoint(path)
        try:
            forecaster = cls(**checkpoint["params"])
            settings, schema = forecaster._settings(), Schema.from_dict(checkpoint["schema"])
            network = forecaster._network(settings, schema)
            network.load_state_dict(checkpoint["state_dict"])
            forecaster.scalers_ = tuple(Scaler.from_state(s) if s else Scaler(settings["scaler"])
                                        for s in checkpoint["scalers"])
        except (TypeError, ValueError, KeyError, RuntimeError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise DataError(f"{path}: damaged model file ({first[:200]})") from None
        forecaster.network_, forecaster.schema_, forecaster.data_ = network.eval(), schema, None
        forecaster.notes_, forecaster.training_metrics_ = [], {}
        return forecaster

    # ---- internals -----------------------------------------------------------------------
    def _settings(self) -> dict:
        return resolve(self.get_params())

    def _network(self, settings: dict, schema: Schema):
        outputs = 1 if settings["channel_independent"] else len(schema.target)
        return build_model(settings["model"], settings, schema.in_channels, outputs,
                           schema.future_channels)

    def _series(self, data, read_options: dict):
        self._check_fitted()
        if data is None:
            if self.data_ is None:
                raise DataError("a loaded model keeps no data: pass the series to use")
            return self.data_.data
        return self.schema_.read(data, **read_options)

    def _check_fitted(self) -> None:
        if getattr(self, "network_", None) is None:
            raise RuntimeError("this Forecaster is not fitted; call fit() or forecast.load() first")


def load(path: str | os.PathLike) -> Forecaster:
    """A fitted Forecaster from a file written by :meth:`Forecaster.save`."""
    return Forecaster.load(path)
