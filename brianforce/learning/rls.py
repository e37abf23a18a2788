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

from brianforce.checks import as_number
from scipy.linalg import blas

__all__ = ["RLS", "regularisation_from"]


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
        Initial weights (default zeros).
    P : array (N, N), optional
        Initial inverse correlation matrix, adopted without a copy (symmetric float64; default
        ``I/reg``, or ``alpha·I``).

    Attributes
    ----------
    W : ndarray (N, Q)
        Current weights (updated in place; safe to alias).
    n_updates : int
    """

    def __init__(self, n_features: int, n_outputs: int = 1, *, reg=None, alpha=None,
                 normalised: bool = True, weights=None, P=None):
        if int(n_features) < 1 or int(n_outputs) < 1:
            raise ValueError("n_features and n_outputs must be >= 1")
        self.n_features = int(n_features)
        self.n_outputs = int(n_outputs)
        self.reg = regularisation_from(reg, alpha)
        self.normalised = bool(normalised)
        if P is None:
            self._P = np.asfortranarray(np.eye(self.n_features) / self.reg)
        else:
            self.set_P(P, copy=False)
        if weights is None:
            self.W = np.zeros((self.n_features, self.n_outputs))
        else:
            w = np.array(weights, dtype=float).reshape(self.n_features, self.n_outputs)
            self.W = w
        self.n_updates = 0

    @property
    def P(self) -> np.ndarray:
        """Full symmetric copy of the inverse correlation matrix."""
        upper = np.triu(self._P)
        return upper + np.triu(upper, 1).T

    def set_P(self, P, *, copy: bool = True) -> None:
        """Replace ``P`` (e.g. when loading a saved trainer); ``copy=False`` adopts a symmetric float64
        array without copying it (its transpose is the Fortran-ordered matrix BLAS updates)."""
        P = np.asarray(P, dtype=float)
        if P.shape != (self.n_features,) * 2:
            raise ValueError(f"P must have shape {(self.n_features,) * 2}, got {P.shape}")
        self._P = np.asfortranarray(P.copy() if copy else (P.T if P.flags.c_contiguous else P))

    def predict(self, r) -> np.ndarray:
        """Outputs ``Wᵀ r`` (shape (Q,)) for one regressor, or (T, Q) for rows of ``r``."""
        return np.asarray(r) @ self.W

    def update(self, r, error) -> float:
        """One RLS step given the a-priori ``error = Wᵀ r − y`` (shape (Q,)).

        Returns ``rᵀ P r`` (before the update), useful as a diagnostic.
        """
        r = np.ascontiguousarray(r, dtype=float)
        error = np.asarray(error, dtype=float).reshape(self.n_outputs)
        Pr = blas.dsymv(1.0, self._P, r, lower=0)
        rPr = float(r @ Pr)
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
        """Predict, compare with ``target`` (shape (Q,)), update; return the a-priori error."""
        error = self.predict(r) - np.asarray(target, dtype=float).reshape(self.n_outputs)
        self.update(r, error)
        return error
