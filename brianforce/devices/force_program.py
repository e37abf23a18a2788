"""One FORCE training run with the RLS update in generated code: settle, train and test in one program.

:func:`run_force_program` builds the FORCE network (:func:`~brianforce.networks.force_lif.build_force_network`)
with the RLS update as generated code (:func:`rls_function_network`: a C++/Cython user function
holding a dense ``P``; :func:`rls_synapses_network`: plain Brian2 equations, every device) and
runs the whole protocol as a single ``run``: the RLS operations are switched on during the
training window by a table of the time (``bf_rls_on``), so every object has one code object and a
standalone project compiles each of them once. The run's records are split into the phases
afterwards. Used by :class:`~brianforce.methods.force.FORCETrainer` (its default on a machine
with a compiler) and :class:`~brianforce.devices.force_standalone.StandaloneFORCETrainer`.

All arrays are in SI units (seconds, volts, hertz).

References
----------
Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE
training. Nat Commun 8:2208.
Stimberg M, Brette R, Goodman DFM (2019) Brian 2, an intuitive and efficient neural
simulator. eLife 8:e47314 (standalone code generation).
"""
from __future__ import annotations

import functools
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import brian2 as b2
from brian2 import Network, NeuronGroup, SpikeMonitor, StateMonitor, Synapses, TimedArray, linked_var, second

from brianforce.devices.activation import activate, build_and_time, cuda_clock_anchor, restore_runtime
from brianforce.devices.cache import project_directory
from brianforce.learning.codegen import current_P, read_dumped_P, rls_functions
from brianforce.memory import force_program_bytes, require_memory
from brianforce.learning.results import SimulationResult
from brianforce.networks.connectivity import synapse_capacity
from brianforce.networks.force_lif import FILTERED_READOUT_EQS, build_force_network

__all__ = ["ForceProgramRun", "run_force_program", "compiler_available", "rls_function_network", "rls_synapses_network",
           "STATE_VARIABLES", "STANDALONE_PREFIX", "RLS_KINDS"]

#: Per-neuron state a run hands on (besides ``lastspike``).
STATE_VARIABLES = ("v", "I_syn", "h", "r", "hr", "not_refractory")
#: Object-name prefix of standalone builds: distinct from the runtime trainer's (``force_*``) so that
#: live runtime objects never rename generated code (which would force a recompilation).
STANDALONE_PREFIX = "bfsa"
#: How the RLS update is generated: a user function with C++/Cython code, or plain Brian2 equations.
RLS_KINDS = ("function", "synapses")


@functools.lru_cache(maxsize=None)
def compiler_available() -> bool:
    """Whether ``make`` and a C++ compiler (``$CXX``, else ``g++`` or ``c++``) are on the path."""
    cxx = os.environ.get("CXX")
    compilers = [cxx] if cxx else ["g++", "c++"]
    return shutil.which("make") is not None and any(shutil.which(x) for x in compilers)


def rls_function_network(prefix, weights, eta, v0, c, limit, target, on, rls_threads=1):
    """FORCE network + RLS through the C++/Cython user functions (:func:`~brianforce.learning.codegen.rls_functions`).

    The readout is filtered (``build_force_network(filtered_readout=True)``): every
    ``rls_interval`` the step function returns ``z = φᵀr`` and ``u = φᵀh_r`` of the (new) decoder,
    which reset the readout's filter, so no sum over the decoder runs at the other time steps.
    ``on(t)`` (a ``TimedArray``) switches the update itself on.
    """
    objs = build_force_network(weights, eta, np.zeros((c.n_neurons, c.n_outputs)), lif=c.lif, v0=v0,
                               dt=c.dt * second, readout_eqs=FILTERED_READOUT_EQS + "\nrls_err : 1",
                               filtered_readout=True, name=prefix,
                               n_synapses=synapse_capacity(weights.n, c.p, len(weights.pre)))
    fns = rls_functions(c.n_neurons, c.n_outputs, c.reg, c.normalised, limit, rls_threads,
                        r_unit=b2.Hz, hr_unit=b2.Hz / second, phi_unit=second)
    ns = dict(fns.namespace(), bf_rls_target=target, bf_rls_on=on)
    kw = dict(dt=c.rls_interval * second, when="end")
    runners = [
        objs.decoder.run_regularly("phi = bf_rls_collect(i, j, r_pre, hr_pre, phi, bf_rls_target(t, j))",
                                   order=1, name=f"{prefix}_rls_collect", **kw),
        objs.readout.run_regularly("rls_err = bf_rls_step(i, bf_rls_on(t))", order=2, name=f"{prefix}_rls_step",
                                   **kw),
        objs.decoder.run_regularly("phi = bf_rls_get(i, j)", order=3, name=f"{prefix}_rls_write", **kw),
        objs.readout.run_regularly("rls_err = bf_rls_error(i)", order=4, name=f"{prefix}_rls_error", **kw),
        # (one user function per code object: the functions share namespace arrays)
        objs.readout.run_regularly("z = bf_rls_readout(i, 0)", order=5, name=f"{prefix}_rls_z", **kw),
        objs.readout.run_regularly("u = bf_rls_readout(i, 1)*hertz", order=6, name=f"{prefix}_rls_u", **kw)]
    return objs, [], runners, ns, fns


