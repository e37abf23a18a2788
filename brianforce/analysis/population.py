"""Fit-quality and population statistics (numpy only; never imports Brian2).

All inputs are plain arrays; times are in **seconds**. For ``output``/``target`` pairs the
last axis is the channel (output, muscle, unit) and all leading axes (condition, trial,
time) are samples; a 1-D array is one channel.

References
----------
DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023). The centrality of population-level
factors to network computation is demonstrated by a versatile approach for training spiking
networks. Neuron 111:631-649 (normalised error, PCs and principal angles of rate vs spiking nets).
Knyazev AV, Argentati ME (2002). Principal angles between subspaces in an A-based scalar product.
SIAM J Sci Comput 23:2008-2040 (sine/cosine computation of principal angles).
Softky WR, Koch C (1993). J Neurosci 13:334-350 (ISI CV); Churchland MM et al. (2010).
Nat Neurosci 13:369-378 (Fano factor across trials).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brianforce.checks import as_finite_array

__all__ = ["normalised_error", "r_squared", "PCAResult", "pca", "principal_angles", "variance_outside_span",
           "isi_cv", "isi_cv_by_neuron", "isi_cv_within_trials",
           "fano_factor", "nanmedian_or_none", "gaussian_smooth", "time_correlations"]




def _pair(output, target):
    z = as_finite_array(output, "output")
    f = as_finite_array(target, "target")
    if z.shape != f.shape:
        raise ValueError(f"output shape {z.shape} does not match target shape {f.shape}")
    if z.size == 0:
        raise ValueError("output and target are empty")
    if z.ndim == 1:
        z, f = z[:, None], f[:, None]
    return z.reshape(-1, z.shape[-1]), f.reshape(-1, f.shape[-1])


def normalised_error(output, target, centred: bool = False) -> float:
    """Normalised squared error of ``output`` z against ``target`` f, pooled over all channels.

    ``centred=False`` (default) is DePasquale et al.'s normalised mean-squared error::

        E = sum_{t,q} (z_tq - f_tq)^2 / sum_{t,q} f_tq^2        (= ||z - f||_F^2 / ||f||_F^2)

    ``centred=True`` is the variance-normalised form, which divides by the target's variance
    about its per-channel mean (over all samples) instead, so ``E = 1 - R^2`` (pooled)::

        E = sum_{t,q} (z_tq - f_tq)^2 / sum_{t,q} (f_tq - mean_t f_tq)^2

    Parameters
    ----------
    output, target : array_like (..., Q) or (T,)
        Same shapes; leading axes are samples (condition, trial, time), the last is channels.
    centred : bool

    Returns
    -------
    float
        0 for a perfect fit; 1 for ``z = 0`` (uncentred) or ``z = channel mean`` (centred).

    References
    ----------
    DePasquale B et al. (2023). Neuron 111:631-649 (nMSE = trace((z-f)(z-f)')/trace(f f') in the
    authors' code, ``factor-based-spiking-nets``).
    """
    z, f = _pair(output, target)
    ref = f - f.mean(axis=0) if centred else f
    denom = np.sum(ref ** 2)
    if denom == 0:
        raise ValueError("target is identically zero" + (" about its mean" if centred else "")
                         + "; the normalised error is undefined")
    return float(np.sum((z - f) ** 2) / denom)


def r_squared(output, target, multioutput: str = "uniform_average"):
    """Coefficient of determination R^2 of ``output`` against ``target``, per channel.

    For channel q, ``R2_q = 1 - sum_t (z_tq - f_tq)^2 / sum_t (f_tq - mean_t f_tq)^2``, with t running
    over all leading axes (conditions x time for condition-averaged data).

    Parameters
    ----------
    output, target : array_like (..., Q) or (T,)
    multioutput : {"uniform_average", "raw_values", "variance_weighted"}
        Mean of the per-channel values, the (Q,) values themselves, or the pooled value
        ``1 - sum SS_res / sum SS_tot`` (= ``1 - normalised_error(..., centred=True)``).

    Returns
    -------
    float or ndarray (Q,)
        1 is a perfect fit; can be negative.
    """
    z, f = _pair(output, target)
    ss_res = np.sum((z - f) ** 2, axis=0)
    ss_tot = np.sum((f - f.mean(axis=0)) ** 2, axis=0)
    if np.any(ss_tot == 0):
        raise ValueError(f"target channel(s) {np.flatnonzero(ss_tot == 0).tolist()} are constant; R^2 undefined")
    if multioutput == "raw_values":
        return 1.0 - ss_res / ss_tot
    if multioutput == "uniform_average":
        return float(np.mean(1.0 - ss_res / ss_tot))
    if multioutput == "variance_weighted":
        return float(1.0 - ss_res.sum() / ss_tot.sum())
    raise ValueError(f"multioutput must be 'uniform_average', 'raw_values' or 'variance_weighted', "
                     f"got {multioutput!r}")


@dataclass(frozen=True, eq=False)
class PCAResult:
    """Principal components of data ``X`` (samples x features).

    Attributes
    ----------
    components : ndarray (k, D)
        Orthonormal principal axes as rows, by decreasing variance; each row's largest-magnitude
        entry is positive (deterministic signs).
    explained_variance : ndarray (k,)
        Variance along each axis (``ddof=1``).
    explained_variance_ratio : ndarray (k,)
        Fraction of the total variance (over all D features) along each axis.
    mean : ndarray (D,)
        Feature means subtracted before the decomposition.
    """

    components: np.ndarray
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray
    mean: np.ndarray

    @property
    def n_components(self) -> int:
        return self.components.shape[0]

    def transform(self, X) -> np.ndarray:
        """Scores ``(X - mean) @ components.T``; leading axes of ``X`` are kept."""
        X = np.asarray(X, float)
        return (X - self.mean) @ self.components.T

    def inverse_transform(self, scores) -> np.ndarray:
        """Back to feature space: ``scores @ components + mean``."""
        return np.asarray(scores, float) @ self.components + self.mean


def pca(X, n_components: int | None = None, variance: float | None = None) -> PCAResult:
    """Principal component analysis by SVD of the mean-centred data.

    Parameters
    ----------
    X : array_like (..., D)
        Samples x features; leading axes (e.g. condition, time) are flattened into samples.
    n_components : int, optional
        Keep this many components.
    variance : float in (0, 1], optional
        Keep the fewest components whose cumulative explained-variance ratio reaches
        ``variance`` (e.g. 0.9). At most one of ``n_components``/``variance``; neither keeps
        ``min(n_samples, D)``.

    Returns
    -------
    PCAResult

    References
    ----------
    DePasquale B et al. (2023). Neuron 111:631-649 (top-10 PCs of rate and spiking networks).
    """
    X = as_finite_array(X, "X")
    if X.ndim < 2:
        raise ValueError(f"X must be (samples, features), got shape {X.shape}")
    X = X.reshape(-1, X.shape[-1])
    n, d = X.shape
    if n < 2:
        raise ValueError("pca needs at least 2 samples")
    if n_components is not None and variance is not None:
        raise ValueError("give n_components or variance, not both")
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    ev = s ** 2 / (n - 1)
    total = ev.sum()
    if total == 0:
        raise ValueError("X has zero variance")
    ratio = ev / total
    kmax = len(s)
    if n_components is not None:
        if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) \
                or not 1 <= n_components <= kmax:
            raise ValueError(f"n_components must be an integer in [1, {kmax}], got {n_components!r}")
        k = int(n_components)
    elif variance is not None:
        if not 0 < variance <= 1:
            raise ValueError(f"variance must be in (0, 1], got {variance!r}")
        k = int(min(kmax, np.searchsorted(np.cumsum(ratio), variance - 1e-12) + 1))
    else:
        k = kmax
    comps = vt[:k].copy()
    sign = np.sign(comps[np.arange(k), np.abs(comps).argmax(axis=1)])
    comps *= np.where(sign == 0, 1.0, sign)[:, None]
    return PCAResult(components=comps, explained_variance=ev[:k], explained_variance_ratio=ratio[:k], mean=mean)


def _basis(A, name):
    if isinstance(A, PCAResult):
        A = A.components.T
    A = as_finite_array(A, name)
    if A.ndim == 1:
        A = A[:, None]
    if A.ndim != 2 or A.shape[1] == 0:
        raise ValueError(f"{name} must be a (D, k) matrix whose columns span the subspace, got {A.shape}")
    u, s, _ = np.linalg.svd(A, full_matrices=False)
    tol = s.max(initial=0.0) * max(A.shape) * np.finfo(float).eps
    r = int(np.sum(s > tol))
    if r == 0:
        raise ValueError(f"{name} is all zeros")
    return u[:, :r]


def principal_angles(A, B) -> np.ndarray:
    """Principal angles (degrees, ascending) between the column spaces of ``A`` and ``B``.

    Orthonormal bases ``Qa, Qb`` come from SVDs of ``A`` (D, p) and ``B`` (D, q) (rank-deficient
    columns are dropped); the cosines are the singular values of ``Qa.T @ Qb``. Angles below 45°
    are taken from the sines (singular values of ``Qb - Qa Qa.T Qb``) for accuracy.
    A :class:`PCAResult` may be passed for either argument (its components span the subspace).

    Returns
    -------
    ndarray (min(rank A, rank B),)
        Smallest angle first; 0 = shared direction, 90 = orthogonal.

    References
    ----------
    Knyazev AV, Argentati ME (2002). SIAM J Sci Comput 23:2008-2040.
    DePasquale B et al. (2023). Neuron 111:631-649.
    """
    qa, qb = _basis(A, "A"), _basis(B, "B")
    if qa.shape[0] != qb.shape[0]:
        raise ValueError(f"A and B live in different spaces: {qa.shape[0]} vs {qb.shape[0]} rows")
    if qa.shape[1] < qb.shape[1]:
        qa, qb = qb, qa                     # qa is the larger subspace
    cos = np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), -1.0, 1.0)   # descending
    k = qb.shape[1]
    sin = np.clip(np.linalg.svd(qb - qa @ (qa.T @ qb), compute_uv=False), -1.0, 1.0)  # descending
    sin = np.sort(np.concatenate([sin, np.zeros(max(0, k - sin.size))]))[:k]          # ascending
    ang = np.where(cos ** 2 >= 0.5, np.arcsin(sin), np.arccos(cos))
    return np.sort(np.degrees(ang))


def variance_outside_span(X, basis) -> dict:
    """How much of the variance of ``X`` lies outside the column span of ``basis``.

    ``X`` (samples, features) and ``basis`` (samples, k) are mean-centred per column; each of
    ``X``'s columns is split into its projection onto the span of ``basis`` and the residual.
    Used to ask which part of one network's activity has no counterpart among another
    network's PC time courses (both recorded over the same samples, e.g. conditions × time).

    Returns
    -------
    dict
        ``fraction``: residual variance / total variance; ``top_direction``: the share of the
        total variance along the residual's largest direction; ``per_feature`` (features,): each
        feature's residual fraction (NaN where a feature does not vary).
    """
    X = as_finite_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be (samples, features), got shape {X.shape}")
    basis = as_finite_array(basis, "basis")
    q = _basis(basis - basis.mean(axis=0), "basis")        # variation about the mean, as for X
    if q.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} samples but basis has {q.shape[0]} rows")
    Xc = X - X.mean(axis=0)
    total = float(np.sum(Xc ** 2))
    if total == 0:
        raise ValueError("X has zero variance")
    res = Xc - q @ (q.T @ Xc)
    per = np.sum(Xc ** 2, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_feature = np.where(per > 0, np.sum(res ** 2, axis=0) / per, np.nan)
    top = np.linalg.svd(res, compute_uv=False)[0] ** 2 if res.size else 0.0
    return {"fraction": float(np.sum(res ** 2) / total), "top_direction": float(top / total),
            "per_feature": per_feature}


def _trains(spike_trains):
    if isinstance(spike_trains, dict):
        keys = sorted(spike_trains)
        spike_trains = [spike_trains[k] for k in keys]
    elif isinstance(spike_trains, np.ndarray) and spike_trains.dtype != object and spike_trains.ndim == 1:
        spike_trains = [spike_trains]
    out = []
    for i, tr in enumerate(spike_trains):
        unit = None
        if hasattr(tr, "dim"):
            from brian2 import second as unit   # SpikeMonitor.spike_trains() values: times in seconds
        tr = np.ravel(as_finite_array(tr, f"spike train {i}", unit=unit))
        if np.any(np.diff(tr) < 0):
            raise ValueError(f"spike train {i} is not sorted in time")
        out.append(tr)
    return out


def isi_cv(spike_trains, min_spikes: int = 3) -> np.ndarray:
    """Coefficient of variation of the inter-spike intervals of each spike train.

    ``CV = std(ISI) / mean(ISI)`` (population std, ``ddof=0``); 1 for a Poisson process,
    ``1/sqrt(k)`` for a gamma process of shape k, 0 for a regular train.

    Parameters
    ----------
    spike_trains : sequence of 1-D arrays, dict of arrays, or one 1-D array
        Sorted spike times in seconds (e.g. ``SpikeMonitor.spike_trains()`` values; a dict is
        read in key order).
    min_spikes : int
        Trains with fewer spikes get NaN (default 3, i.e. at least 2 intervals).

    Returns
    -------
    ndarray (n_trains,)

    References
    ----------
    Softky WR, Koch C (1993). J Neurosci 13:334-350.
    """
    if min_spikes < 2:
        raise ValueError(f"min_spikes must be >= 2, got {min_spikes}")
    out = []
    for tr in _trains(spike_trains):
        if tr.size < min_spikes:
            out.append(np.nan)
            continue
        isi = np.diff(tr)
        m = isi.mean()
        out.append(np.nan if m == 0 else isi.std() / m)
    return np.asarray(out, float)


def fano_factor(counts_across_trials, axis: int = 0) -> np.ndarray:
    """Fano factor ``var(counts) / mean(counts)`` across trials (``ddof=1``).

    Parameters
    ----------
    counts_across_trials : array_like (n_trials, ...)
        Spike counts per trial (and per neuron/window in the other axes).
    axis : int
        Trial axis (default 0).

    Returns
    -------
    ndarray
        The counts' shape without ``axis``; 1 for Poisson counts; NaN where the mean is 0.

    References
    ----------
    Churchland MM et al. (2010). Stimulus onset quenches neural variability. Nat Neurosci 13:369-378.
    """
    c = as_finite_array(counts_across_trials, "counts_across_trials")
    if c.ndim == 0 or c.shape[axis] < 2:
        raise ValueError("fano_factor needs at least 2 trials along the trial axis")
    if np.any(c < 0):
        raise ValueError("spike counts must be non-negative")
    m = c.mean(axis=axis)
    v = c.var(axis=axis, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(m > 0, v / np.where(m > 0, m, 1.0), np.nan)


def nanmedian_or_none(values) -> float | None:
    """Median of the finite entries of ``values``, or ``None`` when there are none.

    For summary statistics that can be undefined (a Fano factor needs two trials, an ISI CV
    three spikes): ``None`` is written as JSON ``null``, where NaN is not valid JSON.
    """
    a = np.asarray(values, dtype=float).ravel()
    a = a[np.isfinite(a)]
    return float(np.median(a)) if a.size else None


def gaussian_smooth(x, sd_samples: float, axis: int = -2) -> np.ndarray:
    """Gaussian smoothing (SD in samples) along ``axis``, edges renormalised (no zero padding).

    The kernel is cut at ±4 SD; the result has the shape of ``x``, also when ``x`` is shorter
    than the kernel along ``axis``.
    """
    x = np.asarray(x, dtype=float)
    if sd_samples <= 0:
        return x.copy()
    half = int(np.ceil(4 * sd_samples))
    kern = np.exp(-0.5 * (np.arange(-half, half + 1) / sd_samples) ** 2)
    kern /= kern.sum()

    def smooth(v):
        if v.size >= kern.size:
            return np.convolve(v, kern, mode="same")
        return np.convolve(v, kern, mode="full")[half:half + v.size]   # centred part, len(v)

    norm = smooth(np.ones(x.shape[axis]))
    return np.apply_along_axis(lambda v: smooth(v) / norm, axis, x)


def time_correlations(x, y) -> np.ndarray:
    """Pearson correlation over time (axis −2) of (…, T, M) arrays; NaN where either is flat."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    x = x - x.mean(axis=-2, keepdims=True)
    y = y - y.mean(axis=-2, keepdims=True)
    den = np.sqrt((x * x).sum(-2) * (y * y).sum(-2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (x * y).sum(-2) / np.where(den > 0, den, 1.0), np.nan)


def isi_cv_within_trials(spike_i, spike_t, trial_starts, duration: float, n_neurons: int, *,
                         min_spikes: int = 3) -> np.ndarray:
    """ISI CV per neuron over the intervals inside each trial ``[start, start + duration)``.

    For trials that each start afresh (a reset state), laid end to end on one time axis: the
    interval from a neuron's last spike in one trial to its first in the next is not an ISI of
    any run and is left out. ``spike_i``, ``spike_t`` (s) and ``trial_starts`` (s) share one
    origin; NaN where a neuron has fewer than ``min_spikes`` spikes in its pooled intervals
    (as :func:`isi_cv_by_neuron`).
    """
    spike_i, spike_t = np.asarray(spike_i, dtype=np.int64), np.asarray(spike_t, dtype=float)
    idx, times = [], []
    for s0 in np.asarray(trial_starts, dtype=float):
        m = (spike_t >= s0) & (spike_t < s0 + duration)
        idx.append(spike_i[m])
        times.append(spike_t[m])
    return isi_cv_by_neuron(idx, times, n_neurons, min_spikes=min_spikes)


def isi_cv_by_neuron(neuron, times, n_neurons: int, *, min_spikes: int = 5) -> np.ndarray:
    """Coefficient of variation of inter-spike intervals per neuron (NaN if < ``min_spikes``).

    ``neuron``, ``times`` (s) are a ``SpikeMonitor``'s ``i`` and ``t``, or lists of per-trial
    arrays: intervals are not taken across trial boundaries. See :func:`isi_cv` for spike trains.
    """
    if isinstance(neuron, np.ndarray):
        neuron, times = [neuron], [times]
    isis = [[] for _ in range(n_neurons)]
    for idx, t in zip(neuron, times):
        order = np.lexsort((t, idx))
        idx, t = idx[order], t[order]
        d = np.diff(t)
        same = idx[1:] == idx[:-1]
        for i, dd in zip(idx[1:][same], d[same]):
            isis[i].append(dd)
    out = np.full(n_neurons, np.nan)
    for i, d in enumerate(isis):
        if len(d) + 1 >= min_spikes:
            d = np.asarray(d)
            out[i] = d.std() / d.mean()
    return out
