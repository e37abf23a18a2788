"""Acceptance runs for rate teachers → spiking students (DePasquale et al.).

Runs each recipe (``models/depasquale_*.toml``) through
:func:`brianforce.experiments.depasquale.train_from_recipe` and appends one CSV row per run
(teacher/student errors, accuracy, ISI CV, Fano factor, PCA variance, principal angles, Dale
violations, wall time) to ``benchmarks/results/depasquale_students.csv``.

Run::

    python benchmarks/depasquale_students.py models/depasquale_oscillation.toml \
        [--set student.n_rls=60 --set task.n_test=20] [--tag NAME] [--csv PATH] [--out DIR]

Values given with ``--set`` are parsed as TOML scalars (``60``, ``0.1``, ``true``, ``"5 ms"``).
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import tomllib
from pathlib import Path

from brianforce.experiments.depasquale import train_from_recipe

RESULTS = Path(__file__).resolve().parent / "results"
COLUMNS = ["recipe", "tag", "overrides", "task", "seed", "teacher_units", "student_neurons",
           "n_factors", "factor_variance", "teacher_error", "teacher_error_cue_free",
           "student_error_median", "student_error_trial_averaged", "student_error_cue_free",
           "student_phase_aligned_error", "error_ratio", "teacher_accuracy", "student_accuracy",
           "mean_rate_hz", "isi_cv_median", "isi_cv_frac_above_0_5", "fano_median",
           "student_top10_variance", "teacher_top10_variance", "median_angle_deg",
           "dale", "dale_violations", "train_factor_error_last", "wall_time_s", "machine",
           "phase_lag_per_period_ms", "n_test_repeats", "student_error_over_repeats",
           "error_ratio_over_repeats", "student_error_per_repeat", "teacher_drift_ms_per_period",
           "student_drift_ms_per_period_per_repeat", "n_cue", "calibration_drift_ms_per_period",
           "time_scale"]


def _parse_set(items):
    out = {}
    for it in items or []:
        key, _, val = it.partition("=")
        out[key.strip()] = tomllib.loads(f"v = {val}")["v"]
    return out


def row(summary: dict, recipe: str, tag: str, overrides: dict) -> dict:
    t, s, p = summary["teacher"], summary["student"], summary["population"]
    return {"recipe": Path(recipe).name, "tag": tag,
            "overrides": ";".join(f"{k}={v}" for k, v in overrides.items()),
            "task": summary["task"], "seed": summary["seed"], "teacher_units": t["n_units"],
            "student_neurons": s["n_neurons"], "n_factors": t["n_factors"],
            "factor_variance": t["factor_variance"], "teacher_error": t["normalised_error_median"],
            "teacher_error_cue_free": t.get("normalised_error_cue_free"),
            "student_error_median": s["normalised_error_median"],
            "student_error_trial_averaged": s.get("normalised_error_trial_averaged"),
            "student_error_cue_free": s.get("normalised_error_cue_free"),
            "student_phase_aligned_error": s.get("phase_aligned_error_median"),
            "error_ratio": summary["error_ratio"], "teacher_accuracy": t["accuracy"],
            "student_accuracy": s["accuracy"], "mean_rate_hz": s["mean_rate_hz"],
            "isi_cv_median": s["isi_cv_median"],
            "isi_cv_frac_above_0_5": s["isi_cv_fraction_above_0.5"],
            "fano_median": s["fano_factor_median"],
            "student_top10_variance": p["student_top_pcs_variance"],
            "teacher_top10_variance": p["teacher_top_pcs_variance"],
            "median_angle_deg": p["median_principal_angle_deg"], "dale": s["dale"],
            "dale_violations": s.get("dale_sign_violations"),
            "train_factor_error_last": s["train_factor_error_last"],
            "wall_time_s": summary["wall_time_s"],
            "machine": f"{platform.node()} ({os.cpu_count()} cpus)",
            "phase_lag_per_period_ms": ";".join(f"{v:g}" for v in s.get("phase_lag_per_trial_ms", [])),
            "n_test_repeats": len(s.get("normalised_error_median_per_repeat", [None])) - 1,
            "student_error_over_repeats": s.get("normalised_error_median_over_repeats"),
            "error_ratio_over_repeats": summary.get("error_ratio_over_repeats"),
            "student_error_per_repeat": ";".join(
                f"{v:.5g}" for v in s.get("normalised_error_median_per_repeat", [])),
            "teacher_drift_ms_per_period": t.get("phase_drift_ms_per_period"),
            "student_drift_ms_per_period_per_repeat": ";".join(
                f"{v:.3g}" for v in s.get("phase_drift_ms_per_period_per_repeat", [])
                if v is not None),
            "n_cue": summary.get("n_cue", 0),
            "calibration_drift_ms_per_period": s.get("calibration_drift_ms_per_period"),
            "time_scale": s.get("time_scale")}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("recipes", nargs="+")
    ap.add_argument("--set", action="append", dest="sets", help="section.key=TOML value")
    ap.add_argument("--tag", default="")
    ap.add_argument("--csv", default=str(RESULTS / "depasquale_students.csv"))
    ap.add_argument("--out", default="depasquale_runs", help="folder for run outputs")
    a = ap.parse_args(argv)
    overrides = _parse_set(a.sets)
    path = Path(a.csv)
    path.parent.mkdir(parents=True, exist_ok=True)
    for recipe in a.recipes:
        out = Path(a.out) / (Path(recipe).stem + (f"_{a.tag}" if a.tag else ""))
        summary = train_from_recipe(recipe, out, overrides)
        r = row(summary, recipe, a.tag, overrides)
        new = not path.exists()
        with open(path, "a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=COLUMNS)
            if new:
                w.writeheader()
            w.writerow(r)
        print({k: r[k] for k in ("recipe", "tag", "teacher_error", "student_error_median",
                                 "student_error_trial_averaged", "student_accuracy",
                                 "isi_cv_median", "median_angle_deg", "dale_violations")},
              flush=True)


if __name__ == "__main__":
    main()
