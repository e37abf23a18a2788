"""RLS in generated code: Brian2 user functions whose C++ and Cython sources ship as package data.

One RLS update (shared ``P``, upper triangle, the previous rank-1 update of ``P`` fused into
this update's ``P r`` pass) runs inside a Brian2 ``Function`` called from ``run_regularly``
operations, so it works in every code-generation target that has an implementation (Cython at
runtime, C++ in ``cpp_standalone``), where a ``network_operation`` cannot run.

The functions share buffers (namespace arrays):

* ``bf_rls_collect(i, j, r, hr, phi, y)`` — called for every decoder synapse (neuron ``i``,
  output ``j``); stores ``r``, ``hr``, ``φ`` and the target ``y`` (distinct writes only, safe
  under OpenMP) and returns ``φ`` unchanged;
* ``bf_rls_step(k, on)`` — called for every output; output 0 performs the update if ``on`` is
  non-zero (the training window of a run) and stores ``z = φᵀr`` and ``u = φᵀh_r`` of the
  (new) decoder; in C++, after update ``state[12]`` (if > 0) it writes ``P`` to
  ``results/bf_rls_P.bin`` (:func:`read_dumped_P`);
* ``bf_rls_get(i, j)`` — the updated decoder; ``bf_rls_error(k)`` — the a-priori error of the
  last update; ``bf_rls_readout(k, which)`` — ``z`` (0) or ``u`` (1) of the new decoder.

A divergent update (non-finite error or ``|e| > limit``) freezes the decoder and records the
update index (``state[3]``). The C++ ``P r`` pass deals the triangle's rows to a fixed number of
lanes (8), each with its own accumulator, summed in lane order; threads run lanes, so the result is
the same bits for any ``rls_threads``.

References
----------
Haykin S. (2002) Adaptive Filter Theory, ch. 9.
Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE
training. Nat Commun 8:2208.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources

import numpy as np
from brian2 import Function

from brianforce.checks import as_count

__all__ = ["read_source", "RLSFunctions", "rls_functions", "current_P", "read_dumped_P", "STATE_FIELDS",
           "default_rls_threads", "rls_threads_for", "MAX_RLS_THREADS"]

#: Meaning of the entries of the shared ``state`` buffer.
STATE_FIELDS = ("unused", "update_index", "diverged", "diverged_at_update", "limit", "reg", "n", "k",
                "normalised", "n_applied", "c_pending", "threads", "dump_at_update")


def read_source(name: str) -> str:
    """Text of a generated-code source shipped with the package (``rls_step.cpp``, …)."""
    return resources.files(__package__).joinpath(name).read_text()


#: Features per thread below which a thread is not worth starting for each update.
_FEATURES_PER_THREAD = 1000


#: Lanes of the C++ ``P r`` pass (``BF_RLS_LANES`` in ``rls_kernel.cpp``), so the most threads that can share it.
MAX_RLS_THREADS = int(re.search(r"BF_RLS_LANES = (\d+);", read_source("rls_kernel.cpp")).group(1))


def default_rls_threads(n: int) -> int:
    """Threads for the C++ RLS pass over ``n`` features: one per 1000 features, at most the CPUs
    this process may use and :data:`MAX_RLS_THREADS`. The number changes the speed, not the result."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:                                # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_RLS_THREADS, int(n) // _FEATURES_PER_THREAD))


def rls_threads_for(value, n: int) -> int:
    """``value`` checked (an integer >= 1), or :func:`default_rls_threads` of ``n`` for ``None``."""
    return default_rls_threads(n) if value is None else as_count(value, "rls_threads", minimum=1)


@dataclass
class RLSFunctions:
    """The Brian2 user functions of one RLS and their shared buffers."""

    collect: Function
    step: Function
    get: Function
    error: Function
    readout: Function
    buffers: dict

    @property
    def state(self) -> np.ndarray:
        return self.buffers["_bf_rls_state"]

    def namespace(self) -> dict:
        """Names under which the operations call the functions."""
        return {"bf_rls_collect": self.collect, "bf_rls_step": self.step, "bf_rls_get": self.get,
                "bf_rls_error": self.error, "bf_rls_readout": self.readout}


