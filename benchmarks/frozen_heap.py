"""Time spent in garbage collection with and without :func:`brianforce.heap.frozen_heap`.

Each measurement runs in a fresh process, once with ``BRIANFORCE_FREEZE_HEAP=0`` (every Brian2 run
collects the whole heap) and once with ``1`` (the default), and appends one row per run to
``benchmarks/results/frozen_heap.csv``: wall time, time in the collector and number of full
collections (``gc.callbacks``), and what the run produced (a recipe's metrics; the test files'
outcome), which must be the same both ways.

    python3 benchmarks/frozen_heap.py recipe depasquale_oscillation_dale --seed 0 \\
        student.n_rls=6 student.period_calibration=2 student.calibration_copies=2
    python3 benchmarks/frozen_heap.py tests tests/test_student.py tests/test_learning_force.py
    python3 benchmarks/frozen_heap.py suite --modes 1,0
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "frozen_heap.csv"
_gc = {"t0": 0.0, "total": 0.0, "full": 0}


def _count(phase, info):
    if phase == "start":
        _gc["t0"] = time.perf_counter()
    else:
        _gc["total"] += time.perf_counter() - _gc["t0"]
        _gc["full"] += info["generation"] == 2


def pytest_configure(config):
    """As a pytest plugin (``-p frozen_heap``): count the collector's time of this test process."""
    gc.callbacks.append(_count)


def pytest_sessionfinish(session):
    """Report the collector's time of this test process."""
    print(f"\nGCSTATS {json.dumps({'gc_s': _gc['total'], 'full_collections': _gc['full']})}")


def child_recipe(recipe: str, seed: int, overrides: dict) -> None:
    import tempfile

    from brianforce.experiments.recipes import recipe_path
    from brianforce.experiments.reproduce import METHODS
    from brianforce.experiments.reproduce.runners import RUNNERS

    run = {r.recipe: r for m in METHODS.values() for r in m.runs}[recipe]
    with tempfile.TemporaryDirectory() as out:
        outcome = RUNNERS[run.kind](recipe_path(recipe), seed, dict(overrides), Path(out), None)
    print("RESULT " + json.dumps({"gc_s": _gc["total"], "full_collections": _gc["full"],
                                  "outcome": json.dumps(outcome["metrics"], sort_keys=True)}))


def main(argv=None):
    from brianforce.io import append_csv_row

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("what", choices=("recipe", "tests", "suite"),
                    help="suite: the README's test command (its two workers; the collector's time is not counted)")
    ap.add_argument("items", nargs="*", help="recipe name and section.key=value overrides, or test files")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--modes", default="0,1", help="BRIANFORCE_FREEZE_HEAP values, in this order")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--results", default=str(RESULTS))
    a = ap.parse_intermixed_args(argv)
    if a.child:
        gc.callbacks.append(_count)
        from ci_size_probe import parse_overrides     # this script's folder is on the path

        child_recipe(a.items[0], a.seed, parse_overrides(a.items[1:]))
        return
    for mode in a.modes.split(","):
        env = {**os.environ, "BRIANFORCE_FREEZE_HEAP": mode, "MPLBACKEND": "Agg", "OPENBLAS_NUM_THREADS": "1"}
        if a.what == "recipe":
            cmd = [sys.executable, __file__, "recipe", *a.items, "--seed", str(a.seed), "--child"]
        elif a.what == "suite":
            cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *a.items]
        else:     # one process, no workers, so that the collector's time is all in this one
            env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
            cmd = [sys.executable, "-m", "pytest", "-p", "frozen_heap", "-p", "no:cacheprovider", "-n", "0", "-q",
                   *a.items]
        wall0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=HERE.parent)
        wall = time.perf_counter() - wall0
        lines = proc.stdout.splitlines()
        if a.what == "recipe":
            found = [ln for ln in lines if ln.startswith("RESULT ")]
            if proc.returncode or not found:
                sys.stderr.write(proc.stderr[-4000:])
                raise SystemExit("the recipe's run failed")
            res = json.loads(found[-1][7:])
        else:
            found = [ln for ln in lines if ln.startswith("GCSTATS ")]
            res = json.loads(found[-1][8:]) if found else {"gc_s": float("nan"), "full_collections": ""}
            res["outcome"] = next((ln.strip("= ") for ln in reversed(lines) if " passed" in ln or " failed" in ln),
                                  f"exit code {proc.returncode}")
        row = {"date": time.strftime("%Y-%m-%d %H:%M"), "what": a.what, "items": " ".join(a.items),
               "seed": a.seed if a.what == "recipe" else "", "freeze_heap": mode, "wall_s": round(wall, 1),
               "gc_s": round(res["gc_s"], 1) if res["gc_s"] == res["gc_s"] else "", "full_collections": res["full_collections"],
               "outcome": res["outcome"], "load_avg_1min": round(os.getloadavg()[0], 2)}
        append_csv_row(a.results, row)
        print(row, flush=True)


if __name__ == "__main__":
    main()
