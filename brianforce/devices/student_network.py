"""A trained DePasquale student as plain Brian2 equations: closed-loop test runs on any device.

:class:`brianforce.methods.factor_student.FactorStudent` closes its learned loop in a Python
``network_operation`` (every ``dt_op``: ``y = wᵀ s``, ``z = W_outᵀ [y; 1]``,
``I_ctrl = U y + U_in u + Dale common mode``), which standalone devices silently drop.
Here the same closed loop is generated code, so a trained student runs as a
``cpp_standalone`` or Brian2CUDA ``cuda_standalone`` program (or at runtime, for comparison):

* ``factors`` (P + 1 elements per trial, clock ``dt_op``): ``y_p = Σ_j w_jp^slow τ_slow r_s,j +
  w_jp^fast τ_d r_f,j`` as a summed variable of all-to-all synapses; element P carries the
  Dale common-mode term ``Σ_j σ_j β_j s_j`` (zero without Dale's law);
* ``I_ctrl_i = Σ_p U_ip y_p`` (+ 1 V × the common mode) as a summed variable, once per ``dt_op``
  onto a group the neurons read it from; the task input ``Σ_m U_in,im u_m(t)`` comes from one
  ``TimedArray`` per input, or for many inputs from one table of every neuron's input current;
* ``z_q = Σ_p W_out,pq y_p + W_out,Pq`` summed onto an output group and monitored.

The factor and output sums are scheduled at the start of every ``dt_op`` step — when the
``network_operation`` runs — so the dynamics equal the student's own closed loop. Trials
are simulated side by side (one copy of the network per trial), each from its own
initial state.

References
----------
DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023) Neuron 111:631-649.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

import brian2 as b2
from brian2 import (DimensionMismatchError, Network, NeuronGroup, SpikeMonitor, StateMonitor, Synapses, get_unit,
                    have_same_dimensions, linked_var, second, volt)

from brianforce.checks import as_count
from brianforce.config import si_float
from brianforce.devices.activation import build_and_time, DEVICES, activate, cuda_clock_anchor, restore_runtime
from brianforce.devices.cache import project_directory
from brianforce.io import ModelFileError, load_arrays
from brianforce.memory import require_memory
from brianforce.methods.factor_student.equations import (REST_JITTER, STATE_VARIABLES, STUDENT_RESET, STUDENT_THRESHOLD,
                                                         student_equations)
from brianforce.naming import timed_table
from brianforce.seeding import check_seed, rng_for

__all__ = ["StudentNetwork", "StudentNetworkRun", "run_student_network", "run_student_cli", "STUDENT_KIND"]

STUDENT_KIND = "depasquale-student"
#: Task inputs summed in the neurons' equations (one ``TimedArray`` each) up to this many; more (e.g. the
#: reaching recipes' background input channels) come as one table of every neuron's input current.
MAX_INPUT_TERMS = 16
_PARAMS = ("tau_m", "tau_ref", "v_th", "v_reset", "tau_r", "tau_d", "tau_slow", "dt")
#: Units of the neurons' state variables (``initial_state`` takes SI numbers or quantities of these).
STATE_UNITS = {"v": volt, "I_syn": volt, "h": volt / second, "r_f": b2.Hz, "hr_f": b2.Hz / second, "r_s": b2.Hz,
               "hr_s": b2.Hz / second, "lastspike": second, "not_refractory": 1}


def _params(neuron: dict, dt: float, time_scale: float) -> dict:
    """SI parameters of a student's neurons (``StudentNeuron.si()``) and integration step ``dt``
    (s), time constants × ``time_scale`` (its period calibration,
    :meth:`FactorStudent.calibrate_period`; ``tau_ref`` in whole integration steps)."""
    from brianforce.methods.factor_student.calibration import RESCALED_TIME_CONSTANTS, rescaled_refractory

    p = {k: float(dt if k == "dt" else neuron[k]) * (time_scale if k in RESCALED_TIME_CONSTANTS else 1.0)
         for k in _PARAMS}
    p["tau_ref"] = rescaled_refractory(neuron["tau_ref"], dt, time_scale)
    return p


@dataclass
class StudentNetwork:
    """Arrays (SI floats) of a trained student, as needed to rebuild its closed loop.

    Attributes
    ----------
    U : (N, P) factor → current projection (V); U_in : (N, M) input weights (V)
    w : (2N, P) learned factor decoder over [slow; fast] features; W_out : (P + 1, Q)
    I_bias : (N,) demeaned bias (V); signs : (N,) ±1 (Dale) or 0; dale_beta : (2N,) (V)
    fixed_i, fixed_j, fixed_w : fixed synapses post ← pre (V·s)
    params : dict of SI floats ``tau_m, tau_ref, v_th, v_reset, tau_r, tau_d, tau_slow, dt``
    dt_op : float, the task's sample interval (s)
    rest : dict or None
        Trial tasks: the rest state every trial starts from (``FactorStudent.fit(rest_step=...)``).
    """

    U: np.ndarray
    U_in: np.ndarray
    w: np.ndarray
    W_out: np.ndarray
    I_bias: np.ndarray
    signs: np.ndarray
    dale_beta: np.ndarray
    fixed_i: np.ndarray
    fixed_j: np.ndarray
    fixed_w: np.ndarray
    params: dict
    dt_op: float
    rest: dict | None = None

    @property
    def n_neurons(self) -> int:
        return self.U.shape[0]

    @classmethod
    def from_student(cls, student) -> "StudentNetwork":
        """From a fitted :class:`~brianforce.methods.factor_student.FactorStudent`."""
        a = student.arrays()
        return cls(a["U"], a["U_in"], a["w"], a["W_out"], a["I_bias"], a["signs"], a["dale_beta"],
                   a["fixed_i"], a["fixed_j"], a["fixed_w"],
                   _params(student.neuron.si(), student.dt, student.time_scale_),
                   float(student.dt_op_), _rest(a))

    @classmethod
    def load(cls, path) -> "StudentNetwork":
        """From ``network.npz`` written by ``brianforce train models/depasquale_*.toml``."""
        return cls._load(path)[0]

    @classmethod
    def _load(cls, path) -> tuple:
        """``(StudentNetwork, metadata)`` of a saved student (the file is read once)."""
        from brianforce.methods.factor_student.params import DEFAULT_DT, check_quantity, recipe_student_kwargs

        arrays, meta = load_arrays(path, kind=STUDENT_KIND)
        try:
            rec = meta["recipe"]
            # the recipe driver's own key (brianforce.experiments.depasquale) is not the student's
            sec = {k: v for k, v in rec.get("student", {}).items() if k != "reset_trials"}
            kw = recipe_student_kwargs(sec)
            dt = check_quantity(kw.get("dt", DEFAULT_DT), second, "[student] dt")
            a = {k[len("student_"):]: v for k, v in arrays.items() if k.startswith("student_")}
            net = cls(a["U"], a["U_in"], a["w"], a["W_out"], a["I_bias"], a["signs"], a["dale_beta"],
                      a["fixed_i"], a["fixed_j"], a["fixed_w"],
                      _params(kw["neuron"].si(), dt, float(a.get("time_scale", 1.0))),
                      si_float(rec["task"].get("dt", "1 ms")), _rest(a))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{path}: inconsistent student model contents ({exc})") from exc
        return net, meta


def _rest(arrays: dict) -> dict | None:
    rest = {k: np.asarray(arrays[f"rest_{k}"], float) for k in STATE_VARIABLES if f"rest_{k}" in arrays}
    return rest if len(rest) == len(STATE_VARIABLES) else None


@dataclass
class StudentNetworkRun:
    """Closed-loop trials run by :func:`run_student_network`.

    outputs : (B, T, Q) output sampled at the start of every ``dt_op`` step (like
    ``FactorStudent.predict``); factors : (B, T, P); spike_trial, spike_i, spike_t (s from the
    run start); wall_time : float (s; standalone: the program's run time); compile_time : float;
    rates : (B, T, N) fast filtered spike trains r_f (Hz) sampled with the outputs, or None;
    final_state : the neurons' state at the end, ``{name: (B, N)}`` for ``v, I_syn, h, r_f, hr_f,
    r_s, hr_s`` (SI), ``lastspike`` (s, relative to the end of the run) and ``not_refractory``.
    """

    outputs: np.ndarray
    factors: np.ndarray
    spike_trial: np.ndarray
    spike_i: np.ndarray
    spike_t: np.ndarray
    wall_time: float
    compile_time: float
    rates: np.ndarray | None = None
    final_state: dict | None = None


def _initial_state(net: StudentNetwork, B: int, initial_state, seed):
    N = net.n_neurons
    p = net.params
    state = {k: np.zeros((B, N)) for k in STATE_VARIABLES}
    rng = rng_for(seed, "student-network-initial")
    if net.rest is not None:     # as FactorStudent: every trial from rest, ±1 mV jitter of v
        for k, v in net.rest.items():
            state[k] = np.tile(v, (B, 1))
        state["v"] = np.minimum(state["v"] + rng.uniform(-REST_JITTER, REST_JITTER, (B, N)), p["v_th"] - 1e-4)
    else:
        state["v"] = p["v_reset"] + (p["v_th"] - p["v_reset"]) * rng.random((B, N))
    lastspike = np.full((B, N), -1e4)
    not_ref = np.ones((B, N), dtype=bool)
    if initial_state is not None:
        if not isinstance(initial_state, dict):
            raise TypeError(f"initial_state must be a dict of state variables, got {initial_state!r}")
        for k, v in initial_state.items():
            if k not in STATE_UNITS:
                raise ValueError(f"unknown state variable {k!r} in initial_state; known: {sorted(STATE_UNITS)}")
            unit = STATE_UNITS[k]
            if hasattr(v, "dim") and not have_same_dimensions(v, unit):
                raise DimensionMismatchError(f"initial_state[{k!r}] must be in units of {get_unit(unit)!r} "
                                             f"(or SI numbers), got {v!r}", v.dim)
            try:
                arr = np.broadcast_to(np.asarray(v), (B, N))
                finite = np.all(np.isfinite(arr.astype(float)))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"initial_state[{k!r}] must be numbers of shape ({N},) or ({B}, {N}), "
                                 f"got {v!r}") from exc
            if not finite:
                raise ValueError(f"initial_state[{k!r}] must be finite, got {v!r}")
            if k == "lastspike":
                lastspike = np.array(arr, dtype=float)
            elif k == "not_refractory":
                not_ref = np.array(arr, dtype=bool)
            else:
                state[k] = np.array(arr, dtype=float)
    return state, lastspike, not_ref


def run_student_network(net: StudentNetwork, inputs, device: str = "runtime", directory=None, *,
                        initial_state: dict | None = None, seed: int = 0, record_spikes: bool = True,
                        record_rates: bool = False, threads: int = 0) -> StudentNetworkRun:
    """Run closed-loop trials of a trained student as generated code.

    Parameters
    ----------
    net : StudentNetwork
    inputs : array (B, T, M)
        Task input per trial, one value per ``dt_op`` (B >= 1 trials of T >= 1 steps).
    device : {'runtime', 'cpp_standalone', 'cuda_standalone'}
        ``'cuda_standalone'`` needs Brian2CUDA (``pip install 'brianforce[cuda]'``, a CUDA
        toolkit and a GPU; see docs/standalone.md), else an ``ImportError`` says how to install
        it. The GPU sums the factors, outputs and synaptic input with atomic additions in no
        fixed order, so results equal the other devices' to round-off, not bit for bit (a
        chaotic network's spikes drift apart over long runs); its spikes are returned sorted
        by time, then trial and neuron, as on the other devices.
    directory : path, optional
        Standalone project directory (default: the cached project of this architecture,
        :mod:`brianforce.devices.cache`).
    initial_state : dict, optional
        Start values of ``v, I_syn, h, r_f, hr_f, r_s, hr_s`` (finite SI numbers or quantities of
        their units, :data:`STATE_UNITS`; shape (N,) or (B, N)), ``lastspike`` (s, relative to the
        run start) and ``not_refractory``; default: the
        student's rest state with ±1 mV jitter of ``v`` (trial tasks trained with a rest state,
        as ``FactorStudent.predict``), else ``v`` uniform in [v_reset, v_th) from ``seed`` and
        the other variables zero.
    seed : int
    record_spikes, record_rates : bool
        Record the spikes; the fast filtered spike trains with the outputs (B·T·N values).
    threads : int
        OpenMP threads (>= 0) of the ``cpp_standalone`` program (ignored under ``cuda_standalone``:
        Brian2CUDA has no OpenMP).
    """
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    seed = check_seed(seed)
    threads = as_count(threads, "threads")
    inputs = np.asarray(inputs, dtype=float)
    if inputs.ndim == 2:
        inputs = inputs[None]
    M = net.U_in.shape[1]
    if inputs.ndim != 3 or inputs.shape[2] != M:
        raise ValueError(f"inputs must have shape (n_trials, T, {M}), got {inputs.shape}")
    if not np.all(np.isfinite(inputs)):
        raise ValueError("inputs contain NaN or Inf")
    B, T, _ = inputs.shape
    if B < 1 or T < 1:
        raise ValueError(f"inputs must hold at least one trial of at least one step, got shape {inputs.shape} "
                         "(n_trials, T, n_inputs)")
    N, P = net.U.shape
    Q = net.W_out.shape[1]
    p = net.params
    state, lastspike, not_ref = _initial_state(net, B, initial_state, seed)
    # what grows with trials x neurons x steps, in numpy, in its file and in the program
    require_memory({"input current table": 0 if M <= MAX_INPUT_TERMS else 3 * 8 * B * N * T,
                    "recorded rates": 3 * 8 * B * N * T if record_rates else 0},
                   f"running {B} trials of a {N}-neuron student over {T} steps")
    standalone = device != "runtime"
    slot = None
    if standalone:
        key = {"device": device, "n_neurons": N, "n_factors": P, "n_outputs": Q, "n_inputs": M, "n_trials": B,
               "n_steps": T, "n_fixed": len(net.fixed_i), "record_spikes": bool(record_spikes),
               "record_rates": bool(record_rates),
               "threads": int(threads), "dt": float(p["dt"]), "dt_op": float(net.dt_op)}
        slot = project_directory(directory, "student-network", key)
    directory = slot.path if standalone else None
    wall0 = time.perf_counter()
    activate(device, directory)
    try:
        if device == "cpp_standalone":
            b2.prefs.devices.cpp_standalone.openmp_threads = int(threads)
        ns = {"v_th_": p["v_th"] * volt}
        terms = M <= MAX_INPUT_TERMS           # else one table of every neuron's input current
        if terms:
            current = " + ".join(f"Uin{m}*u{m}(t, trial)" for m in range(M)) or "0*volt"
            extra = "trial : integer (constant)\n" + "\n".join(f"Uin{m} : volt (constant)" for m in range(M))
            for m in range(M):
                ns[f"u{m}"] = timed_table(np.ascontiguousarray(inputs[:, :, m].T), net.dt_op * second, f"stnet_u{m}")
        else:     # (T, B·N): U_in u(t) of every trial, as the student's operation computes it
            current, extra = "I_ext(t, i)", ""
            table = np.stack([inputs[b] @ net.U_in.T for b in range(B)], axis=1).reshape(T, B * N)
            ns["I_ext"] = timed_table(table * volt, net.dt_op * second, "stnet_I_ext")
        linked = device != "cuda_standalone"
        eqs = student_equations(task_input=True, linked_control=linked) + f"\nI_in = {current} : volt\n" + extra
        dt = p["dt"] * second
        op = net.dt_op * second
        G = NeuronGroup(B * N, eqs, threshold=STUDENT_THRESHOLD, reset=STUDENT_RESET, refractory=p["tau_ref"] * second,
                        method="euler", dt=dt, namespace=ns, name="stnet_neurons")
        for k in ("tau_m", "tau_r", "tau_d", "tau_slow"):
            setattr(G, k, p[k] * second)
        G.v_reset_ = p["v_reset"] * volt
        G.I_bias = np.tile(net.I_bias, B) * volt
        if terms:
            G.trial = np.repeat(np.arange(B), N)
            for m in range(M):
                setattr(G, f"Uin{m}", np.tile(net.U_in[:, m], B) * volt)
        for k in STATE_VARIABLES:
            setattr(G, k, state[k].reshape(-1) * STATE_UNITS[k])
        G.lastspike = lastspike.reshape(-1) * second
        G.not_refractory = not_ref.reshape(-1)
        offs = np.repeat(np.arange(B) * N, len(net.fixed_i))
        S = Synapses(G, G, "w : volt*second (constant)", on_pre="h_post += w/(tau_r_post*tau_d_post)", dt=dt,
                     name="stnet_fixed")
        S.connect(i=np.tile(net.fixed_j, B) + offs, j=np.tile(net.fixed_i, B) + offs)
        S.w = np.tile(net.fixed_w, B) * volt * second
        # factors: P learned + 1 Dale common-mode element per trial
        F = NeuronGroup(B * (P + 1), "y : 1", dt=op, name="stnet_factors")
        ws = np.concatenate([net.w[:N], (net.signs * net.dale_beta[:N])[:, None]], 1)   # (N, P+1)
        wf = np.concatenate([net.w[N:], (net.signs * net.dale_beta[N:])[:, None]], 1)
        jj, pp = np.meshgrid(np.arange(N), np.arange(P + 1), indexing="ij")
        pre = (np.arange(B)[:, None] * N + jj.reshape(-1)[None]).reshape(-1)
        post = (np.arange(B)[:, None] * (P + 1) + pp.reshape(-1)[None]).reshape(-1)
        D = Synapses(G, F, "ws : 1 (constant)\nwf : 1 (constant)\n"
                     "y_post = ws*r_s_pre*tau_slow_pre + wf*r_f_pre*tau_d_pre : 1 (summed)",
                     dt=op, name="stnet_factor_decoder")
        D.connect(i=pre, j=post)
        D.ws = np.tile(ws.reshape(-1), B)
        D.wf = np.tile(wf.reshape(-1), B)
        Uf = np.concatenate([net.U, np.ones((N, 1))], 1)                                  # (N, P+1), V
        # I_ctrl changes with y only: summed once per dt_op onto a group on that clock (a summed variable is
        # updated on its target's clock), read by the neurons as a linked variable (held in between, as the
        # student's operation sets it). Brian2CUDA: summed onto the neurons every dt, the layout its GPU runs
        # were checked with.
        if linked:
            C = NeuronGroup(B * N, "I_c : volt", dt=op, name="stnet_control")
            G.I_ctrl = linked_var(C, "I_c")
        E = Synapses(F, C if linked else G, "u_w : volt (constant)\n"
                     + ("I_c_post" if linked else "I_ctrl_post") + " = u_w*y_pre : volt (summed)",
                     dt=op if linked else dt, name="stnet_factor_input")
        E.connect(i=post, j=pre)
        E.u_w = np.tile(Uf.reshape(-1), B) * volt
        O = NeuronGroup(B * Q, "z_sum : 1\nz_bias : 1 (constant)\nz = z_sum + z_bias : 1", dt=op,
                        name="stnet_outputs")
        O.z_bias = np.tile(net.W_out[P], B)
        pq, qq = np.meshgrid(np.arange(P), np.arange(Q), indexing="ij")
        R = Synapses(F, O, "wo : 1 (constant)\nz_sum_post = wo*y_pre : 1 (summed)", dt=op, name="stnet_readout")
        R.connect(i=(np.arange(B)[:, None] * (P + 1) + pq.reshape(-1)[None]).reshape(-1),
                  j=(np.arange(B)[:, None] * Q + qq.reshape(-1)[None]).reshape(-1))
        R.wo = np.tile(net.W_out[:P].reshape(-1), B)
        # the student's network_operation runs at the start of every dt_op step
        for order, syn in ((0, D), (1, R)) + (((1, E),) if linked else ()):
            for upd in syn.summed_updaters.values():
                upd.when, upd.order = "start", order
        zmon = StateMonitor(O, "z", record=True, when="start", order=2, name="stnet_zmon")
        ymon = StateMonitor(F, "y", record=True, when="start", order=2, name="stnet_ymon")
        objs = [G, S, F, D, E, O, R, zmon, ymon] + ([C] if linked else [])
        if record_rates:
            rmon = StateMonitor(G, "r_f", record=True, dt=op, when="start", order=2, name="stnet_rmon")
            objs.append(rmon)
        if record_spikes:
            smon = SpikeMonitor(G, name="stnet_spikes")
            objs.append(smon)
        netw = Network(*objs, *cuda_clock_anchor(device, p["dt"], "stnet"), name="stnet_network")
        netw.run(T * op, namespace={})
        if standalone:
            timings = build_and_time(directory, wall0)
            run_s, compile_s = timings["run_s"], timings["compile_s"]
        else:
            run_s, compile_s = time.perf_counter() - wall0, 0.0
        z = np.asarray(zmon.z).reshape(B, Q, -1).transpose(0, 2, 1)[:, :T].copy()
        y = np.asarray(ymon.y).reshape(B, P + 1, -1).transpose(0, 2, 1)[:, :T, :P].copy()
        rates = (np.asarray(rmon.r_f_).reshape(B, N, -1).transpose(0, 2, 1)[:, :T].copy()
                 if record_rates else None)
        final = {k: np.asarray(getattr(G, k + "_")[:]).reshape(B, N).copy() for k in STATE_VARIABLES}
        final["lastspike"] = np.asarray(G.lastspike_[:]).reshape(B, N) - T * net.dt_op
        final["not_refractory"] = np.asarray(G.not_refractory[:]).reshape(B, N).copy()
        if record_spikes:
            idx = np.asarray(smon.i[:]).astype(int)
            stt = np.asarray(smon.t_[:]).copy()
            if device == "cuda_standalone":   # Brian2CUDA sorts a step's spikes by time only
                order = np.lexsort((idx, stt))
                idx, stt = idx[order], stt[order]
            st, si = idx // N, idx % N
        else:
            st = si = np.zeros(0, dtype=int)
            stt = np.zeros(0)
    finally:
        if standalone:
            restore_runtime()
            slot.close()
    if not np.all(np.isfinite(z)):
        raise FloatingPointError("student output became NaN/Inf")
    return StudentNetworkRun(z, y, st, si, stt, run_s, compile_s, rates, final)


def run_student_cli(model, *, device, out, n_trials=20, seed=0, **_) -> dict:
    """``brianforce run network.npz``: closed-loop test trials of a saved DePasquale student.

    The trials are drawn from the recipe's task (stored in the model file) with ``seed``;
    each starts from a seeded random state. Writes ``summary.json`` (normalised error,
    decision accuracy for decision tasks, mean rate), ``output.npz`` and ``output.png``.
    """
    from pathlib import Path

    from brianforce.analysis.population import normalised_error
    from brianforce.io import write_run_outputs
    from brianforce.tasks.depasquale import TASKS, decision_accuracy

    out = Path(out)
    net, meta = StudentNetwork._load(model)
    rec = meta["recipe"]
    task_sec = dict(rec["task"])
    dt = si_float(task_sec.pop("dt", "1 ms"))
    for k in ("n_train", "n_test", "n_cue", "n_student_train", "n_test_repeats"):   # the driver's, not the task's
        task_sec.pop(k, None)
    name = rec["experiment"]["task"]
    trials = TASKS[name](int(n_trials), dt, seed=int(seed) + 1000,
                         **{k: (si_float(v) if isinstance(v, str) else v) for k, v in task_sec.items()})
    run = run_student_network(net, trials.inputs, device, out / "project" if device != "runtime" else None,
                              seed=seed)
    acc = decision_accuracy(run.outputs, trials)
    duration = trials.inputs.shape[1] * net.dt_op
    summary = {"model": str(model), "kind": STUDENT_KIND, "device": device, "task": name,
               "n_trials": int(n_trials), "seed": int(seed),
               "normalised_error": float(normalised_error(run.outputs.reshape(-1, run.outputs.shape[2]),
                                                          trials.targets.reshape(-1, trials.targets.shape[2]))),
               "decision_accuracy": None if acc is None else float(acc),
               "mean_rate_hz": float(len(run.spike_t) / (net.n_neurons * int(n_trials) * duration)),
               "wall_time_s": {"compile": run.compile_time, "run": run.wall_time}}
    t = np.arange(run.outputs.shape[1]) * net.dt_op

    def draw(ax):
        for k in range(min(int(n_trials), 4)):
            ax.plot(t, run.outputs[k, :, 0], lw=1, color=f"C{k}", label=f"trial {k}")
            ax.plot(t, trials.targets[k, :, 0], "--", lw=0.8, color=f"C{k}")
        ax.set_xlabel("time in trial (s)")
        ax.set_ylabel("output (dashed: target)")
        ax.legend(loc="upper right", fontsize=7)

    return write_run_outputs(out, summary, dict(outputs=run.outputs, targets=trials.targets, labels=trials.labels),
                             draw, f"{Path(model).name} ({name}) on {device}")
