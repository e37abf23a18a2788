import numpy as np
import pytest
from brian2 import DimensionMismatchError, mV, ms, second

from brianforce.comparison import (MatchedForceComparison, cross_trial_decoder, decoder_correlation,
                                   decoder_pc_projection, filtered_rates_from_spikes, lag_adjusted_error,
                                   offline_rls_decoder, rls_pc_gain)
from brianforce.rls import RLS
from brianforce.seeding import rng_for
from brianforce.tasks import sinusoid


def test_decoder_correlation_matches_numpy():
    rng = rng_for(0, "test")
    a, b = rng.standard_normal((50, 2)), rng.standard_normal((50, 2))
    b = 0.6 * a + b
    assert decoder_correlation(a, b) == pytest.approx(np.corrcoef(a.ravel(), b.ravel())[0, 1], rel=1e-12)
    assert decoder_correlation(a, 3 * a) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shapes"):
        decoder_correlation(a, b[:10])


def test_filtered_rates_reproduce_the_double_exponential_kernel():
    dt, tau_r, tau_d = 5e-4, 2e-3, 20e-3
    t = np.arange(400) * dt
    r = filtered_rates_from_spikes([1, 1], [10 * dt, 200 * dt], 3, t, tau_r, tau_d)
    s = np.arange(150) * dt
    kernel = (np.exp(-s / tau_d) - np.exp(-s / tau_r)) / (tau_d - tau_r)
    np.testing.assert_allclose(r[10:160, 1], kernel, atol=1e-9)
    assert np.all(r[:, [0, 2]] == 0)
    # unit area: a 1 Hz train has 1 Hz mean filtered rate
    assert r[10:200, 1].sum() * dt == pytest.approx(1.0, rel=0.02)
    with pytest.raises(ValueError):
        filtered_rates_from_spikes([0], [0.0], 1, t, tau_r, tau_r)


def test_cross_trial_decoder_is_ridge_on_trial_averages():
    rng = rng_for(1, "test")
    period, dt, n = 0.2, 1e-3, 30
    t = np.arange(0, 1.0, dt)
    phase = (t % period) / period
    basis = np.stack([np.sin(2 * np.pi * (k + 1) * phase + k) for k in range(n)], 1) + 2
    rates = basis + 0.1 * rng.standard_normal(basis.shape)  # trial-to-trial variability
    target = np.sin(2 * np.pi * phase)[:, None]
    reg, n_upd = 1e-3, 200
    phi, mean_r, mean_y = cross_trial_decoder(rates, t, target, period, reg, n_upd)
    assert mean_r.shape == (200, n) and mean_y.shape == (200, 1)
    # independent reference: ridge via the SVD of the scaled trial averages
    A = np.sqrt(n_upd / len(mean_r)) * mean_r
    u, s, vt = np.linalg.svd(A, full_matrices=False)
    ref = vt.T @ np.diag(s / (s ** 2 + reg)) @ u.T @ (np.sqrt(n_upd / len(mean_r)) * mean_y)
    np.testing.assert_allclose(phi, ref, rtol=1e-6, atol=1e-10)
    # averaging removes the noise: the averaged rates decode the target well
    assert np.sqrt(np.mean((mean_r @ phi - mean_y) ** 2)) < 0.2
    with pytest.raises(ValueError, match="periodic"):
        cross_trial_decoder(rates, t, target, None, reg, n_upd)


def test_rls_from_alpha_identity_is_ridge_and_pc_gain_is_exact():
    """RLS with P(0) = αI after n updates equals ridge with λ = 1/α, i.e. each PC of the
    regressors is scaled by nλ_i/(nλ_i + 1/α) relative to least squares."""
    rng = rng_for(2, "test")
    n_feat, n_upd, alpha = 20, 400, 1e-3
    scales = np.logspace(1, -2, n_feat)
    R = rng.standard_normal((n_upd, n_feat)) * scales
    y = R @ rng.standard_normal((n_feat, 1)) + 0.1 * rng.standard_normal((n_upd, 1))
    rls = RLS(n_feat, 1, alpha=alpha, normalised=True)
    for r, target in zip(R, y):
        rls.step(r, target)
    proj = decoder_pc_projection(R, rls.W)
    ls = proj.components.T @ np.linalg.lstsq(R, y, rcond=None)[0]
    gain = rls_pc_gain(proj.eigenvalues, alpha, n_upd)
    np.testing.assert_allclose(proj.coefficients, gain[:, None] * ls, rtol=1e-5, atol=1e-9)
    assert np.all(np.diff(gain) <= 1e-12) and gain[0] > 0.9 and gain[-1] < 0.1  # a low-pass filter
    np.testing.assert_allclose(proj.components @ proj.coefficients, rls.W, atol=1e-10)
    # smaller alpha filters more strongly
    assert np.all(rls_pc_gain(proj.eigenvalues, alpha / 100, n_upd) <= gain)


