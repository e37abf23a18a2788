"""Time of one RLS update on P (BLAS ``dsymv`` + ``dsyr``) with one BLAS thread and with all of them.

Why RLS runs with BLAS pinned to one thread (``threadpoolctl``): the update is level-2 BLAS, bound by
memory bandwidth, and threads compete with the simulation for the same cores. Appends one row per
(N, threads) with the median time per update and the 1-minute load average to
``benchmarks/results/blas_threads.csv``::

    python benchmarks/blas_threads.py [--sizes 1000 2000 4000] [--updates 200]
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "blas_threads.csv"


def time_updates(n: int, updates: int, seed: int = 0) -> np.ndarray:
    """Seconds per update of ``P ← P − c (P r)(P r)ᵀ`` on the upper triangle, ``updates`` times."""
    from scipy.linalg import blas

    rng = np.random.default_rng(seed)
    P = np.asfortranarray(np.eye(n))
    out = np.empty(updates)
    for k in range(updates):
        r = rng.random(n)
        t0 = time.perf_counter()
        Pr = blas.dsymv(1.0, P, r, lower=0)
        c = 1.0 / (1.0 + r @ Pr)
        blas.dsyr(-c, Pr, a=P, lower=0, overwrite_a=True)
        out[k] = time.perf_counter() - t0
    return out


def main(argv=None):
    from threadpoolctl import threadpool_info, threadpool_limits

    from brianforce.io import append_csv_row

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000])
    ap.add_argument("--updates", type=int, default=200)
    ap.add_argument("--results", default=str(RESULTS))
    a = ap.parse_args(argv)
    blas_info = [i for i in threadpool_info() if i["user_api"] == "blas"]
    most = max((i["num_threads"] for i in blas_info), default=1)
    lib = blas_info[0]["internal_api"] if blas_info else "unknown"
    for n in a.sizes:
        for threads in sorted({1, most}):
            with threadpool_limits(threads, user_api="blas"):
                t = time_updates(n, a.updates)
            row = {"date": time.strftime("%Y-%m-%d %H:%M"), "n": n, "blas_threads": threads, "blas": lib,
                   "cpus": os.cpu_count(), "updates": a.updates,
                   "ms_per_update_median": round(float(1e3 * np.median(t)), 4),
                   "ms_per_update_p90": round(float(1e3 * np.quantile(t, 0.9)), 4),
                   "load_avg_1min": round(os.getloadavg()[0], 2)}
            append_csv_row(a.results, row)
            print(row, flush=True)


if __name__ == "__main__":
    main()
