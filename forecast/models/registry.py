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
    "revin": True, "hidden_size": 128, "dropout": 0.1, "patch": 8, "highway": "ridge",
    "season": None, "max_epochs": 20, "batch_size": 32, "lr": 3e-4, "weight_decay": 1e-4,
    "teacher_forcing": 0.0, "patience": 5, "seed": 0,
    # the chronological split of fit(): the last `val` share validates, the last `test` share
    # is held out
    "val": 0.2, "test": 0.0,
}

HEADS = ("seq2seq", "direct")
HIGHWAYS = ("ridge", "learned", None)


def model_spec(name: str) -> ModelSpec:
    """The registry entry of ``name``; a ValueError listing the known names otherwise."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name]


def default(name: str, setting: str):
    """A setting's default for one model: the model's own, else the run default."""
    return model_spec(name).defaults.get(setting, DEFAULTS[setting])
