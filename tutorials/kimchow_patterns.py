# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Learning arbitrary synaptic-current patterns in a balanced spiking network
#
# Kim & Chow (2018, eLife 7:e37124) train the *existing* recurrent synapses of a balanced
# E/I network of LIF neurons with recursive least squares, one small RLS problem per
# neuron, so that every neuron's synaptic current follows its own target. Here each
# target is a random-phase sum of sinusoids around the neuron's spontaneous mean current.
#
# Success criterion: on test trials (no learning) the mean correlation between the
# neurons' currents and their targets exceeds 0.9, and most neurons keep firing
# irregularly (ISI CV > 0.5). `BRIANFORCE_FAST=1` runs a small version in < 60 s.

# %%
import os
import time
import tomllib
from pathlib import Path

import numpy as np
from brian2 import mV, ms

from brianforce.analysis.population import isi_cv_by_neuron
from brianforce.methods.recurrent import RecurrentTrainer, correlations
from brianforce.seeding import rng_for
from brianforce.tasks.patterns import pattern_targets, sinusoid_patterns

FAST = os.environ.get("BRIANFORCE_FAST", "0") == "1"
root = Path(__file__).resolve().parents[1] if "__file__" in globals() else Path("..")
recipe = tomllib.loads((root / "models" / "kimchow_patterns.toml").read_text())
net, train, tgt, ev = recipe["network"], recipe["training"], recipe["targets"], recipe["evaluation"]
if FAST:
    net = dict(net, n=500)
    train = dict(train, n_trials=10, stim_duration_ms=50.0)
    tgt = dict(tgt, duration_ms=600.0, periods_ms=[250.0, 600.0])
    ev = dict(ev, n_test_trials=2, min_mean_correlation=0.75)

# %% [markdown]
# ## The balanced network and its spontaneous activity

# %%
t_start = time.time()
trainer = RecurrentTrainer(
    net["n"], p=net["p"], frac_exc=net["frac_exc"], j0=net["j0_mV"] * mV, g=net["g"],
    bias=tuple(b * mV for b in net["bias_mV"]), tau_r=net["tau_r_ms"] * ms,
    tau_d=net["tau_d_ms"] * ms, dt=net["dt_ms"] * ms, seed=net["seed"],
    stim_duration=train["stim_duration_ms"] * ms, stim_amplitude=train["stim_amplitude_mV"] * mV,
    learn_every=train["learn_every_ms"] * ms, reg=train["reg"], n_trials=train["n_trials"],
    dale=train["dale"])
spont = trainer.spontaneous(300 * ms)
print(f"spontaneous I_syn: mean {spont.mean() * 1e3:.1f} mV, "
      f"temporal SD {spont.std(0).mean() * 1e3:.1f} mV")

# %% [markdown]
# ## Targets: offset + amplitude × random-phase sinusoids

# %%
dt_t = tgt["sample_dt_ms"] * 1e-3
neurons = np.arange(net["n"])
z = sinusoid_patterns(net["n"], tgt["duration_ms"] * 1e-3, dt_t, rng_for(net["seed"], "patterns"),
                      periods=tuple(p * 1e-3 for p in tgt["periods_ms"]),
                      n_components=tgt["n_components"])
targets = pattern_targets(z, spont.mean(0), tgt["amplitude_mV"] * 1e-3, dt_t, neurons)

# %% [markdown]
# ## Training over repeated trials (stimulus, then training window)

# %%
trainer.fit(targets)
lc = trainer.learning_curve_
print("learning curve (corr per trial):", np.round(lc.correlation, 3))
print("RMS RLS error per trial (mV):  ", np.round(lc.rms_error * 1e3, 2))

# %% [markdown]
# ## Test trials without learning

# %%
rec = trainer.run_trials(ev["n_test_trials"])
corr = correlations(rec.currents, targets.targets[None]).mean(axis=(0, 1))
cv = isi_cv_by_neuron([s[0][0] for s in rec.spike_times], [s[0][1] for s in rec.spike_times], net["n"])
frac_irregular = np.mean(cv[np.isfinite(cv)] > 0.5)
n_spk = sum(len(s[0][0]) for s in rec.spike_times)
rate = n_spk / (len(rec.spike_times) * net["n"] * rec.duration)
print(f"test: mean corr {corr.mean():.3f} (median {np.median(corr):.3f}); "
      f"ISI CV > 0.5 for {frac_irregular:.1%} of {np.isfinite(cv).sum()} neurons; "
      f"mean rate {rate:.1f} Hz; {time.time() - t_start:.0f} s")

# %%
try:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(7, 6), sharex=True)
    t_ms = np.arange(targets.targets.shape[1]) * dt_t * 1e3
    for ax, m in zip(axes, range(3)):
        ax.plot(t_ms, targets.targets[0, :, m] * 1e3, "k", label="target")
        ax.plot(t_ms, rec.currents[0, 0, :, m] * 1e3, "C1", label="I_syn (test)")
        ax.set_ylabel("mV")
    axes[0].legend(loc="upper right")
    axes[-1].set_xlabel("time in window (ms)")
    plt.close(fig)
except ImportError:
    pass

# %%
assert corr.mean() > ev["min_mean_correlation"], corr.mean()
assert frac_irregular > ev["min_fraction_cv_above_half"], frac_irregular
