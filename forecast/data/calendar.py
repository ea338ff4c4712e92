"""Calendar features of timestamps: known in advance, so usable as known-future covariates."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

# feature -> (value of a timestamp counted from 0, number of values in one cycle)
_FEATURES = {
    "minute": (lambda ix: ix.minute, lambda ix: 60),
    "hour": (lambda ix: ix.hour, lambda ix: 24),
    "weekday": (lambda ix: ix.day_of_week, lambda ix: 7),
    "day": (lambda ix: ix.day - 1, lambda ix: ix.days_in_month),
    "dayofyear": (lambda ix: ix.day_of_year - 1, lambda ix: 365 + ix.is_leap_year),
    "month": (lambda ix: ix.month - 1, lambda ix: 12),
}
Encoding = Literal["cyclic", "linear"]


def calendar_features(index: pd.DatetimeIndex, features: list[str] | tuple[str, ...],
                      encoding: Encoding = "cyclic") -> pd.DataFrame:
    """One row per timestamp. cyclic: ``<f>_sin``/``<f>_cos`` on the unit circle (the last hour
    of a day sits next to the first); linear: ``<f>`` in [-0.5, 0.5] as in Informer's time features."""
    columns = {}
    for name in features:
        if name not in _FEATURES:
            raise ValueError(f"unknown calendar feature {name!r}; known: {', '.join(_FEATURES)}")
        value_of, period_of = _FEATURES[name]
        value = np.asarray(value_of(index), dtype=np.float64)
        period = np.asarray(period_of(index), dtype=np.float64)
        if encoding == "cyclic":
            angle = 2 * np.pi * value / period
            columns[f"{name}_sin"], columns[f"{name}_cos"] = np.sin(angle), np.cos(angle)
        elif encoding == "linear":
            columns[name] = value / np.maximum(period - 1, 1) - 0.5
        else:
            raise ValueError(f"encoding must be 'cyclic' or 'linear', not {encoding!r}")
    return pd.DataFrame(columns, index=index)


def default_calendar(freq: str | None) -> list[str]:
    """The features that vary at a frequency: sub-hourly data gets minutes, daily data no hours."""
    if freq is None:
        return []
    step = pd.tseries.frequencies.to_offset(freq)
    try:
        seconds = pd.Timedelta(step).total_seconds()
    except ValueError:  # calendar offsets (B, W, MS, ...) have no fixed length
        business = isinstance(step, (pd.offsets.BusinessDay, pd.offsets.CustomBusinessDay))
        return ["weekday", "day", "month"] if business else ["month"]
    if seconds < 3600:
        return ["minute", "hour", "weekday", "day", "month"]
    if seconds < 86400:
        return ["hour", "weekday", "day", "month"]
    return ["weekday", "day", "month"] if seconds < 7 * 86400 else ["month"]
