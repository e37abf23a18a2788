"""Kim & Chow recipes: a :class:`~brianforce.methods.recurrent.RecurrentTrainer` from recipe sections.

References
----------
Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
"""
from __future__ import annotations

from brian2 import mV, ms

from brianforce.checks import as_count, as_flag, as_number
from brianforce.config import RecipeError, check_keys, check_sections
from brianforce.methods.recurrent import RecurrentTrainer

__all__ = ["trainer_from_sections", "check_kimchow_recipe", "KIMCHOW_NETWORK_KEYS", "KIMCHOW_TRAINING_KEYS",
           "KIMCHOW_RECIPE_KEYS"]

#: Keys of a Kim & Chow ``[network]`` section (times in ms, voltages in mV).
KIMCHOW_NETWORK_KEYS = ("n", "p", "frac_exc", "j0_mV", "g", "bias_mV", "tau_r_ms", "tau_d_ms", "dt_ms", "noise_mV",
                        "seed")
#: Keys of a Kim & Chow ``[training]`` section; ``sigma_mV``, ``rounds``, ``calibration_trials`` and
#: ``rest`` are read by the rate fits (:func:`brianforce.experiments.reaching.fit_m1_rates`).
KIMCHOW_TRAINING_KEYS = ("stim_duration_ms", "stim_amplitude_mV", "learn_every_ms", "reg", "n_trials", "dale",
                         "drive_mV", "drive_tau_ms", "sigma_mV", "rounds", "calibration_trials", "rest")
#: Sections of a Kim & Chow recipe (``models/kimchow_*.toml``) and the keys of each.
KIMCHOW_RECIPE_KEYS = {
    "": ("paper", "data", "network", "training", "targets", "evaluation"),
    "paper": ("reference", "figure", "expected", "measured"),
    "data": ("loader", "min_mean_rate_hz", "smoothing_ms", "rate_gain"),
    "network": KIMCHOW_NETWORK_KEYS,
    "training": KIMCHOW_TRAINING_KEYS,
    "targets": ("kind", "duration_ms", "sample_dt_ms", "amplitude_mV", "periods_ms", "n_components"),
    "evaluation": ("n_test_trials", "batch", "min_mean_correlation", "min_fraction_cv_above_half"),
}


def check_kimchow_recipe(recipe: dict, where: str = "the recipe") -> None:
    """Check the sections of a Kim & Chow recipe and their keys (:data:`KIMCHOW_RECIPE_KEYS`).

    Raises
    ------
    RecipeError
        An unknown section or key, naming the closest valid one.
    """
    check_sections(recipe, KIMCHOW_RECIPE_KEYS, where)


def _value(section: dict, name: str, key: str, default=None):
    """``section[key]`` (or ``default``) as a plain number, named ``[name] key`` in errors."""
    if key not in section and default is None:
        raise RecipeError(f"[{name}] is missing the key {key!r}")
    return as_number(section.get(key, default), f"[{name}] {key}")


def trainer_from_sections(network: dict, training: dict, **override) -> RecurrentTrainer:
    """:class:`RecurrentTrainer` from ``[network]``/``[training]`` recipe sections laid out as
    ``models/kimchow_m1.toml`` (times in ms, voltages in mV); ``override`` replaces keyword
    arguments (``n`` included).

    Raises
    ------
    RecipeError
        An unknown key (naming the closest valid one) or a missing one.
    TypeError, ValueError
        A value that is not a number, count or flag as its key needs, naming the key.
    """
    check_keys(network, KIMCHOW_NETWORK_KEYS, "[network]")
    check_keys(training, KIMCHOW_TRAINING_KEYS, "[training]")

    def net(key, default=None):
        return _value(network, "network", key, default)

    def tr(key, default=None):
        return _value(training, "training", key, default)

    if "bias_mV" not in network:
        raise RecipeError("[network] is missing the key 'bias_mV'")
    if "n_trials" not in training:
        raise RecipeError("[training] is missing the key 'n_trials'")
    n = override.pop("n", network.get("n"))
    kw = dict(p=net("p"), frac_exc=net("frac_exc"), j0=net("j0_mV") * mV, g=net("g"),
              bias=tuple(as_number(b, "[network] bias_mV") * mV for b in network["bias_mV"]),
              tau_r=net("tau_r_ms") * ms, tau_d=net("tau_d_ms") * ms, dt=net("dt_ms") * ms,
              noise=net("noise_mV", 0.0) * mV, seed=as_count(network.get("seed", 0), "[network] seed"),
              stim_duration=tr("stim_duration_ms") * ms, stim_amplitude=tr("stim_amplitude_mV") * mV,
              learn_every=tr("learn_every_ms") * ms, reg=tr("reg"),
              n_trials=as_count(training["n_trials"], "[training] n_trials", minimum=1),
              dale=as_flag(training.get("dale", False), "[training] dale"),
              drive=tr("drive_mV", 0.0) * mV, drive_tau=tr("drive_tau_ms", 100.0) * ms)
    kw.update(override)
    if n is None:
        raise RecipeError("[network] is missing the key 'n'")
    return RecurrentTrainer(as_count(n, "[network] n", minimum=1), **kw)
