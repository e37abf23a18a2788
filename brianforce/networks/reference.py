"""Plain vectorised numpy FORCE-LIF loop: the independent reference for the Brian2 trainer.

It integrates exactly the model of :mod:`brianforce.networks.force_lif` with the same forward-Euler
discretisation and the same order of operations per step as Brian2's default schedule
(readout, state update, threshold, synaptic propagation, reset, RLS), so for the same
arrays both produce the same spikes until floating-point round-off is amplified by the
network's chaos. The benchmark times it against the Brian2 trainer; both share the
BLAS-based RLS core, so the comparison measures the simulation itself.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from brianforce.networks.connectivity import SparseWeights
from brianforce.neurons import LIFParams
from brianforce.learning.rls import RLS

__all__ = ["ReferenceResult", "numpy_force_lif", "run_reference_like"]


@dataclass
class ReferenceResult:
    """Output of :func:`numpy_force_lif` (times in s)."""

    t: np.ndarray
    z: np.ndarray
    spike_i: np.ndarray
    spike_t: np.ndarray
    phi: np.ndarray
    errors: np.ndarray
    wall_simulation: float
    wall_rls: float


def numpy_force_lif(weights: SparseWeights, eta, v0, *, lif: LIFParams = LIFParams(), dt: float = 5e-5,
                    settle: float, train: float, test: float, task, reg: float, rls_every: int = 50,
                    normalised: bool = False, record_every: int = 10) -> ReferenceResult:
    """Simulate settle → RLS training → free-running test (all durations in s).

    Parameters mirror :class:`brianforce.methods.force.FORCETrainer` (SI floats). Returns the
    output ``z`` sampled every ``record_every`` steps (at the step's start state, as Brian2
    records it) and all spikes.
    """
    N = weights.n
    eta = np.asarray(eta, dtype=float)
    K = eta.shape[1]
    W = np.zeros((N, N), order="F")
    W[weights.post, weights.pre] = weights.value
    n_settle, n_train, n_test = (int(round(x / dt)) for x in (settle, train, test))
    ref_steps = int((lif.tau_ref + 1e-3 * dt) / dt)
    k_syn = 1.0 / (lif.tau_r * lif.tau_d)
    v = np.array(v0, dtype=float)
    I = np.zeros(N); h = np.zeros(N); r = np.zeros(N); hr = np.zeros(N)
    last = np.full(N, -10 ** 9, dtype=np.int64)
    rls = RLS(N, K, reg=reg, normalised=normalised)
    phi = rls.W
    ts, zs, sp_i, sp_t, errs = [], [], [], [], []
    wall_rls = 0.0
    wall0 = time.perf_counter()
    n_total = n_settle + n_train + n_test
    for n in range(n_total):
        z = r @ phi                                  # readout (summed variable)
        if n % record_every == 0:
            ts.append(n * dt)
            zs.append(z)
        nr = (n - last) >= ref_steps                 # not refractory
        drive = I + lif.bias + eta @ z
        v = np.where(nr, v + dt * (-v + drive) / lif.tau_m, v)
        I_new = I + dt * (-I / lif.tau_r + h)
        h *= 1.0 - dt / lif.tau_d
        r_new = r + dt * (-r / lif.tau_r + hr)
        hr *= 1.0 - dt / lif.tau_d
        I, r = I_new, r_new
        spikes = np.flatnonzero((v >= lif.v_th) & nr)
        if spikes.size:
            last[spikes] = n
            h += W[:, spikes].sum(axis=1) * k_syn
            v[spikes] = lif.v_reset
            hr[spikes] += k_syn
            sp_i.append(spikes)
            sp_t.append(np.full(spikes.size, n * dt))
        m = n - n_settle
        if 0 <= m < n_train and m % rls_every == 0:
            w0 = time.perf_counter()
            err = r @ phi - task(np.array([(n + 1) * dt]))[0]
            rls.update(r, err)
            errs.append(err)
            wall_rls += time.perf_counter() - w0
    wall = time.perf_counter() - wall0
    return ReferenceResult(np.array(ts), np.array(zs).reshape(len(ts), K),
                           np.concatenate(sp_i) if sp_i else np.zeros(0, int),
                           np.concatenate(sp_t) if sp_t else np.zeros(0),
                           phi.copy(), np.array(errs).reshape(len(errs), K), wall - wall_rls, wall_rls)


def run_reference_like(trainer, task, *, settle: float, train: float, test: float,
                       blas_threads: int = 1) -> tuple[ReferenceResult, float, dict]:
    """Run :func:`numpy_force_lif` on the structure and settings of a FORCE trainer.

    ``trainer`` is a :class:`brianforce.methods.force.FORCETrainer` (or anything with its
    ``config`` and ``_draw_structure()``); durations in s. BLAS is pinned to ``blas_threads``
    threads (one, as in the trainer, by default). Returns ``(result, wall_seconds, first_second_metrics)`` with the
    RMSE / amplitude and lag-adjusted correlation of the first second of the test.
    """
    from threadpoolctl import threadpool_limits

    from brianforce.analysis.metrics import lag_adjusted_correlation, normalised_rmse

    weights, eta, v0 = trainer._draw_structure()
    c = trainer.config
    w0 = time.perf_counter()
    with threadpool_limits(limits=int(blas_threads), user_api="blas"):
        ref = numpy_force_lif(weights, eta, v0, lif=c.lif, dt=c.dt, settle=settle, train=train, test=test,
                              task=task, reg=c.reg, rls_every=int(round(c.rls_interval / c.dt)),
                              normalised=bool(c.normalised))
    wall = time.perf_counter() - w0
    keep = ref.t >= settle + train - 1e-12
    n1 = int(round(1.0 / (c.dt * 10)))
    t, z = ref.t[keep][:n1], ref.z[keep][:n1]
    y = task(t + c.dt)
    metrics = {"rmse_over_amplitude": float(normalised_rmse(z, y)[0]),
               "correlation": float(lag_adjusted_correlation(z, y, 50)[0][0])}
    return ref, wall, metrics
