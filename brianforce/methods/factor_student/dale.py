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

import time

import numpy as np
from scipy.linalg import blas, cho_factor, cho_solve, lapack

__all__ = ["SplitDaleRLS", "total_correction", "clip_rows", "exchange_inverse"]


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
    refactor_every : int
        1: every re-solve whose free set changes factorises ``H_JJ`` afresh (Cholesky, O(m³) per
        exchange for a set of m features). k > 1: an exchange updates the maintained ``(H_FF)⁻¹``
        by block elimination (O(m²) per index moved; :func:`exchange_inverse`), and a factor is factorised
        afresh at every k-th re-solve, after ``forget`` and where an exchange moves more than a
        quarter of its free set (``hold`` always factorises). Both solve the same problem and
        differ by round-off: on the stream of a Dale oscillation run (``H`` conditioned ~2e8) the
        objectives agree to ~1e-12, and the re-solves of the Dale recipe take 2.1-2.3× less time
        (``benchmarks/results/depasquale_dale_resolve.csv``). Which trained network a seed gives
        changes with the round-off, so the choice is part of a recipe's settings.

    Attributes
    ----------
    H, B : ndarray               ridge statistics (H: upper triangle, Fortran order)
    F : list of ndarray          free set per factor (sorted where factorised afresh)
    Pinv : list of ndarray       ``(H_FF)⁻¹`` per factor, rows in the order of ``F`` (upper
                                 triangle; both triangles where ``refactor_every`` > 1)
    v : ndarray (n, P)           weights in sign space
    W : ndarray (n, P)           the readout, ``σ ⊙ max(v, 0)``
    resolve_s : float            wall time spent in :meth:`project` (s)
    """

    def __init__(self, feature_signs, n_factors: int, alpha: float, *, iterations: int = 10,
                 hold: bool = False, refactor_every: int = 1):
        n = len(feature_signs)
        self.signs = feature_signs
        self.alpha = alpha
        self.iterations = int(iterations)
        self.hold = bool(hold)
        self.refactor_every = int(refactor_every)
        if self.refactor_every < 1:
            raise ValueError(f"refactor_every must be an integer >= 1, got {refactor_every!r}")
        self._since_factorised = np.zeros(n_factors, dtype=int)
        self._stale = np.zeros(n_factors, dtype=bool)
        self.resolve_s = 0.0
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
            Pi = self.Pinv[p]                        # upper triangle (or full), Fortran order
            Px = blas.dsymv(1.0, Pi, xF, lower=0)
            c = 1.0 / (1.0 + xF @ Px)
            e = self.v[F, p] @ xF - target[p]
            self.v[F, p] -= (c * e) * Px
            if self.refactor_every > 1:     # the exchanges read both triangles
                self.Pinv[p] = blas.dger(-c, Px, Px, a=Pi, overwrite_a=True)
            else:
                self.Pinv[p] = blas.dsyr(-c, Px, a=Pi, lower=0, overwrite_a=True)
        np.maximum(self.v, 0.0, out=self.W)
        self.W *= self.signs[:, None]

    def project(self) -> int:
        """Re-solve the sign-constrained ridge problem exactly.

        At most ``iterations`` exchanges per factor; then ``(H_FF)⁻¹`` is recomputed for the
        RLS steps. Negative entries left by an unconverged iteration are clipped, so
        ``σ_j w_jp >= 0`` holds exactly. Returns the number of weights held at 0.
        """
        wall0 = time.perf_counter()
        Hu = self.H
        n, Pn = self.B.shape
        for p in range(Pn):
            if self.refactor_every > 1 and not self.hold:
                self._resolve_by_exchanges(p)
                continue
            Fm = np.zeros(n, dtype=bool)
            Fm[self.F[p]] = True
            # RLS on F: already the optimum for the current F, unless forget() changed H and B
            stale, self._stale[p] = bool(self._stale[p]), False
            v = self.v[:, p].copy()
            b = self.B[:, p]
            tol = 1e-12 * (np.abs(b).max() + 1e-300)
            changed = stale
            last = None                    # (J, Cholesky factor of H_JJ) of the last solve
            for it in range(int(self.hold or stale), self.iterations + 1):
                if it:
                    v[:] = 0.0                 # a local copy: a failed step below leaves self.v as it was
                    J = np.flatnonzero(Fm)
                    if len(J):
                        try:    # cho_factor reads the upper triangle only (J is sorted)
                            cf = cho_factor(Hu[np.ix_(J, J)], lower=False)
                        except np.linalg.LinAlgError as exc:
                            raise np.linalg.LinAlgError(
                                f"Dale split readout, factor {p}: the ridge statistics of its {len(J)} free "
                                f"weights are not positive definite ({exc}); raise the ridge term (lower "
                                f"alpha)") from exc
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
        self.resolve_s += time.perf_counter() - wall0
        return int(np.sum(self.W == 0))

    def forget(self, factor: float) -> None:
        """Decay the statistics of past updates by ``factor`` (the ridge term kept)."""
        reg = np.eye(len(self.B)) / self.alpha
        self.H[:] = factor * (self.H - reg) + reg
        self.B *= factor
        self._stale[:] = True         # (H_FF)⁻¹ and v no longer match H and B

    def _resolve_by_exchanges(self, p: int) -> None:
        """:meth:`project` for factor ``p`` with ``(H_JJ)⁻¹`` carried through the exchanges."""
        b = self.B[:, p]
        n = len(b)
        tol = 1e-12 * (np.abs(b).max() + 1e-300)
        J = np.asarray(self.F[p])
        self._since_factorised[p] += 1
        v = np.zeros(n)
        changed = bool(self._stale[p])
        if changed:                          # after forget: solve afresh on the current free set
            J = np.sort(J)
            M = _inverse(self.H, J)
            v[J] = M @ b[J]
            self._since_factorised[p], self._stale[p] = 0, False
        elif self._since_factorised[p] >= self.refactor_every:
            J, M = np.sort(J), None
            v[J] = self.v[J, p]              # RLS on J: already the optimum for the current J
        else:
            M = self.Pinv[p]                 # full: the RLS steps keep both triangles here
            v[J] = self.v[J, p]
        for it in range(self.iterations + 1):
            if it:
                v[:] = 0.0
                if M is None:
                    M = _inverse(self.H, J)
                    self._since_factorised[p] = 0
                v[J] = M @ b[J]
            g = blas.dsymv(1.0, self.H, v, lower=0) - b
            free = np.zeros(n, dtype=bool)
            free[J] = True
            flip = (free & (v < 0)) | (~free & (g < -tol))
            if not np.any(flip):
                break
            changed = True
            if it == self.iterations:
                break
            drop, add = flip[J], np.flatnonzero(flip & ~free)
            J_next = np.sort(np.concatenate([J[~drop], add]))
            if M is None or 4 * (np.count_nonzero(drop) + len(add)) > max(len(J), 1):
                J, M = J_next, None
                continue
            try:
                J, M = exchange_inverse(M, J, drop, add, self.H)
            except np.linalg.LinAlgError:     # round-off made the bordered block indefinite
                J, M = J_next, None
        if not changed:
            return
        keep = v[J] > 0
        if M is None:
            J = J[keep]
            M = _inverse(self.H, J)
            self._since_factorised[p] = 0
        elif not np.all(keep):
            try:
                J, M = exchange_inverse(M, J, ~keep, np.zeros(0, dtype=int), self.H)
            except np.linalg.LinAlgError:     # round-off: factorise the kept set afresh
                J = np.sort(J[keep])
                M = _inverse(self.H, J)
                self._since_factorised[p] = 0
        self.v[:, p] = 0.0
        self.v[J, p] = v[J]
        self.F[p] = J
        self.Pinv[p] = M                     # (W is set from v by project)


def _symmetric(upper) -> np.ndarray:
    """The full symmetric matrix (Fortran order) whose upper triangle is ``upper``."""
    return np.asfortranarray(np.triu(upper) + np.triu(upper, 1).T)


def _block(H, rows, cols) -> np.ndarray:
    """``H[rows][:, cols]`` of the symmetric matrix stored in the upper triangle of ``H``."""
    r, c = np.asarray(rows)[:, None], np.asarray(cols)[None, :]
    return H[np.minimum(r, c), np.maximum(r, c)]


def _inverse(H, J) -> np.ndarray:
    """``(H_JJ)⁻¹`` (full, Fortran order) for sorted ``J``, from the upper triangle of ``H``."""
    if not len(J):
        return np.zeros((0, 0), order="F")
    cf = cho_factor(H[np.ix_(J, J)], lower=False, check_finite=False)
    inv, info = lapack.dpotri(cf[0], lower=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"dpotri failed (info {info})")
    return _symmetric(inv)


def _scaled(A, S) -> tuple:
    """``Y = A L⁻ᵀ`` and ``L⁻¹`` for the Cholesky factor ``L Lᵀ = S`` of a small SPD ``S``."""
    L_inv = np.linalg.inv(np.linalg.cholesky(0.5 * (S + S.T)))
    return A @ L_inv.T, L_inv


def _plus_outer(M, Y, sign: float) -> np.ndarray:
    """A Fortran-order copy of ``M + sign · Y Yᵀ`` (exactly symmetric where ``M`` is)."""
    if Y.shape[1] > 2:        # Y Yᵀ is symmetric, so its transpose is the Fortran-order view
        return np.asfortranarray(M) + sign * (Y @ Y.T).T
    out = np.array(M, order="F", copy=True)
    for y in Y.T:
        out = blas.dger(sign, y, y, a=out, overwrite_a=True)
    return out


def exchange_inverse(M, J, drop, add, H) -> tuple:
    """``(H_KK)⁻¹`` for ``K = J − J[drop] + add`` from ``M = (H_JJ)⁻¹``, by block elimination.

    Dropping indices ``D`` subtracts ``M_KD (M_DD)⁻¹ M_DK``; adding ``A`` borders the inverse with
    ``S⁻¹``, ``S = H_AA − H_AK M H_KA`` (the Schur complement). Cost O(m²) per index moved (m the
    size of ``J``); the result is exactly symmetric where ``M`` is. Raises ``LinAlgError`` where
    round-off leaves ``M_DD`` or ``S`` indefinite.

    Parameters
    ----------
    M : array (m, m)        full symmetric ``(H_JJ)⁻¹``, rows in the order of ``J``
    J : array of int        indices of the current set
    drop : array of bool    positions of ``J`` to remove
    add : array of int      indices to add (not in ``J``)
    H : array (n, n)        the statistics, upper triangle

    Returns
    -------
    K : ndarray of int      ``J`` without the dropped indices (the last kept ones moved into
                            their places), then ``add``
    M_K : ndarray           ``(H_KK)⁻¹`` (full, Fortran order), rows in the order of ``K``
    """
    if np.any(drop):
        d = np.flatnonzero(drop)
        Y, _ = _scaled(M[:, d], M[np.ix_(d, d)])
        M = _plus_outer(M, Y, -1.0)     # rows and columns d are removed below
        J = J.copy()
        size = len(J)
        for q in d[::-1]:               # move the last kept row and column into each gap
            last = size - 1
            if q != last:
                M[q, :size] = M[last, :size]
                M[:size, q] = M[:size, last]
                J[q] = J[last]
            size -= 1
        M, J = np.asfortranarray(M[:size, :size]), J[:size]
    if len(add):
        m, a = len(J), len(add)
        C = _block(H, J, add)
        MC = M @ C
        Y, L_inv = _scaled(MC, _block(H, add, add) - C.T @ MC)
        out = np.empty((m + a, m + a), order="F")
        out[:m, :m] = _plus_outer(M, Y, 1.0)
        out[:m, m:] = -(Y @ L_inv)
        out[m:, :m] = out[:m, m:].T
        out[m:, m:] = L_inv.T @ L_inv
        M, J = out, np.concatenate([J, add])
    return J, M
