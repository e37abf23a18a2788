"""Loaders for recorded motor data, validated on load, with synthetic look-alikes.

Every loader returns a labelled dataclass (arrays ordered ``(condition, time, channel)``,
time in **seconds**, rates in **spikes/s**) with a ``.to_frame()`` giving a long pandas
table ``(condition, time, channel, value)``. Files are checked for the expected variables,
shapes, finiteness and plausible value ranges; anything else raises :class:`DataFormatError`
(a ``ValueError``) naming the file and the problem.

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

So ``synthetic=True`` means "the real data if the caller pointed at it, else the look-alike":
tutorials and CI use it to run without the recordings.

References
----------
DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023). The centrality of population-level
factors to network computation is demonstrated by a versatile approach for training spiking
networks. Neuron 111:631-649 (reaching and cycling EMG).
Bachschmid-Romano L, Hatsopoulos NG, Brunel N (2023). eLife (13-muscle center-out EMG).
Hatsopoulos NG, Xu Q, Amit Y (2007). J Neurosci 27:5105-5114 (M1 center-out rates).
Finkelstein A et al. (2021). Nat Neurosci 24:843-850; Kim CM, Chow CC (2018). eLife 7:e37124 (ALM).
Churchland MM et al. (2012). Nature 487:51-56; Elsayed GF, Cunningham JP (2017) (jPCA tensor).
"""
from __future__ import annotations

import dataclasses
import os
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from brianforce.io import ModelFileError, load_arrays

__all__ = [
    "DataFormatError", "EMGData", "PopulationRates", "CyclingData",
    "data_root", "synthetic_path", "load_reaching_emg", "load_cycling",
    "load_hatsopoulos_emg", "load_m1_rates", "load_alm_rates", "load_churchland_tme",
    "ENV_VAR", "SYNTHETIC_KIND",
]

ENV_VAR = "BRIANFORCE_DATA"
_REPO = Path(__file__).resolve().parents[1]
# data/ of a source checkout (editable install), else the copy a regular install puts under
# <prefix>/share/brianforce/data (pyproject: tool.setuptools.data-files)
_SYNTHETIC_DIR = next((d for d in (_REPO / "data", Path(sys.prefix) / "share" / "brianforce" / "data")
                       if (d / "synthetic_reaching_emg.npz").is_file()), _REPO / "data")
_DEFAULT_ROOT = _REPO.parent / "shared" / "data"

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


# --------------------------------------------------------------------------- labelled data
def _long_frame(values, conditions, time, channels, value_name="value"):
    import pandas as pd

    c, t, n = values.shape
    return pd.DataFrame({
        "condition": np.repeat(np.asarray(conditions), t * n),
        "time": np.tile(np.repeat(np.asarray(time, float), n), c),
        "channel": np.tile(np.asarray(channels), c * t),
        value_name: np.asarray(values, float).reshape(-1),
    })


def _as_seconds(dt) -> float:
    """``dt`` as float seconds; a Brian2 quantity must have time dimensions."""
    if hasattr(dt, "dim"):
        from brian2 import second
        from brian2.units.fundamentalunits import fail_for_dimension_mismatch

        fail_for_dimension_mismatch(dt, second, "dt must be a time (e.g. 0.05*ms)")
        dt = dt / second
    dt = float(dt)
    if not np.isfinite(dt) or dt <= 0:
        raise ValueError(f"dt must be a positive time step, got {dt!r}")
    return dt


def _resample_time(values, time, dt_old, dt, kind):
    """Resample ``values[:, time, :]`` onto a ``dt`` grid covering ``len(time) * dt_old`` seconds."""
    dt = _as_seconds(dt)
    n_new = int(round(len(time) * dt_old / dt))
    if n_new < 1:
        raise ValueError(f"dt={dt} s is longer than the whole recording ({len(time) * dt_old} s)")
    t_new = time[0] + np.arange(n_new) * dt
    if kind == "hold":               # repeat each bin (the DePasquale demo's upsampling)
        idx = np.minimum(np.floor((t_new - time[0]) / dt_old + 1e-9).astype(int), len(time) - 1)
        out = values[:, idx]
    elif kind == "linear":           # piecewise linear, last value held beyond the last sample
        flat = values.transpose(1, 0, 2).reshape(len(time), -1)
        out = np.stack([np.interp(t_new, time, col) for col in flat.T], axis=1)
        out = out.reshape(n_new, values.shape[0], values.shape[2]).transpose(1, 0, 2)
    elif kind == "pchip":
        out = _upsample(values, time, np.minimum(t_new, time[-1]), axis=1)
    else:
        raise ValueError(f"kind must be 'hold', 'linear' or 'pchip', got {kind!r}")
    return np.ascontiguousarray(out), t_new, dt


