"""Balanced network, targets and per-neuron RLS training of recurrent synapses (Kim & Chow)."""
import numpy as np
import pytest

import brian2
from brian2 import DimensionMismatchError, mV, ms, second

from brianforce.networks.balanced import balanced_connectivity, build_balanced_network
from brianforce.errors import TrainingDiverged
from brianforce.io import load_arrays
from brianforce.analysis.population import isi_cv_by_neuron as isi_cv
from brianforce.methods.recurrent import RecurrentTrainer, TrialRecording, correlations
from brianforce.seeding import rng_for
from brianforce.networks.balanced import BalancedConnectivity
from brianforce.tasks.trials import current_targets
from brianforce.tasks.patterns import (fit_transfer_noise, lif_transfer, ou_patterns,
                                       pattern_targets, rates_to_targets, recorded_targets,
                                       sinusoid_patterns)

SMALL = dict(n=400, p=0.1, stim_duration=50 * ms, learn_every=10 * ms, reg=1e4, seed=2)


# -- targets ----------------------------------------------------------------------------
def test_sinusoid_patterns_are_standardised_and_smooth():
    z = sinusoid_patterns(20, 1.0, 1e-3, rng_for(0, "t"), periods=(0.2, 0.5))
    assert z.shape == (1000, 20)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(0), 1, rtol=1e-12)
    # smooth: successive samples nearly equal (max slope of 3 sinusoids of period >= 0.2 s)
    assert np.abs(np.diff(z, axis=0)).max() < 3 * 2 * np.pi / 0.2 * 1e-3 / z.std(0).min() * 2


def test_ou_patterns_autocorrelation_matches_theory():
    tau, dt = 0.05, 1e-3
    z = ou_patterns(200, 4.0, dt, rng_for(1, "t"), tau=tau, smooth=0.0)
    lag = int(tau / dt)
    ac = np.mean([np.corrcoef(z[:-lag, i], z[lag:, i])[0, 1] for i in range(200)])
    assert abs(ac - np.exp(-1)) < 0.05


def test_current_targets_validation():
    with pytest.raises(ValueError, match="NaN"):
        current_targets(np.full((10, 2), np.nan), 1e-3, [0, 1])
    with pytest.raises(ValueError, match="columns"):
        current_targets(np.zeros((10, 2)), 1e-3, [0])
    with pytest.raises(ValueError, match="unique"):
        current_targets(np.zeros((10, 2)), 1e-3, [3, 3])
    with pytest.raises(ValueError, match="amplitude"):
        pattern_targets(np.zeros((10, 2)), 0.0, -1.0, 1e-3, [0, 1])
    t = pattern_targets(np.ones((10, 2)), [-0.01, 0.02], 0.005, 1e-3, [4, 7])
    assert t.targets.shape == (1, 10, 2)
    np.testing.assert_allclose(t.targets[0, 0], [-0.005, 0.025])
    assert t.duration == pytest.approx(0.01)


def test_lif_transfer_matches_simulated_neuron_and_inverts():
    # deterministic curve against a direct Euler integration of tau dv/dt = -v + I
    I, dt, tau = -30e-3, 1e-6, 10e-3
    v, t, spikes, last = -65e-3, 0.0, [], -1.0
    while t < 0.3:
        if t - last >= 2e-3:
            v += dt * (-v + I) / tau
        if v >= -40e-3:
            spikes.append(t)
            v, last = -65e-3, t
        t += dt
    sim_rate = 1 / np.mean(np.diff(spikes))
    assert lif_transfer(np.array([I]))[0] == pytest.approx(sim_rate, rel=2e-3)
    assert lif_transfer(np.array([-41e-3]))[0] == 0
    # noise smooths the threshold; rates_to_targets inverts the curve
    assert lif_transfer(np.array([-41e-3]), 3e-3)[0] > 1
    rates = np.array([[[1.0, 5.0], [20.0, 60.0]]])
    bias = np.array([-36e-3, -38e-3])
    t = rates_to_targets(rates, 0.01, [3, 9], bias, 2e-3)
    np.testing.assert_allclose(lif_transfer(t.targets + bias, 2e-3), rates, rtol=1e-3)
    with pytest.raises(ValueError, match=">= 0"):
        rates_to_targets(-rates, 0.01, [3, 9], bias, 2e-3)


