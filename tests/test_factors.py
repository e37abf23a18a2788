"""Factors (PCA) and their projection onto spiking neurons (numpy only)."""
import numpy as np
import pytest

from brianforce.rate.factors import factor_currents, pca_factors, pool_projection
from brianforce.seeding import rng_for


def _low_rank_activity(T=400, N=30, k=3, noise=1e-3, seed=0):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, T)
    latents = np.stack([np.sin(2 * np.pi * (j + 1) * t) * (3 - j) for j in range(k)], 1)
    return latents @ rng.standard_normal((k, N)) + 0.5 + noise * rng.standard_normal((T, N))


def test_pca_matches_covariance_eigendecomposition():
    X = _low_rank_activity()
    f = pca_factors(X, n_factors=3)
    # independent reference: eigenvectors of the sample covariance
    evals, evecs = np.linalg.eigh(np.cov(X.T))
    order = np.argsort(evals)[::-1]
    ref_ratio = evals[order][:3] / evals.sum()
    np.testing.assert_allclose(f.explained, ref_ratio, rtol=1e-8)
    # same subspace (columns may differ in sign)
    np.testing.assert_allclose(np.abs(np.sum(f.components * evecs[:, order[:3]], 0)), 1, atol=1e-8)
    np.testing.assert_allclose(f.components.T @ f.components, np.eye(3), atol=1e-12)


def test_variance_threshold_keeps_fewest_components():
    X = _low_rank_activity(noise=1e-2)
    f = pca_factors(X, variance=0.99)
    frac = pca_factors(X, n_factors=10).explained
    k = f.n_factors
    assert frac[:k].sum() >= 0.99 - 1e-12
    assert frac[:k - 1].sum() < 0.99
    assert k == 3  # three latent sines dominate
    assert f.total_explained == pytest.approx(frac[:k].sum())


def test_transform_roundtrip_reconstructs_low_rank_activity():
    X = _low_rank_activity(noise=0.0)
    f = pca_factors(X, n_factors=3)
    np.testing.assert_allclose(f.inverse_transform(f.transform(X)), X, atol=1e-9)
    # trials axis accepted: (n_trials, T, N)
    f3 = pca_factors(np.stack([X, X]), n_factors=3)
    np.testing.assert_allclose(np.abs(f3.components.T @ f.components), np.eye(3), atol=1e-9)


def test_pool_projection_is_scaled_orthogonal_and_seeded():
    U = pool_projection(200, 7, 0.01, rng_for(3, "proj"))
    assert U.shape == (200, 7)
    np.testing.assert_allclose(U.T @ U, 1e-4 * np.eye(7), atol=1e-15)
    np.testing.assert_array_equal(U, pool_projection(200, 7, 0.01, rng_for(3, "proj")))
    assert not np.allclose(U, pool_projection(200, 7, 0.01, rng_for(4, "proj")))


def test_partial_pools_overlap_and_have_requested_size():
    U = pool_projection(1000, 4, 2.0, rng_for(0, "p"), pool_fraction=0.3)
    members = U != 0
    np.testing.assert_allclose(members.mean(0), 0.3, atol=0.05)
    overlap = np.mean(members[:, 0] & members[:, 1])
    assert 0.05 < overlap < 0.15                      # ≈ 0.3², random overlap
    np.testing.assert_allclose(np.linalg.norm(U, axis=0), 2.0)


def test_factor_currents_is_per_neuron_sum():
    rng = np.random.default_rng(1)
    y = rng.standard_normal((50, 4))
    U = rng.standard_normal((9, 4))
    I = factor_currents(y, U)
    ref = np.array([[sum(U[i, p] * y[t, p] for p in range(4)) for i in range(9)] for t in range(50)])
    np.testing.assert_allclose(I, ref)


@pytest.mark.parametrize("kwargs, exc", [(dict(variance=0.0), ValueError), (dict(variance=1.5), ValueError),
                                         (dict(n_factors=0), ValueError), (dict(n_factors=31), ValueError),
                                         (dict(n_factors=2.5), TypeError)])
def test_bad_factor_requests_raise(kwargs, exc):
    with pytest.raises(exc, match="variance|n_factors"):
        pca_factors(_low_rank_activity(), **kwargs)


def test_bad_inputs_raise():
    X = _low_rank_activity()
    X[3, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        pca_factors(X)
    with pytest.raises(ValueError, match="zero variance"):
        pca_factors(np.ones((10, 3)))
    with pytest.raises(ValueError):
        pool_projection(3, 5, 1.0, rng_for(0, "p"))
    with pytest.raises(ValueError):
        pool_projection(30, 5, -1.0, rng_for(0, "p"))
