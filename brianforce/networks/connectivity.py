"""Random connectivity drawn in numpy (handed to Brian2 as arrays)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brianforce.checks import as_count

__all__ = ["SparseWeights", "static_weights", "feedback_weights", "synapse_capacity"]


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
        ``G`` in SI units (V·s for currents in voltage units), finite.
    """
    n = as_count(n, "n", minimum=1)
    if not 0 < p <= 1:
        raise ValueError(f"connection probability p must be in (0, 1], got {p}")
    if not np.isfinite(gain):
        raise ValueError(f"gain must be finite, got {gain!r}")
    if not isinstance(rng.bit_generator, np.random.PCG64):
        return _dense_static_weights(n, p, gain, rng)
    # The same numbers as drawing an n×n uniform mask and then n×n normals (the dense form
    # below), drawn in blocks of rows without dense temporaries: a copy of the generator
    # advanced past the n² uniforms (one 64-bit draw each) gives the normals. A first pass
    # counts each row's connections, so the sparse arrays are allocated once.
    block = max(1, min(n, 2**22 // n))
    normals = np.random.Generator(np.random.PCG64())
    normals.bit_generator.state = rng.bit_generator.state
    normals.bit_generator.advance(n * n)
    start_state = rng.bit_generator.state
    counts = np.empty(n, dtype=np.int64)
    for r0 in range(0, n, block):
        counts[r0:r0 + block] = np.count_nonzero(rng.random((min(block, n - r0), n)) < p, axis=1)
    rng.bit_generator.state = start_state
    nnz = int(counts.sum())
    pre, post, w = np.empty(nnz, np.int64), np.empty(nnz, np.int64), np.empty(nnz)
    k = 0
    for r0 in range(0, n, block):
        rows = min(block, n - r0)
        mask = rng.random((rows, n)) < p
        values = gain * normals.standard_normal((rows, n)) / (np.sqrt(n) * p)
        r, c = np.nonzero(mask)
        m = r.size
        post[k:k + m], pre[k:k + m], w[k:k + m] = r + r0, c, values[r, c]
        sums = np.bincount(r, weights=w[k:k + m], minlength=rows)
        c_rows = counts[r0:r0 + rows]
        means = np.divide(sums, c_rows, out=np.zeros(rows), where=c_rows > 0)
        w[k:k + m] -= means[r]
        k += m
    rng.bit_generator.state = normals.bit_generator.state      # as after the dense draw
    return SparseWeights(pre=pre, post=post, value=w, n=n)


def _dense_static_weights(n: int, p: float, gain: float, rng: np.random.Generator) -> SparseWeights:
    """The definition of :func:`static_weights` with dense n×n temporaries (any bit generator)."""
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
    """Fixed feedback encoders η ~ U(−Q, Q) (Nicola & Clopath), shape (n, n_outputs); ``Q`` finite, >= 0."""
    if not (np.isfinite(Q) and Q >= 0):
        raise ValueError(f"Q must be finite and >= 0, got {Q!r}")
    return Q * (2.0 * rng.random((n, n_outputs)) - 1.0)


def synapse_capacity(n: int, p: float, n_synapses: int = 0) -> int:
    """A synapse count that :func:`static_weights` ``(n, p)`` exceeds with probability below 1e-15.

    The count is binomial, ``B(n², p)``: its mean plus eight standard deviations (or
    ``n_synapses``, when larger). Compiled standalone programs create this many synapses (the
    surplus with zero weight, see :func:`brianforce.networks.force_lif.build_force_network`), so
    networks of one size and ``p`` drawn from any seed share their generated code.
    """
    mean = n * n * p
    return max(int(np.ceil(mean + 8.0 * np.sqrt(mean * (1.0 - p)))) + 1, int(n_synapses))
