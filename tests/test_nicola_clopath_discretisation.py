"""Nicola & Clopath's LIF network in their MATLAB discretisation: Brian2 (+ FORCE) against
the numpy transcription of their loop, spike for spike, at reduced N."""
import subprocess
import sys

import numpy as np
import pytest
import brian2
from brian2 import Network, SpikeMonitor, StateMonitor, ms, second, volt

from brianforce.networks.connectivity import feedback_weights, static_weights
from brianforce.learning import FORCE, attach_readout
from brianforce.networks import nicola_clopath_loop, nicola_clopath_network, refractory_steps
from brianforce.neurons import LIFParams
from brianforce.tasks import sinusoid

N = 200
DT = 5e-5


@pytest.fixture(scope="module")
def structure():
    """ω, E, v0 drawn once in numpy (N&C: G = 0.04 mV·s, p = 0.1, Q = 10 mV, v0 ~ U(−65, 30) mV)."""
    rng = np.random.default_rng(3)
    weights = static_weights(N, 0.1, 0.04e-3, rng)
    E = feedback_weights(N, 1, 10e-3, rng)
    v0 = -65e-3 + rng.random(N) * 95e-3
    phi = rng.standard_normal((N, 1)) / (10 * np.sqrt(N))
    return weights, E, v0, phi


def _brian2_spikes(smon):
    """(loop step, neuron) of Brian2's spikes, sorted as the loop finds them."""
    step = np.round(np.asarray(smon.t_) / DT).astype(np.int64) + 1
    i = np.asarray(smon.i[:]).astype(np.int64)
    order = np.lexsort((i, step))
    return step[order], i[order]


def test_no_learning_fixed_decoder_same_spikes_for_2_s(structure):
    brian2.prefs.codegen.target = "cython"
    weights, E, v0, phi = structure
    loop = nicola_clopath_loop(weights, E, v0, settle=2.0, phi0=phi)

    neurons, synapses = nicola_clopath_network(weights, v0, dt=DT * second)
    ro = attach_readout(neurons, "r", 1, feedback="I_fb", encoders=E * volt, name="nc_fixed")
    ro.decoder_view()[:] = phi
    smon = SpikeMonitor(neurons)
    zmon = StateMonitor(ro.readout, "z", record=True, when="end", order=6)
    Network(neurons, synapses, *ro.objects, smon, zmon).run(2 * second)

    step, i = _brian2_spikes(smon)
    assert len(loop.spike_i) > 5000                       # ~24 Hz: a real test of 40000 steps
    np.testing.assert_array_equal(step, loop.spike_step)
    np.testing.assert_array_equal(i, loop.spike_i)
    # the feedback acted: z is O(1) and the two agree to round-off (observed 6e-15)
    assert np.abs(loop.z).max() > 1
    np.testing.assert_allclose(np.asarray(zmon.z[0]), loop.z[:, 0], rtol=0, atol=1e-12)
    # N&C's start: tlast = 0, so neurons at v0 >= vpeak fire on step 1, the others not before step 41
    above = v0 >= LIFParams().v_th
    first = {n: s for s, n in zip(loop.spike_step[::-1], loop.spike_i[::-1])}
    assert above.any() and all(first[n] == 1 for n in np.flatnonzero(above))
    assert min(first[n] for n in np.flatnonzero(~above) if n in first) >= 41


