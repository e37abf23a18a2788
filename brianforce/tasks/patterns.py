"""Targets for learning recurrent dynamics: per-neuron synaptic-current trajectories.

numpy only; times in seconds, currents in volts (plain floats). A target set is
:class:`~brianforce.tasks.trials.Trials` without input: ``targets`` (C, T, M) holds one current
trajectory per condition and trained neuron (``neurons``), sampled every ``dt``, to be followed
by each neuron's synaptic current during the training window.

* :func:`sinusoid_patterns` — random-phase sums of sinusoids (smooth, unit variance);
* :func:`ou_patterns` — Ornstein-Uhlenbeck signals smoothed by the synaptic filter;
* :func:`pattern_targets` — offset + amplitude × pattern (offset, e.g., each neuron's
  spontaneous mean current, keeps the network near its balanced operating point);
* :func:`recorded_targets` — a recorded trajectory (e.g. spontaneous activity) as target;
* :func:`rates_to_targets` — recorded firing rates → synaptic-current targets through the
  inverse of a noisy LIF transfer curve (:func:`lif_transfer`);
* :func:`fit_transfer_noise` — the noise SD of that curve measured in the trained network
  (trial-averaged input current against trial-averaged rate), to recompute the targets.

References
----------
Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
"""
from __future__ import annotations

import numpy as np

from brianforce.checks import as_count, as_number
from brianforce.tasks.timing import seconds
from brianforce.tasks.trials import Trials, current_targets

__all__ = ["sinusoid_patterns", "ou_patterns", "pattern_targets", "recorded_targets", "lif_transfer",
           "rates_to_targets", "fit_transfer_noise"]


def _check_shape(n_neurons, duration, dt):
    n_neurons = as_count(n_neurons, "n_neurons", minimum=1)
    duration, dt = as_number(duration, "duration"), as_number(dt, "dt")
    if not (duration > 0 and dt > 0 and duration >= dt):
        raise ValueError(f"need duration >= dt > 0 (seconds), got duration={duration}, dt={dt}")
    T = int(round(duration / dt))
    if T < 2:
        raise ValueError(f"duration must span at least 2 samples of dt (patterns are standardised over "
                         f"time), got duration={duration}, dt={dt}")
    return n_neurons, T


def sinusoid_patterns(n_neurons: int, duration: float, dt: float, rng: np.random.Generator, *,
                      periods=(0.25, 1.0), n_components: int = 3) -> np.ndarray:
    """Random-phase sums of sinusoids, one per neuron, each of unit variance.

    ``z_i(t) = Σ_k sin(2π t / T_ik + φ_ik)`` with periods ``T_ik`` uniform in ``periods``
    (seconds) and phases uniform in [0, 2π), then standardised over the window.

    Returns
    -------
    ndarray (T, n_neurons), ``T = round(duration/dt)`` (at least 2).
    """
    duration, dt, periods = seconds(duration, "duration"), seconds(dt, "dt"), seconds(periods, "periods")
    n, T = _check_shape(n_neurons, duration, dt)
    n_components = as_count(n_components, "n_components", minimum=1)
    if np.ndim(periods) != 1 or len(periods) != 2:
        raise ValueError(f"periods must be a (low, high) pair of seconds, got {periods!r}")
    lo, hi = as_number(periods[0], "periods[0]"), as_number(periods[1], "periods[1]")
    if not 0 < lo <= hi:
        raise ValueError(f"periods must be 0 < low <= high seconds, got {periods}")
    t = np.arange(T) * dt
    per = rng.uniform(lo, hi, (n_components, n))
    phase = rng.uniform(0, 2 * np.pi, (n_components, n))
    z = np.sin(2 * np.pi * t[:, None, None] / per[None] + phase[None]).sum(axis=1)
    return (z - z.mean(0)) / z.std(0)


