"""The loaders by name, and the layout of a data file detected from its variables.

:data:`LOADERS` maps a data-set name (the ``[data] dataset`` of a recipe) to its loader;
:func:`load_dataset` calls it (``synthetic`` only where the loader has a look-alike) and
:func:`detect_dataset` names the loader that reads a given file (``dataset = "auto"``).
"""
from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np

from brianforce.datasets.files import SYNTHETIC_KIND, DataFormatError, is_synthetic_file, read_mat
from brianforce.datasets.loaders import (load_alm_rates, load_churchland_tme, load_condition_arrays, load_cycling,
                                         load_hatsopoulos_emg, load_m1_rates, load_reaching_emg)

__all__ = ["LOADERS", "AUTO", "load_dataset", "detect_dataset", "loader_names"]

#: Data-set name → loader (each returns an ``EMGData``, ``PopulationRates`` or ``CyclingData``).
LOADERS = {
    "reaching_emg": load_reaching_emg,          # DePasquale et al. reaching EMG, 8 x 81 x 2
    "hatsopoulos_emg": load_hatsopoulos_emg,    # 13-muscle center-out EMG, 8 x 3341 x 13
    "cycling": load_cycling,                    # DePasquale et al. cycling EMG, 1 condition, 2000 x 3
    "m1_rates": load_m1_rates,                  # Hatsopoulos M1 rates, 8 x 121 x 141 units
    "alm_rates": load_alm_rates,                # Kim & Chow ALM rates, 2 x 101 x 1824 units
    "churchland_tme": load_churchland_tme,      # Churchland et al. 2012 PSTHs, 10 x 61 x 50 neurons
    "arrays": load_condition_arrays,            # any (condition, time, channel) array with dt
}
#: The name that asks :func:`detect_dataset` to pick the loader from the file.
AUTO = "auto"


def loader_names() -> str:
    """``name (loader)`` of every data set, for messages."""
    return ", ".join(f"{k!r} ({f.__name__})" for k, f in LOADERS.items()) + f", or {AUTO!r} (detected from the file)"


def load_dataset(name: str, path=None, synthetic: bool = False):
    """Load data set ``name`` (a key of :data:`LOADERS`, or ``"auto"``) from ``path``.

    ``synthetic`` is passed to the loaders that have a look-alike; the others find their file
    through ``path``, ``BRIANFORCE_DATA`` or ``../shared/data`` (:mod:`brianforce.datasets.files`).

    Raises
    ------
    ValueError
        An unknown name (the message lists the loaders).
    """
    if name == AUTO:
        name = detect_dataset(path)
    if not isinstance(name, str) or name not in LOADERS:
        raise ValueError(f"unknown data set {name!r}; the loaders of brianforce.datasets are {loader_names()}")
    loader = LOADERS[name]
    if "synthetic" in inspect.signature(loader).parameters:
        return loader(path, synthetic=synthetic)
    return loader(path)


def _variables(p: Path) -> dict:
    """Variable name → shape of a ``.mat`` or ``.npz`` file, without reading the values."""
    if p.suffix == ".mat":
        from scipy.io import whosmat

        try:
            return {name: tuple(shape) for name, shape, _ in whosmat(p)}
        except (NotImplementedError, ValueError, TypeError, OSError) as exc:
            read_mat(p)                       # raises DataFormatError with the reason
            raise DataFormatError(f"{p} is not a readable MATLAB file ({exc})") from exc
    try:
        with np.load(p, allow_pickle=False) as f:
            return {k: f[k].shape for k in f.files}
    except (ValueError, OSError, EOFError) as exc:
        raise DataFormatError(f"{p} is not a readable pickle-free .npz file ({exc})") from exc


def _matlab_only(p: Path, name: str, what: str) -> str:
    """``name``, whose layout is read from a MATLAB file only; a ``.npz`` file is refused."""
    if p.suffix == ".npz":
        raise DataFormatError(f"{p}: {what} is the {name!r} layout, which is read from a MATLAB v5 .mat file "
                              "only; save the arrays with scipy.io.savemat, or add 'dt' (s) to read a "
                              "(condition, time, channel) emg with the 'arrays' loader")
    return name


def detect_dataset(path) -> str:
    """Name of the loader (:data:`LOADERS`) that reads ``path``, from its variables.

    ``dataTensor`` → ``churchland_tme``; ``all_EMG`` → ``hatsopoulos_emg``; ``firing_rate`` →
    ``m1_rates``; ``emg`` with ``factors`` → ``cycling``; ``emg`` or ``rates`` with ``dt`` or
    ``time`` → ``arrays``; a 3-D ``emg`` alone → ``reaching_emg``; a ``.jld`` file or a folder
    holding the ALM ``.jld`` files → ``alm_rates`` (whose loader needs the folder); a synthetic look-alike → its data set. The
    ``cycling`` and ``reaching_emg`` layouts are MATLAB files only: in a ``.npz`` they are refused.

    Raises
    ------
    FileNotFoundError
        ``path`` is None or does not exist.
    DataFormatError
        No layout matches (the message lists the variables found), or a ``.npz`` file holds a
        MATLAB-only layout.
    """
    if path is None:
        raise FileNotFoundError(f"dataset = {AUTO!r} needs a data file (--data FILE)")
    p = Path(path).expanduser()
    if p.is_dir():
        if any(p.glob("movingrate_Pyr1Hz_lick*.jld")):
            return "alm_rates"
        raise DataFormatError(f"{p} is a folder; with dataset = {AUTO!r} give the data file itself")
    if not p.is_file():
        raise FileNotFoundError(f"{p} does not exist")
    if p.suffix == ".jld":
        return "alm_rates"
    if p.suffix == ".npz" and is_synthetic_file(p):
        from brianforce.io import ModelFileError, load_arrays

        try:
            kind = load_arrays(p)[1].get("kind")
        except ModelFileError as exc:
            raise DataFormatError(f"{p}: {exc}") from exc
        names = {v: k for k, v in SYNTHETIC_KIND.items()}
        if kind in names:
            return names[kind]
        raise DataFormatError(f"{p} is a brianforce file of kind {kind!r}, not a data set")
    if p.suffix not in (".mat", ".npz"):
        raise DataFormatError(f"{p}: cannot detect the layout of a {p.suffix or 'suffix-less'} file "
                              "(expected .mat, .npz, .jld or the alm_kim folder)")
    v = _variables(p)
    if "dataTensor" in v:
        return "churchland_tme"
    if "all_EMG" in v:
        return "hatsopoulos_emg"
    if "firing_rate" in v:
        return "m1_rates"
    if "emg" in v and "factors" in v:
        return _matlab_only(p, "cycling", "emg + factors")
    if ("emg" in v or "rates" in v) and ("dt" in v or "time" in v):
        return "arrays"
    if "emg" in v and len(v["emg"]) == 3:
        return _matlab_only(p, "reaching_emg", "a 3-D emg without dt or time")
    found = sorted(k for k in v if not k.startswith("__"))
    raise DataFormatError(
        f"{p}: no known layout (variables {found}); expected dataTensor (churchland_tme), all_EMG "
        "(hatsopoulos_emg), firing_rate (m1_rates), emg + factors (cycling), a 3-D emg (reaching_emg), "
        "or emg/rates (condition, time, channel) with dt or time (arrays)")
