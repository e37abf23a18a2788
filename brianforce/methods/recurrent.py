"""Train the recurrent synapses of a balanced LIF network with per-neuron RLS (Kim & Chow).

Each trial: membrane potentials randomised and synaptic state cleared, a fixed random
stimulus (per condition) for ``stim_duration``, then a training window in which
:class:`brianforce.learning.RecurrentRLS` (the per-neuron RLS that trains any Brian2
``Synapses``) compares, every ``learn_every``, each trained neuron's predicted synaptic
current ``Σ_j w_ij r_j`` (over its *existing* presynaptic partners) with its target at the end
of the step and updates that neuron's incoming weights in the Brian2 synapses. Optionally
Dale's law is kept (weights clipped at zero so that every synapse keeps its presynaptic sign).

References
----------
Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
"""
from __future__ import annotations

import logging
import time

import numpy as np

import brian2 as b2
from brian2 import mV, ms, network_operation, second, volt
from brian2.devices.device import RuntimeDevice
from brian2.units.fundamentalunits import fail_for_dimension_mismatch

from brianforce.analysis.population import time_correlations as correlations
from brianforce.checks import as_count, as_flag, as_number
from brianforce.errors import TrainingDiverged, refuse_if_diverged
from brianforce.heap import on_frozen_heap
from brianforce.io import save_arrays
from brianforce.networks.balanced import (BalancedConnectivity, BalancedNetwork, balanced_connectivity,
                       build_balanced_network)
from brianforce.devices.activation import CompilationFailed, mark_as_run
from brianforce.devices.force_program import compiler_available
from brianforce.learning.recurrent import RecurrentRLS
from brianforce.learning.results import TrainingHistory
from brianforce.methods.recurrent_rates import RateFitting
from brianforce.methods.recurrent_results import LearningCurve, TrialRecording
from brianforce.methods.trial_windows import align_to_grid, require_complete, window_recorder
from brianforce.seeding import check_seed, rng_for
from brianforce.tasks.trials import Trials

__all__ = ["RecurrentTrainer", "LearningCurve", "TrialRecording", "correlations", "TRAIN_DEVICES"]

logger = logging.getLogger(__name__)

#: Where :meth:`RecurrentTrainer.fit` can train.
TRAIN_DEVICES = ("runtime", "cpp_standalone", "auto")


def _time(name, q) -> float:
    fail_for_dimension_mismatch(q, second, f"{name} must be a time (e.g. 10*ms)")
    value = float(q / second)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be > 0, got {q}")
    return value


def _voltage(name, q) -> float:
    fail_for_dimension_mismatch(q, volt, f"{name} must be a voltage (e.g. 10*mV)")
    return float(q / volt)


