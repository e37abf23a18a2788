"""FORCE learning for any Brian2 network: a decoder trained online by RLS, fed back low-rank.

The user writes their own ``NeuronGroup`` (any neuron model) with

* a per-neuron regressor, e.g. a filtered spike train ``r`` (``dr/dt = -r/tau_r + hr``, …),
* a parameter that receives the feedback, e.g. ``I_fb : volt``, used in the dynamics,

and their own ``Synapses``; :class:`FORCE` adds the readout ``z = φᵀr``, the feedback
``I_fb = η z`` and an RLS learner of φ, and runs it:

>>> force = FORCE(neurons, regressor="r", feedback="I_fb", encoders=eta, network=net,
...               alpha=5e-6, interval=2.5*ms)
>>> force.fit(sinusoid(5*Hz), settle=0.5*second, train=4.5*second)   # returns force
>>> force.predict(2*second).metrics(period=0.2)

Input-driven tasks pass trials of inputs and targets (``inputs`` (n_trials, T, M), ``targets``
(n_trials, T, K), ``dt``, e.g. :class:`~brianforce.tasks.trials.Trials`) and name the
parameter that receives ``Σ_m w_im u_m`` (``input_variable``, ``input_encoders``).

References
----------
Sussillo D, Abbott LF (2009) Generating coherent patterns of activity from chaotic neural
networks. Neuron 63:544-557.
Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE
training. Nat Commun 8:2208.
"""
from __future__ import annotations

import contextlib
import time

import brian2 as b2
import numpy as np
from brian2 import Network, NeuronGroup, SpikeMonitor, StateMonitor, get_dimensions, ms, second
from brian2.core.namespace import get_local_namespace

from brianforce.errors import TrainingDiverged, refuse_if_diverged
from brianforce.io import load_arrays, save_arrays
from brianforce.learning.rls import regularisation_from
from brianforce.checks import as_count, as_number
from brianforce.memory import require_memory
from brianforce.naming import own_clock
from brianforce.units import as_positive_si, as_si
from brianforce.learning.backends import choose_backend, on_standalone_device
from brianforce.learning.readout import attach_readout
from brianforce.learning.results import SimulationResult, TrainingHistory
from brianforce.learning.targets import LearningTarget, divergence_scale, learning_target

__all__ = ["FORCE"]

MODEL_KIND = "force_readout"


def _plain_number(value, name: str) -> float | None:
    if value is None:
        return None
    if get_dimensions(value) is not get_dimensions(1.0):
        raise b2.DimensionMismatchError(f"{name} is a plain number (in units of the regressor), got {value!r}",
                                        get_dimensions(value))
    return float(value)


