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
# Does a spiking network learn the same thing as a rate network built from the same parts?
# Newton & Nicola answer this with a *parameter-matched instantaneous rate network*: the same
# static weights ω, feedback encoders η, bias, double-exponential synaptic filter and RLS, with
# each unit firing at the LIF f–I rate of its input instead of spiking. Both are FORCE-trained
# (Nicola & Clopath 2017) on a 5 Hz sinusoid and their learned decoders φ are compared.
#
# This tutorial
#
# 1. trains both networks at a slow learning rate and compares their decoders;
# 2. swaps the decoders between the two networks, with the feedback clamped to the target (open
#    loop) and running freely (closed loop), and looks for why closed-loop transfer shifts the
#    oscillation frequency;
# 3. shows that a small learning rate α low-pass filters the decoder on the principal
#    components of the neural basis;
# 4. runs a small G × Q convergence map of the rate network through the same Dask-based sweep
#    machinery as `brianforce sweep models/newton_nicola_gq_sweep.toml`.
#
# The comparison also fits a cross-trial firing-rate decoder (ridge regression on the spiking
# network's trial-averaged rates); its metrics are printed with the others.
#
# `BRIANFORCE_FAST=1` runs it with N = 200, 2 s of training and a 2 × 2 sweep.
#
# Newton TR, Nicola W (2025) Spiking and rate networks trained with FORCE: a parameter-matched
# comparison. PLoS Comput Biol 21:e1013224.
# Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE training.
# Nat Commun 8:2208.

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from brian2 import mV, ms, second

from brianforce.methods.comparison import (MatchedForceComparison, calibrate_rate_lead, decoder_pc_projection,
                                   lif_phase_lead, offline_rls_decoder, rls_pc_gain)
from brianforce.viz.sweeps import plot_heatmap, plot_pc_spectrum
from brianforce.experiments.sweep import SweepSpec, run_sweep
from brianforce.tasks import sinusoid

FAST = os.environ.get("BRIANFORCE_FAST", "0") == "1"
N = 200 if FAST else 500
TRAIN, TEST = (2.0, 0.5) if FAST else (8.0, 1.0)
ALPHA_SLOW = 5e-7 if FAST else 1.5e-7

# %% [markdown]
# ## 1. Train both networks at a slow learning rate
#
# `MatchedForceComparison` builds a LIF FORCE network (`FORCETrainer`) and its matched rate
# network (`LIFRateNetwork`) from one seed, with Newton & Nicola's settings unless told otherwise:
#
# | parameter | here | meaning |
# |---|---|---|
# | `n_neurons` | N = 200 (FAST) or 500 | neurons in each network |
# | `alpha` | 5e-7 (FAST) or 1.5e-7 | RLS learning rate, P(0) = α·I with rates in Hz; the same in both networks |
# | `G` | 0.08 mV·s | scale of the static weights ω (default 0.04 mV·s) |
# | `Q` | 20 mV | encoder range, η ~ U(−Q/2, Q/2) |
# | `p` | 0.4 | connection probability of ω |
# | `rls_interval` | 5 ms | time between RLS updates, both networks |
# | `dt`, `rate_dt` | 0.05 ms, 0.25 ms | time steps of the spiking and of the rate network |
# | `tau_r`, `tau_d` | 2 ms, 20 ms | synaptic rise and decay, both networks |
#
# `fit` settles both networks for 0.3 s without learning, trains them for `TRAIN` s and tests each
# freely for `TEST` s with its own decoder; then it swaps the decoders and tests again (section 2).
# The metrics: `*_error` are free-running RMSE / target amplitude after the best time shift per
# period (a free-running oscillator's phase is arbitrary; a wrong frequency or waveform still
# counts), `decoder_correlation` is the Pearson correlation between the two learned decoders
# (N values each), `*_frequency` the dominant output frequency in Hz.

# %%
comp = MatchedForceComparison(N, alpha=ALPHA_SLOW, G=0.08 * mV * second, Q=20 * mV, seed=0)
comp.fit(sinusoid(5.0), settle=0.3 * second, train=TRAIN * second, test=TEST * second)
res = comp.result_
for k, v in res.as_dict().items():
    print(f"{k:32s} {v:.4g}")

# %% [markdown]
# Free-running test outputs. Top: the spiking network with its own decoder and with the rate
# network's decoder; bottom: the rate network with its own decoder and with the spiking
# network's. The dashed line is the 5 Hz target. What to look for: with its own decoder each
# network follows the target; with the other network's decoder the oscillation survives but its
# period changes, so it drifts out of phase with the target (section 2 explains why).

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
for ax in axs:
    ax.set_ylabel("output z")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Transferred decoders: open loop and closed loop
#
# Two ways to test a decoder moved to the other network:
#
# * **open loop** (teacher forcing): the receiving network is driven by the target in place of its own
#   output, as during a perfect FORCE update, and its filtered rates are decoded with its own and with the
#   transferred decoder (`*_error_open`);
# * **closed loop**: the receiving network runs freely with the transferred decoder in its feedback loop
#   (`*_error`, best time shift per period; `*_frequency` is the output's dominant frequency).
#
# Each ratio below is the receiving network's error with the transferred decoder divided by its
# error with its own (1 = as good as its own decoder). Newton & Nicola show closed-loop outputs of
# swapped decoders (their Fig. 4 G–I).

