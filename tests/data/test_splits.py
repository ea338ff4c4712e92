"""Chronological splits: exact row bounds by hand."""

import numpy as np
import pandas as pd
import pytest

from forecast.data.series import SeriesData
from forecast.data.splits import Split, split_by_count, split_by_fraction, split_by_time
from forecast.errors import DataError


def series(rows: int = 100, ids=("a",)) -> SeriesData:
    index = pd.date_range("2024-01-01", periods=rows, freq="h")
    return SeriesData({sid: pd.DataFrame({"y": np.arange(rows, dtype=float)}, index=index) for sid in ids}, ["y"])


def test_fractions_truncate_train_and_test_and_give_validation_the_rest():
    assert split_by_fraction(series(101), 0.7, 0.2, 0.1) == {"a": Split(70, 91, 101)}  # int(70.7), 101 - int(10.1)
    assert split_by_fraction(series(100), 0.8, 0.2, 0.0) == {"a": Split(80, 100, 100)}


def test_counts_and_times_bound_each_series():
    assert split_by_count(series(100, ("a", "b")), 60, 20, 10) == {"a": Split(60, 80, 90), "b": Split(60, 80, 90)}
    assert split_by_time(series(100), "2024-01-02 00:00", "2024-01-03 12:00") == {"a": Split(24, 60, 100)}
    with pytest.raises(DataError, match="fewer than 60 \\+ 30 \\+ 20"):
        split_by_count(series(100), 60, 30, 20)
    with pytest.raises(ValueError, match="sum to 1"):
        split_by_fraction(series(100), 0.7, 0.2, 0.2)


def test_a_split_without_training_rows_is_refused():
    with pytest.raises(DataError, match="no training rows"):
        split_by_time(series(100), "2023-12-31", "2024-01-02")


def test_bounds_of_each_part():
    split = Split(70, 90, 100)
    assert [split.bounds(p) for p in ("train", "val", "test")] == [(0, 70), (70, 90), (90, 100)]
