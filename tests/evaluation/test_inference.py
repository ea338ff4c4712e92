"""forecast_windows: every window's forecast and truth on the original scale, in float64."""

import numpy as np
import pytest
import torch

from forecast.data.scaling import Scaler
from forecast.data.windows import WindowDataset, WindowSpec
from forecast.evaluation.inference import forecast_windows


class LastValue(torch.nn.Module):
    """Each channel's last input value plus 0.5, at both steps: one map for every sample, so a
    channel-independent sample is restored right only with its own channel's scale."""

    def forward(self, x, f):
        return x[:, -1:, :].repeat(1, 2, 1) + 0.5


@pytest.mark.parametrize("channel_independent", [False, True])
def test_forecasts_and_truths_come_back_in_their_window_and_channel_on_the_original_scale(channel_independent):
    scaled = torch.tensor(np.random.default_rng(0).normal(size=(20, 3)), dtype=torch.float32)
    scaler = Scaler.from_state({"kind": "standard", "center": [10.0, -2.0, 300.0], "scale": [2.0, 0.5, 40.0]})
    dataset = WindowDataset(scaled, np.arange(4, 17), WindowSpec(4, 2), scaled,
                            channel_independent=channel_independent)
    forecasts, truths = forecast_windows(LastValue(), dataset, scaler, batch_size=5)
    values = scaled.numpy().astype(np.float64)
    for window, origin in enumerate(range(4, 17)):
        expected = (values[origin - 1].astype(np.float32) + np.float32(0.5)) * scaler.scale + scaler.center
        assert np.array_equal(forecasts[window, 0, :, 0], expected)
        assert np.array_equal(truths[window], values[origin:origin + 2] * scaler.scale + scaler.center)
    assert forecasts.dtype == truths.dtype == np.float64 and forecasts.shape == (13, 2, 3, 1)


class Mixing(torch.nn.Module):
    """A linear map across each step's channels, remembering the dtype its product came out in."""

    def __init__(self):
        super().__init__()
        self.mix = torch.nn.Linear(3, 3)
        self.dtypes = set()

    def forward(self, x, f):
        out = self.mix(x[:, -2:, :])
        self.dtypes.add(out.dtype)
        return out


def test_bf16_forecasts_run_the_products_in_bf16_and_come_back_in_float64_near_fp32():
    torch.manual_seed(0)
    scaled = torch.randn(40, 3)
    scaler = Scaler.from_state({"kind": "standard", "center": [10.0, -2.0, 300.0], "scale": [2.0, 0.5, 40.0]})
    dataset = WindowDataset(scaled, np.arange(4, 37), WindowSpec(4, 2), scaled)
    network = Mixing()
    fp32, _ = forecast_windows(network, dataset, scaler)
    assert network.dtypes == {torch.float32}
    bf16, truths = forecast_windows(network, dataset, scaler, precision="bf16-mixed")
    assert network.dtypes == {torch.float32, torch.bfloat16} and bf16.dtype == truths.dtype == np.float64
    # bf16 keeps 8 significant bits: forecasts move by about 2^-8 of their scaled size, not more
    moved = np.abs(bf16 - fp32)[..., 0] / scaler.scale
    assert 0 < moved.max() < 0.05


def test_an_unknown_forecasting_precision_is_refused():
    dataset = WindowDataset(torch.zeros(10, 3), np.arange(4, 8), WindowSpec(4, 2), torch.zeros(10, 3))
    with pytest.raises(ValueError, match="precision must be"):
        forecast_windows(LastValue(), dataset, Scaler.from_state(
            {"kind": "standard", "center": [0.0] * 3, "scale": [1.0] * 3}), precision="16-mixed")
