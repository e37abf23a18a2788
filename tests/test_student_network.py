"""A trained DePasquale student's closed loop as plain Brian2 equations (runtime, C++ standalone, Brian2CUDA).

Reference: the student's own closed loop, ``FactorStudent.predict`` (a Python
``network_operation``), continued from the same state.
"""
import numpy as np
import pytest
from brian2 import ms

from _cuda import cuda, skip_if_brian2cuda
from brianforce.io import ModelFileError, save_arrays
from brianforce.devices.standalone import run_model_cli
from brianforce.methods.factor_student import DaleSettings, FactorStudent, StudentSchedule
from brianforce.devices.student_network import STATE_VARIABLES, StudentNetwork, run_student_network

T_STEPS = 200


def _factors(P=3):
    t = np.arange(T_STEPS) * 1e-3
    y = np.stack([np.sin(2 * np.pi * (p + 1) * 5 * t) * 2 for p in range(P)], 1)
    return y[None], y[None, :, :1]


def _current_state(st):
    """The trained student's neuron state now (lastspike relative to the current time)."""
    return st._loop.state_now()


def _trained_with_run(time_scale=None):
    """A small trained student (optionally time-rescaled), its state, and its own closed-loop
    run from that state."""
    y, f = _factors()
    st = FactorStudent(120, schedule=StudentSchedule(n_forced=1, n_mean=2, n_rls=3), seed=4)
    st.fit(np.zeros((1, T_STEPS, 1)), y, f, 1 * ms)
    if time_scale is not None:
        st.set_time_scale(time_scale)
    state = _current_state(st)
    inputs = np.zeros((1, T_STEPS, 1))
    return st, state, inputs, st.predict(inputs)


@pytest.fixture(scope="module")
def closed_loop():
    return _trained_with_run()


def _pairs(spike_t, spike_i, stop=np.inf):
    m = spike_t < stop
    return sorted(zip(np.round(spike_t[m] / 5e-5).astype(int).tolist(), spike_i[m].tolist()))


@pytest.mark.parametrize("device", ["runtime", pytest.param("cpp_standalone", marks=pytest.mark.standalone)])
def test_generated_closed_loop_equals_network_operation(closed_loop, device, tmp_path):
    st, state, inputs, ref = closed_loop
    run = run_student_network(StudentNetwork.from_student(st), inputs, device, tmp_path / "proj",
                              initial_state=state)
    assert len(ref.spike_t) > 100
    assert _pairs(run.spike_t, run.spike_i) == _pairs(ref.spike_t, ref.spike_i)   # whole 200 ms trial
    amp = np.abs(ref.outputs).max()
    assert amp > 0.1
    np.testing.assert_allclose(run.outputs, ref.outputs, rtol=0, atol=1e-9 * amp)
    np.testing.assert_allclose(run.factors, ref.factors, rtol=0, atol=1e-9 * np.abs(ref.factors).max())


def test_dale_split_student_is_rebuilt_exactly():
    """A Dale "split" student (U >= 0, sign-constrained readout, mirrored factors) is rebuilt
    by the generated-code network: its learned weights are still U wᵀ."""
    y, f = _factors()
    st = FactorStudent(120, schedule=StudentSchedule(n_forced=1, n_mean=2, n_rls=2), seed=4,
                       dale=DaleSettings(method="split", pools="disjoint", mirror=True, check_every=5))
    st.fit(np.zeros((1, T_STEPS, 1)), y, f, 1 * ms)
    assert st.dale_violations() == 0 and st.U_.shape == (120, 6)
    state = _current_state(st)
    inputs = np.zeros((1, 100, 1))
    ref = st.predict(inputs)
    run = run_student_network(StudentNetwork.from_student(st), inputs, initial_state=state)
    assert len(ref.spike_t) > 50
    assert _pairs(run.spike_t, run.spike_i) == _pairs(ref.spike_t, ref.spike_i)
    np.testing.assert_allclose(run.factors, ref.factors, rtol=0, atol=1e-9 * np.abs(ref.factors).max())


