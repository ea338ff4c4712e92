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


def test_warm_up_then_cosine_by_hand():
    from forecast.training.forecasting import _warm_cosine

    # 4 warm-up steps of 10: 1/4, 2/4, 3/4, 4/4, then a half cosine over the 6 left
    assert [_warm_cosine(s, warm=4, total=10) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert _warm_cosine(4, warm=4, total=10) == 1.0
    assert _warm_cosine(7, warm=4, total=10) == pytest.approx(0.5)  # halfway down: cos(pi/2)
    assert _warm_cosine(10, warm=4, total=10) == pytest.approx(0.0)
    assert _warm_cosine(5, warm=0, total=10) == pytest.approx(0.5)  # no warm-up: plain cosine
