"""FORCE training of LIF networks in Brian2 with an online RLS ``network_operation``.

References
----------
Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE
training. Nat Commun 8:2208.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from brian2 import Network, SpikeMonitor, StateMonitor, mV, ms, network_operation, prefs, second, volt

from brianforce.naming import own_clock
from brianforce.networks.connectivity import SparseWeights, feedback_weights, static_weights
from brianforce.errors import TrainingDiverged, refuse_if_diverged
from brianforce.io import load_arrays, save_arrays
from brianforce.memory import force_network_bytes, require_memory
from brianforce.neurons import LIFParams
from brianforce.learning.codegen import rls_threads_for
from brianforce.learning.rls import RLS, regularisation_from
from brianforce.seeding import check_seed, rng_for
from brianforce.networks.force_lif import build_force_network, decoder_view, require_runtime_device
from brianforce.devices.activation import CompilationFailed, mark_as_run
from brianforce.devices.force_program import compiler_available, run_force_program
from brianforce.learning.results import SimulationResult, TrainingHistory
from brianforce.learning.targets import as_task, divergence_scale
from brianforce.tasks import Task
from brianforce.units import as_count, as_flag, as_number, as_positive_si, as_si

__all__ = ["FORCETrainer", "TrainingHistory", "SimulationResult", "TrainingDiverged", "as_task"]

logger = logging.getLogger(__name__)

MODEL_KIND = "force_lif"
#: Where :meth:`FORCETrainer.fit` may train.
TRAINER_DEVICES = ("auto", "runtime", "cpp_standalone")


def _object_prefix(name) -> str:
    """``name`` checked as the prefix of Brian2 object names: ASCII letters, digits and ``_``, first a letter."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {name!r}")
    if not (name.isascii() and name.isidentifier() and name[0].isalpha()):
        raise ValueError(f"name must be a Python identifier of ASCII letters, digits and underscores that starts "
                         f"with a letter (it prefixes the names of the Brian2 objects), got {name!r}")
    return name


@dataclass
class _Config:
    n_neurons: int
    n_outputs: int
    p: float
    G: float
    Q: float
    reg: float
    rls_interval: float
    dt: float
    normalised: bool
    divergence_factor: float
    n_record: int
    record_dt: float
    seed: int
    lif: LIFParams = field(default_factory=LIFParams)


