"""Fast checks of the DePasquale recipe driver's evaluation helpers."""
import numpy as np
import pytest

from brianforce.experiments.depasquale import phase_aligned_errors, signed_lags


def test_phase_lag_sign_and_aligned_error():
    t = np.arange(1000) * 1e-3
    f = (np.sin(2 * np.pi * t) + 0.5 * np.sin(2 * np.pi * 3 * t))[:, None]
    delayed = np.roll(f, 7, axis=0)          # z(t) = f(t - 7 ms): the output runs behind
    early = np.roll(f, -4, axis=0)
    err, shifts = phase_aligned_errors(np.stack([delayed, early, f]), np.stack([f, f, f]),
                                       return_shifts=True)
    np.testing.assert_array_equal(signed_lags(shifts, 1000), [7, -4, 0])
    np.testing.assert_allclose(err, 0, atol=1e-20)   # exact after undoing the shift


def test_circular_lag_of_shifted_multichannel_signals():
    """The lag is found jointly over channels, is signed (positive = behind) and wraps around."""
    from brianforce.analysis.metrics import circular_lag

    t = np.arange(500) * 2e-3
    f = np.stack([np.sin(2 * np.pi * t), np.cos(2 * np.pi * 2 * t), np.sin(2 * np.pi * 5 * t)], 1)
    for lag in (0, 1, 13, -40, 249, -250):
        assert circular_lag(np.roll(f, lag, axis=0), f) == lag
    noisy = np.roll(f, 9, axis=0) + 0.2 * np.random.default_rng(0).standard_normal(f.shape)
    assert circular_lag(noisy, f) == 9
    np.testing.assert_raises(ValueError, circular_lag, f, f[:, :2])


def test_lag_drift_separates_a_period_error_from_an_offset():
    """A rhythm 3 ms/period too slow, starting 10 ms ahead: the fit gives (3, −10); lags that
    wrap past ±period/2 are unwrapped; scatter about the line does not bias the slope."""
    from brianforce.analysis.metrics import lag_drift

    k = np.arange(10)
    assert lag_drift(-10 + 3 * k, 1000) == pytest.approx((3.0, -10.0))
    wrapped = (400 + 60 * k + 500) % 1000 - 500          # 400, 460, -480, -420, ...
    assert lag_drift(wrapped, 1000) == pytest.approx((60.0, 400.0))
    jitter = np.random.default_rng(1).normal(0, 2, (2000, 10))
    slopes = [lag_drift(-10 + 3 * k + j, 1000)[0] for j in jitter]
    assert np.mean(slopes) == pytest.approx(3.0, abs=0.05) and np.std(slopes) > 0.1
    for bad in ([1.0], [[1.0, 2.0]], [1.0, np.nan]):
        with pytest.raises(ValueError, match="lags"):
            lag_drift(bad, 1000)
    with pytest.raises(ValueError, match="period"):
        lag_drift([1.0, 2.0], 0)


def test_every_recipe_student_section_maps_onto_the_records():
    """The flat [student] keys of the model recipes land in the parameter records unchanged."""
    from pathlib import Path

    from brianforce.config import load_recipe
    from brianforce.methods.factor_student import FactorStudent, recipe_student_kwargs

    root = Path(__file__).resolve().parents[1] / "models"
    driver_keys = {"reset_trials", "background_noise", "background_channels"}
    paths = sorted(root.glob("depasquale_*.toml")) + sorted(root.glob("reaching_emg*.toml"))
    assert len(paths) >= 7
    for path in paths:
        sec = {k: v for k, v in load_recipe(path)["student"].items() if k not in driver_keys}
        st = FactorStudent(**recipe_student_kwargs(sec))
        assert st.n_neurons == sec["n_neurons"] and st.dt == pytest.approx(5e-5)
        assert st.schedule.n_rls == sec["n_rls"] and st.schedule.update_times == sec["schedule"]
        assert st.schedule.teacher_forced_rls == sec["teacher_forced_rls"]
        assert st.network.si()["signal_amplitude"] == pytest.approx(
            float(sec["signal_amplitude"].split()[0]) * 1e-3)
    dale = FactorStudent(**recipe_student_kwargs(
        {k: v for k, v in load_recipe(root / "depasquale_oscillation_dale.toml")["student"].items()}))
    assert (dale.dale.method, dale.dale.pools, dale.dale.check_every, dale.dale.frac_exc) == (
        "split", "disjoint", 5, 0.8)
    assert (dale.calibration.n_periods, dale.calibration.n_copies) == (10, 24)
    assert dale.neuron.si()["tau_slow"] == pytest.approx(0.1)


