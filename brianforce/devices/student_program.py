"""A factor student's training as one generated program: every training trial, RLS in C++.

:func:`run_student_program` runs the trials of :meth:`FactorStudent.fit
<brianforce.methods.factor_student.FactorStudent.fit>` — teacher-forced trials, the mean-input
trials and the bias that removes their mean, settling trials (the last one storing the rest
state), then the RLS trials — as a single ``cpp_standalone`` program. The student's
``network_operation`` (every ``dt_op``: features, learned factors and output, both RLS readouts,
the control current) becomes a C++ user function (``student_step.cpp``), and everything the
runtime path decides between trials or draws from its generators becomes a table of the
operation index, drawn in numpy from the same generators in the same order:

* the phase, target row and input row of every operation;
* the random RLS update times (``update_times = "random"``) and the Ornstein-Uhlenbeck
  perturbation of the drive (``forcing_noise``);
* the operation that stores the rest state and the jittered membrane potentials of every trial
  that starts from it (``rest_step``).

The learned readouts, the bias and the final state equal the runtime path's to round-off. Dale's
law is not available here (its constrained re-solves run in numpy). A divergence (non-finite
factors, or a trial's factor nMSE above the threshold) freezes both readouts; the caller finds
the trial in the recorded factors.

References
----------
DePasquale B, Churchland MM, Abbott LF (2016) arXiv:1601.07620.
Stimberg M, Brette R, Goodman DFM (2019) Brian 2, an intuitive and efficient neural simulator.
eLife 8:e47314 (standalone code generation).
"""
from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass

import numpy as np

import brian2 as b2
from brian2 import Function, Network, NeuronGroup, StateMonitor, Synapses, second, volt

from brianforce.devices.activation import activate, build_and_time, restore_runtime
from brianforce.devices.cache import project_directory
from brianforce.methods.factor_student.equations import REST_JITTER, STATE_VARIABLES
from brianforce.learning.codegen import read_dumped_P, read_source, rls_threads_for
from brianforce.memory import require_memory

__all__ = ["StudentPlan", "StudentProgramRun", "plan_student_training", "run_student_program", "PHASES"]

#: Phase codes of the operation table.
PHASES = {"forced": 0, "mean": 1, "rls": 2, "rls-forced": 3}
_UNITS = {"v": "volt", "I_syn": "volt", "h": "(volt/second)", "r_f": "hertz", "hr_f": "(hertz/second)",
          "r_s": "hertz", "hr_s": "(hertz/second)"}


@dataclass
class StudentPlan:
    """The operations of one training run as tables (one entry per operation, every ``dt_op``)."""

    phase: np.ndarray          # (G,) int32, PHASES
    row: np.ndarray            # (G,) int32, row of the flattened (n_trials * T) target tables
    update: np.ndarray         # (G,) int32, 1 where an RLS operation updates the readouts
    perturb_row: np.ndarray    # (G,) int32, row of ``perturb`` added to the drive, or -1
    perturb: np.ndarray        # (R, P) forcing-noise perturbations of the drive
    restore: np.ndarray        # (G,) int32, row of ``jitter`` where a trial starts from rest, or -1
    jitter: np.ndarray         # (S, N) membrane jitter of those starts (V)
    snapshot: np.ndarray       # (G,) int32, 1 where the rest state is stored
    trial_end: np.ndarray      # (G,) int32, RLS trial ending at this operation, or -1
    denominators: np.ndarray   # (n_rls,) denominators of each RLS trial's factor nMSE
    bias_at: int               # first operation with the demeaned bias
    rls_start: int             # first operation of the last RLS trial
    eps: np.ndarray            # (P,) the perturbation's state after the last operation
    trials: list               # (phase, trial row) of every trial, in order
    generators: tuple          # the update-time, forcing-noise and rest-jitter generators after the last draw