class FORCETrainer:
    """FORCE-train a LIF network (Nicola & Clopath 2017) in Brian2.

    A static sparse random network (weights ``G·N(0,1)/(√N p)``, zero row means), fixed
    feedback encoders ``η ~ U(−Q, Q)`` and a decoder φ learned online by RLS every
    ``rls_interval``. Defaults are the paper's sinusoid settings.

    A first :meth:`fit` runs where it is fastest (``device='auto'``): with a C++ compiler, as one
    ``cpp_standalone`` program (settle, RLS in generated code, optional free-running test;
    :func:`~brianforce.devices.force_program.run_force_program`) built once per architecture in the
    project cache (:mod:`brianforce.devices.cache`), after which the trainer holds the trained
    network at runtime, in the state the program ended in, with its ``P``; otherwise, and for every
    later run, at runtime with RLS in a ``network_operation``. Both learn the same decoder up to
    round-off (the program's readout integrates ``z`` between updates instead of summing it).

    Parameters
    ----------
    n_neurons : int
    n_outputs : int
    p : float
        Connection probability of the static weights.
    G : Quantity (volt*second)
        Static weight scale (N&C: 0.04 mV·s).
    Q : Quantity (volt)
        Feedback encoder scale (N&C: 10 mV).
    alpha, reg : float
        RLS regularisation, ``P(0) = alpha·I`` (N&C: 5e-6, r in Hz; the default) or ``P(0) = I/reg``;
        plain numbers, give at most one.
    rls_interval, dt : Quantity (second)
    tau_m, tau_ref, tau_r, tau_d : Quantity (second)
    v_th, v_reset, bias : Quantity (volt)
    normalised : bool
        ``False`` (default) reproduces N&C's un-normalised decoder update.
    divergence_factor : float
        Training stops with :class:`TrainingDiverged` when ``|error|`` exceeds this many
        target amplitudes (or is NaN/Inf).
    n_record : int
        Neurons whose spikes are recorded (0 to n_neurons).
    record_dt : Quantity (second)
        Sampling step of the recorded output (>= dt).
    seed : int
        Fixes connectivity, encoders and initial state.
    device : {'auto', 'runtime', 'cpp_standalone'}
        Where :meth:`fit` trains a new network (see above); ``'cpp_standalone'`` refuses to continue
        the training of a network that has already run.
    rls_threads : int, optional
        Threads sharing the RLS update in a program (by default one per 1000 neurons, at most the
        usable CPUs and 8: :func:`~brianforce.learning.codegen.default_rls_threads`); the result is
        the same bits for every number. At runtime the update uses one BLAS thread.
    name : str
        Prefix of the names of its Brian2 objects (``{name}_neurons``, ``{name}_recurrent``,
        ``{name}_readout``, ``{name}_decoder``, ``{name}_network`` and the monitors of each run): ASCII
        letters, digits and ``_``, starting with a letter. Not part of the saved model. Brian2's
        generated code carries the names, so each new name is compiled once (then cached).

    Attributes
    ----------
    network_ : ForceNetwork
        The Brian2 objects (``network_.objects``; see Notes).
    history_ : TrainingHistory
    decoder_ : Quantity (N, K), seconds
    train_result_, settle_result_, test_result_ : SimulationResult
        Output ``z`` recorded at the start of each step (``φᵀr(t)``, on every device) beside the
        target at the step's end, ``task(t + dt)``, the sample its RLS update is scored on; the
        errors and metrics of these results carry that one-step (``dt``) offset.
    device_ : str
        Where the last :meth:`fit` trained (``'runtime'`` or ``'cpp_standalone'``).
    timings_ : dict
        Wall-clock seconds: ``compile_s`` (code generation and compilation: the first step of each
        phase at runtime; code generation, compilation and loading in a program), ``simulation_s``
        and ``rls_s`` (at runtime; a program's RLS updates are part of its ``simulation_s``); and
        ``n_rls_updates``.
    t_ : float
        Simulated time so far (s).

    Notes
    -----
    **Embedding in a Brian2 network.** The neurons (``network_.neurons``) integrate
    ``τ_m dv/dt = −v + I_syn + I_bias + Σ_k eta_k·z_k + I_ext`` (currents in volts, ``R·I``). The
    feedback current ``Σ_k eta_k·z_k`` is the encoder ``eta_k`` (volt, per neuron) times ``z_k``, linked to
    the decoder output ``network_.readout.z`` (dimensionless, one value per output). The input for
    driving an embedded model is ``I_ext`` (volt, 0 unless set): write it, e.g. through ``Synapses`` with
    ``I_ext_post = w*z_pre : volt (summed)`` from another model's readout, or with ``run_regularly``;
    read the output by monitoring or linking to ``network_.readout.z``. Objects that have run in the
    trainer's own network (after :meth:`fit` or :meth:`predict`) cannot join another one (Brian2
    refuses), so embed models loaded from files, each under its own ``name``::

        a = FORCETrainer.load("a.npz", name="a")
        b = FORCETrainer.load("b.npz", name="b")
        z_a = StateMonitor(a.network_.readout, "z", record=True)
        net = Network(*a.network_.objects, *b.network_.objects, z_a)
        net.run(1 * second)

    Each model then runs as it would alone (same state, same output, times from 0) and its own
    :meth:`predict` is no longer available. Two models of one name in one network are refused by
    Brian2 (``ValueError``: names used more than once).
    """

    def __init__(self, n_neurons: int = 2000, n_outputs: int = 1, *, p: float = 0.1,
                 G=0.04 * mV * second, Q=10 * mV, alpha: float | None = None, reg: float | None = None,
                 rls_interval=2.5 * ms, dt=0.05 * ms, tau_m=10 * ms, tau_ref=2 * ms, tau_r=2 * ms,
                 tau_d=20 * ms, v_th=-40 * mV, v_reset=-65 * mV, bias=-40 * mV, normalised: bool = False,
                 divergence_factor: float = 100.0, n_record: int = 100, record_dt=0.5 * ms, seed: int = 0,
                 device: str = "auto", rls_threads: int | None = None, name: str = "force"):
        name = _object_prefix(name)
        if device not in TRAINER_DEVICES:
            raise ValueError(f"device must be one of {TRAINER_DEVICES}, got {device!r}")
        self.device = device
        if reg is None and alpha is None:
            alpha = 5e-6                    # Nicola & Clopath's P(0) = 5e-6·I (r in Hz)
        n_neurons = as_count(n_neurons, "n_neurons", minimum=1)
        n_outputs = as_count(n_outputs, "n_outputs", minimum=1)
        p = as_number(p, "p", low=0.0, high=1.0, low_open=True)
        normalised = as_flag(normalised, "normalised")
        n_record = as_count(n_record, "n_record")
        divergence_factor = as_number(divergence_factor, "divergence_factor", low=0.0, low_open=True)
        dt_si = as_positive_si(dt, second, "dt")
        interval = as_positive_si(rls_interval, second, "rls_interval")
        if abs(interval / dt_si - round(interval / dt_si)) > 1e-6:
            raise ValueError("rls_interval must be a multiple of dt")
        record = as_positive_si(record_dt, second, "record_dt")
        if record < dt_si * (1 - 1e-9):
            raise ValueError(f"record_dt ({record_dt!r}) must not be shorter than dt ({dt!r})")
        if abs(record / dt_si - round(record / dt_si)) > 1e-6:
            raise ValueError(f"record_dt ({record_dt!r}) must be a multiple of dt ({dt!r}): a sample "
                             "between two steps would hold the state of the step before, stamped later")
        lif = LIFParams(tau_m=as_positive_si(tau_m, second, "tau_m"),
                        tau_ref=float(as_si(tau_ref, second, "tau_ref")),
                        v_th=float(as_si(v_th, volt, "v_th")), v_reset=float(as_si(v_reset, volt, "v_reset")),
                        tau_r=as_positive_si(tau_r, second, "tau_r"), tau_d=as_positive_si(tau_d, second, "tau_d"),
                        bias=float(as_si(bias, volt, "bias")))
        require_memory(force_network_bytes(n_neurons, p, n_outputs), f"a FORCE network of {n_neurons} neurons")
        self.config = _Config(int(n_neurons), int(n_outputs), float(p),
                              float(as_si(G, volt * second, "G")), float(as_si(Q, volt, "Q")),
                              regularisation_from(reg, alpha), interval, dt_si, bool(normalised),
                              float(divergence_factor), int(min(n_record, n_neurons)), record,
                              check_seed(seed), lif)
        self.rls_threads = rls_threads_for(rls_threads, self.config.n_neurons)
        self.name = name
        self._net = None
        self.blas_threads = 1

    # ------------------------------------------------------------------ building
    def _draw_structure(self):
        c = self.config
        weights = static_weights(c.n_neurons, c.p, c.G, rng_for(c.seed, "connectivity"))
        eta = feedback_weights(c.n_neurons, c.n_outputs, c.Q, rng_for(c.seed, "encoders"))
        # Nicola & Clopath: v(0) ~ U(v_reset, v_reset + 95 mV) kick-starts the activity.
        v0 = c.lif.v_reset + rng_for(c.seed, "initial_state").random(c.n_neurons) * 95e-3
        return weights, eta, v0

    def _build(self, weights: SparseWeights, eta, phi, v0, P=None):
        c = self.config
        # the set-up code Brian2 runs at once (scalar assignments, synapse creation) in its numpy
        # target: nothing to compile for it; the network's runs use the configured target
        target = prefs.codegen.target
        prefs.codegen.target = "numpy"
        try:
            self.network_ = build_force_network(weights, eta, phi, lif=c.lif, v0=v0, dt=c.dt * second,
                                                name=self.name)
        finally:
            prefs.codegen.target = target
        self._net = Network(*self.network_.objects, name=f"{self.name}_network")
        self._phi = decoder_view(self.network_)
        self._r = self.network_.neurons.variables["r"].get_value()
        self._t0 = 0.0
        self.rls_ = RLS(c.n_neurons, c.n_outputs, reg=c.reg, normalised=c.normalised, weights=self._phi, P=P)
        self.rls_.W = self._phi  # zero-copy: RLS writes straight into Brian2's decoder
        self.weights_, self.eta_ = weights, np.asarray(eta)
        self.timings_ = {"compile_s": 0.0, "simulation_s": 0.0, "rls_s": 0.0, "n_rls_updates": 0}
        self._history = ([], [], [])   # update times, a-priori errors, traced decoder rows
        self._n_traced = 0

    def _ensure_built(self):
        if self._net is None:
            weights, eta, v0 = self._draw_structure()
            self._build(weights, eta, np.zeros((self.config.n_neurons, self.config.n_outputs)), v0)

    @property
    def t_(self) -> float:
        return self._t0 + float(self._net.t_) if self._net is not None else 0.0

    @property
    def decoder_(self):
        self._check_fitted()
        return self._phi.copy() * second

    # ------------------------------------------------------------------ running
    def _run_phase(self, duration: float, task: Task, phase: str, train: bool, report=None,
                   record_spikes: bool = False) -> SimulationResult:
        c = self.config
        net_objs = []
        zmon = StateMonitor(self.network_.readout, "z", record=True, when="end",
                            clock=own_clock(f"{self.name}_zmon_{phase}", c.record_dt * second),
                            name=f"{self.name}_zmon_{phase}")
        net_objs.append(zmon)
        smon = None
        if record_spikes or (not train and phase != "settle"):
            # (a Subgroup cannot carry the indexed linked variables, so all neurons are
            # monitored and the first n_record kept)
            smon = SpikeMonitor(self.network_.neurons, name=f"{self.name}_spikes_{phase}")
            net_objs.append(smon)
        if train:
            targets_at = self._rls_schedule(duration, task)
            state = {"k": 0, "wall": 0.0, "diverged": None}
            limit = c.divergence_factor * divergence_scale(task, self.t_, self.t_ + duration)
            times_log, err_log, decoder_log = self._history
            n_traced = self._n_traced
            phi, r, rls = self._phi, self._r, self.rls_
            net = self._net

            @network_operation(dt=c.rls_interval * second, when="end", name=f"{self.name}_rls_{phase}")
            def rls_update():
                w0 = time.perf_counter()
                k = state["k"]
                t_now = self._t0 + float(net.t_) + c.dt
                y = targets_at(t_now)
                err = r @ phi - y
                if not (np.all(np.isfinite(err)) and np.max(np.abs(err)) <= limit):
                    state["diverged"] = (len(times_log), t_now, err)
                    net.stop()
                    return
                rls.update(r, err)
                times_log.append(t_now)
                err_log.append(err)
                decoder_log.append(phi[:n_traced].copy())
                state["k"] = k + 1
                state["wall"] += time.perf_counter() - w0

            net_objs.append(rls_update)
        self._net.add(*net_objs)
        wall0 = time.perf_counter()
        compile_s = 0.0
        try:
            # Level-2 BLAS gains nothing from threads here and multithreaded OpenBLAS
            # spin-waits badly on a busy machine (measured 10x slower): use one thread.
            with threadpool_limits(limits=self.blas_threads, user_api="blas"):
                # the first step apart: its wall time is code generation and compilation
                # (one step of simulation besides); the run continues exactly as one run
                first = c.dt if duration > 1.5 * c.dt else duration
                self._net.run(first * second, namespace={})
                compile_s = time.perf_counter() - wall0
                if first < duration:
                    self._net.run(duration * second - first * second, report=report, report_period=5 * second,
                                  namespace={})
        finally:
            wall = time.perf_counter() - wall0 - compile_s
            self._net.remove(*net_objs)
        self.timings_["compile_s"] += compile_s
        if train:
            self.timings_["rls_s"] += state["wall"]
            self.timings_["n_rls_updates"] += state["k"]
            self.timings_["simulation_s"] += wall - state["wall"]
            if state["diverged"] is not None:
                step, t_div, err = state["diverged"]
                self.history_ = self._history_obj(diverged_at=t_div)
                self.diverged_ = TrainingDiverged(step, t_div, err, c.dt)
                raise self.diverged_
        else:
            self.timings_["simulation_s"] += wall
        t = self._t0 + np.asarray(zmon.t_)
        z = np.asarray(zmon.z_).T.copy()
        if smon is not None:
            si, st = np.asarray(smon.i[:]), self._t0 + np.asarray(smon.t_)
            keep = si < c.n_record
            si, st = si[keep], st[keep]
        else:
            si, st = np.zeros(0, dtype=int), np.zeros(0)
        target = task(t + c.dt) if (task is not None and len(t)) else np.full_like(z, np.nan)
        return SimulationResult(t, z, target, si, st, c.n_record, c.n_neurons, phase, wall)

    def _rls_schedule(self, duration, task: Task):
        def targets_at(t):
            return task(np.array([t]))[0]
        return targets_at

    def _history_obj(self, diverged_at=None) -> TrainingHistory:
        times, errs, decoders = self._history
        k, n_out = self._n_traced, self.config.n_outputs
        errors = np.array(errs).reshape(len(errs), n_out)
        decoders = np.array(decoders).reshape(len(decoders), k, n_out)
        return TrainingHistory(np.array(times), errors, diverged_at is not None, diverged_at, decoders,
                               np.arange(k))

    def fit(self, task, settle=0.5 * second, train=4.5 * second, report=None, *, test=0 * second,
            record_spikes: bool = False, n_decoder_traces: int = 10) -> "FORCETrainer":
        """Settle (no learning), train the decoder online by RLS, then optionally free-run.

        Parameters
        ----------
        task : Task or array
            Target; an array must be sampled at ``dt`` from t = 0 and cover all phases.
        settle, train : Quantity (second)
        report : None, 'text', 'stdout' or a Brian2 report function
            Progress report (a compiled program reports only 'text' / 'stdout').
        test : Quantity (second)
            Free-running test after training, in ``test_result_`` (in the same compiled program when
            training runs in one); :meth:`predict` runs on from its end.
        record_spikes : bool
            Also record the spikes of the first ``n_record`` neurons while settling and training
            (in ``settle_result_`` and ``train_result_``; a free-running test always records them).
            About 16 bytes a spike: 2000 neurons at 20 Hz for 10 s are 6 MB.
        n_decoder_traces : int
            The decoder weights φ of the first ``n_decoder_traces`` neurons (a random sample: the
            network is drawn independently of the neuron index) are copied after every RLS update into
            ``history_.decoder_samples``; fixed for the life of the trainer once it has trained.

        Raises
        ------
        TrainingDiverged
            With the update index and time at which the error became non-finite or
            exceeded ``divergence_factor`` target amplitudes.
        """
        require_runtime_device("FORCETrainer.fit")
        settle_s = float(as_si(settle, second, "settle"))
        train_s = as_positive_si(train, second, "train")
        test_s = float(as_si(test, second, "test"))
        if settle_s < 0 or test_s < 0:
            raise ValueError("settle and test must be >= 0 s")
        record_spikes = as_flag(record_spikes, "record_spikes")
        n_traced = min(as_count(n_decoder_traces, "n_decoder_traces"), self.config.n_neurons)
        if self._net is not None and self._history[0] and n_traced != self._n_traced:
            raise ValueError(f"n_decoder_traces must stay {self._n_traced}: this trainer's history already traces "
                             f"{self._n_traced} neurons")
        self.task_ = as_task(task, self.config.n_outputs, self.config.dt)
        self.task_(np.array([0.0, self.t_ + settle_s + train_s + test_s]))  # validates coverage early
        fresh = self._net is None
        if self.device == "cpp_standalone" and not fresh:
            raise ValueError("device='cpp_standalone' trains a new network in one program; this network has "
                             "already run: continue its training with device='runtime'")
        for phase in ("settle", "train", "test"):
            self.__dict__.pop(f"{phase}_result_", None)
        self.diverged_ = None
        if fresh and self.device != "runtime" and (self.device == "cpp_standalone" or compiler_available()):
            try:
                return self._fit_program(settle_s, train_s, test_s, report, record_spikes, n_traced)
            except CompilationFailed as exc:
                if self.device == "cpp_standalone":
                    raise
                logger.warning(f"FORCETrainer: the standalone program did not compile ({exc}); training at runtime")
        self._ensure_built()
        self.device_ = "runtime"
        self._n_traced = n_traced
        if settle_s > 0:
            self.settle_result_ = self._run_phase(settle_s, self.task_, "settle", False, report, record_spikes)
        self.train_result_ = self._run_phase(train_s, self.task_, "train", True, report, record_spikes)
        self.history_ = self._history_obj()
        if test_s > 0:
            self.test_result_ = self._run_phase(test_s, self.task_, "test", False, report)
        return self

    def _fit_program(self, settle_s, train_s, test_s, report, record_spikes, n_traced) -> "FORCETrainer":
        """The first fit as one ``cpp_standalone`` program; then the trained network at runtime."""
        c = self.config
        weights, eta, v0 = self._draw_structure()
        limit = c.divergence_factor * divergence_scale(self.task_, settle_s, settle_s + train_s)
        w0 = time.perf_counter()
        run = run_force_program(c, weights, eta, v0, self.task_, settle_s, train_s, test_s, limit,
                                device="cpp_standalone", rls_threads=self.rls_threads,
                                report=report if isinstance(report, str) else None,
                                n_traced=n_traced, record_spikes=record_spikes, want_P=True)
        self._build(weights, eta, run.phi, v0, P=run.P)     # P adopted: one copy of it in memory
        mark_as_run(self._net)
        self.device_ = "cpp_standalone"
        g = self.network_.neurons
        for name in self._STATE:
            g.variables[name].get_value()[:] = run.final[name]
        g.variables["lastspike"].get_value()[:] = run.final["lastspike_rel"]
        self._t0 = run.t_end
        for name, res in run.results.items():
            setattr(self, f"{name}_result_", res)
        self._n_traced = n_traced
        n_ok = len(run.errors)
        bad = ~np.all(np.abs(run.errors) <= limit, axis=1)
        if bad.any():
            n_ok = int(np.argmax(bad))
        self._history = (list(run.update_times[:n_ok]), list(run.errors[:n_ok]), list(run.decoder_samples[:n_ok]))
        self.rls_.n_updates = n_ok
        self.timings_.update(compile_s=run.timings["compile_s"], simulation_s=run.timings["run_s"],
                             rls_s=0.0, n_rls_updates=n_ok, fit_s=time.perf_counter() - w0)
        if bad.any():
            t_div = float(run.update_times[n_ok])
            self.history_ = self._history_obj(diverged_at=t_div)
            self.diverged_ = TrainingDiverged(n_ok, t_div, run.errors[n_ok], c.dt)
            raise self.diverged_
        self.history_ = self._history_obj()
        return self

    def _check_fitted(self, allow_diverged: bool = True):
        if self._net is None or not hasattr(self, "task_"):
            raise RuntimeError("call fit() (or load a trained model) first")
        refuse_if_diverged(getattr(self, "diverged_", None), allow_diverged, "the decoder",
                           "train again with a smaller alpha or a longer rls_interval")

    def predict(self, duration=2 * second, report=None, *, allow_diverged: bool = False) -> SimulationResult:
        """Run the trained network freely (no learning) and record output and spikes.

        After :class:`TrainingDiverged` it refuses to run unless ``allow_diverged=True``.
        """
        self._check_fitted(allow_diverged)
        require_runtime_device("FORCETrainer.predict")
        return self._run_phase(as_positive_si(duration, second, "duration"), self.task_, "test", False, report)

    def score(self, duration=1 * second) -> dict:
        """Metrics of a free-running test of ``duration`` (see SimulationResult.metrics)."""
        return self.predict(duration).metrics(self.task_.period)

    # ------------------------------------------------------------------ persistence
    _STATE = ("v", "I_syn", "h", "r", "hr", "not_refractory")

    def save(self, path, include_rls_state: bool = False, *, allow_diverged: bool = False):
        """Save structure, decoder and current state to a pickle-free ``.npz`` (refused after
        :class:`TrainingDiverged` unless ``allow_diverged=True``)."""
        self._check_fitted(allow_diverged)
        c = self.config
        g = self.network_.neurons
        arrays = {"w_pre": self.weights_.pre, "w_post": self.weights_.post, "w_value": self.weights_.value,
                  "eta": self.eta_, "phi": self._phi.copy(),
                  "lastspike_rel": np.asarray(g.lastspike_) - float(self._net.t_)}
        for name in self._STATE:
            arrays[name] = np.asarray(g.variables[name].get_value()).copy()
        if include_rls_state:
            arrays["P"] = self.rls_.P
        task = self.task_
        meta = {"config": {**{k: v for k, v in c.__dict__.items() if k != "lif"},
                           "lif": c.lif.__dict__},
                "units": {"G": "V*s", "Q": "V", "rls_interval": "s", "dt": "s", "record_dt": "s",
                          "lif": {"tau_m": "s", "tau_ref": "s", "tau_r": "s", "tau_d": "s",
                                  "v_th": "V", "v_reset": "V", "bias": "V"},
                          "phi": "s", "eta": "V", "w_value": "V*s", "t": "s"},
                "t": self.t_, "task": {"name": task.name, "params": task.params},
                "n_rls_updates": int(self.rls_.n_updates)}
        return save_arrays(path, arrays, meta, kind=MODEL_KIND)

    @classmethod
    def load(cls, path, *, name: str = "force") -> "FORCETrainer":
        """Rebuild a trainer saved with :meth:`save`; its next run continues from the saved state.

        ``name`` prefixes the names of its Brian2 objects (see the class docstring); it is not
        part of the saved model, so one file can be loaded under several names.
        """
        from brianforce.io import ModelFileError
        from brianforce.tasks import make_task

        prefix = _object_prefix(name)
        arrays, meta = load_arrays(path, kind=MODEL_KIND)
        try:
            cfg = dict(meta["config"])
            lif = LIFParams(**cfg.pop("lif"))
            n = cfg["n_neurons"]
            self = cls.__new__(cls)
            self.config = _Config(**cfg, lif=lif)
            self.device = "auto"                # a network that has run trains on at runtime
            self.rls_threads = rls_threads_for(None, n)
            self.name = prefix
            self._net = None
            self.blas_threads = 1
            weights = SparseWeights(arrays["w_pre"], arrays["w_post"], arrays["w_value"], n)
            self._build(weights, arrays["eta"], arrays["phi"], arrays["v"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{path}: inconsistent model contents ({exc})") from exc
        g = self.network_.neurons
        for name in self._STATE:
            g.variables[name].get_value()[:] = arrays[name]
        g.variables["lastspike"].get_value()[:] = arrays["lastspike_rel"]
        if "P" in arrays:
            self.rls_.set_P(arrays["P"])
        self._t0 = float(meta["t"])
        task = meta["task"]
        self.task_ = make_task(task["name"], **task["params"]) if task["name"] != "array" else None
        self.history_ = TrainingHistory(np.zeros(0), np.zeros((0, self.config.n_outputs)))
        return self