class RecurrentTrainer(RateFitting):
    """Per-neuron RLS on the existing recurrent synapses of a balanced LIF network.

    Recorded firing rates are fitted by :meth:`~brianforce.methods.recurrent_rates.RateFitting.fit_rates`
    (with :meth:`~brianforce.methods.recurrent_rates.RateFitting.rate_targets` and
    :meth:`~brianforce.methods.recurrent_rates.RateFitting.transfer_noise`), inherited from
    :class:`~brianforce.methods.recurrent_rates.RateFitting`.

    Parameters
    ----------
    n : int
        Network size.
    p, frac_exc, g : float
        Connection probability, excitatory fraction, relative inhibition
        (see :func:`brianforce.networks.balanced.balanced_connectivity`).
    j0 : Quantity (voltage)
        Coupling scale: excitatory weights ``j0 τ_m/√K`` (an isolated EPSP peaks at ``0.25 j0/√K``
        for τ_d = 20 ms, ``0.13 j0/√K`` for 50 ms; :func:`~brianforce.networks.balanced.balanced_connectivity`).
    bias : (Quantity, Quantity)
        Range of the constant supra-threshold bias ``I_bias``.
    stim_duration : Quantity (time)
        Stimulus before every training window.
    stim_amplitude : Quantity (voltage)
        Stimulus ``I_ext`` per neuron and condition, uniform in [0, stim_amplitude].
    learn_every : Quantity (time)
        Interval between RLS updates.
    reg : float
        Ridge λ of the per-neuron RLS (Hz²; ``P(0) = I/λ``); weights are pulled towards
        their initial (balanced) values.
    n_trials : int
        Training trials per condition.
    dale : bool
        Keep every synapse's sign (E ≥ 0, I ≤ 0) by clipping after each update.
    max_error : Quantity (voltage)
        An RLS error of any trained neuron above this (or a non-finite one) raises
        :class:`~brianforce.errors.TrainingDiverged` with the trial and time, kept in ``diverged_``;
        :meth:`run_trials`, :meth:`score` and :meth:`save` then refuse unless ``allow_diverged=True``.
    tau_r, tau_d, dt : Quantity (time)
    noise : Quantity (voltage)
        Free membrane SD of independent white input noise to every neuron (default 0:
        none); see :func:`brianforce.networks.balanced.build_balanced_network`. It smooths the
        neurons' f–I curve, so that low recorded rates map onto a usable current range.
    drive : Quantity (voltage)
        SD of a condition-specific, time-varying external input ``I_ext`` given during the
        training window (and test windows) to every *untrained* neuron: independent
        Ornstein-Uhlenbeck signals (correlation time ``drive_tau``), one fixed realisation
        per condition (stream ``"drive-<condition>"``), identical on every trial. Default
        0 (none): after the stimulus the untrained network is autonomous and chaotic, its
        trial-averaged activity carries no condition-specific time course. With a drive,
        the untrained neurons' trial-averaged rates become reproducible, condition-specific
        functions of time that the trained neurons' inputs can combine.
    drive_tau : Quantity (time)
        Correlation time of the drive (default 100 ms).
    drive_dt : Quantity (time)
        Update interval of the drive (default 1 ms).
    target_offset : Quantity (time)
        See :class:`~brianforce.learning.RecurrentRLS`: 0 (default) compares each current with
        the target at the same time; ``-dt`` with the target sample of the step's start.
    seed : int
    device : {'runtime', 'cpp_standalone', 'auto'}
        Where :meth:`fit` trains: a Python ``network_operation`` at runtime (default), or all of a
        fit's trials as one compiled program with the per-neuron RLS in C++
        (:func:`~brianforce.devices.recurrent_program.run_recurrent_program`; cached, so the same
        architecture compiles once). Both give the same weights to round-off without ``noise``.
        ``'auto'``: the program where it gives the runtime result (a C++ compiler, no white
        ``noise``, stimulus and window whole multiples of ``learn_every``, ``drive_dt`` and ``dt``),
        else runtime; a program that does not compile falls back to runtime with a warning.
        Test trials (:meth:`run_trials`) run at runtime either way.
    rls_threads : int
        Threads of the compiled RLS update (``device='cpp_standalone'``).

    Attributes
    ----------
    network_ : BalancedNetwork
    learner_ : RecurrentRLS
        The learning rule attached to the network's synapses.
    rls_ : PerNeuronRLS
    learning_curve_ : LearningCurve
    targets_ : Trials
        Current targets (volts) of the trained neurons (``neurons``).
    device_ : str
        Where the last :meth:`fit` trained.
    timings_ : dict
        Seconds of the last :meth:`fit`: ``fit_s``, and on a compiled device ``compile_s`` and ``run_s``.

    References
    ----------
    Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
    """

    def __init__(self, n: int = 1000, *, p: float = 0.1, frac_exc: float = 0.8, j0=10 * mV,
                 g: float = 6.0, bias=(-37.5 * mV, -35 * mV), stim_duration=100 * ms,
                 stim_amplitude=10 * mV, learn_every=5 * ms, reg: float = 1.0,
                 n_trials: int = 20, dale: bool = False, max_error=1 * volt, tau_r=2 * ms,
                 tau_d=50 * ms, dt=0.05 * ms, noise=0 * mV, seed: int = 0, drive=0 * mV,
                 drive_tau=100 * ms, drive_dt=1 * ms, target_offset=0 * ms, device: str = "runtime",
                 rls_threads: int = 1):
        self.n, self.p = as_count(n, "n", minimum=2), as_number(p, "p", low=0.0, high=1.0, low_open=True)
        self.g, self.max_error = as_number(g, "g", low=0.0, low_open=True), max_error
        self.frac_exc = as_number(frac_exc, "frac_exc", low=0.0, high=1.0, low_open=True, high_open=True)
        self.j0 = j0
        self.bias = bias
        self.stim_duration, self.stim_amplitude = stim_duration, stim_amplitude
        self.learn_every, self.reg = learn_every, as_number(reg, "reg", low=0.0, low_open=True)
        self.n_trials, self.dale = as_count(n_trials, "n_trials", minimum=1), as_flag(dale, "dale")
        self.tau_r, self.tau_d, self.dt = tau_r, tau_d, dt
        self.noise = noise
        self.drive, self.drive_tau, self.drive_dt = drive, drive_tau, drive_dt
        self.target_offset = target_offset
        self.seed = check_seed(seed)
        if device not in TRAIN_DEVICES:
            raise ValueError(f"device must be one of {TRAIN_DEVICES}, got {device!r}")
        self.device, self.rls_threads = device, as_count(rls_threads, "rls_threads", minimum=1)
        # unit checks early: a wrong unit fails in the constructor, not after a long build
        for name, value in (("drive", drive), ("noise", noise)):
            if _voltage(name, value) < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        _time("drive_tau", drive_tau), _time("drive_dt", drive_dt)
        _voltage("j0", j0), _voltage("stim_amplitude", stim_amplitude), _voltage("max_error", max_error)
        for name in ("stim_duration", "learn_every", "tau_r", "tau_d", "dt"):
            _time(name, getattr(self, name))

    # -- network -------------------------------------------------------------------------
    def build(self) -> BalancedNetwork:
        """Build (once) and return the balanced network; fixed by ``seed``."""
        if getattr(self, "network_", None) is None:
            conn = balanced_connectivity(self.n, p=self.p, frac_exc=self.frac_exc,
                                         j0=_voltage("j0", self.j0), g=self.g,
                                         tau_m=10e-3, seed=self.seed)
            self.network_ = build_balanced_network(conn, bias=self.bias, tau_r=self.tau_r,
                                                   tau_d=self.tau_d, dt=self.dt,
                                                   noise=self.noise, seed=self.seed)
            self._trial_rng = rng_for(self.seed, "trials")
            self._stimuli = {}
            self._trial_count = 0
        return self.network_

    def _stimulus(self, condition: int) -> np.ndarray:
        if condition not in self._stimuli:
            rng = rng_for(self.seed, f"stimulus-{condition}")
            self._stimuli[condition] = rng.uniform(0, _voltage("stim_amplitude", self.stim_amplitude),
                                                   self.n)
        return self._stimuli[condition]

    def _drive_values(self, condition: int, n_samples: int) -> np.ndarray:
        """Drive (n_samples, n) in volts for ``condition`` (OU, stationary start; cached)."""
        cache = self.__dict__.setdefault("_drives", {})
        have = cache.get(condition)
        if have is None or have.shape[0] < n_samples:
            rng = rng_for(self.seed, f"drive-{condition}")
            dt, tau = _time("drive_dt", self.drive_dt), _time("drive_tau", self.drive_tau)
            a = np.exp(-dt / tau)
            z = rng.standard_normal((n_samples, self.n))  # row-major: prefixes do not change
            x = np.empty_like(z)
            x[0] = z[0]
            b = np.sqrt(1 - a * a)
            for k in range(1, n_samples):
                x[k] = a * x[k - 1] + b * z[k]
            have = cache[condition] = x * _voltage("drive", self.drive)
        return have[:n_samples]

    def _driven_neurons(self) -> np.ndarray:
        """Neurons that receive the drive: all but the trained (or rate-mapped) ones."""
        skip = getattr(self, "mapped_", None)
        if skip is None and getattr(self, "targets_", None) is not None:
            skip = self.targets_.neurons
        return np.setdiff1d(np.arange(self.n), [] if skip is None else skip)

    def _driver(self, condition: int, duration: float, *, group=None, copies: int = 1):
        """``network_operation`` applying the condition's drive during a window (or None).

        ``group``/``copies``: a NeuronGroup holding ``copies`` replicas of the network
        (:meth:`run_trials` with ``batch``), each driven identically.
        """
        if _voltage("drive", self.drive) <= 0:
            return None
        step = _time("drive_dt", self.drive_dt)
        values = self._drive_values(condition, int(np.ceil(duration / step)) + 1)
        idx = self._driven_neurons()
        values = np.tile(values[:, idx], (1, copies))
        idx = (idx[None, :] + self.n * np.arange(copies)[:, None]).ravel()
        group = self.network_.neurons if group is None else group
        i_ext = group.variables["I_ext"].get_value()

        @network_operation(dt=step * second, when="start", name="kimchow_drive*")
        def drive(t):
            k = int(round((float(t / second) - self._window_start) / step))
            if 0 <= k < values.shape[0]:
                i_ext[idx] = values[k]
        return drive

    def _reset_state(self, sample_dt: float, lead_in: float):
        """Start a trial from random potentials and cleared filters, at a time from which a
        lead-in of ``lead_in`` s ends on the sampling grid of ``sample_dt`` s."""
        bn = self.network_
        align_to_grid(bn.network, sample_dt, lead_in)
        nrn = bn.neurons
        v_reset = float(nrn.namespace["v_reset"] / volt)
        v_th = float(nrn.namespace["v_th"] / volt)
        nrn.v_[:] = self._trial_rng.uniform(v_reset, v_th, self.n)
        _clear_state(nrn)

    @on_frozen_heap
    def spontaneous(self, duration=1 * second, *, neurons=None, sample_dt=1 * ms,
                    warmup=200 * ms, condition: int | None = None) -> np.ndarray:
        """Record the network's ``I_syn`` (T, M) in volts, sampled every ``sample_dt``.

        Starts from a randomised state and runs ``warmup`` first, or, with ``condition``,
        that condition's stimulus for ``stim_duration`` exactly as in a trial. Useful as
        offsets of pattern targets or, with ``condition=0``, as the target that stabilises
        the network's own chaotic trajectory (:func:`recorded_targets`).
        """
        _require_runtime()
        self.build()
        neurons = np.arange(self.n) if neurons is None else np.asarray(neurons, dtype=np.int64)
        T = int(round(_time("duration", duration) / _time("sample_dt", sample_dt)))
        self._reset_state(_time("sample_dt", sample_dt),
                          float((warmup if condition is None else self.stim_duration) / second))
        if condition is None:
            self.network_.neurons.I_ext_[:] = 0.0
            self.network_.network.run(warmup)
        else:
            self.network_.neurons.I_ext_[:] = self._stimulus(int(condition))
            self.network_.network.run(self.stim_duration)
            self.network_.neurons.I_ext_[:] = 0.0
        buf = np.full((T, neurons.size), np.nan)
        ops = [self._recorder(buf, neurons, _time("sample_dt", sample_dt))]
        if condition is not None:
            ops.append(self._driver(int(condition), _time("duration", duration)))
        ops = [op for op in ops if op is not None]
        self.network_.network.add(*ops)
        try:
            self._window_start = float(self.network_.network.t / second)
            self.network_.network.run(duration)
        finally:
            self.network_.network.remove(*ops)
            self.network_.neurons.I_ext_[:] = 0.0
        require_complete(ops[0], "the spontaneous recording")
        return buf

    def _recorder(self, buf, neurons, sample_dt, group=None):
        """:func:`~brianforce.methods.trial_windows.window_recorder` of ``I_syn[neurons]``."""
        isyn = (self.network_.neurons if group is None else group).variables["I_syn"].get_value()
        return window_recorder(buf, isyn, neurons, sample_dt, lambda: self._window_start, "kimchow_recorder*")

    # -- training ------------------------------------------------------------------------
    rls_ = property(lambda self: getattr(getattr(self, "learner_", None), "rls_", None),
                    doc="The per-neuron RLS state of the learner (:class:`PerNeuronRLS`).")

    @on_frozen_heap
    def fit(self, targets: Trials) -> "RecurrentTrainer":
        """Train on ``targets`` for ``n_trials`` trials per condition; returns self.

        The learning rule is :class:`brianforce.learning.RecurrentRLS` on the network's own
        recurrent ``Synapses`` (fresh RLS state, weights as they are in the network).
        """
        _require_runtime()
        if not isinstance(targets, Trials) or targets.neurons is None:
            raise TypeError(f"targets must be Trials of current targets with their neurons (e.g. from "
                            f"brianforce.tasks.patterns.pattern_targets), got {type(targets).__name__}")
        if targets.neurons.max() >= self.n:
            raise ValueError(f"target neuron index {targets.neurons.max()} >= network size {self.n}")
        bn = self.build()
        sign = np.where(np.arange(self.n) < bn.connectivity.n_exc, 1.0, -1.0)
        self.learner_ = RecurrentRLS(bn.synapses, weight="w", regressor="r", target_neurons=targets.neurons,
                                     network=bn.network, reg=self.reg, interval=self.learn_every,
                                     dale=sign if self.dale else False, max_error=self.max_error,
                                     target_offset=self.target_offset, name="kimchow")
        self.targets_, self.diverged_ = targets, None
        wall = time.perf_counter()
        device = self._fit_device(targets)
        if device != "runtime":
            try:
                self._fit_program(targets, device)
                self.timings_["fit_s"] = time.perf_counter() - wall
                return self
            except CompilationFailed as exc:
                if self.device != "auto":
                    raise
                logger.warning(f"RecurrentTrainer: the training program did not compile ({exc}); training at runtime")
        curve_c, curve_e, curve_r = [], [], []
        for trial in range(int(self.n_trials)):
            for c in range(targets.n_trials):
                rms, currents = self._trial(c, learn=True, trial=trial)
                curve_c.append(c)
                curve_e.append(rms)
                curve_r.append(np.nanmean(correlations(currents, targets.targets[c])))
        self.learning_curve_ = LearningCurve(np.array(curve_c), np.array(curve_e), np.array(curve_r))
        self.device_, self.timings_ = "runtime", {"fit_s": time.perf_counter() - wall}
        return self

    def _fit_device(self, targets: Trials) -> str:
        """The device :meth:`fit` uses (``device='auto'`` resolved)."""
        if self.device != "auto":
            return self.device
        from brianforce.devices.recurrent_program import on_the_update_grid

        steps = [_time(k, getattr(self, k)) for k in ("learn_every", "drive_dt", "dt")]
        if compiler_available() and _voltage("noise", self.noise) == 0 and \
                on_the_update_grid(_time("stim_duration", self.stim_duration), targets.duration, steps):
            return "cpp_standalone"
        return "runtime"

    def _fit_program(self, targets: Trials, device: str) -> None:
        """Every trial of :meth:`fit` in one compiled program (:mod:`brianforce.devices.recurrent_program`)."""
        from brianforce.devices.recurrent_program import TrialPlan, run_recurrent_program, trial_schedule

        learner, bn = self.learner_, self.network_
        C = targets.n_trials
        conditions = trial_schedule(int(self.n_trials), C)
        v_reset, v_th = (float(bn.neurons.namespace[k] / volt) for k in ("v_reset", "v_th"))
        drive, S = None, int(round(targets.duration / _time("drive_dt", self.drive_dt)))
        if _voltage("drive", self.drive) > 0:
            drive = np.zeros((C, S, self.n))
            idx = self._driven_neurons()
            for c in range(C):
                drive[c][:, idx] = self._drive_values(c, S + 1)[:S, idx]
        plan = TrialPlan(conditions,
                         np.stack([self._trial_rng.uniform(v_reset, v_th, self.n) for _ in conditions]),
                         np.stack([self._stimulus(c) for c in range(C)]), _time("stim_duration", self.stim_duration),
                         [learner.target_window(targets.targets[c] * volt, targets.dt * second) for c in range(C)],
                         targets.neurons, targets.dt, targets.n_steps, drive, _time("drive_dt", self.drive_dt))
        sign = np.where(np.arange(self.n) < bn.connectivity.n_exc, 1.0, -1.0) if self.dale else None
        run = run_recurrent_program(bn, dict(bias=self.bias, tau_r=self.tau_r, tau_d=self.tau_d, dt=self.dt,
                                             noise=self.noise, seed=self.seed), plan,
                                    interval=_time("learn_every", self.learn_every), reg=self.reg,
                                    limit=learner.max_error, sign=sign,
                                    target_offset=float(self.target_offset / second), device=device,
                                    rls_threads=self.rls_threads)
        bn.weight_view()[:] = run.weights
        mark_as_run(bn.network)
        rms = np.array([np.sqrt(np.mean(run.errors[run.update_trial == k] ** 2)) if np.any(run.update_trial == k)
                        else np.nan for k in range(run.conditions.size)])
        corr = np.array([np.nanmean(correlations(run.currents[k], targets.targets[c]))
                         for k, c in enumerate(run.conditions)])
        done = run.conditions.size if run.diverged_trial is None else run.diverged_trial + 1
        self.learning_curve_ = LearningCurve(run.conditions[:done], rms[:done], corr[:done])
        bad = run.diverged_at is not None
        learner.history_ = TrainingHistory(run.update_times, run.errors, bad,
                                           None if not bad else float(run.update_times[-1]) if run.update_times.size
                                           else None)
        self.device_, self.timings_ = device, dict(run.timings)
        if bad:
            k = run.diverged_trial
            self.diverged_ = TrainingDiverged(run.diverged_at, message=(
                f"RLS error diverged (max |error| > {learner.max_error:.3g} V) at RLS update {run.diverged_at}, "
                f"training trial {k // targets.n_trials}, condition {int(run.conditions[k])}"))
            raise self.diverged_

    def _stimulate(self, condition: int) -> None:
        """Start a trial: random potentials, cleared filters, the condition's stimulus."""
        bn = self.network_
        self._reset_state(self.targets_.dt, float(self.stim_duration / second))
        bn.neurons.I_ext_[:] = self._stimulus(condition)
        bn.network.run(self.stim_duration)
        bn.neurons.I_ext_[:] = 0.0
        self._window_start = float(bn.network.t / second)

    def _trial(self, condition: int, *, learn: bool, trial: int = 0):
        bn = self.network_
        targets = self.targets_
        T = targets.targets.shape[1]
        buf = np.full((T, targets.neurons.size), np.nan)
        ops = [self._recorder(buf, targets.neurons, targets.dt),
               self._driver(condition, targets.duration)]
        ops = [op for op in ops if op is not None]
        rms = np.nan
        try:
            if learn:
                learner = self.learner_
                try:
                    learner.fit(targets.targets[condition] * volt, dt=targets.dt * second,
                                before_repeat=lambda _: self._stimulate(condition), window_objects=ops)
                except TrainingDiverged as exc:
                    s = exc.time - self._window_start
                    self.diverged_ = TrainingDiverged(learner.rls_.n_updates, s, exc.error, learner.dt, message=(
                        f"RLS error diverged (max |error| > {learner.max_error:.3g} V) in training trial {trial}, "
                        f"condition {condition}, at t = {s * 1e3:.1f} ms of the window"))
                    raise self.diverged_ from exc
                errors = learner.history_.errors
                rms = float(np.sqrt(np.mean(errors * errors))) if errors.size else np.nan
            else:
                self._stimulate(condition)
                bn.network.add(*ops)
                try:
                    bn.network.run(targets.duration * second)
                finally:
                    bn.network.remove(*ops)
        finally:
            bn.neurons.I_ext_[:] = 0.0
        require_complete(ops[0], f"trial {trial}, condition {condition}")
        if not np.all(np.isfinite(buf)):
            raise TrainingDiverged(getattr(self.rls_, "n_updates", None),
                                   message=f"non-finite synaptic current in trial {trial}, condition {condition}")
        return rms, buf

    # -- evaluation ----------------------------------------------------------------------
    @on_frozen_heap
    def run_trials(self, n_trials: int = 5, *, batch: int = 1, allow_diverged: bool = False) -> TrialRecording:
        """Run ``n_trials`` test trials per condition with fixed weights (no learning).

        ``batch`` > 1 simulates that many trials at once, as independent copies of the
        trained network in one Brian2 network (same weights, biases, stimuli and drive;
        each copy its own random initial state and input noise) — statistically the same
        trials, several times faster, since Brian2's cost per time step is mostly fixed.
        """
        _require_runtime()
        if getattr(self, "targets_", None) is None:
            raise RuntimeError("call fit() first")
        refuse_if_diverged(getattr(self, "diverged_", None), allow_diverged, "the weights", "train with a larger reg")
        if int(batch) < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        if int(batch) > 1 and int(n_trials) > 1:
            return self._run_batched(int(n_trials), min(int(batch), int(n_trials)))
        mon = self.network_.spikes
        C, T, M = self.targets_.targets.shape
        currents = np.empty((int(n_trials), C, T, M))
        spikes = []
        for k in range(int(n_trials)):
            row = []
            for c in range(C):
                n0 = int(mon.num_spikes)  # read only this trial's spikes (the monitor keeps all)
                _, currents[k, c] = self._trial(c, learn=False, trial=k)
                t0 = self._window_start
                t = np.asarray(mon.variables["t"].get_value()[n0:])
                i = np.asarray(mon.variables["i"].get_value()[n0:])
                sel = (t >= t0) & (t < t0 + self.targets_.duration)
                row.append((i[sel].astype(np.int64), t[sel] - t0))
            spikes.append(row)
        return TrialRecording(currents, spikes, self.targets_.dt, self.targets_.duration, self.n)

    def _batch_network(self, copies: int) -> BalancedNetwork:
        """``copies`` replicas of the network (current weights) in one Brian2 network."""
        bn = self.network_
        cached = getattr(self, "_batch", None)
        if cached is None or cached[0] != copies:
            c = bn.connectivity
            off = np.repeat(np.arange(copies) * c.n, c.pre.size)
            rep = BalancedConnectivity(c.n * copies, c.n_exc, np.tile(c.pre, copies) + off,
                                       np.tile(c.post, copies) + off, np.tile(c.weight, copies))
            rep_net = build_balanced_network(rep, bias=self.bias, tau_r=self.tau_r, tau_d=self.tau_d,
                                             dt=self.dt, noise=self.noise, seed=self.seed,
                                             name="kimchow_batch")  # one name: compiled code is reused
            if _voltage("noise", self.noise) > 0:  # do not replay the main network's noise
                b2.seed(int(self._trial_rng.integers(2**31 - 1)))
            rep_net.neurons.I_bias_[:] = np.tile(bn.neurons.I_bias_[:], copies)
            self._batch = cached = (copies, rep_net)
        rep_net = cached[1]
        rep_net.synapses.variables["w"].get_value()[:] = np.tile(np.asarray(bn.weight_view()), copies)
        return rep_net

    def _run_batched(self, n_trials: int, copies: int) -> TrialRecording:
        rep = self._batch_network(copies)
        net, nrn, mon = rep.network, rep.neurons, rep.spikes
        C, T, M = self.targets_.targets.shape
        n = self.n
        v_reset = float(nrn.namespace["v_reset"] / volt)
        v_th = float(nrn.namespace["v_th"] / volt)
        rec_idx = (self.targets_.neurons[None, :] + n * np.arange(copies)[:, None]).ravel()
        currents = np.empty((n_trials, C, T, M))
        spikes = [[None] * C for _ in range(n_trials)]
        for start in range(0, n_trials, copies):
            use = min(copies, n_trials - start)
            for c in range(C):
                align_to_grid(net, self.targets_.dt, float(self.stim_duration / second))
                nrn.v_[:] = self._trial_rng.uniform(v_reset, v_th, n * copies)
                _clear_state(nrn)
                nrn.I_ext_[:] = np.tile(self._stimulus(c), copies)
                net.run(self.stim_duration, namespace={})   # names: the groups' own namespaces only
                nrn.I_ext_[:] = 0.0
                self._window_start = t0 = float(net.t / second)
                buf = np.full((T, rec_idx.size), np.nan)
                ops = [self._recorder(buf, rec_idx, self.targets_.dt, group=nrn)]
                driver = self._driver(c, self.targets_.duration, group=nrn, copies=copies)
                if driver is not None:
                    ops.append(driver)
                n0 = int(mon.num_spikes)
                net.add(*ops)
                try:
                    net.run(self.targets_.duration * second, namespace={})
                finally:
                    net.remove(*ops)
                    nrn.I_ext_[:] = 0.0
                require_complete(ops[0], f"test trials {start}..{start + use - 1}, condition {c}")
                if not np.all(np.isfinite(buf)):
                    raise TrainingDiverged(message=f"non-finite synaptic current in test trials "
                                                   f"{start}..{start + use - 1}, condition {c}")
                currents[start:start + use, c] = buf.reshape(T, copies, M).transpose(1, 0, 2)[:use]
                t = np.asarray(mon.variables["t"].get_value()[n0:])
                i = np.asarray(mon.variables["i"].get_value()[n0:]).astype(np.int64)
                sel = (t >= t0) & (t < t0 + self.targets_.duration)
                t, i = t[sel] - t0, i[sel]
                copy = i // n
                for b in range(use):
                    k = copy == b
                    spikes[start + b][c] = (i[k] - b * n, t[k])
        return TrialRecording(currents, spikes, self.targets_.dt, self.targets_.duration, self.n)

    def score(self, recording: TrialRecording | None = None, *, allow_diverged: bool = False) -> float:
        """Mean correlation between trained neurons' currents and targets on test trials."""
        rec = self.run_trials(allow_diverged=allow_diverged) if recording is None else recording
        return float(np.nanmean(correlations(rec.currents, self.targets_.targets[None])))

    # -- persistence ---------------------------------------------------------------------
    def save(self, path, *, allow_diverged: bool = False):
        """Save trained weights and configuration via :func:`brianforce.io.save_arrays`."""
        refuse_if_diverged(getattr(self, "diverged_", None), allow_diverged, "the weights", "train with a larger reg")
        c = self.network_.connectivity
        arrays = dict(pre=c.pre, post=c.post, weight=np.array(self.network_.weight_view()),
                      target_values=self.targets_.targets, target_neurons=self.targets_.neurons)
        meta = dict(n=self.n, p=self.p, frac_exc=self.frac_exc, g=self.g, seed=self.seed,
                    j0_volt=_voltage("j0", self.j0), reg=float(self.reg), dale=self.dale,
                    noise_volt=_voltage("noise", self.noise),
                    drive_volt=_voltage("drive", self.drive),
                    drive_tau_s=_time("drive_tau", self.drive_tau),
                    drive_dt_s=_time("drive_dt", self.drive_dt),
                    target_dt=self.targets_.dt, n_trials=int(self.n_trials))
        return save_arrays(path, arrays, meta, kind="kimchow_recurrent")


def _clear_state(neurons):
    """Synaptic and rate filters to zero, refractoriness ended: a trial starts afresh."""
    for var in ("I_syn_", "h_", "r_", "hr_"):
        getattr(neurons, var)[:] = 0.0
    neurons.lastspike_[:] = -1e4
    neurons.not_refractory_[:] = True


def _require_runtime():
    if not isinstance(b2.get_device(), RuntimeDevice):
        raise RuntimeError("RecurrentTrainer uses a Brian2 network_operation, which standalone "
                           f"devices ({type(b2.get_device()).__name__}) silently drop; call "
                           "brian2.set_device('runtime') before training.")
