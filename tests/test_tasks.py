import numpy as np
import pytest

from brianforce.analysis.metrics import dominant_frequency, lag_adjusted_correlation, normalised_rmse
from brianforce.tasks import make_task, sawtooth, sinusoid, sum_of_sinusoids, van_der_pol


def test_sinusoid_values_and_period():
    task = sinusoid(5.0, 2.0)
    t = np.array([0.0, 0.05, 0.1])
    np.testing.assert_allclose(task(t)[:, 0], [0.0, 2.0, 0.0], atol=1e-12)
    assert task.period == pytest.approx(0.2) and task.amplitude == pytest.approx(2.0, rel=1e-4)


def test_van_der_pol_is_a_periodic_limit_cycle_of_the_ode():
    task = van_der_pol(mu=1.0, frequency=2.0)
    t = np.linspace(0, 3, 30001)
    y = task(t)
    assert y.shape == (30001, 2)
    np.testing.assert_allclose(task(t + 0.5), y, atol=1e-6)          # period 1/f
    np.testing.assert_allclose(y.min(0), -1, atol=1e-3)
    np.testing.assert_allclose(y.max(0), 1, atol=1e-3)
    # the Liénard variable y integrates x: dy/dt ∝ x
    dy = np.gradient(y[:, 1], t)
    assert np.corrcoef(dy, y[:, 0])[0, 1] > 0.999
    assert dominant_frequency(y, t[1] - t[0]) == pytest.approx([2.0, 2.0], rel=1e-3)


def test_sum_of_sines_and_sawtooth():
    assert sum_of_sinusoids((1, 2, 3, 5)).period == 1.0
    saw = sawtooth(4.0)
    np.testing.assert_allclose(saw(np.array([0.0, 0.125]))[:, 0], [-1.0, 0.0])


def test_bad_task_parameters():
    with pytest.raises(ValueError):
        sinusoid(frequency=-1)
    with pytest.raises(ValueError, match="unknown task"):
        make_task("lorenz")


def test_metrics_against_hand_computed_values():
    t = np.arange(0, 1, 1e-3)
    y = np.sin(2 * np.pi * 5 * t)[:, None]
    z = np.sin(2 * np.pi * 5 * (t - 0.01))[:, None]
    corr, lag = lag_adjusted_correlation(z, y, 20)
    assert corr[0] > 0.9999 and lag[0] == 10
    np.testing.assert_allclose(normalised_rmse(0.9 * y, y), [0.1 / np.sqrt(2)], rtol=1e-3)
    assert dominant_frequency(y, 1e-3)[0] == pytest.approx(5.0, rel=1e-3)
