"""Behaviour fingerprints: each training method, rerun small, must reproduce its recording.

``tests/fingerprints/<name>.npz`` were recorded from the code *before* the refactor of the
package (moving modules, merging the duplicate LIF equations and RLS code) by
``tests/fingerprints/runs.py``, one small deterministic run per method from one seed.
A refactor must not change behaviour: spike indices and times must be identical and
outputs, errors and learned weights equal up to round-off (rtol 1e-9, atol 1e-12).

Rerun ``python tests/fingerprints/record.py`` to rewrite the fingerprints **only** when a
behaviour change is intended, and explain the change where it is committed.

(Brian2's numpy code-generation target, used when Cython is unavailable, also passes:
same spikes, values within 1e-10 relative.)
"""
import json
from pathlib import Path

import numpy as np
import pytest

from fingerprints.runs import RUNS, SEED

HERE = Path(__file__).resolve().parent / "fingerprints"
EXACT = ("_spike_i", "_spike_t", "_spike_trial")


def _settings(meta) -> dict:
    """Recorded settings, without the informative environment (versions, codegen target)."""
    info = json.loads(str(meta))
    info.pop("env", None)
    return info


@pytest.mark.parametrize("name", list(RUNS))
def test_fingerprint_is_reproduced(name):
    path = HERE / f"{name}.npz"
    assert path.exists(), f"{name}: no fingerprint {path}; record it with tests/fingerprints/record.py"
    with np.load(path, allow_pickle=False) as f:
        expected = {k: f[k] for k in f.files}
    got = RUNS[name](SEED)
    assert sorted(got) == sorted(expected), f"{name}: recorded arrays differ"
    assert _settings(got.pop("meta")) == _settings(expected.pop("meta")), f"{name}: settings differ"
    for key, want in expected.items():
        msg = f"{name}: {key}"
        if key.endswith(EXACT) or want.dtype.kind in "iub":
            assert got[key].dtype == want.dtype, msg
            np.testing.assert_array_equal(got[key], want, err_msg=msg, strict=True)
        else:
            np.testing.assert_allclose(got[key], want, rtol=1e-9, atol=1e-12, err_msg=msg)
