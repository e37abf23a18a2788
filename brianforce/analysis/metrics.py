"""Output-quality metrics for trained networks (numpy only)."""
from __future__ import annotations

import numpy as np

__all__ = ["rmse", "normalised_rmse", "lag_adjusted_correlation", "dominant_frequency",
           "circular_lag", "lag_drift"]


def _pair(output, target):
    output = np.asarray(output, dtype=float)
    target = np.asarray(target, dtype=float)
    if output.shape != target.shape:
        raise ValueError(f"output shape {output.shape} != target shape {target.shape}")
    if output.ndim == 1:
        output, target = output[:, None], target[:, None]
    return output, target


def rmse(output, target) -> np.ndarray:
    """Root-mean-square error per output channel."""
    output, target = _pair(output, target)
    return np.sqrt(np.mean((output - target) ** 2, axis=0))


def normalised_rmse(output, target) -> np.ndarray:
    """RMSE per channel divided by the target's amplitude (half its peak-to-peak range)."""
    output, target = _pair(output, target)
    amp = (target.max(0) - target.min(0)) / 2
    if np.any(amp <= 0):
        raise ValueError("target has zero amplitude in some channel")
    return rmse(output, target) / amp


def lag_adjusted_correlation(output, target, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlation per channel, maximised over shifts of up to ``max_lag`` samples.

    Returns ``(correlation, lag)``; a positive lag means the output trails the target.
    """
    output, target = _pair(output, target)
    n = len(target)
    if not 0 <= max_lag < n // 2:
        raise ValueError(f"max_lag must be in [0, {n // 2}), got {max_lag}")
    best = np.full(output.shape[1], -np.inf)
    best_lag = np.zeros(output.shape[1], dtype=int)
    for lag in range(-max_lag, max_lag + 1):
        if lag >= 0:
            a, b = output[lag:], target[: n - lag]
        else:
            a, b = output[: n + lag], target[-lag:]
        a = a - a.mean(0)
        b = b - b.mean(0)
        denom = np.sqrt((a ** 2).sum(0) * (b ** 2).sum(0))
        c = np.divide((a * b).sum(0), denom, out=np.zeros(a.shape[1]), where=denom > 0)
        better = c > best
        best[better], best_lag[better] = c[better], lag
    return best, best_lag


def dominant_frequency(signal, dt: float) -> np.ndarray:
    """Frequency (Hz) of the largest non-zero Fourier component per channel.

    The peak is refined by parabolic interpolation of the log power spectrum of the
    Hann-windowed, mean-removed signal.
    """
    x = np.asarray(signal, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if dt <= 0:
        raise ValueError("dt must be > 0")
    n = len(x)
    w = np.hanning(n)[:, None]
    spec = np.abs(np.fft.rfft((x - x.mean(0)) * w, axis=0)) ** 2
    freqs = np.fft.rfftfreq(n, dt)
    out = np.empty(x.shape[1])
    for c in range(x.shape[1]):
        k = int(np.argmax(spec[1:, c])) + 1
        if 1 <= k < len(freqs) - 1:
            a, b, g = np.log(spec[k - 1:k + 2, c] + 1e-300)
            denom = a - 2 * b + g
            shift = 0.5 * (a - g) / denom if denom != 0 else 0.0
        else:
            shift = 0.0
        out[c] = (k + shift) * (freqs[1] - freqs[0])
    return out


def circular_lag(output, target) -> int:
    """Signed circular lag (samples, in ``[−n/2, n/2)``) that best aligns a periodic
    ``output`` (n, channels) with ``target``: positive when the output runs *behind*
    (``output(t) ≈ target(t − lag)``). Found by circular cross-correlation summed over channels."""
    output, target = _pair(output, target)
    n = len(target)
    xc = np.fft.irfft(np.sum(np.fft.rfft(output, axis=0) * np.conj(np.fft.rfft(target, axis=0)),
                             axis=1), n)
    return int((int(np.argmax(xc)) + n // 2) % n - n // 2)


def lag_drift(lags, period: float) -> tuple[float, float]:
    """Straight-line fit ``lag_k ≈ offset + drift·k`` to the lags of consecutive periods.

    ``lags`` are signed circular lags (any unit, e.g. ms; from :func:`circular_lag`) of
    periods ``k = 0, 1, ...`` of a free-running rhythm of period ``period`` (same unit); they
    are unwrapped first, so a lag that passes ±period/2 keeps growing. ``drift`` (lag gained
    per period) is how far the rhythm's own period differs from the target's; the scatter of
    the lags about the line is phase diffusion. Returns ``(drift, offset)``.
    """
    lags = np.asarray(lags, dtype=float)
    if lags.ndim != 1 or len(lags) < 2 or not np.all(np.isfinite(lags)):
        raise ValueError("lags must be a 1-d array of at least 2 finite values")
    if not (np.isfinite(period) and period > 0):
        raise ValueError(f"period must be > 0, got {period!r}")
    unwrapped = np.unwrap(lags, period=period)
    drift, offset = np.polyfit(np.arange(len(lags)), unwrapped, 1)
    return float(drift), float(offset)
