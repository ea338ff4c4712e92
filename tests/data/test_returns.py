"""Prices to returns, by hand."""

import numpy as np
import pandas as pd
import pytest

from forecast.data.returns import to_returns
from forecast.data.series import SeriesData
from forecast.errors import DataError


def prices(values) -> SeriesData:
    index = pd.bdate_range("2024-01-01", periods=len(values))
    return SeriesData({"A": pd.DataFrame({"p": values, "v": np.arange(len(values), dtype=float)}, index=index)},
                      ["p"], ["v"], name="prices.csv")


def test_log_and_simple_returns_drop_the_first_row_and_keep_covariates():
    log = to_returns(prices([100.0, 110.0, 99.0]), "log").frames["A"]
    assert log["p"].tolist() == pytest.approx([np.log(1.1), np.log(0.9)])
    assert log["v"].tolist() == [1.0, 2.0] and log.index[0] == pd.Timestamp("2024-01-02")
    assert to_returns(prices([100.0, 110.0, 99.0]), "simple").frames["A"]["p"].tolist() == pytest.approx([0.1, -0.1])


def test_a_non_positive_price_is_named():
    with pytest.raises(DataError, match="prices.csv: series 'A', column 'p' has the non-positive price 0 at 2024-01-02"):
        to_returns(prices([100.0, 0.0, 99.0]), "log")
