"""The linear start of the neural models: fitted where the highway reads, and trends continued."""

import numpy as np
import pandas as pd
import pytest
import torch

import forecast
from forecast.data import SeriesDataModule, WindowSpec, read_series, split_by_fraction
from forecast.models.build import build_model
from forecast.config import defaults
from forecast.models.registry import MODELS

DEFAULTS = defaults()

LSTM_MODELS = [name for name, spec in MODELS.items() if spec.lstm_head]


def hourly(values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"y": values}, index=pd.date_range("2023-01-01", periods=len(values), freq="h"))


def ramp() -> pd.DataFrame:
    return hourly(np.arange(150.0))


def sine_and_trend(rows: int = 400) -> pd.DataFrame:
    t = np.arange(rows, dtype=float)
    return hourly(50 + 0.2 * t + 20 * np.sin(2 * np.pi * t / 24))


@pytest.mark.parametrize("revin", [True, False])
@pytest.mark.parametrize("name", LSTM_MODELS)
def test_the_untrained_network_forecasts_what_the_ridge_in_its_normalization_does(name, revin):
    frame = sine_and_trend() + np.random.default_rng(0).normal(0, 1, (400, 1))
    series = read_series(frame)
    data = SeriesDataModule(series, WindowSpec(48, 6), split_by_fraction(series, 0.7, 0.3, 0.0),
                            calendar=None)
    data.setup("fit")
    torch.manual_seed(0)
    network = build_model(name, {**DEFAULTS, "lookback": 48, "horizon": 6, "revin": revin,
                                 "hidden_size": 16}, 1, 1, 0).eval()
    ridge = network.start_from_ridge(data.datasets["train"].loader(512), data.datasets["val"].loader(512))

    # the same ridge solved independently, in numpy, on windows normalized by hand; under RevIN
    # each window's squared error weighs by its variance (the error on the data's scale)
    def design(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mean = x.mean(1, keepdims=True) if revin else np.zeros((len(x), 1))
        std = np.sqrt(x.var(1, keepdims=True) + 1e-5) if revin else np.ones((len(x), 1))
        return np.hstack([(x - mean) / std, np.ones((len(x), 1))]), mean, std

    train = data.datasets["train"].__getitems__(list(range(len(data.datasets["train"]))))
    val = data.datasets["val"].__getitems__(list(range(len(data.datasets["val"]))))
    x_train, mean, std = design(train["x"][..., 0].double().numpy())
    y_train = (train["y"][..., 0].double().numpy() - mean) / std
    penalty = ridge.alpha * np.eye(49)
    penalty[-1, -1] = 0  # the intercept is not shrunk
    weighted = x_train * std ** 2
    weight = np.linalg.solve(weighted.T @ x_train + penalty, weighted.T @ y_train)
    x_val, mean, std = design(val["x"][..., 0].double().numpy())
    expected = (x_val @ weight) * std + mean
    with torch.no_grad():
        actual = network(val["x"], val["f"])[..., 0].double().numpy()
    assert np.abs(actual - expected).max() < 1e-5


def test_the_revin_start_is_not_thrown_by_nearly_flat_windows():
    # rain-like: dry spells (exactly flat look-backs) broken by showers. Unweighted, a window that
    # is flat but for its last step normalizes to values near 1/sqrt(eps) and steers the fit.
    rng = np.random.default_rng(0)
    rain = np.where(rng.random(3000) < 0.02, rng.exponential(5, 3000), 0.0)
    rain = np.convolve(rain, np.ones(6) / 6, mode="same")
    series = read_series(hourly(rain + 0.01 * np.sin(np.arange(3000) / 40)))
    data = SeriesDataModule(series, WindowSpec(48, 12), split_by_fraction(series, 0.7, 0.3, 0.0),
                            calendar=None)
    data.setup("fit")
    train, val = data.datasets["train"].loader(4096), data.datasets["val"].loader(4096)
    plain = build_model("linear", {**DEFAULTS, "lookback": 48, "horizon": 12}, 1, 1, 0)
    plain.fit(train, val)
    network = build_model("densenet-lstm", {**DEFAULTS, "lookback": 48, "horizon": 12,
                                            "hidden_size": 16}, 1, 1, 0).eval()
    network.start_from_ridge(train, val)
    batch = next(iter(val))
    with torch.no_grad():
        errors = [float(((model(batch["x"], batch["f"]) - batch["y"]) ** 2).mean()) for model in (plain, network)]
    assert errors[1] < 1.1 * errors[0], errors


def test_the_head_starts_small_yet_the_encoder_learns_from_the_first_step():
    torch.manual_seed(0)
    network = build_model("densenet-lstm", {**DEFAULTS, "lookback": 32, "horizon": 4}, 1, 1, 0)
    output = network.head.output.linear.weight
    assert output.abs().max() > 0 and output.abs().max() < 1e-5
    x, y = torch.randn(8, 32, 1), torch.randn(8, 4, 1)
    torch.nn.functional.mse_loss(network(x, torch.zeros(8, 4, 0)), y).backward()
    assert network.encoder.stem.conv.weight.grad.abs().max() > 0


@pytest.mark.slow
@pytest.mark.parametrize("name", [*LSTM_MODELS, "linear"])
@pytest.mark.parametrize("series", ["ramp", "sine and trend"])
def test_default_settings_continue_a_trend_within_one_percent(name, series):
    frame = ramp() if series == "ramp" else sine_and_trend()
    lookback = 24 if series == "ramp" else 48
    model = forecast.Forecaster(model=name, lookback=lookback, horizon=4).fit(frame.iloc[:-4])
    forecasts, truth = model.predict()["y"].to_numpy(), frame["y"].to_numpy()[-4:]
    assert np.abs(forecasts - truth).max() < 0.01 * np.abs(truth).min(), (forecasts, truth)
    # the naive forecast misses by more than that: continuing the trend is what is tested
    assert np.abs(frame["y"].to_numpy()[-5] - truth).max() > 0.01 * np.abs(truth).min()


def test_the_ramp_forecast_rises_past_the_last_value():
    model = forecast.Forecaster(model="densenet-lstm", lookback=24, horizon=4).fit(ramp())
    # the case: the forecast after t=149 was 140.1 ... 140.7, below the last value
    assert np.allclose(model.predict()["y"].to_numpy(), [150, 151, 152, 153], atol=0.1)
