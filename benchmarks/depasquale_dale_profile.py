"""Where the training time of a Dale ``"split"`` student goes: Brian2's stepping, the closed-loop
operation, the sign-constrained RLS updates and the re-solves.

Trains the Dale oscillation recipe (``depasquale_oscillation_dale``) with ``--n-rls`` RLS trials, no
period calibration, no cue, two test periods and no test repeats, under ``cProfile`` (which adds its own
cost to every Python call, Brian2's stepping included), and appends one row per seed to
``benchmarks/results/depasquale_dale_profile.csv``: the seconds simulated at runtime (calls of the
closed-loop operation times its interval, the task's step), the time inside Brian2's ``Network.run``,
inside the closed-loop ``network_operation`` (``StudentLoop._operate``), inside ``SplitDaleRLS.update``
and inside ``SplitDaleRLS.project``, each also per simulated second. Brian2's own stepping is
``Network.run`` less the operation::

    python benchmarks/depasquale_dale_profile.py --seeds 3 --n-rls 6
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

RESULTS = Path(__file__).resolve().parent / "results" / "depasquale_dale_profile.csv"


def cumulative(stats: pstats.Stats, filename_end: str, function: str, column: int = 3) -> float:
    """Summed cumulative time (s; ``column`` 1: the number of calls) of the functions named ``function``
    in files ending ``filename_end``."""
    return sum(v[column] for (f, _, name), v in stats.stats.items()
               if f.endswith(filename_end) and name == function)


def main(argv=None):
    from brianforce.config import load_recipe, recipe_seconds
    from brianforce.experiments.depasquale import train_from_recipe
    from brianforce.experiments.recipes import recipe_path
    from brianforce.experiments.reproduce.driver import parse_seeds
    from brianforce.io import append_csv_row

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="3")
    ap.add_argument("--n-rls", type=int, default=6, help="RLS trials (the recipe: 120)")
    ap.add_argument("--results", default=str(RESULTS))
    a = ap.parse_args(argv)
    path = recipe_path("depasquale_oscillation_dale")
    dt_op = recipe_seconds(load_recipe(path)["task"]["dt"], "[task] dt")   # the closed-loop operation's interval
    overrides = {"student.n_rls": a.n_rls, "student.period_calibration": 0, "task.n_cue": 0,
                 "task.n_test_repeats": 0, "task.n_test": 2}
    for seed in parse_seeds(a.seeds):
        profile = cProfile.Profile()
        wall0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            profile.enable()
            s = train_from_recipe(path, out, {**overrides, "experiment.seed": seed})
            profile.disable()
        wall = time.perf_counter() - wall0
        stats = pstats.Stats(profile)
        simulated = cumulative(stats, os.path.join("factor_student", "network.py"), "_operate", 1) * dt_op
        parts = {"network_run_s": cumulative(stats, os.path.join("brian2", "core", "network.py"), "run"),
                 "operation_s": cumulative(stats, os.path.join("factor_student", "network.py"), "_operate"),
                 "rls_update_s": cumulative(stats, os.path.join("factor_student", "dale.py"), "update"),
                 "resolve_s": cumulative(stats, os.path.join("factor_student", "dale.py"), "project")}
        parts["brian2_stepping_s"] = parts["network_run_s"] - parts["operation_s"]
        row = {"date": time.strftime("%Y-%m-%d %H:%M"), "seed": seed, "n_rls": a.n_rls,
               "simulated_s_at_runtime": round(simulated, 3), "wall_s": round(wall, 1),
               **{k: round(v, 2) for k, v in parts.items()},
               **{k[:-2] + "_per_simulated_s": round(v / simulated, 3) for k, v in parts.items()
                  if k in ("brian2_stepping_s", "operation_s", "rls_update_s", "resolve_s")},
               "load_avg_1min": round(os.getloadavg()[0], 2)}
        append_csv_row(a.results, row)
        print(row, flush=True)


if __name__ == "__main__":
    main()
