"""Exceptions shared by numpy cores and Brian2 trainers (no Brian2 import)."""
from __future__ import annotations

import numpy as np

__all__ = ["TrainingDiverged", "StandaloneNotSupportedError"]


class TrainingDiverged(RuntimeError):
    """Training produced a non-finite or exploding error — raised by every trainer.

    Attributes
    ----------
    step : int or None
        Index of the update (RLS update, training trial or optimiser iteration) at which
        divergence was detected, where known.
    time : float or None
        Simulated time (s) of that update, where known.
    error : ndarray or None
    sim_step : int or None
        Simulation time step of ``time`` (when the step size is known).
    """

    def __init__(self, step: int | None = None, t: float | None = None, error=None, dt: float | None = None, *,
                 message: str | None = None):
        self.step = None if step is None else int(step)
        self.time = None if t is None else float(t)
        self.error = None if error is None else np.asarray(error)
        self.sim_step = None if (t is None or dt is None) else int(round(t / dt))
        if message is None:
            message = (f"training diverged at RLS update {step} (t = {t:.4f} s, "
                       f"simulation time step {self.sim_step}): error = {self.error}")
        super().__init__(message)


class StandaloneNotSupportedError(RuntimeError):
    """Raised when Python-side online training is attempted under a standalone device."""