def test_recipe_student_kwargs_refuses_what_it_cannot_map():
    from brian2 import DimensionMismatchError, mV, second

    from brianforce.config import RecipeError
    from brianforce.methods.factor_student import recipe_student_kwargs

    kw = recipe_student_kwargs({"tau_m": "12 ms", "fixed_mean": -0.2 * mV * second, "period_calibration": 0,
                                "dale": False})
    assert kw["neuron"].si()["tau_m"] == pytest.approx(0.012) and kw["dale"] is None and kw["calibration"] is None
    assert kw["network"].si()["fixed_mean"] == pytest.approx(-2e-4)
    with pytest.raises(RecipeError, match="tau_membrane"):
        recipe_student_kwargs({"tau_membrane": "10 ms"})
    with pytest.raises(RecipeError, match="dale_method"):
        recipe_student_kwargs({"dale_method": "split"})                  # Dale settings without dale = true
    with pytest.raises(RecipeError, match="calibration_copies"):
        recipe_student_kwargs({"calibration_copies": 3})
    # switched off (as by --set student.period_calibration=0 on a recipe that calibrates): no calibration
    assert recipe_student_kwargs({"period_calibration": 0, "calibration_copies": 3})["calibration"] is None
    assert recipe_student_kwargs({"period_calibration": 2, "calibration_copies": 3})["calibration"].n_copies == 3
    with pytest.raises(DimensionMismatchError, match="tau_d"):
        recipe_student_kwargs({"tau_d": "20 mV"})


def test_population_metrics_report_what_sets_the_angle():
    """The student's PC time courses against the teacher's: identical activity gives zero angles and
    leaves outside the teacher's top PCs exactly what they do not explain; a rectified copy adds
    variance outside them, carried by the neurons that sit near threshold; the odd/even split-half
    angle is reported only with two or more trials per condition."""
    from brianforce.experiments.depasquale import population_metrics

    rng = np.random.default_rng(3)
    t = np.linspace(0, 1, 400, endpoint=False)
    factors = np.stack([np.sin(2 * np.pi * f * t + p) for f, p in ((1, 0), (2, 1), (3, 2))], 1)
    teacher = np.tanh(factors @ rng.normal(size=(3, 40)))
    drive = factors @ rng.normal(size=(3, 60)) + np.linspace(-2, 2, 60)
    student = np.maximum(drive, 0.0)                    # rectified: low-offset neurons are most nonlinear
    trials = lambda x, n: np.repeat(x[None], n, 0) + rng.normal(0, 1e-3, (n, *x.shape))  # noqa: E731
    same = population_metrics(trials(teacher, 4), trials(teacher, 4), np.zeros(4), n_pcs=3)
    assert max(same["principal_angles_deg"]) < 1.0
    assert np.isclose(same["student_variance_outside_teacher_pcs"], 1 - same["teacher_top_pcs_variance"], atol=1e-3)
    assert same["student_split_half_median_angle_deg"] < 1.0
    rect = population_metrics(trials(student, 4), trials(teacher, 4), np.zeros(4), n_pcs=3)
    assert rect["student_variance_outside_teacher_pcs"] > 0.01
    assert rect["student_variance_outside_teacher_pcs_top_direction"] <= rect["student_variance_outside_teacher_pcs"]
    assert rect["outside_fraction_rate_correlation"] < 0
    assert len(rect["student_pc_variance_ratios"]) == len(rect["teacher_pc_variance_ratios"]) == 3
    one = population_metrics(trials(student, 2), trials(teacher, 2), np.array([0, 1]), n_pcs=3)
    assert one["student_split_half_median_angle_deg"] is None
