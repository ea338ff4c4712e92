import numpy as np
import pandas as pd

from forecast.data.calendar import calendar_features, default_calendar


def test_cyclic_and_linear_values_by_hand():
    index = pd.DatetimeIndex(["2024-02-29 06:00", "2024-12-31 18:00"])  # a Thursday, a Tuesday
    cyclic = calendar_features(index, ["hour", "weekday", "day", "month"])
    assert np.allclose(cyclic["hour_sin"], [1.0, -1.0]) and np.allclose(cyclic["hour_cos"], [0.0, 0.0], atol=1e-12)
    assert np.allclose(cyclic["weekday_sin"], np.sin(2 * np.pi * np.array([3, 1]) / 7))
    assert np.allclose(cyclic["day_sin"], np.sin(2 * np.pi * np.array([28 / 29, 30 / 31])))
    assert np.allclose(cyclic["month_cos"], np.cos(2 * np.pi * np.array([1, 11]) / 12))
    linear = calendar_features(index, ["hour", "month"], encoding="linear")
    assert np.allclose(linear["hour"], [6 / 23 - 0.5, 18 / 23 - 0.5])
    assert np.allclose(linear["month"], [1 / 11 - 0.5, 0.5])


def test_default_features_follow_the_frequency():
    assert default_calendar("10min") == ["minute", "hour", "weekday", "day", "month"]
    assert default_calendar("h") == ["hour", "weekday", "day", "month"]
    assert default_calendar("B") == ["weekday", "day", "month"]
    assert default_calendar("D") == ["weekday", "day", "month"]
    assert default_calendar("MS") == ["month"]
    assert default_calendar(None) == []
