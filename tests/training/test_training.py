import signal

import numpy as np
import pandas as pd
import pytest

import torch

import forecast
from forecast.training.forecasting import ForecastingModule
from forecast.training.scope import restored_torch_flags
from forecast.training.trainer import make_trainer


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


def test_a_profiled_fit_names_where_its_epochs_went_and_times_each_step():
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
    # each step holds its forward, backward and optimizer step, and nothing of validation
    steps = trained.step_seconds
    assert len(steps) == trained.metrics["steps"] and min(steps) > 0
    parts = trained.profile["forward"] + trained.profile["backward"] + trained.profile["optimizer"]
    assert parts <= sum(steps) <= wall - trained.profile["validation"] - trained.profile["scoring the untrained network"]


@pytest.mark.parametrize("precision, fused", [("32-true", True), ("bf16-mixed", True), ("16-mixed", False)])
def test_adamw_is_fused_except_under_fp16_loss_scaling(precision, fused):
    from types import SimpleNamespace

    module = ForecastingModule(torch.nn.Linear(3, 2), [0.0], [1.0], schedule="none")
    module._trainer = SimpleNamespace(precision=precision)
    assert module.configure_optimizers().defaults["fused"] is fused


def test_under_bf16_a_fused_optimizers_gradients_are_clipped_to_the_norm_asked():
    from types import SimpleNamespace

    module = ForecastingModule(torch.nn.Linear(3, 2), [0.0], [1.0], schedule="none")
    module._trainer = SimpleNamespace(precision="bf16-mixed")
    optimizer = module.configure_optimizers()
    for parameter in module.parameters():
        parameter.grad = torch.full_like(parameter, 3.0)  # 8 elements: norm 3 * sqrt(8)
    module.configure_gradient_clipping(optimizer, gradient_clip_val=1.0, gradient_clip_algorithm="norm")
    norm = torch.cat([p.grad.flatten() for p in module.parameters()]).norm()
    assert norm == pytest.approx(1.0, rel=1e-5)
    assert all(torch.allclose(p.grad, torch.full_like(p, 1 / 8 ** 0.5)) for p in module.parameters())


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


def _full_batch(epochs: int, **settings) -> torch.nn.Module:
    """The network after ``epochs`` steps of one batch of every window (no validation, so nothing
    is selected) at lr 1e-2 without weight decay or schedule."""
    return forecast.Forecaster(model="lstm", lookback=24, horizon=4, max_epochs=epochs, hidden_size=8,
                               head="direct", lr=1e-2, weight_decay=0.0, schedule="none", batch_size=1024,
                               patience=None, seed=0, **settings).fit(_hourly(300), val=0.0).network_


def _one_step(**settings) -> tuple[torch.nn.Module, torch.nn.Module]:
    """The ridge start and the network after one AdamW step."""
    return _full_batch(0, **settings), _full_batch(1, **settings)


def test_a_slow_highway_moves_a_tenth_as_far_as_the_network_in_a_step():
    from forecast.models.registry import SLOW_HIGHWAY_LR

    start, stepped = _one_step(highway="slow")
    moved = {name: (after - start.state_dict()[name]).abs().max().item()
             for name, after in stepped.state_dict().items() if after.is_floating_point()}
    # Adam's first step moves every parameter with a gradient by lr (times the sign of it)
    assert moved["highway.weight"] == pytest.approx(1e-2 * SLOW_HIGHWAY_LR, rel=1e-3)
    assert moved["head.output.linear.weight"] == pytest.approx(1e-2, rel=1e-3)
    _, ridge = _one_step(highway="ridge")
    assert (ridge.highway.weight - start.highway.weight).abs().max().item() == pytest.approx(1e-2, rel=1e-3)


def test_a_weight_average_over_many_epochs_stays_at_its_first_step():
    # the average's first update copies the weights after the first step; with a span of a
    # billion epochs the later steps hardly move it
    first_step, averaged, plain = _full_batch(1), _full_batch(4, average=1e9), _full_batch(4)
    for name, value in averaged.state_dict().items():
        torch.testing.assert_close(value, first_step.state_dict()[name], rtol=0, atol=1e-6)
    assert not torch.allclose(plain.head.output.linear.weight, first_step.head.output.linear.weight, atol=1e-4)


def test_an_epoch_average_decays_by_the_steps_of_its_span():
    from types import SimpleNamespace

    from forecast.training.averaging import EpochAverage

    average = EpochAverage(epochs=2)
    average.on_train_start(SimpleNamespace(num_training_batches=5), None)
    assert average.decay == pytest.approx(0.9)  # 1 - 1 / (2 epochs x 5 steps)
    assert average._update(torch.tensor(1.0), torch.tensor(3.0), torch.tensor(1)).item() == pytest.approx(1.2)
    with pytest.raises(ValueError, match="positive number of epochs"):
        EpochAverage(epochs=0)


