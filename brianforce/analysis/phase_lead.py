"""How far LIF spiking activity leads the stationary f–I rate of matched rate units.

:func:`lif_phase_lead` measures the lead of one LIF neuron driven by a modulated current;
:func:`unit_lags` the per-unit lead between two recordings locked to the same periodic
target. Numpy only, SI floats (seconds, hertz, volts).

References
----------
Newton TR, Nicola W (2025) Spiking and rate networks trained with FORCE: a parameter-
matched comparison. PLoS Comput Biol 21:e1013224.
"""
from __future__ import annotations

import numpy as np

__all__ = ["lif_phase_lead", "unit_lags"]


def lif_phase_lead(offset: float, amplitude: float, frequency: float = 5.0, lif=None, dt: float = 5e-5,
                   duration: float = 4.0, transient: float = 1.0, noise: float = 0.0, seed: int = 0) -> dict:
    """Time by which a LIF neuron's filtered spike train leads its stationary f–I rate.

    One neuron receives ``I(t) = v_th + offset + amplitude·sin(2π f t)`` (V); its spike
    train and the rate ``f_LIF(I(t))`` of the instantaneous rate model are passed through
    the same double-exponential synaptic filter, and the lead (s, positive = spikes earlier)
    is the shift maximising their cross-correlation. Numpy only.

    Without noise a periodically driven LIF neuron can lock to the drive, and the lead then
    jumps between locked states. ``noise`` (V) adds membrane noise of that standard deviation
    (white noise through the membrane, ``σ √(2 dt/τ_m) ξ`` per step, drawn from ``seed``), as
    the irregular recurrent input of a network does; the rate model keeps the noise-free f–I
    curve, as the instantaneous rate network does.

    Returns
    -------
    dict with ``lead_s``, ``spiking_rate_hz`` and ``rate_model_hz`` (means after the transient).
    ``lead_s`` is NaN where no lead is defined: ``amplitude = 0``, no spike after the transient,
    or a rate-model output without modulation after it.

    Raises
    ------
    ValueError
        ``frequency`` or ``dt`` not > 0, ``transient < 0``, or a window after the transient
        (``duration − transient``) not longer than half a period of the drive (the lags searched
        span ±a quarter period).
    """
    from scipy.signal import lfilter

    from brianforce.checks import as_number
    from brianforce.neurons import LIFParams, lif_rate

    frequency = as_number(frequency, "frequency", low=0.0, low_open=True)
    dt = as_number(dt, "dt", low=0.0, low_open=True)
    duration = as_number(duration, "duration", low=0.0, low_open=True)
    transient = as_number(transient, "transient", low=0.0)
    as_number(offset, "offset")
    as_number(amplitude, "amplitude")
    as_number(noise, "noise", low=0.0)
    n_after = len(np.arange(0.0, duration, dt)) - int(round(transient / dt))
    if n_after <= 2 * int(round(0.25 / frequency / dt)):
        raise ValueError(f"duration - transient must exceed half a period of the drive (0.5/frequency = "
                         f"{0.5 / frequency:g} s), got duration={duration!r}, transient={transient!r}")
    lif = LIFParams() if lif is None else lif
    t = np.arange(0.0, duration, dt)
    current = lif.v_th + offset + amplitude * np.sin(2 * np.pi * frequency * t)
    spikes = np.zeros_like(t)
    v, ref = lif.v_reset, 0.0
    decay = dt / lif.tau_m
    kicks = (np.random.default_rng(seed).standard_normal(len(t)) * noise * np.sqrt(2 * decay) if noise > 0
             else np.zeros(len(t)))
    for k in range(len(t)):
        if ref > 0:
            ref -= dt
            continue
        v += decay * (current[k] - v) + kicks[k]
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
    defined = (amplitude != 0 and np.any(spikes[k0:]) and np.any(a != 0) and np.any(b != 0)
               and np.all(np.isfinite(cc)))
    lead = (int(np.argmax(cc)) - max_lag) * dt if defined else np.nan
    return {"lead_s": float(lead), "spiking_rate_hz": float(rs.mean()), "rate_model_hz": float(rr.mean())}


def unit_lags(t_a, rates_a, t_b, rates_b, period: float, n_bins: int = 400, max_lag: float | None = None,
              min_modulation: float = 0.5) -> np.ndarray:
    """Per-unit time (s) by which the activity ``a`` leads ``b`` (positive: ``a`` earlier).

    Both recordings are averaged by phase of a periodic drive (``t mod period``, as in
    :func:`~brianforce.analysis.decoders.cross_trial_decoder`), so runs at different absolute
    times but locked to the same target compare; the lag of each unit maximises the circular
    cross-correlation of its two phase profiles. Units modulated by less than ``min_modulation``
    (Hz, standard deviation over phase) in either recording are left out.
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
