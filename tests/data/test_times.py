"""Frequencies inferred from timestamps."""

import pandas as pd

from forecast.data.times import infer_freq


def test_regular_steps_give_their_alias():
    assert infer_freq(pd.date_range("2024-01-01", periods=48, freq="h")) == "h"
    assert infer_freq(pd.date_range("2024-01-01", periods=20, freq="10min")) == "10min"


def test_weekdays_without_weekends_are_business_days_and_a_gap_keeps_the_common_step():
    assert infer_freq(pd.bdate_range("2024-01-01", periods=30).delete([7])) == "B"  # a holiday
    hourly = pd.date_range("2024-01-01", periods=48, freq="h").delete([10, 11])
    assert infer_freq(hourly) == "h"
    assert infer_freq(pd.date_range("2024-01-01", periods=2, freq="h")) is None