def test_the_cpu_trainer_is_deterministic_without_filling_every_new_tensor():
    # the fill is a debugging aid of deterministic mode that cost 10 % of a CPU epoch
    with restored_torch_flags():
        make_trainer(log_dir=None, accelerator="cpu", progress=False)
        assert torch.are_deterministic_algorithms_enabled()
        assert not torch.utils.deterministic.fill_uninitialized_memory


@pytest.mark.parametrize("lr", [1e-2, 5e-2])  # best at the last epoch; at the third
def test_the_best_epoch_is_the_logged_epoch_of_least_validation_loss(tmp_path, lr):
    model = forecast.Forecaster(model="lstm", lookback=24, horizon=4, max_epochs=4, hidden_size=8, head="direct",
                                highway=None, lr=lr, patience=None, seed=0, log_dir=str(tmp_path)).fit(_hourly())
    logged = pd.read_csv(tmp_path / "metrics.csv").dropna(subset=["val_loss"])
    best = int(logged["epoch"].iloc[logged["val_loss"].to_numpy().argmin()]) + 1
    assert model.training_metrics_["best_epoch"] == best == {1e-2: 4, 5e-2: 3}[lr]
    still_falling = "validation loss was still falling at the last validation of 4 epochs: more epochs (max_epochs) may pay"
    assert (still_falling in model.notes_) == (best == 4)


def _inside_epochs(tmp_path, lr: float, patience: int | None) -> tuple[forecast.Forecaster, pd.DataFrame]:
    # 12 batches of 32 training windows an epoch: a validation every 3 steps
    model = forecast.Forecaster(model="lstm", lookback=24, horizon=4, max_epochs=3, hidden_size=8, head="direct",
                                highway=None, lr=lr, patience=patience, seed=0, batch_size=32,
                                validations_per_epoch=4, log_dir=str(tmp_path)).fit(_hourly())
    return model, pd.read_csv(tmp_path / "metrics.csv").dropna(subset=["val_loss"])


def test_validations_inside_an_epoch_choose_the_checkpoint_by_step(tmp_path):
    model, logged = _inside_epochs(tmp_path, lr=1e-2, patience=None)
    assert list(logged["step"] + 1) == list(range(3, 37, 3))  # the logger's step is the last one taken
    best = int(logged["step"].iloc[logged["val_loss"].to_numpy().argmin()]) + 1
    assert model.training_metrics_["best_step"] == best == 36
    assert model.training_metrics_["validations"] == model.training_metrics_["best_validation"] == 12
    assert "validation loss was still falling at the last validation of 3 epochs" in model.notes_[0]


def test_patience_counts_validations_and_stops_inside_an_epoch(tmp_path):
    model, logged = _inside_epochs(tmp_path, lr=2e-1, patience=1)
    # validation loss rose at the third validation of the first epoch: one without improvement
    assert list(logged["step"] + 1) == [3, 6, 9]
    assert logged["val_loss"].iloc[2] > logged["val_loss"].iloc[1]
    metrics = model.training_metrics_
    assert (metrics["steps"], metrics["validations"], metrics["best_step"], metrics["best_validation"]) == (9, 3, 6, 2)
    assert "early stopping after 0.75 epochs" in model.notes_


@pytest.mark.parametrize("validations_per_epoch", [1, 4])
def test_a_fit_resumed_after_early_stopping_ended_it_ends_where_it_ended(tmp_path, validations_per_epoch):
    """Killed after early stopping ended it, before its run was complete, a fit resumed from its last checkpoint
    returns what it returned. Lightning keeps no last checkpoint of the validation that stopped the fit (so
    the stop is not lost, Lightning #8278): the resumed fit trains that stretch again, to the same stop. With four
    validations an epoch the checkpoint lies inside an epoch: the resumed fit must draw that epoch's remaining
    batches, with the random stream and the epoch's mean training loss where they were."""
    settings = dict(model="lstm", lookback=24, horizon=4, max_epochs=6, hidden_size=8, head="direct", highway=None,
                    lr=2e-1, patience=1, seed=0, batch_size=32, validations_per_epoch=validations_per_epoch,
                    log_dir=str(tmp_path))
    whole = forecast.Forecaster(**settings).fit(_hourly())
    assert whole.training_metrics_["steps"] < 6 * 12 and whole.training_metrics_["best_step"] > 0
    last = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert last["global_step"] < whole.training_metrics_["steps"]
    resumed = forecast.Forecaster(**settings).fit(_hourly(), resume_from=tmp_path / "checkpoints" / "last.ckpt")
    assert resumed.training_metrics_ == whole.training_metrics_
    pd.testing.assert_frame_equal(resumed.predict(), whole.predict())


