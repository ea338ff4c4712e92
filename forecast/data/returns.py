"""Prices to returns: the target a backtest of price series forecasts."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

import numpy as np

from forecast.data.series import SeriesData
from forecast.errors import DataError

ReturnKind = Literal["log", "simple", "none"]


def to_returns(series: SeriesData, kind: ReturnKind = "log") -> SeriesData:
    """Each target column replaced by its one-bar returns, ``log(p_t / p_{t-1})`` or
    ``p_t / p_{t-1} - 1``, the first row of every series dropped; ``"none"`` gives the series back.
    Covariates are kept as they are, on the remaining rows."""
    if kind == "none":
        return series
    if kind not in ("log", "simple"):
        raise ValueError(f"returns must be 'log', 'simple' or 'none', not {kind!r}")
    frames = {}
    for sid, frame in series.frames.items():
        prices = frame[series.target].to_numpy(dtype=np.float64)
        bad = ~(prices > 0)
        if bad.any():
            row, column = np.argwhere(bad)[0]
            raise DataError(f"{series.name}: series '{sid}', column '{series.target[column]}' has "
                            f"the non-positive price {prices[row, column]:g} at {frame.index[row]}; "
                            "returns need positive prices")
        ratio = prices[1:] / prices[:-1]
        frame = frame.iloc[1:].copy()
        frame[series.target] = np.log(ratio) if kind == "log" else ratio - 1
        frames[sid] = frame
    return replace(series, frames=frames, notes=[*series.notes, f"{', '.join(series.target)}: {kind} returns"])
