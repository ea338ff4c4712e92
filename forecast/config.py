"""The run configuration: every setting of a forecasting run, defined once.

Four groups, each a frozen dataclass: how the data is read and what it holds (``data``), the
network (``model``), how it is trained and split (``training``) and where it runs (``runtime``),
plus the walk-forward and trading settings of a backtest (``backtest``). Each field carries its
default, its check and its help line; from them come the Forecaster's defaults, the command's
flags (grouped in ``--help``) and the YAML keys (the field names). :func:`check_settings` is the
one validator: it runs before any data is read, and each message names the setting as the user
wrote it (``--lookback``, ``run.yaml: 'lookback'`` or ``lookback=``).

A model file stores the data, model and training groups; the runtime group (accelerator,
devices, logger, ...) belongs to one run on one machine, never to a model.

Plain data, no torch: the command line reads it for ``--help``.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Callable

from forecast.errors import DataError
from forecast.models.registry import HEADS, HIGHWAYS, LOGGERS, MODELS, SCHEDULES


class SettingError(DataError):
    """A setting with a value it cannot take; the message names it as the user wrote it."""


@dataclass(frozen=True)
class Spec:
    """How one setting is checked and shown: ``kind`` (whole, natural, share, number, positive,
    nonnegative, text, switch, columns, features, levels, devices, start), its ``choices``, whether None is allowed
    (written ``none`` on the command line), and whether the Forecaster takes it as a keyword
    (read options and the split are arguments of ``fit``; threads are the process's)."""

    kind: str
    help: str
    choices: tuple = ()
    optional: bool = False
    keyword: bool = True
    flag: bool = True  # False: set by the command itself (log_dir from --out, progress from the terminal)


def setting(default: Any, kind: str, help: str, **spec) -> Any:
    return field(default=default, metadata={"spec": Spec(kind, help, **spec)})


@dataclass(frozen=True)
class DataSettings:
    target: list[str] | None = setting(None, "columns", "target column(s) (default: every numeric column; y in long layout)", optional=True)
    covariates: list[str] | None = setting(None, "columns", "past covariate column(s) (default: the other columns)", optional=True)
    future_covariates: list[str] | None = setting(None, "columns", "covariates known ahead, given to predict (default: none)", optional=True)
    calendar: str | list[str] | None = setting("auto", "features", "calendar features of the timestamps: auto (by frequency), none, or names such as hour,dayofweek", optional=True)
    scaler: str = setting("standard", "text", "scaling fitted on the training rows", choices=("standard", "robust", "minmax", "none"))
    channel_independent: bool = setting(False, "switch", "each target channel is its own sample (no covariates then)")
    time_col: str | None = setting(None, "text", "time column (default: inferred)", optional=True, keyword=False)
    id_col: str | None = setting(None, "text", "series id column of a long-layout file (default: unique_id when present)", optional=True, keyword=False)
    freq: str | None = setting(None, "text", "pandas frequency alias such as h, D, B (default: inferred)", optional=True, keyword=False)
    fill: str | None = setting(None, "text", "fill missing values and gaps in the time grid (default: missing values are errors, gaps are reported)", choices=("ffill", "interpolate"), optional=True, keyword=False)
    duplicates: str | None = setting(None, "text", "duplicated timestamps (default: error)", choices=("error", "drop", "keep"), optional=True, keyword=False)
    sort: bool = setting(False, "switch", "sort rows that are out of time order", keyword=False)
    dayfirst: bool = setting(False, "switch", "dates are day first, as 31/01/2020 (default: refuse ambiguous dates)", keyword=False)
    date_format: str | None = setting(None, "text", "strftime format of the time column, e.g. %%d.%%m.%%Y", optional=True, keyword=False)
    date_unit: str | None = setting(None, "text", "the time column holds epoch numbers in this unit", choices=("s", "ms", "us", "ns"), optional=True, keyword=False)
    decimal: str | None = setting(None, "text", "decimal mark of the numbers, e.g. ',' (default: '.')", optional=True, keyword=False)
    exchange: str | None = setting(None, "text", "date forecasts on an exchange's trading sessions, e.g. XNYS (default: XNYS for registry stocks)", optional=True, keyword=False)


@dataclass(frozen=True)
class ModelSettings:
    model: str = setting("densenet-lstm", "text", "the model", choices=tuple(MODELS))
    lookback: int = setting(336, "whole", "steps the model reads")
    horizon: int = setting(96, "whole", "steps to forecast")
    head: str = setting("seq2seq", "text", "LSTM decoder over the horizon, last state to the horizon, or every step flattened", choices=HEADS)
    hidden_size: int = setting(128, "whole", "units of the LSTM")
    dropout: float = setting(0.1, "share", "dropout probability")
    patch: int = setting(8, "whole", "length of the convolutional stem's patches")
    patch_stride: int | None = setting(None, "whole", "steps between patches (default: the patch length, no overlap)", optional=True)
    revin: bool = setting(True, "switch", "normalize each window (RevIN)")
    highway: str | None = setting("ridge", "text", "linear map from look-back to horizon beside the network: started at the ridge, started there and trained at a tenth of the learning rate (slow), kept at the ridge (frozen: the network learns a correction to it), learned from a random start, or none", choices=tuple(h for h in HIGHWAYS if h), optional=True)
    ensemble: int = setting(1, "whole", "networks trained from seeds seed, seed+1, ..., whose forecasts are averaged (a seed ensemble: N times the training, less of the variance one network's seed adds)")
    season: int | None = setting(None, "whole", "season length, for seasonal-naive", optional=True)
    quantiles: list[float] | None = setting(None, "levels", "quantile levels such as 0.1,0.9; the median is always added (default: point forecasts)", optional=True)


@dataclass(frozen=True)
class TrainingSettings:
    loss: str = setting("mse", "text", "training loss (pinball with quantiles)", choices=("mse", "mae", "huber"))
    max_epochs: int = setting(20, "natural", "epochs at most (0: the untrained network)")
    batch_size: int = setting(128, "whole", "training windows a batch")
    train_stride: int = setting(1, "whole", "train on every Nth window; validation and test windows are never thinned")
    lr: float | None = setting(None, "positive", "learning rate (default: the model's)", optional=True)
    weight_decay: float = setting(1e-4, "number", "AdamW's weight decay")
    schedule: str = setting("cosine", "text", "learning-rate schedule", choices=SCHEDULES)
    warmup: float = setting(0.0, "share", "share of the steps the learning rate warms up over (cosine)")
    teacher_forcing: float = setting(0.0, "share", "starting probability of feeding the seq2seq decoder the truth")
    average: float | None = setting(None, "positive", "validate, checkpoint and keep an exponential moving average of the weights over about this many epochs (default: the weights themselves)", optional=True)
    validations_per_epoch: int = setting(1, "whole", "validations an epoch, one every 1/N of its steps (rounded down): early stopping and the checkpoint can then stop inside an epoch")
    patience: int | None = setting(5, "whole", "validations without improvement before stopping, one an epoch unless --validations-per-epoch (none: never)", optional=True)
    seed: int = setting(0, "natural", "random seed")
    val: float = setting(0.2, "share", "share of the rows that validates (the last before the test part)", keyword=False)
    test: float = setting(0.0, "share", "share of the rows held out for testing (the last)", keyword=False)


@dataclass(frozen=True)
class RuntimeSettings:
    accelerator: str = setting("auto", "text", "where to train", choices=("auto", "cpu", "gpu", "cuda", "mps"))
    devices: int | str = setting(1, "devices", "devices to train on (auto, or a number)")
    strategy: str = setting("auto", "text", "Lightning's strategy, e.g. ddp")
    precision: str | None = setting(None, "text", "Lightning's precision, e.g. bf16-mixed (default: bf16-mixed on GPUs that support it and, for channel-independent networks, on CPUs with bf16 units (AVX512-BF16 or AMX); 32-true elsewhere); a network trained in bf16 by this CPU's default forecasts in it too", optional=True)
    deterministic: bool | None = setting(None, "switch", "deterministic kernels (default: on the CPU)", optional=True)
    threads: int | None = setting(None, "whole", "CPU threads torch may use (default: the cores torch sees; with --jobs, the cores over the jobs)", optional=True, keyword=False)
    logger: str = setting("csv", "text", "training logs: CSV, or TensorBoard (needs the tensorboard extra)", choices=LOGGERS)
    log_dir: str | None = setting(None, "text", "folder for logs and checkpoints", optional=True, flag=False)
    progress: bool = setting(False, "switch", "progress bars", flag=False)
    verbose: bool = setting(False, "switch", "let Lightning's messages and warnings through")


@dataclass(frozen=True)
class BacktestSettings:
    returns: str = setting("log", "text", "forecast log or simple returns of the prices, or the prices", choices=("log", "simple", "none"), keyword=False)
    start: int | float | str = setting("0.5", "start", "first forecast: a date, a row number, or a fraction of the rows (of the forecast series)", keyword=False)
    step: int = setting(1, "whole", "rows between origins", keyword=False)
    refit_every: int | None = setting(None, "whole", "refit at the first origin N or more rows after the last fit, on the rows before it (rows, not origins: with --step 5, N=63 refits every 13th origin; default: fit once, before --start)", optional=True, keyword=False)
    window: str = setting("expanding", "text", "train on every earlier row, or on the last --train-length", choices=("expanding", "sliding"), keyword=False)
    train_length: int | None = setting(None, "whole", "rows of a sliding window", optional=True, keyword=False)
    positions: str = setting("long-only", "text", "which forecast signs are traded", choices=("long-only", "long-short"), keyword=False)
    sizing: str = setting("equal", "text", "a whole sleeve per position, or the forecast return over the recent volatility (capped at the sleeve)", choices=("equal", "vol"), keyword=False)
    execution: str = setting("next-close", "text", "fill at the bar after the forecast's: its close or its open (needs Open and Close columns); the position trades the forecast of the fill price's returns over steps 2..step+1", choices=("next-close", "next-open"), keyword=False)
    threshold: float = setting(0.0, "nonnegative", "trade only forecast returns beyond this", keyword=False)
    cost_bps: float = setting(5.0, "nonnegative", "cost in basis points of the value traded", keyword=False)
    slippage_bps: float = setting(0.0, "nonnegative", "slippage in basis points of the value traded (charged as a cost)", keyword=False)
    jobs: int = setting(1, "whole", "walk-forward folds fitted at once, each in its own process", keyword=False)
    scheduler: str | None = setting(None, "text", "run the folds on Dask: 'local' (a local cluster of --jobs workers) or a scheduler address such as tcp://host:8786 (needs the dask extra)", optional=True, keyword=False)


NUMBERS = ("whole", "natural", "share", "number", "positive", "nonnegative", "devices")
GROUPS: dict[str, type] = {"data": DataSettings, "model": ModelSettings, "training": TrainingSettings,
                           "runtime": RuntimeSettings, "backtest": BacktestSettings}
# the groups a model file stores: what shapes the network and how its data is read
MODEL_GROUPS = ("data", "model", "training")
# what a backtest assumes unless told: daily bars, forecasts of the next two days from 60 (a
# position filled at the next bar earns the bar after it: the forecast's step 2)
BACKTEST_DEFAULTS = {"horizon": 2, "lookback": 60}


def specs(groups: tuple[str, ...] = tuple(GROUPS)) -> dict[str, tuple[str, Spec, Any]]:
    """name -> (group, spec, default) of every setting of ``groups``, in declaration order."""
    return {f.name: (group, f.metadata["spec"], f.default) for group in groups for f in fields(GROUPS[group])}


# how a file is read: the data settings that are arguments of fit, not the Forecaster's keywords
READ_OPTIONS = [name for name, (_, spec, _) in specs(("data",)).items() if not spec.keyword]


def defaults(groups: tuple[str, ...] = tuple(GROUPS)) -> dict[str, Any]:
    return {name: default for name, (_, _, default) in specs(groups).items()}


def keywords() -> list[str]:
    """The Forecaster's constructor keywords, in order."""
    return [name for name, (_, spec, _) in specs(("data", "model", "training", "runtime")).items() if spec.keyword]


def model_keywords(params: dict[str, Any]) -> dict[str, Any]:
    """The keywords a model file keeps: the data, model and training settings, not the runtime's."""
    known = specs(MODEL_GROUPS)
    return {name: value for name, value in params.items() if name in known}


@dataclass(frozen=True)
class RunConfig:
    """One run's settings, checked, in their groups."""

    data: DataSettings = field(default_factory=DataSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    training: TrainingSettings = field(default_factory=TrainingSettings)
    runtime: RuntimeSettings = field(default_factory=RuntimeSettings)
    backtest: BacktestSettings = field(default_factory=BacktestSettings)

    @classmethod
    def build(cls, values: dict[str, Any], where: Callable[[str], str] = lambda name: name,
              typed: Callable[[str, Any], Any] | None = None) -> RunConfig:
        """Defaults overridden by ``values``, each checked; ``where(name)`` says how the user
        wrote a setting, for the messages (see :func:`check_settings` for ``typed``)."""
        settings = check_settings({**defaults(), **values}, where, typed)
        return cls(**{group: GROUPS[group](**{name: settings[name] for name in defaults((group,))})
                      for group in GROUPS})

    def flat(self, groups: tuple[str, ...] = tuple(GROUPS)) -> dict[str, Any]:
        """The settings of ``groups`` as one dict (the form YAML files and model files hold)."""
        return {name: value for group in groups for name, value in asdict(getattr(self, group)).items()}

    def keywords(self) -> dict[str, Any]:
        """The Forecaster's keyword arguments."""
        settings = self.flat()
        return {name: settings[name] for name in keywords()}

    def read_options(self) -> dict[str, Any]:
        """The read options that were set (unset ones are left out, so a model's own apply)."""
        settings = self.flat(("data",))
        return {name: settings[name] for name in READ_OPTIONS if settings[name] not in (None, False)}


def check_settings(values: dict[str, Any], where: Callable[[str], str] = lambda name: name,
                   typed: Callable[[str], Any] | None = None) -> dict[str, Any]:
    """``values`` checked and normalized (text lists split); the first bad one raises a
    SettingError naming it as ``where`` writes it. Unknown names are refused. ``typed(name, text)``
    turns text from a command line into a number first; elsewhere a number must be one."""
    known = specs()
    unknown = [name for name in values if name not in known]
    if unknown:
        raise SettingError(f"unknown setting {where(unknown[0])}")
    settings = {name: _checked(typed(name, value) if typed else value, known[name][1], where(name))
                for name, value in values.items()}
    _check_together(settings, where)
    return settings


def _checked(value: Any, spec: Spec, where: str) -> Any:
    if value is None or (spec.optional and value == "none"):
        if spec.optional or spec.kind == "switch" and value is None:
            return None
        raise SettingError(f"{where} must be set")
    kind = spec.kind
    if kind in ("whole", "natural"):
        value = _number(value, where, int)
        if value < (0 if kind == "natural" else 1):
            raise SettingError(f"{where} must be a {'non-negative' if kind == 'natural' else 'positive'} "
                               f"whole number, not {value!r}")
    elif kind in ("number", "positive", "nonnegative", "share"):
        value = _number(value, where, float)
        if kind == "positive" and value <= 0:
            raise SettingError(f"{where} must be a positive number, not {value!r}")
        if kind == "nonnegative" and value < 0:
            raise SettingError(f"{where} must not be negative, not {value!r}")
        if kind == "share" and not 0 <= value < 1:
            raise SettingError(f"{where} must be a share in [0, 1), not {value!r}")
    elif kind == "switch":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if not isinstance(value, bool):
            raise SettingError(f"{where} must be true or false, not {value!r}")
    elif kind == "text":
        if not isinstance(value, str):
            raise SettingError(f"{where} must be text, not {value!r}")
        if spec.choices and value not in spec.choices:
            raise SettingError(f"{where} must be one of {', '.join(spec.choices)}{', none' if spec.optional else ''}, "
                               f"not '{value}'")
    elif kind == "start":
        value = _start(value, where)
    elif kind == "columns":
        value = _names(value, where)
    elif kind == "features":
        value = value if value == "auto" else _names(value, where)
    elif kind == "levels":
        value = _levels(value, where)
    elif kind == "devices":
        if value != "auto":
            value = _number(value, where, int)
            if value < 1:
                raise SettingError(f"{where} must be auto or a positive whole number, not {value!r}")
    return value


def from_text(name: str, value: Any) -> Any:
    """A command line's text as the number its setting takes, where it reads as one."""
    if isinstance(value, str) and specs()[name][1].kind in NUMBERS:
        for kind in (int, float):
            try:
                return kind(value)
            except ValueError:
                pass
    return value


def _number(value: Any, where: str, kind: type) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)):
        raise SettingError(f"{where} must be a {'whole number' if kind is int else 'number'}, not {value!r}")
    return kind(value)


