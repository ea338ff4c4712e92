"""An ensemble (``ensemble=N``): the mean forecast of N networks, each trained as a fit with its own
seed alone trains it, kept and loaded as one model."""

import numpy as np
import pandas as pd
import pytest
import torch

import forecast
from forecast.config import SettingError
from forecast.errors import DataError
from forecast.models.ensemble import MeanForecast


def cycle(rows: int = 500) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    t = np.arange(rows)
    y = np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.3, rows)
    return pd.DataFrame({"y": y}, index=pd.date_range("2023-01-01", periods=rows, freq="h"))


SETTINGS = dict(model="densenet-lstm", head="direct", lookback=48, horizon=12, hidden_size=16, batch_size=64,
                max_epochs=2, patience=None, calendar=None, seed=3)


@pytest.fixture(scope="module")
def fits(tmp_path_factory):
    """An ensemble of two, and the fits of seeds 3 and 4 alone."""
    frame, logs = cycle(), tmp_path_factory.mktemp("logs")
    ensemble = forecast.Forecaster(ensemble=2, log_dir=str(logs), **SETTINGS).fit(frame, val=0.2)
    alone = [forecast.Forecaster(**{**SETTINGS, "seed": seed}).fit(frame, val=0.2) for seed in (3, 4)]
    return frame, ensemble, alone, logs


def test_each_network_of_an_ensemble_is_the_network_its_seed_trains_alone(fits):
    _, ensemble, alone, _ = fits
    assert isinstance(ensemble.network_, MeanForecast) and len(ensemble.network_.networks) == 2
    for network, single in zip(ensemble.network_.networks, alone):
        ours, theirs = network.state_dict(), single.network_.state_dict()
        assert list(ours) == list(theirs) and all(torch.equal(ours[name], theirs[name]) for name in ours)
    assert ensemble.training_metrics_["networks"] == [single.training_metrics_ for single in alone]
    assert ensemble.data_.seed == 3  # the shuffle's seed is the run's again


def test_an_ensemble_forecasts_the_mean_of_its_networks(fits):
    frame, ensemble, alone, _ = fits
    own = [single.predict()["y"].to_numpy() for single in alone]
    assert not np.allclose(own[0], own[1])  # two networks, not one twice
    np.testing.assert_allclose(ensemble.predict()["y"].to_numpy(), np.mean(own, axis=0), rtol=1e-5)
    scores = [single.evaluate(part="val")["mse"] for single in alone]
    assert ensemble.evaluate(part="val")["mse"] <= max(scores)  # a mean errs no more than its worst part (convexity)


def test_an_ensemble_logs_each_network_apart_and_says_each_ones_notes(fits):
    _, ensemble, alone, logs = fits
    assert sorted(folder.name for folder in logs.iterdir()) == ["network-1", "network-2"]
    shared = [note for note in alone[0].notes_ if note in alone[1].notes_]
    own = [f"network {k + 1} of 2: {note}" for k, single in enumerate(alone)
           for note in single.notes_ if note not in shared]
    assert ensemble.notes_[:len(shared)] == shared and ensemble.notes_[len(shared):len(shared) + len(own)] == own


def test_an_ensemble_saves_and_loads_as_one_model(fits, tmp_path):
    frame, ensemble, _, _ = fits
    loaded = forecast.load(ensemble.save(tmp_path / "model.pt"))
    assert isinstance(loaded.network_, MeanForecast) and loaded.ensemble == 2
    pd.testing.assert_frame_equal(loaded.predict(frame), ensemble.predict(frame))


def test_an_ensemble_of_a_model_that_trains_nothing_or_resumed_from_a_checkpoint_file_is_refused(tmp_path):
    with pytest.raises(SettingError, match="ensemble averages trained networks; naive"):
        forecast.Forecaster(model="naive", ensemble=2)
    with pytest.raises(DataError, match="an ensemble continues from the log_dir of its stopped fit"):
        forecast.Forecaster(ensemble=2, **SETTINGS).fit(cycle(), resume_from=tmp_path / "last.ckpt")


def test_a_resumed_ensemble_reads_back_the_networks_that_finished(fits, tmp_path):
    import shutil

    frame, ensemble, _, logs = fits
    stopped = tmp_path / "logs"
    shutil.copytree(logs, stopped)
    shutil.rmtree(stopped / "network-2")  # stopped before network 2's first epoch ended
    resumed = forecast.Forecaster(ensemble=2, log_dir=str(stopped), **SETTINGS).fit(frame, val=0.2,
                                                                                    resume_from=stopped)
    assert resumed.training_metrics_ == ensemble.training_metrics_
    pd.testing.assert_frame_equal(resumed.predict(), ensemble.predict())
    assert (stopped / "network-2" / "trained.pt").is_file()


def test_a_network_stopped_while_its_result_is_written_leaves_no_half_file(tmp_path, monkeypatch):
    """A kill while network 1's result is written leaves no trained.pt that a resume would fail to read."""
    from pathlib import Path

    real_save = torch.save

    def stopped_while_writing(obj, file, *args, **kwargs):
        if isinstance(file, (str, Path)) and "trained.pt" in Path(file).name:
            Path(file).write_bytes(b"half a file")
            raise KeyboardInterrupt
        return real_save(obj, file, *args, **kwargs)

    monkeypatch.setattr(torch, "save", stopped_while_writing)
    with pytest.raises(KeyboardInterrupt):
        forecast.Forecaster(ensemble=2, log_dir=str(tmp_path), **SETTINGS).fit(cycle(), val=0.2)
    assert [path.name for path in (tmp_path / "network-1").iterdir() if "trained" in path.name] == []
