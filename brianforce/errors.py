"""Exceptions shared by numpy cores and Brian2 trainers (no Brian2 import).

Every trainer reports divergence with :class:`TrainingDiverged` (or a subclass), keeps it in its
``diverged_`` attribute and then refuses to run or save what it learned unless asked with
``allow_diverged=True`` (:func:`refuse_if_diverged`).
"""
from __future__ import annotations

import numpy as np

from brianforce.checks import as_flag

__all__ = ["TrainingDiverged", "StandaloneNotSupportedError", "refuse_if_diverged"]


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
    counter : str
        What ``step`` counts (``'RLS update'``, ``'RLS trial'``, ``'iteration'``, …).
    """

    def __init__(self, step: int | None = None, t: float | None = None, error=None, dt: float | None = None, *,
                 message: str | None = None, counter: str = "RLS update"):
        self.step = None if step is None else int(step)
        self.time = None if t is None else float(t)
        self.error = None if error is None else np.asarray(error)
        self.sim_step = None if (t is None or dt is None) else int(round(t / dt))
        self.counter = counter
        if message is None:
            message = self.where()
            if self.sim_step is not None:
                message = message[:-1] + f", simulation time step {self.sim_step})"
            message += f": error = {self.error}"
        super().__init__(message)

    def where(self) -> str:
        """``'training diverged at RLS update 15 (t = 0.0301 s)'``, with what is known."""
        text = "training diverged"
        if self.step is not None:
            text += f" at {self.counter} {self.step}"
        if self.time is not None:
            text += f" (t = {self.time:.4f} s)"
        return text


class StandaloneNotSupportedError(RuntimeError):
    """Raised when Python-side online training is attempted under a standalone device."""


def refuse_if_diverged(diverged: TrainingDiverged | None, allow_diverged, what: str, remedy: str) -> None:
    """Refuse to use what a diverged training left, unless ``allow_diverged=True``.

    Parameters
    ----------
    diverged : TrainingDiverged or None
        The trainer's ``diverged_``.
    allow_diverged : bool
    what : str
        What is refused (e.g. ``'the decoder'``).
    remedy : str
        How to train again (e.g. ``'train again with a smaller alpha'``).

    Raises
    ------
    RuntimeError
        Naming the update and time of the divergence and ``allow_diverged=True``.
    """
    if diverged is not None and not as_flag(allow_diverged, "allow_diverged"):
        raise RuntimeError(f"{diverged.where()}: not running or saving {what}. Pass allow_diverged=True to "
                           f"do so anyway, or {remedy}")
