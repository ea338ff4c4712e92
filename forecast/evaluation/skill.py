"""Forecast skill against the random walk: MASE, directional accuracy (binomial and
Pesaran-Timmermann tests) and Diebold-Mariano with the Harvey-Leybourne-Newbold correction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
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


def mase(forecast, actual, training, season: int = 1) -> float:
    """Mean absolute scaled error (Hyndman and Koehler 2006): the forecast's MAE divided by the
    in-sample MAE of the (seasonal, lag ``season``) naive forecast on the ``training`` values,
    mean |y_t - y_{t-season}|. Below 1: better than the naive forecast was in sample."""
    error = np.mean(np.abs(np.asarray(forecast, dtype=np.float64) - np.asarray(actual, dtype=np.float64)))
    return float(error / naive_scale(training, season))


def naive_scale(training, season: int = 1) -> float:
    """MASE's denominator: mean |y_t - y_{t-season}| over the ``training`` values; a ValueError
    when there are too few values or they do not change."""
    training = np.asarray(training, dtype=np.float64)
    if len(training) <= season:
        raise ValueError(f"MASE needs more than {season} training values, got {len(training)}")
    scale = float(np.mean(np.abs(training[season:] - training[:-season])))
    if scale == 0:
        raise ValueError("the training values are constant; MASE is undefined")
    return scale


@dataclass(frozen=True)
class Direction:
    """Directional accuracy: the share of signs called right among ``n`` pairs, with the one-sided
    binomial p-value against the base rate p* (what independent forecasts with the same up/down
    shares would hit) and the Pesaran-Timmermann statistic and p-value."""

    accuracy: float
    n: int
    binomial_p: float
    pt_statistic: float
    pt_p: float


def directional_accuracy(forecast, actual) -> Direction:
    """How often the forecast's sign matches the actual sign, and whether that is skill.

    Pairs where the forecast or the actual value is exactly zero carry no direction and are left
    out. Both tests ask whether the hit rate exceeds what independent forecasts with the same
    up/down shares would get (against a coin's 0.5, a market's upward drift passes a mostly-long
    forecast without skill): the binomial test (one-sided, scipy.stats.binomtest) against p*, and
    the Pesaran-Timmermann (1992) test: with p the hit rate, py and px the shares
    of positive actual and forecast values, p* = py px + (1-py)(1-px),
    V(p) = p*(1-p*)/n, V(p*) = (2py-1)^2 px(1-px)/n + (2px-1)^2 py(1-py)/n + 4 py px (1-py)(1-px)/n^2,
    PT = (p - p*) / sqrt(V(p) - V(p*)), one-sided against the standard normal. PT is undefined
    (nan) when every forecast or every actual value has one sign.
    """
    forecast, actual = np.asarray(forecast, dtype=np.float64).ravel(), np.asarray(actual, dtype=np.float64).ravel()
    keep = (forecast != 0) & (actual != 0)
    up_forecast, up_actual = forecast[keep] > 0, actual[keep] > 0
    n = int(keep.sum())
    if n == 0:
        raise ValueError("no pair with a non-zero forecast and actual value: no direction to score")
    hits = int((up_forecast == up_actual).sum())
    p, py, px = hits / n, up_actual.mean(), up_forecast.mean()
    expected = py * px + (1 - py) * (1 - px)
    var_p = expected * (1 - expected) / n
    var_expected = ((2 * py - 1) ** 2 * px * (1 - px) / n + (2 * px - 1) ** 2 * py * (1 - py) / n
                    + 4 * py * px * (1 - py) * (1 - px) / n ** 2)
    spread = var_p - var_expected
    pt = (p - expected) / np.sqrt(spread) if spread > 0 else float("nan")
    binomial = stats.binomtest(hits, n, expected, alternative="greater").pvalue if 0 < expected < 1 else float("nan")
    return Direction(float(p), n, float(binomial),
                     float(pt), float(stats.norm.sf(pt)) if np.isfinite(pt) else float("nan"))


def random_walk_skill(forecasts: pd.DataFrame, history: dict[str, pd.DataFrame],
                      random_walk: Literal["zero", "naive"] = "naive", season: int = 1) -> pd.DataFrame:
    """Skill of a backtest's ``forecasts`` (the tidy frame of :func:`~forecast.workflows.walkforward.walk_forward`)
    against the random walk, one row per series and target.

    The random walk forecasts no change: 0 for a series of returns (``random_walk="zero"``), the
    last seen value for a series of prices or levels (``"naive"``). Columns: ``origins``; ``mae``
    and the random walk's ``rw_mae``; ``mase`` scaled by the in-sample naive MAE of ``history``
    (per series, the target columns before its first origin: ``Backtest.history``); directional
    accuracy of the change from the random walk's forecast at step 1 (origins a step apart do
    not overlap there, so the tests hold their size), with its binomial and Pesaran-Timmermann
    p-values; ``dm_p``, the one-sided Diebold-Mariano p-value (HLN) that the model's squared
    error, averaged over the horizon's steps at each origin, is below the random walk's; and
    ``note``, why a test could not be run (too few origins, constant losses, no direction),
    its p-value then missing.
    """
    rows = []
    horizon = int(forecasts["step"].max())
    for (sid, target), part in forecasts.groupby(["series", "target"], sort=False):
        reference = 0.0 if random_walk == "zero" else part["naive"].to_numpy()
        forecast, actual = part["forecast"].to_numpy(), part["actual"].to_numpy()
        losses = pd.DataFrame({"origin": part["origin"].to_numpy(),
                               "model": (forecast - actual) ** 2, "rw": (reference - actual) ** 2})
        by_origin = losses.groupby("origin", sort=True)[["model", "rw"]].mean()
        first = (part["step"] == 1).to_numpy()
        step_one = reference if np.isscalar(reference) else reference[first]
        notes, direction, dm_p = [], None, float("nan")
        try:
            direction = directional_accuracy(forecast[first] - step_one, actual[first] - step_one)
        except ValueError as error:
            notes.append(f"direction: {error}")
        try:
            dm_p = diebold_mariano(by_origin["model"], by_origin["rw"], min(horizon, max(len(by_origin) - 1, 1)),
                                   "less").p_value
        except ValueError as error:
            notes.append(f"Diebold-Mariano: {error}")
        try:
            scaled = mase(forecast, actual, history[sid][target].to_numpy(), season)
        except ValueError as error:
            scaled = float("nan")
            notes.append(f"MASE: {error}")
        missing = float("nan")
        rows.append({"series": sid, "target": target, "origins": len(by_origin), "mae": float(np.mean(np.abs(forecast - actual))),
                     "rw_mae": float(np.mean(np.abs(reference - actual))), "mase": scaled,
                     "direction": direction.accuracy if direction else missing,
                     "direction_binomial_p": direction.binomial_p if direction else missing,
                     "direction_pt_p": direction.pt_p if direction else missing, "dm_p": dm_p,
                     "note": "; ".join(notes)})
    return pd.DataFrame(rows)
