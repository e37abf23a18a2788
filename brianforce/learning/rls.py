"""Recursive least squares (numpy + BLAS only; no Brian2 import).

The inverse correlation matrix ``P`` is shared by all outputs. Only its upper
triangle is stored/updated, with the BLAS level-2 kernels ``dsymv`` (``P r``) and
``dsyr`` (rank-1 symmetric update), which is several times faster than a numpy
outer product at N ~ 2000.

References
----------
Haykin S. (2002) Adaptive Filter Theory, ch. 9.
Sussillo D, Abbott LF (2009) Generating coherent patterns of activity from chaotic
neural networks. Neuron 63:544-557.
Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE
training. Nat Commun 8:2208.
"""
from __future__ import annotations

import numpy as np

from scipy.linalg import blas

from brianforce.checks import as_count, as_number
from brianforce.errors import TrainingDiverged

__all__ = ["RLS", "regularisation_from", "check_inverse_correlation"]


def regularisation_from(reg: float | None = None, alpha: float | None = None) -> float:
    """Ridge parameter λ from either ``reg`` (P(0) = I/λ) or ``alpha`` (P(0) = α·I).

    ``alpha`` is the Nicola & Clopath convention (their MATLAB ``Pinv = eye(N)*alpha``),
    so ``alpha = 1/reg``. Exactly one of the two must be given; it must be finite and > 0.
    """
    if (reg is None) == (alpha is None):
        raise ValueError("give exactly one of reg (P(0) = I/reg) or alpha (P(0) = alpha*I)")
    value, name = (reg, "reg") if reg is not None else (alpha, "alpha")
    value = as_number(value, name, low=0.0, low_open=True)
    return value if reg is not None else 1.0 / value


