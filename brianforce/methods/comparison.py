"""Spiking vs parameter-matched rate FORCE networks (Newton & Nicola 2025).

A LIF FORCE network (Brian2, :class:`~brianforce.methods.force.FORCETrainer`) and its
instantaneous rate network (numpy, :class:`~brianforce.rate.networks.LIFRateNetwork`) are built
from the *same* static weights ω, encoders η, bias, synaptic filter and RLS
hyperparameters and trained on the same task. :class:`MatchedForceComparison` then
measures the correlation of the two learned decoders φ, swaps them (spiking → rate and
rate → spiking) and measures the error of the receiving network both open loop (its
feedback clamped to the target, :func:`teacher_forced_spiking_basis`,
:func:`teacher_forced_rate_basis`) and closed loop (free running), fits a cross-trial
firing-rate decoder and projects the decoders on the principal components of the neural
basis.

Closed loop, a transferred decoder shifts the oscillation frequency of the receiving
network: LIF neurons whose input is modulated around threshold fire a few ms ahead of the
stationary f–I rate of the instantaneous rate units (:func:`lif_phase_lead`,
:func:`unit_lags`), so each decoder carries a phase error into the other network's
feedback loop. The lead is the LIF's own dynamics (it does not change with the time step or
the synaptic filter, and mean rates match the f–I curve); the resulting closed-loop
frequency shift, about ±30 % with a 20 ms synaptic decay at 2–5 Hz, roughly halves with a
50 ms decay shared by both networks (``tau_d``), which makes free-running transfer hold for
2 Hz tasks. :class:`LeadCompensatedRateNetwork` (not in the paper) advances the rate
units by a lead calibrated on teacher-forced activity (:func:`calibrate_rate_lead`) to
test this explanation.

The analysis helpers (:func:`decoder_correlation`, :func:`filtered_rates_from_spikes`,
:func:`cross_trial_decoder`, :func:`decoder_pc_projection`, :func:`rls_pc_gain`) are
plain numpy on SI floats (seconds, hertz, volts).

References
----------
Newton TR, Nicola W (2025) Spiking and rate networks trained with FORCE: a parameter-
matched comparison. PLoS Comput Biol 21:e1013224.
Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE
training. Nat Commun 8:2208.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from brian2 import mV, ms, second, volt
from threadpoolctl import threadpool_limits

from brianforce.analysis.metrics import normalised_rmse
from brianforce.rate.networks import LIFRateNetwork
from brianforce.seeding import rng_for
from brianforce.methods.force import FORCETrainer, as_task
from brianforce.units import as_positive_si, as_si

__all__ = ["MatchedForceComparison", "ComparisonResult", "PCProjection", "decoder_correlation",
           "filtered_rates_from_spikes", "cross_trial_decoder", "decoder_pc_projection", "rls_pc_gain",
           "lag_adjusted_error", "offline_rls_decoder", "teacher_forced_rate_basis", "lif_phase_lead",
           "LeadCompensatedRateNetwork", "unit_lags", "calibrate_rate_lead",
           "teacher_forced_spiking_basis"]


# ---------------------------------------------------------------------- numpy analysis
def decoder_correlation(phi_a, phi_b) -> float:
    """Pearson correlation between two decoders (all entries, shape (N, K))."""
    a = np.asarray(phi_a, float).ravel()
    b = np.asarray(phi_b, float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"decoder shapes differ: {np.shape(phi_a)} vs {np.shape(phi_b)}")
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a @ a) * (b @ b))
    return float(a @ b / denom) if denom > 0 else 0.0


def filtered_rates_from_spikes(spike_i, spike_t, n_neurons: int, t, tau_r: float, tau_d: float) -> np.ndarray:
    """Double-exponentially filtered spike trains (Hz) sampled at the times ``t`` (s).

    Each spike adds the kernel ``(e^{−s/τ_d} − e^{−s/τ_r})/(τ_d − τ_r)`` (unit area),
    the filter that produces the regressor ``r`` of the LIF network; spikes are binned
    on the (uniform) grid ``t``, so the result lags ``r`` by at most one sample. Spikes
    before ``t[0]`` are ignored (discard a few ``τ_d`` of transient).

    Returns
    -------
    ndarray (len(t), n_neurons)
    """
    t = np.asarray(t, float)
    if t.ndim != 1 or len(t) < 2:
        raise ValueError("t must be a 1-d grid with at least two samples")
    if not (tau_r > 0 and tau_d > 0) or tau_r == tau_d:
        raise ValueError("need tau_r > 0, tau_d > 0 and tau_r != tau_d")
    dt = float(np.median(np.diff(t)))
    spike_i, spike_t = np.asarray(spike_i, int), np.asarray(spike_t, float)
    k = np.floor((spike_t - t[0]) / dt + 1e-9).astype(int)
    keep = (k >= 0) & (k < len(t))
    counts = np.zeros((len(t), n_neurons))
    np.add.at(counts, (k[keep], spike_i[keep]), 1.0)
    from scipy.signal import lfilter

    xs = [lfilter([1.0], [1.0, -np.exp(-dt / tau)], counts, axis=0) for tau in (tau_d, tau_r)]
    return (xs[0] - xs[1]) / (tau_d - tau_r)


def cross_trial_decoder(rates, t, target, period: float, reg: float, n_updates: int, n_bins: int | None = None):
    """Ridge decoder fitted to trial-averaged firing rates (one trial = one period).

    Rates are averaged across trials at each phase bin; the decoder is the batch RLS
    solution on those averages, ``φ = (n R̄ᵀR̄/M + reg·I)⁻¹ n R̄ᵀȳ/M`` with ``n`` RLS
    updates and ``M`` phase bins, i.e. the solution FORCE would reach if every update
    saw the cross-trial mean rates instead of one trial's spikes.

    Parameters
    ----------
    rates : ndarray (T, N), Hz
    t : ndarray (T,), s
    target : ndarray (T, K)
    period : float (s)
    reg : float
        Ridge parameter ``1/alpha``.
    n_updates : int
    n_bins : int, optional
        Phase bins per period (default: samples per period).

    Returns
    -------
    phi : ndarray (N, K), seconds; mean_rates : ndarray (M, N); mean_target : ndarray (M, K)
    """
    rates, t, target = np.asarray(rates, float), np.asarray(t, float), np.asarray(target, float)
    if target.ndim == 1:
        target = target[:, None]
    if not period or period <= 0:
        raise ValueError("a cross-trial decoder needs a periodic task (period > 0)")
    dt = float(np.median(np.diff(t)))
    if t[-1] - t[0] + dt < 2 * period - 1e-9:
        raise ValueError("need at least two trials (periods) of activity")
    m = n_bins or max(int(round(period / dt)), 2)
    b = np.floor((t % period) / period * m + 0.5).astype(int) % m  # nearest bin (robust to round-off)
    cnt = np.bincount(b, minlength=m).astype(float)
    if np.any(cnt == 0):
        raise ValueError("some phase bins are empty; use fewer bins")
    mean_r = np.zeros((m, rates.shape[1]))
    np.add.at(mean_r, b, rates)
    mean_r /= cnt[:, None]
    mean_y = np.zeros((m, target.shape[1]))
    np.add.at(mean_y, b, target)
    mean_y /= cnt[:, None]
    scale = n_updates / m
    A = scale * mean_r.T @ mean_r + reg * np.eye(rates.shape[1])
    phi = np.linalg.solve(A, scale * mean_r.T @ mean_y)
    return phi, mean_r, mean_y


@dataclass
class PCProjection:
    """A decoder expressed on the principal components of a neural basis.

    Attributes
    ----------
    eigenvalues : ndarray (N,)
        Eigenvalues of the uncentred second moment ``RᵀR/T`` (Hz²), descending.
    components : ndarray (N, N)
        Eigenvectors (columns).
    coefficients : ndarray (N, K)
        ``componentsᵀ φ``.
    """

    eigenvalues: np.ndarray
    components: np.ndarray
    coefficients: np.ndarray

    def power_fraction(self, k: int) -> float:
        """Fraction of ``|φ|²`` carried by the ``k`` leading components."""
        c2 = (self.coefficients ** 2).sum(1)
        return float(c2[:k].sum() / c2.sum()) if c2.sum() > 0 else 0.0

    def output_fraction(self, k: int) -> float:
        """Fraction of the output power ``Σ λ_i c_i²`` from the ``k`` leading components."""
        c2 = self.eigenvalues[:, None] * self.coefficients ** 2
        tot = c2.sum()
        return float(c2[:k].sum() / tot) if tot > 0 else 0.0


def decoder_pc_projection(rates, phi) -> PCProjection:
    """Project decoder ``phi`` (N, K) on the principal components of ``rates`` (T, N).

    The RLS regressor is the raw (uncentred) filtered rate, so the basis is the
    eigen-decomposition of ``RᵀR/T``.
    """
    rates = np.asarray(rates, float)
    phi = np.asarray(phi, float).reshape(rates.shape[1], -1)
    lam, vec = np.linalg.eigh(rates.T @ rates / len(rates))
    order = np.argsort(lam)[::-1]
    lam, vec = np.clip(lam[order], 0, None), vec[:, order]
    return PCProjection(lam, vec, vec.T @ phi)


def rls_pc_gain(eigenvalues, alpha: float, n_updates: int) -> np.ndarray:
    """Analytic RLS filter on principal components: ``g_i = nλ_i/(nλ_i + 1/α)``.

    After ``n`` updates with regressors of second moment ``C = Σ λ_i u_i u_iᵀ`` and
    ``P(0) = α·I``, RLS returns ``φ = (nC + I/α)⁻¹ n Rᵀy/n``: the least-squares
    component along ``u_i`` is scaled by ``g_i``. Small α (slow learning) suppresses the
    low-variance components first — a low-pass filter on the PC spectrum.
    """
    if not alpha > 0 or n_updates < 0:
        raise ValueError("alpha must be > 0 and n_updates >= 0")
    lam = np.asarray(eigenvalues, float)
    return n_updates * lam / (n_updates * lam + 1.0 / alpha)


# ---------------------------------------------------------------------- trainer
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


def _err(z, target) -> float:
    if not np.all(np.isfinite(z)):
        return float("inf")
    return float(np.max(normalised_rmse(z, target)))


def lag_adjusted_error(z, target, max_lag: int, window: int | None = None) -> float:
    """Smallest RMSE / target amplitude over time shifts of up to ``max_lag`` samples.

    A free-running oscillator that is right but slightly out of phase keeps a small
    error. With ``window`` (samples, e.g. one period) the shift is chosen per window and
    the per-window errors are averaged, so a slow phase drift (a frequency off by a few
    per cent) is not counted either. The worst output channel is reported; ``inf`` if
    ``z`` is not finite.
    """
    z, target = np.asarray(z, float), np.asarray(target, float)
    if z.ndim == 1:
        z, target = z[:, None], target[:, None]
    if not np.all(np.isfinite(z)):
        return float("inf")
    n = len(z)
    max_lag = int(min(max_lag, n // 2 - 1))
    amp = (target.max(0) - target.min(0)) / 2
    if np.any(amp <= 0):
        raise ValueError("target has zero amplitude in some channel")
    w = int(window) if window else n
    n_win = max(n // w, 1)
    best = np.full((n_win, z.shape[1]), np.inf)
    idx = np.arange(n)
    for lag in range(-max_lag, max_lag + 1):
        shifted = np.full_like(target, np.nan)
        if lag >= 0:
            shifted[lag:] = target[:n - lag]
        else:
            shifted[:n + lag] = target[-lag:]
        sq = (z - shifted) ** 2
        for c in range(z.shape[1]):
            ok = np.isfinite(sq[:, c]) & (idx < n_win * w)
            sums = np.bincount(idx[ok] // w, weights=sq[ok, c], minlength=n_win)
            cnt = np.bincount(idx[ok] // w, minlength=n_win)
            mse = np.divide(sums, cnt, out=np.full(n_win, np.inf), where=cnt > w // 2)
            best[:, c] = np.minimum(best[:, c], mse)
    return float((np.sqrt(best) / amp).mean(0).max())


def offline_rls_decoder(rates, target, alpha: float, every: int = 1, normalised: bool = True) -> np.ndarray:
    """Decoder learned by RLS (``P(0) = α·I``) on a fixed neural basis (teacher forcing).

    Runs the RLS core over ``rates`` (T, N, Hz) sampled every ``every`` rows against
    ``target`` (T, K); with ``normalised=True`` the result is exactly ridge regression
    with λ = 1/α, whose PC spectrum :func:`rls_pc_gain` predicts.
    """
    from brianforce.learning.rls import RLS

    rates, target = np.asarray(rates, float), np.asarray(target, float).reshape(len(rates), -1)
    rls = RLS(rates.shape[1], target.shape[1], alpha=alpha, normalised=normalised)
    for r, y in zip(rates[::every], target[::every]):
        rls.step(r, y)
    return rls.W.copy()


class LeadCompensatedRateNetwork(LIFRateNetwork):
    """LIF-matched rate network whose units respond to ``I + τ_lead dI/dt`` (not in the paper).

    A diagnostic variant of :class:`~brianforce.rate.networks.LIFRateNetwork`: the stationary f–I
    curve is applied to the total input advanced by a first-order lead,
    ``f_i = f(I_i + τ_lead İ_i)`` (``İ`` by a backward difference over one step). LIF
    neurons driven by a slowly modulated input fire ahead of their stationary f–I rate
    (:func:`lif_phase_lead`); a lead of a few ms reproduces that advance. With
    ``tau_lead = 0`` it is the instantaneous network exactly.
    """

    def __init__(self, *args, tau_lead: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        if not tau_lead >= 0:
            raise ValueError(f"tau_lead must be >= 0 s, got {tau_lead}")
        self.tau_lead = float(tau_lead)
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


def lif_phase_lead(offset: float, amplitude: float, frequency: float = 5.0, lif=None, dt: float = 5e-5,
                   duration: float = 4.0, transient: float = 1.0) -> dict:
    """Time by which a LIF neuron's filtered spike train leads its stationary f–I rate.

    One neuron receives ``I(t) = v_th + offset + amplitude·sin(2π f t)`` (V); its spike
    train and the rate ``f_LIF(I(t))`` of the instantaneous rate model are passed through
    the same double-exponential synaptic filter, and the lead (s, positive = spikes earlier)
    is the shift maximising their cross-correlation. Numpy only.

    Returns
    -------
    dict with ``lead_s``, ``spiking_rate_hz`` and ``rate_model_hz`` (means after the transient).
    """
    from scipy.signal import lfilter

    from brianforce.neurons import LIFParams, lif_rate

    lif = LIFParams() if lif is None else lif
    t = np.arange(0.0, duration, dt)
    current = lif.v_th + offset + amplitude * np.sin(2 * np.pi * frequency * t)
    spikes = np.zeros_like(t)
    v, ref = lif.v_reset, 0.0
    decay = dt / lif.tau_m
    for k in range(len(t)):
        if ref > 0:
            ref -= dt
            continue
        v += decay * (current[k] - v)
        if v >= lif.v_th:
            v, ref = lif.v_reset, lif.tau_ref
            spikes[k] = 1.0 / dt

    def filt(x):
        xs = [lfilter([dt], [1.0, -np.exp(-dt / tau)], x) for tau in (lif.tau_d, lif.tau_r)]
        return (xs[0] - xs[1]) / (lif.tau_d - lif.tau_r)

    k0 = int(round(transient / dt))
    rs, rr = filt(spikes)[k0:], filt(lif_rate(current, lif))[k0:]
    a, b = rs - rs.mean(), rr - rr.mean()
    max_lag = int(round(0.25 / frequency / dt))
    n = len(a)
    cc = [np.dot(a[max_lag:n - max_lag], b[max_lag + k:n - max_lag + k]) for k in range(-max_lag, max_lag + 1)]
    lead = (int(np.argmax(cc)) - max_lag) * dt
    return {"lead_s": float(lead), "spiking_rate_hz": float(rs.mean()), "rate_model_hz": float(rr.mean())}


def unit_lags(t_a, rates_a, t_b, rates_b, period: float, n_bins: int = 400, max_lag: float | None = None,
              min_modulation: float = 0.5) -> np.ndarray:
    """Per-unit time (s) by which the activity ``a`` leads ``b`` (positive: ``a`` earlier).

    Both recordings are averaged by phase of a periodic drive (``t mod period``, as in
    :func:`cross_trial_decoder`), so runs at different absolute times but locked to the
    same target compare; the lag of each unit maximises the circular cross-correlation of
    its two phase profiles. Units modulated by less than ``min_modulation`` (Hz, standard
    deviation over phase) in either recording are left out.
    """
    def profile(t, r):
        t, r = np.asarray(t, float), np.asarray(r, float)
        b = np.floor((t % period) / period * n_bins + 0.5).astype(int) % n_bins
        cnt = np.bincount(b, minlength=n_bins)
        if np.any(cnt == 0):
            raise ValueError("some phase bins are empty; use fewer bins or a longer recording")
        out = np.zeros((n_bins, r.shape[1]))
        np.add.at(out, b, r)
        out /= cnt[:, None]
        return out - out.mean(0)

    pa, pb = profile(t_a, rates_a), profile(t_b, rates_b)
    keep = (pa.std(0) > min_modulation) & (pb.std(0) > min_modulation)
    fa, fb = np.fft.rfft(pa[:, keep], axis=0), np.fft.rfft(pb[:, keep], axis=0)
    xc = np.fft.irfft(fb * np.conj(fa), n=n_bins, axis=0)  # xc[k] = Σ_j a[j] b[j+k]
    k = np.argmax(xc, axis=0)
    k = np.where(k > n_bins // 2, k - n_bins, k)  # b(t + k) ≈ a(t): a leads b by k bins
    lags = k * period / n_bins
    if max_lag is not None:
        lags = lags[np.abs(lags) <= max_lag]
    return lags


def calibrate_rate_lead(comp, task, candidates=(0.0, 2e-3, 4e-3, 6e-3, 8e-3), duration: float = 2.0) -> dict:
    """Choose ``τ_lead`` of a :class:`LeadCompensatedRateNetwork` from teacher-forced activity only.

    Uses the teacher-forced spiking basis of a fitted :class:`MatchedForceComparison`
    (``comp.open_loop_``) and, for each candidate lead, a fresh rate network with the same
    structure driven by the same target (no decoder is involved, so closed-loop results are
    not used). Returns the median spiking-vs-rate unit lead (s) for each candidate and
    ``tau_lead``, the candidate lead at which it crosses zero (linear interpolation; the
    nearest end of the range otherwise).
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
    tau = cand[int(np.argmin(np.abs(medians)))]
    for i in range(len(cand) - 1):
        if medians[i] > 0 >= medians[i + 1] or medians[i] < 0 <= medians[i + 1]:
            tau = cand[i] + (cand[i + 1] - cand[i]) * medians[i] / (medians[i] - medians[i + 1])
            break
    return {"candidates": cand, "median_lead": medians, "tau_lead": float(tau)}