def rls_functions(n: int, k: int, reg: float, normalised: bool, limit: float, rls_threads: int = 1, *,
                  r_unit=1, hr_unit=1, phi_unit=1) -> RLSFunctions:
    """Brian2 user functions sharing the RLS buffers of ``n`` features and ``k`` outputs.

    Parameters
    ----------
    n, k : int
    reg : float
        Ridge parameter λ, ``P(0) = I/λ``.
    normalised : bool
        Gain ``P r/(1 + rᵀPr)`` (True) or Nicola & Clopath's ``P r`` (False).
    limit : float
        Largest accepted ``|error|``; a larger or non-finite one freezes the decoder.
    rls_threads : int
        Threads of the C++ ``P r`` pass.
    r_unit, hr_unit, phi_unit : Unit
        Units of the arguments ``r``, ``hr`` and ``φ`` (``φ`` in ``1/r_unit`` so ``z`` is
        dimensionless).
    """
    state = np.zeros(len(STATE_FIELDS))
    state[4], state[5], state[6], state[7], state[8] = limit, reg, n, k, float(normalised)
    state[11] = max(1, int(rls_threads))                  # state[12]: dump_at_update, set by the caller
    shared = {"_bf_rls_state": state, "_bf_rls_r": np.zeros(n), "_bf_rls_hr": np.zeros(n),
              "_bf_rls_phi": np.zeros(n * k), "_bf_rls_y": np.zeros(k), "_bf_rls_err": np.zeros(k),
              "_bf_rls_zu": np.zeros(2 * k)}
    cython_only = {"_bf_rls_P": np.eye(n).reshape(-1) / reg, "_bf_rls_Pr": np.zeros(n),
                   "_bf_rls_Pprev": np.zeros(n)}

    def make(name, source, args, cy_ns, return_unit):
        f = Function(pyfunc=None, arg_units=[u for _, u in args], return_unit=return_unit,
                     arg_types=[t for t, _ in args], return_type="float", stateless=False,
                     arg_names=[f"a{m}" for m in range(len(args))], auto_vectorise=False)
        code = read_source(f"{source}.cpp")
        if source == "rls_step":                          # the update's pass over P
            code = read_source("rls_kernel.cpp") + code
        f.implementations.add_implementation(
            "cpp", code, name=name, namespace=dict(shared),
            compiler_kwds={"headers": ["<vector>", "<cmath>", "<thread>", "<algorithm>", "<fstream>"]})
        f.implementations.add_implementation("cython", read_source(f"{source}.pyx"), name=name,
                                             namespace=dict(shared, **cy_ns))
        return f

    ints = [("integer", 1), ("integer", 1)]
    collect = make("bf_rls_collect", "rls_collect",
                   ints + [("float", r_unit), ("float", hr_unit), ("float", phi_unit), ("float", 1)], {}, phi_unit)
    readout = make("bf_rls_readout", "rls_readout", ints, {}, 1)
    step = make("bf_rls_step", "rls_step", [("integer", 1), ("float", 1)], cython_only, 1)
    get = make("bf_rls_get", "rls_get", ints, {}, phi_unit)
    error = make("bf_rls_error", "rls_error", [("integer", 1)], {}, 1)
    return RLSFunctions(collect, step, get, error, readout, dict(shared, **cython_only))


def current_P(buffers: dict) -> np.ndarray:
    """Full symmetric ``P`` from the Cython buffers, with the pending rank-1 update applied."""
    n = len(buffers["_bf_rls_Pr"])
    P = buffers["_bf_rls_P"].reshape(n, n)
    pp, c = buffers["_bf_rls_Pprev"], buffers["_bf_rls_state"][10]
    upper = np.triu(P - (c * pp)[:, None] * pp[None, :])
    return upper + np.triu(upper, 1).T


def read_dumped_P(path, n: int, block: int = 256) -> np.ndarray:
    """Full symmetric ``P`` from the file the C++ update writes (``state[12]``), pending update applied.

    Completed in place, ``block`` rows at a time, so the only large array is the result (``8 n²`` bytes).
    """
    raw = np.fromfile(path, dtype=np.float64)
    if raw.size != n * n + n + 1:
        raise ValueError(f"{path}: {raw.size} values, expected {n * n + n + 1} for n = {n}")
    pp, c = raw[n * n:n * n + n].copy(), float(raw[-1])
    P = raw[:n * n].reshape(n, n)
    for a in range(0, n, block):
        rows = P[a:a + block]
        rows -= (c * pp[a:a + block])[:, None] * pp[None, :]
        for k in range(rows.shape[0]):        # the lower triangle from the upper one
            rows[k, :a + k] = P[:a + k, a + k]
    return P
