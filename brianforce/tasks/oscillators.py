"""Autonomous oscillation targets for FORCE (Nicola & Clopath 2017, Fig. 2).

Each task is a :class:`Task`: a function of time (seconds, numpy) returning the
target, shape (n_times, n_outputs). Targets are sampled exactly when needed, so
trainers never hold a full-resolution copy of long targets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from brianforce.checks import as_number
from brianforce.tasks.timing import hertz

__all__ = ["Task", "sinusoid", "sum_of_sinusoids", "van_der_pol", "sawtooth", "TASKS", "make_task"]


@dataclass(frozen=True)
class Task:
    """A supervised target ``f(t)`` for a network with ``n_outputs`` readouts.

    Attributes
    ----------
    name : str
    n_outputs : int
    fn : callable
        ``fn(t) -> (len(t), n_outputs)``; ``t`` in seconds.
    period : float or None
        Period in seconds for periodic targets.
    params : dict
        Parameters (SI units) for metadata.
    scale : float, optional
        Amplitude, when it cannot be read off ``fn`` over one second.
    """

    name: str
    n_outputs: int
    fn: Callable[[np.ndarray], np.ndarray]
    period: float | None = None
    params: dict = field(default_factory=dict)
    scale: float | None = None

    def __call__(self, t) -> np.ndarray:
        """Target at the times ``t`` (s), shape (len(t), n_outputs); ``fn`` must return exactly that
        (or (len(t),) for one output) and finite values, else ``ValueError``."""
        t = np.atleast_1d(np.asarray(t, dtype=float))
        out = np.asarray(self.fn(t), dtype=float)
        n, k = len(t), self.n_outputs
        if out.shape != (n, k) and not (k == 1 and out.shape == (n,)):
            raise ValueError(f"task {self.name!r}: fn(t) must return shape ({n}, {k}) (times, outputs) "
                             f"for {n} times, got {out.shape}")
        out = out.reshape(n, k)
        if not np.all(np.isfinite(out)):
            raise ValueError(f"task {self.name!r} produced non-finite targets")
        return out

    @property
    def amplitude(self) -> float:
        """Half the peak-to-peak range of the target over two periods (or 1 s), or ``scale``."""
        if self.scale is not None:
            return float(self.scale)
        span = 2 * self.period if self.period else 1.0
        y = self(np.linspace(0, span, 4001))
        return float(np.max((y.max(0) - y.min(0)) / 2))


def _check_positive(**kw):
    """Every value a finite number > 0 (a bool, a string or a unit is refused), named in the error."""
    for k, v in kw.items():
        as_number(v, k, low=0.0, low_open=True)


def sinusoid(frequency: float = 5.0, amplitude: float = 1.0) -> Task:
    """``A sin(2π f t)``; Nicola & Clopath's 5 Hz oscillator (``frequency`` in Hz, or a quantity)."""
    frequency = hertz(frequency, "frequency")
    _check_positive(frequency=frequency, amplitude=amplitude)
    return Task("sinusoid", 1, lambda t: amplitude * np.sin(2 * np.pi * frequency * t)[:, None],
                period=1.0 / frequency, params=dict(frequency=frequency, amplitude=amplitude))


def sum_of_sinusoids(frequencies=(1.0, 2.0, 3.0, 5.0), amplitude: float = 1.0) -> Task:
    """Normalised sum of sines (period = 1/gcd of the frequencies, for integer Hz)."""
    raw = hertz(frequencies, "frequencies")
    freqs = np.asarray(raw, dtype=float)
    if freqs.ndim != 1 or freqs.size == 0:
        raise ValueError(f"frequencies must be a non-empty sequence (Hz), got {frequencies!r}")
    _check_positive(amplitude=amplitude, **{f"frequencies[{k}]": f for k, f in enumerate(raw)})
    scale = amplitude / len(freqs)
    period = None
    if np.allclose(freqs, np.round(freqs)):
        period = 1.0 / float(np.gcd.reduce(np.round(freqs).astype(int)))
    return Task("sum_of_sinusoids", 1,
                lambda t: scale * np.sin(2 * np.pi * np.outer(t, freqs)).sum(1, keepdims=True),
                period=period, params=dict(frequencies=freqs.tolist(), amplitude=amplitude))


def sawtooth(frequency: float = 5.0, amplitude: float = 1.0) -> Task:
    """Rising sawtooth in [−A, A]."""
    frequency = hertz(frequency, "frequency")
    _check_positive(frequency=frequency, amplitude=amplitude)
    return Task("sawtooth", 1, lambda t: (amplitude * (2 * ((t * frequency) % 1.0) - 1))[:, None],
                period=1.0 / frequency, params=dict(frequency=frequency, amplitude=amplitude))


def van_der_pol(mu: float = 1.0, frequency: float = 2.0, amplitude: float = 1.0) -> Task:
    """Van der Pol limit cycle in Liénard form (2 outputs: x and y), time-scaled to ``frequency``.

    ``dx/dt = μ (x − x³/3 − y)``, ``dy/dt = x/μ`` is integrated over one period of its
    limit cycle (scipy ``solve_ivp``, rtol 1e-10), each component rescaled to
    [−amplitude, amplitude] and the period to ``1/frequency``, then evaluated
    periodically with a cubic spline.
    """
    from scipy.integrate import solve_ivp       # imported here: slow to import, needed by this task only
    from scipy.interpolate import CubicSpline

    frequency = hertz(frequency, "frequency")
    _check_positive(mu=mu, frequency=frequency, amplitude=amplitude)

    def rhs(_, s):
        x, y = s
        return [mu * (x - x ** 3 / 3 - y), x / mu]

    settle = solve_ivp(rhs, (0, 200), [2.0, 0.0], rtol=1e-10, atol=1e-12)
    sol = solve_ivp(rhs, (0, 100), settle.y[:, -1], rtol=1e-10, atol=1e-12, dense_output=True)
    tt = np.linspace(0, 100, 1000001)
    x = sol.sol(tt)[0]
    up = np.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))
    t_up = tt[up] - x[up] * (tt[up + 1] - tt[up]) / (x[up + 1] - x[up])
    T0 = float(np.mean(np.diff(t_up)))
    phase = np.linspace(0, 1, 2001)
    cycle = sol.sol(t_up[0] + phase * T0).T
    cycle[-1] = cycle[0]
    lo, hi = cycle.min(0), cycle.max(0)
    cycle = amplitude * (2 * (cycle - lo) / (hi - lo) - 1)
    spline = CubicSpline(phase, cycle, bc_type="periodic")
    return Task("van_der_pol", 2, lambda t: spline((t * frequency) % 1.0),
                period=1.0 / frequency, params=dict(mu=mu, frequency=frequency, amplitude=amplitude))


TASKS = {"sinusoid": sinusoid, "sum_of_sinusoids": sum_of_sinusoids,
         "van_der_pol": van_der_pol, "sawtooth": sawtooth}


def make_task(name: str, **params) -> Task:
    """Build a registered task by name (see ``TASKS``)."""
    try:
        factory = TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; choose one of {sorted(TASKS)}") from None
    return factory(**params)
