"""Argument checks and edge cases of the task generators, the decoder analyses and the network
builders: refused arguments name the argument and the value, undefined results are NaN, and
degenerate inputs keep their shapes (numpy sizes; Brian2 objects only where a check precedes them)."""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pytest
from brian2 import mV, ms

from brianforce.analysis.decoders import (decoder_correlation, decoder_pc_projection, filtered_rates_from_spikes,
                                          lag_adjusted_error, offline_rls_decoder)
from brianforce.analysis.phase_lead import lif_phase_lead
from brianforce.analysis.population import gaussian_smooth
from brianforce.networks.balanced import balanced_connectivity, build_balanced_network
from brianforce.networks.connectivity import feedback_weights, static_weights
from brianforce.networks.force_lif import build_force_network
from brianforce.networks.nicola_clopath_loop import nicola_clopath_loop
from brianforce.neurons import LIFParams
from brianforce.tasks.depasquale import oscillation_trials
from brianforce.tasks.kim2019 import XOR, ContextIntegration, GoNoGo
from brianforce.tasks.oscillators import Task
from brianforce.tasks.patterns import lif_transfer, ou_patterns, rates_to_targets, sinusoid_patterns

V_TH, V_RESET, TAU_M, TAU_REF = -40e-3, -65e-3, 10e-3, 2e-3


def _lif_inverse(rate):
    """Input (V) at which the deterministic LIF curve gives ``rate`` (Hz)."""
    e = np.exp((1.0 / rate - TAU_REF) / TAU_M)
    return (e * V_TH - V_RESET) / (e - 1.0)


# ---------------------------------------------------------------- patterns: transfer curve and its inverse

def test_rates_to_targets_without_noise_inverts_the_curve_near_threshold():
    rates = np.array([0.5, 3.0, 6.0, 20.0, 50.0])
    mu = rates_to_targets(rates[None, None, :], 1e-3, np.arange(5), 0.0, 0.0).targets.ravel()
    assert np.all(mu > V_TH)                                           # above threshold: a positive rate
    np.testing.assert_allclose(mu, _lif_inverse(rates), atol=10e-6)    # within one 10 µV grid step
    assert np.all(lif_transfer(mu) > 0)


def test_lif_transfer_propagates_nan_and_refuses_bad_parameters():
    out = lif_transfer(np.array([np.nan, -0.03]))
    assert np.isnan(out[0]) and out[1] > 0
    noisy = lif_transfer(np.array([np.nan, -0.03]), white=2e-3)        # the Siegert rate
    assert np.isnan(noisy[0]) and noisy[1] == lif_transfer(np.array([-0.03]), white=2e-3)[0]
    assert np.isnan(lif_transfer(np.array([np.nan, -0.03]), 1e-3, white=2e-3)[0])
    smooth = lif_transfer(np.array([np.nan, -0.03, -0.045]), 2e-3)
    assert np.isnan(smooth[0])
    np.testing.assert_array_equal(smooth[1:], lif_transfer(np.array([-0.03, -0.045]), 2e-3))
    with pytest.raises(ValueError, match=r"v_reset must be below v_th, got v_reset=-0\.03, v_th=-0\.04"):
        lif_transfer(np.array([-0.035]), v_reset=-0.03, v_th=-0.04)
    with pytest.raises(ValueError, match=r"tau_m must be in \(0, inf\), got -0\.01"):
        lif_transfer(np.array([-0.035]), tau_m=-0.01)
    with pytest.raises(ValueError, match=r"tau_ref must be in \[0, inf\), got -0\.001"):
        lif_transfer(np.array([-0.035]), tau_ref=-1e-3)


@pytest.mark.parametrize("make", [sinusoid_patterns, ou_patterns])
def test_patterns_need_two_samples(make):
    with pytest.raises(ValueError, match=r"at least 2 samples.*duration=0\.001, dt=0\.001"):
        make(3, 0.001, 0.001, np.random.default_rng(0))
    assert make(3, 0.002, 0.001, np.random.default_rng(0)).shape == (2, 3)


# ---------------------------------------------------------------- analysis

