"""Where the data files are, and reading them with checks.

Where a file is found
---------------------
1. ``path`` argument: the data file itself, its folder, or a data root laid out like
   ``shared/data`` (``<root>/depasquale_emg/reaching_data.mat`` ...). A synthetic
   look-alike ``.npz`` from ``data/`` is accepted too.
2. the environment variable ``BRIANFORCE_DATA`` (a data root);
3. ``synthetic=True`` (loaders that have one): the look-alike shipped in ``<repo>/data/``,
   written by ``data/make_synthetic.py``; the result has ``synthetic=True``;
4. ``<repo>/../shared/data`` if it exists;
5. otherwise :class:`FileNotFoundError` naming ``BRIANFORCE_DATA``.

Files are checked for the expected variables, shapes, finiteness and plausible value ranges;
anything else raises :class:`DataFormatError` (a ``ValueError``) naming the file and the problem.
"""
from __future__ import annotations

import os
import sys
import zipfile
from pathlib import Path

import numpy as np

from brianforce.checks import as_flag
from brianforce.io import ModelFileError, load_arrays

__all__ = ["DataFormatError", "ENV_VAR", "SYNTHETIC_KIND", "DEFAULT_ROOT", "data_root", "synthetic_path",
           "resolve_data_file", "is_synthetic_file", "read_synthetic", "read_mat", "checked_array",
           "check_range"]

ENV_VAR = "BRIANFORCE_DATA"
_REPO = Path(__file__).resolve().parents[2]
# data/ of a source checkout (editable install), else the copy a regular install puts under
# <prefix>/share/brianforce/data (pyproject: tool.setuptools.data-files)
_SYNTHETIC_DIR = next((d for d in (_REPO / "data", Path(sys.prefix) / "share" / "brianforce" / "data")
                       if (d / "synthetic_reaching_emg.npz").is_file()), _REPO / "data")
#: Data root used when neither ``path`` nor ``BRIANFORCE_DATA`` is given.
DEFAULT_ROOT = _REPO.parent / "shared" / "data"

#: ``kind`` strings of the synthetic look-alike files (checked on load).
SYNTHETIC_KIND = {
    "reaching_emg": "synthetic-reaching-emg",
    "hatsopoulos_emg": "synthetic-hatsopoulos-emg",
    "m1_rates": "synthetic-m1-rates",
}
_SYNTHETIC_FILE = {name: f"synthetic_{name}.npz" for name in SYNTHETIC_KIND}

# data set name -> path inside a data root
_REAL = {
    "reaching_emg": "depasquale_emg/reaching_data.mat",
    "cycling": "depasquale_emg/cycling_data.mat",
    "hatsopoulos_emg": "hatsopoulos_reach/EMG.mat",
    "m1_rates": "hatsopoulos_reach/m1_rates_center_out.npz",
    "alm_left": "alm_kim/movingrate_Pyr1Hz_lickleft.jld",
    "alm_right": "alm_kim/movingrate_Pyr1Hz_lickright.jld",
    "churchland_tme": "churchland_tme/exampleData.mat",
}


class DataFormatError(ValueError):
    """A data file has the wrong format, a missing variable, a wrong shape, or bad values."""


# --------------------------------------------------------------------------- locating files
def data_root(path=None) -> Path:
    """Folder holding the recorded data sets (laid out like ``shared/data``).

    Resolution: explicit ``path`` > environment variable ``BRIANFORCE_DATA`` >
    ``<repo>/../shared/data`` if it exists.

    Raises
    ------
    FileNotFoundError
        If the chosen folder does not exist, or nothing was found.
    """
    if path is not None:
        root = Path(path).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(f"data folder {root} does not exist")
        return root
    env = os.environ.get(ENV_VAR)
    if env:
        root = Path(env).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(f"{ENV_VAR}={env!r} is not an existing folder")
        return root
    if DEFAULT_ROOT.is_dir():
        return DEFAULT_ROOT
    raise FileNotFoundError(
        f"no recorded data found: pass path=..., or set the environment variable {ENV_VAR} to a "
        f"folder laid out like shared/data (e.g. {ENV_VAR}/depasquale_emg/reaching_data.mat); "
        "loaders that have one accept synthetic=True to use the shipped look-alike instead")