@dataclass(frozen=True, eq=False)
class EMGData:
    """Trial-averaged EMG, ``emg[condition, time, channel]``.

    Attributes
    ----------
    emg : ndarray (C, T, M)
        EMG values (units in ``value_unit``).
    dt : float
        Sample step in seconds.
    time : ndarray (T,)
        Sample times in seconds (relative to ``time_reference``).
    conditions : ndarray (C,)
        Condition labels.
    condition_angles : ndarray (C,)
        Reach direction of each condition in radians.
    channels : ndarray (M,) of str
        Muscle/channel names.
    value_unit : str
    go_time : float or None
        Time (s) at which the hold/"prepare" input ends, when the task defines one.
    source : str
        File the data came from.
    synthetic : bool
        True for a look-alike generated by ``data/make_synthetic.py``.
    metadata : dict
        Everything else (citation, task layout of the original demo, ...).
    """

    emg: np.ndarray
    dt: float
    time: np.ndarray
    conditions: np.ndarray
    condition_angles: np.ndarray
    channels: np.ndarray
    value_unit: str
    go_time: float | None
    source: str
    synthetic: bool
    metadata: dict = field(default_factory=dict)

    dims = ("condition", "time", "channel")

    @property
    def shape(self):
        return self.emg.shape

    def resampled(self, dt, kind: str = "linear") -> "EMGData":
        """Copy on a ``dt`` grid (s, or a Brian2 time) spanning the same duration ``T * self.dt``.

        ``kind``: ``"hold"`` repeats each bin (as the DePasquale demo does), ``"linear"``
        interpolates, ``"pchip"`` is a shape-preserving cubic; beyond the last sample the last
        value is held.
        """
        emg, t, dt = _resample_time(self.emg, self.time, self.dt, dt, kind)
        return dataclasses.replace(self, emg=emg, time=t, dt=dt,
                                   metadata=dict(self.metadata, resampled_from=self.dt, resample_kind=kind))

    def to_frame(self):
        """Long table with columns ``condition, time, channel, value`` (time in s)."""
        return _long_frame(self.emg, self.conditions, self.time, self.channels)

    def normalised(self):
        """Copy with every channel divided by its maximum absolute value (over conditions, time)."""
        scale = np.abs(self.emg).max(axis=(0, 1))
        if np.any(scale == 0):
            raise ValueError("cannot normalise: a channel is identically zero")
        meta = dict(self.metadata, normalised_by=scale.tolist())
        return dataclasses.replace(self, emg=self.emg / scale, value_unit="normalised (max |x| = 1 per channel)",
                                   metadata=meta)


@dataclass(frozen=True, eq=False)
class PopulationRates:
    """Trial-averaged population activity, ``rates[condition, time, unit]``.

    Attributes
    ----------
    rates : ndarray (C, T, N)
        Firing rates in spikes/s (or, where ``value_unit`` says so, normalised activity).
    dt : float
        Sample step in seconds.
    time : ndarray (T,)
        Sample times in seconds (relative to ``time_reference`` in ``metadata``).
    conditions : ndarray (C,)
        Condition labels (reach directions in degrees, or task names).
    units : ndarray (N,) of str
        Unit names.
    value_unit : str
    source, synthetic, metadata
        As in :class:`EMGData`.
    extras : dict
        Other per-condition arrays of the file (e.g. hand kinematics, ``(C, T)``).
    """

    rates: np.ndarray
    dt: float
    time: np.ndarray
    conditions: np.ndarray
    units: np.ndarray
    value_unit: str
    source: str
    synthetic: bool
    metadata: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)

    dims = ("condition", "time", "unit")

    @property
    def shape(self):
        return self.rates.shape

    def resampled(self, dt, kind: str = "linear") -> "PopulationRates":
        """Copy on a ``dt`` grid spanning ``T * self.dt`` seconds (see :meth:`EMGData.resampled`)."""
        rates, t, dt = _resample_time(self.rates, self.time, self.dt, dt, kind)
        return dataclasses.replace(self, rates=rates, time=t, dt=dt, extras={},
                                   metadata=dict(self.metadata, resampled_from=self.dt, resample_kind=kind))

    def to_frame(self):
        """Long table with columns ``condition, time, channel, value`` (channel = unit name)."""
        return _long_frame(self.rates, self.conditions, self.time, self.units)