def ou_patterns(n_neurons: int, duration: float, dt: float, rng: np.random.Generator, *,
                tau: float = 0.1, smooth: float = 0.02) -> np.ndarray:
    """Ornstein-Uhlenbeck signals (correlation time ``tau`` s), smoothed, unit variance.

    The OU process starts from its stationary distribution; it is then filtered by an
    exponential of time constant ``smooth`` (s; 0 = none) so that a synaptic current can
    follow it, and standardised over the window.

    Returns
    -------
    ndarray (T, n_neurons), ``T = round(duration/dt)`` (at least 2).
    """
    duration, dt, tau, smooth = (seconds(v, k) for k, v in dict(duration=duration, dt=dt, tau=tau,
                                                                smooth=smooth).items())
    n, T = _check_shape(n_neurons, duration, dt)
    if not as_number(tau, "tau") > 0 or as_number(smooth, "smooth") < 0:
        raise ValueError(f"need tau > 0 and smooth >= 0 seconds, got tau={tau}, smooth={smooth}")
    a = np.exp(-dt / tau)
    noise = rng.standard_normal((T, n)) * np.sqrt(1 - a * a)
    x = np.empty((T, n))
    x[0] = rng.standard_normal(n)
    for k in range(1, T):
        x[k] = a * x[k - 1] + noise[k]
    if smooth > 0:
        b = np.exp(-dt / smooth)
        y = x[0].copy()
        for k in range(T):
            y = b * y + (1 - b) * x[k]
            x[k] = y
    return (x - x.mean(0)) / x.std(0)


def pattern_targets(patterns, offset, amplitude: float, dt: float, neurons) -> Trials:
    """``offset_i + amplitude · pattern_i(t)`` as target currents (:class:`Trials` without input).

    Parameters
    ----------
    patterns : array (T, M) or (C, T, M)
        Unit-scale patterns (e.g. :func:`sinusoid_patterns`).
    offset : array (M,) or float
        Baseline current per neuron in volts (e.g. its spontaneous mean ``I_syn``).
    amplitude : float
        Volts (> 0).
    dt : float
        Seconds between samples.
    neurons : int array (M,)
    """
    as_number(amplitude, "amplitude", low=0.0, low_open=True)
    z = np.asarray(patterns, dtype=float)
    return current_targets(np.asarray(offset, dtype=float) + amplitude * z, dt, neurons)


def recorded_targets(currents, dt: float, neurons) -> Trials:
    """A recorded current trajectory (T, M) or (C, T, M) in volts as the target (:class:`Trials`).

    Used to stabilise a network's own spontaneous (chaotic) trajectory.
    """
    return current_targets(np.asarray(currents, dtype=float), dt, neurons)


def _siegert(mu, white, tau_m, tau_ref, v_th, v_reset, n_points=64):
    """Rate (Hz) of a LIF neuron with white input noise of free membrane SD ``white`` (V).

    ``dv = (μ − v)/τ dt + white·sqrt(2/τ) dW`` (Brian2's ``white*sqrt(2/tau_m)*xi``); the
    Siegert / Ricciardi first-passage formula
    ``1/ν = τ_ref + τ √π ∫_{(v_reset−μ)/(√2 s)}^{(v_th−μ)/(√2 s)} e^{u²}(1 + erf u) du``,
    with ``e^{u²}(1+erf u) = erfcx(−u)`` and Gauss-Legendre quadrature.
    """
    from scipy.special import erfcx

    s = np.sqrt(2.0) * white
    lo = (v_reset - mu) / s
    hi = (v_th - mu) / s
    x, w = np.polynomial.legendre.leggauss(int(n_points))
    # integrate piecewise on [lo, min(hi, 0)] and [max(lo, 0), hi] (integrand ~ 1/|u| for
    # u << 0, ~ 2 e^{u²} for u >> 0); split at 0 keeps both parts accurate
    total = np.zeros_like(mu)
    for a, b in ((lo, np.minimum(hi, 0.0)), (np.maximum(lo, 0.0), hi)):
        b = np.maximum(a, b)
        half, mid = 0.5 * (b - a), 0.5 * (b + a)
        u = mid[..., None] + half[..., None] * x
        with np.errstate(over="ignore", invalid="ignore"):
            part = half * np.tensordot(erfcx(-u), w, axes=([-1], [0]))
        total = total + np.where(half > 0, part, 0.0)  # empty interval: 0 (not 0·inf)
    with np.errstate(over="ignore", divide="ignore"):
        return 1.0 / (tau_ref + tau_m * np.sqrt(np.pi) * total)


def _smoothed_curve(grid, sigma: float, **lif) -> np.ndarray:
    """:func:`lif_transfer` with slow SD ``sigma`` on a uniform ``grid`` (volts), fast.

    The fixed-input curve is evaluated once on the grid extended by 6σ each side and
    convolved (FFT) with the sampled Gaussian; equals the Gauss-Hermite average of
    :func:`lif_transfer` to the grid's resolution.
    """
    from scipy.signal import fftconvolve

    grid = np.asarray(grid, dtype=float)
    step = grid[1] - grid[0]
    if sigma <= 0:
        return lif_transfer(grid, 0.0, **lif)
    half = int(np.ceil(6 * sigma / step))
    ext = grid[0] + step * np.arange(-half, grid.size + half)
    base = lif_transfer(ext, 0.0, **lif)
    k = np.exp(-0.5 * (np.arange(-half, half + 1) * step / sigma) ** 2)
    return np.maximum(fftconvolve(base, k / k.sum(), mode="valid"), 0.0)


