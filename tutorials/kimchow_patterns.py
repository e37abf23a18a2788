# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Learning arbitrary synaptic-current patterns in a balanced spiking network (Kim & Chow 2018)
#
# FORCE trains a readout of a network; Kim & Chow train the network itself. They take a
# balanced network of excitatory and inhibitory leaky integrate-and-fire (LIF) neurons, whose
# spontaneous activity is irregular and chaotic, and train its *existing* recurrent synapses with
# recursive least squares (RLS), one small RLS problem per neuron, so that every neuron's
# synaptic current follows its own target time course. Here each target is a random-phase sum of
# sinusoids around the neuron's spontaneous mean current (their Fig. 1–2 setting).
#
# **Success criterion**: on test trials (no learning) the mean correlation between the neurons'
# currents and their targets exceeds 0.9, and most neurons keep firing irregularly (ISI CV > 0.5
# in more than half of them). `BRIANFORCE_FAST=1` runs a small version (500 neurons, 0.6-s
# targets, 10 training trials; criterion: mean correlation > 0.75) in under a minute.
#
# Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.

# %% [markdown]
# ## Set-up
# Every setting of the network, the targets, the training and the evaluation comes from the
# recipe `models/kimchow_patterns.toml` (times in ms, voltages in mV), found with `recipe_path`
# wherever the package is installed; FAST mode overrides a few of them. One recipe setting is not
# used: `[training] device` ("auto": all the trials of a fit as one compiled program where a C++
# compiler is found) is not passed to `RecurrentTrainer`, so this tutorial trains at runtime
# (`RecurrentTrainer`'s default `device="runtime"`: the per-neuron RLS in a Python
# `network_operation`). Add `device=train["device"]` to train as the recipe does; the weights
# are the same to round-off.
# `BRIANFORCE_TUTORIAL_OUT` is the folder the figure is written to (default: the working
# directory).

# %%
import os
import time
import tomllib
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from brian2 import mV, ms

from brianforce.analysis.population import isi_cv_by_neuron
from brianforce.experiments.recipes import recipe_path
from brianforce.methods.recurrent import RecurrentTrainer, correlations
from brianforce.seeding import rng_for
from brianforce.tasks.patterns import pattern_targets, sinusoid_patterns

FAST = os.environ.get("BRIANFORCE_FAST", "0") == "1"
OUT = Path(os.environ.get("BRIANFORCE_TUTORIAL_OUT", "."))
recipe = tomllib.loads(recipe_path("kimchow_patterns").read_text())
net, train, tgt, ev = recipe["network"], recipe["training"], recipe["targets"], recipe["evaluation"]
if FAST:
    net = dict(net, n=500)
    train = dict(train, n_trials=10, stim_duration_ms=50.0)
    tgt = dict(tgt, duration_ms=600.0, periods_ms=[250.0, 600.0])
    ev = dict(ev, n_test_trials=2, min_mean_correlation=0.75)

# %% [markdown]
# ## The balanced network and its spontaneous activity
#
# `RecurrentTrainer` builds the network (`[network]` of the recipe):
#
# * `n` neurons (1000; FAST 500), a fraction `frac_exc` = 0.8 excitatory; every neuron receives
#   K_E = p·N_E excitatory and K_I = p·N_I inhibitory inputs (`p` = 0.1, fixed in-degree);
# * LIF neurons, τ_m dv/dt = −v + I_bias + I_syn + I_ext (τ_m 10 ms, threshold −40 mV, reset
#   −65 mV, refractory 2 ms), with a constant bias I_bias drawn per neuron from
#   `bias_mV` = [−37.5, −35] mV: above threshold, so that only recurrent inhibition keeps the
#   rates moderate;
# * excitatory weights j0·τ_m/√K (`j0` = 10 mV; with the synapses below an isolated EPSP peaks at
#   0.13·`j0`/√K, 22 ms after the spike),
#   inhibitory weights −`g` = −6 times that;
# * double-exponential synapses, rise `tau_r` = 2 ms, decay `tau_d` = 50 ms; time step `dt` =
#   0.05 ms.
#
# The training settings (`[training]`) are explained below. `spontaneous` runs the untrained
# network from a random state (200 ms of warm-up, then 300 ms recorded) and returns every
# neuron's synaptic current I_syn (volts, one sample per ms). Its mean per neuron becomes the
# offset of that neuron's target; its fluctuations show how far the currents move on their own.

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
#
# `sinusoid_patterns` draws, for each neuron i, z_i(t) = Σ_k sin(2πt/T_ik + φ_ik): 3 sinusoids
# (`n_components`) with periods T_ik uniform in `periods_ms` (250–1000 ms; FAST 250–600 ms) and
# random phases, standardised to unit variance over the window (`duration_ms` = 1000 ms, FAST
# 600 ms, sampled every `sample_dt_ms` = 1 ms). `pattern_targets` turns them into target currents
# offset_i + `amplitude_mV` · z_i(t), with the spontaneous mean current as offset and an amplitude
# of 15 mV. Every neuron is trained (`neurons` = all of them).

