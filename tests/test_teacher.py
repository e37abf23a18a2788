"""Rate teacher (numpy only) and DePasquale task generators."""
import subprocess
import sys

import numpy as np
import pytest

from brianforce.analysis.population import normalised_error
from brianforce.tasks.depasquale import (classification_accuracy, classification_trials,
                                         integration_accuracy, integration_trials,
                                         oscillation_target, oscillation_trials)
from brianforce.rate.teacher import RateTeacher


def test_teacher_modules_do_not_import_brian2():
    code = ("import sys, brianforce.rate.teacher, brianforce.rate.factors, brianforce.tasks.depasquale;"
            "assert 'brian2' not in sys.modules, 'brian2 imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_oscillation_target_is_sum_of_sines_with_1s_period():
    tr = oscillation_trials(2, 1e-3, amplitude=1.0)
    t = np.arange(1000) * 1e-3
    ref = (np.sin(2 * np.pi * t) + np.sin(4 * np.pi * t) + np.sin(6 * np.pi * t)
           + np.sin(10 * np.pi * t)) / 4
    np.testing.assert_allclose(tr.targets[1, :, 0], ref, atol=1e-12)
    assert tr.continuous and tr.info["period"] == pytest.approx(1.0)
    np.testing.assert_allclose(oscillation_target(t + 1.0), oscillation_target(t), atol=1e-9)


def test_oscillation_cue_marks_the_start_of_every_period():
    tr = oscillation_trials(3, 1e-3, cue_amplitude=2.0, cue_duration=0.05)
    assert tr.info["cue_samples"] == 50
    np.testing.assert_array_equal(tr.inputs[:, :50, 0], 2.0)
    np.testing.assert_array_equal(tr.inputs[:, 50:, 0], 0.0)
    np.testing.assert_array_equal(tr.targets, oscillation_trials(3, 1e-3).targets)
    assert np.all(oscillation_trials(2, 1e-3).inputs == 0)      # default: fully autonomous
    with pytest.raises(ValueError):
        oscillation_trials(1, 1e-3, cue_amplitude=1.0, cue_duration=0.0)


def test_condition_averaged_error_averages_within_labels():
    from brianforce.experiments.depasquale import apply_overrides, condition_averaged_error

    rng = np.random.default_rng(0)
    it = integration_trials(60, 1e-3, seed=4)
    noisy = it.targets + 0.3 * rng.standard_normal(it.targets.shape)
    single = normalised_error(noisy, it.targets)
    averaged = condition_averaged_error(noisy, it.targets, it.labels)
    assert averaged < single / 5                 # independent noise averages out
    # averaging across labels would cancel the ±1 targets; within labels it does not
    assert condition_averaged_error(it.targets, it.targets, it.labels) == 0.0
    assert condition_averaged_error(-it.targets, it.targets, it.labels) == pytest.approx(4.0)
    rec = {"student": {"alpha": 1.0}}
    new = apply_overrides(rec, {"student.alpha": 0.1, "task.cue_amplitude": 2.0})
    assert new == {"student": {"alpha": 0.1}, "task": {"cue_amplitude": 2.0}}
    assert rec["student"]["alpha"] == 1.0
    with pytest.raises(Exception, match="section.key"):
        apply_overrides(rec, {"alpha": 0.1})


def test_trial_tasks_structure_and_accuracy_functions():
    it = integration_trials(40, 1e-3, seed=3)
    a, b = it.response
    assert np.all(it.inputs[:, :int(0.2 / 1e-3)] == 0)          # baseline silent
    means = it.inputs[:, 200:700, 0].mean(1)
    assert np.mean(np.sign(means) == it.labels) > 0.9         # pulse sign carries the label
    assert integration_accuracy(it.targets, it) == 1.0
    assert integration_accuracy(-it.targets, it) == 0.0
    ct = classification_trials(40, 1e-3, seed=3)
    first = np.argmax(ct.inputs[:, :, 0] > 0, axis=1) < np.argmax(ct.inputs[:, :, 1] > 0, axis=1)
    np.testing.assert_array_equal(first, ct.labels == 0)      # class 0: channel A first
    assert classification_accuracy(ct.targets, ct) == 1.0
    assert classification_accuracy(ct.targets[:, :, ::-1], ct) == 0.0
    assert set(np.unique(ct.labels)) == {0.0, 1.0}


def test_batch_fit_equals_independent_ridge_solution():
    tr = oscillation_trials(3, 1e-3)
    T = RateTeacher(40, method="batch", reg=0.5, washout=0.2, seed=2).fit(tr.inputs, tr.targets, 1e-3)
    d = T.run_driven(np.zeros((3, 1000, 1)), tr.targets, x0=T.x_init_)
    R = np.concatenate([d.rates[0, 200:], d.rates[1:].reshape(-1, 40)])
    F = np.concatenate([tr.targets[0, 200:], tr.targets[1:].reshape(-1, 1)])
    D = R @ T.J_D_.T + F @ T.u_f_.T
    A = np.vstack([R, np.sqrt(0.5) * np.eye(40)])               # ridge as augmented lstsq
    J_ref = np.linalg.lstsq(A, np.vstack([D, np.zeros((40, 40))]), rcond=None)[0].T
    W_ref = np.linalg.lstsq(A, np.vstack([F, np.zeros((40, 1))]), rcond=None)[0]
    np.testing.assert_allclose(T.J_, J_ref, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(T.W_out_, W_ref, rtol=1e-6, atol=1e-9)


def test_full_force_teacher_generates_oscillation_autonomously():
    tr = oscillation_trials(15, 1e-3)
    T = RateTeacher(80, g=1.2, reg=1.0, seed=1).fit(tr.inputs, tr.targets, 1e-3)
    run = T.run(np.zeros((2, 1000, 1)))
    assert normalised_error(run.outputs[0], tr.targets[0]) < 0.05
    # a network with zero recurrence cannot do it: the test has teeth
    assert normalised_error(np.zeros_like(run.outputs[0]), tr.targets[0]) == pytest.approx(1.0)
    # seeded: same seed, same weights
    T2 = RateTeacher(80, g=1.2, reg=1.0, seed=1).fit(tr.inputs[:2], tr.targets[:2], 1e-3)
    np.testing.assert_array_equal(T2.J_D_, T.J_D_)


@pytest.mark.parametrize("kwargs", [dict(tau=0.0), dict(tau=-1e-3), dict(reg=0.0), dict(n_units=1),
                                    dict(method="sgd"), dict(g=-1.0), dict(update_every=0)])
def test_bad_parameters_raise(kwargs):
    with pytest.raises(ValueError):
        RateTeacher(**kwargs)


def test_bad_data_raise():
    tr = oscillation_trials(1, 1e-3)
    bad = tr.targets.copy()
    bad[0, 5, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        RateTeacher(20).fit(tr.inputs, bad, 1e-3)
    with pytest.raises(ValueError):
        RateTeacher(20).fit(tr.inputs, tr.targets[:, :500], 1e-3)
    with pytest.raises(ValueError):
        RateTeacher(20).fit(tr.inputs, tr.targets, 0.0)
    with pytest.raises(RuntimeError, match="fit"):
        RateTeacher(20).run(tr.inputs)


def test_online_divergence_is_reported_and_blocks_use():
    """A vanishing ridge (P(0) = I/reg huge) makes online full-FORCE explode within the first trials (the
    update at which it does depends on round-off)."""
    from brianforce.errors import TrainingDiverged

    t = np.arange(200) * 1e-3
    f = np.sin(2 * np.pi * 5 * t)[None, :, None].repeat(3, 0)
    u = np.zeros_like(f)
    T = RateTeacher(50, reg=1e-100, seed=0)
    with pytest.raises(TrainingDiverged, match="RLS update") as info:
        T.fit(u, f, 1e-3)
    err = info.value
    assert T.diverged_ is err and err.counter == "RLS update" and 0 < err.step < 200   # 100 updates a trial
    assert err.time == pytest.approx(2e-3 * err.step) and err.sim_step == 2 * err.step   # updates every 2 ms
    assert np.max(np.abs(err.error)) > 100 * 1.0                                      # 100 amplitudes
    refusal = rf"diverged at RLS update {err.step} \(t = {err.time:.4f} s\).*allow_diverged=True"
    for call in (lambda: T.run(u), lambda: T.run_driven(u, f)):
        with pytest.raises(RuntimeError, match=refusal):
            call()
    assert T.run(u, allow_diverged=True).outputs.shape == f.shape
    assert T.run_driven(u, f, allow_diverged=True).outputs.shape == f.shape
    T.reg = 1.0                                                  # a new fit starts afresh
    assert T.fit(u, f, 1e-3).diverged_ is None and T.run(u).outputs.shape == f.shape


@pytest.mark.parametrize("method", ["full-force", "batch"])
@pytest.mark.parametrize("value", [0.0, 0.7])
def test_constant_and_zero_targets_train(method, value):
    """A constant target is learnt; a zero one is not divergence, and its error is the mean square."""
    f = np.full((2, 300, 1), value)
    u = np.zeros_like(f)
    T = RateTeacher(40, method=method, seed=3).fit(u, f, 1e-3)
    assert T.diverged_ is None and np.isfinite(T.train_error_) and T.train_error_ < 1e-3
    assert np.max(np.abs(T.run(u).outputs[-1, -50:] - value)) < 1e-2


def test_driven_run_of_a_trial_task_starts_every_trial_at_rest():
    """As in training: each trial of a trial task starts at the driven network's rest state, so
    the first sample of every trial is the same and does not depend on the trial before."""
    tr = integration_trials(4, 1e-3, seed=0)
    teacher = RateTeacher(60, seed=1).fit(tr.inputs, tr.targets, 1e-3, continuous=False)
    drv = teacher.run_driven(tr.inputs, tr.targets)
    np.testing.assert_allclose(drv.rates[:, 0], np.repeat(drv.rates[:1, 0], 4, axis=0), atol=1e-12)
    again = teacher.run_driven(tr.inputs[2:], tr.targets[2:])
    np.testing.assert_allclose(again.rates, drv.rates[2:], atol=1e-12)
