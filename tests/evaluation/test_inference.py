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