def lif_transfer(mu, sigma: float = 0.0, *, white: float = 0.0, tau_m: float = 10e-3,
                 tau_ref: float = 2e-3, v_th: float = -40e-3, v_reset: float = -65e-3) -> np.ndarray:
    """Firing rate (Hz) of a LIF neuron whose total input is ``mu + sigma·ξ`` (volts).

    ``ξ`` is slow unit Gaussian noise (correlation time ≫ ``τ_m``), so the rate is the
    Gaussian average of the curve for fixed input, computed by convolution on a 10 µV grid. For fixed
    input the curve is the deterministic
    ``f(I) = 1/(τ_ref + τ_m ln((I − v_reset)/(I − v_th)))`` for ``I > v_th`` (else 0), or,
    with ``white > 0`` (free membrane SD of an additional white-noise input, volts, as in
    :func:`brianforce.networks.balanced.build_balanced_network` ``noise``), the Siegert formula.
    ``sigma = 0``: no averaging. NaN entries of ``mu`` give NaN.

    Raises
    ------
    ValueError
        ``tau_m <= 0``, ``tau_ref < 0``, ``v_reset >= v_th``, or a negative or non-finite ``sigma``
        or ``white``.
    """
    mu = np.asarray(mu, dtype=float)
    as_number(sigma, "sigma", low=0.0)
    as_number(white, "white", low=0.0)
    as_number(tau_m, "tau_m", low=0.0, low_open=True)
    as_number(tau_ref, "tau_ref", low=0.0)
    if not as_number(v_reset, "v_reset") < as_number(v_th, "v_th"):
        raise ValueError(f"v_reset must be below v_th, got v_reset={v_reset!r}, v_th={v_th!r}")

    def f(current):
        if white > 0:
            return np.where(np.isnan(current), np.nan, _siegert(current, white, tau_m, tau_ref, v_th, v_reset))
        out = np.where(np.isnan(current), np.nan, 0.0)
        above = current > v_th
        c = current[above]
        out[above] = 1.0 / (tau_ref + tau_m * np.log((c - v_reset) / (c - v_th)))
        return out

    if sigma == 0:
        return f(mu)
    if mu.size == 0:
        return np.zeros_like(mu)
    nan = np.isnan(mu)
    if nan.any():
        out = np.full(mu.shape, np.nan)
        out[~nan] = lif_transfer(mu[~nan], sigma, white=white, tau_m=tau_m, tau_ref=tau_ref, v_th=v_th,
                                 v_reset=v_reset)
        return out
    # Gaussian average by convolution on a 10 µV grid (accurate at the deterministic
    # curve's kink at threshold, where Gauss-Hermite quadrature is not), then interpolation
    step = 10e-6
    lo, hi = np.floor(mu.min() / step) - 1, np.ceil(mu.max() / step) + 1
    grid = np.arange(lo, hi + 1) * step  # multiples of 10 µV: same nodes as rates_to_targets
    lif = dict(white=white, tau_m=tau_m, tau_ref=tau_ref, v_th=v_th, v_reset=v_reset)
    return np.interp(mu, grid, _smoothed_curve(grid, float(sigma), **lif))


