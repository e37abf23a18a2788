"""What the default test suite compiles on a fresh machine: Cython extensions and standalone builds.

Runs the README's test command (``python3 -m pytest``, the default suite on two workers) on a copy
of the repository (the working tree, or a commit with ``--ref``) with an empty home folder, so
that Brian2's Cython cache and brianforce's project cache start empty, as on a fresh machine
(the recorded data are not copied, as in CI). A pytest plugin written next to the copy records
every Cython extension that is compiled (its module did not exist yet) and every standalone
build (``compile_source``, ``make`` included), with the test that asked for it. Appends one row
per test file and one ``total`` row (with the suite's wall time and pytest's summary) to
``benchmarks/results/suite_compiles.csv``::

    python3 benchmarks/suite_compiles.py --label LABEL [--ref COMMIT] [--workdir DIR]

Compilations asked for by a tutorial's own Python process are not seen (the tutorial tests run
them in subprocesses); their time is in the suite's wall time.
"""
from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "suite_compiles.csv"
COLUMNS = ["date", "label", "ref", "scope", "cython_compiled", "cython_s", "standalone_builds", "standalone_s",
           "suite_wall_s", "summary", "cpus", "load_avg_1min"]

PLUGIN = '''
import json, os, time
import pytest

_test = {"id": "<collection>"}
_log = None


def _write(kind, s):
    with open(_log, "a") as f:
        f.write(json.dumps({"test": _test["id"], "kind": kind, "s": round(s, 3)}) + "\\n")


def pytest_configure(config):
    global _log
    _log = os.path.join(os.environ["SUITE_COMPILE_LOG"], f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.jsonl")
    from brian2.codegen.runtime.cython_rt import extension_manager as em
    load = em.CythonExtensionManager._load_module

    def _load_module(self, module_path, *args, **kwargs):
        new, t0 = not os.path.exists(module_path), time.perf_counter()
        out = load(self, module_path, *args, **kwargs)
        if new:
            _write("cython", time.perf_counter() - t0)
        return out
    em.CythonExtensionManager._load_module = _load_module
    from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
    compile_source = CPPStandaloneDevice.compile_source

    def timed_compile(self, *args, **kwargs):
        t0 = time.perf_counter()
        out = compile_source(self, *args, **kwargs)
        _write("standalone", time.perf_counter() - t0)
        return out
    CPPStandaloneDevice.compile_source = timed_compile


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _test["id"] = item.nodeid
'''


def copy_source(ref: str | None, dest: Path) -> str:
    """The working tree's files (tracked and untracked, not ignored) or commit ``ref`` into ``dest``."""
    dest.mkdir(parents=True)
    if ref:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", ref], check=True,
                              capture_output=True, text=True).stdout.strip()
    files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard", "-z"], check=True,
                           capture_output=True).stdout.split(b"\0")
    for name in filter(None, files):
        src = REPO / name.decode()
        if src.is_file():
            (dest / name.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name.decode())
    return "working tree"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--label", required=True)
    ap.add_argument("--ref", default=None, help="a commit (default: the working tree)")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="suite_compiles_"))
    if work.exists():
        shutil.rmtree(work)
    ref = copy_source(args.ref, work / "src")
    for sub in ("home", "log", "plugin"):
        (work / sub).mkdir(parents=True)
    (work / "plugin" / "suite_compile_log.py").write_text(PLUGIN)
    env = {"PATH": os.environ["PATH"], "HOME": str(work / "home"), "MPLBACKEND": "Agg",
           "PYTHONPATH": f"{work / 'src'}{os.pathsep}{work / 'plugin'}", "SUITE_COMPILE_LOG": str(work / "log")}
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "suite_compile_log"],
                          cwd=work / "src", env=env, capture_output=True, text=True)
    wall = time.time() - t0
    (work / "pytest.log").write_text(proc.stdout + proc.stderr)
    summary = next((line.strip("= ") for line in reversed(proc.stdout.splitlines())
                    if " passed" in line or " failed" in line), f"exit code {proc.returncode}")
    rows = [json.loads(line) for f in sorted((work / "log").glob("*.jsonl")) for line in f.read_text().splitlines()]
    per = collections.defaultdict(lambda: {"cython": [0, 0.0], "standalone": [0, 0.0]})
    per["total"] = {"cython": [0, 0.0], "standalone": [0, 0.0]}       # a row even when nothing compiled
    for r in rows:
        for scope in ("total", r["test"].split("::")[0]):
            per[scope][r["kind"]][0] += 1
            per[scope][r["kind"]][1] += r["s"]
    stamp = {"date": time.strftime("%Y-%m-%d %H:%M"), "label": args.label, "ref": ref, "cpus": os.cpu_count(),
             "load_avg_1min": round(os.getloadavg()[0], 2)}
    new = not args.results.exists()
    with open(args.results, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        if new:
            w.writeheader()
        for scope in ["total"] + sorted(k for k in per if k != "total"):
            c = per[scope]
            w.writerow({**stamp, "scope": scope, "cython_compiled": c["cython"][0],
                        "cython_s": round(c["cython"][1], 1), "standalone_builds": c["standalone"][0],
                        "standalone_s": round(c["standalone"][1], 1),
                        "suite_wall_s": round(wall) if scope == "total" else "",
                        "summary": summary if scope == "total" else ""})
    t = per["total"]
    print(f"{args.label} ({ref}): {summary}; {wall:.0f} s; Cython {t['cython'][0]} compiled in {t['cython'][1]:.0f} s; "
          f"{t['standalone'][0]} standalone builds in {t['standalone'][1]:.0f} s")
    return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
