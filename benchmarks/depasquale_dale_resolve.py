"""Wall time of a Dale ``"split"`` student and of its constrained re-solves, by re-solve method.

Trains the Dale oscillation recipe (``depasquale_oscillation_dale``; optionally fewer RLS trials and a
lighter period calibration) at each seed with ``[student] dale_refactor_every`` = each given value:
1 factorises every changed free set afresh, k > 1 carries ``(H_FF)⁻¹`` through the block-pivoting
exchanges (:class:`brianforce.methods.factor_student.dale.SplitDaleRLS`). Appends one row per run
(wall time, time in the re-solves, the acceptance metrics) to
``benchmarks/results/depasquale_dale_resolve.csv``::

    python benchmarks/depasquale_dale_resolve.py --seeds 3 --n-rls 20 --refactor-every 1 10
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

RESULTS = Path(__file__).resolve().parent / "results" / "depasquale_dale_resolve.csv"


def main(argv=None):
    from brianforce.experiments.depasquale import train_from_recipe
    from brianforce.experiments.recipes import recipe_path
    from brianforce.experiments.reproduce.driver import parse_seeds
    from brianforce.io import append_csv_row

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="3")
    ap.add_argument("--n-rls", type=int, default=None, help="RLS trials (default: the recipe's)")
    ap.add_argument("--light-calibration", action="store_true",
                    help="2 periods x 2 copies for the period calibration instead of the recipe's")
    ap.add_argument("--refactor-every", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--results", default=str(RESULTS))
    a = ap.parse_args(argv)
    overrides = {}
    if a.n_rls is not None:
        overrides["student.n_rls"] = a.n_rls
    if a.light_calibration:
        overrides.update({"student.period_calibration": 2, "student.calibration_copies": 2})
    for seed in parse_seeds(a.seeds):
        for k in a.refactor_every:
            wall0 = time.perf_counter()
            with tempfile.TemporaryDirectory() as out:
                s = train_from_recipe(recipe_path("depasquale_oscillation_dale"), out,
                                      {**overrides, "experiment.seed": seed, "student.dale_refactor_every": k})
            ratio = s["error_ratio_over_repeats"] if s.get("error_ratio_over_repeats") is not None else s["error_ratio"]
            row = {"date": time.strftime("%Y-%m-%d %H:%M"), "seed": seed, "refactor_every": k,
                   "n_rls": a.n_rls if a.n_rls is not None else "recipe",
                   "calibration": "2x2" if a.light_calibration else "recipe",
                   "wall_s": round(time.perf_counter() - wall0, 1),
                   "resolve_s": round(s["student"]["dale_resolve_s"], 1),
                   "error_ratio": ratio, "isi_cv_median": s["student"]["isi_cv_median"],
                   "top10_pcs_variance": s["population"]["student_top_pcs_variance"],
                   "median_principal_angle_deg": s["population"]["median_principal_angle_deg"],
                   "dale_sign_violations": s["student"]["dale_sign_violations"],
                   "load_avg_1min": round(os.getloadavg()[0], 2)}
            append_csv_row(a.results, row)
            print(row, flush=True)


if __name__ == "__main__":
    main()