def test_trials_run_side_by_side_from_their_own_states(closed_loop):
    st, state, _, _ = closed_loop
    net = StudentNetwork.from_student(st)
    inputs = np.zeros((2, 50, 1))
    two = run_student_network(net, inputs, seed=3)
    one = run_student_network(net, inputs[:1], seed=3)
    # trial 0 of the batch equals the single run (same seeded initial state, no coupling)
    np.testing.assert_allclose(two.outputs[0], one.outputs[0], rtol=0, atol=1e-12)
    assert not np.allclose(two.outputs[0], two.outputs[1])          # trial 1 starts elsewhere
    with pytest.raises(ValueError, match="inputs"):
        run_student_network(net, np.zeros((1, 10, 3)))
    with pytest.raises(ValueError, match="device"):
        run_student_network(net, inputs, device="cuda")          # not a device name ('cuda_standalone' is)
    with pytest.raises(ValueError, match="state variable"):
        run_student_network(net, inputs, initial_state={"w": np.zeros(120)})


# the [task] section holds the driver's keys too, as the shipped oscillation recipes do
RECIPE = {"experiment": {"task": "oscillation", "seed": 0},
          "task": {"dt": "1 ms", "n_train": 2, "n_test": 2, "n_test_repeats": 2, "n_cue": 1, "n_student_train": 1},
          "student": {"n_neurons": 120, "n_forced": 1, "n_mean": 2, "n_rls": 3}}


def _save(st, path, recipe=RECIPE):
    """The fixture's student as ``brianforce train`` saves a DePasquale recipe's network."""
    arrays = {f"student_{k}": v for k, v in st.arrays().items()}
    return save_arrays(path, arrays, {"recipe": recipe}, kind="depasquale-student")


def test_saved_student_runs_from_the_cli(closed_loop, tmp_path):
    st, _, _, _ = closed_loop
    path = _save(st, tmp_path / "network.npz")
    summary = run_model_cli(path, "runtime", out=tmp_path / "out", n_trials=2, seed=1)
    assert summary["kind"] == "depasquale-student" and summary["task"] == "oscillation"
    assert np.isfinite(summary["normalised_error"]) and summary["mean_rate_hz"] > 0
    assert summary["decision_accuracy"] is None
    for f in ("summary.json", "output.npz", "output.png"):
        assert (tmp_path / "out" / f).is_file()
    bad = save_arrays(tmp_path / "bad.npz", {"student_U": np.zeros((2, 2))}, {"recipe": RECIPE},
                      kind="depasquale-student")
    with pytest.raises(ModelFileError, match="inconsistent"):
        StudentNetwork.load(bad)


def test_rest_state_of_trial_tasks_is_saved_and_used(tmp_path):
    """Trial tasks: the student stores a rest state; the generated network starts trials there."""
    y, f = _factors()
    st = FactorStudent(120, schedule=StudentSchedule(n_forced=1, n_mean=2, n_rls=2), seed=4)
    st.fit(np.zeros((1, T_STEPS, 1)), y, f, 1 * ms, rest_step=5)
    a = st.arrays()
    assert all(f"rest_{k}" in a for k in STATE_VARIABLES)
    net = StudentNetwork.from_student(st)
    assert net.rest is not None
    # as saved by a trial-task recipe, whose [student] section also holds the driver's reset_trials
    recipe = {**RECIPE, "student": {**RECIPE["student"], "reset_trials": True, "bias": "-45 mV"}}
    loaded = StudentNetwork.load(_save(st, tmp_path / "network.npz", recipe))
    assert loaded.params == net.params and loaded.rest is not None
    run = run_student_network(net, np.zeros((2, 30, 1)), seed=1)
    ref = st.predict(np.zeros((2, 30, 1)))
    # same start (rest, up to the ±1 mV jitter): the first output samples agree closely
    np.testing.assert_allclose(run.outputs[:, 0], ref.outputs[:, 0], rtol=0, atol=0.05 * np.abs(f).max())


def test_cuda_standalone_without_brian2cuda_says_how_to_install(closed_loop, tmp_path):
    skip_if_brian2cuda()
    st = closed_loop[0]
    with pytest.raises(ImportError, match="Brian2CUDA"):
        run_student_network(StudentNetwork.from_student(st), np.zeros((1, 5, 1)), "cuda_standalone",
                            tmp_path / "proj")
    with pytest.raises(ImportError, match="Brian2CUDA"):     # `brianforce run --device cuda_standalone`
        run_model_cli(_save(st, tmp_path / "network.npz"), "cuda_standalone", out=tmp_path / "out",
                      n_trials=1)


