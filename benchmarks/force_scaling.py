"""Wall time per simulated second and peak memory of FORCE training against the network size.

The network of :class:`brianforce.methods.force.FORCETrainer` (Nicola & Clopath's sinusoid: 5 Hz,
p = 0.1, RLS every 2.5 ms, dt = 0.05 ms) for N = 1000 ... 32 000 neurons, on four paths:

* ``numpy-loop``: the plain numpy loop of ``numpy_loop_force.py`` (one BLAS thread);
* ``runtime``: ``FORCETrainer(device="runtime")`` fit + ``predict`` (Brian2 runtime, Cython; RLS in numpy);
* ``cpp_standalone-1thread``: ``FORCETrainer(...)`` with its default device (one cached
  ``cpp_standalone`` program where a compiler exists; the device it used is in the ``device`` column),
  ``fit(..., test=...)``, the test in ``test_result_``;
* ``cpp_standalone-all-threads``: ``StandaloneFORCETrainer(threads=rls_threads=os.cpu_count())``,
  the test compiled into the same program and read back with ``predict``.

Every path applies the normalised RLS gain ``P r / (1 + rᵀ P r)`` to the decoder (``normalised=True``,
as the numpy loop does): Nicola & Clopath's un-normalised step (the trainers' default; ``--unnormalised``
for the Brian2 paths, the rows' note says so) overshoots in the first updates once ``α Σ r²`` is large,
and at α = 5e-6 diverges from N = 8000 on (``status = failed`` rows). The work per update is the same.

Each (path, N) runs in a new Python process, started by a fresh intermediate process that
times it end to end and reads ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` after waiting for it:
``peak_rss_bytes`` is the peak of this one run, the largest resident size of *one* process among
the child and its waited-for descendants (compilers, the standalone ``main`` binary), not the sum
of the processes alive at the same time (a standalone run holds the Python process and the binary
at once). ``peak_rss_python_bytes`` is the Python child's own peak; ``peak_python_and_main_rss_bytes``
the largest sum of the resident sizes of the child and the standalone binaries (``main``) below it,
compilers left out, sampled from ``/proc`` every 50 ms (a lower bound of the true peak of the sum;
shared pages count once per process). The first run of a standalone architecture compiles, so at
small N a compiler can hold the largest single-process peak.

``compile_s`` and ``run_s`` are the path's own timings (``timings_``; the numpy loop has no compile
step and its ``run_s`` is the loop);
``wall_per_simulated_s = run_s / (settle + train + test)``, compile and set-up excluded;
``rls_ms_per_update`` only where the path times its RLS updates apart (``runtime``).
``rmse_over_amplitude`` and ``lag_adjusted_correlation`` are those of the first test second, or of
the whole test when it is shorter (``metric_window_s``; the numpy loop gives no correlation).

Protocols: ``full`` = 5 s settle, 5 s training, 5 s test (a trained network; affordable only at
small N here: one RLS update costs ~O(N²), ~1 ms at N = 2000 and ~250x that at N = 32 000);
``short`` (default) = 0.1 s settle, 0.2 s training (80 updates), 0.1 s test. **The short protocol
measures speed and memory only, not a trained network**: its RMSE is reported but is no measure of
success. ``--phases`` overrides either.

Before each (path, N) the memory it needs (:func:`brianforce.memory.force_network_bytes`, plus the
dense weights of the numpy loop or the ``P`` read back from a program) is compared with
:func:`brianforce.memory.available_bytes`; with ``--max-seconds`` the time of a (path, N) is
predicted from the last measured smaller size of the path (this run's, else the CSV's:
:func:`predict_seconds`). A (path, N) that does not fit or would take too long gets a row with
``status = skipped`` and the reason instead of a run; a run that fails gets ``status = failed``.

Rows are appended to ``benchmarks/results/force_scaling.csv``; the figure
``benchmarks/results/force_scaling.png`` is redrawn from the CSV after each invocation::

    python benchmarks/force_scaling.py --sizes 1000 2000 4000 8000 16000 32000 --max-seconds 1800
    python benchmarks/force_scaling.py --protocol full --sizes 1000 2000 4000
    python benchmarks/force_scaling.py --plot          # only redraw the figure
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "force_scaling.csv"
PATHS = ("numpy-loop", "runtime", "cpp_standalone-1thread", "cpp_standalone-all-threads")
SIZES = (1000, 2000, 4000, 8000, 16000, 32000)
PROTOCOLS = {"full": (5.0, 5.0, 5.0), "short": (0.1, 0.2, 0.1)}
P_CONNECT = 0.1
DT, RLS_INTERVAL = 0.05e-3, 2.5e-3
FREQUENCY, PERIOD = 5.0, 0.2
COLUMNS = ("date", "path", "n_neurons", "seed", "protocol", "settle_s", "train_s", "test_s", "status", "reason",
           "device", "n_rls_updates", "end_to_end_s", "compile_s", "run_s", "wall_per_simulated_s",
           "rls_ms_per_update", "peak_rss_bytes", "peak_rss_python_bytes", "peak_python_and_main_rss_bytes",
           "needed_bytes_estimate", "P_bytes", "rmse_over_amplitude", "lag_adjusted_correlation", "metric_window_s",
           "load_avg_1min", "cpus", "note")

# One (path, N): prints one JSON line (its own timings, metrics and peak memory).
CHILD = r"""
import json, os, resource, sys, time
kind, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
settle, train, test = (float(x) for x in sys.argv[4:7])
normalised = sys.argv[8] == "normalised"
from brian2 import second
from brianforce.tasks import sinusoid
out = {"device": kind}
if kind == "numpy-loop":
    sys.path.insert(0, sys.argv[7])
    from numpy_loop_force import run
    res = run(n, seed, settle, train, test)
    every = int(round(2.5e-3 / 0.05e-3))
    out.update(timings={"compile_s": 0.0, "run_s": res["loop_s"]}, rls_s=None,
               n_rls_updates=int(round(train / 0.05e-3)) // every,
               rmse_over_amplitude=res["rmse_over_amplitude"], lag_adjusted_correlation=None,
               metric_window_s=min(test, 1.0), device="numpy")
