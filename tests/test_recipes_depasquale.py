"""Fast checks of the DePasquale recipe driver's evaluation helpers."""
import numpy as np

from brianforce.recipes_depasquale import phase_aligned_errors, signed_lags


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
    from brianforce.analysis import circular_lag

    t = np.arange(500) * 2e-3
    f = np.stack([np.sin(2 * np.pi * t), np.cos(2 * np.pi * 2 * t), np.sin(2 * np.pi * 5 * t)], 1)
    for lag in (0, 1, 13, -40, 249, -250):
        assert circular_lag(np.roll(f, lag, axis=0), f) == lag
    noisy = np.roll(f, 9, axis=0) + 0.2 * np.random.default_rng(0).standard_normal(f.shape)
    assert circular_lag(noisy, f) == 9
    np.testing.assert_raises(ValueError, circular_lag, f, f[:, :2])