def test_white_noise_transfer_matches_simulated_noisy_neurons():
    # Siegert curve (lif_transfer white=...) against uncoupled noisy LIF neurons in Brian2
    n = 240
    conn = BalancedConnectivity(n, n // 2, np.array([0]), np.array([1]), np.array([0.0]))
    bn = build_balanced_network(conn, bias=(-50 * mV, -38 * mV), noise=3 * mV, seed=4)
    bn.network.run(2.2 * second)
    sel = bn.spikes.t_[:] > 0.2
    rate = np.bincount(bn.spikes.i[:][sel], minlength=n) / 2.0
    bias = bn.neurons.I_bias_[:]
    pred = lif_transfer(bias, white=3e-3)
    edges = np.quantile(bias, [0, 0.25, 0.5, 0.75, 1.0])
    for lo, hi in zip(edges[:-1], edges[1:]):
        b = (bias >= lo) & (bias <= hi)
        assert rate[b].mean() == pytest.approx(pred[b].mean(), rel=0.12), (lo, hi)
    # and without noise the deterministic curve: sub-threshold neurons stay silent
    assert lif_transfer(np.array([-41e-3]), white=1e-6)[0] == 0
    assert lif_transfer(np.array([-30e-3]), white=1e-6)[0] == pytest.approx(
        lif_transfer(np.array([-30e-3]))[0], rel=1e-6)


def test_fit_transfer_noise_recovers_sigma():
    mu = np.linspace(-50e-3, -36e-3, 300)
    for white, sigma in ((0.0, 2.5e-3), (2e-3, 0.8e-3)):
        rates = lif_transfer(mu, sigma, white=white)
        rates = rates + rng_for(7, "t").normal(0, 0.2, mu.size)  # measurement noise
        est, loss = fit_transfer_noise(mu, rates, white=white)
        assert est == pytest.approx(sigma, rel=0.1)
        assert loss.min() < loss[0] and loss.min() < loss[-1]
    with pytest.raises(ValueError, match="same shape"):
        fit_transfer_noise(mu, mu[:-1])


# -- analysis helpers against independent references ------------------------------------
def test_correlations_and_isi_cv_reference():
    rng = rng_for(3, "t")
    x, y = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
    ref = [np.corrcoef(x[:, i], y[:, i])[0, 1] for i in range(4)]
    np.testing.assert_allclose(correlations(x, y), ref, rtol=1e-12)
    regular = np.arange(0, 1, 0.01)
    poisson = np.cumsum(rng.exponential(0.01, 5000))
    idx = np.r_[np.zeros(regular.size, int), np.ones(poisson.size, int)]
    cv = isi_cv(idx, np.r_[regular, poisson], 3)
    assert cv[0] < 1e-9 and abs(cv[1] - 1) < 0.05 and np.isnan(cv[2])


def test_binned_rates_constant_rate():
    t = np.arange(0.0005, 0.5, 0.01)  # 100 Hz regular
    rec = TrialRecording(np.zeros((2, 1, 50, 1)), [[(np.zeros(t.size, int), t)]] * 2,
                         0.01, 0.5, 3)
    rates = rec.binned_rates([0, 2], smooth=0.02)
    np.testing.assert_allclose(rates[0, :, 0], 100.0, rtol=1e-9)
    assert np.all(rates[0, :, 1] == 0)


# -- balanced network ------------------------------------------------------------------
def test_balanced_network_is_irregular_and_current_equals_weighted_rates():
    conn = balanced_connectivity(400, p=0.2, seed=5)
    assert np.all(conn.pre != conn.post)
    k = np.bincount(conn.post, minlength=400)
    assert np.all(k == k[0])  # fixed in-degree
    assert np.all(conn.weight[conn.pre < conn.n_exc] > 0) and np.all(conn.weight[conn.pre >= conn.n_exc] < 0)
    bn = build_balanced_network(conn, seed=5)
    bn.network.run(1.2 * second)
    i, t = bn.spikes.i[:], bn.spikes.t_[:]
    sel = t > 0.2
    rate = np.bincount(i[sel], minlength=400) / 1.0
    assert 2 < rate.mean() < 60
    cv = isi_cv(i[sel].astype(int), t[sel], 400)
    assert np.mean(cv[np.isfinite(cv)] > 0.5) > 0.7
    # I_syn is the double-exponential filter of spikes weighted by w: equals W @ r
    W = conn.dense()
    I = bn.neurons.I_syn_[:]
    r = bn.neurons.r_[:]
    np.testing.assert_allclose(W @ r, I, rtol=1e-9, atol=1e-12)


def test_bad_units_and_parameters():
    with pytest.raises(DimensionMismatchError):
        RecurrentTrainer(50, j0=10.0)
    with pytest.raises(DimensionMismatchError):
        RecurrentTrainer(50, learn_every=5)
    with pytest.raises(ValueError, match="n_trials"):
        RecurrentTrainer(50, n_trials=0)
    with pytest.raises(ValueError, match="> 0"):
        RecurrentTrainer(50, tau_d=-2 * ms)
    with pytest.raises(ValueError, match="g must"):
        balanced_connectivity(50, g=0.0)
    with pytest.raises(TypeError, match="Trials"):
        RecurrentTrainer(50).fit(np.zeros((10, 50)))


def test_standalone_device_is_refused():
    brian2.set_device("cpp_standalone", build_on_run=False)
    tr = RecurrentTrainer(50)
    with pytest.raises(RuntimeError, match="standalone"):
        tr.fit(recorded_targets(np.zeros((10, 2)), 1e-3, [0, 1]))


# -- training --------------------------------------------------------------------------
def _pattern_task(trainer, amplitude=15e-3, duration=0.4):
    neurons = np.arange(trainer.n)
    base = trainer.spontaneous(0.3 * second).mean(0)
    z = sinusoid_patterns(trainer.n, duration, 1e-3, rng_for(0, "patterns"), periods=(0.2, 0.4))
    return pattern_targets(z, base, amplitude, 1e-3, neurons)


def test_training_makes_currents_follow_targets(tmp_path):
    tr = RecurrentTrainer(n_trials=10, **SMALL)
    targets = _pattern_task(tr)
    before = correlations(tr.spontaneous(0.4 * second), targets.targets[0]).mean()
    tr.fit(targets)
    lc = tr.learning_curve_
    assert lc.correlation.shape == (10,) and np.all(np.isfinite(lc.rms_error))
    rec = tr.run_trials(2)
    after = tr.score(rec)
    assert abs(before) < 0.2
    # 0.53 (2 test trials; 0.57 with 4) since trials also end refractoriness at their start
    # (needed for batched test trials); 0.65 before: chaos, not a change in learning
    assert after > 0.45, after
    assert lc.correlation[-3:].mean() > lc.correlation[:2].mean()  # learning curve improves
    # trained weights were written into Brian2: the network's synapses equal the RLS weights
    w = np.asarray(tr.network_.weight_view())
    # the learner is brianforce.learning.RecurrentRLS on the network's own synapses
    np.testing.assert_array_equal(np.asarray(tr.learner_.weights_), tr.rls_.dense_weights())
    path = tr.save(tmp_path / "kc")
    arrays, meta = load_arrays(path, kind="kimchow_recurrent")
    np.testing.assert_array_equal(arrays["weight"], w)
    assert meta["n"] == 400


def test_dale_keeps_signs_and_divergence_is_reported(tmp_path):
    tr = RecurrentTrainer(n_trials=1, dale=True, max_error=100 * brian2.volt, **dict(SMALL, reg=1e3))
    targets = _pattern_task(tr, duration=0.2)
    tr.fit(targets)
    c = tr.network_.connectivity
    w = np.asarray(tr.network_.weight_view())
    assert np.all(w[c.pre < c.n_exc] >= 0) and np.all(w[c.pre >= c.n_exc] <= 0)
    assert np.any(w[c.pre < c.n_exc] == 0)  # clipping was active
    assert not np.allclose(w, c.weight)
    bad = RecurrentTrainer(n_trials=1, max_error=1e-6 * mV, **SMALL)
    bad.build()
    with pytest.raises(match=r"trial 0, condition 0, at t = \d+\.\d ms") as info:
        bad.fit(targets)
    # the shared exception type: callers can catch every trainer's divergence alike
    assert isinstance(info.value, TrainingDiverged)
    assert info.value.step == 0 and 0 < info.value.time <= 0.2
    assert info.value.error.shape == (bad.n,) and info.value.sim_step == round(info.value.time / 0.05e-3)
    # the diverged weights are refused unless asked for explicitly
    assert bad.diverged_ is info.value and tr.diverged_ is None
    for call in (lambda: bad.run_trials(1), lambda: bad.score(), lambda: bad.save(tmp_path / "bad.npz")):
        with pytest.raises(RuntimeError, match=r"diverged at RLS update 0 \(t = [0-9.]+ s\).*allow_diverged=True"):
            call()
    assert not (tmp_path / "bad.npz").exists()
    # the divergence stopped the network mid-step (t off the 1-ms sampling grid); the next
    # trial starts back on the grid, so every sample of its window is recorded
    assert float(bad.network_.network.t / ms) % 1 > 1e-6
    rec = bad.run_trials(1, allow_diverged=True)
    assert rec.currents.shape == (1, 1, 200, bad.n) and np.all(np.isfinite(rec.currents))
    assert abs(float(bad.network_.network.t / ms) - round(float(bad.network_.network.t / ms))) < 1e-6
    assert bad.save(tmp_path / "bad.npz", allow_diverged=True).exists()


def test_stabilising_spontaneous_trajectory():
    # target (b): the network's own recorded chaotic trajectory; untrained repeats decorrelate
    tr = RecurrentTrainer(n_trials=5, **SMALL)
    buf = tr.spontaneous(0.5 * second, condition=0)
    targets = recorded_targets(buf, 1e-3, np.arange(tr.n))
    # untrained repeat from another random initial state: chaos decorrelates it
    before = np.nanmean(correlations(tr.spontaneous(0.5 * second, condition=0), buf))
    after = tr.fit(targets).score(tr.run_trials(2))
    print(f"stabilising: untrained repeat corr {before:.3f}, trained {after:.3f}")
    assert after > before + 0.1 and after > 0.5, (before, after)


def test_drive_makes_untrained_trajectories_reproducible():
    # without a drive the untrained chaotic network forgets the condition after the stimulus;
    # a fixed condition-specific drive makes repeats from different initial states agree
    agree = {}
    for drive in (0.0, 8.0):
        tr = RecurrentTrainer(drive=drive * mV, **dict(SMALL, n=200))
        a, b = (tr.spontaneous(0.3 * second, condition=0, sample_dt=5 * ms) for _ in range(2))
        agree[drive] = np.nanmean(correlations(a[20:], b[20:]))
        assert np.all(tr.network_.neurons.I_ext_[:] == 0)  # drive removed after the window
    print(f"repeat corr of I_syn: no drive {agree[0.0]:.3f}, 8 mV drive {agree[8.0]:.3f}")
    assert agree[8.0] > agree[0.0] + 0.2 and agree[8.0] > 0.4, agree
    # the drive: OU, SD = drive, correlation time drive_tau, one realisation per condition
    x = tr._drive_values(0, 20000)
    assert x.shape == (20000, 200) and abs(x.std() / 8e-3 - 1) < 0.05
    lag = round(0.1 / 1e-3)
    ac = np.mean(x[lag:] * x[:-lag]) / np.mean(x * x)
    assert abs(ac - np.exp(-1)) < 0.05, ac
    np.testing.assert_array_equal(tr._drive_values(0, 100), x[:100])  # prefix is stable
    assert not np.allclose(tr._drive_values(1, 100), x[:100])
    # trained neurons get no drive
    tr.mapped_ = np.arange(5)
    assert np.array_equal(tr._driven_neurons(), np.arange(5, 200))
    with pytest.raises(ValueError, match="drive"):
        RecurrentTrainer(drive=-1 * mV)


def test_batched_test_trials_equal_sequential_ones():
    # copies of the network in one Brian2 network, started from the same initial states as
    # sequential trials, give bit-identical currents and spikes (one condition: same draws)
    tr = RecurrentTrainer(n_trials=1, drive=5 * mV, **dict(SMALL, n=200, stim_duration=20 * ms))
    x = tr.spontaneous(0.1 * second, neurons=np.arange(10), sample_dt=10 * ms, condition=0)
    tr.fit(recorded_targets(x, 0.01, np.arange(10)))
    tr._trial_rng = rng_for(5, "test")
    a = tr.run_trials(4)
    tr._trial_rng = rng_for(5, "test")
    b = tr.run_trials(4, batch=3)  # 2 batches, the second one part-used
    np.testing.assert_array_equal(a.currents, b.currents)
    for k in range(4):
        (i_a, t_a), (i_b, t_b) = a.spike_times[k][0], b.spike_times[k][0]
        np.testing.assert_array_equal(i_a, i_b)
        np.testing.assert_allclose(t_a, t_b, rtol=0, atol=1e-12)  # window start differs: rounding
    with pytest.raises(ValueError, match="batch"):
        tr.run_trials(2, batch=0)


def _m1_rates():
    from brianforce.datasets import load_m1_rates

    try:
        return load_m1_rates()
    except FileNotFoundError as exc:
        pytest.skip(f"recorded M1 rates not available (set BRIANFORCE_DATA): {exc}")


def test_fit_rates_calibrates_transfer_and_can_stabilise_the_rest():
    from brianforce.datasets import load_m1_rates

    d = load_m1_rates(synthetic=True)  # shipped look-alike: runs without the recorded data
    R = d.rates[:1, :30, :]
    R = R[:, :, np.argsort(-R.mean(axis=(0, 1)))[:20]]  # 20 most active units, 0.3 s
    tr = RecurrentTrainer(n_trials=2, noise=2 * mV, **dict(SMALL, n=200))
    with pytest.raises(ValueError, match="rest"):
        tr.fit_rates(R, d.dt, rest="everything")
    tr.fit_rates(R, d.dt, sigma=2e-3, rounds=2, calibration_trials=1, rest="stabilise")
    assert tr.mapped_.shape == (20,) and len(tr.learning_curves_) == 2
    assert tr.transfer_sigma_[0] == 2e-3 and 0 < tr.transfer_sigma_[1] < 2e-2
    # every neuron trained: mapped ones first (rate targets), the rest on their own trajectory
    assert np.array_equal(np.sort(tr.targets_.neurons), np.arange(200))
    assert np.array_equal(tr.targets_.neurons[:20], tr.mapped_)
    # round-2 targets are the inverse transfer curve at the measured SD
    again = tr.rate_targets(R, d.dt, neurons=tr.mapped_, sigma=tr.transfer_sigma_[1])
    np.testing.assert_allclose(tr.targets_.targets[..., :20], again.targets)


@pytest.mark.slow
def test_recorded_m1_rates_end_to_end():
    """models/kimchow_m1.toml via benchmarks/kimchow_m1.py settings (reduced test trials).

    Before fit_rates (targets from the spontaneous SD, 5 mV) the mapped neurons fired
    0.7 Hz against 4.7 Hz in the data; the measured transfer SD fixes the rate level.
    With K = 300 inputs per mapped neuron and the condition-specific drive of the
    untrained rest, the benchmark (160 test trials) reaches 0.69 per direction at the
    recorded rates (0.24 before, K = 50 and no drive) and 0.850 with the recipe's
    ``rate_gain`` = 3 (targets 3x the recorded rates; 0.850 measured here too, 40 test
    trials); the assertions guard the rate level and 0.75.
    """
    import tomllib
    from pathlib import Path

    d = _m1_rates()
    recipe = tomllib.loads((Path(__file__).resolve().parents[1] / "models" /
                            "kimchow_m1.toml").read_text())
    net, trn = recipe["network"], recipe["training"]
    units = np.flatnonzero(d.rates.mean(axis=(0, 1)) > recipe["data"]["min_mean_rate_hz"])
    # [data] rate_gain: targets are a multiple of the recorded rates (correlation is scale-free)
    R = d.rates[:, :, units] * recipe["data"].get("rate_gain", 1.0)
    tr = RecurrentTrainer(net["n"], p=net["p"], n_trials=trn["n_trials"], reg=trn["reg"],
                          learn_every=trn["learn_every_ms"] * ms, dt=net["dt_ms"] * ms,
                          noise=net["noise_mV"] * mV, seed=net["seed"],
                          drive=trn.get("drive_mV", 0.0) * mV,
                          drive_tau=trn.get("drive_tau_ms", 100.0) * ms)
    tr.fit_rates(R, d.dt, sigma=trn["sigma_mV"] * 1e-3, rounds=trn["rounds"],
                 calibration_trials=trn["calibration_trials"], rest=trn["rest"], batch=20)
    rec = tr.run_trials(40, batch=20)
    rates = rec.binned_rates(tr.mapped_, smooth=0.025)
    corr = np.nanmean(correlations(rates, R))
    print(f"M1: per-direction rate corr {corr:.3f}; model {rates.mean():.2f} Hz, data {R.mean():.2f} Hz")
    assert 0.5 < rates.mean() / R.mean() < 2.0
    assert corr > 0.75, corr
