import signal

import numpy as np
import pandas as pd
import pytest

import torch

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



def _hourly(rows: int = 500) -> pd.DataFrame:
    return pd.DataFrame({"y": 10 + np.sin(np.arange(rows) * 2 * np.pi / 24)},
                        index=pd.date_range("2023-01-01", periods=rows, freq="h"))


def test_a_profiled_fit_names_where_its_epochs_went():
    import time

    from forecast.training.fit import train_network
    from forecast.training.profile import PHASES

    model = forecast.Forecaster(model="lstm", lookback=24, horizon=4, max_epochs=0, hidden_size=8).fit(_hourly())
    start = time.perf_counter()
    trained = train_network(model.network_, model.data_, max_epochs=2, patience=None, profile=True)
    wall = time.perf_counter() - start
    assert list(trained.profile) == ["scoring the untrained network", *PHASES]
    assert trained.profile["forward"] > 0 and trained.profile["backward"] > 0 and trained.profile["validation"] > 0
    assert trained.profile["optimizer"] > 0 and trained.profile["checkpointing"] > 0
    assert sum(trained.profile.values()) <= wall


@pytest.mark.parametrize("precision, fused", [("32-true", True), ("bf16-mixed", False)])
def test_adamw_is_fused_except_under_mixed_precision(precision, fused):
    from types import SimpleNamespace

    module = ForecastingModule(torch.nn.Linear(3, 2), [0.0], [1.0], schedule="none")
    module._trainer = SimpleNamespace(precision=precision)
    assert module.configure_optimizers().defaults["fused"] is fused


def test_bf16_mixed_trains_on_the_cpu_and_forecasts_close_to_fp32():
    # no highway: the network itself must learn (a ridge start would be kept unchanged in both)
    fits = {precision: forecast.Forecaster(model="lstm", lookback=24, horizon=4, max_epochs=3, hidden_size=8,
                                           head="direct", highway=None, lr=1e-2, precision=precision,
                                           seed=0).fit(_hourly())
            for precision in ("32-true", "bf16-mixed")}
    forecasts = {precision: model.predict() for precision, model in fits.items()}
    bf16 = forecasts["bf16-mixed"]["y"].to_numpy()
    assert np.isfinite(bf16).all() and not np.array_equal(bf16, forecasts["32-true"]["y"].to_numpy())
    assert not any(note.startswith("no epoch beat") for model in fits.values() for note in model.notes_)
    assert np.abs(bf16 - forecasts["32-true"]["y"].to_numpy()).max() < 0.1  # a sine of amplitude 1 about 10


def test_a_frozen_highway_stays_at_the_ridge_while_the_network_trains():
    t = np.arange(600)
    rows = _hourly(600).assign(y=np.sign(np.sin(2 * np.pi * t / 24)) + np.sin(2 * np.pi * t / 7))  # not linear

    def fit(highway: str, epochs: int):
        return forecast.Forecaster(model="lstm", lookback=24, horizon=4, max_epochs=epochs, hidden_size=16, lr=1e-2,
                                   head="direct", highway=highway, patience=None, seed=0).fit(rows)

    start, frozen = fit("ridge", 0).network_, fit("frozen", 3)
    assert not any(note.startswith("no epoch beat") for note in frozen.notes_)  # the network trained past its start
    assert torch.equal(frozen.network_.highway.weight, start.highway.weight)
    assert torch.equal(frozen.network_.highway.bias, start.highway.bias)
