"""Edge cases of the output metrics, the LIF f–I curve and parameters, and the rate networks:
non-finite samples, constant channels, parameters of the wrong type or out of range."""
import numpy as np
import pytest
from brian2 import DimensionMismatchError, ms

from brianforce.analysis.metrics import (circular_lag, dominant_frequency, lag_adjusted_correlation,
                                         normalised_rmse)
from brianforce.methods.lead_compensation import LeadCompensatedRateNetwork
from brianforce.networks.connectivity import feedback_weights, static_weights
from brianforce.neurons import LIFParams, lif_rate
from brianforce.rate.networks import LIFRateNetwork, TanhForceNetwork
from brianforce.seeding import rng_for
from brianforce.errors import TrainingDiverged
from brianforce.tasks import sinusoid

T = np.arange(400) * 1e-3
SINE = np.sin(2 * np.pi * 5 * T)
LAGGED = np.roll(SINE, 7)                   # trails SINE by 7 samples


# ---------------------------------------------------------------- lag_adjusted_correlation

def test_lag_adjusted_correlation_of_finite_signals_is_unchanged():
    corr, lag = lag_adjusted_correlation(np.c_[LAGGED, 2 * SINE], np.c_[SINE, SINE], 20)
    assert lag.tolist() == [7, 0] and lag.dtype.kind == "i"
    np.testing.assert_allclose(corr, [1.0, 1.0], atol=1e-3)


@pytest.mark.parametrize("where", [0, 3, 200, 399])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_output_channel_has_nan_correlation(where, bad):
    """A NaN near either end of an output is not dropped by a shift that leaves it out: the channel is NaN."""
    z = np.c_[LAGGED, LAGGED]
    z[where, 0] = bad
    corr, lag = lag_adjusted_correlation(z, np.c_[SINE, SINE], 20)
    assert np.isnan(corr[0]) and lag[0] == 0
    assert corr[1] == pytest.approx(1.0, abs=1e-3) and lag[1] == 7   # the other channel is unaffected


def test_all_nan_output_has_nan_correlation():
    corr, lag = lag_adjusted_correlation(np.full(400, np.nan), SINE, 20)
    assert np.isnan(corr[0]) and lag[0] == 0


@pytest.mark.parametrize("level", [0.0, 0.1, -3.0])
def test_constant_output_channel_has_nan_correlation(level):
    """Zero variance: no correlation (not a lag of -max_lag with correlation 0)."""
    corr, lag = lag_adjusted_correlation(np.c_[np.full(400, level), SINE], np.c_[SINE, SINE], 20)
    assert np.isnan(corr[0]) and lag[0] == 0 and corr[1] == pytest.approx(1.0)


def test_constant_target_channel_has_nan_correlation():
    corr, lag = lag_adjusted_correlation(SINE, np.full(400, 0.5), 20)
    assert np.isnan(corr[0]) and lag[0] == 0


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_target_is_refused_by_the_correlation(bad):
    y = np.c_[SINE, SINE]
    y[12, 1] = bad
    with pytest.raises(ValueError, match=rf"lag_adjusted_correlation: target must be finite, got {bad} at "
                                         r"sample 12 of channel 1"):
        lag_adjusted_correlation(y, y, 20)


@pytest.mark.parametrize("max_lag, error", [(True, TypeError), (2.5, TypeError), (-1, ValueError),
                                            (200, ValueError)])
def test_max_lag_is_checked(max_lag, error):
    with pytest.raises(error, match="max_lag"):
        lag_adjusted_correlation(SINE, SINE, max_lag)


# ---------------------------------------------------------------- circular_lag

def test_circular_lag_of_finite_signals_is_unchanged():
    assert circular_lag(LAGGED, SINE) == 7