def test_gaussian_smooth_keeps_the_shape_of_a_short_input():
    x = np.arange(5.0)[:, None]
    y = gaussian_smooth(x, 3.0)
    assert y.shape == (5, 1)
    k = np.exp(-0.5 * (np.arange(-12, 13) / 3.0) ** 2)          # ±4 SD, renormalised at the edges
    w = np.array([[k[12 + j - i] for j in range(5)] for i in range(5)])
    np.testing.assert_allclose(y[:, 0], w @ x[:, 0] / w.sum(1), rtol=1e-12)


def test_lif_phase_lead_is_nan_without_spikes_or_modulation():
    kw = dict(dt=1e-4, duration=0.6, transient=0.3)
    assert np.isnan(lif_phase_lead(-0.02, 1e-3, **kw)["lead_s"])           # never reaches threshold
    assert np.isnan(lif_phase_lead(5e-3, 0.0, **kw)["lead_s"])             # no modulation
    with pytest.raises(ValueError, match=r"duration - transient.*duration=0\.5, transient=1\.0"):
        lif_phase_lead(5e-3, 5e-3, duration=0.5, transient=1.0)
    with pytest.raises(ValueError, match=r"frequency must be in \(0, inf\), got 0\.0"):
        lif_phase_lead(5e-3, 5e-3, frequency=0.0)


def test_decoder_correlation_of_a_constant_decoder_is_nan():
    assert np.isnan(decoder_correlation(np.ones((5, 1)), np.ones((5, 1))))
    assert np.isnan(decoder_correlation(np.zeros(4), np.arange(4.0)))
    with pytest.raises(ValueError, match=r"phi_a contains NaN or Inf \(nan at flat index 2\)"):
        decoder_correlation([1.0, 2.0, np.nan], [1.0, 2.0, 3.0])
    assert decoder_correlation([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]) == pytest.approx(1.0)


def test_lag_adjusted_error_refuses_arguments_without_a_result():
    n = 200
    y = np.sin(2 * np.pi * 5 * np.arange(n) / n)
    assert lag_adjusted_error(y, y, 10) == 0.0
    assert lag_adjusted_error(y, y, 10, window=2 * n - 1) == 0.0
    for window in (2 * n, 0):
        with pytest.raises(ValueError, match=rf"window must be in \[1, {2 * n}\).*got {window}"):
            lag_adjusted_error(y, y, 10, window=window)
    with pytest.raises(ValueError, match=r"max_lag must be >= 0 samples, got -1"):
        lag_adjusted_error(y, y, -1)
    with pytest.raises(ValueError, match=r"z must have at least 2 samples, got 1"):
        lag_adjusted_error(y[:1], y[:1] + 1, 0)


def test_decoder_fits_check_shapes_exactly():
    rng = np.random.default_rng(0)
    R, Y = rng.random((40, 6)), rng.standard_normal((40, 2))
    with pytest.raises(ValueError, match=r"target must have shape \(40, K\) or \(40,\).*got \(80,\)"):
        offline_rls_decoder(R, np.r_[Y[:, 0], Y[:, 0]], 0.05)
    with pytest.raises(ValueError, match=r"target contains NaN or Inf \(nan at flat index 0\)"):
        offline_rls_decoder(R, np.full(40, np.nan), 0.05)
    np.testing.assert_array_equal(offline_rls_decoder(R, Y[:, 0], 0.05), offline_rls_decoder(R, Y[:, :1], 0.05))
    with pytest.raises(ValueError, match=r"phi must have shape \(6, K\) or \(6,\).*got \(2, 6\)"):
        decoder_pc_projection(R, rng.random((2, 6)))


def test_filtered_rates_refuse_neuron_indices_outside_the_network():
    t = np.arange(0, 0.05, 1e-4)
    for bad in (-1, 2):
        with pytest.raises(ValueError, match=rf"spike_i must be neuron indices in \[0, 2\), got {bad}"):
            filtered_rates_from_spikes([bad], [0.01], 2, t, 2e-3, 20e-3)


# ---------------------------------------------------------------- Nicola & Clopath loop

