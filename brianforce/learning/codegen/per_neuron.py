"""Per-neuron RLS in generated code: Brian2 user functions (C++) for standalone programs.

The functions train the incoming weights of a user's ``Synapses`` onto trained neurons, as
:class:`~brianforce.learning.RecurrentRLS` does from a Python ``network_operation`` at runtime
(same gain ``P r/(1 + rᵀP r)``, same error, same divergence test, same Dale clipping), but inside
a ``cpp_standalone`` program. :func:`per_neuron_rls_operations` adds, at every ``interval`` at the
end of the time step:

1. ``r = bf_pn_collect(i, r)`` on the presynaptic group — keeps every regressor ``r_j``;
2. ``updated = bf_pn_step(bf_pn_update(t))`` on a one-neuron group — computes the
   a-priori errors ``e_m = Σ_j w_mj r_j − y_m`` of all trained neurons against row
   ``bf_pn_update(t) − 1`` of the target table (0: no update at this tick), tests them, and
   updates every trained neuron's weights and ``P`` (optionally with several threads);
3. ``w = bf_pn_get(i, j, w)`` on the synapses — the updated weights;
4. ``err = bf_pn_error(i)`` on a small group of the trained neurons, for a ``StateMonitor``.

A non-finite error or one above ``limit`` freezes the weights from that update on; the caller
finds the update in the recorded errors.

References
----------
Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from brian2 import Function, NeuronGroup, Quantity, TimedArray, get_unit, second
from brian2.units.fundamentalunits import DIMENSIONLESS

from brianforce.checks import as_number
from brianforce.learning.codegen import read_source
from brianforce.learning.rls_per_neuron import padded_inputs
from brianforce.units import as_positive_si
from brianforce.naming import own_clock

__all__ = ["PerNeuronRLSProgram", "per_neuron_rls_operations", "PER_NEURON_STATE_FIELDS"]

#: Meaning of the entries of the shared ``state`` buffer.
PER_NEURON_STATE_FIELDS = ("n_trained", "max_inputs", "reg", "limit", "n_updates", "diverged",
                           "diverged_at_update", "updated", "dale", "normalised", "threads")


@dataclass
class PerNeuronRLSProgram:
    """What :func:`per_neuron_rls_operations` added: the operations, the error group and the tables."""

    operations: list
    groups: list               # the error group and the one-neuron group that calls the update
    namespace: dict
    index: np.ndarray          # (M, K) padded presynaptic indices
    valid: np.ndarray          # (M, K)
    buffers: dict


def _function(name: str, source: str, args, return_unit, shared: dict) -> Function:
    f = Function(pyfunc=None, arg_units=[u for _, u in args], return_unit=return_unit,
                 arg_types=[t for t, _ in args], return_type="float", stateless=False,
                 arg_names=[f"a{m}" for m in range(len(args))], auto_vectorise=False)
    f.implementations.add_implementation("cpp", read_source(source), name=name, namespace=dict(shared),
                                         compiler_kwds={"headers": ["<vector>", "<cmath>", "<thread>",
                                                                    "<algorithm>", "<cstdint>"]})
    return f


def per_neuron_rls_operations(synapses, *, weight: str, regressor: str, target_neurons, weights0,
                              targets, update_row, interval: float, reg: float, limit: float,
                              sign=None, normalised: bool = True, threads: int = 1,
                              name: str = "bf_pn") -> PerNeuronRLSProgram:
    """Generated-code per-neuron RLS on ``synapses`` (see the module docstring).

    Parameters
    ----------
    synapses : Synapses
        At most one synapse per (pre, post) pair onto trained neurons.
    weight, regressor : str
        Per-synapse weight of ``synapses``; per-neuron regressor of its source group.
    target_neurons : int array (M,)
        Postsynaptic indices of the trained neurons (row ``m`` of the targets).
    weights0 : array (n_synapses,)
        The synapses' weights at the start (SI), the RLS's starting point.
    targets : array (n_rows, M)
        Target currents (SI) of the updates, one row per update.
    update_row : array (n_ticks,)
        At tick ``k`` (time ``k·interval``): 1 + the row of ``targets`` to update with, 0 for none.
    interval : float or Quantity (second)
        Time between ticks (a plain number is in seconds), > 0.
    reg, limit : float
        Ridge λ (``P(0) = I/λ``); largest accepted ``|error|`` (SI). Both finite and > 0.
    sign : array (n_pre,) of ±1, optional
        Dale's law: weights that change sign are clipped at 0.
    threads : int
        Threads of the update (neurons split between them).
    """
    reg = as_number(reg, "reg", low=0.0, low_open=True)
    limit = as_number(limit, "limit", low=0.0, low_open=True)
    interval = as_positive_si(interval, second, "interval") if isinstance(interval, Quantity) else \
        as_number(interval, "interval", low=0.0, low_open=True)
    pre = np.asarray(synapses.i[:], dtype=np.int64)
    post = np.asarray(synapses.j[:], dtype=np.int64)
    n_pre, n_post = len(synapses.source), len(synapses.target)
    tn = np.asarray(target_neurons, dtype=np.int64)
    M = tn.size
    row_of = np.full(n_post, -1, dtype=np.int32)
    row_of[tn] = np.arange(M, dtype=np.int32)
    if M == 0 or tn.min() < 0 or tn.max() >= n_post or np.unique(tn).size != M:
        raise ValueError(f"target_neurons must be distinct indices in [0, {n_post}), got {target_neurons!r}")
    onto = row_of[post] >= 0
    pairs = row_of[post[onto]].astype(np.int64) * n_pre + pre[onto]
    if np.unique(pairs).size != pairs.size:
        raise ValueError(f"{synapses.name!r} has several synapses between the same (pre, post) pair onto a "
                         "trained neuron; the per-neuron RLS needs at most one")
    if np.shape(weights0) != pre.shape:
        raise ValueError(f"weights0 must hold one weight per synapse ({pre.size}), got shape {np.shape(weights0)}")
    rows = np.asarray(update_row, dtype=float)
    if np.shape(targets)[-1:] != (M,) or rows.ndim != 1 or rows.min() < 0 or rows.max() > len(targets):
        raise ValueError(f"targets must be (n_rows, {M}) and update_row 1-D in [0, n_rows]; got "
                         f"{np.shape(targets)} and rows up to {rows.max()}")
    mask = np.zeros((M, n_pre), dtype=bool)
    mask[row_of[post[onto]], pre[onto]] = True
    index, valid = padded_inputs(mask)
    K = index.shape[1]
    w_dense = np.zeros((M, n_pre))
    w_dense[row_of[post[onto]], pre[onto]] = np.asarray(weights0, dtype=float)[onto]
    W = np.where(valid, np.take_along_axis(w_dense, index, axis=1), 0.0)
    targets = np.asarray(targets, dtype=float).reshape(-1, M)
    state = np.zeros(len(PER_NEURON_STATE_FIELDS))
    state[0], state[1], state[2], state[3] = M, K, reg, limit
    state[8], state[9], state[10] = float(sign is not None), float(normalised), max(1, int(threads))
    sign_padded = np.zeros((M, K)) if sign is None else \
        np.where(valid, np.asarray(sign, dtype=float)[index], 0.0)
    shared = {"_bf_pn_state": state, "_bf_pn_rowof": row_of, "_bf_pn_index": index.astype(np.int32).ravel(),
              "_bf_pn_count": valid.sum(axis=1).astype(np.int32), "_bf_pn_W": W.ravel().copy(),
              "_bf_pn_sign": sign_padded.ravel(), "_bf_pn_r": np.zeros(n_pre), "_bf_pn_y": targets.ravel().copy(),
              "_bf_pn_err": np.zeros(M)}
    r_unit = get_unit(synapses.source.variables[regressor].dim)
    w_unit = get_unit(synapses.variables[weight].dim)
    current_unit = get_unit(r_unit.dim * w_unit.dim)
    ints = ("integer", 1)
    collect = _function("bf_pn_collect", "per_neuron_collect.cpp", [ints, ("float", r_unit)], r_unit, shared)
    step = _function("bf_pn_step", "per_neuron_rls.cpp", [("float", 1)], 1, shared)
    get = _function("bf_pn_get", "per_neuron_get.cpp", [ints, ints, ("float", w_unit)], w_unit, shared)
    error = _function("bf_pn_error", "per_neuron_error.cpp", [ints], current_unit, shared)
    table = TimedArray(rows, dt=interval * second, name=f"{name}_update")
    ns = {"bf_pn_collect": collect, "bf_pn_step": step, "bf_pn_get": get, "bf_pn_error": error,
          "bf_pn_update": table}
    unit_text = "1" if current_unit.dim is DIMENSIONLESS else repr(current_unit)
    step_s = interval * second

    def named(part: str) -> dict:          # fixed names, clocks included (brianforce.naming)
        return dict(name=f"{name}_{part}", clock=own_clock(f"{name}_{part}", step_s))

    errors = NeuronGroup(M, f"err : {unit_text}", **named("errors"))
    driver = NeuronGroup(1, "updated : 1", **named("driver"))
    ops = [synapses.source.run_regularly(f"{regressor} = bf_pn_collect(i, {regressor})", when="end", order=1,
                                         **named("collect")),
           driver.run_regularly("updated = bf_pn_step(bf_pn_update(t))", when="end", order=2, **named("step")),
           synapses.run_regularly(f"{weight} = bf_pn_get(i, j, {weight})", when="end", order=3, **named("write")),
           errors.run_regularly("err = bf_pn_error(i)", when="end", order=4, **named("error"))]
    return PerNeuronRLSProgram(ops, [errors, driver], ns, index, valid, shared)

