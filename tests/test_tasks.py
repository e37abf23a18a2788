import numpy as np
import pytest

from brianforce.analysis.metrics import dominant_frequency, lag_adjusted_correlation, normalised_rmse
from brianforce.tasks import make_task, sawtooth, sinusoid, sum_of_sinusoids, van_der_pol


def test_sinusoid_values_and_period():
    task = sinusoid(5.0, 2.0)
    t = np.array([0.0, 0.05, 0.1])
    np.testing.assert_allclose(task(t)[:, 0], [0.0, 2.0, 0.0], atol=1e-12)
    assert task.period == pytest.approx(0.2) and task.amplitude == pytest.approx(2.0, rel=1e-4)


def test_van_der_pol_is_a_periodic_limit_cycle_of_the_ode():
    task = van_der_pol(mu=1.0, frequency=2.0)
    t = np.linspace(0, 3, 30001)
    y = task(t)
    assert y.shape == (30001, 2)
    np.testing.assert_allclose(task(t + 0.5), y, atol=1e-6)          # period 1/f
    np.testing.assert_allclose(y.min(0), -1, atol=1e-3)
    np.testing.assert_allclose(y.max(0), 1, atol=1e-3)
    # the Liénard variable y integrates x: dy/dt ∝ x
    dy = np.gradient(y[:, 1], t)
    assert np.corrcoef(dy, y[:, 0])[0, 1] > 0.999
    assert dominant_frequency(y, t[1] - t[0]) == pytest.approx([2.0, 2.0], rel=1e-3)


def test_sum_of_sines_and_sawtooth():
    assert sum_of_sinusoids((1, 2, 3, 5)).period == 1.0
    saw = sawtooth(4.0)
    np.testing.assert_allclose(saw(np.array([0.0, 0.125]))[:, 0], [-1.0, 0.0])


def test_bad_task_parameters():
    with pytest.raises(ValueError):
        sinusoid(frequency=-1)
    with pytest.raises(ValueError, match="unknown task"):
        make_task("lorenz")


def test_metrics_against_hand_computed_values():
    t = np.arange(0, 1, 1e-3)
    y = np.sin(2 * np.pi * 5 * t)[:, None]
    z = np.sin(2 * np.pi * 5 * (t - 0.01))[:, None]
    corr, lag = lag_adjusted_correlation(z, y, 20)
    assert corr[0] > 0.9999 and lag[0] == 10
    np.testing.assert_allclose(normalised_rmse(0.9 * y, y), [0.1 / np.sqrt(2)], rtol=1e-3)
    assert dominant_frequency(y, 1e-3)[0] == pytest.approx(5.0, rel=1e-3)


# -- the trial container ------------------------------------------------------------------
from brianforce.tasks import Trials, current_targets  # noqa: E402


def _trials(n=3, T=4, M=2, Q=1, **kw):
    rng = np.random.default_rng(0)
    return Trials(rng.standard_normal((n, T, M)), rng.standard_normal((n, T, Q)), 0.01, **kw)


def test_trials_shapes_properties_and_subset():
    tr = _trials(labels=np.array([0.0, 1.0, 0.0]), response=(1, 4), name="demo", info={"a": 1})
    assert (tr.n_trials, tr.n_steps, tr.n_inputs, tr.n_outputs) == (3, 4, 2, 1)
    assert tr.duration == pytest.approx(0.04) and tr.continuous is False and tr.neurons is None
    sub = tr.subset(tr.labels == 0)
    assert isinstance(sub, Trials) and sub.n_trials == 2 and sub.name == "demo" and sub.response == (1, 4)
    np.testing.assert_array_equal(sub.inputs, tr.inputs[[0, 2]])
    one = tr.subset(1)
    assert one.inputs.shape == (1, 4, 2) and one.labels.tolist() == [1.0]
    sub.info["b"] = 2
    assert "b" not in tr.info
    with pytest.raises(AttributeError):
        tr.dt = 1.0                                          # frozen


@pytest.mark.parametrize("change, match", [
    (dict(inputs=np.zeros((3, 4))), "inputs must have shape"),
    (dict(targets=np.zeros((3, 4))), "targets must have shape"),
    (dict(targets=np.zeros((3, 5, 1))), "agree"),
    (dict(inputs=np.full((3, 4, 2), np.inf)), "inputs contain NaN"),
    (dict(targets=np.full((3, 4, 1), np.nan)), "targets contain NaN"),
    (dict(dt=0.0), "dt must be"),
    (dict(dt=float("nan")), "dt must be"),
    (dict(labels=[0, 1]), "labels must have shape"),
    (dict(response=(3, 9)), "response"),
    (dict(response=5), "response"),
    (dict(neurons=[0, 1]), "neurons: 2 indices"),
    (dict(targets=np.zeros((3, 4, 2)), neurons=[4, 4]), "neurons must be unique"),
    (dict(targets=np.zeros((3, 4, 2)), neurons=[-1, 4]), "neurons must be unique"),
])
def test_trials_validation_names_the_field(change, match):
    kw = dict(inputs=np.zeros((3, 4, 2)), targets=np.zeros((3, 4, 1)), dt=1e-3)
    kw.update(change)
    with pytest.raises(ValueError, match=match):
        Trials(**kw)


