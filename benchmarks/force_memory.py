"""Peak memory of building and training a FORCE LIF network, against :mod:`brianforce.memory`'s estimate.

Each size runs in its own process (peak RSS is per process): build a ``FORCETrainer`` (p = 0.1),
train for one RLS interval, report the peak resident memory, the baseline before building, and
the estimate ``force_network_bytes`` by part. Appends to ``benchmarks/results/force_memory.csv``.

Run: ``python benchmarks/force_memory.py --sizes 4000 8000 12000`` (a few minutes).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from brianforce.io import append_csv_row

RESULTS = Path(__file__).resolve().parent / "results" / "force_memory.csv"

_CHILD = """
import json, resource, sys
from brian2 import ms, second
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
from brianforce.methods.force import FORCETrainer
from brianforce.memory import force_network_bytes
from brianforce.tasks import sinusoid
n = int(sys.argv[1])
imported = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
FORCETrainer(n, seed=1).fit(sinusoid(5.0), settle=0 * second, train=5 * ms)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps(dict(n=n, peak_rss=peak, baseline_rss=imported, estimate=force_network_bytes(n, 0.1))))
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4000, 8000, 12000])
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for n in args.sizes:
        run = subprocess.run([sys.executable, "-c", _CHILD, str(n)], capture_output=True, text=True, check=True)
        r = json.loads(run.stdout.strip().splitlines()[-1])
        est = r["estimate"]
        synapses = 0.1 * n * n
        row = dict(n=n, p=0.1, peak_rss_gb=r["peak_rss"] / 1e9, baseline_rss_gb=r["baseline_rss"] / 1e9,
                   estimate_gb=sum(est.values()) / 1e9, P_gb=est["RLS matrix P"] / 1e9,
                   measured_bytes_per_synapse_beyond_P=(r["peak_rss"] - r["baseline_rss"] - est["RLS matrix P"])
                   / synapses, date=time.strftime("%Y-%m-%d"))
        append_csv_row(args.out, row)                    # appended, never overwritten
        print(", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()), flush=True)


if __name__ == "__main__":
    main()
