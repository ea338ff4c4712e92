import warnings

import numpy as np
import pandas as pd
import pytest
import torch

import forecast
from forecast.data import Split, read_series
from forecast.errors import DataError
from forecast.evaluation.inference import forecast_windows


def noisy_sine(rows: int = 1200, seed: int = 0, noise: float = 0.1) -> pd.DataFrame:
    """y = sin(2 pi t / 24) + 0.5 * temp + noise, with temp a slow random walk (a real covariate)."""
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    temp = np.cumsum(rng.normal(0, 0.05, rows))
    y = np.sin(2 * np.pi * t / 24) + 0.5 * temp + rng.normal(0, noise, rows)
    return pd.DataFrame({"y": y, "temp": temp}, index=pd.date_range("2023-01-01", periods=rows, freq="h"))


SMALL = dict(lookback=48, horizon=12, hidden_size=32, batch_size=64, lr=3e-3, patience=None,
             calendar=None, seed=0)


@pytest.mark.slow
def test_the_densenet_learns_the_cycle_without_the_linear_highway():
    frame = noisy_sine()
    model = forecast.Forecaster(model="densenet-lstm", head="direct", target="y", covariates=["temp"],
                                highway=None, max_epochs=20, **SMALL).fit(frame, val=0.15, test=0.15)
    result = model.evaluate(part="test")
    assert result["windows"] == int(1200 * 0.15) - 12 + 1
    # With the highway off, the look-back reaches the forecast only through the encoder: RevIN
    # alone (a silent encoder) forecasts the window's mean, which errs by the sine's variance.
    y = frame["y"].to_numpy()
    origins = range(1200 - 180, 1200 - 12 + 1)
    window_mean = np.array([np.full(12, y[o - 48:o].mean()) for o in origins])
    truth = np.array([y[o:o + 12] for o in origins])
    silent_encoder = np.mean((window_mean - truth) ** 2)
    assert result["mse"] < 0.25 * silent_encoder and result["mse"] < 0.25 * result["naive_mse"], result


@pytest.mark.slow
def test_quantiles_are_ordered_and_cover_about_right():
    frame = noisy_sine(rows=1500, noise=0.3)
    model = forecast.Forecaster(model="densenet-lstm", head="direct", target="y", covariates=["temp"],
                                quantiles=[0.1, 0.5, 0.9], max_epochs=10, **SMALL)
    model.fit(frame, val=0.15, test=0.15)
    result = model.evaluate(part="test")
    assert result["coverage_nominal"] == 0.8 and 0.65 < result["coverage"] < 0.95, result
    out = model.predict()
    assert list(out.columns) == ["y", "y_q0.1", "y_q0.5", "y_q0.9"]
    assert (out["y_q0.1"] <= out["y_q0.5"]).all() and (out["y_q0.5"] <= out["y_q0.9"]).all()
    assert (out["y"] == out["y_q0.5"]).all()


def test_quantiles_without_the_median_still_forecast_the_median():
    frame = noisy_sine(rows=400)
    model = forecast.Forecaster(model="lstm", target="y", quantiles=[0.9, 0.1], max_epochs=1,
                                **SMALL).fit(frame, val=0.2)
    out = model.predict()
    assert list(out.columns) == ["y", "y_q0.1", "y_q0.5", "y_q0.9"]
    assert (out["y"] == out["y_q0.5"]).all() and (out["y"] > out["y_q0.1"]).all()
    # evaluate's point errors are the median's
    module = model.data_
    forecasts, truth = forecast_windows(model.network_, module.datasets["val"], module.target_scaler)
    assert model.evaluate(part="val")["mse"] == pytest.approx(np.mean((forecasts[..., 1] - truth) ** 2))
    for bad in ([0.0, 0.5], [0.5, 1.2]):
        with pytest.raises(ValueError, match="strictly between 0 and 1"):
            forecast.Forecaster(quantiles=bad)
    with pytest.raises(ValueError, match="quantiles needs a model with an LSTM head"):
        forecast.Forecaster(model="linear", quantiles=[0.1, 0.9])


