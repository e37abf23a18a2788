import numpy as np
import pytest
from scipy.linalg import blas

from brianforce.learning.rls import RLS, regularisation_from


def ridge(R, Y, lam):
    return np.linalg.solve(R.T @ R + lam * np.eye(R.shape[1]), R.T @ Y)


@pytest.mark.parametrize("n_outputs", [1, 3])
def test_rls_equals_batch_ridge_regression(n_outputs):
    rng = np.random.default_rng(1)
    N, T, lam = 60, 500, 0.7
    R = rng.standard_normal((T, N)) * rng.uniform(0.1, 3, N)
    Y = R @ rng.standard_normal((N, n_outputs)) + 0.3 * rng.standard_normal((T, n_outputs))
    m = RLS(N, n_outputs, reg=lam)
    for t in range(T):
        m.step(R[t], Y[t])
    np.testing.assert_allclose(m.W, ridge(R, Y, lam), atol=1e-8, rtol=0)
    np.testing.assert_allclose(m.P, np.linalg.inv(R.T @ R + lam * np.eye(N)), atol=1e-8, rtol=0)
    assert m.n_updates == T


def test_alpha_is_nicola_clopath_convention():
    m = RLS(5, alpha=5e-6)
    np.testing.assert_allclose(m.P, 5e-6 * np.eye(5))
    assert regularisation_from(alpha=0.5) == 2.0 and regularisation_from(reg=2.0) == 2.0


def test_unnormalised_update_reproduces_nicola_clopath():
    """Nicola & Clopath MATLAB: cd = P r; phi -= cd*err; P -= cd cd'/(1 + r' cd)."""
    rng = np.random.default_rng(2)
    N, alpha = 30, 0.05
    m = RLS(N, 2, alpha=alpha, normalised=False)
    P, phi = alpha * np.eye(N), np.zeros((N, 2))
    for _ in range(40):
        r, y = rng.random(N), rng.standard_normal(2)
        err = phi.T @ r - y
        cd = P @ r
        phi = phi - np.outer(cd, err)
        P = P - np.outer(cd, cd) / (1 + r @ cd)
        m.step(r, y)
    np.testing.assert_allclose(m.W, phi, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(m.P, P, rtol=1e-10, atol=1e-14)


def test_weights_are_updated_in_place_for_aliasing():
    W = np.zeros((4, 1))
    m = RLS(4, reg=1.0, weights=W)
    m.W = W
    m.step(np.ones(4), [1.0])
    assert W[0, 0] != 0


@pytest.mark.parametrize("kwargs", [dict(reg=0.0), dict(alpha=-1.0), dict(alpha=np.nan), dict(), dict(reg=1, alpha=1)])
def test_bad_regularisation_is_rejected(kwargs):
    with pytest.raises(ValueError):
        RLS(3, **kwargs)


def test_blas_symmetric_update_matches_outer_product():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((20, 20))
    P = np.asfortranarray(A @ A.T)
    x = rng.standard_normal(20)
    full = P - 0.3 * np.outer(x, x)
    up = blas.dsyr(-0.3, x, a=P.copy(order="F"), lower=0)
    np.testing.assert_allclose(np.triu(up), np.triu(full), atol=1e-12)


def test_dumped_P_is_completed_from_its_upper_triangle_and_pending_update(tmp_path):
    from brianforce.learning.codegen import read_dumped_P

    n = 70
    rng = np.random.default_rng(0)
    a = rng.normal(size=(n, n))
    sym, pp, c = a + a.T, rng.normal(size=n), 0.3
    stored = np.triu(sym) + np.tril(rng.normal(size=(n, n)), -1)   # the program keeps the upper triangle
    path = tmp_path / "P.bin"
    np.concatenate([stored.ravel(), pp, [c]]).tofile(path)
    np.testing.assert_allclose(read_dumped_P(path, n, block=16), sym - c * np.outer(pp, pp), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="expected"):
        read_dumped_P(path, n + 1)