def test_rls_spikes_errors_and_decoders_match(structure):
    brian2.prefs.codegen.target = "cython"
    weights, E, v0, _ = structure
    task = sinusoid(5.0)
    settle, train = 0.1, 0.1                               # 40 RLS updates
    loop = nicola_clopath_loop(weights, E, v0, task, settle=settle, train=train, alpha=5e-6, interval=2.5e-3,
                               record_decoders=True)

    neurons, synapses = nicola_clopath_network(weights, v0, dt=DT * second)
    smon = SpikeMonitor(neurons)
    force = FORCE(neurons, regressor="r", feedback="I_fb", encoders=E * volt, network=Network(neurons, synapses, smon),
                  alpha=5e-6, normalised=False, interval=2.5 * ms)
    force.fit(task, settle=settle * second, train=train * second)

    # updates at MATLAB's steps i = 2001, 2051, ... (mod(i, 50) == 1), error against y(i·dt)
    assert len(loop.update_steps) == 40 and loop.update_steps[0] == 2001
    np.testing.assert_allclose(force.history_.times, loop.update_steps * DT, rtol=1e-12)
    step, i = _brian2_spikes(smon)
    assert len(step) > 500
    np.testing.assert_array_equal(step, loop.spike_step)
    np.testing.assert_array_equal(i, loop.spike_i)
    assert np.abs(loop.errors).max() > 0.1
    np.testing.assert_allclose(force.history_.errors, loop.errors, rtol=0, atol=1e-13)   # observed 6e-16
    phi = np.asarray(force.decoder_ / second)
    scale = np.abs(loop.phi).max()
    assert scale > 0 and np.abs(phi - loop.phi).max() <= 1e-12 * scale                   # observed 1.3e-15
    np.testing.assert_array_equal(loop.decoders[-1], loop.phi)


# ---------------------------------------------------------------- the loop alone (numpy, fast)

def test_loop_rls_schedule_is_matlabs():
    # imin = 1000, icrit = 2000: RLS where mod(i, 50) == 1 and imin < i < icrit
    out = nicola_clopath_loop(np.zeros((2, 2)), np.zeros((2, 1)), np.full(2, -0.065), sinusoid(5.0),
                              settle=0.05, train=0.05, test=0.01)
    i = np.arange(1, 2201)
    np.testing.assert_array_equal(out.update_steps, i[(i % 50 == 1) & (i > 1000) & (i < 2000)])
    assert out.z.shape == (2200, 1) and out.errors.shape == (20, 1) and out.decoders is None


def test_loop_refractory_start_and_period():
    lif = LIFParams()
    # one neuron above threshold at t = 0, one below; a strong constant drive, no coupling
    high = LIFParams(bias=0.5)
    out = nicola_clopath_loop(np.zeros((2, 2)), np.zeros((2, 1)), np.array([-0.03, -0.065]), settle=0.01,
                              lif=high)
    s0 = out.spike_step[out.spike_i == 0]
    assert s0[0] == 1 and np.all(np.diff(s0) >= 42)   # spikes at j, integrates from j + 41: next >= j + 42
    assert out.spike_step[out.spike_i == 1][0] >= 42
    assert refractory_steps(lif.tau_ref, DT) == 40 and refractory_steps(1.975e-3, DT) == 39
    assert refractory_steps(0.0, DT) == 0


def test_loop_matlab_refractory_rounding_differs_and_sparse_equals_dense(structure):
    weights, E, v0, phi = structure
    a = nicola_clopath_loop(weights, E, v0, settle=0.3, phi0=phi)
    b = nicola_clopath_loop(weights.dense(), E, v0, settle=0.3, phi0=phi)
    np.testing.assert_array_equal(a.spike_step, b.spike_step)
    np.testing.assert_array_equal(a.z, b.z)
    # MATLAB's dt*i > tlast + tref lets some neurons out of refractoriness a step early
    m = nicola_clopath_loop(weights, E, v0, settle=0.3, phi0=phi, refractory="matlab")
    assert len(m.spike_step) != len(a.spike_step) or np.any(m.spike_step != a.spike_step)
    with pytest.raises(ValueError, match="refractory"):
        nicola_clopath_loop(weights, E, v0, settle=0.01, refractory="float")


def test_loop_module_does_not_import_brian2():
    code = ("import sys, brianforce.networks.nicola_clopath_loop; "
            "sys.exit('brian2' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_builder_checks_v0_shape(structure):
    weights, *_ = structure
    with pytest.raises(ValueError, match="v0"):
        nicola_clopath_network(weights, np.zeros(N + 1), dt=DT * second)
