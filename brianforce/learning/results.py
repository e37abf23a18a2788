"""Result types shared by every trainer: the per-update RLS history and a recorded run.

Times in seconds; outputs dimensionless (``z``), in the units of the target.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from brianforce.analysis.metrics import dominant_frequency, lag_adjusted_correlation, normalised_rmse, rmse

if TYPE_CHECKING:       # pandas is imported by _frame
    import pandas as pd

__all__ = ["TrainingHistory", "SimulationResult"]


def _frame(columns: dict) -> pd.DataFrame:
    """A pandas frame of ``columns`` (pandas imported here, where a frame is made: it is slow to import)."""
    import pandas as pd

    return pd.DataFrame(columns)


@dataclass
class TrainingHistory:
    """Per-update record of RLS training (a-priori errors, before each update).

    ``decoder_samples`` (optional, shape ``(n_updates, n_traced, n_outputs)``, seconds) holds the
    decoder weights φ of the neurons ``traced_neurons`` just after each update.
    """

    times: np.ndarray
    errors: np.ndarray
    diverged: bool = False
    diverged_at: float | None = None
    decoder_samples: np.ndarray | None = None
    traced_neurons: np.ndarray | None = None

    @property
    def abs_error(self) -> np.ndarray:
        return np.abs(self.errors).max(axis=1) if len(self.errors) else np.zeros(0)

    def to_frame(self) -> pd.DataFrame:
        """One row per RLS update: ``t`` (s) and ``error_k`` per output."""
        errors = np.asarray(self.errors).reshape(len(self.times), -1)
        cols = {f"error_{k}": errors[:, k] for k in range(errors.shape[1])}
        return _frame({"t": np.asarray(self.times), **cols})


@dataclass
class SimulationResult:
    """Recorded output of one phase. Times in seconds, spikes of the recorded neurons."""

    t: np.ndarray
    z: np.ndarray
    target: np.ndarray
    spike_i: np.ndarray
    spike_t: np.ndarray
    n_recorded: int
    n_neurons: int
    phase: str = "test"
    wall_time: float = 0.0

    def window(self, start: float, stop: float) -> "SimulationResult":
        """Sub-result for ``start <= t < stop`` (seconds, absolute)."""
        m = (self.t >= start) & (self.t < stop)
        s = (self.spike_t >= start) & (self.spike_t < stop)
        return SimulationResult(self.t[m], self.z[m], self.target[m], self.spike_i[s],
                                self.spike_t[s], self.n_recorded, self.n_neurons, self.phase)

    def to_frame(self) -> pd.DataFrame:
        """One row per recorded sample: ``t`` (s), ``z_k`` and ``target_k`` per output."""
        z = np.asarray(self.z).reshape(len(self.t), -1)
        y = np.asarray(self.target).reshape(len(self.t), -1)
        cols = {f"z_{k}": z[:, k] for k in range(z.shape[1])}
        cols.update({f"target_{k}": y[:, k] for k in range(y.shape[1])})
        return _frame({"t": np.asarray(self.t), **cols})

    def spikes_frame(self) -> pd.DataFrame:
        """Recorded spikes: ``neuron`` and ``t`` (s)."""
        return _frame({"neuron": np.asarray(self.spike_i), "t": np.asarray(self.spike_t)})

    def metrics(self, period: float | None = None) -> dict:
        """RMSE (absolute and / target amplitude), lag-adjusted correlation, frequency."""
        dt = float(np.median(np.diff(self.t)))
        max_lag = int(round((period / 4 if period else 0.05) / dt))
        max_lag = min(max_lag, len(self.t) // 2 - 1)
        corr, lag = lag_adjusted_correlation(self.z, self.target, max_lag)
        duration = self.t[-1] - self.t[0] + dt
        return {
            "rmse": rmse(self.z, self.target).tolist(),
            "rmse_over_amplitude": normalised_rmse(self.z, self.target).tolist(),
            "lag_adjusted_correlation": corr.tolist(),
            "lag_s": (lag * dt).tolist(),
            "output_frequency_hz": dominant_frequency(self.z, dt).tolist(),
            "target_frequency_hz": dominant_frequency(self.target, dt).tolist(),
            "mean_rate_hz": float(len(self.spike_t) / max(self.n_recorded, 1) / duration),
        }
