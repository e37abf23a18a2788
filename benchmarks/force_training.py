"""Benchmark: FORCE training of the Nicola & Clopath LIF network, brianforce vs numpy reference.

For each N the same connectivity, encoders and initial state are simulated for
settle 0.5 s + RLS training 4.5 s + free-running test 2 s by

* ``brianforce`` — :class:`brianforce.methods.force.FORCETrainer` (Brian2 Cython runtime,
  RLS in a ``network_operation``), after a warm-up run that fills the Cython cache
  (compile time is reported separately);
* ``numpy_reference`` — :func:`brianforce.networks.reference.numpy_force_lif`, a plain
  vectorised numpy loop of the same model sharing the same BLAS RLS core.

Writes ``benchmarks/results/force_training.csv`` (one row per implementation and N, with
the speed-up ratio numpy/brianforce). Usage::

    python benchmarks/force_training.py [--sizes 500 1000 2000] [--out DIR]
"""
from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import pandas as pd
from brian2 import second

from brianforce.io import append_csv_row
from brianforce.networks.reference import run_reference_like
from brianforce.tasks import sinusoid
from brianforce.methods.force import FORCETrainer

SETTLE, TRAIN, TEST = 0.5, 4.5, 2.0


def time_brianforce(n, seed, task):
    tr = FORCETrainer(n, seed=seed)
    w0 = time.perf_counter()
    tr.fit(task, settle=SETTLE * second, train=TRAIN * second)
    res = tr.predict(TEST * second)
    wall = time.perf_counter() - w0
    m = res.window(res.t[0], res.t[0] + 1).metrics(task.period)
    return tr, dict(wall_total_s=wall, wall_simulation_s=tr.timings_["simulation_s"],
                    wall_rls_s=tr.timings_["rls_s"], rmse_over_amplitude=m["rmse_over_amplitude"][0],
                    correlation=m["lag_adjusted_correlation"][0])


def time_numpy(tr, task):
    ref, wall, m = run_reference_like(tr, task, settle=SETTLE, train=TRAIN, test=TEST)
    return dict(wall_total_s=wall, wall_simulation_s=ref.wall_simulation, wall_rls_s=ref.wall_rls,
                rmse_over_amplitude=m["rmse_over_amplitude"], correlation=m["correlation"])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = ap.parse_args(argv)
    task = sinusoid(5.0)
    # warm-up: compile (or load from the Cython cache) every code object once
    w0 = time.perf_counter()
    FORCETrainer(100, seed=args.seed).fit(task, settle=0.01 * second, train=0.01 * second).predict(0.01 * second)
    compile_s = time.perf_counter() - w0
    rows = []
    for n in args.sizes:
        tr, b = time_brianforce(n, args.seed, task)
        r = time_numpy(tr, task)
        sim = SETTLE + TRAIN + TEST
        for impl, d in (("brianforce", b), ("numpy_reference", r)):
            rows.append(dict(n_neurons=n, implementation=impl, simulated_s=sim, **d,
                             simulated_s_per_wall_s=sim / d["wall_total_s"],
                             speedup_vs_numpy=r["wall_total_s"] / d["wall_total_s"],
                             warmup_compile_s=compile_s if impl == "brianforce" else 0.0))
        print(f"N={n}: brianforce {b['wall_total_s']:.1f} s, numpy {r['wall_total_s']:.1f} s, "
              f"ratio {r['wall_total_s'] / b['wall_total_s']:.2f}", flush=True)
    df = pd.DataFrame(rows)
    df["machine"] = f"{platform.processor() or platform.machine()} x{os.cpu_count()}"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for r in df.to_dict("records"):
        append_csv_row(out / "force_training.csv", r)          # appended, never rewritten
    print(df.to_string(index=False))


if __name__ == "__main__":
    main()