def test_slower_learning_low_pass_filters_the_decoder_on_a_network_basis():
    """On the recorded basis of a LIF-matched rate network, RLS decoders learned with
    smaller alpha concentrate on the leading principal components (Newton & Nicola 2025)."""
    task = sinusoid(5.0)
    comp = MatchedForceComparison(120, alpha=5e-6, G=0.08 * mV * second, rate_dt=0.5 * ms, seed=3)
    net = comp._make_rate().fit(task, settle=0.1, train=0.5)
    res = net.predict(1.0, record_activity=120)
    act, target = res.activity, res.target
    fractions, cutoffs = [], []
    for alpha in (5e-8, 5e-6, 5e-4):
        phi = offline_rls_decoder(act, target, alpha, every=10)
        proj = decoder_pc_projection(act, phi)
        fractions.append(proj.power_fraction(5))
        cutoffs.append(int((rls_pc_gain(proj.eigenvalues, alpha, len(act[::10])) > 0.5).sum()))
        # exact ridge identity on this basis
        ridge = np.linalg.solve(act[::10].T @ act[::10] + np.eye(120) / alpha, act[::10].T @ target[::10])
        np.testing.assert_allclose(phi, ridge, rtol=1e-4, atol=1e-9 * np.abs(ridge).max())
    assert fractions[0] > 0.95 and fractions[0] > fractions[1] > fractions[2]
    assert fractions[2] < 0.8
    assert cutoffs[0] < cutoffs[1] < cutoffs[2]


def test_lag_adjusted_error_forgives_a_phase_shift_only():
    t = np.arange(0, 1, 1e-3)
    y = np.sin(2 * np.pi * 5 * t)[:, None]
    shifted = np.sin(2 * np.pi * 5 * (t - 0.01))[:, None]
    assert lag_adjusted_error(shifted, y, 50) < 1e-9
    assert lag_adjusted_error(shifted, y, 0) > 0.2
    assert lag_adjusted_error(0.5 * y, y, 50) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)
    assert lag_adjusted_error(np.full_like(y, np.nan), y, 5) == np.inf
    # a 4 % frequency error drifts out of phase over the second; per-period alignment forgives it
    drift = np.sin(2 * np.pi * 5.2 * t)[:, None]
    assert lag_adjusted_error(drift, y, 50) > 0.2
    assert lag_adjusted_error(drift, y, 50, window=200) < 0.1
    assert lag_adjusted_error(0.5 * y, y, 50, window=200) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_bad_parameters_raise():
    with pytest.raises(DimensionMismatchError):
        MatchedForceComparison(50, Q=10 * ms)
    with pytest.raises(ValueError, match="alpha"):
        MatchedForceComparison(50, alpha=-1.0)
    with pytest.raises(ValueError, match="multiple"):
        MatchedForceComparison(50, rate_dt=0.3 * ms)
    with pytest.raises(ValueError):
        MatchedForceComparison(50, p=0.0)


@pytest.fixture(scope="module")
def small_comparison():
    comp = MatchedForceComparison(100, alpha=5e-7, G=0.08 * mV * second, rate_dt=0.5 * ms, seed=4)
    return comp.fit(sinusoid(5.0), settle=0.1 * second, train=0.5 * second, test=0.5 * second)


def test_matched_networks_share_structure_and_restore_decoders(small_comparison):
    comp = small_comparison
    tr, rate = comp.spiking_, comp.rate_
    np.testing.assert_allclose(rate.W, tr.weights_.dense())
    np.testing.assert_array_equal(rate.eta, tr.eta_)
    assert np.abs(tr.eta_).max() <= 20e-3 / 2 and np.abs(tr.eta_).max() > 0.8 * 10e-3  # U(−Q/2, Q/2), Q = 20 mV
    assert rate.rls_every * rate.dt == pytest.approx(5e-3) and tr.config.rls_interval == pytest.approx(5e-3)
    assert rate.rls_.n_updates == tr.rls_.n_updates == 100
    # decoders are back in place after the transfer tests
    np.testing.assert_array_equal(np.asarray(tr.decoder_ / second), comp.phi_spiking_)
    np.testing.assert_array_equal(rate.rls_.W, comp.phi_rate_)
    res = comp.result_
    assert res.decoder_correlation == pytest.approx(decoder_correlation(comp.phi_spiking_, comp.phi_rate_))
    for value in (res.spiking_error, res.rate_error, res.spike_to_rate_error, res.rate_to_spike_error):
        assert np.isfinite(value) and value > 0
    # the transferred rate test really used the spiking decoder: z = s·φ_spiking
    tt = comp.transfer_tests_["spike_to_rate"]
    assert not np.allclose(tt.z, comp.rate_test_.z)
    assert comp.spiking_rates_.shape[1] == 100 and np.isfinite(res.cross_trial_correlation_spiking)


@pytest.mark.slow
def test_acceptance_decoder_correlation_drops_with_learning_rate():
    """Newton & Nicola: correlated decoders at slow learning, less correlated at fast (N = 300)."""
    corr = {}
    for alpha in (5e-7, 5e-5):
        comp = MatchedForceComparison(300, alpha=alpha, G=0.08 * mV * second, seed=0)
        comp.fit(sinusoid(5.0), settle=0.3 * second, train=3 * second, test=1 * second)
        corr[alpha] = comp.result_.decoder_correlation
        assert comp.result_.spiking_error < 0.5 and comp.result_.rate_error < 0.5
    assert corr[5e-7] > 0.8
    assert corr[5e-5] < corr[5e-7] - 0.2
