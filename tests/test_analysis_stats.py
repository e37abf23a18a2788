"""Tests for brianforce.analysis.population against independent references (scipy, closed forms)."""
import sys

import numpy as np
import pytest
from scipy import stats
from scipy.linalg import subspace_angles

from brianforce.analysis.population import (PCAResult, fano_factor, isi_cv, normalised_error, pca,
                                       principal_angles, r_squared, variance_outside_span)


def test_analysis_stats_is_numpy_only():
    import subprocess

    from pathlib import Path

    import brianforce.analysis.population as mod

    # load the module file on its own (not via the package __init__) in a fresh interpreter
    code = ("import importlib.util, sys; "
            f"spec = importlib.util.spec_from_file_location('m', {str(Path(mod.__file__))!r}); "
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
            "assert callable(m.principal_angles); "
            "sys.exit(1 if 'brian2' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# --------------------------------------------------------------------------- errors of fit
def test_normalised_error_formulas():
    rng = np.random.default_rng(0)
    f = rng.normal(2.0, 1.0, (8, 50, 3))
    z = f + rng.normal(0, 0.3, f.shape)
    # DePasquale: trace((z-f)(z-f)')/trace(f f') with outputs as rows, time as columns
    zz, ff = z.reshape(-1, 3).T, f.reshape(-1, 3).T
    ref = np.trace((zz - ff) @ (zz - ff).T) / np.trace(ff @ ff.T)
    assert np.isclose(normalised_error(z, f), ref)
    # centred form equals 1 - pooled R^2
    assert np.isclose(normalised_error(z, f, centred=True), 1 - r_squared(z, f, "variance_weighted"))
    assert normalised_error(f, f) == 0.0
    assert np.isclose(normalised_error(np.zeros_like(f), f), 1.0)
    mean_pred = np.broadcast_to(f.reshape(-1, 3).mean(axis=0), f.shape)
    assert np.isclose(normalised_error(mean_pred, f, centred=True), 1.0)
    assert normalised_error(z, f, centred=True) > normalised_error(z, f)  # f has a large mean


def test_r_squared_against_linregress_and_closed_form():
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    y = 1.5 * x + rng.normal(0, 0.7, 200)
    lr = stats.linregress(x, y)
    fit = lr.intercept + lr.slope * x
    # R^2 of the least-squares line is the squared Pearson correlation
    assert np.isclose(r_squared(fit, y), lr.rvalue ** 2)
    # per-channel values and the averages
    f = rng.normal(size=(4, 30, 2)) * np.array([1.0, 5.0])
    z = f + rng.normal(0, 0.5, f.shape)
    raw = r_squared(z, f, "raw_values")
    for q in range(2):
        ref = 1 - np.sum((z[..., q] - f[..., q]) ** 2) / np.sum((f[..., q] - f[..., q].mean()) ** 2)
        assert np.isclose(raw[q], ref)
    assert np.isclose(r_squared(z, f), raw.mean())
    assert raw[1] > raw[0]                                 # same noise, larger signal
    assert r_squared(f, f) == 1.0
    assert r_squared(-f, f) < 0


@pytest.mark.parametrize("bad", [
    lambda f: (f[:-1], f),                                 # shape mismatch
    lambda f: (np.where(f > 1, np.nan, f), f),             # NaN output
    lambda f: (f, np.full_like(f, np.inf)),                # Inf target
])
def test_fit_metrics_reject_bad_input(bad):
    f = np.random.default_rng(2).normal(size=(20, 2))
    z, t = bad(f)
    with pytest.raises(ValueError):
        r_squared(z, t)
    with pytest.raises(ValueError):
        normalised_error(z, t)


def test_fit_metrics_degenerate_targets():
    with pytest.raises(ValueError, match="constant"):
        r_squared(np.ones((10, 2)), np.ones((10, 2)))
    with pytest.raises(ValueError, match="zero"):
        normalised_error(np.ones(10), np.zeros(10))
    with pytest.raises(ValueError, match="multioutput"):
        r_squared(np.arange(5.0), np.arange(5.0) + 1, "mean")


# --------------------------------------------------------------------------- PCA
def test_pca_against_covariance_eigendecomposition():
    rng = np.random.default_rng(3)
    latent = rng.normal(size=(500, 3)) * np.array([5.0, 2.0, 1.0])
    X = latent @ rng.normal(size=(3, 10)) + rng.normal(0, 0.1, (500, 10)) + 7.0
    p = pca(X)
    evals, evecs = np.linalg.eigh(np.cov(X, rowvar=False))
    evals, evecs = evals[::-1], evecs[:, ::-1]
    assert np.allclose(p.explained_variance, evals)
    assert np.allclose(p.explained_variance_ratio, evals / evals.sum())
    for k in range(3):                                       # same axes up to sign
        assert np.isclose(abs(p.components[k] @ evecs[:, k]), 1.0)
    assert np.allclose(p.components @ p.components.T, np.eye(10), atol=1e-10)
    assert np.allclose(p.mean, X.mean(axis=0))
    assert np.all(p.components[np.arange(10), np.abs(p.components).argmax(axis=1)] > 0)
    assert np.allclose(p.inverse_transform(p.transform(X)), X)   # full rank: lossless
    assert np.allclose(p.transform(X).var(axis=0, ddof=1), p.explained_variance)


def test_pca_component_selection_and_3d_input():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(8, 40, 6)) * np.array([10, 5, 2, 1, 0.5, 0.1])
    full = pca(X)
    assert full.n_components == 6 and full.mean.shape == (6,)
    assert pca(X, n_components=2).n_components == 2
    cum = np.cumsum(full.explained_variance_ratio)
    k90 = pca(X, variance=0.9).n_components
    assert cum[k90 - 1] >= 0.9 and (k90 == 1 or cum[k90 - 2] < 0.9)
    assert pca(X, variance=1.0).n_components == 6
    assert np.allclose(pca(X, n_components=3).components, full.components[:3])
    for kw in [dict(n_components=0), dict(n_components=7), dict(variance=0.0), dict(variance=1.5),
               dict(n_components=2, variance=0.5)]:
        with pytest.raises(ValueError):
            pca(X, **kw)
    with pytest.raises(ValueError, match="zero variance"):
        pca(np.ones((5, 3)))
    with pytest.raises(ValueError):
        pca(np.arange(5.0))


