"""Standalone (C++ code generation): trained networks, compile once/run many, generated-code RLS.

References are independent of the code under test: the runtime ``FORCETrainer`` (RLS in a
Python ``network_operation`` on BLAS ``dsymv``/``dsyr``) and ``FORCETrainer.load(...).predict``.
Standalone projects are built into pytest's persistent cache, so a re-run only recompiles
what changed (first run: about one minute per project on 2 cores).
"""
import json

import numpy as np
import pytest
from brian2 import DimensionMismatchError, mV, ms, second

from _cuda import cuda, skip_if_brian2cuda
from brianforce.io import ModelFileError, save_arrays
from brianforce.devices.standalone import (StandaloneFORCETrainer, build_project, run_model_cli, run_standalone)
from brianforce.tasks import sinusoid
from brianforce.methods.force import FORCETrainer, TrainingDiverged

pytestmark = pytest.mark.standalone

TASK = sinusoid(5.0)


@pytest.fixture(scope="module")
def cache_dir(request, tmp_path_factory):
    cache = getattr(request.config, "cache", None)      # absent under -p no:cacheprovider
    if cache is None:
        return tmp_path_factory.mktemp("brianforce_standalone")
    return cache.mkdir("brianforce_standalone")


def _spike_pairs(res, dt, t_stop):
    m = res.spike_t < t_stop - 1e-12
    return sorted(zip(np.round(res.spike_t[m] / dt).astype(int).tolist(), res.spike_i[m].tolist()))


def _assert_same_training(ref: FORCETrainer, tr: StandaloneFORCETrainer):
    phi_ref, phi = np.asarray(ref.decoder_ / second), np.asarray(tr.decoder_ / second)
    scale = np.abs(phi_ref).max()
    assert scale > 0 and ref.rls_.n_updates == tr.timings_["n_rls_updates"] > 0
    np.testing.assert_allclose(phi, phi_ref, rtol=1e-10, atol=1e-10 * scale)
    np.testing.assert_allclose(tr.history_.times, ref.history_.times, rtol=0, atol=1e-12)
    np.testing.assert_allclose(tr.history_.errors, ref.history_.errors, rtol=1e-10, atol=1e-12)


@pytest.fixture(scope="module")
def runtime_reference():
    """FORCETrainer (network_operation RLS) on a small network, and its free run."""
    ref = FORCETrainer(100, seed=3, record_dt=0.1 * ms, n_record=100, device="runtime")
    ref.fit(TASK, settle=20 * ms, train=60 * ms)
    return ref, ref.predict(20 * ms)


def test_generated_rls_runtime_cython_equals_network_operation(runtime_reference):
    ref, ref_test = runtime_reference
    tr = StandaloneFORCETrainer(100, seed=3, record_dt=0.1 * ms, n_record=100, device="runtime")
    tr.fit(TASK, settle=20 * ms, train=60 * ms)
    _assert_same_training(ref, tr)
    np.testing.assert_allclose(tr.P_, ref.rls_.P, rtol=1e-10, atol=1e-10 * np.abs(ref.rls_.P).max())
    test = tr.predict(20 * ms)
    assert _spike_pairs(test, 5e-5, 1.0) == _spike_pairs(ref_test, 5e-5, 1.0) and len(test.spike_t) > 10


@pytest.fixture(scope="module")
def single_thread_program(cache_dir):
    """The same network trained in one ``cpp_standalone`` program, RLS on one thread."""
    tr = StandaloneFORCETrainer(100, seed=3, record_dt=0.1 * ms, n_record=100, device="cpp_standalone",
                                rls_threads=1, directory=cache_dir / "trainer_n100")
    return tr.fit(TASK, settle=20 * ms, train=60 * ms, test=20 * ms)


def test_generated_rls_cpp_standalone_equals_network_operation(runtime_reference, single_thread_program,
                                                               tmp_path):
    ref, ref_test = runtime_reference
    tr = single_thread_program
    _assert_same_training(ref, tr)
    test = tr.predict(20 * ms)
    assert len(test.spike_t) > 10
    assert _spike_pairs(test, 5e-5, 1.0) == _spike_pairs(ref_test, 5e-5, 1.0)
    np.testing.assert_allclose(test.z, ref_test.z, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="free-ran"):
        tr.predict(30 * ms)
    # the saved model is the runtime trainer's format and continues where the program stopped
    path = tr.save(tmp_path / "sa.npz")
    loaded = FORCETrainer.load(path)
    assert loaded.t_ == pytest.approx(0.1)
    np.testing.assert_array_equal(np.asarray(loaded.decoder_ / second), np.asarray(tr.decoder_ / second))


