"""The Brian2 LIF model against the analytic f–I curve; the matched rate network against it."""
import numpy as np
import pytest
from brian2 import Network, SpikeMonitor, mV, ms, second

from brianforce.networks.connectivity import SparseWeights, static_weights, feedback_weights
from brianforce.neurons import LIFParams, lif_rate
from brianforce.rate.networks import LIFRateNetwork
from brianforce.seeding import rng_for
from brianforce.networks.force_lif import build_force_network
from brianforce.tasks import sinusoid


def test_lif_rate_formula_properties():
    p = LIFParams()
    assert lif_rate(np.array([-0.05, -0.04]), p).tolist() == [0.0, 0.0]
    # large drive saturates at 1/tau_ref
    assert lif_rate(np.array([1e6]), p)[0] == pytest.approx(1 / p.tau_ref, rel=1e-3)
    # hand-computed: I = -30 mV -> 1/(2 ms + 10 ms ln(35/10))
    assert lif_rate(np.array([-0.03]), p)[0] == pytest.approx(1 / (0.002 + 0.01 * np.log(3.5)))
    with pytest.raises(ValueError):
        LIFParams(tau_m=0)


def test_brian2_lif_rate_matches_analytic_fi_curve_within_5_percent():
    n = 40
    currents = np.linspace(-39e-3, 20e-3, n)
    empty = static_weights(n, 0.1, 0.0, rng_for(0, "connectivity"))      # all-zero weights
    lif = LIFParams()
    net_objs = build_force_network(empty, np.zeros((n, 1)), np.zeros((n, 1)), lif=lif,
                                   v0=np.full(n, lif.v_reset), dt=0.05 * ms, name="fi")
    net_objs.neurons.I_bias = currents * 1e3 * mV
    mon = SpikeMonitor(net_objs.neurons)
    net = Network(*net_objs.objects, mon)
    net.run(2 * second, namespace={})
    trains = mon.spike_trains()
    measured = np.array([1 / np.mean(np.diff(trains[i] / second)) if len(trains[i]) > 2 else 0.0
                         for i in range(n)])
    expected = lif_rate(currents, lif)
    assert np.all(expected > 5)
    np.testing.assert_allclose(measured, expected, rtol=0.05)


def test_matched_rate_network_predicts_lif_population_rate():
    """Suprathreshold drive, weak coupling: the instantaneous rate network's fixed point
    predicts the spiking network's per-neuron and population rates."""
    n, seed = 300, 4
    lif = LIFParams(bias=-30e-3)
    weights = static_weights(n, 0.1, 0.02e-3, rng_for(seed, "connectivity"))
    eta = feedback_weights(n, 1, 10e-3, rng_for(seed, "encoders"))
    phi = np.zeros((n, 1))
    rng = rng_for(seed, "initial_state")
    spk = build_force_network(weights, eta, phi, lif=lif, v0=lif.v_reset + rng.random(n) * 25e-3,
                              dt=0.05 * ms, name="match")
    bias = rng.uniform(-36e-3, -24e-3, n)
    spk.neurons.I_bias = bias * 1e3 * mV
    mon = SpikeMonitor(spk.neurons)
    net = Network(*spk.objects, mon)
    net.run(0.3 * second, namespace={})
    start = mon.num_spikes
    net.run(2 * second, namespace={})
    counts = np.bincount(np.asarray(mon.i[start:]), minlength=n) / 2.0
    rate_net = LIFRateNetwork(weights, eta, lif=lif, initial_rates=np.full(n, 50.0), bias=bias)
    rate_net.task_ = sinusoid()          # free running from phi = 0: z = 0
    rate_net.predict(0.3)
    predicted = rate_net.rates()
    assert counts.mean() == pytest.approx(predicted.mean(), rel=0.05)
    assert np.corrcoef(counts, predicted)[0, 1] > 0.95
    uncoupled = lif_rate(bias, lif)
    # the recurrent input matters: the rate network beats the uncoupled f-I prediction
    assert np.abs(counts - predicted).mean() < 0.5 * np.abs(counts - uncoupled).mean()