def plan_student_training(schedule, n_trials: int, T: int, factor_targets, factor_std, dt_op: float,
                          rest_step, scale: float, n_neurons: int, sched_rng, noise_rng, rest_rng,
                          eps) -> StudentPlan:
    """Tables of every training operation, drawn as the runtime path draws them.

    ``factor_targets`` (n_trials, T, P); ``scale`` the divergence scale of the factors;
    ``sched_rng``, ``noise_rng``, ``rest_rng`` and ``eps`` are the student loop's update-time,
    forcing-noise and rest-jitter generators and perturbation state. Copies of the generators are
    drawn from (the plan keeps them, advanced past the last draw); the given ones are left as they are.
    """
    s = schedule
    sched_rng, noise_rng, rest_rng = copy.deepcopy((sched_rng, noise_rng, rest_rng))
    times = s.si()
    P = factor_targets.shape[2]
    trials = ([("forced", None)] * s.n_forced + [("mean", None)] * s.n_mean + [("forced", None)] * s.n_forced
              + [("rls", r) for r in range(s.n_rls)])
    G = len(trials) * T
    phase = np.zeros(G, np.int32)
    row = np.zeros(G, np.int32)
    update = np.zeros(G, np.int32)
    perturb_row = np.full(G, -1, np.int32)
    restore = np.full(G, -1, np.int32)
    snapshot = np.zeros(G, np.int32)
    trial_end = np.full(G, -1, np.int32)
    denominators = np.zeros(s.n_rls)
    perturb, jitter, order = [], [], []
    a = np.exp(-dt_op / times["forcing_noise_tau"])
    every = max(1, int(round(times["update_interval"] / dt_op)))
    settle_last = s.n_forced * 2 + s.n_mean - 1
    for c, (name, r) in enumerate(trials):
        j = c % n_trials
        ops = slice(c * T, (c + 1) * T)
        row[ops] = j * T + np.arange(T)
        order.append((name, j))
        if name != "rls":
            phase[ops] = PHASES[name]
            if c == settle_last and rest_step is not None:
                snapshot[c * T + int(rest_step)] = 1
            continue
        forced = s.teacher_forced_rls and r < s.n_rls - s.n_closed_loop
        phase[ops] = PHASES["rls-forced" if forced else "rls"]
        if rest_step is not None:
            restore[c * T] = len(jitter)
            jitter.append(rest_rng.uniform(-REST_JITTER, REST_JITTER, n_neurons))
        for k in range(T):
            if s.update_times == "random":
                update[c * T + k] = sched_rng.random() < dt_op / times["update_interval"]
            else:
                update[c * T + k] = k % every == 0
            if s.forcing_noise > 0:
                eps = a * eps + np.sqrt(1 - a * a) * noise_rng.standard_normal(P)
                perturb_row[c * T + k] = len(perturb)
                perturb.append(s.forcing_noise * factor_std * eps)
        trial_end[(c + 1) * T - 1] = r
        den = np.sum(factor_targets[j] ** 2)
        denominators[r] = den if den > 0 else factor_targets[j].size * scale ** 2
    return StudentPlan(phase, row, update, perturb_row, np.asarray(perturb).reshape(-1, P), restore,
                       np.asarray(jitter).reshape(-1, n_neurons), snapshot, trial_end, denominators,
                       (s.n_forced + s.n_mean) * T, G - T, eps, order, (sched_rng, noise_rng, rest_rng))


@dataclass
class StudentProgramRun:
    """What :func:`run_student_program` returns (SI floats)."""

    w: np.ndarray              # (2N, P) factor readout
    P: np.ndarray              # (2N, 2N) its inverse correlation matrix
    W_out: np.ndarray          # (P + 1, Q) output readout
    P_out: np.ndarray          # (P + 1, P + 1)
    mean_sum: np.ndarray       # (N,) summed I_syn + U y of the mean trials (V)
    rate_sum: np.ndarray       # (N,) summed r_f of the mean trials (Hz)
    n_mean: int                # mean samples
    rest: dict | None          # stored rest state
    state: dict                # final neuron state (``STATE_VARIABLES``, ``I_ctrl``, ``I_bias``, ``lastspike``
                               # relative to the end of the run, ``not_refractory``)
    factors: np.ndarray        # (n_rls, T, P) learned factors of every RLS trial
    n_updates: int
    n_spikes_last: int         # spikes in the last RLS trial
    duration: float            # simulated time (s)
    timings: dict              # compile_s, run_s


def _function(name, sources, args, shared):
    f = Function(pyfunc=None, arg_units=[u for _, u in args], return_unit=1, arg_types=[t for t, _ in args],
                 return_type="float", stateless=False, arg_names=[f"a{m}" for m in range(len(args))],
                 auto_vectorise=False)
    headers = ["<vector>", "<cmath>", "<fstream>", "<thread>", "<algorithm>"]
    f.implementations.add_implementation("cpp", "".join(read_source(x) for x in sources), name=name,
                                         namespace=dict(shared), compiler_kwds={"headers": headers})
    return f


