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

__all__ = ["trainer_from_sections", "check_kimchow_recipe", "run_patterns", "KIMCHOW_NETWORK_KEYS",
           "KIMCHOW_TRAINING_KEYS", "KIMCHOW_RECIPE_KEYS"]

#: Keys of a Kim & Chow ``[network]`` section (times in ms, voltages in mV).
KIMCHOW_NETWORK_KEYS = ("n", "p", "frac_exc", "j0_mV", "g", "bias_mV", "tau_r_ms", "tau_d_ms", "dt_ms", "noise_mV",
                        "seed")
#: Keys of a Kim & Chow ``[training]`` section (``device``: where a fit trains, ``"runtime"`` or
#: ``"cpp_standalone"``); ``sigma_mV``, ``rounds``, ``calibration_trials`` and
#: ``rest`` are read by the rate fits (:func:`brianforce.experiments.reaching.fit_m1_rates`).
KIMCHOW_TRAINING_KEYS = ("stim_duration_ms", "stim_amplitude_mV", "learn_every_ms", "reg", "n_trials", "dale",
                         "drive_mV", "drive_tau_ms", "sigma_mV", "rounds", "calibration_trials", "rest", "device")
#: Sections of a Kim & Chow recipe (``models/kimchow_*.toml``) and the keys of each (``[experiment]``
#: holds only the keys every recipe may hold, :data:`brianforce.config.COMMON_EXPERIMENT_KEYS`).
KIMCHOW_RECIPE_KEYS = {
    "": ("experiment", "paper", "data", "network", "training", "targets", "evaluation"),
    "experiment": (),
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
              drive=tr("drive_mV", 0.0) * mV, drive_tau=tr("drive_tau_ms", 100.0) * ms,
              device=training.get("device", "runtime"))
    kw.update(override)
    if n is None:
        raise RecipeError("[network] is missing the key 'n'")
    return RecurrentTrainer(as_count(n, "[network] n", minimum=1), **kw)


def run_patterns(recipe: dict, seed: int) -> dict:
    """Train the network of a pattern recipe (``models/kimchow_patterns.toml``) at ``seed`` and test it.

    Every neuron's synaptic current is trained by per-neuron RLS to follow its own random-phase
    sinusoid (``[targets]``); ``[evaluation] n_test_trials`` trials without learning follow.

    Returns
    -------
    dict
        ``seed``, ``n``, ``n_trials``, ``n_test_trials``; ``test_corr_mean`` / ``test_corr_median``
        (correlation of each neuron's current with its target, averaged over test trials);
        ``cv_fraction`` (neurons with ISI CV > 0.5 among those with an ISI CV); ``train_corr_last``
        (last training trial); ``rate_hz`` (mean rate in the test trials).

    References
    ----------
    Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124 (Fig. 1-2).
    """
    import numpy as np

    from brianforce.analysis.population import isi_cv_by_neuron
    from brianforce.methods.recurrent import correlations
    from brianforce.seeding import rng_for
    from brianforce.tasks.patterns import pattern_targets, sinusoid_patterns

    check_kimchow_recipe(recipe)
    net, train, tgt, ev = (recipe[k] for k in ("network", "training", "targets", "evaluation"))
    trainer = trainer_from_sections(dict(net, seed=seed, noise_mV=0.0), dict(train, drive_mV=0.0),
                                    dale=bool(train["dale"]))
    spont = trainer.spontaneous(300 * ms)
    dt = tgt["sample_dt_ms"] * 1e-3
    z = sinusoid_patterns(net["n"], tgt["duration_ms"] * 1e-3, dt, rng_for(seed, "patterns"),
                          periods=tuple(p * 1e-3 for p in tgt["periods_ms"]), n_components=tgt["n_components"])
    targets = pattern_targets(z, spont.mean(0), tgt["amplitude_mV"] * 1e-3, dt, np.arange(net["n"]))
    trainer.fit(targets)
    rec = trainer.run_trials(ev["n_test_trials"])
    corr = correlations(rec.currents, targets.targets[None]).mean(axis=(0, 1))
    cv = isi_cv_by_neuron([s[0][0] for s in rec.spike_times], [s[0][1] for s in rec.spike_times], net["n"])
    n_spikes = sum(len(s[0][0]) for s in rec.spike_times)
    return dict(seed=seed, n=net["n"], n_trials=train["n_trials"], n_test_trials=ev["n_test_trials"],
                test_corr_mean=float(np.nanmean(corr)), test_corr_median=float(np.nanmedian(corr)),
                cv_fraction=float(np.mean(cv[np.isfinite(cv)] > 0.5)),
                train_corr_last=float(trainer.learning_curve_.correlation[-1]),
                rate_hz=n_spikes / (len(rec.spike_times) * net["n"] * rec.duration))
