"""Period calibration of a trained autonomous rhythm: measure the free-running period error and
the time rescaling that removes it (:meth:`~brianforce.methods.factor_student.FactorStudent.calibrate_period`).

A trained loop runs its rhythm with a small period error of its own (measured on the Dale
oscillation: +0.66 ms at seed 1 and −1.43 ms at seed 4 per 1-s period). Perturbed copies of
one state run freely; the lag of every period behind the target, fitted by one slope through
every copy's lags, gives the drift d per period, and multiplying every time constant and
fixed weight by κ = T / (T + d) makes the network follow the same trajectories with period T.

References
----------
DePasquale B, Churchland MM, Abbott LF (2016) arXiv:1601.07620.
"""
from __future__ import annotations

import numpy as np

from brianforce.analysis.metrics import circular_lag, lag_drift

__all__ = ["RESCALED_TIME_CONSTANTS", "rescaled_refractory", "period_drift"]

#: What a time rescaling multiplies, besides the fixed weights and ``tau_ref``.
RESCALED_TIME_CONSTANTS = ("tau_m", "tau_r", "tau_d", "tau_slow")


def rescaled_refractory(tau_ref: float, dt: float, scale: float) -> float:
    """Refractory period (s) of a network whose time constants are multiplied by ``scale``.

    Brian2 counts the refractory period in whole steps of ``dt`` (s). It becomes the nearest
    whole number of steps to ``scale × tau_ref``; while that is the trained number of steps,
    the trained value is kept exactly, so a small rescaling leaves it as it was.
    """
    n = round(tau_ref * scale / dt)
    return float(tau_ref) if n == round(tau_ref / dt) else n * float(dt)


def period_drift(factor_runs, target) -> tuple:
    """Lag of every free-running period behind ``target`` and the drift per period.

    Parameters
    ----------
    factor_runs : array (n_copies, n_periods, T, P)
        Learned factors of consecutive free periods, per perturbed copy of the state.
    target : array (T, P)
        One period of the target factors.

    Returns
    -------
    lags : ndarray (n_copies, n_periods)
        Lags in samples (:func:`brianforce.analysis.metrics.circular_lag`), unwrapped along
        the periods.
    drift : float
        Mean slope of the copies' lags (samples per period): the free period is T + drift.

    Raises
    ------
    ValueError
        ``|drift| >= T / 10``: not the trained rhythm.
    """
    T = len(target)
    lags = np.array([[float(circular_lag(y, target)) for y in run] for run in factor_runs])
    # every copy has the same periods, so the slope of one fit with an offset per copy is
    # the mean of the copies' own slopes
    drift = float(np.mean([lag_drift(copy, T)[0] for copy in lags]))
    lags = np.unwrap(lags, period=T, axis=1)
    if not abs(drift) < 0.1 * T:
        raise ValueError(f"free-running period differs from the target's by {drift:.0f} of {T} "
                         "samples: not the trained rhythm, period calibration refused")
    return lags, drift
