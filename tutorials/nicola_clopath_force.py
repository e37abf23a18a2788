# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # FORCE training of a spiking LIF network (Nicola & Clopath 2017, Fig. 2)
#
# FORCE training (Sussillo & Abbott 2009) turns a recurrent network with chaotic activity into a
# pattern generator: a linear readout `z = φᵀ r` of the network's activity is fed back into the
# network, and the decoder φ is learned online, while the network runs, by recursive least
# squares (RLS). Nicola & Clopath showed that the same works with spiking neurons. Here a static,
# sparse, random network of leaky integrate-and-fire (LIF) neurons is trained to oscillate at
# 5 Hz and keeps oscillating after learning stops.
#
# The model, as in `FORCETrainer` (all currents are in voltage units, `R·I`):
#
# * membrane: τ_m dv/dt = −v + bias + I_syn + η z; a spike when v ≥ v_th, then v → v_reset and
#   the neuron is silent for τ_ref;
# * synapses: each presynaptic spike of neuron j adds a double-exponential current bump of area
#   ω_ij (rise τ_r, decay τ_d) to `I_syn` of neuron i;
# * static weights ω_ij = G·N(0, 1)/(√N·p) with connection probability p, each neuron's nonzero
#   incoming weights shifted to zero mean;
# * the regressor r_i: neuron i's own spike train through the same double-exponential filter,
#   a firing rate in Hz;
# * the feedback encoders η_i ~ U(−Q, Q), fixed;
# * RLS: every `rls_interval` the error e = φᵀr − x(t) against the target x(t) updates φ and the
#   running inverse correlation matrix P, which starts at P(0) = α·I.
#
# The same structure, run as a *parameter-matched instantaneous rate network* (each unit fires
# at the LIF f–I rate of its input; Newton & Nicola 2025), is trained with identical
# hyperparameters for comparison at the end.
#
# **Success criterion**: on the first second of free-running test, RMSE < 0.2 of the target
# amplitude and lag-adjusted correlation > 0.95 (full size, N = 2000). `BRIANFORCE_FAST=1` runs a
# 500-neuron version with 3 s of training (criterion: correlation above 0.9 for the spiking
# network and above 0.8 for the rate network) in well under a minute, once Brian2 has compiled its
# generated code.
#
# Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE training.
# Nat Commun 8:2208.
# Sussillo D, Abbott LF (2009) Generating coherent patterns of activity from chaotic neural
# networks. Neuron 63:544-557.
# Newton TR, Nicola W (2025) PLoS Comput Biol 21:e1013224.

# %% [markdown]
# ## Set-up
# `BRIANFORCE_FAST=1` selects the reduced run; `BRIANFORCE_TUTORIAL_OUT` is the folder the PNG
# figures are written to (default: the working directory). Phases are in seconds: `settle` runs
# the network without learning, `train` with RLS, `test` freely with the learned decoder.

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from brian2 import second

from brianforce.analysis.metrics import lag_adjusted_correlation
from brianforce.errors import TrainingDiverged
from brianforce.viz.force import plot_force_summary
from brianforce.rate.networks import LIFRateNetwork
from brianforce.seeding import rng_for
from brianforce.tasks import sinusoid
from brianforce.methods.force import FORCETrainer

FAST = os.environ.get("BRIANFORCE_FAST", "0") == "1"
out = Path(os.environ.get("BRIANFORCE_TUTORIAL_OUT", "."))
N, settle, train, test = (500, 0.3, 3.0, 1.0) if FAST else (2000, 0.5, 9.5, 2.0)
task = sinusoid(5.0)   # target x(t) = sin(2π · 5 Hz · t), amplitude 1

