"""The reaching recipe on other recorded data sets: one row per run of a recipe whose ``[data]`` names them.

Runs each recipe (``models/reaching_cycling.toml``, ``models/reaching_churchland.toml``: the settings of
``models/reaching_emg.toml`` with another ``[data]`` section) on the recorded data under ``--data`` and
appends the data's size, teacher and student R² (pooled and lowest condition), the ISI CV, the number of
teacher factors, both networks' top-10 PC variance and the median principal angle between them (with the
recipe's smoothing and without), and the wall time to ``benchmarks/results/reaching_datasets_v2.csv``
(``reaching_datasets.csv`` holds earlier rows, without the factor and population columns)::

    python benchmarks/reaching_datasets.py models/reaching_cycling.toml models/reaching_churchland.toml \\
        --data ../shared/data

``section.key=value`` arguments override the recipes' settings (values read as JSON where they parse),
e.g. fewer channels of the same data: ``data.max_channels=10 --label "10 neurons"``.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
import tomllib
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "reaching_datasets_v2.csv"


def row(recipe: str, summary: dict, wall_s: float, label: str = "as shipped", overrides: dict | None = None) -> dict:
    """The results-file row of one run's ``summary.json`` (``dataset``: the loader its ``[data]`` names)."""
    with open(recipe, "rb") as f:
        dataset = tomllib.load(f)["data"]["dataset"]
    d, t, s, pop = summary["data"], summary["teacher"], summary["student"], summary["population"]
    if d["synthetic"]:
        raise RuntimeError(f"{recipe} ran on the synthetic look-alike, not on recorded data: check --data")
    name = Path(recipe)
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "dataset": dataset,
            "recipe": f"{name.parent.name}/{name.name}", "label": label,
            "overrides": json.dumps(overrides or {}, sort_keys=True), "seed": summary["seed"],
            "n_conditions": d["n_conditions"],
            "n_bins": d["n_bins"], "bin_s": d["bin_s"], "n_channels": d["n_channels"], "teacher_r2": round(t["r2_overall"], 4),
            "teacher_r2_min": round(t["r2_min"], 4), "student_r2": round(s["r2_trial_averaged"], 4),
            "student_r2_min": round(s["r2_trial_averaged_min"], 4), "isi_cv_median": round(s["isi_cv_median"], 3),
            "isi_cv_fraction_above_0.5": round(s["isi_cv_fraction_above_0.5"], 3),
            "n_factors": summary["factors"]["n_factors"],
            "factor_variance": round(summary["factors"]["variance_explained"], 4),
            "pca_smoothing_s": pop["pca_smoothing_s"], "n_pcs": pop["n_pcs"],
            "student_top_pcs": round(pop["student_top_pcs_variance"], 4),
            "teacher_top_pcs": round(pop["teacher_top_pcs_variance"], 4),
            "median_angle_deg": round(pop["median_principal_angle_deg"], 2),
            "student_top_pcs_unsmoothed": round(pop["unsmoothed_student_top_pcs_variance"], 4),
            "median_angle_deg_unsmoothed": round(pop["unsmoothed_median_principal_angle_deg"], 2),
            "wall_s": round(wall_s, 1)}


def main(argv=None):
    from brianforce.experiments.reaching.emg import run_reaching_recipe
    from brianforce.io import append_csv_row
    from ci_size_probe import parse_overrides

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("recipes", nargs="+", help="recipe files, then section.key=value overrides")
    ap.add_argument("--data", required=True, help="the recorded data: a file, its folder or a data root")
    ap.add_argument("--label", default="as shipped", help="names the overrides in the results file")
    ap.add_argument("--seed", type=int, default=None, help="the recipes' [experiment] seed unless given")
    ap.add_argument("--results", default=str(RESULTS), help="results file (appended)")
    a = ap.parse_args(argv)
    overrides = parse_overrides([r for r in a.recipes if "=" in r])
    a.recipes = [r for r in a.recipes if "=" not in r]
    if a.seed is not None:
        overrides["experiment.seed"] = a.seed
    for recipe in a.recipes:
        w = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            summary = run_reaching_recipe(recipe, Path(out) / "run", data=a.data, overrides=overrides,
                                          progress=False)
        record = row(recipe, summary, time.perf_counter() - w, a.label, overrides)
        append_csv_row(a.results, record)
        print(record, flush=True)


if __name__ == "__main__":
    main()
