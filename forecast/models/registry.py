"""The one registry of model names and what each is; a run's settings live in forecast.config.

Plain data, no torch: the ``forecast`` command reads it for its ``--help`` without paying for
importing the networks.
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

# the networks' learning rate, unless a model's defaults say otherwise: 3e-4 at batch 32 scaled by
# the square root of 4 for the default batch of 128, chosen on Weather-96's validation windows
# (the ablation's defaults rows: level with 3e-4 at 32 on validation and test, 1.65x faster; 3e-4
# at 128 was 2 % worse on validation)
LR = 6e-4
HEADS = ("seq2seq", "direct", "flatten")
SCHEDULES = ("cosine", "onecycle", "none")
HIGHWAYS = ("ridge", "slow", "frozen", "learned", None)
# the "slow" highway's learning rate as a share of the network's: the linear start may still move,
# but a step moves it a tenth as far as it moves the network that corrects it
SLOW_HIGHWAY_LR = 0.1
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


def model_spec(name: str) -> ModelSpec:
    """The registry entry of ``name``; a ValueError listing the known names otherwise."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(MODELS)}")
    return MODELS[name]

