"""Brian2 LIF student trained on factor targets (small, fast configurations)."""
import numpy as np
import pytest
from brian2 import DimensionMismatchError, mV, ms, second, set_device

from brianforce.io import load_arrays, save_arrays
from brianforce.networks.force_lif import StandaloneNotSupportedError
from brianforce.methods.factor_student import (DaleSettings, FactorStudent, FixedNetwork, PeriodCalibration,
                                               StudentNeuron, StudentSchedule, rescaled_refractory)

T_STEPS = 200  # 200 ms trials at 1 ms samples


def _factors(P=3):
    t = np.arange(T_STEPS) * 1e-3
    y = np.stack([np.sin(2 * np.pi * (p + 1) * 5 * t) * 2 for p in range(P)], 1)
    return y[None], y[None, :, :1]


def _schedule(**kw):
    """The small training schedule of these tests, with ``kw`` changed."""
    return StudentSchedule(**{"n_forced": 1, "n_mean": 2, "n_rls": 3, **kw})


def _small(schedule=None, *, seed=4, **kw):
    return FactorStudent(120, schedule=schedule or _schedule(), seed=seed, **kw)


@pytest.fixture(scope="module")
def trained():
    y, f = _factors()
    return _small().fit(np.zeros((1, T_STEPS, 1)), y, f, 1 * ms), y, f


def test_learns_factors_and_demeans_input(trained):
    st, y, f = trained
    # a-priori RLS error of the learned factors falls well below "predict zero" (= 1)
    assert st.train_errors_[-1] < 0.2
    assert st.train_errors_[-1] < st.train_errors_[0]
    assert 1 < st.mean_rate_ < 100
    # mean removal changed the bias neuron by neuron (fixed input has non-zero means)
    assert np.std(st.I_bias_) > 1e-4
    assert st.w_.shape == (2 * 120, 3) and st.W_out_.shape == (4, 1)
    np.testing.assert_allclose(st.U_.T @ st.U_, np.diag(np.diag(st.U_.T @ st.U_)), atol=1e-12)


def test_predict_returns_structured_run(trained):
    st, y, f = trained
    run = st.predict(np.zeros((2, T_STEPS, 1)))
    assert run.outputs.shape == (2, T_STEPS, 1) and run.factors.shape == (2, T_STEPS, 3)
    assert run.rates.shape == (2, T_STEPS, 120)
    assert len(run.spike_t) > 0 and np.all(run.spike_t >= 0)
    np.testing.assert_allclose(run.trial_starts, [0.0, 0.2], atol=1e-9)
    # outputs are the readout of the learned factors: z = W_out^T [y; 1]
    z = np.concatenate([run.factors[0], np.ones((T_STEPS, 1))], 1) @ st.W_out_
    np.testing.assert_allclose(run.outputs[0], z, atol=1e-12)


def test_saved_arrays_roundtrip(trained, tmp_path):
    st = trained[0]
    p = save_arrays(tmp_path / "s.npz", st.arrays(), {"n": 120}, kind="depasquale-student")
    arrays, meta = load_arrays(p, kind="depasquale-student")
    for k, v in st.arrays().items():
        np.testing.assert_array_equal(arrays[k], v)


def test_dale_total_every_connection_keeps_its_sign():
    """Dale "total": the fixed weights as drawn and the total weight of every connection
    (fixed + learned + clipping correction, per synaptic filter) have the presynaptic sign,
    the clipping really was needed, and the synapses carry exactly J^f + C."""
    y, f = _factors()
    st = _small(_schedule(n_rls=2), seed=5, dale=DaleSettings(check_every=5),
                network=FixedNetwork(fixed_gain=0.1 * mV * second))
    st.fit(np.zeros((1, T_STEPS, 1)), y, f, 1 * ms)
    s = st.signs_
    assert set(np.unique(s)) == {-1.0, 1.0} and np.mean(s > 0) == pytest.approx(0.8)
    J = st.fixed_weights()
    assert np.all(J * s[None, :] > 0)                         # dense, autapses included
    tot = st.total_weights()
    assert np.all(tot["slow"] == 0)                            # slow features not learned
    assert np.all(tot["fast"] * s[None, :] >= 0)
    assert st.dale_violations() == 0
    # without the correction some totals would have the wrong sign (the clip did something)
    raw = J + st.learned_weights()["fast"]
    assert np.any(raw * s[None, :] < 0)
    assert 0 < st.dale_clipped_[-1] < 0.5
    assert np.count_nonzero(st.dale_correction_) == np.sum(raw * s[None, :] < 0)
    # the running synapses carry J^f + C, as saved for the generated-code student
    np.testing.assert_allclose(np.asarray(st._loop.S.w_[:]), st.arrays()["fixed_w"], rtol=0, atol=0)
    np.testing.assert_allclose(st.arrays()["fixed_w"], (J + st.dale_correction_)[st.fixed_i_, st.fixed_j_])
    # the factor drive is orthogonal to J^f's rank-one mean direction (dale_project)
    v = J.mean(axis=0)
    np.testing.assert_allclose(v @ st.U_, 0, atol=1e-12 * np.linalg.norm(v) * np.abs(st.U_).max())
    # and the factors are still learned
    assert st.train_errors_[-1] < 0.5
    with pytest.raises(ValueError, match="method"):
        DaleSettings(method="balanced")
    with pytest.raises(ValueError, match="check_every"):
        DaleSettings(check_every=0)


