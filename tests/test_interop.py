"""Interoperability: trained models inside a user's Brian2 network (prefixed names, the ``I_ext``
input), runs as NWB files, results as pandas tables, Brian2 quantities at the task API."""
import json
import sys

import numpy as np
import pytest
from brian2 import DimensionMismatchError, Hz, Network, SpikeMonitor, StateMonitor, Synapses, mV, ms, second

from brianforce.io import load_arrays
from brianforce.learning.results import SimulationResult, TrainingHistory
from brianforce.methods.force import FORCETrainer
from brianforce.tasks import GoNoGo, integration_trials, sinusoid, sum_of_sinusoids
from brianforce.tasks.patterns import sinusoid_patterns

RUN = 0.2 * second


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """Two small FORCE models (other seeds, other targets, frequencies given in Hz), saved."""
    folder = tmp_path_factory.mktemp("models")
    paths = []
    for seed, frequency in ((1, 5 * Hz), (2, 3 * Hz)):
        tr = FORCETrainer(200, seed=seed, device="runtime").fit(sinusoid(frequency), settle=0.1 * second, train=0.3 * second)
        assert not tr.history_.diverged and len(tr.history_.times) == 120
        assert tr.task_.params["frequency"] == float(frequency / Hz) and tr.task_.period == 1 / float(frequency / Hz)
        paths.append(tr.save(folder / f"force_{seed}.npz"))
    return paths


@pytest.fixture(scope="module")
def alone(model_files):
    """Each model's free-running output, run in its own trainer."""
    return [FORCETrainer.load(p).predict(RUN) for p in model_files]


def z_monitor(model):
    return StateMonitor(model.network_.readout, "z", record=True, dt=model.config.record_dt * second, when="end")


# ---------------------------------------------------------------------- embedding
def test_two_loaded_models_run_in_one_user_network_as_alone(model_files, alone):
    a, b = (FORCETrainer.load(p, name=n) for p, n in zip(model_files, ("a", "b")))
    assert sorted(o.name for o in a.network_.objects) == ["a_decoder", "a_neurons", "a_readout", "a_recurrent"]
    mons = [z_monitor(m) for m in (a, b)]
    spikes = SpikeMonitor(a.network_.neurons)
    net = Network(*a.network_.objects, *b.network_.objects, *mons, spikes)
    net.run(RUN)
    for mon, ref in zip(mons, alone):
        np.testing.assert_array_equal(np.asarray(mon.z_).T, ref.z)
        np.testing.assert_allclose(np.asarray(mon.t_) + ref.t[0], ref.t, rtol=0, atol=1e-12)
    keep = np.asarray(spikes.i) < a.config.n_record
    np.testing.assert_array_equal(np.asarray(spikes.i)[keep], alone[0].spike_i)
    np.testing.assert_allclose(np.asarray(spikes.t_)[keep] + alone[0].t[0], alone[0].spike_t, rtol=0, atol=1e-12)
    assert not np.array_equal(alone[0].z, alone[1].z)


def test_one_model_drives_another_through_its_input_current(model_files, alone):
    a, b = (FORCETrainer.load(p, name=n) for p, n in zip(model_files, ("a", "b")))
    link = Synapses(a.network_.readout, b.network_.neurons, "w : volt\nI_ext_post = w*z_pre : volt (summed)",
                    name="a_to_b")
    link.connect()
    link.w = 20 * mV
    mons = [z_monitor(m) for m in (a, b)]
    Network(*a.network_.objects, *b.network_.objects, link, *mons).run(50 * ms)
    n = len(mons[0].t_)
    np.testing.assert_array_equal(np.asarray(mons[0].z_).T, alone[0].z[:n])      # the driver is unchanged
    assert not np.array_equal(np.asarray(mons[1].z_).T, alone[1].z[:n])          # the driven model is not


def test_two_models_of_one_name_are_refused_in_one_network(model_files):
    a, b = (FORCETrainer.load(p, name="a") for p in model_files)
    with pytest.raises(ValueError, match="unique names.*'a_neurons'"):
        Network(*a.network_.objects, *b.network_.objects).run(1 * ms)


def test_the_name_is_not_part_of_the_saved_model(model_files, tmp_path):
    renamed = FORCETrainer.load(model_files[0], name="a")
    arrays, meta = load_arrays(renamed.save(tmp_path / "again.npz"))
    original, original_meta = load_arrays(model_files[0])
    assert meta["config"] == original_meta["config"] and "name" not in meta["config"]
    assert arrays.keys() == original.keys()
    for key in arrays:
        np.testing.assert_array_equal(arrays[key], original[key])


