"""Point and quantile forecast errors on arrays of equal shape (numpy or torch)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from forecast.models.registry import median_index


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


def scores(forecasts: np.ndarray, actual: np.ndarray, naive: np.ndarray, scale: np.ndarray,
           levels: Sequence[float] | None = None, series: Sequence[str] | None = None) -> dict:
    """The errors ``evaluate`` reports for (windows, H, C, Q) ``forecasts`` whose point forecast
    is the 0.5 level (the only one without ``levels``): mse, mae, rmse, smape on the original
    scale; ``*_scaled`` divided by each channel's ``scale`` (as the LTSF papers report); the
    naive forecast's mse and mae; with quantiles, the pinball loss and the share of actual values
    inside the outer band (``coverage``) beside the share it should hold (``coverage_nominal``).
    With the ``series`` id of each window and more than one id, ``result["series"]`` holds each
    series' windows and errors beside the pooled ones."""
    point = forecasts[..., median_index(levels)]
    result = {"mse": mse(point, actual), "mae": mae(point, actual), "rmse": rmse(point, actual),
              "smape": smape(point, actual), "mse_scaled": mse(point / scale, actual / scale),
              "mae_scaled": mae(point / scale, actual / scale),
              "naive_mse": mse(naive, actual), "naive_mae": mae(naive, actual)}
    if levels:
        result["pinball"] = pinball(forecasts, actual, levels)
        result["coverage"] = coverage(forecasts[..., 0], forecasts[..., -1], actual)
        result["coverage_nominal"] = round(levels[-1] - levels[0], 12)
    ids = np.asarray(series if series is not None else [])
    if len(set(ids.tolist())) > 1:
        result["series"] = {sid: {"windows": int((ids == sid).sum()),
                                  **scores(forecasts[ids == sid], actual[ids == sid],
                                           naive[ids == sid], scale, levels)}
                            for sid in dict.fromkeys(ids.tolist())}
    return result
