"""Result of closed-loop runs of a trained factor student."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["StudentRun"]


@dataclass
class StudentRun:
    """Closed-loop run of a trained student
    (:meth:`~brianforce.methods.factor_student.FactorStudent.predict`).

    Attributes
    ----------
    outputs : ndarray (n_trials, T, Q)
    factors : ndarray (n_trials, T, P)       learned factors y(t)
    rates : ndarray (n_trials, T, N) or None fast filtered spike trains (Hz), if recorded
    spike_i, spike_t : ndarray               spike indices / times (s) since the run start
    trial_starts : ndarray (n_trials,)       start time (s) of each trial, same origin
    duration : float                         trial duration (s)
    """

    outputs: np.ndarray
    factors: np.ndarray
    rates: np.ndarray | None
    spike_i: np.ndarray
    spike_t: np.ndarray
    trial_starts: np.ndarray
    duration: float