# %%
for direction in ("spike_to_rate", "rate_to_spike"):
    print(f"{direction:14s} open-loop ratio {getattr(res, direction + '_ratio_open'):.2f}   "
          f"closed-loop ratio {getattr(res, direction + '_ratio'):.2f}   "
          f"frequency {getattr(res, direction + '_frequency'):.2f} Hz")
print(f"own: spiking {res.spiking_frequency:.2f} Hz, rate {res.rate_frequency:.2f} Hz (target 5 Hz)")

# %% [markdown]
# Open loop, the ratios stay near 1: each network decodes the target nearly as well with the other's
# decoder. Closed loop, the
# transferred decoder shifts the oscillation frequency: the rate network with the spiking decoder runs
# slow, the spiking network with the rate decoder fast (`benchmarks/RESULTS.md`, "Spiking vs matched
# rate network", over seeds and frequencies). The reason is a phase difference between the two
# bases: a LIF neuron whose input is modulated around threshold fires *ahead* of the stationary f–I rate
# that the instantaneous rate unit uses (its membrane rests near threshold when the input rises, so the
# first spike of each burst comes early). Each decoder absorbs its own network's phase; moved to the other
# network it carries a phase error of a few ms, and in the feedback loop a phase error changes the frequency.
#
# Two measurements of that lead, both without any decoder:
#
# * `lif_phase_lead`: one LIF neuron receives v_th + A·sin(2π·5 Hz·t) (A in volts); its filtered
#   spike train is compared with the filtered f–I rate of the same input, and the lead (s, positive
#   = spikes earlier) is the shift maximising their cross-correlation;
# * `calibrate_rate_lead`: the trained comparison's teacher-forced spiking units are compared, unit
#   by unit, with those of rate networks whose units respond to `f(I + τ_lead dI/dt)`, for a few
#   candidate τ_lead; it returns the median spiking-vs-rate lead for each candidate and the τ_lead
#   at which it crosses zero. At τ_lead = 0 (the paper's network) a positive median lead means the
#   spiking units are ahead.
#
# What to look for: the single neuron's lead is larger for the weak modulation (5 mV) than for the
# strong one (15 mV): it is a property of inputs hovering near threshold. In the network, the median lead at
# τ_lead = 0 is positive and falls as τ_lead grows.

# %%
for amp in (5e-3, 15e-3):
    d = lif_phase_lead(0.0, amp, duration=2.0, transient=0.5)
    print(f"one LIF neuron, input v_th + {amp * 1e3:.0f} mV sin(2π 5 Hz t): spikes lead the f–I rate by "
          f"{d['lead_s'] * 1e3:.1f} ms")
cal = calibrate_rate_lead(comp, sinusoid(5.0), duration=1.0 if FAST else 2.0)
print("candidate τ_lead (ms):", np.round(cal["candidates"] * 1e3, 1))
print("median spiking-unit lead over rate units (ms):", np.round(cal["median_lead"] * 1e3, 2))

# %% [markdown]
# A *lead-compensated* rate network (units fire at `f(I + τ_lead dI/dt)`; not the paper's model) with τ_lead
# chosen from teacher-forced activity alone, so that spiking and rate units are in phase, tests this
# explanation: if the phase difference is the cause, the transferred decoders should keep the target
# frequency better with it. Compare the frequencies and closed-loop ratios below with those above.

# %%
comp_lead = MatchedForceComparison(N, alpha=ALPHA_SLOW, G=0.08 * mV * second, Q=20 * mV, seed=0,
                                   rate_lead=cal["tau_lead"] * second)
comp_lead.fit(sinusoid(5.0), settle=0.3 * second, train=TRAIN * second, test=TEST * second)
res_lead = comp_lead.result_
print(f"τ_lead = {cal['tau_lead'] * 1e3:.1f} ms, decoder correlation {res_lead.decoder_correlation:.3f}")
for direction in ("spike_to_rate", "rate_to_spike"):
    print(f"{direction:14s} open-loop ratio {getattr(res_lead, direction + '_ratio_open'):.2f}   "
          f"closed-loop ratio {getattr(res_lead, direction + '_ratio'):.2f}   "
          f"frequency {getattr(res_lead, direction + '_frequency'):.2f} Hz")

# %% [markdown]
# ## 3. Slow learning low-pass filters the principal components of the neural basis
#
# RLS started from P(0) = α·I and run for n updates on a fixed basis returns ridge regression with
# penalty 1/α. Along the i-th principal component of the regressors (second-moment eigenvalue λ_i)
# it scales the least-squares coefficient by the gain `nλ_i/(nλ_i + 1/α)` (`rls_pc_gain`): a
# component with little variance is learned only when α is large. So a slow learner (small α)
# keeps the leading components and drops the rest.
#
# To see it, decoders are learned offline (`offline_rls_decoder`) by RLS every 5 ms on the spiking
# network's recorded filtered spike trains (`comp.spiking_rates_`, Hz) at three values of α, and
# each is projected onto the principal components of those rates (`decoder_pc_projection`). For
# each α we print the fraction of |φ|² in the top 10 PCs and how many PCs the analytic gain passes
# (gain > 0.5).
#
# The figure: |decoder coefficient| on each PC (normalised to unit norm), PCs ordered by variance.
# What to look for: the smaller α, the faster the coefficients fall with the PC index.

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
plt.show()

