"""Benchmark: FORCE training in C++ standalone generated code vs the numpy reference loop.

1. ``training`` — N = 2000 Nicola & Clopath sinusoid network, settle 0.5 s, RLS training
   4.5 s, free test 2 s, trained by :class:`brianforce.devices.standalone.StandaloneFORCETrainer`
   (``cpp_standalone``: the RLS update is generated C++ code; compile time reported
   separately) and by :func:`brianforce.networks.reference.numpy_force_lif` (vectorised numpy, BLAS RLS,
   one BLAS thread) on the same structure. Speed-up = numpy wall / standalone program wall.
2. ``agreement`` — the standalone-trained model saved, then run 2 s at runtime
   (``FORCETrainer.load(...).predict``) and as a standalone program (:func:`run_standalone`):
   identical spikes over the first 100 ms, RMSE of the output difference / amplitude.
3. ``scaling`` — N = 1000, 2000, 4000, 8000: settle 0.1 s + train 0.4 s + test 0.5 s, runtime
   (``FORCETrainer``, Cython + ``network_operation`` RLS) and standalone; wall time per simulated
   second (compilation excluded; RLS ``alpha = 5e-6 * 2000 / N``, since N&C's 5e-6 — tuned for
   N = 2000 — makes training diverge at N = 8000) and peak resident memory (runtime: the worker process,
   including Python and Brian2; standalone: the compiled program alone, re-run once and
   measured by polling its VmHWM, so the wall time includes a little polling overhead).

Writes CSVs under ``benchmarks/results/``. Usage::

    python benchmarks/standalone_force.py [--parts training agreement scaling] [--sizes ...]
        [--train-impls cpp_standalone cpp_standalone_synapses cuda_standalone] [--threads 0 8] [--rls-threads 1 2]
        [--agreement-devices cpp_standalone cuda_standalone] [--suffix _h200]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SETTLE, TRAIN, TEST = 0.5, 4.5, 2.0
SCALE_SETTLE, SCALE_TRAIN, SCALE_TEST = 0.1, 0.4, 0.5


def _machine():
    return dict(machine=platform.node(), cpus=os.cpu_count(), python=platform.python_version())


IMPLEMENTATIONS = {
    # name: (device, rls backend)
    "cpp_standalone": ("cpp_standalone", "function"),
    "cpp_standalone_synapses": ("cpp_standalone", "synapses"),
    "cuda_standalone": ("cuda_standalone", "synapses"),
}


def part_training(seed, out, impls=("cpp_standalone",), threads=(0,), csv_name="standalone_force_training.csv",
                  rls_threads=(1,)):
    from brian2 import second

    from brianforce.networks.reference import run_reference_like
    from brianforce.devices.standalone import StandaloneFORCETrainer
    from brianforce.tasks import sinusoid
    from brianforce.methods.force import FORCETrainer

    task = sinusoid(5.0)
    rows = []
    model = None
    for impl in impls:
        device, rls = IMPLEMENTATIONS[impl]
        combos = [(t, rt) for t in threads for rt in rls_threads] if device == "cpp_standalone" else [(0, 1)]
        for n_threads, n_rls in combos:
            if rls != "function" and n_rls != rls_threads[0]:
                continue
            proj = tempfile.mkdtemp(prefix="bf_bench_train_")
            tr = StandaloneFORCETrainer(2000, seed=seed, device=device, rls=rls, directory=proj,
                                        threads=n_threads, rls_threads=n_rls)
            w0 = time.perf_counter()
            tr.fit(task, settle=SETTLE * second, train=TRAIN * second, test=TEST * second)
            total = time.perf_counter() - w0
            m = tr.predict(1 * second).metrics(task.period)
            rows.append(dict(implementation=f"{device} generated-code RLS ({rls})", device=device, rls=rls,
                             threads=n_threads, rls_threads=n_rls if rls == "function" else 0, n_neurons=2000,
                             compile_s=tr.timings_["compile_s"], program_wall_s=tr.timings_["run_s"],
                             total_wall_s=total, n_rls_updates=tr.timings_["n_rls_updates"],
                             rmse_over_amplitude=m["rmse_over_amplitude"][0],
                             correlation=m["lag_adjusted_correlation"][0]))
            print(rows[-1], flush=True)
            if model is None:
                model = Path(tempfile.mkdtemp(prefix="bf_bench_model_")) / "standalone_force_n2000_model.npz"
                tr.save(model)
    ref, wall, m = run_reference_like(FORCETrainer(2000, seed=seed), task, settle=SETTLE, train=TRAIN, test=TEST)
    rows.append(dict(implementation="numpy reference loop", device="numpy", rls="scipy BLAS", threads=1, rls_threads=1,
                     n_neurons=2000, compile_s=0.0, program_wall_s=wall,
                     total_wall_s=wall, n_rls_updates=len(ref.errors),
                     rmse_over_amplitude=m["rmse_over_amplitude"], correlation=m["correlation"]))
    print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    df["speedup_vs_numpy"] = wall / df["program_wall_s"]
    for k, v in _machine().items():
        df[k] = v
    for r in df.to_dict("records"):
        _append(Path(out) / csv_name, r)
    print(df.to_string(), flush=True)
    return model


def _append(path, row: dict) -> None:
    """Append ``row`` to the results file ``path`` (never rewritten). A row that lacks some of the
    file's columns (a failed run) gets them empty; an unknown column is refused by ``append_csv_row``."""
    import csv

    from brianforce.io import append_csv_row

    path = Path(path)
    if path.exists() and path.stat().st_size:
        with open(path, newline="") as fh:
            header = next(csv.reader(fh), [])
        if set(row) <= set(header):
            row = {k: row.get(k) for k in header}
    append_csv_row(path, row)


