"""Kill test: SIGKILL ``train``, ``run`` and ``sweep`` at random moments and check what they leave.

Every command runs as ``python -m brianforce ...`` in its own process group and is killed with
SIGKILL (process group included) at a random moment in ``[0, T_full]``, ``T_full`` being the wall
time of one uninterrupted run of the same command; ``--seed`` fixes the moments as fractions of
``T_full``. After each kill the output folder is checked:

``train`` (a copy of ``models/nicola_clopath_sinusoid.toml`` with N = 200, 0.1 s settle, 0.5 s
training, 0.3 s test; the Cython cache is warmed by one run first)
    Into a fresh folder: ``model.npz`` is absent or loads with ``FORCETrainer.load`` and is the
    finished model (byte-identical to the uninterrupted run's), ``summary.json`` is absent or the
    finished summary (wall times aside), ``figure.png`` is absent or the finished figure, nothing
    else visible is there, and ``summary.json`` (written last) is never present without the model.
    Hidden ``.NAME.*.tmp`` strays are counted; with strays but no visible output,
    ``prepare_output`` must accept the folder (strays are not taken for results).
``train (refuse)``
    ``train`` into a folder holding a finished model, without ``--overwrite``, must fail (exit 1,
    "already holds") and leave every file byte-identical.
``train --overwrite``
    A recipe with another seed is trained with ``--overwrite`` into a copy of a finished folder:
    the model must still load and be the old or the new finished model, and all present files
    (figure, model, summary) must come from one and the same run (no summary or figure of the old
    run beside the new model, or the reverse).
``run``
    ``run MODEL --device runtime --duration 1 --overwrite`` into one folder that starts with the
    finished outputs of a ``--duration 0.5`` run, repeatedly: ``output.npz``, ``output.png`` and
    ``summary.json`` absent or identical to a finished run's (wall times aside), all from the same
    run; the model file's SHA-256 unchanged.
``sweep``
    A 6-cell rate-model sweep (``--scheduler synchronous``), resumed into the same folder after
    each kill. Every cell file must read (``read_cell``) as ``None`` without a file, or as the row
    of an uninterrupted reference sweep (``rtol = 1e-9``, wall time aside); an existing but
    invalid cell file is a violation (cells are written atomically). A finished cell's file must
    keep its bytes and mtime through every later kill and resume (never recomputed).
    ``results.csv``, when present, equals the reference table. Once a resume finishes the whole
    sweep before its kill moment, the remaining kills continue in a fresh folder; a final resume
    into the last folder must complete every cell and write the reference table.

Random moments rarely fall in the milliseconds between two outputs being replaced, so both
``--overwrite`` commands are also killed once right after each of their outputs is replaced
(a new file stands at its name; polled every 2 ms): the files left must still all come from one
run.

One row per kill (and per refusal check / final resume) is appended to
``benchmarks/results/kill_test.csv`` (columns: run, command, kill_at_s, outcome, found, valid);
the exit status is 1 if any row is not valid.

    python benchmarks/kill_test.py [--seed 0] [--kills 10] [--results PATH] [--keep DIR]
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "kill_test.csv"
COLUMNS = ("run", "command", "kill_at_s", "outcome", "found", "valid")
STRAY = re.compile(r"^\..+\.[^.]+\.tmp$")         # .NAME.<random>.tmp of atomic_path

TRAIN_EDITS = {"n_neurons = 2000": "n_neurons = 200", 'settle = "0.5 s"': 'settle = "0.1 s"',
               'train = "9.5 s"': 'train = "0.5 s"', 'test = "2 s"': 'test = "0.3 s"'}
SWEEP_RECIPE = """
[experiment]
method = "sweep"
name = "kill-test"
model = "rate"
seeds = [0]
threshold = 0.5
[task]
name = "sinusoid"
frequency = 5.0
[network]
n_neurons = 200
rate_dt = "0.25 ms"
[protocol]
settle = "0.05 s"
train = "2 s"
test = "1 s"
[grid]
G = ["0.02 mV*s", "0.04 mV*s", "0.08 mV*s"]
Q = { start = "10 mV", stop = "40 mV", num = 2 }
"""


# ------------------------------------------------------------------------------ processes
def brianforce(*args) -> list:
    """The command line of ``python -m brianforce ARGS``."""
    return [sys.executable, "-m", "brianforce", *map(str, args)]


def _start(cmd, log: Path, note: str):
    """Start ``cmd`` in its own process group, its output appended to ``log``; ``(process, start time)``."""
    with open(log, "ab") as fh:
        fh.write(f"$ {' '.join(cmd)}  ({note})\n".encode())
        fh.flush()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
                                cwd=log.parent)
    return proc, t0


def launch(cmd, kill_at, log: Path):
    """Run ``cmd``; SIGKILL its process group ``kill_at`` seconds after the start (``None``: never).

    Returns
    -------
    outcome : str
        ``"killed"``, ``"finished"`` (exit 0 before the kill moment) or ``"exit N"``.
    wall : float
        Seconds from the start to the end (or the kill).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    proc, t0 = _start(cmd, log, f"kill at {kill_at}")
    try:
        rc = proc.wait(timeout=kill_at)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return "killed", time.perf_counter() - t0
    wall = time.perf_counter() - t0
    if _group_alive(proc.pid):                      # a finished process must not leave children behind
        os.killpg(proc.pid, signal.SIGKILL)
    return ("finished" if rc == 0 else f"exit {rc}"), wall


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def _stamp(path: Path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def launch_when_replaced(cmd, watch: Path, log: Path):
    """Run ``cmd``; SIGKILL its process group as soon as a new file stands at ``watch``.

    Polls every 2 ms; returns ``(outcome, wall)`` as :func:`launch`.
    """
    before = _stamp(watch)
    proc, t0 = _start(cmd, log, f"kill when {watch.name} is replaced")
    while proc.poll() is None:
        now = _stamp(watch)
        if now is not None and now != before:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return "killed", time.perf_counter() - t0
        time.sleep(0.002)
    wall = time.perf_counter() - t0
    if _group_alive(proc.pid):
        os.killpg(proc.pid, signal.SIGKILL)
    return ("finished" if proc.returncode == 0 else f"exit {proc.returncode}"), wall


def full_run(cmd, log: Path) -> float:
    """Run ``cmd`` to the end; its wall time. Raises if it fails."""
    outcome, wall = launch(cmd, None, log)
    if outcome != "finished":
        raise RuntimeError(f"uninterrupted run failed ({outcome}): {' '.join(cmd)}; see {log}")
    return wall


# ------------------------------------------------------------------------------ file checks
def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def listing(folder: Path):
    """(visible files, stray ``.NAME.*.tmp`` files, other hidden files), relative to ``folder``."""
    visible, strays, hidden = [], [], []
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(folder)
        if not any(part.startswith(".") for part in rel.parts):
            visible.append(str(rel))
        elif STRAY.match(p.name):
            strays.append(str(rel))
        else:
            hidden.append(str(rel))
    return visible, strays, hidden


def png_ok(path: Path) -> bool:
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()
        return Path(path).read_bytes().endswith(b"IEND\xaeB`\x82")
    except Exception:  # noqa: BLE001 - any failure means the file is not a whole PNG
        return False


def summary_core(path: Path):
    """``summary.json`` without its wall times (``None`` if it does not parse)."""
    try:
        d = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(d, dict):
        return None
    d.pop("wall_time_s", None)
    return json.dumps(d, sort_keys=True)


def model_loads(path: Path) -> str | None:
    """``None`` if ``FORCETrainer.load`` accepts ``path``, else the error."""
    from brian2 import BrianLogger

    from brianforce.methods.force import FORCETrainer

    BrianLogger.suppress_name("unused_brian_object")    # the rebuilt network is never run

    try:
        FORCETrainer.load(path)
        return None
    except Exception as exc:  # noqa: BLE001 - recorded as a finding
        return f"{type(exc).__name__}: {exc}"


class RunFiles:
    """The finished files of one uninterrupted run, to tell which run a file comes from."""

    def __init__(self, name: str, folder: Path):
        self.name, self.folder = name, folder
        self.bytes = {p.name: sha(p) for p in folder.iterdir()
                      if p.is_file() and not p.name.startswith(".") and p.name != "summary.json"}
        self.summary = summary_core(folder / "summary.json") if (folder / "summary.json").exists() else None

    def matches(self, name: str, path: Path) -> bool:
        if name == "summary.json":
            return self.summary is not None and summary_core(path) == self.summary
        return self.bytes.get(name) == sha(path)


def check_run_folder(out: Path, refs: list, expected: tuple, model_name: str | None):
    """Classify every file of ``out`` against the finished runs ``refs``.

    Returns
    -------
    found : list of str
        One entry per file (``NAME=<run>`` or a problem).
    problems : list of str
    """
    visible, strays, hidden = listing(out)
    found, problems, origin = [], [], {}
    for name in visible:
        if name not in expected:
            problems.append(f"unexpected file {name}")
            continue
        path = out / name
        if name == model_name:
            err = model_loads(path)
            if err is not None:
                problems.append(f"{name} does not load ({err})")
                continue
        elif name.endswith(".png") and not png_ok(path):
            problems.append(f"{name} is not a whole PNG")
            continue
        elif name.endswith(".json") and summary_core(path) is None:
            problems.append(f"{name} does not parse")
            continue
        elif name.endswith(".npz") and not _npz_ok(path):
            problems.append(f"{name} is not a readable archive")
            continue
        runs = [r.name for r in refs if r.matches(name, path)]
        if not runs:
            problems.append(f"{name} is readable but is no finished run's file")
            continue
        origin[name] = runs
        found.append(f"{name}={'|'.join(runs)}")
    if origin:
        common = set.intersection(*(set(v) for v in origin.values()))
        if not common:
            problems.append("files of different runs side by side: " + ", ".join(f"{k}={'|'.join(v)}"
                                                                               for k, v in origin.items()))
    if "summary.json" in origin and model_name is not None and model_name not in origin:
        problems.append(f"summary.json without {model_name}")
    if strays:
        found.append(f"{len(strays)} stray tmp")
    if hidden:
        found.append("hidden: " + ",".join(hidden))
    if not visible and not strays and not hidden:
        found.append("empty")
    return found, problems


def _npz_ok(path: Path) -> bool:
    try:
        with np.load(path, allow_pickle=False) as f:
            for k in f.files:
                f[k]
        return True
    except Exception:  # noqa: BLE001
        return False


def strays_ignored(out: Path) -> str | None:
    """With strays and no results, ``prepare_output`` must accept ``out``; ``None`` if so."""
    from brianforce.experiments.cli import RUN_OUTPUTS, prepare_output

    visible, strays, _ = listing(out)
    if not strays or any(v in RUN_OUTPUTS for v in visible):
        return None
    try:
        prepare_output(out)
        return None
    except Exception as exc:  # noqa: BLE001
        return f"prepare_output refuses a folder holding only strays ({exc})"


# ------------------------------------------------------------------------------ sweep checks
def rows_equal(a: dict, b: dict, rtol: float = 1e-9) -> list:
    """Keys where two sweep rows differ (``wall_s`` ignored)."""
    bad = []
    for k in sorted(set(a) | set(b)):
        if k == "wall_s":
            continue
        if k not in a or k not in b:
            bad.append(k)
            continue
        x, y = a[k], b[k]
        if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool):
            if not (np.isclose(x, y, rtol=rtol, atol=0.0, equal_nan=True) or x == y):
                bad.append(k)
        elif x != y:
            bad.append(k)
    return bad


