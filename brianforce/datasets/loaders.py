"""Loaders of the recorded motor data sets, validated on load, with synthetic look-alikes.

Each returns a labelled container (:mod:`brianforce.datasets.containers`); the file is found
and checked as :mod:`brianforce.datasets.files` describes.

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

import os
import zipfile
from pathlib import Path

import numpy as np

from brianforce.datasets.containers import CyclingData, EMGData, PopulationRates, pchip_upsample
from brianforce.checks import as_flag
from brianforce.datasets.files import (ENV_VAR, DataFormatError, check_range, checked_array, is_synthetic_file,
                                       read_mat, read_synthetic, resolve_data_file)

__all__ = ["load_reaching_emg", "load_cycling", "load_hatsopoulos_emg", "load_m1_rates", "load_alm_rates",
           "load_churchland_tme", "load_condition_arrays"]

_REACH_META = {
    "citation": "DePasquale, Sussillo, Abbott & Churchland (2023) Neuron 111:631-649",
    "origin": "briandepasquale/factor-based-spiking-nets reaching/reaching_data.mat",
    "time_reference": "trial start (hold input on from 0 to go_time)",
    "hold": [0.0, 0.35],
    "demo_inputs": "condition c (1-based): 0.5*cos(2*pi*c/8), 0.5*sin(2*pi*c/8) for the whole trial; "
                   "hold input 1.0 for the first 350 ms",
    "demo_target": "the demo trains the output to 2*emg and flips the sign of channel 0",
}


def _read_npz(p: Path) -> dict:
    """Every array of a pickle-free ``.npz`` file (a clear error for anything else)."""
    try:
        with np.load(p, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise DataFormatError(f"{p} is not a readable pickle-free .npz file ({exc})") from exc


def load_reaching_emg(path=None, synthetic=False) -> EMGData:
    """DePasquale et al. reaching EMG: 8 conditions x 81 bins of 10 ms x 2 muscles.

    Parameters
    ----------
    path : str or Path, optional
        ``reaching_data.mat``, its folder, or a data root (see :mod:`brianforce.datasets.files`).
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
    p = resolve_data_file("reaching_emg", path, synthetic)
    is_syn = is_synthetic_file(p)
    d = read_synthetic(p, "reaching_emg")[0] if is_syn else read_mat(p)
    emg = checked_array(d, "emg", p, (8, 81, 2), "(condition, time bin, muscle)")
    check_range(emg, -5.0, 5.0, p, "emg", "normalised EMG (global max ~1)")
    c = np.arange(1, 9)
    return EMGData(
        emg=emg, dt=0.01, time=np.arange(81) * 0.01, conditions=c, condition_angles=2 * np.pi * c / 8,
        channels=np.array(["muscle_0", "muscle_1"]), value_unit="normalised (global max ~1)",
        go_time=0.35, source=str(p), synthetic=is_syn, metadata=dict(_REACH_META))


def _lookalike(name: str, path, synthetic):
    """(variables, source, True) of the computed look-alike of ``name`` when ``synthetic`` is
    asked for and neither ``path`` nor ``BRIANFORCE_DATA`` is given, else None."""
    if as_flag(synthetic, "synthetic") and path is None and not os.environ.get(ENV_VAR):
        from brianforce.datasets.lookalikes import LOOKALIKES

        return LOOKALIKES[name](), Path(f"<computed {name} look-alike, brianforce.datasets.lookalikes>"), True
    return None


