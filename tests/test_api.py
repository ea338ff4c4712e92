import numpy as np
import pandas as pd
import pytest
import torch

import forecast
from forecast.data import SeriesDataModule, Split, WindowSpec, read_series, split_by_fraction
from forecast.errors import DataError


def noisy_sine(rows: int = 1200, seed: int = 0, noise: float = 0.1) -> pd.DataFrame:
    """y = sin(2 pi t / 24) + 0.5 * temp + noise, with temp a slow random walk (a real covariate)."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    temp = np.cumsum(rng.normal(0, 0.05, rows))
    y = np.sin(2 * np.pi * t / 24) + 0.5 * temp + rng.normal(0, noise, rows)
    return pd.DataFrame({"y": y, "temp": temp}, index=pd.date_range("2023-01-01", periods=rows, freq="h"))


SMALL = dict(lookback=48, horizon=12, hidden_size=32, batch_size=64, lr=3e-3, patience=None,
             calendar=None, seed=0)


def test_a_noisy_sine_with_a_covariate_is_learned():
    frame = noisy_sine()
    model = forecast.Forecaster(model="densenet-lstm", head="direct", target="y", covariates=["temp"],
                                max_epochs=8, **SMALL).fit(frame, val=0.15, test=0.15)
    result = model.evaluate(part="test")
    # Naive errs by a sine difference over 1..12 hours (MSE near 1 for unit amplitude); the noise
    # floor is 2 x 0.1^2 from noise in both the window's last value and the target. A model that
    # learned the cycle must land far below naive: a quarter of it leaves ample margin.
    assert result["mse"] < 0.25 * result["naive_mse"], result
    assert result["windows"] == int(1200 * 0.15) - 12 + 1


def test_quantiles_are_ordered_and_cover_about_right():
    frame = noisy_sine(rows=1500, noise=0.3)
    model = forecast.Forecaster(model="densenet-lstm", head="direct", target="y", covariates=["temp"],
                                quantiles=[0.1, 0.5, 0.9], max_epochs=10, **SMALL)
    model.fit(frame, val=0.15, test=0.15)
    result = model.evaluate(part="test")
    assert 0.65 < result["coverage"] < 0.95, result  # nominal 0.8 for the 10%-90% band
    out = model.predict()
    assert list(out.columns) == ["y", "y_q0.1", "y_q0.5", "y_q0.9"]
    assert (out["y_q0.1"] <= out["y_q0.5"]).all() and (out["y_q0.5"] <= out["y_q0.9"]).all()
    assert (out["y"] == out["y_q0.5"]).all()


def test_no_look_ahead_changing_the_future_never_changes_a_forecast():
    frame = noisy_sine(rows=400)
    model = forecast.Forecaster(model="densenet-lstm", target="y", covariates=["temp"], max_epochs=1,
                                **{**SMALL, "calendar": "auto"}).fit(frame, val=0.2)
    origin = 300
    changed = frame.copy()
    changed.iloc[origin:] = np.random.default_rng(1).normal(50, 10, size=(len(frame) - origin, 2))
    forecasts = []
    for data in (frame, changed):
        series = read_series(data, target="y", covariates=["temp"])
        module = model._datamodule(series, {"series": Split(0, 0, len(data))})  # all windows: test
        module.setup()
        dataset = module.datasets["test"]
        rows = [i for i, o in enumerate(dataset.origins.tolist()) if o <= origin]
        forecasts.append(model._forecast(module, "test")[0][rows])
    assert np.array_equal(forecasts[0], forecasts[1])
    # and the scaler saw only training rows: the same after the change
    assert np.array_equal(model.predict(frame.iloc[:origin]).to_numpy(),
                          model.predict(changed.iloc[:origin]).to_numpy())


def test_save_load_gives_identical_predictions_and_checks_the_schema(tmp_path):
    frame = noisy_sine(rows=400)
    model = forecast.Forecaster(model="densenet-lstm", target="y", covariates=["temp"], max_epochs=1,
                                **{**SMALL, "calendar": "auto"}).fit(frame, val=0.2)
    path = model.save(tmp_path / "model.pt")
    checkpoint = torch.load(path, weights_only=True)  # nothing executable inside
    assert checkpoint["schema"]["target"] == ["y"] and checkpoint["schema"]["freq"] == "h"
    loaded = forecast.load(path)
    before, after = model.predict(frame), loaded.predict(frame)
    pd.testing.assert_frame_equal(before, after)
    assert before.index[0] == frame.index[-1] + pd.Timedelta(hours=1) and len(before) == 12
    assert np.isfinite(before.to_numpy()).all()
    other = frame.rename(columns={"temp": "pressure"})
    with pytest.raises(DataError, match=r"column 'temp' not found.*the model was trained on y, temp"):
        loaded.predict(other)
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(DataError, match="not a forecast model file"):
        forecast.load(tmp_path / "junk.pt")


@pytest.mark.parametrize("name", ["naive", "drift", "seasonal-naive", "linear", "dlinear", "lstm",
                                  "resnet-lstm", "densenet2d-lstm"])
def test_every_model_name_fits_and_forecasts(name):
    frame = noisy_sine(rows=300)
    model = forecast.Forecaster(model=name, target="y", max_epochs=1, season=24, **SMALL)
    out = model.fit(frame, val=0.2).predict()
    assert out.shape == (12, 1) and np.isfinite(out.to_numpy()).all()
    assert model.evaluate(part="val")["windows"] == 60 - 12 + 1


def test_several_series_forecast_by_id():
    frames = [noisy_sine(rows=300, seed=s).reset_index(names="ds").assign(unique_id=f"s{s}")
              .rename(columns={"y": "y"}) for s in range(2)]
    long = pd.concat(frames)[["unique_id", "ds", "y", "temp"]]
    model = forecast.Forecaster(model="linear", max_epochs=1, **SMALL).fit(long, val=0.2)
    out = model.predict()
    assert out.index.names == ["unique_id", "time"] and len(out) == 24
    assert list(out.columns) == ["y"]


def test_ddp_evaluation_shards_count_every_window_once():
    frame = noisy_sine(rows=300)
    series = read_series(frame)
    module = SeriesDataModule(series, WindowSpec(24, 6), split_by_fraction(series, 0.6, 0.2, 0.2))

    class FakeTrainer:
        world_size = 2

        def __init__(self, rank):
            self.global_rank = rank
    seen = []
    for rank in (0, 1):
        module.trainer = FakeTrainer(rank)
        seen += [w for batch in module.val_dataloader() for w in batch["window"].tolist()]
    assert sorted(seen) == list(range(len(module.datasets["val"])))


def test_linear_without_validation_windows_and_a_second_fit():
    frame = noisy_sine(rows=300)
    model = forecast.Forecaster(model="linear", target="y", **SMALL).fit(frame, val=1e-9)
    assert model.windows["val"] == 0 and np.isfinite(model.predict().to_numpy()).all()
    again = forecast.Forecaster(model="naive", **SMALL).fit(frame, val=0.2)
    assert again.schema["target"] == ["y", "temp"]
    renamed = frame.rename(columns={"temp": "pressure"})
    assert again.fit(renamed, val=0.2).schema["target"] == ["y", "pressure"]


def test_known_future_covariates_are_fitted_and_must_be_given_to_predict():
    frame = noisy_sine(rows=400).assign(promo=lambda f: (np.arange(len(f)) % 7 == 0).astype(float))
    model = forecast.Forecaster(model="densenet-lstm", target="y", future_covariates=["promo"],
                                max_epochs=1, **SMALL).fit(frame, val=0.2)
    assert model.schema["future_covariates"] == ["promo"]
    with pytest.raises(DataError, match=r"needs the next 12 values of promo"):
        model.predict()
    out = model.predict(future=pd.DataFrame({"promo": np.ones(12)}))
    assert out.shape == (12, 1) and np.isfinite(out.to_numpy()).all()
