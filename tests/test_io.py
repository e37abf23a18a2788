import json
import zipfile

import numpy as np
import pytest

from brianforce.io import ModelFileError, load_arrays, save_arrays


def test_roundtrip_and_metadata(tmp_path):
    arrays = {"a": np.arange(5.0), "b": np.eye(3, dtype=np.int32)}
    path = save_arrays(tmp_path / "m.npz", arrays, {"x": 1}, kind="test")
    out, meta = load_arrays(path, kind="test")
    assert meta["x"] == 1 and meta["versions"]["numpy"]
    for k in arrays:
        np.testing.assert_array_equal(out[k], arrays[k])
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]      # atomic write leaves no temp file


def test_tampered_array_is_detected(tmp_path):
    path = save_arrays(tmp_path / "m.npz", {"a": np.arange(5.0)}, {}, kind="test")
    with np.load(path) as f:
        content = {k: f[k] for k in f.files}
    content["a"][2] = 99.0
    np.savez(path, **content)
    with pytest.raises(ModelFileError, match="checksum"):
        load_arrays(path)


def test_wrong_kind_garbage_and_pickle_free(tmp_path):
    path = save_arrays(tmp_path / "m.npz", {"a": np.arange(3)}, {}, kind="test")
    with pytest.raises(ModelFileError, match="expected"):
        load_arrays(path, kind="other")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    with pytest.raises(ModelFileError):
        load_arrays(bad)
    with pytest.raises(ModelFileError, match="no model file"):
        load_arrays(tmp_path / "missing.npz")
    np.savez(tmp_path / "plain.npz", a=np.arange(3))
    with pytest.raises(ModelFileError, match="metadata"):
        load_arrays(tmp_path / "plain.npz")
    with pytest.raises(TypeError):
        save_arrays(tmp_path / "o.npz", {"a": np.array([object()])}, {}, kind="test")
    with zipfile.ZipFile(path) as z:
        assert all(n.endswith(".npy") for n in z.namelist())
    meta = json.loads(np.load(path)["__metadata_json__"].tobytes())
    assert meta["kind"] == "test"


def _rewrite(path, **changes):
    """Rewrite an .npz member by member (arrays or the metadata dict under 'meta')."""
    with np.load(path) as f:
        content = {k: f[k] for k in f.files}
    meta = json.loads(content["__metadata_json__"].tobytes())
    meta.update(changes.pop("meta", {}))
    content["__metadata_json__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    content.update(changes)
    np.savez(path, **content)


def test_edited_metadata_is_detected(tmp_path):
    path = save_arrays(tmp_path / "m.npz", {"a": np.arange(5.0)}, {"dt": 1e-4, "lif": {"tau_m": 0.01}},
                       kind="test")
    _rewrite(path, meta={"dt": 2e-4})
    with pytest.raises(ModelFileError, match=r"m\.npz: checksum mismatch, the arrays or settings"):
        load_arrays(path)


def test_signed_models(tmp_path, monkeypatch):
    monkeypatch.delenv("BRIANFORCE_MODEL_KEY", raising=False)
    path = save_arrays(tmp_path / "m.npz", {"a": np.arange(5.0)}, {"x": 1}, kind="test", key="secret")
    load_arrays(path, key="secret")
    load_arrays(path)                              # the checksum alone still holds
    with pytest.raises(ModelFileError, match="signature mismatch"):
        load_arrays(path, key="other")
    # a forger who recomputes the public checksum cannot recompute the signature
    from brianforce import io

    with np.load(path) as f:
        content = {k: f[k] for k in f.files if k != "__metadata_json__"}
        meta = json.loads(f["__metadata_json__"].tobytes())
    content["a"][0] = 42.0
    meta["sha256"] = io._digest(content, meta)
    np.savez(path, **content, __metadata_json__=np.frombuffer(json.dumps(meta).encode(), np.uint8))
    assert load_arrays(path)[0]["a"][0] == 42.0
    with pytest.raises(ModelFileError, match="signature mismatch"):
        load_arrays(path, key="secret")
    unsigned = save_arrays(tmp_path / "u.npz", {"a": np.arange(2.0)}, {}, kind="test")
    monkeypatch.setenv("BRIANFORCE_MODEL_KEY", "secret")
    with pytest.raises(ModelFileError, match="not signed"):
        load_arrays(unsigned)


def test_declared_sizes_are_checked_before_allocation(tmp_path):
    path = save_arrays(tmp_path / "m.npz", {"a": np.zeros(10)}, {}, kind="test")
    with pytest.raises(ModelFileError, match="declares more than 100 bytes"):
        load_arrays(path, max_bytes=100)
    # a header claiming 10^8 values in a tiny member: rejected from the header alone
    import io as _io

    buf = _io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f8", "fortran_order": False, "shape": (10**8,)})
    buf.write(np.zeros(10).tobytes())
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("big.npy", buf.getvalue())
    with pytest.raises(ModelFileError, match=r"'big.npy' declares shape \(100000000,\)"):
        load_arrays(path)


def test_foreign_files_and_names(tmp_path):
    toml = tmp_path / "recipe.npz"
    toml.write_text("[network]\nn = 10\n")
    with pytest.raises(ModelFileError, match=r"recipe\.npz is not a brianforce model file \(not an \.npz"):
        load_arrays(toml)
    with pytest.raises(ValueError, match="end in .npz.*'model.npz'"):
        save_arrays(tmp_path / "model.txt", {"a": np.arange(2)}, {}, kind="test")
    assert save_arrays(tmp_path / "model", {"a": np.arange(2)}, {}, kind="test").name == "model.npz"


def test_non_finite_arrays_are_rejected(tmp_path):
    path = save_arrays(tmp_path / "m.npz", {"phi": np.full(3, np.nan), "ok": np.ones(2)}, {}, kind="test",
                       allow_nonfinite=("phi",))
    with pytest.raises(ModelFileError, match="array 'phi' holds 3 NaN/Inf"):
        load_arrays(path)
    assert np.isnan(load_arrays(path, allow_nonfinite=("phi",))[0]["phi"]).all()


def test_format_1_files_load_with_a_warning(tmp_path):
    from brianforce import io

    path = save_arrays(tmp_path / "m.npz", {"a": np.arange(3.0)}, {"x": 1}, kind="test")
    with np.load(path) as f:
        content = {k: f[k] for k in f.files if k != "__metadata_json__"}
    _rewrite(path, meta={"format_version": 1, "sha256": io._digest(content, None, version=1)})
    with pytest.warns(UserWarning, match="checksums the arrays only"):
        load_arrays(path)


def test_atomic_outputs_leave_nothing_half_written(tmp_path):
    import os
    import time

    from brianforce.io import atomic_path, atomic_write_text

    target = tmp_path / "summary.json"
    atomic_write_text(target, "{}")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text('{"half": ')
            raise RuntimeError("killed")
    assert target.read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]
    stray = tmp_path / ".summary.json.abc.tmp"          # left by a writer that was killed
    stray.write_text("x")
    old = time.time() - 3600
    os.utime(stray, (old, old))
    atomic_write_text(target, "{}")
    assert not stray.exists()


