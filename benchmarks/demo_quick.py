"""Choosing ``brianforce demo --quick``: which small setting meets Nicola & Clopath's criterion?

The criterion (first second of free-running test): RMSE < 0.2 of the target amplitude and
lag-adjusted correlation > 0.95, 5 Hz sinusoid. Each candidate (network size, training time) is run
at the tuning seeds (0–9) with the demo's own code path (:func:`brianforce.experiments.cli.run_demo`,
no files kept); the chosen one is then reported at fresh seeds (``--seeds 100 101 ...``) that
never guided the choice. Appends rows to ``benchmarks/results/demo_quick.csv``.

Run: ``python benchmarks/demo_quick.py --candidates 500:3 500:6 1000:3 --seeds 0 1 2 3 4 5 6 7 8 9``.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from brianforce.io import append_csv_row
from brianforce.experiments.cli import DEMO_QUICK, run_demo

RESULTS = Path(__file__).resolve().parent / "results" / "demo_quick.csv"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", nargs="+", default=[f"{DEMO_QUICK['n_neurons']}:{DEMO_QUICK['train']}"],
                    help="N:train_seconds pairs (default: the demo's quick setting)")
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    ap.add_argument("--purpose", default="tuning", help="'tuning' (seeds 0-9) or 'report' (fresh seeds)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for cand in args.candidates:
        n, train = cand.split(":")
        for seed in args.seeds:
            t0 = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                s = run_demo(tmp, quick=True, seed=seed, n_neurons=int(n), train=float(train), progress=False)
            e, c = s["test_first_second"]["rmse_over_amplitude"][0], s["test_first_second"]["lag_adjusted_correlation"][0]
            row = dict(purpose=args.purpose, n_neurons=int(n), settle_s=DEMO_QUICK["settle"], train_s=float(train),
                       test_s=DEMO_QUICK["test"], seed=seed, rmse_over_amplitude=e, lag_adjusted_correlation=c,
                       passed=bool(e < 0.2 and c > 0.95), wall_s=round(time.perf_counter() - t0, 1),
                       date=time.strftime("%Y-%m-%d"))
            append_csv_row(args.out, row)                    # appended, never overwritten
            print(f"N {n}, train {train} s, seed {seed}: RMSE/amp {e:.3f}, corr {c:.3f}, "
                  f"{'pass' if row['passed'] else 'FAIL'} ({row['wall_s']} s)", flush=True)


if __name__ == "__main__":
    main()