def load_cycling(path=None, synthetic=False) -> CyclingData:
    """DePasquale et al. cycling task: EMG (2000, 3) and 12 factors (2000, 12) at 1 ms.

    ``synthetic=True`` without a path or ``BRIANFORCE_DATA``: the look-alike computed by
    :func:`brianforce.datasets.lookalikes.lookalike_cycling` (``synthetic`` is then True).

    References
    ----------
    DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023). Neuron 111:631-649.
    """
    d, p, is_syn = _lookalike("cycling", path, synthetic) or (None, resolve_data_file("cycling", path, False), False)
    d = read_mat(p) if d is None else d
    emg = checked_array(d, "emg", p, (2000, 3), "(time at 1 ms, muscle)")
    factors = checked_array(d, "factors", p, (2000, 12), "(time at 1 ms, factor)")
    check_range(emg, -5.0, 5.0, p, "emg", "normalised EMG")
    return CyclingData(
        emg=emg, factors=factors, dt=0.001, time=np.arange(2000) * 0.001,
        channels=np.array([f"muscle_{i}" for i in range(3)]),
        factor_names=np.array([f"factor_{i}" for i in range(12)]), source=str(p), synthetic=is_syn,
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
    p = resolve_data_file("hatsopoulos_emg", path, synthetic)
    is_syn = is_synthetic_file(p)
    n_t = 3341
    time = np.arange(n_t) * 0.001
    if is_syn:
        d = read_synthetic(p, "hatsopoulos_emg")[0]
        t_c = checked_array(d, "time_coarse", p, (335,), "coarse time (s)")
        coarse = checked_array(d, "all_EMG_coarse", p, (13, t_c.size, 8), "coarse EMG")
        if t_c[0] > 0 or t_c[-1] < time[-1] - 1e-12:
            raise DataFormatError(f"{p}: coarse time grid does not cover 0 .. {time[-1]} s")
        d = {"all_EMG": pchip_upsample(coarse, t_c, time, axis=1)}
    else:
        d = read_mat(p)
    raw = checked_array(d, "all_EMG", p, (13, n_t, 8), "(muscle, time at 1 ms, direction)")
    check_range(raw, -1e3, 1e4, p, "all_EMG", "smoothed EMG")
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
        ``extras`` holds the (direction, time) hand kinematics found in the file (every variable
        named ``*position``, ``*speed`` or ``*angle`` with a direction and a time axis; each must be
        finite and (8, 121)).

    Raises
    ------
    DataFormatError
        A missing or misshapen variable, non-finite values (kinematics included), implausible
        rates, time not in 10 ms steps, or directions that are not 8 distinct whole degrees in
        [0, 360).

    References
    ----------
    Hatsopoulos NG, Xu Q, Amit Y (2007). J Neurosci 27:5105-5114.
    Suresh AK et al. (2020). eLife 9:e58848 (Dryad doi:10.5061/dryad.xsj3tx9cm).
    """
    p = resolve_data_file("m1_rates", path, synthetic)
    is_syn = is_synthetic_file(p)
    if is_syn:
        d = dict(read_synthetic(p, "m1_rates")[0])
        t_c = checked_array(d, "time_ms_coarse", p, (41,), "coarse time (ms)")
        coarse = checked_array(d, "firing_rate_coarse", p, (141, 41, 8), "coarse rates")
        t_ms = checked_array(d, "time_ms", p, (121,), "time (ms) relative to movement onset")
        if t_c[0] > t_ms[0] or t_c[-1] < t_ms[-1]:
            raise DataFormatError(f"{p}: coarse time grid does not cover {t_ms[0]} .. {t_ms[-1]} ms")
        d["firing_rate"] = pchip_upsample(coarse, t_c, t_ms, axis=1)
    else:
        d = _read_npz(p)
    rates = checked_array(d, "firing_rate", p, (141, 121, 8), "(unit, time, direction) spikes/s")
    t_ms = checked_array(d, "time_ms", p, (121,), "time (ms) relative to movement onset")
    deg = checked_array(d, "reach_direction_deg", p, (8,), "reach direction (deg)")
    check_range(rates, -1e-6, 1000.0, p, "firing_rate", "firing rates in spikes/s")
    if not np.allclose(np.diff(t_ms), 10.0):
        raise DataFormatError(f"{p}: time_ms must be in 10 ms steps (got steps {np.unique(np.diff(t_ms))})")
    if np.any(deg != np.round(deg)) or deg.min() < 0 or deg.max() >= 360 or np.unique(deg).size != deg.size:
        raise DataFormatError(f"{p}: reach_direction_deg must be 8 distinct whole degrees in [0, 360), "
                              f"got {deg.tolist()}")
    # (direction, time) kinematics: checked where they have the two axes (a transposed array is refused);
    # variables of other shapes (e.g. per direction only) are not kinematics over time and are left out
    extras = {k: checked_array(d, k, p, (8, 121), "hand kinematics (direction, time)")
              for k in d if k.endswith(("position", "speed", "angle")) and sorted(np.shape(d[k])) == [8, 121]}
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
    return checked_array(d, "Pyr", p, (101, 1824), "(time at 20 ms, neuron) spikes/s")


def load_alm_rates(path=None) -> PopulationRates:
    """Mouse ALM pyramidal-neuron rates, lick-left vs lick-right: (condition=2, time=101, unit=1824).

    ``path`` may be a data root or the ``alm_kim`` folder holding both ``.jld`` files; a single
    ``.jld`` file is refused (it holds one condition; pass the folder holding both).

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
    if path is not None and Path(path).expanduser().is_file():
        p = Path(path).expanduser()
        raise DataFormatError(f"{p} is a single ALM file (one condition); load_alm_rates needs the folder "
                              f"holding both movingrate_Pyr1Hz_lickleft.jld and movingrate_Pyr1Hz_lickright.jld "
                              f"(e.g. {p.parent}) or a data root")
    files = [resolve_data_file(k, path, False) for k in ("alm_left", "alm_right")]
    rates = np.stack([_read_h5_pyr(p) for p in files])
    for p, r in zip(files, rates):
        check_range(r, -1e-6, 1000.0, p, "Pyr", "firing rates in spikes/s")
    return PopulationRates(
        rates=np.clip(rates, 0.0, None), dt=0.02, time=np.arange(101) * 0.02,
        conditions=np.array(["lick_left", "lick_right"]), units=np.array([f"pyr_{i:04d}" for i in range(1824)]),
        value_unit="spikes/s", source=os.pathsep.join(map(str, files)), synthetic=False,
        metadata={"citation": "Finkelstein et al. (2021) Nat Neurosci; Kim & Chow (2018) eLife",
                  "origin": "chrismkkim/TutorialCNS2025 src_part3/data_alm (MIT)",
                  "time_reference": "start of the 2-s window (alignment undocumented)"})


def load_churchland_tme(path=None, synthetic=False) -> PopulationRates:
    """Churchland et al. (2012) jPCA PSTHs, TME subset: (condition=10, time=61, neuron=50).

    Values are range-normalised and mean-centred per neuron (**not** spikes/s).
    ``synthetic=True`` without a path or ``BRIANFORCE_DATA``: the look-alike computed by
    :func:`brianforce.datasets.lookalikes.lookalike_churchland_tme`.

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
    d, p, is_syn = _lookalike("churchland_tme", path, synthetic) or (
        None, resolve_data_file("churchland_tme", path, False), False)
    d = read_mat(p) if d is None else d
    x = checked_array(d, "dataTensor", p, (61, 50, 10), "(time, neuron, condition)")
    t = checked_array(d, "t", p, (61, 1), "time (ms) relative to movement onset").ravel()
    check_range(x, -1.0, 1.0, p, "dataTensor", "range-normalised activity")
    if not np.allclose(np.diff(t), 10.0):
        raise DataFormatError(f"{p}: t must be in 10 ms steps")
    return PopulationRates(
        rates=np.ascontiguousarray(x.transpose(2, 0, 1)), dt=0.01, time=t / 1000.0,
        conditions=np.arange(1, 11), units=np.array([f"neuron_{i:02d}" for i in range(50)]),
        value_unit="normalised (range-normalised, mean-centred per neuron; not spikes/s)",
        source=str(p), synthetic=is_syn,
        metadata={"citation": "Churchland et al. (2012) Nature 487:51; Elsayed & Cunningham (2017)",
                  "origin": "gamaleldin/TME data/exampleData.mat",
                  "time_reference": "movement onset"})


def _scalar(d, key, p):
    v = np.asarray(d[key])
    if v.dtype.kind not in "fiu" or v.size != 1:
        raise DataFormatError(f"{p}: variable {key!r} must be one number, got dtype {v.dtype} and shape {v.shape}")
    x = float(v.ravel()[0])
    if not np.isfinite(x):
        raise DataFormatError(f"{p}: variable {key!r} is not finite (got {x})")
    return x


def _text(x):
    """``x`` as a stripped string (MATLAB cells and 1-element arrays unwrapped), or None if not text."""
    while isinstance(x, np.ndarray) and x.size == 1 and x.dtype.kind in "OUS":
        x = x.ravel()[0]
    if isinstance(x, np.ndarray) and x.size == 0 and x.dtype.kind in "US":
        return ""
    if isinstance(x, bytes):
        x = x.decode()
    return x.strip() if isinstance(x, str) else None


def _labels(d, key, p, n, default):
    if key not in d:
        return default
    v = np.asarray(d[key]).ravel()
    if v.size != n:
        raise DataFormatError(f"{p}: variable {key!r} has {v.size} entries, expected {n}")
    if v.dtype.kind not in "USO":
        return v
    text = [_text(x) for x in v]
    if None in text:
        k = text.index(None)
        raise DataFormatError(f"{p}: variable {key!r} must hold text or numbers, not a mix or nested "
                              f"values (entry {k} is {v[k]!r})")
    return np.array(text)


def _value_unit(d, p, key):
    if "value_unit" not in d:
        return "arbitrary" if key == "emg" else "spikes/s"
    v = np.asarray(d["value_unit"])
    unit = _text(v) if v.dtype.kind in "OUS" else None
    if unit is None:
        raise DataFormatError(f"{p}: variable 'value_unit' must be one text, e.g. 'spikes/s', got {v.tolist()!r}")
    return unit


def _as_3d(x, d, p, key):
    """(condition, time, channel) of a 2-D variable: (condition, time) of one channel where 'time'
    matches axis 1 only (MATLAB drops a trailing dimension of 1), else (time, channel) of one
    condition where 'time' matches axis 0, or, in a .npz without 'time', always."""
    mat = p.suffix.lower() == ".mat"
    n_t = np.size(d["time"]) if "time" in d else None
    rows, cols = x.shape
    if n_t == cols and n_t != rows:
        return x[:, :, None]
    if (n_t == rows and not (mat and rows == cols)) or (n_t is None and not mat):
        return x[None]
    got = "no 'time'" if n_t is None else f"'time' of {n_t} entries"
    raise DataFormatError(
        f"{p}: 2-D {key!r} of shape {x.shape} with {got} has no unambiguous layout: store (condition, time, channel), "
        "or give 'time' (s) with one entry per time bin, matching axis 1 "
        "for (condition, time) of one channel (a MAT-file drops a trailing channel dimension of 1) or "
        "axis 0 for (time, channel) of one condition")


_RATE_UNITS = ("spikes/s", "spikes/sec", "spikes per second", "hz", "1/s")


def load_condition_arrays(path) -> EMGData | PopulationRates:
    """Trial-averaged signals of any size from a ``.npz`` (no pickles) or v5 ``.mat`` file.

    Layout: ``emg`` (gives :class:`EMGData`) or ``rates`` (gives :class:`PopulationRates`),
    ``(condition, time, channel)``; the sample step ``dt`` (s) or uniformly spaced sample times
    ``time`` (s, one per time bin). Optional: ``go_time`` (s into the window;
    ``metadata["go_time"]`` of population rates), ``conditions`` and ``channels`` (labels; MATLAB
    cell arrays of text are unwrapped), ``value_unit`` (one text; rates default to spikes/s).

    A 2-D variable is read as ``(condition, time)`` of one channel where ``time`` has as many
    entries as axis 1 only (a MAT-file drops a trailing channel dimension of 1), else as
    ``(time, channel)`` of one condition where ``time`` matches axis 0 or, in a ``.npz``, where
    there is no ``time``; any other 2-D variable is refused.

    Raises
    ------
    DataFormatError
        Neither or both of ``emg``/``rates``, a wrong number of dimensions, an ambiguous 2-D
        variable, no ``dt``/``time``, non-uniform time, non-finite values, mismatched labels, a
        ``value_unit`` that is not text, or negative values in a rate unit (spikes/s, Hz).
    """
    if path is None:
        raise FileNotFoundError("load_condition_arrays needs the path of a .npz or .mat file")
    p = Path(path).expanduser()
    if not p.is_file():
        raise FileNotFoundError(f"{p} is not a file")
    if p.suffix == ".mat":
        d = read_mat(p)
    else:
        d = _read_npz(p)
    keys = [k for k in ("emg", "rates") if k in d]
    if len(keys) != 1:
        raise DataFormatError(f"{p}: expected exactly one of the variables 'emg' or 'rates' "
                              f"(condition, time, channel); found {sorted(k for k in d if not k.startswith('__'))}")
    key = keys[0]
    x = np.asarray(d[key])
    if x.ndim == 2:
        x = _as_3d(x, d, p, key)
    if x.ndim != 3 or min(x.shape) < 1 or x.shape[1] < 2:
        raise DataFormatError(f"{p}: {key!r} must be (condition, time >= 2, channel), got shape {np.shape(d[key])}")
    x = checked_array({key: x}, key, p, x.shape, "(condition, time, channel)")
    check_range(x, -1e6, 1e6, p, key, "trial-averaged signals")
    C, T, Q = x.shape
    if "time" in d:
        time = checked_array({"time": np.asarray(d["time"]).ravel()}, "time", p, (T,), "sample times (s)")
        steps = np.diff(time)
        if steps.min() <= 0 or not np.allclose(steps, steps[0], rtol=1e-6, atol=1e-12):
            raise DataFormatError(f"{p}: 'time' must increase in uniform steps")
        dt = float(steps[0])
        if "dt" in d and not np.isclose(_scalar(d, "dt", p), dt, rtol=1e-6, atol=0):
            raise DataFormatError(f"{p}: 'dt' ({_scalar(d, 'dt', p)} s) disagrees with the step of 'time' ({dt} s)")
    elif "dt" in d:
        dt = _scalar(d, "dt", p)
        if dt <= 0:
            raise DataFormatError(f"{p}: 'dt' must be a positive step in seconds, got {dt}")
        time = np.arange(T) * dt
    else:
        raise DataFormatError(f"{p}: give the sample step 'dt' (s) or the sample times 'time' (s)")
    if dt >= 1.0:
        raise DataFormatError(f"{p}: a sample step of {dt} s is implausible for trial-averaged signals; "
                              "'dt' and 'time' are in seconds, not milliseconds")
    conditions = _labels(d, "conditions", p, C, np.arange(C))
    channels = _labels(d, "channels", p, Q, np.array([f"{'muscle' if key == 'emg' else 'unit'}_{i}" for i in range(Q)]))
    unit = _value_unit(d, p, key)
    if unit.lower() in _RATE_UNITS:
        check_range(x, -1e-6, 1e6, p, key, f"firing rates in {unit}" + (
            "" if "value_unit" in d else " (the default 'value_unit' of rates; set value_unit, e.g. "
            "'normalised', for signals that can be negative)"))
    go = _scalar(d, "go_time", p) if "go_time" in d else None
    if go is not None and not time[0] <= go <= time[-1]:
        raise DataFormatError(f"{p}: 'go_time' ({go} s) lies outside the stored window "
                              f"[{time[0]:g}, {time[-1]:g}] s")
    meta = {"origin": "load_condition_arrays", "time_reference": "start of the stored window"}
    if key == "emg":
        return EMGData(emg=x, dt=dt, time=time, conditions=conditions, condition_angles=np.full(C, np.nan),
                       channels=channels, value_unit=unit, go_time=go, source=str(p), synthetic=False,
                       metadata=meta)
    if go is not None:
        meta["go_time"] = go
    return PopulationRates(rates=x, dt=dt, time=time, conditions=conditions, units=channels, value_unit=unit,
                           source=str(p), synthetic=False, metadata=meta)
