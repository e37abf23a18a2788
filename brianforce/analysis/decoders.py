"""Decoders of spiking and rate networks: regressor bases, fits, PC spectra and lag-tolerant errors.

Plain numpy on SI floats (seconds, hertz, volts): the filtered spike trains a LIF FORCE
decoder reads (:func:`filtered_rates_from_spikes`), the agreement of two decoders
(:func:`decoder_correlation`), a decoder fitted to trial-averaged rates
(:func:`cross_trial_decoder`) or learned offline by RLS (:func:`offline_rls_decoder`), its
projection on the principal components of the basis (:func:`decoder_pc_projection`,
:func:`rls_pc_gain`) and the error of a free-running output after the best time shift
(:func:`lag_adjusted_error`).

References
----------
Newton TR, Nicola W (2025) Spiking and rate networks trained with FORCE: a parameter-
matched comparison. PLoS Comput Biol 21:e1013224.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brianforce.checks import as_finite_array

__all__ = ["decoder_correlation", "filtered_rates_from_spikes", "cross_trial_decoder", "PCProjection",
           "decoder_pc_projection", "rls_pc_gain", "lag_adjusted_error", "offline_rls_decoder"]


def decoder_correlation(phi_a, phi_b) -> float:
    """Pearson correlation between two decoders (all entries, shape (N, K)).

    NaN when either decoder has all entries equal (no variance); NaN or Inf entries raise
    ``ValueError``.
    """
    a = np.asarray(phi_a, float).ravel()
    b = np.asarray(phi_b, float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"decoder shapes differ: {np.shape(phi_a)} vs {np.shape(phi_b)}")
    a, b = as_finite_array(a, "phi_a"), as_finite_array(b, "phi_b")
    a, b = a - a.mean(), b - b.mean()
    denom = np.sqrt((a @ a) * (b @ b))
    return float(a @ b / denom) if denom > 0 else float("nan")


def filtered_rates_from_spikes(spike_i, spike_t, n_neurons: int, t, tau_r: float, tau_d: float) -> np.ndarray:
    """Double-exponentially filtered spike trains (Hz) sampled at the times ``t`` (s).

    Each spike adds the kernel ``(e^{−s/τ_d} − e^{−s/τ_r})/(τ_d − τ_r)`` (unit area),
    the filter that produces the regressor ``r`` of the LIF network; spikes are binned
    on the (uniform) grid ``t``, so the result lags ``r`` by at most one sample. Spikes
    before ``t[0]`` are ignored (discard a few ``τ_d`` of transient).

    Returns
    -------
    ndarray (len(t), n_neurons)

    Raises
    ------
    ValueError
        A neuron index outside ``[0, n_neurons)``, or ``spike_i`` and ``spike_t`` of different shapes.
    """
    t = np.asarray(t, float)
    if t.ndim != 1 or len(t) < 2:
        raise ValueError("t must be a 1-d grid with at least two samples")
    if not (tau_r > 0 and tau_d > 0) or tau_r == tau_d:
        raise ValueError("need tau_r > 0, tau_d > 0 and tau_r != tau_d")
    dt = float(np.median(np.diff(t)))
    spike_i, spike_t = np.asarray(spike_i, int), np.asarray(spike_t, float)
    if spike_i.shape != spike_t.shape:
        raise ValueError(f"spike_i {spike_i.shape} and spike_t {spike_t.shape} must have the same shape")
    bad = (spike_i < 0) | (spike_i >= n_neurons)
    if np.any(bad):
        raise ValueError(f"spike_i must be neuron indices in [0, {n_neurons}), got {spike_i[bad][0]}")
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
    eigen-decomposition of ``RᵀR/T``. ``phi`` of shape (N,) is one output.
    """
    rates = np.asarray(rates, float)
    if rates.ndim != 2:
        raise ValueError(f"rates must have shape (T, N), got {rates.shape}")
    phi = np.asarray(phi, float)
    if phi.ndim not in (1, 2) or phi.shape[0] != rates.shape[1]:
        raise ValueError(f"phi must have shape ({rates.shape[1]}, K) or ({rates.shape[1]},) to match "
                         f"rates {rates.shape}, got {phi.shape}")
    phi = phi.reshape(rates.shape[1], -1)
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


def lag_adjusted_error(z, target, max_lag: int, window: int | None = None) -> float:
    """Smallest RMSE / target amplitude over time shifts of up to ``max_lag`` samples.

    A free-running oscillator that is right but slightly out of phase keeps a small
    error. With ``window`` (samples, e.g. one period) the shift is chosen per window and
    the per-window errors are averaged, so a slow phase drift (a frequency off by a few
    per cent) is not counted either. The worst output channel is reported; ``inf`` if
    ``z`` is not finite.

    Raises
    ------
    ValueError
        Fewer than 2 samples, ``max_lag < 0``, or a ``window`` of 2·len(z) samples or more (no
        window could hold over half its samples) or below 1.
    """
    z, target = np.asarray(z, float), np.asarray(target, float)
    if z.ndim == 1:
        z, target = z[:, None], target[:, None]
    n = len(z)
    if n < 2:
        raise ValueError(f"z must have at least 2 samples, got {n}")
    if not max_lag >= 0:
        raise ValueError(f"max_lag must be >= 0 samples, got {max_lag!r}")
    if window is not None and not 1 <= window < 2 * n:
        raise ValueError(f"window must be in [1, {2 * n}) samples (a lag counts where over half a window "
                         f"overlaps; len(z) = {n}), got {window!r}")
    if not np.all(np.isfinite(z)):
        return float("inf")
    max_lag = int(min(max_lag, n // 2 - 1))
    amp = (target.max(0) - target.min(0)) / 2
    if np.any(amp <= 0):
        raise ValueError("target has zero amplitude in some channel")
    w = n if window is None else int(window)
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
    with λ = 1/α, whose PC spectrum :func:`rls_pc_gain` predicts. ``target`` of shape (T,) is
    one output.

    Raises
    ------
    ValueError
        ``rates`` not (T, N), ``target`` not (T, K) or (T,), or NaN or Inf in either.
    """
    from brianforce.learning.rls import RLS

    rates, target = np.asarray(rates, float), np.asarray(target, float)
    if rates.ndim != 2:
        raise ValueError(f"rates must have shape (T, N), got {rates.shape}")
    if target.ndim not in (1, 2) or target.shape[0] != len(rates):
        raise ValueError(f"target must have shape ({len(rates)}, K) or ({len(rates)},) to match rates "
                         f"{rates.shape}, got {target.shape}")
    rates, target = as_finite_array(rates, "rates"), as_finite_array(target, "target")
    target = target.reshape(len(rates), -1)
    rls = RLS(rates.shape[1], target.shape[1], alpha=alpha, normalised=normalised)
    for r, y in zip(rates[::every], target[::every]):
        rls.step(r, y)
    return rls.W.copy()