def test_evaluate_scores_only_windows_after_every_row_training_and_validation_saw():
    frame = noisy_sine(rows=400)
    model = forecast.Forecaster(model="linear", target="y", **SMALL).fit(frame, val=0.2, test=0.1)
    # rows 0..279 train, 280..359 validate (they chose the ridge's alpha), 360..399 are held out
    assert model.schema_.train_end == {"series": "2023-01-12T15:00:00"}  # hour 279
    assert model.schema_.seen_end == {"series": "2023-01-15T23:00:00"}  # hour 359
    held_out = model.evaluate(frame)
    assert held_out["windows"] == 400 - 360 - 12 + 1 and held_out["part"] == "held out"
    assert held_out["mse"] == pytest.approx(model.evaluate(part="test")["mse"])
    everything = model.evaluate(frame, in_sample=True)
    assert everything["windows"] == 400 - 48 - 12 + 1 and everything["in_sample"]
    with pytest.raises(DataError, match="after the rows that training and validation saw; in_sample=True"):
        model.evaluate(frame.iloc[:371])  # the validation windows are never scored as held out


def test_evaluate_after_loading_uses_the_stored_ends(tmp_path):
    frame = noisy_sine(rows=400)
    model = forecast.Forecaster(model="densenet-lstm", target="y", max_epochs=1, **SMALL).fit(frame, val=0.2)
    loaded = forecast.load(model.save(tmp_path / "model.pt"))
    assert loaded.schema_.seen_end == model.schema_.seen_end == {"series": "2023-01-17T15:00:00"}
    longer = noisy_sine(rows=460)
    assert loaded.evaluate(longer) == model.evaluate(longer)
    assert loaded.evaluate(longer)["windows"] == 460 - 400 - 12 + 1


@pytest.mark.parametrize("val", [0.0, 0.05])  # none asked for; 10 rows, too few for a window
def test_a_fit_without_validation_windows_trains_every_epoch_and_says_so(capfd, val):
    frame = noisy_sine(rows=200)
    model = forecast.Forecaster(model="densenet-lstm", target="y", max_epochs=3,
                                **{**SMALL, "patience": 2}).fit(frame, val=val)
    assert len(model.data_.datasets["val"]) == 0
    assert model.notes_ == ["no validation windows: trained for all 3 epochs without early "
                            "stopping or checkpoint selection"]
    assert np.isfinite(model.predict().to_numpy()).all()
    assert capfd.readouterr() == ("", "")


def test_fit_and_predict_print_nothing_and_warn_nothing(capfd):
    frame = noisy_sine(rows=300)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = forecast.Forecaster(model="densenet-lstm", target="y", max_epochs=2,
                                    **SMALL).fit(frame, val=0.2)
        model.predict()
        with pytest.raises(DataError, match="cannot parse 'yesterday'"):
            read_series(pd.DataFrame({"date": ["2020-01-01", "yesterday", "2020-01-03"], "y": [1, 2, 3]}))
    assert capfd.readouterr() == ("", "")
    assert [str(w.message) for w in caught] == []


def test_fit_leaves_the_deterministic_switches_as_it_found_them():
    before = torch.are_deterministic_algorithms_enabled(), torch.utils.deterministic.fill_uninitialized_memory
    forecast.Forecaster(model="lstm", target="y", max_epochs=1, **SMALL).fit(noisy_sine(rows=300))
    assert (torch.are_deterministic_algorithms_enabled(), torch.utils.deterministic.fill_uninitialized_memory) == before


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
        module = model.schema_.module(series, {"series": Split(0, 0, len(data))}, model._settings(),
                                      model.scalers_)
        module.setup("test")
        dataset = module.datasets["test"]
        rows = [i for i, o in enumerate(dataset.origins.tolist()) if o <= origin]
        forecasts.append(forecast_windows(model.network_, dataset, module.target_scaler)[0][rows])
    assert np.array_equal(forecasts[0], forecasts[1])


