import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

from forecast.data import Scaler, SeriesDataModule, WindowSpec, read_series, split_by_count

REFERENCE = {"standard": StandardScaler, "robust": RobustScaler, "minmax": MinMaxScaler}


@pytest.mark.parametrize("kind", REFERENCE)
def test_scalers_match_scikit_learn(kind):
    rows = np.random.default_rng(0).normal(3, 2, size=(200, 4))
    rows[:, 3] = 5.0  # a constant channel
    ours = Scaler(kind).fit(rows)
    theirs = REFERENCE[kind]().fit(rows)
    assert np.allclose(ours.transform(rows), theirs.transform(rows))
    assert np.allclose(ours.inverse_transform(ours.transform(rows)), rows)
    restored = Scaler.from_state(ours.state())
    assert np.array_equal(restored.transform(rows), ours.transform(rows))
    assert all(isinstance(v, (str, list)) for v in ours.state().values())


def test_inverse_transform_takes_the_channel_axis_anywhere():
    scaler = Scaler().fit(np.array([[0.0, 10.0], [2.0, 30.0]]))  # centers 1 and 20, scales 1 and 10
    forecasts = np.array([[[1.0, -1.0], [0.5, 2.0]]])  # (window, channel, quantile)
    assert np.array_equal(scaler.inverse_transform(forecasts, axis=-2),
                          [[[2.0, 0.0], [25.0, 40.0]]])
    assert np.array_equal(scaler.inverse_transform(np.array([[1.0, 0.5]])), [[2.0, 25.0]])


finite = st.floats(-1e3, 1e3).map(lambda v: round(v, 3))  # realistic precision


@settings(max_examples=40, deadline=None)
@given(values=arrays(np.float64, st.tuples(st.integers(30, 60), st.integers(1, 3)), elements=finite),
       train=st.integers(10, 20), kind=st.sampled_from(["standard", "robust", "minmax"]))
def test_scaler_sees_only_training_rows(values, train, kind):
    frame = pd.DataFrame(values, index=pd.date_range("2020", periods=len(values), freq="h"))
    frame.columns = [f"c{i}" for i in range(values.shape[1])]
    rest = len(values) - train

    def fitted(frame):
        data = read_series(frame)
        module = SeriesDataModule(data, WindowSpec(3, 2), split_by_count(data, train, rest // 2,
                                  rest - rest // 2), scaler=kind, calendar=None)
        module.setup()
        return module.input_scaler

    scaler = fitted(frame)
    alone = Scaler(kind).fit(values[:train])
    assert np.array_equal(scaler.center, alone.center) and np.array_equal(scaler.scale, alone.scale)
    changed = frame.copy()
    changed.iloc[train:] = np.random.default_rng(train).normal(0, 1e3, size=(rest, values.shape[1]))
    again = fitted(changed)
    assert np.array_equal(again.center, scaler.center) and np.array_equal(again.scale, scaler.scale)