class FORCE:
    """Train a readout of a user's Brian2 ``NeuronGroup`` online by RLS, with feedback.

    Parameters
    ----------
    neurons : NeuronGroup
        The user's neurons (any model).
    regressor : str
        Per-neuron variable the decoder reads (e.g. a filtered spike train ``r``).
    feedback : str, optional
        Plain parameter of ``neurons`` (``'I_fb : volt'``) receiving ``Σ_k η_ik z_k``; None for
        a readout without feedback (an open-loop decoder).
    encoders : Quantity (N, K), optional
        Feedback encoders η in the units of ``feedback``; K is the number of outputs.
    n_outputs : int, optional
        Needed only without encoders.
    network : Network, optional
        The user's network holding ``neurons`` and its synapses (default ``Network(neurons)``).
    alpha, reg : float
        RLS regularisation: ``P(0) = alpha·I`` (Nicola & Clopath's convention) or ``P(0) = I/reg``,
        plain numbers in units of the regressor (``r`` in Hz: N&C's ``alpha``).
    normalised : bool
        ``True``: gain ``Pr/(1 + rᵀPr)``; ``False``: Nicola & Clopath's ``Pr``.
    interval : Quantity (second)
        Time between RLS updates (a multiple of the group's ``dt``).
    backend : {'auto', 'numpy', 'codegen'}
        See :mod:`brianforce.learning.backends`.
    input_variable : str, optional
        Parameter of ``neurons`` that receives input-driven tasks' inputs.
    input_encoders : Quantity (N, M), optional
        Input weights in the units of ``input_variable``.
    divergence_factor : float
        Training stops with :class:`TrainingDiverged` once ``|error|`` exceeds this many target
        amplitudes (or is not finite); a constant target counts its largest ``|value|``, a zero
        target 1 (:func:`~brianforce.learning.targets.divergence_scale`). The learner then refuses to
        train on, and :meth:`predict` and :meth:`save` refuse unless ``allow_diverged=True``.
    n_record : int
        Neurons whose spikes ``predict`` returns.
    record_dt : Quantity (second)
        Sampling step of the recorded outputs (default the group's ``dt``).
    rls_threads : int
        BLAS threads (numpy) or threads of the C++ ``P r`` pass (codegen).
    teacher_forcing : bool
        While training, feed back the target instead of the output (the student is driven by
        the teacher's signals while its decoder learns them; DePasquale et al. 2018). The
        network's activity then does not depend on φ, so the normalised decoder equals batch
        ridge regression on the regressors. ``predict`` always runs closed-loop.
    name : str, optional
        Prefix of the Brian2 objects added (default ``'<group name>_force'``).

    Attributes
    ----------
    decoder_ : Quantity (N, K)
        φ, in the inverse units of the regressor.
    history_ : ~brianforce.learning.TrainingHistory
        A-priori errors per RLS update of the last :meth:`fit` (a further fit continues the
        decoder and ``P``).
    train_result_, settle_result_, test_result_ : SimulationResult
        The phases of the last :meth:`fit` (``None`` where it had no such phase); a trial set's
        target is NaN outside its trials.
    timings_ : dict
        Wall-clock seconds: ``simulation_s``, ``rls_s`` (numpy backend), ``compile_s`` and ``run_s``
        (standalone).
    backend_ : RLSBackend
    diverged_ : TrainingDiverged or None
        The divergence that stopped :meth:`fit`, else None.
    """

    def __init__(self, neurons: NeuronGroup, *, regressor: str = "r", feedback: str | None = None,
                 encoders=None, n_outputs: int | None = None, network: Network | None = None,
                 alpha: float | None = None, reg: float | None = None, normalised: bool = True,
                 interval=2.5 * ms, backend: str = "auto", input_variable: str | None = None,
                 input_encoders=None, divergence_factor: float = 100.0, n_record: int = 100,
                 record_dt=None, rls_threads: int = 1, teacher_forcing: bool = False, name: str | None = None):
        if not isinstance(neurons, NeuronGroup):
            raise TypeError(f"neurons must be a brian2 NeuronGroup, got {type(neurons).__name__}")
        if not isinstance(normalised, (bool, np.bool_)):
            raise TypeError(f"normalised must be True or False, got {normalised!r}")
        if encoders is not None:
            k = 1 if np.ndim(encoders) == 1 else int(np.shape(encoders)[1])
            if n_outputs is not None and n_outputs != k:
                raise ValueError(f"n_outputs = {n_outputs} but encoders have {k} columns")
            n_outputs = k
        if isinstance(n_outputs, bool) or not isinstance(n_outputs, (int, np.integer)) or n_outputs < 1:
            raise ValueError(f"give encoders (N, K) or n_outputs >= 1, got n_outputs = {n_outputs!r}")
        self.dt = float(neurons.clock.dt_)
        self.interval = as_positive_si(interval, second, "interval")
        if abs(self.interval / self.dt - round(self.interval / self.dt)) > 1e-6:
            raise ValueError(f"interval ({self.interval} s) must be a multiple of the group's dt ({self.dt} s)")
        self.reg = regularisation_from(_plain_number(reg, "reg"), _plain_number(alpha, "alpha"))
        self.normalised = bool(normalised)
        self.backend_class = choose_backend(backend)
        self.divergence_factor = as_number(divergence_factor, "divergence_factor", low=0.0, low_open=True)
        self.n_record = min(as_count(n_record, "n_record"), len(neurons))
        self.record_dt = self.dt if record_dt is None else as_positive_si(record_dt, second, "record_dt")
        if self.record_dt < self.dt * (1 - 1e-9):
            raise ValueError(f"record_dt ({self.record_dt} s) must be >= dt ({self.dt} s)")
        if abs(self.record_dt / self.dt - round(self.record_dt / self.dt)) > 1e-6:
            raise ValueError(f"record_dt ({self.record_dt} s) must be a multiple of dt ({self.dt} s): a sample "
                             "between two steps would hold the state of the step before, stamped later")
        self.rls_threads = as_count(rls_threads, "rls_threads", minimum=1)
        n = len(neurons)
        require_memory({"RLS matrix P": 8.0 * n * n, "decoder and encoders": 32.0 * n * n_outputs},
                       f"FORCE on {n} neurons")
        n_inputs = 0 if input_encoders is None else (1 if np.ndim(input_encoders) == 1
                                                     else int(np.shape(input_encoders)[1]))
        self.neurons = neurons
        self.readout_ = attach_readout(neurons, regressor, int(n_outputs), feedback=feedback, encoders=encoders,
                                       input_variable=input_variable, input_encoders=input_encoders,
                                       n_inputs=n_inputs, teacher_forcing=bool(teacher_forcing),
                                       name=name or f"{neurons.name}_force")
        if teacher_forcing and feedback is None:
            raise ValueError("teacher_forcing needs a feedback variable and encoders")
        self.network = network if network is not None else Network(neurons)
        if neurons not in self.network.objects:
            raise ValueError("network does not contain neurons")
        self.network.add(*self.readout_.objects)
        self.backend_ = None
        self.timings_ = {"simulation_s": 0.0, "rls_s": 0.0, "compile_s": 0.0, "run_s": 0.0}
        self.diverged_ = None
        self.target_ = None

    # ------------------------------------------------------------------ helpers
    @property
    def n_outputs(self) -> int:
        return self.readout_.n_outputs

    @property
    def t_(self) -> float:
        """Simulated time of the network (s)."""
        return float(np.asarray(self.network.t_).reshape(-1)[0])   # (an array after a stopped run)

    def _backend(self, limit: float):
        if self.backend_ is None:
            self.backend_ = self.backend_class(self.readout_, self.reg, self.normalised, limit, self.interval,
                                               self.dt, self.rls_threads)
            if self.backend_.persistent:
                self.network.add(*self.backend_.persistent)
        self.backend_.limit = limit
        if hasattr(self.backend_, "fns"):
            self.backend_.fns.state[4] = limit
        return self.backend_

    def _monitors(self, phase: str, spikes: bool) -> tuple:
        z_name = f"{self.readout_.readout.name}_z_{phase}_{len(self.network.objects)}"
        zmon = StateMonitor(self.readout_.readout, "z", record=True, clock=own_clock(z_name, self.record_dt * second),
                            when="end", order=6, name=z_name)
        smon = SpikeMonitor(self.neurons, name=f"{self.readout_.readout.name}_spikes_{phase}_"
                                               f"{len(self.network.objects)}") if spikes else None
        return zmon, smon

    def _result(self, mons, phase, target: LearningTarget, offset: float, wall: float) -> SimulationResult:
        zmon, smon = mons
        t = np.asarray(zmon.t_).copy()
        z = np.asarray(zmon.z_).T.copy().reshape(len(t), self.n_outputs)
        if smon is not None:
            si, st = np.asarray(smon.i[:]), np.asarray(smon.t_)
            keep = si < self.n_record
            si, st = si[keep].copy(), st[keep].copy()
        else:
            si, st = np.zeros(0, dtype=int), np.zeros(0)
        y = np.full_like(z, np.nan)
        if target is not None and len(t):
            tt = self._target_time(t + self.dt, target, offset)
            # a trial set has a target where its trials are played only (not while settling, nor after)
            shown = np.ones(len(t), bool) if target.duration is None else (tt >= 0) & (tt <= target.duration)
            if shown.any():
                y[shown] = target.task(tt[shown])
        return SimulationResult(t, z, y, si, st, self.n_record, len(self.neurons), phase, wall)

    @staticmethod
    def _target_time(t, target: LearningTarget, offset: float):
        # trial sets are laid from the phase start; autonomous tasks run on the network clock
        return t - offset if target.duration is not None else t

    def _check_usable(self, allow_diverged: bool = False):
        refuse_if_diverged(self.diverged_, allow_diverged, "the decoder",
                           "rebuild the network and train with a smaller alpha or a longer interval")

    # ------------------------------------------------------------------ fit / predict
    def fit(self, target, train=None, settle=0 * second, *, target_dt=None, test=None, report=None) -> "FORCE":
        """Settle without learning, then train φ online by RLS; returns ``self``.

        Parameters
        ----------
        target : Task, array, callable or Trials
            See :func:`brianforce.learning.targets.learning_target`.
        train : Quantity (second), optional
            Training duration (default: the duration of all trials of a :class:`Trials` target).
        settle : Quantity (second)
            Run before training, without learning.
        target_dt : Quantity (second), optional
            Sampling step of an array target.
        test : Quantity (second), optional
            A free-running test after training (needed on standalone devices, where the whole
            run is one compiled program; :meth:`predict` then returns it).
        report : str, optional
            Brian2 progress report.

        Raises
        ------
        TrainingDiverged
            With the RLS update, the time and the simulation step of the first bad error.
        """
        user_ns = get_local_namespace(level=1)
        if self.diverged_ is not None:
            raise RuntimeError(f"{self.diverged_.where()}: the network's state is spoiled. Rebuild the network "
                               "and the learner to train again, with a smaller alpha or a longer interval")
        tdt = None if target_dt is None else as_positive_si(target_dt, second, "target_dt")
        tgt = learning_target(target, self.n_outputs, tdt)
        if tgt.n_inputs != (0 if self.readout_.inputs is None else len(self.readout_.inputs)):
            raise ValueError(f"the target has {tgt.n_inputs} inputs but the learner was built with "
                             f"{0 if self.readout_.inputs is None else len(self.readout_.inputs)} input encoders")
        if train is None:
            if tgt.duration is None:
                raise ValueError("give the training duration train=... (only trial sets carry their own)")
            train_s = tgt.duration
        else:
            train_s = as_positive_si(train, second, "train")
        settle_s = float(as_si(settle, second, "settle"))
        if settle_s < 0:
            raise ValueError("settle must be >= 0 s")
        test_s = 0.0 if test is None else as_positive_si(test, second, "test")
        if train_s < self.interval:
            raise ValueError(f"train ({train_s} s) is shorter than one RLS interval ({self.interval} s)")
        t0 = self.t_
        t_train = t0 + settle_s
        self.settle_result_ = self.train_result_ = self.test_result_ = None       # this fit's runs only
        span = (self._target_time(t_train + self.dt, tgt, t_train), self._target_time(t_train + train_s, tgt, t_train))
        tgt.task(np.array(span))                                            # coverage, finiteness
        backend = self._backend(self.divergence_factor * divergence_scale(tgt.task, *span))
        n_before = len(backend.times)                 # history_ holds this fit's updates only
        self.target_ = tgt
        standalone = on_standalone_device()
        if standalone:
            dev = b2.get_device()
            build_on_run, dev.build_on_run = dev.build_on_run, False
        phases = []
        try:
            # one input table for the whole run (zeros while settling): a compiled program keeps one
            self.readout_.set_inputs(tgt.inputs, tgt.input_dt or self.dt, t_train)
            self.readout_.set_forced_target(lambda t: tgt.task(self._target_time(t, tgt, t_train)), t_train,
                                            t_train + train_s)
            if settle_s > 0:
                phases.append(self._phase("settle", settle_s, [], tgt, t0, user_ns, report, standalone))
            ops = backend.operations(lambda t: tgt.task(self._target_time(t, tgt, t_train)),
                                     t_train, t_train + train_s)
            self.readout_.force(True)
            phases.append(self._phase("train", train_s, ops, tgt, t_train, user_ns, report, standalone,
                                      learning=True))
            self.readout_.force(False)
            if test_s:
                phases.append(self._phase("test", test_s, [], tgt, t_train, user_ns, report, standalone,
                                          spikes=True))
            if standalone:
                w0 = time.perf_counter()
                dev.build(run=True, compile=True, with_output=report is not None)
                run_s = float(dev.timers.get("run_binary") or 0.0)
                self.timings_["run_s"] += run_s
                self.timings_["compile_s"] += time.perf_counter() - w0 - run_s
        finally:
            self.readout_.force(False)      # a training stopped by an error leaves no forcing switched on
            if standalone:
                dev.build_on_run = build_on_run
        backend.collect()
        times = np.array(backend.times)[n_before:]
        self.history_ = TrainingHistory(times, np.array(backend.errors).reshape(-1, self.n_outputs)[n_before:],
                                        backend.diverged is not None,
                                        None if backend.diverged is None else backend.diverged[1])
        if getattr(backend, "wall", None) is not None:
            self.timings_["rls_s"] = backend.wall
        if backend.diverged is not None:
            step, t_bad, err = backend.diverged
            self.diverged_ = TrainingDiverged(step, t_bad, err, self.dt)
        for phase, mons, offset, wall in phases:
            # a trial set's trials are laid from the start of training, so settling shows no target
            shown = None if (phase == "settle" and tgt.duration is not None) else tgt
            setattr(self, f"{phase}_result_", self._result(mons, phase, shown, offset, wall))
        if self.diverged_ is not None:
            raise self.diverged_
        return self

    def _phase(self, phase, duration, ops, tgt, offset, user_ns, report, standalone, spikes=False,
               learning=False):
        mons = self._monitors(phase, spikes)
        added = [*ops, *[m for m in mons if m is not None]]
        self.network.add(*added)
        if learning:
            self.backend_.activate(True)
        w0 = time.perf_counter()
        try:
            with self.backend_.blas_limit() if learning else contextlib.nullcontext():
                self.network.run(duration * second, namespace=user_ns, report=report, report_period=5 * second)
        finally:
            wall = time.perf_counter() - w0
            if learning:
                self.backend_.activate(False)
            if standalone:                 # one program: switch this phase's objects off for later runs
                for obj in added:
                    obj.active = False
            else:
                self.network.remove(*added)
        if not standalone:
            self.timings_["simulation_s"] += wall
        return phase, mons, offset, wall

    def predict(self, duration=None, inputs=None, *, report=None, allow_diverged: bool = False) -> SimulationResult:
        """Run on without learning and record outputs and spikes (refused after
        :class:`TrainingDiverged` unless ``allow_diverged=True``).

        Parameters
        ----------
        duration : Quantity (second), optional
            How long (default: the trial set's duration when ``inputs`` is one).
        inputs : Trials, optional
            Trials whose inputs drive an input-driven network (their targets are returned
            alongside the outputs).
        """
        user_ns = get_local_namespace(level=1)
        self._check_usable(allow_diverged)
        if self.backend_ is None:
            raise RuntimeError("call fit() (or load_state()) first")
        if on_standalone_device():
            res = getattr(self, "test_result_", None)
            d = 0.0 if duration is None else as_positive_si(duration, second, "duration")
            have = 0.0 if res is None else len(res.t) * self.record_dt
            if res is None or d > have + 1e-9:
                raise ValueError(f"the compiled program ran {have:.4f} s after training; pass test >= {d} s "
                                 "to fit() on standalone devices")
            return res.window(res.t[0] - 1e-12, res.t[0] + (d or have) - 1e-9)
        tgt = self.target_ if inputs is None else learning_target(inputs, self.n_outputs)
        if duration is None:
            if tgt is None or tgt.duration is None:
                raise ValueError("give the duration")
            d = tgt.duration
        else:
            d = as_positive_si(duration, second, "duration")
        t0 = self.t_
        if inputs is not None:
            self.readout_.set_inputs(tgt.inputs, tgt.input_dt, t0)
        else:
            self.readout_.set_inputs(None, self.dt, t0)
        # a trial target means something only while its inputs are replayed
        shown = tgt if (inputs is not None or tgt is None or tgt.duration is None) else None
        phase = self._phase("test", d, [], shown, t0, user_ns, report, False, spikes=True)
        self.test_result_ = self._result(phase[1], "test", shown, t0, phase[3])
        return self.test_result_

    def score(self, duration=1 * second, inputs=None, *, allow_diverged: bool = False) -> dict:
        """Metrics of a free-running test (see :meth:`SimulationResult.metrics`)."""
        period = self.target_.task.period if self.target_ is not None else None
        return self.predict(duration if inputs is None else None, inputs,
                            allow_diverged=allow_diverged).metrics(period)

    # ------------------------------------------------------------------ results
    @property
    def decoder_(self):
        if self.backend_ is None:
            raise RuntimeError("call fit() first")
        return self.backend_.decoder() / self.readout_.r_unit

    # ------------------------------------------------------------------ persistence
    def save(self, path, include_rls_state: bool = False, *, allow_diverged: bool = False):
        """Save decoder, encoders, settings and the group's state (pickle-free, checksummed ``.npz``).

        :meth:`load_state` restores them into a network rebuilt by the user's own code. Refused after
        :class:`TrainingDiverged` unless ``allow_diverged=True``.
        """
        self._check_usable(allow_diverged)
        if self.backend_ is None:
            raise RuntimeError("call fit() first")
        ro = self.readout_
        arrays = {"phi": self.backend_.decoder()}
        if ro.feedback is not None:
            arrays["eta"] = np.asarray(ro.feedback.bf_eta_[:]).reshape(len(self.neurons), self.n_outputs)
        if ro.input_synapses is not None:
            arrays["w_in"] = np.asarray(ro.input_synapses.bf_w_in_[:]).reshape(len(self.neurons), -1)
        for name, var in self.neurons.variables.items():
            if hasattr(var, "get_value") and not var.scalar and getattr(var, "size", 0) == len(self.neurons) \
                    and not name.startswith("_") and name not in ("i", "N") and not getattr(var, "read_only", False):
                arrays[f"state_{name}"] = np.asarray(var.get_value()).copy()
        if "state_lastspike" in arrays:              # relative to the end of the run
            arrays["state_lastspike"] = arrays["state_lastspike"] - self.t_
        arrays["readout_z"] = np.asarray(ro.readout.variables["z"].get_value()).copy()
        if include_rls_state and self.backend_.P() is not None:
            arrays["P"] = self.backend_.P()
        meta = {"regressor": ro.regressor, "r_unit": repr(ro.r_unit), "n_neurons": len(self.neurons),
                "n_outputs": self.n_outputs, "reg": self.reg, "normalised": self.normalised,
                "interval": self.interval, "dt": self.dt, "t": self.t_,
                "n_rls_updates": self.backend_.n_updates, "backend": self.backend_.name}
        return save_arrays(path, arrays, meta, kind=MODEL_KIND)

    def load_state(self, path) -> "FORCE":
        """Restore a saved decoder and group state into this (freshly built, matching) learner."""
        arrays, meta = load_arrays(path, kind=MODEL_KIND)
        N = len(self.neurons)
        if meta.get("n_neurons") != N or meta.get("n_outputs") != self.n_outputs:
            raise ValueError(f"{path}: saved for {meta.get('n_neurons')} neurons × {meta.get('n_outputs')} "
                             f"outputs; this learner has {N} × {self.n_outputs}")
        if meta.get("regressor") != self.readout_.regressor:
            raise ValueError(f"{path}: saved for regressor {meta.get('regressor')!r}")
        self._backend(np.inf)
        self.readout_.decoder.variables["bf_phi"].set_value(np.asarray(arrays["phi"], float).reshape(-1))
        if "eta" in arrays and self.readout_.feedback is not None:
            self.readout_.feedback.variables["bf_eta"].set_value(np.asarray(arrays["eta"], float).reshape(-1))
        for key, value in arrays.items():
            if key.startswith("state_"):
                self.neurons.variables[key[6:]].set_value(value + (self.t_ if key == "state_lastspike" else 0))
        self.readout_.readout.variables["z"].set_value(np.asarray(arrays["readout_z"], float))
        if "P" in arrays:
            self.backend_.set_P(arrays["P"])
        return self