# %%
dt_t = tgt["sample_dt_ms"] * 1e-3
neurons = np.arange(net["n"])
z = sinusoid_patterns(net["n"], tgt["duration_ms"] * 1e-3, dt_t, rng_for(net["seed"], "patterns"),
                      periods=tuple(p * 1e-3 for p in tgt["periods_ms"]),
                      n_components=tgt["n_components"])
targets = pattern_targets(z, spont.mean(0), tgt["amplitude_mV"] * 1e-3, dt_t, neurons)

# %% [markdown]
# ## Training over repeated trials (stimulus, then training window)
#
# Each training trial starts from random membrane potentials and cleared synaptic state, applies
# a fixed random stimulus I_ext (uniform in [0, `stim_amplitude_mV` = 10 mV] per neuron) for
# `stim_duration_ms` (100 ms; FAST 50 ms), then runs the training window. Every 10 ms
# (`learn_every_ms`), each neuron's predicted current Σ_j w_ij r_j (over its existing presynaptic partners,
# r_j the filtered spike trains in Hz) is compared with its target, and that neuron's own RLS
# updates its incoming weights in the Brian2 synapses. `reg` = 10⁴ Hz² is the ridge penalty
# (P(0) = I/reg): it pulls the weights towards their initial, balanced values. `n_trials` = 15
# (FAST 10) trials; `dale = false` lets a synapse change sign.
#
# The learning curve has one entry per trial: the mean correlation between the neurons'
# currents and their targets in that trial, and the RMS of the RLS errors before each update
# (mV). What to look for: the correlation rises over the trials; the a-priori error need not fall
# as clearly, since RLS corrects the weights every 10 ms within each trial.

# %%
trainer.fit(targets)
lc = trainer.learning_curve_
print("learning curve (corr per trial):", np.round(lc.correlation, 3))
print("RMS RLS error per trial (mV):  ", np.round(lc.rms_error * 1e3, 2))

# %% [markdown]
# ## Test trials without learning
#
# `run_trials` repeats the trial protocol with the weights fixed and records the trained
# neurons' currents and all spikes in the window. The scores: the correlation between each
# neuron's current and its target, averaged over trials and neurons; the ISI coefficient of
# variation (SD / mean of the inter-spike intervals, from neurons with at least 5 spikes; about 1
# for a Poisson process, near 0 for a clock-like neuron) and the mean firing rate (Hz).

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

# %% [markdown]
# Target (black) and recorded synaptic current (orange) of three neurons in the first test
# trial, both in mV. What to look for: the currents follow their targets' slow oscillations,
# with fast fluctuations from individual spikes on top, although no learning takes place in
# this trial. Where a current leaves its target, the network's own dynamics have drifted:
# nothing corrects them during a test.

# %%
fig, axes = plt.subplots(3, 1, figsize=(7, 6), sharex=True)
t_ms = np.arange(targets.targets.shape[1]) * dt_t * 1e3
for ax, m in zip(axes, range(3)):
    ax.plot(t_ms, targets.targets[0, :, m] * 1e3, "k", label="target")
    ax.plot(t_ms, rec.currents[0, 0, :, m] * 1e3, "C1", label="I_syn (test)")
    ax.set_ylabel(f"neuron {m} (mV)")
axes[0].legend(loc="upper right")
axes[-1].set_xlabel("time in window (ms)")
fig.tight_layout()
fig.savefig(OUT / "kimchow_patterns.png", dpi=100)
plt.show()

# %% [markdown]
# ## If training diverges
# If any trained neuron's RLS error exceeds `max_error` (default 1 V) or is not finite, `fit`
# stops with `brianforce.errors.TrainingDiverged`, whose message names the training trial, the
# condition and the time in the window (attributes `step` — the RLS update —, `time`, `error`).
# The trainer keeps it in `trainer.diverged_`; `run_trials`, `score` and `save` then refuse the
# weights unless called with `allow_diverged=True`.
#
# What to change, in a new trainer:
#
# * a larger `reg` (stronger pull towards the balanced initial weights: each update moves them
#   less);
# * a longer `learn_every` (fewer updates per window).

# %% [markdown]
# ## Success criterion
# Mean test correlation above `min_mean_correlation` (0.9; FAST 0.75) and ISI CV > 0.5 in more
# than `min_fraction_cv_above_half` (0.5) of the neurons.

# %%
assert corr.mean() > ev["min_mean_correlation"], corr.mean()
assert frac_irregular > ev["min_fraction_cv_above_half"], frac_irregular
