"""The schema: what a model remembers of its data, and the held-out windows it leads to."""

import numpy as np
import pandas as pd

from forecast.data.reading import read_series
from forecast.data.schema import Schema
from forecast.data.series import SeriesData


def schema(**ends) -> Schema:
    return Schema(["y"], [], [], [], "h", 1, 0, train_end=ends.get("train", {}), seen_end=ends.get("seen", {}))


def test_held_out_rows_start_after_every_row_the_fit_saw():
    index = pd.date_range("2024-01-01", periods=10, freq="h")
    data = SeriesData({"a": pd.DataFrame({"y": np.arange(10.0)}, index=index)}, ["y"])
    fitted = schema(train={"a": "2024-01-01T03:00:00"}, seen={"a": "2024-01-01T05:00:00"})
    assert fitted.after_fit(data)["a"].val_end == 6  # rows 6..9: after hour 5, not after hour 3
    assert fitted.seen_until("other") == pd.Timestamp("2024-01-01T05:00:00")  # an unseen series: the latest end


def test_model_files_written_before_seen_end_fall_back_to_the_training_end():
    old = Schema.from_dict({**schema(train={"a": "2024-01-01T03:00:00"}).to_dict(), "seen_end": {}})
    assert old.seen_until("a") == pd.Timestamp("2024-01-01T03:00:00")


def test_the_read_options_given_are_recorded_and_only_those(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("v;when\n1,5;01.02.2024\n2,5;02.02.2024\n3,5;03.02.2024\n")
    data = read_series(path, time_col="when", date_format="%d.%m.%Y", decimal=",")
    assert data.read_options == {"time_col": "when", "date_format": "%d.%m.%Y", "decimal": ","}
    assert data.frames[next(iter(data.frames))]["v"].tolist() == [1.5, 2.5, 3.5]
    again = read_series(path, time_col="when", decimal=",", dayfirst=True, duplicates="error")
    assert again.read_options == {"time_col": "when", "dayfirst": True, "decimal": ","}  # defaults are not kept
