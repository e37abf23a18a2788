"""A trained factor student's closed-loop test trials as one generated program.

Reference: the same student's runtime ``network_operation`` loop (``device="runtime"``), from the
same trained state: outputs, factors, rates and spikes to round-off, and the state and generators it
leaves behind (a later runtime trial continues identically).
"""
import numpy as np
import pytest
from brian2 import ms

from brianforce.devices.activation import CompilationFailed
from brianforce.devices.student_network import MAX_INPUT_TERMS
from brianforce.methods.factor_student import FactorStudent, StudentSchedule

pytestmark = pytest.mark.standalone

T_STEPS = 200


def _student(rest: bool, device: str = "runtime", seed: int = 4, n_inputs: int = 1) -> FactorStudent:
    """A small trained student: an autonomous rhythm, or a trial task whose trials start at rest."""
    t = np.arange(T_STEPS) * 1e-3
    y = np.stack([np.sin(2 * np.pi * (p + 1) * 5 * t) * 2 for p in range(3)], 1)[None]
    st = FactorStudent(120, schedule=StudentSchedule(n_forced=1, n_mean=2, n_rls=3), seed=seed, device=device)
    if rest:
        inputs = np.zeros((2, T_STEPS, n_inputs))
        inputs[:, 50:100] = np.linspace(0.2, 1.0, n_inputs)
        st.fit(inputs, np.repeat(y, 2, 0), np.repeat(y[:, :, :1], 2, 0), 1 * ms, rest_step=10)
    else:
        st.fit(np.zeros((1, T_STEPS, 1)), y, y[:, :, :1], 1 * ms)
    return st


def _pairs(run):
    return sorted(zip(np.round(run.spike_t / 5e-5).astype(int).tolist(), run.spike_i.tolist()))


def _assert_same(run, ref, rates=True):
    amp = np.abs(ref.outputs).max()
    assert amp > 0.1
    np.testing.assert_allclose(run.outputs, ref.outputs, rtol=0, atol=1e-9 * amp)
    np.testing.assert_allclose(run.factors, ref.factors, rtol=0, atol=1e-9 * np.abs(ref.factors).max())
    np.testing.assert_allclose(run.trial_starts, ref.trial_starts, rtol=0, atol=1e-12)
    assert run.duration == pytest.approx(ref.duration)
    if rates:
        np.testing.assert_allclose(run.rates, ref.rates, rtol=0, atol=1e-9 * ref.rates.max())
        assert len(ref.spike_t) > 100
        assert _pairs(run) == _pairs(ref)
        assert np.all(np.diff(run.spike_t) >= 0)


@pytest.fixture(scope="module", params=[False, True], ids=["continuous", "from-rest"])
def pair(request):
    """Two identically trained students (the same seed) and three test trials with an input pulse."""
    inputs = np.zeros((3, T_STEPS, 1))
    inputs[:, 50:100, 0] = 0.5
    return _student(request.param), _student(request.param), inputs


def test_compiled_trials_equal_the_runtime_loop_and_leave_the_same_state(pair):
    ref_st, st, inputs = pair
    ref = ref_st.predict(inputs, device="runtime")
    run = st.predict(inputs, device="cpp_standalone")
    assert st.test_device_ == "cpp_standalone" and ref_st.test_device_ == "runtime"
    assert st.test_timings_["compile_s"] > 0 and st.test_timings_["run_s"] > 0
    _assert_same(run, ref)
    # both carry on from the same state (and, for trial tasks, the same rest-jitter generator)
    _assert_same(st.predict(inputs[:1], device="runtime"), ref_st.predict(inputs[:1], device="runtime"))


def test_compiled_repeats_equal_the_runtime_repeats_and_change_nothing(pair):
    ref_st, st, inputs = pair
    refs = ref_st.predict_repeats(inputs, 2, device="runtime")
    runs = st.predict_repeats(inputs, 2, device="cpp_standalone")
    assert len(runs) == 2
    for run, ref in zip(runs, refs):
        _assert_same(run, ref, rates=False)
    assert not np.allclose(runs[0].outputs, runs[1].outputs)       # the copies start apart
    _assert_same(st.predict(inputs[:1], device="runtime"), ref_st.predict(inputs[:1], device="runtime"))


def test_many_input_channels_come_as_one_table_of_input_currents():
    M = MAX_INPUT_TERMS + 4                 # the reaching recipes' background channels: hundreds
    ref_st, st = _student(True, n_inputs=M), _student(True, n_inputs=M)
    inputs = np.zeros((2, T_STEPS, M))
    inputs[:, 40:120] = np.random.default_rng(0).uniform(0, 1, M)
    _assert_same(st.predict(inputs, device="cpp_standalone"), ref_st.predict(inputs, device="runtime"))


def test_the_student_device_chooses_where_trials_run(monkeypatch):
    st = _student(False, device="auto")
    st.predict(np.zeros((1, 20, 1)))
    assert st.test_device_ == "cpp_standalone"
    st.predict(np.zeros((1, 20, 1)), device="runtime")
    assert st.test_device_ == "runtime"
    with pytest.raises(ValueError, match="device must be one of"):
        st.predict(np.zeros((1, 20, 1)), device="gpu")

    def broken(*args, **kwargs):
        raise CompilationFailed("no compiler here")

    monkeypatch.setattr("brianforce.devices.student_trials.run_student_network", broken)
    run = st.predict_repeats(np.zeros((1, 20, 1)), 1)          # auto: falls back to runtime
    assert st.test_device_ == "runtime" and run[0].outputs.shape == (1, 20, 1)
    with pytest.raises(CompilationFailed):
        st.predict(np.zeros((1, 20, 1)), device="cpp_standalone")