# --------------------------------------------------------------------------- principal angles
def test_principal_angles_against_scipy():
    rng = np.random.default_rng(5)
    for p_, q_ in [(3, 3), (5, 2), (2, 6), (10, 10)]:
        A, B = rng.normal(size=(30, p_)), rng.normal(size=(30, q_))
        ref = np.sort(np.degrees(subspace_angles(A, B)))
        assert np.allclose(principal_angles(A, B), ref, atol=1e-8)


def test_principal_angles_known_geometry():
    e = np.eye(4)
    assert np.allclose(principal_angles(e[:, :2], e[:, 2:]), [90, 90])
    # plane rotated by 30 degrees in (x1, x3) keeps x2 shared
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    B = np.stack([c * e[0] + s * e[2], e[1]], axis=1)
    assert np.allclose(principal_angles(e[:, :2], B), [0, 30])
    # tiny angles stay accurate (the arccos-only formula would give ~1e-6 deg noise)
    eps = 1e-9
    B = np.stack([e[0] + eps * e[3]], axis=1)
    assert np.isclose(principal_angles(e[:, :1], B)[0], np.degrees(eps), rtol=1e-6)
    # column scaling / rank-deficient columns do not matter
    A = np.concatenate([e[:, :2] * 7.0, e[:, :1] + e[:, 1:2]], axis=1)
    assert np.allclose(principal_angles(A, e[:, :2]), [0, 0], atol=1e-6)


def test_principal_angles_between_pcas():
    rng = np.random.default_rng(6)
    basis = np.linalg.qr(rng.normal(size=(20, 3)))[0]
    X = rng.normal(size=(400, 3)) * [4, 3, 2] @ basis.T
    Y = rng.normal(size=(400, 3)) * [4, 3, 2] @ basis.T + rng.normal(0, 0.05, (400, 20))
    ang = principal_angles(pca(X, n_components=3), pca(Y, n_components=3))
    assert ang.shape == (3,) and ang.max() < 3.0
    with pytest.raises(ValueError, match="different spaces"):
        principal_angles(np.ones((3, 1)), np.ones((4, 1)))
    with pytest.raises(ValueError, match="zeros"):
        principal_angles(np.zeros((3, 1)), np.ones((3, 1)))


