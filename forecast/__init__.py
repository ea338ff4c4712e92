"""forecast: time-series forecasting with DenseNet feature extractors and LSTM heads.

Top-level names are imported on first use, so that ``import forecast`` (and the command
line's start-up) stays fast.
"""

from forecast.lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "Forecaster": "forecast.api",
    "load": "forecast.api",
    "read_series": "forecast.data.reading",
    "load_dataset": "forecast.data.registry",
    "DataError": "forecast.errors",
    "RunConfig": "forecast.config",
    "walk_forward": "forecast.workflows.walkforward",
    "strategy_backtest": "forecast.workflows.strategy",
    "report": "forecast.workflows.reports",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
