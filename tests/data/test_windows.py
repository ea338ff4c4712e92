import numpy as np
import pandas as pd
import pytest
import torch

from forecast.data import (SeriesDataModule, WindowDataset, WindowSpec, load_dataset, ltsf_split,
                           read_series, split_by_count, split_by_fraction, split_by_time)
from forecast.data.calendar import calendar_features
from forecast.errors import DataError


def test_etth1_ltsf_split_and_window_counts(data_dir):
    data = load_dataset("etth1")
    split = ltsf_split(data, "etth1")["ETTh1"]
    assert (split.train_end, split.val_end, split.test_end) == (8640, 11520, 14400)
    module = SeriesDataModule(data, WindowSpec(336, 96), ltsf_split(data, "etth1"))
    module.setup()
    counts = {part: len(module.datasets[part]) for part in ("train", "val", "test")}
    assert counts == {"train": 8640 - 336 - 96 + 1, "val": 2785, "test": 2785}
    # val and test look-backs reach back into the previous part, as in the LTSF code
    assert module.origins("val")[0] == ("ETTh1", 8640)
    assert module.origins("test")[-1] == ("ETTh1", 14400 - 96)


def test_weather_ltsf_split_is_70_10_20_of_rows(data_dir):
    data = load_dataset("weather")
    split = ltsf_split(data, "weather")["weather"]
    assert (split.train_end, split.val_end, split.test_end) == (36887, 42157, 52696)


def _frame(values: np.ndarray, start="2021-01-01", freq="h") -> pd.DataFrame:
    index = pd.date_range(start, periods=len(values), freq=freq)
    return pd.DataFrame(values, index=index, columns=[f"c{i}" for i in range(values.shape[1])])


def test_windows_equal_hand_made_slices():
    values = np.random.default_rng(0).normal(size=(50, 3))
    data = read_series(_frame(values))
    spec = WindowSpec(lookback=7, horizon=4, stride=3)
    module = SeriesDataModule(data, spec, split_by_count(data, 30, 10, 10), target=["c2"],
                              calendar=["hour"], scaler="none")
    module.setup()
    train = module.datasets["train"]
    assert train.origins.tolist() == list(range(7, 30 - 4 + 1, 3))
    for i, origin in enumerate(train.origins.tolist()):
        item = train[i]
        assert torch.equal(item["x"], torch.tensor(values[origin - 7:origin][:, [2, 0, 1]], dtype=torch.float32))
        assert torch.equal(item["y"], torch.tensor(values[origin:origin + 4, [2]], dtype=torch.float32))
        hours = data.frames["series"].index[origin:origin + 4].hour.to_numpy()
        assert np.allclose(item["f"].numpy(), np.stack([np.sin(2 * np.pi * hours / 24),
                                                        np.cos(2 * np.pi * hours / 24)], 1), atol=1e-6)
    batch = next(iter(module.val_dataloader()))
    assert batch["x"].shape == (len(module.datasets["val"]), 7, 3)
    assert batch["y"].shape == (len(module.datasets["val"]), 4, 1) and batch["f"].shape[2] == 2


def test_no_window_crosses_a_series_boundary():
    # each value encodes (series, row), so a window's rows show where they came from
    lengths = {"a": 40, "b": 25, "c": 33}
    frames = [pd.DataFrame({"unique_id": sid, "ds": pd.date_range("2020", periods=n, freq="D"),
                            "y": 1000.0 * k + np.arange(n)}) for k, (sid, n) in enumerate(lengths.items())]
    data = read_series(pd.concat(frames))
    spec = WindowSpec(6, 3)
    module = SeriesDataModule(data, spec, split_by_fraction(data, 0.6, 0.2, 0.2), scaler="none",
                              calendar=None)
    module.setup()
    total = 0
    for part in ("train", "val", "test"):
        dataset = module.datasets[part]
        batch = dataset.__getitems__(list(range(len(dataset))))
        rows = torch.cat([batch["x"], batch["y"]], dim=1)[:, :, 0].numpy()
        series = rows // 1000
        assert (series == series[:, :1]).all(), f"a {part} window crosses series"
        assert (np.diff(rows, axis=1) == 1).all(), f"a {part} window skips rows"
        total += len(dataset)
    # every window appears once, except those whose targets would straddle two parts:
    # horizon - 1 origins at each of the two inner boundaries of every series
    assert total == sum(n - (6 + 3) + 1 - 2 * (3 - 1) for n in lengths.values())
    # every train window ends inside its series' training rows
    for sid, row in module.origins("train"):
        assert row + 3 <= module.split[sid].train_end


def test_channel_independent_samples_are_single_channels():
    values = np.random.default_rng(1).normal(size=(30, 4))
    data = read_series(_frame(values))
    module = SeriesDataModule(data, WindowSpec(5, 2), split_by_count(data, 20, 5, 5),
                              scaler="none", calendar=None, channel_independent=True)
    module.setup()
    dense = SeriesDataModule(data, WindowSpec(5, 2), split_by_count(data, 20, 5, 5),
                             scaler="none", calendar=None)
    dense.setup()
    ci, full = module.datasets["train"], dense.datasets["train"]
    assert len(ci) == 4 * len(full)
    batch = ci.__getitems__(list(range(len(ci))))
    assert batch["x"].shape == (len(ci), 5, 1) and batch["y"].shape == (len(ci), 2, 1)
    for index in [0, 5, 13, len(ci) - 1]:
        window, channel = divmod(index, 4)
        assert torch.equal(batch["x"][index, :, 0], full[window]["x"][:, channel])
        assert torch.equal(batch["y"][index, :, 0], full[window]["y"][:, channel])
        assert batch["channel"][index] == channel


