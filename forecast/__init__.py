"""forecast: time-series forecasting with DenseNet feature extractors and LSTM heads.

Top-level names are imported on first use, so that ``import forecast`` (and the command
line's start-up) stays fast.
"""

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    "Forecaster": "forecast.api",
    "load": "forecast.api",
    "read_series": "forecast.data.reading",
    "load_dataset": "forecast.data.registry",
    "DataError": "forecast.errors",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'forecast' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
