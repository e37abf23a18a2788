"""Random connectivity drawn in numpy (handed to Brian2 as arrays)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SparseWeights", "static_weights", "feedback_weights"]


@dataclass(frozen=True)
class SparseWeights:
    """Sparse weights as (pre, post, value) triples; value in SI (V·s for LIF)."""

    pre: np.ndarray
    post: np.ndarray
    value: np.ndarray
    n: int

    def dense(self) -> np.ndarray:
        """Dense (post, pre) matrix."""
        W = np.zeros((self.n, self.n))
        W[self.post, self.pre] = self.value
        return W


def static_weights(n: int, p: float, gain: float, rng: np.random.Generator) -> SparseWeights:
    """Nicola & Clopath static weights ``G·N(0,1)/(√N·p)`` with connection probability ``p``.

    The non-zero entries of each row (post-synaptic neuron) are shifted to zero mean, so
    every neuron receives a balanced static input.

    Parameters
    ----------
    n : int
    p : float in (0, 1]
    gain : float
        ``G`` in SI units (V·s for currents in voltage units).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if not 0 < p <= 1:
        raise ValueError(f"connection probability p must be in (0, 1], got {p}")
    mask = rng.random((n, n)) < p
    values = gain * rng.standard_normal((n, n)) / (np.sqrt(n) * p)
    post, pre = np.nonzero(mask)
    w = values[post, pre]
    counts = np.bincount(post, minlength=n)
    sums = np.bincount(post, weights=w, minlength=n)
    means = np.divide(sums, counts, out=np.zeros(n), where=counts > 0)
    w = w - means[post]
    return SparseWeights(pre=pre.astype(np.int64), post=post.astype(np.int64), value=w, n=n)


def feedback_weights(n: int, n_outputs: int, Q: float, rng: np.random.Generator) -> np.ndarray:
    """Fixed feedback encoders η ~ U(−Q, Q) (Nicola & Clopath), shape (n, n_outputs)."""
    return Q * (2.0 * rng.random((n, n_outputs)) - 1.0)
