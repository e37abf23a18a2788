"""Targets of online learning: a :class:`~brianforce.tasks.Task`, an array with its own ``dt``,
a callable, or trials of inputs and targets (:class:`~brianforce.tasks.trials.Trials`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brianforce.tasks import Task

__all__ = ["as_task", "LearningTarget", "learning_target", "divergence_scale", "divergence_scale_of"]


def as_task(target, n_outputs: int | None = None, dt: float | None = None) -> Task:
    """Coerce ``target`` (a :class:`Task`, or an array sampled every ``dt`` s) to a Task."""
    if isinstance(target, Task):
        task = target
    elif callable(target):
        raise TypeError("pass a brianforce.tasks.Task, not a bare callable")
    else:
        arr = np.asarray(target, dtype=float)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[0] < 2:
            raise ValueError(f"target array must have shape (n_times, n_outputs), got {np.shape(target)}")
        if not np.all(np.isfinite(arr)):
            bad = int(np.argmax(~np.all(np.isfinite(arr), axis=1)))
            raise ValueError(f"target contains NaN/Inf (first at sample {bad})")
        if dt is None:
            raise ValueError("an array target needs its sampling step dt")
        tt = np.arange(arr.shape[0]) * dt
        end = tt[-1]

        def fn(t, arr=arr, tt=tt, end=end):
            if np.any(t > end + 1e-12):
                raise ValueError(f"target array covers {end:.4f} s only; asked for t = {t.max():.4f} s")
            return np.stack([np.interp(t, tt, arr[:, k]) for k in range(arr.shape[1])], axis=1)

        task = Task("array", arr.shape[1], fn, scale=float(np.max((arr.max(0) - arr.min(0)) / 2)))
    if n_outputs is not None and task.n_outputs != n_outputs:
        raise ValueError(f"target has {task.n_outputs} outputs but the network has {n_outputs}")
    return task


@dataclass(frozen=True)
class LearningTarget:
    """What a learner is trained on, on one time axis (seconds from the start of the run).

    Attributes
    ----------
    task : Task
        Target ``y(t)``, shape (n_times, n_outputs).
    inputs : ndarray (n_samples, n_inputs) or None
        Input ``u`` held for ``input_dt`` per sample (trials laid end to end), or None for
        autonomous tasks.
    input_dt : float or None
    duration : float or None
        Length of the trials (s) when the target is a trial set, else None.
    """

    task: Task
    inputs: np.ndarray | None = None
    input_dt: float | None = None
    duration: float | None = None

    @property
    def n_inputs(self) -> int:
        return 0 if self.inputs is None else self.inputs.shape[1]


def learning_target(target, n_outputs: int, dt: float | None = None) -> LearningTarget:
    """Coerce what a user passes as a target.

    Parameters
    ----------
    target : Task, ndarray (n_times, n_outputs), callable or Trials
        A :class:`Task`; an array sampled every ``dt`` s from t = 0; a callable
        ``f(t) -> (len(t), n_outputs)`` of time in seconds; or trials of inputs and targets
        (any object with ``inputs`` (n_trials, T, M), ``targets`` (n_trials, T[, Q]) and
        ``dt``, e.g. :class:`~brianforce.tasks.trials.Trials`), laid end to end.
    n_outputs : int
    dt : float, optional
        Sampling step (s) of an array target.
    """
    if all(hasattr(target, a) for a in ("inputs", "targets", "dt")) and not isinstance(target, Task):
        inputs = np.asarray(target.inputs, dtype=float)
        targets = np.asarray(target.targets, dtype=float)
        if targets.ndim == 2:
            targets = targets[..., None]
        if inputs.ndim != 3 or targets.ndim != 3 or inputs.shape[:2] != targets.shape[:2]:
            raise ValueError(f"trial inputs (n_trials, T, M) and targets (n_trials, T, Q) must match; "
                             f"got {inputs.shape} and {targets.shape}")
        if not np.all(np.isfinite(inputs)):
            raise ValueError("trial inputs contain NaN/Inf")
        step = float(target.dt)
        flat_t = targets.reshape(-1, targets.shape[2])
        task = as_task(np.vstack([flat_t, flat_t[-1:]]), n_outputs, step)
        n, T, M = inputs.shape
        flat_in = inputs.reshape(n * T, M) if M else None          # M = 0: targets without input
        return LearningTarget(task, flat_in, step, flat_t.shape[0] * step)
    if callable(target) and not isinstance(target, Task):
        fn = target
        probe = np.asarray(fn(np.array([0.0, 1e-3])), dtype=float)
        if probe.shape not in ((2, n_outputs),) + (((2,),) if n_outputs == 1 else ()):
            raise ValueError(f"a target callable must map times (s) of shape (n,) to (n, {n_outputs}); "
                             f"got shape {probe.shape} for n = 2")
        name = getattr(fn, "__name__", "callable")
        return LearningTarget(Task(name, n_outputs, lambda t: np.asarray(fn(t), float).reshape(len(t), -1)))
    return LearningTarget(as_task(target, n_outputs, dt))


def divergence_scale(task: Task, t_start: float, t_stop: float) -> float:
    """Size of the target against which errors are judged: the larger of its amplitude and its
    largest magnitude over ``[t_start, t_stop]`` s (so neither an offset nor a constant target is
    judged against a tiny range), else 1 (a target that is zero throughout)."""
    peak = float(np.max(np.abs(task(np.linspace(t_start, t_stop, 201)))))
    scale = max(float(task.amplitude), peak)
    return scale if scale > 0 else 1.0


def divergence_scale_of(values) -> float:
    """:func:`divergence_scale` of sampled targets: the larger of the amplitude (half the peak-to-peak
    range along the first axis, largest over the other axes) and the largest ``|value|``, else (all
    zero, or no samples) 1.

    Parameters
    ----------
    values : array (n_samples, ...)
        Target samples; any further axes are outputs (or trials × outputs).
    """
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return 1.0
    arr = arr.reshape(arr.shape[0], -1) if arr.ndim else arr.reshape(1, 1)
    scale = max(float(np.max((arr.max(0) - arr.min(0)) / 2)), float(np.max(np.abs(arr))))
    return scale if scale > 0 else 1.0
