"""Checksummed result cells computed on Dask: what makes sweeps and reproductions resumable.

A *cell* is one independent run described by a JSON-able parameter dict. :func:`run_cells` runs
cells on a ``dask.distributed`` cluster — a :class:`~distributed.LocalCluster` by default, any
scheduler address, a :class:`~distributed.Client`, or ``"synchronous"`` (one by one in this process) —
and hands every finished row to a callback, which writes it atomically to its own file
``cells/<key>.json`` (:func:`cell_record`: format, key, parameters, row and a SHA-256 checksum). The
key (:func:`cell_key`) is a hash of the parameters, so a rerun finds the finished cells
(:func:`read_cell`) and computes only the missing ones; a truncated, edited or foreign file is
recomputed, with a warning naming it. A cell that raises is recorded as a row with an ``error``
(it does not end the run) and is tried again on the next run; the command line then ends with
:class:`CellsFailed` (exit status 1) once everything else is written.

Brian2 is not thread-safe: cells that simulate spiking networks need worker *processes*.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np

__all__ = ["CELL_FORMAT", "cell_key", "cell_checksum", "cell_record", "read_cell", "write_json_atomic",
           "run_cells", "preload_brian2", "CellsFailed"]

#: Format number of ``cells/<key>.json``.
CELL_FORMAT = 1


class CellsFailed(RuntimeError):
    """Some cells of a sweep or reproduction ended with an error (their rows record it; the results of
    the others are written, and a rerun tries the failed ones again).

    Attributes
    ----------
    failures : list of str     one line per failed cell
    n_cells : int              the cells of the run
    """

    def __init__(self, what: str, failures: list, n_cells: int, out):
        self.failures, self.n_cells = list(failures), int(n_cells)
        super().__init__(f"{what}: {len(self.failures)} of {self.n_cells} runs failed (first: {self.failures[0]}); "
                         f"the others are written to {out}, and running the same command again retries the failed")


def cell_key(params: dict) -> str:
    """Stable 16-hex-digit key of a cell's parameters (floats rounded to 12 significant digits)."""
    def norm(x):
        if isinstance(x, dict):
            return {k: norm(x[k]) for k in sorted(x)}
        if isinstance(x, (list, tuple)):
            return [norm(v) for v in x]
        if isinstance(x, (float, np.floating)):
            return float(f"{float(x):.12g}")
        if isinstance(x, np.integer):
            return int(x)
        return x
    blob = json.dumps(norm(params), sort_keys=True)
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


def cell_checksum(params: dict, row) -> str:
    """SHA-256 of a cell's parameters and result row."""
    blob = json.dumps({"params": params, "row": row}, sort_keys=True, default=float)
    return hashlib.sha256(blob.encode()).hexdigest()


def write_json_atomic(path: Path, obj) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (numpy scalars as floats)."""
    from brianforce.io import atomic_write_text

    atomic_write_text(path, json.dumps(obj, default=float))


def cell_record(params: dict, row: dict) -> dict:
    """What ``cells/<key>.json`` holds: format, key, parameters, result row and their checksum."""
    row = json.loads(json.dumps(row, default=float))          # as it reads back
    return {"format": CELL_FORMAT, "key": cell_key(params), "params": params, "row": row,
            "sha256": cell_checksum(params, row)}


def read_cell(path: Path, params: dict, *, required=(), what: str = "cell", include_failed: bool = False):
    """The result row in ``path`` if it is a valid, finished cell of ``params``; else ``None``.

    Parameters
    ----------
    path : Path
    params : dict
        The cell's parameters (the file must hold the same).
    required : sequence of str
        Keys the row must have.
    what : str
        Names the kind of cell in the warning (``"sweep"`` → ``"sweep cell <path>: ..."``).
    include_failed : bool
        Return the row of a valid cell that recorded an error too (by default such a cell is
        ``None``: it is tried again).

    Warns
    -----
    UserWarning
        A file that is unreadable, of another format, of other parameters, edited (checksum) or
        incomplete, naming it; such a cell is recomputed. A missing file is silently ``None``.
    """
    path = Path(path)
    if not path.is_file():
        return None
    try:
        rec = json.loads(path.read_text())
        problem = None
        if not isinstance(rec, dict) or rec.get("format") != CELL_FORMAT:
            problem = "not a cell file of this format"
        elif rec.get("key") != cell_key(params) or cell_key(rec.get("params", {})) != cell_key(params):
            problem = "it belongs to other parameters"
        elif rec.get("sha256") != cell_checksum(rec["params"], rec.get("row")):
            problem = "checksum mismatch (edited or corrupted)"
        elif not isinstance(rec["row"], dict) or not set(required) <= set(rec["row"]):
            problem = "its result row is incomplete"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        problem = f"unreadable ({exc})"
    if problem is not None:
        warnings.warn(f"{what} cell {path}: {problem}; recomputing it", stacklevel=2)
        return None
    if rec["row"].get("error") and not include_failed:
        return None                                   # a failed cell is tried again
    return rec["row"]


def _client(scheduler, n_workers: int, threads_per_worker: int, processes: bool):
    from distributed import Client, LocalCluster

    if scheduler is None:
        cluster = LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker, processes=processes,
                               dashboard_address=None)
        return Client(cluster), cluster
    if isinstance(scheduler, Client):
        return scheduler, None
    return Client(scheduler), None


def preload_brian2() -> bool:
    """Import Brian2 on a worker's main thread (its import installs a signal handler,
    which fails from the task threads)."""
    import brian2  # noqa: F401

    return True


def _owned(scheduler) -> bool:
    from distributed import Client

    return not isinstance(scheduler, Client)


def run_cells(todo, function, finish, failed_row, *, scheduler=None, n_workers: int = 2,
              threads_per_worker: int = 1, processes: bool = True, key_prefix: str = "brianforce-cell") -> None:
    """Compute ``function(params)`` for every ``(key, params)`` of ``todo``; ``finish(key, params, row)``
    for each as it ends.

    Parameters
    ----------
    todo : list of (str, dict)
    function : callable
        ``params → row`` (a picklable module-level function or ``functools.partial`` for Dask); it
        should record its own errors in the row.
    finish : callable
        ``(key, params, row)``, called on this process as each cell ends (writes its file).
    failed_row : callable
        ``(params, exception) → row`` for a cell whose task raised on the cluster (e.g. a worker
        killed under it).
    scheduler : None, "synchronous", address string or distributed.Client
        ``None`` starts a LocalCluster (``n_workers`` × ``threads_per_worker``, ``processes``);
        ``"synchronous"`` runs the cells one by one in this process.
    """
    if not todo:
        return
    if scheduler == "synchronous":
        for key, params in todo:
            finish(key, params, function(params))
        return
    from distributed import as_completed

    client, cluster = _client(scheduler, n_workers, threads_per_worker, processes)
    try:
        preload_brian2()  # for in-process workers (the driver runs on the main thread)
        client.run(preload_brian2)
        futures = {}
        for key, params in todo:
            fut = client.submit(function, params, key=f"{key_prefix}-{key}", pure=False)
            futures[fut] = (key, params)
        for fut in as_completed(futures):
            key, params = futures[fut]
            try:
                row = fut.result()
            except Exception as exc:  # noqa: BLE001 - e.g. a worker killed under this cell
                row = failed_row(params, exc)
            finish(key, params, row)
    finally:
        if _owned(scheduler):
            client.close()
        if cluster is not None:
            cluster.close()
