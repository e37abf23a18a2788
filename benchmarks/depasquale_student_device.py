"""DePasquale students at runtime and as compiled programs: wall time and the recipe's criteria.

Runs a shipped recipe through the same runner as ``brianforce reproduce`` (its metrics, its
criteria) once per device (``[student] device``: the student's training and its closed-loop test
trials), each in a fresh process, and appends one row per run to
``benchmarks/results/depasquale_student_device_v2.csv``: the whole run's wall time, the student's
training (``fit_s``; for the compiled program also ``compile_s`` and ``program_s``), the device of the
test trials and, compiled, their ``test_compile_s`` and ``test_program_s``, the learned readouts' last
factor nMSE, the metrics and whether each criterion of the paper holds. ``--cold`` empties the project
cache entries of the student programs before the compiled run (``cache``: ``cold``; else ``as found``).
Rows of the training alone compiled (test trials at runtime) are in ``depasquale_student_device.csv``.

    python benchmarks/depasquale_student_device.py depasquale_integration --seed 1
    python benchmarks/depasquale_student_device.py depasquale_oscillation --seed 1 --size ci
    python benchmarks/depasquale_student_device.py reaching_emg --seed 101 --data DATA_ROOT
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from child_runs import add_device_arguments, common_row, parse_or_run_child, run_devices

RESULTS = Path(__file__).resolve().parent / "results" / "depasquale_student_device_v2.csv"
COLUMNS = ("date", "recipe", "seed", "size", "device", "cache", "wall_s", "fit_s", "compile_s", "program_s",
           "test_device", "test_compile_s", "test_program_s", "train_factor_error_last", "metrics", "criteria_met",
           "data", "host_load")


def _one(recipe: str, seed: int, size: str, device: str, out: str, data=None) -> dict:
    """Run in this process (the child): metrics and timings as a dict."""
    from brianforce.experiments.recipes import recipe_path
    from brianforce.experiments.reproduce import METHODS
    from brianforce.experiments.reproduce.runners import RUNNERS, size_overrides

    run = {r.recipe: r for m in METHODS.values() for r in m.runs}[recipe]
    overrides = dict(size_overrides(recipe, size), **{"student.device": device})
    w = time.perf_counter()
    outcome = RUNNERS[run.kind](recipe_path(recipe), seed, overrides, Path(out), data)
    wall = time.perf_counter() - w
    student = json.loads((Path(out) / "summary.json").read_text())["student"]
    met = {c.metric: bool(c.passes(outcome["metrics"].get(c.metric))) for c in run.criteria}
    return {"wall_s": wall, "timings": student["train_timings_s"], "test_device": student["test_device"],
            "test_timings": student["test_timings_s"],
            "train_factor_error_last": student["train_factor_error_last"],
            "metrics": outcome["metrics"], "criteria_met": met, "data": outcome.get("data") or ""}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("recipe", choices=("depasquale_integration", "depasquale_classification",
                                       "depasquale_oscillation", "reaching_emg"))
    add_device_arguments(ap, "/tmp/depasquale_student_device")
    a = parse_or_run_child(ap, argv, lambda a: _one(a.recipe, a.seed, a.size, a.child, a.out, a.data))
    if a is None:
        return
    from brianforce.io import append_csv_row

    for device, cache, r in run_devices(__file__, a, "student"):
        t, tt = r["timings"], r["test_timings"]
        row = {**common_row(a, device, cache, r), "fit_s": round(t["fit_s"], 2),
               "compile_s": round(t.get("compile_s", 0.0), 2), "program_s": round(t.get("run_s", 0.0), 2),
               "test_device": r["test_device"], "test_compile_s": round(tt.get("compile_s", 0.0), 2),
               "test_program_s": round(tt.get("run_s", 0.0), 2),
               "train_factor_error_last": r["train_factor_error_last"]}
        append_csv_row(RESULTS, {k: row[k] for k in COLUMNS})
        print(row)


if __name__ == "__main__":
    main()
