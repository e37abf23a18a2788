# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Reaching M1 rates: spiking neurons that follow recorded units, with a quality table per unit
#
# Motor-cortex (M1) units recorded during 8-direction center-out reaches
# (Hatsopoulos et al. 2007; trial-averaged, 25-ms-smoothed rates, −0.8 … +0.4 s around movement
# onset) are mapped one-to-one onto neurons of a balanced E/I network of leaky integrate-and-fire
# (LIF) neurons. Following Kim & Chow (2018, their recorded-rate fit, Fig. 7), each mapped
# neuron's incoming recurrent synapses are trained by per-neuron recursive least squares (RLS)
# so that its synaptic current follows the current that, through the neuron's noisy f–I curve,
# gives the recorded rate (`RecurrentTrainer.fit_rates`, recipe `models/kimchow_m1.toml`). Test
# trials without learning give the model's trial-averaged rates;
# `brianforce.experiments.reaching.unit_quality_table` scores every unit and the table is
# written as `unit_table.csv`.
#
# Figure reproduced: recorded vs model rates of example units and the distribution of per-unit
# correlations (`m1_rates.png`; Kim & Chow 2018 Fig. 7 style).
#
# **Success criterion.** Full run (recorded data): a complete table (one row per unit with a
# mean rate > 1 Hz, 103 units), model mean rate within a factor 2 of the recorded one, and a
# median all-direction correlation > 0.7. Measured with the recipe as shipped (8 training trials
# per direction and round, network seed 0): median all-direction correlation 0.812, mean 0.765;
# per-direction correlation median 0.685, mean 0.679; Poisson ceiling median 0.893; model
# 4.68 Hz vs data 4.70 Hz (`benchmarks/results/reaching_m1_summary.v3.json`, table
# `reaching_m1_unit_table.v3.csv`; regenerate with
# `brianforce train models/reaching_m1.toml --data ../shared/data/hatsopoulos_reach --out DIR` and copy
# `DIR/summary.json` and `DIR/unit_table.csv`).
#
# This is not Kim & Chow's criterion, and it asks less. `models/kimchow_m1.toml` states theirs as a
# mean correlation of the trial-averaged rates with the recorded units > 0.8 over the 8 directions,
# which `benchmarks/kimchow_m1.py` reads as the correlation over time per unit and direction,
# averaged over units and all 8 directions. The assert here takes, per unit, the correlation over
# the 8 directions' time courses concatenated (which also credits the differences between the
# directions' mean rates, i.e. tuning), its median over units, and a threshold of 0.7. The reason:
# this tutorial fits the recorded rates themselves (1×), which the table's rate-level columns
# (mean-rate ratio, R²) need, and at 1× the current targets vary only about 0.2 mV and the
# per-direction reading stays far below 0.8: 0.679 here, 0.69 in `benchmarks/results/kimchow_m1_gain1.csv`
# (`python3 benchmarks/kimchow_m1.py --rate-gain 1 --tag gain1`). Kim & Chow's reading reaches 0.85
# (0.82–0.87 over the directions) only with targets 3× the recorded rates, the setting of
# `models/kimchow_m1.toml` (`benchmarks/results/kimchow_m1.csv`, `python3 benchmarks/kimchow_m1.py`).
# The reproduction criterion of `brianforce reproduce reaching_m1` scores the same median
# all-direction correlation against the Poisson ceiling, the best Poisson-like spiking can reach
# with 24 test trials (≥ 0.9 of it; 0.812 / 0.893 = 0.910 here).
#
# `BRIANFORCE_FAST=1` (CI): the synthetic look-alike, 16 units on N = 200 neurons, one short
# training round: the table is complete and finite, the model fires (mean rate within a factor 4
# of the data).
#
# Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
# Hatsopoulos NG, Xu Q, Amit Y (2007) Encoding of movement fragments in the motor cortex.
# J Neurosci 27:5105-5114.

