"""Spiking vs parameter-matched rate FORCE networks (Newton & Nicola 2025).

A LIF FORCE network (Brian2, :class:`~brianforce.methods.force.FORCETrainer`) and its
instantaneous rate network (numpy, :class:`~brianforce.rate.networks.LIFRateNetwork`) are built
from the *same* static weights ω, encoders η, bias, synaptic filter and RLS
hyperparameters and trained on the same task. :class:`MatchedForceComparison` then
measures the correlation of the two learned decoders φ, swaps them (spiking → rate and
rate → spiking) and measures the error of the receiving network both open loop (its
feedback clamped to the target, :mod:`brianforce.methods.teacher_forcing`) and closed loop
(free running), fits a cross-trial firing-rate decoder and projects the decoders on the
principal components of the neural basis (:mod:`brianforce.analysis.decoders`).

Closed loop, a transferred decoder shifts the oscillation frequency of the receiving
network: LIF neurons whose input is modulated around threshold fire a few ms ahead of the
stationary f–I rate of the instantaneous rate units (:mod:`brianforce.analysis.phase_lead`),
so each decoder carries a phase error into the other network's feedback loop. The lead is the
LIF's own dynamics (it does not change with the time step or the synaptic filter, and mean
rates match the f–I curve); the resulting closed-loop frequency shift, about ±30 % with a
20 ms synaptic decay at 2–5 Hz, roughly halves with a 50 ms decay shared by both networks
(``tau_d``), which makes free-running transfer hold for 2 Hz tasks. A lead-compensated rate
network (not in the paper, :mod:`brianforce.methods.lead_compensation`) tests this
explanation.

The analysis functions, the teacher-forced runs and the lead-compensated network are
importable from here too.

References
----------
Newton TR, Nicola W (2025) Spiking and rate networks trained with FORCE: a parameter-
matched comparison. PLoS Comput Biol 21:e1013224.
Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE
training. Nat Commun 8:2208.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from brian2 import mV, ms, second, volt

from brianforce.analysis.decoders import (PCProjection, cross_trial_decoder, decoder_correlation,
                                          decoder_pc_projection, filtered_rates_from_spikes, lag_adjusted_error,
                                          offline_rls_decoder, rls_pc_gain)
from brianforce.analysis.metrics import normalised_rmse
from brianforce.analysis.phase_lead import lif_phase_lead, unit_lags
from brianforce.heap import on_frozen_heap
from brianforce.methods.force import FORCETrainer, as_task
from brianforce.methods.lead_compensation import LeadCompensatedRateNetwork, calibrate_rate_lead
from brianforce.methods.teacher_forcing import teacher_forced_rate_basis, teacher_forced_spiking_basis
from brianforce.rate.networks import LIFRateNetwork
from brianforce.seeding import rng_for
from brianforce.units import as_positive_si, as_si

__all__ = ["MatchedForceComparison", "ComparisonResult", "PCProjection", "decoder_correlation",
           "filtered_rates_from_spikes", "cross_trial_decoder", "decoder_pc_projection", "rls_pc_gain",
           "lag_adjusted_error", "offline_rls_decoder", "teacher_forced_rate_basis", "lif_phase_lead",
           "LeadCompensatedRateNetwork", "unit_lags", "calibrate_rate_lead",
           "teacher_forced_spiking_basis"]


# ---------------------------------------------------------------------- results
@dataclass
class ComparisonResult:
    """Metrics of one matched spiking/rate comparison.

    Errors are RMSE / target amplitude of the free-running (closed-loop) test after the
    best time shift (:func:`lag_adjusted_error`): for periodic tasks chosen per period among
    shifts of up to half a period (the oscillator's phase is free; phase drift is not
    counted, a wrong frequency or waveform is); ``*_whole`` use one shift of up to a quarter
    period for the whole test (non-periodic tasks: one shift of up to 50 ms).

    ``*_error`` are test errors of each network with its own decoder;
    ``spike_to_rate_error`` is the rate network's error with the spiking decoder and
    ``rate_to_spike_error`` the spiking network's with the rate decoder.
    ``*_frequency`` are the dominant frequencies (Hz) of these four closed-loop outputs.

    ``*_error_open`` are *decoding* errors with teacher-forced feedback: the receiving
    network runs open loop with its feedback ``η z`` replaced by ``η y`` (the target, as
    during a perfect FORCE training step, :func:`teacher_forced_spiking_basis`,
    :func:`teacher_forced_rate_basis`) and its filtered rates are decoded with its own or
    the transferred decoder; RMSE / amplitude with no time shift, after a 5 τ_d transient.

    The cross-trial decoder φ_ct is ridge regression (λ = 1/α, the RLS solution) on the
    spiking network's trial-averaged filtered rates, trials aligned to the target (taken
    from the teacher-forced run when there is one). ``cross_trial_error`` is its error on
    those averages, ``cross_trial_error_open_*`` its open-loop decoding error on single
    trials of each network, ``cross_trial_error_closed_*`` the closed-loop (free-running)
    error of each network with φ_ct as its decoder.
    """

    alpha: float
    decoder_correlation: float
    spiking_error: float
    rate_error: float
    spike_to_rate_error: float
    rate_to_spike_error: float
    spiking_error_whole: float = float("nan")
    rate_error_whole: float = float("nan")
    spike_to_rate_error_whole: float = float("nan")
    rate_to_spike_error_whole: float = float("nan")
    cross_trial_correlation_spiking: float = float("nan")
    cross_trial_correlation_rate: float = float("nan")
    cross_trial_error: float = float("nan")
    spiking_error_open: float = float("nan")
    rate_error_open: float = float("nan")
    spike_to_rate_error_open: float = float("nan")
    rate_to_spike_error_open: float = float("nan")
    cross_trial_error_open_spiking: float = float("nan")
    cross_trial_error_open_rate: float = float("nan")
    cross_trial_error_closed_spiking: float = float("nan")
    cross_trial_error_closed_rate: float = float("nan")
    spiking_frequency: float = float("nan")
    rate_frequency: float = float("nan")
    spike_to_rate_frequency: float = float("nan")
    rate_to_spike_frequency: float = float("nan")

    @property
    def spike_to_rate_ratio(self) -> float:
        """Closed loop: receiving (rate) network's error with the transferred decoder / with its own."""
        return self.spike_to_rate_error / self.rate_error

    @property
    def rate_to_spike_ratio(self) -> float:
        """Closed loop: spiking network's error with the rate decoder / with its own."""
        return self.rate_to_spike_error / self.spiking_error

    @property
    def spike_to_rate_ratio_open(self) -> float:
        """Open loop (teacher-forced feedback): rate network decoded with φ_spiking / with φ_rate."""
        return self.spike_to_rate_error_open / self.rate_error_open

    @property
    def rate_to_spike_ratio_open(self) -> float:
        """Open loop (teacher-forced feedback): spiking network decoded with φ_rate / with φ_spiking."""
        return self.rate_to_spike_error_open / self.spiking_error_open

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        for k in ("spike_to_rate_ratio", "rate_to_spike_ratio", "spike_to_rate_ratio_open",
                  "rate_to_spike_ratio_open"):
            d[k] = getattr(self, k)
        return d

    def to_frame(self):
        """One row: the fields and ratios of :meth:`as_dict` as columns (errors are RMSE / amplitude,
        frequencies in Hz)."""
        import pandas as pd

        return pd.DataFrame([self.as_dict()])