def part_agreement(model, out, device="cpp_standalone", csv_name="standalone_force_agreement.csv"):
    from brian2 import second

    from brianforce.devices.standalone import build_project
    from brianforce.tasks import sinusoid
    from brianforce.methods.force import FORCETrainer

    task = sinusoid(5.0)
    w0 = time.perf_counter()
    runtime = FORCETrainer.load(model).predict(2 * second)
    runtime_wall = time.perf_counter() - w0
    proj = build_project(model, 2 * second, device, directory=tempfile.mkdtemp(prefix="bf_bench_run_"))
    run = proj.run()
    sa = run.result
    t0 = runtime.t[0]

    def pairs(res, stop):
        m = res.spike_t < stop - 1e-12
        return sorted(zip(np.round(res.spike_t[m] / 5e-5).astype(int).tolist(), res.spike_i[m].tolist()))

    same_100ms = pairs(runtime, t0 + 0.1) == pairs(sa, t0 + 0.1)
    first_diff = None
    a, b = pairs(runtime, t0 + 2.0), pairs(sa, t0 + 2.0)
    for k, (x, y) in enumerate(zip(a, b)):
        if x != y:
            first_diff = (x[0] * 5e-5 - t0)
            break
    row = dict(device=device, n_neurons=2000, duration_s=2.0, same_spikes_first_100ms=same_100ms,
               n_spikes_first_100ms=len(pairs(runtime, t0 + 0.1)),
               first_spike_difference_after_s=first_diff,
               rmse_difference_over_amplitude=float(np.sqrt(np.mean((sa.z - runtime.z) ** 2)) / task.amplitude),
               runtime_wall_s=runtime_wall, standalone_compile_s=proj.compile_time,
               standalone_run_wall_s=run.wall_time)
    row.update(_machine())
    _append(Path(out) / csv_name, row)
    print(row, flush=True)


