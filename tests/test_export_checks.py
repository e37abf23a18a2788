"""NWB export of recorded runs: shapes, indices, times and units are checked before writing."""
import re

import numpy as np
import pytest
from brian2 import Quantity, nA, volt

from brianforce.learning.results import SimulationResult

pynwb = pytest.importorskip("pynwb")
from brianforce.export import read_nwb, to_nwb  # noqa: E402

T = np.arange(100) * 1e-3


def _run(t=T, z=None, target=None, spike_i=(), spike_t=(), n_recorded=3, n_neurons=10):
    z = np.stack([np.sin(t), np.cos(t)], axis=1) if z is None else z
    return SimulationResult(np.asarray(t, float), z, z if target is None else target, np.asarray(spike_i),
                            np.asarray(spike_t, float), n_recorded, n_neurons)


def _z_unit(path):
    with pynwb.NWBHDF5IO(str(path), "r") as io:
        return io.read().processing["brianforce"]["z"].unit


@pytest.mark.parametrize("field", ["z", "target"])
@pytest.mark.parametrize("shape", [(50, 2), (2, 100), (100, 2, 1), ()])
def test_outputs_must_have_one_row_per_time(tmp_path, field, shape):
    bad = np.zeros(shape)
    run = _run(**{field: bad})
    with pytest.raises(ValueError, match=rf"{field} must be \(n_times, n_outputs\) or \(n_times,\) with n_times = "
                                         rf"len\(t\) = 100, got shape {re.escape(str(shape))}"):
        to_nwb(run, tmp_path / "bad.nwb")
    assert not list(tmp_path.iterdir())


def test_one_dimensional_outputs_read_back_unchanged(tmp_path):
    run = _run(z=np.sin(T), target=np.cos(T)[:, None], spike_i=[0, 2], spike_t=[0.01, 0.05])
    back = read_nwb(to_nwb(run, tmp_path / "run.nwb"))
    assert back.z.shape == (100,) and back.target.shape == (100, 1)
    for field in ("t", "z", "target", "spike_i", "spike_t"):
        np.testing.assert_array_equal(getattr(back, field), getattr(run, field), err_msg=field)


def test_spike_indices_must_be_whole(tmp_path):
    with pytest.raises(ValueError, match=r"spike_i must hold whole neuron indices.*\[0\.7, 1\.9\]"):
        to_nwb(_run(spike_i=[0.7, 1.9], spike_t=[0.01, 0.02]), tmp_path / "bad.nwb")
    with pytest.raises(ValueError, match="spike_i must hold whole neuron indices"):
        to_nwb(_run(spike_i=[np.nan], spike_t=[0.01]), tmp_path / "bad.nwb")
    back = read_nwb(to_nwb(_run(spike_i=[1.0, 0.0], spike_t=[0.01, 0.02]), tmp_path / "ok.nwb"))
    assert back.spike_i.tolist() == [1, 0] and back.spike_i.dtype == np.int64


@pytest.mark.parametrize("unit, written", [(None, "a.u."), (Quantity(1.0), "dimensionless"),
                                           (np.float64(1.0), "dimensionless"), (volt / volt, "dimensionless"),
                                           (1 * nA, "A")], ids=["none", "quantity", "float", "ratio", "nA"])
def test_units_of_outputs(tmp_path, unit, written):
    from brianforce.learning.recurrent import RecurrentResult

    run = RecurrentResult(T, np.ones((100, 2)), np.ones((100, 2)), np.zeros(0, int), np.zeros(0), 0, 5,
                          neurons=np.array([3, 4]), unit=unit)
    assert _z_unit(to_nwb(run, tmp_path / "run.nwb")) == written


@pytest.mark.parametrize("change, match", [
    (dict(t=np.where(np.arange(100) == 10, np.nan, T)), r"t must be finite and non-decreasing; t\[10\] = nan"),
    (dict(t=T[::-1].copy()), r"t must be finite and non-decreasing; t\[1\] = 0\.098"),
    (dict(spike_i=[0, 1], spike_t=[np.nan, 0.05]), r"spike times must be finite and within the run"),
    (dict(spike_i=[0, 1], spike_t=[-5.0, 0.05]), r"within the run, \[-0\.001, 0\.1\] s .* got -5\.0 \.\. 0\.05 s"),
    (dict(spike_i=[0, 1], spike_t=[0.01, 1e9]), r"spike times must be finite and within the run"),
    (dict(n_recorded=50), r"n_recorded must be in \[0, n_neurons = 10\], got 50"),
    (dict(t=np.zeros(0), z=np.zeros((0, 2))), r"SimulationResult \(phase 'test'\) has no recorded samples"),
])
def test_times_and_counts_are_checked(tmp_path, change, match):
    with pytest.raises(ValueError, match=match):
        to_nwb(_run(**change), tmp_path / "bad.nwb")
    assert not list(tmp_path.iterdir())


def test_spikes_in_the_last_sample_step_are_kept(tmp_path):
    t = 0.2 + np.arange(100) * 1e-3                  # samples at 0.2 .. 0.299 s of a run to 0.3 s
    run = _run(t=t, spike_i=[2, 0, 1], spike_t=[0.2, 0.25, 0.2999], n_recorded=3, n_neurons=3)
    back = read_nwb(to_nwb(run, tmp_path / "run.nwb"))
    np.testing.assert_array_equal(back.spike_t, run.spike_t)
    np.testing.assert_array_equal(back.spike_i, run.spike_i)
    one = read_nwb(to_nwb(_run(t=T[:1], z=np.ones((1, 1)), spike_i=[1], spike_t=[0.0005]), tmp_path / "one.nwb"))
    assert one.z.shape == (1, 1) and one.spike_t.tolist() == [0.0005]
