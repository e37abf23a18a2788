"""Kim & Chow training at runtime and as a compiled program: wall time and the recipe's criteria.

Runs a shipped recipe through the same runner as ``brianforce reproduce`` (its metrics, its
criteria) once per device (``[training] device``), each in a fresh process, and appends one row per
run to ``benchmarks/results/kimchow_device.csv``: the whole run's wall time, the training part
(``train_wall_s``: every fit and the calibration trials between them), the metrics and whether
each criterion of the paper holds, with the time spent in every fit (``fit_s``), compiling
(``compile_s``) and in the compiled programs (``program_s``). ``--cold`` empties the project cache
entries of this kind before the compiled run (``cache``: ``cold``; else ``as found``).

    python benchmarks/kimchow_device.py reaching_m1 --seed 103 --data /path/to/m1_rates_center_out.npz
    python benchmarks/kimchow_device.py kimchow_patterns --seed 103 --size ci
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from child_runs import add_device_arguments, common_row, parse_or_run_child, run_devices

RESULTS = Path(__file__).resolve().parent / "results" / "kimchow_device.csv"
COLUMNS = ("date", "recipe", "seed", "size", "device", "cache", "wall_s", "train_wall_s", "fits", "fit_s", "compile_s",
           "program_s", "metrics", "criteria_met", "data", "host_load")


def _one(recipe: str, seed: int, size: str, device: str, data, out: str) -> dict:
    """Run in this process (the child): metrics and timings as a dict."""
    from brianforce.experiments.reproduce import METHODS
    from brianforce.experiments.reproduce.runners import RUNNERS, size_overrides
    from brianforce.experiments.recipes import recipe_path

    from brianforce.methods.recurrent import RecurrentTrainer

    run = {r.recipe: r for m in METHODS.values() for r in m.runs}[recipe]
    fits, fit = [], RecurrentTrainer.fit

    def timed_fit(self, *args, **kw):          # every fit's timings (a rate fit has several)
        try:
            return fit(self, *args, **kw)
        finally:
            fits.append(dict(getattr(self, "timings_", {})))
    RecurrentTrainer.fit = timed_fit
    overrides = dict(size_overrides(recipe, size), **{"training.device": device})
    w = time.perf_counter()
    outcome = RUNNERS[run.kind](recipe_path(recipe), seed, overrides, Path(out), data)
    wall = time.perf_counter() - w
    summary = {}
    for name in ("summary.json",):
        p = Path(out) / name
        if p.exists():
            summary = json.loads(p.read_text())
    met = {c.metric: bool(c.passes(outcome["metrics"].get(c.metric))) for c in run.criteria}
    return {"wall_s": wall, "train_wall_s": summary.get("train_wall_s"), "fits": len(fits),
            **{k: sum(f.get(k, 0.0) for f in fits) for k in ("fit_s", "compile_s")},
            "program_s": sum(f.get("run_s", 0.0) for f in fits),
            "metrics": outcome["metrics"], "criteria_met": met, "data": outcome.get("data", "")}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("recipe", choices=("reaching_m1", "kimchow_patterns"))
    add_device_arguments(ap, "/tmp/kimchow_device")
    a = parse_or_run_child(ap, argv, lambda a: _one(a.recipe, a.seed, a.size, a.child, a.data, a.out))
    if a is None:
        return
    from brianforce.io import append_csv_row

    for device, cache, r in run_devices(__file__, a, "kimchow-training"):
        row = {**common_row(a, device, cache, r),
               "train_wall_s": None if r["train_wall_s"] is None else round(r["train_wall_s"], 2),
               "fits": r["fits"], **{k: round(r[k], 2) for k in ("fit_s", "compile_s", "program_s")}}
        append_csv_row(RESULTS, {k: row[k] for k in COLUMNS})
        print(row)


if __name__ == "__main__":
    main()