@pytest.mark.parametrize("target", ["numpy", "cython"])
def test_synapses_rls_backend_equals_network_operation_at_runtime(runtime_reference, target):
    """Plain-equations RLS (P as an all-to-all Synapses variable) on both runtime targets."""
    from brian2 import prefs

    ref, ref_test = runtime_reference
    old = prefs.codegen.target
    prefs.codegen.target = target
    try:
        tr = StandaloneFORCETrainer(100, seed=3, record_dt=0.1 * ms, n_record=100, device="runtime",
                                    rls="synapses")
        tr.fit(TASK, settle=20 * ms, train=60 * ms)
        _assert_same_training(ref, tr)
        np.testing.assert_allclose(tr.P_, ref.rls_.P, rtol=1e-10, atol=1e-10 * np.abs(ref.rls_.P).max())
        test = tr.predict(20 * ms)
    finally:
        prefs.codegen.target = old
    assert len(test.spike_t) > 10
    assert _spike_pairs(test, 5e-5, 1.0) == _spike_pairs(ref_test, 5e-5, 1.0)


def test_synapses_rls_backend_cpp_standalone_equals_network_operation(runtime_reference, cache_dir):
    ref, ref_test = runtime_reference
    tr = StandaloneFORCETrainer(100, seed=3, record_dt=0.1 * ms, n_record=100, device="cpp_standalone",
                                rls="synapses", directory=cache_dir / "trainer_n100_synapses")
    tr.fit(TASK, settle=20 * ms, train=60 * ms, test=20 * ms)
    _assert_same_training(ref, tr)
    test = tr.predict(20 * ms)
    assert len(test.spike_t) > 10
    assert _spike_pairs(test, 5e-5, 1.0) == _spike_pairs(ref_test, 5e-5, 1.0)


def test_threaded_generated_rls_equals_network_operation(runtime_reference, single_thread_program, cache_dir):
    """OpenMP for Brian2's code (parallel calls of the collecting function) and the RLS pass
    split over 3 threads: same training as at runtime up to round-off, and the same bits as on one
    thread (the pass is dealt to a fixed number of lanes, whatever the number of threads)."""
    ref, _ = runtime_reference
    tr = StandaloneFORCETrainer(100, seed=3, record_dt=0.1 * ms, n_record=100, device="cpp_standalone",
                                threads=2, rls_threads=3, directory=cache_dir / "trainer_n100_threads")
    tr.fit(TASK, settle=20 * ms, train=60 * ms, test=0 * ms)
    _assert_same_training(ref, tr)
    np.testing.assert_array_equal(np.asarray(tr.decoder_ / second),
                                  np.asarray(single_thread_program.decoder_ / second))
    np.testing.assert_array_equal(tr.history_.errors, single_thread_program.history_.errors)


def test_rls_backend_choice_is_checked():
    with pytest.raises(ValueError, match="rls must be one of"):
        StandaloneFORCETrainer(100, device="runtime", rls="dense")
    with pytest.raises(NotImplementedError, match="synapses"):
        StandaloneFORCETrainer(100, device="cuda_standalone", rls="function")
    assert StandaloneFORCETrainer(100, device="cuda_standalone").rls == "synapses"
    assert StandaloneFORCETrainer(100, device="cpp_standalone").rls == "function"
    with pytest.raises(ValueError, match="rls_threads"):
        StandaloneFORCETrainer(100, device="cpp_standalone", rls_threads=0)