else:
    if kind == "runtime":
        from brianforce.methods.force import FORCETrainer
        tr = FORCETrainer(n, seed=seed, device="runtime", normalised=normalised)
        tr.fit(sinusoid(5.0), settle=settle * second, train=train * second)
        res = tr.predict(test * second)
        t = tr.timings_
        timings = {"compile_s": t["compile_s"], "run_s": t["simulation_s"] + t["rls_s"]}
        out.update(rls_s=t["rls_s"], device=tr.device_)
    elif kind == "cpp_standalone-1thread":
        from brianforce.methods.force import FORCETrainer
        tr = FORCETrainer(n, seed=seed, normalised=normalised, rls_threads=1)
        tr.fit(sinusoid(5.0), settle=settle * second, train=train * second, test=test * second)
        res = tr.test_result_
        t = tr.timings_
        # at runtime (no compiler) the RLS updates are timed apart; in a program they are part of the run
        timings = {"compile_s": t["compile_s"], "run_s": t["simulation_s"] + t.get("rls_s", 0.0)}
        out.update(rls_s=t["rls_s"] if tr.device_ == "runtime" else None, device=tr.device_)
    else:
        from brianforce.devices.force_standalone import StandaloneFORCETrainer
        tr = StandaloneFORCETrainer(n, seed=seed, threads=os.cpu_count(), rls_threads=os.cpu_count(),
                                    normalised=normalised)
        tr.fit(sinusoid(5.0), settle=settle * second, train=train * second, test=test * second)
        res = tr.predict(test * second)
        t = tr.timings_
        timings = {"compile_s": t["compile_s"], "run_s": t["run_s"]}
        out.update(rls_s=None, device=tr.device)
    window = min(test, 1.0)
    m = res.window(res.t[0], res.t[0] + window - 1e-9).metrics(0.2)
    out.update(timings=timings, n_rls_updates=int(t["n_rls_updates"]), metric_window_s=window,
               rmse_over_amplitude=m["rmse_over_amplitude"][0],
               lag_adjusted_correlation=m["lag_adjusted_correlation"][0])
