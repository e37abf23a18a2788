"""Fast checks of the DePasquale recipe driver's evaluation helpers."""
import numpy as np
import pytest

from brianforce.experiments.depasquale import phase_aligned_errors, signed_lags


def test_phase_lag_sign_and_aligned_error():
    t = np.arange(1000) * 1e-3
    f = (np.sin(2 * np.pi * t) + 0.5 * np.sin(2 * np.pi * 3 * t))[:, None]
    delayed = np.roll(f, 7, axis=0)          # z(t) = f(t - 7 ms): the output runs behind
    early = np.roll(f, -4, axis=0)
    err, shifts = phase_aligned_errors(np.stack([delayed, early, f]), np.stack([f, f, f]),
                                       return_shifts=True)
    np.testing.assert_array_equal(signed_lags(shifts, 1000), [7, -4, 0])
    np.testing.assert_allclose(err, 0, atol=1e-20)   # exact after undoing the shift


def test_circular_lag_of_shifted_multichannel_signals():
    """The lag is found jointly over channels, is signed (positive = behind) and wraps around."""
    from brianforce.analysis.metrics import circular_lag

    t = np.arange(500) * 2e-3
    f = np.stack([np.sin(2 * np.pi * t), np.cos(2 * np.pi * 2 * t), np.sin(2 * np.pi * 5 * t)], 1)
    for lag in (0, 1, 13, -40, 249, -250):
        assert circular_lag(np.roll(f, lag, axis=0), f) == lag
    noisy = np.roll(f, 9, axis=0) + 0.2 * np.random.default_rng(0).standard_normal(f.shape)
    assert circular_lag(noisy, f) == 9
    np.testing.assert_raises(ValueError, circular_lag, f, f[:, :2])


def test_lag_drift_separates_a_period_error_from_an_offset():
    """A rhythm 3 ms/period too slow, starting 10 ms ahead: the fit gives (3, −10); lags that
    wrap past ±period/2 are unwrapped; scatter about the line does not bias the slope."""
    from brianforce.analysis.metrics import lag_drift

    k = np.arange(10)
    assert lag_drift(-10 + 3 * k, 1000) == pytest.approx((3.0, -10.0))
    wrapped = (400 + 60 * k + 500) % 1000 - 500          # 400, 460, -480, -420, ...
    assert lag_drift(wrapped, 1000) == pytest.approx((60.0, 400.0))
    jitter = np.random.default_rng(1).normal(0, 2, (2000, 10))
    slopes = [lag_drift(-10 + 3 * k + j, 1000)[0] for j in jitter]
    assert np.mean(slopes) == pytest.approx(3.0, abs=0.05) and np.std(slopes) > 0.1
    for bad in ([1.0], [[1.0, 2.0]], [1.0, np.nan]):
        with pytest.raises(ValueError, match="lags"):
            lag_drift(bad, 1000)
    with pytest.raises(ValueError, match="period"):
        lag_drift([1.0, 2.0], 0)