def test_trials_refuse_quantities_and_take_them_through_from_units():
    from brian2 import DimensionMismatchError, mV, ms

    with pytest.raises(TypeError, match="from_units"):
        Trials(np.zeros((1, 3, 0)), np.zeros((1, 3, 1)), 1 * ms)
    tr = Trials.from_units(np.zeros((1, 3, 0)), np.full((1, 3, 2), 5.0) * mV, 0.5 * ms, target_unit=mV,
                           neurons=[2, 0])
    np.testing.assert_allclose(tr.targets, 5e-3)
    assert tr.dt == pytest.approx(5e-4) and tr.neurons.tolist() == [2, 0]
    with pytest.raises(DimensionMismatchError):
        Trials.from_units(np.zeros((1, 3, 0)), np.zeros((1, 3, 1)) * mV, 1 * ms)


def test_current_targets_have_no_inputs_and_name_their_neurons():
    tr = current_targets(np.ones((10, 3)) * 1e-3, 1e-3, [7, 1, 4])
    assert tr.inputs.shape == (1, 10, 0) and tr.targets.shape == (1, 10, 3) and tr.n_inputs == 0
    assert tr.neurons.dtype == np.int64 and tr.neurons.tolist() == [7, 1, 4]
    with pytest.raises(ValueError, match="values must have shape"):
        current_targets(np.zeros(10), 1e-3, [0])


def test_trials_to_frame_is_long_and_complete():
    tr = _trials(n=2, T=3, M=2, Q=1)
    f = tr.to_frame()
    assert list(f.columns) == ["trial", "time_s", "channel", "kind", "value"]
    assert len(f) == 2 * 3 * (2 + 1)
    inp = f[f.kind == "input"]
    back = inp.sort_values(["trial", "time_s", "channel"])["value"].to_numpy().reshape(2, 3, 2)
    np.testing.assert_array_equal(back, tr.inputs)
    row = f[(f.kind == "target") & (f.trial == 1) & (f.channel == 0)]
    np.testing.assert_allclose(row.time_s, [0.0, 0.01, 0.02])
    np.testing.assert_array_equal(row.value, tr.targets[1, :, 0])
    empty = current_targets(np.zeros((4, 2)), 1e-3, [0, 1]).to_frame()
    assert set(empty.kind) == {"target"} and len(empty) == 8


def test_every_trial_task_returns_trials():
    from brianforce.datasets import load_reaching_emg, synthetic_path
    from brianforce.tasks import (GoNoGo, classification_trials, integration_trials, oscillation_trials,
                                  pattern_targets, reaching_trials)

    made = [oscillation_trials(2), integration_trials(2), classification_trials(2),
            GoNoGo().sample(2, np.random.default_rng(0)),
            pattern_targets(np.zeros((5, 2)), 0.0, 1e-3, 1e-3, [0, 3]),
            reaching_trials(load_reaching_emg(synthetic_path("reaching_emg")), dt=0.01)]
    for tr in made:
        assert isinstance(tr, Trials) and tr.targets.ndim == 3


def test_classification_target_rises_over_the_delay_and_holds_through_the_response():
    from brianforce.tasks import classification_trials

    dt, nb, npul, ng, nd, nr = 1e-3, 200, 100, 100, 100, 300
    trials = classification_trials(4, dt, baseline=nb * dt, pulse=npul * dt, gap=ng * dt, delay=nd * dt,
                                   response=nr * dt)
    t0 = nb + 2 * npul + ng                        # end of the second pulse
    assert trials.response == (t0 + nd, t0 + nd + nr)
    for k, c in enumerate(trials.labels.astype(int)):
        y = trials.targets[k, :, c]
        assert np.all(y[:t0] == 0) and np.all(trials.targets[k, :, 1 - c] == 0)
        rise = y[t0:t0 + nd]
        np.testing.assert_allclose(rise, np.sin(np.pi / 2 * np.arange(1, nd + 1) / nd) ** 2, rtol=0, atol=1e-15)
        assert np.all(y[t0 + nd:] == 1.0)
        assert np.max(np.diff(y)) < 0.03          # no step: the largest increment of a 100-sample sin² rise