def rates_to_targets(rates, dt: float, neurons, bias, sigma: float, *, min_rate: float = 0.1,
                     **lif) -> Trials:
    """Recorded firing rates → target synaptic currents for the mapped neurons.

    The total input giving rate ``ν`` is found by inverting :func:`lif_transfer`
    (monotone; rates below ``min_rate`` Hz are raised to it), and the neuron's constant
    bias is subtracted: ``I_syn target = μ(ν) − I_bias``.

    Parameters
    ----------
    rates : array (C, T, M)
        Spikes/s, conditions × time × mapped units.
    dt : float
        Seconds between samples.
    neurons : int array (M,)
        Network neurons the units are mapped onto (one-to-one).
    bias : array (M,) or float
        ``I_bias`` of those neurons, volts.
    sigma : float
        Slow input fluctuation SD in volts (e.g. the spontaneous temporal SD of ``I_syn``,
        or :func:`fit_transfer_noise` measured in the trained network).
    **lif
        ``white, tau_m, tau_ref, v_th, v_reset`` for :func:`lif_transfer` (SI floats).

    References
    ----------
    Kim CM, Chow CC (2018) eLife 7:e37124 (recorded rates as targets of the synaptic drive).
    """
    rates = np.asarray(rates, dtype=float)
    if rates.ndim == 2:
        rates = rates[None]
    if not np.all(np.isfinite(rates)) or np.any(rates < 0):
        raise ValueError("rates must be finite and >= 0 (spikes/s)")
    as_number(sigma, "sigma", low=0.0)
    as_number(min_rate, "min_rate", low=0.0)
    v_th = lif.get("v_th", -40e-3)
    grid = np.round((v_th - 60e-3) / 10e-6 + np.arange(21001)) * 10e-6  # 10 µV steps
    curve = _smoothed_curve(grid, float(sigma), **lif)
    top = curve.max()
    if rates.max() > top:
        raise ValueError(f"rate {rates.max():.1f} Hz exceeds the transfer curve's maximum {top:.1f} Hz")
    keep = np.r_[True, np.diff(curve) > 0]  # strictly increasing part for interpolation
    first = int(np.argmax(curve > 0))
    if first > 0:               # rate 0 at the last input of zero rate, just below the curve's rise
        keep[0], keep[first - 1] = False, True
    mu = np.interp(np.maximum(rates, min_rate), curve[keep], grid[keep])
    return current_targets(mu - np.asarray(bias, dtype=float), dt, neurons)


def fit_transfer_noise(mu, rates, *, sigmas=None, weights=None, **lif) -> tuple[float, np.ndarray]:
    """Input-noise SD (volts) for which :func:`lif_transfer` best maps ``mu`` onto ``rates``.

    In a trained balanced network, the rate of a neuron whose trial-averaged total input is
    ``μ(t)`` (``I_syn + I_bias``) is set by the fluctuations left around ``μ`` (trial to
    trial and within a trial), usually much smaller than the untrained network's
    spontaneous fluctuations. This measures the effective SD: a grid search over
    ``sigmas`` (default 0.1 … 10 mV, log-spaced) minimising the (weighted) squared error
    between ``lif_transfer(mu, σ)`` and the measured ``rates``, refined by a parabola
    through the best grid point and its neighbours (in log σ).

    Parameters
    ----------
    mu : array
        Trial-averaged total input (volts), any shape.
    rates : array, same shape
        Trial-averaged firing rates (Hz) measured with that input.
    sigmas : array, optional
        Candidate SDs in volts (increasing, > 0).
    weights : array, optional
        Non-negative weights per sample (broadcast against ``mu``).
    **lif
        ``tau_m, tau_ref, v_th, v_reset`` as in :func:`lif_transfer`.

    Returns
    -------
    sigma : float
        Best SD in volts.
    loss : ndarray
        Mean squared rate error (Hz²) at each grid value.
    """
    mu = np.asarray(mu, dtype=float)
    rates = np.asarray(rates, dtype=float)
    if mu.shape != rates.shape:
        raise ValueError(f"mu {mu.shape} and rates {rates.shape} must have the same shape")
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(rates))):
        raise ValueError("mu and rates must be finite")
    sigmas = np.geomspace(1e-4, 1e-2, 41) if sigmas is None else np.asarray(sigmas, dtype=float)
    if sigmas.ndim != 1 or sigmas.size < 1 or np.any(sigmas <= 0) or np.any(np.diff(sigmas) <= 0):
        raise ValueError("sigmas must be a 1-D increasing array of positive volts")
    w = np.ones_like(mu) if weights is None else np.broadcast_to(np.asarray(weights, float), mu.shape)
    if np.any(w < 0) or not np.any(w > 0):
        raise ValueError("weights must be >= 0 and not all zero")
    step = 10e-6
    grid = np.arange(np.floor(mu.min() / step) - 100, np.ceil(mu.max() / step) + 101) * step
    loss = np.array([np.sum(w * (np.interp(mu, grid, _smoothed_curve(grid, s, **lif)) - rates) ** 2)
                     / w.sum() for s in sigmas])
    k = int(np.argmin(loss))
    best = sigmas[k]
    if 0 < k < sigmas.size - 1:
        x = np.log(sigmas[k - 1:k + 2])
        a, b, _ = np.polyfit(x, loss[k - 1:k + 2], 2)
        if a > 0:
            best = float(np.exp(np.clip(-b / (2 * a), x[0], x[2])))
    return float(best), loss