# %% [markdown]
# ## Train the spiking network
# `FORCETrainer(N, seed=0)` uses the paper's values unless told otherwise:
#
# | parameter | value | meaning |
# |---|---|---|
# | `p` | 0.1 | connection probability of the static weights |
# | `G` | 0.04 mV·s | scale of the static weights ω (how chaotic the untrained network is) |
# | `Q` | 10 mV | scale of the feedback encoders η (how strongly z drives the neurons) |
# | `alpha` | 5e-6 | RLS prior P(0) = α·I, with r in Hz (a ridge penalty 1/α on φ) |
# | `rls_interval` | 2.5 ms | time between RLS updates |
# | `dt` | 0.05 ms | integration step |
# | `tau_m`, `tau_ref` | 10 ms, 2 ms | membrane time constant, refractory period |
# | `v_th`, `v_reset`, `bias` | −40, −65, −40 mV | threshold, reset, constant drive (at threshold) |
# | `tau_r`, `tau_d` | 2 ms, 20 ms | synaptic rise and decay |
#
# The `seed` fixes the connectivity, the encoders and the initial membrane potentials, each from
# its own named random stream. `fit` settles, trains and, with `test=`, runs freely (no learning),
# recording the output z and the spikes of the first 100 neurons in `trainer.test_result_`;
# `predict` would run on from there. Where a C++ compiler is present, this first `fit` runs as one
# compiled `cpp_standalone` program (cached, so a second run recompiles nothing) and the trainer
# then holds the trained network at runtime; `FORCETrainer(..., device="runtime")` trains in
# Python instead, to the same decoder up to round-off. The metrics are computed on the
# first second of the test: `rmse_over_amplitude` (RMSE divided by the target amplitude),
# `lag_adjusted_correlation` (Pearson correlation, maximised over shifts of up to a quarter
# period, since a free-running oscillator may drift in phase), the output's dominant frequency
# (Hz) and the mean firing rate of the recorded neurons (Hz).

# %%
trainer = FORCETrainer(N, seed=0).fit(task, settle=settle * second, train=train * second, test=test * second)
result = trainer.test_result_
first = result.window(result.t[0], result.t[0] + min(1.0, test))
metrics = first.metrics(task.period)
print({k: metrics[k] for k in ("rmse_over_amplitude", "lag_adjusted_correlation", "output_frequency_hz",
                               "mean_rate_hz")})
print("trained on %s; wall time: compiling %.1f s, simulation %.1f s (RLS in it when compiled)"
      % (trainer.device_, trainer.timings_["compile_s"], trainer.timings_["simulation_s"]))

# %% [markdown]
# ## What the network learned
# Top: the target (dashed), the output during the last second of training (grey) and the
# free-running output after learning stops (the red line marks the start of the test). Middle:
# spikes of 100 neurons during the test. Bottom: |error| before each RLS update, on a log scale.
#
# What to look for: FORCE keeps the error small from the first updates on (bottom: it stays well
# below the target amplitude of 1 throughout training), because each update pulls the output
# onto the target at once; what the training phase builds is a decoder that needs no more
# correction. The test shows whether it succeeded: after the red line the network generates the
# oscillation by itself through the feedback η z, at about 5 Hz and with the target's amplitude.
# In the raster the population fires in waves at the rhythm of the output, but each neuron
# irregularly: the decoder combines many such heterogeneous rates into the sinusoid.

# %%
axes = plot_force_summary(result, trainer.history_, trainer.train_result_)
axes[0].figure.savefig(out / "nicola_clopath_force.png", dpi=100)
plt.show()

# %% [markdown]
# ## The matched instantaneous rate network
# `LIFRateNetwork` replaces each spiking neuron by a unit firing at the LIF f–I rate of its total
# input, f_i = f(bias + Σ_j ω_ij s_j + η_i z), and filters that rate through the same
# double-exponential synapse as the spikes (s_i, Hz); z = φᵀ s is trained by the same RLS. It is
# built from the trained spiking network's own structure: `trainer.weights_` (the static weights
# ω, V·s) and `trainer.eta_` (the encoders η, V) are the arrays the spiking network was built
# from, `trainer.config.lif` its neuron parameters and `trainer.config.reg` = 1/α its RLS
# regularisation. The rate network steps at `dt` = 0.25 ms (its dynamics are smooth) and updates
# φ every `rls_every` = 10 steps, keeping the RLS interval at 2.5 ms.
#
# The initial rates are drawn at random between 0 and 20 Hz: with zero-mean weight rows and the
# bias at threshold, uniform rates would sit on the silent fixed point.
#
# After training, the two networks' decoders can be compared neuron by neuron: they are learned
# on different bases (spike trains vs smooth rates), but from the same structure and target.

