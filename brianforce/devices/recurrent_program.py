"""Kim & Chow training as one generated program: every trial of a fit, with per-neuron RLS in C++.

:func:`run_recurrent_program` runs the trials of :meth:`RecurrentTrainer.fit
<brianforce.methods.recurrent.RecurrentTrainer.fit>` (each: randomised membrane potentials and
cleared filters, the condition's stimulus, then the training window with the condition's
drive), given as data (:class:`TrialPlan`), as a single Brian2 run of a ``cpp_standalone`` program. Everything the runtime path does
between runs from Python becomes a table of the time:

* ``bf_v0(t, i)``: the membrane potentials of each trial's start (drawn in numpy, in the same
  order as at runtime), set with the cleared filters by an operation every trial;
* ``bf_ext(bf_ext_row(t), i)``: the external input — the stimulus, then the drive;
* ``bf_pn_update(t)``: which target row each RLS tick updates with
  (:func:`~brianforce.learning.codegen.per_neuron.per_neuron_rls_operations`).

The weights, learning curve and errors equal the runtime path's to round-off for a
network without white noise (a noisy network draws its noise from the program's generator).

References
----------
Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
Stimberg M, Brette R, Goodman DFM (2019) Brian 2, an intuitive and efficient neural simulator.
eLife 8:e47314 (standalone code generation).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

import brian2 as b2
from brian2 import Network, StateMonitor, TimedArray, second, volt

from brianforce.devices.activation import activate, build_and_time, restore_runtime
from brianforce.devices.cache import project_directory
from brianforce.learning.codegen.per_neuron import per_neuron_rls_operations
from brianforce.networks.balanced import BalancedConnectivity, build_balanced_network

__all__ = ["RecurrentProgramRun", "TrialPlan", "run_recurrent_program", "trial_schedule", "on_the_update_grid"]

# refractoriness ends first: Brian2 only writes ``v`` (``unless refractory``) of non-refractory neurons
_RESET = ("lastspike = -1e4*second\nnot_refractory = True\nv = bf_v0(t, i)\nI_syn = 0*volt\nh = 0*volt/second\n"
          "r = 0*hertz\nhr = 0*hertz/second")


@dataclass
class RecurrentProgramRun:
    """What :func:`run_recurrent_program` returns (SI units)."""

    weights: np.ndarray        # (n_synapses,) final weights (V·s), in the synapses' order
    conditions: np.ndarray     # (n_runs,) condition of each trial, in the order run
    currents: np.ndarray       # (n_runs, T, M) I_syn of the trained neurons in each window (V)
    update_times: np.ndarray   # (n_updates,) program time of each update (the end of its time step, s)
    update_trial: np.ndarray   # (n_updates,) trial (run order) of each update
    errors: np.ndarray         # (n_updates, M) a-priori errors (V); rows after a divergence are dropped
    diverged_at: int | None    # index of the first rejected update, or None
    diverged_trial: int | None  # trial (run order) of that update
    timings: dict              # compile_s, run_s


def _multiple(x: float, step: float) -> bool:
    return abs(x / step - round(x / step)) < 1e-6


def _off_grid(stim: float, window: float, steps: dict):
    """The first (what, length, step name, step) whose length is not a whole multiple of the step, or None."""
    for what, x in (("stim_duration", stim), ("the target window", window)):
        for name, step in steps.items():
            if not _multiple(x, step):
                return what, x, name, step
    return None


def on_the_update_grid(stim: float, window: float, steps) -> bool:
    """Whether the stimulus and the window (s) are whole multiples of every step in ``steps`` (s), as a
    program's trial tables need."""
    return _off_grid(stim, window, dict(enumerate(steps))) is None


def trial_schedule(n_repeats: int, n_conditions: int) -> np.ndarray:
    """Conditions in the order :meth:`RecurrentTrainer.fit` runs them: every condition, repeatedly."""
    return np.tile(np.arange(n_conditions), n_repeats)