def _start(value: Any, where: str) -> int | float | str:
    """A first forecast as walk_forward takes it: a row number, a fraction in (0, 1), or a date
    (text, checked against the data)."""
    text = str(value)
    try:
        number = float(text)
    except ValueError:
        return text
    if number != int(number) and not 0 < number < 1:
        raise SettingError(f"{where} {text}: a fraction must lie between 0 and 1")
    if number < 0:
        raise SettingError(f"{where} {text}: a row number must not be negative")
    return int(number) if number == int(number) and "." not in text else number


def _names(value: Any, where: str) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    raise SettingError(f"{where} must name columns (text, or a list of text), not {value!r}")


def _levels(value: Any, where: str) -> list[float]:
    parts = value.split(",") if isinstance(value, str) else value
    try:
        levels = [float(q) for q in parts]
    except (TypeError, ValueError):
        raise SettingError(f"{where} must be numbers such as 0.1,0.5,0.9, not {value!r}") from None
    outside = [q for q in levels if not 0 < q < 1]
    if outside:
        raise SettingError(f"{where} must lie strictly between 0 and 1, not {outside[0]:g}")
    return levels


def _check_together(settings: dict[str, Any], where: Callable[[str], str]) -> None:
    model = settings.get("model", defaults()["model"])
    if settings.get("quantiles") and not MODELS[model].lstm_head:
        raise SettingError(f"{where('quantiles')} needs a model with an LSTM head, not {model}")
    if settings.get("ensemble", 1) > 1 and MODELS[model].kind != "neural":
        raise SettingError(f"{where('ensemble')} averages trained networks; {model} forecasts the same from every seed")
    if model == "seasonal-naive" and not settings.get("season"):
        raise SettingError(f"{where('model')} seasonal-naive needs {where('season')} (e.g. 24 for hourly data)")
    if settings.get("val", 0) + settings.get("test", 0) >= 1:
        raise SettingError(f"{where('val')} and {where('test')} must be shares of the rows whose sum is below 1")
    if settings.get("logger") == "tensorboard" and importlib.util.find_spec("tensorboard") is None:
        raise SettingError(f"{where('logger')} tensorboard needs TensorBoard: pip install 'densenet-forecast[tensorboard]'")
    if settings.get("strategy") in ("long-only", "long-short"):
        raise SettingError(f"{where('strategy')} is Lightning's training strategy (e.g. ddp); the signs a "
                           f"backtest trades are {where('positions')} {settings['strategy']}")
    if (settings.get("window") == "sliding") != (settings.get("train_length") is not None):
        raise SettingError(f"{where('window')} sliding needs {where('train_length')}, and {where('train_length')} goes with it")
    if settings.get("accelerator") in ("gpu", "cuda"):
        import torch

        if not torch.cuda.is_available():
            raise SettingError(f"{where('accelerator')} {settings['accelerator']}: torch sees no CUDA GPU on "
                               f"this machine; use cpu")


MAX_EPOCHS_VARIABLE = "FORECAST_MAX_EPOCHS"  # caps the epochs of every training run (the README's tests use it)


def capped_epochs(epochs: int) -> int:
    """``epochs``, or fewer when FORECAST_MAX_EPOCHS caps every training run."""
    cap = os.environ.get(MAX_EPOCHS_VARIABLE)
    if not cap:
        return epochs
    if not cap.isdigit() or int(cap) < 1:
        raise SettingError(f"{MAX_EPOCHS_VARIABLE}={cap} is not a positive whole number")
    return min(epochs, int(cap))


def resolve(params: dict[str, Any], where: Callable[[str], str] = lambda name: name) -> dict[str, Any]:
    """The settings a network and its data are built from, from the Forecaster's keywords:
    checked, quantile levels completed with the median, ``lr`` the model's default when None."""
    from forecast.models.registry import LR, model_spec, quantile_levels

    settings = check_settings(params, where)
    settings["max_epochs"] = capped_epochs(settings["max_epochs"])
    if settings["quantiles"]:
        settings["quantiles"] = quantile_levels(settings["quantiles"])
    if settings["lr"] is None:
        settings["lr"] = model_spec(settings["model"]).defaults.get("lr", LR)
    return settings