@dataclass(frozen=True, eq=False)
class CyclingData:
    """DePasquale cycling task: ``emg[time, channel]`` and ``factors[time, factor]`` at 1 ms."""

    emg: np.ndarray
    factors: np.ndarray
    dt: float
    time: np.ndarray
    channels: np.ndarray
    factor_names: np.ndarray
    source: str
    synthetic: bool = False
    metadata: dict = field(default_factory=dict)

    def to_frame(self, what="emg"):
        """Long table ``condition, time, channel, value`` of ``what`` = ``"emg"`` or ``"factors"``."""
        if what == "emg":
            values, names = self.emg, self.channels
        elif what == "factors":
            values, names = self.factors, self.factor_names
        else:
            raise ValueError(f"what must be 'emg' or 'factors', got {what!r}")
        return _long_frame(values[None], ["cycling"], self.time, names)


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
    if _DEFAULT_ROOT.is_dir():
        return _DEFAULT_ROOT
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


def _resolve(name: str, path, synthetic: bool) -> Path:
    """File for data set ``name``, following the order in the module docstring."""
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
def _is_synthetic(p: Path) -> bool:
    if p.suffix != ".npz":
        return False
    try:
        with np.load(p, allow_pickle=False) as f:
            return "__metadata_json__" in f.files
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise DataFormatError(f"{p} is not a readable .npz file ({exc})") from exc


def _read_synthetic(p: Path, name: str):
    try:
        return load_arrays(p, kind=SYNTHETIC_KIND[name])
    except ModelFileError as exc:
        raise DataFormatError(f"{p} is not a valid synthetic {name!r} file: {exc}") from exc


def _read_mat(p: Path) -> dict:
    from scipy.io import loadmat

    try:
        return loadmat(p)
    except NotImplementedError as exc:  # v7.3 (HDF5) MAT files
        raise DataFormatError(f"{p} is a MATLAB v7.3 file; expected a v5 MAT-file ({exc})") from exc
    except (ValueError, TypeError, OSError, EOFError) as exc:
        raise DataFormatError(f"{p} is not a readable MATLAB file ({exc})") from exc


def _get(d: dict, key: str, p: Path, shape: tuple, what: str) -> np.ndarray:
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
        bad = np.argwhere(~np.isfinite(a))[0]
        raise DataFormatError(f"{p}: variable {key!r} has NaN/Inf values (first at index {tuple(bad)})")
    return a


def _check_range(a, lo, hi, p, key, unit):
    if a.min() < lo or a.max() > hi:
        raise DataFormatError(
            f"{p}: {key!r} spans {a.min():.3g} .. {a.max():.3g}, outside the plausible range "
            f"[{lo}, {hi}] for {unit}; wrong file or units?")


def _upsample(values: np.ndarray, t_coarse: np.ndarray, t_fine: np.ndarray, axis: int) -> np.ndarray:
    """Shape-preserving (PCHIP) interpolation of smooth synthetic signals onto ``t_fine``."""
    from scipy.interpolate import PchipInterpolator

    return PchipInterpolator(t_coarse, values, axis=axis)(t_fine)


# --------------------------------------------------------------------------- loaders
_REACH_META = {
    "citation": "DePasquale, Sussillo, Abbott & Churchland (2023) Neuron 111:631-649",
    "origin": "briandepasquale/factor-based-spiking-nets reaching/reaching_data.mat",
    "time_reference": "trial start (hold input on from 0 to go_time)",
    "hold": [0.0, 0.35],
    "demo_inputs": "condition c (1-based): 0.5*cos(2*pi*c/8), 0.5*sin(2*pi*c/8) for the whole trial; "
                   "hold input 1.0 for the first 350 ms",
    "demo_target": "the demo trains the output to 2*emg and flips the sign of channel 0",
}


