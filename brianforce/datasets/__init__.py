"""Recorded motor data, validated on load, with synthetic look-alikes.

Every loader returns a labelled dataclass (arrays ordered ``(condition, time, channel)``,
time in **seconds**, rates in **spikes/s**) with a ``.to_frame()`` giving a long pandas
table ``(condition, time, channel, value)`` (:mod:`.containers`). Files are found through a
``path``, the environment variable ``BRIANFORCE_DATA`` or, with ``synthetic=True``, the
look-alikes shipped in ``data/``, and checked for the expected variables, shapes, finiteness
and plausible value ranges; anything else raises :class:`DataFormatError` (a ``ValueError``)
naming the file and the problem (:mod:`.files`). The loaders are in :mod:`.loaders`;
:data:`LOADERS` names them and :func:`load_dataset` / :func:`detect_dataset` pick one by name or
from a file's variables (:mod:`.registry`).

So ``synthetic=True`` means "the real data if the caller pointed at it, else the look-alike":
tutorials and CI use it to run without the recordings.

The papers behind each data set are cited in :mod:`.loaders`.
"""
from brianforce.datasets.containers import CyclingData, EMGData, PopulationRates
from brianforce.datasets.files import ENV_VAR, SYNTHETIC_KIND, DataFormatError, data_root, synthetic_path
from brianforce.datasets.loaders import (load_alm_rates, load_churchland_tme, load_condition_arrays, load_cycling,
                                         load_hatsopoulos_emg, load_m1_rates, load_reaching_emg)
from brianforce.datasets.registry import AUTO, LOADERS, detect_dataset, load_dataset, loader_names

__all__ = [
    "DataFormatError", "EMGData", "PopulationRates", "CyclingData",
    "data_root", "synthetic_path", "load_reaching_emg", "load_cycling",
    "load_hatsopoulos_emg", "load_m1_rates", "load_alm_rates", "load_churchland_tme",
    "ENV_VAR", "SYNTHETIC_KIND", "load_condition_arrays", "LOADERS", "AUTO", "load_dataset", "detect_dataset",
    "loader_names",
]
