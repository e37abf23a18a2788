"""Helpers of the device benchmarks: each measurement runs in a fresh Python process.

The child prints one line ``RESULT <json>``; :func:`run_child` runs it and returns the dict.
:func:`cache_state` empties the project cache entries of one kind first when asked (``cold``).
:func:`add_device_arguments` and :func:`run_devices` are the shared command line and loop over devices.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time


def run_child(cmd: list, what: str) -> dict:
    """Run ``cmd``; the dict of its last ``RESULT`` line (exits with its stderr's tail if it failed)."""
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode or not lines:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"{what} run failed")
    return json.loads(lines[-1][7:])


def cache_state(kind: str, cold: bool) -> str:
    """Empty the cached projects named ``kind-*`` if ``cold``; the ``cache`` column's value."""
    from brianforce.devices.cache import cache_root

    root = cache_root()
    if cold and root:
        for entry in root.glob(f"{kind}-*"):
            shutil.rmtree(entry, ignore_errors=True)
    return "cold" if cold else "as found"


def add_device_arguments(ap: argparse.ArgumentParser, out: str) -> None:
    """``--seed --size --devices --data --cold --out`` (and the hidden ``--child``)."""
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--size", default="full", choices=("full", "ci"))
    ap.add_argument("--devices", default="runtime,cpp_standalone")
    ap.add_argument("--data", default=None, help="recorded data (default: the synthetic look-alike)")
    ap.add_argument("--cold", action="store_true", help="empty this kind's cached programs before the compiled run")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=out)


def run_devices(script: str, a, kind: str):
    """For each of ``a.devices``: ``(device, cache, result)`` of ``script``'s child run in a fresh process
    (``kind``: the cached projects ``--cold`` empties)."""
    for device in a.devices.split(","):
        cache = cache_state(kind, a.cold) if device != "runtime" else ""
        out = f"{a.out}/{a.recipe}_{a.size}_seed{a.seed}_{device}"
        cmd = [sys.executable, script, a.recipe, "--seed", str(a.seed), "--size", a.size, "--child", device,
               "--out", out] + (["--data", a.data] if a.data else [])
        yield device, cache, run_child(cmd, device)


def common_row(a, device: str, cache: str, r: dict) -> dict:
    """The columns every device benchmark row has: when, what, where, the metrics and the host's load."""
    return {"date": time.strftime("%Y-%m-%d %H:%M"), "recipe": a.recipe, "seed": a.seed, "size": a.size,
            "device": device, "cache": cache, "wall_s": round(r["wall_s"], 2),
            "metrics": json.dumps(r["metrics"], sort_keys=True),
            "criteria_met": json.dumps(r["criteria_met"], sort_keys=True), "data": r["data"],
            "host_load": round(os.getloadavg()[0], 2)}


def parse_or_run_child(ap: argparse.ArgumentParser, argv, one):
    """The parsed arguments; or, in a child (``--child DEVICE``), print ``RESULT`` of ``one(args)`` and return None."""
    a = ap.parse_args(argv)
    if a.child:
        print("RESULT " + json.dumps(one(a)))
        return None
    return a
