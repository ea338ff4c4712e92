import os
from pathlib import Path

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    # a worker shares the cores with the other: one thread each (set before torch is imported,
    # and inherited by the commands the tests start), or OpenMP threads spin against each other
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
if "FORECAST_DATA_DIR" not in os.environ and SHARED.is_dir():
    os.environ["FORECAST_DATA_DIR"] = str(SHARED)


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory, monkeypatch):
    """Downloads made by a test land in a fresh folder, never in the user's cache."""
    monkeypatch.setenv("FORECAST_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real datasets (ETTh1, Weather, stocks); tests that need them skip without them."""
    value = os.environ.get("FORECAST_DATA_DIR")
    if not value or not Path(value).is_dir():
        pytest.skip("FORECAST_DATA_DIR is not set to the datasets folder")
    return Path(value)


@pytest.fixture
def write_csv(tmp_path):
    """Write text (or bytes) to a CSV file in a temporary folder and return its path."""
    def write(content: str | bytes, name: str = "series.csv") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
        return path
    return write