def tables_equal(path: Path, ref: Path, rtol: float = 1e-9) -> str | None:
    """``None`` if ``results.csv`` equals the reference table (``wall_s`` ignored)."""
    import pandas as pd

    try:
        a = pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001
        return f"results.csv does not parse ({exc})"
    b = pd.read_csv(ref)
    a = a.drop(columns="wall_s", errors="ignore").sort_values("key").reset_index(drop=True)
    b = b.drop(columns="wall_s", errors="ignore").sort_values("key").reset_index(drop=True)
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return f"results.csv has {len(a)} rows x {list(a.columns)}, the reference {len(b)} x {list(b.columns)}"
    for col in a.columns:
        if pd.api.types.is_numeric_dtype(b[col]) and not pd.api.types.is_bool_dtype(b[col]):
            ok = np.allclose(a[col].to_numpy(float), b[col].to_numpy(float), rtol=rtol, atol=0.0, equal_nan=True)
        else:
            ok = a[col].astype(str).tolist() == b[col].astype(str).tolist()
        if not ok:
            return f"results.csv column {col!r} differs from the reference"
    return None


class SweepState:
    """Cells of one sweep folder, with the bytes and mtime of every finished cell file."""

    def __init__(self, spec, folder: Path, reference: dict, reference_csv: Path):
        from brianforce.experiments.sweep import cell_key

        self.folder, self.reference, self.reference_csv = folder, reference, reference_csv
        self.cells = {cell_key(p): p for p in spec.cells()}
        self.finished = {}                          # key -> (mtime_ns, sha256)

    def check(self):
        """Findings and problems after a kill; remembers newly finished cells."""
        from brianforce.experiments.sweep import read_cell

        cells_dir = self.folder / "cells"
        problems, n_done, n_missing = [], 0, 0
        visible, strays, hidden = listing(self.folder) if self.folder.exists() else ([], [], [])
        expected = {"spec.json", "results.csv", "heatmap.png"} | {f"cells/{k}.json" for k in self.cells}
        problems += [f"unexpected file {v}" for v in visible if v not in expected]
        for key, params in self.cells.items():
            path = cells_dir / f"{key}.json"
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                row = read_cell(path, params)
            if caught:
                problems.append(f"cell {key} file exists but is invalid: {caught[0].message}")
            if row is None:
                n_missing += 1
                if key in self.finished:
                    problems.append(f"finished cell {key} was lost")
                continue
            diff = rows_equal(row, self.reference[key])
            if diff:
                problems.append(f"cell {key} accepted with a row unlike the reference ({', '.join(diff)})")
            n_done += 1
            stamp = (path.stat().st_mtime_ns, sha(path))
            if key in self.finished and self.finished[key] != stamp:
                problems.append(f"finished cell {key} was rewritten (recomputed)")
            self.finished.setdefault(key, stamp)
        if (self.folder / "spec.json").exists() and summary_core(self.folder / "spec.json") is None:
            problems.append("spec.json does not parse")
        if (self.folder / "heatmap.png").exists() and not png_ok(self.folder / "heatmap.png"):
            problems.append("heatmap.png is not a whole PNG")
        has_table = (self.folder / "results.csv").exists()
        if has_table:
            err = tables_equal(self.folder / "results.csv", self.reference_csv)
            if err:
                problems.append(err)
        found = [f"{n_done}/{len(self.cells)} cells valid", f"{n_missing} missing"]
        if has_table:
            found.append("results.csv")
        if strays:
            found.append(f"{len(strays)} stray tmp")
        if hidden:
            found.append("hidden: " + ",".join(hidden))
        return found, problems, n_missing == 0 and has_table


