"""Is the Kim & Chow M1 fit trained to convergence? Learning curves of every round, and the test score.

Runs the ``reaching_m1`` recipe (at 1x the recorded rates, as ``brianforce reproduce`` does) at one
seed with ``[training] n_trials`` training trials per direction and round, and appends to
``benchmarks/results/kimchow_m1_convergence.csv`` one row per round and training repeat: the mean over
the directions of the current correlation with the targets and of the RMS RLS error in that repeat,
with the run's test score (correlation / Poisson ceiling) on every row.

    python benchmarks/kimchow_m1_convergence.py --seed 0 --trials 4 --data .../m1_rates_center_out.npz
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "kimchow_m1_convergence.csv"


def main(argv=None):
    from brianforce.experiments.reaching import run_m1_recipe
    from brianforce.experiments.recipes import recipe_path
    from brianforce.io import append_csv_row

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--trials", type=int, required=True)
    ap.add_argument("--data", default=None)
    a = ap.parse_args(argv)
    w = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        res = run_m1_recipe(recipe_path("reaching_m1"), out, data=a.data, progress=False,
                            overrides={"network.seed": a.seed, "training.n_trials": a.trials})
    s, tr = res["summary"], res["trainer"]
    ratio = s["corr_all_directions_median"] / s["poisson_ceiling_corr_all_directions_median"]
    for rnd, curve in enumerate(tr.learning_curves_):
        n_cond = int(np.max(curve.condition)) + 1
        for rep in range(len(curve.condition) // n_cond):
            sl = slice(rep * n_cond, (rep + 1) * n_cond)
            row = {"date": time.strftime("%Y-%m-%d %H:%M"), "seed": a.seed, "trials_per_round": a.trials,
                   "round": rnd + 1, "repeat": rep + 1,
                   "current_correlation": round(float(np.nanmean(curve.correlation[sl])), 5),
                   "rms_error_mV": round(1e3 * float(np.nanmean(curve.rms_error[sl])), 5),
                   "test_corr_over_ceiling": round(ratio, 5), "data": "synthetic" if s["synthetic"] else s["source"],
                   "wall_s": round(time.perf_counter() - w, 1)}
            append_csv_row(RESULTS, row)
            print(row, flush=True)


if __name__ == "__main__":
    main()