@pytest.mark.standalone
@cuda
def test_cuda_standalone_closed_loop_equals_network_operation(closed_loop, tmp_path):
    """The generated closed loop compiled by Brian2CUDA and run on the GPU (one project, 50 ms).

    The GPU adds the summed variables (factors, outputs, I_ctrl) and the synaptic input with
    atomic additions in no fixed order, so it equals the student's own loop to round-off, not
    bit for bit, and in this chaotic network one spike moved by a step would separate the runs
    later on: the spikes must be identical over the first 25 ms (the C++ test: whole 200 ms),
    the outputs and factors equal there to 1e-6 of their scale (C++: 1e-9), and the outputs
    close over the whole 50 ms.
    """
    st, state, inputs, ref = closed_loop
    T, stop = 50, 25e-3
    run = run_student_network(StudentNetwork.from_student(st), inputs[:, :T], "cuda_standalone",
                              tmp_path / "cuda_proj", initial_state=state)
    assert run.outputs.shape == (1, T, ref.outputs.shape[2]) and run.factors.shape == (1, T, ref.factors.shape[2])
    expected = _pairs(ref.spike_t, ref.spike_i, stop)
    assert len(expected) > 10
    assert _pairs(run.spike_t, run.spike_i, stop) == expected
    assert np.all(np.diff(run.spike_t) >= 0)                     # sorted by time, as on the CPU devices
    n = int(round(stop / 1e-3))                                  # outputs: one sample per dt_op = 1 ms
    amp = np.abs(ref.outputs).max()
    np.testing.assert_allclose(run.outputs[:, :n], ref.outputs[:, :n], rtol=1e-6, atol=1e-6 * amp)
    fs = np.abs(ref.factors).max()
    np.testing.assert_allclose(run.factors[:, :n], ref.factors[:, :n], rtol=1e-6, atol=1e-6 * fs)
    assert np.sqrt(np.mean((run.outputs - ref.outputs[:, :T]) ** 2)) / amp < 0.05


@pytest.fixture(scope="module")
def rescaled():
    """The small student after a time rescaling by 1.3 (what a period calibration applies)."""
    return _trained_with_run(time_scale=1.3)


@pytest.mark.parametrize("device", ["runtime", pytest.param("cpp_standalone", marks=pytest.mark.standalone)])
def test_time_rescaled_student_is_rebuilt_exactly(rescaled, device, tmp_path):
    """After a period calibration (time constants and fixed weights × κ, the refractory period
    in whole steps) the generated closed loop, built from the student or from its saved file,
    still equals the student's own, so saved calibrated students run as trained."""
    st, state, inputs, ref = rescaled
    net = StudentNetwork.from_student(st)
    assert net.params["tau_d"] == pytest.approx(1.3 * st.tau_d)
    assert net.params["tau_ref"] == pytest.approx(52 * st.dt)        # 2 ms × 1.3 = 52 steps
    loaded = StudentNetwork.load(_save(st, tmp_path / "network.npz"))
    assert loaded.params == pytest.approx(net.params)
    run = run_student_network(loaded, inputs, device, tmp_path / "proj", initial_state=state)
    assert len(ref.spike_t) > 100
    assert _pairs(run.spike_t, run.spike_i) == _pairs(ref.spike_t, ref.spike_i)
    np.testing.assert_allclose(run.outputs, ref.outputs, rtol=0, atol=1e-9 * np.abs(ref.outputs).max())


@pytest.mark.standalone
@cuda
def test_cuda_standalone_runs_a_time_rescaled_student(rescaled, tmp_path):
    """The time-rescaled student under Brian2CUDA (50 ms; tolerances as for the student above:
    identical spikes over 25 ms, outputs within 1e-6 there and within 5 % RMS over 50 ms)."""
    st, state, inputs, ref = rescaled
    T, stop = 50, 25e-3
    run = run_student_network(StudentNetwork.from_student(st), inputs[:, :T], "cuda_standalone",
                              tmp_path / "cuda_proj", initial_state=state)
    expected = _pairs(ref.spike_t, ref.spike_i, stop)
    assert len(expected) > 10
    assert _pairs(run.spike_t, run.spike_i, stop) == expected
    n = int(round(stop / 1e-3))
    amp = np.abs(ref.outputs).max()
    np.testing.assert_allclose(run.outputs[:, :n], ref.outputs[:, :n], rtol=1e-6, atol=1e-6 * amp)
    assert np.sqrt(np.mean((run.outputs - ref.outputs[:, :T]) ** 2)) / amp < 0.05
