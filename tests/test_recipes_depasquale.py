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