# %% [markdown]
# ## Set-up
# The run writes `unit_table.csv`, `summary.json` and `m1_rates.png` to a folder `reaching_m1`
# under `BRIANFORCE_TUTORIAL_OUT` (else `BRIANFORCE_OUT`, else the temporary folder). The
# settings come from the recipe `models/reaching_m1.toml`, found with `recipe_path`. `show_png`
# displays a saved figure in a notebook (and prints its path when this file runs as a script).

# %%
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import csv  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from brianforce import datasets  # noqa: E402
from brianforce.experiments.reaching import run_m1_recipe  # noqa: E402
from brianforce.experiments.recipes import recipe_path  # noqa: E402
from brianforce.viz import show_png  # noqa: E402

FAST = os.environ.get("BRIANFORCE_FAST", "0") == "1"
OUT = Path(os.environ.get("BRIANFORCE_TUTORIAL_OUT", os.environ.get("BRIANFORCE_OUT", tempfile.gettempdir()))) / "reaching_m1"
OUT.mkdir(parents=True, exist_ok=True)
RECIPE = recipe_path("reaching_m1")


# %% [markdown]
# ## The data
# `load_m1_rates` returns a `PopulationRates`: `rates[direction, time, unit]`, 8 directions × 121
# bins of 10 ms × 141 units, in spikes/s. Full runs look for the recording
# (`m1_rates_center_out.npz` under the data root in `BRIANFORCE_DATA`, else `../shared/data` next
# to the checkout); FAST runs, and machines without the recording, use the synthetic look-alike
# shipped in `data/`. Only units with a mean rate above 1 Hz are fitted.

# %%
if FAST:
    rates = datasets.load_m1_rates(synthetic=True)
else:
    try:
        rates = datasets.load_m1_rates()
    except FileNotFoundError:
        print("recorded m1_rates_center_out.npz not found: using the synthetic look-alike")
        rates = datasets.load_m1_rates(synthetic=True)
print(rates.source, rates.rates.shape, "synthetic" if rates.synthetic else "recorded",
      f"mean {rates.rates.mean():.2f} Hz; units > 1 Hz: {(rates.rates.mean(axis=(0, 1)) > 1).sum()}")

# %% [markdown]
# ## Fit and quality table
# `run_m1_recipe` does the same as `brianforce train models/reaching_m1.toml --data PATH --out DIR`.
# The network and training come from `models/kimchow_m1.toml` (`[model] base`):
#
# * a balanced E/I LIF network of N = 1000 neurons (80 % excitatory), each receiving K = 300
#   recurrent inputs (connection probability 0.3), excitatory weights j0·τ_m/√K with j0 = 10 mV,
#   inhibitory −6 times that; a constant bias per neuron in [−37.5, −35] mV (above the −40 mV
#   threshold); synaptic rise 2 ms and decay 50 ms; integration step 0.1 ms;
# * each recorded unit is mapped onto one randomly chosen neuron; the others stay untrained but
#   receive, during the trial window, a condition-specific Ornstein-Uhlenbeck input of SD 10 mV
#   and correlation time 100 ms (the same on every trial of a direction), which gives the mapped
#   neurons reproducible, direction-specific inputs to combine;
# * recorded rates become current targets through the inverted LIF transfer curve averaged over
#   slow input fluctuations of SD σ: σ = 1 mV in round 1; round 2 measures the σ that links the
#   trained neurons' currents to their rates and trains on with it (`rounds` = 2);
# * every trial: a 100-ms random stimulus (uniform in [0, 10 mV] per neuron, fixed per direction),
#   then the window, in which every 10 ms each mapped neuron's RLS (ridge λ = 10⁴ Hz²) updates its
#   incoming weights; 8 trials per direction and round, where the first round's learning curve has
#   converged (all the trials of a fit run as one compiled program where a C++ compiler is found);
# * `n_test_trials` = 24 test trials per direction without learning; the model's rates are the
#   trial-averaged spike counts, smoothed with the data's 25-ms Gaussian.
#
# The columns of the table: `recorded_mean_rate_hz` and `model_mean_rate_hz` (and their ratio),
# `corr_all_directions` (correlation of the 8 directions' time courses concatenated: tuning and
# temporal shape), `r2_all_directions` (1 − SS_res/SS_tot over the same samples: it also penalises
# wrong rate levels), `corr_dir_<deg>` per direction and their mean, and
# `poisson_ceiling_corr_all_directions`: the correlation that Poisson neurons firing exactly at
# the recorded rate would reach with the same number of test trials — the best a model with
# Poisson-like spiking can score.
#
# FAST mode: N = 200, one round of one trial per direction, 2 test trials, the 16 most active
# units.

