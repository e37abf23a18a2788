"""Per-neuron recursive least squares over each neuron's existing inputs (numpy only).

Every trained neuron ``m`` owns a small inverse-correlation matrix ``P_m`` over the
filtered spike trains of its own presynaptic partners (a sparse mask), and its incoming
weights are fitted so that ``Σ_j W_mj r_j`` follows its own target. All neurons are
updated together with batched matrix products on padded ``(M, K, K)`` arrays (``K`` =
largest in-degree); padded slots carry ``r = 0`` and therefore never change, so the
batched solve equals ``M`` independent single-output :class:`brianforce.learning.rls.RLS` solves.

Plain floats throughout: regressors ``r`` in hertz, weights in whatever unit makes
``W r`` the target's unit (V·s for currents in volts). No Brian2 import.

References
----------
Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
Haykin S (2002) Adaptive Filter Theory, ch. 9.
"""
from __future__ import annotations

import numpy as np

from brianforce.errors import TrainingDiverged
from brianforce.learning.rls import regularisation_from

__all__ = ["PerNeuronRLS", "padded_inputs"]


def padded_inputs(mask) -> tuple[np.ndarray, np.ndarray]:
    """Padded presynaptic index table from a boolean ``mask`` (M trained neurons × N inputs).

    Returns
    -------
    index : int ndarray (M, K)
        ``index[m, :k_m]`` are the input columns of row ``m`` in increasing order; padded
        slots hold 0 (any valid column; they are masked out by ``valid``).
    valid : bool ndarray (M, K)
    """
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.dtype != bool:
        raise ValueError(f"mask must be a 2-D boolean array (trained neurons × inputs), got "
                         f"dtype {mask.dtype} and shape {mask.shape}")
    counts = mask.sum(axis=1)
    if np.any(counts == 0):
        raise ValueError(f"rows {np.flatnonzero(counts == 0)[:5].tolist()} of mask have no inputs")
    K = int(counts.max())
    valid = np.arange(K)[None, :] < counts[:, None]
    index = np.zeros((mask.shape[0], K), dtype=np.int64)
    rows, cols = np.nonzero(mask)
    index[valid] = cols  # np.nonzero is row-major, cols increase within a row
    return index, valid


