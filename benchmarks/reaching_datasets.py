"""The reaching recipe on other recorded data sets: one row per run of a recipe whose ``[data]`` names them.

Runs each recipe (``models/reaching_cycling.toml``, ``models/reaching_churchland.toml``: the settings of
``models/reaching_emg.toml`` with another ``[data]`` section) on the recorded data under ``--data`` and
appends the data's size, teacher and student R² (pooled and lowest condition), the ISI CV and the wall
time to ``benchmarks/results/reaching_datasets.csv``::

    python benchmarks/reaching_datasets.py models/reaching_cycling.toml models/reaching_churchland.toml \\
        --data ../shared/data
"""
from __future__ import annotations

import argparse
import tempfile
import time
import tomllib
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "reaching_datasets.csv"


def row(recipe: str, summary: dict, wall_s: float) -> dict:
    """The results-file row of one run's ``summary.json`` (``dataset``: the loader its ``[data]`` names)."""
    with open(recipe, "rb") as f:
        dataset = tomllib.load(f)["data"]["dataset"]
    d, t, s = summary["data"], summary["teacher"], summary["student"]
    if d["synthetic"]:
        raise RuntimeError(f"{recipe} ran on the synthetic look-alike, not on recorded data: check --data")
    name = Path(recipe)
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "dataset": dataset,
            "recipe": f"{name.parent.name}/{name.name}", "seed": summary["seed"], "n_conditions": d["n_conditions"],
            "n_bins": d["n_bins"], "bin_s": d["bin_s"], "n_channels": d["n_channels"], "teacher_r2": round(t["r2_overall"], 4),
            "teacher_r2_min": round(t["r2_min"], 4), "student_r2": round(s["r2_trial_averaged"], 4),
            "student_r2_min": round(s["r2_trial_averaged_min"], 4), "isi_cv_median": round(s["isi_cv_median"], 3),
            "isi_cv_fraction_above_0.5": round(s["isi_cv_fraction_above_0.5"], 3), "wall_s": round(wall_s, 1)}


def main(argv=None):
    from brianforce.experiments.reaching.emg import run_reaching_recipe
    from brianforce.io import append_csv_row

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("recipes", nargs="+")
    ap.add_argument("--data", required=True, help="the recorded data: a file, its folder or a data root")
    ap.add_argument("--results", default=str(RESULTS), help="results file (appended)")
    a = ap.parse_args(argv)
    for recipe in a.recipes:
        w = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            summary = run_reaching_recipe(recipe, Path(out) / "run", data=a.data, progress=False)
        record = row(recipe, summary, time.perf_counter() - w)
        append_csv_row(a.results, record)
        print(record, flush=True)


if __name__ == "__main__":
    main()
