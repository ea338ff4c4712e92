import numpy as np
import pytest
from scipy import stats

from forecast.evaluation.skill import diebold_mariano, directional_accuracy, mase


def test_diebold_mariano_by_hand_one_step():
    a, b = [1.0, 2.0, 3.0, 4.0, 5.0], [0.0, 2.0, 2.0, 5.0, 3.0]
    # d = 1, 0, 1, -1, 2: mean 0.6; centred 0.4, -0.6, 0.4, -1.6, 1.4; gamma_0 = 5.2 / 5 = 1.04
    # DM = 0.6 / sqrt(1.04 / 5); HLN factor sqrt((5 + 1 - 2) / 5) for h = 1
    expected = 0.6 / np.sqrt(1.04 / 5) * np.sqrt(4 / 5)
    result = diebold_mariano(a, b)
    assert result.statistic == pytest.approx(expected, rel=1e-12)
    assert result.p_value == pytest.approx(2 * stats.t(df=4).sf(expected), rel=1e-12)
    assert result.mean_difference == pytest.approx(0.6)
    assert diebold_mariano(a, b, alternative="greater").p_value == pytest.approx(result.p_value / 2)


def test_diebold_mariano_by_hand_two_steps_uses_the_first_autocovariance():
    d = np.array([1.0, 2.0, 1.0, -1.0, -2.0, 1.0])  # positively autocorrelated at lag 1
    centred = d - d.mean()  # mean 2/3
    gamma0 = centred @ centred / 6
    gamma1 = centred[1:] @ centred[:-1] / 6
    variance = gamma0 + 2 * gamma1
    assert variance > 0
    expected = d.mean() / np.sqrt(variance / 6) * np.sqrt((6 + 1 - 4 + 2 / 6) / 6)
    result = diebold_mariano(d, np.zeros(6), horizon=2)
    assert result.statistic == pytest.approx(expected, rel=1e-12)


def test_diebold_mariano_finds_a_real_difference_and_not_a_false_one():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=400)
    good, bad = noise ** 2, (noise + 0.5) ** 2
    assert diebold_mariano(good, bad, alternative="less").p_value < 1e-4
    same = rng.normal(size=(2, 400)) ** 2
    assert diebold_mariano(*same).p_value > 0.05
    with pytest.raises(ValueError, match="constant"):
        diebold_mariano(np.ones(5), np.zeros(5))


def test_mase_by_hand():
    # in-sample naive errors |3-1|, |2-3|, |5-2| = 2, 1, 3: mean 2; forecast MAE (1 + 3) / 2 = 2
    assert mase([4, 6], [5, 3], training=[1, 3, 2, 5]) == pytest.approx(1.0)
    # seasonal, m = 2: |2-1|, |5-3|, |4-2| = 1, 2, 2: mean 5/3
    assert mase([4, 6], [5, 3], training=[1, 3, 2, 5, 4], season=2) == pytest.approx(2 / (5 / 3))
    with pytest.raises(ValueError, match="constant"):
        mase([1], [1], training=[2, 2, 2])


def test_directional_accuracy_binomial_and_pesaran_timmermann_by_hand():
    # the last pair has a zero forecast and is left out: n = 5, 4 signs right
    result = directional_accuracy([1, -1, 2, -2, 3, 0], [2, -1, -3, -1, 1, 5])
    assert (result.accuracy, result.n) == (0.8, 5)
    # py = 2/5 up actuals, px = 3/5 up forecasts: the base rate p* = 0.48, so the binomial test is
    # P(X >= 4), X ~ Binomial(5, 0.48) = 5 * 0.48^4 * 0.52 + 0.48^5 (not a coin's 6/32)
    assert result.binomial_p == pytest.approx(5 * 0.48 ** 4 * 0.52 + 0.48 ** 5)
    # V(p) = 0.04992,
    # V(p*) = 0.00192 + 0.00192 + 0.009216 = 0.013056, PT = 0.32 / sqrt(0.036864) = 5/3
    assert result.pt_statistic == pytest.approx(5 / 3)
    assert result.pt_p == pytest.approx(0.0477903522728147)


def test_pesaran_timmermann_is_undefined_when_every_forecast_has_one_sign():
    result = directional_accuracy([1, 1, 1, 1], [1, -1, 1, 1])
    assert result.accuracy == 0.75 and np.isnan(result.pt_p)


@pytest.mark.parametrize("horizon", [1, 3])
def test_diebold_mariano_agrees_with_the_dieboldmariano_package(horizon):
    package = pytest.importorskip("dieboldmariano")
    rng = np.random.default_rng(horizon)
    actual = rng.normal(size=80)
    first = actual + rng.normal(scale=0.9, size=80)
    second = actual + rng.normal(scale=1.0, size=80)
    ours = diebold_mariano((first - actual) ** 2, (second - actual) ** 2, horizon)
    statistic, p_value = package.dm_test(actual, first, second, h=horizon, harvey_correction=True)
    assert ours.statistic == pytest.approx(statistic, rel=1e-9)
    assert ours.p_value == pytest.approx(p_value, rel=1e-9)
