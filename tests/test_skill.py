import numpy as np
import pytest
from scipy import stats

from forecast.evaluation.skill import diebold_mariano


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
