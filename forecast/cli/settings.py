"""Settings of `forecast fit`: registry defaults, then a YAML config, then flags; each one checked."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from forecast.errors import DataError
from forecast.models.registry import DEFAULTS, HEADS, LOGGERS, MODELS

MAX_EPOCHS_VARIABLE = "FORECAST_MAX_EPOCHS"  # caps every training run (README tests use it)
READ_OPTIONS = ("time_col", "id_col", "freq", "fill", "duplicates", "sort", "dayfirst",
                "date_format", "date_unit", "decimal", "exchange")

# flag name (dashes for underscores) = YAML key -> default; the run's defaults are the registry's
FIT_DEFAULTS = {
    "target": None, "covariates": None, "future_covariates": None,
    **{key: None for key in READ_OPTIONS}, "sort": False, "dayfirst": False,
    **{key: DEFAULTS[key] for key in ("model", "head", "horizon", "lookback", "quantiles", "season",
                                      "max_epochs", "batch_size", "train_stride", "patience", "val",
                                      "test", "seed")},
    "lr": None, "device": "auto", "threads": None, "logger": "csv",
}
WHOLE = ("horizon", "lookback", "max_epochs", "batch_size", "train_stride", "season", "patience", "seed",
         "threads")
NUMBER = ("lr", "val", "test")
TEXT = ("model", "head", "device", "logger", "time_col", "id_col", "freq", "fill", "duplicates",
        "date_format", "date_unit", "decimal", "exchange")
COLUMNS = ("target", "covariates", "future_covariates")
SWITCHES = ("sort", "dayfirst")
CHOICES = {"model": tuple(MODELS), "head": HEADS, "device": ("auto", "cpu", "cuda"), "logger": LOGGERS,
           "fill": ("ffill", "interpolate"), "duplicates": ("error", "drop", "keep"),
           "date_unit": ("s", "ms", "us", "ns")}


def fit_settings(args: argparse.Namespace) -> dict:
    """Defaults, then the YAML config, then the flags given: every setting of the run, checked."""
    settings = dict(FIT_DEFAULTS)
    source = "--config file"
    if args.config:
        settings.update(_read_config(args.config))
        source = args.config
    given = {key: getattr(args, key) for key in FIT_DEFAULTS if _given(getattr(args, key, None))}
    settings.update(given)
    for key, value in settings.items():
        where = f"--{key.replace('_', '-')}" if key in given else f"{source}: '{key}'"
        settings[key] = _checked(key, value, where)
    _check_together(settings)
    settings["max_epochs"] = capped_epochs(settings["max_epochs"])
    return settings


def capped_epochs(epochs: int) -> int:
    """``epochs``, or fewer when FORECAST_MAX_EPOCHS caps every run."""
    cap = os.environ.get(MAX_EPOCHS_VARIABLE)
    if not cap:
        return epochs
    if not cap.isdigit() or int(cap) < 1:
        raise DataError(f"{MAX_EPOCHS_VARIABLE}={cap} is not a positive whole number")
    return min(epochs, int(cap))


def forecaster(settings: dict, **options):
    """A Forecaster with the model and training settings of a run (``options``: any others)."""
    import forecast

    return forecast.Forecaster(
        model=settings["model"], lookback=settings["lookback"], horizon=settings["horizon"],
        head=settings["head"], quantiles=settings["quantiles"], season=settings["season"],
        max_epochs=settings["max_epochs"], batch_size=settings["batch_size"],
        train_stride=settings["train_stride"], lr=settings["lr"],
        patience=settings["patience"], seed=settings["seed"],
        accelerator={"auto": "auto", "cpu": "cpu", "cuda": "gpu"}[settings["device"]], **options)


def read_options(settings) -> dict:
    """read_series options from fit settings (a dict) or parsed flags (a Namespace); unset ones
    are left out, so that a saved model's own options apply."""
    get = settings.get if isinstance(settings, dict) else lambda key: getattr(settings, key, None)
    return {key: get(key) for key in READ_OPTIONS if _given(get(key))}


def _given(value) -> bool:
    """A flag the user set: not None, and not a switch left off (0 counts: it is checked)."""
    return value is not None and value is not False


def _checked(key: str, value, where: str):
    if value is None:
        return None
    if key in WHOLE:
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if key == "seed" else 1):
            raise DataError(f"{where} must be a {'non-negative' if key == 'seed' else 'positive'} "
                            f"whole number, not {value!r}")
    elif key in NUMBER:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise DataError(f"{where} must be a number, not {value!r}")
        value = float(value)
    elif key in TEXT:
        if not isinstance(value, str):
            raise DataError(f"{where} must be text, not {value!r}")
        if key in CHOICES and value not in CHOICES[key]:
            raise DataError(f"{where} must be one of {', '.join(CHOICES[key])}, not '{value}'")
    elif key in COLUMNS:
        value = _names(value, where)
    elif key in SWITCHES:
        if not isinstance(value, bool):
            raise DataError(f"{where} must be true or false, not {value!r}")
    elif key == "quantiles":
        levels = value.split(",") if isinstance(value, str) else value
        try:
            value = [float(q) for q in levels]
        except (TypeError, ValueError):
            raise DataError(f"{where} must be numbers such as 0.1,0.5,0.9, not {value!r}") from None
        if not all(0 < q < 1 for q in value):
            raise DataError(f"{where} must lie strictly between 0 and 1")
    return value


def _names(value, where: str) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise DataError(f"{where} must name columns (text, or a list of text), not {value!r}")


def _check_together(settings: dict) -> None:
    model = settings["model"]
    if settings["quantiles"] and not MODELS[model].lstm_head:
        raise DataError(f"--quantiles needs a model with an LSTM head, not {model}")
    if model == "seasonal-naive" and not settings["season"]:
        raise DataError("--model seasonal-naive needs --season (e.g. 24 for hourly data)")
    val, test = settings["val"], settings["test"]
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise DataError("--val and --test must be shares of the rows whose sum is below 1")
    if settings["logger"] == "tensorboard":
        import importlib.util

        if importlib.util.find_spec("tensorboard") is None:
            raise DataError("--logger tensorboard needs TensorBoard: pip install 'densenet-forecast[tensorboard]'")
    if settings["device"] == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise DataError("--device cuda: torch sees no CUDA GPU on this machine; use --device cpu")


def _read_config(path: str) -> dict:
    import yaml

    try:
        loaded = yaml.safe_load(Path(path).read_text()) or {}
    except OSError:
        raise DataError(f"{path}: no such config file") from None
    except yaml.YAMLError as error:
        raise DataError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(loaded, dict):
        raise DataError(f"{path}: a config file holds 'setting: value' lines")
    loaded = {str(key).replace("-", "_"): value for key, value in loaded.items()}
    unknown = sorted(set(loaded) - set(FIT_DEFAULTS))
    if unknown:
        raise DataError(f"{path}: unknown setting '{unknown[0]}'; known: {', '.join(FIT_DEFAULTS)}")
    return loaded
