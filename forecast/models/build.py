"""build_model: any registered model name and its settings -> an untrained nn.Module."""

from __future__ import annotations

from torch import nn

from forecast.models.baselines import DLinear, Drift, Naive, RidgeLinear, SeasonalNaive
from forecast.models.forecasters import build_forecaster
from forecast.models.registry import model_spec


def build_model(name: str, settings: dict, in_channels: int, out_channels: int,
                future_channels: int) -> nn.Module:
    """The network of ``name`` (a key of the registry) for the channel counts of the data.

    ``settings`` holds the run's settings (lookback, horizon, head, hidden_size, dropout,
    quantiles, revin, patch, patch_stride, highway, season); those a model does not use are
    ignored.
    """
    lookback, horizon = settings["lookback"], settings["horizon"]
    if model_spec(name).lstm_head:
        return build_forecaster(name, in_channels, out_channels, horizon, future_channels,
                                settings["head"], settings["hidden_size"],
                                dropout=settings["dropout"], quantiles=settings["quantiles"],
                                revin=settings["revin"], patch=settings["patch"],
                                lookback=lookback, highway=bool(settings["highway"]),
                                patch_stride=settings["patch_stride"])
    if name == "seasonal-naive":
        if not settings["season"]:
            raise ValueError("seasonal-naive needs season= (e.g. 24 for hourly data)")
        return SeasonalNaive(out_channels, horizon, settings["season"])
    simple = {"naive": lambda: Naive(out_channels, horizon),
              "drift": lambda: Drift(out_channels, horizon),
              "dlinear": lambda: DLinear(lookback, horizon, out_channels),
              "linear": lambda: RidgeLinear(lookback, horizon, out_channels)}
    return simple[name]()