def load_reaching_emg(path=None, synthetic=False) -> EMGData:
    """DePasquale et al. reaching EMG: 8 conditions x 81 bins of 10 ms x 2 muscles.

    Parameters
    ----------
    path : str or Path, optional
        ``reaching_data.mat``, its folder, or a data root (see module docstring).
    synthetic : bool
        Use ``data/synthetic_reaching_emg.npz`` when no path/``BRIANFORCE_DATA`` is given.

    Returns
    -------
    EMGData
        ``emg`` (8, 81, 2) dimensionless (global max ~1), ``dt`` = 0.01 s, ``time`` = 0 .. 0.8 s,
        ``conditions`` 1..8 with ``condition_angles`` = 2*pi*c/8, ``go_time`` = 0.35 s.

    References
    ----------
    DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023). Neuron 111:631-649.
    """
    p = _resolve("reaching_emg", path, synthetic)
    is_syn = _is_synthetic(p)
    d = _read_synthetic(p, "reaching_emg")[0] if is_syn else _read_mat(p)
    emg = _get(d, "emg", p, (8, 81, 2), "(condition, time bin, muscle)")
    _check_range(emg, -5.0, 5.0, p, "emg", "normalised EMG (global max ~1)")
    c = np.arange(1, 9)
    return EMGData(
        emg=emg, dt=0.01, time=np.arange(81) * 0.01, conditions=c, condition_angles=2 * np.pi * c / 8,
        channels=np.array(["muscle_0", "muscle_1"]), value_unit="normalised (global max ~1)",
        go_time=0.35, source=str(p), synthetic=is_syn, metadata=dict(_REACH_META))


def load_cycling(path=None) -> CyclingData:
    """DePasquale et al. cycling task: EMG (2000, 3) and 12 factors (2000, 12) at 1 ms.

    References
    ----------
    DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023). Neuron 111:631-649.
    """
    p = _resolve("cycling", path, False)
    d = _read_mat(p)
    emg = _get(d, "emg", p, (2000, 3), "(time at 1 ms, muscle)")
    factors = _get(d, "factors", p, (2000, 12), "(time at 1 ms, factor)")
    _check_range(emg, -5.0, 5.0, p, "emg", "normalised EMG")
    return CyclingData(
        emg=emg, factors=factors, dt=0.001, time=np.arange(2000) * 0.001,
        channels=np.array([f"muscle_{i}" for i in range(3)]),
        factor_names=np.array([f"factor_{i}" for i in range(12)]), source=str(p),
        metadata={"citation": _REACH_META["citation"],
                  "note": "periodic, about 4 cycles of ~494 ms; factors are the demo's spiking targets"})


def load_hatsopoulos_emg(path=None, synthetic=False) -> EMGData:
    """13-muscle center-out EMG (Hatsopoulos lab), reordered to (direction, time, muscle).

    The file stores ``all_EMG`` as (muscle=13, time=3341 at 1 ms, direction=8). Channel scales
    differ by two orders of magnitude: use :meth:`EMGData.normalised` before fitting.

    Returns
    -------
    EMGData
        ``emg`` (8, 3341, 13), ``dt`` = 0.001 s, ``time`` 0 .. 3.34 s (alignment event not
        documented), ``conditions`` 0, 45, ..., 315 (degrees, order presumed), ``go_time`` None.

    References
    ----------
    Bachschmid-Romano L, Hatsopoulos NG, Brunel N (2023). eLife; PNAS doi:10.1073/pnas.2212227120.
    """
    p = _resolve("hatsopoulos_emg", path, synthetic)
    is_syn = _is_synthetic(p)
    n_t = 3341
    time = np.arange(n_t) * 0.001
    if is_syn:
        d = _read_synthetic(p, "hatsopoulos_emg")[0]
        t_c = _get(d, "time_coarse", p, (335,), "coarse time (s)")
        coarse = _get(d, "all_EMG_coarse", p, (13, t_c.size, 8), "coarse EMG")
        if t_c[0] > 0 or t_c[-1] < time[-1] - 1e-12:
            raise DataFormatError(f"{p}: coarse time grid does not cover 0 .. {time[-1]} s")
        d = {"all_EMG": _upsample(coarse, t_c, time, axis=1)}
    else:
        d = _read_mat(p)
    raw = _get(d, "all_EMG", p, (13, n_t, 8), "(muscle, time at 1 ms, direction)")
    _check_range(raw, -1e3, 1e4, p, "all_EMG", "smoothed EMG")
    deg = np.arange(8) * 45
    return EMGData(
        emg=np.ascontiguousarray(raw.transpose(2, 1, 0)), dt=0.001, time=time, conditions=deg,
        condition_angles=np.deg2rad(deg), channels=np.array([f"muscle_{i:02d}" for i in range(13)]),
        value_unit="arbitrary (smoothed EMG, per-muscle scale; undocumented)", go_time=None,
        source=str(p), synthetic=is_syn,
        metadata={"citation": "Bachschmid-Romano, Hatsopoulos & Brunel (2023) eLife; "
                              "PNAS doi:10.1073/pnas.2212227120",
                  "origin": "lbachromano/M1_Preparatory_Movement_Representation EMG.mat (CC0)",
                  "time_reference": "start of the stored window (alignment event undocumented)",
                  "directions": "presumed 0, 45, ..., 315 degrees"})