def _loop_parts(K=2, N=20):
    W = static_weights(N, 0.2, 0.04e-3, np.random.default_rng(0))
    E = feedback_weights(N, K, 0.01, np.random.default_rng(1))
    v0 = -0.065 + np.random.default_rng(2).random(N) * 0.095
    return W, E, v0


def test_nicola_clopath_loop_refuses_transposed_or_non_finite_targets():
    W, E, v0 = _loop_parts()
    kw = dict(settle=0.001, train=0.001, dt=5e-5, interval=2.5e-4)
    with pytest.raises(ValueError, match=r"target\(t\) must return shape \(40, 2\).*got \(2, 40\)"):
        nicola_clopath_loop(W, E, v0, lambda t: np.vstack([np.sin(t), np.cos(t)]), **kw)
    with pytest.raises(ValueError, match=r"target\(t\) contains NaN or Inf"):
        nicola_clopath_loop(W, E, v0, lambda t: np.full((len(t), 2), np.nan), **kw)
    with pytest.raises(ValueError, match=r"phi0 must have shape \(20, 2\).*got \(2, 20\)"):
        nicola_clopath_loop(W, E, v0, lambda t: np.c_[np.sin(t), np.cos(t)], phi0=np.zeros((2, 20)), **kw)


def test_task_refuses_a_transposed_target():
    task = Task("transposed", 2, lambda t: np.vstack([np.sin(t), np.cos(t)]))
    with pytest.raises(ValueError, match=r"fn\(t\) must return shape \(3, 2\).*got \(2, 3\)"):
        task(np.arange(3.0))


# ---------------------------------------------------------------- Kim et al. (2019) tasks

@pytest.mark.parametrize("make, what", [
    (lambda: GoNoGo(stim_on=250), r"stimulus \(steps 250 to 275\)"),
    (lambda: GoNoGo(stim_on=190), r"stimulus \(steps 190 to 215\)"),
    (lambda: GoNoGo(stim_on=180, stim_dur=20), r"target \(steps 200 to 200\)"),
    (lambda: GoNoGo(response_start=200), r"response_window \(steps 200 to 200\)"),
    (lambda: GoNoGo(stim_dur=0), r"stimulus \(steps 50 to 50\)"),
    (lambda: XOR(target_dur=300), r"target \(steps 170 to 470\)"),
    (lambda: XOR(stim_on=200), r"pulse_2 \(steps 260 to 310\)"),
    (lambda: ContextIntegration(stim_dur=500), r"stimulus \(steps 50 to 550\)"),
])
def test_kim2019_timing_must_fit_in_the_trial(make, what):
    with pytest.raises(ValueError, match=what + r".*n_steps="):
        make()


# ---------------------------------------------------------------- balanced network

def test_balanced_connectivity_needs_two_neurons_of_each_type():
    with pytest.raises(ValueError, match=r"n=100, frac_exc=0\.99 gives 99 excitatory and 1 inhibitory.*K_E=10, K_I=1"):
        balanced_connectivity(100, frac_exc=0.99)
    with pytest.raises(ValueError, match=r"n=5, frac_exc=0\.8 gives 4 excitatory and 1 inhibitory"):
        balanced_connectivity(5)
    with pytest.raises(TypeError, match=r"n must be an integer, got 10\.7"):
        balanced_connectivity(10.7)


def test_build_balanced_network_refuses_negative_refractory_and_non_finite_bias():
    c = balanced_connectivity(20, seed=0)
    with pytest.raises(ValueError, match=r"tau_ref must be finite and >= 0, got -2\. ms"):
        build_balanced_network(c, tau_ref=-2 * ms, name="bal_check_a")
    with pytest.raises(ValueError, match=r"bias\[0\] must be finite, got nan"):
        build_balanced_network(c, bias=(float("nan") * mV, -35 * mV), name="bal_check_b")