def test_dale_split_every_weight_keeps_its_sign():
    """Dale "split": U >= 0 and sign-constrained rows w_j make every fixed, learned and total
    weight (both filters) take the presynaptic sign; the constraint really binds, the factors
    are still learned, and a single wrong-sign weight is counted."""
    y, f = _factors()
    st = _small(_schedule(n_rls=2, forcing_noise=0.1, teacher_forced_rls=False), seed=5,
                dale=DaleSettings(method="split", check_every=5))
    st.fit(np.zeros((1, T_STEPS, 1)), y, f, 1 * ms)
    s = st.signs_
    assert set(np.unique(s)) == {-1.0, 1.0} and np.mean(s > 0) == pytest.approx(0.8)
    assert np.all(st.U_ >= 0) and np.all(st.dale_beta_ == 0)
    sw = np.concatenate([s, s])[:, None] * st.w_
    assert np.all(sw >= 0)                                     # every row on its sign
    assert np.mean(sw > 0) > 0.1                               # ... and not all zero
    assert 0 < st.dale_clipped_[-1] < 1                        # the constraint was active
    off = ~np.eye(120, dtype=bool)
    assert np.all((st.fixed_weights() * s[None, :])[off] > 0)
    lw, tot = st.learned_weights(), st.total_weights()
    for W in (*lw.values(), *tot.values()):
        assert np.all(W * s[None, :] >= 0)
    assert np.any(lw["slow"] * s[None, :] > 0) and np.any(lw["fast"] * s[None, :] > 0)
    np.testing.assert_allclose(tot["fast"], st.fixed_weights() + lw["fast"])
    assert st.dale_violations() == 0
    assert st.train_errors_[-1] < 0.5
    # the count can fail: one learned weight of the wrong sign is a violation (in the learned
    # and the slow total matrix), one wrong-sign fixed weight too
    j = int(np.flatnonzero(s < 0)[0])
    p = int(np.argmax(np.abs(st.w_[j])))
    W = st._loop.split.W
    w_jp = W[j, p]
    W[j, p] = 1e3
    assert st.dale_violations() > 0
    W[j, p] = w_jp
    assert st.dale_violations() == 0
    k = int(np.flatnonzero(st.fixed_j_ == j)[0])
    st.fixed_w_[k] = -st.fixed_w_[k]
    assert st.dale_violations() >= 1
    st.fixed_w_[k] = -st.fixed_w_[k]
    # arrays() carries what the generated-code student needs: learned weights are U wᵀ
    a = st.arrays()
    np.testing.assert_array_equal(a["w"], st.w_)
    np.testing.assert_array_equal(a["fixed_w"], st.fixed_w_)
    disjoint = _small(_schedule(n_rls=1), seed=5, dale=DaleSettings(method="split", pools="disjoint", hold=True))
    disjoint.fit(np.zeros((1, T_STEPS, 1)), y, f, 1 * ms)
    G = disjoint.U_.T @ disjoint.U_
    np.testing.assert_allclose(G, np.diag(np.diag(G)), atol=1e-12)   # orthogonal pools
    assert np.all(np.count_nonzero(disjoint.U_, axis=1) == 1)
    assert disjoint.dale_violations() == 0
    for bad in (dict(pools="some"), dict(pool_fraction=0.0), dict(pool_fraction=1.5),
                dict(iterations=0), dict(forget=0.0), dict(forget=1.5)):
        (name, value), = bad.items()
        with pytest.raises(ValueError, match=rf"{name} .*{value}"):
            DaleSettings(method="split", **bad)


@pytest.mark.parametrize("refactor_every", [1, 10])
def test_dale_split_solves_the_sign_constrained_ridge_problem(refactor_every):
    """The split re-solve (block principal pivoting; free sets factorised afresh or their inverse
    carried through the exchanges) against scipy's NNLS on the same statistics:
    min ½vᵀHv − bᵀv, v >= 0  ⇔  min ‖Lᵀv − L⁻¹b‖, v >= 0 with H = LLᵀ; the RLS inverse kept for
    the free set is (H_FF)⁻¹."""
    from scipy.linalg import cholesky, solve_triangular
    from scipy.optimize import nnls

    y, f = _factors()
    st = _small(_schedule(n_rls=2, forcing_noise=0.1, teacher_forced_rls=False), seed=7,
                dale=DaleSettings(method="split", check_every=5, refactor_every=refactor_every))
    st.fit(np.zeros((1, T_STEPS, 1)), y, f, 1 * ms)
    rls = st._loop.split
    rls.iterations = 200
    rls.project()
    H = np.triu(rls.H) + np.triu(rls.H, 1).T          # RLS statistics keep the upper triangle
    L = cholesky(H, lower=True)
    n_active = 0
    for p in range(rls.B.shape[1]):
        v_ref, _ = nnls(L.T, solve_triangular(L, rls.B[:, p], lower=True), maxiter=50 * len(H))
        np.testing.assert_allclose(rls.v[:, p], v_ref, rtol=1e-6,
                                   atol=1e-8 * np.abs(v_ref).max())
        F = rls.F[p]
        assert np.all(np.isin(np.flatnonzero(v_ref > 1e-6 * v_ref.max()), F))
        g = H @ rls.v[:, p] - rls.B[:, p]              # KKT: g = 0 on F, g >= 0 off F
        scale = np.abs(rls.B[:, p]).max()
        assert np.all(np.abs(g[F]) < 1e-8 * scale)
        assert np.all(np.delete(g, F) > -1e-8 * scale)
        n_active += len(H) - len(F)
        # (a carried inverse gathers round-off over the exchanges since its last factorisation)
        inv = np.linalg.inv(H[np.ix_(F, F)])
        np.testing.assert_allclose(np.triu(rls.Pinv[p]), np.triu(inv), rtol=1e-8 if refactor_every == 1 else 1e-6,
                                   atol=1e-12 if refactor_every == 1 else 1e-9 * np.abs(inv).max())
    assert n_active > 0                                # the sign constraint binds somewhere
    np.testing.assert_array_equal(rls.W, np.concatenate([st.signs_, st.signs_])[:, None] * rls.v)
    assert st.w_ is rls.W