out["rss_self_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(out))
"""

# A fresh intermediate process: its RUSAGE_CHILDREN covers exactly the one child it waits for
# (and the child's waited-for descendants), so one run's peak is not hidden by an earlier one's.
# Meanwhile a thread samples the summed RSS of the child and its standalone binary from /proc.
WRAPPER = r"""
import json, os, resource, subprocess, sys, threading, time

def run_rss(root):
    # the child and the standalone binaries ("main") below it; compilers left out
    kids, rss, names = {}, {}, {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                head, tail = fh.read().rsplit(")", 1)
        except OSError:
            continue
        fields, pid = tail.split(), int(d)
        kids.setdefault(int(fields[1]), []).append(pid)
        rss[pid], names[pid] = int(fields[21]) * PAGE, head.split("(", 1)[1]
    total, todo = rss.get(root, 0), list(kids.get(root, []))
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0) if names.get(pid) == "main" else 0
        todo += kids.get(pid, [])
    return total

PAGE = os.sysconf("SC_PAGE_SIZE")
peak = [0]
w = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
done = threading.Event()

def sample():
    while not done.wait(0.05):
        peak[0] = max(peak[0], run_rss(p.pid))

th = threading.Thread(target=sample, daemon=True)
th.start()
out, err = p.communicate()
wall = time.perf_counter() - w
done.set()
th.join()
print(json.dumps({"returncode": p.returncode, "end_to_end_s": wall, "stdout": out[-4000:], "stderr": err[-4000:],
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "run_rss_bytes": peak[0]}))
"""


# ---------------------------------------------------------------------- pure helpers
def phases_for(protocol: str, phases=None) -> tuple:
    """(settle, train, test) seconds of a protocol name, or ``phases`` when given."""
    if phases is not None:
        settle, train, test = (float(x) for x in phases)
        if train <= 0 or settle < 0 or test < 0:
            raise ValueError(f"phases must be settle >= 0, train > 0, test >= 0; got {phases}")
        return settle, train, test
    return PROTOCOLS[protocol]


def needed_bytes(path: str, n: int, p: float = P_CONNECT) -> int:
    """Rough peak bytes of one (path, N): :func:`~brianforce.memory.force_network_bytes` (which every
    path's ``FORCETrainer`` checks on construction), plus the numpy loop's dense weights (N² float64);
    for the programs :func:`~brianforce.memory.force_program_bytes`, the check the program runs before
    it is built (``cpp_standalone-1thread`` trains through ``FORCETrainer``, which reads ``P`` back)."""
    from brianforce.memory import force_network_bytes, force_program_bytes

    if path.startswith("cpp_standalone"):
        return int(sum(force_program_bytes(n, p, read_back_P=path == "cpp_standalone-1thread").values()))
    total = sum(force_network_bytes(n, p).values())
    if path == "numpy-loop":
        total += 8.0 * n * n
    return int(total)


def predict_seconds(previous: dict, n: int, simulated_s: float) -> float:
    """Rough end-to-end seconds of ``n`` neurons from a measured row of the same path at a smaller size.

    The run (simulation: synaptic events ~ N², RLS updates ~ N²) scales as (n/n₀)² and with the
    simulated time; the rest (start-up, compilation, building the network) as n/n₀.
    """
    n0 = float(previous["n_neurons"])
    ratio = n / n0
    run_s = float(previous["run_s"])
    sim0 = sum(float(previous[k]) for k in ("settle_s", "train_s", "test_s"))
    overhead = max(float(previous["end_to_end_s"]) - run_s, 0.0)
    return run_s * ratio ** 2 * (simulated_s / sim0 if sim0 > 0 else 1.0) + overhead * ratio


def last_measured(rows, path: str, n: int):
    """The last ``ok`` row of ``path`` with the largest size below ``n`` (``None`` if there is none)."""
    best = None
    for r in rows:
        if r.get("path") != path or r.get("status") != "ok" or not r.get("run_s"):
            continue
        size = int(r["n_neurons"])
        if size < n and (best is None or size >= int(best["n_neurons"])):
            best = r
    return best


def _round(x, digits):
    if x is None:
        return ""
    x = float(x)
    return "" if math.isnan(x) else round(x, digits)


def make_row(path: str, n: int, seed: int, protocol: str, phases, *, status: str = "ok", reason: str = "",
             child: dict | None = None, wrapper: dict | None = None, note: str = "", needed: int | None = None,
             date: str | None = None) -> dict:
    """One CSV row (all of :data:`COLUMNS`, in order) from the child's and the wrapper's reports."""
    settle, train, test = phases
    simulated = settle + train + test
    row = dict.fromkeys(COLUMNS, "")
    row.update(date=date or time.strftime("%Y-%m-%d %H:%M"), path=path, n_neurons=int(n), seed=int(seed),
               protocol=protocol, settle_s=settle, train_s=train, test_s=test, status=status, reason=reason,
               needed_bytes_estimate="" if needed is None else int(needed), P_bytes=8 * int(n) ** 2,
               load_avg_1min=round(os.getloadavg()[0], 2), cpus=os.cpu_count(), note=note)
    if wrapper is not None:
        row.update(end_to_end_s=round(wrapper["end_to_end_s"], 2), peak_rss_bytes=int(wrapper["maxrss_kb"]) * 1024,
                   peak_python_and_main_rss_bytes=int(wrapper.get("run_rss_bytes", 0)) or "")
    if child is not None:
        t = child["timings"]
        k = int(child["n_rls_updates"])
        rls_s = child.get("rls_s")
        row.update(device=child.get("device", ""), n_rls_updates=k, compile_s=round(t["compile_s"], 3),
                   run_s=round(t["run_s"], 3),
                   wall_per_simulated_s=round(t["run_s"] / simulated, 3) if simulated > 0 else "",
                   rls_ms_per_update=_round(1e3 * rls_s / k, 4) if (rls_s is not None and k) else "",
                   peak_rss_python_bytes=int(child["rss_self_kb"]) * 1024,
                   rmse_over_amplitude=_round(child.get("rmse_over_amplitude"), 4),
                   lag_adjusted_correlation=_round(child.get("lag_adjusted_correlation"), 4),
                   metric_window_s=child.get("metric_window_s", ""))
    return row


def read_rows(path) -> list:
    path = Path(path)
    if not path.exists() or not path.stat().st_size:
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def plot(csv_path, png_path, phases=None):
    """Two log-log panels from the CSV: wall time per simulated second and peak memory against N.

    Rows with ``status = ok`` and the phases ``phases`` (default: those of the last ``ok`` row); of
    several rows of one (path, N) the last. The memory panel also draws ``P_bytes`` = 8·N².
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from brianforce.io import atomic_savefig

    rows = [r for r in read_rows(csv_path) if r.get("status") == "ok"]
    if not rows:
        raise ValueError(f"{csv_path} has no measured rows to plot")
    key = lambda r: tuple(float(r[k]) for k in ("settle_s", "train_s", "test_s"))  # noqa: E731
    want = tuple(float(x) for x in phases) if phases is not None else key(rows[-1])
    latest = {}
    for r in rows:
        if key(r) == want:
            latest[(r["path"], int(r["n_neurons"]))] = r
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(11, 4.2))
    paths = [p for p in PATHS if any(k[0] == p for k in latest)]
    paths += sorted({k[0] for k in latest} - set(paths))
    for path in paths:
        pts = sorted((n, r) for (p, n), r in latest.items() if p == path)
        ns = [n for n, _ in pts]
        ax_t.plot(ns, [float(r["wall_per_simulated_s"]) for _, r in pts], "o-", label=path)
        line, = ax_m.plot(ns, [float(r["peak_rss_bytes"]) / 1e9 for _, r in pts], "o-", label=path)
        tree = [(n, float(r["peak_python_and_main_rss_bytes"]) / 1e9) for n, r in pts
                if r.get("peak_python_and_main_rss_bytes")]
        if tree:
            ax_m.plot(*zip(*tree), ":", color=line.get_color(), lw=1)
    all_n = sorted({n for _, n in latest})
    grid = [all_n[0] * (all_n[-1] / all_n[0]) ** (i / 50) for i in range(51)] if len(all_n) > 1 else all_n
    ax_m.plot(grid, [8 * n * n / 1e9 for n in grid], "k--", lw=1, label="P: 8·N² bytes")
    for ax in (ax_t, ax_m):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("neurons N")
        ax.grid(True, which="both", alpha=0.3)
    ax_t.set_ylabel("wall s per simulated s (compile excluded)")
    ax_m.set_ylabel("peak RSS (GB); dotted: Python + binary")
    ax_t.legend(fontsize=8)
    ax_m.legend(fontsize=8)
    fig.suptitle(f"FORCE LIF, 5 Hz sinusoid, p = {P_CONNECT}: settle/train/test = "
                 f"{want[0]:g}/{want[1]:g}/{want[2]:g} s", fontsize=10)
    fig.tight_layout()
    atomic_savefig(fig, png_path, dpi=120)
    plt.close(fig)
    return Path(png_path)


# ---------------------------------------------------------------------- running
def run_one(path: str, n: int, seed: int, phases, normalised: bool = True) -> tuple:
    """Run one (path, N) in a fresh process; returns (wrapper report, child report or ``None``).
    ``normalised``: the RLS gain of the Brian2 paths (the numpy loop's is always normalised)."""
    cmd = [sys.executable, "-c", WRAPPER, sys.executable, "-c", CHILD, path, str(seed), str(n),
           *map(str, phases), str(HERE), "normalised" if normalised else "unnormalised"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"the wrapper process failed: {proc.stderr[-2000:]}")
    wrapper = json.loads(proc.stdout.strip().splitlines()[-1])
    child = None
    if wrapper["returncode"] == 0:
        lines = wrapper["stdout"].strip().splitlines()
        child = json.loads(lines[-1]) if lines else None
    return wrapper, child


def _failure(wrapper: dict) -> str:
    lines = [s for s in wrapper["stderr"].strip().splitlines() if s.strip()]
    last = lines[-1] if lines else "no output"
    return f"exit {wrapper['returncode']}: {last}"[:300]


def main(argv=None):
    from brianforce.io import append_csv_row
    from brianforce.memory import available_bytes, format_bytes

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--paths", nargs="+", choices=PATHS, default=list(PATHS))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--protocol", choices=sorted(PROTOCOLS), default="short",
                    help="full = 5/5/5 s (a trained network); short = 0.1/0.2/0.1 s (speed and memory only)")
    ap.add_argument("--phases", type=float, nargs=3, metavar=("SETTLE", "TRAIN", "TEST"),
                    help="seconds; overrides --protocol")
    ap.add_argument("--max-seconds", type=float, default=None,
                    help="skip a (path, N) whose end-to-end time predicted from a smaller size exceeds this")
    ap.add_argument("--unnormalised", action="store_true",
                    help="Nicola & Clopath's un-normalised RLS step on the Brian2 paths (noted in the rows)")
    ap.add_argument("--note", default="", help="written to the rows' note column")
    ap.add_argument("--out", default=str(RESULTS))
    ap.add_argument("--png", default=None, help="figure (default: --out with .png)")
    ap.add_argument("--plot", action="store_true", help="only redraw the figure from --out")
    args = ap.parse_args(argv)
    png = args.png or str(Path(args.out).with_suffix(".png"))
    if args.plot:
        print(plot(args.out, png, args.phases))
        return
    if args.unnormalised:
        args.note = "; ".join(x for x in ("un-normalised RLS gain (numpy loop: normalised)", args.note) if x)
    phases = phases_for(args.protocol, args.phases)
    protocol = "custom" if args.phases is not None else args.protocol
    simulated = sum(phases)
    earlier = [r for r in read_rows(args.out)
               if tuple(float(r[k]) for k in ("settle_s", "train_s", "test_s")) == phases]
    measured = []
    for n in sorted(args.sizes):
        for path in args.paths:
            common = dict(note=args.note, needed=needed_bytes(path, n))
            free = available_bytes()
            prev = last_measured(earlier + measured, path, n)
            if free is not None and common["needed"] > free:
                row = make_row(path, n, args.seed, protocol, phases, status="skipped",
                               reason=f"needs about {common['needed']} bytes ({format_bytes(common['needed'])}); "
                                      f"{free} bytes ({format_bytes(free)}) available", **common)
            elif args.max_seconds is not None and prev is not None and \
                    (guess := predict_seconds(prev, n, simulated)) > args.max_seconds:
                row = make_row(path, n, args.seed, protocol, phases, status="skipped",
                               reason=f"predicted {guess:.0f} s from N = {prev['n_neurons']} "
                                      f"> --max-seconds {args.max_seconds:g}", **common)
            else:
                wrapper, child = run_one(path, n, args.seed, phases, normalised=not args.unnormalised)
                if child is None:
                    row = make_row(path, n, args.seed, protocol, phases, status="failed", reason=_failure(wrapper),
                                   wrapper=wrapper, **common)
                else:
                    row = make_row(path, n, args.seed, protocol, phases, child=child, wrapper=wrapper, **common)
                    measured.append({k: str(v) for k, v in row.items()})
            append_csv_row(args.out, row)
            print(json.dumps(row), flush=True)
    if any(r["status"] == "ok" for r in read_rows(args.out)):
        print(plot(args.out, png, phases if measured else None))


if __name__ == "__main__":
    main()