def test_scalers_and_the_ridge_start_see_only_training_rows():
    frame = noisy_sine(rows=400)
    changed = frame.copy()
    changed.iloc[320:] *= 100  # every row after the training part (0.8 of 400 rows)
    fits = [forecast.Forecaster(model="densenet-lstm", target="y", max_epochs=0, **SMALL)
            .fit(data, val=0.0, test=0.2) for data in (frame, changed)]
    assert fits[0].scalers_[0].state() == fits[1].scalers_[0].state()
    weights = [fit.network_.highway.weight for fit in fits]
    assert weights[0].abs().sum() > 0 and torch.equal(weights[0], weights[1])
    # and the test part did change: the models do not score the same on it
    assert fits[0].evaluate(part="test")["mse"] != fits[1].evaluate(part="test")["mse"]


def test_a_train_stride_thins_gradient_descent_only_the_ridge_fits_read_every_training_window():
    frame = noisy_sine(rows=400)
    starts = [forecast.Forecaster(model="densenet-lstm", target="y", max_epochs=0, train_stride=stride,
                                  **SMALL).fit(frame) for stride in (1, 7)]
    assert len(starts[1].data_.datasets["train"]) < len(starts[0].data_.datasets["train"]) / 6
    assert torch.equal(starts[0].network_.highway.weight, starts[1].network_.highway.weight)
    ridges = [forecast.Forecaster(model="linear", target="y", train_stride=stride, **SMALL)
              .fit(frame, test=0.2) for stride in (1, 7)]
    assert ridges[0].evaluate(part="test")["mse"] == ridges[1].evaluate(part="test")["mse"]


@pytest.mark.parametrize("name", ["naive", "drift", "seasonal-naive", "linear", "dlinear", "lstm",
                                  "resnet-lstm", "densenet2d-lstm"])
def test_every_model_name_fits_and_forecasts(name):
    frame = noisy_sine(rows=300)
    model = forecast.Forecaster(model=name, target="y", max_epochs=1, season=24, **SMALL)
    out = model.fit(frame, val=0.2).predict()
    y = frame["y"].to_numpy()
    exact = {"naive": np.full(12, y[-1]), "seasonal-naive": y[-24:-12],
             "drift": y[-1] + np.arange(1, 13) * (y[-1] - y[-48]) / 47}
    assert out.shape == (12, 1) and out.index[0] == frame.index[-1] + pd.Timedelta(hours=1)
    if name in exact:
        assert np.allclose(out["y"].to_numpy(), exact[name])
    else:  # a forecast of the series, not of something else: within its range
        assert np.abs(out["y"].to_numpy()).max() < 3 * np.abs(y).max()
    assert model.evaluate(part="val")["windows"] == 60 - 12 + 1


def test_several_series_forecast_by_id():
    frames = [noisy_sine(rows=300, seed=s).reset_index(names="ds").assign(unique_id=f"s{s}")
              for s in range(2)]
    long = pd.concat(frames)[["unique_id", "ds", "y", "temp"]]
    model = forecast.Forecaster(model="naive", **SMALL).fit(long, val=0.2)
    out = model.predict()
    assert out.index.names == ["unique_id", "time"] and len(out) == 24
    assert list(out.columns) == ["y"]
    assert out.loc["s1", "y"].iloc[0] == pytest.approx(frames[1]["y"].iloc[-1], rel=1e-6)
    # roles given by name work in long format whatever else is given
    with_covariate = forecast.Forecaster(model="linear", covariates=["temp"], **SMALL).fit(long, val=0.2)
    assert with_covariate.schema_.target == ["y"] and with_covariate.schema_.past_covariates == ["temp"]


