"""Random structure of a factor student, drawn in numpy from the seed: fixed connectivity J^f,
factor projection U, input weights U_in, and the Dale signs and pools.

Without Dale's law J^f has independent normal entries (mean ``fixed_mean / N``, standard
deviation ``fixed_gain / √N``) and U has orthonormal columns
(:func:`brianforce.rate.factors.pool_projection`), scaled so that the factor drive U ỹ has
RMS ``signal_amplitude``. With Dale's law (:class:`~brianforce.methods.factor_student.params.DaleSettings`)
each neuron is excitatory (σ = +1, fraction ``frac_exc``) or inhibitory (σ = −1); fixed
weights are ``|N(0, 1)|`` magnitudes with the presynaptic sign, inhibitory columns scaled so
the mean input equals ``fixed_mean``. Method ``"total"`` keeps autapses (every pair has a
fixed weight) and, with ``project``, makes U orthogonal to J^f's rank-one mean direction;
``"split"`` uses a non-negative U (:func:`nonnegative_projection`); ``"offset"`` sets the
offsets β of the learned weights.

References
----------
DePasquale B, Churchland MM, Abbott LF (2016) arXiv:1601.07620.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brianforce.methods.factor_student.params import DaleSettings, FixedNetwork
from brianforce.rate.factors import pool_projection
from brianforce.seeding import rng_for

__all__ = ["StudentStructure", "draw_structure", "nonnegative_projection"]


@dataclass
class StudentStructure:
    """The drawn structure of a student (SI floats).

    Attributes
    ----------
    signs : ndarray (N,)          +1/−1 (Dale) or 0
    fixed_i, fixed_j : ndarray    fixed synapses post i ← pre j
    fixed_w : ndarray             their weights (V·s)
    U : ndarray (N, P)            factor → neuron projection (V per factor unit)
    U_in : ndarray (N, M)         input weights (V per input unit)
    dale_beta : ndarray (2N,)     Dale ``"offset"``: offset β per [slow; fast] feature (V), else 0
    row_limit : ndarray (2N,) or None
        Dale ``"offset"``: bound on the norm of each readout row, ``β_j / max_i |U_i|``.
    """

    signs: np.ndarray
    fixed_i: np.ndarray
    fixed_j: np.ndarray
    fixed_w: np.ndarray
    U: np.ndarray
    U_in: np.ndarray
    dale_beta: np.ndarray
    row_limit: np.ndarray | None = None

    def fixed_matrix(self) -> np.ndarray:
        """Dense J^f (N, N), entry [post, pre] in V·s."""
        N = len(self.signs)
        J = np.zeros((N, N))
        J[self.fixed_i, self.fixed_j] = self.fixed_w
        return J


def draw_structure(n_neurons: int, factor_targets, n_inputs: int, network: FixedNetwork,
                   dale: DaleSettings | None, seed: int) -> StudentStructure:
    """Draw a student's fixed structure (seed streams ``student-connectivity``,
    ``student-projection``, ``student-input``).

    Parameters
    ----------
    n_neurons : int
    factor_targets : array (n_trials, T, P)
        Target factors ỹ; U is scaled so that U ỹ has RMS ``network.signal_amplitude``.
    n_inputs : int
        Task input channels M.
    network : FixedNetwork
    dale : DaleSettings or None
    seed : int
    """
    N = n_neurons
    n_factors = factor_targets.shape[-1]
    net = network.si()
    fixed_gain, fixed_mean = net["fixed_gain"], net["fixed_mean"]
    total = dale is not None and dale.method == "total"
    rng = rng_for(seed, "student-connectivity")
    if dale is not None:
        n_exc = int(round(dale.frac_exc * N))
        if not 1 <= n_exc <= N - 1:
            raise ValueError(f"Dale's law needs excitatory and inhibitory neurons: frac_exc {dale.frac_exc:g} "
                             f"of {N} neurons gives {n_exc} excitatory and {N - n_exc} inhibitory")
        signs = np.full(N, -1.0)
        signs[rng.permutation(N)[:n_exc]] = 1.0
        mag = np.abs(rng.standard_normal((N, N))) * fixed_gain / np.sqrt(N)
        m = np.sqrt(2 / np.pi) * fixed_gain / np.sqrt(N)
        n_inh = N - n_exc
        k_inh = (n_exc * m - fixed_mean) / (n_inh * m) if m > 0 else 1.0
        if k_inh <= 0:
            raise ValueError(f"fixed_mean {network.fixed_mean!r} too positive for Dale's law "
                             "(inhibition would vanish)")
        scale = np.where(signs > 0, 1.0, k_inh)
        W = mag * (signs * scale)[None, :]
    else:
        signs = np.zeros(N)
        W = (fixed_mean / N + fixed_gain / np.sqrt(N) * rng.standard_normal((N, N)))
    if not total:      # Dale "total": autapses too, so every pair has a fixed weight
        np.fill_diagonal(W, 0.0)
    post, pre = np.nonzero(W != 0)
    projection_rng = rng_for(seed, "student-projection")
    if dale is not None and dale.method == "split":
        U = nonnegative_projection(N, n_factors, projection_rng, dale.pools, dale.pool_fraction)
    else:
        U = pool_projection(N, n_factors, 1.0, projection_rng)
    if total and dale.project:
        # keep the factor drive out of J^f's balanced-amplification mode: with Dale's law
        # J^f has a rank-one mean part 1·vᵀ (v_j = σ_j × mean magnitude of column j), so
        # any E−I imbalance of activity along v is fed back to every neuron at once
        v = W.mean(axis=0)
        U = U - np.outer(v, v @ U) / (v @ v)
        U, _ = np.linalg.qr(U)
    rms = np.sqrt(np.mean((factor_targets.reshape(-1, n_factors) @ U.T) ** 2))
    if rms == 0:
        raise ValueError("factor targets are identically zero")
    U = U * (net["signal_amplitude"] / rms)
    U_in = net["input_gain"] * rng_for(seed, "student-input").uniform(-1, 1, (N, n_inputs))
    row_limit = None
    if dale is not None and dale.method == "offset":
        offset = dale.si()["offset"]
        n_exc = int(np.sum(signs > 0))
        beta = np.where(signs > 0, offset, offset * n_exc / (N - n_exc))
        dale_beta = np.concatenate([beta, beta])           # slow, fast features
        row_limit = dale_beta / np.max(np.linalg.norm(U, axis=1))
    else:
        dale_beta = np.zeros(2 * N)
    return StudentStructure(signs, post, pre, W[post, pre], U, U_in, dale_beta, row_limit)


def nonnegative_projection(n_neurons: int, n_factors: int, rng, pools: str = "overlap",
                           pool_fraction: float = 1.0) -> np.ndarray:
    """Non-negative factor projection U (N, P) with unit-norm columns (Dale ``"split"``).

    ``pools="disjoint"``: every neuron in one random factor pool with a uniform(0.5, 1.5)
    weight (orthogonal columns); ``"overlap"``: uniform(0, 1) entries, each kept with
    probability ``pool_fraction`` (random overlapping pools).
    """
    N, P = n_neurons, n_factors
    if pools == "disjoint":
        if N < P:
            raise ValueError(f"pools='disjoint' needs n_neurons >= n_factors, got {N} < {P}")
        U = np.zeros((N, P))
        U[rng.permutation(N), np.arange(N) % P] = rng.uniform(0.5, 1.5, N)
    else:
        U = rng.uniform(0, 1, (N, P)) * (rng.random((N, P)) < pool_fraction)
    norms = np.linalg.norm(U, axis=0)
    if np.any(norms == 0):
        raise ValueError("a factor pool is empty; increase pool_fraction or n_neurons")
    return U / norms
