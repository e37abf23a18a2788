"""Open-loop (teacher-forced) runs of trained spiking and rate FORCE networks.

The feedback of the network is clamped to the target ``y`` instead of the decoded output, as
during a perfect FORCE training step, and its filtered rates are recorded: the neural basis a
decoder is read from, independent of the decoder (Newton & Nicola's open-loop transfer test).

References
----------
Newton TR, Nicola W (2025) Spiking and rate networks trained with FORCE: a parameter-
matched comparison. PLoS Comput Biol 21:e1013224.
"""
from __future__ import annotations

import numpy as np
from brian2 import second, volt

from brianforce.blas import one_blas_thread
from brianforce.naming import own_clock, timed_table
from brianforce.rate.networks import LIFRateNetwork
from brianforce.methods.force import FORCETrainer

__all__ = ["teacher_forced_rate_basis", "teacher_forced_spiking_basis"]


def teacher_forced_rate_basis(net: LIFRateNetwork, task, duration: float, record_every: int = 1):
    """Run a :class:`~brianforce.rate.networks.LIFRateNetwork` open loop, its feedback clamped to the target.

    Each step uses ``f = f_LIF(bias + ω s + η y(t))`` with the target ``y`` in place of the
    decoded output ``z = φᵀ s`` (teacher forcing, as during a perfect FORCE training step);
    the decoder is neither used nor changed. The network state advances, as in ``predict``.

    Returns
    -------
    t : ndarray (T,), s; rates : ndarray (T, N), Hz (the regressor ``s``); target : ndarray (T, K)
    """
    from brianforce.neurons import lif_rate

    n_steps = int(round(duration / net.dt))
    if n_steps < 1:
        raise ValueError("duration shorter than one step")
    t_steps = net.t_ + net.dt * np.arange(n_steps)
    y = task(t_steps)  # target at the start of each step, shape (n_steps, K)
    lif, dt = net.lif, net.dt
    ts, rs = [], []
    rate_of = getattr(net, "rates_from_input", None) or (lambda current: lif_rate(current, lif))
    for n in range(n_steps):
        f = rate_of(net.bias + net.W @ net.s + net.eta @ y[n])
        s_new = net.s + dt * (-net.s / lif.tau_r + net.hs)
        net.hs += dt * (-net.hs / lif.tau_d + f / (lif.tau_r * lif.tau_d))
        net.s = s_new
        net.t_ += dt
        if n % record_every == 0:
            ts.append(net.t_)
            rs.append(net.s.copy())
    t = np.array(ts)
    return t, np.array(rs), task(t)


def teacher_forced_spiking_basis(trainer: FORCETrainer, task, duration: float):
    """Run a trained LIF FORCE network open loop, its feedback clamped to the target.

    The decoder is set to zero for the run (so ``z = 0``) and the feedback current
    ``Σ_k η_k y_k(t)`` is applied through the neurons' ``I_ext``; the filtered spike trains
    ``r`` of all neurons are recorded every ``record_dt``. The decoder is restored after the
    run. Returns ``t`` (T,), s; ``r`` (T, N), Hz; ``target`` (T, K).
    """
    from brian2 import StateMonitor
    from brian2.groups.group import CodeRunner

    trainer._check_fitted()
    c = trainer.config
    net, group = trainer._net, trainer.network_.neurons
    t_net = float(net.t_)
    n_total = int(round((t_net + duration) / c.dt)) + 2
    y = task(trainer._t0 + np.arange(n_total) * c.dt)  # y[k] at network time k·dt
    # names fixed by the group's (generated code is named after them): a later run compiles nothing
    arrays = {f"tf_{k}": timed_table(np.ascontiguousarray(y[:, k], dtype=float), c.dt * second, f"{group.name}_tf_{k}")
              for k in range(c.n_outputs)}
    expr = " + ".join(f"eta_{k}*tf_{k}(t)" for k in range(c.n_outputs))
    # a CodeRunner not attached to the group (run_regularly would stay in later runs); the
    # neurons resolve names in their own namespace, which holds the TimedArrays for this run only
    op = CodeRunner(group, "stateupdate", code=f"I_ext = {expr}", when="start", clock=group.clock,
                    name=f"teacher_forcing_{group.name}")
    group.namespace.update(arrays)
    mon = StateMonitor(group, "r", record=True, when="end",
                       clock=own_clock(f"r_teacher_{group.name}", c.record_dt * second), name=f"r_teacher_{group.name}")
    phi = trainer._phi.copy()
    trainer._phi[:] = 0.0
    net.add(op, mon)
    try:
        with one_blas_thread():
            net.run(duration * second, namespace={})
    finally:
        net.remove(op, mon)
        for name in arrays:
            group.namespace.pop(name, None)
        group.I_ext = 0 * volt
        trainer._phi[:] = phi
    t = trainer._t0 + np.asarray(mon.t_)
    return t, np.asarray(mon.r_).T.copy(), task(t + c.dt)
