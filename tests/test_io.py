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
    assert not list(tmp_path.glob("*.tmp"))      # atomic write leaves no temp file


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