def test_dale_law_signs_hold_for_fixed_and_learned_weights():
    y, f = _factors()
    st = _small(_schedule(n_rls=2), seed=5, dale=DaleSettings(method="offset", offset=0.2 * mV))
    st.fit(np.zeros((1, T_STEPS, 1)), y, f, 1 * ms)
    s = st.signs_
    assert set(np.unique(s)) == {-1.0, 1.0}
    assert np.mean(s > 0) == pytest.approx(0.8)
    J = st.fixed_weights()
    off = ~np.eye(120, dtype=bool)
    assert np.all((J * s[None, :])[off] > 0)                  # every fixed weight has its sign
    lw = st.learned_weights()
    for W in lw.values():
        assert np.all(W * s[None, :] >= 0)                   # every learned weight too
    # the constraint was active (the unconstrained solution would violate it)
    limit = st.dale_beta_ / np.max(np.linalg.norm(st.U_, axis=1))
    assert np.any(np.isclose(np.linalg.norm(st.w_, axis=1), limit, rtol=1e-9))
    raw = st.U_ @ st.w_.T                                     # without the offset
    assert np.any(raw[:, :120] * s[None, :] < 0)


def test_divergence_is_detected_with_time():
    from brianforce.errors import TrainingDiverged

    y, f = _factors()
    st = _small(_schedule(n_rls=2, divergence_threshold=1e-12))
    with pytest.raises(match=r"RLS trial 1 \(t = [0-9.]+ s") as info:
        st.fit(np.zeros((1, T_STEPS, 1)), y, f, 1 * ms)
    # one except clause catches every trainer's divergence
    assert isinstance(info.value, TrainingDiverged)
    assert info.value.step == 1 and info.value.time > 0 and info.value.error > 1e-12
    assert info.value.sim_step == round(info.value.time / 0.05e-3) and info.value.counter == "RLS trial"
    assert st.diverged_ is info.value and len(st.train_errors_) == 2
    # what it learned is refused unless asked for explicitly
    x = np.zeros((1, 20, 1))
    refusal = r"diverged at RLS trial 1 \(t = [0-9.]+ s\).*allow_diverged=True"
    for call in (lambda: st.predict(x), lambda: st.predict_repeats(x, 1), lambda: st.arrays()):
        with pytest.raises(RuntimeError, match=refusal):
            call()
    assert st.predict(x, allow_diverged=True).outputs.shape == (1, 20, 1)
    assert st.arrays(allow_diverged=True)["w"].shape == (240, 3)


def test_factors_of_zero_or_constant_are_not_divergence():
    """A trial whose factors are all zero is judged against the factors' amplitude, not 0/0."""
    from brianforce.errors import TrainingDiverged

    y, f = _factors()
    x = np.zeros((2, T_STEPS, 1))
    y2 = np.concatenate([y, np.zeros_like(y)])                  # the second trial's factors are 0
    st = _small(_schedule(n_rls=3)).fit(x, y2, np.concatenate([f, f]), 1 * ms)
    assert st.diverged_ is None and np.all(np.isfinite(st.train_errors_)) and st.train_errors_[1] < 25
    const = _small(_schedule(n_rls=2)).fit(x[:1], np.full((1, T_STEPS, 2), 1.5), f, 1 * ms)
    assert const.diverged_ is None and np.all(np.isfinite(const.train_errors_))
    with pytest.raises(ValueError, match="identically zero") as info:     # no factors at all: refused
        _small().fit(x[:1], np.zeros_like(y), f, 1 * ms)
    assert not isinstance(info.value, TrainingDiverged)


def test_rest_step_starts_every_trial_from_the_stored_rest_state():
    y, f = _factors()
    x = np.zeros((1, T_STEPS, 1))
    st = _small(_schedule(n_rls=1)).fit(x, y, f, 1 * ms, rest_step=20)
    run = st.predict(np.zeros((2, T_STEPS, 1)))
    # filtered spike trains at each trial's first sample are the stored ones, exactly
    np.testing.assert_array_equal(run.rates[0, 0], st._loop.rest["r_f"])
    np.testing.assert_array_equal(run.rates[1, 0], st._loop.rest["r_f"])
    assert np.any(run.rates[0, -1] != run.rates[0, 0])          # and then evolve
    free = _small(_schedule(n_rls=1)).fit(x, y, f, 1 * ms).predict(np.zeros((2, T_STEPS, 1)))
    assert np.any(free.rates[1, 0] != free.rates[0, 0])          # without reset they differ
    with pytest.raises(ValueError, match="rest_step"):
        _small().fit(x, y, f, 1 * ms, rest_step=T_STEPS)
    with pytest.raises(ValueError, match="n_forced"):
        _small(_schedule(n_forced=0)).fit(x, y, f, 1 * ms, rest_step=3)


