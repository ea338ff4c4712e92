"""Tests of forecast skill: Diebold-Mariano with the Harvey-Leybourne-Newbold correction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class TestResult:
    """A test statistic, its p-value, and the mean loss difference it is about."""

    statistic: float
    p_value: float
    mean_difference: float


def diebold_mariano(loss_a, loss_b, horizon: int = 1,
                    alternative: Literal["two-sided", "less", "greater"] = "two-sided") -> TestResult:
    """Diebold-Mariano test (1995) of equal expected loss of forecasts a and b, with the
    Harvey-Leybourne-Newbold (1997) small-sample correction.

    d_t = loss_a[t] - loss_b[t], n values with mean d. The long-run variance is
    gamma_0 + 2 * sum_{k=1}^{h-1} gamma_k, autocovariances with divisor n, up to lag h-1 for
    h-step (or overlapping) forecasts; when that sum is not positive, gamma_0 alone is used.
    DM = d / sqrt(variance / n); HLN multiplies it by sqrt((n + 1 - 2h + h(h-1)/n) / n) and
    compares it with Student's t with n-1 degrees of freedom. ``alternative="less"`` tests
    whether a has the lower expected loss.
    """
    d = np.asarray(loss_a, dtype=np.float64) - np.asarray(loss_b, dtype=np.float64)
    n = len(d)
    if d.ndim != 1 or n < 3:
        raise ValueError("the Diebold-Mariano test needs two equally long 1-D loss series of 3 or more")
    if not 1 <= horizon < n:
        raise ValueError(f"horizon must lie in [1, {n}), got {horizon}")
    centred = d - d.mean()
    autocovariance = [centred[k:] @ centred[:n - k] / n for k in range(horizon)]
    variance = autocovariance[0] + 2 * sum(autocovariance[1:])
    if variance <= 0:
        variance = autocovariance[0]
    if variance == 0:
        raise ValueError("the loss differences are constant; the test is undefined")
    statistic = d.mean() / np.sqrt(variance / n)
    statistic *= np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    t = stats.t(df=n - 1)
    p_value = {"two-sided": 2 * t.sf(abs(statistic)), "less": t.cdf(statistic),
               "greater": t.sf(statistic)}[alternative]
    return TestResult(float(statistic), float(p_value), float(d.mean()))