def test_linear_without_validation_windows_and_a_second_fit():
    frame = noisy_sine(rows=300)
    model = forecast.Forecaster(model="linear", target="y", **SMALL).fit(frame, val=1e-9)
    assert len(model.data_.datasets["val"]) == 0 and np.isfinite(model.predict().to_numpy()).all()
    again = forecast.Forecaster(model="naive", **SMALL).fit(frame, val=0.2)
    assert again.schema_.target == ["y", "temp"]
    renamed = frame.rename(columns={"temp": "pressure"})
    assert again.fit(renamed, val=0.2).schema_.target == ["y", "pressure"]


def test_known_future_covariates_are_matched_by_timestamp():
    frame = noisy_sine(rows=400).assign(promo=lambda f: (np.arange(len(f)) % 7 == 0).astype(float))
    model = forecast.Forecaster(model="densenet-lstm", target="y", future_covariates=["promo"],
                                max_epochs=1, **SMALL).fit(frame, val=0.2)
    assert model.schema_.future_covariates == ["promo"]
    ahead = pd.date_range(frame.index[-1], periods=13, freq="h")[1:]
    with pytest.raises(DataError, match=r"needs promo at the 12 timestamps from 2023-01-17 16:00"):
        model.predict()
    shifted = pd.DataFrame({"promo": np.ones(12)}, index=ahead + pd.Timedelta(days=30))
    with pytest.raises(DataError, match="12 of them are missing or not numbers, first 2023-01-17 16:00"):
        model.predict(future=shifted)
    with pytest.raises(DataError, match="keyed by timestamp"):
        model.predict(future=pd.DataFrame({"promo": np.ones(12)}))
    promo = pd.DataFrame({"promo": np.r_[np.ones(6), np.zeros(6)]}, index=ahead)
    # rows in another order, and extra rows, change nothing: the timestamps decide
    extra = pd.concat([promo, pd.DataFrame({"promo": [5.0]}, index=[ahead[-1] + pd.Timedelta(hours=1)])])
    first, second = model.predict(future=promo), model.predict(future=extra.iloc[::-1])
    pd.testing.assert_frame_equal(first, second)
    as_column = promo.reset_index(names="ds")
    pd.testing.assert_frame_equal(first, model.predict(future=as_column))


def test_a_frequency_that_does_not_match_the_data_is_refused():
    frame = noisy_sine(rows=300)
    with pytest.raises(DataError, match=r"frequency '2h' does not match the data: 2023-01-01 01:00:00 at row 1"):
        forecast.Forecaster(model="naive", **SMALL).fit(frame, freq="2h")
    with pytest.raises(DataError, match="'xyz' is not a frequency"):
        read_series(frame, freq="xyz")
    assert read_series(frame.iloc[::2], freq="2h").freq == "2h"


def test_params_follow_scikit_learns_estimator_rules():
    from sklearn.base import clone

    model = forecast.Forecaster(model="lstm", lr=1e-3, quantiles=[0.1, 0.9])
    assert model.get_params()["lr"] == 1e-3 and model.get_params()["quantiles"] == [0.1, 0.9]
    copy = clone(model)
    assert copy.get_params() == model.get_params() and copy is not model
    assert model.set_params(horizon=12).horizon == 12
    with pytest.raises(ValueError, match="unknown parameter 'horizn'"):
        model.set_params(horizn=12)
    with pytest.raises(ValueError, match="model must be one of densenet-lstm, .*, not 'transformer'"):
        forecast.Forecaster(model="transformer")
    with pytest.raises(ValueError, match="train_stride must be a positive whole number"):
        forecast.Forecaster(train_stride=0)
    from forecast.config import specs  # every keyword is documented once, with its setting

    assert [name for name in model.get_params() if not specs()[name][1].help] == []
    assert ":mod:`forecast.config`" in forecast.Forecaster.__doc__