# %% [markdown]
# ## 4. A small G × Q sweep of the rate network on Dask (resumable)
#
# Which static weight scale G (mV·s) and encoder range Q (mV) let FORCE succeed? `SweepSpec`
# describes a grid of cells, each one rate network of 150 units (`rate_dt` 0.5 ms) trained on the
# 5 Hz sinusoid (0.1 s settle, 1 s training, 0.5 s free-running test; values in SI units: V·s, V,
# s). `run_sweep` runs the missing cells on Dask, writes one JSON file per finished cell (an
# interrupted sweep resumes where it stopped) and collects them into a table. A cell counts as
# converged when its test error (RMSE / amplitude after the best shift) is below 0.3. FAST mode
# runs a 2 × 2 grid (G = 0.04 and 0.2 mV·s, Q = 5 and 45 mV) in this process
# (`scheduler="synchronous"`); the full run a 5 × 5 grid on a local Dask cluster.
#
# The heat map: fraction of converged seeds per (G, Q) cell (here one seed: 0 or 1). What to
# look for: FORCE converges only in part of the (G, Q) plane; the full
# `models/newton_nicola_gq_sweep.toml` maps that region on a 10 × 10 grid.

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
plt.show()
print(frame[["G", "Q", "rate_error", "rate_converged"]])

# %% [markdown]
# ## If training diverges
# Either network's RLS may blow up: when |φᵀr − x| exceeds `divergence_factor` (default 100)
# target amplitudes or is not finite, `MatchedForceComparison.fit` stops with
# `brianforce.errors.TrainingDiverged`. Its message names the RLS update, the simulated time and
# the simulation time step (attributes `step`, `time`, `sim_step`, `error`); the network that
# diverged keeps it in `diverged_` (`comp.spiking_.diverged_` or `comp.rate_.diverged_`) and
# refuses to run its decoder unless asked with `allow_diverged=True`. In a sweep a diverged cell
# does not stop the sweep: its row has `diverged = True`, the simulated time in `diverged_at`, an
# infinite error, and it counts as not converged.
#
# What to change:
#
# * a smaller `alpha` (the learning rate: P(0) = α·I); at large α both networks learn fast but
#   their decoders agree less (`benchmarks/RESULTS.md`: the decoder correlation falls with α), and
#   very large α diverges;
# * a longer `rls_interval` (a multiple of `dt` and of `rate_dt`);
# * G and Q inside the converged region of a G × Q sweep like the one above.

# %% [markdown]
# ## Success criterion
# Slower learning concentrates the decoder on the leading PCs, the two networks learn correlated decoders
# (correlation > 0.8 at full size, > 0.6 in FAST mode), the spiking units lead the matched
# instantaneous rate units in phase, and the open-loop transfer ratios are finite.
#
# Not asserted: Newton & Nicola's transfer criterion, open-loop transfer within 2× of the
# receiving network's own error in both directions, is not met in this configuration. At this
# tutorial's full size (N = 500, α = 1.5e-7, G = 0.08 mV·s, Q = 20 mV, 8 s training, sinusoid),
# seeds 0 and 1 give open-loop ratios spike → rate 1.62 / 2.02 and rate → spike 2.09 / 1.38
# (`benchmarks/results/newton_nicola/transfer_n500.csv`, rows `instantaneous`; regenerate with
# `python3 benchmarks/newton_nicola_transfer.py --n-neurons 500 --train 8 --alphas 1.5e-7 --out
# benchmarks/results/newton_nicola/transfer_n500.csv`). The acceptance sweep (N = 300, 3 s training,
# α = 5e-7) at the fresh seeds 101–105 gives largest open-loop ratios 1.40 / 2.03 / 2.95 / 2.27 / 3.06,
# within 2× at 1 of 5 (`benchmarks/results/reproduce/newton_nicola_full_seeds101-105.md`;
# `brianforce reproduce newton_nicola --seeds 101-105 --out benchmarks/results/reproduce`). The
# ratio is set by the LIF units' phase lead over their f–I rate (section 2): a transferred decoder
# reads a basis shifted by a few ms, an error that larger N or longer training does not shrink
# while the networks' own errors fall, so the ratio grows as they fall
# (`benchmarks/RESULTS.md`, "Spiking vs matched rate network"). Asserting < 2 here would pass or
# fail with the seed, so only finiteness is asserted.

# %%
assert fractions[5e-8] > fractions[5e-4], fractions
assert res.decoder_correlation > (0.6 if FAST else 0.8), res.decoder_correlation
assert cal["median_lead"][0] > 0, cal  # spiking units lead the instantaneous rate units
assert np.isfinite(res.spike_to_rate_ratio_open) and np.isfinite(res.rate_to_spike_ratio_open)
print("OK")
