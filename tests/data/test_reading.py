import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from forecast.data.reading import read_series
from forecast.errors import DataError
from helpers import CORPUS, cli_options


@pytest.mark.parametrize("name, content, options, message", CORPUS, ids=[c[0] for c in CORPUS])
def test_malformed_csv_gives_a_specific_error(write_csv, name, content, options, message):
    path = write_csv(content, f"{name}.csv")
    with pytest.raises(DataError) as caught:
        read_series(path, **options)
    assert message in str(caught.value)
    assert str(path) in str(caught.value), "the message names the file"


@pytest.mark.parametrize("name, content, options, message", CORPUS, ids=[c[0] for c in CORPUS])
def test_data_info_rejects_malformed_csv_with_one_line(write_csv, name, content, options, message):
    path = write_csv(content, f"{name}.csv")
    done = subprocess.run([sys.executable, "-m", "forecast.cli", "data", "info", str(path),
                           *cli_options(options)], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in done.stderr


def test_etth1_reads_as_one_hourly_series(data_dir):
    data = read_series(data_dir / "ett" / "ETTh1.csv")
    frame = data.frames["ETTh1"]
    assert data.target == ["HUFL", "HULL", "MUFL", "MULL", "LUFL", "LULL", "OT"]
    assert frame.shape == (17420, 7) and data.freq == "h"
    assert frame.index[0] == pd.Timestamp("2016-07-01 00:00") and frame.index[-1] == pd.Timestamp("2018-06-26 19:00")
    assert frame["OT"].iloc[0] == 30.5310001373291 and frame["OT"].iloc[1] == 27.78700065612793
    assert data.notes == []


def test_weather_csv_with_crlf_and_odd_header_bytes(data_dir):
    path = data_dir / "weather" / "weather.csv"
    assert b"\r\n" in path.read_bytes()[:400]
    with pytest.raises(DataError, match=r"duplicated timestamp 2020-05-12 06:00:00 at line 19046"):
        read_series(path)
    data = read_series(path, duplicates="keep")
    frame = data.frames["weather"]
    assert frame.shape == (52696, 21) and data.freq == "10min"
    assert frame.columns[0] == "p (mbar)" and frame.columns[-1] == "OT"
    assert "SWDR (W/m\ufffd)" in frame.columns  # the distributed header's replacement character
    assert not any(c.endswith("\r") for c in frame.columns)
    assert frame["OT"].iloc[0] == 428.1 and frame["p (mbar)"].iloc[0] == 1008.89
    assert any("9 timestamps missing" in note for note in data.notes)


def test_stock_csv_in_yfinance_layout(data_dir):
    data = read_series(data_dir / "stocks" / "daily" / "AAPL.csv")
    frame = data.frames["AAPL"]
    assert list(frame.columns) == ["High", "Low", "Open", "Close", "Volume", "Adj Close"]
    assert "column 'Name' is text and was left out" in data.notes
    assert data.freq == "B" and len(frame) == 1259
    assert frame["Adj Close"].iloc[0] == 100.38079071044922


@pytest.mark.parametrize("encoding, bom", [("utf-8", b"\xef\xbb\xbf"), ("latin-1", b"")])
def test_bom_semicolons_crlf_and_non_utf8_header(write_csv, encoding, bom):
    content = "Datum;Temp (\u00b0C);Wind\r\n" + "".join(
        f"2021-03-0{d} 00:00;{d}.5;{d * 2}\r\n" for d in range(1, 6))
    data = read_series(write_csv(bom + content.encode(encoding)), time_col="Datum")
    frame = data.frames["series"]
    assert list(frame.columns) == ["Temp (\u00b0C)", "Wind"]
    assert frame["Wind"].tolist() == [2.0, 4.0, 6.0, 8.0, 10.0]
    assert data.freq == "D"


def test_dataframe_with_timezone_offsets_is_converted_to_utc():
    frame = pd.DataFrame({"ts": ["2021-06-01 00:00+02:00", "2021-06-01 00:00+03:00",
                                 "2021-05-31 23:00+00:00", "2021-06-01 00:00+00:00"],
                          "v": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(DataError, match="row 1"):
        read_series(frame)  # the second row goes back in time
    data = read_series(frame, sort=True)
    index = data.frames["series"].index
    assert str(index.tz) == "UTC"
    assert list(index) == list(pd.date_range("2021-05-31 21:00", periods=4, freq="h", tz="UTC"))
    assert data.frames["series"]["v"].tolist() == [2.0, 1.0, 3.0, 4.0]


def test_reverse_chronological_file_is_reversed(write_csv):
    path = write_csv("Date,Close\n2020-01-03,3\n2020-01-02,2\n2020-01-01,1\n")
    data = read_series(path)
    assert data.frames["series"]["Close"].tolist() == [1.0, 2.0, 3.0]
    assert "rows were in reverse time order and were reversed" in data.notes


def test_long_layout_gives_one_series_per_id():
    frame = pd.DataFrame({"unique_id": ["a"] * 4 + ["b"] * 3,
                          "ds": list(pd.date_range("2020", periods=4, freq="D"))
                          + list(pd.date_range("2021", periods=3, freq="D")),
                          "y": np.arange(7.0), "temp": np.arange(7.0) * 10})
    data = read_series(frame, covariates="temp")
    assert data.ids == ["a", "b"] and data.target == ["y"] and data.covariates == ["temp"]
    assert data.frames["b"]["temp"].tolist() == [40.0, 50.0, 60.0]
    assert data.freq == "D"


def test_missing_values_and_gaps_filled_only_on_request(write_csv):
    path = write_csv("time,v\n2020-01-01 00:00,1\n2020-01-01 01:00,\n2020-01-01 02:00,3\n"
                     "2020-01-01 05:00,6\n2020-01-01 06:00,7\n")
    with pytest.raises(DataError, match="column 'v' has 1 missing values, first at line 3"):
        read_series(path)
    data = read_series(path, fill="interpolate")
    frame = data.frames["series"]
    assert len(frame) == 7 and data.freq == "h"
    assert frame["v"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    assert "2 missing timestamps added (gaps), first 2020-01-01 03:00:00" in data.notes
    assert "3 missing values filled (interpolate)" in data.notes
    ffilled = read_series(path, fill="ffill").frames["series"]["v"].tolist()
    assert ffilled == [1.0, 1.0, 3.0, 3.0, 3.0, 6.0, 7.0]


def test_parquet_round_trip(tmp_path):
    frame = pd.DataFrame({"v": [1.0, 2.0, 3.0]}, index=pd.date_range("2020", periods=3, freq="h"))
    frame.to_parquet(tmp_path / "s.parquet")
    data = read_series(tmp_path / "s.parquet")
    assert data.frames["s"]["v"].tolist() == [1.0, 2.0, 3.0] and data.freq == "h"
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(DataError, match="not a readable Parquet file"):
        read_series(tmp_path / "bad.parquet")


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_series(tmp_path / "absent.csv")


def day_month_file(days: range) -> str:
    return "date,v\n" + "".join(f"{d:02d}/01/2020,{d}\n" for d in days)


def test_day_first_dates_are_refused_until_the_order_is_given(write_csv):
    # read month first, 01/01 .. 12/01 would be January to December, then 13/01 fails at line 14
    path = write_csv(day_month_file(range(1, 20)))
    with pytest.raises(DataError, match=r"day-first dates \('13/01/2020' at line 14\); pass dayfirst=True"):
        read_series(path)
    data = read_series(path, dayfirst=True)
    assert data.frames[path.stem].index[12] == pd.Timestamp("2020-01-13") and data.freq == "D"
    assert read_series(path, date_format="%d/%m/%Y").frames[path.stem].index.equals(
        data.frames[path.stem].index)


def test_ambiguous_day_month_dates_are_refused_but_evident_month_first_ones_read(write_csv):
    ambiguous = write_csv(day_month_file(range(1, 10)), "ambiguous.csv")
    with pytest.raises(DataError, match=r"'01/01/2020' may be day/month or month/day; pass dayfirst=True"):
        read_series(ambiguous)
    us = write_csv("date,v\n" + "".join(f"01/{d:02d}/2020,{d}\n" for d in range(10, 20)), "us.csv")
    assert read_series(us).frames["us"].index[0] == pd.Timestamp("2020-01-10")


def test_epoch_seconds_and_decimal_commas(write_csv):
    epochs = write_csv("time,v\n" + "".join(f"{1577836800 + 3600 * i},{i}\n" for i in range(5)), "e.csv")
    with pytest.raises(DataError, match=r"cannot parse '1577836800' as a timestamp \(epoch seconds\? "
                                        r"pass date_unit='s'\)"):
        read_series(epochs)
    assert read_series(epochs, date_unit="s").frames["e"].index[1] == pd.Timestamp("2020-01-01 01:00")
    commas = write_csv("date;price\n2020-01-01;1,5\n2020-01-02;2,25\n2020-01-03;3,0\n", "c.csv")
    assert read_series(commas, decimal=",").frames["c"]["price"].tolist() == [1.5, 2.25, 3.0]


def test_a_long_file_with_unique_id_reads_back_without_flags(write_csv):
    rows = "".join(f"2020-01-0{d},{t},{d * k}\n" for t, k in (("A", 1), ("B", 10)) for d in range(1, 6))
    data = read_series(write_csv("date,unique_id,Close\n" + rows))
    assert data.ids == ["A", "B"] and data.target == ["Close"]
    assert data.frames["B"]["Close"].tolist() == [10.0, 20.0, 30.0, 40.0, 50.0]
