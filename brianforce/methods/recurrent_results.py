"""What a Kim & Chow training run records: the learning curve and repeated test trials.

References
----------
Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from brianforce.analysis.population import gaussian_smooth

__all__ = ["LearningCurve", "TrialRecording"]


@dataclass(frozen=True)
class LearningCurve:
    """One entry per training trial.

    Attributes
    ----------
    condition : int ndarray (n,)
    rms_error : ndarray (n,)
        Root-mean-square a-priori RLS error over the window, volts.
    correlation : ndarray (n,)
        Mean over trained neurons of corr(recorded ``I_syn``, target) in that trial.
    """

    condition: np.ndarray
    rms_error: np.ndarray
    correlation: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """One row per training trial: ``trial``, ``condition``, ``rms_error_v`` (volts), ``correlation``."""
        return pd.DataFrame({"trial": np.arange(len(self.condition)), "condition": np.asarray(self.condition),
                             "rms_error_v": np.asarray(self.rms_error, dtype=float),
                             "correlation": np.asarray(self.correlation, dtype=float)})


@dataclass(frozen=True)
class TrialRecording:
    """Activity recorded in the windows of repeated trials.

    Attributes
    ----------
    currents : ndarray (trials, C, T, M)
        ``I_syn`` of the trained neurons (volts) at the target sample times.
    spike_times : list[list[tuple[ndarray, ndarray]]]
        ``[trial][condition] = (neuron, time)`` of all spikes in the window, time in
        seconds from window start.
    dt : float
        Seconds between current samples.
    duration : float
        Window length in seconds.
    n_neurons : int
    """

    currents: np.ndarray
    spike_times: list
    dt: float
    duration: float
    n_neurons: int

    def to_frame(self) -> pd.DataFrame:
        """Long table of the recorded currents: ``trial``, ``condition``, ``t`` (s from the window start,
        ``k·dt``), ``neuron`` (0 … M−1, the column of ``currents``) and ``current_v`` (volts)."""
        n, C, T, M = self.currents.shape
        idx = np.indices((n, C, T, M)).reshape(4, -1)
        return pd.DataFrame({"trial": idx[0], "condition": idx[1], "t": idx[2] * self.dt, "neuron": idx[3],
                             "current_v": np.asarray(self.currents, dtype=float).reshape(-1)})

    def spikes_frame(self) -> pd.DataFrame:
        """All spikes in the windows: ``trial``, ``condition``, ``neuron`` (network index) and ``t``
        (s from the window start)."""
        rows = [(k, c, np.asarray(i), np.asarray(t, dtype=float))
                for k, trial in enumerate(self.spike_times) for c, (i, t) in enumerate(trial)]
        sizes = [len(i) for *_, i, _ in rows]
        return pd.DataFrame({"trial": np.repeat([r[0] for r in rows], sizes).astype(np.int64),
                             "condition": np.repeat([r[1] for r in rows], sizes).astype(np.int64),
                             "neuron": np.concatenate([r[2] for r in rows] or [np.zeros(0)]).astype(np.int64),
                             "t": np.concatenate([r[3] for r in rows] or [np.zeros(0)])})

    def binned_rates(self, neurons, *, smooth: float = 0.025) -> np.ndarray:
        """Trial-averaged rates (C, T, len(neurons)) in Hz, Gaussian-smoothed (SD ``smooth`` s)."""
        neurons = np.asarray(neurons, dtype=np.int64)
        pos = np.full(self.n_neurons, -1)
        pos[neurons] = np.arange(neurons.size)
        n_trials, C, T = self.currents.shape[:3]
        counts = np.zeros((C, T, neurons.size))
        for trial in self.spike_times:
            for c, (idx, t) in enumerate(trial):
                keep = pos[idx] >= 0
                # a spike at a bin's start belongs to that bin (t/dt may fall just below the integer)
                k = np.minimum(np.floor(t[keep] / self.dt + 1e-6).astype(np.int64), T - 1)
                np.add.at(counts[c], (k, pos[idx[keep]]), 1.0)
        rates = counts / (n_trials * self.dt)
        return gaussian_smooth(rates, smooth / self.dt, axis=1) if smooth > 0 else rates
