"""FORCETrainer's default device: a first fit as one cached cpp_standalone program, then runtime.

The program and the runtime ``network_operation`` path learn the same decoder to round-off
(independent implementations of the same update: C++ on a filtered readout, numpy BLAS on a
summed one); the trained network continues at runtime from the program's final state and ``P``.
"""
import logging

import numpy as np
import pytest
from brian2 import ms, second

import brianforce.methods.force as force_module
from brianforce.devices.activation import CompilationFailed
from brianforce.devices.force_program import compiler_available
from brianforce.errors import TrainingDiverged
from brianforce.methods.force import FORCETrainer
from brianforce.tasks import sinusoid

pytestmark = pytest.mark.skipif(not compiler_available(), reason="needs make and a C++ compiler")
TASK = sinusoid(5.0)
PROTOCOL = dict(settle=50 * ms, train=200 * ms, test=100 * ms)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("BRIANFORCE_CACHE_DIR", str(tmp_path_factory.mktemp("default_device_cache")))
    yield
    mp.undo()


@pytest.fixture(scope="module")
def pair(cache):
    kw = dict(seed=4, n_record=120, record_dt=0.1 * ms)
    program = FORCETrainer(120, **kw).fit(TASK, **PROTOCOL)
    runtime = FORCETrainer(120, device="runtime", **kw).fit(TASK, **PROTOCOL)
    return program, runtime


def test_first_fit_runs_as_a_program_and_learns_the_runtime_decoder(pair):
    program, runtime = pair
    assert program.device_ == "cpp_standalone" and runtime.device_ == "runtime"
    assert program.timings_["n_rls_updates"] == runtime.timings_["n_rls_updates"] == 80
    np.testing.assert_allclose(program.decoder_ / second, runtime.decoder_ / second, rtol=0,
                               atol=1e-9 * float(np.abs(runtime.decoder_ / second).max()))
    hp, hr = program.history_, runtime.history_
    np.testing.assert_allclose(hp.times, hr.times, rtol=0, atol=1e-12)
    np.testing.assert_allclose(hp.errors, hr.errors, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(hp.decoder_samples, hr.decoder_samples, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(program.rls_.P, runtime.rls_.P, rtol=1e-7, atol=1e-12)
    for phase in ("settle", "train", "test"):
        a, b = getattr(program, f"{phase}_result_"), getattr(runtime, f"{phase}_result_")
        np.testing.assert_allclose(a.t, b.t, atol=1e-12)
        np.testing.assert_allclose(a.z, b.z, rtol=0, atol=1e-7)
    a, b = program.test_result_, runtime.test_result_
    assert len(a.spike_t) > 0
    np.testing.assert_array_equal(a.spike_i, b.spike_i)
    np.testing.assert_allclose(a.spike_t, b.spike_t, atol=1e-12)


def test_trained_program_network_runs_on_at_runtime(pair):
    program, runtime = pair
    assert program.t_ == pytest.approx(runtime.t_, abs=1e-12)
    a, b = program.predict(50 * ms), runtime.predict(50 * ms)
    np.testing.assert_allclose(a.z, b.z, rtol=0, atol=1e-7)
    program.fit(TASK, settle=0 * ms, train=20 * ms)            # later fits continue at runtime
    assert program.device_ == "runtime" and len(program.history_.times) == 88


def test_device_choice_is_checked_and_standalone_refuses_a_network_that_ran(pair):
    with pytest.raises(ValueError, match="device must be one of"):
        FORCETrainer(20, device="gpu")
    program, _ = pair
    program.device = "cpp_standalone"
    with pytest.raises(ValueError, match="already run"):
        program.fit(TASK, settle=0 * ms, train=10 * ms)
    program.device = "auto"


def test_failed_compilation_falls_back_to_runtime(cache, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise CompilationFailed("Project compilation failed (error code: 2)")

    monkeypatch.setattr(force_module, "run_force_program", broken)
    with caplog.at_level(logging.WARNING):
        tr = FORCETrainer(30, seed=1).fit(TASK, settle=0 * ms, train=10 * ms)
    assert tr.device_ == "runtime" and "did not compile" in caplog.text
    with pytest.raises(CompilationFailed):
        FORCETrainer(30, seed=1, device="cpp_standalone").fit(TASK, settle=0 * ms, train=10 * ms)


def test_program_divergence_is_raised_at_the_runtime_update(cache):
    kw = dict(seed=2, divergence_factor=0.3)
    with pytest.raises(TrainingDiverged) as ref:
        FORCETrainer(100, device="runtime", **kw).fit(TASK, settle=0 * ms, train=60 * ms)
    tr = FORCETrainer(100, **kw)
    with pytest.raises(TrainingDiverged) as exc:
        tr.fit(TASK, settle=0 * ms, train=60 * ms)
    assert tr.device_ == "cpp_standalone"
    assert exc.value.step == ref.value.step and exc.value.time == pytest.approx(ref.value.time, abs=1e-12)
    assert len(tr.history_.times) == exc.value.step
    with pytest.raises(RuntimeError, match="allow_diverged"):
        tr.predict(10 * ms)