def load_m1_rates(path=None, synthetic=False) -> PopulationRates:
    """Trial-averaged M1 firing rates, center-out reaching: (direction=8, time=121, unit=141).

    Returns
    -------
    PopulationRates
        ``rates`` in spikes/s, ``dt`` = 0.01 s, ``time`` -0.8 .. +0.4 s relative to movement
        onset, ``conditions`` = reach direction in degrees, ``units`` = ``unit_000`` ...;
        ``extras`` holds the (direction, time) hand kinematics found in the file.

    References
    ----------
    Hatsopoulos NG, Xu Q, Amit Y (2007). J Neurosci 27:5105-5114.
    Suresh AK et al. (2020). eLife 9:e58848 (Dryad doi:10.5061/dryad.xsj3tx9cm).
    """
    p = _resolve("m1_rates", path, synthetic)
    is_syn = _is_synthetic(p)
    if is_syn:
        d = dict(_read_synthetic(p, "m1_rates")[0])
        t_c = _get(d, "time_ms_coarse", p, (41,), "coarse time (ms)")
        coarse = _get(d, "firing_rate_coarse", p, (141, 41, 8), "coarse rates")
        t_ms = _get(d, "time_ms", p, (121,), "time (ms) relative to movement onset")
        if t_c[0] > t_ms[0] or t_c[-1] < t_ms[-1]:
            raise DataFormatError(f"{p}: coarse time grid does not cover {t_ms[0]} .. {t_ms[-1]} ms")
        d["firing_rate"] = _upsample(coarse, t_c, t_ms, axis=1)
    else:
        try:
            with np.load(p, allow_pickle=False) as f:
                d = {k: f[k] for k in f.files}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
            raise DataFormatError(f"{p} is not a readable pickle-free .npz file ({exc})") from exc
    rates = _get(d, "firing_rate", p, (141, 121, 8), "(unit, time, direction) spikes/s")
    t_ms = _get(d, "time_ms", p, (121,), "time (ms) relative to movement onset")
    deg = _get(d, "reach_direction_deg", p, (8,), "reach direction (deg)")
    _check_range(rates, -1e-6, 1000.0, p, "firing_rate", "firing rates in spikes/s")
    if not np.allclose(np.diff(t_ms), 10.0):
        raise DataFormatError(f"{p}: time_ms must be in 10 ms steps (got steps {np.unique(np.diff(t_ms))})")
    extras = {}
    for k, v in d.items():
        v = np.asarray(v)
        if k.endswith(("position", "speed", "angle")) and v.shape == (8, 121):
            extras[k] = v.astype(float)
    return PopulationRates(
        rates=np.ascontiguousarray(np.clip(rates, 0.0, None).transpose(2, 1, 0)), dt=0.01, time=t_ms / 1000.0,
        conditions=deg.astype(int), units=np.array([f"unit_{i:03d}" for i in range(141)]),
        value_unit="spikes/s", source=str(p), synthetic=is_syn, extras=extras,
        metadata={"citation": "Hatsopoulos, Xu & Amit (2007) J Neurosci 27:5105; Suresh et al. (2020) eLife",
                  "time_reference": "movement onset", "smoothing": "Gaussian, SD 25 ms"})