def test_closed_loop_trials_and_forcing_noise_change_training():
    """The last ``n_closed_loop`` RLS trials are driven by the network's own factors, and
    ``forcing_noise`` perturbs the drive (not the target): both change what RLS sees."""
    y, f = _factors()
    x = np.zeros((1, T_STEPS, 1))
    base = _small(_schedule(n_rls=2)).fit(x, y, f, 1 * ms)
    closed = _small(_schedule(n_rls=2, n_closed_loop=1)).fit(x, y, f, 1 * ms)
    noisy = _small(_schedule(n_rls=2, forcing_noise=0.5, forcing_noise_tau=20 * ms)).fit(x, y, f, 1 * ms)
    # identical until the first RLS trial that differs
    assert closed.train_errors_[0] == base.train_errors_[0]
    assert closed.train_errors_[1] != base.train_errors_[1]
    assert not np.allclose(noisy.w_, base.w_)
    # perturbing the drive leaves the target alone: the learned factors still track ỹ
    assert noisy.train_errors_[-1] < 0.5
    with pytest.raises(ValueError, match="forcing_noise"):
        StudentSchedule(forcing_noise=-0.1)
    with pytest.raises(ValueError, match="n_closed_loop"):
        StudentSchedule(n_closed_loop=-1)
    with pytest.raises(DimensionMismatchError, match="forcing_noise_tau"):
        StudentSchedule(forcing_noise_tau=5.0)


@pytest.mark.parametrize("record,kwargs,exc", [
    (StudentNeuron, dict(tau_m=10.0), DimensionMismatchError),
    (StudentNeuron, dict(tau_m=10 * mV), DimensionMismatchError),
    (FixedNetwork, dict(fixed_gain=0.3 * mV), DimensionMismatchError),
    (StudentSchedule, dict(alpha=1 * mV), DimensionMismatchError),          # a unit where none belongs
    (StudentSchedule, dict(n_rls=3 * ms), DimensionMismatchError),
    (DaleSettings, dict(frac_exc=0.5 * ms), DimensionMismatchError),
    (StudentNeuron, dict(tau_m=-1 * ms), ValueError),
    (StudentNeuron, dict(tau_ref=float("nan") * ms), ValueError),
    (StudentNeuron, dict(v_reset=-30 * mV), ValueError),
    (FixedNetwork, dict(signal_amplitude=0 * mV), ValueError),
    (StudentSchedule, dict(update_times="sometimes"), ValueError),
    (StudentSchedule, dict(alpha=0.0), ValueError),
    (StudentSchedule, dict(n_rls=0), ValueError),
    (StudentSchedule, dict(n_forced=1.5), TypeError),
    (StudentSchedule, dict(teacher_forced_rls="yes"), TypeError),
    (DaleSettings, dict(frac_exc=1.0), ValueError),
])
def test_bad_parameters(record, kwargs, exc):
    """Every record checks its values; the message names the parameter."""
    (name, _), = kwargs.items()
    with pytest.raises(exc, match=name):
        record(**kwargs)


def test_records_keep_the_published_defaults_and_the_constructor_checks_its_arguments():
    """Defaults in SI units (DePasquale et al. 2016 / Nicola & Clopath 2017 LIF), the records
    frozen, and the constructor refuses flat settings and wrong types."""
    st = FactorStudent()
    assert (st.n_neurons, st.dt, st.seed, st.dale, st.calibration) == (600, 5e-5, 0, None, None)
    assert (st.tau_m, st.tau_ref, st.v_th, st.v_reset, st.bias, st.tau_r, st.tau_d, st.tau_slow) == (
        0.01, 0.002, -0.04, -0.065, -0.045, 0.002, 0.02, 0.1)
    assert st.neuron.lif.tau_m == 0.01 and st.neuron.lif.bias == -0.045
    assert FixedNetwork().si() == dict(fixed_gain=0.3 * 1e-3, fixed_mean=-0.3 * 1e-3, signal_amplitude=0.01,
                                       input_gain=0.01)
    sched = StudentSchedule().si()
    assert sched == dict(alpha=1.0, update_interval=0.002, update_times="random", n_forced=5, n_mean=10,
                         n_rls=50, teacher_forced_rls=True, n_closed_loop=0, forcing_noise=0.0,
                         forcing_noise_tau=0.05, divergence_threshold=25.0)
    d = DaleSettings()
    assert (d.method, d.frac_exc, d.si()["offset"], d.check_every, d.project, d.pools, d.pool_fraction,
            d.iterations, d.mirror, d.hold, d.forget) == ("total", 0.8, 0.002, 25, True, "overlap", 1.0,
                                                          10, False, False, 1.0)
    assert (PeriodCalibration().n_periods, PeriodCalibration().n_copies) == (10, 4)
    with pytest.raises(AttributeError):
        d.method = "split"                                  # frozen
    with pytest.raises(TypeError):
        FactorStudent(120, n_rls=3)                         # settings go in the records
    with pytest.raises(TypeError, match="dale"):
        FactorStudent(120, dale=True)
    with pytest.raises(TypeError, match="schedule"):
        FactorStudent(120, schedule=dict(n_rls=3))
    with pytest.raises(DimensionMismatchError, match="dt"):
        FactorStudent(120, dt=5e-5)
    with pytest.raises(ValueError, match="n_neurons"):
        FactorStudent(3)