class RLS:
    """Online least squares for ``Q`` outputs sharing one ``P`` (N × N).

    Minimises ``Σ_t |Wᵀ r_t − y_t|² + λ |W|²``; after ``n`` updates from ``W = 0``
    (``normalised=True``) the weights equal batch ridge regression.

    Parameters
    ----------
    n_features : int
        Length N of the regressor ``r`` (e.g. filtered spike trains).
    n_outputs : int
        Number Q of outputs.
    reg, alpha : float
        Ridge parameter λ (``P(0) = I/λ``) or its inverse α (``P(0) = α I``); give one.
    normalised : bool
        ``True``: textbook gain ``k = P r / (1 + rᵀ P r)``. ``False``: Nicola & Clopath's
        update ``W -= (P r) eᵀ`` (un-normalised gain; ``P`` is updated identically).
    weights : array (N, Q), optional
        Initial weights (default zeros); shape (N,) is accepted when Q = 1. Must be finite.
    P : array (N, N), optional
        Initial inverse correlation matrix: finite and symmetric (``np.allclose(P, P.T)``), read from
        its upper triangle. Adopted without a copy (see :meth:`set_P`; default ``I/reg``, or ``alpha·I``).

    Attributes
    ----------
    W : ndarray (N, Q)
        Current weights (updated in place; safe to alias).
    n_updates : int
    """

    def __init__(self, n_features: int, n_outputs: int = 1, *, reg=None, alpha=None,
                 normalised: bool = True, weights=None, P=None):
        self.n_features = N = as_count(n_features, "n_features", minimum=1)
        self.n_outputs = Q = as_count(n_outputs, "n_outputs", minimum=1)
        self.reg = regularisation_from(reg, alpha)
        self.normalised = bool(normalised)
        if P is None:
            self._P = np.asfortranarray(np.eye(N) / self.reg)
        else:
            self.set_P(P, copy=False)
        if weights is None:
            self.W = np.zeros((N, Q))
        else:
            w = np.array(weights, dtype=float)
            if w.shape == (N,) and Q == 1:
                w = w.reshape(N, 1)
            elif w.shape != (N, Q):
                shapes = f"{(N, Q)} or {(N,)}" if Q == 1 else f"{(N, Q)}"
                raise ValueError(f"weights must have shape {shapes} (n_features, n_outputs), got {w.shape}")
            if not np.all(np.isfinite(w)):
                raise ValueError(f"weights must be finite, got {int(np.sum(~np.isfinite(w)))} NaN or Inf "
                                 f"entries")
            self.W = w
        self.n_updates = 0

    @property
    def P(self) -> np.ndarray:
        """Full symmetric copy of the inverse correlation matrix."""
        upper = np.triu(self._P)
        return upper + np.triu(upper, 1).T

    def set_P(self, P, *, copy: bool = True) -> None:
        """Replace ``P`` (e.g. when loading a saved trainer) by a finite, symmetric (N, N) matrix.

        ``P`` must satisfy ``np.allclose(P, P.T)``; its upper triangle is what the updates use.
        ``copy=False`` adopts a writeable float64 array in C or Fortran order as the trainer's state
        without copying it: it is updated in place, and a C-ordered one first gets its lower triangle
        overwritten with the transpose of its upper one.

        Raises
        ------
        ValueError
            For a wrong shape, a NaN or Inf entry, or an asymmetric matrix.
        """
        N = self.n_features
        P = np.asarray(P, dtype=float)
        if P.shape != (N, N):
            raise ValueError(f"P must have shape {(N, N)}, got {P.shape}")
        check_inverse_correlation(P)
        if copy or not P.flags.writeable or not (P.flags.c_contiguous or P.flags.f_contiguous):
            self._P = np.array(P, order="F")
        elif P.flags.f_contiguous:
            self._P = P
        else:       # the transpose is the Fortran-ordered matrix; make its upper triangle P's
            _mirror_upper(P)
            self._P = P.T

    def predict(self, r) -> np.ndarray:
        """Outputs ``Wᵀ r`` (shape (Q,)) for one regressor, or (T, Q) for rows of ``r``."""
        return np.asarray(r) @ self.W

    def update(self, r, error) -> float:
        """One RLS step given the a-priori ``error = Wᵀ r − y`` (shape (Q,)).

        Returns ``rᵀ P r`` (before the update), useful as a diagnostic. A non-finite ``r``, ``error``
        or ``rᵀ P r`` raises :class:`~brianforce.errors.TrainingDiverged` (``step`` = this update's
        index) and leaves ``W`` and ``P`` unchanged.
        """
        r = np.ascontiguousarray(r, dtype=float)
        if r.shape != (self.n_features,):
            raise ValueError(f"r must have shape ({self.n_features},), got {r.shape}")
        error = np.asarray(error, dtype=float).reshape(self.n_outputs)
        for name, values in (("regressor r", r), ("error", error)):
            if not np.all(np.isfinite(values)):
                bad = np.flatnonzero(~np.isfinite(values))
                raise TrainingDiverged(self.n_updates, error=error,
                                       message=f"non-finite RLS {name} (entries {bad[:5].tolist()}) at update "
                                               f"{self.n_updates}")
        Pr = blas.dsymv(1.0, self._P, r, lower=0)
        rPr = float(r @ Pr)
        if not np.isfinite(rPr):
            raise TrainingDiverged(self.n_updates, error=error,
                                   message=f"non-finite RLS r'Pr = {rPr} at update {self.n_updates}")
        c = 1.0 / (1.0 + rPr)
        gain = Pr * c if self.normalised else Pr
        if self.n_outputs == 1:
            self.W[:, 0] -= gain * error[0]
        else:
            self.W -= np.outer(gain, error)
        self._P = blas.dsyr(-c, Pr, a=self._P, lower=0, overwrite_a=True)
        self.n_updates += 1
        return rPr

    def step(self, r, target) -> np.ndarray:
        """Predict, compare with ``target`` (shape (Q,)), update; return the a-priori error.

        A non-finite ``r`` or ``target`` raises :class:`~brianforce.errors.TrainingDiverged`
        (see :meth:`update`).
        """
        error = self.predict(r) - np.asarray(target, dtype=float).reshape(self.n_outputs)
        self.update(r, error)
        return error


def check_inverse_correlation(P, *, name: str = "P", block: int = 256) -> None:
    """Raise ``ValueError`` unless the square ``P`` is finite and ``np.allclose(P, P.T)``.

    Checked ``block`` rows at a time, so the temporaries stay small for a large ``P``.
    """
    n = P.shape[0]
    for a in range(0, n, block):
        rows = P[a:a + block]
        if not np.all(np.isfinite(rows)):
            bad = a + np.flatnonzero(~np.all(np.isfinite(rows), axis=1))
            raise ValueError(f"{name} must be finite, got NaN or Inf in rows {bad[:5].tolist()}")
        cols = P[:, a:a + block].T
        if not np.allclose(rows, cols):
            raise ValueError(f"{name} must be symmetric (np.allclose({name}, {name}.T)), got "
                             f"|{name} - {name}.T| up to {np.max(np.abs(rows - cols)):.3g} in rows "
                             f"{a}..{a + rows.shape[0] - 1}")


def _mirror_upper(P, block: int = 256) -> None:
    """Overwrite the strict lower triangle of the square ``P`` with the transpose of its upper one, in place."""
    n = P.shape[0]
    for a in range(0, n, block):
        b = min(a + block, n)
        P[a:b, :a] = P[:a, a:b].T
        diag, low = P[a:b, a:b], np.tril_indices(b - a, -1)
        diag[low] = diag.T[low]
