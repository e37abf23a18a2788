"""Factors (principal components of teacher activity) and their projection onto spiking neurons.

numpy only; plain floats. A spiking neuron ``i`` receives the target current
``I_i(t) = Σ_p U_ip y_p(t)`` built from the ``P`` factors ``y(t)`` through a fixed random,
orthogonalised matrix ``U`` (N × P, columns of norm ``gain`` volts): every factor drives an
overlapping pool of neurons with random weights.

References
----------
DePasquale B, Churchland MM, Abbott LF (2016) Using firing-rate dynamics to train recurrent
networks of spiking model neurons. arXiv:1601.07620 (factor-based targets, ``u = g·orth(V)``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brianforce.checks import as_count, as_number

__all__ = ["Factors", "pca_factors", "pool_projection", "factor_currents"]


@dataclass
class Factors:
    """Principal-component factors of an activity matrix.

    Attributes
    ----------
    mean : ndarray (N,)            mean activity removed before projection
    components : ndarray (N, P)    orthonormal principal axes (columns)
    explained : ndarray (P,)       fraction of total variance per kept component
    total_explained : float        sum of ``explained``
    """

    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray
    total_explained: float

    @property
    def n_factors(self) -> int:
        return self.components.shape[1]

    def transform(self, activity) -> np.ndarray:
        """Factor trajectories ``(activity − mean) @ components`` (shape (..., P))."""
        return (np.asarray(activity, dtype=float) - self.mean) @ self.components

    def inverse_transform(self, factors) -> np.ndarray:
        """Activity reconstructed from factor trajectories."""
        return np.asarray(factors, dtype=float) @ self.components.T + self.mean


def pca_factors(activity, *, variance: float | None = 0.99, n_factors: int | None = None) -> Factors:
    """Principal components of ``activity`` (T × N, or (n_trials, T, N) concatenated in time).

    Keep either the smallest number of components whose cumulative variance fraction reaches
    ``variance`` (default 0.99) or exactly ``n_factors`` (then ``variance`` is ignored).
    """
    a = np.asarray(activity, dtype=float)
    if a.ndim == 3:
        a = a.reshape(-1, a.shape[-1])
    if a.ndim != 2 or a.shape[0] < 2:
        raise ValueError(f"activity must be (T, N) or (n_trials, T, N) with T >= 2, got {np.shape(activity)}")
    if not np.all(np.isfinite(a)):
        raise ValueError("activity contains NaN or Inf")
    mean = a.mean(axis=0)
    _, s, vt = np.linalg.svd(a - mean, full_matrices=False)
    var = s ** 2
    if var.sum() == 0:
        raise ValueError("activity has zero variance; no factors")
    frac = var / var.sum()
    if n_factors is not None:
        k = as_count(n_factors, "n_factors", minimum=1)
        if k > len(s):
            raise ValueError(f"n_factors must be an integer in [1, {len(s)}], got {n_factors!r}")
    else:
        if variance is None:
            raise ValueError("give variance (in (0, 1]) or n_factors")
        variance = as_number(variance, "variance", low=0.0, high=1.0, low_open=True)
        k = int(np.searchsorted(np.cumsum(frac), variance - 1e-12) + 1)
        k = min(k, len(s))
    return Factors(mean, vt[:k].T.copy(), frac[:k].copy(), float(frac[:k].sum()))


def pool_projection(n_neurons: int, n_factors: int, gain: float, rng: np.random.Generator,
                    *, pool_fraction: float = 1.0) -> np.ndarray:
    """Fixed random projection ``U`` (N × P) from factors to spiking neurons.

    With ``pool_fraction = 1`` (default, as in the original code) ``U = gain · orth(V)``,
    ``V ~ uniform(−1, 1)``: orthogonal columns of norm ``gain``, each factor reaching every
    neuron (fully overlapping pools). With ``pool_fraction < 1`` factor ``p`` reaches only a
    random pool of ``≈ pool_fraction·N`` neurons (pools overlap at random); the columns are
    then normalised to ``gain`` but only approximately orthogonal.
    """
    n_neurons, n_factors = as_count(n_neurons, "n_neurons", minimum=1), as_count(n_factors, "n_factors", minimum=1)
    if n_neurons < n_factors:
        raise ValueError(f"need 1 <= n_factors <= n_neurons, got {n_factors}, {n_neurons}")
    as_number(gain, "gain", low=0.0, low_open=True)
    pool_fraction = as_number(pool_fraction, "pool_fraction", low=0.0, high=1.0, low_open=True)
    V = rng.uniform(-1, 1, (n_neurons, n_factors))
    if pool_fraction == 1:
        Q, _ = np.linalg.qr(V)
        return gain * Q
    V *= rng.random(V.shape) < pool_fraction
    norms = np.linalg.norm(V, axis=0)
    if np.any(norms == 0):
        raise ValueError("a factor pool is empty; increase pool_fraction or n_neurons")
    return gain * V / norms


def factor_currents(factors, U) -> np.ndarray:
    """Target input currents ``factors @ Uᵀ`` (…, T, N): one per spiking neuron."""
    return np.asarray(factors, dtype=float) @ np.asarray(U, dtype=float).T