def rls_synapses_network(prefix, weights, eta, v0, c, limit, target, on, rls_threads=1):
    """FORCE network + RLS in plain Brian2 equations (runs on every device, CUDA included).

    At every RLS step, at the end of the time step (after the neurons' update, with the
    same ``r`` the user-function backend sees):

    1. ``Pr_i = Σ_j P_ij r_j``     summed variable of the all-to-all ``P`` synapses;
    2. ``ẑ_k = Σ_i φ'_ik r_i``, ``rᵀPr = Σ_i r_i Pr_i``  summed variables of a copy of the
       decoder on the RLS clock (the readout's ``z`` is summed before the neurons' update);
    3. ``e_k = ẑ_k − y_k``, ``c = 1/(1 + rᵀPr)``;
    4. ``Pr``, ``e`` and ``c`` copied next to the decoder (Synapses only see the pre/post
       variables that existed when they were created, so the decoder reads copies);
    5. ``φ_ik −= on·g Pr_i e_k`` (``g = c`` if normalised, else 1) on the decoder and its copy;
    6. ``P_ij −= on·c Pr_i Pr_j`` (``on(t)``: 1 in the training window, else 0).

    The decoder is not frozen after a divergence; the caller reports the first bad update.
    """
    N, K = c.n_neurons, c.n_outputs
    every = c.rls_interval * second
    objs = build_force_network(weights, eta, np.zeros((N, K)), lif=c.lif, v0=v0, dt=c.dt * second,
                               readout_eqs="z : 1\nrls_err : 1\nrls_c : 1\nrls_err_src : 1 (linked)\n"
                                           "rls_c_src : 1 (linked)",
                               extra_neuron_eqs="rls_Pr : second\nrls_Pr_src : second (linked)", name=prefix,
                               n_synapses=synapse_capacity(N, c.p, len(weights.pre)))
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
    ns = {"bf_rls_target": target, "bf_rls_on": on}
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
        objs.decoder.run_regularly(f"phi -= bf_rls_on(t)*{gain}*rls_Pr_pre*rls_err_post", order=5,
                                   name=f"{prefix}_rls_phi", **kw),
        copy.run_regularly(f"phi_c -= bf_rls_on(t)*{gain}*rls_Pr_src_pre*rls_err_post", order=5,
                           name=f"{prefix}_rls_phi_copy", **kw),
        pmat.run_regularly("P -= bf_rls_on(t)*rls_c_post*Pr_post*rls_Pr_src_pre", order=6,
                           name=f"{prefix}_rls_Pupdate", **kw)]

    def get_P():
        P = np.zeros((N, N))
        P[np.asarray(pmat.j[:]), np.asarray(pmat.i[:])] = np.asarray(pmat.P_[:])
        return P

    fns = type("SynapsesP", (), {"P": staticmethod(get_P)})
    return objs, [units, state, pmat, copy], runners, ns, fns


@dataclass
class ForceProgramRun:
    """What one :func:`run_force_program` call returns (SI units)."""

    results: dict                  # phase name → SimulationResult
    update_times: np.ndarray       # (n,) time of each training update (end of its time step)
    errors: np.ndarray             # (n, K) a-priori errors of the updates
    decoder_samples: np.ndarray    # (n, n_traced, K) φ of the first neurons after each update
    final: dict                    # STATE_VARIABLES and lastspike_rel at the end of the run
    phi: np.ndarray                # (N, K) decoder at the end of the run (s)
    t_end: float
    timings: dict                  # compile_s, run_s
    P: np.ndarray | None = None    # final inverse correlation matrix (s²), when asked for
    live: dict = field(default_factory=dict)   # runtime device: the network, for running on