@pytest.mark.parametrize("bad", ["", "1net", "a-b", "two words", "_hidden", "ñame", "a.b"])
def test_a_name_that_cannot_prefix_brian2_names_is_refused(bad, tmp_path):
    with pytest.raises(ValueError, match=r"name must be a Python identifier.*got " + repr(bad).replace(".", r"\.")):
        FORCETrainer(20, name=bad)
    with pytest.raises(ValueError, match="name must be"):
        FORCETrainer.load(tmp_path / "never_read.npz", name=bad)
    with pytest.raises(TypeError, match="name must be a string"):
        FORCETrainer(20, name=3)


def test_the_docstring_names_the_input_current():
    doc = FORCETrainer.__doc__
    assert "I_ext" in doc and "eta_k" in doc and "name=" in doc


# ---------------------------------------------------------------------- NWB
def test_nwb_file_reads_back_exactly(alone, tmp_path):
    pytest.importorskip("pynwb")
    from brianforce.export import read_nwb, to_nwb

    run = alone[0]
    assert len(run.spike_t) > 10
    path = to_nwb(run, tmp_path / "run.nwb", session_description="FORCE sinusoid, free running")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.nwb"]        # no temporary file left
    back = read_nwb(path)
    for field in ("t", "z", "target", "spike_i", "spike_t"):
        np.testing.assert_array_equal(getattr(back, field), getattr(run, field), err_msg=field)
    assert (back.n_recorded, back.n_neurons, back.phase) == (run.n_recorded, run.n_neurons, "test")
    assert back.wall_time == run.wall_time