_WORKER = r"""
import json, os, resource, subprocess, sys, tempfile, time
import numpy as np
from brian2 import second
from brianforce.tasks import sinusoid
impl, n, seed, S, T, X = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *map(float, sys.argv[4:7])
task = sinusoid(5.0)
ALPHA = 5e-6 * 2000 / n  # P(0) = alpha*I; N&C's 5e-6 is for N = 2000 and diverges at N = 8000
sim = S + T + X
if impl == "runtime":
    from brianforce.methods.force import FORCETrainer
    FORCETrainer(100, seed=seed).fit(task, settle=0.01*second, train=0.01*second).predict(0.01*second)  # warm cache
    tr = FORCETrainer(n, seed=seed, alpha=ALPHA)
    w0 = time.perf_counter()
    tr.fit(task, settle=S*second, train=T*second)
    fit = time.perf_counter() - w0
    w1 = time.perf_counter()
    tr.predict(X*second)
    test = time.perf_counter() - w1
    out = dict(wall_s=fit + test, train_phase_s=fit, test_phase_s=test, compile_s=0.0,
               peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
else:
    from brianforce.devices.standalone import StandaloneFORCETrainer
    d = tempfile.mkdtemp(prefix=f"bf_scale_{n}_")
    tr = StandaloneFORCETrainer(n, seed=seed, device="cpp_standalone", directory=d, alpha=ALPHA)
    tr.fit(task, settle=S*second, train=T*second, test=X*second)
    # re-run the compiled program alone to measure its own time and peak memory
    # (peak RSS from /proc/PID/status VmHWM of the exec'd program: the child's ru_maxrss would
    # include the forked Python image)
    w0 = time.perf_counter()
    p = subprocess.Popen(["./main"], cwd=d, stdout=subprocess.DEVNULL)
    hwm = 0
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm = max(hwm, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.005)
    out = dict(wall_s=time.perf_counter() - w0, first_run_wall_s=tr.timings_["run_s"],
               compile_s=tr.timings_["compile_s"], peak_rss_mb=hwm / 1024)
out.update(simulated_s=sim, wall_per_simulated_s=out["wall_s"] / sim, alpha=ALPHA)
print("RESULT " + json.dumps(out))
"""


def part_scaling(sizes, seed, out, impls=("cpp_standalone", "runtime"), csv_name="standalone_force_scaling.csv"):
    rows = []
    csv = Path(out) / csv_name
    for n in sizes:
        for impl in impls:
            w0 = time.perf_counter()
            proc = subprocess.run([sys.executable, "-c", _WORKER, impl, str(n), str(seed), str(SCALE_SETTLE),
                                   str(SCALE_TRAIN), str(SCALE_TEST)], capture_output=True, text=True)
            line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
            if proc.returncode or not line:
                print(proc.stdout[-2000:], proc.stderr[-3000:], flush=True)
                row = dict(error=f"exit {proc.returncode}")
            else:
                row = json.loads(line[-1][7:])
            row.update(implementation=impl, n_neurons=n, worker_wall_s=time.perf_counter() - w0, **_machine())
            rows.append(row)
            print(row, flush=True)
            _append(csv, row)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", nargs="+", default=["training", "agreement", "scaling"])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 8000])
    ap.add_argument("--impls", nargs="+", default=["cpp_standalone", "runtime"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model", default=None, help="model for 'agreement' (default: the one 'training' saves)")
    ap.add_argument("--train-impls", nargs="+", default=["cpp_standalone"], choices=sorted(IMPLEMENTATIONS),
                    help="generated-code trainers timed in 'training' (cuda_standalone needs Brian2CUDA + a GPU)")
    ap.add_argument("--threads", type=int, nargs="+", default=[0],
                    help="OpenMP threads of the cpp_standalone programs in 'training' (0: none)")
    ap.add_argument("--rls-threads", type=int, nargs="+", default=[1],
                    help="threads of the C++ RLS pass (cpp_standalone, rls='function') in 'training'")
    ap.add_argument("--agreement-devices", nargs="+", default=["cpp_standalone"])
    ap.add_argument("--suffix", default="", help="appended to the CSV names (e.g. '_h200')")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = ap.parse_args(argv)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    model = args.model
    if "training" in args.parts:
        model = part_training(args.seed, args.out, tuple(args.train_impls), tuple(args.threads),
                              f"standalone_force_training{args.suffix}.csv", tuple(args.rls_threads))
    if "agreement" in args.parts:
        if model is None:
            ap.error("--parts agreement without training needs --model")
        for dev in args.agreement_devices:
            tag = "" if dev == "cpp_standalone" else "_" + dev.split("_")[0]
            part_agreement(model, args.out, dev, f"standalone_force_agreement{tag}{args.suffix}.csv")
    if "scaling" in args.parts:
        part_scaling(args.sizes, args.seed, args.out, tuple(args.impls), f"standalone_force_scaling{args.suffix}.csv")


if __name__ == "__main__":
    main()
