"""Test trials of a reaching recipe one by one: which conditions and trials a spiking student misses.

Runs a ``method = "reaching"`` recipe (with ``section.key=value`` overrides, values read as JSON where
they parse) at each seed and appends one row per closed-loop test trial to
``benchmarks/results/reaching_test_trials.csv``: its condition, the student's and the teacher's R² over
the data window (``condition_r2``: pooled over channels), the student's RMS error, the largest
|output| and |target|, and the run's trial-averaged R² and last training factor error::

    python benchmarks/reaching_test_trials.py models/reaching_emg13.toml --seeds 3 --data ../shared/data \\
        --label "n_rls=40" student.n_rls=40
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "reaching_test_trials.csv"


def trial_rows(summary: dict) -> list:
    """One dict per test trial of a finished run (``summary`` as ``run_reaching_recipe`` returns it)."""
    from brianforce.experiments.reaching.emg import condition_r2

    res = summary["_result"]
    run, test, teacher = res["student_run"], res["test"], res["teacher_test"]
    window = test.info["emg_window"]
    student_r2 = condition_r2(run.outputs, test.targets, window)
    teacher_r2 = condition_r2(teacher.outputs, test.targets, window)
    a, b = window
    rows = []
    for k in range(test.n_trials):
        out, target = run.outputs[k, a:b], test.targets[k, a:b]
        rows.append({"trial": k, "condition": int(test.labels[k]),
                     "student_r2": round(float(student_r2[k]), 4), "teacher_r2": round(float(teacher_r2[k]), 4),
                     "student_rms_error": round(float(np.sqrt(np.mean((out - target) ** 2))), 4),
                     "max_abs_output": round(float(np.abs(out).max()), 3),
                     "max_abs_target": round(float(np.abs(target).max()), 3)})
    return rows


def main(argv=None):
    from brianforce.experiments.reaching.emg import run_reaching_recipe
    from brianforce.experiments.reproduce.driver import parse_seeds
    from brianforce.io import append_csv_row
    from ci_size_probe import parse_overrides

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("recipe")
    ap.add_argument("overrides", nargs="*", help="section.key=value (values read as JSON where they parse)")
    ap.add_argument("--seeds", required=True, help="e.g. 3 or 0-9")
    ap.add_argument("--data", required=True, help="the recorded data: a file, its folder or a data root")
    ap.add_argument("--label", default="as shipped", help="names the overrides in the results file")
    ap.add_argument("--results", default=str(RESULTS), help="results file (appended)")
    a = ap.parse_intermixed_args(argv)
    overrides = parse_overrides(a.overrides)
    for seed in parse_seeds(a.seeds):
        with tempfile.TemporaryDirectory() as out:
            summary = run_reaching_recipe(a.recipe, Path(out) / "run", data=a.data,
                                          overrides={**overrides, "experiment.seed": seed}, progress=False)
        st = summary["student"]
        head = {"date": time.strftime("%Y-%m-%d %H:%M"), "recipe": Path(a.recipe).name, "label": a.label,
                "overrides": json.dumps(overrides, sort_keys=True), "seed": seed,
                "r2_trial_averaged": round(st["r2_trial_averaged"], 4),
                "train_factor_error_last": round(st["train_factor_error_last"], 5)}
        for row in trial_rows(summary):
            append_csv_row(a.results, {**head, **row})
        print(f"seed {seed}: trial-averaged R² {st['r2_trial_averaged']:.3f}", flush=True)


if __name__ == "__main__":
    main()
