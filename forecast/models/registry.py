"""The one registry of model names, what each is, and the default settings of a forecasting run.

Plain data, no torch: the ``forecast`` command reads it for its ``--help`` without paying for
importing the networks. The Forecaster, the command line and the experiments all read their
defaults from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["neural", "closed-form", "baseline"]


@dataclass(frozen=True)
class ModelSpec:
    """A model name: how it is trained (``kind``), a one-line summary, its own defaults, and
    whether it is an encoder + LSTM head network (which alone has quantile outputs, a highway
    and a head)."""

    kind: Kind
    summary: str
    defaults: dict = field(default_factory=dict)
    lstm_head: bool = False


MODELS: dict[str, ModelSpec] = {
    "densenet-lstm": ModelSpec("neural", "DenseNet1D over time (patch stem) -> LSTM head",
                               lstm_head=True),
    "densenet2d-lstm": ModelSpec("neural", "DenseNet2D over the variables x time map -> LSTM head",
                                 lstm_head=True),
    "resnet-lstm": ModelSpec("neural", "residual blocks of a similar budget -> LSTM head",
                             lstm_head=True),
    "lstm": ModelSpec("neural", "a linear projection per step -> LSTM head", lstm_head=True),
    "dlinear": ModelSpec("neural", "DLinear: trend/remainder split, one linear map each",
                         {"lr": 5e-3}),
    "linear": ModelSpec("closed-form", "ridge regression from look-back to horizon (closed form)"),
    "naive": ModelSpec("baseline", "repeat the last value"),
    "seasonal-naive": ModelSpec("baseline", "repeat the last season (needs season=)"),
    "drift": ModelSpec("baseline", "extend the line through the first and last look-back values"),
}

# Settings of a run: Forecaster's constructor defaults, and the command line's.
DEFAULTS: dict = {
    "model": "densenet-lstm", "lookback": 336, "horizon": 96, "head": "seq2seq",
    "quantiles": None, "loss": "mse", "scaler": "standard", "channel_independent": False,
    "revin": True, "hidden_size": 128, "dropout": 0.1, "patch": 8, "patch_stride": None,
    "highway": "ridge", "schedule": "cosine", "warmup": 0.0,
    "season": None, "max_epochs": 20, "batch_size": 32, "train_stride": 1, "lr": 3e-4, "weight_decay": 1e-4,
    "teacher_forcing": 0.0, "patience": 5, "seed": 0,
    # the chronological split of fit(): the last `val` share validates, the last `test` share
    # is held out
    "val": 0.2, "test": 0.0,
}

HEADS = ("seq2seq", "direct", "flatten")
SCHEDULES = ("cosine", "onecycle", "none")
HIGHWAYS = ("ridge", "learned", None)
LOGGERS = ("csv", "tensorboard")


def quantile_levels(quantiles) -> list[float]:
    """Sorted distinct levels, always with the median 0.5 (the point forecast); [0.5] for none."""
    levels = [float(q) for q in quantiles or []]
    outside = [q for q in levels if not 0 < q < 1]
    if outside:
        raise ValueError(f"quantile levels must lie strictly between 0 and 1, got {outside[0]:g}")
    return sorted({*levels, 0.5})


def median_index(levels) -> int:
    """Where the point forecast lies among quantile ``levels``: the 0.5 level (0 for none)."""
    if not levels:
        return 0
    if 0.5 not in levels:
        raise ValueError(f"quantile levels {list(levels)} lack the median 0.5")
    return list(levels).index(0.5)


def resolve(params: dict) -> dict:
    """A run's settings from constructor arguments: checked (ValueError naming the setting),
    quantile levels completed with the median, ``target`` as a list, ``lr`` the model's default
    when None."""
    settings = dict(params)
    spec = model_spec(settings["model"])
    for name in ("lookback", "horizon", "train_stride"):
        if not isinstance(settings[name], int) or isinstance(settings[name], bool) or settings[name] < 1:
            raise ValueError(f"{name} must be a positive integer, got {settings[name]!r}")
    if settings["head"] not in HEADS:
        raise ValueError(f"head must be one of {', '.join(HEADS)}, not {settings['head']!r}")
    if settings["schedule"] not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}, not {settings['schedule']!r}")
    if not 0 <= settings["warmup"] < 1:
        raise ValueError(f"warmup is a share of the training steps in [0, 1), not {settings['warmup']!r}")
    if settings.get("logger", "csv") not in LOGGERS:
        raise ValueError(f"logger must be 'csv' or 'tensorboard', not {settings['logger']!r}")
    if settings.get("logger") == "tensorboard":
        import importlib.util

        if importlib.util.find_spec("tensorboard") is None:
            raise ValueError("logger='tensorboard' needs TensorBoard: pip install 'densenet-forecast[tensorboard]'")
    if settings["highway"] not in HIGHWAYS:
        raise ValueError(f"highway must be 'ridge', 'learned' or None, not {settings['highway']!r}")
    if settings["quantiles"]:
        if not spec.lstm_head:
            raise ValueError(f"quantiles need a model with an LSTM head, not {settings['model']!r}")
        settings["quantiles"] = quantile_levels(settings["quantiles"])
    if settings["model"] == "seasonal-naive" and not settings["season"]:
        raise ValueError("seasonal-naive needs season= (e.g. 24 for hourly data)")
    target = settings["target"]
    settings["target"] = ([t.strip() for t in target.split(",") if t.strip()] if isinstance(target, str)
                          else list(target or [])) or None
    if settings["lr"] is None:
        settings["lr"] = spec.defaults.get("lr", DEFAULTS["lr"])
    return settings


def model_spec(name: str) -> ModelSpec:
    """The registry entry of ``name``; a ValueError listing the known names otherwise."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name]

