"""Model files, summaries, unit strings and value checks: each test pins one refused or preserved case."""
import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from brian2 import DimensionMismatchError, Hz, mV, ms, second, volt

from brianforce import io
from brianforce.checks import as_finite_array, as_number
from brianforce.config import RecipeError, parse_quantity, si_float, tuning_seeds
from brianforce.io import ModelFileError, load_arrays, save_arrays, write_run_outputs
from brianforce.units import as_positive_si, as_si, from_json_quantity, to_json_quantity

ROOT = Path(__file__).resolve().parents[1]


def _strict_json(text):
    def refuse(constant):
        raise ValueError(f"{constant} is not standard JSON")

    return json.loads(text, parse_constant=refuse)


# ---------------------------------------------------------------------- model files
def test_metadata_with_integer_keys_loads_back(tmp_path):
    meta = {"rate_by_seed": {2: 0.5, 10: 0.7}, "pairs": (1, 2)}
    path = save_arrays(tmp_path / "m.npz", {"w": np.ones(3)}, meta, kind="force")
    _, loaded = load_arrays(path, kind="force")
    assert loaded["rate_by_seed"] == {"2": 0.5, "10": 0.7}     # as JSON stores them
    assert loaded["pairs"] == [1, 2]


def test_metadata_keys_that_collide_as_json_strings_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"metadata keys \['1'\] collide"):
        save_arrays(tmp_path / "m.npz", {"w": np.ones(3)}, {"x": {1: "a", "1": "b"}}, kind="force")


def test_forged_archive_with_shifted_names_fails_digest_and_signature(tmp_path, monkeypatch):
    monkeypatch.delenv(io.KEY_VARIABLE, raising=False)
    a = {"x": np.zeros(0, np.uint8), "y": np.array([1.0])}
    b = {"x|u1(0,)y": np.array([1.0])}        # the same bytes when name, dtype and shape run together
    assert io._digest(a, {"k": 1}) != io._digest(b, {"k": 1})
    assert io._signature(a, {"k": 1}, b"secret") != io._signature(b, {"k": 1}, b"secret")
    path = save_arrays(tmp_path / "signed.npz", a, {"note": "orig"}, kind="force", key="secret")
    with np.load(path) as f:
        meta = f[io._META_KEY]
    forged = tmp_path / "forged.npz"
    np.savez(forged, **b, **{io._META_KEY: meta})
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load_arrays(forged, kind="force", key="secret")


def _as_version_2(path, key=None):
    """Rewrite a saved file as format version 2 wrote it (digest and signature of that version)."""
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files if k != io._META_KEY}
        meta = json.loads(f[io._META_KEY].tobytes())
    meta["format_version"] = 2
    meta["sha256"] = io._digest(arrays, meta, version=2)
    if key is not None:
        meta["hmac"] = io._signature(arrays, meta, key, version=2)
    np.savez(path, **arrays, **{io._META_KEY: np.frombuffer(json.dumps(meta).encode(), np.uint8)})


def test_format_2_files_still_load(tmp_path, monkeypatch):
    monkeypatch.delenv(io.KEY_VARIABLE, raising=False)
    path = save_arrays(tmp_path / "m.npz", {"w": np.arange(4.0)}, {"dt": 1e-4}, kind="force")
    _as_version_2(path)
    arrays, meta = load_arrays(path, kind="force")
    assert meta["format_version"] == 2 and arrays["w"][3] == 3.0
    signed = save_arrays(tmp_path / "s.npz", {"w": np.arange(4.0)}, {}, kind="force", key="k")
    _as_version_2(signed, key=b"k")
    with pytest.warns(UserWarning, match="format version 2 does not separate"):
        load_arrays(signed, key="k")


def test_format_1_files_load_by_their_own_digest_rule(tmp_path):
    path = save_arrays(tmp_path / "m.npz", {"a": np.arange(3.0)}, {"x": 1}, kind="test")
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files if k != io._META_KEY}
        meta = json.loads(f[io._META_KEY].tobytes())
    meta.update(format_version=1, sha256=io._digest(arrays, None, version=1))
    np.savez(path, **arrays, **{io._META_KEY: np.frombuffer(json.dumps(meta).encode(), np.uint8)})
    with pytest.warns(UserWarning, match="checksums the arrays only"):
        load_arrays(path)


def test_shipped_model_files_still_load():
    files = sorted(ROOT.glob("data/*.npz")) + sorted(ROOT.glob("benchmarks/results/**/network.npz"))
    for path in files:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            load_arrays(path)


