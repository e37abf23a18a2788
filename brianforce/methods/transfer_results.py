"""What a transferred LIF network's run records (:func:`~brianforce.methods.transfer.simulate_lif`).

References
----------
Kim R, Li Y, Sejnowski TJ (2019) Simple framework for constructing functional spiking recurrent neural
networks. PNAS 116:22811-22820.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LIFRun"]


@dataclass
class LIFRun:
    """Result of :func:`~brianforce.methods.transfer.simulate_lif`.

    Attributes
    ----------
    outputs : (B, n_samples) readout, ``n_samples = duration/record_dt``; sample ``k`` is the
        readout of the network state at time ``k·record_dt`` (``record_dt`` a multiple of ``dt``):
        the readout sums ``r`` in the ``groups`` slot before the LIF neurons integrate the step
        from ``k·record_dt``, so sample 0 is the initial state (``o = b_out``) and the state at the
        end of the trial is not recorded. It equals sample ``k·record_dt/dt`` of a run with
        ``record_dt = dt``.
    record_dt : float, seconds.
    scaling_factors : (B,) the ``1/λ`` used for each trial.
    spike_trial, spike_unit, spike_time : 1-D arrays (seconds) of the recorded spikes
        (only the first ``record_spikes`` trials; empty otherwise).
    mean_rate : (B,) population firing rate per trial, hertz.
    """

    outputs: np.ndarray
    record_dt: float
    scaling_factors: np.ndarray
    spike_trial: np.ndarray
    spike_unit: np.ndarray
    spike_time: np.ndarray
    mean_rate: np.ndarray

    @property
    def times(self) -> np.ndarray:
        """Times ``k·record_dt`` (seconds) of the states the samples read out. The Kim et al. (2019) task
        criteria (:mod:`brianforce.tasks.kim2019`), given ``dt=record_dt``, score the samples from index
        ``response_start·task_dt/record_dt`` on: the states at times in ``[response start, trial end)``."""
        return np.arange(self.outputs.shape[1]) * self.record_dt

    def to_frame(self):
        """One row per trial and sample: ``trial``, ``t`` (s, :attr:`times`, the time of the state read
        out), ``output``, and the trial's ``scaling_factor`` (``1/λ``) and ``mean_rate_hz``."""
        import pandas as pd

        n, T = self.outputs.shape[:2]
        return pd.DataFrame({"trial": np.repeat(np.arange(n), T), "t": np.tile(self.times, n),
                             "output": np.asarray(self.outputs).reshape(n * T),
                             "scaling_factor": np.repeat(np.asarray(self.scaling_factors, dtype=float), T),
                             "mean_rate_hz": np.repeat(np.asarray(self.mean_rate, dtype=float), T)})

    def spikes_frame(self):
        """Recorded spikes: ``trial``, ``neuron`` and ``t`` (s from the trial start)."""
        import pandas as pd

        return pd.DataFrame({"trial": np.asarray(self.spike_trial), "neuron": np.asarray(self.spike_unit),
                             "t": np.asarray(self.spike_time)})
