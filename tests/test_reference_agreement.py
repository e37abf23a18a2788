"""The Brian2 FORCE trainer against the independent numpy reference loop."""
import numpy as np
from brian2 import ms, second

from brianforce.networks.reference import numpy_force_lif
from brianforce.tasks import sinusoid
from brianforce.methods.force import FORCETrainer


def test_brian2_matches_numpy_reference_spike_for_spike():
    task = sinusoid(5.0)
    tr = FORCETrainer(200, seed=3, record_dt=0.05 * ms, n_record=200, device="runtime")
    tr.fit(task, settle=40 * ms, train=60 * ms)
    test = tr.predict(20 * ms)
    weights, eta, v0 = tr._draw_structure()
    ref = numpy_force_lif(weights, eta, v0, lif=tr.config.lif, dt=tr.config.dt, settle=0.04, train=0.06,
                          test=0.02, task=task, reg=tr.config.reg, rls_every=50, record_every=1)
    # identical spikes over the whole 120 ms (settle + 24 RLS updates + free run)
    b_i = np.concatenate([np.zeros(0, int), test.spike_i])
    assert len(ref.spike_t) > 200
    # compare the test-phase spikes and the decoder after training
    m = ref.spike_t >= 0.1 - 1e-12
    ref_pairs = sorted(zip(np.round(ref.spike_t[m] / tr.config.dt).astype(int), ref.spike_i[m]))
    b_pairs = sorted(zip(np.round(test.spike_t / tr.config.dt).astype(int), b_i))
    assert ref_pairs == b_pairs
    np.testing.assert_allclose(tr.decoder_ / second, ref.phi, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(tr.history_.errors, ref.errors, rtol=1e-6, atol=1e-9)
    z_ref = ref.z[np.round(ref.t / tr.config.dt).astype(int) >= 2000]
    np.testing.assert_allclose(test.z, z_ref, rtol=1e-6, atol=1e-9)


def test_reference_run_takes_the_trainers_normalised_update():
    from brianforce.networks.reference import run_reference_like

    task = sinusoid(5.0)
    tr = FORCETrainer(100, normalised=True, alpha=5e-3, seed=1, device="runtime")
    ref, _, _ = run_reference_like(tr, task, settle=0.05, train=0.05, test=0.2)
    w, eta, v0 = tr._draw_structure()
    c = tr.config
    kw = dict(lif=c.lif, dt=c.dt, settle=0.05, train=0.05, test=0.0, task=task, reg=c.reg,
              rls_every=int(round(c.rls_interval / c.dt)))
    np.testing.assert_array_equal(ref.phi, numpy_force_lif(w, eta, v0, normalised=True, **kw).phi)
    assert not np.allclose(ref.phi, numpy_force_lif(w, eta, v0, normalised=False, **kw).phi)
