# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Spiking vs parameter-matched rate FORCE networks (Newton & Nicola 2025)
#
# A LIF network is FORCE-trained on a 5 Hz sinusoid, and so is its *instantaneous rate network*: the same
# static weights ω, encoders η ~ U(−Q/2, Q/2), bias, double-exponential synaptic filter and RLS
# (every 5 ms, P(0) = α·I), with each unit firing at the LIF f–I rate of its input. We compare the learned
# decoders φ, swap them between the two networks, fit a cross-trial firing-rate decoder, and show that a
# small learning rate α low-pass filters the decoder on the principal components of the neural basis.
# A small G × Q sweep runs through the same Dask-based sweep machinery as
# `brianforce sweep models/newton_nicola_gq_sweep.toml`.
#
# Newton TR, Nicola W (2025) PLoS Comput Biol 21:e1013224.

# %%
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from brian2 import mV, ms, second

from brianforce.comparison import (MatchedForceComparison, decoder_pc_projection, offline_rls_decoder,
                                   rls_pc_gain)
from brianforce.plotting_sweeps import plot_heatmap, plot_pc_spectrum
from brianforce.sweep import SweepSpec, run_sweep
from brianforce.tasks import sinusoid

FAST = os.environ.get("BRIANFORCE_FAST", "0") == "1"
N = 200 if FAST else 500
TRAIN, TEST = (2.0, 0.5) if FAST else (8.0, 1.0)
ALPHA_SLOW = 5e-7 if FAST else 1.5e-7

# %% [markdown]
# ## 1. Train both networks at a slow learning rate

# %%
comp = MatchedForceComparison(N, alpha=ALPHA_SLOW, G=0.08 * mV * second, Q=20 * mV, seed=0)
comp.fit(sinusoid(5.0), settle=0.3 * second, train=TRAIN * second, test=TEST * second)
res = comp.result_
for k, v in res.as_dict().items():
    print(f"{k:32s} {v:.4g}")

# %%
fig, axs = plt.subplots(2, 1, figsize=(8, 5), sharex=False)
axs[0].plot(comp.spiking_test_.t, comp.spiking_test_.target[:, 0], "k--", label="target")
axs[0].plot(comp.spiking_test_.t, comp.spiking_test_.z[:, 0], label="spiking, own φ")
axs[0].plot(comp.transfer_tests_["rate_to_spike"].t, comp.transfer_tests_["rate_to_spike"].z[:, 0],
            label="spiking, rate φ")
axs[0].legend(fontsize="small")
axs[1].plot(comp.rate_test_.t, comp.rate_test_.z[:, 0], label="rate, own φ")
axs[1].plot(comp.transfer_tests_["spike_to_rate"].t, comp.transfer_tests_["spike_to_rate"].z[:, 0],
            label="rate, spiking φ")
axs[1].set_xlabel("time (s)")
axs[1].legend(fontsize="small")

# %% [markdown]
# ## 2. Slow learning low-pass filters the principal components of the neural basis
#
# On the spiking network's filtered spike trains, RLS decoders learned with smaller α keep only the
# leading components: the analytic gain is `nλ_i/(nλ_i + 1/α)`.

# %%
basis, target = comp.spiking_rates_, comp.spiking_test_.target[-len(comp.spiking_rates_):]
every = 10  # 5 ms at the 0.5 ms recording step
projections, fractions = {}, {}
for alpha in (5e-8, 5e-6, 5e-4):
    phi = offline_rls_decoder(basis, target, alpha, every=every)
    projections[f"α = {alpha:g}"] = proj = decoder_pc_projection(basis, phi)
    fractions[alpha] = proj.power_fraction(10)
    n_pass = int((rls_pc_gain(proj.eigenvalues, alpha, len(basis[::every])) > 0.5).sum())
    print(f"alpha {alpha:g}: |phi|^2 in top-10 PCs {fractions[alpha]:.3f}; PCs passed (gain > 0.5): {n_pass}")
ax = plot_pc_spectrum(projections, n_components=min(N, 100))

# %% [markdown]
# ## 3. A small G × Q sweep of the rate network on Dask (resumable)

# %%
axes = ({"G": [0.04e-3, 0.2e-3], "Q": [5e-3, 45e-3]} if FAST else
        {"G": list(np.linspace(0.02e-3, 0.2e-3, 5)), "Q": list(np.linspace(5e-3, 50e-3, 5))})
spec = SweepSpec(name="tutorial-gq", axes=axes, seeds=(0,), network={"n_neurons": 150, "rate_dt": 5e-4},
                 settle=0.1, train=1.0, test=0.5, model="rate")
with tempfile.TemporaryDirectory() as out:
    # rate-only cells may share one process (threads); spiking cells need worker processes, and a
    # script starting a process LocalCluster needs an ``if __name__ == "__main__":`` guard
    run = run_sweep(spec, out, scheduler="synchronous" if FAST else None, processes=False)
frame = run.frame
ax = plot_heatmap(frame, "G", "Q", "rate_converged", title="rate network: converged")
print(frame[["G", "Q", "rate_error", "rate_converged"]])

# %% [markdown]
# ## Success criterion
# Slower learning concentrates the decoder on the leading PCs, and the two networks learn correlated decoders.

# %%
assert fractions[5e-8] > fractions[5e-4], fractions
assert res.decoder_correlation > (0.6 if FAST else 0.8), res.decoder_correlation
print("OK")