def test_run_outputs_of_two_runs_never_stand_side_by_side(tmp_path):
    from brianforce.io import write_run_outputs

    write_run_outputs(tmp_path, {"run": 1}, {"x": np.arange(3)}, lambda ax: ax.plot([0, 1]), "first")

    def killed(ax):                                    # the second run dies after output.npz
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_run_outputs(tmp_path, {"run": 2}, {"x": np.arange(5)}, killed, "second")
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == ["output.npz"]
    assert len(np.load(tmp_path / "output.npz")["x"]) == 5


def test_atomic_outputs_get_ordinary_permissions(tmp_path):
    import os
    import stat

    from brianforce.io import atomic_write_text

    path = atomic_write_text(tmp_path / "summary.json", "{}")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_results_tables_are_appended_and_never_mix_columns(tmp_path):
    from brianforce.io import append_csv_row

    path = tmp_path / "results" / "table.csv"
    append_csv_row(path, {"seed": 0, "error": 0.1})
    append_csv_row(path, {"seed": 1, "error": 0.2})
    assert path.read_text().splitlines() == ["seed,error", "0,0.1", "1,0.2"]
    with pytest.raises(ValueError, match=r"has the columns \['seed', 'error'\]; this row has \['seed', 'rmse'\]"):
        append_csv_row(path, {"seed": 2, "rmse": 0.3})
    assert len(path.read_text().splitlines()) == 3


def test_every_corrupted_byte_gives_a_model_file_error_or_the_same_model(tmp_path):
    """A byte flipped anywhere in the file (compressed data included) is a ModelFileError naming the file,
    never another exception; a flip in a part that holds nothing of the model leaves it loading as saved."""
    rng = np.random.default_rng(0)
    arrays = {"w": rng.standard_normal((60, 40)), "n": np.arange(50)}
    path = save_arrays(tmp_path / "m.npz", arrays, {"alpha": 1.0}, kind="k")
    data = bytearray(path.read_bytes())
    bad = tmp_path / "bad.npz"
    outcomes = set()
    for offset in np.linspace(0, len(data) - 1, 300).astype(int):
        flipped = bytearray(data)
        flipped[offset] ^= 0xFF
        bad.write_bytes(bytes(flipped))
        try:
            got, meta = load_arrays(bad, kind="k")
        except ModelFileError as exc:
            assert str(bad) in str(exc)
            outcomes.add("error")
        else:
            assert meta["alpha"] == 1.0 and all(np.array_equal(got[k], arrays[k]) for k in arrays)
            outcomes.add("same")
    assert "error" in outcomes


def test_metadata_with_nan_is_a_model_file_error(tmp_path):
    path = save_arrays(tmp_path / "m.npz", {"w": np.ones(3)}, {"alpha": 1.0}, kind="k")
    with np.load(path) as f:
        members = {k: f[k] for k in f.files}
    key = next(k for k in members if k not in ("w",))
    text = members[key].tobytes().decode().replace('"alpha": 1.0', '"alpha": NaN')
    members[key] = np.frombuffer(text.encode(), dtype=np.uint8)
    np.savez(tmp_path / "nan.npz", **members)
    with pytest.raises(ModelFileError, match=r"nan\.npz: metadata is not valid JSON \(NaN is not a JSON value"):
        load_arrays(tmp_path / "nan.npz", kind="k")


def test_results_tables_refuse_to_append_to_an_unterminated_line(tmp_path):
    from brianforce.io import append_csv_row

    path = tmp_path / "table.csv"
    append_csv_row(path, {"seed": 1, "error": 0.1})
    append_csv_row(path, {"seed": 2, "error": 0.25})
    path.write_bytes(path.read_bytes()[:-4])                   # a writer killed mid-row
    with pytest.raises(ValueError, match=r"table\.csv ends in an unterminated line \('2,0\.'\)"):
        append_csv_row(path, {"seed": 3, "error": 0.3})
    assert path.read_bytes() == b"seed,error\r\n1,0.1\r\n2,0."


def test_reading_the_umask_leaves_it_unchanged():
    import os

    from brianforce.io import _umask

    before = os.umask(0o027)
    try:
        assert _umask() == 0o027 and os.umask(0o027) == 0o027
    finally:
        os.umask(before)
