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
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

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
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--size", default="full", choices=("full", "ci"))
    ap.add_argument("--devices", default="runtime,cpp_standalone")
    ap.add_argument("--data", default=None)
    ap.add_argument("--cold", action="store_true", help="empty this kind's cached programs before the compiled run")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default="/tmp/kimchow_device")
    a = ap.parse_args(argv)
    if a.child:
        print("RESULT " + json.dumps(_one(a.recipe, a.seed, a.size, a.child, a.data, a.out)))
        return
    from brianforce.devices.cache import cache_root
    from brianforce.io import append_csv_row

    for device in a.devices.split(","):
        cache = ""
        if device != "runtime":
            root = cache_root()
            entries = list(root.glob("kimchow-training-*")) if root else []
            if a.cold:
                for e in entries:
                    shutil.rmtree(e, ignore_errors=True)
            cache = "cold" if a.cold else "as found"
        out = f"{a.out}/{a.recipe}_{a.size}_seed{a.seed}_{device}"
        cmd = [sys.executable, __file__, a.recipe, "--seed", str(a.seed), "--size", a.size, "--child", device,
               "--out", out] + (["--data", a.data] if a.data else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode or not lines:
            sys.stderr.write(proc.stderr[-4000:])
            raise SystemExit(f"{device} run failed")
        r = json.loads(lines[-1][7:])
        row = {"date": time.strftime("%Y-%m-%d %H:%M"), "recipe": a.recipe, "seed": a.seed, "size": a.size,
               "device": device, "cache": cache, "wall_s": round(r["wall_s"], 2),
               "train_wall_s": None if r["train_wall_s"] is None else round(r["train_wall_s"], 2),
               "fits": r["fits"], **{k: round(r[k], 2) for k in ("fit_s", "compile_s", "program_s")},
               "metrics": json.dumps(r["metrics"], sort_keys=True),
               "criteria_met": json.dumps(r["criteria_met"], sort_keys=True), "data": r["data"],
               "host_load": round(os.getloadavg()[0], 2)}
        append_csv_row(RESULTS, {k: row[k] for k in COLUMNS})
        print(row)


if __name__ == "__main__":
    main()
