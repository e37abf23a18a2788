"""The reaching recipe on any data set: loader registry, layout detection, targets of any
(condition, time, channel) size, population rates, and the [data] keys (synthetic arrays; the
recorded cycling and Churchland data sets only where ../shared/data or BRIANFORCE_DATA has them)."""
import json
import os
from pathlib import Path

import numpy as np
import pytest
from scipy.io import savemat

from brianforce import datasets as ds
from brianforce.config import RecipeError, check_keys, check_sections
from brianforce.experiments.reaching import REACHING_RECIPE_KEYS, fit_reaching, run_reaching_recipe
from brianforce.tasks.reaching import MAX_UNITS, reaching_targets, reaching_trials

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "models" / "reaching_emg.toml"
# a teacher-only run of the reaching recipe, small enough for seconds
FAST = {"run.n_teacher_repeats": 4, "run.fit_student": False, "teacher.n_units": 80}


def _signals(C, T, Q, seed=0, offset=0.0):
    """Smooth condition-specific bumps (C, T, Q)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, T)
    centres, widths = rng.uniform(0.3, 0.8, (C, 1, Q)), rng.uniform(0.05, 0.15, (C, 1, Q))
    return offset + rng.uniform(0.5, 2.0, (C, 1, Q)) * np.exp(-0.5 * ((t[None, :, None] - centres) / widths) ** 2)


def _rates(C=4, T=60, N=70, *, onset=True):
    time = np.arange(T) * 0.01 - (0.1 if onset else 0.0)
    return ds.PopulationRates(
        rates=_signals(C, T, N, seed=3, offset=5.0) * 20.0, dt=0.01, time=time, conditions=np.arange(C),
        units=np.array([f"u{i}" for i in range(N)]), value_unit="spikes/s", source="memory", synthetic=True,
        metadata={"time_reference": "movement onset" if onset else "window start"})


def _write(tmp_path, name, **arrays):
    p = tmp_path / name
    np.savez(p, **arrays)
    return p


def _recipe(tmp_path, data_lines):
    """reaching_emg.toml with its [data] section replaced by ``data_lines``."""
    text = RECIPE.read_text()
    a = text.index("\n[data]\n")
    b = text.index("\n[task]")
    p = tmp_path / "recipe.toml"
    p.write_text(text[:a] + "\n[data]\n" + data_lines + "\n" + text[b:])
    return p


# ----------------------------------------------------------------------------- registry + detection
def test_loader_registry_names_every_loader():
    assert set(ds.LOADERS) >= {"reaching_emg", "hatsopoulos_emg", "cycling", "m1_rates", "alm_rates",
                               "churchland_tme", "arrays"}
    for name, f in ds.LOADERS.items():
        assert f is getattr(ds, f.__name__), name
    with pytest.raises(ValueError, match="load_churchland_tme") as err:
        ds.load_dataset("cycle")
    assert "'cycling'" in str(err.value) and "'auto'" in str(err.value)
    assert ds.load_dataset("reaching_emg", ds.synthetic_path("reaching_emg")).shape == (8, 81, 2)


def test_detect_dataset_layouts(tmp_path):
    assert ds.detect_dataset(ds.synthetic_path("reaching_emg")) == "reaching_emg"
    assert ds.detect_dataset(ds.synthetic_path("m1_rates")) == "m1_rates"
    arr = _write(tmp_path, "a.npz", emg=_signals(3, 50, 5), dt=0.01)
    assert ds.detect_dataset(arr) == "arrays"
    assert ds.detect_dataset(_write(tmp_path, "t.npz", dataTensor=np.zeros((61, 50, 10)))) == "churchland_tme"
    cyc = tmp_path / "c.mat"
    savemat(cyc, {"emg": np.zeros((20, 3)), "factors": np.zeros((20, 2))})
    assert ds.detect_dataset(cyc) == "cycling"
    with pytest.raises(ds.DataFormatError, match="no known layout"):
        ds.detect_dataset(_write(tmp_path, "x.npz", something=np.zeros(3)))
    with pytest.raises(FileNotFoundError):
        ds.detect_dataset(None)
    assert ds.load_dataset("auto", arr).shape == (3, 50, 5)


def test_condition_arrays_loader(tmp_path):
    e = ds.load_condition_arrays(_write(tmp_path, "e.npz", emg=_signals(1, 40, 2)[0], dt=0.005, go_time=0.1,
                                        channels=np.array(["biceps", "triceps"])))
    assert isinstance(e, ds.EMGData) and e.shape == (1, 40, 2) and e.go_time == 0.1 and e.dt == 0.005
    assert e.channels.tolist() == ["biceps", "triceps"]
    r = ds.load_condition_arrays(_write(tmp_path, "r.npz", rates=_signals(2, 30, 4), time=np.arange(30) * 0.02))
    assert isinstance(r, ds.PopulationRates) and r.dt == pytest.approx(0.02) and r.value_unit == "spikes/s"
    for bad in (dict(emg=np.zeros((2, 5, 1))), dict(emg=np.zeros((2, 5, 1)), rates=np.zeros((2, 5, 1)), dt=0.01),
                dict(emg=np.zeros(5), dt=0.01), dict(emg=np.zeros((2, 5, 1)), time=np.array([0, 1, 3, 4, 5.0])),
                dict(emg=np.full((2, 5, 1), np.nan), dt=0.01)):
        with pytest.raises(ds.DataFormatError):
            ds.load_condition_arrays(_write(tmp_path, "bad.npz", **bad))
    emg = _signals(1, 50, 1)[0]
    for bad, message in ((dict(dt=0.01, time=np.arange(50) * 0.001), r"'dt' \(0\.01 s\) disagrees with the step"),
                         (dict(dt=0.001, go_time=7.5), r"'go_time' \(7\.5 s\) lies outside the stored window"),
                         (dict(time=np.arange(-200, 300, 10.0)), r"10\.0 s is implausible.*not milliseconds")):
        with pytest.raises(ds.DataFormatError, match=message):
            ds.load_condition_arrays(_write(tmp_path, "bad.npz", emg=emg, **bad))


def test_matlab_only_layouts_in_npz_are_refused_clearly(tmp_path):
    reach = _write(tmp_path, "reach.npz", emg=np.zeros((8, 81, 2)))
    cyc = _write(tmp_path, "cyc.npz", emg=np.zeros((2000, 3)), factors=np.zeros((2000, 12)))
    for p, name in ((reach, "reaching_emg"), (cyc, "cycling")):
        with pytest.raises(ds.DataFormatError, match=f"'{name}' layout, which is read from a MATLAB v5 .mat file only"):
            ds.detect_dataset(p)
        with pytest.raises(ds.DataFormatError, match=r"is a \.npz file, but this data set is read from a MATLAB"):
            ds.load_dataset(name, p)
    assert ds.detect_dataset(_write(tmp_path, "arr.npz", emg=np.zeros((8, 81, 2)), dt=0.01)) == "arrays"


def _mat(tmp_path, name, **variables):
    p = tmp_path / name
    savemat(p, variables)
    return p


def test_condition_arrays_matlab_text(tmp_path):
    x = _signals(2, 10, 3)
    r = ds.load_condition_arrays(_mat(tmp_path, "cell.mat", rates=x, dt=0.01,
                                      conditions=np.array(["left", "right"], dtype=object),
                                      channels=np.array(["a", "bb", "ccc"], dtype=object),
                                      value_unit=np.array(["Hz"], dtype=object)))
    assert r.conditions.tolist() == ["left", "right"] and r.units.tolist() == ["a", "bb", "ccc"]
    assert r.value_unit == "Hz"
    r = ds.load_condition_arrays(_mat(tmp_path, "char.mat", rates=x, dt=0.01, conditions=np.array(["left", "right"]),
                                      value_unit="spikes/s"))
    assert r.conditions.tolist() == ["left", "right"] and r.value_unit == "spikes/s"
    for unit in (np.array([3.0]), np.array(["Hz", "Hz"])):
        with pytest.raises(ds.DataFormatError, match=r"'value_unit' must be one text"):
            ds.load_condition_arrays(_write(tmp_path, "u.npz", rates=x, dt=0.01, value_unit=unit))
    with pytest.raises(ds.DataFormatError, match=r"'conditions' must hold text or numbers, not a mix"):
        ds.load_condition_arrays(_mat(tmp_path, "mix.mat", rates=x, dt=0.01,
                                      conditions=np.array(["left", 2.0], dtype=object)))


def test_condition_arrays_two_dimensional(tmp_path):
    x = _signals(8, 81, 1)
    r = ds.load_condition_arrays(_mat(tmp_path, "one.mat", rates=x, time=np.arange(81) * 0.01))
    assert r.shape == (8, 81, 1) and np.array_equal(r.rates, x)         # stored as (8, 81)
    r = ds.load_condition_arrays(_write(tmp_path, "one.npz", rates=x[..., 0], time=np.arange(81) * 0.01))
    assert r.shape == (8, 81, 1) and np.array_equal(r.rates, x)
    r = ds.load_condition_arrays(_mat(tmp_path, "tq.mat", rates=x[0], time=np.arange(81) * 0.01))
    assert r.shape == (1, 81, 1) and np.array_equal(r.rates[0], x[0])  # (time, channel) of one condition
    r = ds.load_condition_arrays(_mat(tmp_path, "tq2.mat", rates=_signals(1, 30, 4)[0], time=np.arange(30) * 0.01))
    assert r.shape == (1, 30, 4)
    for p in (_mat(tmp_path, "nt.mat", rates=x[..., 0], dt=0.01),
              _mat(tmp_path, "sq.mat", rates=np.ones((5, 5)), time=np.arange(5) * 0.01),
              _write(tmp_path, "other.npz", rates=x[..., 0], time=np.arange(7) * 0.01)):
        with pytest.raises(ds.DataFormatError, match=r"2-D 'rates' of shape .* has no unambiguous layout.*axis 1 .*axis 0"):
            ds.load_condition_arrays(p)


def test_condition_arrays_rates_and_scalars(tmp_path):
    x = _signals(2, 10, 3)
    for unit in ("spikes/s", "Hz", None):
        extra = {} if unit is None else {"value_unit": unit}
        hint = r".*set value_unit" if unit is None else ""
        with pytest.raises(ds.DataFormatError, match=r"'rates' spans -.*firing rates in" + hint):
            ds.load_condition_arrays(_write(tmp_path, "neg.npz", rates=x - 1.0, dt=0.01, **extra))
    centred = ds.load_condition_arrays(_write(tmp_path, "c.npz", rates=x - 1.0, dt=0.01, value_unit="normalised"))
    assert np.array_equal(centred.rates, x - 1.0)
    assert np.array_equal(ds.load_condition_arrays(_write(tmp_path, "e.npz", emg=x - 1.0, dt=0.01)).emg, x - 1.0)
    with pytest.raises(ds.DataFormatError, match=r"'go_time' is not finite \(got nan\)"):
        ds.load_condition_arrays(_write(tmp_path, "go.npz", rates=x, dt=0.01, go_time=np.nan))
    with pytest.raises(ds.DataFormatError, match=r"'dt' must be one number, got dtype float64 and shape \(2,\)"):
        ds.load_condition_arrays(_write(tmp_path, "dt.npz", rates=x, dt=np.array([0.01, 0.02])))


# ----------------------------------------------------------------------------- targets of any size
def test_targets_of_population_rates():
    r = _rates()
    rec = reaching_targets(r)
    assert rec.shape == (4, 60, MAX_UNITS) and rec.metadata["signal"] == "rates"
    var = r.rates.reshape(-1, 70).var(axis=0)
    kept = [int(u[1:]) for u in rec.metadata["selected"]]
    assert kept == sorted(kept) and set(kept) == set(np.argsort(-var)[:MAX_UNITS].tolist())
    # go pulse at movement onset (0.1 s into the window), or from the caller where the data have none
    assert rec.go_time == pytest.approx(0.1) and rec.metadata["go_time_source"] == "movement onset"
    with pytest.raises(ValueError, match="define a go time"):
        reaching_targets(r, go_time=0.2)
    none = reaching_targets(_rates(onset=False), max_channels=5, go_time=0.2)
    assert none.shape == (4, 60, 5) and none.go_time == 0.2 and none.metadata["go_time_source"] == "recipe"
    pcs = reaching_targets(r, signal="pcs", max_channels=3)
    assert pcs.shape == (4, 60, 3) and pcs.channels.tolist() == ["pc_1", "pc_2", "pc_3"]
    ratio = pcs.metadata["selected"]
    assert ratio == sorted(ratio, reverse=True) and 0 < sum(ratio) <= 1
    np.testing.assert_allclose(pcs.emg.reshape(-1, 3).mean(axis=0), 0, atol=1e-9)   # centred scores
    tr = reaching_trials(pcs, 2, 2e-3)
    assert tr.targets.shape[2] == 3 and np.allclose(np.abs(tr.targets).max(axis=(0, 1)), 1.0)   # normalised
    with pytest.raises(ValueError, match="one-hot"):
        reaching_trials(rec, 1, 2e-3, encoding="angle")       # no reach angles in population data
    with pytest.raises(ValueError):
        reaching_targets(r, signal="units")


def test_targets_of_cycling_and_emg():
    cyc = ds.CyclingData(emg=_signals(1, 300, 3)[0], factors=np.zeros((300, 2)), dt=0.001,
                         time=np.arange(300) * 0.001, channels=np.array(["m0", "m1", "m2"]),
                         factor_names=np.array(["f0", "f1"]), source="memory")
    assert reaching_targets(cyc).go_time is None
    c = reaching_targets(cyc, go_time=0.0)
    assert c.shape == (1, 300, 3) and c.go_time == 0.0 and c.metadata["data_kind"] == "CyclingData"
    tr = reaching_trials(c, 3, 1e-3, baseline=0.05)
    assert tr.inputs.shape == (3, 350, 2) and np.all(tr.labels == 0)       # one condition channel + go
    emg = ds.load_reaching_emg(ds.synthetic_path("reaching_emg"))
    same = reaching_targets(emg)
    np.testing.assert_array_equal(same.emg, emg.emg)
    assert same.go_time == 0.35 and same.metadata["go_time_source"] == "data"


# ----------------------------------------------------------------------------- the driver
@pytest.mark.parametrize("shape", [(1, 80, 2), (3, 50, 5)])
def test_recipe_fits_emg_of_any_size(tmp_path, shape):
    C, T, Q = shape
    f = _write(tmp_path, "d.npz", emg=_signals(C, T, Q), dt=0.01)
    # repeats are per condition: one condition needs more of them (measured, N = 80: 4 repeats
    # R² -0.14, 10: 0.91, 20: 0.95)
    s = run_reaching_recipe(_recipe(tmp_path, 'dataset = "auto"\ngo_time = "100 ms"'), tmp_path / "out",
                            data=f, overrides=dict(FAST, **{"run.n_teacher_repeats": 24 // C}), progress=False)
    d = s["data"]
    assert (d["n_conditions"], d["n_bins"], d["n_channels"]) == shape and d["bin_s"] == 0.01
    assert d["go_time_s"] == pytest.approx(0.1) and d["go_time_source"] == "recipe"
    assert len(s["teacher"]["r2_per_condition"]) == C and len(s["teacher"]["r2_per_muscle"]) == Q
    assert s["teacher"]["r2_overall"] > 0.8
    assert (tmp_path / "out" / "emg_fits.png").is_file()
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["data"]["shape"] == list(shape)


def test_recipe_fits_population_rates(tmp_path):
    f = _write(tmp_path, "r.npz", rates=_signals(3, 40, 60, seed=1, offset=1.0) * 10, dt=0.01)
    out = tmp_path / "out"
    s = run_reaching_recipe(_recipe(tmp_path, 'dataset = "arrays"\nmax_channels = 12'), out, data=f,
                            overrides=FAST, progress=False)
    assert s["data"]["kind"] == "PopulationRates" and s["data"]["signal"] == "rates"
    assert s["data"]["n_channels"] == 12 and len(s["data"]["selected"]) == 12
    assert s["data"]["go_time_source"].startswith("none") and s["data"]["go_time_s"] == pytest.approx(0.3)
    pcs = run_reaching_recipe(_recipe(tmp_path, 'dataset = "arrays"\nsignal = "pcs"'), out, data=f,
                              overrides=FAST, progress=False)
    assert pcs["data"]["signal"] == "rates_pcs" and pcs["data"]["n_channels"] == 6
    assert len(pcs["data"]["pc_variance_ratio"]) == 6


def test_small_student_on_one_condition(tmp_path):
    """Teacher → factors → LIF student with a single condition (Fano factors over its test trials)."""
    r = ds.PopulationRates(rates=_signals(1, 30, 8, seed=2, offset=1.0) * 10, dt=0.01, time=np.arange(30) * 0.01,
                           conditions=np.array(["only"]), units=np.array([f"u{i}" for i in range(8)]),
                           value_unit="spikes/s", source="memory", synthetic=True)
    s = fit_reaching(r, task=dict(go_time=0.1), teacher=dict(n_units=60), n_teacher_repeats=3,
                     n_student_repeats=1, n_test_repeats=2,
                     student=dict(n_neurons=80, n_forced=1, n_mean=1, n_rls=1), out=tmp_path, seed=0)
    assert s["data"]["n_conditions"] == 1 and s["data"]["n_channels"] == 8
    st = s["student"]
    assert len(st["r2_trial_averaged_per_condition"]) == 1 and st["n_test_trials"] == 2
    assert np.isfinite(st["r2_trial_averaged"]) and st["fano_factor_median"] is not None
    for name in ("summary.json", "emg_fits.png", "raster.png", "pcs.png", "network.npz"):
        assert (tmp_path / name).is_file(), name


def test_lookalikes_load_like_the_recordings(monkeypatch):
    monkeypatch.delenv(ds.ENV_VAR, raising=False)
    c = ds.load_cycling(synthetic=True)
    assert c.synthetic and c.emg.shape == (2000, 3) and c.factors.shape == (2000, 12) and c.dt == 0.001
    lag = np.argmax(np.correlate(c.emg[:, 2] - c.emg[:, 2].mean(), c.emg[:, 2] - c.emg[:, 2].mean(), "full")[
        2000 + 300:2000 + 700]) + 300
    assert abs(lag - 494) < 10                                   # the cycle of the recording
    r = ds.load_churchland_tme(synthetic=True)
    assert r.synthetic and r.shape == (10, 61, 50) and r.time[0] == pytest.approx(-0.05)
    np.testing.assert_allclose(r.rates.mean(axis=(0, 1)), 0, atol=1e-12)   # mean-centred per neuron
    np.testing.assert_array_equal(ds.load_churchland_tme(synthetic=True).rates, r.rates)   # seeded
    assert ds.load_dataset("cycling", synthetic=True).synthetic


@pytest.mark.parametrize("name, shape", [("reaching_cycling", (1, 2000, 3)), ("reaching_churchland", (10, 61, 50))])
def test_shipped_recipes_on_lookalikes(tmp_path, monkeypatch, name, shape):
    """Without data the recipes fall back to the computed look-alikes ([data] synthetic = true)."""
    monkeypatch.delenv(ds.ENV_VAR, raising=False)
    s = run_reaching_recipe(REPO / "models" / f"{name}.toml", tmp_path, overrides=FAST, progress=False)
    d = s["data"]
    assert d["synthetic"] and (d["n_conditions"], d["n_bins"], d["n_channels"]) == shape
    assert d["go_time_source"] == ("recipe" if name == "reaching_cycling" else "movement onset")


# ----------------------------------------------------------------------------- recipe keys
def test_recipe_data_keys_schema():
    check_keys({"dataset": "cycling", "synthetic": False, "signal": "pcs", "max_channels": 6, "go_time": "0 ms"},
               REACHING_RECIPE_KEYS["data"], "[data]")
    for typo, right in (("max_channel", "max_channels"), ("signals", "signal"), ("go_tme", "go_time"),
                        ("datset", "dataset")):
        with pytest.raises(RecipeError, match=f"did you mean '{right}'"):
            check_sections({"data": {typo: 1}}, REACHING_RECIPE_KEYS)
    for path in sorted((REPO / "models").glob("reaching_*.toml")):
        from brianforce.config import load_recipe

        rec = load_recipe(path)
        if rec["experiment"]["method"] == "reaching":
            check_sections(rec, REACHING_RECIPE_KEYS, str(path))


@pytest.mark.parametrize("data, match", [
    ('dataset = "cyclng"', "load_cycling"),                     # unknown name: the loaders are listed
    ('dataset = "cycling"\nsignal = "units"', "signal"),
    ('dataset = "cycling"\nmax_channels = 0', "max_channels"),
    ('dataset = "cycling"\nmax_chanels = 3', "max_channels"),
])
def test_recipe_data_errors_before_any_work(tmp_path, data, match):
    with pytest.raises((RecipeError, ValueError), match=match):
        run_reaching_recipe(_recipe(tmp_path, data), tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_recipe_go_time_only_where_the_data_have_none(tmp_path):
    with pytest.raises(ValueError, match="define a go time"):
        run_reaching_recipe(_recipe(tmp_path, 'dataset = "reaching_emg"\nsynthetic = true\ngo_time = "0.2 s"'),
                            tmp_path / "out", data=ds.synthetic_path("reaching_emg"), overrides=FAST, progress=False)


# ----------------------------------------------------------------------------- recorded data
def _real(rel):
    env = os.environ.get(ds.ENV_VAR)
    for root in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if (root / rel).is_file():
            return root / rel
    pytest.skip(f"recorded data not available ({rel})")


@pytest.mark.parametrize("name, rel, shape, r2", [
    ("reaching_cycling", "depasquale_emg/cycling_data.mat", (1, 2000, 3), 0.99),
    ("reaching_churchland", "churchland_tme/exampleData.mat", (10, 61, 50), 0.9),
])
def test_recipes_on_recorded_data_teacher(tmp_path, name, rel, shape, r2):
    """The reaching recipe with only [data] changed: the teacher fits the recorded data set
    (measured, seed 0, 20 repeats: cycling R² 0.9998; Churchland 50 neurons 0.935 overall)."""
    s = run_reaching_recipe(REPO / "models" / f"{name}.toml", tmp_path, data=_real(rel),
                            overrides={"run.fit_student": False}, progress=False)
    d = s["data"]
    assert (d["n_conditions"], d["n_bins"], d["n_channels"]) == shape and not d["synthetic"]
    assert s["teacher"]["r2_overall"] > r2
