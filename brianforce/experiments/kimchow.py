"""Kim & Chow recipes: a :class:`~brianforce.methods.recurrent.RecurrentTrainer` from recipe sections.

References
----------
Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
"""
from __future__ import annotations

from brian2 import mV, ms

from brianforce.methods.recurrent import RecurrentTrainer

__all__ = ["trainer_from_sections"]


def trainer_from_sections(network: dict, training: dict, **override) -> RecurrentTrainer:
    """:class:`RecurrentTrainer` from ``[network]``/``[training]`` recipe sections laid out as
    ``models/kimchow_m1.toml`` (times in ms, voltages in mV); ``override`` replaces keyword
    arguments (``n`` included)."""
    net, tr = network, training
    n = override.pop("n", net["n"])
    kw = dict(p=net["p"], frac_exc=net["frac_exc"], j0=net["j0_mV"] * mV, g=net["g"],
              bias=tuple(b * mV for b in net["bias_mV"]), tau_r=net["tau_r_ms"] * ms,
              tau_d=net["tau_d_ms"] * ms, dt=net["dt_ms"] * ms, noise=net.get("noise_mV", 0.0) * mV,
              seed=int(net.get("seed", 0)), stim_duration=tr["stim_duration_ms"] * ms,
              stim_amplitude=tr["stim_amplitude_mV"] * mV, learn_every=tr["learn_every_ms"] * ms,
              reg=tr["reg"], n_trials=int(tr["n_trials"]), dale=bool(tr.get("dale", False)),
              drive=tr.get("drive_mV", 0.0) * mV, drive_tau=tr.get("drive_tau_ms", 100.0) * ms)
    kw.update(override)
    return RecurrentTrainer(int(n), **kw)