def test_generated_rls_divergence_raised_at_same_update_as_runtime(tmp_path):
    kw = dict(seed=2, divergence_factor=0.3)  # |error| > 0.3 amplitudes stops training
    with pytest.raises(TrainingDiverged) as exc_ref:
        FORCETrainer(100, device="runtime", **kw).fit(TASK, settle=0 * ms, train=60 * ms)
    tr = StandaloneFORCETrainer(100, device="runtime", **kw)
    with pytest.raises(TrainingDiverged) as exc:
        tr.fit(TASK, settle=0 * ms, train=60 * ms)
    assert exc.value.step == exc_ref.value.step
    assert exc.value.time == pytest.approx(exc_ref.value.time, abs=1e-12)
    assert exc.value.sim_step == exc_ref.value.sim_step
    _assert_refused_unless_allowed(tr, exc.value, tmp_path)
    assert tr.predict(10 * ms, allow_diverged=True).z.shape == (20, 1)


def _assert_refused_unless_allowed(tr, err, tmp_path):
    assert tr.diverged_ is err
    refusal = rf"diverged at RLS update {err.step} \(t = {err.time:.4f} s\).*allow_diverged=True"
    for call in (lambda: tr.predict(10 * ms), lambda: tr.save(tmp_path / "bad.npz")):
        with pytest.raises(RuntimeError, match=refusal):
            call()
    assert not (tmp_path / "bad.npz").exists()
    saved = FORCETrainer.load(tr.save(tmp_path / "bad.npz", allow_diverged=True))
    np.testing.assert_array_equal(np.asarray(saved.decoder_ / second), np.asarray(tr.decoder_ / second))


def test_compiled_rls_divergence_refuses_predict_and_save(cache_dir, tmp_path):
    tr = StandaloneFORCETrainer(100, seed=2, divergence_factor=0.3, device="cpp_standalone",
                                directory=cache_dir / "trainer_n100_diverged")
    with pytest.raises(TrainingDiverged) as exc:
        tr.fit(TASK, settle=0 * ms, train=60 * ms, test=20 * ms)
    assert exc.value.step >= 0 and 0 < exc.value.time <= 0.06
    assert exc.value.sim_step == round(exc.value.time / 0.05e-3)
    _assert_refused_unless_allowed(tr, exc.value, tmp_path)
    assert tr.predict(10 * ms, allow_diverged=True).z.shape == (20, 1)


def test_generated_rls_constant_target_does_not_diverge():
    """A constant target has no amplitude: errors are judged against its magnitude (or 1 if zero)."""
    from brianforce.tasks import Task

    for value in (0.0, 0.5):
        tr = StandaloneFORCETrainer(100, seed=2, device="runtime")
        tr.fit(Task("constant", 1, lambda t, v=value: np.full((len(t), 1), v)), settle=10 * ms, train=50 * ms)
        assert tr.diverged_ is None and len(tr.history_.times) == 20 and not tr.history_.diverged


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory):
    """A briefly trained N = 150 network, saved, with its runtime free run of 2 s."""
    path = tmp_path_factory.mktemp("model") / "model.npz"
    tr = FORCETrainer(150, seed=1, n_record=150, device="runtime")
    tr.fit(TASK, settle=50 * ms, train=150 * ms)
    tr.save(path)
    runtime = FORCETrainer.load(path).predict(2 * second)
    return path, runtime


@pytest.fixture(scope="module")
def project(trained_model, cache_dir):
    path, _ = trained_model
    return build_project(path, 2 * second, directory=cache_dir / "run_n150", n_record=150)


def test_run_standalone_agrees_with_runtime(trained_model, project):
    path, runtime = trained_model
    res = project.run("results_agree").result
    np.testing.assert_allclose(res.t, runtime.t, atol=1e-9)
    assert len(res.t) == len(runtime.t) == 4000
    # same spikes over the first 100 ms (deterministic network, same arrays, same schedule)
    t0 = runtime.t[0]
    first = _spike_pairs(runtime, 5e-5, t0 + 0.1)
    assert len(first) > 100 and _spike_pairs(res, 5e-5, t0 + 0.1) == first
    # output agreement over 2 s: RMSE of the difference < 1 % of the target amplitude
    diff_rmse = float(np.sqrt(np.mean((res.z - runtime.z) ** 2)))
    assert diff_rmse < 0.01 * TASK.amplitude
    assert np.isfinite(res.target).all()


