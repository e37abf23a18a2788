"""A LIF-matched rate network with a first-order lead, and the lead calibrated without a decoder.

Not in the paper: a diagnostic for the closed-loop frequency shift of a decoder transferred
between a LIF FORCE network and its instantaneous rate network. LIF neurons whose input is
modulated around threshold fire a few ms ahead of their stationary f–I rate
(:func:`~brianforce.analysis.phase_lead.lif_phase_lead`); :class:`LeadCompensatedRateNetwork`
advances the rate units by such a lead, :func:`calibrate_rate_lead` chooses it from
teacher-forced activity only.

References
----------
Newton TR, Nicola W (2025) Spiking and rate networks trained with FORCE: a parameter-
matched comparison. PLoS Comput Biol 21:e1013224.
"""
from __future__ import annotations

import numpy as np

from brianforce.analysis.phase_lead import unit_lags
from brianforce.checks import as_number
from brianforce.methods.teacher_forcing import teacher_forced_rate_basis
from brianforce.rate.networks import LIFRateNetwork

__all__ = ["LeadCompensatedRateNetwork", "calibrate_rate_lead"]


class LeadCompensatedRateNetwork(LIFRateNetwork):
    """LIF-matched rate network whose units respond to ``I + τ_lead dI/dt`` (not in the paper).

    A diagnostic variant of :class:`~brianforce.rate.networks.LIFRateNetwork`: the stationary f–I
    curve is applied to the total input advanced by a first-order lead,
    ``f_i = f(I_i + τ_lead İ_i)`` (``İ`` by a backward difference over one step). LIF
    neurons driven by a slowly modulated input fire ahead of their stationary f–I rate
    (:func:`~brianforce.analysis.phase_lead.lif_phase_lead`); a lead of a few ms reproduces that advance. With
    ``tau_lead = 0`` it is the instantaneous network exactly.

    Parameters
    ----------
    *args, **kwargs
        As :class:`~brianforce.rate.networks.LIFRateNetwork`.
    tau_lead : float
        The lead (s), a plain SI float, finite and >= 0 (a Brian2 quantity raises
        ``DimensionMismatchError``, a bool ``TypeError``).
    """

    def __init__(self, *args, tau_lead: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.tau_lead = as_number(tau_lead, "tau_lead", low=0.0)
        self._I_prev = None

    def rates_from_input(self, current) -> np.ndarray:
        """Rates (Hz) for total input ``current`` (V) at this step; advances the lead state."""
        from brianforce.neurons import lif_rate

        prev = current if self._I_prev is None else self._I_prev
        self._I_prev = np.array(current, float)
        return lif_rate(current + self.tau_lead * (current - prev) / self.dt, self.lif)

    def _step(self):
        z = self.s @ self.rls_.W
        f = self.rates_from_input(self.bias + self.W @ self.s + self.eta @ z)
        lif, dt = self.lif, self.dt
        s_new = self.s + dt * (-self.s / lif.tau_r + self.hs)
        self.hs += dt * (-self.hs / lif.tau_d + f / (lif.tau_r * lif.tau_d))
        self.s = s_new


def calibrate_rate_lead(comp, task, candidates=(0.0, 2e-3, 4e-3, 6e-3, 8e-3), duration: float = 2.0) -> dict:
    """Choose ``τ_lead`` of a :class:`LeadCompensatedRateNetwork` from teacher-forced activity only.

    Uses the teacher-forced spiking basis of a fitted
    :class:`~brianforce.methods.comparison.MatchedForceComparison` (``comp.open_loop_``) and,
    for each candidate lead, a fresh rate network with the same structure driven by the same
    target (no decoder is involved, so closed-loop results are not used). Returns the median
    spiking-vs-rate unit lead (s) for each candidate and ``tau_lead``, the candidate lead at
    which it crosses zero (linear interpolation; the nearest end of the range otherwise).
    """
    if comp.open_loop_ is None or not task.period:
        raise ValueError("need a fitted comparison with an open-loop test and a periodic task")
    ts, rs, _ = comp.open_loop_["spiking"]
    saved = comp.rate_lead
    every = max(int(round(comp.spiking_.config.record_dt / comp.rate_dt)), 1)
    medians = []
    try:
        for lead in candidates:
            comp.rate_lead = float(lead)
            net = comp._make_rate()
            settle = min(5 * net.lif.tau_d, duration / 4)
            tq, rq, _ = teacher_forced_rate_basis(net, task, duration, record_every=every)
            drop = int(round(settle / (every * comp.rate_dt)))
            medians.append(float(np.median(unit_lags(ts, rs, tq[drop:], rq[drop:], task.period,
                                                     max_lag=task.period / 4))))
    finally:
        comp.rate_lead = saved
    medians = np.array(medians)
    cand = np.asarray(candidates, float)
    if not np.any(np.isfinite(medians)):
        raise ValueError(f"no unit's lag could be measured at any candidate lead ({cand.size} tried): every "
                         "unit was dropped by unit_lags; train longer or record more neurons")
    tau = cand[int(np.nanargmin(np.abs(medians)))]
    for i in range(len(cand) - 1):
        if not (np.isfinite(medians[i]) and np.isfinite(medians[i + 1])):
            continue
        if medians[i] > 0 >= medians[i + 1] or medians[i] < 0 <= medians[i + 1]:
            tau = cand[i] + (cand[i + 1] - cand[i]) * medians[i] / (medians[i] - medians[i + 1])
            break
    return {"candidates": cand, "median_lead": medians, "tau_lead": float(tau)}
