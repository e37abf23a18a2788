"""Nicola & Clopath's FORCE-trained LIF network as their published time-step loop (numpy only).

A line-by-line numpy transcription of the loop of ``LIFFORCESINE.m`` (Nicola & Clopath 2017),
generalised to K outputs, any target function and any phase lengths. It is the reference
that :func:`brianforce.networks.nicola_clopath.nicola_clopath_network` + :class:`FORCE`
reproduce spike for spike; it does not import Brian2.

References
----------
Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE
training. Nat Commun 8:2208 (code: ModelDB 190565, ``LIFFORCESINE.m``).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from brianforce.checks import as_number
from brianforce.neurons import LIFParams

__all__ = ["NicolaClopathLoopResult", "nicola_clopath_loop"]


@dataclass
class NicolaClopathLoopResult:
    """What :func:`nicola_clopath_loop` recorded.

    Steps are the loop's ``i = 1, 2, …`` (time ``i·dt``); Brian2 records the same step at
    ``t = (i − 1)·dt``, the start of its time step.

    Attributes
    ----------
    spike_i, spike_step : ndarray (n_spikes,)
        Neuron and step of every spike, in the order the loop found them (by step, then index).
    spike_t : ndarray (n_spikes,)
        ``spike_step·dt`` (s), as the MATLAB code stores them.
    z : ndarray (n_steps, K)
        Output ``φᵀr`` at the end of every step (before that step's decoder update).
    target : ndarray (n_steps, K)
        Target ``f(i·dt)`` of every step.
    update_steps : ndarray (n_updates,)
        Steps at which the decoder was updated.
    errors : ndarray (n_updates, K)
        A-priori errors ``z − f(i·dt)`` of the updates.
    decoders : ndarray (n_updates, N, K) or None
        φ after each update (``record_decoders=True``).
    phi : ndarray (N, K)
        Final decoder (s: ``r`` is in Hz).
    dt : float
    wall_time : float
        Seconds spent in the loop.
    """

    spike_i: np.ndarray
    spike_step: np.ndarray
    spike_t: np.ndarray
    z: np.ndarray
    target: np.ndarray
    update_steps: np.ndarray
    errors: np.ndarray
    decoders: np.ndarray | None
    phi: np.ndarray
    dt: float
    wall_time: float

    @property
    def t(self) -> np.ndarray:
        """Time of each step as the loop counts it, ``i·dt`` (s)."""
        return np.arange(1, len(self.z) + 1) * self.dt


def _dense(weights) -> np.ndarray:
    if hasattr(weights, "dense"):           # brianforce.networks.connectivity.SparseWeights
        return weights.dense()
    w = np.asarray(weights, dtype=float)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"weights must be a square (post, pre) matrix, got shape {w.shape}")
    return w


def nicola_clopath_loop(weights, encoders, v0, target: Callable | None = None, *, settle: float,
                        train: float = 0.0, test: float = 0.0, alpha: float = 5e-6, dt: float = 5e-5,
                        interval: float = 2.5e-3, lif: LIFParams = LIFParams(), phi0=None,
                        record_decoders: bool = False, refractory: str = "steps") -> NicolaClopathLoopResult:
    r"""Run the published LIF FORCE loop: settle, train by RLS, test (SI floats throughout).

    Per step ``i = 1 … n`` (``t = i·dt``)::

        I = IPSC + E z + BIAS
        v = v + dt·((t > tlast + tref)·(I − v)/τm)        # tlast = 0 at start
        spiking: v ≥ vpeak
        IPSC = IPSC·exp(−dt/τr) + dt·h
        h    = h·exp(−dt/τd) + (Σ_{j spiking} Ω[:, j])/(τr τd)
        r    = r·exp(−dt/τr) + dt·hr
        hr   = hr·exp(−dt/τd) + spike/(τr τd)
        z = φᵀ r
        if RLS step:  e = z − target(t);  c = P r;  φ = φ − c eᵀ;  P = P − c cᵀ/(1 + rᵀc)
        tlast = t, v = vreset for the neurons that spiked

    The refractory test is done on whole steps, ``i > i_last + ⌊τref/dt⌋``, which is what
    ``t > tlast + tref`` means without the rounding of ``i·dt`` (``refractory='steps'``).
    ``refractory='matlab'`` instead repeats the MATLAB code's floating-point test
    ``dt*i > tlast + tref`` with ``tlast = tlast + (dt*i − tlast)·spike``: at dt = 0.05 ms and
    τref = 2 ms, rounding lets a neuron that spiked at step j integrate again one step early (at
    j + 40 instead of j + 41) for about 13 % of the steps j. ``P(0) = α I``.

    RLS steps count from the start of training: with ``step = interval/dt`` and ``n_settle``,
    ``n_train`` the phase lengths in steps, they are ``i = n_settle + 1 + m·step`` for ``m = 0, 1, …``
    while ``i ≤ n_settle + n_train``, i.e. ``(i − 1 − n_settle) mod step = 0`` and
    ``n_settle ≤ i − 1 < n_settle + n_train``: the first step of training and every ``step``-th after
    it. MATLAB's rule, ``mod(i, step) == 1 && imin < i && i < icrit`` with ``imin = n_settle`` and
    ``icrit = n_settle + n_train``, counts the phase from ``i = 1`` instead. The two give the same
    (non-empty) steps exactly when ``n_settle`` is a multiple of ``step``, ``step ≥ 2`` and
    ``n_train mod step ≠ 1``, as for settle and training phases that are whole multiples of an
    interval of two steps or more (``LIFFORCESINE.m``'s). Otherwise they differ: with ``n_settle``
    not a multiple of ``step`` the updates are shifted in phase, with ``n_train mod step = 1`` this
    loop has one more update (at ``i = icrit``), and with ``step = 1`` MATLAB's test never holds.

    Parameters
    ----------
    weights : ndarray (N, N) (post, pre) or SparseWeights
        Static weights Ω in V·s (finite).
    encoders : ndarray (N, K)
        Feedback encoders E in volts (finite).
    v0 : ndarray (N,)
        Initial membrane potentials (V, finite).
    target : callable, optional
        ``target(t)`` for times ``t`` (s, shape (n,)) → (n, K) (a :class:`brianforce.tasks.Task`);
        needed when ``train > 0``.
    settle, train, test : float
        Phase lengths (s, finite, >= 0; each rounded to whole steps of ``dt``): no learning, RLS
        every ``interval``, no learning.
    alpha : float
        ``P(0) = α I`` (``r`` in Hz), finite and > 0.
    dt, interval : float
        Time step and RLS interval (s, > 0); ``interval`` is a multiple of ``dt``.
    lif : LIFParams
        ``v_th`` is N&C's ``vpeak``, ``bias`` their ``BIAS``.
    phi0 : ndarray (N, K), optional
        Initial decoder (default zeros; finite).
    record_decoders : bool
        Keep φ after every update.
    refractory : {'steps', 'matlab'}
        Refractory test on whole steps (as the Brian2 network) or MATLAB's rounding of it.

    Raises
    ------
    ValueError
        A negative or non-finite phase length, ``alpha``, ``dt`` or ``interval`` out of range, an
        ``interval`` that is not a multiple of ``dt``, a wrong shape (of ``target(t)`` too), NaN or
        Inf in ``weights``, ``encoders``, ``v0``, ``phi0`` or ``target(t)``, or ``train > 0``
        without a ``target``.
    """
    if refractory not in ("steps", "matlab"):
        raise ValueError(f"refractory must be 'steps' or 'matlab', got {refractory!r}")
    matlab = refractory == "matlab"
    dt = as_number(dt, "dt", low=0.0, low_open=True)
    interval = as_number(interval, "interval", low=0.0, low_open=True)
    alpha = as_number(alpha, "alpha", low=0.0, low_open=True)
    settle, train, test = (as_number(x, name, low=0.0) for x, name in
                           ((settle, "settle"), (train, "train"), (test, "test")))
    W = _dense(weights)
    N = W.shape[0]
    E = np.asarray(encoders, dtype=float)
    if E.ndim == 1:
        E = E[:, None]
    K = E.shape[1]
    if E.shape != (N, K):
        raise ValueError(f"encoders must have shape ({N}, K), got {E.shape}")
    v = np.array(v0, dtype=float)
    if v.shape != (N,):
        raise ValueError(f"v0 must have shape ({N},), got {v.shape}")
    if phi0 is None:
        phi = np.zeros((N, K))
    else:
        phi = np.array(phi0, dtype=float)
        if phi.shape != (N, K) and not (K == 1 and phi.shape == (N,)):
            raise ValueError(f"phi0 must have shape ({N}, {K}) (neurons, outputs), got {phi.shape}")
        phi = phi.reshape(N, K)
    for name, a in (("weights", W), ("encoders", E), ("v0", v), ("phi0", phi)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{name} contains NaN or Inf")
    n_settle, n_train, n_test = (int(round(x / dt)) for x in (settle, train, test))
    step = int(round(interval / dt))
    if step < 1 or abs(interval / dt - step) > 1e-6:
        raise ValueError(f"interval ({interval}) must be a multiple of dt ({dt})")
    n_steps = n_settle + n_train + n_test
    n_ref = int(math.floor(lif.tau_ref / dt + 1e-9))
    tm, tr, td, vpeak, vreset, bias = lif.tau_m, lif.tau_r, lif.tau_d, lif.v_th, lif.v_reset, lif.bias
    er, ed = math.exp(-dt / tr), math.exp(-dt / td)
    upd = np.arange(n_settle, n_settle + n_train, step) + 1            # loop steps i of the RLS
    if len(upd) and target is None:
        raise ValueError("a target is needed to train")
    all_t = np.arange(1, n_steps + 1) * dt
    if target is None:
        y = np.full((n_steps, K), np.nan)
    else:
        y = np.asarray(target(all_t), dtype=float)
        if y.shape != (n_steps, K) and not (K == 1 and y.shape == (n_steps,)):
            raise ValueError(f"target(t) must return shape ({n_steps}, {K}) (times, outputs) for t of shape "
                             f"({n_steps},), got {y.shape}")
        y = y.reshape(n_steps, K)
        if not np.all(np.isfinite(y)):
            raise ValueError(f"target(t) contains NaN or Inf (first at t = {all_t[np.argmax(~np.isfinite(y).all(1))]:g} s)")

    WT = np.ascontiguousarray(W.T)            # row j: what presynaptic neuron j sends
    P = np.eye(N) * alpha
    IPSC, h, r, hr = np.zeros(N), np.zeros(N), np.zeros(N), np.zeros(N)
    z = np.zeros(K)
    ilast = np.zeros(N, dtype=np.int64)       # tlast = 0 (as a step)
    tlast = np.zeros(N)                       # tlast = 0 (as MATLAB's float, refractory='matlab')
    tref = lif.tau_ref
    zs = np.empty((n_steps, K))
    errs = np.empty((len(upd), K))
    decs = np.empty((len(upd), N, K)) if record_decoders else None
    sp_i, sp_n = [], []
    u = 0
    is_update = np.zeros(n_steps + 2, dtype=bool)
    is_update[upd] = True
    w0 = time.perf_counter()
    for i in range(1, n_steps + 1):
        I = IPSC + E @ z + bias
        free = (dt * i > tlast + tref) if matlab else (i > ilast + n_ref)
        v = v + dt * (free * (I - v) / tm)
        spiking = v >= vpeak
        index = np.flatnonzero(spiking)
        IPSC = IPSC * er + dt * h
        if len(index):
            h = h * ed + WT[index].sum(axis=0) / (tr * td)
            sp_i.append(index)
            sp_n.append(len(index))
        else:
            h = h * ed
            sp_n.append(0)
        r = r * er + dt * hr
        hr = hr * ed + spiking / (tr * td)
        z = phi.T @ r
        if is_update[i]:
            err = z - y[i - 1]
            cd = P @ r
            phi -= np.outer(cd, err)
            P -= np.outer(cd, cd) / (1 + r @ cd)
            errs[u] = err
            if decs is not None:
                decs[u] = phi
            u += 1
        zs[i - 1] = z
        ilast[index] = i
        if matlab:
            tlast[index] = tlast[index] + (dt * i - tlast[index])
        v[index] = vreset
    wall = time.perf_counter() - w0
    spike_i = np.concatenate(sp_i) if sp_i else np.zeros(0, dtype=np.int64)
    spike_step = np.repeat(np.arange(1, n_steps + 1), sp_n)
    return NicolaClopathLoopResult(spike_i, spike_step, spike_step * dt, zs, y, upd, errs, decs, phi.copy(), dt, wall)