@pytest.mark.parametrize("units, channel_independent, precision", [
    (["avx512_bf16", "amx_bf16"], True, "bf16-mixed"), (["avx512_bf16", "amx_bf16"], False, "32-true"),
    (["avx512_bf16"], True, "bf16-mixed"), (["avx512_bf16"], False, "32-true"), ([], True, "32-true")])
def test_the_cpu_default_is_bf16_only_for_channel_independent_networks_on_bf16_units(
        monkeypatch, units, channel_independent, precision):
    from forecast.training import precision as rules

    monkeypatch.setattr(rules, "cpu_bf16_units", lambda: units)
    assert rules.default_precision("cpu", channel_independent) == precision


@pytest.mark.parametrize("units, channel_independent, asked, forecasts_in", [
    (["avx512_bf16", "amx_bf16"], True, None, "bf16-mixed"),
    (["avx512_bf16", "amx_bf16"], True, "bf16-mixed", "bf16-mixed"),
    (["avx512_bf16", "amx_bf16"], True, "32-true", "32-true"),
    (["avx512_bf16", "amx_bf16"], False, None, "32-true"),
    (["avx512_bf16", "amx_bf16"], False, "bf16-mixed", "32-true"),
    (["avx512_bf16"], True, None, "bf16-mixed"), ([], True, "bf16-mixed", "32-true"),
    ([], True, None, "32-true")])
def test_a_network_forecasts_in_bf16_only_where_this_cpu_trains_it_in_bf16_by_default(
        monkeypatch, units, channel_independent, asked, forecasts_in):
    from forecast.training import precision as rules

    monkeypatch.setattr(rules, "cpu_bf16_units", lambda: units)
    assert rules.inference_precision(asked, channel_independent) == forecasts_in


def _two_channels(rows: int = 300) -> pd.DataFrame:
    steps = np.arange(rows)
    return pd.DataFrame({"y": 10 + np.sin(steps * 2 * np.pi / 24), "x": np.cos(steps * 2 * np.pi / 12)},
                        index=pd.date_range("2023-01-01", periods=rows, freq="h"))


@pytest.mark.parametrize("channel_independent", [True, False])
def test_on_a_cpu_with_bf16_units_a_channel_independent_fit_trains_and_forecasts_in_bf16_and_says_so(
        monkeypatch, channel_independent):
    from forecast.training import precision as rules

    monkeypatch.setattr(rules, "cpu_bf16_units", lambda: ("avx512_bf16",))

    def fit(precision):
        return forecast.Forecaster(model="lstm", lookback=24, horizon=4, max_epochs=2, hidden_size=8, head="direct",
                                   highway=None, lr=1e-2, seed=0, accelerator="cpu", precision=precision,
                                   channel_independent=channel_independent).fit(_two_channels())
    chosen, fp32, bf16 = fit(None), fit("32-true"), fit("bf16-mixed")
    expected = bf16 if channel_independent else fp32
    assert chosen.predict().equals(expected.predict()) and not fp32.predict().equals(bf16.predict())
    said = [note for note in chosen.notes_ if note.startswith("bf16-mixed precision")]
    assert len(said) == channel_independent
    # the network validation chose in bf16 forecasts in bf16 too, unless fp32 is asked for
    as_chosen, in_fp32 = chosen.predict(), chosen.set_params(precision="32-true").predict()
    assert as_chosen.equals(in_fp32) != channel_independent
    assert np.allclose(as_chosen, in_fp32, rtol=0.02)
    assert not any(note.startswith("bf16-mixed") for model in (fp32, bf16) for note in model.notes_)


def test_a_checkpoint_without_the_epochs_mean_training_loss_still_resumes(tmp_path):
    """A fit stopped under a version that did not keep the epoch's mean training loss in its checkpoint resumes."""
    settings = dict(model="lstm", lookback=24, horizon=4, max_epochs=2, hidden_size=8, head="direct", highway=None,
                    patience=None, seed=0, log_dir=str(tmp_path))
    forecast.Forecaster(**{**settings, "max_epochs": 1}).fit(_hourly())
    path = tmp_path / "checkpoints" / "last.ckpt"
    old = torch.load(path, map_location="cpu", weights_only=False)
    old["state_dict"] = {key: value for key, value in old["state_dict"].items() if not key.startswith("train_mean.")}
    torch.save(old, path)
    resumed = forecast.Forecaster(**settings).fit(_hourly(), resume_from=path)
    assert resumed.training_metrics_["epochs"] == 2 and np.isfinite(resumed.training_metrics_["train_loss"])
