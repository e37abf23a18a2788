"""Run many DePasquale student configurations in parallel (one process each, one BLAS thread).

Each configuration is ``tag recipe key=value ...`` (overrides as in
``benchmarks/depasquale_students.py``). Rows go to ``--csv``; each run's summary.json and
outputs.png land under ``--out/<recipe>_<tag>/``; per-run logs under ``--out/logs/``.

Run: ``python benchmarks/depasquale_sweep.py --jobs 16 --timeout 480 --csv OUT.csv --out DIR``
(configurations from ``--configs FILE``, one per line, ``#`` comments allowed).
"""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--configs", required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--timeout", type=float, default=480)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    lines = [ln.split("#")[0].strip() for ln in Path(a.configs).read_text().splitlines()]
    configs = [shlex.split(ln) for ln in lines if ln]
    logs = Path(a.out) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    pending, running, t0 = list(configs), [], time.time()
    while pending or running:
        while pending and len(running) < a.jobs:
            tag, recipe, *sets = pending.pop(0)
            cmd = [sys.executable, str(HERE / "depasquale_students.py"), recipe, "--tag", tag,
                   "--csv", str(Path(a.csv).with_suffix(f".{tag}.csv")), "--out", a.out]
            for s in sets:
                cmd += ["--set", s]
            fh = open(logs / f"{tag}.log", "w")
            running.append((tag, subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env),
                            time.time(), fh))
        time.sleep(2)
        for item in list(running):
            tag, p, start, fh = item
            if p.poll() is not None or time.time() - start > a.timeout:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                    print(f"{tag}: killed after {a.timeout} s", flush=True)
                else:
                    print(f"{tag}: rc {p.returncode} after {time.time() - start:.0f} s", flush=True)
                fh.close()
                running.remove(item)
    # merge the per-run CSVs
    parts = sorted(Path(a.csv).parent.glob(Path(a.csv).stem + ".*.csv"))
    with open(a.csv, "a") as out:
        header_done = Path(a.csv).stat().st_size > 0
        for p in parts:
            rows = p.read_text().splitlines()
            if rows:
                if not header_done:
                    out.write(rows[0] + "\n")
                    header_done = True
                out.write("\n".join(rows[1:]) + "\n")
            p.unlink()
    print(f"all done in {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
