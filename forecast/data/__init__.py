"""Reading, validating, splitting, scaling and windowing time series.

Names are imported on first use, so that reading a CSV (and the ``forecast`` command's
start-up) does not pay for importing torch and Lightning.
"""

from forecast.lazy import lazy_exports

_EXPORTS = {
    "SeriesData": "forecast.data.series",
    "read_series": "forecast.data.reading",
    "load_dataset": "forecast.data.registry",
    "is_registered": "forecast.data.registry",
    "Split": "forecast.data.splits",
    "split_by_fraction": "forecast.data.splits",
    "split_by_count": "forecast.data.splits",
    "split_by_time": "forecast.data.splits",
    "ltsf_split": "forecast.data.splits",
    "Scaler": "forecast.data.scaling",
    "calendar_features": "forecast.data.calendar",
    "WindowSpec": "forecast.data.windows",
    "WindowDataset": "forecast.data.windows",
    "collate_batch": "forecast.data.windows",
    "SeriesWindows": "forecast.data.windowed",
    "SeriesDataModule": "forecast.data.datamodule",
}
__all__ = list(_EXPORTS)
__getattr__ = lazy_exports(__name__, _EXPORTS)