def test_variance_outside_span_against_least_squares():
    rng = np.random.default_rng(8)
    basis = rng.normal(size=(200, 3))
    inside = basis @ rng.normal(size=(3, 5))
    assert variance_outside_span(inside + 4.0, basis)["fraction"] < 1e-20   # means are removed
    X = inside + rng.normal(size=(200, 5))
    out = variance_outside_span(X, basis)
    Xc = X - X.mean(0)
    design = np.column_stack([np.ones(200), basis])               # independent: regression with intercept
    res = X - design @ np.linalg.lstsq(design, X, rcond=None)[0]
    assert np.isclose(out["fraction"], np.sum(res ** 2) / np.sum(Xc ** 2))
    assert np.allclose(out["per_feature"], np.sum(res ** 2, 0) / np.sum(Xc ** 2, 0))
    assert np.isclose(out["top_direction"], np.linalg.norm(res, 2) ** 2 / np.sum(Xc ** 2))
    assert 0 < out["top_direction"] < out["fraction"] < 1
    with pytest.raises(ValueError, match="samples"):
        variance_outside_span(X, basis[:100])


# --------------------------------------------------------------------------- spiking statistics
def test_isi_cv_poisson_gamma_regular():
    rng = np.random.default_rng(7)
    poisson = [np.cumsum(rng.exponential(1 / 20.0, 4000)) for _ in range(5)]
    cv = isi_cv(poisson)
    assert cv.shape == (5,) and np.all(np.abs(cv - 1.0) < 0.06)
    # closed form for a gamma renewal process of shape k: CV = 1/sqrt(k)
    gamma = np.cumsum(rng.gamma(4.0, 1 / 80.0, 4000))
    assert np.isclose(isi_cv([gamma])[0], 0.5, atol=0.03)
    # independent reference: scipy.stats.variation of the intervals (ddof=0)
    assert np.isclose(isi_cv(gamma)[0], stats.variation(np.diff(gamma)))
    regular = np.arange(0, 1, 0.01)
    assert isi_cv({"a": regular, "b": np.array([0.1, 0.2])})[0] < 1e-10
    assert np.isnan(isi_cv({"a": regular, "b": np.array([0.1, 0.2])})[1])   # too few spikes
    with pytest.raises(ValueError, match="sorted"):
        isi_cv([np.array([0.3, 0.1, 0.2])])
    with pytest.raises(ValueError):
        isi_cv([np.array([0.1, np.nan, 0.3])])


def test_fano_factor_poisson_binomial_deterministic():
    rng = np.random.default_rng(8)
    counts = rng.poisson([2.0, 10.0, 50.0], size=(4000, 3))
    assert np.allclose(fano_factor(counts), 1.0, atol=0.07)
    # binomial counts: Fano = 1 - p (closed form)
    assert np.isclose(fano_factor(rng.binomial(10, 0.3, 5000)), 0.7, atol=0.05)
    # counts of a simulated Poisson spike train in 1-s trials
    train = np.cumsum(rng.exponential(1 / 15.0, 40000))
    per_trial = np.histogram(train, bins=np.arange(0, 2000.0, 1.0))[0]
    assert np.isclose(fano_factor(per_trial), 1.0, atol=0.08)
    f = fano_factor(np.array([[3, 0], [3, 0], [3, 0]]))
    assert f[0] == 0.0 and np.isnan(f[1])
    assert np.allclose(fano_factor(counts.T, axis=1), fano_factor(counts))
    with pytest.raises(ValueError, match="non-negative"):
        fano_factor(np.array([[1, -1], [2, 2]]))
    with pytest.raises(ValueError, match="2 trials"):
        fano_factor(np.ones((1, 4)))


def test_result_is_dataclass():
    import dataclasses

    assert dataclasses.is_dataclass(PCAResult)
    p = pca(np.random.default_rng(9).normal(size=(20, 4)))
    assert {f.name for f in dataclasses.fields(p)} == {"components", "explained_variance",
                                                     "explained_variance_ratio", "mean"}


def test_nanmedian_or_none():
    from brianforce.analysis.population import nanmedian_or_none

    assert nanmedian_or_none([np.nan, 3.0, 1.0, np.inf, 2.0]) == 2.0
    assert nanmedian_or_none(np.full(4, np.nan)) is None
    assert nanmedian_or_none([]) is None
    assert isinstance(nanmedian_or_none(np.array([[1, 2], [3, 4]])), float)


def test_isi_cv_reads_spike_times_in_seconds_and_refuses_other_units():
    from brian2 import DimensionMismatchError, mV, ms, second

    times = np.array([0.1, 0.2, 0.35, 0.5])
    expected = isi_cv([times])
    assert np.allclose(isi_cv({0: times * second}), expected)
    assert np.allclose(isi_cv({0: times * 1000 * ms}), expected)
    with pytest.raises(DimensionMismatchError, match="spike train 0 must have units of second"):
        isi_cv({0: times * mV})