@pytest.mark.parametrize("tau_d_ms, factor, peak_ms", [(20, 0.247, 16), (50, 0.133, 22)])
def test_balanced_epsp_peak_as_stated(tau_d_ms, factor, peak_ms):
    """One spike of an excitatory neuron in a network of build_balanced_network: the postsynaptic EPSP
    peaks at the factor × j0/√K and the time stated in balanced_connectivity's docstring (τ_d = 20 ms)
    and in the Kim & Chow tutorial and RecurrentRLS docstring (τ_d = 50 ms)."""
    from brian2 import Network, StateMonitor, mV, ms

    j0 = 10e-3
    c = balanced_connectivity(4, p=1.0, frac_exc=0.5, j0=j0)            # K_E = K_I = 1: K = 2
    net = build_balanced_network(c, bias=(-60 * mV, -60 * mV), tau_d=tau_d_ms * ms)
    post = int(c.post[(c.pre == 0)][0])                                  # the target of neuron 0
    net.neurons.v = -60 * mV
    net.neurons.v[0] = -39 * mV                                          # neuron 0 fires once at t = 0
    mon = StateMonitor(net.neurons, "v", record=[post], name="balanced_epsp")
    Network(net.network, mon).run(60 * ms)
    dv = mon.v[0] / mV + 60.0
    assert net.spikes.num_spikes == 1
    assert dv.max() == pytest.approx(factor * j0 * 1e3 / np.sqrt(2), rel=1e-2)      # Euler at dt = 0.05 ms
    assert mon.t[np.argmax(dv)] / ms == pytest.approx(peak_ms, abs=0.5)
    if tau_d_ms == 20:
        assert f"{factor} j0/√K" in " ".join(balanced_connectivity.__doc__.split())


# ---------------------------------------------------------------- connectivity and the FORCE network

def test_weights_refuse_non_finite_gain_and_bad_encoder_scale():
    rng = np.random.default_rng(0)
    for gain in (np.nan, np.inf):
        with pytest.raises(ValueError, match=rf"gain must be finite, got {gain}"):
            static_weights(30, 0.1, gain, rng)
    for q in (-1.0, np.nan):
        with pytest.raises(ValueError, match=rf"Q must be finite and >= 0, got {q}"):
            feedback_weights(10, 1, q, rng)


def test_build_force_network_refuses_non_finite_encoders_and_potentials():
    N = 10
    W = static_weights(N, 0.5, 0.04e-3, np.random.default_rng(0))
    ok = dict(eta=np.zeros((N, 1)), phi=np.zeros((N, 1)), v0=np.full(N, -0.05))
    for what, bad in (("eta", np.full((N, 1), np.nan)), ("v0", np.full(N, np.nan))):
        args = dict(ok, **{what: bad})
        with pytest.raises(ValueError, match=rf"{what} contains NaN or Inf \(nan at flat index 0\)"):
            build_force_network(W, args["eta"], args["phi"], lif=LIFParams(), v0=args["v0"], dt=0.05 * ms,
                                name=f"force_check_{what}")


# ---------------------------------------------------------------- DePasquale and reaching tasks

def test_oscillation_trials_refuse_sub_millihertz_frequencies_and_sub_step_cues():
    with pytest.raises(ValueError, match=r"freqs must be at least 1 mHz.*got 0\.0001"):
        oscillation_trials(1, freqs=(0.0001,))
    with pytest.raises(ValueError, match=r"cue_duration must last at least one step dt = 0\.001 s, got 0\.0004"):
        oscillation_trials(1, cue_amplitude=1.0, cue_duration=0.0004)
    assert oscillation_trials(1, cue_duration=0.0004).info["cue_samples"] == 0      # no cue: duration unused


def test_reaching_trials_refuse_non_integer_conditions():
    from brianforce.datasets.loaders import load_reaching_emg
    from brianforce.tasks.reaching import reaching_trials

    emg = load_reaching_emg(synthetic=True)
    with pytest.raises(ValueError, match=r"conditions must be integer indices in \[0, 8\), got \[0\.7\]"):
        reaching_trials(emg, dt=emg.dt, conditions=[0.7])
    a = reaching_trials(emg, dt=emg.dt, conditions=[1.0, 3.0])
    b = reaching_trials(emg, dt=emg.dt, conditions=[1, 3])
    np.testing.assert_array_equal(a.targets, b.targets)
    np.testing.assert_array_equal(a.labels, [1.0, 3.0])
