"""Compiled standalone programs of saved FORCE models: compile once, run many.

:func:`build_project` rebuilds a model saved by :meth:`brianforce.methods.force.FORCETrainer.save`
from its arrays (all random structure was drawn in numpy, so runtime and standalone start
identical) and compiles it as a Brian2 ``cpp_standalone`` (or ``cuda_standalone``) program.
:class:`StandaloneProject` runs the compiled program again with other initial states or
decoders (Brian2's command-line ``run_args``), each run in its own results directory, several
at once in parallel processes; :func:`run_standalone` builds and runs once.

All arrays handed over are in SI units (seconds, volts, hertz); public durations are
Brian2 quantities.

References
----------
Stimberg M, Brette R, Goodman DFM (2019) Brian 2, an intuitive and efficient neural
simulator. eLife 8:e47314 (standalone code generation).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import brian2 as b2
from brian2 import DimensionMismatchError, Network, SpikeMonitor, StateMonitor, get_unit, have_same_dimensions, second

from brianforce.networks.connectivity import SparseWeights, synapse_capacity
from brianforce.devices.activation import build, activate, cuda_clock_anchor, restore_runtime
from brianforce.devices.cache import ProjectDirectory, project_directory
from brianforce.devices.force_program import STANDALONE_PREFIX, STATE_VARIABLES
from brianforce.io import ModelFileError, load_arrays
from brianforce.neurons import LIFParams
from brianforce.networks.force_lif import build_force_network
from brianforce.methods.force import MODEL_KIND, SimulationResult
from brianforce.units import as_count, as_positive_si

__all__ = ["StandaloneProject", "StandaloneRun", "build_project", "run_standalone", "STATE_VARIABLES",
           "STANDALONE_PREFIX"]


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
        state = {k: np.asarray(arrays[k]) for k in STATE_VARIABLES}
        task = meta.get("task") or {}
        the_task = make_task(task["name"], **task["params"]) if task.get("name") not in (None, "array") else None
        return _Model(weights, np.asarray(arrays["eta"], float), np.asarray(arrays["phi"], float), state,
                      np.asarray(arrays["lastspike_rel"], float), lif, float(cfg["dt"]), float(meta["t"]),
                      cfg, the_task)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: inconsistent model contents ({exc})") from exc




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
    :meth:`run_many` (parallel processes). After :meth:`close` the directory may hold
    another program: running is refused.

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
    slot: ProjectDirectory | None = field(default=None, repr=False, compare=False)
    closed: bool = field(default=False, init=False, compare=False)

    def close(self):
        """Release the project directory to other builds (a cached directory stays on disk)."""
        self.closed = True
        if self.slot is not None:
            self.slot.close()

    def _check_open(self):
        if self.closed:
            raise RuntimeError(f"the standalone project in {self.directory} is closed: its directory may now "
                               "hold another program; build it again with build_project()")

    def __enter__(self) -> "StandaloneProject":
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def binary(self) -> Path:
        return Path(self.directory) / "main"

    def _args(self, values: dict) -> list:
        args = []
        for key, value in (values or {}).items():
            if key not in self.settable:
                raise KeyError(f"cannot set {key!r}; settable: {sorted(self.settable)}")
            target, dtype, shape, unit = self.settable[key]
            if hasattr(value, "dim") and not have_same_dimensions(value, unit):
                raise DimensionMismatchError(f"{key} must be in units of {unit!r} (or SI numbers), got a value "
                                             f"in {get_unit(value.dim)!r}", value.dim)
            arr = np.asarray(value, dtype=dtype)
            shapes = [shape] + ([shape[:1]] if shape[1:] == (1,) else [])
            if arr.shape not in shapes:
                raise ValueError(f"{key} must have shape {' or '.join(map(str, shapes))}, got {arr.shape}")
            arr = np.ascontiguousarray(arr.reshape(-1))
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
            # a cached project outlives this run: its results go to the temporary folder instead
            cached = self.slot is not None and self.slot.cached
            results_directory = tempfile.mkdtemp(prefix="brianforce_results_" if cached else "results_",
                                                 dir=None if cached else self.directory)
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
        out = {k: self._read(rdir, f"state_{k}") for k in STATE_VARIABLES + ("lastspike",)}
        out["phi"] = self._read(rdir, "state_phi").reshape(self.n_neurons, self.n_outputs)
        return out

    def run(self, results_directory=None, **values) -> StandaloneRun:
        """Run the compiled program once (no recompilation).

        Parameters
        ----------
        results_directory : path, optional
            Where the program writes its results (default: a new sub-directory).
        **values : array or Quantity
            New initial values, SI numbers or quantities of the variable's units, of shape (N,)
            (``v``, ``I_syn``, ``h``, ``r``, ``hr``) or (N, K) (``phi``; (N,) too when K = 1).

        Raises
        ------
        RuntimeError
            After :meth:`close`.
        """
        self._check_open()
        wall0 = time.perf_counter()
        proc, log, rdir = self._start(values, results_directory)
        return self._finish(proc, log, rdir, wall0)

    def run_many(self, values: list, processes: int = 2, results_prefix: str = "run") -> list:
        """Run the program once per entry of ``values`` (dicts as for :meth:`run`), at most
        ``processes`` at a time, each in its own results directory ``<prefix>_<k>``."""
        self._check_open()
        processes = as_count(processes, "processes", minimum=1)
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
        Project directory. By default the cached directory of this architecture
        (:mod:`brianforce.devices.cache`), held by the returned project until its
        :meth:`~StandaloneProject.close` (or the end of a ``with`` block). Re-building the same
        network into the same directory rewrites no file and recompiles nothing.
    record_dt : Quantity (second), optional
        Output sampling step, at least the model's ``dt`` and at most ``duration`` (default: the
        model's ``record_dt``).
    n_record : int, optional
        Neurons whose spikes are returned, >= 0 (default: the model's ``n_record``).
    threads : int
        OpenMP threads of the C++ program, >= 0 (0 = no OpenMP).
    """
    duration_s = as_positive_si(duration, second, "duration")
    if device not in ("cpp_standalone", "cuda_standalone"):
        raise ValueError(f"device must be 'cpp_standalone' or 'cuda_standalone', got {device!r}")
    if n_record is not None:
        n_record = as_count(n_record, "n_record")
    threads = as_count(threads, "threads")
    model = _load_model(model_path)
    rec = as_positive_si(record_dt, second, "record_dt") if record_dt is not None else float(
        model.config.get("record_dt", model.dt))
    if rec < model.dt * (1 - 1e-9):
        raise ValueError(f"record_dt ({rec!r} s) must not be shorter than the model's dt ({model.dt!r} s)")
    if duration_s < rec * (1 - 1e-9):
        raise ValueError(f"duration ({duration_s!r} s) is shorter than the output sampling step record_dt "
                         f"({rec!r} s): nothing would be recorded")
    n_rec = int(min(n_record if n_record is not None else model.config.get("n_record", 100), model.weights.n))
    key = {"device": device, "n_neurons": model.weights.n, "n_outputs": int(model.phi.shape[1]),
           "p": model.config.get("p"), "threads": int(threads)}
    slot = project_directory(directory, "force-model", key)
    directory = slot.path
    for old in Path(directory, "static_arrays").glob("init_*.dat"):
        old.unlink()  # initial values handed to earlier runs of this directory
    wall0 = time.perf_counter()
    activate(device, directory)
    try:
        if device == "cpp_standalone":
            b2.prefs.devices.cpp_standalone.openmp_threads = int(threads)
        objs = build_force_network(model.weights, model.eta, model.phi, lif=model.lif, v0=model.state["v"],
                                   dt=model.dt * second, state=model.state, lastspike=model.lastspike_rel,
                                   name=STANDALONE_PREFIX, n_synapses=synapse_capacity(
                                       model.weights.n, float(model.config.get("p", 1.0)), len(model.weights.pre)))
        zmon = StateMonitor(objs.readout, "z", record=True, dt=rec * second, when="end",
                            name=f"{STANDALONE_PREFIX}_zmon")
        smon = SpikeMonitor(objs.neurons, name=f"{STANDALONE_PREFIX}_spikes")
        net = Network(*objs.objects, zmon, smon, *cuda_clock_anchor(device, model.dt, STANDALONE_PREFIX),
                      name=f"{STANDALONE_PREFIX}_network")
        net.run(duration_s * second, namespace={})
        g, d = objs.neurons, objs.decoder
        settable = {k: (f"{g.name}.{k}", g.variables[k].dtype, (len(g),), get_unit(g.variables[k].dim))
                    for k in ("v", "I_syn", "h", "r", "hr")}
        settable["phi"] = (f"{d.name}.phi", d.variables["phi"].dtype, (len(g), objs.n_outputs),
                           get_unit(d.variables["phi"].dim))
        outputs = {"t": _array_file(zmon.variables["t"]), "z": _array_file(zmon.variables["z"]),
                   "spike_i": _array_file(smon.variables["i"]), "spike_t": _array_file(smon.variables["t"]),
                   "state_phi": _array_file(d.variables["phi"]),
                   "state_lastspike": _array_file(g.variables["lastspike"])}
        for k in STATE_VARIABLES:
            outputs[f"state_{k}"] = _array_file(g.variables[k])
        env = {k: str(v) for k, v in b2.prefs["devices.cpp_standalone.run_environment_variables"].items()}
        build(directory=directory, compile=True, run=False, with_output=False)
    except BaseException:
        slot.close()
        raise
    finally:
        restore_runtime()
    return StandaloneProject(directory, device, duration_s, model.dt, model.t0, model.weights.n, objs.n_outputs,
                             n_rec, settable, outputs, model.task, time.perf_counter() - wall0, env, slot)


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
    with build_project(model_path, duration, device, directory, record_dt=record_dt, n_record=n_record,
                       threads=threads) as project:
        return project.run(results_directory).result
