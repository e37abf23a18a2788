"""Recorded runs as Neurodata Without Borders (NWB 2) files, for tools outside Python and Brian2.

:func:`to_nwb` writes a :class:`~brianforce.learning.results.SimulationResult` (what
``FORCETrainer.predict`` and the other trainers' runs return) and :func:`read_nwb` reads it back,
unchanged:

* spikes: the ``units`` table, one unit per recorded neuron (``id`` = neuron index), spike times
  in seconds;
* outputs: the processing module ``brianforce`` holds the ``TimeSeries`` ``z`` (decoder output)
  and ``target``, shape (n_times, n_outputs) or (n_times,) as the result has them, at the
  recorded ``timestamps`` (s), unit ``a.u.`` (the result's ``unit`` where it has one, e.g. volts
  for recurrent currents, ``dimensionless`` for a plain number), and the one-row table ``run``:
  ``phase``, ``n_neurons``, ``n_recorded``, ``wall_time_s``.

Values are stored as float64, so spike times, indices and outputs read back bit for bit, in their
shapes. Spikes read back ordered by time, then neuron (the order of a Brian2 ``SpikeMonitor``).
The file is written atomically (:func:`brianforce.io.atomic_path`). Needs ``pynwb``
(``pip install "brianforce[nwb]"``).

References
----------
Rübel O et al. (2022) The Neurodata Without Borders ecosystem for neurophysiological data
science. eLife 11:e78362.
"""
from __future__ import annotations

import uuid
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from brianforce.io import atomic_path
from brianforce.learning.results import SimulationResult

__all__ = ["to_nwb", "read_nwb", "NWBFileError"]

_MODULE = "brianforce"


class NWBFileError(ValueError):
    """An NWB file is missing, unreadable, or holds no run written by :func:`to_nwb`."""


def _pynwb():
    try:
        import pynwb
    except ImportError as exc:
        raise ImportError('NWB export needs pynwb: pip install "brianforce[nwb]"') from exc
    return pynwb


def _unit_of(result) -> str:
    unit = getattr(result, "unit", None)
    if unit is None:
        return "a.u."
    from brian2 import get_dimensions, get_unit

    dim = get_dimensions(unit)
    return "dimensionless" if dim.is_dimensionless else str(get_unit(dim))