def test_save_load_gives_identical_predictions_and_checks_the_file(tmp_path):
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
    other = frame.rename(columns={"temp": "pressure"})
    with pytest.raises(DataError, match=r"column 'temp' not found.*the model was trained on y, temp"):
        loaded.predict(other)
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(DataError, match="not a forecast model file"):
        forecast.load(tmp_path / "junk.pt")
    torch.save(dict(checkpoint, format="densenet-forecast/2", version="0.2.0"), tmp_path / "old.pt")
    with pytest.raises(DataError, match=r"old.pt: written by forecast 0.2.0 in format densenet-forecast/2; "
                                        r"this version reads densenet-forecast/3: fit the model again"):
        forecast.load(tmp_path / "old.pt")
    damaged = dict(checkpoint, state_dict={"nonsense": torch.zeros(1)})
    torch.save(damaged, tmp_path / "damaged.pt")
    with pytest.raises(DataError, match=r"damaged.pt: damaged model file \(Error"):
        forecast.load(tmp_path / "damaged.pt")


def test_fit_says_when_the_model_does_not_beat_naive_on_validation():
    ramp = pd.DataFrame({"y": np.arange(300.0)}, index=pd.date_range("2023-01-01", periods=300, freq="h"))
    seasonal = forecast.Forecaster(model="seasonal-naive", season=24, **SMALL).fit(ramp)
    # a ramp repeats nothing: last season's values lag by 24 steps, naive by 1 to 12
    assert seasonal.notes_ == ["seasonal-naive does not beat the naive forecast on validation "
                               "(MSE 576, naive 54.167)"]
    assert forecast.Forecaster(model="linear", **SMALL).fit(ramp).notes_ == []


def test_training_that_never_beats_the_untrained_start_on_validation_returns_the_start():
    frame = noisy_sine(rows=400, noise=0.3)
    settings = dict(model="densenet-lstm", head="direct", target="y", covariates=[], **SMALL)
    start = forecast.Forecaster(**{**settings, "max_epochs": 0}).fit(frame)
    # a learning rate this high throws the network off its ridge start at the first step
    thrown = forecast.Forecaster(**{**settings, "max_epochs": 2, "lr": 0.5}).fit(frame)
    assert thrown.notes_[0].startswith("no epoch beat the untrained network's validation loss")
    assert thrown.training_metrics_["best_epoch"] == 0
    for kept, untrained in zip(thrown.network_.state_dict().values(), start.network_.state_dict().values()):
        assert torch.equal(kept, untrained)
    # DLinear starts as the look-back mean, which a sine lets training beat: the trained one is kept
    dlinear = forecast.Forecaster(**{**settings, "model": "dlinear", "max_epochs": 2}).fit(frame)
    untrained = forecast.Forecaster(**{**settings, "model": "dlinear", "max_epochs": 0}).fit(frame)
    assert not any(note.startswith("no epoch beat") for note in dlinear.notes_)
    assert dlinear.training_metrics_["best_epoch"] > 0
    assert not torch.equal(dlinear.network_.state_dict()["trend.weight"],
                           untrained.network_.state_dict()["trend.weight"])


@pytest.mark.parametrize("name", ["densenet-lstm", "densenet2d-lstm", "resnet-lstm", "lstm"])
@pytest.mark.parametrize("head", ["seq2seq", "direct", "flatten"])
def test_channel_independent_training_works_with_every_encoder_and_head(name, head):
    frame = noisy_sine(rows=300)
    model = forecast.Forecaster(model=name, head=head, channel_independent=True, covariates=[],
                                patch_stride=4, max_epochs=1, **{**SMALL, "hidden_size": 8})
    model.fit(frame, val=0.2)
    assert model.schema_.in_channels == 1 and model.network_.out_channels == 1
    out = model.predict()
    assert list(out.columns) == ["y", "temp"] and np.isfinite(out.to_numpy()).all()
    # both channels forecast by the one shared network: the linear start continues each
    assert np.abs(out["temp"].to_numpy() - frame["temp"].iloc[-1]).max() < 0.5
