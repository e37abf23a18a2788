"""Reaching fits on recorded EMG: fit quality, irregularity and population structure, one row per run.

Either runs a reaching recipe (``models/reaching_emg.toml``, ``reaching_emg13.toml``) on the recorded
data at the given seeds, with ``section.key=value`` overrides (e.g. the student's background noise),
or, with ``--from-runs``, reads the ``summary.json`` of runs already made (``brianforce reproduce
reaching`` keeps one folder per recipe and seed). Appends to
``benchmarks/results/reaching_population.csv``: teacher R² range over conditions, the student's
trial-averaged R² (pooled, per-condition range) and median single-trial R², ISI CV, CV2, Fano factor,
mean rate, both networks' top-10 PC variance and the median principal angle (25-ms smoothing and
none), the label, overrides, seed and wall time::

    python benchmarks/reaching_population.py --from-runs benchmarks/results/reproduce/runs/reaching --label reproduce
    python benchmarks/reaching_population.py models/reaching_emg.toml --data ../shared/data --seeds 0 \\
        --label "background 0 mV" 'student.background_noise="0 mV"'
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "reaching_population.csv"


def _r(x, digits=4):
    return None if x is None else round(float(x), digits)


def row(summary: dict, label: str, overrides: dict, wall_s) -> dict:
    """The results-file row of one reaching run's ``summary.json``."""
    d, t, s, p = summary["data"], summary["teacher"], summary["student"], summary["population"]
    per_cond = s["r2_trial_averaged_per_condition"]
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "experiment": summary["experiment"], "label": label,
            "overrides": json.dumps(overrides, sort_keys=True), "seed": summary["seed"],
            "data": Path(d["source"]).name if not d["synthetic"] else "synthetic look-alike",
            "n_conditions": d["n_conditions"], "n_channels": d["n_channels"], "teacher_units": t["n_units"],
            "teacher_r2_min": _r(t["r2_min"]), "teacher_r2_max": _r(max(t["r2_per_condition"])),
            "student_neurons": s["n_neurons"], "n_rls": s["settings"]["n_rls"],
            "background_noise_mv": _r(s.get("background_noise_V", 0.0) * 1e3, 3),
            "n_test_trials": s["n_test_trials"],
            "student_r2_trial_averaged": _r(s["r2_trial_averaged"]),
            "student_r2_condition_min": _r(min(per_cond)), "student_r2_condition_max": _r(max(per_cond)),
            "student_r2_single_trial_median": _r(s.get("r2_single_trial_median")),
            "isi_cv_median": _r(s["isi_cv_median"], 3), "cv2_median": _r(s.get("cv2_median"), 3),
            "fano_median": _r(s.get("fano_factor_median"), 3), "mean_rate_hz": _r(s["mean_rate_hz"], 2),
            "student_top10_pcs": _r(p["student_top_pcs_variance"]),
            "student_top10_pcs_unsmoothed": _r(p.get("unsmoothed_student_top_pcs_variance")),
            "teacher_top10_pcs": _r(p["teacher_top_pcs_variance"]),
            "median_angle_deg": _r(p["median_principal_angle_deg"], 2),
            "median_angle_unsmoothed_deg": _r(p.get("unsmoothed_median_principal_angle_deg"), 2),
            "pca_smoothing_s": p.get("pca_smoothing_s"), "wall_s": _r(wall_s, 1)}


def main(argv=None):
    from brianforce.experiments.reproduce import parse_seeds
    from brianforce.io import append_csv_row

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("recipe", nargs="?")
    ap.add_argument("overrides", nargs="*", help="section.key=value (values read as JSON where they parse)")
    ap.add_argument("--data", default=None, help="recorded data (file, folder or data root)")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--label", default="")
    ap.add_argument("--from-runs", default=None, help="a folder of run folders, each with a summary.json")
    ap.add_argument("--results", default=str(RESULTS))
    a = ap.parse_intermixed_args(argv)
    if a.from_runs:
        for f in sorted(Path(a.from_runs).glob("*/summary.json")):
            s = json.loads(f.read_text())
            r = row(s, a.label or f.parent.name, {}, s.get("wall_time_s"))
            append_csv_row(a.results, r)
            print(r, flush=True)
        return
    if not a.recipe:
        ap.error("give a recipe or --from-runs")
    from brianforce.experiments.reaching import run_reaching_recipe

    def value(text):
        try:
            return json.loads(text)
        except ValueError:
            return text

    overrides = {k: value(v) for k, v in (o.split("=", 1) for o in a.overrides)}
    for seed in parse_seeds(a.seeds):
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            s = run_reaching_recipe(a.recipe, out, data=a.data, overrides={**overrides, "experiment.seed": seed},
                                    progress=False)
        if s["data"]["synthetic"]:
            raise RuntimeError(f"{a.recipe} ran on the synthetic look-alike, not on recorded data: check --data")
        r = row(s, a.label, overrides, time.perf_counter() - t0)
        append_csv_row(a.results, r)
        print(r, flush=True)


if __name__ == "__main__":
    main()
