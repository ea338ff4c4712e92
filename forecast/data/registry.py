"""Named datasets: FORECAST_DATA_DIR first, then a checksum-verified download or yfinance, cached."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import lzma
import os
import warnings
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecast.atomic import write_atomically
from forecast.data.reading import read_series
from forecast.data.series import SeriesData
from forecast.errors import DataError


@dataclass(frozen=True)
class Dataset:
    """A registered file: where it lies under the data dir, where to fetch it, and its checksum."""

    path: str
    sha256: str
    url: str | None
    read_options: dict
    bundled: str | None = None  # an xz-compressed copy shipped inside the package


DATASETS = {
    "etth1": Dataset(
        "ett/ETTh1.csv",
        "f18de3ad269cef59bb07b5438d79bb3042d3be49bdeecf01c1cd6d29695ee066",
        "https://raw.githubusercontent.com/zhouhaoyi/ETDataset/main/ETT-small/ETTh1.csv",
        {},
        "ETTh1.csv.xz",  # CC BY-ND 4.0 allows verbatim redistribution; see bundled/NOTICE
    ),
    # No checksum-stable public mirror is known for the LTSF weather file; it is read from the
    # data dir only. Its one duplicated timestamp is kept so that row-based splits match the papers.
    "weather": Dataset(
        "weather/weather.csv",
        "34ee981d07313e51da2a50bb600072c8ae4a69cb4b0651f4cb93a069d7a2ba63",
        None,
        {"duplicates": "keep"},
    ),
}
STOCKS_DIR = "stocks/daily"
STOCK_EXCHANGE = "XNYS"  # the registry's stocks trade in New York: forecasts skip its holidays
BUNDLED = Path(__file__).parent / "bundled"


def data_dir() -> Path | None:
    """The folder named by FORECAST_DATA_DIR, if set."""
    value = os.environ.get("FORECAST_DATA_DIR")
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """Where downloads are kept: FORECAST_CACHE_DIR, else the user's cache folder."""
    value = os.environ.get("FORECAST_CACHE_DIR")
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "forecast"


def read_data(data, **options) -> SeriesData:
    """A path, DataFrame, SeriesData or registered dataset name as validated SeriesData; options
    that are None are left unset."""
    if isinstance(data, SeriesData):
        return data
    options = {key: value for key, value in options.items() if value is not None}
    if isinstance(data, (str, os.PathLike)) and not Path(data).exists() and is_registered(str(data)):
        return load_dataset(str(data), **options)
    return read_series(data, **options)


def is_registered(name: str) -> bool:
    """True for a registry name (``etth1``, ``weather``, ``stock:T``, ``stocks:T1,T2``)."""
    lowered = name.lower()
    return lowered in DATASETS or lowered.startswith(("stock:", "stocks:"))


def load_dataset(name: str, **read_options) -> SeriesData:
    """Load a named dataset: ``etth1``, ``weather``, ``stock:AAPL`` or ``stocks:AAPL,MSFT``.

    Stocks give one series per ticker (yfinance columns; the text ``Name`` column left out),
    dated on the New York Stock Exchange's sessions (``exchange="XNYS"``).
    Extra keyword arguments go to :func:`read_series` (``target=``, ``fill=``, ...).
    """
    lowered = name.lower()
    if lowered in DATASETS:
        dataset = DATASETS[lowered]
        path = dataset_path(lowered)
        return read_series(path, **{**dataset.read_options, **read_options})
    if lowered.startswith(("stock:", "stocks:")):
        tickers = [t.strip().upper() for t in name.split(":", 1)[1].split(",") if t.strip()]
        if not tickers:
            raise DataError(f"dataset '{name}': no ticker given (e.g. stock:AAPL)")
        frames = [stock_frame(ticker).assign(unique_id=ticker) for ticker in tickers]
        options = {"exchange": STOCK_EXCHANGE, **read_options}
        data = read_series(pd.concat(frames, ignore_index=True), time_col="Date",
                           id_col="unique_id", **options)
        data.name = name
        data.read_options = options  # the layout is the registry's own, not a read option of the user's
        return data
    known = ", ".join([*DATASETS, "stock:TICKER", "stocks:T1,T2"])
    raise DataError(f"unknown dataset '{name}'; known: {known}")