def _read_h5_pyr(p: Path) -> np.ndarray:
    try:
        import h5py
    except ImportError as exc:
        raise ImportError("load_alm_rates needs h5py: pip install h5py "
                          "(or pip install 'brianforce[data]')") from exc
    try:
        with h5py.File(p, "r") as f:
            d = {k: f[k][()] for k in f.keys() if isinstance(f[k], h5py.Dataset)}
    except OSError as exc:
        raise DataFormatError(f"{p} is not a readable HDF5/JLD file ({exc})") from exc
    return _get(d, "Pyr", p, (101, 1824), "(time at 20 ms, neuron) spikes/s")


def load_alm_rates(path=None) -> PopulationRates:
    """Mouse ALM pyramidal-neuron rates, lick-left vs lick-right: (condition=2, time=101, unit=1824).

    ``path`` may be a data root or the ``alm_kim`` folder holding both ``.jld`` files.

    Returns
    -------
    PopulationRates
        ``rates`` in spikes/s, ``dt`` = 0.02 s, ``time`` 0 .. 2.0 s (alignment undocumented),
        ``conditions`` = ("lick_left", "lick_right").

    References
    ----------
    Finkelstein A et al. (2021). Nat Neurosci 24:843-850.
    Kim CM, Chow CC (2018). Learning recurrent dynamics in spiking networks. eLife 7:e37124.
    """
    files = [_resolve(k, path, False) for k in ("alm_left", "alm_right")]
    rates = np.stack([_read_h5_pyr(p) for p in files])
    for p, r in zip(files, rates):
        _check_range(r, -1e-6, 1000.0, p, "Pyr", "firing rates in spikes/s")
    return PopulationRates(
        rates=np.clip(rates, 0.0, None), dt=0.02, time=np.arange(101) * 0.02,
        conditions=np.array(["lick_left", "lick_right"]), units=np.array([f"pyr_{i:04d}" for i in range(1824)]),
        value_unit="spikes/s", source=os.pathsep.join(map(str, files)), synthetic=False,
        metadata={"citation": "Finkelstein et al. (2021) Nat Neurosci; Kim & Chow (2018) eLife",
                  "origin": "chrismkkim/TutorialCNS2025 src_part3/data_alm (MIT)",
                  "time_reference": "start of the 2-s window (alignment undocumented)"})


def load_churchland_tme(path=None) -> PopulationRates:
    """Churchland et al. (2012) jPCA PSTHs, TME subset: (condition=10, time=61, neuron=50).

    Values are range-normalised and mean-centred per neuron (**not** spikes/s).

    Returns
    -------
    PopulationRates
        ``rates`` normalised activity, ``dt`` = 0.01 s, ``time`` -0.05 .. 0.55 s relative to
        movement onset, ``conditions`` 1..10.

    References
    ----------
    Churchland MM et al. (2012). Neural population dynamics during reaching. Nature 487:51-56.
    Elsayed GF, Cunningham JP (2017). Nat Neurosci 20:1310-1318.
    """
    p = _resolve("churchland_tme", path, False)
    d = _read_mat(p)
    x = _get(d, "dataTensor", p, (61, 50, 10), "(time, neuron, condition)")
    t = _get(d, "t", p, (61, 1), "time (ms) relative to movement onset").ravel()
    _check_range(x, -1.0, 1.0, p, "dataTensor", "range-normalised activity")
    if not np.allclose(np.diff(t), 10.0):
        raise DataFormatError(f"{p}: t must be in 10 ms steps")
    return PopulationRates(
        rates=np.ascontiguousarray(x.transpose(2, 0, 1)), dt=0.01, time=t / 1000.0,
        conditions=np.arange(1, 11), units=np.array([f"neuron_{i:02d}" for i in range(50)]),
        value_unit="normalised (range-normalised, mean-centred per neuron; not spikes/s)",
        source=str(p), synthetic=False,
        metadata={"citation": "Churchland et al. (2012) Nature 487:51; Elsayed & Cunningham (2017)",
                  "origin": "gamaleldin/TME data/exampleData.mat",
                  "time_reference": "movement onset"})