def test_predict_window_ends_at_the_data_and_needs_future_covariates():
    values = np.random.default_rng(2).normal(size=(40, 2))
    data = read_series(_frame(values), covariates=["c1"])
    spec = WindowSpec(8, 5)
    module = SeriesDataModule(data, spec, split_by_count(data, 30, 5, 5), target=["c0"],
                              future_covariates=["c1"], calendar=["hour"], scaler="none")
    with pytest.raises(DataError, match=r"predicting series 'series' needs c1 at the 5 timestamps"):
        module.setup()
    ahead = pd.date_range(data.frames["series"].index[-1], periods=6, freq="h")[1:]
    future = pd.DataFrame({"c1": np.arange(5.0)}, index=ahead)
    module = SeriesDataModule(data, spec, split_by_count(data, 30, 5, 5), target=["c0"],
                              future_covariates=["c1"], calendar=["hour"], scaler="none",
                              future={"series": future})
    module.setup()
    item = module.datasets["predict"][0]
    assert torch.equal(item["x"], torch.tensor(values[-8:, :1], dtype=torch.float32))
    assert torch.equal(item["f"][:, 0], torch.arange(5.0))
    expected = calendar_features(ahead, ["hour"]).to_numpy()
    assert np.allclose(item["f"][:, 1:].numpy(), expected, atol=1e-6)
    assert "y" not in item


def test_shuffle_order_follows_the_seed():
    data = read_series(_frame(np.random.default_rng(3).normal(size=(200, 1))))

    def first_windows(seed):
        module = SeriesDataModule(data, WindowSpec(10, 2), batch_size=16, seed=seed)
        return next(iter(module.train_dataloader()))["window"].tolist()
    assert first_windows(7) == first_windows(7)
    assert first_windows(7) != first_windows(8)


def test_too_short_for_lookback_and_horizon_names_the_series():
    data = read_series(_frame(np.ones((20, 1))))
    module = SeriesDataModule(data, WindowSpec(12, 4), split_by_count(data, 14, 3, 3))
    with pytest.raises(DataError, match=r"series 'series' has 14 training rows; lookback 12 \+ "
                                        r"horizon 4 needs at least 16"):
        module.setup()


def test_split_by_time_and_bad_counts():
    data = read_series(_frame(np.ones((48, 1))))
    split = split_by_time(data, "2021-01-02 00:00", "2021-01-02 12:00")["series"]
    assert (split.train_end, split.val_end, split.test_end) == (24, 36, 48)
    with pytest.raises(DataError, match="has 48 rows, fewer than 40 \\+ 5 \\+ 5"):
        split_by_count(data, 40, 5, 5)


def test_window_spec_rejects_nonsense():
    with pytest.raises(ValueError, match="lookback must be a positive integer"):
        WindowSpec(0, 3)
    with pytest.raises(ValueError, match="outside the arrays"):
        WindowDataset(torch.zeros(10, 1), np.array([9]), WindowSpec(3, 2))


def test_train_stride_thins_training_windows_only():
    values = np.random.default_rng(1).normal(size=(60, 2))
    data = read_series(_frame(values))
    split = split_by_count(data, 40, 10, 10)
    every = SeriesDataModule(data, WindowSpec(8, 3), split, scaler="none")
    thinned = SeriesDataModule(data, WindowSpec(8, 3), split, scaler="none", train_stride=5)
    every.setup(), thinned.setup()
    assert thinned.datasets["train"].origins.tolist() == list(range(8, 40 - 3 + 1, 5))
    assert every.datasets["train"].origins.tolist()[::5] == thinned.datasets["train"].origins.tolist()
    assert torch.equal(thinned.datasets["train_every"].origins, every.datasets["train"].origins)
    for part in ("val", "test"):
        assert torch.equal(thinned.datasets[part].origins, every.datasets[part].origins)


def test_nbytes_counts_every_array_the_windows_read():
    inputs = torch.zeros(50, 3)
    dataset = WindowDataset(inputs, np.arange(5, 40), WindowSpec(5, 3), inputs[:, :2], torch.zeros(50, 4))
    assert dataset.nbytes == 4 * 50 * (3 + 2 + 4)
    assert WindowDataset(inputs, np.arange(5, 40), WindowSpec(5, 3)).nbytes == 4 * 50 * 3


def test_a_datamodule_without_a_gpu_trainer_serves_its_windows_where_they_are():
    data = read_series(_frame(np.random.default_rng(0).normal(size=(60, 2))))
    module = SeriesDataModule(data, WindowSpec(5, 3), split_by_count(data, 40, 10, 10))
    module.setup("fit")
    assert module.placed("train") is module.datasets["train"]