def test_nwb_units_table_has_one_unit_per_recorded_neuron(alone, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    from brianforce.export import to_nwb

    run = alone[1]
    with pynwb.NWBHDF5IO(str(to_nwb(run, tmp_path / "run.nwb")), "r") as io:
        nwb = io.read()
        assert list(nwb.units.id[:]) == list(range(run.n_recorded))
        for k in (0, run.n_recorded // 2, run.n_recorded - 1):
            np.testing.assert_array_equal(nwb.units.get_unit_spike_times(k), run.spike_t[run.spike_i == k])
        z = nwb.processing["brianforce"]["z"]
        assert z.unit == "a.u." and z.data.shape == run.z.shape


def test_nwb_synthetic_result_without_spikes_and_with_nan_targets(tmp_path):
    pytest.importorskip("pynwb")
    from brianforce.export import read_nwb, to_nwb

    t = 0.1 + np.arange(50) * 1e-3
    run = SimulationResult(t, np.sin(t)[:, None] * [1, 2], np.full((50, 2), np.nan), np.zeros(0, int),
                           np.zeros(0), 0, 30, "settle")
    back = read_nwb(to_nwb(run, tmp_path / "settle.nwb"))
    np.testing.assert_array_equal(back.z, run.z)
    assert np.isnan(back.target).all() and back.spike_t.size == 0 and back.phase == "settle"


def test_missing_corrupt_or_foreign_nwb_files_are_reported(alone, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    from datetime import datetime, timezone

    from brianforce.export import NWBFileError, read_nwb, to_nwb

    with pytest.raises(NWBFileError, match="no NWB file at .*none.nwb"):
        read_nwb(tmp_path / "none.nwb")
    garbage = tmp_path / "garbage.nwb"
    garbage.write_bytes(b"not an HDF5 file" * 64)
    with pytest.raises(NWBFileError, match="garbage.nwb is not a readable NWB file"):
        read_nwb(garbage)
    cut = to_nwb(alone[0], tmp_path / "cut.nwb")
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    with pytest.raises(NWBFileError, match="cut.nwb is not a readable NWB file"):
        read_nwb(cut)
    foreign = tmp_path / "foreign.nwb"
    with pynwb.NWBHDF5IO(str(foreign), "w") as io:
        io.write(pynwb.NWBFile(session_description="other", identifier="x",
                               session_start_time=datetime.now(timezone.utc)))
    with pytest.raises(NWBFileError, match="without a brianforce run"):
        read_nwb(foreign)


def test_to_nwb_refuses_spikes_of_unrecorded_neurons(tmp_path):
    pytest.importorskip("pynwb")
    from brianforce.export import to_nwb

    run = SimulationResult(np.arange(3) * 1e-3, np.zeros((3, 1)), np.zeros((3, 1)), np.array([0, 5]),
                           np.array([0.0, 1e-3]), 5, 10)
    with pytest.raises(ValueError, match="spike_i must index the 5 recorded neurons"):
        to_nwb(run, tmp_path / "bad.nwb")
    with pytest.raises(TypeError, match="SimulationResult"):
        to_nwb({"t": []}, tmp_path / "bad.nwb")
    assert not list(tmp_path.iterdir())


def test_without_pynwb_the_error_names_the_extra(monkeypatch, tmp_path):
    from brianforce.export import read_nwb

    monkeypatch.setitem(sys.modules, "pynwb", None)
    with pytest.raises(ImportError, match=r'pip install "brianforce\[nwb\]"'):
        read_nwb(tmp_path / "run.nwb")


# ---------------------------------------------------------------------- pandas tables
def test_every_result_type_has_to_frame():
    from brianforce.learning.recurrent import RecurrentResult
    from brianforce.methods.comparison import ComparisonResult
    from brianforce.methods.factor_student.results import StudentRun
    from brianforce.methods.recurrent_results import LearningCurve, TrialRecording
    from brianforce.methods.transfer import Kim2019Result, LIFRun
    from brianforce.rate.backprop import BPTTHistory as RateTrainingHistory
    from brianforce.rate.networks import RateResult
    from brianforce.rate.teacher import TeacherRun

    for cls in (SimulationResult, TrainingHistory, RecurrentResult, ComparisonResult, StudentRun, LearningCurve,
                TrialRecording, Kim2019Result, LIFRun, RateTrainingHistory, RateResult, TeacherRun):
        assert callable(getattr(cls, "to_frame", None)), cls.__name__


def test_student_run_frames():
    from brianforce.methods.factor_student.results import StudentRun

    out, fac = np.arange(12.0).reshape(2, 6, 1), np.arange(36.0).reshape(2, 6, 3)
    run = StudentRun(out, fac, None, np.array([3, 1]), np.array([0.01, 0.7]), np.array([0.0, 0.6]), 0.6)
    f = run.to_frame()
    assert list(f.columns) == ["trial", "t", "output_0", "factor_0", "factor_1", "factor_2"]
    assert len(f) == 12 and f["t"].iloc[7] == pytest.approx(0.7)
    assert f["factor_2"].iloc[7] == fac[1, 1, 2]
    assert run.spikes_frame().to_dict("list") == {"neuron": [3, 1], "t": [0.01, 0.7]}


def test_lif_run_and_kim2019_result_frames():
    from brianforce.methods.transfer import Kim2019Result, LIFRun

    run = LIFRun(np.arange(6.0).reshape(2, 3), 1e-3, np.array([20.0, 30.0]), np.array([1]), np.array([4]),
                 np.array([0.002]), np.array([5.0, 6.0]))
    f = run.to_frame()
    assert list(f.columns) == ["trial", "t", "output", "scaling_factor", "mean_rate_hz"]
    np.testing.assert_allclose(f["t"], [0.0, 1e-3, 2e-3] * 2)
    assert f["output"].tolist() == list(range(6)) and f["scaling_factor"].tolist() == [20.0] * 3 + [30.0] * 3
    assert run.spikes_frame().to_dict("list") == {"trial": [1], "neuron": [4], "t": [0.002]}
    res = Kim2019Result("go_nogo", 0, True, 10, 0.9, 25.0, 0.04, np.ones(3), 0.8, 0.7)
    f = res.to_frame()
    assert len(f) == 1 and f.loc[0, "task_name"] == "go_nogo" and f.loc[0, "lif_accuracy"] == 0.8
    assert "grid_accuracy" not in f and "trainer" not in f


def test_recurrent_learning_frames():
    from brianforce.methods.recurrent_results import LearningCurve, TrialRecording

    curve = LearningCurve(np.array([0, 1, 0]), np.array([1e-3, 5e-4, 2e-4]), np.array([0.1, 0.5, 0.9]))
    assert list(curve.to_frame().columns) == ["trial", "condition", "rms_error_v", "correlation"]
    currents = np.arange(2 * 1 * 4 * 3, dtype=float).reshape(2, 1, 4, 3)
    spikes = [[(np.array([5, 2]), np.array([0.001, 0.003]))], [(np.array([], int), np.array([]))]]
    rec = TrialRecording(currents, spikes, 0.01, 0.04, 10)
    f = rec.to_frame()
    assert list(f.columns) == ["trial", "condition", "t", "neuron", "current_v"] and len(f) == currents.size
    row = f[(f.trial == 1) & np.isclose(f.t, 0.02) & (f.neuron == 1)]
    assert row["current_v"].item() == currents[1, 0, 2, 1]
    s = rec.spikes_frame()
    assert s.to_dict("list") == {"trial": [0, 0], "condition": [0, 0], "neuron": [5, 2], "t": [0.001, 0.003]}


def test_rate_and_comparison_frames():
    from brianforce.methods.comparison import ComparisonResult
    from brianforce.rate.backprop import BPTTHistory as RateTrainingHistory
    from brianforce.rate.networks import RateResult
    from brianforce.rate.teacher import TeacherRun

    h = RateTrainingHistory([3.0, 2.0, 1.0, 0.5], [2, 4], [1.5, 0.4], [0.5, 1.0]).to_frame()
    assert h["iteration"].tolist() == [1, 2, 3, 4]
    np.testing.assert_array_equal(h["eval_accuracy"], [np.nan, 0.5, np.nan, 1.0])
    r = RateResult(np.array([0.1, 0.2]), np.ones((2, 2)), np.zeros((2, 2))).to_frame()
    assert list(r.columns) == ["t", "z_0", "z_1", "target_0", "target_1"]
    teacher = TeacherRun(np.zeros((2, 3, 4)), np.arange(12.0).reshape(2, 3, 2), np.zeros(4))
    assert list(teacher.to_frame().columns) == ["trial", "sample", "output_0", "output_1"]
    np.testing.assert_allclose(teacher.to_frame(dt=5 * ms)["t"], [0, 0.005, 0.01] * 2)
    with pytest.raises(DimensionMismatchError, match="dt must have units of second"):
        teacher.to_frame(dt=5 * Hz)
    c = ComparisonResult(1e-6, 0.9, 0.1, 0.2, 0.3, 0.4).to_frame()
    assert len(c) == 1 and c.loc[0, "rate_to_spike_ratio"] == pytest.approx(4.0)


# ---------------------------------------------------------------------- quantities at the task API
def _same_trials(a, b):
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.targets, b.targets)
    assert a.dt == b.dt and a.response == b.response


def test_task_constructors_take_brian2_quantities():
    from brianforce.tasks import classification_trials, oscillation_trials, sawtooth, van_der_pol
    from brianforce.tasks.patterns import ou_patterns, pattern_targets

    t = np.linspace(0, 1, 101)
    for task, plain in ((sinusoid(5 * Hz), sinusoid(5)), (sawtooth(2 * Hz), sawtooth(2)),
                        (van_der_pol(frequency=2 * Hz), van_der_pol(frequency=2)),
                        (sum_of_sinusoids([1, 2] * Hz), sum_of_sinusoids([1, 2])),
                        (sum_of_sinusoids([1 * Hz, 2 * Hz]), sum_of_sinusoids([1, 2]))):
        np.testing.assert_array_equal(task(t), plain(t))
        assert task.period == plain.period and task.params == plain.params
    _same_trials(integration_trials(3, 1 * ms, baseline=200 * ms, stimulus=0.5 * second, delay=100 * ms,
                                    response=300 * ms), integration_trials(3, 1e-3))
    _same_trials(classification_trials(3, 1 * ms, pulse=100 * ms, gap=0.1 * second), classification_trials(3))
    osc = oscillation_trials(2, 1 * ms, freqs=[1, 2, 3, 5] * Hz, cue_amplitude=1.0, cue_duration=50 * ms)
    _same_trials(osc, oscillation_trials(2, cue_amplitude=1.0))
    assert json.dumps(osc.info) == json.dumps(oscillation_trials(2, cue_amplitude=1.0).info)
    assert GoNoGo(dt=5 * ms) == GoNoGo() and GoNoGo().accuracy(np.ones((1, 200)), [1], dt=5 * ms) == 1.0
    for make in (sinusoid_patterns, ou_patterns):
        np.testing.assert_array_equal(make(3, 500 * ms, 1 * ms, np.random.default_rng(0)),
                                      make(3, 0.5, 1e-3, np.random.default_rng(0)))
    assert pattern_targets(np.zeros((10, 2)), 0.0, 1.0, 1 * ms, [0, 1]).dt == 1e-3


@pytest.mark.parametrize("make, name", [
    (lambda: sinusoid(5 * second), "frequency"),
    (lambda: sinusoid(5 * mV), "frequency"),
    (lambda: sum_of_sinusoids([1 * Hz, 2 * ms]), r"frequencies\[1\]"),
    (lambda: integration_trials(2, dt=1 * Hz), "dt"),
    (lambda: integration_trials(2, baseline=3 * mV), "baseline"),
    (lambda: GoNoGo(dt=5 * Hz), "dt"),
    (lambda: sinusoid_patterns(3, 1 * Hz, 1e-3, np.random.default_rng(0)), "duration"),
])
def test_task_constructors_refuse_wrong_units(make, name):
    with pytest.raises(DimensionMismatchError, match=rf"^{name} must have units of"):
        make()

