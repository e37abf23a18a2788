"""``brianforce reproduce``: each method's acceptance runs at fresh seeds, judged against its paper.

:func:`reproduce` runs every (recipe, seed) of the chosen methods as one cell on Dask — a LocalCluster,
a scheduler address or ``"synchronous"`` — with the resumable cell files of
:mod:`brianforce.experiments.cells`, and writes one table per method
(:mod:`~brianforce.experiments.reproduce.tables`). The output folder holds::

    cells/<key>.json                          one checksummed file per run (key: recipe and its contents,
                                              seed, size, data)
    runs/<method>/<recipe>_<size>_seed<k>_<key>/  the run's own outputs (summary.json, figures, model)
    <method>_<size>_seeds<seeds>.csv|.md|.png the method's table

A rerun into the same folder computes only the runs without a valid cell file (missing, corrupt or
failed). Seeds at which a recipe's settings were chosen (``[experiment] tuning_seeds``) are refused
unless ``allow_tuning_seeds``: a reproduction is judged at seeds that guided nothing.
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

__all__ = ["reproduce", "reproduce_cli", "parse_seeds", "recipe_tuning_seeds", "check_tuning_seeds",
           "Reproduction", "DEFAULT_SEEDS"]

#: Seeds of a reproduction unless told otherwise (none of them guided a recipe's settings).
DEFAULT_SEEDS = (101, 102, 103, 104, 105)


def _log(msg: str) -> None:
    from brianforce.experiments.progress import log

    log(f"reproduce: {msg}")


def parse_seeds(text) -> tuple:
    """``"101-105"``, ``"101,103,110-112"`` or a sequence of ints → sorted tuple of distinct seeds.

    Raises
    ------
    ValueError
        Anything else (negative numbers, an empty or reversed range).
    """
    if not isinstance(text, str):
        seeds = [int(s) for s in text]
    else:
        seeds = []
        for part in text.split(","):
            m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
            if not m or (m.group(2) is not None and int(m.group(2)) < int(m.group(1))):
                raise ValueError(f"--seeds must look like 101-105 or 101,103,110-112, got {text!r}")
            seeds.extend(range(int(m.group(1)), int(m.group(2) or m.group(1)) + 1))
    if not seeds or min(seeds) < 0:
        raise ValueError(f"need at least one seed, all >= 0; got {text!r}")
    return tuple(sorted(set(seeds)))


def _seed_label(seeds) -> str:
    if len(seeds) > 1 and list(seeds) == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return "_".join(str(s) for s in seeds)


def _recipe(name: str) -> tuple:
    """``(recipe dict, [the recipe and its [model] base])`` of a shipped recipe."""
    from brianforce.config import load_recipe
    from brianforce.experiments.recipes import recipe_path

    path = recipe_path(name)
    rec = load_recipe(path)
    chain = [rec]
    base = rec.get("model", {}).get("base")
    if base:
        chain.append(load_recipe(path.parent / base))
    return rec, chain


def recipe_tuning_seeds(name: str):
    """Seeds at which shipped recipe ``name`` (and its ``[model] base``) had its settings chosen, or
    ``None`` when not recorded (:func:`brianforce.config.tuning_seeds`)."""
    from brianforce.config import tuning_seeds

    found = [tuning_seeds(r, name) for r in _recipe(name)[1]]
    known = [s for s in found if s is not None]
    return tuple(sorted(set().union(*known))) if known else None


def check_tuning_seeds(runs, seeds, allow: bool = False) -> dict:
    """``recipe → its tuning seeds as text``; refuses seeds that are tuning seeds of a run's recipe.

    Raises
    ------
    ValueError
        A requested seed is a tuning seed (unless ``allow``).
    """
    labels, clashes = {}, []
    for run in runs:
        tuned = recipe_tuning_seeds(run.recipe)
        labels[run.recipe] = "not recorded" if tuned is None else _seed_label(tuned)
        hit = sorted(set(seeds) & set(tuned or ()))
        if hit:
            clashes.append(f"{', '.join(map(str, hit))} of {run.recipe} (tuning seeds {labels[run.recipe]})")
    if clashes and not allow:
        raise ValueError(f"seeds at which a recipe's settings were chosen are not a reproduction: "
                         f"{'; '.join(clashes)}; choose other --seeds or pass --allow-tuning-seeds")
    return labels


def _fingerprint(name: str) -> str:
    """Hash of a recipe's settings (and its base's), without ``tuning_seeds`` or comments."""
    import copy
    import hashlib
    import json

    chain = copy.deepcopy(_recipe(name)[1])
    for rec in chain:
        rec.get("experiment", {}).pop("tuning_seeds", None)
    return hashlib.sha256(json.dumps(chain, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass
class Reproduction:
    """Outcome of :func:`reproduce`.

    Attributes
    ----------
    tables : dict
        Method name → DataFrame (:func:`~brianforce.experiments.reproduce.tables.criteria_table`).
    markdown : dict
        Method name → the Markdown of its table.
    paths : dict
        Method name → ``{"csv", "md", "png"}`` paths.
    computed, reused : list of str
        Cell keys computed by this call / found finished.
    failed : list of str
        ``"<recipe> seed <k>: <error>"`` of the runs without a result.
    n_runs : int
        The runs asked for (recipes × seeds).
    wall_s : float
    """

    tables: dict = field(default_factory=dict)
    markdown: dict = field(default_factory=dict)
    paths: dict = field(default_factory=dict)
    computed: list = field(default_factory=list)
    reused: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    n_runs: int = 0
    wall_s: float = 0.0


def _describe(row: dict, criteria) -> str:
    """One line of a finished run: each criterion's value and pass/fail, or its error."""
    if row.get("error"):
        return f"FAILED ({row['error']})"
    parts = []
    for c in {c.metric: c for c in criteria}.values():       # one entry per metric
        v = row["metrics"].get(c.metric)
        parts.append(f"{c.metric} n/a" if v is None else f"{c.metric} {v:.4g} ({'pass' if c.passes(v) else 'fail'})")
    return ", ".join(parts)


