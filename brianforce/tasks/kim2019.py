"""Kim, Li & Sejnowski (2019) tasks: Go/NoGo, XOR and context-dependent integration.

numpy only. Every task is a small frozen dataclass holding the trial timing as
integer steps of ``dt`` (5 ms, the rate network's step), with

* ``sample(n_trials, rng)`` → :class:`~brianforce.tasks.trials.Trials` (inputs
  ``(B, T, n_inputs)``, targets ``(B, T, 1)``, ``response`` from ``response_start`` to the
  end, labels ``(B,)``: Go 1 / NoGo 0; XOR +1 (same signs) / −1 (different); context task
  +1/−1, the sign of the attended stream's mean), and
* ``correct(outputs, labels, dt=...)`` / ``accuracy(...)``: the paper's response
  criteria, applied to outputs sampled at any step ``dt`` (seconds) so that the same
  function scores the rate network (5 ms) and the spiking network (finer).

Target ``targets[:, t, 0]`` is the desired output at the *end* of step ``t``
(time ``(t + 1)·dt``); input ``inputs[:, t]`` is held during ``[t·dt, (t+1)·dt)``.

References
----------
Kim R, Li Y, Sejnowski TJ (2019) Simple framework for constructing functional
spiking recurrent neural networks. PNAS 116:22811-22820 (Fig. 2-4; timing as in the
authors' code, github.com/rkim35/spikeRNN).
Mante V, Sussillo D, Shenoy KV, Newsome WT (2013) Context-dependent computation by
recurrent dynamics in prefrontal cortex. Nature 503:78-84.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from brianforce.checks import as_count, as_flag, as_number
from brianforce.tasks.timing import seconds
from brianforce.tasks.trials import Trials

__all__ = ["GoNoGo", "XOR", "ContextIntegration", "KIM2019_TASKS", "make_task"]


def _check_n(n_trials) -> int:
    return as_count(n_trials, "n_trials", minimum=1)


class _Task:
    """Shared checks of the timing and response scoring (paper's amplitude thresholds)."""

    name = "task"
    n_inputs = 1

    def __post_init__(self):
        """Timing fields are whole steps (``n_steps`` >= 1), ``dt`` > 0 s, flags ``True``/``False``,
        ``p_go`` in [0, 1] and the other numbers >= 0; the stimulus, target and response windows
        are non-empty and inside the trial. Each error names the field and the value."""
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "dt":          # seconds, or a Brian2 time
                object.__setattr__(self, "dt", as_number(seconds(value, "dt"), "dt", low=0.0, low_open=True))
            elif f.type == "int":       # stored as int: 200.0 steps slice like 200
                object.__setattr__(self, f.name, as_count(value, f.name, minimum=1 if f.name == "n_steps" else 0))
            elif f.type == "bool":
                as_flag(value, f.name)
            else:
                as_number(value, f.name, low=0.0, high=1.0 if f.name == "p_go" else None)
        self._check_timing()

    def _fits(self, **windows):
        """Each ``(start, stop)`` window in steps non-empty and inside ``[0, n_steps]``; the error
        names the window, its steps and the trial length."""
        for what, (start, stop) in windows.items():
            if not 0 <= start < stop <= self.n_steps:
                raise ValueError(f"{type(self).__name__}: {what} (steps {start} to {stop}) must be non-empty and "
                                 f"lie inside the trial (n_steps={self.n_steps}), given {self._timing()}")

    def _timing(self) -> str:
        return ", ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self) if f.type == "int")

    def _check_timing(self):
        """Stimulus, target and response windows inside the trial."""
        off = self.stim_on + self.stim_dur
        self._fits(stimulus=(self.stim_on, off), target=(off, self.n_steps),
                   response_window=(self.response_start, self.n_steps))

    def _window(self, outputs, labels, dt):
        outputs = np.asarray(outputs, dtype=float)
        if outputs.ndim == 1:
            outputs = outputs[None, :]
        elif outputs.ndim == 3 and outputs.shape[2] == 1:
            outputs = outputs[:, :, 0]
        labels = np.asarray(labels).reshape(-1)
        if outputs.ndim != 2 or outputs.shape[0] != labels.shape[0]:
            raise ValueError(f"outputs must be (n_trials, n_samples[, 1]) with n_trials = len(labels) "
                             f"= {labels.shape[0]}, got shape {outputs.shape}")
        dt = self.dt if dt is None else as_number(seconds(dt, "dt"), "dt", low=0.0, low_open=True)
        # sample k is taken at time (k + 1)·dt; the window holds samples after response_start·self.dt
        first = int(np.floor(self.response_start * self.dt / dt + 1e-9))
        if first >= outputs.shape[1]:
            raise ValueError(f"outputs end ({outputs.shape[1] * dt:.3f} s) before the response window "
                             f"({self.response_start * self.dt:.3f} s)")
        win = outputs[:, first:]
        if not np.all(np.isfinite(win)):
            raise ValueError("outputs contain NaN or Inf in the response window")
        return win, labels

    def _trials(self, u, z, labels) -> Trials:
        """Inputs ``u`` (B, T, M) and one-output targets ``z`` (B, T) as :class:`Trials`."""
        return Trials(u, z[:, :, None], self.dt, labels=labels,
                      response=(min(self.response_start, self.n_steps), self.n_steps), name=self.name)

    def accuracy(self, outputs, labels, dt: float | None = None) -> float:
        """Fraction of trials answered correctly (see :meth:`correct`)."""
        return float(np.mean(self.correct(outputs, labels, dt)))

    @property
    def duration(self) -> float:
        """Trial length in seconds."""
        return self.n_steps * self.dt


@dataclass(frozen=True)
class GoNoGo(_Task):
    """Go/NoGo: respond (output → 1) after a brief input pulse, stay at 0 without one.

    Timing (steps of 5 ms): trial 200 (1 s), pulse 50–75 (250–375 ms), target 1 from
    step 75 on Go trials, 0 throughout on NoGo trials.
    A Go trial is correct when ``max(o) > amp_threshold`` (0.7) and a NoGo trial when
    ``max|o| < nogo_threshold`` (0.3), both over the response window (from ``response_start``),
    as in the authors' rate-network training code. Their spiking-network evaluation
    (:meth:`spiking_criterion`) starts the window at 0.5 s and requires ``max(o) < 0.3``
    (one-sided) on NoGo trials.

    References
    ----------
    Kim, Li & Sejnowski (2019) PNAS 116:22811, Fig. 2.
    """

    dt: float = 0.005
    n_steps: int = 200
    stim_on: int = 50
    stim_dur: int = 25
    response_start: int = 75
    amp_threshold: float = 0.7
    nogo_threshold: float = 0.3
    p_go: float = 0.5
    nogo_absolute: bool = True

    name = "go_nogo"
    n_inputs = 1

    def sample(self, n_trials: int, rng: np.random.Generator) -> Trials:
        """Draw ``n_trials`` trials (Go with probability ``p_go``)."""
        n = _check_n(n_trials)
        labels = (rng.random(n) < self.p_go).astype(int)
        u = np.zeros((n, self.n_steps, 1))
        z = np.zeros((n, self.n_steps))
        on, off = self.stim_on, self.stim_on + self.stim_dur
        u[labels == 1, on:off, 0] = 1.0
        z[labels == 1, off:] = 1.0
        return self._trials(u, z, labels)

    def correct(self, outputs, labels, dt: float | None = None) -> np.ndarray:
        """Boolean per trial. ``outputs`` (B, n_samples) or (B, n_samples, 1), sampled every ``dt`` s."""
        win, labels = self._window(outputs, labels, dt)
        go = win.max(axis=1) > self.amp_threshold
        nogo = (np.abs(win) if self.nogo_absolute else win).max(axis=1) < self.nogo_threshold
        return np.where(labels == 1, go, nogo)

    def spiking_criterion(self) -> "GoNoGo":
        """The authors' criterion for spiking networks: window from 0.5 s, NoGo ``max(o) < 0.3``."""
        return replace(self, response_start=int(round(0.5 / self.dt)), nogo_absolute=False)


@dataclass(frozen=True)
class XOR(_Task):
    """XOR: two sequential ±1 pulses; output +1 if their signs agree, −1 otherwise.

    Timing (steps of 5 ms): trial 300 (1.5 s); pulse 1 on input 0 at 50–100, pulse 2 on
    input 1 at 110–160 (50 ms delay); target ±1 during 170–270, 0 elsewhere.
    Correct when ``max(o) > 0.7`` (same) / ``min(o) < −0.7`` (different) after step 200.

    References
    ----------
    Kim, Li & Sejnowski (2019) PNAS 116:22811, Fig. 3.
    """

    dt: float = 0.005
    n_steps: int = 300
    stim_on: int = 50
    stim_dur: int = 50
    delay: int = 10
    target_delay: int = 10
    target_dur: int = 100
    response_start: int = 200
    amp_threshold: float = 0.7

    name = "xor"
    n_inputs = 2

    def sample(self, n_trials: int, rng: np.random.Generator) -> Trials:
        """Draw ``n_trials`` trials with independent, equiprobable pulse signs."""
        n = _check_n(n_trials)
        signs = np.where(rng.random((n, 2)) < 0.5, 1.0, -1.0)
        u = np.zeros((n, self.n_steps, 2))
        on1 = self.stim_on
        on2 = self.stim_on + self.stim_dur + self.delay
        u[:, on1:on1 + self.stim_dur, 0] = signs[:, :1]
        u[:, on2:on2 + self.stim_dur, 1] = signs[:, 1:]
        labels = (signs[:, 0] * signs[:, 1]).astype(int)
        z = np.zeros((n, self.n_steps))
        t0 = on2 + self.stim_dur + self.target_delay
        z[:, t0:t0 + self.target_dur] = labels[:, None]
        return self._trials(u, z, labels)

    def _check_timing(self):
        """Both pulses, the target and the response window inside the trial."""
        on2 = self.stim_on + self.stim_dur + self.delay
        t0 = on2 + self.stim_dur + self.target_delay
        self._fits(pulse_1=(self.stim_on, self.stim_on + self.stim_dur), pulse_2=(on2, on2 + self.stim_dur),
                   target=(t0, t0 + self.target_dur), response_window=(self.response_start, self.n_steps))

    def correct(self, outputs, labels, dt: float | None = None) -> np.ndarray:
        """Boolean per trial. ``outputs`` (B, n_samples) or (B, n_samples, 1), sampled every ``dt`` s."""
        win, labels = self._window(outputs, labels, dt)
        return np.where(labels == 1, win.max(axis=1) > self.amp_threshold,
                        win.min(axis=1) < -self.amp_threshold)

    def spiking_criterion(self) -> "XOR":
        """The authors' criterion for spiking networks (the same as for rate networks)."""
        return self


@dataclass(frozen=True)
class ContextIntegration(_Task):
    """Context-dependent integration (Mante et al. 2013).

    Two noisy sensory streams (inputs 0, 1: N(±``coherence``, ``noise``²) per step during
    the stimulus) and two constant context cues (inputs 2, 3). The output must report,
    as ±1 after the stimulus, the sign of the mean of the stream selected by the cue.
    Timing (steps of 5 ms): trial 500 (2.5 s), stimulus 50–250 (1 s), target from 250.
    Correct when ``max(o) > 0.7`` (+1) / ``min(o) < −0.7`` (−1) after step 300 (1.5 s; the
    authors' spiking evaluation starts at 1.3 s, :meth:`spiking_criterion`).

    References
    ----------
    Kim, Li & Sejnowski (2019) PNAS 116:22811, Fig. 4.
    Mante et al. (2013) Nature 503:78.
    """

    dt: float = 0.005
    n_steps: int = 500
    stim_on: int = 50
    stim_dur: int = 200
    response_start: int = 300
    coherence: float = 0.5
    noise: float = 1.0
    amp_threshold: float = 0.7

    name = "context"
    n_inputs = 4

    def sample(self, n_trials: int, rng: np.random.Generator) -> Trials:
        """Draw ``n_trials`` trials; stream signs and context are equiprobable."""
        n = _check_n(n_trials)
        signs = np.where(rng.random((n, 2)) < 0.5, 1.0, -1.0)
        context = (rng.random(n) >= 0.5).astype(int)        # 0 → attend stream 0
        u = np.zeros((n, self.n_steps, 4))
        on, off = self.stim_on, self.stim_on + self.stim_dur
        u[:, on:off, :2] = (signs[:, None, :] * self.coherence
                            + self.noise * rng.standard_normal((n, self.stim_dur, 2)))
        u[np.arange(n), :, 2 + context] = 1.0
        labels = signs[np.arange(n), context].astype(int)
        z = np.zeros((n, self.n_steps))
        z[:, off:] = labels[:, None]
        return self._trials(u, z, labels)

    def correct(self, outputs, labels, dt: float | None = None) -> np.ndarray:
        """Boolean per trial. ``outputs`` (B, n_samples) or (B, n_samples, 1), sampled every ``dt`` s."""
        win, labels = self._window(outputs, labels, dt)
        return np.where(labels == 1, win.max(axis=1) > self.amp_threshold,
                        win.min(axis=1) < -self.amp_threshold)

    def spiking_criterion(self) -> "ContextIntegration":
        """The authors' criterion for spiking networks: window from 1.3 s."""
        return replace(self, response_start=int(round(1.3 / self.dt)))


KIM2019_TASKS = {"go_nogo": GoNoGo, "xor": XOR, "context": ContextIntegration}


def make_task(name: str, **timing):
    """Task instance by name (``"go_nogo"``, ``"xor"``, ``"context"``)."""
    try:
        cls = KIM2019_TASKS[name]
    except KeyError:
        raise ValueError(f"unknown task {name!r}; choose from {sorted(KIM2019_TASKS)}") from None
    return cls(**timing)
