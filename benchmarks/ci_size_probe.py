"""Probe recipe settings (a reduced ``--size ci`` size, or changed settings) at the tuning seeds: the
acceptance metrics per seed.

Runs a shipped recipe through the same runner as ``brianforce reproduce`` with the given
``section.key=value`` overrides at each seed and appends one row per run to
``benchmarks/results/ci_size_probes.csv`` (recipe, label, overrides, seed, metrics, whether every
criterion of the paper holds, wall time). Used to choose the entries of
``brianforce.experiments.reproduce.runners.CI_OVERRIDES`` at the tuning seeds 0-9 only, and to
diagnose a method at those seeds (``--data``: the recorded data of the reaching runs).

    python benchmarks/ci_size_probe.py reaching_m1 --label B --seeds 0-9 \\
        network.n=300 training.n_trials=2 training.rounds=1 evaluation.n_test_trials=4 evaluation.max_units=12
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "ci_size_probes.csv"


def parse_overrides(items) -> dict:
    """``section.key=value`` strings as a dict, each value read as JSON where it parses (else a string)."""
    out = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or "." not in key:
            raise SystemExit(f"override {item!r} must look like section.key=value")
        try:
            out[key] = json.loads(text)
        except ValueError:
            out[key] = text
    return out


def main(argv=None):
    from brianforce.experiments.reproduce.driver import parse_seeds
    from brianforce.experiments.recipes import recipe_path
    from brianforce.experiments.reproduce import METHODS
    from brianforce.experiments.reproduce.runners import RUNNERS
    from brianforce.io import append_csv_row

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("recipe")
    ap.add_argument("overrides", nargs="*", help="section.key=value (values read as JSON where they parse)")
    ap.add_argument("--seeds", default="0-9")
    ap.add_argument("--label", default="")
    ap.add_argument("--data", default=None, help="recorded data of the reaching runs (default: synthetic)")
    ap.add_argument("--results", default=str(RESULTS), help="results file (appended)")
    a = ap.parse_intermixed_args(argv)
    overrides = parse_overrides(a.overrides)
    run = {r.recipe: r for m in METHODS.values() for r in m.runs}[a.recipe]
    for seed in parse_seeds(a.seeds):
        w = time.perf_counter()
        with tempfile.TemporaryDirectory() as out:
            outcome = RUNNERS[run.kind](recipe_path(a.recipe), seed, dict(overrides), Path(out), a.data)
        metrics = outcome["metrics"]
        label = a.label + (f" [{outcome['data']}]" if outcome.get("data") else "")
        row = {"date": time.strftime("%Y-%m-%d %H:%M"), "recipe": a.recipe, "label": label,
               "overrides": json.dumps(overrides, sort_keys=True), "seed": seed,
               "metrics": json.dumps(metrics, sort_keys=True),
               "criteria_met": all(c.passes(metrics.get(c.metric)) for c in run.criteria),
               "wall_s": round(time.perf_counter() - w, 1)}
        append_csv_row(a.results, row)
        print(row, flush=True)


if __name__ == "__main__":
    main()