# ------------------------------------------------------------------------------ the test
class Log:
    """Rows of this invocation, appended to the CSV as they come."""

    def __init__(self, path: Path, run_id: str):
        self.path, self.run_id, self.rows = path, run_id, []

    def add(self, command, kill_at, outcome, found, problems):
        row = {"run": self.run_id, "command": command,
               "kill_at_s": "" if kill_at is None else f"{kill_at:.3f}", "outcome": outcome,
               "found": "; ".join(list(found) + [f"VIOLATION: {p}" for p in problems]),
               "valid": not problems}
        self.rows.append(row)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        with open(self.path, "a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=COLUMNS)
            if new:
                w.writeheader()
            w.writerow(row)
        mark = "ok " if not problems else "BAD"
        print(f"  {mark} {command:18s} kill {row['kill_at_s']:>7s}  {outcome:9s} {row['found']}", flush=True)


def test_train(work: Path, fractions, fractions_over, log: Log):
    recipe_text = (ROOT / "models" / "nicola_clopath_sinusoid.toml").read_text()
    for old, new in TRAIN_EDITS.items():
        if old not in recipe_text:
            raise RuntimeError(f"models/nicola_clopath_sinusoid.toml does not hold {old!r}, which this script edits")
        recipe_text = recipe_text.replace(old, new)
    recipe = work / "train.toml"
    recipe.write_text(recipe_text)
    recipe_new = work / "train_seed1.toml"
    recipe_new.write_text(recipe_text.replace("seed = 0", "seed = 1"))
    logs = work / "logs"
    print("train: warming the Cython cache, then two uninterrupted reference runs", flush=True)
    full_run(brianforce("train", recipe, "--out", work / "warm"), logs / "train.log")
    t_full = full_run(brianforce("train", recipe, "--out", work / "ref_old"), logs / "train.log")
    t_new = full_run(brianforce("train", recipe_new, "--out", work / "ref_new"), logs / "train.log")
    old, new = RunFiles("old", work / "ref_old"), RunFiles("new", work / "ref_new")
    warm = RunFiles("warm", work / "warm")
    if (warm.bytes, warm.summary) != (old.bytes, old.summary):
        raise RuntimeError("two uninterrupted train runs wrote different files; the test needs them identical")
    print(f"train: T_full = {t_full:.2f} s (seed 1: {t_new:.2f} s)", flush=True)
    expected = ("figure.png", "model.npz", "summary.json")
    for i, frac in enumerate(fractions):
        out = work / "train" / f"kill-{i}"
        kill_at = frac * t_full
        outcome, _ = launch(brianforce("train", recipe, "--out", out), kill_at, logs / "train.log")
        found, problems = check_run_folder(out, [old], expected, "model.npz") if out.exists() else (["no folder"], [])
        if out.exists():
            err = strays_ignored(out)
            problems += [err] if err else []
        if outcome.startswith("exit"):
            problems.append(f"the run failed ({outcome})")
        if outcome == "finished" and not {"model.npz=old", "summary.json=old"} <= set(found):
            problems.append("the run finished but its outputs are incomplete")
        log.add("train", kill_at, outcome, found, problems)

    # a finished model is never replaced without --overwrite
    out = work / "train" / "refuse"
    shutil.copytree(work / "ref_old", out)
    before = {p.name: sha(p) for p in out.iterdir()}
    proc = subprocess.run(brianforce("train", recipe_new, "--out", out), capture_output=True, text=True,
                          cwd=work)
    after = {p.name: sha(p) for p in out.iterdir()}
    problems = []
    if proc.returncode != 1 or "already holds" not in proc.stderr:
        problems.append(f"not refused (exit {proc.returncode}: {proc.stderr.strip()[-200:]})")
    if after != before:
        problems.append("the folder changed")
    log.add("train (refuse)", None, f"exit {proc.returncode}", ["files byte-identical" if after == before
                                                                else "files changed"], problems)

    # --overwrite killed midway: the old or the new finished model, never a mixture
    for i, frac in enumerate(fractions_over):
        out = work / "train" / f"overwrite-{i}"
        shutil.copytree(work / "ref_old", out)
        kill_at = frac * t_new
        outcome, _ = launch(brianforce("train", recipe_new, "--out", out, "--overwrite"), kill_at,
                            logs / "train.log")
        found, problems = check_run_folder(out, [old, new], expected, "model.npz")
        if not (out / "model.npz").exists():
            problems.append("the earlier model is gone")
        if outcome.startswith("exit"):
            problems.append(f"the run failed ({outcome})")
        if outcome == "finished" and not {"model.npz=new", "summary.json=new", "figure.png=new"} <= set(found):
            problems.append("the run finished but its outputs are incomplete")
        log.add("train --overwrite", kill_at, outcome, found, problems)
    for name in expected:                             # right after each output is replaced
        out = work / "train" / f"overwrite-{name}"
        shutil.copytree(work / "ref_old", out)
        outcome, wall = launch_when_replaced(brianforce("train", recipe_new, "--out", out, "--overwrite"),
                                             out / name, logs / "train.log")
        found, problems = check_run_folder(out, [old, new], expected, "model.npz")
        if outcome.startswith("exit"):
            problems.append(f"the run failed ({outcome})")
        log.add(f"train --overwrite (when {name} is replaced)", wall, outcome, found, problems)
    return work / "ref_old" / "model.npz"


def test_run(work: Path, model_src: Path, fractions, log: Log):
    from brianforce.experiments.cli import RUN_OUTPUTS

    folder = work / "run"
    folder.mkdir()
    model = folder / "model.npz"
    shutil.copy2(model_src, model)
    model_sha = sha(model)
    logs = work / "logs"
    args = ("run", model, "--device", "runtime")
    t_full = full_run(brianforce(*args, "--duration", 1, "--out", folder / "ref"), logs / "run.log")
    full_run(brianforce(*args, "--duration", 0.5, "--out", folder / "short"), logs / "run.log")
    ref, short = RunFiles("ref", folder / "ref"), RunFiles("short", folder / "short")
    print(f"run: T_full = {t_full:.2f} s", flush=True)
    out = folder / "out"
    shutil.copytree(folder / "short", out)          # an earlier, other run: outputs must never mix
    expected = ("output.npz", "output.png", "summary.json")
    for i, frac in enumerate(fractions):
        kill_at = frac * t_full
        overwrite = any((out / n).exists() for n in RUN_OUTPUTS)
        cmd = brianforce(*args, "--duration", 1, "--out", out, *(["--overwrite"] if overwrite else []))
        outcome, _ = launch(cmd, kill_at, logs / "run.log")
        found, problems = check_run_folder(out, [ref, short], expected, None)
        err = strays_ignored(out)
        problems += [err] if err else []
        if sha(model) != model_sha:
            problems.append("the model file changed")
        else:
            found.append("model unchanged")
        if outcome.startswith("exit"):
            problems.append(f"the run failed ({outcome})")
        if outcome == "finished" and not {"output.npz=ref", "summary.json=ref", "output.png=ref"} <= set(found):
            problems.append("the run finished but its outputs are incomplete")
        log.add("run --overwrite" if overwrite else "run", kill_at, outcome, found, problems)
    for name in expected:                             # right after each output is replaced
        out = folder / f"out-{name}"
        shutil.copytree(folder / "short", out)
        cmd = brianforce(*args, "--duration", 1, "--out", out, "--overwrite")
        outcome, wall = launch_when_replaced(cmd, out / name, logs / "run.log")
        found, problems = check_run_folder(out, [ref, short], expected, None)
        if outcome.startswith("exit"):
            problems.append(f"the run failed ({outcome})")
        log.add(f"run --overwrite (when {name} is replaced)", wall, outcome, found, problems)


def test_sweep(work: Path, fractions, log: Log):
    from brianforce.config import load_recipe
    from brianforce.experiments.sweep import SweepSpec, cell_key, read_cell

    folder = work / "sweep"
    folder.mkdir()
    recipe = folder / "sweep.toml"
    recipe.write_text(SWEEP_RECIPE)
    spec = SweepSpec.from_recipe(load_recipe(recipe))
    logs = work / "logs"
    args = ("sweep", recipe, "--scheduler", "synchronous")
    t_full = full_run(brianforce(*args, "--out", folder / "ref"), logs / "sweep.log")
    reference = {}
    for params in spec.cells():
        key = cell_key(params)
        row = read_cell(folder / "ref" / "cells" / f"{key}.json", params)
        if row is None:
            raise RuntimeError(f"the reference sweep did not finish cell {key}")
        reference[key] = row
    print(f"sweep: T_full = {t_full:.2f} s ({len(reference)} cells)", flush=True)
    n_round = 1
    state = SweepState(spec, folder / f"round-{n_round}", reference, folder / "ref" / "results.csv")
    for frac in fractions:
        kill_at = frac * t_full
        outcome, _ = launch(brianforce(*args, "--out", state.folder), kill_at, logs / "sweep.log")
        found, problems, complete = state.check()
        if outcome.startswith("exit"):
            problems.append(f"the run failed ({outcome})")
        if outcome == "finished" and not complete:
            problems.append("the sweep finished but not every cell is valid")
        log.add(f"sweep (round {n_round})", kill_at, outcome, found, problems)
        if complete:                                  # a finished sweep: go on in a fresh folder
            n_round += 1
            state = SweepState(spec, folder / f"round-{n_round}", reference, folder / "ref" / "results.csv")
    outcome, _ = launch(brianforce(*args, "--out", state.folder), None, logs / "sweep.log")
    found, problems, complete = state.check()
    if outcome != "finished" or not complete:
        problems.append(f"the final resume did not complete the sweep ({outcome})")
    log.add(f"sweep (round {n_round}, final resume)", None, outcome, found, problems)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0, help="fixes the kill moments (default: %(default)s)")
    ap.add_argument("--kills", type=int, default=10, help="kills per command (default: %(default)s)")
    ap.add_argument("--results", default=str(RESULTS), help="CSV the rows are appended to (default: %(default)s)")
    ap.add_argument("--keep", help="keep the work folder here (default: a removed temporary folder)")
    args = ap.parse_args(argv)
    if args.kills < 1:
        ap.error("--kills must be >= 1")
    rng = np.random.default_rng(args.seed)
    fractions = {name: rng.random(args.kills) for name in ("train", "train_over", "run", "sweep")}
    run_id = f"{time.strftime('%Y-%m-%dT%H:%M:%S')} seed={args.seed}"
    log = Log(Path(args.results), run_id)
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="brianforce-kill-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"kill test, seed {args.seed}, {args.kills} kills per command; work folder {work}", flush=True)
    try:
        model = test_train(work, fractions["train"], fractions["train_over"], log)
        test_run(work, model, fractions["run"], log)
        test_sweep(work, fractions["sweep"], log)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    counts = Counter((r["command"].split(" (round")[0], r["outcome"], r["valid"]) for r in log.rows)
    print("\nsummary (command, outcome, valid: count)")
    for (command, outcome, valid), n in sorted(counts.items()):
        print(f"  {command:28s} {outcome:9s} {'valid' if valid else 'VIOLATION':9s} {n}")
    bad = [r for r in log.rows if not r["valid"]]
    print(f"{len(log.rows)} rows appended to {args.results}; {len(bad)} violation(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
