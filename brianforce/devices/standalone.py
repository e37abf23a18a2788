"""Code-generated standalone FORCE networks: run trained models and train them in C++.

Three things live here:

* :func:`run_standalone` / :func:`build_project` — a model saved by
  :meth:`brianforce.methods.force.FORCETrainer.save` rebuilt from its arrays (all random
  structure was drawn in numpy, so runtime and standalone start identical) and run as
  a Brian2 ``cpp_standalone`` (or ``cuda_standalone``) program.
* :class:`StandaloneProject` — "compile once, run many": the compiled program is run
  again with other initial states or decoders (Brian2's command-line ``run_args``),
  each run in its own results directory, several at once in parallel processes.
* :class:`StandaloneFORCETrainer` — FORCE training whose RLS update runs *inside* the
  generated code: a Brian2 user function (C++ for standalone, Cython for runtime)
  holding a dense ``P`` (upper triangle, rank-1 symmetric update) called from
  ``run_regularly`` operations, so it works where ``network_operation`` does not.

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

import hashlib
import importlib
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import brian2 as b2
from brian2 import (Network, NeuronGroup, SpikeMonitor, StateMonitor, Synapses, TimedArray,
                    linked_var, second)

from brianforce.networks.connectivity import SparseWeights
from brianforce.devices.activation import DEVICES, activate, cuda_clock_anchor, project_dir, restore_runtime
from brianforce.io import ModelFileError, load_arrays, save_arrays, write_run_outputs
from brianforce.learning.codegen import current_P, rls_functions
from brianforce.neurons import LIFParams
from brianforce.networks.force_lif import FILTERED_READOUT_EQS, build_force_network
from brianforce.methods.force import MODEL_KIND, FORCETrainer, SimulationResult, TrainingDiverged, TrainingHistory, as_task
from brianforce.units import as_positive_si, as_si

__all__ = ["StandaloneProject", "StandaloneRun", "build_project", "run_standalone",
           "StandaloneFORCETrainer", "run_model_cli", "MODEL_RUNNERS", "run_force_model_cli", "run_transferred_cli", "run_transferred_standalone", "model_kind", "DEVICES"]

RLS_BACKENDS = ("function", "synapses")
_STATE = ("v", "I_syn", "h", "r", "hr", "not_refractory")
# Object names of standalone builds: distinct from the runtime trainer's ("force_*") so that
# live runtime objects never rename generated code (which would force a recompilation).
_SA_NAME = "bfsa"


# ---------------------------------------------------------------------------- model files
@dataclass
class _Model:
    weights: SparseWeights
    eta: np.ndarray
    phi: np.ndarray
    state: dict
    lastspike_rel: np.ndarray
    lif: LIFParams
    dt: float
    t0: float
    config: dict
    task: object | None


def _load_model(path) -> _Model:
    """Arrays and settings of a ``force_lif`` model file (see FORCETrainer.save)."""
    from brianforce.tasks import make_task

    try:
        arrays, meta = load_arrays(path, kind=MODEL_KIND)
    except ModelFileError as exc:
        if "holds a" in str(exc):
            raise ModelFileError(f"{exc}; only FORCE LIF models ({MODEL_KIND!r}, saved by FORCETrainer or "
                                 "StandaloneFORCETrainer) can be run standalone so far") from exc
        raise
    try:
        cfg = dict(meta["config"])
        lif = LIFParams(**cfg["lif"])
        n = int(cfg["n_neurons"])
        weights = SparseWeights(arrays["w_pre"], arrays["w_post"], arrays["w_value"], n)
        state = {k: np.asarray(arrays[k]) for k in _STATE}
        task = meta.get("task") or {}
        the_task = make_task(task["name"], **task["params"]) if task.get("name") not in (None, "array") else None
        return _Model(weights, np.asarray(arrays["eta"], float), np.asarray(arrays["phi"], float), state,
                      np.asarray(arrays["lastspike_rel"], float), lif, float(cfg["dt"]), float(meta["t"]),
                      cfg, the_task)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: inconsistent model contents ({exc})") from exc


# ---------------------------------------------------------------------------- network
# ---------------------------------------------------------------------------- compile once, run many
@dataclass
class StandaloneRun:
    """One execution of a compiled project (see :meth:`StandaloneProject.run`)."""

    result: SimulationResult
    results_dir: str
    wall_time: float
    final_state: dict = field(default_factory=dict)


@dataclass
class StandaloneProject:
    """A compiled standalone program of one trained FORCE network.

    The program simulates ``duration`` seconds from the saved state and records the
    readout every ``record_dt`` and all spikes. Run it with other values of the
    settable variables (``"v"``, ``"I_syn"``, ``"h"``, ``"r"``, ``"hr"`` of the neurons,
    ``"phi"`` of the decoder, in SI units) without recompiling: :meth:`run`,
    :meth:`run_many` (parallel processes).

    Attributes
    ----------
    directory : str
        The project directory (source, binary, results sub-directories).
    compile_time : float
        Wall-clock seconds of code generation + compilation (0 when nothing changed).
    """

    directory: str
    device: str
    duration: float
    dt: float
    t0: float
    n_neurons: int
    n_outputs: int
    n_record: int
    settable: dict
    outputs: dict
    task: object | None
    compile_time: float
    env: dict

    @property
    def binary(self) -> Path:
        return Path(self.directory) / "main"

    def _args(self, values: dict) -> list:
        args = []
        for key, value in (values or {}).items():
            if key not in self.settable:
                raise KeyError(f"cannot set {key!r}; settable: {sorted(self.settable)}")
            target, dtype, size = self.settable[key]
            arr = np.ascontiguousarray(np.asarray(value, dtype=dtype).reshape(-1))
            if arr.size != size:
                raise ValueError(f"{key} needs {size} values, got {arr.size}")
            if not np.all(np.isfinite(arr.astype(float))):
                raise ValueError(f"{key} contains NaN/Inf")
            fname = f"init_{target.replace('.', '_')}_{hashlib.md5(arr.data).hexdigest()}.dat"
            path = Path(self.directory) / "static_arrays" / fname
            if not path.exists():
                tmp = path.with_suffix(f".tmp{os.getpid()}")
                arr.tofile(tmp)
                os.replace(tmp, path)
            args.append(f"{target}=static_arrays/{fname}")
        return args

    def _results_dir(self, results_directory) -> str:
        if results_directory is None:
            results_directory = tempfile.mkdtemp(prefix="results_", dir=self.directory)
        path = Path(results_directory)
        if not path.is_absolute():
            path = Path(self.directory) / path
        path.mkdir(parents=True, exist_ok=True)
        return str(path) + os.sep

    def _start(self, values, results_directory):
        rdir = self._results_dir(results_directory)
        cmd = ["./main", "--results_dir", rdir] + self._args(values)
        log = open(os.path.join(rdir, "stdout.txt"), "w")
        proc = subprocess.Popen(cmd, cwd=self.directory, stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, **self.env})
        return proc, log, rdir

    def _finish(self, proc, log, rdir, wall0) -> StandaloneRun:
        rc = proc.wait()
        wall = time.perf_counter() - wall0
        log.close()
        if rc:
            text = Path(rdir, "stdout.txt").read_text()[-2000:]
            raise RuntimeError(f"standalone program failed (exit {rc}) in {self.directory}:\n{text}")
        return StandaloneRun(self._collect(rdir, wall), rdir, wall, self._final_state(rdir))

    def _read(self, rdir, key):
        fname, dtype = self.outputs[key]
        return np.fromfile(os.path.join(rdir, fname), dtype=dtype)

    def _collect(self, rdir, wall) -> SimulationResult:
        t = self.t0 + self._read(rdir, "t")
        z = self._read(rdir, "z").reshape(len(t), self.n_outputs)
        si, st = self._read(rdir, "spike_i").astype(int), self.t0 + self._read(rdir, "spike_t")
        keep = si < self.n_record
        target = self.task(t + self.dt) if (self.task is not None and len(t)) else np.full_like(z, np.nan)
        return SimulationResult(t, z, target, si[keep], st[keep], self.n_record, self.n_neurons, "test", wall)

    def _final_state(self, rdir) -> dict:
        out = {k: self._read(rdir, f"state_{k}") for k in _STATE + ("lastspike",)}
        out["phi"] = self._read(rdir, "state_phi").reshape(self.n_neurons, self.n_outputs)
        return out

    def run(self, results_directory=None, **values) -> StandaloneRun:
        """Run the compiled program once (no recompilation).

        Parameters
        ----------
        results_directory : path, optional
            Where the program writes its results (default: a new sub-directory).
        **values : array
            New initial values (SI units), e.g. ``v=...`` (N,), ``phi=...`` (N, K).
        """
        wall0 = time.perf_counter()
        proc, log, rdir = self._start(values, results_directory)
        return self._finish(proc, log, rdir, wall0)

    def run_many(self, values: list, processes: int = 2, results_prefix: str = "run") -> list:
        """Run the program once per entry of ``values`` (dicts as for :meth:`run`), at most
        ``processes`` at a time, each in its own results directory ``<prefix>_<k>``."""
        if processes < 1:
            raise ValueError("processes must be >= 1")
        runs = [None] * len(values)
        pending = list(enumerate(values))
        active = []
        while pending or active:
            while pending and len(active) < processes:
                k, vals = pending.pop(0)
                active.append((k, time.perf_counter(), *self._start(vals, f"{results_prefix}_{k}")))
            k, wall0, proc, log, rdir = active.pop(0)
            runs[k] = self._finish(proc, log, rdir, wall0)
        return runs

    def build_signature(self) -> dict:
        """Modification times of the binary and object files (to check for recompilation)."""
        files = [self.binary] + sorted(Path(self.directory).glob("**/*.o"))
        return {str(p.relative_to(self.directory)): p.stat().st_mtime_ns for p in files if p.exists()}


def _array_file(var) -> tuple:
    dev = b2.get_device()
    return dev.get_array_filename(var), var.dtype


def build_project(model_path, duration, device: str = "cpp_standalone", directory=None, *,
                  record_dt=None, n_record: int | None = None, threads: int = 0) -> StandaloneProject:
    """Generate and compile the standalone program of a saved FORCE model.

    Parameters
    ----------
    model_path : path
        A ``.npz`` written by ``FORCETrainer.save`` (or ``StandaloneFORCETrainer.save``).
    duration : Quantity (second)
        Simulated time of each run (free-running, no learning).
    device : 'cpp_standalone' or 'cuda_standalone'
    directory : path, optional
        Project directory (default: a new temporary one). Re-building the same network
        into the same directory rewrites no file and recompiles nothing.
    record_dt : Quantity (second), optional
        Output sampling step (default: the model's ``record_dt``).
    n_record : int, optional
        Neurons whose spikes are returned (default: the model's ``n_record``).
    threads : int
        OpenMP threads of the C++ program (0 = no OpenMP).
    """
    duration_s = as_positive_si(duration, second, "duration")
    if device not in ("cpp_standalone", "cuda_standalone"):
        raise ValueError(f"device must be 'cpp_standalone' or 'cuda_standalone', got {device!r}")
    model = _load_model(model_path)
    rec = as_positive_si(record_dt, second, "record_dt") if record_dt is not None else float(
        model.config.get("record_dt", model.dt))
    n_rec = int(min(n_record if n_record is not None else model.config.get("n_record", 100), model.weights.n))
    directory = project_dir(directory)
    wall0 = time.perf_counter()
    activate(device, directory)
    try:
        if device == "cpp_standalone":
            b2.prefs.devices.cpp_standalone.openmp_threads = int(threads)
        objs = build_force_network(model.weights, model.eta, model.phi, lif=model.lif, v0=model.state["v"],
                                   dt=model.dt * second, state=model.state, lastspike=model.lastspike_rel,
                                   name=_SA_NAME)
        zmon = StateMonitor(objs.readout, "z", record=True, dt=rec * second, when="end", name=f"{_SA_NAME}_zmon")
        smon = SpikeMonitor(objs.neurons, name=f"{_SA_NAME}_spikes")
        net = Network(*objs.objects, zmon, smon, *cuda_clock_anchor(device, model.dt, _SA_NAME),
                      name=f"{_SA_NAME}_network")
        net.run(duration_s * second, namespace={})
        dev = b2.get_device()
        g, d = objs.neurons, objs.decoder
        settable = {k: (f"{g.name}.{k}", g.variables[k].dtype, len(g)) for k in ("v", "I_syn", "h", "r", "hr")}
        settable["phi"] = (f"{d.name}.phi", d.variables["phi"].dtype, len(g) * objs.n_outputs)
        outputs = {"t": _array_file(zmon.variables["t"]), "z": _array_file(zmon.variables["z"]),
                   "spike_i": _array_file(smon.variables["i"]), "spike_t": _array_file(smon.variables["t"]),
                   "state_phi": _array_file(d.variables["phi"]),
                   "state_lastspike": _array_file(g.variables["lastspike"])}
        for k in _STATE:
            outputs[f"state_{k}"] = _array_file(g.variables[k])
        env = {k: str(v) for k, v in b2.prefs["devices.cpp_standalone.run_environment_variables"].items()}
        dev.build(directory=directory, compile=True, run=False, with_output=False)
    finally:
        restore_runtime()
    return StandaloneProject(directory, device, duration_s, model.dt, model.t0, model.weights.n, objs.n_outputs,
                             n_rec, settable, outputs, model.task, time.perf_counter() - wall0, env)


def run_standalone(model_path, duration, device: str = "cpp_standalone", directory=None, *,
                   results_directory=None, record_dt=None, n_record: int | None = None,
                   threads: int = 0) -> SimulationResult:
    """Run a saved FORCE model as a code-generated standalone program.

    Builds (or re-uses, see :func:`build_project`) the program and runs it once; the
    result continues from the saved state exactly like ``FORCETrainer.load(path).predict``.

    Returns
    -------
    SimulationResult
        Output ``z`` (every ``record_dt``), target (if the model's task is known) and
        spikes of the first ``n_record`` neurons; times are absolute (model time + run).
    """
    project = build_project(model_path, duration, device, directory, record_dt=record_dt, n_record=n_record,
                            threads=threads)
    return project.run(results_directory).result


# ---------------------------------------------------------------------------- other model kinds
TRANSFER_KIND = "kim2019-lif"


def model_kind(path) -> str:
    """The ``kind`` recorded in a brianforce model file (checksum verified)."""
    _, meta = load_arrays(path)
    return str(meta.get("kind"))


def run_transferred_standalone(model_path, inputs, device: str = "cpp_standalone", directory=None, *,
                               seed: int = 0, record_spikes: int = 0, threads: int = 0, dt=0.05 * b2.ms,
                               record_dt=1 * b2.ms):
    """Run a one-to-one transferred LIF network (Kim, Li & Sejnowski 2019) as a C++ program.

    The network, its initial voltages (numpy, from ``seed``) and the trial batch are the
    ones :func:`brianforce.methods.transfer.simulate_lif` builds at runtime; only the device
    differs, so with ``sigma_v = 0`` the spikes are identical.

    Parameters
    ----------
    model_path : path
        A ``kim2019-lif`` file (``TransferredLIF.save``; ``brianforce train models/kim2019_*.toml``
        writes ``lif_model.npz``).
    inputs : array (n_trials, n_steps, n_inputs)
        One value per ``input_dt`` of the model.
    device : 'cpp_standalone'
        (Brian2CUDA is not supported for this model kind yet.)
    directory : path, optional
        Project directory (default: a new temporary one).
    seed, record_spikes, dt, record_dt
        As :func:`brianforce.methods.transfer.simulate_lif`.
    threads : int
        OpenMP threads of the program.

    Returns
    -------
    brianforce.methods.transfer.LIFRun
    """
    from brianforce.methods.transfer import TransferredLIF, simulate_lif

    if device != "cpp_standalone":
        raise ValueError(f"transferred LIF models run under 'cpp_standalone' only, got {device!r}")
    model = TransferredLIF.load(model_path)
    directory = project_dir(directory)
    activate(device, directory, build_on_run=True)
    try:
        b2.prefs.devices.cpp_standalone.openmp_threads = int(threads)
        return simulate_lif(model, inputs, seed=seed, dt=dt, record_dt=record_dt, record_spikes=record_spikes)
    finally:
        restore_runtime()


def run_transferred_cli(model, *, device, out, n_trials=20, seed=0, **_) -> dict:
    """``brianforce run`` for a ``kim2019-lif`` model: test trials of its task, accuracy, figure."""
    from brianforce.seeding import rng_for
    from brianforce.tasks.kim2019 import make_task
    from brianforce.methods.transfer import simulate_lif, TransferredLIF

    _, meta = load_arrays(model, kind=TRANSFER_KIND)
    name = meta.get("task")
    if not name:
        raise ModelFileError(f"{model}: no task recorded in the model file; run it through the API "
                             "(run_transferred_standalone) with your own inputs")
    task = make_task(name)
    batch = task.sample(int(n_trials), rng_for(seed, "standalone-test-trials"))
    wall0 = time.perf_counter()
    if device == "runtime":
        run = simulate_lif(TransferredLIF.load(model), batch.inputs, seed=seed, record_spikes=1)
    else:
        run = run_transferred_standalone(model, batch.inputs, device, out / "project", seed=seed, record_spikes=1)
    wall = time.perf_counter() - wall0
    crit = task.spiking_criterion()
    acc = float(crit.accuracy(run.outputs, batch.labels, dt=run.record_dt))
    summary = {"model": str(model), "kind": TRANSFER_KIND, "device": device, "task": name,
               "n_trials": int(n_trials), "seed": int(seed), "accuracy": acc,
               "mean_rate_hz": float(np.mean(run.mean_rate)), "wall_time_s": wall}

    def draw(ax):
        for k in range(min(int(n_trials), 6)):
            ax.plot(run.times, run.outputs[k], lw=1, label=f"trial {k} (label {batch.labels[k]})")
        ax.set_xlabel("time (s)")
        ax.set_ylabel("LIF output")
        ax.legend(loc="upper left", fontsize=7)

    return write_run_outputs(out, summary, dict(t=run.times, outputs=run.outputs, labels=batch.labels), draw,
                             f"{Path(model).name} ({name}) on {device}: accuracy {acc:.2f}")


# ---------------------------------------------------------------------------- generated-code RLS
def _rls_function(prefix, weights, eta, v0, c, limit, target, rls_threads=1):
    """FORCE network + RLS through the C++/Cython user functions (see :func:`brianforce.learning.codegen.rls_functions`).

    The readout is filtered (``build_force_network(filtered_readout=True)``): the update
    step also returns ``z = φᵀr`` and ``u = φᵀh_r`` of the new decoder, which reset the
    readout's filter, so no sum over the decoder runs at the other time steps.
    """
    objs = build_force_network(weights, eta, np.zeros((c.n_neurons, c.n_outputs)), lif=c.lif, v0=v0,
                               dt=c.dt * second, readout_eqs=FILTERED_READOUT_EQS + "\nrls_err : 1",
                               filtered_readout=True, name=prefix)
    fns = rls_functions(c.n_neurons, c.n_outputs, c.reg, c.normalised, limit, rls_threads,
                        r_unit=b2.Hz, hr_unit=b2.Hz / second, phi_unit=second)
    ns = dict(fns.namespace(), bf_rls_target=target)
    kw = dict(dt=c.rls_interval * second, when="end")
    runners = [
        objs.decoder.run_regularly("phi = bf_rls_collect(i, j, r_pre, hr_pre, phi, bf_rls_target(t, j))",
                                   order=1, name=f"{prefix}_rls_collect", **kw),
        objs.readout.run_regularly("rls_err = bf_rls_step(i)", order=2, name=f"{prefix}_rls_step", **kw),
        objs.decoder.run_regularly("phi = bf_rls_get(i, j)", order=3, name=f"{prefix}_rls_write", **kw),
        objs.readout.run_regularly("rls_err = bf_rls_error(i)", order=4, name=f"{prefix}_rls_error", **kw),
        # (one user function per code object: the functions share namespace arrays)
        objs.readout.run_regularly("z = bf_rls_readout(i, 0)", order=5, name=f"{prefix}_rls_z", **kw),
        objs.readout.run_regularly("u = bf_rls_readout(i, 1)*hertz", order=6, name=f"{prefix}_rls_u", **kw)]
    errmon = StateMonitor(objs.readout, "rls_err", record=True, order=7, name=f"{prefix}_rls_errmon", **kw)
    return objs, [], runners, errmon, ns, lambda: current_P(fns.buffers)


def _rls_synapses(prefix, weights, eta, v0, c, limit, target, rls_threads=1):
    """FORCE network + RLS in plain Brian2 equations (runs on every device, CUDA included).

    At every RLS step, at the end of the time step (after the neurons' update, with the
    same ``r`` the user-function backend sees):

    1. ``Pr_i = Σ_j P_ij r_j``     summed variable of the all-to-all ``P`` synapses;
    2. ``ẑ_k = Σ_i φ'_ik r_i``, ``rᵀPr = Σ_i r_i Pr_i``  summed variables of a copy of the
       decoder on the RLS clock (the readout's ``z`` is summed before the neurons' update);
    3. ``e_k = ẑ_k − y_k``, ``c = 1/(1 + rᵀPr)``;
    4. ``Pr``, ``e`` and ``c`` copied next to the decoder (Synapses only see the pre/post
       variables that existed when they were created, so the decoder reads copies);
    5. ``φ_ik −= g Pr_i e_k`` (``g = c`` if normalised, else 1) on the decoder and its copy;
    6. ``P_ij −= c Pr_i Pr_j``.

    The decoder is not frozen after a divergence; ``fit`` reports the first bad update.
    """
    N, K = c.n_neurons, c.n_outputs
    every = c.rls_interval * second
    objs = build_force_network(weights, eta, np.zeros((N, K)), lif=c.lif, v0=v0, dt=c.dt * second,
                               readout_eqs="z : 1\nrls_err : 1\nrls_c : 1\nrls_err_src : 1 (linked)\n"
                                           "rls_c_src : 1 (linked)",
                               extra_neuron_eqs="rls_Pr : second\nrls_Pr_src : second (linked)", name=prefix)
    units = NeuronGroup(N, "Pr : second\nrls_c : 1\nrls_c_src : 1 (linked)", dt=every, name=f"{prefix}_rls_units")
    state = NeuronGroup(K, "zc : 1\nrPr : 1\nrls_err : 1\nrls_c : 1", dt=every, name=f"{prefix}_rls_state")
    objs.neurons.rls_Pr_src = linked_var(units, "Pr")
    units.rls_c_src = linked_var(state, "rls_c", index=np.zeros(N, dtype=int))
    objs.readout.rls_err_src = linked_var(state, "rls_err")
    objs.readout.rls_c_src = linked_var(state, "rls_c")
    pmat = Synapses(objs.neurons, units, "P : second**2\nPr_post = P*r_pre : second (summed)", dt=every,
                    namespace={"p_zero": (1.0 / c.reg) * second ** 2}, name=f"{prefix}_rls_P")
    pmat.connect()
    pmat.P = "int(i == j) * p_zero"
    copy = Synapses(objs.neurons, state, "phi_c : second\nzc_post = phi_c*r_pre : 1 (summed)\n"
                    "rPr_post = r_pre*rls_Pr_src_pre : 1 (summed)",
                    dt=every, name=f"{prefix}_rls_decoder")
    copy.connect(i=np.repeat(np.arange(N), K), j=np.tile(np.arange(K), N))
    gain = "rls_c_post" if c.normalised else "1"
    ns = {"bf_rls_target": target}
    runners = []
    for upd in [*pmat.summed_updaters.values(), *copy.summed_updaters.values()]:
        upd.when, upd.order = "end", 1 if upd.group is pmat else 2
        runners.append(upd)
    kw = dict(dt=every, when="end")
    runners += [
        state.run_regularly("rls_err = zc - bf_rls_target(t, i)\nrls_c = 1/(1 + rPr)", order=3,
                            name=f"{prefix}_rls_error", **kw),
        objs.neurons.run_regularly("rls_Pr = rls_Pr_src", order=4, name=f"{prefix}_rls_copy_Pr", **kw),
        objs.readout.run_regularly("rls_err = rls_err_src\nrls_c = rls_c_src", order=4,
                                   name=f"{prefix}_rls_copy_err", **kw),
        units.run_regularly("rls_c = rls_c_src", order=4, name=f"{prefix}_rls_copy_c", **kw),
        objs.decoder.run_regularly(f"phi -= {gain}*rls_Pr_pre*rls_err_post", order=5,
                                   name=f"{prefix}_rls_phi", **kw),
        copy.run_regularly(f"phi_c -= {gain}*rls_Pr_src_pre*rls_err_post", order=5,
                           name=f"{prefix}_rls_phi_copy", **kw),
        pmat.run_regularly("P -= rls_c_post*Pr_post*rls_Pr_src_pre", order=6, name=f"{prefix}_rls_Pupdate", **kw)]
    errmon = StateMonitor(state, "rls_err", record=True, dt=every, when="end", order=7,
                          name=f"{prefix}_rls_errmon")

    def get_P():
        P = np.zeros((N, N))
        P[np.asarray(pmat.j[:]), np.asarray(pmat.i[:])] = np.asarray(pmat.P_[:])
        return P

    return objs, [units, state, pmat, copy], runners, errmon, ns, get_P


# ---------------------------------------------------------------------------- trainer
class StandaloneFORCETrainer:
    """FORCE training with the RLS update inside the generated code (Nicola & Clopath 2017).

    Same model, constructor arguments and results as :class:`brianforce.methods.force.FORCETrainer`
    (same seed → same structure, initial state and — to round-off — the same decoder),
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
        ``n_record``, ``record_dt``, ``seed``).
    device : {'cpp_standalone', 'runtime', 'cuda_standalone'}
        ``'runtime'`` uses Brian2's Cython target (same generated RLS, for comparison).
        ``'cuda_standalone'`` needs Brian2CUDA and a C++/CUDA implementation of the RLS
        function, which is not provided: it raises ``NotImplementedError``.
    directory : path, optional
        Standalone project directory; re-using it skips recompilation when only the
        arrays (seed, target values) changed.
    threads : int
        OpenMP threads of the standalone program (0: none).
    rls_threads : int
        Threads (``std::thread``) splitting the ``P r`` pass of the C++ RLS update
        (``rls='function'`` under ``cpp_standalone``; ignored elsewhere). With more than one
        the additions happen in another order: equal to round-off, not bit for bit.
    rls : {'function', 'synapses'}, optional
        How the RLS update is generated. ``'function'`` (default except under Brian2CUDA):
        a user function with C++/Cython code holding a dense ``P`` (upper triangle, the
        previous rank-1 update fused with the next ``P r`` pass: one pass over half of ``P``
        per update). ``'synapses'`` (default under ``cuda_standalone``): plain Brian2
        equations only — ``P`` is a variable of an all-to-all ``Synapses`` object, ``P r``,
        ``rᵀ P r`` and the a-priori error are summed variables and the updates are
        ``run_regularly`` operations — so it runs on every device and code-generation
        target (numpy, Cython, C++, CUDA), at about four times the memory traffic.
        Both give the same decoder to round-off.

    Attributes
    ----------
    history_ : TrainingHistory
    decoder_ : Quantity (N, K), seconds
    settle_result_, train_result_ : SimulationResult
    test_result_ : SimulationResult
        Standalone devices only: the free-running phase compiled into the same program.
    timings_ : dict
        ``compile_s`` (code generation + compilation), ``run_s`` (program or run wall
        time), ``n_rls_updates``.
    P_ : ndarray (N, N)
        Runtime device only: the final inverse correlation matrix (s²).

    References
    ----------
    Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE
    training. Nat Commun 8:2208.
    """

    def __init__(self, n_neurons: int = 2000, n_outputs: int = 1, *, device: str = "cpp_standalone",
                 directory=None, threads: int = 0, rls: str | None = None, rls_threads: int = 1, **kwargs):
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
        if isinstance(rls_threads, bool) or not isinstance(rls_threads, (int, np.integer)) or rls_threads < 1:
            raise ValueError(f"rls_threads must be an integer >= 1, got {rls_threads!r}")
        self.rls_threads = int(rls_threads)
        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 0:
            raise ValueError(f"threads must be an integer >= 0, got {threads!r}")
        self._base = FORCETrainer(n_neurons, n_outputs, **kwargs)
        self.config = self._base.config
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
            non-finite or exceeded ``divergence_factor`` target amplitudes (the
            generated code freezes the decoder from that update on).
        """
        c = self.config
        self._check_target()
        settle_s = float(as_si(settle, second, "settle"))
        train_s = as_positive_si(train, second, "train")
        test_s = float(as_si(test, second, "test"))
        if settle_s < 0 or test_s < 0:
            raise ValueError("settle and test must be >= 0 s")
        self.task_ = as_task(task, c.n_outputs, c.dt)
        standalone = self.device != "runtime"
        total = settle_s + train_s + (test_s if standalone else 0.0)
        self.task_(np.array([0.0, total]))  # validates coverage / finiteness early
        weights, eta, v0 = self._base._draw_structure()
        self.weights_, self.eta_ = weights, np.asarray(eta)
        limit = c.divergence_factor * max(self.task_.amplitude, 1e-12)
        n_ta = int(np.ceil((settle_s + train_s) / c.rls_interval)) + 2
        values = self.task_(np.arange(n_ta) * c.rls_interval + c.dt)
        directory = project_dir(self.directory) if standalone else None
        self._prefix = _SA_NAME if standalone else "force"
        wall0 = time.perf_counter()
        activate(self.device, directory)
        try:
            if self.device == "cpp_standalone":
                b2.prefs.devices.cpp_standalone.openmp_threads = self.threads
            target = TimedArray(values, dt=c.rls_interval * second, name="bf_rls_target")
            setup = _rls_synapses if self.rls == "synapses" else _rls_function
            objs, extra, runners, errmon, ns, get_P = setup(self._prefix, weights, eta, v0, c, limit, target,
                                                            self.rls_threads)
            net = Network(*objs.objects, *extra, *cuda_clock_anchor(self.device, c.dt, self._prefix),
                          name=f"{self._prefix}_network")
            phases = []
            kw = dict(namespace=ns, report=report, report_period=5 * second)
            for r in runners:
                r.active = False
            if settle_s > 0:
                mons = self._monitors(objs, "settle", False)
                net.add(*mons)
                w = time.perf_counter()
                net.run(settle_s * second, **kw)
                phases.append(("settle", mons, time.perf_counter() - w))
                net.remove(*mons)
            for r in runners:
                r.active = True
            mons = self._monitors(objs, "train", False)
            net.add(*mons, errmon)
            w = time.perf_counter()
            net.run(train_s * second, **kw)
            phases.append(("train", mons, time.perf_counter() - w))
            net.remove(*mons, errmon)
            for r in runners:
                r.active = False
            if standalone:
                if test_s > 0:
                    mons = self._monitors(objs, "test", True)
                    net.add(*mons)
                    net.run(test_s * second, **kw)
                    phases.append(("test", mons, 0.0))
                dev = b2.get_device()
                dev.build(directory=directory, compile=True, run=True, with_output=report is not None)
                run_s = float(dev.timers.get("run_binary") or 0.0)
                compile_s = time.perf_counter() - wall0 - run_s
            else:
                compile_s, run_s = 0.0, sum(p[2] for p in phases)
            for name, mons, wall in phases:
                setattr(self, f"{name}_result_", self._result(mons, name, wall if not standalone else run_s))
            err_t = np.asarray(errmon.t_).copy() + c.dt
            errors = np.asarray(errmon.rls_err_).T.copy().reshape(len(err_t), c.n_outputs)
            g = objs.neurons
            self._final = {k: np.asarray(getattr(g, k + "_") if k != "not_refractory" else g.not_refractory[:]).copy()
                           for k in _STATE}
            self._final["lastspike_rel"] = np.asarray(g.lastspike_).copy() - float(net.t_)
            self._phi = np.asarray(objs.decoder.phi_).copy().reshape(c.n_neurons, c.n_outputs)
            self._t_end = float(net.t_)
            if standalone:
                self._net = None
            else:
                self._net, self._objs, self._ns, self._runners = net, objs, ns, runners
                self.P_ = get_P()
        finally:
            if standalone:
                restore_runtime()
        self.timings_ = {"compile_s": compile_s, "run_s": run_s, "n_rls_updates": int(len(errors))}
        bad = ~(np.all(np.abs(errors) <= limit, axis=1))
        self._fitted = True
        if bad.any():
            step = int(np.argmax(bad))
            self.history_ = TrainingHistory(err_t[:step + 1], errors[:step + 1], True, float(err_t[step]))
            self.timings_["n_rls_updates"] = step
            raise TrainingDiverged(step, float(err_t[step]), errors[step], c.dt)
        self.history_ = TrainingHistory(err_t, errors)
        return self

    def _check_fitted(self):
        if not self._fitted:
            raise RuntimeError("call fit() first")

    @property
    def decoder_(self):
        self._check_fitted()
        return self._phi.copy() * second

    @property
    def t_(self) -> float:
        return self._t_end if self._fitted else 0.0

    def predict(self, duration=2 * second, report=None) -> SimulationResult:
        """Free-running output after training.

        Runtime device: simulates ``duration`` on from the current state. Standalone
        devices: the first ``duration`` of the test phase compiled into :meth:`fit`'s
        program (ask for more with ``fit(test=...)``).
        """
        self._check_fitted()
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
                       for k in _STATE}
        self._final["lastspike_rel"] = np.asarray(g.lastspike_).copy() - float(self._net.t_)
        self._t_end = float(self._net.t_)
        return res

    def save(self, path):
        """Save in :meth:`FORCETrainer.save`'s format (loadable by ``FORCETrainer.load`` and
        :func:`run_standalone`); the state saved is the one at the end of the last phase run."""
        self._check_fitted()
        c = self.config
        arrays = {"w_pre": self.weights_.pre, "w_post": self.weights_.post, "w_value": self.weights_.value,
                  "eta": self.eta_, "phi": self._phi.copy(), "lastspike_rel": self._final["lastspike_rel"]}
        for name in _STATE:
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
#: How ``brianforce run`` runs a saved model of each kind: ``kind -> (module, function)``. A runner
#: takes the model path and the keywords ``device``, ``out``, ``duration``, ``directory``,
#: ``n_trials`` and ``seed`` (ignoring those its kind has no use for) and returns the summary. The
#: module is imported on use, so a model kind registers here without an import cycle.
MODEL_RUNNERS = {
    MODEL_KIND: ("brianforce.devices.standalone", "run_force_model_cli"),
    TRANSFER_KIND: ("brianforce.devices.standalone", "run_transferred_cli"),
    "depasquale-student": ("brianforce.devices.student_network", "run_student_cli"),
}


def run_model_cli(model, device: str = "cpp_standalone", duration: float = 2.0, out="standalone_run",
                  directory=None, n_trials: int = 20, seed: int = 0) -> dict:
    """``brianforce run MODEL --device D --duration S --out DIR``: runs a saved model by its kind.

    FORCE models (``force_lif``): runs the saved model for ``duration`` seconds on ``device``
    ('cpp_standalone', 'cuda_standalone' or 'runtime'); writes ``summary.json``,
    ``output.npz`` (t, z, target, spikes; SI units) and ``output.png`` to ``out``.
    Transferred LIF models (``kim2019-lif``; 'cpp_standalone' or 'runtime') and DePasquale
    students (``depasquale-student``; any of the three devices): runs ``n_trials`` test
    trials of the model's task and reports accuracy / error. Returns the summary
    (see :data:`MODEL_RUNNERS`).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    kind = model_kind(model)
    if kind not in MODEL_RUNNERS:
        raise ModelFileError(f"{model}: a {kind!r} model cannot be run from the command line; runnable kinds: "
                             f"{', '.join(sorted(MODEL_RUNNERS))}")
    module, function = MODEL_RUNNERS[kind]
    runner = getattr(importlib.import_module(module), function)
    return runner(model, device=device, out=out, duration=duration, directory=directory, n_trials=n_trials,
                  seed=seed)


def run_force_model_cli(model, *, device="cpp_standalone", out, duration=2.0, directory=None, **_) -> dict:
    """``brianforce run`` for a ``force_lif`` model: free-running output, summary and figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    duration = float(duration)
    if not duration > 0:
        raise ValueError(f"duration must be > 0 s, got {duration}")
    wall0 = time.perf_counter()
    compile_s = None
    if device == "runtime":
        tr = FORCETrainer.load(model)
        if tr.task_ is None:
            raise ModelFileError(f"{model}: the model's task is not a registered task; cannot run it")
        res = tr.predict(duration * second)
    else:
        proj = build_project(model, duration * second, device,
                             directory if directory is not None else out / "project")
        compile_s = proj.compile_time
        res = proj.run(out / "project" / "results" if directory is None else None).result
    wall = time.perf_counter() - wall0
    metrics = res.metrics(None) if np.all(np.isfinite(res.target)) else {}
    summary = {"model": str(model), "device": device, "duration_s": duration, "n_neurons": res.n_neurons,
               "t_start_s": float(res.t[0]) if len(res.t) else None, "metrics": metrics,
               "wall_time_s": {"total": wall, "compile": compile_s, "run": res.wall_time},
               "n_spikes_recorded": int(len(res.spike_t))}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    np.savez_compressed(out / "output.npz", t=res.t, z=res.z, target=res.target, spike_i=res.spike_i,
                        spike_t=res.spike_t)
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(res.t, res.z, lw=1, label="output z")
    if np.all(np.isfinite(res.target)):
        ax.plot(res.t, res.target, "k--", lw=0.8, label="target")
    ax.set_xlabel("time (s)")
    ax.set_title(f"{Path(model).name} on {device}")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(out / "output.png", dpi=100)
    plt.close(fig)
    return summary