def _checked_arrays(result: SimulationResult):
    """``t, z, target, spike_i, spike_t, n_recorded`` of ``result``, checked for writing."""
    name = f"{type(result).__name__} (phase {result.phase!r})"
    t = np.asarray(result.t, dtype=float)
    if t.ndim != 1 or not t.size:
        raise ValueError(f"{name} has no recorded samples to write: t has shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) < 0):
        bad = np.flatnonzero(~np.isfinite(t) | (np.diff(t, prepend=t[0]) < 0))[0]
        raise ValueError(f"{name}: t must be finite and non-decreasing; t[{bad}] = {t[bad]}")
    outputs = []
    for field in ("z", "target"):
        x = np.asarray(getattr(result, field), dtype=float)
        if x.ndim not in (1, 2) or x.shape[0] != len(t):
            raise ValueError(f"{name}: {field} must be (n_times, n_outputs) or (n_times,) with n_times = "
                             f"len(t) = {len(t)}, got shape {x.shape}")
        outputs.append(x)
    raw_i = np.asarray(result.spike_i)
    spike_t = np.asarray(result.spike_t, dtype=float)
    if raw_i.dtype.kind not in "iuf" or (raw_i.dtype.kind == "f" and not np.all(np.isfinite(raw_i)
                                                                                & (raw_i == np.round(raw_i)))):
        raise ValueError(f"{name}: spike_i must hold whole neuron indices, got dtype {raw_i.dtype} "
                         f"({raw_i.ravel()[:5].tolist()} ...)")
    spike_i = raw_i.astype(np.int64)
    n_recorded, n_neurons = int(result.n_recorded), int(result.n_neurons)
    if not 0 <= n_recorded <= n_neurons:
        raise ValueError(f"{name}: n_recorded must be in [0, n_neurons = {n_neurons}], got {n_recorded}")
    if spike_i.shape != spike_t.shape or (spike_i.size and not 0 <= spike_i.min() <= spike_i.max() < n_recorded):
        raise ValueError(f"{name}: spike_i must index the {n_recorded} recorded neurons, one per spike time; got "
                         f"{spike_i.size} indices in [{spike_i.min(initial=0)}, {spike_i.max(initial=0)}] "
                         f"and {spike_t.size} times")
    step = (t[-1] - t[0]) / (len(t) - 1) if len(t) > 1 else np.inf     # one sample: no span to check
    lo, hi = t[0] - step, t[-1] + step
    if spike_t.size and not (np.all(np.isfinite(spike_t)) and lo <= spike_t.min() and spike_t.max() <= hi):
        raise ValueError(f"{name}: spike times must be finite and within the run, [{lo:g}, {hi:g}] s (t[0] .. "
                         f"t[-1], one sample step either side); got {spike_t.min()} .. {spike_t.max()} s")
    return t, outputs[0], outputs[1], spike_i, spike_t, n_recorded


def to_nwb(result: SimulationResult, path, *, session_description: str = "brianforce simulation",
           identifier: str | None = None, session_start_time: datetime | None = None) -> Path:
    """Write ``result`` to the NWB file ``path`` (atomically; an existing file is replaced).

    Parameters
    ----------
    result : SimulationResult
        A recorded run (a subclass is written as its ``SimulationResult`` part).
    path : str or Path
        Destination, conventionally ending in ``.nwb``.
    session_description : str
    identifier : str, optional
        Unique file identifier (default: a random UUID).
    session_start_time : datetime, optional
        Time zone aware (default: now, UTC).

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        No samples; non-finite or decreasing ``t``; ``z`` or ``target`` not ``(len(t), n_outputs)``
        or ``(len(t),)``; fractional spike indices or indices outside ``[0, n_recorded)``;
        non-finite spike times or, with two samples or more, spike times outside the run (more
        than one mean sample step beyond ``t[0] .. t[-1]``); ``n_recorded`` outside
        ``[0, n_neurons]``.
    """
    pynwb = _pynwb()
    from hdmf.common import DynamicTable, VectorData

    if not isinstance(result, SimulationResult):
        raise TypeError(f"to_nwb writes a SimulationResult, got {type(result).__name__}")
    t, z, target, spike_i, spike_t, n_recorded = _checked_arrays(result)
    start = session_start_time or datetime.now(timezone.utc)
    nwb = pynwb.NWBFile(session_description=session_description, identifier=identifier or str(uuid.uuid4()),
                        session_start_time=start)
    order = np.lexsort((spike_t, spike_i))                   # by neuron, then time
    ends = np.searchsorted(spike_i[order], np.arange(n_recorded), side="right")
    for k, times in enumerate(np.split(spike_t[order], ends[:-1]) if n_recorded else []):
        nwb.add_unit(spike_times=times, id=k)
    module = nwb.create_processing_module(_MODULE, "Decoder output, target and settings of a brianforce run")
    unit = _unit_of(result)
    z_series = pynwb.TimeSeries(name="z", data=z, unit=unit, timestamps=t, description="decoder output z")
    module.add(z_series)
    module.add(pynwb.TimeSeries(name="target", data=target, unit=unit, timestamps=z_series,
                                description="target (NaN where none)"))
    info = {"phase": ([str(result.phase)], "phase of the run (settle, train, test, ...)"),
            "n_neurons": ([int(result.n_neurons)], "neurons in the network"),
            "n_recorded": ([n_recorded], "neurons whose spikes were recorded (ids 0 to n_recorded - 1)"),
            "wall_time_s": ([float(result.wall_time)], "wall-clock time of the run, seconds")}
    module.add(DynamicTable(name="run", description="settings of the run",
                            columns=[VectorData(name=k, description=d, data=v) for k, (v, d) in info.items()]))
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The file path provided", UserWarning)   # the temporary name
        with pynwb.NWBHDF5IO(str(tmp), "w") as io:
            io.write(nwb)
    return Path(path)


def read_nwb(path) -> SimulationResult:
    """Read a run written by :func:`to_nwb`.

    Raises
    ------
    NWBFileError
        No file at ``path``, not a readable NWB file, or no ``brianforce`` run in it.
    """
    pynwb = _pynwb()
    path = Path(path)
    if not path.is_file():
        raise NWBFileError(f"no NWB file at {path}")
    try:
        with pynwb.NWBHDF5IO(str(path), "r") as io:
            nwb = io.read()
            if _MODULE not in nwb.processing:
                raise NWBFileError(f"{path} is an NWB file without a brianforce run (no processing "
                                   f"module {_MODULE!r}; write it with brianforce.export.to_nwb)")
            module = nwb.processing[_MODULE]
            z_series, run = module["z"], module["run"]
            t = np.asarray(z_series.timestamps[:], dtype=float)
            z = np.asarray(z_series.data[:], dtype=float)
            target = np.asarray(module["target"].data[:], dtype=float)
            settings = {k: run[k].data[0] for k in ("phase", "n_neurons", "n_recorded", "wall_time_s")}
            if nwb.units is not None and len(nwb.units):
                ids = np.asarray(nwb.units.id.data[:], dtype=np.int64)
                ends = np.asarray(nwb.units.spike_times_index.data[:], dtype=np.int64)
                spike_t = np.asarray(nwb.units.spike_times.data[:], dtype=float)
                spike_i = np.repeat(ids, np.diff(ends, prepend=0))
            else:
                spike_i, spike_t = np.zeros(0, dtype=np.int64), np.zeros(0)
    except NWBFileError:
        raise
    except Exception as exc:      # h5py and hdmf raise OSError, KeyError, ValueError, ... on corrupt files
        raise NWBFileError(f"{path} is not a readable NWB file of a brianforce run "
                           f"({type(exc).__name__}: {exc})") from exc
    order = np.lexsort((spike_i, spike_t))                   # by time, then neuron
    phase = settings["phase"]
    return SimulationResult(t, z, target, spike_i[order], spike_t[order], int(settings["n_recorded"]),
                            int(settings["n_neurons"]), phase.decode() if isinstance(phase, bytes) else str(phase),
                            float(settings["wall_time_s"]))
