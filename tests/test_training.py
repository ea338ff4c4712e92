import signal

import numpy as np
import pandas as pd
import pytest

import forecast
from forecast.training.forecasting import ForecastingModule


def test_ctrl_c_during_training_is_a_keyboard_interrupt_and_sigint_works_again(monkeypatch):
    def interrupted(self, batch, batch_idx):
        raise KeyboardInterrupt
    monkeypatch.setattr(ForecastingModule, "training_step", interrupted)
    frame = pd.DataFrame({"y": np.sin(np.arange(300) / 4)},
                         index=pd.date_range("2023-01-01", periods=300, freq="h"))
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):  # Lightning alone turns it into sys.exit(1)
        forecast.Forecaster(model="lstm", lookback=24, horizon=4, max_epochs=2).fit(frame)
    assert signal.getsignal(signal.SIGINT) is before
