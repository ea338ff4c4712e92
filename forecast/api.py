"""Forecaster: fit / predict / evaluate / save / load on pandas objects, CSV paths or dataset names."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from forecast import __version__
from forecast.atomic import write_atomically
from forecast.data.datamodule import SeriesDataModule
from forecast.data.reading import read_series
from forecast.data.registry import is_registered, load_dataset
from forecast.data.scaling import Scaler
from forecast.data.series import SeriesData
from forecast.data.splits import Split, Splits, split_by_fraction
from forecast.data.windows import WindowSpec
from forecast.errors import DataError
from forecast.evaluation import metrics
from forecast.models.baselines import Drift, DLinear, Naive, RidgeLinear, SeasonalNaive
from forecast.models.forecasters import build_forecaster

NEURAL = ("densenet-lstm", "densenet2d-lstm", "lstm", "resnet-lstm")
MODELS = (*NEURAL, "dlinear", "linear", "naive", "seasonal-naive", "drift")
CHECKPOINT_FORMAT = "densenet-forecast/1"


class Forecaster:
    """Forecast the next ``horizon`` steps of ``target`` from the last ``lookback`` steps.

    ``model`` is one of ``densenet-lstm`` (default), ``densenet2d-lstm``, ``lstm``,
    ``resnet-lstm``, ``dlinear``, ``linear`` (closed-form ridge), ``naive``, ``seasonal-naive``
    or ``drift``. ``covariates`` are past-only inputs; ``future_covariates`` are known ahead and
    must be given for the forecast horizon at prediction time. With ``quantiles`` the model is
    trained with the pinball loss and forecasts carry one column per level.
    """

    def __init__(self, model: str = "densenet-lstm", lookback: int = 336, horizon: int = 96,
                 target: str | list[str] | None = None, covariates: list[str] | None = None,
                 future_covariates: list[str] | None = None, calendar: str | list[str] | None = "auto",
                 head: str = "seq2seq", quantiles: list[float] | None = None, loss: str = "mse",
                 scaler: str = "standard", channel_independent: bool = False, revin: bool = True,
                 hidden_size: int = 128, dropout: float = 0.1, patch: int = 8, highway: bool = True,
                 season: int | None = None, max_epochs: int = 20, batch_size: int = 32,
                 lr: float = 3e-4, weight_decay: float = 1e-4, teacher_forcing: float = 0.0,
                 patience: int | None = 5, accelerator: str = "auto", devices: int | str = 1,
                 strategy: str = "auto", precision: str | None = None, seed: int = 0,
                 log_dir: str | None = None, progress: bool = False):
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
        if model == "seasonal-naive" and not season:
            raise ValueError("seasonal-naive needs season= (e.g. 24 for hourly data)")
        WindowSpec(lookback, horizon)  # validates both
        self.config = {key: value for key, value in locals().items() if key not in ("self", "__class__")}
        self.config["target"] = _as_list(target) or None
        self.config["quantiles"] = sorted(quantiles) if quantiles else None
        self.network: nn.Module | None = None
        self.schema: dict | None = None
        self.scalers: tuple[Scaler, Scaler] | None = None
        self.module: SeriesDataModule | None = None  # the fitted data: series, split, scalers

    @property
    def windows(self) -> dict[str, int]:
        """Number of train/val/test windows of the fit (empty for a loaded model)."""
        if self.module is None:
            return {}
        return {part: len(self.module.datasets[part]) for part in ("train", "val", "test")}

    # ---- training -------------------------------------------------------------------------
    def fit(self, data, split: Splits | None = None, val: float = 0.2, test: float = 0.0,
            **read_options) -> Forecaster:
        """Train on ``data``: chronological ``split`` (default: last ``val`` share validates,
        last ``test`` share is held out), scalers fitted on the training rows only."""
        from forecast.training.forecasting import ForecastingModule
        from forecast.training.seeding import seed_everything

        config = self.config
        seed_everything(config["seed"])
        self.schema = None  # a second fit starts afresh from the settings
        series = self._read(data, training=True, **read_options)
        module = self._datamodule(series, split or split_by_fraction(series, 1 - val - test, val, test))
        module.setup("fit")
        self.module = module
        self.scalers = (module.input_scaler, module.future_scaler)
        self.schema = {"target": module.target, "past_covariates": module.past_covariates,
                       "future_covariates": module.future_covariates, "calendar": module.calendar,
                       "freq": series.freq, "in_channels": 1 if config["channel_independent"]
                       else len(module.input_columns),
                       "future_channels": module.datasets["train"].future.shape[1]}
        self.network = self._build()
        if config["model"] == "linear":  # alpha is chosen on validation windows, if there are any
            choose_on = module.datasets["val"] if len(module.datasets["val"]) else module.datasets["train"]
            self.network.fit(module.datasets["train"].loader(4096), choose_on.loader(4096))
        elif getattr(self.network, "highway", None) is not None and len(module.datasets["val"]):
            self._start_from_ridge(module)
        if config["model"] != "linear" and any(p.requires_grad for p in self.network.parameters()):
            target = module.target_scaler
            lightning_module = ForecastingModule(
                self.network, target.center.tolist(), target.scale.tolist(),
                loss="quantile" if config["quantiles"] else config["loss"], lr=config["lr"],
                weight_decay=config["weight_decay"], teacher_forcing=config["teacher_forcing"])
            self._train(lightning_module, module)
        return self

    def _start_from_ridge(self, module: SeriesDataModule) -> None:
        """Start the highway at the closed-form ridge solution and the head's output at zero:
        training then begins from the linear forecast and learns a correction to it."""
        config = self.config
        ridge = RidgeLinear(config["lookback"], config["horizon"], self.network.out_channels)
        ridge.fit(module.datasets["train"].loader(4096), module.datasets["val"].loader(4096))
        with torch.no_grad():
            self.network.highway.weight.copy_(ridge.weight[:-1].T)
            self.network.highway.bias.copy_(ridge.weight[-1])
            output = self.network.head.output.linear
            output.weight.zero_()
            output.bias.zero_()

    def _train(self, lightning_module, module: SeriesDataModule) -> None:
        from forecast.training.trainer import make_trainer

        config = self.config
        with tempfile.TemporaryDirectory() as scratch:
            log_dir = config["log_dir"] or scratch
            trainer = make_trainer(max_epochs=config["max_epochs"], accelerator=config["accelerator"],
                                   devices=config["devices"], strategy=config["strategy"],
                                   precision=config["precision"], patience=config["patience"],
                                   log_dir=log_dir, progress=config["progress"])
            has_val = len(module.datasets["val"]) > 0
            trainer.fit(lightning_module, module.train_dataloader(),
                        module.val_dataloader() if has_val else None)
            best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
            if has_val and best:
                state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
                lightning_module.load_state_dict(state)
        self.network = lightning_module.model.cpu().eval()

    # ---- forecasting ----------------------------------------------------------------------
    def predict(self, data=None, future: dict[str, pd.DataFrame] | pd.DataFrame | None = None,
                **read_options) -> pd.DataFrame:
        """Forecasts from the end of ``data`` (default: the training data), indexed by the
        future timestamps; with several series, by (unique_id, time). Quantile forecasts add
        ``<target>_q<level>`` columns; the target column holds the median."""
        self._check_fitted()
        if data is None and self.module is None:
            raise DataError("a loaded model keeps no data: pass the series to forecast from")
        series = self.module.data if data is None else self._read(data, **read_options)
        if isinstance(future, pd.DataFrame):
            future = {sid: future for sid in series.ids}
        for sid, n in series.lengths().items():
            if n < self.config["lookback"]:
                raise DataError(f"{series.name}: series '{sid}' has {n} rows; the model looks back "
                                f"{self.config['lookback']}")
        whole = {sid: Split(n, n, n) for sid, n in series.lengths().items()}
        module = self._datamodule(series, whole, future=future)
        module.setup("predict")
        forecasts, _ = self._forecast(module, "predict")
        frames = []
        for i, sid in enumerate(series.ids):
            index = series.future_index(sid, self.config["horizon"]) if series.freq else \
                pd.RangeIndex(series.lengths()[sid], series.lengths()[sid] + self.config["horizon"])
            frames.append(self._frame(forecasts[i], index.rename("time"), sid if len(series.ids) > 1 else None))
        return pd.concat(frames) if len(frames) > 1 else frames[0]

    def evaluate(self, data=None, part: str = "test", **read_options) -> dict[str, float]:
        """Errors of every stride-1 window on the original scale (mse, mae, rmse, smape), on the
        scaled values (``*_scaled``, as the LTSF papers report) and of the naive forecast on the
        same windows. Without ``data``: the ``part`` of the fit split; with ``data``: every window
        of it, the model's scalers unchanged."""
        self._check_fitted()
        if data is None and self.module is None:
            raise DataError("a loaded model keeps no data: pass the series to evaluate on")
        if data is None:
            module, series = self.module, self.module.data
        else:
            series = self._read(data, **read_options)
            whole, part = {sid: Split(0, 0, n) for sid, n in series.lengths().items()}, "test"
            module = self._datamodule(series, whole)
            module.setup("test")
        if len(module.datasets[part]) == 0:
            raise DataError(f"{series.name}: no complete window (lookback {self.config['lookback']} + "
                            f"horizon {self.config['horizon']}) in the {part} part")
        forecasts, truth = self._forecast(module, part)
        point = self._point(forecasts)
        naive, _ = self._forecast(module, part, network=Naive(len(module.target), self.config["horizon"]))
        scaler = module.target_scaler
        result = {"windows": len(truth), "mse": metrics.mse(point, truth), "mae": metrics.mae(point, truth),
                  "rmse": metrics.rmse(point, truth), "smape": metrics.smape(point, truth),
                  "mse_scaled": metrics.mse(scaler.transform(point), scaler.transform(truth)),
                  "mae_scaled": metrics.mae(scaler.transform(point), scaler.transform(truth)),
                  "naive_mse": metrics.mse(naive, truth), "naive_mae": metrics.mae(naive, truth)}
        if self.config["quantiles"]:
            levels = self.config["quantiles"]
            result["pinball"] = metrics.pinball(forecasts, truth, levels)
            result["coverage"] = metrics.coverage(forecasts[..., 0], forecasts[..., -1], truth)
        return result

    # ---- persistence ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """One file: weights, settings, scalers and column schema (loads with weights_only=True)."""
        self._check_fitted()
        checkpoint = {"format": CHECKPOINT_FORMAT, "version": __version__, "config": self.config,
                      "schema": self.schema, "state_dict": self.network.state_dict(),
                      "scalers": [s.state() if s.center is not None else None for s in self.scalers]}
        return write_atomically(path, lambda temporary: torch.save(checkpoint, temporary))

    @classmethod
    def load(cls, path: str | os.PathLike) -> Forecaster:
        """A fitted Forecaster from :meth:`save`'s file; nothing executable is unpickled."""
        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise DataError(f"{path}: no such model file") from None
        except Exception as error:  # a corrupt file raises anything from pickle to zipfile errors
            raise DataError(f"{path}: not a forecast model file ({type(error).__name__})") from None
        if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
            raise DataError(f"{path}: not a forecast model file (format {CHECKPOINT_FORMAT} expected)")
        forecaster = cls(**checkpoint["config"])
        forecaster.schema = checkpoint["schema"]
        states = checkpoint["scalers"]
        forecaster.scalers = tuple(Scaler.from_state(s) if s else Scaler(checkpoint["config"]["scaler"])
                                   for s in states)
        forecaster.network = forecaster._build()
        forecaster.network.load_state_dict(checkpoint["state_dict"])
        forecaster.network.eval()
        return forecaster

    # ---- internals ------------------------------------------------------------------------
    def _read(self, data, training: bool = False, **read_options) -> SeriesData:
        if isinstance(data, SeriesData):
            series = data
        else:
            columns = {}
            if not training:
                schema = self.schema
                columns = {"target": schema["target"],
                           "covariates": schema["past_covariates"] + schema["future_covariates"]}
            elif self.config["target"]:
                columns = {"target": self.config["target"],
                           "covariates": (self.config["covariates"] or []) + (self.config["future_covariates"] or [])}
            options = {**columns, **read_options}
            try:
                if isinstance(data, (str, os.PathLike)) and not Path(data).exists() and is_registered(str(data)):
                    series = load_dataset(str(data), **options)
                else:
                    series = read_series(data, **options)
            except DataError as error:
                if training:
                    raise
                raise DataError(f"{error} (the model was trained on {', '.join(self.schema['target'])}"
                                + "".join(f", {c}" for c in self.schema["past_covariates"]
                                          + self.schema["future_covariates"]) + ")") from None
        if not training:
            missing = [c for c in self.schema["target"] + self.schema["past_covariates"]
                       + self.schema["future_covariates"] if c not in series.columns]
            if missing:
                raise DataError(f"{series.name}: column '{missing[0]}' not found; the model was "
                                f"trained on {', '.join(self.schema['target'])}")
        return series

    def _datamodule(self, series: SeriesData, split: Splits, future=None) -> SeriesDataModule:
        config, schema = self.config, self.schema
        common = {"split": split, "batch_size": config["batch_size"], "eval_batch_size": 256,
                  "channel_independent": config["channel_independent"], "seed": config["seed"],
                  "future": future}
        if schema is None:  # training: the column roles come from the settings
            target = config["target"] or series.target
            future_columns = config["future_covariates"] or []
            past = config["covariates"] if config["covariates"] is not None else \
                [c for c in series.columns if c not in target and c not in future_columns]
            return SeriesDataModule(series, WindowSpec(config["lookback"], config["horizon"]),
                                    target=target, past_covariates=past, future_covariates=future_columns,
                                    calendar=config["calendar"], scaler=config["scaler"], **common)
        return SeriesDataModule(series, WindowSpec(config["lookback"], config["horizon"]),
                                target=schema["target"], past_covariates=schema["past_covariates"],
                                future_covariates=schema["future_covariates"], calendar=schema["calendar"],
                                scalers=self.scalers, **common)

    def _build(self) -> nn.Module:
        config, schema = self.config, self.schema
        name, horizon = config["model"], config["horizon"]
        out_channels = 1 if config["channel_independent"] else len(schema["target"])
        if name in NEURAL:
            return build_forecaster(name, schema["in_channels"], out_channels, horizon,
                                    schema["future_channels"], config["head"], config["hidden_size"],
                                    dropout=config["dropout"], quantiles=config["quantiles"],
                                    revin=config["revin"], patch=config["patch"],
                                    lookback=config["lookback"] if config["highway"] else None)
        baselines = {"naive": lambda: Naive(out_channels, horizon),
                     "seasonal-naive": lambda: SeasonalNaive(out_channels, horizon, config["season"]),
                     "drift": lambda: Drift(out_channels, horizon),
                     "dlinear": lambda: DLinear(config["lookback"], horizon, out_channels),
                     "linear": lambda: RidgeLinear(config["lookback"], horizon, out_channels)}
        return baselines[name]()

    @torch.no_grad()
    def _forecast(self, module: SeriesDataModule, part: str,
                  network: nn.Module | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Original-scale forecasts (windows, H, C[, Q]) and truths (windows, H, C) of a part."""
        network = (network or self.network).eval()
        dataset = module.datasets[part]
        windows, horizon, channels = len(dataset.origins), self.config["horizon"], len(module.target)
        forecasts, truths = None, np.zeros((windows, horizon, channels), dtype=np.float32)
        for batch in dataset.loader(1024):
            out = network(batch["x"], batch["f"]).float().numpy()
            if out.ndim == 3:
                out = out[..., None]
            if forecasts is None:
                forecasts = np.zeros((windows, horizon, channels, out.shape[-1]), dtype=np.float32)
            if "channel" in batch:  # channel-independent samples go back to their window and channel
                forecasts[batch["window"].numpy(), :, batch["channel"].numpy()] = out[:, :, 0]
            else:
                forecasts[batch["window"].numpy()] = out
            if "y" in batch:
                if "channel" in batch:
                    truths[batch["window"].numpy(), :, batch["channel"].numpy()] = batch["y"][:, :, 0].numpy()
                else:
                    truths[batch["window"].numpy()] = batch["y"].numpy()
        scaler = module.target_scaler
        forecasts = np.moveaxis(scaler.inverse_transform(np.moveaxis(forecasts, -1, -2)), -1, -2)
        if not np.isfinite(forecasts).all():
            raise FloatingPointError("the model produced non-finite forecasts")
        forecasts = forecasts if self.config["quantiles"] and network is self.network else forecasts[..., 0]
        return forecasts, (scaler.inverse_transform(truths) if part != "predict" else None)

    def _point(self, forecasts: np.ndarray) -> np.ndarray:
        if not self.config["quantiles"]:
            return forecasts
        levels = self.config["quantiles"]
        return forecasts[..., min(range(len(levels)), key=lambda i: abs(levels[i] - 0.5))]

    def _frame(self, forecast: np.ndarray, index: pd.Index, series_id: str | None) -> pd.DataFrame:
        targets = self.schema["target"]
        columns = {target: self._point(forecast)[:, i] for i, target in enumerate(targets)}
        for i, target in enumerate(targets):
            for q, level in enumerate(self.config["quantiles"] or []):
                columns[f"{target}_q{level:g}"] = forecast[:, i, q]
        frame = pd.DataFrame(columns, index=index)
        if series_id is not None:
            frame.index = pd.MultiIndex.from_product([[series_id], index], names=["unique_id", "time"])
        return frame

    def _check_fitted(self) -> None:
        if self.network is None:
            raise RuntimeError("this Forecaster is not fitted; call fit() or forecast.load() first")


def load(path: str | os.PathLike) -> Forecaster:
    """A fitted Forecaster from a file written by :meth:`Forecaster.save`."""
    return Forecaster.load(path)


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value)