def synthetic_path(name: str) -> Path:
    """Path of the shipped synthetic look-alike ``name`` (one of ``SYNTHETIC_KIND``)."""
    if name not in _SYNTHETIC_FILE:
        raise ValueError(f"no synthetic look-alike named {name!r}; choose from {sorted(_SYNTHETIC_FILE)}")
    p = _SYNTHETIC_DIR / _SYNTHETIC_FILE[name]
    if not p.is_file():
        raise FileNotFoundError(
            f"synthetic look-alike {p} is missing (it ships in the repository's data/ folder; "
            "regenerate it with `python data/make_synthetic.py`)")
    return p


def resolve_data_file(name: str, path, synthetic: bool) -> Path:
    """File for data set ``name``, found in the order the module docstring gives (``synthetic``:
    ``True``/``False`` only, so that ``synthetic="no"`` is an error, not a request)."""
    synthetic = as_flag(synthetic, "synthetic")
    rel = Path(_REAL[name])
    if path is not None:
        p = Path(path).expanduser()
        if p.is_file():
            return p
        if p.is_dir():
            for cand in (p / rel, p / rel.name):
                if cand.is_file():
                    return cand
            raise FileNotFoundError(f"neither {p / rel} nor {p / rel.name} exists")
        raise FileNotFoundError(f"{p} does not exist")
    if not os.environ.get(ENV_VAR) and synthetic:
        return synthetic_path(name)
    root = data_root()
    p = root / rel
    if not p.is_file():
        raise FileNotFoundError(f"{p} not found under the data folder {root} (set {ENV_VAR} or pass path=)")
    return p


# --------------------------------------------------------------------------- reading + checks
def is_synthetic_file(p: Path) -> bool:
    """Whether ``p`` is a synthetic look-alike (an ``.npz`` with brianforce metadata)."""
    if p.suffix != ".npz":
        return False
    try:
        with np.load(p, allow_pickle=False) as f:
            return "__metadata_json__" in f.files
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise DataFormatError(f"{p} is not a readable .npz file ({exc})") from exc


def read_synthetic(p: Path, name: str):
    """Arrays and metadata of the synthetic look-alike ``p`` of data set ``name`` (kind checked)."""
    try:
        return load_arrays(p, kind=SYNTHETIC_KIND[name])
    except ModelFileError as exc:
        raise DataFormatError(f"{p} is not a valid synthetic {name!r} file: {exc}") from exc


def read_mat(p: Path) -> dict:
    """Variables of a v5 MAT-file (a ``.npz`` file is refused with a clear message)."""
    from scipy.io import loadmat

    if p.suffix.lower() == ".npz":
        raise DataFormatError(f"{p} is a .npz file, but this data set is read from a MATLAB v5 .mat file; "
                              "save it with scipy.io.savemat, or add 'dt' (s) to read it with "
                              "load_condition_arrays")
    try:
        return loadmat(p)
    except NotImplementedError as exc:  # v7.3 (HDF5) MAT files
        raise DataFormatError(f"{p} is a MATLAB v7.3 file; expected a v5 MAT-file ({exc})") from exc
    except (ValueError, TypeError, OSError, EOFError) as exc:
        raise DataFormatError(f"{p} is not a readable MATLAB file ({exc})") from exc


def checked_array(d: dict, key: str, p: Path, shape: tuple, what: str) -> np.ndarray:
    """Variable ``key`` of file ``p`` as a finite float array of exactly ``shape``.

    Raises
    ------
    DataFormatError
        Missing, non-numeric, wrongly shaped or non-finite (the message names ``what``).
    """
    if key not in d:
        found = sorted(k for k in d if not k.startswith("__"))
        raise DataFormatError(f"{p}: missing variable {key!r} ({what}); found {found}")
    a = np.asarray(d[key])
    if a.dtype.kind not in "fiu":
        raise DataFormatError(f"{p}: variable {key!r} is not numeric (dtype {a.dtype})")
    if a.shape != tuple(shape):
        raise DataFormatError(f"{p}: variable {key!r} ({what}) has shape {a.shape}, expected {tuple(shape)}")
    a = a.astype(float)
    if not np.all(np.isfinite(a)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        raise DataFormatError(f"{p}: variable {key!r} has NaN/Inf values (first at index {bad})")
    return a


def check_range(a, lo, hi, p, key, unit):
    """Raise :class:`DataFormatError` if ``a`` leaves the plausible range ``[lo, hi]`` of ``unit``."""
    if a.min() < lo or a.max() > hi:
        raise DataFormatError(
            f"{p}: {key!r} spans {a.min():.3g} .. {a.max():.3g}, outside the plausible range "
            f"[{lo}, {hi}] for {unit}; wrong file or units?")
