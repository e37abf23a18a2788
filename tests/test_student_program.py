"""A factor student trained as one compiled program against the same student trained at runtime.

Both paths run the same trials from the same numpy draws (update times, forcing noise, rest-state
jitter), so the learned readouts, their ``P``, the bias, the rest state, the learning curve and what
the student does afterwards agree to round-off, and a divergence is reported in the same trial.
"""
import numpy as np
import pytest
from brian2 import ms

from brianforce.devices.force_program import compiler_available
from brianforce.devices.student_program import PHASES, plan_student_training
from brianforce.errors import TrainingDiverged
from brianforce.methods.factor_student import DaleSettings, FactorStudent, StudentSchedule, recipe_student_kwargs
from brianforce.seeding import rng_for

needs_compiler = pytest.mark.skipif(not compiler_available(), reason="needs make and a C++ compiler")

T = 200     # 200-ms trials at 1-ms samples


def _task(n_trials=2):
    t = np.arange(T) * 1e-3
    y = np.stack([np.sin(2 * np.pi * (p + 1) * 5 * t + k) * 2 for k in range(n_trials) for p in range(3)], 1)
    y = y.reshape(T, n_trials, 3).transpose(1, 0, 2)
    x = np.zeros((n_trials, T, 1))
    x[1:, 20:40] = 1.0                                     # an input pulse in the second trial
    return x, y, y[:, :, :1]


def _fit(device, rest_step=20, **schedule):
    kw = dict(n_forced=1, n_mean=2, n_rls=3, forcing_noise=0.5, forcing_noise_tau=20 * ms, n_closed_loop=1)
    st = FactorStudent(120, schedule=StudentSchedule(**{**kw, **schedule}), seed=4, device=device)
    x, y, f = _task()
    try:
        st.fit(x, y, f, 1 * ms, rest_step=rest_step)
    except TrainingDiverged as exc:
        return st, exc
    return st, None


def _close(a, b, rtol=1e-9):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape
    assert np.max(np.abs(a - b)) <= rtol * max(np.max(np.abs(a)), 1e-300)


@needs_compiler
def test_compiled_training_equals_the_runtime_training_to_round_off():
    rt, _ = _fit("runtime")
    pg, _ = _fit("cpp_standalone")
    assert pg.timings_["compile_s"] > 0 and pg.timings_["run_s"] > 0 and pg.timings_["fit_s"] > 0
    for a, b in ((rt.w_, pg.w_), (rt.W_out_, pg.W_out_), (rt.I_bias_, pg.I_bias_),
                 (rt._loop.rls_w.P, pg._loop.rls_w.P), (rt._loop.rls_out.P, pg._loop.rls_out.P),
                 (rt.train_errors_, pg.train_errors_), (rt._loop._eps, pg._loop._eps)):
        _close(a, b)
    assert rt._loop.n_updates == pg._loop.n_updates > 0
    assert (rt.device_, pg.device_) == ("runtime", "cpp_standalone")
    assert rt.mean_rate_ == pytest.approx(pg.mean_rate_, rel=1e-12)
    for k, v in rt._loop.rest.items():
        _close(v, pg._loop.rest[k])
    # the runtime loop carries on from the program's end: the same closed-loop test and spikes
    x = _task()[0]
    a, b = rt.predict(x), pg.predict(x)
    _close(a.outputs, b.outputs)
    _close(a.rates, b.rates)
    np.testing.assert_array_equal(a.spike_i, b.spike_i)
    # and the generators continue where the runtime path left them
    assert rt._loop.rest_rng.random() == pg._loop.rest_rng.random()


@needs_compiler
@pytest.mark.parametrize("schedule", [dict(update_times="regular", teacher_forced_rls=False, forcing_noise=0.0)])
def test_compiled_training_without_rest_state_or_noise(schedule):
    rt, _ = _fit("runtime", rest_step=None, **schedule)
    pg, _ = _fit("cpp_standalone", rest_step=None, **schedule)
    _close(rt.w_, pg.w_)
    _close(rt.train_errors_, pg.train_errors_)
    assert rt._loop.rest is None and pg._loop.rest is None


@needs_compiler
def test_compiled_training_reports_a_divergence_in_the_same_trial():
    rt, bad_rt = _fit("runtime", divergence_threshold=1e-12)
    pg, bad_pg = _fit("cpp_standalone", divergence_threshold=1e-12)
    assert isinstance(bad_pg, TrainingDiverged) and pg.diverged_ is bad_pg
    assert bad_pg.step == bad_rt.step == 1 and bad_pg.counter == "RLS trial"
    assert bad_pg.time == pytest.approx(bad_rt.time, abs=1e-9)
    _close(rt.train_errors_, pg.train_errors_)
    with pytest.raises(RuntimeError, match="allow_diverged=True"):
        pg.predict(np.zeros((1, 20, 1)))


