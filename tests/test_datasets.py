"""Tests for brianforce.datasets: synthetic look-alikes, path resolution, validation, real data."""
import dataclasses
import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
from scipy.interpolate import PchipInterpolator
from scipy.io import loadmat, savemat

from brianforce import datasets as ds
from brianforce.io import save_arrays

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv(ds.ENV_VAR, raising=False)


@pytest.fixture(scope="module")
def make_synthetic():
    spec = importlib.util.spec_from_file_location("make_synthetic", REPO / "data" / "make_synthetic.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _real_root():
    env = os.environ.get(ds.ENV_VAR)
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if cand.is_dir():
            return cand
    return None


@pytest.fixture
def real_root():
    root = _real_root()
    if root is None:
        pytest.skip(f"recorded data not available: set {ds.ENV_VAR} to a folder laid out like "
                    "shared/data (or place it at ../shared/data next to the repository)")
    return root


def _real_file(root, rel):
    p = root / rel
    if not p.is_file():
        pytest.skip(f"{p} not present in the data folder")
    return p


# --------------------------------------------------------------------------- synthetic look-alikes
def test_synthetic_reaching_emg_shapes_units_and_profile(no_env):
    d = ds.load_reaching_emg(synthetic=True)
    assert d.synthetic and Path(d.source).parent == REPO / "data"
    assert d.emg.shape == (8, 81, 2) and d.emg.dtype == np.float64
    assert d.dt == 0.01 and np.allclose(d.time, np.arange(81) * 0.01)
    assert np.array_equal(d.conditions, np.arange(1, 9))
    assert np.allclose(d.condition_angles, 2 * np.pi * np.arange(1, 9) / 8)
    assert d.go_time == 0.35 and d.metadata["hold"] == [0.0, 0.35]
    assert np.isclose(d.emg.max(), 1.0) and d.emg.min() > -0.5
    hold = d.time < d.go_time
    assert np.abs(d.emg[:, hold]).max() < 1e-3            # flat during the hold
    peak_t = d.time[np.abs(d.emg).argmax(axis=1)]          # (8, 2) peak times
    assert np.all(peak_t > d.go_time) and np.all(peak_t < 0.75)
    # condition-dependent: every pair of conditions differs clearly
    flat = d.emg.reshape(8, -1)
    dist = np.linalg.norm(flat[:, None] - flat[None], axis=-1)
    assert dist[~np.eye(8, dtype=bool)].min() > 0.1
    # multi-phasic: at least one channel/condition has >= 2 separated local maxima above 0.1
    x = d.emg
    locmax = (x[:, 1:-1] > x[:, :-2]) & (x[:, 1:-1] > x[:, 2:]) & (x[:, 1:-1] > 0.1)
    assert locmax.sum(axis=1).max() >= 2
    # smooth: second differences far below the signal range
    assert np.abs(np.diff(d.emg, 2, axis=1)).max() < 0.25


def test_synthetic_hatsopoulos_emg(no_env):
    d = ds.load_hatsopoulos_emg(synthetic=True)
    assert d.synthetic
    assert d.emg.shape == (8, 3341, 13) and d.dt == 0.001
    assert np.allclose(d.time[[0, -1]], [0.0, 3.34])
    assert np.array_equal(d.conditions, np.arange(0, 360, 45))
    assert np.allclose(d.condition_angles, np.deg2rad(d.conditions))
    assert len(d.channels) == 13 and len(set(d.channels)) == 13
    assert np.all(np.isfinite(d.emg))
    n = d.normalised()
    assert np.allclose(np.abs(n.emg).max(axis=(0, 1)), 1.0)
    assert np.allclose(n.emg * np.array(n.metadata["normalised_by"]), d.emg)
    scales = np.abs(d.emg).max(axis=(0, 1))
    assert scales.max() / scales.min() > 10                  # very different channel scales
    # baseline before onset (< 0.3 s) is flat; activity rises after it
    base = d.emg[:, d.time < 0.3]
    assert np.ptp(base, axis=1).max() < 0.02 * scales.max()
    assert np.all(d.emg[:, d.time > 1.0].max(axis=1) > base.max(axis=1))


def test_synthetic_m1_rates(no_env):
    r = ds.load_m1_rates(synthetic=True)
    assert r.synthetic and r.value_unit == "spikes/s"
    assert r.rates.shape == (8, 121, 141) and r.dt == 0.01
    assert np.allclose(r.time[[0, -1]], [-0.8, 0.4]) and np.allclose(np.diff(r.time), 0.01)
    assert np.array_equal(r.conditions, np.arange(0, 360, 45))
    assert r.units.shape == (141,) and r.units[0] == "unit_000"
    assert r.rates.min() >= 0 and r.rates.max() <= 100
    assert 1.0 < r.rates.mean() < 10.0
    # directional tuning: the across-direction spread is large for most units
    spread = np.ptp(r.rates.mean(axis=1), axis=0) / (r.rates.mean(axis=(0, 1)) + 1e-9)
    assert np.median(spread) > 0.2
    assert set(r.extras) >= {"xhandposition", "yhandposition"}
    assert r.extras["xhandposition"].shape == (8, 121)


def test_shipped_files_reproduce_from_seed(make_synthetic, no_env, tmp_path):
    """data/make_synthetic.py with seed 0 regenerates exactly the shipped arrays; other seeds differ."""
    written = make_synthetic.main(["--seed", "0", "--out", str(tmp_path)])
    assert len(written) == 3
    for p in written:
        shipped = REPO / "data" / p.name
        assert shipped.stat().st_size < 200_000
        with np.load(p) as a, np.load(shipped) as b:
            for k in a.files:
                if k != "__metadata_json__":
                    assert np.array_equal(a[k], b[k]), (p.name, k)
    other = make_synthetic.make_reaching_emg(1)["emg"]
    assert not np.allclose(other, make_synthetic.make_reaching_emg(0)["emg"])
    # the loader's upsampling is PCHIP of the stored coarse grid (independent re-computation)
    m = make_synthetic.make_m1_rates(0)
    ref = PchipInterpolator(m["time_ms_coarse"], m["firing_rate_coarse"].astype(float), axis=1)(m["time_ms"])
    r = ds.load_m1_rates(synthetic=True)
    assert np.allclose(r.rates, np.clip(ref, 0, None).transpose(2, 1, 0))
    assert np.allclose(r.rates[:, ::3], m["firing_rate_coarse"].transpose(2, 1, 0), atol=1e-4)


def test_to_frame_long_table(no_env):
    d = ds.load_reaching_emg(synthetic=True)
    f = d.to_frame()
    assert list(f.columns) == ["condition", "time", "channel", "value"]
    assert len(f) == 8 * 81 * 2
    back = f.pivot_table(index=["condition", "time"], columns="channel", values="value")
    assert np.allclose(back.to_numpy().reshape(8, 81, 2), d.emg)
    row = f[(f.condition == 3) & np.isclose(f.time, 0.5) & (f.channel == "muscle_1")]
    assert len(row) == 1 and row.value.iloc[0] == d.emg[2, 50, 1]
    r = ds.load_m1_rates(synthetic=True).to_frame()
    assert len(r) == 8 * 121 * 141 and set(r.condition.unique()) == set(range(0, 360, 45))


def test_resampled_to_simulation_step(no_env):
    from brian2 import DimensionMismatchError, ms, mV

    d = ds.load_reaching_emg(synthetic=True)
    hold = d.resampled(1e-3, kind="hold")
    # the DePasquale demo repeats every 10-ms bin 10 times at dt = 1 ms
    assert hold.emg.shape == (8, 810, 2) and hold.dt == 1e-3
    assert np.array_equal(hold.emg, np.repeat(d.emg, 10, axis=1))
    fine = d.resampled(0.05 * ms)                       # Brian2 units accepted
    assert fine.emg.shape == (8, 16200, 2) and np.isclose(fine.dt, 5e-5)
    assert np.allclose(fine.time[:3], [0, 5e-5, 1e-4])
    ref = np.interp(fine.time, d.time, d.emg[4, :, 1])  # independent per-trace interpolation
    assert np.allclose(fine.emg[4, :, 1], ref)
    assert np.allclose(fine.emg[:, ::200], d.emg)       # passes through the original samples
    p = d.resampled(1e-3, kind="pchip")
    assert np.allclose(p.emg[:, ::10], d.emg)
    r = ds.load_m1_rates(synthetic=True).resampled(1e-3)
    assert r.rates.shape == (8, 1210, 141) and r.rates.min() >= 0
    with pytest.raises(DimensionMismatchError):
        d.resampled(1 * mV)
    with pytest.raises(ValueError, match="positive"):
        d.resampled(-1e-3)
    with pytest.raises(ValueError, match="kind"):
        d.resampled(1e-3, kind="nearest")


# --------------------------------------------------------------------------- path resolution
def test_data_root_order(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    monkeypatch.setenv(ds.ENV_VAR, str(b))
    assert ds.data_root(a) == a                       # explicit path wins
    assert ds.data_root() == b                        # then the environment variable
    monkeypatch.delenv(ds.ENV_VAR)
    monkeypatch.setattr(ds.files, "DEFAULT_ROOT", a)
    assert ds.data_root() == a                        # then <repo>/../shared/data
    monkeypatch.setattr(ds.files, "DEFAULT_ROOT", tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match=ds.ENV_VAR):
        ds.data_root()
    with pytest.raises(FileNotFoundError, match=ds.ENV_VAR):
        ds.load_reaching_emg()                        # no data, synthetic not requested
    assert ds.load_reaching_emg(synthetic=True).synthetic
    monkeypatch.setenv(ds.ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match=ds.ENV_VAR):
        ds.data_root()
    with pytest.raises(FileNotFoundError):
        ds.data_root(tmp_path / "nope")


def _fake_reaching(root, emg):
    p = root / "depasquale_emg" / "reaching_data.mat"
    p.parent.mkdir(parents=True, exist_ok=True)
    savemat(p, {"emg": emg})
    return p


def test_env_var_and_path_forms(tmp_path, monkeypatch):
    emg = np.linspace(-0.1, 1.0, 8 * 81 * 2).reshape(8, 81, 2)
    p = _fake_reaching(tmp_path, emg)
    monkeypatch.setenv(ds.ENV_VAR, str(tmp_path))
    d = ds.load_reaching_emg(synthetic=True)          # real data via the env var beats the look-alike
    assert not d.synthetic and Path(d.source) == p and np.array_equal(d.emg, emg)
    monkeypatch.delenv(ds.ENV_VAR)
    for form in (p, p.parent, tmp_path, str(p)):      # file, its folder, or a data root
        assert np.array_equal(ds.load_reaching_emg(form).emg, emg)
    # an explicit synthetic file path works too
    assert ds.load_reaching_emg(ds.synthetic_path("reaching_emg")).synthetic
    with pytest.raises(FileNotFoundError):
        ds.load_reaching_emg(tmp_path / "missing.mat")
    with pytest.raises(ValueError, match="no synthetic"):
        ds.synthetic_path("alm")


# --------------------------------------------------------------------------- bad files
@pytest.mark.parametrize("content, match", [
    ({"emg": np.zeros((8, 80, 2))}, r"shape \(8, 80, 2\), expected \(8, 81, 2\)"),
    ({"emg": np.zeros((2, 81, 8))}, "shape"),
    ({"EMG": np.zeros((8, 81, 2))}, "missing variable 'emg'"),
    ({"emg": np.where(np.arange(8 * 81 * 2).reshape(8, 81, 2) == 7, np.nan, 0.0)}, "NaN"),
    ({"emg": np.full((8, 81, 2), 50.0)}, "plausible range"),
])
def test_reaching_bad_files(tmp_path, content, match):
    p = tmp_path / "reaching_data.mat"
    savemat(p, content)
    with pytest.raises(ds.DataFormatError, match=match):
        ds.load_reaching_emg(p)


def test_not_a_mat_file_and_wrong_kind(tmp_path):
    p = tmp_path / "reaching_data.mat"
    p.write_bytes(b"this is not a MATLAB file at all" * 10)
    with pytest.raises(ds.DataFormatError, match="not a readable MATLAB file"):
        ds.load_reaching_emg(p)
    # a synthetic file of another data set is refused by its kind
    with pytest.raises(ds.DataFormatError, match="synthetic 'reaching_emg'"):
        ds.load_reaching_emg(ds.synthetic_path("m1_rates"))
    # a synthetic-format file whose checksum does not match is refused
    q = tmp_path / "syn.npz"
    save_arrays(q, {"emg": np.zeros((8, 81, 2))}, {}, kind="synthetic-reaching-emg")
    assert ds.load_reaching_emg(q).synthetic
    bad = tmp_path / "bad.npz"
    save_arrays(bad, {"emg": np.zeros((8, 81, 3))}, {}, kind="synthetic-reaching-emg")
    with pytest.raises(ds.DataFormatError, match="shape"):
        ds.load_reaching_emg(bad)


def _m1_arrays():
    return {"firing_rate": np.full((141, 121, 8), 5.0), "time_ms": np.arange(-800, 401, 10),
            "reach_direction_deg": np.arange(0, 360, 45)}


@pytest.mark.parametrize("change, match", [
    (lambda a: a.update(firing_rate=-a["firing_rate"]), "plausible range"),
    (lambda a: a.update(firing_rate=a["firing_rate"] * 1e4), "plausible range"),
    (lambda a: a.update(time_ms=np.arange(121) * 20), "10 ms steps"),
    (lambda a: a.pop("time_ms"), "missing variable 'time_ms'"),
    (lambda a: a.update(firing_rate=a["firing_rate"][:140]), "shape"),
])
def test_m1_bad_files(tmp_path, change, match):
    a = _m1_arrays()
    p = tmp_path / "m1.npz"
    np.savez(p, **a)
    assert ds.load_m1_rates(p).rates.shape == (8, 121, 141)
    change(a)
    np.savez(p, **a)
    with pytest.raises(ds.DataFormatError, match=match):
        ds.load_m1_rates(p)


@pytest.mark.parametrize("deg", [np.deg2rad(np.arange(0, 360, 45)), np.arange(8) * 22.5,
                                 np.array([0, 0, 90, 90, 180, 180, 270, 270]), np.arange(45, 361, 45),
                                 np.arange(-45, 315, 45)])
def test_m1_directions_are_distinct_whole_degrees(tmp_path, deg):
    a = _m1_arrays()
    a["reach_direction_deg"] = deg
    p = tmp_path / "m1.npz"
    np.savez(p, **a)
    with pytest.raises(ds.DataFormatError, match=r"reach_direction_deg must be 8 distinct whole degrees in \[0, 360\)"):
        ds.load_m1_rates(p)


def test_m1_kinematics_are_checked(tmp_path):
    a = _m1_arrays()
    x = np.random.default_rng(2).normal(size=(8, 121))
    a.update(xhandposition=x, elbowangle=x + 1, duration_mean=np.ones(8))
    p = tmp_path / "m1.npz"
    np.savez(p, **a)
    r = ds.load_m1_rates(p)
    assert sorted(r.extras) == ["elbowangle", "xhandposition"] and np.array_equal(r.extras["xhandposition"], x)
    bad = x.copy()
    bad[3, 10] = np.nan
    np.savez(p, **dict(a, xhandposition=bad))
    with pytest.raises(ds.DataFormatError, match=r"'xhandposition' has NaN/Inf values.*\(3, 10\)"):
        ds.load_m1_rates(p)
    np.savez(p, **dict(a, elbowangle=x.T))
    with pytest.raises(ds.DataFormatError, match=r"'elbowangle' .*shape \(121, 8\), expected \(8, 121\)"):
        ds.load_m1_rates(p)
    np.savez(p, **dict(a, targetangle=np.arange(8.0), handposition=np.zeros((8, 121, 2))))
    assert sorted(ds.load_m1_rates(p).extras) == ["elbowangle", "xhandposition"]   # not (direction, time)


def test_resampled_keeps_kinematics_and_refuses_too_few_samples(no_env):
    from brian2 import ms

    r = ds.load_m1_rates(synthetic=True)
    r = dataclasses.replace(r, extras=dict(r.extras, per_condition=np.arange(8.0)))
    for kind in ("hold", "linear", "pchip"):
        rr = r.resampled(1e-3, kind=kind)
        assert sorted(rr.extras) == sorted(r.extras)
        assert np.array_equal(rr.extras["per_condition"], np.arange(8.0))   # no time axis: unchanged
        for k in ("xhandposition", "yhandspeed"):
            v = r.extras[k]
            assert rr.extras[k].shape == (8, 1210)
            assert np.allclose(rr.extras[k][:, ::10], v)                    # passes through the samples
            alone = dataclasses.replace(r, rates=v[:, :, None], extras={}).resampled(1e-3, kind=kind)
            assert np.array_equal(rr.extras[k], alone.rates[:, :, 0])
    e = ds.load_reaching_emg(synthetic=True)
    for data, dts in ((e, (1, 0.81, 0.6, 5.0)), (r, (1, 1.21, 0.9, 5.0))):    # 0.81 s and 1.21 s of data
        for dt in dts:
            with pytest.raises(ValueError, match=r"leaves [01] sample\(s\).*dt is in seconds"):
                data.resampled(dt)
    assert e.resampled(0.4).emg.shape == (8, 2, 2) and e.resampled(1 * ms).emg.shape == (8, 810, 2)


def test_m1_axis_order_against_file(tmp_path):
    a = _m1_arrays()
    a["firing_rate"] = np.random.default_rng(0).uniform(0, 50, (141, 121, 8))
    p = tmp_path / "m1.npz"
    np.savez(p, **a)
    r = ds.load_m1_rates(p)
    assert r.rates[3, 10, 100] == a["firing_rate"][100, 10, 3]
    assert np.allclose(r.time, a["time_ms"] / 1000)


def test_alm_files(tmp_path):
    h5py = pytest.importorskip("h5py", reason="h5py (optional extra 'data') is needed to write .jld test files")
    folder = tmp_path / "alm_kim"
    folder.mkdir()
    rng = np.random.default_rng(1)
    data = {}
    for side in ("left", "right"):
        data[side] = rng.uniform(0, 40, (101, 1824))
        with h5py.File(folder / f"movingrate_Pyr1Hz_lick{side}.jld", "w") as f:
            f["Pyr"] = data[side]
            f.create_group("_creator")
    r = ds.load_alm_rates(tmp_path)
    assert r.rates.shape == (2, 101, 1824) and r.dt == 0.02
    assert list(r.conditions) == ["lick_left", "lick_right"]
    assert np.array_equal(r.rates[0], data["left"]) and np.array_equal(r.rates[1], data["right"])
    assert np.allclose(r.time[[0, -1]], [0, 2.0])
    with h5py.File(folder / "movingrate_Pyr1Hz_lickright.jld", "w") as f:
        f["Pyr"] = np.zeros((1824, 101))                      # transposed by mistake
    with pytest.raises(ds.DataFormatError, match=r"expected \(101, 1824\)"):
        ds.load_alm_rates(folder)
    (folder / "movingrate_Pyr1Hz_lickright.jld").write_bytes(b"garbage")
    with pytest.raises(ds.DataFormatError, match="HDF5"):
        ds.load_alm_rates(folder)


def test_alm_single_file_is_refused(tmp_path):
    h5py = pytest.importorskip("h5py", reason="h5py (optional extra 'data') is needed to write .jld test files")
    folder = tmp_path / "alm_kim"
    folder.mkdir()
    for side, value in (("left", 1.0), ("right", 2.0)):
        with h5py.File(folder / f"movingrate_Pyr1Hz_lick{side}.jld", "w") as f:
            f["Pyr"] = np.full((101, 1824), value)
    for side in ("left", "right"):
        one = folder / f"movingrate_Pyr1Hz_lick{side}.jld"
        with pytest.raises(ds.DataFormatError, match=r"single ALM file.*needs the folder holding both"):
            ds.load_alm_rates(one)
        with pytest.raises(ds.DataFormatError, match="single ALM file"):
            ds.load_dataset("auto", one)
    r = ds.load_dataset("auto", folder)
    assert r.rates[0].max() == 1.0 and r.rates[1].max() == 2.0


def test_alm_without_h5py(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "h5py", None)          # makes `import h5py` fail
    folder = tmp_path / "alm_kim"
    folder.mkdir()
    for side in ("left", "right"):
        (folder / f"movingrate_Pyr1Hz_lick{side}.jld").write_bytes(b"x")
    with pytest.raises(ImportError, match="pip install h5py"):
        ds.load_alm_rates(tmp_path)


def test_hatsopoulos_and_cycling_bad_files(tmp_path):
    p = tmp_path / "EMG.mat"
    savemat(p, {"all_EMG": np.zeros((8, 3341, 13))})        # (direction, time, muscle): wrong order
    with pytest.raises(ds.DataFormatError, match=r"expected \(13, 3341, 8\)"):
        ds.load_hatsopoulos_emg(p)
    q = tmp_path / "cycling_data.mat"
    savemat(q, {"emg": np.zeros((2000, 3))})
    with pytest.raises(ds.DataFormatError, match="missing variable 'factors'"):
        ds.load_cycling(q)


def test_churchland_bad_range(tmp_path):
    p = tmp_path / "exampleData.mat"
    savemat(p, {"dataTensor": np.full((61, 50, 10), 30.0), "t": np.arange(-50, 551, 10)[:, None]})
    with pytest.raises(ds.DataFormatError, match="normalised"):
        ds.load_churchland_tme(p)


# --------------------------------------------------------------------------- real data
def test_real_reaching_emg(real_root):
    p = _real_file(real_root, "depasquale_emg/reaching_data.mat")
    d = ds.load_reaching_emg(real_root)
    assert not d.synthetic
    ref = loadmat(p)["emg"]
    assert np.array_equal(d.emg, ref)
    assert d.emg.shape == (8, 81, 2)
    assert -0.15 < d.emg.min() < -0.1 and 0.99 < d.emg.max() < 1.01      # README: -0.14 .. 1.00
    peak_bins = np.abs(d.emg).argmax(axis=1)
    assert peak_bins.min() >= 45 and peak_bins.max() <= 65                # README: bins 48-61
    assert np.abs(d.emg[:, d.time < d.go_time]).max() < 0.05             # flat during the hold


def test_real_cycling(real_root):
    _real_file(real_root, "depasquale_emg/cycling_data.mat")
    c = ds.load_cycling(real_root)
    assert c.emg.shape == (2000, 3) and c.factors.shape == (2000, 12)
    assert np.abs(c.factors.mean(axis=0)).max() < 0.05 * np.abs(c.factors).max()  # zero-mean factors
    assert len(c.to_frame("factors")) == 2000 * 12


def test_real_hatsopoulos_emg(real_root):
    p = _real_file(real_root, "hatsopoulos_reach/EMG.mat")
    d = ds.load_hatsopoulos_emg(real_root)
    raw = loadmat(p)["all_EMG"]
    assert d.emg.shape == (8, 3341, 13)
    assert d.emg[5, 1000, 7] == raw[7, 1000, 5]
    chan_max = d.emg.max(axis=(0, 1))
    assert 0.9 < chan_max.min() and chan_max.max() < 230                 # README: ~1 .. 225
    assert np.allclose(np.abs(d.normalised().emg).max(axis=(0, 1)), 1.0)


def test_real_m1_rates(real_root):
    p = _real_file(real_root, "hatsopoulos_reach/m1_rates_center_out.npz")
    r = ds.load_m1_rates(real_root)
    with np.load(p) as z:
        ref = z["firing_rate"]
    assert r.rates.shape == (8, 121, 141) and r.value_unit == "spikes/s"
    assert np.array_equal(r.rates, ref.transpose(2, 1, 0))
    assert np.allclose(r.time[[0, -1]], [-0.8, 0.4])
    assert 3.0 < r.rates.mean() < 4.0 and 90 < r.rates.max() < 95          # README: mean 3.5, max 93
    assert (r.rates.mean(axis=(0, 1)) > 1).sum() == 103
    assert r.extras["xhandposition"].shape == (8, 121)


def test_real_alm_rates(real_root):
    pytest.importorskip("h5py", reason="h5py (optional extra 'data') is needed to read the .jld files")
    _real_file(real_root, "alm_kim/movingrate_Pyr1Hz_lickleft.jld")
    r = ds.load_alm_rates(real_root)
    assert r.rates.shape == (2, 101, 1824)
    assert np.isclose(r.rates[0].max(), 52.6, atol=0.1) and np.isclose(r.rates[1].max(), 69.1, atol=0.1)


def test_real_alm_single_file_is_refused(real_root):
    pytest.importorskip("h5py", reason="h5py (optional extra 'data') is needed to read the .jld files")
    one = _real_file(real_root, "alm_kim/movingrate_Pyr1Hz_lickright.jld")
    with pytest.raises(ds.DataFormatError, match="single ALM file"):
        ds.load_dataset("auto", one)


def test_real_churchland(real_root):
    p = _real_file(real_root, "churchland_tme/exampleData.mat")
    r = ds.load_churchland_tme(real_root)
    raw = loadmat(p)["dataTensor"]
    assert r.rates.shape == (10, 61, 50)
    assert r.rates[4, 20, 33] == raw[20, 33, 4]
    assert np.allclose(r.time[[0, -1]], [-0.05, 0.55])
    assert "not spikes/s" in r.value_unit