class PerNeuronRLS:
    """Batched RLS: one ``P`` per trained neuron over its existing presynaptic partners.

    Minimises, independently for each row ``m``,
    ``Σ_t (W_m · r_t[in_m] − y_mt)² + λ |W_m − W_m(0)|²``.

    Parameters
    ----------
    mask : bool array (M, N)
        ``mask[m, j]``: input ``j`` (e.g. presynaptic neuron) feeds trained neuron ``m``.
    reg, alpha : float
        Ridge λ (``P(0) = I/λ``) or ``α = 1/λ``; give exactly one.
    normalised : bool
        ``True``: gain ``P r / (1 + rᵀ P r)``; ``False``: un-normalised ``W -= (P r) e``
        (``P`` updated identically), as in :class:`brianforce.learning.rls.RLS`.
    weights : array (M, N) or (M, K), optional
        Initial weights, dense over all inputs (entries outside ``mask`` ignored) or
        already padded. Default zeros.
    layout : {'auto', 'dense', 'padded'}
        How ``weights`` is laid out (see :meth:`set_weights`).
    chunk : int
        Neurons updated per batched block (bounds temporary memory to ~chunk·K² floats).

    Attributes
    ----------
    index, valid : ndarray (M, K)
        Padded input table (see :func:`padded_inputs`).
    W : ndarray (M, K)
        Padded incoming weights (zeros in padded slots), updated in place.
    P : ndarray (M, K, K)
        Per-neuron inverse correlation matrices (padded rows/columns stay ``I/λ``).
    n_updates : int

    References
    ----------
    Kim CM, Chow CC (2018) eLife 7:e37124 (per-neuron RLS on recurrent synapses).
    """

    def __init__(self, mask, *, reg=None, alpha=None, normalised: bool = True, weights=None,
                 layout: str = "auto", chunk: int = 8):
        self.index, self.valid = padded_inputs(mask)
        self.n_neurons, self.max_inputs = self.index.shape
        self.n_inputs = int(np.asarray(mask).shape[1])
        self.reg = regularisation_from(reg, alpha)
        self.normalised = bool(normalised)
        if int(chunk) < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        self.chunk = int(chunk)
        M, K = self.index.shape
        self.P = np.broadcast_to(np.eye(K) / self.reg, (M, K, K)).copy()
        self.W = np.zeros((M, K))
        if weights is not None:
            self.set_weights(weights, layout=layout)
        self.n_updates = 0

    # -- weights -----------------------------------------------------------------------
    def set_weights(self, weights, *, layout: str = "auto") -> None:
        """Set weights from a dense (M, N) or padded (M, K) array.

        Parameters
        ----------
        weights : array (M, N) or (M, K)
            Finite weights; dense entries outside the mask are ignored.
        layout : {'auto', 'dense', 'padded'}
            ``'auto'`` reads the layout from the shape. When the largest in-degree ``K`` equals
            ``N`` and the mask is not full, both layouts have the same shape: give ``layout``.
        """
        w = np.asarray(weights, dtype=float)
        M, K = self.index.shape
        dense, padded = (M, self.n_inputs), (M, K)
        if layout not in ("auto", "dense", "padded"):
            raise ValueError(f"layout must be 'auto', 'dense' or 'padded', got {layout!r}")
        use = layout
        if layout == "auto":
            if w.shape == dense == padded and not self.valid.all():
                raise ValueError(f"weights of shape {w.shape} may be dense or padded (the largest in-degree "
                                 f"equals the number of inputs, {K}); pass layout='dense' or layout='padded'")
            use = "dense" if w.shape == dense else "padded"
        if w.shape != (dense if use == "dense" else padded):
            raise ValueError(f"weights must have shape {dense} (dense) or {padded} (padded), got {w.shape}"
                             + ("" if layout == "auto" else f" with layout={layout!r}"))
        if use == "dense":
            w = np.take_along_axis(w, self.index, axis=1)
        w = np.where(self.valid, w, 0.0)
        if not np.all(np.isfinite(w)):
            raise ValueError("weights contain NaN or Inf")
        self.W[...] = w

    def dense_weights(self) -> np.ndarray:
        """Weights as a dense (M, N) array (zeros off the mask)."""
        out = np.zeros((self.n_neurons, self.n_inputs))
        rows = np.broadcast_to(np.arange(self.n_neurons)[:, None], self.index.shape)
        out[rows[self.valid], self.index[self.valid]] = self.W[self.valid]
        return out

    def neuron_P(self, m: int) -> np.ndarray:
        """``P`` of trained neuron ``m`` restricted to its real inputs (k_m × k_m)."""
        k = int(self.valid[m].sum())
        return self.P[m, :k, :k].copy()

    # -- regression --------------------------------------------------------------------
    def gather(self, r) -> np.ndarray:
        """Padded regressors (M, K) from the full input vector ``r`` (N,)."""
        r = np.asarray(r, dtype=float)
        if r.shape != (self.n_inputs,):
            raise ValueError(f"r must have shape ({self.n_inputs},), got {r.shape}")
        return np.where(self.valid, r[self.index], 0.0)

    def predict(self, r) -> np.ndarray:
        """Per-neuron outputs ``W_m · r[in_m]`` (shape (M,)) for the full input vector ``r``."""
        return np.einsum("mk,mk->m", self.W, self.gather(r))

    def update(self, r, error) -> np.ndarray:
        """One batched RLS step given the a-priori ``error = prediction − target`` (M,).

        Returns ``r_mᵀ P_m r_m`` before the update (M,), a diagnostic.
        """
        R = self.gather(r)
        if not np.all(np.isfinite(R)):
            bad = np.flatnonzero(~np.all(np.isfinite(R), axis=1))
            raise TrainingDiverged(self.n_updates, message=f"non-finite RLS regressor r for trained neurons "
                                                           f"{bad[:5].tolist()} at update {self.n_updates}")
        error = np.asarray(error, dtype=float)
        if error.shape != (self.n_neurons,):
            raise ValueError(f"error must have shape ({self.n_neurons},), got {error.shape}")
        if not np.all(np.isfinite(error)):
            bad = np.flatnonzero(~np.isfinite(error))
            raise TrainingDiverged(self.n_updates, message=f"non-finite RLS error for trained neurons "
                                                           f"{bad[:5].tolist()} at update {self.n_updates}")
        rPr = np.empty(self.n_neurons)
        for start in range(0, self.n_neurons, self.chunk):
            sl = slice(start, start + self.chunk)
            P = self.P[sl]
            Pr = np.matmul(P, R[sl, :, None])[..., 0]
            rPr[sl] = np.einsum("mk,mk->m", R[sl], Pr)
            c = 1.0 / (1.0 + rPr[sl])
            gain = Pr * c[:, None] if self.normalised else Pr
            self.W[sl] -= gain * error[sl, None]
            # P <- P - c (P r)(P r)^T, in place, one chunk-sized temporary
            outer = Pr[:, :, None] * (c[:, None, None] * Pr[:, None, :])
            np.subtract(P, outer, out=P)
        self.n_updates += 1
        return rPr

    def step(self, r, target) -> np.ndarray:
        """Predict, compare with ``target`` (M,), update; return the a-priori error."""
        target = np.asarray(target, dtype=float)
        if not np.all(np.isfinite(target)):
            raise ValueError("target contains NaN or Inf")
        error = self.predict(r) - target
        self.update(r, error)
        return error
