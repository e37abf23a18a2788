"""Capacity of per-neuron RLS on recurrent synapses (Kim & Chow 2018, Fig. 5 setting, reduced).

How does the test error grow with the length of the target pattern and with the number of
trained neurons? A balanced E/I LIF network (default N = 300, p = 0.1, ~30 inputs per
neuron) is trained with :class:`brianforce.methods.recurrent.RecurrentTrainer` so that
``M`` of its neurons' synaptic currents follow random-phase sinusoid targets of length
``T``; the other ``N − M`` neurons stay untrained. After training, test trials (no
learning) give

* ``test_error``   = mean over trained neurons of RMS(I_syn − target) / SD(target);
* ``test_corr``    = mean correlation between I_syn and target;
* ``train_corr_last`` = correlation in the last training trial (learning curve end);
* ``cv_frac``      = fraction of neurons (with ≥ 5 spikes) whose ISI CV > 0.5.

Writes ``benchmarks/results/kimchow_capacity.csv`` and ``kimchow_capacity.png``.
Run: ``python benchmarks/kimchow_capacity.py [--quick]`` (full: 12 runs, a few minutes on
one core; ``--quick``: 4 runs at N = 200).
"""
from __future__ import annotations

import argparse
import csv
import os
import platform
import time
from pathlib import Path

import numpy as np
from brian2 import ms, second

from brianforce.analysis.population import isi_cv_by_neuron
from brianforce.methods.recurrent import RecurrentTrainer, correlations
from brianforce.io import free_stem
from brianforce.seeding import rng_for
from brianforce.tasks.patterns import pattern_targets, sinusoid_patterns

RESULTS = Path(__file__).resolve().parent / "results"


def run_one(n: int, n_trained: int, length: float, *, n_trials: int, n_test: int,
            seed: int = 0, amplitude: float = 15e-3, sample_dt: float = 1e-3) -> dict:
    """Train ``n_trained`` of ``n`` neurons on patterns of ``length`` seconds; test."""
    t0 = time.perf_counter()
    tr = RecurrentTrainer(n, p=0.1, stim_duration=50 * ms, learn_every=10 * ms, reg=1e4,
                          n_trials=n_trials, tau_d=50 * ms, seed=seed)
    neurons = np.sort(rng_for(seed, f"capacity-neurons-{n_trained}").choice(n, n_trained,
                                                                          replace=False))
    base = tr.spontaneous(0.3 * second, neurons=neurons).mean(0)
    z = sinusoid_patterns(n_trained, length, sample_dt, rng_for(seed, f"capacity-{length}"),
                          periods=(0.25, 1.0))
    targets = pattern_targets(z, base, amplitude, sample_dt, neurons)
    tr.fit(targets)
    rec = tr.run_trials(n_test)
    y = targets.targets[None]  # (1, C, T, M)
    err = np.sqrt(((rec.currents - y) ** 2).mean(axis=2)) / targets.targets.std(axis=1)[None]
    corr = correlations(rec.currents, y)
    cv = isi_cv_by_neuron([s[0][0] for s in rec.spike_times], [s[0][1] for s in rec.spike_times], n)
    n_spk = sum(len(s[0][0]) for s in rec.spike_times)
    return dict(n=n, n_trained=n_trained, pattern_length_s=length, n_trials=n_trials,
                n_test=n_test, test_error=float(err.mean()), test_error_sd=float(err.std()),
                test_corr=float(np.nanmean(corr)),
                train_corr_first=float(tr.learning_curve_.correlation[0]),
                train_corr_last=float(tr.learning_curve_.correlation[-1]),
                cv_frac=float(np.mean(cv[np.isfinite(cv)] > 0.5)),
                rate_hz=n_spk / (n_test * n * rec.duration),
                wall_s=time.perf_counter() - t0, seed=seed)


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(9, 3.6))
    for m in sorted({r["n_trained"] for r in rows}):
        sel = sorted((r for r in rows if r["n_trained"] == m), key=lambda r: r["pattern_length_s"])
        L = [r["pattern_length_s"] for r in sel]
        ax[0].plot(L, [r["test_error"] for r in sel], "o-", label=f"M = {m} trained")
        ax[1].plot(L, [r["test_corr"] for r in sel], "o-", label=f"M = {m} trained")
    n = rows[0]["n"]
    lengths = sorted({r["pattern_length_s"] for r in rows})
    for a in ax:
        a.set_xscale("log")
        a.set_xticks(lengths, [f"{x:g}" for x in lengths])
        a.minorticks_off()
    ax[0].set(xlabel="pattern length (s)", ylabel="test error  RMS(I − target)/SD(target)",
              title=f"Kim & Chow capacity, N = {n} (one seed)")
    ax[1].set(xlabel="pattern length (s)", ylabel="test correlation", ylim=(0, 1))
    ax[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="4 small runs (smoke test)")
    ap.add_argument("--out", type=Path, default=RESULTS, help="folder for CSV and PNG")
    ap.add_argument("--replot", action="store_true", help="redraw the figure from the CSV")
    args = ap.parse_args(argv)
    if args.replot:
        with open(args.out / "kimchow_capacity.csv") as fh:
            rows = [{k: (v if k == "machine" else float(v)) for k, v in r.items()}
                    for r in csv.DictReader(fh)]
        for r in rows:
            r["n"], r["n_trained"] = int(r["n"]), int(r["n_trained"])
        plot(rows, args.out / "kimchow_capacity.png")
        return rows
    if args.quick:
        n, trained, lengths, n_trials, n_test = 200, (20, 200), (0.25, 1.0), 6, 1
        stem = "kimchow_capacity_quick"
    else:
        n, trained, lengths, n_trials, n_test = 300, (30, 100, 300), (0.25, 0.5, 1.0, 2.0), 10, 2
        stem = "kimchow_capacity"
    rows = []
    for m in trained:
        for length in lengths:
            row = run_one(n, m, length, n_trials=n_trials, n_test=n_test)
            row.update(load_avg_1min=os.getloadavg()[0], machine=platform.machine())
            rows.append(row)
            print(f"N={n} M={m:4d} T={length:5.2f}s  test error {row['test_error']:.3f}  "
                  f"corr {row['test_corr']:.3f}  (train {row['train_corr_first']:.2f} -> "
                  f"{row['train_corr_last']:.2f})  CV>0.5 {row['cv_frac']:.0%}  "
                  f"rate {row['rate_hz']:.1f} Hz  {row['wall_s']:.0f} s", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = free_stem(args.out / stem, (".csv", ".png"))       # an earlier run's file is never overwritten
    with open(f"{stem}.csv", "x", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    try:
        plot(rows, f"{stem}.png")
    except ImportError:
        print("matplotlib not installed: no figure")
    print(f"wrote {stem}.csv/.png")
    return rows


if __name__ == "__main__":
    main()
