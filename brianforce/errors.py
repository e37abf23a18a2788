"""Exceptions shared by numpy cores and Brian2 trainers (no Brian2 import)."""
from __future__ import annotations

import numpy as np

__all__ = ["TrainingDiverged", "StandaloneNotSupportedError"]


class TrainingDiverged(RuntimeError):
    """RLS training produced a non-finite or exploding error.

    Attributes
    ----------
    step : int
        Index of the RLS update at which divergence was detected.
    time : float
        Simulated time (s) of that update.
    error : ndarray
    """

    def __init__(self, step: int, t: float, error, dt: float):
        self.step, self.time, self.error = step, t, np.asarray(error)
        self.sim_step = int(round(t / dt))
        super().__init__(f"FORCE training diverged at RLS update {step} (t = {t:.4f} s, "
                         f"simulation time step {self.sim_step}): error = {self.error}")


class StandaloneNotSupportedError(RuntimeError):
    """Raised when Python-side online training is attempted under a standalone device."""
