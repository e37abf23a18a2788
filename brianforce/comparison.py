"""Spiking vs parameter-matched rate FORCE networks (Newton & Nicola 2025).

A LIF FORCE network (Brian2, :class:`~brianforce.training.FORCETrainer`) and its
instantaneous rate network (numpy, :class:`~brianforce.rate.LIFRateNetwork`) are built
from the *same* static weights ω, encoders η, bias, synaptic filter and RLS
hyperparameters and trained on the same task. :class:`MatchedForceComparison` then
measures the correlation of the two learned decoders φ, swaps them (spiking → rate and
rate → spiking) and measures the test error of the receiving network, fits a
cross-trial firing-rate decoder and projects the decoders on the principal components
of the neural basis.

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

from dataclasses import dataclass

import numpy as np
from brian2 import mV, ms, second, volt

from .analysis import normalised_rmse
from .rate import LIFRateNetwork
from .seeding import rng_for
from .training import FORCETrainer, as_task
from .units import as_positive_si, as_si

__all__ = ["MatchedForceComparison", "ComparisonResult", "PCProjection", "decoder_correlation",
           "filtered_rates_from_spikes", "cross_trial_decoder", "decoder_pc_projection", "rls_pc_gain",
           "lag_adjusted_error", "offline_rls_decoder"]


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

    Errors are RMSE / target amplitude of the free-running test after the best time
    shift of up to a quarter period (:func:`lag_adjusted_error`), chosen per period for
    periodic tasks (phase drift not counted); ``*_whole`` use one shift for the whole test.

    ``*_error`` are test errors of each network with its own decoder;
    ``spike_to_rate_error`` is the rate network's error with the spiking decoder and
    ``rate_to_spike_error`` the spiking network's with the rate decoder.
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

    @property
    def spike_to_rate_ratio(self) -> float:
        """Receiving (rate) network's error with the transferred decoder / with its own."""
        return self.spike_to_rate_error / self.rate_error

    @property
    def rate_to_spike_ratio(self) -> float:
        return self.rate_to_spike_error / self.spiking_error

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["spike_to_rate_ratio"] = self.spike_to_rate_ratio
        d["rate_to_spike_ratio"] = self.rate_to_spike_ratio
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
    from .rls import RLS

    rates, target = np.asarray(rates, float), np.asarray(target, float).reshape(len(rates), -1)
    rls = RLS(rates.shape[1], target.shape[1], alpha=alpha, normalised=normalised)
    for r, y in zip(rates[::every], target[::every]):
        rls.step(r, y)
    return rls.W.copy()


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
    """

    def __init__(self, n_neurons: int = 500, n_outputs: int = 1, *, p: float = 0.4, G=0.04 * mV * second,
                 Q=20 * mV, alpha: float = 5e-6, rls_interval=5 * ms, dt=0.05 * ms, rate_dt=0.25 * ms,
                 divergence_factor: float = 100.0, seed: int = 0):
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
        self.rate_dt, self.rate_rls_every = rdt, int(round(every))
        # FORCETrainer draws η ~ U(−Q', Q'): pass Q' = Q/2 for Newton & Nicola's U(−Q/2, Q/2).
        self.spiking_ = FORCETrainer(n_neurons, n_outputs, p=p, G=G, Q=(q / 2) * volt, alpha=alpha,
                                     rls_interval=rls_interval, dt=dt, divergence_factor=divergence_factor,
                                     n_record=n_neurons, seed=seed)
        self.seed = self.spiking_.config.seed

    def _make_rate(self):
        tr = self.spiking_
        c = tr.config
        weights, eta, _ = tr._draw_structure()
        net = LIFRateNetwork(weights, eta, lif=c.lif, dt=self.rate_dt, reg=c.reg, rls_every=self.rate_rls_every,
                             normalised=c.normalised, record_every=1,
                             initial_rates=rng_for(c.seed, "rate_initial_state").random(c.n_neurons) * 20.0)
        net.divergence_factor = c.divergence_factor
        if c.n_neurons <= 2000:
            net.W = net.W.toarray()  # dense matvec is several times faster at these sizes
        return net

    def fit(self, task, settle=0.5 * second, train=2 * second, test=1 * second, cross_trial: bool = True):
        """Train both networks, test each, swap decoders and test again.

        Parameters
        ----------
        task : Task
        settle, train, test : Quantity (second)
        cross_trial : bool
            Also fit the cross-trial firing-rate decoder (periodic tasks only).

        Raises
        ------
        TrainingDiverged
            If either network's RLS training diverges (step and time in the message).
        """
        task = as_task(task, self.spiking_.config.n_outputs)
        settle_s = float(as_si(settle, second, "settle"))
        train_s = as_positive_si(train, second, "train")
        test_s = as_positive_si(test, second, "test")
        tr = self.spiking_
        tr.fit(task, settle=settle_s * second, train=train_s * second)
        rate = self.rate_ = self._make_rate()
        rate.fit(task, settle=settle_s, train=train_s)
        n_upd = tr.rls_.n_updates

        self.spiking_test_ = s_own = tr.predict(test_s * second)
        self.rate_test_ = r_own = rate.predict(test_s, record_activity=tr.config.n_neurons)
        phi_s, phi_r = tr._phi.copy(), rate.rls_.W.copy()
        self.phi_spiking_, self.phi_rate_ = phi_s, phi_r

        tr._phi[:] = phi_r
        try:
            s_from_r = tr.predict(test_s * second)
        finally:
            tr._phi[:] = phi_s
        rate.rls_.W[:] = phi_s
        try:
            r_from_s = rate.predict(test_s)
        finally:
            rate.rls_.W[:] = phi_r
        self.transfer_tests_ = {"rate_to_spike": s_from_r, "spike_to_rate": r_from_s}

        lif = tr.config.lif
        rates = filtered_rates_from_spikes(s_own.spike_i, s_own.spike_t, tr.config.n_neurons, s_own.t,
                                           lif.tau_r, lif.tau_d)
        drop = int(round(min(5 * lif.tau_d, test_s / 4) / float(np.median(np.diff(s_own.t)))))
        self.spiking_rates_ = rates[drop:]
        lag_s = (task.period / 4) if task.period else 0.05
        ls = int(round(lag_s / float(np.median(np.diff(s_own.t)))))
        lr = int(round(lag_s / self.rate_dt))
        ws = int(round(4 * ls)) if task.period else None
        wr = int(round(4 * lr)) if task.period else None
        pairs = [(s_own, ls, ws), (r_own, lr, wr), (r_from_s, lr, wr), (s_from_r, ls, ws)]
        per = [lag_adjusted_error(r.z, r.target, lag, win) for r, lag, win in pairs]
        whole = [lag_adjusted_error(r.z, r.target, lag) for r, lag, _ in pairs]
        result = ComparisonResult(self.alpha, decoder_correlation(phi_s, phi_r), *per, *whole)
        self.phi_cross_trial_ = None
        if cross_trial and task.period and (test_s - drop * np.median(np.diff(s_own.t))) >= 2 * task.period - 1e-9:
            t_ct, y_ct = s_own.t[drop:], s_own.target[drop:]
            phi_ct, mean_r, mean_y = cross_trial_decoder(self.spiking_rates_, t_ct, y_ct, task.period,
                                                         tr.config.reg, n_upd)
            self.phi_cross_trial_ = phi_ct
            result.cross_trial_correlation_spiking = decoder_correlation(phi_ct, phi_s)
            result.cross_trial_correlation_rate = decoder_correlation(phi_ct, phi_r)
            result.cross_trial_error = _err(mean_r @ phi_ct, mean_y)
        self.result_ = result
        return self
