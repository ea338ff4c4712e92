import io
import urllib.error
import urllib.request

import pandas as pd
import pytest

from forecast.data import registry
from forecast.data.registry import from_yfinance, load_dataset
from forecast.errors import DataError


def test_etth1_and_weather_load_from_the_data_dir(data_dir):
    etth1 = load_dataset("etth1")
    assert etth1.lengths() == {"ETTh1": 17420} and etth1.freq == "h"
    weather = load_dataset("weather")
    assert weather.lengths() == {"weather": 52696} and len(weather.target) == 21
    assert "1 duplicated timestamps kept, first 2020-05-12 06:00:00" in weather.notes


def test_stocks_load_as_one_series_per_ticker(data_dir):
    data = load_dataset("stocks:AAPL,msft", target="Adj Close")
    assert data.ids == ["AAPL", "MSFT"] and data.target == ["Adj Close"] and data.freq == "B"
    assert data.frames["AAPL"]["Adj Close"].iloc[0] == 100.38079071044922
    assert len(load_dataset("stock:GSPC_2000-2017").frames["GSPC_2000-2017"]) == 4528


def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("FORECAST_DATA_DIR", str(tmp_path / "empty"))

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


def _without_bundled_copy(monkeypatch):
    import dataclasses

    unbundled = dataclasses.replace(registry.DATASETS["etth1"], bundled=None)
    monkeypatch.setitem(registry.DATASETS, "etth1", unbundled)


def test_offline_without_the_file_is_one_clear_error(monkeypatch, tmp_path):
    _offline(monkeypatch, tmp_path)
    assert load_dataset("etth1").lengths() == {"ETTh1": 17420}  # the package's own copy
    _without_bundled_copy(monkeypatch)
    monkeypatch.setenv("FORECAST_CACHE_DIR", str(tmp_path / "fresh-cache"))
    with pytest.raises(DataError, match=r"dataset 'etth1' not found locally and its download "
                                        r"failed .*network is unreachable.*ett/ETTh1.csv"):
        load_dataset("etth1")
    with pytest.raises(DataError, match=r"has no download source; put the file in "
                                        r"\$FORECAST_DATA_DIR/weather/weather.csv"):
        load_dataset("weather")


def test_download_is_checksum_verified_and_cached(monkeypatch, tmp_path, data_dir):
    real = (data_dir / "ett" / "ETTh1.csv").read_bytes()
    calls = []

    def serve(payload):
        def urlopen(url, timeout):
            calls.append(url)
            return io.BytesIO(payload)
        return urlopen

    monkeypatch.setenv("FORECAST_DATA_DIR", str(tmp_path / "empty"))
    _without_bundled_copy(monkeypatch)
    monkeypatch.setattr(urllib.request, "urlopen", serve(real[:-10] + b"tampered!\n"))
    with pytest.raises(DataError, match="checksum mismatch"):
        load_dataset("etth1")
    assert not (registry.cache_dir() / "ett" / "ETTh1.csv").exists()

    monkeypatch.setattr(urllib.request, "urlopen", serve(real))
    assert load_dataset("etth1").lengths() == {"ETTh1": 17420}
    assert (registry.cache_dir() / "ett" / "ETTh1.csv").read_bytes() == real
    load_dataset("etth1")  # the second load reads the verified cache
    assert calls == [registry.DATASETS["etth1"].url] * 2


def _yfinance_frame(multiindex: bool) -> pd.DataFrame:
    index = pd.DatetimeIndex(pd.date_range("2024-01-02", periods=4, freq="B"), name="Date")
    prices = {"Adj Close": [1.0, 2.0, 3.0, 4.0], "Close": [1.5, 2.5, 3.5, 4.5],
              "Volume": [10, 20, 30, 40]}
    frame = pd.DataFrame(prices, index=index)
    if multiindex:  # yfinance >= 0.2.48: (Price, Ticker) column levels
        frame.columns = pd.MultiIndex.from_product([frame.columns, ["NVDA"]], names=["Price", "Ticker"])
    return frame


@pytest.mark.parametrize("multiindex", [False, True])
def test_yfinance_layouts_are_flattened_and_cached(monkeypatch, tmp_path, multiindex):
    import yfinance

    monkeypatch.setenv("FORECAST_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: _yfinance_frame(multiindex))
    data = load_dataset("stock:NVDA", target="Adj Close")
    assert data.frames["NVDA"]["Adj Close"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert (registry.cache_dir() / "stocks" / "daily" / "NVDA.csv").is_file()
    flat = from_yfinance(_yfinance_frame(multiindex), "NVDA")
    assert list(flat.columns) == ["Date", "Adj Close", "Close", "Volume", "Name"]


def test_yfinance_offline_is_one_clear_error(monkeypatch, tmp_path):
    import yfinance

    monkeypatch.setenv("FORECAST_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(yfinance, "download", lambda *a, **k: pd.DataFrame())
    with pytest.raises(DataError, match=r"stock:ZZZZ: not found under \$FORECAST_DATA_DIR/stocks/daily "
                                        r"and yfinance failed: no data returned"):
        load_dataset("stock:ZZZZ")


def test_unknown_dataset_name():
    with pytest.raises(DataError, match="unknown dataset 'ettx'; known: etth1, weather"):
        load_dataset("ettx")