def test_allow_nonfinite_is_a_collection_of_names(tmp_path):
    path = save_arrays(tmp_path / "m.npz", {"P": np.array([np.nan]), "phi": np.array([np.inf])}, {},
                       kind="force", allow_nonfinite=("P", "phi"))
    with pytest.raises(TypeError, match="allow_nonfinite must be a tuple"):
        load_arrays(path, allow_nonfinite="phi_P")
    with pytest.raises(ModelFileError, match="array 'P' holds 1 NaN/Inf"):
        load_arrays(path, allow_nonfinite=("phi",))
    assert sorted(load_arrays(path, allow_nonfinite={"P", "phi"})[0]) == ["P", "phi"]
    with pytest.raises(TypeError, match="allow_nonfinite must be a tuple"):
        save_arrays(tmp_path / "n.npz", {"phi": np.ones(2)}, {}, kind="force", allow_nonfinite="phi")


def test_non_finite_arrays_are_refused_when_saving(tmp_path):
    with pytest.raises(ValueError, match=r"array 'phi' holds 1 NaN/Inf values; .*allow_nonfinite=\('phi',\)"):
        save_arrays(tmp_path / "m.npz", {"phi": np.array([1.0, np.nan])}, {}, kind="force")
    assert not list(tmp_path.iterdir())
    path = save_arrays(tmp_path / "m.npz", {"phi": np.array([1.0, np.nan])}, {}, kind="force",
                       allow_nonfinite=["phi"])
    assert np.isnan(load_arrays(path, allow_nonfinite=["phi"])[0]["phi"][1])


def test_run_summary_is_standard_json_with_null_for_non_finite(tmp_path):
    summary = {"rmse": float("nan"), "corr": np.float64(np.inf), "per_trial": [0.5, -math.inf],
               "nested": {"ok": 1.25, "bad": np.float32(np.nan)}, "label": "x"}
    returned = write_run_outputs(tmp_path, summary, {"z": np.zeros(3)}, lambda ax: ax.plot([0, 1]), "t")
    assert returned is summary and math.isnan(returned["rmse"])
    on_disk = _strict_json((tmp_path / "summary.json").read_text())
    assert on_disk == {"rmse": None, "corr": None, "per_trial": [0.5, None],
                       "nested": {"ok": 1.25, "bad": None}, "label": "x"}


# ---------------------------------------------------------------------- recipe quantities
@pytest.mark.parametrize("text", ["1e400 ms", "1e308 Mohm", float("nan"), float("inf"), -float("inf")])
def test_non_finite_quantities_are_refused(text):
    with pytest.raises(RecipeError, match="finite"):
        parse_quantity(text)


def test_si_float_refuses_non_finite_and_keeps_bools():
    with pytest.raises(RecipeError, match="finite"):
        si_float(float("inf"))
    assert si_float(np.bool_(True)) is True
    assert si_float("2 ms") == pytest.approx(2e-3)


def test_star_after_slash_is_refused_as_ambiguous():
    with pytest.raises(RecipeError, match="ambiguous units 'mV/ms\\*s'"):
        parse_quantity("1 mV/ms*s")
    assert parse_quantity("1 mV*s/ms") == 1 * volt
    assert parse_quantity("2 mV*ms^-1*s^-1") == 2 * mV / ms / second
    assert parse_quantity("3 mV/ms^2") == 3 * mV / ms**2
    assert parse_quantity("4 /s") == 4 * Hz


def test_every_shipped_recipe_quantity_still_parses():
    import tomllib

    def strings(d):
        for v in d.values():
            if isinstance(v, dict):
                yield from strings(v)
            elif isinstance(v, list):
                yield from (x for x in v if isinstance(x, str))
            elif isinstance(v, str):
                yield v

    for path in sorted((ROOT / "models").glob("*.toml")):
        with open(path, "rb") as fh:
            for text in strings(tomllib.load(fh)):
                if re.match(r"^[-+]?[\d.]+(?:[eE][-+]?\d+)?\s+[A-Za-z]", text):      # "10 ms", "-0.3 mV*s"
                    q = parse_quantity(text)
                    assert np.isfinite(float(np.asarray(q))), (path.name, text)


def test_tuning_seeds_of_a_malformed_experiment_section():
    with pytest.raises(RecipeError, match=r"\[experiment\] must be a table"):
        tuning_seeds({"experiment": [1]})


