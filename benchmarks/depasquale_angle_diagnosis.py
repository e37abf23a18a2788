"""What sets the principal angle between a DePasquale student's and its teacher's top PCs.

Runs a DePasquale recipe (default ``models/depasquale_oscillation.toml``) at each seed through
:func:`brianforce.experiments.depasquale.train_from_recipe` and appends one row per run to
``benchmarks/results/depasquale_angle_diagnosis.csv``: the 10 principal angles, both networks'
variance per PC, the part of the student's variance outside the span of the teacher's top-10 PC
time courses (in all and along its largest direction; the per-neuron correlation of that part
with the mean rate), the split-half angle of the student's own odd and even test periods (the
angle noise alone gives), the teacher's factor count and the error ratio::

    python benchmarks/depasquale_angle_diagnosis.py --seeds 0-9 101-105 [--recipe PATH] [--workers 2]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "depasquale_angle_diagnosis.csv"
RECIPE = Path(__file__).resolve().parent.parent / "models" / "depasquale_oscillation.toml"


def _fmt(values, digits=3):
    return ";".join(f"{v:.{digits}g}" for v in values)


def run_seed(recipe: str, seed: int) -> dict:
    """One run of ``recipe`` at ``seed``; the results-file row."""
    from brianforce.experiments.depasquale import train_from_recipe

    t0 = time.time()
    with tempfile.TemporaryDirectory() as out:
        s = train_from_recipe(recipe, out, overrides={"experiment.seed": seed})
    p, t = s["population"], s["teacher"]
    ang = p["principal_angles_deg"]
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "recipe": Path(recipe).name, "seed": seed,
            "n_factors": t["n_factors"], "median_angle_deg": round(p["median_principal_angle_deg"], 2),
            "angle_5_deg": round(ang[4], 2), "angle_6_deg": round(ang[5], 2), "angles_deg": _fmt(ang),
            "teacher_pc_variance": _fmt(p["teacher_pc_variance_ratios"]),
            "student_pc_variance": _fmt(p["student_pc_variance_ratios"]),
            "teacher_pcs_5_10_variance": round(sum(p["teacher_pc_variance_ratios"][4:]), 4),
            "student_outside_teacher_pcs": round(p["student_variance_outside_teacher_pcs"], 4),
            "student_outside_top_direction": round(p["student_variance_outside_teacher_pcs_top_direction"], 4),
            "outside_fraction_rate_correlation": round(p["outside_fraction_rate_correlation"], 3),
            "student_split_half_median_angle_deg": round(p["student_split_half_median_angle_deg"], 2),
            "error_ratio": round(s["error_ratio"], 4), "wall_s": round(time.time() - t0, 1)}


def main(argv=None):
    from brianforce.experiments.reproduce import parse_seeds
    from brianforce.io import append_csv_row

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default=str(RECIPE))
    ap.add_argument("--seeds", nargs="+", default=["0-9"], help="seeds or ranges, e.g. 0-9 101-105")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--results", default=str(RESULTS))
    a = ap.parse_args(argv)
    seeds = [s for text in a.seeds for s in parse_seeds(text)]
    with ProcessPoolExecutor(a.workers) as pool:
        for r in pool.map(run_seed, [a.recipe] * len(seeds), seeds):
            append_csv_row(a.results, r)
            print(f"seed {r['seed']}: median angle {r['median_angle_deg']}° (5th {r['angle_5_deg']}, 6th "
                  f"{r['angle_6_deg']}); teacher PCs 5-10 {r['teacher_pcs_5_10_variance']:.3f} of its variance; "
                  f"student outside the teacher's PCs {r['student_outside_teacher_pcs']:.3f} (largest direction "
                  f"{r['student_outside_top_direction']:.3f}); split-half {r['student_split_half_median_angle_deg']}°",
                  flush=True)


if __name__ == "__main__":
    main()
