"""Fits on one machine share its cores: each takes an equal share of threads while it runs."""

import os
import subprocess
import sys

import pytest
import torch

from forecast.training.cores import CoreShare, fair_threads, live_fits


@pytest.mark.parametrize("ceiling, cores, fits, expected", [
    (2, 2, 1, 2), (2, 2, 2, 1), (2, 2, 3, 1), (16, 16, 3, 5), (4, 16, 2, 4), (1, 8, 1, 1), (8, 8, 0, 8),
])
def test_each_fit_takes_an_equal_share_at_least_one_at_most_its_own(ceiling, cores, fits, expected):
    assert fair_threads(ceiling, cores, fits) == expected


@pytest.fixture
def threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_a_fit_beside_another_live_fit_takes_half_the_cores_and_gives_them_back(tmp_path, threads, monkeypatch):
    monkeypatch.setattr("forecast.training.cores.cores", lambda: 4)
    torch.set_num_threads(4)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / str(other.pid)).touch()
        share = CoreShare(tmp_path)
        with share.sharing():
            assert (tmp_path / str(os.getpid())).is_file() and live_fits(tmp_path) == 2
            assert torch.get_num_threads() == 2
            other.kill()
            other.wait()
            share.recount()  # the other fit ended: its entry goes, its cores come back
            assert torch.get_num_threads() == 4 and not (tmp_path / str(other.pid)).exists()
        assert torch.get_num_threads() == 4 and not list(tmp_path.iterdir())
    finally:
        other.kill()


def test_a_users_own_thread_count_is_a_ceiling(tmp_path, threads, monkeypatch):
    monkeypatch.setattr("forecast.training.cores.cores", lambda: 8)
    torch.set_num_threads(1)
    with CoreShare(tmp_path).sharing():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == 1


def test_an_unwritable_folder_shares_nothing_and_trains_as_before(tmp_path, threads):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    torch.set_num_threads(2)
    with CoreShare(blocked / "fits").sharing() as share:
        assert share.entry is None and torch.get_num_threads() == 2


def test_a_fit_registers_while_it_trains(tmp_path, monkeypatch):
    """The Trainer carries the share: during training this process is one of the live fits."""
    import lightning as L
    import numpy as np
    import pandas as pd

    from forecast import Forecaster

    monkeypatch.setenv("FORECAST_FITS_DIR", str(tmp_path))
    seen = []
    original = CoreShare.recount

    def recount(self):
        seen.append(live_fits(tmp_path))
        original(self)

    monkeypatch.setattr(CoreShare, "recount", recount)
    times = pd.date_range("2024-01-01", periods=400, freq="h")
    frame = pd.DataFrame({"v": np.sin(np.arange(400) / 4)}, index=times)
    Forecaster(model="lstm", lookback=24, horizon=6, max_epochs=1, hidden_size=8).fit(frame)
    assert seen and all(count == 1 for count in seen) and not list(tmp_path.iterdir())
    assert isinstance(CoreShare(tmp_path), L.Callback)
