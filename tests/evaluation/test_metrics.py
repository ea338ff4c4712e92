"""Point and interval metrics, by hand."""

import numpy as np
import pytest

from forecast.evaluation.metrics import coverage, mae, mse, pinball, scores, smape


def test_point_errors_by_hand():
    forecast, actual = np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 2.0])
    assert mse(forecast, actual) == pytest.approx(5 / 3) and mae(forecast, actual) == pytest.approx(1.0)
    # 2|f-a| / (|f|+|a|): 2/3, 0, 4/6
    assert smape(forecast, actual) == pytest.approx(100 * (2 / 3 + 0 + 2 / 3) / 3)
    assert smape([0.0], [0.0]) == 0.0


def test_interval_scores_by_hand():
    actual = np.array([1.0, 3.0])
    quantiles = np.array([[0.0, 2.0], [2.0, 4.0]])  # levels 0.1 and 0.9
    # errors a - q: [1, -1] and [1, -1]; pinball max(l*e, (l-1)*e): 0.1, 0.1, 0.1, 0.1
    assert pinball(quantiles, actual, [0.1, 0.9]) == pytest.approx(0.1)
    assert coverage(quantiles[:, 0], quantiles[:, 1], actual) == 1.0
    assert coverage([2.0], [4.0], [1.0]) == 0.0


def test_scores_pool_windows_and_give_each_series_its_own():
    forecasts = np.array([1.0, 2.0, 4.0, 4.0]).reshape(4, 1, 1, 1)  # (windows, H, C, Q)
    actual = np.array([1.0, 1.0, 2.0, 2.0]).reshape(4, 1, 1)
    naive = np.zeros((4, 1, 1))
    result = scores(forecasts, actual, naive, np.array([2.0]), None, ["a", "a", "b", "b"])
    assert result["mse"] == pytest.approx((0 + 1 + 4 + 4) / 4) and result["mse_scaled"] == pytest.approx(9 / 16)
    assert result["series"]["a"] == {**result["series"]["a"], "windows": 2, "mse": 0.5}
    assert result["naive_mae"] == pytest.approx(1.5)
