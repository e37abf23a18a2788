"""Trials of inputs and targets: the one container every task generator returns.

numpy only; plain floats in SI units (seconds; inputs and targets in the units of the task,
e.g. volts for target currents). A :class:`Trials` holds ``n_trials`` trials of ``T`` samples,
``dt`` seconds apart: inputs ``(n_trials, T, M)`` (``M`` may be 0: no input) and targets
``(n_trials, T, Q)``, with optional labels, decision window, and the network indices of the
trained neurons when the targets are per-neuron currents.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from brianforce.checks import as_count, as_flag, as_number
from brianforce.tasks.timing import seconds

__all__ = ["Trials", "current_targets", "trial_array"]


@dataclass(frozen=True, eq=False)
class Trials:
    """Trials of one task, checked on construction (plain floats, SI units).

    Attributes
    ----------
    inputs : ndarray (n_trials, T, M)
        Input streams, one value per sample; ``M = 0`` for targets without input.
    targets : ndarray (n_trials, T, Q)
        Desired outputs (or, with ``neurons``, synaptic currents in volts).
    dt : float
        Sample interval (s).
    labels : ndarray (n_trials,) or None
        Trial condition (e.g. sign ±1, class index, Go 1 / NoGo 0).
    continuous : bool
        ``True`` when trials are consecutive periods of one ongoing run.
    response : tuple of int or None
        ``(start, stop)`` sample indices of the decision window.
    name : str
    info : dict
        Task details (timing, normalisation, ...).
    neurons : int ndarray (Q,) or None
        Network indices of the trained neurons, one per target column, for per-neuron
        current targets.
    """

    inputs: np.ndarray
    targets: np.ndarray
    dt: float
    labels: np.ndarray | None = None
    continuous: bool = False
    response: tuple | None = None
    name: str = ""
    info: dict = field(default_factory=dict)
    neurons: np.ndarray | None = None

    def __post_init__(self):
        for name in ("inputs", "targets", "dt"):
            _refuse_units(getattr(self, name), name)
        inputs = np.asarray(self.inputs, dtype=float)
        targets = np.asarray(self.targets, dtype=float)
        if inputs.ndim != 3:
            raise ValueError(f"inputs must have shape (n_trials, T, M), got {inputs.shape}")
        if targets.ndim != 3:
            raise ValueError(f"targets must have shape (n_trials, T, Q), got {targets.shape}")
        if inputs.shape[:2] != targets.shape[:2]:
            raise ValueError(f"inputs {inputs.shape} and targets {targets.shape} must agree in "
                             "(n_trials, T)")
        if inputs.shape[0] < 1 or inputs.shape[1] < 1:
            raise ValueError(f"inputs and targets need >= 1 trial and >= 1 sample, got {inputs.shape}")
        if not np.all(np.isfinite(inputs)):
            raise ValueError("inputs contain NaN or Inf")
        if not np.all(np.isfinite(targets)):
            raise ValueError("targets contain NaN or Inf")
        dt = as_number(self.dt, "dt", low=0.0, low_open=True)
        n, T = inputs.shape[:2]
        labels = self.labels
        if labels is not None:
            labels = np.asarray(labels)
            if labels.shape != (n,):
                raise ValueError(f"labels must have shape (n_trials,) = ({n},), got {labels.shape}")
        response = self.response
        if response is not None:
            if np.ndim(response) != 1 or len(response) != 2:
                raise ValueError(f"response must be a (start, stop) pair of sample indices, got {response!r}")
            a, b = (as_count(k, f"response {part}") for k, part in zip(response, ("start", "stop")))
            if not 0 <= a <= b <= T:
                raise ValueError(f"response must satisfy 0 <= start <= stop <= T = {T}, got {(a, b)}")
            response = (a, b)
        if not isinstance(self.info, dict):
            raise TypeError(f"info must be a dict, got {type(self.info).__name__}")
        neurons = self.neurons
        if neurons is not None:
            neurons = np.asarray(neurons, dtype=np.int64).reshape(-1)
            if neurons.size != targets.shape[2]:
                raise ValueError(f"neurons: {neurons.size} indices but targets have "
                                 f"{targets.shape[2]} columns")
            if np.unique(neurons).size != neurons.size or np.any(neurons < 0):
                raise ValueError("neurons must be unique non-negative indices")
        for name, value in (("inputs", inputs), ("targets", targets), ("dt", dt), ("labels", labels),
                            ("continuous", as_flag(self.continuous, "continuous")), ("response", response),
                            ("name", str(self.name)), ("neurons", neurons)):
            object.__setattr__(self, name, value)

    @classmethod
    def from_units(cls, inputs, targets, dt, *, input_unit=1, target_unit=1, **fields) -> "Trials":
        """Trials from Brian2 quantities, checked against their units and stored as SI floats.

        Parameters
        ----------
        inputs, targets : array or Quantity
            Shapes as in :class:`Trials`, with the dimensions of ``input_unit`` and
            ``target_unit`` (default: dimensionless).
        dt : Quantity
            Sample interval (time).
        **fields
            ``labels``, ``continuous``, ``response``, ``name``, ``info``, ``neurons``.

        Examples
        --------
        >>> Trials.from_units(np.zeros((1, 100, 0)), I * mV, 1 * ms, target_unit=mV,
        ...                   neurons=[0, 1])  # doctest: +SKIP
        """
        from brian2 import second

        from brianforce.units import as_positive_si, as_si

        return cls(np.asarray(as_si(inputs, input_unit, "inputs"), dtype=float),
                   np.asarray(as_si(targets, target_unit, "targets"), dtype=float),
                   as_positive_si(dt, second, "dt"), **fields)

    @property
    def n_trials(self) -> int:
        return self.inputs.shape[0]

    @property
    def n_steps(self) -> int:
        """Samples per trial (``T``)."""
        return self.inputs.shape[1]

    @property
    def n_inputs(self) -> int:
        return self.inputs.shape[2]

    @property
    def n_outputs(self) -> int:
        return self.targets.shape[2]

    @property
    def duration(self) -> float:
        """Length of one trial in seconds (``T·dt``)."""
        return self.n_steps * self.dt

    def subset(self, idx) -> "Trials":
        """Trials ``idx`` (an integer, slice, index array or boolean mask) as new :class:`Trials`."""
        if isinstance(idx, (int, np.integer)):
            idx = [idx]
        return Trials(self.inputs[idx], self.targets[idx], self.dt,
                      None if self.labels is None else self.labels[idx], self.continuous,
                      self.response, self.name, dict(self.info), self.neurons)

    def to_frame(self):
        """Long table with columns ``trial, time_s, channel, kind, value``.

        ``kind`` is ``"input"`` or ``"target"``; ``channel`` counts within its kind; sample ``k``
        is at ``time_s = k·dt``.
        """
        import pandas as pd

        parts = []
        for kind, arr in (("input", self.inputs), ("target", self.targets)):
            n, T, K = arr.shape
            parts.append(pd.DataFrame({
                "trial": np.repeat(np.arange(n), T * K),
                "time_s": np.tile(np.repeat(np.arange(T) * self.dt, K), n),
                "channel": np.tile(np.arange(K), n * T),
                "kind": kind,
                "value": arr.reshape(-1),
            }))
        frame = pd.concat(parts, ignore_index=True)
        frame["kind"] = pd.Categorical(frame["kind"], categories=["input", "target"])
        return frame


def current_targets(values, dt: float, neurons, *, name: str = "currents", info: dict | None = None) -> Trials:
    """Target synaptic currents of the trained ``neurons`` as :class:`Trials` without input.

    Parameters
    ----------
    values : array (T, M) or (C, T, M)
        Currents in volts for C conditions (default 1), T samples, M trained neurons; sample
        ``k`` is the target at ``k·dt`` after the training window starts.
    dt : float
        Seconds between samples.
    neurons : int array (M,)
        Network indices of the trained neurons (unique).
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 2:
        values = values[None]
    if values.ndim != 3:
        raise ValueError(f"values must have shape (conditions, time, neurons), got {values.shape}")
    return Trials(np.zeros(values.shape[:2] + (0,)), values, seconds(dt, "dt"), name=name,
                  info={} if info is None else dict(info), neurons=neurons)


def _refuse_units(value, name: str) -> None:
    """``TypeError`` for a Brian2 quantity with units: trials hold plain SI floats, never stripped ones."""
    if hasattr(value, "dim") and not getattr(value, "is_dimensionless", True):
        raise TypeError(f"{name} must be plain SI floats, got a quantity {value!r:.60}; "
                        "use Trials.from_units for Brian2 quantities")


def trial_array(values, name: str) -> np.ndarray:
    """``values`` as a float array (n_trials, T, dims); one trial (T, dims) gets a leading axis.

    What teachers and students take for trials of inputs or targets given as plain arrays (SI
    floats, as :class:`Trials` holds them); a dimensionless Brian2 quantity is read as plain numbers.

    Raises
    ------
    TypeError
        A Brian2 quantity with units (e.g. targets in mV): it is refused, not stripped to its SI value,
        as by :class:`Trials`.
    ValueError
        Another shape, or NaN/Inf values.
    """
    _refuse_units(values, name)
    a = np.asarray(values, dtype=float)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise ValueError(f"{name} must have shape (n_trials, T, dims) or (T, dims), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or Inf")
    return a

