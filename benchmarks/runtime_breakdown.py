"""Per-step cost of the runtime FORCE trainer, code object by code object (Brian2's profiler).

``FORCETrainer`` (N = 2000, Cython target) settles, then trains with Brian2's profiling on; each
code object's time during training is divided by the number of time steps. The row ``rls (network_operation)``
is the RLS hook's own wall time (``timings_['rls_s']``) and ``scheduling and Python`` what the
run's wall time leaves over the code objects. Appends to
``benchmarks/results/runtime_breakdown.csv``::

    python benchmarks/runtime_breakdown.py --n 2000 --settle 0.5 --train 4

Further rows (``n_neurons`` 1) measure Brian2's own fixed cost per time step: its scheduling loop
alone, and per trivial code object (networks of 0, 1, 3 and 5 one-variable state updaters).
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import brian2 as b2
from brian2 import second

from brianforce.io import append_csv_row
from brianforce.methods.force import FORCETrainer
from brianforce.tasks import sinusoid


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--settle", type=float, default=0.5)
    ap.add_argument("--train", type=float, default=4.0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "runtime_breakdown.csv"))
    args = ap.parse_args(argv)
    tr = FORCETrainer(args.n, seed=args.seed, device="runtime")
    # settling, code generation and compilation; then a profiled training run (Brian2 keeps the
    # profile of the last run only: the training after its first step)
    tr.fit(sinusoid(5.0), settle=args.settle * second, train=0.01 * second)
    b2.get_device().build_options["profile"] = True
    rls0, sim0 = tr.timings_["rls_s"], tr.timings_["simulation_s"]
    tr.fit(sinusoid(5.0), settle=0 * second, train=args.train * second)
    b2.get_device().build_options["profile"] = False
    info = {name: float(t) for name, t in tr._net.profiling_info}
    wall = tr.timings_["simulation_s"] - sim0 + tr.timings_["rls_s"] - rls0
    steps = round(args.train / tr.config.dt)
    rls = tr.timings_["rls_s"] - rls0
    rows = [(name, t) for name, t in sorted(info.items(), key=lambda kv: -kv[1]) if "rls" not in name]
    rows.append(("rls (network_operation)", rls))
    rows.append(("scheduling and Python", wall - sum(t for _, t in rows)))
    date = time.strftime("%Y-%m-%d %H:%M")
    for name, t in rows:
        row = {"date": date, "n_neurons": args.n, "seed": args.seed, "simulated_s": args.train,
               "steps": steps, "code_object": name, "total_s": round(t, 3), "us_per_step": round(1e6 * t / steps, 2),
               "wall_s": round(wall, 2), "load_avg_1min": round(os.getloadavg()[0], 2)}
        append_csv_row(args.out, row)
        print(f"{name:60s} {1e6 * t / steps:8.2f} us/step")
    print(f"{'total':60s} {1e6 * wall / steps:8.2f} us/step ({wall:.1f} s)")
    for name, t in _fixed_costs(args.train):
        row = {"date": date, "n_neurons": 1, "seed": 0, "simulated_s": args.train, "steps": steps,
               "code_object": name, "total_s": round(t * steps, 3), "us_per_step": round(1e6 * t, 2),
               "wall_s": round(t * steps, 2), "load_avg_1min": round(os.getloadavg()[0], 2)}
        append_csv_row(args.out, row)
        print(f"{name:60s} {1e6 * t:8.2f} us/step")


def _fixed_costs(duration: float):
    """Brian2's own per-step cost at runtime: a network of one variable-only group (the scheduling
    loop alone), then of one group with 1, 3 and 5 trivial state updaters (separate groups)."""
    from brian2 import Network, NeuronGroup, ms

    out = []
    for k in (0, 1, 3, 5):
        groups = ([NeuronGroup(1, "x : 1", dt=0.05 * ms)] if k == 0 else
                  [NeuronGroup(1, "dx/dt = -x/(10*ms) : 1", method="euler", dt=0.05 * ms) for _ in range(k)])
        net = Network(*groups)
        net.run(1 * ms)                      # code generation and compilation
        w = time.perf_counter()
        net.run(duration * second)
        per_step = (time.perf_counter() - w) / round(duration / 0.05e-3)
        out.append((f"Brian2 fixed cost: network with {k} trivial code object{'s' if k != 1 else ''}", per_step))
    return out


if __name__ == "__main__":
    main()