def _on_table(c, settle_s: float, train_s: float, total_s: float) -> np.ndarray:
    """1 at the RLS ticks ``k·rls_interval`` inside ``[settle, settle + train)``, else 0 (one trailing 0)."""
    m = int(np.ceil(total_s / c.rls_interval - 1e-9)) + 2
    t = np.arange(m) * c.rls_interval
    return ((t >= settle_s - 1e-12) & (t < settle_s + train_s - 1e-12)).astype(float)


def _split(mon_t, start: float, stop: float):
    return (mon_t >= start - 1e-12) & (mon_t < stop - 1e-12)


def run_force_program(c, weights, eta, v0, task, settle_s: float, train_s: float, test_s: float, limit: float, *,
                      device: str = "cpp_standalone", directory=None, threads: int = 0, rls: str = "function",
                      rls_threads: int = 1, prefix: str = STANDALONE_PREFIX, report=None, n_traced: int = 0,
                      record_spikes: bool = False, want_P: bool = False, cache_kind: str = "force-training"
                      ) -> ForceProgramRun:
    """Settle, train (RLS in generated code) and free-run a FORCE network in one Brian2 run.

    Parameters
    ----------
    c : FORCETrainer.config
        Network, RLS and recording settings.
    weights, eta, v0
        Structure and initial membrane potentials (:meth:`FORCETrainer._draw_structure`).
    task : Task
        Target, a function of absolute time.
    settle_s, train_s, test_s : float
        Phase lengths (s); ``test_s`` must be 0 on the runtime device (it keeps the network in
        ``live`` to run on instead).
    limit : float
        Largest accepted ``|error|`` of an update.
    device : {'cpp_standalone', 'cuda_standalone', 'runtime'}
    directory : path, optional
        Standalone project directory; by default the cached one of this architecture.
    n_traced : int
        Record φ of the first ``n_traced`` neurons after every update.
    record_spikes : bool
        Record spikes while settling and training too (the test phase always records them).
    want_P : bool
        Return the final ``P`` (a standalone program writes it after its last update; ``None`` when
        the run diverged at its first update, i.e. ``P`` is still ``I/reg``).
    """
    standalone = device != "runtime"
    if not standalone and test_s:
        raise ValueError("the runtime device keeps the network to run on: test_s must be 0")
    total = settle_s + train_s + test_s
    n_ta = int(np.ceil((settle_s + train_s) / c.rls_interval)) + 2
    values = task(np.arange(n_ta) * c.rls_interval + c.dt)
    on_values = _on_table(c, settle_s, train_s, total)
    n_updates = int(on_values.sum())
    slot = None
    if device == "cpp_standalone":          # P and the program in this machine's memory
        require_memory(force_program_bytes(c.n_neurons, c.p, c.n_outputs, read_back_P=want_P),
                       f"a cpp_standalone FORCE program of {c.n_neurons} neurons")
    if standalone:
        key = {"name": prefix, "device": device, "rls": rls, "rls_threads": rls_threads, "threads": threads,
               "n_neurons": c.n_neurons, "p": c.p, "n_outputs": c.n_outputs, "settle": settle_s > 0,
               "test": test_s > 0, "n_traced": n_traced, "spikes": bool(record_spikes or test_s > 0),
               "single_run": True}
        slot = project_directory(directory, cache_kind, key)
    wall0 = time.perf_counter()
    activate(device, slot.path if standalone else None)
    try:
        if device == "cpp_standalone":
            b2.prefs.devices.cpp_standalone.openmp_threads = threads
        target = TimedArray(values, dt=c.rls_interval * second, name="bf_rls_target")
        on = TimedArray(on_values, dt=c.rls_interval * second, name="bf_rls_on")
        setup = rls_synapses_network if rls == "synapses" else rls_function_network
        objs, extra, runners, ns, fns = setup(prefix, weights, eta, v0, c, limit, target, on, rls_threads)
        if rls == "function" and want_P and standalone:
            fns.state[12] = n_updates
        every = c.rls_interval * second
        err_owner = extra[1] if rls == "synapses" else objs.readout
        errmon = StateMonitor(err_owner, "rls_err", record=True, dt=every, when="end", order=7,
                              name=f"{prefix}_rls_errmon")
        # a filtered readout already holds the next step's z at the end of a step: record it at the
        # start instead, so that both readouts record the same value at the same time
        zmon = StateMonitor(objs.readout, "z", record=True, dt=c.record_dt * second,
                            when="start" if rls == "function" else "end", name=f"{prefix}_zmon")
        mons = [errmon, zmon]
        if n_traced:
            phimon = StateMonitor(objs.decoder, "phi", record=np.arange(n_traced * c.n_outputs), dt=every,
                                  when="end", order=8, name=f"{prefix}_phimon")
            mons.append(phimon)
        spikes = record_spikes or test_s > 0
        if spikes:
            smon = SpikeMonitor(objs.neurons, name=f"{prefix}_spikes")
            mons.append(smon)
        net = Network(*objs.objects, *extra, *mons, *cuda_clock_anchor(device, c.dt, prefix),
                      name=f"{prefix}_network")
        w = time.perf_counter()
        net.run(total * second, namespace=ns, report=report, report_period=5 * second)
        dumped = Path(slot.path) / "results" / "bf_rls_P.bin" if standalone else None
        if standalone:
            # the program writes P only once it has one (not after a divergence at the first update):
            # a file of an earlier program in this directory must not be read as this run's P
            dumped.unlink(missing_ok=True)
            timed = build_and_time(slot.path, wall0, with_output=report is not None)
            run_s, compile_s = timed["run_s"], timed["compile_s"]
        else:
            run_s, compile_s = time.perf_counter() - w, 0.0
        tick = np.rint(np.asarray(errmon.t_) / c.rls_interval).astype(int)
        trained = on_values[np.clip(tick, 0, len(on_values) - 1)] > 0
        update_times = np.asarray(errmon.t_)[trained] + c.dt
        errors = np.asarray(errmon.rls_err_).T.reshape(len(tick), c.n_outputs)[trained].copy()
        samples = np.zeros((len(update_times), n_traced, c.n_outputs))
        if n_traced:
            samples = np.asarray(phimon.phi_).T.reshape(len(tick), n_traced, c.n_outputs)[trained].copy()
        zt = np.asarray(zmon.t_).copy()
        z = np.asarray(zmon.z_).T.copy().reshape(len(zt), c.n_outputs)
        if spikes:
            si, st = np.asarray(smon.i[:]).astype(int), np.asarray(smon.t_).copy()
            keep = si < c.n_record
            si, st = si[keep], st[keep]
        results = {}
        bounds = (("settle", 0.0, settle_s), ("train", settle_s, settle_s + train_s),
                  ("test", settle_s + train_s, total))
        for phase, start, stop in bounds:
            if stop - start <= 0:
                continue
            sel = _split(zt, start, stop)
            t = zt[sel]
            if spikes and (phase == "test" or record_spikes):
                ss = _split(st, start, stop)
                pi, pt = si[ss], st[ss]
            else:
                pi, pt = np.zeros(0, dtype=int), np.zeros(0)
            tgt = task(t + c.dt) if len(t) else np.full((0, c.n_outputs), np.nan)
            results[phase] = SimulationResult(t, z[sel], tgt, pi, pt, c.n_record, c.n_neurons, phase, run_s)
        g = objs.neurons
        final = {k: np.asarray(getattr(g, k + "_") if k != "not_refractory" else g.not_refractory[:]).copy()
                 for k in STATE_VARIABLES}
        final["lastspike_rel"] = np.asarray(g.lastspike_).copy() - float(net.t_)
        phi = np.asarray(objs.decoder.phi_).copy().reshape(c.n_neurons, c.n_outputs)
        P = None
        if want_P:
            if rls == "synapses":
                P = fns.P()
            elif standalone:
                P = read_dumped_P(dumped, c.n_neurons) if dumped.exists() and n_updates else None
            else:
                P = current_P(fns.buffers)
        live = {} if standalone else {"net": net, "objs": objs, "ns": ns, "fns": fns, "mons": mons}
        if not standalone:
            net.remove(*mons)
        out = ForceProgramRun(results, update_times, errors, samples, final, phi, float(net.t_),
                              {"compile_s": compile_s, "run_s": run_s}, P, live)
    finally:
        if standalone:
            restore_runtime()
            slot.close()
    return out
