"""Bad inputs fail loudly: the exception type, and a message that names the parameter and value.

Each row: what a user might pass, the exception expected, and a pattern the message must match.
"""
import json

import numpy as np
import pytest
from brian2 import DimensionMismatchError, Hz, mV, ms, second

from brianforce.io import ModelFileError, load_arrays, save_arrays
from brianforce.learning.rls import RLS, regularisation_from
from brianforce.methods.force import FORCETrainer


def _force(**kw):
    return lambda: FORCETrainer(50, **kw)


API = {
    # units on dimensionless parameters are not stripped
    "alpha in mV": (_force(alpha=5e-6 * mV), DimensionMismatchError, r"alpha is a plain number.*nvolt"),
    "reg in Hz": (_force(reg=2 * Hz), DimensionMismatchError, r"reg is a plain number.*Hz"),
    "p in ms": (_force(p=0.1 * ms), DimensionMismatchError, r"p is a plain number"),
    "divergence_factor in mV": (_force(divergence_factor=5 * mV), DimensionMismatchError, "divergence_factor"),
    # physical parameters need their units
    "G without unit": (_force(G=0.04), DimensionMismatchError, r"G must have units"),
    "Q in seconds": (_force(Q=10 * ms), DimensionMismatchError, r"Q must have units of"),
    "dt without unit": (_force(dt=5e-5), DimensionMismatchError, r"dt must have units of second"),
    "tau_m in volts": (_force(tau_m=10 * mV), DimensionMismatchError, r"tau_m must have units of second"),
    "rls_interval in Hz": (_force(rls_interval=400 * Hz), DimensionMismatchError, "rls_interval"),
    # flags, counts and ranges
    "normalised='no'": (_force(normalised="no"), TypeError, r"normalised must be True or False, got 'no'"),
    "normalised=1": (_force(normalised=1), TypeError, r"normalised must be True or False, got 1"),
    "p=True": (_force(p=True), TypeError, r"p must be a number, got True"),
    "p=0": (_force(p=0.0), ValueError, r"p must be in \(0, 1\], got 0"),
    "p=1.5": (_force(p=1.5), ValueError, r"p must be in \(0, 1\], got 1.5"),
    "n_record=-1": (_force(n_record=-1), ValueError, r"n_record must be an integer >= 0, got -1"),
    "n_record=2.5": (_force(n_record=2.5), TypeError, r"n_record must be an integer, got 2.5"),
    "n_neurons=True": (lambda: FORCETrainer(True), TypeError, r"n_neurons must be an integer, got True"),
    "n_neurons=0": (lambda: FORCETrainer(0), ValueError, r"n_neurons must be an integer >= 1, got 0"),
    "n_outputs='2'": (lambda: FORCETrainer(50, "2"), TypeError, r"n_outputs must be an integer, got '2'"),
    "record_dt < dt": (_force(record_dt=0.01 * ms), ValueError, r"record_dt \(10\. \* usecond\) must not be shorter than dt"),
    "alpha and reg": (_force(alpha=1e-3, reg=10.0), ValueError, "exactly one of reg"),
    "alpha=0": (_force(alpha=0.0), ValueError, r"alpha must be in \(0, inf\), got 0"),
    "alpha=NaN": (_force(alpha=float("nan")), ValueError, r"alpha must be finite, got nan"),
    "alpha='5e-6'": (_force(alpha="5e-6"), TypeError, r"alpha must be a number, got '5e-6'"),
    "divergence_factor=-1": (_force(divergence_factor=-1.0), ValueError, r"divergence_factor must be in \(0"),
    "rls_interval not a multiple of dt": (_force(rls_interval=0.12 * ms), ValueError, "multiple of dt"),
    "RLS reg in mV": (lambda: RLS(3, 1, reg=1 * mV), DimensionMismatchError, r"reg is a plain number"),
    "RLS alpha=-1": (lambda: regularisation_from(alpha=-1.0), ValueError, r"alpha must be in \(0, inf\), got -1"),
}


@pytest.mark.parametrize("case", list(API))
def test_bad_api_input(case):
    make, exc, pattern = API[case]
    with pytest.raises(exc, match=pattern):
        make()


def _saved(tmp_path, name="m.npz"):
    return save_arrays(tmp_path / name, {"phi": np.arange(4.0), "eta": np.ones(4)},
                       {"dt": 1e-4, "task": {"name": "sinusoid", "frequency": 5.0}}, kind="test")


def _edit_meta(path, **changes):
    with np.load(path) as f:
        content = {k: f[k] for k in f.files}
    meta = json.loads(content["__metadata_json__"].tobytes())
    meta.update(changes)
    content["__metadata_json__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(path, **content)


def _edit_array(path, name, value):
    with np.load(path) as f:
        content = {k: f[k] for k in f.files}
    content[name] = value
    np.savez(path, **content)


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


MODEL_FILES = {
    "edited dt": (lambda p: _edit_meta(p, dt=2e-4), "checksum mismatch"),
    "edited task frequency": (lambda p: _edit_meta(p, task={"name": "sinusoid", "frequency": 6.0}),
                              "checksum mismatch"),
    "edited kind": (lambda p: _edit_meta(p, kind="force_lif"), "holds a 'force_lif' model, expected 'test'"),
    "future version": (lambda p: _edit_meta(p, format_version=99), "unsupported format_version 99"),
    "NaN decoder": (lambda p: _edit_array(p, "phi", np.full(4, np.nan)), "checksum mismatch"),
    "missing array": (lambda p: _edit_array(p, "extra", np.zeros(2)), "checksum mismatch"),
    "truncated": (_truncate, "not .*model file"),
    "TOML renamed": (lambda p: p.write_text("[experiment]\nseed = 3\n"), r"not an \.npz archive"),
    "empty": (lambda p: p.write_bytes(b""), "not .*model file"),
}


@pytest.mark.parametrize("case", list(MODEL_FILES))
def test_bad_model_file(case, tmp_path):
    edit, pattern = MODEL_FILES[case]
    path = _saved(tmp_path)
    edit(path)
    with pytest.raises(ModelFileError, match=pattern) as info:
        load_arrays(path, kind="test")
    assert "m.npz" in str(info.value)          # the message names the file


def test_model_saved_as_txt_is_refused_before_writing(tmp_path):
    with pytest.raises(ValueError, match=r"model files end in \.npz; got '.*model\.txt'"):
        save_arrays(tmp_path / "model.txt", {"a": np.zeros(2)}, {}, kind="test")
    assert not list(tmp_path.iterdir())


def test_too_large_networks_fail_at_once_stating_the_bytes():
    import time

    from brianforce.memory import force_network_bytes, require_memory

    t0 = time.perf_counter()
    with pytest.raises(MemoryError, match=r"a FORCE network of 40000 neurons needs about 35\.8 GB "
                                          r"\(35841280000 bytes: .*RLS matrix P 12\.8 GB.*\) but only 24\.0 GB"):
        require_memory(force_network_bytes(40_000, 0.1), "a FORCE network of 40000 neurons", available=24 * 10**9)
    assert time.perf_counter() - t0 < 1.0
    assert require_memory(force_network_bytes(2000, 0.1), "small", available=24 * 10**9) < 10**9