def dataset_path(name: str) -> Path:
    """The local path of a registered file: the data dir, the cache, or a fresh verified download."""
    dataset = DATASETS[name]
    local = data_dir()
    if local is not None and (local / dataset.path).is_file():
        return local / dataset.path
    cached = cache_dir() / dataset.path
    if cached.is_file() and _sha256(cached) == dataset.sha256:
        return cached
    if dataset.bundled:  # the package's own copy, checked like a download
        payload = lzma.decompress((BUNDLED / dataset.bundled).read_bytes())
        _check_sha256(payload, dataset.sha256, f"the bundled {dataset.bundled}")
        write_atomically(cached, lambda path: Path(path).write_bytes(payload))
        return cached
    where = f"$FORECAST_DATA_DIR/{dataset.path}" if local else \
        f"a folder named by FORECAST_DATA_DIR, as {dataset.path}"
    if dataset.url is None:
        raise DataError(f"dataset '{name}' not found and has no download source; put the file in "
                        f"{where} (it is the LTSF benchmark's weather.csv, sha256 "
                        f"{dataset.sha256[:12]}...)")
    try:
        _download(dataset.url, cached, dataset.sha256)
    except OSError as error:
        raise DataError(f"dataset '{name}' not found locally and its download failed ({error}); "
                        f"put the file in {where}") from None
    return cached


def stock_path(ticker: str) -> Path | None:
    """The local file of one ticker's daily prices: in the data dir, else the cache; None when neither has it."""
    for folder in (data_dir(), cache_dir()):
        if folder is not None and (folder / STOCKS_DIR / f"{ticker}.csv").is_file():
            return folder / STOCKS_DIR / f"{ticker}.csv"
    return None


def source_sha256(source: str) -> str:
    """The sha256 of the data behind ``source``: a file path, a dataset name (its registered
    checksum), or stock tickers (each local file's, shortened); 'unknown' otherwise."""
    if Path(source).is_file():
        return _sha256(Path(source))
    lowered = source.lower()
    if lowered in DATASETS:
        return DATASETS[lowered].sha256
    if lowered.startswith(("stock:", "stocks:")):
        paths = [stock_path(t.strip().upper()) for t in source.split(":", 1)[1].split(",") if t.strip()]
        return ", ".join(f"{path.name} {_sha256(path)[:16]}" for path in paths if path) or "unknown"
    return "unknown"


def stock_frame(ticker: str) -> pd.DataFrame:
    """Daily prices of one ticker in yfinance's layout: the data dir, the cache, then yfinance."""
    path = stock_path(ticker)
    if path is not None:
        return pd.read_csv(path)
    frame = _yfinance_download(ticker)
    target = cache_dir() / STOCKS_DIR / f"{ticker}.csv"
    write_atomically(target, lambda path: frame.to_csv(path, index=False))
    return frame


def from_yfinance(frame: pd.DataFrame, ticker: str) -> pd.DataFrame:
    """yfinance's download (flat or MultiIndex columns, Date index) as a flat table with a Date column."""
    if isinstance(frame.columns, pd.MultiIndex):
        level = next((i for i in range(frame.columns.nlevels)
                      if ticker in frame.columns.get_level_values(i)), None)
        if level is None:
            raise DataError(f"stock:{ticker}: yfinance returned no columns for this ticker")
        frame = frame.xs(ticker, axis=1, level=level)
    frame = frame.rename_axis(columns=None)
    if "Date" not in frame.columns:
        frame = frame.reset_index(names="Date")
    frame["Date"] = pd.to_datetime(frame["Date"]).dt.tz_localize(None)
    return frame.assign(Name=ticker)


def _yfinance_download(ticker: str) -> pd.DataFrame:
    with _silenced():  # the download library's own errors, warnings and prints: ours is one line
        import yfinance as yf  # imported on demand: slow, and only needed for downloads

        try:
            frame = yf.download(ticker, period="max", auto_adjust=False, progress=False)
        except Exception as error:  # yfinance wraps network failures in many types
            frame, reason = None, (str(error).strip() or type(error).__name__).splitlines()[0]
        else:
            reason = "no data returned (offline or unknown ticker)"
    if frame is None or frame.empty:
        raise DataError(f"stock:{ticker}: not found under $FORECAST_DATA_DIR/{STOCKS_DIR} and "
                        f"yfinance failed: {reason}")
    return from_yfinance(frame, ticker)


@contextlib.contextmanager
def _silenced():
    """Nothing of a download library reaches the user: its logger, warnings, stdout and stderr."""
    logger = logging.getLogger("yfinance")
    disabled = logger.disabled
    logger.disabled = True
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.disabled = disabled


def _download(url: str, target: Path, sha256: str) -> None:
    with urllib.request.urlopen(url, timeout=30) as response:
        payload = response.read()
    _check_sha256(payload, sha256, url)
    write_atomically(target, lambda path: Path(path).write_bytes(payload))


def _check_sha256(payload: bytes, sha256: str, source: str) -> None:
    digest = hashlib.sha256(payload).hexdigest()
    if digest != sha256:
        raise OSError(f"checksum mismatch for {source}: got {digest[:12]}..., "
                      f"expected {sha256[:12]}...")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