_TF_COUNTER = itertools.count()


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
    from brian2 import StateMonitor, TimedArray
    from brian2.groups.group import CodeRunner

    trainer._check_fitted()
    c = trainer.config
    net, group = trainer._net, trainer.network_.neurons
    t_net = float(net.t_)
    n_total = int(round((t_net + duration) / c.dt)) + 2
    y = task(trainer._t0 + np.arange(n_total) * c.dt)  # y[k] at network time k·dt
    arrays = {f"tf_{k}": TimedArray(np.ascontiguousarray(y[:, k], dtype=float), dt=c.dt * second)
              for k in range(c.n_outputs)}
    expr = " + ".join(f"eta_{k}*tf_{k}(t)" for k in range(c.n_outputs))
    idx = next(_TF_COUNTER)
    # a CodeRunner not attached to the group (run_regularly would stay in later runs); the
    # neurons resolve names in their own namespace, which holds the TimedArrays for this run only
    op = CodeRunner(group, "stateupdate", code=f"I_ext = {expr}", when="start", clock=group.clock,
                    name=f"teacher_forcing_{idx}")
    group.namespace.update(arrays)
    mon = StateMonitor(group, "r", record=True, dt=c.record_dt * second, when="end",
                       name=f"r_teacher_{idx}")
    phi = trainer._phi.copy()
    trainer._phi[:] = 0.0
    net.add(op, mon)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            net.run(duration * second, namespace={})
    finally:
        net.remove(op, mon)
        for name in arrays:
            group.namespace.pop(name, None)
        group.I_ext = 0 * volt
        trainer._phi[:] = phi
    t = trainer._t0 + np.asarray(mon.t_)
    return t, np.asarray(mon.r_).T.copy(), task(t + c.dt)


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
                                     n_record=n_neurons, tau_r=tau_r, tau_d=tau_d, seed=seed)
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
