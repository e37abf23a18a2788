"""End-to-end time of FORCE training with a cold and a warm standalone project cache.

The Nicola & Clopath sinusoid protocol (N = 2000: 5 s settle, 5 s RLS every 2.5 ms, 5 s
free-running test), each run a whole new Python process timed from start to exit:

* ``default-cold``: ``FORCETrainer(...).fit(task, settle, train, test=...)`` as a user gets it (its default
  device: one ``cpp_standalone`` program where a compiler is present) with an empty cache;
* ``default-warm`` / ``default-warm-other-seed``: the same again, with the seed again or another one;
* ``standalone-cold``, ``standalone-warm``, ``standalone-warm-other-seed``: the same with
  ``StandaloneFORCETrainer`` (``cpp_standalone``), test read back with ``predict``;
* ``runtime``: ``FORCETrainer(device="runtime")`` (Brian2 runtime, Cython; its own compiled-code cache as it is);
* ``numpy-loop``: the plain numpy loop of ``numpy_loop_force.py`` (same structure; forward Euler).

Each repeat starts with an empty cache, so a ``-warm`` kind needs a run of the same trainer before it in
``--kinds`` (refused otherwise). Appends one row per run to ``benchmarks/results/compile_cache_v2.csv``::

    python benchmarks/compile_cache.py --seed 0 --repeats 1
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from brianforce.io import append_csv_row

CHILD = r"""
import json, sys, time
from brian2 import second
from brianforce.tasks import sinusoid
kind, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
settle, train, test = (float(x) for x in sys.argv[4:7])
w = time.perf_counter()
if kind == "numpy-loop":
    sys.path.insert(0, sys.argv[7])
    from numpy_loop_force import run
    out = run(n, seed, settle, train, test)
    print(json.dumps({"fit_predict_s": time.perf_counter() - w, "timings": {"run_s": out["loop_s"]},
                      "rmse_over_amplitude": out["rmse_over_amplitude"], "lag_adjusted_correlation": float("nan")}))
    sys.exit(0)
if kind == "runtime":
    from brianforce.methods.force import FORCETrainer
    tr = FORCETrainer(n, seed=seed, device="runtime").fit(sinusoid(5.0), settle=settle * second,
                                                          train=train * second)
    res = tr.predict(test * second)
    timings = dict(tr.timings_)
elif kind == "default":
    from brianforce.methods.force import FORCETrainer
    tr = FORCETrainer(n, seed=seed).fit(sinusoid(5.0), settle=settle * second, train=train * second,
                                        test=test * second)
    res = tr.test_result_
    timings = dict(tr.timings_, device=tr.device_)
else:
    from brianforce.devices.force_standalone import StandaloneFORCETrainer
    tr = StandaloneFORCETrainer(n, seed=seed).fit(sinusoid(5.0), settle=settle * second, train=train * second,
                                                  test=test * second)
    res = tr.predict(test * second)
    timings = dict(tr.timings_)
first = res.window(res.t[0], res.t[0] + 1.0).metrics(0.2)
print(json.dumps({"fit_predict_s": time.perf_counter() - w, "timings": timings,
                  "rmse_over_amplitude": first["rmse_over_amplitude"][0],
                  "lag_adjusted_correlation": first["lag_adjusted_correlation"][0]}))
"""


def _run(kind: str, seed: int, n: int, phases, env: dict) -> dict:
    wall0 = time.perf_counter()
    child_kind = kind if kind in ("runtime", "numpy-loop") else kind.split("-")[0]
    proc = subprocess.run([sys.executable, "-c", CHILD, child_kind, str(seed), str(n), *map(str, phases),
                           str(Path(__file__).parent)], capture_output=True, text=True,
                          env={**os.environ, **env})
    wall = time.perf_counter() - wall0
    if proc.returncode:
        raise RuntimeError(f"{kind} failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"end_to_end_s": wall, **out}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--phases", type=float, nargs=3, default=[5.0, 5.0, 5.0], metavar=("SETTLE", "TRAIN", "TEST"))
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--kinds", nargs="+", default=["numpy-loop", "default-cold", "default-warm",
                                                   "default-warm-other-seed", "standalone-cold", "standalone-warm",
                                                   "standalone-warm-other-seed", "runtime"])
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "compile_cache_v2.csv"))
    args = ap.parse_args(argv)
    for i, kind in enumerate(args.kinds):     # every repeat starts with an empty cache
        trainer = kind.split("-")[0]
        if "warm" in kind and not any(k.startswith(trainer + "-") for k in args.kinds[:i]):
            ap.error(f"{kind} needs a {trainer}-cold (or another {trainer}-...) run before it in --kinds: "
                     "each repeat starts with an empty cache")
    for _ in range(args.repeats):
        cache = tempfile.mkdtemp(prefix="brianforce_cache_bench_")
        for kind in args.kinds:
            seed = args.seed + (1 if kind.endswith("other-seed") else 0)
            row = _run(kind, seed, args.n, args.phases, {"BRIANFORCE_CACHE_DIR": cache})
            t = row["timings"]
            record = {"date": time.strftime("%Y-%m-%d %H:%M"), "kind": kind, "n_neurons": args.n, "seed": seed,
                      "settle_s": args.phases[0], "train_s": args.phases[1], "test_s": args.phases[2],
                      "end_to_end_s": round(row["end_to_end_s"], 2), "fit_predict_s": round(row["fit_predict_s"], 2),
                      "compile_s": round(t.get("compile_s", 0.0), 2),
                      "run_s": round(t.get("run_s", t.get("simulation_s", 0.0) + t.get("rls_s", 0.0)), 2),
                      "rmse_over_amplitude": round(row["rmse_over_amplitude"], 4),
                      "lag_adjusted_correlation": round(row["lag_adjusted_correlation"], 4),
                      "load_avg_1min": round(os.getloadavg()[0], 2), "cpus": os.cpu_count(),
                      "device": t.get("device", "")}
            append_csv_row(args.out, record)
            print(json.dumps(record))


if __name__ == "__main__":
    main()