def _size_note(runs, size: str) -> str:
    """What ``size`` changes in the recipes of ``runs`` (recipes with the same changes named together)."""
    from brianforce.experiments.reproduce.runners import size_overrides

    if size == "full":
        return "the recipes as shipped"
    groups: dict = {}
    for run in runs:
        text = ", ".join(f"{k} = {v}" for k, v in size_overrides(run.recipe, size).items()) or "as shipped"
        groups.setdefault(text, []).append(run.recipe)
    return "; ".join(f"{', '.join(names)}: {text}" for text, names in groups.items())


def reproduce(names=None, seeds=DEFAULT_SEEDS, out="reproduce", *, scheduler=None, size: str = "full", data=None,
              allow_tuning_seeds: bool = False, n_workers: int = 2, progress: bool = True) -> Reproduction:
    """Run the acceptance runs of ``names`` at ``seeds``, resumably on Dask, and write one table per method.

    Parameters
    ----------
    names : sequence of str, optional
        Methods (:data:`~brianforce.experiments.reproduce.criteria.METHODS`) or recipes of theirs; all
        methods when empty.
    seeds : sequence of int or str
        ``"101-105"`` and the like (:func:`parse_seeds`).
    out : path
    scheduler : None, "synchronous", address string or distributed.Client
        As :func:`brianforce.experiments.cells.run_cells` (``None``: a LocalCluster of ``n_workers``
        processes).
    size : {"full", "ci"}
        ``"ci"``: the reduced sizes of :data:`~brianforce.experiments.reproduce.runners.CI_OVERRIDES`.
    data : path, optional
        Recorded data for the runs that read data; default ``BRIANFORCE_DATA``, else their synthetic
        look-alike (each table names the data used).
    allow_tuning_seeds : bool
        Run seeds at which a recipe's settings were chosen (refused otherwise).

    Returns
    -------
    Reproduction
    """
    from brianforce.datasets.files import ENV_VAR
    from brianforce.experiments import cells
    from brianforce.experiments.reproduce.criteria import select
    from brianforce.experiments.reproduce.runners import (DATA_KINDS, ROW_KEYS, failed_cell_row,
                                                          run_acceptance_cell, size_overrides)
    from brianforce.experiments.reproduce.tables import criteria_table, table_markdown, write_table
    from brianforce.units import as_count

    wall0 = time.perf_counter()
    chosen = select(names)
    seeds = parse_seeds(seeds)
    size_overrides("", size)                                  # checks the size
    n_workers = as_count(n_workers, "n_workers", minimum=1)
    tuning = check_tuning_seeds([r for _, runs in chosen for r in runs], seeds, allow_tuning_seeds)
    data = data if data is not None else os.environ.get(ENV_VAR) or None
    data = str(Path(data).resolve()) if data else None
    if data is not None and not Path(data).exists():
        raise FileNotFoundError(f"recorded data {data} does not exist (--data or {ENV_VAR})")
    out = Path(out)
    (out / "cells").mkdir(parents=True, exist_ok=True)
    result = Reproduction()
    plan = []
    for method, runs in chosen:
        for run in runs:
            fp = _fingerprint(run.recipe)
            for seed in seeds:
                params = {"method": method.name, "recipe": run.recipe, "kind": run.kind, "seed": seed, "size": size,
                          "overrides": size_overrides(run.recipe, size), "recipe_fingerprint": fp,
                          "data": data if run.kind in DATA_KINDS else None}
                plan.append((cells.cell_key(params), params, run))
    todo = []
    for key, params, _ in plan:
        if cells.read_cell(out / "cells" / f"{key}.json", params, required=ROW_KEYS, what="reproduce") is not None:
            result.reused.append(key)
        else:
            todo.append((key, params))
    if progress:
        _log(f"{len(plan)} runs ({', '.join(m.name for m, _ in chosen)}; seeds {_seed_label(seeds)}; size {size}), "
             f"{len(result.reused)} already done, computing {len(todo)}")
    criteria = {p["recipe"]: run.criteria for _, p, run in plan}

    def finish(key, params, row):
        cells.write_json_atomic(out / "cells" / f"{key}.json", cells.cell_record(params, row))
        result.computed.append(key)
        if progress:
            _log(f"[{len(result.computed)}/{len(todo)}] {params['recipe']} seed {params['seed']}: "
                 f"{_describe(row, criteria[params['recipe']])} ({row['wall_s']:.0f} s)")

    cells.run_cells(todo, partial(run_acceptance_cell, runs_dir=str(out / "runs")), finish, failed_cell_row,
                    scheduler=scheduler, n_workers=n_workers, key_prefix="brianforce-reproduce")
    for method, runs in chosen:
        rows, errors = {}, []
        for key, params, run in plan:
            if params["method"] != method.name:
                continue
            row = cells.read_cell(out / "cells" / f"{key}.json", params, required=ROW_KEYS, what="reproduce",
                                  include_failed=True)
            if row is not None and row.get("error"):
                errors.append(f"{params['recipe']} seed {params['seed']}: {row['error']}")
                row = None
            elif row is None:
                errors.append(f"{params['recipe']} seed {params['seed']}: no result")
            rows[(params["recipe"], params["seed"])] = row
        frame = criteria_table(method, runs, seeds, rows, size)
        note = _size_note(runs, size)
        wall = {}
        for (recipe, _), row in rows.items():
            wall.setdefault(recipe, []).append(float(row["wall_s"]) if row else None)
        md = table_markdown(method, frame, seeds, size=size, size_note=note, tuning=tuning, errors=errors,
                            wall_s=wall)
        stem = out / f"{method.name}_{size}_seeds{_seed_label(seeds)}"
        result.paths[method.name] = write_table(frame, md, seeds, stem, title=f"{method.title} ({size}, seeds "
                                                f"{_seed_label(seeds)})")
        result.tables[method.name], result.markdown[method.name] = frame, md
        result.failed.extend(errors)
    result.wall_s = time.perf_counter() - wall0
    result.n_runs = len(plan)
    if progress:
        _log(f"{len(result.computed)} runs computed, {len(result.reused)} reused, {len(result.failed)} without a "
             f"result; tables in {out} ({result.wall_s:.0f} s)")
    return result


def reproduce_cli(args) -> Reproduction:
    """``brianforce reproduce``: run :func:`reproduce` from parsed arguments and print each table; then
    :class:`~brianforce.experiments.cells.CellsFailed` where a run ended with an error."""
    res = reproduce(args.methods, args.seeds, args.out, scheduler=args.scheduler, size=args.size, data=args.data,
                    allow_tuning_seeds=args.allow_tuning_seeds, n_workers=args.workers)
    for name, md in res.markdown.items():
        print(md)
        print(f"(written: {', '.join(str(p) for p in res.paths[name].values())})\n")
    if res.failed:
        from brianforce.experiments.cells import CellsFailed

        raise CellsFailed("reproduce", res.failed, res.n_runs, args.out)
    return res
