"""Walk-forward backtests: no look-ahead, refit semantics, batched forecasting, tidy output."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forecast
from forecast.workflows.walkforward import walk_forward
from forecast.evaluation.skill import random_walk_skill

ROWS = 90
TIME = pd.date_range("2021-01-01", periods=ROWS, freq="D")


def series(seed: int = 0, rows: int = ROWS) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(rows)
    y = 10 + 0.05 * t + np.sin(2 * np.pi * t / 7) + 0.3 * rng.normal(size=rows)
    return pd.DataFrame({"y": y}, index=TIME[:rows])


def tiny(model: str, **settings) -> forecast.Forecaster:
    return forecast.Forecaster(model=model, lookback=8, horizon=2, max_epochs=1, batch_size=16,
                               head="direct", hidden_size=8, **settings)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["linear", "densenet-lstm"])
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=40, max_value=ROWS - 3), shift=st.floats(min_value=-50, max_value=50).filter(lambda v: abs(v) > 0.1))
def test_data_after_an_origin_never_changes_forecasts_made_at_or_before_it(model, cut, shift):
    frame = series()
    changed = frame.copy()
    changed.iloc[cut + 1:, 0] += shift  # every row after the origin at row `cut`
    runs = [walk_forward(tiny(model), data, start=40, refit_every=25).forecasts for data in (frame, changed)]
    origin = TIME[cut]
    before = [run[run["origin"] <= origin].reset_index(drop=True) for run in runs]
    np.testing.assert_array_equal(before[0]["forecast"].to_numpy(), before[1]["forecast"].to_numpy())
    after = [run[run["origin"] > origin]["forecast"].to_numpy() for run in runs]
    if len(after[0]):  # the test can fail: what comes after does move
        assert not np.array_equal(after[0], after[1])


def test_a_fold_forecasts_what_a_model_fitted_on_the_rows_before_it_predicts():
    frame = series()
    result = walk_forward(tiny("linear"), frame, start=50, step=5, refit_every=20)
    assert result.folds["first_forecast"].tolist() == [TIME[50], TIME[70]]
    assert result.folds["train_to"].tolist() == [TIME[49], TIME[69]]
    for _, row in result.forecasts[result.forecasts["step"] == 1].iterrows():
        cut = TIME[50] if row["timestamp"] < TIME[70] else TIME[70]  # the fold of its first step
        direct = tiny("linear").fit(frame[frame.index < cut])
        expected = direct.predict(frame[frame.index <= row["origin"]])["y"].iloc[0]
        assert row["forecast"] == pytest.approx(expected, rel=1e-5)
    # origins every 5 rows from row 50, while a whole horizon fits: 50, 55, ..., 85
    assert sorted(result.forecasts["timestamp"][result.forecasts["step"] == 1].unique()) == list(TIME[50:90:5])


def test_tidy_rows_hold_actual_values_naive_and_steps():
    frame = series()
    out = walk_forward(tiny("linear"), frame, start=0.8).forecasts
    assert list(out.columns) == ["fold", "series", "origin", "timestamp", "step", "target", "actual",
                                 "forecast", "naive"]
    assert (out["actual"].to_numpy() == frame.loc[out["timestamp"], "y"].to_numpy()).all()
    assert (out["naive"].to_numpy() == frame.loc[out["origin"], "y"].to_numpy()).all()
    assert ((out["timestamp"] - out["origin"]).dt.days == out["step"]).all()


def test_refit_never_fits_once_on_the_rows_before_start_and_sliding_windows_keep_their_length():
    frame = series()
    once = walk_forward(tiny("linear"), frame, start=TIME[60], refit_every=False)
    assert len(once.folds) == 1 and once.folds["train_to"][0] == TIME[59] and len(once.models) == 1
    sliding = walk_forward(tiny("linear"), frame, start=60, refit_every=10, window="sliding", train_length=40)
    assert sliding.folds["train_rows"].tolist() == [40, 40, 40]
    assert (sliding.folds["train_from"] == [TIME[20], TIME[30], TIME[40]]).all()


def test_every_origin_of_a_fold_is_forecast_in_one_batched_pass(monkeypatch):
    passes = []  # the forward passes' batch sizes, a list per call (the fit validates through it too)
    real = forecast.Forecaster.predict_windows

    def counting(model, dataset, scaler):
        batches = []
        hook = model.network_.register_forward_hook(lambda module, args, out: batches.append(len(args[0])))
        try:
            return real(model, dataset, scaler)
        finally:
            hook.remove()
            passes.append(batches)

    monkeypatch.setattr(forecast.Forecaster, "predict_windows", counting)
    walk_forward(tiny("dlinear"), series(), start=30, refit_every=False)
    assert passes[-1] == [59]  # origins 30 .. 88, one forward pass


def test_several_series_share_origins_by_timestamp_and_quantiles_come_along():
    long = pd.concat([series(0).assign(unique_id="a"), series(1, rows=80).assign(unique_id="b")])
    long = long.rename_axis("ds").reset_index()
    model = tiny("lstm", quantiles=[0.1, 0.9])
    out = walk_forward(model, long, start=TIME[60], refit_every=False).forecasts
    assert set(out["series"]) == {"a", "b"} and {"q0.1", "q0.5", "q0.9"} <= set(out.columns)
    assert out.groupby("series")["origin"].max().to_dict() == {"a": TIME[87], "b": TIME[77]}
    assert (out["q0.1"] <= out["q0.9"]).all() and (out["forecast"] == out["q0.5"]).all()


def test_bad_arguments_are_refused_with_their_name():
    with pytest.raises(ValueError, match="train_length"):
        walk_forward(tiny("linear"), series(), window="sliding")
    with pytest.raises(ValueError, match="outside the data"):
        walk_forward(tiny("linear"), series(), start="2030-01-01")
    with pytest.raises(ValueError, match="refit_every"):
        walk_forward(tiny("linear"), series(), refit_every=-3)


def test_random_walk_skill_counts_directions_against_the_last_value():
    frame = series()
    result = walk_forward(tiny("linear"), frame, start=45)
    assert result.history["series"].equals(frame.iloc[:45])
    table = random_walk_skill(result.forecasts, result.history)
    row = table.iloc[0]
    step = result.forecasts[result.forecasts["step"] == 1]  # next-bar moves: origins do not overlap there
    hits = np.sign(step["forecast"] - step["naive"]) == np.sign(step["actual"] - step["naive"])
    assert row["direction"] == pytest.approx(hits.mean())
    assert row["origins"] == 44 and 0 <= row["dm_p"] <= 1
    # the series trends and cycles weekly: the ridge beats the random walk, and the test says so
    assert row["mase"] < 1 and row["dm_p"] < 0.01