def test_the_plan_draws_as_the_runtime_loop_does():
    sched = StudentSchedule(n_forced=2, n_mean=1, n_rls=3, forcing_noise=0.2, n_closed_loop=1,
                            teacher_forced_rls=True)
    y = np.ones((2, 10, 3))
    gens = [rng_for(7, name) for name in ("schedule", "noise", "rest")]
    plan = plan_student_training(sched, 2, 10, y, np.ones(3), 1e-3, 4, 1.0, 5, *gens, np.zeros(3))
    assert plan.phase.size == (2 * 2 + 1 + 3) * 10
    assert [p for p, _ in plan.trials] == ["forced", "forced", "mean", "forced", "forced", "rls", "rls", "rls"]
    assert [j for _, j in plan.trials] == [0, 1, 0, 1, 0, 1, 0, 1]          # trials cycle through the task
    np.testing.assert_array_equal(plan.phase[50:70], PHASES["rls-forced"])  # teacher-forced RLS trials
    np.testing.assert_array_equal(plan.phase[70:], PHASES["rls"])           # the closed-loop one
    assert plan.bias_at == 30 and plan.rls_start == 70 and np.flatnonzero(plan.snapshot).tolist() == [44]
    assert np.flatnonzero(plan.restore >= 0).tolist() == [50, 60, 70] and plan.jitter.shape == (3, 5)
    assert plan.trial_end[[59, 69, 79]].tolist() == [0, 1, 2] and np.all(plan.denominators == 30)
    assert plan.perturb.shape == (30, 3) and np.all(plan.perturb_row[:50] == -1)
    # one draw per RLS operation from each generator, as the runtime loop's hook makes them, from copies
    fresh = [rng_for(7, name) for name in ("schedule", "noise", "rest")]
    np.testing.assert_array_equal(plan.update[50:], fresh[0].random(30) < 1e-3 / 2e-3)
    assert plan.generators[1].random() == (fresh[1].standard_normal((30, 3)), fresh[1].random())[1]
    assert plan.generators[2].random() == (fresh[2].uniform(-1e-3, 1e-3, (3, 5)), fresh[2].random())[1]
    assert [g.random() for g in gens] == [rng_for(7, name).random() for name in ("schedule", "noise", "rest")]


def test_device_is_checked_and_read_from_recipes():
    with pytest.raises(ValueError, match="device must be one of"):
        FactorStudent(120, device="cuda")
    with pytest.raises(ValueError, match="Dale's law trains at runtime only"):
        FactorStudent(120, dale=DaleSettings(), device="cpp_standalone")
    assert recipe_student_kwargs({"device": "cpp_standalone"})["device"] == "cpp_standalone"
    assert FactorStudent(120).device == "runtime"


def test_auto_trains_with_dale_at_runtime_and_falls_back_when_the_program_does_not_compile(monkeypatch):
    from brianforce.devices import activation
    from brianforce.devices import student_program

    x, y, f = _task(1)
    sched = StudentSchedule(n_forced=1, n_mean=1, n_rls=1)
    st = FactorStudent(120, schedule=sched, dale=DaleSettings(), seed=4, device="auto").fit(x, y, f, 1 * ms)
    assert st.device_ == "runtime"

    def broken(*args, **kwargs):
        raise activation.CompilationFailed("no compiler here")
    monkeypatch.setattr(student_program, "run_student_program", broken)
    auto = FactorStudent(120, schedule=sched, seed=4, device="auto").fit(x, y, f, 1 * ms)
    ref = FactorStudent(120, schedule=sched, seed=4).fit(x, y, f, 1 * ms)
    assert auto.device_ == ref.device_ == "runtime"
    np.testing.assert_array_equal(auto.w_, ref.w_)         # the generators were left as they were
    with pytest.raises(activation.CompilationFailed):
        FactorStudent(120, schedule=sched, seed=4, device="cpp_standalone").fit(x, y, f, 1 * ms)


@needs_compiler
def test_train_command_trains_a_depasquale_recipe_as_a_compiled_program(tmp_path):
    import json

    from brianforce.experiments.cli import main
    from brianforce.experiments.recipes import recipe_path

    text = recipe_path("depasquale_integration").read_text()
    small = text
    for old, new in (("n_train = 100", "n_train = 10"), ("n_test = 100", "n_test = 4"),
                     ("n_student_train = 40", "n_student_train = 2"), ("n_units = 200", "n_units = 50"),
                     ("n_neurons = 600", "n_neurons = 120"), ("n_forced = 5", "n_forced = 1"),
                     ("n_mean = 10", "n_mean = 2"), ("n_rls = 60", "n_rls = 2")):
        assert small.count(old) == 1
        small = small.replace(old, new)
    recipe = tmp_path / "small.toml"
    recipe.write_text(small)
    assert main(["train", str(recipe), "--device", "cpp_standalone", "--out", str(tmp_path / "out")]) == 0
    student = json.loads((tmp_path / "out" / "summary.json").read_text())["student"]
    assert student["train_device"] == "cpp_standalone"
    assert {"fit_s", "compile_s", "run_s"} <= set(student["train_timings_s"])
