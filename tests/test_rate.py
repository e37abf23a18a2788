import numpy as np
import pytest

from brianforce.analysis.metrics import lag_adjusted_correlation, normalised_rmse
from brianforce.networks.connectivity import feedback_weights, static_weights
from brianforce.rate.networks import LIFRateNetwork, TanhForceNetwork
from brianforce.seeding import rng_for
from brianforce.tasks import sinusoid, sum_of_sinusoids
from brianforce.methods.force import TrainingDiverged


def test_tanh_force_network_learns_sum_of_sines():
    task = sum_of_sinusoids((1, 2, 3, 5))
    net = TanhForceNetwork(400, rng=rng_for(0, "teacher")).fit(task, settle=0.5, train=6.0)
    res = net.predict(2.0)
    assert normalised_rmse(res.z, res.target)[0] < 0.1
    # the network was chaotic before training (g = 1.5)
    assert net.g > 1


def test_lif_rate_network_trains_with_identical_hyperparameters():
    n = 400
    w = static_weights(n, 0.1, 0.04e-3, rng_for(0, "connectivity"))
    eta = feedback_weights(n, 1, 10e-3, rng_for(0, "encoders"))
    net = LIFRateNetwork(w, eta, dt=2e-4, rls_every=12, reg=2e5,
                         initial_rates=rng_for(0, "initial_state").random(n) * 20)
    net.fit(sinusoid(5.0), settle=0.3, train=3.0)
    res = net.predict(1.0)
    corr, _ = lag_adjusted_correlation(res.z, res.target, 100)
    assert corr[0] > 0.9


def test_rate_network_divergence_is_reported():
    n = 100
    w = static_weights(n, 0.2, 0.04e-3, rng_for(1, "connectivity"))
    eta = feedback_weights(n, 1, 10e-3, rng_for(1, "encoders"))
    net = LIFRateNetwork(w, eta, dt=2e-4, rls_every=5, reg=1e-3,
                         initial_rates=np.full(n, 10.0))
    with pytest.raises(TrainingDiverged) as info:
        net.fit(sinusoid(5.0), settle=0.0, train=1.0)
    err = info.value
    # every 5 steps of 0.2 ms: update k at t = (5k + 1) 0.2 ms
    assert net.diverged_ is err and err.step == net.rls_.n_updates and err.sim_step == 5 * err.step + 1
    assert err.time == pytest.approx(2e-4 * err.sim_step) and np.max(np.abs(err.error)) > 100 * 1.0
    with pytest.raises(RuntimeError, match=rf"diverged at RLS update {err.step} .*allow_diverged=True"):
        net.predict(0.01)
    assert net.predict(0.01, allow_diverged=True).z.shape == (5, 1)      # one sample in 10 steps


@pytest.mark.parametrize("value", [0.0, 0.5])
def test_constant_target_is_not_divergence(value):
    """A zero or constant target has no amplitude: errors are judged against its magnitude (or 1)."""
    from brianforce.tasks import Task

    task = Task("constant", 1, lambda t: np.full((len(t), 1), value))
    net = TanhForceNetwork(100, rng=rng_for(0, "teacher")).fit(task, settle=0.1, train=0.5)
    assert net.diverged_ is None and net.train_result_.errors.shape == (250, 1)
    assert np.abs(net.predict(0.2).z[-50:] - value).max() < 0.05
