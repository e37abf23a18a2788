"""Tasks of DePasquale, Churchland & Abbott (2016): oscillation, pulse integration, classification.

Every generator returns a :class:`TrialSet` (numpy arrays, SI units: seconds) with inputs
``(n_trials, T, M)``, targets ``(n_trials, T, Q)`` sampled every ``dt`` seconds, and the
trial structure (``continuous``: trials follow each other without reset, as periods of an
ongoing rhythm; otherwise each trial starts with a ``baseline`` of zero input and zero
target, during which networks return to rest).

References
----------
DePasquale B, Churchland MM, Abbott LF (2016) Using firing-rate dynamics to train recurrent
networks of spiking model neurons. arXiv:1601.07620 (Fig. 2: oscillation, Fig. 3: integration
of a noisy pulse, temporal classification).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..seeding import rng_for

__all__ = ["TrialSet", "oscillation_trials", "integration_trials", "classification_trials",
           "oscillation_target", "integration_accuracy", "classification_accuracy",
           "decision_accuracy", "TASKS"]


@dataclass
class TrialSet:
    """Trials of one task (plain floats, SI units).

    Attributes
    ----------
    inputs : ndarray (n_trials, T, M)
    targets : ndarray (n_trials, T, Q)
    dt : float
        Sample interval (s).
    continuous : bool
        ``True`` when trials are consecutive periods of one ongoing run.
    labels : ndarray (n_trials,)
        Correct decision per trial (sign ±1 for integration, class index for
        classification, zeros for the oscillation).
    response : tuple of int
        ``(start, stop)`` sample indices of the decision window.
    name : str
    """

    inputs: np.ndarray
    targets: np.ndarray
    dt: float
    continuous: bool
    labels: np.ndarray
    response: tuple
    name: str
    info: dict = field(default_factory=dict)

    @property
    def n_trials(self) -> int:
        return self.inputs.shape[0]

    @property
    def n_steps(self) -> int:
        return self.inputs.shape[1]

    @property
    def duration(self) -> float:
        return self.n_steps * self.dt

    def subset(self, idx) -> "TrialSet":
        """Trials ``idx`` (any numpy index) as a new :class:`TrialSet`."""
        return TrialSet(self.inputs[idx], self.targets[idx], self.dt, self.continuous,
                        self.labels[idx], self.response, self.name, dict(self.info))


def _check_common(n_trials, dt):
    if isinstance(n_trials, bool) or int(n_trials) != n_trials or n_trials < 1:
        raise ValueError(f"n_trials must be a positive integer, got {n_trials!r}")
    dt = float(dt)
    if not np.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be > 0 (seconds, plain float), got {dt}")
    return int(n_trials), dt


def oscillation_target(t, freqs=(1.0, 2.0, 3.0, 5.0), amplitude=1.0) -> np.ndarray:
    """Sum of sines at ``freqs`` (Hz) with 1 s common period, scaled to peak ``amplitude``.

    Normalised by the number of components so values stay within ±``amplitude``.
    """
    t = np.asarray(t, dtype=float)
    f = sum(np.sin(2 * np.pi * fr * t) for fr in freqs) / len(freqs)
    return amplitude * f


def oscillation_trials(n_trials: int = 1, dt: float = 1e-3, *, freqs=(1.0, 2.0, 3.0, 5.0),
                       amplitude: float = 1.5, seed: int = 0) -> TrialSet:
    """Autonomous oscillation: no input, target = sum of 1, 2, 3, 5 Hz sines (period 1 s).

    Each trial is one 1-s period; trials are continuous. ``seed`` is unused (the task is
    deterministic) but accepted for a uniform signature.
    """
    n_trials, dt = _check_common(n_trials, dt)
    period = 1.0 / float(np.gcd.reduce(np.round(np.asarray(freqs) * 1000).astype(int)) / 1000)
    n = int(round(period / dt))
    t = np.arange(n) * dt
    target = oscillation_target(t, freqs, amplitude)[None, :, None].repeat(n_trials, 0)
    inputs = np.zeros((n_trials, n, 1))
    return TrialSet(inputs, target, dt, True, np.zeros(n_trials), (0, n), "oscillation",
                    {"period": period, "freqs": list(freqs)})


def integration_trials(n_trials: int, dt: float = 1e-3, *, baseline: float = 0.2,
                       stimulus: float = 0.5, delay: float = 0.1, response: float = 0.3,
                       mean_range=(0.1, 0.5), noise: float = 0.3, seed: int = 0) -> TrialSet:
    """Integrate a noisy pulse and report the sign of its mean.

    Input: ``μ + noise·ξ(t)`` during the stimulus (|μ| uniform in ``mean_range``, random sign,
    ξ white at the sample rate). Target: 0 at baseline, a ramp to ``sign(μ)`` during the
    stimulus and delay, ``sign(μ)`` in the response window.
    """
    n_trials, dt = _check_common(n_trials, dt)
    for name, v in dict(baseline=baseline, stimulus=stimulus, delay=delay, response=response).items():
        if not v > 0:
            raise ValueError(f"{name} must be > 0 (seconds), got {v}")
    rng = rng_for(seed, "task-integration")
    nb, ns, nd, nr = (int(round(x / dt)) for x in (baseline, stimulus, delay, response))
    n = nb + ns + nd + nr
    signs = rng.choice([-1.0, 1.0], size=n_trials)
    mags = rng.uniform(mean_range[0], mean_range[1], size=n_trials)
    inputs = np.zeros((n_trials, n, 1))
    inputs[:, nb:nb + ns, 0] = (signs * mags)[:, None] + noise * rng.standard_normal((n_trials, ns))
    ramp = np.concatenate([np.zeros(nb), np.linspace(0, 1, ns + nd), np.ones(nr)])
    targets = (signs[:, None] * ramp[None, :])[:, :, None]
    return TrialSet(inputs, targets, dt, False, signs, (nb + ns + nd, n), "integration",
                    {"means": (signs * mags).tolist()})


def classification_trials(n_trials: int, dt: float = 1e-3, *, baseline: float = 0.2,
                          pulse: float = 0.1, gap: float = 0.1, delay: float = 0.1,
                          response: float = 0.3, amplitude: float = 1.0, seed: int = 0) -> TrialSet:
    """Temporal classification: two input channels pulsed in order A→B (class 0) or B→A (class 1).

    Output ``q`` is a smooth bump to 1 in the response window when the class is ``q``, 0
    otherwise (two outputs). The decision is the larger mean output in the window.
    """
    n_trials, dt = _check_common(n_trials, dt)
    rng = rng_for(seed, "task-classification")
    nb, npul, ng, nd, nr = (int(round(x / dt)) for x in (baseline, pulse, gap, delay, response))
    n = nb + 2 * npul + ng + nd + nr
    labels = rng.integers(0, 2, size=n_trials)
    inputs = np.zeros((n_trials, n, 2))
    first, second = slice(nb, nb + npul), slice(nb + npul + ng, nb + 2 * npul + ng)
    for k, c in enumerate(labels):
        inputs[k, first, c] = amplitude
        inputs[k, second, 1 - c] = amplitude
    t0 = nb + 2 * npul + ng
    bump = np.zeros(n)
    bump[t0:] = np.sin(np.linspace(0, np.pi / 2, nd + nr)) ** 2  # rises during delay, stays
    bump[t0 + nd:] = 1.0
    targets = np.zeros((n_trials, n, 2))
    targets[np.arange(n_trials), :, labels] = bump
    return TrialSet(inputs, targets, dt, False, labels.astype(float), (t0 + nd, n), "classification")


def integration_accuracy(outputs, trials: TrialSet) -> float:
    """Fraction of trials whose mean output in the response window has the correct sign."""
    out = np.asarray(outputs, dtype=float)
    a, b = trials.response
    decided = np.sign(out[:, a:b, 0].mean(axis=1))
    return float(np.mean(decided == np.sign(trials.labels)))


def classification_accuracy(outputs, trials: TrialSet) -> float:
    """Fraction of trials whose larger mean output in the response window is the true class."""
    out = np.asarray(outputs, dtype=float)
    a, b = trials.response
    decided = np.argmax(out[:, a:b, :].mean(axis=1), axis=1)
    return float(np.mean(decided == trials.labels.astype(int)))


def decision_accuracy(outputs, trials: TrialSet) -> float | None:
    """Task-appropriate accuracy (``None`` for the oscillation, which has no decision)."""
    if trials.name == "integration":
        return integration_accuracy(outputs, trials)
    if trials.name == "classification":
        return classification_accuracy(outputs, trials)
    return None


TASKS = {"oscillation": oscillation_trials, "integration": integration_trials,
         "classification": classification_trials}