def test_compile_once_run_many_without_recompiling(trained_model, project):
    path, runtime = trained_model
    signature = project.build_signature()
    assert "main" in signature and len(signature) > 5
    first = project.run("results_a")
    N = project.n_neurons
    v_other = np.full(N, -60e-3)
    runs = project.run_many([{}, {"v": v_other}, {"phi": np.zeros(N)}], processes=2, results_prefix="many")
    assert project.build_signature() == signature  # nothing was recompiled or relinked
    assert len({r.results_dir for r in runs + [first]}) == 4
    np.testing.assert_array_equal(runs[0].result.z, first.result.z)
    np.testing.assert_array_equal(runs[0].result.spike_t, first.result.spike_t)
    assert not np.array_equal(runs[1].result.spike_t[:50], first.result.spike_t[:50])
    assert np.all(runs[2].result.z == 0.0)  # a zero decoder reads out nothing
    # the run-time value is really used: same as simulating that initial state at runtime
    np.testing.assert_allclose(runs[0].final_state["phi"], np.asarray(FORCETrainer.load(path).decoder_ / second))
    for r in runs:
        assert r.wall_time < max(project.compile_time, 5.0)


def test_run_model_cli_writes_outputs(trained_model, cache_dir, tmp_path):
    path, runtime = trained_model
    summary = run_model_cli(path, "cpp_standalone", 2.0, tmp_path / "out", directory=cache_dir / "cli_n150")
    for name in ("summary.json", "output.npz", "output.png"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["device"] == "cpp_standalone"
    with np.load(tmp_path / "out" / "output.npz") as f:
        np.testing.assert_allclose(f["z"], runtime.z, atol=0.01 * TASK.amplitude)
    assert summary["n_spikes_recorded"] > 0


def test_bad_inputs_raise_clear_errors(tmp_path, trained_model):
    path, _ = trained_model
    with pytest.raises(DimensionMismatchError):
        run_standalone(path, 2.0)
    with pytest.raises(ValueError, match="device"):
        run_standalone(path, 1 * second, device="gpu")
    other = save_arrays(tmp_path / "other.npz", {"x": np.zeros(3)}, {}, kind="kimchow_recurrent")
    with pytest.raises(ModelFileError, match="force_lif"):
        run_standalone(other, 1 * second)
    with pytest.raises(ValueError, match="device"):
        StandaloneFORCETrainer(50, device="numpy")
    with pytest.raises(DimensionMismatchError):
        StandaloneFORCETrainer(50, device="runtime", Q=10 * ms)
    tr = StandaloneFORCETrainer(50, device="runtime")
    with pytest.raises(RuntimeError, match="fit"):
        tr.predict(10 * ms)
    with pytest.raises(ValueError, match="NaN"):
        tr.fit(np.array([0.0, np.nan, 1.0]), settle=0 * ms, train=0.1 * ms)


def test_cuda_standalone_without_brian2cuda_says_how_to_install(trained_model):
    skip_if_brian2cuda()
    with pytest.raises(ImportError, match="brian2cuda|Brian2CUDA"):
        build_project(trained_model[0], 10 * ms, device="cuda_standalone")


@cuda
def test_cuda_standalone_training_equals_network_operation(runtime_reference, tmp_path):
    """Generated-code RLS (plain-equations backend) compiled by Brian2CUDA and run on the GPU."""
    ref, ref_test = runtime_reference
    tr = StandaloneFORCETrainer(100, seed=3, record_dt=0.1 * ms, n_record=100, device="cuda_standalone",
                                directory=tmp_path / "cuda_trainer")
    tr.fit(TASK, settle=20 * ms, train=60 * ms, test=20 * ms)
    phi_ref, phi = np.asarray(ref.decoder_ / second), np.asarray(tr.decoder_ / second)
    # GPU reductions sum in another order: equal to round-off, not bit for bit
    np.testing.assert_allclose(phi, phi_ref, rtol=1e-8, atol=1e-8 * np.abs(phi_ref).max())
    np.testing.assert_allclose(tr.history_.errors, ref.history_.errors, rtol=1e-8, atol=1e-10)
    test = tr.predict(20 * ms)
    assert len(test.spike_t) > 10
    assert _spike_pairs(test, 5e-5, 1.0) == _spike_pairs(ref_test, 5e-5, 1.0)


@cuda
def test_cuda_standalone_runs_saved_model_like_runtime(trained_model, tmp_path):
    path, runtime = trained_model
    res = run_standalone(path, 2 * second, device="cuda_standalone", directory=tmp_path / "cuda_run",
                         n_record=150)
    t0 = runtime.t[0]
    assert _spike_pairs(res, 5e-5, t0 + 0.1) == _spike_pairs(runtime, 5e-5, t0 + 0.1)
    amp = TASK.amplitude
    assert np.sqrt(np.mean((res.z - runtime.z) ** 2)) / amp < 0.01


@pytest.mark.slow
def test_standalone_training_converges_at_n2000(tmp_path):
    tr = StandaloneFORCETrainer(2000, seed=0, device="cpp_standalone", directory=tmp_path / "proj")
    tr.fit(TASK, settle=0.5 * second, train=4.5 * second, test=2 * second)
    metrics = tr.predict(1 * second).metrics(TASK.period)
    assert metrics["rmse_over_amplitude"][0] < 0.3
    assert metrics["lag_adjusted_correlation"][0] > 0.9


# ---------------------------------------------------------------- transferred LIF models (Kim et al. 2019)
@pytest.fixture(scope="module")
def transferred_model(tmp_path_factory):
    """A random Dale's-law 'rate network' mapped onto LIF (no training needed for agreement)."""
    from brianforce.rate.backprop import DaleRNNParams
    from brianforce.methods.transfer import TransferredLIF

    rng = np.random.default_rng(5)
    N = 40
    mask = (rng.random((N, N)) < 0.2).astype(float)
    np.fill_diagonal(mask, 0.0)
    sign = np.where(rng.random(N) < 0.8, 1.0, -1.0)
    p = DaleRNNParams(w_rec=np.abs(rng.normal(0, 1.0, (N, N))) * mask, mask=mask, sign=sign,
                      w_in=rng.normal(0, 1.0, (N, 1)), w_out=rng.normal(0, 0.1, N), b_out=0.0,
                      tau_raw=rng.normal(0, 1, N))
    model = TransferredLIF.from_rate(p, 30.0, sigma_v=0 * mV)   # deterministic: same spikes expected
    path = tmp_path_factory.mktemp("kim2019") / "lif_model.npz"
    model.save(path, {"task": "go_nogo", "seed": 0})
    return path, model


def _trial_spikes(run):
    return sorted(zip(run.spike_trial.tolist(), run.spike_unit.tolist(),
                      np.round(run.spike_time / 5e-5).astype(int).tolist()))


def test_transferred_lif_model_runs_standalone_like_runtime(transferred_model, cache_dir):
    from brianforce.devices.standalone import run_transferred_standalone
    from brianforce.tasks.kim2019 import GoNoGo
    from brianforce.methods.transfer import simulate_lif

    path, model = transferred_model
    batch = GoNoGo().sample(3, np.random.default_rng(0))
    runtime = simulate_lif(model, batch.inputs, seed=4, record_spikes=3)
    sa = run_transferred_standalone(path, batch.inputs, directory=cache_dir / "kim2019_n40", seed=4,
                                    record_spikes=3)
    assert len(runtime.spike_time) > 50
    assert _trial_spikes(sa) == _trial_spikes(runtime)          # deterministic network: same spikes
    np.testing.assert_allclose(sa.outputs, runtime.outputs, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="cpp_standalone"):
        run_transferred_standalone(path, batch.inputs, device="cuda_standalone")


def test_run_cli_dispatches_on_model_kind(transferred_model, tmp_path):
    path, _ = transferred_model
    summary = run_model_cli(path, "cpp_standalone", out=tmp_path / "out", n_trials=4, seed=1)
    assert summary["kind"] == "kim2019-lif" and summary["task"] == "go_nogo"
    assert 0.0 <= summary["accuracy"] <= 1.0 and summary["mean_rate_hz"] > 0
    runtime = run_model_cli(path, "runtime", out=tmp_path / "rt", n_trials=4, seed=1)
    assert runtime["accuracy"] == summary["accuracy"]
    for f in ("summary.json", "output.npz", "output.png"):
        assert (tmp_path / "out" / f).is_file()
