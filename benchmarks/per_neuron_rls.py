"""Cost of one per-neuron RLS update (Kim & Chow 2018) for N neurons with ~K inputs each.

Times :meth:`brianforce.learning.rls_per_neuron.PerNeuronRLS.update` (batched P over every
neuron's existing presynaptic partners) at N = 2000 with ~200 inputs per neuron, and a
few other sizes, and writes ``benchmarks/results/per_neuron_rls.csv``.

Run: ``python benchmarks/per_neuron_rls.py [--quick]``.
"""
from __future__ import annotations

import argparse
import os
import csv
import platform
import time
from pathlib import Path

import numpy as np

from brianforce.learning.rls_per_neuron import PerNeuronRLS
from brianforce.io import free_stem
from brianforce.seeding import rng_for

OUT = Path(__file__).resolve().parent / "results" / "per_neuron_rls.csv"


def bench(n: int, p: float, chunk: int, repeats: int, seed: int = 0) -> dict:
    """Fixed in-degree ``round(p·n)`` (as in :mod:`brianforce.networks.balanced`), no autapses."""
    rng = rng_for(seed, "benchmark")
    k = int(round(p * n))
    mask = np.zeros((n, n), dtype=bool)
    for i in range(n):
        mask[i, rng.choice(np.delete(np.arange(n), i), size=k, replace=False)] = True
    est = PerNeuronRLS(mask, reg=1e4, chunk=chunk)
    r = rng.random(n) * 20.0
    err = rng.normal(0, 1e-3, n)
    est.update(r, err)  # warm-up
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        est.update(r, err)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    k = mask.sum(1)
    return dict(n=n, mean_inputs=float(k.mean()), max_inputs=int(k.max()), chunk=chunk,
                repeats=repeats, median_s=float(np.median(times)), min_s=float(np.min(times)),
                median_cpu_s=float(np.median(cpu)), load_avg_1min=os.getloadavg()[0],
                P_megabytes=est.P.nbytes / 2**20, machine=platform.processor() or platform.machine())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only (CI smoke run)")
    args = ap.parse_args(argv)
    cases = [(500, 0.1, 8), (1000, 0.1, 8)] if args.quick else \
        [(1000, 0.1, 8), (2000, 0.1, 4), (2000, 0.1, 8)]
    rows = []
    for n, p, chunk in cases:
        row = bench(n, p, chunk, repeats=5 if args.quick else 10)
        rows.append(row)
        print(f"N={row['n']:5d}  K~{row['mean_inputs']:.0f}  chunk={chunk:3d}  "
              f"{row['median_s'] * 1e3:8.1f} ms/update (min {row['min_s'] * 1e3:.1f}, "
              f"CPU {row['median_cpu_s'] * 1e3:.1f}, load {row['load_avg_1min']:.1f})  "
              f"P {row['P_megabytes']:.0f} MiB")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    out = f"{free_stem(OUT.with_suffix(''))}.csv"               # an earlier run's file is never overwritten
    with open(out, "x", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
