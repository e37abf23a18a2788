"""Record the behaviour fingerprints: ``tests/fingerprints/<name>.npz``.

Usage::

    python tests/fingerprints/record.py [--out DIR] [NAME ...]

Runs each function of :mod:`runs` (all by default) and saves its arrays, pickle-free.
Rewrite the committed files only when a behaviour change is intended and explained;
``tests/test_fingerprints.py`` compares fresh runs against them.
"""
import os

# before numpy is imported: one BLAS thread, as in the test-suite (tests/conftest.py)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from fingerprints.runs import RUNS, SEED  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", metavar="NAME",
                    help=f"fingerprints to record (default: all of {', '.join(RUNS)})")
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: %(default)s)")
    args = ap.parse_args(argv)
    unknown = set(args.names) - set(RUNS)
    if unknown:
        ap.error(f"unknown fingerprint(s) {sorted(unknown)}; choose from {list(RUNS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or RUNS:
        t0 = time.perf_counter()
        arrays = RUNS[name](SEED)
        np.savez(args.out / f"{name}.npz", **arrays)
        print(f"{name}: {time.perf_counter() - t0:.1f} s, "
              f"{sum(np.size(a) for a in arrays.values())} values -> {args.out / name}.npz")


if __name__ == "__main__":
    main()
