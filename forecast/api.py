"""Forecaster: fit / predict / evaluate / save / load on DataFrames, CSV paths or dataset names.

The facade conducts; data/, models/, training/ and evaluation/ do the work.
"""

from __future__ import annotations

import inspect
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from torch import nn

from forecast.checkpoint import load_checkpoint, save_checkpoint
from forecast.config import check_settings, defaults, model_keywords, resolve
from forecast.data.scaling import Scaler
from forecast.data.registry import read_data
from forecast.data.schema import Schema, training_module
from forecast.data.splits import Split, Splits, split_by_fraction
from forecast.data.windows import WindowDataset
from forecast.errors import DataError
from forecast.evaluation.inference import forecast_frame, forecast_windows
from forecast.evaluation.metrics import scores
from forecast.models.baselines import Naive
from forecast.models.build import build_model
from forecast.models.registry import model_spec
from forecast.training.precision import inference_precision

D = defaults()


class Forecaster:
    """Forecast the next ``horizon`` steps of ``target`` from the last ``lookback`` steps.

    Every keyword is a setting of :mod:`forecast.config` (data, model, training and runtime
    groups), where its default, its check and its help line are defined: the same that
    ``forecast fit --help`` shows. A saved model keeps the data, model and training settings; the
    runtime's belong to one run on one machine.

    Fitted state ends in ``_``: ``network_``, ``schema_``, ``scalers_``, ``data_`` (the fitted
    DataModule), ``notes_``, ``training_metrics_``, ``fit_seconds_``.
    """

    def __init__(self, model: str = D["model"], lookback: int = D["lookback"], horizon: int = D["horizon"],
                 target: str | list[str] | None = D["target"], covariates: list[str] | None = D["covariates"],
                 future_covariates: list[str] | None = D["future_covariates"],
                 calendar: str | list[str] | None = D["calendar"], head: str = D["head"],
                 quantiles: list[float] | None = D["quantiles"], loss: str = D["loss"], scaler: str = D["scaler"],
                 channel_independent: bool = D["channel_independent"], revin: bool = D["revin"],
                 hidden_size: int = D["hidden_size"], dropout: float = D["dropout"], patch: int = D["patch"],
                 patch_stride: int | None = D["patch_stride"], highway: str | None = D["highway"],
                 ensemble: int = D["ensemble"], season: int | None = D["season"], max_epochs: int = D["max_epochs"],
                 batch_size: int = D["batch_size"], train_stride: int = D["train_stride"],
                 lr: float | None = D["lr"], weight_decay: float = D["weight_decay"], schedule: str = D["schedule"],
                 warmup: float = D["warmup"], teacher_forcing: float = D["teacher_forcing"],
                 average: float | None = D["average"], validations_per_epoch: int = D["validations_per_epoch"],
                 patience: int | None = D["patience"], accelerator: str = D["accelerator"],
                 devices: int | str = D["devices"], strategy: str = D["strategy"], precision: str | None = D["precision"],
                 deterministic: bool | None = D["deterministic"], seed: int = D["seed"],
                 log_dir: str | None = D["log_dir"], logger: str = D["logger"], progress: bool = D["progress"],
                 verbose: bool = D["verbose"]):
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
        Scalers, the ridge start and the network see the training rows only; validation chooses
        the checkpoint and the early stop. ``read_options`` (``time_col=``, ``decimal=``, ...) are
        kept, so that new data is read alike. ``resume_from`` a ``last.ckpt`` under an earlier
        fit's ``log_dir`` continues that fit; for an ensemble, that fit's ``log_dir`` itself."""
        from forecast.training.seeding import seed_everything

        started = time.perf_counter()
        settings = self._settings()
        check_settings({"val": val, "test": test})
        if resume_from is not None and settings["ensemble"] > 1 and not Path(resume_from).is_dir():
            raise DataError(f"resume_from {resume_from}: an ensemble continues from the log_dir of its "
                            "stopped fit (the folder that holds network-1, network-2, ...)")
        seed_everything(settings["seed"])
        series = self.read(data, **read_options)
        module = training_module(series, split or split_by_fraction(series, 1 - val - test, val, test),
                                 settings)
        module.setup("fit")
        schema = Schema.of(module)
        network, self.training_metrics_, self.notes_ = self._train(settings, schema, module, resume_from)
        self.network_, self.schema_, self.data_ = network.eval(), schema, module
        self.scalers_ = (module.input_scaler, module.future_scaler)
        if len(module.datasets["val"]) and settings["model"] != "naive":  # on a random walk nothing may
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
        forecasts, _ = self.predict_windows(module.datasets["predict"], module.target_scaler)
        return forecast_frame(forecasts, series, self.schema_.target, settings["quantiles"])

    def evaluate(self, data=None, part: str = "test", in_sample: bool = False,
                 **read_options) -> dict:
        """Errors of every stride-1 window: mse, mae, rmse, smape (original scale), ``*_scaled``
        (per-channel scaled, as the LTSF papers report), the naive forecast's on the same windows,
        pinball and coverage with quantiles. Without ``data``: the ``part`` of the fit split. With
        ``data``: the held-out windows, whose first forecast step comes after every row that
        training or validation saw (all of them with ``in_sample=True``, and the result says
        ``in_sample``)."""
        settings, series = self._settings(), self._series(data, read_options)
        if data is None:
            module, label = self.data_, part
        else:
            split = {sid: Split(0, 0, n) for sid, n in series.lengths().items()} if in_sample \
                else self.schema_.after_fit(series)
            module, part = self.schema_.module(series, split, settings, self.scalers_), "test"
            label = "in-sample" if in_sample else "held out"
            module.setup("test")
        dataset = module.datasets[part]
        if len(dataset) == 0 and data is None and part == "test" and \
                all(split.test_end == split.val_end for split in module.split.values()):
            raise DataError("no test part was held out: fit with test= (e.g. test=0.15) to score held-out "
                            "windows, or evaluate(part='val') for the windows that chose the model")
        if len(dataset) == 0:
            hint = "" if data is None or in_sample else \
                " after the rows that training and validation saw; in_sample=True scores every window"
            raise DataError(f"{series.name}: no complete window (lookback {settings['lookback']} + "
                            f"horizon {settings['horizon']}) in the {label} part{hint}")
        scaler, levels = module.target_scaler, settings["quantiles"]
        forecasts, truth = self.predict_windows(dataset, scaler)
        naive = forecast_windows(Naive(len(scaler.center), settings["horizon"]), dataset, scaler)[0][..., 0]
        ids = [sid for sid, _ in module.origins(part)]
        return {"windows": len(truth), "part": label, "in_sample": bool(in_sample and data is not None),
                **scores(forecasts, truth, naive, scaler.scale, levels, ids)}

    def predict_windows(self, dataset: WindowDataset, target_scaler: Scaler,
                        network: nn.Module | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Original-scale forecasts (windows, H, C, Q) of ``dataset``'s windows and their truths
        (:func:`~forecast.evaluation.inference.forecast_windows`), in the precision this machine
        forecasts this model in (:func:`~forecast.training.precision.inference_precision`).
        ``network``: one of an ensemble's ``network_.networks`` instead of their mean."""
        self._check_fitted()
        settings = self._settings()
        trained_by_steps = model_spec(settings["model"]).kind == "neural"
        precision = inference_precision(settings["precision"], settings["channel_independent"]) \
            if trained_by_steps else "32-true"
        return forecast_windows(self.network_ if network is None else network, dataset, target_scaler,
                                precision=precision)

    def read(self, data, **read_options):
        """``data`` (a path, DataFrame, SeriesData or dataset name) read as :meth:`fit` reads it:
        the ``target`` columns, and the covariates when given."""
        settings = self._settings()
        covariates = (settings["covariates"] or []) + (settings["future_covariates"] or [])
        return read_data(data, target=settings["target"], covariates=covariates or None, **read_options)

    # ---- persistence ---------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """One file: weights, the data, model and training settings, scalers and schema (with
        the read options); loads with ``weights_only=True``. Runtime settings are not kept."""
        self._check_fitted()
        return save_checkpoint(path, {"params": model_keywords(self.get_params()),
                                      "schema": self.schema_.to_dict(),
                                      "state_dict": self.network_.state_dict(),
                                      "scalers": [s.state() if s.center is not None else None
                                                  for s in self.scalers_]})

    @classmethod
    def load(cls, path: str | os.PathLike) -> Forecaster:
        """A fitted Forecaster from :meth:`save`'s file, with this machine's runtime defaults;
        nothing executable is unpickled."""
        checkpoint = load_checkpoint(path)
        try:
            forecaster = cls(**model_keywords(checkpoint["params"]))
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

    def _train(self, settings: dict, schema: Schema, module, resume_from) -> tuple:
        """The trained network, its training metrics and notes; with ``ensemble`` N > 1, the
        :class:`~forecast.models.ensemble.MeanForecast` of N networks
        (:func:`~forecast.training.ensemble.fit_ensemble`), whose metrics hold each network's."""
        from forecast.models.ensemble import MeanForecast
        from forecast.training.ensemble import fit_ensemble
        from forecast.training.fit import fit_network

        count = settings["ensemble"]
        if count == 1:
            trained = fit_network(self._one_network(settings, schema), module, settings, resume_from)
            return trained.network, trained.metrics, trained.notes
        fits = fit_ensemble(lambda own: self._one_network(own, schema), module, settings, resume_from)
        shared = [note for note in fits[0].notes if all(note in fit.notes for fit in fits)]
        notes = shared + [f"network {k + 1} of {count}: {note}" for k, fit in enumerate(fits)
                          for note in fit.notes if note not in shared]
        return MeanForecast([fit.network for fit in fits]), {"networks": [fit.metrics for fit in fits]}, notes

    def _network(self, settings: dict, schema: Schema):
        """The untrained network of ``settings`` (a MeanForecast of ``ensemble`` networks), to load weights into."""
        from forecast.models.ensemble import MeanForecast

        if settings["ensemble"] == 1:
            return self._one_network(settings, schema)
        return MeanForecast([self._one_network(settings, schema) for _ in range(settings["ensemble"])])

    def _one_network(self, settings: dict, schema: Schema):
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
