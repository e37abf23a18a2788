"""Result of closed-loop runs of a trained factor student."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["StudentRun"]


@dataclass
class StudentRun:
    """Closed-loop run of a trained student
    (:meth:`~brianforce.methods.factor_student.FactorStudent.predict`).

    Attributes
    ----------
    outputs : ndarray (n_trials, T, Q)
    factors : ndarray (n_trials, T, P)
        Learned factors y(t).
    rates : ndarray (n_trials, T, N) or None
        Fast filtered spike trains (Hz), if recorded.
    spike_i, spike_t : ndarray
        Spike indices / times (s) since the run start.
    trial_starts : ndarray (n_trials,)
        Start time (s) of each trial, same origin.
    duration : float
        Trial duration (s).
    """

    outputs: np.ndarray
    factors: np.ndarray
    rates: np.ndarray | None
    spike_i: np.ndarray
    spike_t: np.ndarray
    trial_starts: np.ndarray
    duration: float

    def to_frame(self) -> pd.DataFrame:
        """One row per trial and sample: ``trial``, ``t`` (s since the run start: the trial's start plus
        ``k·duration/T`` for sample ``k``), ``output_q`` per output and ``factor_p`` per learned factor.
        The rates, one column per neuron, are left out (``rates``)."""
        n, T = self.outputs.shape[:2]
        t = np.asarray(self.trial_starts, dtype=float)[:, None] + np.arange(T) * (self.duration / T)
        outputs = np.asarray(self.outputs).reshape(n * T, -1)
        factors = np.asarray(self.factors).reshape(n * T, -1)
        cols = {"trial": np.repeat(np.arange(n), T), "t": t.reshape(-1)}
        cols.update({f"output_{q}": outputs[:, q] for q in range(outputs.shape[1])})
        cols.update({f"factor_{p}": factors[:, p] for p in range(factors.shape[1])})
        return pd.DataFrame(cols)

    def spikes_frame(self) -> pd.DataFrame:
        """Recorded spikes: ``neuron`` and ``t`` (s since the run start)."""
        return pd.DataFrame({"neuron": np.asarray(self.spike_i), "t": np.asarray(self.spike_t)})
