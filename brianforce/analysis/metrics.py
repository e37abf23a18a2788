"""Output-quality metrics for trained networks (numpy only)."""
from __future__ import annotations

import numpy as np

from brianforce.checks import as_count, as_number

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


def _first_non_finite(x):
    """``(sample, channel, value)`` of the first non-finite entry of a 2-d ``x``, or ``None``."""
    bad = np.argwhere(~np.isfinite(x))
    if not len(bad):
        return None
    i, k = bad[0]
    return int(i), int(k), float(x[i, k])


def _require_finite(x, what: str, function: str):
    """Raise ``ValueError`` naming ``function`` and the first non-finite sample of ``x`` (2-d)."""
    bad = _first_non_finite(x)
    if bad is not None:
        i, k, v = bad
        raise ValueError(f"{function}: {what} must be finite, got {v} at sample {i} of channel {k}")


def rmse(output, target) -> np.ndarray:
    """Root-mean-square error per output channel."""
    output, target = _pair(output, target)
    return np.sqrt(np.mean((output - target) ** 2, axis=0))


def normalised_rmse(output, target) -> np.ndarray:
    """RMSE per channel divided by the target's amplitude (half its peak-to-peak range).

    Parameters
    ----------
    output, target : array_like (n,) or (n, channels)
        ``target`` must be finite; a non-finite ``output`` gives a NaN or infinite error for its
        channel (the output of a diverged network is scored, not refused).

    Returns
    -------
    ndarray (channels,)

    Raises
    ------
    ValueError
        Shapes differ, ``target`` has a NaN or infinite sample, or a target channel is constant.
    """
    output, target = _pair(output, target)
    _require_finite(target, "target", "normalised_rmse")
    amp = (target.max(0) - target.min(0)) / 2
    if np.any(amp <= 0):
        raise ValueError("target has zero amplitude in some channel")
    return rmse(output, target) / amp


def lag_adjusted_correlation(output, target, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlation per channel, maximised over shifts of up to ``max_lag`` samples.

    Parameters
    ----------
    output, target : array_like (n,) or (n, channels)
        ``target`` must be finite. An output channel with a NaN or infinite sample (a diverged
        network) has correlation NaN, so does a channel whose output or target is constant
        (zero variance: the correlation is undefined).
    max_lag : int
        Largest shift tried, in samples, in ``[0, n // 2)``.

    Returns
    -------
    correlation : ndarray of float (channels,)
        The largest correlation over the shifts; NaN for the channels described above.
    lag : ndarray of int (channels,)
        The shift (samples) that gives it; a positive lag means the output trails the target.
        It is 0, and means nothing, where the correlation is NaN.

    Raises
    ------
    ValueError
        Shapes differ, ``target`` has a NaN or infinite sample, or ``max_lag`` is out of range.
    """
    output, target = _pair(output, target)
    _require_finite(target, "target", "lag_adjusted_correlation")
    n = len(target)
    max_lag = as_count(max_lag, "max_lag")
    if not max_lag < n // 2:
        raise ValueError(f"max_lag must be in [0, {n // 2}), got {max_lag}")
    undefined = (~np.all(np.isfinite(output), axis=0) | np.all(output == output[:1], axis=0)
                 | np.all(target == target[:1], axis=0))
    if np.any(undefined):
        output = output.copy()
        output[:, undefined] = 0.0      # no NaN arithmetic; these channels are reported as NaN
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
    best[undefined], best_lag[undefined] = np.nan, 0
    return best, best_lag


def dominant_frequency(signal, dt: float) -> np.ndarray:
    """Frequency (Hz) of the largest non-zero Fourier component per channel.

    The peak is refined by parabolic interpolation of the log power spectrum of the
    Hann-windowed, mean-removed signal.

    Parameters
    ----------
    signal : array_like (n,) or (n, channels)
    dt : float
        Sampling interval (s), finite and > 0.

    Returns
    -------
    ndarray (channels,)
        NaN for a channel with a NaN or infinite sample, and for a channel without a peak: a
        constant one, or one whose windowed spectrum is zero beyond the DC bin.
    """
    x = np.asarray(signal, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    as_number(dt, "dt", low=0.0, low_open=True)
    no_peak = ~np.all(np.isfinite(x), axis=0) | np.all(x == x[:1], axis=0)
    if np.any(no_peak):
        x = x.copy()
        x[:, no_peak] = 0.0             # no NaN arithmetic; these channels are reported as NaN
    n = len(x)
    w = np.hanning(n)[:, None]
    spec = np.abs(np.fft.rfft((x - x.mean(0)) * w, axis=0)) ** 2
    freqs = np.fft.rfftfreq(n, dt)
    out = np.empty(x.shape[1])
    for c in range(x.shape[1]):
        if no_peak[c] or not np.any(spec[1:, c] > 0):
            out[c] = np.nan
            continue
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
    (``output(t) ≈ target(t − lag)``). Found by circular cross-correlation summed over channels.

    Both must be finite: a NaN or infinite sample raises ``ValueError`` (naming it), as in
    :func:`lag_drift`, which these lags feed.
    """
    output, target = _pair(output, target)
    _require_finite(output, "output", "circular_lag")
    _require_finite(target, "target", "circular_lag")
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
