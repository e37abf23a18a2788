"""Argument checks and state hygiene of the standalone entry points (:mod:`brianforce.devices`).

One small saved FORCE model is compiled once for the module (``project``); the other checks
refuse their arguments before anything is built, or run on the runtime device.
"""
import dataclasses
from pathlib import Path

import brian2 as b2
import numpy as np
import pytest
from brian2 import DimensionMismatchError, amp, mV, ms, us, volt
from brian2.devices.device import RuntimeDevice

from brianforce.devices import activation
from brianforce.devices import force_program
from brianforce.devices.force_standalone import StandaloneFORCETrainer
from brianforce.devices.project import build_project
from brianforce.devices.student_network import StudentNetwork, run_student_network
from brianforce.methods.force import FORCETrainer, TrainingDiverged
from brianforce.tasks import Task

THREADS = "devices.cpp_standalone.openmp_threads"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A briefly trained 60-neuron, 2-output model (dt = 50 us, record_dt = 1 ms)."""
    dt = 5e-5
    t = np.arange(int(0.1 / dt)) * dt
    target = np.stack([np.sin(2 * np.pi * 5 * t), np.cos(2 * np.pi * 5 * t)], 1)
    tr = FORCETrainer(60, 2, seed=1, device="runtime", record_dt=1 * ms)
    tr.fit(target, settle=10 * ms, train=20 * ms)
    path = tmp_path_factory.mktemp("model") / "model.npz"
    tr.save(path)
    return path


@pytest.fixture(scope="module")
def project(model_path, tmp_path_factory):
    """The model's compiled program, built while the caller's OpenMP preference is 3 (the pref after the build
    in ``project.pref_after``)."""
    before = b2.prefs[THREADS]
    b2.prefs[THREADS] = 3
    try:
        proj = build_project(model_path, 10 * ms, directory=tmp_path_factory.mktemp("project"), threads=0)
        proj.pref_after = b2.prefs[THREADS]
    finally:
        b2.prefs[THREADS] = before
    yield proj
    proj.close()


# ---------------------------------------------------------------------------- stale P of a cached slot
def test_program_diverged_at_first_update_does_not_read_an_earlier_P(monkeypatch, tmp_path):
    monkeypatch.setenv("BRIANFORCE_CACHE_DIR", str(tmp_path / "cache"))
    n = 50
    real = force_program.project_directory

    def with_stale_P(directory, name, key):
        slot = real(directory, name, key)
        stale = Path(slot.path) / "results"
        stale.mkdir(parents=True, exist_ok=True)
        np.full(n * n + n + 1, 7.0).tofile(stale / "bf_rls_P.bin")     # as an earlier fit in this slot left it
        return slot

    monkeypatch.setattr(force_program, "project_directory", with_stale_P)
    tr = FORCETrainer(n, seed=1, device="cpp_standalone", rls_threads=1, divergence_factor=0.5)
    with pytest.raises(TrainingDiverged) as info:
        tr.fit(Task("constant", 1, lambda t: np.full((len(t), 1), 0.5)), settle=0 * ms, train=10 * ms)
    assert info.value.step == 0 and tr.rls_.n_updates == 0
    np.testing.assert_array_equal(tr.rls_.P, np.eye(n) / tr.config.reg)


# ---------------------------------------------------------------------------- compiled project
def test_project_refuses_to_run_once_closed(project):
    closed = dataclasses.replace(project, slot=None)      # the same program, its own (absent) slot
    closed.close()
    with pytest.raises(RuntimeError, match="closed"):
        closed.run()
    with pytest.raises(RuntimeError, match="closed"):
        closed.run_many([{}])


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_record=-5), ValueError, "n_record.*-5"),
    (dict(n_record=2.5), TypeError, "n_record.*2.5"),
    (dict(threads=-2), ValueError, "threads.*-2"),
    (dict(record_dt=1 * us), ValueError, "record_dt.*dt"),
    (dict(duration=0.5 * ms), ValueError, "duration.*record_dt"),
    (dict(duration=5 * ms, record_dt=6 * ms), ValueError, "duration.*record_dt"),
])
def test_build_project_refuses_bad_recording(model_path, tmp_path, kwargs, error, match):
    duration = kwargs.pop("duration", 10 * ms)
    with pytest.raises(error, match=match):
        build_project(model_path, duration, directory=tmp_path / "never", **kwargs)
    assert isinstance(b2.get_device(), RuntimeDevice)


def test_project_run_checks_shapes_and_units(project):
    N, K = project.n_neurons, project.n_outputs
    base = project.run()
    phi = base.final_state["phi"]
    assert phi.shape == (N, K) == (60, 2)
    with pytest.raises(ValueError, match=r"phi.*\(60, 2\).*\(2, 60\)"):
        project.run(phi=phi.T)
    with pytest.raises(ValueError, match=r"phi.*\(120,\)"):
        project.run(phi=phi.reshape(-1))
    with pytest.raises(ValueError, match=r"v.*\(60,\).*\(1, 60\)"):
        project.run(v=np.full((1, N), -60e-3))
    with pytest.raises(DimensionMismatchError, match="v.*volt.*amp"):
        project.run(v=np.full(N, 1e-3) * amp)
    with pytest.raises(DimensionMismatchError, match="phi.*second"):
        project.run(phi=phi * volt)
    # a quantity of the right unit is its SI value
    si = project.run(v=np.full(N, -60e-3))
    q = project.run(v=np.full(N, -60.0) * mV)
    np.testing.assert_array_equal(q.result.z, si.result.z)
    np.testing.assert_array_equal(project.run(phi=phi * b2.second).result.z, project.run(phi=phi).result.z)


# ---------------------------------------------------------------------------- Brian2 preferences
def test_build_gives_back_the_callers_openmp_threads(project):
    assert project.pref_after == 3


def test_restore_runtime_gives_back_the_callers_preferences(tmp_path):
    before = b2.prefs[THREADS]
    b2.prefs[THREADS] = 2
    try:
        activation.activate("cpp_standalone", str(tmp_path))
        b2.prefs[THREADS] = 5
        activation.restore_runtime()
        assert b2.prefs[THREADS] == 2
        assert isinstance(b2.get_device(), RuntimeDevice)
    finally:
        b2.prefs[THREADS] = before


# ---------------------------------------------------------------------------- after a divergence
@pytest.mark.parametrize("rls", ["function", "synapses"])
def test_after_a_divergence_only_the_function_backend_freezes_the_decoder(rls):
    """As StandaloneFORCETrainer.fit says: with rls='function' the decoder stops at the divergent update,
    with rls='synapses' the updates go on to the end of the training window (generated code at runtime)."""
    from brian2 import ms, second

    from brianforce.methods.force import TrainingDiverged
    from brianforce.tasks import sinusoid

    decoders, steps = [], []
    for train in (40, 60):
        tr = StandaloneFORCETrainer(100, seed=2, divergence_factor=0.3, device="runtime", rls=rls)
        with pytest.raises(TrainingDiverged) as info:
            tr.fit(sinusoid(5.0), settle=0 * ms, train=train * ms)
        steps.append(info.value.step)
        decoders.append(np.asarray(tr.decoder_ / second))
    assert steps[0] == steps[1] and steps[0] * tr.config.rls_interval < 0.04      # diverged in both windows
    assert np.array_equal(decoders[0], decoders[1]) == (rls == "function")
    with pytest.raises(NotImplementedError):
        StandaloneFORCETrainer(20, device="cuda_standalone", rls="function")


# ---------------------------------------------------------------------------- student network
@pytest.fixture(scope="module")
def student():
    N, P, Q, M = 12, 2, 1, 1
    rng = np.random.default_rng(0)
    params = dict(tau_m=0.02, tau_ref=0.002, v_th=-0.05, v_reset=-0.065, tau_r=0.002, tau_d=0.02, tau_slow=0.1,
                  dt=1e-4)
    fi, fj = rng.integers(0, N, 30), rng.integers(0, N, 30)
    net = StudentNetwork(U=rng.normal(0, 1e-3, (N, P)), U_in=rng.normal(0, 1e-2, (N, M)),
                         w=rng.normal(0, 1e-2, (2 * N, P)), W_out=rng.normal(0, 1, (P + 1, Q)),
                         I_bias=np.full(N, 0.02), signs=np.zeros(N), dale_beta=np.zeros(2 * N), fixed_i=fi,
                         fixed_j=fj, fixed_w=rng.normal(0, 1e-4, 30), params=params, dt_op=1e-3)
    return net, rng.normal(0, 1, (2, 10, M))


@pytest.mark.parametrize("state, error, match", [
    ({"v": np.nan}, ValueError, r"initial_state\['v'\].*finite.*nan"),
    ({"I_syn": np.inf}, ValueError, r"initial_state\['I_syn'\].*finite.*inf"),
    ({"lastspike": -np.inf}, ValueError, r"initial_state\['lastspike'\].*finite"),
    ({"v": -0.06 * amp}, DimensionMismatchError, r"initial_state\['v'\].*volt.*amp"),
    ({"h": 1.0 * volt}, DimensionMismatchError, r"initial_state\['h'\].*volt / second"),
    ({"v": np.zeros(5)}, ValueError, r"initial_state\['v'\].*shape"),
    ({"w": 0.0}, ValueError, "unknown state variable 'w'"),
])
def test_student_network_refuses_bad_initial_state(student, state, error, match):
    net, inputs = student
    with pytest.raises(error, match=match):
        run_student_network(net, inputs, initial_state=state)


def test_student_network_refuses_negative_threads(student):
    with pytest.raises(ValueError, match="threads.*-3"):
        run_student_network(student[0], student[1], threads=-3)


@pytest.mark.parametrize("shape", [(0, 5, 1), (2, 0, 1)])
def test_student_network_refuses_empty_inputs(student, shape):
    with pytest.raises(ValueError, match=rf"inputs.*{shape[0]}, {shape[1]}, 1"):
        run_student_network(student[0], np.zeros(shape))


def test_student_network_initial_state_in_units_equals_si(student):
    net, inputs = student
    target = b2.prefs.codegen.target
    b2.prefs.codegen.target = "numpy"
    try:
        v, i_syn = -60 * mV, 10 * mV
        q = run_student_network(net, inputs, initial_state={"v": v, "I_syn": i_syn})
        si = run_student_network(net, inputs, initial_state={"v": float(v / volt), "I_syn": float(i_syn / volt)})
    finally:
        b2.prefs.codegen.target = target
    np.testing.assert_array_equal(q.outputs, si.outputs)
    np.testing.assert_array_equal(q.final_state["v"], si.final_state["v"])
