"""Acceptance runs of the FORCE demo: 4 seeds × {sinusoid, Van der Pol} at N = 2000.

Runs the recipes ``models/nicola_clopath_sinusoid.toml`` and
``models/nicola_clopath_van_der_pol.toml`` (settle 0.5 s, train 9.5 s, test 2 s) for seeds
0-3 and writes ``benchmarks/results/force_seeds.csv`` with the first-second test metrics
(RMSE / amplitude, lag-adjusted correlation, frequency) per output channel.

    python benchmarks/force_seeds.py [--seeds 0 1 2 3] [--n-neurons 2000]
"""
from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from brianforce.experiments.cli import run_force_recipe
from brianforce.config import load_recipe
from brianforce.io import append_csv_row

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    ap.add_argument("--n-neurons", type=int, default=2000)
    ap.add_argument("--recipes", nargs="+", default=["nicola_clopath_sinusoid", "nicola_clopath_van_der_pol"])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args(argv)
    out = Path(args.out)
    rows = []
    for name in args.recipes:
        for seed in args.seeds:
            recipe = load_recipe(ROOT / "models" / f"{name}.toml")
            recipe["experiment"]["seed"] = seed
            recipe["network"]["n_neurons"] = args.n_neurons
            s = run_force_recipe(recipe, out / "force_runs" / f"{name}_seed{seed}", progress=False)
            m = s["test_first_second"]
            for k, (e, c, f) in enumerate(zip(m["rmse_over_amplitude"], m["lag_adjusted_correlation"],
                                              m["output_frequency_hz"])):
                rows.append(dict(recipe=name, seed=seed, n_neurons=args.n_neurons, output=k,
                                 rmse_over_amplitude=e, lag_adjusted_correlation=c, output_frequency_hz=f,
                                 passes=bool(e < 0.2 and c > 0.95), mean_rate_hz=m["mean_rate_hz"],
                                 wall_fit_s=s["wall_time_s"]["fit"]))
            for r in rows[len(rows) - len(m["rmse_over_amplitude"]):]:
                append_csv_row(out / "force_seeds.csv", r)     # appended, never rewritten
            print(rows[-1], flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
