"""Recorded motor data, validated on load, with synthetic look-alikes.

Every loader returns a labelled dataclass (arrays ordered ``(condition, time, channel)``,
time in **seconds**, rates in **spikes/s**) with a ``.to_frame()`` giving a long pandas
table ``(condition, time, channel, value)`` (:mod:`.containers`). Files are found through a
``path``, the environment variable ``BRIANFORCE_DATA`` or, with ``synthetic=True``, the
look-alikes shipped in ``data/``, and checked for the expected variables, shapes, finiteness
and plausible value ranges; anything else raises :class:`DataFormatError` (a ``ValueError``)
naming the file and the problem (:mod:`.files`). The loaders are in :mod:`.loaders`.

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
from brianforce.datasets.containers import CyclingData, EMGData, PopulationRates
from brianforce.datasets.files import ENV_VAR, SYNTHETIC_KIND, DataFormatError, data_root, synthetic_path
from brianforce.datasets.loaders import (load_alm_rates, load_churchland_tme, load_cycling, load_hatsopoulos_emg,
                                         load_m1_rates, load_reaching_emg)

__all__ = [
    "DataFormatError", "EMGData", "PopulationRates", "CyclingData",
    "data_root", "synthetic_path", "load_reaching_emg", "load_cycling",
    "load_hatsopoulos_emg", "load_m1_rates", "load_alm_rates", "load_churchland_tme",
    "ENV_VAR", "SYNTHETIC_KIND",
]
