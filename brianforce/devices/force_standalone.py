"""FORCE training with the RLS update in generated code; ``brianforce run`` for FORCE models.

:class:`StandaloneFORCETrainer` trains the decoder by RLS in a Brian2 user function (C++ for
standalone, Cython for runtime) holding a dense ``P`` (upper triangle, rank-1 symmetric update)
called from ``run_regularly`` operations, or in plain Brian2 equations (every device), so it works
where ``network_operation`` does not. :func:`run_force_model_cli` runs a saved ``force_lif`` model
(:mod:`brianforce.devices.project`) and writes its summary and figure.

All arrays handed over are in SI units (seconds, volts, hertz); public durations are
Brian2 quantities.

References
----------
Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE
training. Nat Commun 8:2208.
Stimberg M, Brette R, Goodman DFM (2019) Brian 2, an intuitive and efficient neural
simulator. eLife 8:e47314 (standalone code generation).
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

import brian2 as b2
from brian2 import SpikeMonitor, StateMonitor, second

from brianforce.devices.activation import DEVICES
from brianforce.devices.force_program import RLS_KINDS, STANDALONE_PREFIX, STATE_VARIABLES, run_force_program
from brianforce.devices.project import build_project
from brianforce.io import ModelFileError, atomic_savefig, atomic_savez, atomic_write_text, json_text, load_arrays, save_arrays
from brianforce.errors import refuse_if_diverged
from brianforce.learning.codegen import rls_threads_for
from brianforce.learning.targets import divergence_scale
from brianforce.methods.force import (MODEL_KIND, FORCETrainer, SimulationResult, TrainingDiverged,
                                     TrainingHistory, as_task)
from brianforce.units import as_positive_si, as_si

__all__ = ["StandaloneFORCETrainer", "run_force_model_cli", "check_force_run_duration", "RLS_BACKENDS"]

#: How :class:`StandaloneFORCETrainer` generates the RLS update (see its ``rls`` parameter).
RLS_BACKENDS = RLS_KINDS


# ---------------------------------------------------------------------------- trainer
class StandaloneFORCETrainer:
    """FORCE training with the RLS update inside the generated code (Nicola & Clopath 2017).

    Same model, constructor arguments and results as :class:`brianforce.methods.force.FORCETrainer`
    (same seed → same structure, initial state and — to round-off, for a training that does not
    diverge — the same decoder),
    but the decoder's RLS update is generated code: every ``rls_interval`` a
    ``run_regularly`` operation on the decoder synapses hands ``r`` and φ to a user
    function (C++ for standalone devices, Cython at runtime) that holds a dense ``P``
    (upper triangle) and applies the rank-1 symmetric update; a second operation
    writes the new φ back. It therefore runs under ``cpp_standalone``, where the
    runtime trainer's ``network_operation`` would be silently dropped.

    Parameters
    ----------
    n_neurons, n_outputs, **kwargs
        As :class:`~brianforce.methods.force.FORCETrainer` (``p``, ``G``, ``Q``, ``alpha``/``reg``,
        ``rls_interval``, ``dt``, LIF parameters, ``normalised``, ``divergence_factor``,
        ``n_record``, ``record_dt``, ``seed``, ``name``: the prefix of the Brian2 objects'
        names, by default ``'bfsa'`` for standalone devices and ``'force'`` at runtime).
    device : {'cpp_standalone', 'runtime', 'cuda_standalone'}
        ``'runtime'`` uses Brian2's Cython target (same generated RLS, for comparison).
        ``'cuda_standalone'`` needs Brian2CUDA and trains with ``rls='synapses'`` (its default
        there); ``rls='function'`` has no CUDA implementation and raises ``NotImplementedError``.
    directory : path, optional
        Standalone project directory. By default the cached directory of this architecture
        (:mod:`brianforce.devices.cache`): a later fit of the same size, device and options
        recompiles nothing, whatever its seed; other durations recompile the files that hold them.
    threads : int
        OpenMP threads of the standalone program (0: none).
    rls_threads : int, optional
        Threads (``std::thread``) sharing the ``P r`` pass of the C++ RLS update
        (``rls='function'`` under ``cpp_standalone``; ignored elsewhere); by default one per 1000
        neurons, at most the usable CPUs and 8
        (:func:`~brianforce.learning.codegen.default_rls_threads`). The result is the same bits for
        every number.
    rls : {'function', 'synapses'}, optional
        How the RLS update is generated. ``'function'`` (default except under Brian2CUDA):
        a user function with C++/Cython code holding a dense ``P`` (upper triangle, the
        previous rank-1 update fused with the next ``P r`` pass: one pass over half of ``P``
        per update). ``'synapses'`` (default under ``cuda_standalone``): plain Brian2
        equations only — ``P`` is a variable of an all-to-all ``Synapses`` object, ``P r``,
        ``rᵀ P r`` and the a-priori error are summed variables and the updates are
        ``run_regularly`` operations — so it runs on every device and code-generation
        target (numpy, Cython, C++, CUDA), at about four times the memory traffic.
        Both give the same decoder to round-off when the training does not diverge; after a
        divergence they differ (see :meth:`fit`).

    Attributes
    ----------
    history_ : ~brianforce.learning.TrainingHistory
    decoder_ : Quantity (N, K), seconds
    settle_result_, train_result_ : SimulationResult
    test_result_ : SimulationResult
        Standalone devices only: the free-running phase compiled into the same program.
    timings_ : dict
        ``compile_s`` (code generation + compilation), ``run_s`` (program or run wall
        time), ``n_rls_updates``.
    P_ : ndarray (N, N)
        Runtime device only: the final inverse correlation matrix (s²).
    diverged_ : TrainingDiverged or None
        The divergence :meth:`fit` reported; :meth:`predict` and :meth:`save` then refuse unless
        ``allow_diverged=True``.

    References
    ----------
    Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE
    training. Nat Commun 8:2208.
    """

    def __init__(self, n_neurons: int = 2000, n_outputs: int = 1, *, device: str = "cpp_standalone",
                 directory=None, threads: int = 0, rls: str | None = None, rls_threads: int | None = None, **kwargs):
        if device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
        if rls is None:
            rls = "synapses" if device == "cuda_standalone" else "function"
        if rls not in RLS_BACKENDS:
            raise ValueError(f"rls must be one of {RLS_BACKENDS}, got {rls!r}")
        if device == "cuda_standalone" and rls == "function":
            raise NotImplementedError("the 'function' RLS backend has C++ and Cython implementations only; "
                                      "use rls='synapses' under cuda_standalone")
        self.rls = rls
        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 0:
            raise ValueError(f"threads must be an integer >= 0, got {threads!r}")
        self._name = kwargs.get("name")
        self._base = FORCETrainer(n_neurons, n_outputs, **kwargs)
        self.config = self._base.config
        self.rls_threads = rls_threads_for(rls_threads, self.config.n_neurons)
        self.device = device
        self.directory = directory
        self.threads = int(threads)
        self._fitted = False

    # -------------------------------------------------------------- helpers
    def _monitors(self, objs, phase: str, spikes: bool):
        c = self.config
        # a filtered readout already holds the next step's z at the end of a step: record it at
        # the start instead, so that both readouts record the same value at the same time
        mons = [StateMonitor(objs.readout, "z", record=True, dt=c.record_dt * second,
                             when="start" if self.rls == "function" else "end", name=f"{self._prefix}_zmon_{phase}")]
        if spikes:
            mons.append(SpikeMonitor(objs.neurons, name=f"{self._prefix}_spikes_{phase}"))
        return mons

    def _result(self, mons, phase: str, wall: float) -> SimulationResult:
        c = self.config
        t = np.asarray(mons[0].t_).copy()
        z = np.asarray(mons[0].z_).T.copy().reshape(len(t), c.n_outputs)
        if len(mons) > 1:
            si, st = np.asarray(mons[1].i[:]).astype(int), np.asarray(mons[1].t_).copy()
            keep = si < c.n_record
            si, st = si[keep], st[keep]
        else:
            si, st = np.zeros(0, dtype=int), np.zeros(0)
        target = self.task_(t + c.dt) if len(t) else np.full_like(z, np.nan)
        return SimulationResult(t, z, target, si, st, c.n_record, c.n_neurons, phase, wall)

    def _check_target(self):
        target = b2.prefs.codegen.target
        if self.device == "runtime" and target == "numpy" and self.rls == "function":
            raise RuntimeError("StandaloneFORCETrainer(device='runtime', rls='function') needs Brian2's Cython "
                               "target (prefs.codegen.target = 'auto' or 'cython'), not 'numpy'; "
                               "rls='synapses' runs on every target")

    # -------------------------------------------------------------- API
    def fit(self, task, settle=0.5 * second, train=4.5 * second, test=2 * second,
            report=None) -> "StandaloneFORCETrainer":
        """Settle, train the decoder by generated-code RLS and (standalone) free-run.

        Parameters
        ----------
        task : Task or array
            Target (an array must be sampled at ``dt`` from t = 0).
        settle, train : Quantity (second)
        test : Quantity (second)
            Standalone devices: length of the free-running phase compiled into the same
            program (read it with :meth:`predict`). Ignored at runtime, where
            :meth:`predict` simulates on.
        report : None, 'text' or 'stdout'

        Raises
        ------
        TrainingDiverged
            With the RLS update index and time at which the a-priori error became
            non-finite or exceeded ``divergence_factor`` target amplitudes (a constant target: its
            largest ``|value|``, a zero target: 1). With ``rls='function'`` the generated code
            freezes the decoder from that update on; with ``rls='synapses'`` the updates go on to the
            end of the training window, so the decoder holds the divergent updates too.
        """
        c = self.config
        self.diverged_ = None
        self._check_target()
        settle_s = float(as_si(settle, second, "settle"))
        train_s = as_positive_si(train, second, "train")
        test_s = float(as_si(test, second, "test"))
        if settle_s < 0 or test_s < 0:
            raise ValueError("settle and test must be >= 0 s")
        self.task_ = as_task(task, c.n_outputs, c.dt)
        standalone = self.device != "runtime"
        if not standalone:
            test_s = 0.0
        self.task_(np.array([0.0, settle_s + train_s + test_s]))  # validates coverage / finiteness early
        weights, eta, v0 = self._base._draw_structure()
        self.weights_, self.eta_ = weights, np.asarray(eta)
        limit = c.divergence_factor * divergence_scale(self.task_, settle_s, settle_s + train_s)
        self._prefix = self._name or (STANDALONE_PREFIX if standalone else "force")
        run = run_force_program(c, weights, eta, v0, self.task_, settle_s, train_s, test_s, limit,
                                device=self.device, directory=self.directory, threads=self.threads, rls=self.rls,
                                rls_threads=self.rls_threads, prefix=self._prefix, report=report,
                                want_P=not standalone)
        for name, res in run.results.items():
            setattr(self, f"{name}_result_", res)
        self._final, self._phi, self._t_end = run.final, run.phi, run.t_end
        self._net = run.live.get("net")
        if self._net is not None:
            self._objs, self._ns = run.live["objs"], run.live["ns"]
            self.P_ = run.P
        err_t, errors = run.update_times, run.errors
        self.timings_ = {**run.timings, "n_rls_updates": int(len(errors))}
        bad = ~(np.all(np.abs(errors) <= limit, axis=1))
        self._fitted = True
        if bad.any():
            step = int(np.argmax(bad))
            self.history_ = TrainingHistory(err_t[:step + 1], errors[:step + 1], True, float(err_t[step]))
            self.timings_["n_rls_updates"] = step
            self.diverged_ = TrainingDiverged(step, float(err_t[step]), errors[step], c.dt)
            raise self.diverged_
        self.history_ = TrainingHistory(err_t, errors)
        return self

    def _check_fitted(self, allow_diverged: bool = True):
        if not self._fitted:
            raise RuntimeError("call fit() first")
        refuse_if_diverged(self.diverged_, allow_diverged, "the decoder",
                           "train again with a smaller alpha or a longer rls_interval")

    @property
    def decoder_(self):
        self._check_fitted()
        return self._phi.copy() * second

    @property
    def t_(self) -> float:
        return self._t_end if self._fitted else 0.0

    def predict(self, duration=2 * second, report=None, *, allow_diverged: bool = False) -> SimulationResult:
        """Free-running output after training.

        Runtime device: simulates ``duration`` on from the current state. Standalone
        devices: the first ``duration`` of the test phase compiled into :meth:`fit`'s
        program (ask for more with ``fit(test=...)``). Refused after :class:`TrainingDiverged`
        unless ``allow_diverged=True``.
        """
        self._check_fitted(allow_diverged)
        d = as_positive_si(duration, second, "duration")
        c = self.config
        if self.device != "runtime":
            res = getattr(self, "test_result_", None)
            have = 0.0 if res is None else len(res.t) * c.record_dt
            if res is None or d > have + 1e-9:
                raise ValueError(f"the compiled program free-ran {have:.4f} s after training; "
                                 f"pass test >= {d} s to fit() (or run the saved model with run_standalone)")
            out = res.window(res.t[0] - 1e-12, res.t[0] + d - 1e-9)
            out.phase, out.wall_time = "test", res.wall_time
            return out
        if self._net is None:
            raise RuntimeError("the runtime network is gone; call fit() again")
        b2.set_device("runtime")
        mons = self._monitors(self._objs, "test", True)
        self._net.add(*mons)
        w = time.perf_counter()
        try:
            self._net.run(d * second, namespace=self._ns, report=report, report_period=5 * second)
        finally:
            self._net.remove(*mons)
        res = self._result(mons, "test", time.perf_counter() - w)
        g = self._objs.neurons
        self._final = {k: np.asarray(getattr(g, k + "_") if k != "not_refractory" else g.not_refractory[:]).copy()
                       for k in STATE_VARIABLES}
        self._final["lastspike_rel"] = np.asarray(g.lastspike_).copy() - float(self._net.t_)
        self._t_end = float(self._net.t_)
        return res

    def save(self, path, *, allow_diverged: bool = False):
        """Save in :meth:`FORCETrainer.save`'s format (loadable by ``FORCETrainer.load`` and
        :func:`run_standalone`); the state saved is the one at the end of the last phase run.
        Refused after :class:`TrainingDiverged` unless ``allow_diverged=True``."""
        self._check_fitted(allow_diverged)
        c = self.config
        arrays = {"w_pre": self.weights_.pre, "w_post": self.weights_.post, "w_value": self.weights_.value,
                  "eta": self.eta_, "phi": self._phi.copy(), "lastspike_rel": self._final["lastspike_rel"]}
        for name in STATE_VARIABLES:
            arrays[name] = self._final[name]
        task = self.task_
        meta = {"config": {**{k: v for k, v in c.__dict__.items() if k != "lif"}, "lif": c.lif.__dict__},
                "units": {"G": "V*s", "Q": "V", "rls_interval": "s", "dt": "s", "record_dt": "s",
                          "lif": {"tau_m": "s", "tau_ref": "s", "tau_r": "s", "tau_d": "s",
                                  "v_th": "V", "v_reset": "V", "bias": "V"},
                          "phi": "s", "eta": "V", "w_value": "V*s", "t": "s"},
                "t": self.t_, "task": {"name": task.name, "params": task.params},
                "n_rls_updates": int(self.timings_["n_rls_updates"]),
                "trained_with": f"StandaloneFORCETrainer({self.device})"}
        return save_arrays(path, arrays, meta, kind=MODEL_KIND)




# ---------------------------------------------------------------------------- CLI
def check_force_run_duration(model, meta: dict, duration) -> float:
    """``duration`` (s) of a free run of the ``force_lif`` model ``model`` (metadata ``meta``), checked.

    Raises
    ------
    ValueError
        ``duration`` not > 0, or shorter than the model's output sampling step (nothing recorded).
    ModelFileError
        The model's settings hold no output sampling step.
    """
    duration = float(duration)
    if not duration > 0:
        raise ValueError(f"duration must be > 0 s, got {duration}")
    try:
        record_dt = float(meta["config"]["record_dt"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{model}: no output sampling step in the model's settings ({exc})") from exc
    if duration < record_dt:
        raise ValueError(f"duration {duration} s is shorter than the model's output sampling step "
                         f"({record_dt} s): nothing would be recorded")
    return duration


def run_force_model_cli(model, *, device="cpp_standalone", out, duration=2.0, directory=None, **_) -> dict:
    """``brianforce run`` for a ``force_lif`` model: free-running output, summary and figure."""
    import matplotlib.pyplot as plt

    out = Path(out)
    _, meta = load_arrays(model, kind=MODEL_KIND)
    duration = check_force_run_duration(model, meta, duration)
    wall0 = time.perf_counter()
    compile_s = None
    if device == "runtime":
        tr = FORCETrainer.load(model)
        if tr.task_ is None:
            raise ModelFileError(f"{model}: the model's task is not a registered task; cannot run it")
        res = tr.predict(duration * second)
    else:
        with build_project(model, duration * second, device, directory) as proj:
            compile_s = proj.compile_time
            res = proj.run((out / "standalone_results").resolve() if directory is None else None).result
    wall = time.perf_counter() - wall0
    metrics = res.metrics(None) if np.all(np.isfinite(res.target)) else {}
    summary = {"model": str(model), "device": device, "duration_s": duration, "n_neurons": res.n_neurons,
               "t_start_s": float(res.t[0]) if len(res.t) else None, "metrics": metrics,
               "wall_time_s": {"total": wall, "compile": compile_s, "run": res.wall_time},
               "n_spikes_recorded": int(len(res.spike_t))}
    # an earlier run's summary and figure go first, the summary is written last: a killed run
    # never leaves files of two runs side by side
    for name in ("summary.json", "output.png"):
        (out / name).unlink(missing_ok=True)
    atomic_savez(out / "output.npz", t=res.t, z=res.z, target=res.target, spike_i=res.spike_i,
                 spike_t=res.spike_t)
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(res.t, res.z, lw=1, label="output z")
    if np.all(np.isfinite(res.target)):
        ax.plot(res.t, res.target, "k--", lw=0.8, label="target")
    ax.set_xlabel("time (s)")
    ax.set_title(f"{Path(model).name} on {device}")
    ax.legend(loc="upper right")
    fig.tight_layout()
    atomic_savefig(fig, out / "output.png", dpi=100)
    plt.close(fig)
    atomic_write_text(out / "summary.json", json_text(summary, indent=2))
    return summary