# %%
rate_net = LIFRateNetwork(trainer.weights_, trainer.eta_, lif=trainer.config.lif, dt=2.5e-4, rls_every=10,
                          reg=trainer.config.reg, initial_rates=rng_for(0, "rate_initial").random(N) * 20,
                          record_every=2)
rate_net.fit(task, settle=settle, train=train)
rate_res = rate_net.predict(min(1.0, test))
rate_corr = lag_adjusted_correlation(rate_res.z, rate_res.target, 50)[0][0]
phi_rate = rate_net.rls_.W[:, 0]
phi_spk = np.asarray(trainer.decoder_ / second)[:, 0]
print(f"rate network: lag-adjusted correlation {rate_corr:.3f}; "
      f"decoder correlation spiking vs rate {np.corrcoef(phi_rate, phi_spk)[0, 1]:.2f}")

# %% [markdown]
# The free-running rate network's output against the target (first test second). The lag-adjusted
# correlation above allows shifts of up to 50 samples (25 ms at this recording step).

# %%
fig, ax = plt.subplots(figsize=(8, 2.5))
ax.plot(rate_res.t, rate_res.target[:, 0], "k--", label="target")
ax.plot(rate_res.t, rate_res.z[:, 0], label="matched rate network")
ax.set_xlabel("time (s)")
ax.legend()
fig.tight_layout()
fig.savefig(out / "nicola_clopath_rate.png", dpi=100)
plt.show()

# %% [markdown]
# ## If training diverges
# RLS can blow up: if |φᵀr − x| exceeds `divergence_factor` (default 100) target amplitudes, or
# becomes NaN or infinite, `fit` stops and raises `brianforce.errors.TrainingDiverged`. Its
# message names the RLS update, the simulated time and the simulation time step at which it
# happened (also in its attributes `step`, `time`, `sim_step` and `error`); the trainer keeps it
# in `trainer.diverged_`, `trainer.history_` holds the errors up to that update, and `predict` and
# `save` refuse the diverged decoder unless called with `allow_diverged=True`.
#
# Below, a trainer with α a thousand times the published value diverges within its first updates
# (a short run: the exception ends `fit` early).

# %%
too_fast = FORCETrainer(N, alpha=5e-3, seed=0)
try:
    too_fast.fit(task, settle=settle * second, train=0.5 * second)
except TrainingDiverged as err:
    print(err)
    print("update", err.step, "at t =", err.time, "s; kept as too_fast.diverged_:", too_fast.diverged_ is err)
try:
    too_fast.predict(0.1 * second)
except RuntimeError as refusal:
    print("predict:", refusal)

# %% [markdown]
# What to change, in a new trainer:
#
# * divergence within the first updates: α is too large for the scale of r (the first updates
#   overshoot). Use a smaller `alpha`, or equivalently a larger `reg` (P(0) = I/reg);
# * divergence later in training: the updates come too often for the feedback loop to follow;
#   use a longer `rls_interval` (a multiple of `dt`);
# * a network far from the published G = 0.04 mV·s and Q = 10 mV: FORCE converges only in a
#   region of the (G, Q) plane (Nicola & Clopath 2017; the G × Q map of
#   `tutorials/newton_nicola_comparison.py`). Strong static weights (large G) make the activity
#   more chaotic and strong feedback (large Q) makes each decoder change act harder on the
#   network; move G and Q back towards these values.
#
# The rate network raises the same exception; for it, use a larger `reg` or a longer
# `rls_every`.

# %% [markdown]
# ## Success criterion
# Full size: Nicola & Clopath's criterion on the first second of the free-running test
# (RMSE/amplitude < 0.2 and lag-adjusted correlation > 0.95). FAST mode: lag-adjusted
# correlation > 0.9 for the spiking network and > 0.8 for the matched rate network.

# %%
corr = metrics["lag_adjusted_correlation"][0]
if FAST:
    assert corr > 0.9 and rate_corr > 0.8, (corr, rate_corr)
else:
    assert metrics["rmse_over_amplitude"][0] < 0.2 and corr > 0.95, metrics
print("OK")