def _err(z, target) -> float:
    if not np.all(np.isfinite(z)):
        return float("inf")
    return float(np.max(normalised_rmse(z, target)))


class MatchedForceComparison:
    """Train a LIF FORCE network and its parameter-matched rate network; compare them.

    Newton & Nicola's settings are the defaults: connection probability 0.4, encoders
    ``η ~ U(−Q/2, Q/2)``, RLS every 5 ms with ``P(0) = α·I`` in both networks.

    Parameters
    ----------
    n_neurons, n_outputs : int
    p : float
    G : Quantity (volt*second)
        Static weight scale.
    Q : Quantity (volt)
        Encoder range: ``η ~ U(−Q/2, Q/2)``.
    alpha : float
        RLS learning rate (Nicola–Clopath convention, r in Hz); the same in both networks.
    rls_interval, dt : Quantity (second)
        RLS interval and the spiking network's time step.
    rate_dt : Quantity (second)
        Euler step of the rate network (no spikes to resolve; a multiple dividing
        ``rls_interval``).
    divergence_factor : float
        Training error bound (target amplitudes) before :class:`TrainingDiverged`.
    rate_lead : Quantity (second)
        ``0`` (default, the paper's instantaneous network) or the lead ``τ_lead`` of a
        :class:`LeadCompensatedRateNetwork` (diagnostic variant, not in the paper).
    tau_r, tau_d : Quantity (second)
        Synaptic rise and decay of the double-exponential filter, shared by both networks
        (default 2 ms and 20 ms, Nicola & Clopath).
    seed : int

    Attributes
    ----------
    spiking_ : FORCETrainer
    rate_ : LIFRateNetwork
    result_ : ComparisonResult
    spiking_test_ : SimulationResult
    rate_test_ : RateResult
    spiking_rates_ : ndarray (T, N)
        Filtered spike trains (Hz) during the spiking test (first period dropped).
    phi_spiking_, phi_rate_, phi_cross_trial_ : ndarray (N, K), seconds
    open_loop_ : dict or None
        ``{"spiking": (t, r, y), "rate": (t, s, y)}``: teacher-forced test of each network.
    transfer_tests_ : dict
        Closed-loop tests with swapped decoders (``rate_to_spike``, ``spike_to_rate``) and
        with the cross-trial decoder (``cross_trial_spiking``, ``cross_trial_rate``).
    """

    def __init__(self, n_neurons: int = 500, n_outputs: int = 1, *, p: float = 0.4, G=0.04 * mV * second,
                 Q=20 * mV, alpha: float = 5e-6, rls_interval=5 * ms, dt=0.05 * ms, rate_dt=0.25 * ms,
                 divergence_factor: float = 100.0, rate_lead=0 * ms, tau_r=2 * ms, tau_d=20 * ms,
                 seed: int = 0):
        if not (isinstance(alpha, (int, float, np.floating)) and np.isfinite(alpha) and alpha > 0):
            raise ValueError(f"alpha must be a finite number > 0, got {alpha!r}")
        q = float(as_si(Q, volt, "Q"))
        if q < 0:
            raise ValueError(f"Q must be >= 0, got {Q}")
        interval = as_positive_si(rls_interval, second, "rls_interval")
        rdt = as_positive_si(rate_dt, second, "rate_dt")
        every = interval / rdt
        if abs(every - round(every)) > 1e-6:
            raise ValueError("rls_interval must be a multiple of rate_dt")
        self.alpha = float(alpha)
        self.rate_lead = float(as_si(rate_lead, second, "rate_lead"))
        if self.rate_lead < 0:
            raise ValueError(f"rate_lead must be >= 0 s, got {rate_lead}")
        self.rate_dt, self.rate_rls_every = rdt, int(round(every))
        # FORCETrainer draws η ~ U(−Q', Q'): pass Q' = Q/2 for Newton & Nicola's U(−Q/2, Q/2).
        self.spiking_ = FORCETrainer(n_neurons, n_outputs, p=p, G=G, Q=(q / 2) * volt, alpha=alpha,
                                     rls_interval=rls_interval, dt=dt, divergence_factor=divergence_factor,
                                     n_record=n_neurons, tau_r=tau_r, tau_d=tau_d, seed=seed, device="runtime")
        self.seed = self.spiking_.config.seed

    def _make_rate(self):
        tr = self.spiking_
        c = tr.config
        weights, eta, _ = tr._draw_structure()
        kwargs = dict(lif=c.lif, dt=self.rate_dt, reg=c.reg, rls_every=self.rate_rls_every,
                      normalised=c.normalised, record_every=1,
                      initial_rates=rng_for(c.seed, "rate_initial_state").random(c.n_neurons) * 20.0)
        if self.rate_lead > 0:
            net = LeadCompensatedRateNetwork(weights, eta, tau_lead=self.rate_lead, **kwargs)
        else:
            net = LIFRateNetwork(weights, eta, **kwargs)
        net.divergence_factor = c.divergence_factor
        if c.n_neurons <= 2000:
            net.W = net.W.toarray()  # dense matvec is several times faster at these sizes
        return net

    @on_frozen_heap
    def fit(self, task, settle=0.5 * second, train=2 * second, test=1 * second, cross_trial: bool = True,
            open_loop=None):
        """Train both networks, test each, swap decoders and test again.

        Parameters
        ----------
        task : Task
        settle, train, test : Quantity (second)
        cross_trial : bool
            Also fit the cross-trial firing-rate decoder (periodic tasks only).
        open_loop : Quantity (second), optional
            Duration of the teacher-forced (open-loop) decoding tests of both networks;
            default ``test``; ``0 * second`` skips them.

        Raises
        ------
        TrainingDiverged
            If either network's RLS training diverges (step and time in the message).
        """
        from brianforce.analysis.metrics import dominant_frequency

        task = as_task(task, self.spiking_.config.n_outputs)
        settle_s = float(as_si(settle, second, "settle"))
        train_s = as_positive_si(train, second, "train")
        test_s = as_positive_si(test, second, "test")
        open_s = test_s if open_loop is None else float(as_si(open_loop, second, "open_loop"))
        tr = self.spiking_
        tr.fit(task, settle=settle_s * second, train=train_s * second)
        rate = self.rate_ = self._make_rate()
        rate.fit(task, settle=settle_s, train=train_s)
        n_upd = tr.rls_.n_updates

        self.spiking_test_ = s_own = tr.predict(test_s * second)
        self.rate_test_ = r_own = rate.predict(test_s, record_activity=tr.config.n_neurons)
        phi_s, phi_r = tr._phi.copy(), rate.rls_.W.copy()
        self.phi_spiking_, self.phi_rate_ = phi_s, phi_r
        s_from_r = self._closed_loop_spiking(phi_r, test_s)
        r_from_s = self._closed_loop_rate(phi_s, test_s)
        self.transfer_tests_ = {"rate_to_spike": s_from_r, "spike_to_rate": r_from_s}

        lif = tr.config.lif
        rec_dt = float(np.median(np.diff(s_own.t)))
        rates = filtered_rates_from_spikes(s_own.spike_i, s_own.spike_t, tr.config.n_neurons, s_own.t,
                                           lif.tau_r, lif.tau_d)
        drop = int(round(min(5 * lif.tau_d, test_s / 4) / rec_dt))
        self.spiking_rates_ = rates[drop:]
        lag_s = (task.period / 4) if task.period else 0.05
        ls = int(round(lag_s / rec_dt))
        lr = int(round(lag_s / self.rate_dt))
        ws = int(round(4 * ls)) if task.period else None
        wr = int(round(4 * lr)) if task.period else None
        pairs = [(s_own, ls, ws), (r_own, lr, wr), (r_from_s, lr, wr), (s_from_r, ls, ws)]
        # per period, any phase (shift up to half a period): a free-running oscillator's phase
        # relative to the target is arbitrary after a decoder swap and drifts with a small
        # frequency error; shape, amplitude and a frequency error within a period still count
        half = 2 if task.period else 1
        per = [lag_adjusted_error(r.z, r.target, half * lag, win) for r, lag, win in pairs]
        whole = [lag_adjusted_error(r.z, r.target, lag) for r, lag, _ in pairs]
        result = ComparisonResult(self.alpha, decoder_correlation(phi_s, phi_r), *per, *whole)
        freqs = [float(dominant_frequency(r.z, float(np.median(np.diff(r.t))))[0])
                 if np.all(np.isfinite(r.z)) else float("nan") for r, _, _ in pairs]
        (result.spiking_frequency, result.rate_frequency, result.spike_to_rate_frequency,
         result.rate_to_spike_frequency) = freqs

        # open loop: feedback clamped to the target, rates decoded with own / transferred decoder
        self.open_loop_ = None
        ct_rates, ct_t, ct_y = self.spiking_rates_, s_own.t[drop:], s_own.target[drop:]
        if open_s > 0:
            ts, rs, ys = teacher_forced_spiking_basis(tr, task, open_s)
            every = max(int(round(tr.config.record_dt / self.rate_dt)), 1)
            tq, rq, yq = teacher_forced_rate_basis(rate, task, open_s, record_every=every)
            ds = int(round(min(5 * lif.tau_d, open_s / 4) / rec_dt))
            dq = int(round(min(5 * lif.tau_d, open_s / 4) / (every * self.rate_dt)))
            self.open_loop_ = {"spiking": (ts[ds:], rs[ds:], ys[ds:]), "rate": (tq[dq:], rq[dq:], yq[dq:])}
            result.spiking_error_open = _err(rs[ds:] @ phi_s, ys[ds:])
            result.rate_to_spike_error_open = _err(rs[ds:] @ phi_r, ys[ds:])
            result.rate_error_open = _err(rq[dq:] @ phi_r, yq[dq:])
            result.spike_to_rate_error_open = _err(rq[dq:] @ phi_s, yq[dq:])
            ct_rates, ct_t, ct_y = rs[ds:], ts[ds:], ys[ds:]
        self.phi_cross_trial_ = None
        if cross_trial and task.period and ct_t[-1] - ct_t[0] + rec_dt >= 2 * task.period - 1e-9:
            phi_ct, mean_r, mean_y = cross_trial_decoder(ct_rates, ct_t, ct_y, task.period, tr.config.reg, n_upd)
            self.phi_cross_trial_ = phi_ct
            result.cross_trial_correlation_spiking = decoder_correlation(phi_ct, phi_s)
            result.cross_trial_correlation_rate = decoder_correlation(phi_ct, phi_r)
            result.cross_trial_error = _err(mean_r @ phi_ct, mean_y)
            if self.open_loop_ is not None:
                _, rs_, ys_ = self.open_loop_["spiking"]
                _, rq_, yq_ = self.open_loop_["rate"]
                result.cross_trial_error_open_spiking = _err(rs_ @ phi_ct, ys_)
                result.cross_trial_error_open_rate = _err(rq_ @ phi_ct, yq_)
            s_ct, r_ct = self._closed_loop_spiking(phi_ct, test_s), self._closed_loop_rate(phi_ct, test_s)
            self.transfer_tests_.update({"cross_trial_spiking": s_ct, "cross_trial_rate": r_ct})
            result.cross_trial_error_closed_spiking = lag_adjusted_error(s_ct.z, s_ct.target, 2 * ls, ws)
            result.cross_trial_error_closed_rate = lag_adjusted_error(r_ct.z, r_ct.target, 2 * lr, wr)
        self.result_ = result
        return self

    def _closed_loop_spiking(self, phi, duration: float):
        """Free-running test of the spiking network with decoder ``phi`` (own decoder restored)."""
        tr = self.spiking_
        own = tr._phi.copy()
        tr._phi[:] = phi
        try:
            return tr.predict(duration * second)
        finally:
            tr._phi[:] = own

    def _closed_loop_rate(self, phi, duration: float):
        """Free-running test of the rate network with decoder ``phi`` (own decoder restored)."""
        own = self.rate_.rls_.W.copy()
        self.rate_.rls_.W[:] = phi
        try:
            return self.rate_.predict(duration)
        finally:
            self.rate_.rls_.W[:] = own
