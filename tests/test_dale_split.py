"""The sign-constrained readout of Dale "split" students (numpy only): the exchange-updated inverse
against a fresh inverse, and the re-solve that carries it against the one that factorises afresh."""
import numpy as np
import pytest

from brianforce.methods.factor_student import DaleSettings
from brianforce.methods.factor_student import dale as dale_module
from brianforce.methods.factor_student.dale import SplitDaleRLS, exchange_inverse


def _spd(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3 * n))
    H = X @ X.T / n + np.eye(n)
    return np.asfortranarray(np.triu(H)), H          # upper triangle (as SplitDaleRLS keeps it), full


@pytest.mark.parametrize("dropped, added", [((3, 17), (40, 55)), ((), (41,)), ((0,), ()), ((0, 29, 12), ()),
                                            ((), (31, 32, 33, 34))])
def test_exchange_inverse_equals_a_fresh_inverse(dropped, added):
    H_upper, H = _spd(60)
    rng = np.random.default_rng(1)
    J = rng.permutation(30)                           # any order: rows of M follow J
    M = np.linalg.inv(H[np.ix_(J, J)])
    M = np.asfortranarray((M + M.T) / 2)
    drop = np.isin(J, dropped)
    K, M_K = exchange_inverse(M, J, drop, np.array(added, dtype=int), H_upper)
    assert sorted(K) == sorted(set(J) - set(dropped) | set(added))
    np.testing.assert_allclose(M_K, np.linalg.inv(H[np.ix_(K, K)]), rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(M_K, M_K.T)         # exactly symmetric, as M is
    assert M_K.flags.f_contiguous                     # as the RLS steps (BLAS) update it in place


def _stream(n_steps=400, n=80, P=3, seed=2):
    """Features (positive, like filtered rates) and targets that need weights of both signs."""
    rng = np.random.default_rng(seed)
    signs = np.where(rng.random(n) < 0.8, 1.0, -1.0)
    latent = np.cumsum(rng.standard_normal((n_steps, 4)), axis=0) * 0.1
    mix = rng.standard_normal((4, n))
    s = np.log1p(np.exp(latent @ mix + 0.3 * rng.standard_normal((n_steps, n))))
    targets = s @ rng.standard_normal((n, P)) * 0.05
    return signs, s, targets


def _train(refactor_every, *, forget_every=None):
    signs, s, targets = _stream()
    rls = SplitDaleRLS(signs, targets.shape[1], alpha=1.0, iterations=10, refactor_every=refactor_every)
    objectives = []
    for k, (x, y) in enumerate(zip(s, targets), 1):
        rls.update(x, y)
        if forget_every and k % forget_every == 0:
            rls.forget(0.9)
        if k % 5 == 0:
            rls.project()
            H = np.triu(rls.H) + np.triu(rls.H, 1).T
            objectives.append(np.einsum("ip,ij,jp->p", rls.v, H, rls.v) / 2 - np.einsum("ip,ip->p", rls.B, rls.v))
    return rls, np.array(objectives)


@pytest.mark.parametrize("forget_every", [None, 100])
def test_carried_inverse_reaches_the_same_constrained_optimum_with_fewer_factorisations(monkeypatch,
                                                                                         forget_every):
    calls = {"n": 0}
    fresh = dale_module._inverse

    def counted(H, J):
        calls["n"] += 1
        return fresh(H, J)

    monkeypatch.setattr(dale_module, "_inverse", counted)
    rls, obj = _train(10, forget_every=forget_every)
    assert 0 < calls["n"] < obj.size / 3              # mostly exchanges
    if forget_every is None:    # (the default path keeps its solution through forget until a free set changes)
        calls["n"] = 0
        _, obj_ref = _train(1)
        assert calls["n"] == 0                        # the default path factorises on its own
        np.testing.assert_allclose(obj, obj_ref, rtol=1e-9)
    H = np.triu(rls.H) + np.triu(rls.H, 1).T
    n_active = 0
    for p, F in enumerate(rls.F):
        v, b = rls.v[:, p], rls.B[:, p]
        g, scale = H @ v - b, np.abs(b).max()        # KKT: g = 0 on F, g >= 0 off F, v >= 0
        assert np.all(v >= 0) and np.all(v[np.setdiff1d(np.arange(len(v)), F)] == 0)
        assert np.all(np.abs(g[F]) < 1e-8 * scale)
        assert np.all(np.delete(g, F) > -1e-8 * scale)
        np.testing.assert_allclose(rls.Pinv[p], np.linalg.inv(H[np.ix_(F, F)]), rtol=1e-6,
                                   atol=1e-9 * np.abs(rls.Pinv[p]).max())
        n_active += len(v) - len(F)
    assert n_active > 0                               # the sign constraint binds
    np.testing.assert_array_equal(rls.W, rls.signs[:, None] * rls.v)
    assert rls.resolve_s > 0


def test_refactor_every_is_checked():
    with pytest.raises(ValueError, match="refactor_every"):
        SplitDaleRLS(np.ones(4), 2, 1.0, refactor_every=0)
    with pytest.raises(ValueError, match="refactor_every .*0"):
        DaleSettings(method="split", refactor_every=0)
    assert DaleSettings(method="split").refactor_every == 1


@pytest.mark.parametrize("refactor_every", [1, 2])
def test_forget_decays_the_past_on_both_resolves(refactor_every):
    """After ``forget``, the next re-solve answers the decayed statistics, whether or not the set of
    free weights changes (both interior optima here: the free set stays the whole set)."""
    rng = np.random.default_rng(0)
    d = SplitDaleRLS(np.ones(6), 1, 1.0, refactor_every=refactor_every)
    for trial, w in enumerate((np.array([1., 2, 3, 1, 2, 3]), np.array([3., 2, 1, 3, 2, 1]))):
        if trial:
            d.forget(0.01)             # the end of a trial: 1 % of the earlier statistics kept
        for _ in range(200):
            x = rng.uniform(0, 1, 6)
            d.update(x, np.array([x @ w]))
        d.project()
    H = np.triu(d.H) + np.triu(d.H, 1).T
    exact = np.linalg.solve(H, d.B[:, 0])
    assert exact.min() > 0
    np.testing.assert_allclose(d.W[:, 0], exact, rtol=1e-9)


def test_a_resolve_that_cannot_factorise_raises_and_keeps_the_readout():
    """Duplicated features with a vanishing ridge term: the free block is singular; the re-solve
    says so instead of leaving a zero readout."""
    rng = np.random.default_rng(1)
    d = SplitDaleRLS(np.ones(5), 1, alpha=1e20, iterations=10, refactor_every=1)
    for _ in range(300):
        z = rng.uniform(0, 1, 3)
        x = np.array([z[0], z[1], z[2], z[0], z[1]])          # features 3, 4 duplicate 0, 1
        d.update(x, np.array([2 * z[0] - z[2] + z[1]]))       # feature 2's weight wants to be < 0
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite.*lower alpha"):
        d.project()