# ---------------------------------------------------------------------- JSON quantities
def test_json_quantity_reads_its_unit():
    assert from_json_quantity({"value": 10, "unit": "ms"}) == pytest.approx(0.01)
    assert from_json_quantity({"value": 0.3, "unit": "V*s"}, volt * second) == pytest.approx(0.3)
    with pytest.raises(DimensionMismatchError, match="must have units of"):
        from_json_quantity({"value": 10, "unit": "ms"}, volt)
    with pytest.raises(ValueError, match="unknown unit 'furlong'"):
        from_json_quantity({"value": 1, "unit": "furlong"})


@pytest.mark.parametrize("value, error", [(True, TypeError), (float("nan"), ValueError), ("1", TypeError)])
def test_json_quantity_refuses_bools_and_non_finite(value, error):
    with pytest.raises(error):
        from_json_quantity({"value": value, "unit": "second"})
    with pytest.raises(error):
        to_json_quantity(value, "second")


def test_json_quantity_checks_the_dimension_it_labels():
    with pytest.raises(DimensionMismatchError, match="does not have units of 'second'"):
        to_json_quantity(5 * mV, "second")
    with pytest.raises(ValueError, match="'ms' is a scaled unit"):
        to_json_quantity(5 * ms, "ms")
    entry = to_json_quantity(5 * mV, "volt")
    assert entry == {"value": pytest.approx(0.005), "unit": "volt"}
    assert from_json_quantity(entry, volt) == pytest.approx(0.005)


# ---------------------------------------------------------------------- value checks
@pytest.mark.parametrize("value", [True, np.bool_(False), np.array([True, False]), (1 + 2j) * mV])
def test_as_si_refuses_bools_and_complex(value):
    unit = volt if hasattr(value, "dim") else 1
    with pytest.raises(TypeError, match="must be a real number"):
        as_si(value, unit, "gain")


def test_as_positive_si_refuses_bools():
    with pytest.raises(TypeError, match="gain must be a real number"):
        as_positive_si(True, 1, "gain")
    assert as_si(np.array([1, 2]), 1, "gain").tolist() == [1.0, 2.0]      # integers stay numbers


@pytest.mark.parametrize("value", [np.complex128(1 + 2j), 1 + 0j, np.array(True), np.array(1j)])
def test_as_number_refuses_complex_and_boolean_arrays(value):
    with pytest.raises(TypeError, match="alpha must be a number"):
        as_number(value, "alpha")


def test_as_finite_array_refuses_units_where_none_belong():
    with pytest.raises(DimensionMismatchError, match="target must have no units"):
        as_finite_array(np.array([5, 6]) * mV, "target")
    with pytest.raises(DimensionMismatchError, match="target must have no units"):
        as_finite_array([5 * mV, 6 * mV], "target")
    assert as_finite_array(np.array([2.0, 4.0]) * mV / mV, "ratio").tolist() == [2.0, 4.0]


def test_as_finite_array_converts_the_unit_it_is_told():
    assert as_finite_array(np.array([1.0, 2.0]) * ms, "t", unit=second) == pytest.approx([1e-3, 2e-3])
    assert as_finite_array([0.1, 0.2], "t", unit=second).tolist() == [0.1, 0.2]
    with pytest.raises(DimensionMismatchError, match="t must have units of second"):
        as_finite_array(np.array([1.0]) * mV, "t", unit=second)


@pytest.mark.parametrize("value, what", [([True, False], "booleans"), (["1", "2"], "values of dtype <U1"),
                                         (np.array([1j]), "complex numbers"), ([object()], "values of dtype object")])
def test_as_finite_array_refuses_non_real_values(value, what):
    with pytest.raises(TypeError, match=f"target must hold real numbers, got {what}"):
        as_finite_array(value, "target")
    assert as_finite_array(np.arange(3), "counts").dtype == np.float64


def test_json_text_is_standard_json_with_null_for_non_finite_values():
    import json

    from brianforce.io import json_text

    obj = {"a": np.float64("nan"), "b": [1.0, float("inf")], "c": np.arange(2), "d": np.bool_(True),
           "e": np.int64(3), "f": (np.float32(0.5),)}
    text = json_text(obj, sort_keys=True)

    def refuse(name):
        raise ValueError(f"non-standard JSON constant {name}")

    assert json.loads(text, parse_constant=refuse) == {"a": None, "b": [1.0, None], "c": [0, 1], "d": True,
                                                       "e": 3, "f": [0.5]}
