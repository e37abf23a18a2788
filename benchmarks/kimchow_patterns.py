"""Kim & Chow (2018) arbitrary synaptic-current patterns: the recipe's acceptance at several seeds.

Runs ``models/kimchow_patterns.toml`` (N = 1000 balanced LIF network, every neuron's synaptic
current trained by per-neuron RLS to follow random-phase sinusoids for 1 s) at each seed, then
``n_test_trials`` test trials without learning, and appends one row per seed to
``benchmarks/results/kimchow_patterns.csv``:

* ``test_corr_mean`` / ``_median`` — correlation of each neuron's current with its target,
  averaged over test trials (criterion: mean > ``min_mean_correlation``, 0.9);
* ``cv_fraction`` — fraction of neurons (≥ 5 spikes) with ISI CV > 0.5 (criterion: > 0.5);
* ``train_corr_last`` — the learning curve's last trial; ``rate_hz``; ``wall_s``.

The recipe's settings were chosen at seed 0; other seeds (≥ 100) never guided a choice.

Run: ``python benchmarks/kimchow_patterns.py --seeds 0 101 102 103`` (about a minute per seed
on one core).
"""
from __future__ import annotations

import argparse
import platform
import time
import tomllib
from pathlib import Path

from brianforce.experiments.kimchow import run_patterns
from brianforce.io import append_csv_row, versions

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "kimchow_patterns.csv"


def run_seed(recipe: dict, seed: int) -> dict:
    """Train and test the recipe's network at ``seed``; one results row."""
    ev = recipe["evaluation"]
    t0 = time.perf_counter()
    row = run_patterns(recipe, seed)
    row.update(min_mean_correlation=ev["min_mean_correlation"],
               min_fraction_cv_above_half=ev["min_fraction_cv_above_half"])
    row["passed"] = bool(row["test_corr_mean"] > ev["min_mean_correlation"]
                         and row["cv_fraction"] > ev["min_fraction_cv_above_half"])
    row.update(wall_s=round(time.perf_counter() - t0, 1), date=time.strftime("%Y-%m-%d"),
               brian2=versions()["brian2"], python=platform.python_version())
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds to run (default: the recipe's, 0)")
    ap.add_argument("--recipe", type=Path, default=ROOT / "models" / "kimchow_patterns.toml")
    ap.add_argument("--out", type=Path, default=RESULTS, help="CSV to append to (default: %(default)s)")
    args = ap.parse_args(argv)
    recipe = tomllib.loads(args.recipe.read_text())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        row = run_seed(recipe, seed)
        append_csv_row(args.out, row)                    # appended, never overwritten
        print(f"seed {seed}: test corr {row['test_corr_mean']:.3f} (median {row['test_corr_median']:.3f}), "
              f"ISI CV > 0.5 for {row['cv_fraction']:.1%}, {row['rate_hz']:.1f} Hz, "
              f"{'PASS' if row['passed'] else 'FAIL'} ({row['wall_s']} s)", flush=True)


if __name__ == "__main__":
    main()