def run_student_program(structure, neuron: dict, schedule, plan: StudentPlan, inputs, factor_targets,
                        output_targets, *, dt: float, dt_op: float, v0, threshold: float, directory=None,
                        threads: int = 0, rls_threads: int | None = None, prefix: str = "bfst") -> StudentProgramRun:
    """Run the training operations of ``plan`` in one ``cpp_standalone`` program.

    Parameters
    ----------
    structure : StudentStructure
    neuron : dict          ``StudentNeuron.si()``
    schedule : StudentSchedule
    plan : StudentPlan
    inputs, factor_targets, output_targets : arrays (n_trials, T, ·)
    dt, dt_op : float      integration step and sample interval (s)
    v0 : array (N,)        initial membrane potentials (V)
    threshold : float      divergence threshold of a trial's factor nMSE
    directory : path, optional
        Project directory (default: the cached project of this architecture).
    threads, rls_threads : int
        OpenMP threads of the program; threads of the pass over the factor readout's ``P``
        (default: one per 1000 features; the number changes the speed, not the result).
    """
    from brianforce.methods.factor_student.equations import STUDENT_RESET, STUDENT_THRESHOLD, student_equations

    U, U_in = structure.U, structure.U_in
    N, P = U.shape
    M, Q = U_in.shape[1], output_targets.shape[2]
    n_trials, T = inputs.shape[:2]
    G = plan.phase.size
    par = np.array([N, P, Q, M, schedule.alpha, neuron["v_th"], neuron["bias"], G, plan.bias_at, threshold, dt_op,
                    plan.rls_start, rls_threads_for(rls_threads, 2 * N)], dtype=float)
    shared = {
        "_bf_st_par": par, "_bf_st_stat": np.zeros(8), "_bf_st_s": np.zeros(2 * N), "_bf_st_state": np.zeros(7 * N),
        "_bf_st_ctrl": np.zeros(N), "_bf_st_bias": np.zeros(N), "_bf_st_rest": np.zeros(7 * N),
        "_bf_st_mean": np.zeros(2 * N), "_bf_st_y": np.zeros(P), "_bf_st_count": np.zeros(N),
        "_bf_st_phase": plan.phase, "_bf_st_row": plan.row, "_bf_st_update": plan.update,
        "_bf_st_perturb_row": plan.perturb_row, "_bf_st_perturb": np.ascontiguousarray(plan.perturb).reshape(-1)
        if plan.perturb.size else np.zeros(P),
        "_bf_st_restore": plan.restore, "_bf_st_jitter": plan.jitter.reshape(-1) if plan.jitter.size else np.zeros(N),
        "_bf_st_snap": plan.snapshot, "_bf_st_trial_end": plan.trial_end, "_bf_st_den": plan.denominators,
        "_bf_st_F": np.ascontiguousarray(factor_targets, float).reshape(-1),
        "_bf_st_O": np.ascontiguousarray(output_targets, float).reshape(-1),
        "_bf_st_E": np.ascontiguousarray(inputs, float).reshape(-1),
        "_bf_st_U": np.ascontiguousarray(U, float).reshape(-1),
        "_bf_st_Uin": np.ascontiguousarray(U_in, float).reshape(-1)}
    tables = sum(v.nbytes for k, v in shared.items() if k in ("_bf_st_E", "_bf_st_F", "_bf_st_O", "_bf_st_perturb",
                                                                  "_bf_st_jitter"))
    # the tables in numpy, in their files and in the program; P in the program, its file and the runtime copy
    require_memory({"trial tables": 3 * tables, "P": 3 * 8 * (2 * N) ** 2, "operation tables": 3 * 28 * G},
                   f"training a student of {N} neurons over {G} operations as a program")
    fl = ("float", 1)
    collect = _function("bf_st_collect", ["student_collect.cpp"], [("integer", 1)] + [fl] * 11, shared)
    step = _function("bf_st_step", ["rls_kernel.cpp", "student_step.cpp"], [fl], shared)
    get = _function("bf_st_get", ["student_get.cpp"], [("integer", 1), ("integer", 1), fl], shared)
    restore = _function("bf_st_restore", ["student_restore.cpp"], [("integer", 1), ("integer", 1), fl, fl], shared)
    ns = {"bf_st_collect": collect, "bf_st_step": step, "bf_st_get": get, "bf_st_restore": restore,
          "v_th_": neuron["v_th"] * volt}
    key = {"name": prefix, "n": N, "factors": P, "outputs": Q, "inputs": M, "operations": G,
           "rows": n_trials * T, "perturb": int(plan.perturb.shape[0]), "jitter": int(plan.jitter.shape[0]),
           "rls_trials": int(plan.denominators.size), "fixed": int(len(structure.fixed_i)), "dt": dt,
           "dt_op": dt_op, "threads": int(threads)}
    slot = project_directory(directory, "student-training", key)
    wall0 = time.perf_counter()
    activate("cpp_standalone", slot.path)
    try:
        b2.prefs.devices.cpp_standalone.openmp_threads = int(threads)
        op = dt_op * second
        # bf_spikes counts each neuron's spikes (those of the last RLS trial give its mean rate)
        neurons = NeuronGroup(N, student_equations() + "\nbf_tmp : 1\nbf_spikes : 1", threshold=STUDENT_THRESHOLD,
                              reset=STUDENT_RESET + "\nbf_spikes += 1", refractory="tau_ref_", method="euler",
                              dt=dt * second, name=f"{prefix}_neurons", namespace=ns)
        for k in ("tau_m", "tau_r", "tau_d", "tau_slow", "tau_ref"):
            setattr(neurons, "tau_ref_" if k == "tau_ref" else k, neuron[k] * second)
        neurons.v_reset_ = neuron["v_reset"] * volt
        neurons.v = np.asarray(v0) * volt
        neurons.I_bias = neuron["bias"] * volt
        fixed = Synapses(neurons, neurons, "w : volt*second (constant)", on_pre="h_post += w/(tau_r_post*tau_d_post)",
                         dt=dt * second, name=f"{prefix}_fixed")
        fixed.connect(i=structure.fixed_j, j=structure.fixed_i)
        fixed.w = structure.fixed_w * volt * second
        kw = dict(dt=op, when="start")
        # refractoriness ends first: Brian2 only writes ``v`` (``unless refractory``) of non-refractory neurons
        lines = ["lastspike = bf_st_restore(i, 7, lastspike/second, t/second)*second",
                 "not_refractory = bf_st_restore(i, 8, 1.0*int(not_refractory), t/second) > 0.5"]
        lines += [f"{k} = bf_st_restore(i, {n}, {k}/{_UNITS[k]}, t/second)*{_UNITS[k]}"
                  for n, k in enumerate(STATE_VARIABLES)]
        # every dt_op, at the start of the step: restore (trial starts), collect, the operation, write back
        neurons.run_regularly("\n".join(lines), order=0, name=f"{prefix}_restore", **kw)
        neurons.run_regularly("bf_tmp = bf_st_collect(i, v/volt, I_syn/volt, h*second/volt, r_f/hertz, "
                              "hr_f*second/hertz, r_s/hertz, hr_s*second/hertz, tau_slow/second, tau_d/second, "
                              "bf_spikes, t/second)", order=1, name=f"{prefix}_collect", **kw)
        driver = NeuronGroup(1, "bf_tmp : 1", dt=op, name=f"{prefix}_driver", namespace=ns)
        driver.run_regularly("bf_tmp = bf_st_step(t/second)", order=2, name=f"{prefix}_step", **kw)
        neurons.run_regularly("I_ctrl = bf_st_get(i, 0, I_ctrl/volt)*volt\nI_bias = bf_st_get(i, 1, I_bias/volt)*volt",
                              order=3, name=f"{prefix}_control", **kw)
        factors = NeuronGroup(P, "y : 1", dt=op, name=f"{prefix}_factors", namespace=ns)
        factors.run_regularly("y = bf_st_get(i, 2, y)", order=3, name=f"{prefix}_factor_values", **kw)
        ymon = StateMonitor(factors, "y", record=True, dt=op, when="start", order=4, name=f"{prefix}_ymon")
        net = Network(neurons, fixed, driver, factors, ymon, name=f"{prefix}_network")
        net.run(G * op, namespace=ns)
        timings = build_and_time(slot.path, wall0)
        y = np.asarray(ymon.y).T                                          # (G, P)
        state = {k: np.asarray(getattr(neurons, k + "_")[:]).copy()
                 for k in (*STATE_VARIABLES, "I_ctrl", "I_bias")}
        state["lastspike"] = np.asarray(neurons.lastspike_[:]) - G * dt_op
        state["not_refractory"] = np.asarray(neurons.not_refractory[:]).copy()
        n_spikes = int(np.sum(neurons.bf_spikes[:]))
        raw = np.fromfile(os.path.join(slot.path, "results", "bf_student_learned.bin"), dtype=np.float64)
        Pm = read_dumped_P(os.path.join(slot.path, "results", "bf_student_P.bin"), 2 * N)
    finally:
        restore_runtime()
        slot.close()
    n = 2 * N
    sizes = [n * P, (P + 1) * Q, (P + 1) ** 2, 2 * N, 7 * N, 8, N]
    if raw.size != sum(sizes):
        raise RuntimeError(f"the student program wrote {raw.size} values, expected {sum(sizes)}")
    w, Wo, Po, mean, rest, stat, count = np.split(raw, np.cumsum(sizes)[:-1])
    rls_ops = np.flatnonzero(plan.phase >= PHASES["rls"])
    rest_state = ({k: rest[m * N:(m + 1) * N].copy() for m, k in enumerate(STATE_VARIABLES)}
                  if plan.snapshot.any() else None)
    return StudentProgramRun(w.reshape(n, P), Pm, Wo.reshape(P + 1, Q), Po.reshape(P + 1, P + 1),
                             mean[:N].copy(), mean[N:].copy(), int(stat[3]), rest_state, state,
                             y[rls_ops].reshape(-1, T, P), int(stat[0]), n_spikes - int(round(count.sum())), G * dt_op,
                             timings)
