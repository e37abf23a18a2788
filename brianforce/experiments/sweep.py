"""Resumable parameter sweeps of matched spiking/rate FORCE networks on Dask.

A sweep is a grid (e.g. learning rate α, G × Q, network size) × seeds. Every cell is
one independent training run (:func:`run_cell`), submitted to a ``dask.distributed``
cluster — a :class:`~distributed.LocalCluster` by default, or any scheduler address —
and written atomically to its own small JSON file ``cells/<key>.json`` keyed by a hash of
all its parameters as soon as it finishes; the file holds the parameters, the result row
and a checksum. Re-running an interrupted sweep computes only the cells without a valid
file: a truncated, edited or foreign cell file is recomputed, with a warning naming it. A
cell that fails records its error in its row (column ``error``) instead of aborting the
sweep, and is tried again on the next run. The collected table is a pandas DataFrame saved
to ``results.csv``. Cell files and the Dask loop: :mod:`brianforce.experiments.cells`.

Brian2 is not thread-safe: spiking cells need worker *processes* (the default); each
worker compiles or loads the Cython cache once. Rate-only sweeps also run on threads.

References
----------
Newton TR, Nicola W (2025) Spiking and rate networks trained with FORCE: a parameter-
matched comparison. PLoS Comput Biol 21:e1013224 (G × Q and learning-rate sweeps).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

import numpy as np

from brianforce.experiments import cells
from brianforce.experiments.cells import cell_key, cell_record

__all__ = ["SweepSpec", "SweepRun", "run_cell", "run_cell_recording_errors", "cell_key", "cell_record",
           "read_cell", "run_sweep", "sweep_cli", "load_results"]

MODELS = ("rate", "spiking", "both")
# Network parameters a cell may set, with their SI unit name (as stored in the table).
NETWORK_UNITS = {"n_neurons": None, "p": None, "G": "V*s", "Q": "V", "alpha": None, "rls_interval": "s",
                 "dt": "s", "rate_dt": "s", "divergence_factor": None}
_DEFAULT_NETWORK = {"n_neurons": 300, "p": 0.4, "G": 0.04e-3, "Q": 20e-3, "alpha": 5e-6,
                    "rls_interval": 5e-3, "dt": 5e-5, "rate_dt": 2.5e-4, "divergence_factor": 100.0}


RECIPE_SECTIONS = ("experiment", "task", "network", "protocol", "grid", "dask")
EXPERIMENT_KEYS = ("method", "name", "title", "description", "model", "seeds", "threshold")


def _log(msg: str) -> None:
    from brianforce.experiments.progress import log

    log(f"sweep: {msg}")


@dataclass(frozen=True)
class SweepSpec:
    """A grid of cells. All values are plain SI floats (V·s, V, s) or ints.

    Attributes
    ----------
    name : str
    axes : dict
        Swept parameter → list of values (keys of ``NETWORK_UNITS``).
    seeds : tuple of int
    network : dict
        Fixed network parameters (defaults: Newton & Nicola, N = 300).
    task : dict
        ``{"name": ..., **task parameters}`` for :func:`brianforce.tasks.make_task`.
    settle, train, test : float (s)
    model : {"rate", "spiking", "both"}
    threshold : float
        A network converged when its test RMSE / amplitude is below this.
    """

    name: str
    axes: dict
    seeds: tuple = (0,)
    network: dict = field(default_factory=dict)
    task: dict = field(default_factory=lambda: {"name": "sinusoid", "frequency": 5.0})
    settle: float = 0.3
    train: float = 2.0
    test: float = 1.0
    model: str = "rate"
    threshold: float = 0.3

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        for k, vals in self.axes.items():
            if k not in NETWORK_UNITS:
                raise ValueError(f"cannot sweep {k!r}; allowed: {sorted(NETWORK_UNITS)}")
            if len(vals) == 0:
                raise ValueError(f"axis {k!r} has no values")
        for k in self.network:
            if k not in NETWORK_UNITS:
                raise ValueError(f"unknown network parameter {k!r}; allowed: {sorted(NETWORK_UNITS)}")
        if not self.seeds:
            raise ValueError("need at least one seed")
        if self.settle < 0 or self.train <= 0 or self.test <= 0:
            raise ValueError("need settle >= 0, train > 0 and test > 0 (seconds)")
        if not self.threshold > 0:
            raise ValueError("threshold must be > 0")

    def cells(self) -> list[dict]:
        """One parameter dict per cell (grid in axis order, seeds innermost)."""
        names = list(self.axes)
        out = []
        for values in product(*(self.axes[k] for k in names)):
            for seed in self.seeds:
                net = {**_DEFAULT_NETWORK, **self.network, **dict(zip(names, values))}
                net["n_neurons"] = int(net["n_neurons"])
                out.append({"network": net, "seed": int(seed), "task": dict(self.task), "model": self.model,
                            "settle": self.settle, "train": self.train, "test": self.test,
                            "threshold": self.threshold})
        return out

    @classmethod
    def from_recipe(cls, recipe: dict) -> "SweepSpec":
        """Build from a ``method = "sweep"`` TOML recipe (see ``models/newton_nicola_*_sweep.toml``).

        Every value is checked before any cell runs: quantities against the units of
        :data:`NETWORK_UNITS` (``"0.08 mV*s"``; a plain number is read in SI units), counts and seeds as
        integers, ``log`` as a boolean, the protocol as durations, and ``[task]`` by building the task.
        """
        from brian2 import DimensionMismatchError

        from brianforce.checks import as_count, as_number
        from brianforce.config import COMMON_EXPERIMENT_KEYS, RecipeError, check_keys, recipe_seconds
        from brianforce.tasks import make_task

        check_keys(recipe, RECIPE_SECTIONS, "the sweep recipe")
        check_keys(recipe.get("experiment", {}), (*EXPERIMENT_KEYS, *COMMON_EXPERIMENT_KEYS), "[experiment]")
        check_keys(recipe.get("network", {}), NETWORK_UNITS, "[network]")
        check_keys(recipe.get("grid", {}), NETWORK_UNITS, "[grid]")
        check_keys(recipe.get("protocol", {}), ("settle", "train", "test"), "[protocol]")
        check_keys(recipe.get("dask", {}), ("n_workers", "threads_per_worker"), "[dask]")
        try:
            exp = recipe["experiment"]
            net = {k: _si(v, k, f"[network] {k}") for k, v in recipe.get("network", {}).items()}
            axes = {k: _axis(v, k) for k, v in recipe["grid"].items()}
            proto = {k: recipe_seconds(v, f"[protocol] {k}", allow_zero=k == "settle")
                     for k, v in recipe.get("protocol", {}).items()}
            seeds = exp.get("seeds", [0])
            if not isinstance(seeds, list):
                raise TypeError(f"[experiment] seeds must be a list of integers, got {seeds!r}")
            seeds = tuple(as_count(s, "[experiment] seeds") for s in seeds)
            task = dict(recipe.get("task", {"name": "sinusoid"}))
            try:
                make_task(**task)
            except TypeError as exc:
                raise RecipeError(f"[task]: {exc}") from exc
            return cls(name=exp.get("name", exp.get("title", "sweep")), axes=axes, seeds=seeds, network=net,
                       task=task, model=exp.get("model", "rate"),
                       threshold=as_number(exp.get("threshold", 0.3), "[experiment] threshold"), **proto)
        except KeyError as exc:
            raise RecipeError(f"sweep recipe is missing {exc}") from exc
        except (TypeError, DimensionMismatchError) as exc:
            raise RecipeError(f"sweep recipe: {exc}") from exc


def _si(value, key: str, name: str):
    """A network value as an SI float (an int for ``n_neurons``), checked against ``NETWORK_UNITS[key]``:
    a quantity string (``"10 ms"`` → 0.01) or a plain number read in SI units."""
    from brian2 import DimensionMismatchError, have_same_dimensions

    from brianforce.checks import as_count, as_number
    from brianforce.config import parse_quantity

    if key == "n_neurons":
        return as_count(value, name, minimum=1)
    unit = NETWORK_UNITS[key]
    if not isinstance(value, str):
        return as_number(value, name)
    if unit is None:
        raise TypeError(f"{name} must be a plain number, got {value!r}")
    q = parse_quantity(value)
    if not have_same_dimensions(q, parse_quantity(f"1 {unit}")):
        raise DimensionMismatchError(f"{name} must have units of {unit}, got {value!r}")
    return as_number(float(np.asarray(q)), name)


def _axis(v, key: str) -> list:
    """``[..]`` or ``{start, stop, num, log}`` (linear or log spacing) → list of SI values."""
    from brianforce.checks import as_count, as_flag
    from brianforce.config import check_keys

    name = f"[grid] {key}"
    if isinstance(v, dict):
        check_keys(v, ("start", "stop", "num", "log"), name)
        if not {"start", "stop", "num"} <= set(v):
            raise TypeError(f"{name} needs start, stop and num, got {v!r}")
        start, stop = _si(v["start"], key, f"{name} start"), _si(v["stop"], key, f"{name} stop")
        num = as_count(v["num"], f"{name} num", minimum=1)
        if as_flag(v.get("log", False), f"{name} log"):
            if not (start > 0 and stop > 0):
                raise ValueError(f"{name}: a log axis needs start and stop > 0, got {start!r}, {stop!r}")
            vals = np.geomspace(start, stop, num)
        else:
            vals = np.linspace(start, stop, num)
        return [int(round(x)) for x in vals] if key == "n_neurons" else [float(x) for x in vals]
    if isinstance(v, list):
        return [_si(x, key, name) for x in v]
    raise TypeError(f"{name} must be a list or a {{start, stop, num}} table, got {v!r}")


ROW_KEYS = ("seed", "model", "task", "spiking_error", "rate_error", "diverged", "spiking_converged",
            "rate_converged", "wall_s")


def run_cell_recording_errors(params: dict) -> dict:
    """:func:`run_cell`, with an exception recorded in the row (``error``) instead of raised."""
    try:
        row = run_cell(params)
        row["error"] = ""
        return row
    except Exception as exc:  # noqa: BLE001 - one cell's failure must not end the sweep
        return failed_row(params, exc)


def failed_row(params: dict, exc: BaseException) -> dict:
    """The row of a cell whose run raised ``exc``."""
    net = params["network"]
    return {**{k: net.get(k, np.nan) for k in NETWORK_UNITS}, "seed": params["seed"], "model": params["model"],
            "task": params["task"]["name"], "spiking_error": np.nan, "rate_error": np.nan, "diverged": False,
            "diverged_at": np.nan, "spiking_converged": False, "rate_converged": False, "wall_s": 0.0,
            "error": f"{type(exc).__name__}: {exc}"}


def run_cell(params: dict) -> dict:
    """Train the network(s) of one cell and return a flat row of parameters and metrics.

    Errors are RMSE / target amplitude after the best shift of up to a quarter period
    (:func:`~brianforce.methods.comparison.lag_adjusted_error`) over the whole free-running test;
    ``model="both"`` adds ``*_error_period`` columns with a shift of up to half a period
    chosen per period, the open-loop (teacher-forced) decoding errors ``*_error_open`` with
    own and transferred decoders and their ratios, and the closed-loop output frequencies
    ``*_frequency``.
    Divergence is recorded, not raised: ``diverged`` is True, ``diverged_at`` the
    simulated time (s) and the error of the diverged network is ``inf``.
    """
    from brianforce.blas import one_blas_thread
    from brianforce.heap import frozen_heap

    from brian2 import second, volt

    from brianforce.methods.comparison import MatchedForceComparison, lag_adjusted_error
    from brianforce.tasks import make_task
    from brianforce.methods.force import TrainingDiverged

    net = dict(params["network"])
    task_cfg = dict(params["task"])
    task = make_task(task_cfg.pop("name"), **task_cfg)
    row = {**{k: net[k] for k in NETWORK_UNITS}, "seed": params["seed"], "model": params["model"],
           "task": params["task"]["name"], "spiking_error": np.nan, "rate_error": np.nan,
           "decoder_correlation": np.nan, "spike_to_rate_error": np.nan, "rate_to_spike_error": np.nan,
           "diverged": False, "diverged_at": np.nan}
    wall0 = time.perf_counter()
    comp = MatchedForceComparison(net["n_neurons"], task.n_outputs, p=net["p"], G=net["G"] * volt * second,
                                  Q=net["Q"] * volt, alpha=net["alpha"], rls_interval=net["rls_interval"] * second,
                                  dt=net["dt"] * second, rate_dt=net["rate_dt"] * second,
                                  divergence_factor=net["divergence_factor"], seed=params["seed"])
    model = params["model"]
    lag = task.period / 4 if task.period else 0.05
    settle, train, test = params["settle"], params["train"], params["test"]
    with one_blas_thread(), frozen_heap():
        try:
            if model == "both":
                res = comp.fit(task, settle=settle * second, train=train * second, test=test * second,
                               cross_trial=True).result_
                for k in ("spiking_error", "rate_error", "spike_to_rate_error", "rate_to_spike_error"):
                    row[k] = getattr(res, f"{k}_whole")
                    row[f"{k}_period"] = getattr(res, k)
                row.update({k: getattr(res, k) for k in ("decoder_correlation", "cross_trial_correlation_spiking",
                                                          "cross_trial_correlation_rate")})
                # open loop (teacher-forced feedback) decoding errors and their ratios; frequencies
                for k in ("spiking_error_open", "rate_error_open", "spike_to_rate_error_open",
                          "rate_to_spike_error_open", "spike_to_rate_ratio_open", "rate_to_spike_ratio_open",
                          "cross_trial_error_open_spiking", "cross_trial_error_open_rate",
                          "spiking_frequency", "rate_frequency", "spike_to_rate_frequency",
                          "rate_to_spike_frequency"):
                    row[k] = getattr(res, k)
            elif model == "rate":
                rate = comp._make_rate().fit(task, settle=settle, train=train)
                r = rate.predict(test)
                row["rate_error"] = lag_adjusted_error(r.z, r.target, round(lag / net["rate_dt"]))
            else:
                tr = comp.spiking_.fit(task, settle=settle * second, train=train * second)
                s = tr.predict(test * second)
                row["spiking_error"] = lag_adjusted_error(s.z, s.target, round(lag / np.median(np.diff(s.t))))
        except TrainingDiverged as exc:
            row["diverged"], row["diverged_at"] = True, float(exc.time)
            for k in ("spiking_error", "rate_error"):
                if (k.startswith("spiking") and model != "rate") or (k.startswith("rate") and model != "spiking"):
                    if np.isnan(row[k]):
                        row[k] = np.inf
    thr = params["threshold"]
    row["spiking_converged"] = bool(np.isfinite(row["spiking_error"]) and row["spiking_error"] < thr)
    row["rate_converged"] = bool(np.isfinite(row["rate_error"]) and row["rate_error"] < thr)
    row["wall_s"] = time.perf_counter() - wall0
    return row


def read_cell(path: Path, params: dict) -> dict | None:
    """The result row in ``path`` if it is a valid, finished cell of ``params``; else ``None`` with a
    warning naming the file (a missing file is silently ``None``).

    See :func:`brianforce.experiments.cells.read_cell`.
    """
    return cells.read_cell(path, params, required=ROW_KEYS, what="sweep")


@dataclass
class SweepRun:
    """Outcome of :func:`run_sweep`.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per cell (all cells of the spec, finished now or before).
    computed : list of str
        Keys of the cells computed by this call.
    reused : list of str
        Keys of cells whose result file already existed.
    wall_s : float
    csv_path : Path
    """

    frame: object
    computed: list
    reused: list
    wall_s: float
    csv_path: Path


def load_results(spec: SweepSpec, out_dir) -> "object":
    """DataFrame of the finished cells of ``spec`` found in ``out_dir/cells``."""
    import pandas as pd

    cells_dir = Path(out_dir) / "cells"
    rows = []
    for params in spec.cells():
        path = cells_dir / f"{cell_key(params)}.json"
        # a failed cell is listed with its error
        row = cells.read_cell(path, params, required=ROW_KEYS, what="sweep", include_failed=True)
        if row is not None:
            rows.append({"key": path.stem, **row})
    return pd.DataFrame(rows)


def run_sweep(spec: SweepSpec, out_dir, *, scheduler=None, n_workers: int = 2, threads_per_worker: int = 1,
              processes: bool = True, progress: bool = True, max_cells: int | None = None) -> SweepRun:
    """Run the missing cells of ``spec`` on Dask and collect all cells into ``results.csv``.

    Parameters
    ----------
    spec : SweepSpec
    out_dir : path
        Holds ``cells/<key>.json`` (one per finished cell), ``spec.json`` and ``results.csv``; a folder
        holding another sweep's gets this one's as ``spec.v2.json`` and ``results.v2.csv`` (then ``.v3``, …).
    scheduler : None, "synchronous", address string or distributed.Client
        ``None`` starts a LocalCluster (``n_workers`` × ``threads_per_worker``,
        ``processes``); ``"synchronous"`` runs cells one by one in this process
        (debugging); ``"tcp://host:8786"`` connects to an existing scheduler.
    max_cells : int, optional
        Stop after submitting this many missing cells (simulates an interrupted sweep).

    Notes
    -----
    A script that starts the default process-based LocalCluster must call this under
    ``if __name__ == "__main__":`` (worker processes re-import the main module).

    Returns
    -------
    SweepRun
    """
    from brianforce.units import as_count

    if spec.model != "rate" and scheduler is None and not processes:
        raise ValueError("Brian2 is not thread-safe: spiking sweeps need processes=True")
    n_workers = as_count(n_workers, "n_workers", minimum=1)
    threads_per_worker = as_count(threads_per_worker, "threads_per_worker", minimum=1)
    out = Path(out_dir)
    (out / "cells").mkdir(parents=True, exist_ok=True)
    spec_record = json.loads(json.dumps({**spec.__dict__, "seeds": list(spec.seeds)}))
    tag = _version_tag(out, spec_record)
    cells.write_json_atomic(out / f"spec{tag}.json", spec_record)
    wall0 = time.perf_counter()
    todo, reused = [], []
    for params in spec.cells():
        key = cell_key(params)
        done = read_cell(out / "cells" / f"{key}.json", params) is not None
        (reused if done else todo).append((key, params))
    reused = [k for k, _ in reused]
    if max_cells is not None:
        todo = todo[:max_cells]
    n_total = len(spec.cells())
    if progress:
        _log(f"{spec.name}: {n_total} cells, {len(reused)} already done, computing {len(todo)}")
    computed = []

    def finish(key, params, row):
        cells.write_json_atomic(out / "cells" / f"{key}.json", cell_record(params, row))
        computed.append(key)
        if progress:
            done = len(computed)
            el = time.perf_counter() - wall0
            eta = el / done * (len(todo) - done)
            axes = ", ".join(f"{k}={params['network'][k]:.4g}" for k in spec.axes)
            what = (f"FAILED ({row['error']})" if row.get("error") else
                    f"rate err {row['rate_error']:.3g}, spiking err {row['spiking_error']:.3g}")
            _log(f"[{done}/{len(todo)}] {axes}, seed {params['seed']}: {what} "
                 f"({row['wall_s']:.1f} s; ETA {eta:.0f} s)")

    cells.run_cells(todo, run_cell_recording_errors, finish, failed_row, scheduler=scheduler, n_workers=n_workers,
                    threads_per_worker=threads_per_worker, processes=processes)
    frame = load_results(spec, out)
    csv_path = out / f"results{tag}.csv"
    from brianforce.io import atomic_path

    with atomic_path(csv_path) as tmp:
        frame.to_csv(tmp, index=False)
    wall = time.perf_counter() - wall0
    if progress:
        _log(f"{len(frame)}/{n_total} cells in {csv_path} ({len(computed)} computed now, {wall:.1f} s)")
    return SweepRun(frame, computed, reused, wall, csv_path)


def _version_tag(out: Path, spec_record: dict) -> str:
    """``""`` where ``out`` holds no sweep or this one (``spec.json``), else the first ``".v<k>"`` (k >= 2)
    whose ``spec.v<k>.json`` is free or this sweep's: another sweep's table and figures are never replaced
    (the cells, keyed by their parameters, are shared)."""
    k = 1
    while True:
        tag = "" if k == 1 else f".v{k}"
        path = out / f"spec{tag}.json"
        if not path.exists():
            return tag
        try:
            if json.loads(path.read_text()) == spec_record:
                return tag
        except (OSError, ValueError):
            pass
        k += 1


def sweep_cli(recipe_path, out_dir, scheduler=None):
    """``brianforce sweep RECIPE --out DIR [--scheduler ADDR]``: run, save CSV and heat map.

    Returns the results DataFrame. Writes ``results.csv`` and, for a sweep over two
    axes, ``heatmap.png`` (convergence fraction over seeds) to ``out_dir``, the figures from the
    cells that ran. Raises :class:`~brianforce.experiments.cells.CellsFailed` after that where a
    cell ended with an error.
    """
    from brianforce.config import load_recipe

    recipe = load_recipe(recipe_path)
    method = recipe.get("experiment", {}).get("method")
    if method != "sweep":
        from brianforce.config import RecipeError

        raise RecipeError(f"{recipe_path}: experiment.method must be 'sweep', got {method!r}")
    spec = SweepSpec.from_recipe(recipe)
    dask_cfg = recipe.get("dask", {})
    run = run_sweep(spec, out_dir, scheduler=scheduler, n_workers=dask_cfg.get("n_workers", 2),
                    threads_per_worker=dask_cfg.get("threads_per_worker", 1))
    frame = run.frame
    failed = (frame["error"].fillna("").astype(str) != "").to_numpy() if "error" in frame \
        else np.zeros(len(frame), bool)
    if (~failed).any():
        _figures(spec, frame[~failed], Path(out_dir), run.csv_path.stem[len("results"):])
    if failed.any():
        from brianforce.experiments.cells import CellsFailed

        raise CellsFailed("sweep", [f"seed {r['seed']}: {r['error']}" for _, r in frame[failed].iterrows()],
                          len(frame), out_dir)
    return frame


def _figures(spec: SweepSpec, frame, out: Path, tag: str = "") -> None:
    import matplotlib.pyplot as plt

    from brianforce.io import atomic_savefig
    from brianforce.viz.sweeps import plot_alpha_curve, plot_heatmap

    axes = list(spec.axes)
    models = ["rate", "spiking"] if spec.model == "both" else [spec.model]
    if len(axes) == 2:
        fig, axs = plt.subplots(1, len(models), figsize=(5.5 * len(models), 4.5), squeeze=False)
        for ax, m in zip(axs[0], models):
            plot_heatmap(frame, x=axes[0], y=axes[1], value=f"{m}_converged", ax=ax,
                         title=f"{m} network: fraction converged")
        fig.tight_layout()
        atomic_savefig(fig, out / f"heatmap{tag}.png", dpi=110)
        plt.close(fig)
    elif len(axes) == 1:
        if spec.model == "both":
            fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4))
            plot_alpha_curve(frame, x=axes[0], value="decoder_correlation", ax=ax0)
            ax0.set_title("spiking vs rate decoder correlation")
            for col, lab in (("rate_error_period", "rate, own φ"), ("spike_to_rate_error_period", "rate, spiking φ"),
                             ("spiking_error_period", "spiking, own φ"),
                             ("rate_to_spike_error_period", "spiking, rate φ")):
                plot_alpha_curve(frame, x=axes[0], value=col, ax=ax1, label=lab)
            ax1.set_ylabel("test RMSE / amplitude (per-period lag)")
            ax1.legend(fontsize="small")
        else:
            fig, ax0 = plt.subplots(figsize=(5.5, 4))
            plot_alpha_curve(frame, x=axes[0], value=f"{spec.model}_error", ax=ax0)
        fig.tight_layout()
        atomic_savefig(fig, out / f"curve{tag}.png", dpi=110)
        plt.close(fig)
