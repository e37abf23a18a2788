"""Dale's law for the learned weights of a factor student (numpy only).

Each neuron is excitatory (σ = +1) or inhibitory (σ = −1) and every weight from neuron ``j``
must take the sign σ_j. The learned weight from feature ``j`` (neuron ``j``'s slow or fast
trace) onto neuron ``i`` is ``τ_j U_i·w_j`` (τ_j its filter decay), so the factor readout
``w`` has to be constrained. Three methods (:class:`~brianforce.methods.factor_student.params.DaleSettings`):

``"total"``: the learned fast weights ride on the fixed ones. J^f is dense (autapses
included) and uses the same synaptic filter as the fast features, so every connection has
one total weight ``W_ij = J^f_ij + τ_d U_i·w_j + C_ij``; the slow features are not learned.
RLS is unconstrained; every ``check_every`` updates and at the end of every trial the totals
of the wrong sign are clipped to zero by a correction C folded into the fixed synapses
(:func:`total_correction`), whose mean current ``C r̄`` is removed from the bias (without
this, measured: the rate runs away to > 100 Hz as clipping accumulates). Measured
(``benchmarks/results/depasquale_dale_diag.csv``): teacher-forced RLS learns the oscillation's
factors (nMSE ~0.01, 6 % clipped), but closed-loop training does not converge (the clipped
fraction grows to 10-40 % and the rate runs away).

``"offset"``: a balanced offset ``σ_j β_j`` is added to every learned weight (β = ``offset``
for excitatory, ``offset·N_E/N_I`` for inhibitory features, so its common-mode current cancels
when E and I rates match) and after every update each readout row is clipped to
``|w_j| ≤ β_j / max_i |U_i|`` (:func:`clip_rows`), which guarantees sign(weight) = σ_j.
Measured: the clipping is so tight that the factors are not learned (nMSE ~1,
``benchmarks/results/depasquale_dale_probes.csv``).

``"split"``: a non-negative projection U and a readout held on its presynaptic signs,
``σ_j w_jp >= 0``, so every learned weight is a sum of terms of sign σ_j (the factors become
pooled E-minus-I differences). Learning is the sign-constrained ridge regression that RLS
would solve unconstrained (:class:`SplitDaleRLS`). Measured
(``benchmarks/results/depasquale_dale_split_probes.csv``): clipping a running RLS estimate
to its sign diverges numerically within the first RLS trial (weights reach ~1e184); a
projection in the RLS metric is stable but its free-running test fails; re-solving only every
25 updates (50 ms) is too slow for the closed loop. With exact re-solves every 5 updates, the
period calibration and a cue period the free-running oscillation is within 3× of the teacher
at the recipe's seed (``models/depasquale_oscillation_dale.toml``).

References
----------
DePasquale B, Churchland MM, Abbott LF (2016) arXiv:1601.07620.
Kim J, Park H (2011) Fast nonnegative matrix factorization: an active-set-like method and
comparisons. SIAM J Sci Comput 33:3261-3281 (block principal pivoting).
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import blas, cho_factor, cho_solve, lapack

__all__ = ["SplitDaleRLS", "total_correction", "clip_rows"]


def total_correction(J, U, W, tau_d: float, signs) -> tuple:
    """Dale ``"total"``: the correction that clips every wrong-sign total weight to zero.

    Parameters
    ----------
    J : array (N, N)         fixed weights J^f (V·s), [post, pre]
    U : array (N, P)         factor projection (V)
    W : array (N, P)         learned readout of the fast features
    tau_d : float            fast filter decay (s)
    signs : array (N,)       σ

    Returns
    -------
    C : ndarray (N, N)       ``−(J^f + τ_d U Wᵀ)`` where that total has the wrong sign, else 0
    bad : ndarray of bool (N, N)   the clipped connections
    """
    tot = J + tau_d * (U @ W.T)
    bad = tot * signs[None, :] < 0
    return np.where(bad, -tot, 0.0), bad


def clip_rows(W, limit) -> None:
    """Dale ``"offset"``: scale the rows of ``W`` (in place) whose norm exceeds ``limit``."""
    norms = np.linalg.norm(W, axis=1)
    over = norms > limit
    if np.any(over):
        W[over] *= (limit[over] / norms[over])[:, None]


class SplitDaleRLS:
    """Sign-constrained ridge regression of the factors (Dale ``"split"``).

    In sign space (``x = σ ⊙ s``, ``v_p = σ ⊙ w_p``) the statistics ``H = Σ x xᵀ + I/α``
    (upper triangle) and ``B = Σ x ỹᵀ`` are accumulated at every update. :meth:`project`
    solves the non-negative quadratic program ``min ½ vᵀHv − B_pᵀv, v >= 0`` per factor by
    block principal pivoting (Kim & Park 2011), warm-started from the current free set
    ``F_p``; in between, :meth:`update` moves each factor by exact RLS restricted to ``F_p``
    (Sherman-Morrison on ``(H_FF)⁻¹``), or holds it (``hold``). The network reads
    ``W = σ ⊙ max(v, 0)``, so every weight keeps its sign during training too.

    Parameters
    ----------
    feature_signs : array (n,)   σ of every feature
    n_factors : int
    alpha : float                ridge ``1/α``
    iterations : int             block-pivoting exchanges per re-solve
    hold : bool                  no RLS steps between re-solves

    Attributes
    ----------
    H, B : ndarray               ridge statistics (H: upper triangle, Fortran order)
    F : list of ndarray          free set per factor
    Pinv : list of ndarray       ``(H_FF)⁻¹`` per factor (upper triangle)
    v : ndarray (n, P)           weights in sign space
    W : ndarray (n, P)           the readout, ``σ ⊙ max(v, 0)``
    """

    def __init__(self, feature_signs, n_factors: int, alpha: float, *, iterations: int = 10,
                 hold: bool = False):
        n = len(feature_signs)
        self.signs = feature_signs
        self.alpha = alpha
        self.iterations = int(iterations)
        self.hold = bool(hold)
        self.H = np.asfortranarray(np.eye(n) / alpha)
        self.B = np.zeros((n, n_factors))
        self.F = [np.arange(n) for _ in range(n_factors)]
        self.Pinv = [np.asfortranarray(np.eye(n) * alpha) for _ in range(n_factors)]
        self.v = np.zeros((n, n_factors))
        self.W = np.zeros((n, n_factors))

    def update(self, s, target) -> None:
        """One RLS step on features ``s`` towards the factors ``target`` (P,)."""
        x = s * self.signs
        blas.dsyr(1.0, x, a=self.H, lower=0, overwrite_a=True)
        self.B += np.outer(x, target)
        if self.hold:             # weights held until the next exact re-solve
            return
        for p, F in enumerate(self.F):
            if not len(F):
                continue
            xF = x[F]
            Pi = self.Pinv[p]                        # upper triangle, Fortran order
            Px = blas.dsymv(1.0, Pi, xF, lower=0)
            c = 1.0 / (1.0 + xF @ Px)
            e = self.v[F, p] @ xF - target[p]
            self.v[F, p] -= (c * e) * Px
            self.Pinv[p] = blas.dsyr(-c, Px, a=Pi, lower=0, overwrite_a=True)
        np.maximum(self.v, 0.0, out=self.W)
        self.W *= self.signs[:, None]

    def project(self) -> int:
        """Re-solve the sign-constrained ridge problem exactly.

        At most ``iterations`` exchanges per factor; then ``(H_FF)⁻¹`` is recomputed for the
        RLS steps. Negative entries left by an unconverged iteration are clipped, so
        ``σ_j w_jp >= 0`` holds exactly. Returns the number of weights held at 0.
        """
        Hu = self.H
        n, Pn = self.B.shape
        for p in range(Pn):
            Fm = np.zeros(n, dtype=bool)
            Fm[self.F[p]] = True
            v = self.v[:, p].copy()      # RLS on F: already the optimum for the current F
            b = self.B[:, p]
            tol = 1e-12 * (np.abs(b).max() + 1e-300)
            changed = False
            last = None                    # (J, Cholesky factor of H_JJ) of the last solve
            for it in range(int(self.hold), self.iterations + 1):
                if it:
                    v[:] = 0.0
                    J = np.flatnonzero(Fm)
                    if len(J):
                        try:    # cho_factor reads the upper triangle only (J is sorted)
                            cf = cho_factor(Hu[np.ix_(J, J)], lower=False)
                        except np.linalg.LinAlgError:
                            break
                        v[J] = cho_solve(cf, b[J])
                        last = (J, cf)
                g = blas.dsymv(1.0, Hu, v, lower=0) - b
                flip = (Fm & (v < 0)) | (~Fm & (g < -tol))
                if not np.any(flip):
                    break
                Fm ^= flip
                changed = True
            if not (changed or self.hold):
                continue
            v = np.maximum(v, 0.0)
            F = np.flatnonzero(v > 0)
            self.F[p] = F
            self.v[:, p] = v
            if self.hold:
                continue
            if len(F):     # (H_FF)⁻¹ from its Cholesky factor (upper triangle, as RLS reads it)
                if last is not None and np.array_equal(last[0], F):
                    cf = last[1]
                else:
                    cf = cho_factor(Hu[np.ix_(F, F)], lower=False)
                inv, info = lapack.dpotri(cf[0], lower=0)
                if info != 0:
                    raise np.linalg.LinAlgError(f"dpotri failed (info {info})")
                self.Pinv[p] = np.asfortranarray(inv)
            else:
                self.Pinv[p] = np.zeros((0, 0))
        np.maximum(self.v, 0.0, out=self.W)
        self.W *= self.signs[:, None]
        return int(np.sum(self.W == 0))

    def forget(self, factor: float) -> None:
        """Decay the statistics of past updates by ``factor`` (the ridge term kept)."""
        reg = np.eye(len(self.B)) / self.alpha
        self.H[:] = factor * (self.H - reg) + reg
        self.B *= factor