@pytest.mark.parametrize("which", ["output", "target"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_circular_lag_refuses_non_finite_samples(which, bad):
    """An all-NaN cross-correlation gives no lag (not the argmax 0 of NaNs)."""
    z, y = np.c_[LAGGED, LAGGED], np.c_[SINE, SINE]
    (z if which == "output" else y)[5, 1] = bad
    with pytest.raises(ValueError, match=rf"circular_lag: {which} must be finite, got {bad} at sample 5 "
                                         r"of channel 1"):
        circular_lag(z, y)


# ---------------------------------------------------------------- dominant_frequency, normalised_rmse

def test_dominant_frequency_of_a_constant_channel_is_nan():
    """A flat channel has no peak (not the first non-DC bin, 1/(n dt))."""
    x = np.c_[SINE, np.zeros(400), np.full(400, 0.1)]
    f = dominant_frequency(x, 1e-3)
    assert f[0] == pytest.approx(5.0, rel=1e-3) and np.isnan(f[1]) and np.isnan(f[2])


def test_dominant_frequency_of_a_spectrum_zero_beyond_dc_is_nan():
    """The Hann window is zero at the ends: a signal that differs from its mean only there has
    no spectrum beyond DC."""
    assert np.isnan(dominant_frequency(np.array([1.0, 2.0, 2.0, 2.0, 3.0]), 1e-3)[0])


def test_dominant_frequency_of_a_non_finite_channel_is_nan():
    x = np.c_[SINE, SINE]
    x[3, 0] = np.inf
    f = dominant_frequency(x, 1e-3)
    assert np.isnan(f[0]) and f[1] == pytest.approx(5.0, rel=1e-3)


@pytest.mark.parametrize("dt, error", [(True, TypeError), (0.0, ValueError), (-1e-3, ValueError),
                                       (np.nan, ValueError), (np.inf, ValueError), ("1e-3", TypeError),
                                       (1 * ms, DimensionMismatchError)])
def test_dominant_frequency_checks_dt(dt, error):
    with pytest.raises(error, match="dt"):
        dominant_frequency(SINE, dt)


@pytest.mark.parametrize("bad", [np.nan, -np.inf])
def test_normalised_rmse_refuses_a_non_finite_target(bad):
    y = SINE.copy()
    y[9] = bad
    with pytest.raises(ValueError, match=rf"normalised_rmse: target must be finite, got {bad} at sample 9"):
        normalised_rmse(SINE, y)


def test_normalised_rmse_scores_a_non_finite_output():
    z = SINE.copy()
    z[9] = np.nan
    assert np.isnan(normalised_rmse(z, SINE)[0])


# ---------------------------------------------------------------- lif_rate, LIFParams

def test_lif_rate_limits():
    p = LIFParams()
    finite = np.array([-0.05, -0.03, 0.01])
    r = lif_rate(np.r_[np.nan, np.inf, -np.inf, finite], p)
    assert np.isnan(r[0]) and r[1] == 1 / p.tau_ref and r[2] == 0.0
    np.testing.assert_array_equal(r[3:], lif_rate(finite, p))          # finite currents: the same bits
    assert lif_rate(np.array([np.inf]), LIFParams(tau_ref=0.0))[0] == np.inf
    assert np.isnan(lif_rate(np.nan, p))


@pytest.mark.parametrize("field, value, error", [
    ("tau_m", np.nan, ValueError), ("tau_m", np.inf, ValueError), ("tau_m", 0.0, ValueError),
    ("tau_r", -1e-3, ValueError), ("tau_d", np.nan, ValueError), ("tau_ref", np.inf, ValueError),
    ("tau_ref", -1e-3, ValueError), ("tau_ref", np.nan, ValueError), ("v_th", np.nan, ValueError),
    ("v_reset", -np.inf, ValueError), ("bias", np.inf, ValueError), ("bias", np.nan, ValueError),
    ("tau_m", True, TypeError), ("tau_ref", False, TypeError), ("bias", "0.01", TypeError),
    ("tau_d", np.array([0.02, 0.03]), TypeError),
    ("tau_m", 10 * ms, DimensionMismatchError), ("tau_ref", 2 * ms, DimensionMismatchError),
])
def test_lif_params_refuse_bad_fields(field, value, error):
    with pytest.raises(error, match=field):
        LIFParams(**{field: value})


def test_lif_params_keep_valid_fields():
    p = LIFParams(tau_ref=0, bias=np.float64(-0.03))
    assert p.tau_ref == 0 and p.bias == -0.03 and LIFParams() == LIFParams()
    with pytest.raises(ValueError, match="v_reset"):
        LIFParams(v_reset=-0.03)


# ---------------------------------------------------------------- LeadCompensatedRateNetwork

def _structure(n=20, seed=0):
    return (static_weights(n, 0.2, 0.04e-3, rng_for(seed, "connectivity")),
            feedback_weights(n, 1, 10e-3, rng_for(seed, "encoders")))


@pytest.mark.parametrize("tau_lead, error", [(2 * ms, DimensionMismatchError), (True, TypeError),
                                             (np.inf, ValueError), (np.nan, ValueError), (-1e-3, ValueError),
                                             ("2e-3", TypeError)])
def test_lead_compensated_network_checks_tau_lead(tau_lead, error):
    with pytest.raises(error, match="tau_lead"):
        LeadCompensatedRateNetwork(*_structure(), tau_lead=tau_lead)


def test_lead_compensated_network_keeps_a_valid_tau_lead():
    assert LeadCompensatedRateNetwork(*_structure(), tau_lead=4e-3).tau_lead == 4e-3
    assert LeadCompensatedRateNetwork(*_structure(), tau_lead=0).tau_lead == 0.0


# ---------------------------------------------------------------- rate network fit / predict

def _diverging_net():
    w, eta = _structure(100, 1)
    return LIFRateNetwork(w, eta, dt=2e-4, rls_every=5, reg=1e-3, initial_rates=np.full(100, 10.0))


def test_diverged_refit_replaces_the_train_result():
    net = TanhForceNetwork(30, rng=rng_for(0, "teacher")).fit(sinusoid(5.0), settle=0.0, train=0.1)
    first = net.train_result_
    assert net.diverged_ is None and len(first.t) == 100
    net.divergence_factor = 1e-9          # the next training diverges at its first update
    with pytest.raises(TrainingDiverged) as info:
        net.fit(sinusoid(5.0), settle=0.0, train=0.1)
    assert net.diverged_ is info.value and net.train_result_ is not first
    # it diverged at the first update, before anything was recorded
    assert net.train_result_.t.shape == (0,) and net.train_result_.z.shape == (0, 1)
    assert net.train_result_.errors is None


def test_diverged_fit_keeps_what_it_reached():
    net = _diverging_net()
    with pytest.raises(TrainingDiverged) as info:
        net.fit(sinusoid(5.0), settle=0.0, train=1.0)
    err, res = info.value, net.train_result_
    # one error per RLS update before the one that diverged, one sample every 10 steps before it
    assert res.errors.shape == (err.step, 1) and len(res.t) == (err.sim_step - 1 + 9) // 10
    assert res.t[-1] < err.time and np.all(np.isfinite(res.errors))
    np.testing.assert_array_equal(res.target, sinusoid(5.0)(res.t))


def test_second_fit_continues_from_the_current_state():
    a = TanhForceNetwork(30, rng=rng_for(0, "teacher")).fit(sinusoid(5.0), settle=0.0, train=0.1)
    a.fit(sinusoid(5.0), settle=0.0, train=0.1)
    b = TanhForceNetwork(30, rng=rng_for(0, "teacher")).fit(sinusoid(5.0), settle=0.0, train=0.2)
    assert a.t_ == pytest.approx(0.2) and a.rls_.n_updates == b.rls_.n_updates == 100
    np.testing.assert_allclose(a.rls_.W, b.rls_.W, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("record_activity, error", [(-1, ValueError), (True, TypeError), (2.5, TypeError),
                                                    ("3", TypeError)])
def test_predict_checks_record_activity(record_activity, error):
    net = TanhForceNetwork(20, rng=rng_for(0, "teacher")).fit(sinusoid(5.0), settle=0.0, train=0.02)
    with pytest.raises(error, match="record_activity"):
        net.predict(0.01, record_activity=record_activity)


def test_predict_records_activity_of_the_first_units():
    net = TanhForceNetwork(20, rng=rng_for(0, "teacher")).fit(sinusoid(5.0), settle=0.0, train=0.02)
    assert net.predict(0.01, record_activity=3).activity.shape == (10, 3)
    assert net.predict(0.01, record_activity=0).activity is None


@pytest.mark.parametrize("duration", [-0.1, 0.0, float("nan"), True])
def test_predict_checks_its_duration(duration):
    from brianforce.rate.networks import TanhForceNetwork
    from brianforce.tasks import sinusoid

    net = TanhForceNetwork(30, rng=rng_for(0, "teacher")).fit(sinusoid(5.0), settle=0.0, train=0.05)
    with pytest.raises((ValueError, TypeError), match="duration"):
        net.predict(duration)
