"""Full-size runs of tutorials/own_neuron_models.py: Izhikevich and theta networks, FORCE-trained.

For every (model, seed) this builds the tutorial's N = 2000 network (Nicola & Clopath 2017,
``IZFORCESINE.m`` / ``THETAFORCESINE.m``), runs the paper's 15 s protocol (5 s settle, 5 s
RLS training, 5 s free-running test), scores the first second of the test and APPENDS one
row to ``benchmarks/results/own_neuron_models.csv`` (earlier rows are never overwritten):

    python benchmarks/own_neuron_models.py --seeds 1 2 3 4 --models izhikevich theta

The networks and the training code are the tutorial's own functions (imported from the
tutorial file), so the benchmark measures exactly what the tutorial teaches. A run whose RLS
diverges is recorded with NaN metrics and ``passed = False``.
"""
from __future__ import annotations

import argparse
import csv
import datetime
import importlib.util
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "tutorials" / "own_neuron_models.py"
COLUMNS = ["model", "seed", "n", "dt_ms", "settle_s", "train_s", "rmse_over_amplitude", "lag_adjusted_correlation",
           "output_frequency_hz", "mean_rate_hz", "passed", "wall_s", "date"]


def load_tutorial():
    """Import the tutorial as a module (its run cells are skipped: ``__name__`` is not ``'__main__'``)."""
    spec = importlib.util.spec_from_file_location("own_neuron_models_tutorial", TUTORIAL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def append_row(path: Path, row: dict) -> None:
    """Append ``row`` to the CSV at ``path``, writing the header only when the file is new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists() or path.stat().st_size == 0
    if not new:
        with open(path, newline="") as fh:
            header = next(csv.reader(fh), None)
        if header != COLUMNS:
            raise SystemExit(f"{path} has columns {header}, expected {COLUMNS}; not appending")
    with open(path, "a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)


def main(argv=None):
    tut = load_tutorial()
    full = tut.FULL_PROTOCOL
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--models", nargs="+", default=list(tut.BUILDERS), choices=list(tut.BUILDERS))
    ap.add_argument("--n", type=int, default=full["n"], help="neurons (default: the paper's %(default)s)")
    ap.add_argument("--settle", type=float, default=full["settle"], help="seconds (default %(default)s)")
    ap.add_argument("--train", type=float, default=full["train"], help="seconds (default %(default)s)")
    ap.add_argument("--test", type=float, default=full["test"], help="seconds (default %(default)s)")
    ap.add_argument("--csv", default=str(ROOT / "benchmarks" / "results" / "own_neuron_models.csv"))
    ap.add_argument("--figures", default=None, help="folder for one figure per run (default: none)")
    args = ap.parse_args(argv)
    if args.test < 1.0:
        ap.error("--test must be >= 1 s (the criterion scores the first second)")
    if args.figures:
        Path(args.figures).mkdir(parents=True, exist_ok=True)

    for model in args.models:
        for seed in args.seeds:
            w0 = time.perf_counter()
            print(f"{model} seed {seed}: N = {args.n}, settle {args.settle} s, train {args.train} s, "
                  f"test {args.test} s ...", flush=True)
            row = dict(model=model, seed=seed, n=args.n, settle_s=args.settle, train_s=args.train)
            try:
                run = tut.train_network(model, args.n, seed, args.settle, args.train, args.test)
            except tut.TrainingDiverged as err:
                print(f"  diverged: {err}", flush=True)
                row.update(dt_ms=float(tut.PARAMETERS[model]["dt"] / tut.ms), rmse_over_amplitude=math.nan,
                           lag_adjusted_correlation=math.nan, output_frequency_hz=math.nan, mean_rate_hz=math.nan,
                           passed=False)
            else:
                m = run.metrics
                row.update(dt_ms=run.dt_ms, rmse_over_amplitude=round(m["rmse_over_amplitude"][0], 4),
                           lag_adjusted_correlation=round(m["lag_adjusted_correlation"][0], 4),
                           output_frequency_hz=round(m["output_frequency_hz"][0], 3),
                           mean_rate_hz=round(m["mean_rate_hz"], 2), passed=run.passed)
                if args.figures:
                    fig = tut.plot_run(run, Path(args.figures) / f"own_neuron_models_{model}_seed{seed}.png")
                    tut.plt.close(fig)
            row.update(wall_s=round(time.perf_counter() - w0, 1),
                       date=datetime.datetime.now().isoformat(timespec="seconds"))
            append_row(Path(args.csv), row)
            print("  " + ", ".join(f"{k}={row[k]}" for k in COLUMNS), flush=True)


if __name__ == "__main__":
    sys.exit(main())