@dataclass
class TrialPlan:
    """The trials of one fit as data (SI units): what the runtime path sets from Python between runs."""

    conditions: np.ndarray         # (runs,) condition of each trial, in the order run
    v0: np.ndarray                 # (runs, N) membrane potentials at each trial's start (V)
    stimuli: np.ndarray            # (C, N) external input during the stimulus (V)
    stim: float                    # stimulus duration (s)
    windows: list                  # per condition: the learner's target window (fn(s), duration)
    target_neurons: np.ndarray     # (M,)
    sample_dt: float               # sampling step of the recorded currents (s)
    n_samples: int                 # samples per window
    drive: np.ndarray | None = None   # (C, S, N) external input in the window every drive_dt (V)
    drive_dt: float = 1e-3


def run_recurrent_program(network, build_kwargs: dict, plan: TrialPlan, *, interval: float, reg: float,
                          limit: float, sign=None, target_offset: float = 0.0, device: str = "cpp_standalone",
                          directory=None, threads: int = 0, rls_threads: int = 1, prefix: str = "bfkc",
                          report=None) -> RecurrentProgramRun:
    """Run the trials of ``plan`` with per-neuron RLS on ``network``'s synapses in one standalone program.

    Parameters
    ----------
    network : BalancedNetwork
        The runtime network: its connectivity, present weights and biases are copied into the program.
    build_kwargs : dict
        :func:`~brianforce.networks.balanced.build_balanced_network` arguments that rebuild it (``bias``,
        ``tau_r``, ``tau_d``, ``dt``, ``noise``, ``seed``).
    plan : TrialPlan
    interval : float
        Seconds between RLS updates (the stimulus and the window must be multiples of it).
    reg, limit : float
        Ridge λ; largest accepted ``|error|`` (V).
    sign : array (N,) of ±1, optional
        Dale's law (the presynaptic signs).
    target_offset : float
        As :class:`~brianforce.learning.RecurrentRLS`'s ``target_offset`` (s).
    device : {'cpp_standalone'}
    threads, rls_threads : int
        OpenMP threads of the program; threads of the RLS update.
    """
    conn = network.connectivity
    n = conn.n
    conditions = np.asarray(plan.conditions, dtype=np.int64)
    C, M, T = len(plan.windows), len(plan.target_neurons), int(plan.n_samples)
    dt = float(build_kwargs["dt"] / second)
    stim, window, offset = float(plan.stim), float(plan.windows[0].duration), float(target_offset)
    drive = plan.drive is not None
    ext_step = float(plan.drive_dt) if drive else interval
    trial_s = stim + window
    off = _off_grid(stim, window, {"learn_every": interval, "drive_dt": ext_step, "dt": dt})
    if off is not None:
        what, x, step_name, step = off
        raise ValueError(f"a generated-code fit needs {what} ({x} s) to be a multiple of {step_name} "
                         f"({step} s); train at runtime instead")
    runs = conditions.size
    total = runs * trial_s

    # external input rows: C stimuli, a zero row, then (with a drive) S samples per condition
    S = int(round(window / ext_step))
    ext = np.concatenate([plan.stimuli, np.zeros((1, n))] + ([plan.drive[:, :S].reshape(C * S, n)] if drive else []))
    per_trial = int(round(trial_s / ext_step))
    n_stim = int(round(stim / ext_step))
    row_of_tick = np.empty(runs * per_trial + 1)
    ticks = np.arange(per_trial)
    for k, c in enumerate(conditions):
        row_of_tick[k * per_trial:(k + 1) * per_trial] = np.where(
            ticks < n_stim, c, C if not drive else C + 1 + c * S + (ticks - n_stim))
    row_of_tick[-1] = C
    ext_time = row_of_tick * ext_step

    # RLS ticks: as the runtime learner, at t = window start + q·interval (end of that step),
    # against the target at s = q·interval + dt + offset inside (0, window]
    q = np.arange(int(round(window / interval)) + 1)
    s = q * interval + dt + offset
    inside = (s > 1e-12) & (s <= window + 1e-9)
    q, s = q[inside], s[inside]
    update_row = np.zeros(int(round(total / interval)) + 2)
    Y, update_times, update_trial = [], [], []
    for k, c in enumerate(conditions):
        start = int(round((k * trial_s + stim) / interval))
        update_row[start + q] = len(Y) + 1 + np.arange(q.size)
        Y.extend(plan.windows[c].fn(s))
        update_times.append(k * trial_s + stim + q * interval + dt)
        update_trial.append(np.full(q.size, k))
    Y = np.asarray(Y).reshape(-1, M)

    key = {"name": prefix, "device": device, "threads": threads, "rls_threads": rls_threads, "n": n,
           "n_synapses": int(conn.pre.size), "trained": M, "conditions": C, "runs": runs, "samples": T,
           "sample_dt": plan.sample_dt, "dt": dt, "interval": interval, "stim": stim, "window": window,
           "drive": drive, "ext_rows": int(ext.shape[0]), "noise": float(build_kwargs.get("noise", 0) / volt) > 0,
           "max_inputs": int(np.bincount(conn.post, minlength=n)[plan.target_neurons].max()),
           "dale": sign is not None, "updates": int(Y.shape[0])}
    slot = project_directory(directory, "kimchow-training", key)
    wall0 = time.perf_counter()
    activate(device, slot.path)
    try:
        if device == "cpp_standalone":
            b2.prefs.devices.cpp_standalone.openmp_threads = threads
        weights0 = np.array(network.weight_view())
        sa = build_balanced_network(BalancedConnectivity(n, conn.n_exc, conn.pre, conn.post, weights0),
                                    name=prefix, **build_kwargs)
        sa.neurons.I_bias_ = np.asarray(network.neurons.I_bias_[:])
        rls = per_neuron_rls_operations(sa.synapses, weight="w", regressor="r", target_neurons=plan.target_neurons,
                                        weights0=weights0, targets=Y, update_row=update_row,
                                        interval=interval, reg=float(reg), limit=limit, sign=sign,
                                        threads=rls_threads, name=f"{prefix}_rls")
        ns = dict(rls.namespace,
                  bf_v0=TimedArray(np.asarray(plan.v0) * volt, dt=trial_s * second, name=f"{prefix}_v0"),
                  bf_ext=TimedArray(ext * volt, dt=ext_step * second, name=f"{prefix}_ext"),
                  bf_ext_row=TimedArray(ext_time * second, dt=ext_step * second, name=f"{prefix}_ext_row"))
        sa.neurons.run_regularly(_RESET, dt=trial_s * second, when="start", order=0, name=f"{prefix}_trial_start")
        sa.neurons.run_regularly("I_ext = bf_ext(bf_ext_row(t), i)", dt=ext_step * second, when="start", order=1,
                                 name=f"{prefix}_input")
        cur = StateMonitor(sa.neurons, "I_syn", record=plan.target_neurons, dt=plan.sample_dt * second, when="start",
                           name=f"{prefix}_currents")
        err = StateMonitor(rls.groups[0], "err", record=True, dt=interval * second, when="end", order=5,
                           name=f"{prefix}_errmon")
        net = Network(sa.neurons, sa.synapses, *rls.groups, cur, err, name=f"{prefix}_network")
        net.run(total * second, namespace=ns, report=report)
        timings = build_and_time(slot.path, wall0, with_output=report is not None)
        weights = np.asarray(sa.synapses.w_[:]).copy()
        ct = np.rint(np.asarray(cur.t_) / plan.sample_dt).astype(np.int64)
        I = np.asarray(cur.I_syn_)                            # (M, samples)
        et = np.rint(np.asarray(err.t_) / interval).astype(np.int64)
        E = np.asarray(err.err_).T                              # (ticks, M)
    finally:
        restore_runtime()
        slot.close()
    currents = np.empty((runs, T, M))
    per_window = int(round(trial_s / plan.sample_dt))
    first = int(round(stim / plan.sample_dt))
    pos = {int(v): k for k, v in enumerate(ct)}
    for k in range(runs):
        cols = [pos[k * per_window + first + j] for j in range(T)]
        currents[k] = I[:, cols].T
    erow = {int(v): k for k, v in enumerate(et)}
    ticks = np.flatnonzero(update_row > 0)
    errors = E[[erow[int(t)] for t in ticks]]
    bad = ~np.all(np.isfinite(errors) & (np.abs(errors) <= limit), axis=1)
    diverged_at = int(np.argmax(bad)) if bad.any() else None
    keep = slice(None) if diverged_at is None else slice(0, diverged_at)
    update_trial = np.concatenate(update_trial)
    return RecurrentProgramRun(weights, conditions, currents, np.concatenate(update_times)[keep],
                               update_trial[keep], errors[keep], diverged_at,
                               None if diverged_at is None else int(update_trial[diverged_at]),
                               timings)
