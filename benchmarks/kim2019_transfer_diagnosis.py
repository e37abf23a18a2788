"""Where a transferred Kim 2019 network fails: its errors by trial type, and 1/λ.

For each seed, trains the recipe's rate network and transfers it as
:func:`brianforce.methods.transfer.run_kim2019` does (the same test trials and noise, so the chosen
1/λ row reproduces the reproduction table's LIF accuracy), then reruns the same 100 test trials
at each 1/λ of ``--inverse-lambdas``. Appends one row per (seed, 1/λ) to
``benchmarks/results/kim2019_<task>_diagnosis.csv``:

* Go/NoGo: accuracy on Go and on NoGo trials, and the NoGo peaks (largest output in the authors'
  spiking response window, from 0.5 s; a NoGo trial is correct below 0.3);
* XOR: accuracy on "same" (+1) and "different" (−1) trials, and each failure as *weak* (the output
  crosses neither ±0.7) or *wrong sign* (it crosses the other one)::

    python benchmarks/kim2019_transfer_diagnosis.py --seeds 101-105 [--inverse-lambdas 20 25 30 35 40 45 50]
    python benchmarks/kim2019_transfer_diagnosis.py --recipe models/kim2019_xor.toml --seeds 101-105

References
----------
Kim R, Li Y, Sejnowski TJ (2019) PNAS 116:22811-22820 (Fig. 2, spiking evaluation).
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")    # small matrices: threads only add contention

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _by_trial_type(task, win, labels, ok) -> dict:
    if task.name == "xor":
        same, thr = labels == 1, task.amp_threshold
        wrong = np.where(same, win.min(axis=1) < -thr, win.max(axis=1) > thr) & ~ok
        return {"same_trials": int(same.sum()), "same_accuracy": round(float(ok[same].mean()), 4),
                "different_trials": int((~same).sum()), "different_accuracy": round(float(ok[~same].mean()), 4),
                "failures_weak": int(np.sum(~ok & ~wrong)), "failures_wrong_sign": int(wrong.sum()),
                "correct_side_peak_median": round(float(np.median(
                    np.where(same, win.max(axis=1), -win.min(axis=1)))), 4)}
    peaks = win.max(axis=1)[labels == 0]
    go = labels == 1
    return {"go_trials": int(go.sum()), "go_accuracy": round(float(ok[go].mean()), 4),
            "nogo_trials": int((~go).sum()), "nogo_accuracy": round(float(ok[~go].mean()), 4),
            "nogo_peak_median": round(float(np.median(peaks)), 4),
            "nogo_peaks_above_0_3": int(np.sum(peaks >= task.nogo_threshold)),
            "nogo_peak_max": round(float(peaks.max()), 4),
            "nogo_peak_min_of_failures": (round(float(peaks[peaks >= task.nogo_threshold].min()), 4)
                                          if np.any(peaks >= task.nogo_threshold) else None)}


def _row(seed, inv_lambda, chosen, run, labels, task, rate_acc, wall) -> dict:
    crit = task.spiking_criterion()
    ok = crit.correct(run.outputs, labels, dt=run.record_dt)
    win, _ = crit._window(run.outputs, labels, run.record_dt)       # the task's own response window
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "seed": seed, "inverse_lambda": inv_lambda,
            "chosen": chosen, "rate_accuracy": round(rate_acc, 4), "lif_accuracy": round(float(ok.mean()), 4),
            **_by_trial_type(crit, win, labels, ok),
            "mean_rate_hz": round(float(np.mean(run.mean_rate)), 2), "wall_s": round(wall, 1)}


def main(argv=None):
    from brianforce.experiments.reproduce import parse_seeds
    from brianforce.io import append_csv_row
    from brianforce.methods.transfer import (TransferredLIF, read_recipe, recipe_settings, run_kim2019,
                                             simulate_lif)
    from brianforce.seeding import rng_for

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default=str(ROOT / "models" / "kim2019_go_nogo.toml"))
    ap.add_argument("--seeds", default="101-105")
    ap.add_argument("--inverse-lambdas", type=float, nargs="+", default=[20, 25, 30, 35, 40, 45, 50])
    ap.add_argument("--results", default=None, help="default: benchmarks/results/kim2019_<task>_diagnosis.csv")
    a = ap.parse_args(argv)
    recipe = read_recipe(a.recipe)
    results = a.results or RESULTS / f"kim2019_{recipe_settings(recipe)[0].name}_diagnosis.csv"
    for seed in parse_seeds(a.seeds):
        t0 = time.perf_counter()
        res = run_kim2019(recipe, seed)
        tr, task = res.transfer, recipe_settings(recipe)[0]
        labels = np.asarray(tr.test_labels_)
        row = _row(seed, tr.scaling_factor_, True, tr.test_run_, labels, task, res.rate_accuracy,
                   time.perf_counter() - t0)
        if abs(row["lif_accuracy"] - res.lif_accuracy) > 1e-9:
            raise RuntimeError(f"seed {seed}: rescored accuracy {row['lif_accuracy']} != {res.lif_accuracy}")
        append_csv_row(results, row)
        print(row, flush=True)
        batch = task.sample(len(labels), rng_for(seed + 1, "lif-test-trials"))
        if not np.array_equal(batch.labels, labels):
            raise RuntimeError(f"seed {seed}: the test trials differ from the transfer's")
        for inv in a.inverse_lambdas:
            if inv == tr.scaling_factor_:
                continue
            t0 = time.perf_counter()
            model = TransferredLIF.from_rate(res.trainer.params_, inv, **tr.neuron)
            run = simulate_lif(model, batch.inputs, seed=seed + 1, dt=tr.dt, record_dt=tr.record_dt)
            row = _row(seed, inv, False, run, labels, task, res.rate_accuracy, time.perf_counter() - t0)
            append_csv_row(results, row)
            print(row, flush=True)


if __name__ == "__main__":
    main()