# %%
overrides = {}
if FAST:
    overrides = {"network.n": 200, "training.n_trials": 1, "training.rounds": 1,
                 "evaluation.n_test_trials": 2, "evaluation.max_units": 16}
res = run_m1_recipe(RECIPE, OUT, data=rates.source, overrides=overrides)
s = res["summary"]
with open(OUT / "unit_table.csv") as fh:
    table = list(csv.DictReader(fh))
print(f"{len(table)} units; columns: {', '.join(table[0])}")
for row in table[:5]:
    print(row["unit"], "corr", row["corr_all_directions"], "R2", row["r2_all_directions"],
          "rates", row["recorded_mean_rate_hz"], "vs", row["model_mean_rate_hz"])

# %% [markdown]
# ## The figure
# `m1_rates.png`: the recorded (thick) and model (thin) rates of three units — the best, the
# median and the worst by all-direction correlation — one colour per direction; right, the
# distribution of the per-unit all-direction correlations with the median Poisson ceiling (red).
# What to look for: how much of the directional tuning and of the time course around movement
# onset the model neurons reproduce, and how far the correlations fall short of the Poisson
# ceiling. In FAST mode, with one training trial per direction and the model's rates averaged
# over only two test trials, the model traces are noisy and the fits rough.

# %%
show_png(OUT / "m1_rates.png")

# %% [markdown]
# ## If training diverges
# If a mapped neuron's RLS error exceeds the trainer's `max_error` (1 V) or becomes NaN, `fit_rates`
# stops with `brianforce.errors.TrainingDiverged`, whose message names the training trial, the
# direction (condition) and the time in the window. The trainer keeps it in `diverged_` and
# refuses to run test trials or save its weights unless asked with `allow_diverged=True`.
# What to change, in a copy of the recipe (`brianforce recipes copy kimchow_m1 DIR`): a larger
# `[training] reg` (a stronger pull towards the balanced initial weights) or a longer
# `learn_every_ms` (fewer updates per window).

# %% [markdown]
# ## Success criterion

# %%
print(f"median corr (all directions) {s['corr_all_directions_median']:.3f}, mean "
      f"{s['corr_all_directions_mean']:.3f}, per direction {s['corr_per_direction_mean_median']:.3f}; "
      f"units > 0.5: {s['fraction_corr_all_directions_gt_0.5']:.2f}, > 0.8: "
      f"{s['fraction_corr_all_directions_gt_0.8']:.2f}; Poisson ceiling "
      f"{s['poisson_ceiling_corr_all_directions_median']:.3f}; model {s['model_mean_rate_hz']:.2f} Hz vs "
      f"data {s['recorded_mean_rate_hz']:.2f} Hz")
ratio = s["model_mean_rate_hz"] / s["recorded_mean_rate_hz"]
assert len(table) == s["n_units"]
assert all(np.isfinite(float(r["model_mean_rate_hz"])) for r in table)
if FAST:
    assert s["n_units"] == 16 and 0.25 < ratio < 4, ratio
else:
    assert s["n_units"] == (rates.rates.mean(axis=(0, 1)) > 1).sum()
    assert 0.5 < ratio < 2, ratio
    # 0.812 in benchmarks/results/reaching_m1_summary.v3.json; not Kim & Chow's criterion (see the top)
    assert s["corr_all_directions_median"] > 0.7, s["corr_all_directions_median"]
