"""Point and quantile forecast errors on arrays of equal shape (numpy or torch)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def mse(forecast, actual) -> float:
    return float(np.mean((np.asarray(forecast) - np.asarray(actual)) ** 2))


def mae(forecast, actual) -> float:
    return float(np.mean(np.abs(np.asarray(forecast) - np.asarray(actual))))


def rmse(forecast, actual) -> float:
    return mse(forecast, actual) ** 0.5


def smape(forecast, actual) -> float:
    """Symmetric MAPE in percent; pairs where both are zero count as no error."""
    forecast, actual = np.asarray(forecast), np.asarray(actual)
    scale = np.abs(forecast) + np.abs(actual)
    ratio = np.divide(2 * np.abs(forecast - actual), scale, out=np.zeros_like(scale, dtype=float),
                      where=scale > 0)
    return float(100 * ratio.mean())


def pinball(quantile_forecasts, actual, quantiles: Sequence[float]) -> float:
    """Mean pinball (quantile) loss; the last axis of ``quantile_forecasts`` holds the levels."""
    forecasts, actual = np.asarray(quantile_forecasts), np.asarray(actual)[..., None]
    levels = np.asarray(quantiles)
    error = actual - forecasts
    return float(np.mean(np.maximum(levels * error, (levels - 1) * error)))


def coverage(lower, upper, actual) -> float:
    """Share of actual values inside [lower, upper]."""
    actual = np.asarray(actual)
    return float(np.mean((actual >= np.asarray(lower)) & (actual <= np.asarray(upper))))