def test_bad_data():
    y, f = _factors()
    bad = y.copy()
    bad[0, 3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _small().fit(np.zeros((1, T_STEPS, 1)), bad, f, 1 * ms)
    with pytest.raises(ValueError, match="multiple"):
        _small().fit(np.zeros((1, T_STEPS, 1)), y, f, 0.07 * ms)
    with pytest.raises(DimensionMismatchError):
        _small().fit(np.zeros((1, T_STEPS, 1)), y, f, 1e-3)
    with pytest.raises(RuntimeError, match="fit"):
        _small().predict(np.zeros((1, T_STEPS, 1)))


def test_refuses_standalone_device():
    y, f = _factors()
    set_device("cpp_standalone", build_on_run=False)
    with pytest.raises(StandaloneNotSupportedError, match="network_operation"):
        _small().fit(np.zeros((1, T_STEPS, 1)), y, f, 1 * ms)


def test_predict_repeats_perturb_copies_and_leave_the_state_alone():
    """Each repeat runs from a jittered copy of the current state (different runs, seeded);
    afterwards the student continues exactly as if no repeat had run."""
    y, f = _factors()
    x = np.zeros((2, T_STEPS, 1))
    st = _small().fit(x[:1], y, f, 1 * ms)
    st._loop.net.store("before")
    ref = st.predict(x)
    st._loop.net.restore("before")
    reps = st.predict_repeats(x, 2)
    assert len(reps) == 2 and reps[0].outputs.shape == ref.outputs.shape and reps[0].rates is None
    assert np.abs(reps[0].outputs - ref.outputs).max() > 1e-3
    assert np.abs(reps[0].outputs - reps[1].outputs).max() > 1e-3
    np.testing.assert_array_equal(st.predict(x).outputs, ref.outputs)
    # the same student, seed and state give the same repeats
    st2 = _small().fit(x[:1], y, f, 1 * ms)
    np.testing.assert_array_equal(st2.predict_repeats(x, 1)[0].outputs, reps[0].outputs)
    with pytest.raises(ValueError, match="n_repeats"):
        st.predict_repeats(x, 0)
    with pytest.raises(DimensionMismatchError):
        st.predict_repeats(x, 1, jitter=0.001)


RECIPE = """
[experiment]
name = "tiny_oscillation"
task = "oscillation"
seed = 2
[task]
dt = "1 ms"
n_train = 4
n_test = 2
n_student_train = 1
[teacher]
n_units = 40
g = 1.2
reg = 1.0
n_factors = 4
[student]
n_neurons = 120
n_forced = 1
n_mean = 1
n_rls = 2
signal_amplitude = "10 mV"
"""


@pytest.mark.slow
def test_recipe_driver_writes_summary_figure_and_network(tmp_path):
    import json

    from brianforce.experiments.depasquale import train_from_recipe

    rec = tmp_path / "tiny.toml"
    rec.write_text(RECIPE)
    summary = train_from_recipe(rec, tmp_path / "out", {"task.n_test_repeats": 2})
    on_disk = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert on_disk["experiment"] == "tiny_oscillation"
    # the unperturbed test first, then 2 perturbed copies; their median and its ratio
    s = on_disk["student"]
    per = s["normalised_error_median_per_repeat"]
    assert len(per) == 3 and per[0] == s["normalised_error_median"] and len(set(per)) == 3
    assert s["normalised_error_median_over_repeats"] == pytest.approx(np.median(per))
    lags = s["phase_lag_per_trial_ms_per_repeat"]
    assert len(lags) == 3 and lags[0] == s["phase_lag_per_trial_ms"] and len(lags[1]) == 2
    # per draw the lag gained per period (two 1-s periods: the difference of their lags,
    # unwrapped into [-500, 500) ms)
    def gained(lg):
        return (lg[1] - lg[0] + 500) % 1000 - 500

    drifts = s["phase_drift_ms_per_period_per_repeat"]
    assert drifts[0] == s["phase_drift_ms_per_period"]
    np.testing.assert_allclose(drifts, [gained(lg) for lg in lags], atol=1e-9)
    t = on_disk["teacher"]
    assert len(t["phase_lag_per_trial_ms"]) == 2
    assert t["phase_drift_ms_per_period"] == pytest.approx(gained(t["phase_lag_per_trial_ms"]))
    assert on_disk["error_ratio_over_repeats"] == pytest.approx(
        np.median(per) / on_disk["teacher"]["normalised_error_median"])
    assert on_disk["teacher"]["n_factors"] == 4
    assert on_disk["size_ratio"] == pytest.approx(3.0)
    assert 0 <= summary["population"]["median_principal_angle_deg"] <= 90
    assert 0 < summary["student"]["mean_rate_hz"] < 200
    assert (tmp_path / "out" / "outputs.png").stat().st_size > 1000
    arrays, meta = load_arrays(tmp_path / "out" / "network.npz", kind="depasquale-student")
    assert arrays["student_w"].shape == (240, 4)
    assert meta["summary"]["task"] == "oscillation"


@pytest.mark.slow
def test_recipe_driver_with_one_test_period_saves_undefined_fano_as_null(tmp_path):
    """One test period leaves the Fano factor across periods undefined: it is written as
    JSON null, not NaN (which once made saving the trained network fail at the very end)."""
    import json

    from brianforce.experiments.depasquale import train_from_recipe

    rec = tmp_path / "tiny.toml"
    rec.write_text(RECIPE)
    summary = train_from_recipe(rec, tmp_path / "out", {"task.n_test": 1})
    assert summary["student"]["fano_factor_median"] is None
    assert len(summary["student"]["normalised_error_per_trial"]) == 1
    on_disk = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert on_disk["student"]["fano_factor_median"] is None
    _, meta = load_arrays(tmp_path / "out" / "network.npz", kind="depasquale-student")
    assert meta["summary"]["student"]["fano_factor_median"] is None


@pytest.mark.slow
def test_oscillation_recipe_full_size(tmp_path):
    """Full recipe (~4 min on 2 busy cores): the oscillation acceptance points at the
    recipe's seed, with the error taken as the median over 7 draws of the free-running test
    (the unperturbed one and 6 jittered copies; measured: ratios 1.65 1.69 1.37 2.39 13.4 1.53
    1.10 -> median 1.65 against the teacher's 0.0034; ISI CV 3.4; top-10 PCs 97.4 %; angle
    8.5°). Other seeds are not all within 2× (benchmarks/results/depasquale_test_repeats.csv)."""
    from pathlib import Path

    from brianforce.experiments.depasquale import train_from_recipe

    root = Path(__file__).resolve().parents[1]
    s = train_from_recipe(root / "models" / "depasquale_oscillation.toml", tmp_path)
    assert s["size_ratio"] <= 3
    assert s["student"]["isi_cv_median"] > 0.5
    assert s["population"]["student_top_pcs_variance"] > 0.9
    assert s["population"]["median_principal_angle_deg"] < 15
    # stable closed-loop rhythm: the first free period and the phase-aligned waveform are close
    assert s["student"]["normalised_error_first_trial"] < 0.1
    assert s["student"]["phase_aligned_error_median"] < 0.05
    assert len(s["student"]["normalised_error_median_per_repeat"]) == 7
    assert s["error_ratio_over_repeats"] < 2


@pytest.mark.slow
def test_dale_oscillation_recipe_full_size(tmp_path):
    """Full Dale recipe (~14 min on 2 busy cores): the Dale acceptance points at the recipe's
    seed — every weight on its sign, the oscillation points, and the error within 3× the
    teacher's (median over 7 draws: the test and 6 jittered copies of its start state, after
    the period calibration with 24 copies and a teacher-forced cue period). Measured: ratios
    1.6 2.1 2.5 22.7 1.7 4.4 2.3 -> median 2.34 against the teacher's 0.0034; ISI CV 2.7;
    top-10 PCs 97.0 %; angle 11.5°; seeds 2, 4, 5: 1.37, 2.93, 4.31."""
    from pathlib import Path

    from brianforce.experiments.depasquale import train_from_recipe

    root = Path(__file__).resolve().parents[1]
    s = train_from_recipe(root / "models" / "depasquale_oscillation_dale.toml", tmp_path)
    st = s["student"]
    assert st["dale"] and st["dale_sign_violations"] == 0
    assert s["size_ratio"] <= 3
    assert st["isi_cv_median"] > 0.5
    assert s["population"]["student_top_pcs_variance"] > 0.9
    assert s["population"]["median_principal_angle_deg"] < 15
    assert s["n_cue"] == 1 and len(st["calibration_lags_ms"]) == 24
    assert abs(st["time_scale"] - 1) < 0.01                     # a period error of a few ms
    assert len(st["normalised_error_median_per_repeat"]) == 7
    assert s["error_ratio_over_repeats"] < 3


@pytest.mark.slow
@pytest.mark.parametrize("name", ["integration", "classification"])
def test_trial_task_recipes_reach_decision_accuracy(tmp_path, name):
    """Acceptance for the trial tasks: >= 90 % decisions correct on 100 test trials."""
    from pathlib import Path

    from brianforce.experiments.depasquale import train_from_recipe

    root = Path(__file__).resolve().parents[1]
    s = train_from_recipe(root / "models" / f"depasquale_{name}.toml", tmp_path)
    assert s["size_ratio"] <= 3 and len(s["student"]["normalised_error_per_trial"]) == 100
    assert s["teacher"]["accuracy"] >= 0.9
    assert s["student"]["accuracy"] >= 0.9


def test_calibrate_period_fits_the_drift_and_rescales_the_time_constants(monkeypatch):
    """After one forced period, the lag of each free-running period (in every perturbed copy
    of the state it ends in) is measured against the target period and the fitted drift d
    (samples per period) sets κ = T / (T + d); the time constants and fixed weights are
    rescaled, the refractory period in whole steps; the state is the forced period's end."""
    y, f = _factors()
    st = _small().fit(np.zeros((1, T_STEPS, 1)), y, f, 1 * ms)
    t0 = float(st._loop.net.t_)
    lw0, J0 = st.learned_weights(), st.fixed_weights()
    drift, offset = 3, -5           # runs behind by 3 samples more every period
    real_run = st._run_trial

    phases, v_cued = [], None

    def fake_run(phase, k, inputs, factors, outputs, *args, **kw):
        nonlocal v_cued
        phases.append(phase)
        if phase == "test" and k == 0:
            assert np.any(st._loop.G.v_[:] != v_cued)                      # a jittered copy
        out = real_run(phase, k, inputs, factors, outputs, *args, **kw)   # the network still runs
        if phase == "forced":
            np.testing.assert_array_equal(factors, y[0])                   # forced with ỹ
            v_cued = st._loop.G.v_[:].copy()
        else:
            out["y"] = np.roll(y[0], offset + drift * k, axis=0)           # output(t) = ỹ(t − lag)
        return out

    monkeypatch.setattr(st, "_run_trial", fake_run)
    st.calibrate_period(np.zeros((T_STEPS, 1)), y[0], n_periods=4, n_copies=2)
    np.testing.assert_allclose(st.calibration_lags_, [(offset + drift * np.arange(4)) * 1e-3] * 2)
    assert st.calibration_drift_ == pytest.approx(drift * 1e-3)
    kappa = T_STEPS / (T_STEPS + drift)
    assert st.time_scale_ == pytest.approx(kappa)
    G = st._loop.G
    for name in ("tau_m", "tau_r", "tau_d", "tau_slow"):
        assert float(G.variables[name].get_value()) == pytest.approx(getattr(st, name) * kappa)
    # the refractory period: the nearest whole number of steps (39 of 0.05 ms for 2 ms × κ)
    assert float(G.variables["tau_ref_"].get_value()) == pytest.approx(39 * 0.05e-3)
    np.testing.assert_allclose(st._loop.S.w_[:], st.fixed_w_ * kappa)
    np.testing.assert_allclose(st.fixed_weights(), J0 * kappa)
    np.testing.assert_allclose(st.learned_weights()["fast"], lw0["fast"] * kappa)
    # one forced period first (the copies start from its end), then the copies ran from
    # jittered copies of that state, which was put back
    assert float(st._loop.net.t_) == pytest.approx(t0 + T_STEPS * 1e-3)
    assert phases[:3] == ["forced", "test", "test"]
    np.testing.assert_array_equal(st._loop.G.v_[:], v_cued)
    # a second call compounds
    st.calibrate_period(np.zeros((T_STEPS, 1)), y[0], n_periods=4)
    assert st.time_scale_ == pytest.approx(kappa ** 2)
    with pytest.raises(ValueError, match="n_periods"):
        st.calibrate_period(np.zeros((T_STEPS, 1)), y[0], n_periods=1)


def test_rescaled_refractory_keeps_the_trained_step_count_for_small_scales():
    dt = 0.05e-3
    for scale in (0.99985, 1.0, 1.002, 0.99):                # 2 ms x scale rounds to 40 steps
        assert rescaled_refractory(2e-3, dt, scale) == 2e-3   # exactly the trained value
    assert rescaled_refractory(2e-3, dt, 2.0) == 80 * dt
    assert rescaled_refractory(2e-3, dt, 0.985) == 39 * dt
    assert rescaled_refractory(0.0, dt, 1.3) == 0.0


def test_time_rescaling_slows_the_network_down():
    """Every time constant and fixed weight × κ (and the state mapped) is the same network
    κ times slower: from the same state, κ = 2 retraces the trajectory at half speed."""
    y, f = _factors()
    st = _small().fit(np.zeros((1, T_STEPS, 1)), y, f, 1 * ms)
    st._loop.net.store("t")
    r1 = st.predict(np.zeros((1, T_STEPS, 1)))
    st._loop.net.restore("t")
    st.set_time_scale(2.0)
    r2 = st.predict(np.zeros((2, T_STEPS, 1)))
    y1, y2 = r1.factors[0], r2.factors.reshape(-1, 3)[::2]
    amp = np.abs(y1).max()
    assert amp > 0.5
    np.testing.assert_allclose(y2[:80], y1[:80], rtol=0, atol=0.05 * amp)   # spike-timing noise only
    assert not np.allclose(r2.factors[0, :80], r1.factors[0, :80], atol=0.05 * amp)   # not the κ = 1 run
    early = r1.spike_t < 0.01
    np.testing.assert_allclose(np.sort(r2.spike_t[r2.spike_t < 0.02])[:20] / 2,
                               np.sort(r1.spike_t[early])[:20], atol=5e-4)
    assert len(r2.spike_t) / (2 * len(r1.spike_t)) == pytest.approx(0.5, rel=0.2)   # rate halves


def test_period_calibration_refuses_what_it_cannot_calibrate():
    y, f = _factors()
    x = np.zeros((1, T_STEPS, 1))
    # a free run whose period is far from the target's is not the trained rhythm: refused
    st = _small().fit(x, y, f, 1 * ms)
    real_run = st._run_trial

    def far_off(phase, k, inputs, factors, outputs, *args, **kw):
        out = real_run(phase, k, inputs, factors, outputs, *args, **kw)
        out["y"] = np.roll(y[0], 30 * k, axis=0)      # 30 of 200 samples late every period
        return out

    st._run_trial = far_off
    with pytest.raises(ValueError, match="period calibration refused"):
        st.calibrate_period(x[0], y[0], n_periods=3, n_copies=1)
    assert st.time_scale_ == 1.0
    with pytest.raises(ValueError, match="must be one period"):
        st.calibrate_period(np.zeros((2, T_STEPS, 1)), np.concatenate([y, y]), n_periods=3, n_copies=1)
    trial_task = _small().fit(x, y, f, 1 * ms, rest_step=0)
    with pytest.raises(ValueError, match="autonomous rhythms"):
        trial_task.calibrate_period(x[0], y[0], n_periods=3)
    with pytest.raises(ValueError, match="one target trial"):
        _small(calibration=PeriodCalibration(4)).fit(np.zeros((2, T_STEPS, 1)), np.concatenate([y, y]),
                                                     np.concatenate([f, f]), 1 * ms)
    for bad in (0, 1, -2, 2.5, True):
        with pytest.raises((ValueError, TypeError), match="n_periods"):
            PeriodCalibration(n_periods=bad)
    with pytest.raises(ValueError, match="n_copies"):
        PeriodCalibration(n_copies=0)


def test_a_refused_refit_leaves_the_fitted_student_as_it_was():
    """Arguments are checked before anything of the student changes: a refit refused for its ``dt`` or
    ``rest_step`` keeps the first fit's sample step, timings and calibration; a time scale must be > 0."""
    T = 40
    t = np.arange(T) * 1e-3
    fac = np.stack([np.sin(2 * np.pi * 25 * t), np.cos(2 * np.pi * 25 * t)], 1)[None]
    inp, out = np.zeros((1, T, 1)), fac[..., :1]
    s = FactorStudent(8, schedule=StudentSchedule(n_forced=1, n_mean=1, n_rls=2), seed=1).fit(inp, fac, out, 1 * ms)
    first = s.predict(inp, device="runtime").duration
    before = (s.dt_op_, dict(s.timings_), s.calibration_lags_.copy())
    with pytest.raises(ValueError, match="must be a multiple of the integration step"):
        s.fit(inp, fac, out, 0.07 * ms)
    with pytest.raises(ValueError, match="rest_step must be a sample index"):
        s.fit(inp, fac, out, 1 * ms, rest_step=-1)
    assert (s.dt_op_, s.timings_) == before[:2] and np.array_equal(s.calibration_lags_, before[2])
    assert s.predict(inp, device="runtime").duration == pytest.approx(first) == pytest.approx(0.04)
    for bad in (-1.0, 0.0, np.nan):
        with pytest.raises(ValueError, match="scale"):
            s.set_time_scale(bad)
    assert s.time_scale_ == 1.0


def test_time_rescaling_maps_the_rest_state_of_trial_tasks():
    """A trial task starts every trial from the stored rest state; after ``set_time_scale`` that
    state is mapped as the current one is (filtered rates ÷ κ), so the learned factors of a trial's
    first sample are those of the unscaled network."""
    T = 40
    t = np.arange(T) * 1e-3
    y = np.stack([np.sin(2 * np.pi * 10 * t), np.cos(2 * np.pi * 10 * t)], 1)[None]
    u = np.zeros((1, T, 1))
    u[0, 10:20, 0] = 1.0
    st = FactorStudent(40, schedule=StudentSchedule(n_forced=1, n_mean=1, n_rls=2), seed=3)
    st.fit(u, y, y[:, :, :1], 1 * ms, rest_step=5)
    rest = {k: v.copy() for k, v in st._loop.rest.items()}
    a = st.predict_repeats(u, 1, stream="x", device="runtime")[0].factors[0, 0]
    st.set_time_scale(2.0)
    np.testing.assert_array_equal(st._loop.rest["r_f"], rest["r_f"] / 2)
    np.testing.assert_array_equal(st._loop.rest["hr_s"], rest["hr_s"] / 4)
    np.testing.assert_array_equal(st._loop.rest["v"], rest["v"])
    b = st.predict_repeats(u, 1, stream="x", device="runtime")[0].factors[0, 0]
    np.testing.assert_allclose(b, a, rtol=1e-9)


def test_teacher_forced_trials_need_targets_of_the_inputs_trials_and_samples():
    y, f = _factors()
    x = np.zeros((1, T_STEPS, 1))
    st = _small(_schedule(n_rls=1)).fit(x, y, f, 1 * ms)
    for bad in (np.concatenate([y, y], axis=1), np.concatenate([y, y, y]), y[:, :-1], y[:, :, :2]):
        with pytest.raises(ValueError, match="factor_targets .* must be"):
            st.force(x, bad)


def test_dale_law_needs_both_excitatory_and_inhibitory_neurons():
    y, f = _factors()
    for frac in (0.999, 0.001):
        with pytest.raises(ValueError, match="needs excitatory and inhibitory neurons"):
            _small(dale=DaleSettings(frac_exc=frac)).fit(np.zeros((1, T_STEPS, 1)), y, f, 1 * ms)
