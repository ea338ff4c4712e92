"""Reading, validating, splitting, scaling and windowing time series.

Names are imported on first use, so that reading a CSV (and the ``forecast`` command's
start-up) does not pay for importing torch and Lightning.
"""

from importlib import import_module

_EXPORTS = {
    "SeriesData": "series",
    "read_series": "reading",
    "load_dataset": "registry",
    "is_registered": "registry",
    "Split": "splits",
    "split_by_fraction": "splits",
    "split_by_count": "splits",
    "split_by_time": "splits",
    "ltsf_split": "splits",
    "Scaler": "scaling",
    "calendar_features": "calendar",
    "WindowSpec": "windows",
    "WindowDataset": "windows",
    "collate_batch": "windows",
    "SeriesDataModule": "datamodule",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'forecast.data' has no attribute {name!r}")
    return getattr(import_module(f"forecast.data.{_EXPORTS[name]}"), name)
