"""Tables of a reproduction: every criterion of a method judged over the seeds, as CSV, Markdown and a figure.

One row per (run, criterion): the criterion as the paper states it, the metric, the threshold, the
value and pass/fail at each seed, the median over the seeds with a value, the number of seeds passing
and whether the method meets the criterion (:attr:`~brianforce.experiments.reproduce.criteria.Judgement.meets`).
The Markdown file also states the size, the seeds, the data each run read and the recipes' tuning seeds.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

__all__ = ["criteria_table", "table_markdown", "plot_table", "write_table", "TABLE_COLUMNS", "finished_values",
           "extends"]

#: Columns of the CSV before the per-seed ``value_<seed>`` / ``pass_<seed>`` columns and after them.
TABLE_COLUMNS = (("method", "recipe", "run", "criterion", "reference", "metric", "how", "op", "threshold"),
                 ("median", "n_pass", "n_seeds", "required", "meets", "size", "data"))


def criteria_table(method, runs, seeds, rows: dict, size: str):
    """The judged criteria of ``method`` as a DataFrame.

    Parameters
    ----------
    method : Method
    runs : list of Run
    seeds : sequence of int
    rows : dict
        ``(recipe, seed) → cell row`` (:func:`~brianforce.experiments.reproduce.runners.run_acceptance_cell`);
        a missing or failed row gives no value at that seed.
    size : str
    """
    import pandas as pd

    head, tail = TABLE_COLUMNS
    out = []
    for run in runs:
        got = [rows.get((run.recipe, s)) or {} for s in seeds]
        data = sorted({r.get("data", "") for r in got if r.get("data")})
        for crit in run.criteria:
            judged = crit.judge(seeds, [(r.get("metrics") or {}).get(crit.metric) for r in got])
            rec = dict(zip(head, (method.name, run.recipe, run.title, crit.text, crit.reference, crit.metric, crit.how,
                                  crit.op, crit.threshold)))
            for s, v, p in zip(seeds, judged.values, judged.passed):
                rec[f"value_{s}"] = v
                rec[f"pass_{s}"] = p
            rec.update(zip(tail, (judged.median, judged.n_pass, len(seeds), judged.required, judged.meets, size,
                                  "; ".join(data) or ("none (simulated task)" if any(got) else "no run finished"))))
            out.append(rec)
    return pd.DataFrame(out)


def finished_values(frame) -> int:
    """Number of per-seed values in a table (``value_<seed>`` cells that are not NaN)."""
    cols = [c for c in frame.columns if str(c).startswith("value_")]
    return int(np.isfinite(frame[cols].to_numpy(dtype=float)).sum()) if cols else 0


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return f"{v:.4g}"


def table_markdown(method, frame, seeds, *, size: str, size_note: str = "", tuning: dict | None = None,
                   errors: list | None = None, wall_s: dict | None = None) -> str:
    """Markdown of a :func:`criteria_table`: a heading, what was run, the table, data and failures.

    ``wall_s`` maps a recipe to the wall times (seconds) of its runs, stated as their range.
    """
    n = len(seeds)
    required = int(frame["required"].max()) if len(frame) else 0
    lines = [f"# Reproduction: {method.title}", "",
             f"{method.reference}. Size: **{size}**{f' ({size_note})' if size_note else ''}. "
             f"Seeds: {', '.join(str(s) for s in seeds)}. A method meets a criterion when at least 80 % of the "
             f"seeds pass it (4 of 5; here {required} of {n}).", ""]
    cols = ["recipe", "criterion (paper)", "metric", "threshold", *[f"seed {s}" for s in seeds], "median",
            "passing", "meets"]
    lines += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in frame.iterrows():
        vals = [f"{_fmt(r[f'value_{s}'])} {'pass' if r[f'pass_{s}'] else 'fail'}" for s in seeds]
        lines.append("| " + " | ".join([r["recipe"], r["criterion"], r["metric"], f"{r['op']} {r['threshold']:g}",
                                        *vals, _fmt(r["median"]), f"{r['n_pass']}/{r['n_seeds']}",
                                        "**yes**" if r["meets"] else "no"]) + " |")
    lines.append("")
    for recipe, data in frame.groupby("recipe", sort=False)["data"].first().items():
        times = [t for t in (wall_s or {}).get(recipe, ()) if t is not None and np.isfinite(t)]
        took = f"; wall time a run: {min(times) / 60:.1f}–{max(times) / 60:.1f} min" if times else ""
        lines.append(f"* `{recipe}`: data: {data}; tuning seeds: {(tuning or {}).get(recipe, 'not recorded')}{took}")
    for err in errors or []:
        lines.append(f"* failed: {err}")
    return "\n".join(lines) + "\n"


def plot_table(frame, seeds, path, title: str = "") -> Path:
    """One panel per criterion: the value at each seed (green: passes, red: fails) and the threshold."""
    import matplotlib.pyplot as plt

    from brianforce.io import atomic_savefig

    n = max(len(frame), 1)
    ncol = min(n, 3)
    nrow = math.ceil(n / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.0 * nrow), squeeze=False, constrained_layout=True)
    x = np.arange(len(seeds))
    for ax, (_, r) in zip(axes.flat, frame.iterrows()):
        vals = np.array([r[f"value_{s}"] for s in seeds], dtype=float)
        ok = np.array([bool(r[f"pass_{s}"]) for s in seeds])
        ax.axhline(r["threshold"], color="k", ls="--", lw=1, label=f"threshold {r['op']} {r['threshold']:g}")
        ax.scatter(x[ok], vals[ok], color="tab:green", zorder=3, label="passes")
        ax.scatter(x[~ok], vals[~ok], color="tab:red", marker="x", zorder=3, label="fails")
        for xi in x[~np.isfinite(vals)]:
            ax.annotate("no value", (xi, r["threshold"]), ha="center", va="bottom", fontsize=7, color="tab:red")
        ax.set_xticks(x, [str(s) for s in seeds])
        ax.set_xlim(-0.5, len(seeds) - 0.5)
        ax.set_xlabel("seed")
        ax.set_ylabel(r["metric"], fontsize=8)
        ax.set_title(f"{r['recipe']}\n{r['criterion']}", fontsize=7)
        ax.legend(fontsize=6)
    for ax in list(axes.flat)[len(frame):]:
        ax.set_visible(False)
    if title:
        fig.suptitle(title, fontsize=9)
    atomic_savefig(fig, path, dpi=100)
    plt.close(fig)
    return Path(path)


def extends(new, old) -> bool:
    """Whether table ``new`` holds every per-seed value of table ``old``, unchanged (rows matched by recipe,
    criterion and metric; values equal to 1e-9 relative): a resumed run that finished more seeds."""
    key = ("recipe", "criterion", "metric")
    if not all(k in frame.columns for frame in (new, old) for k in key):
        return False
    rows = {tuple(r[k] for k in key): r for _, r in new.iterrows()}
    value_cols = [c for c in old.columns if str(c).startswith("value_")]
    for _, r in old.iterrows():
        now = rows.get(tuple(r[k] for k in key))
        for col in value_cols:
            was = _cell_float(r[col])
            if math.isnan(was):
                continue
            if now is None or col not in now.index or not math.isclose(_cell_float(now[col]), was, rel_tol=1e-9):
                return False
    return True


def _cell_float(value) -> float:
    """A table cell as a float (NaN for an empty or non-numeric cell)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def write_table(frame, markdown: str, seeds, stem, title: str = "") -> dict:
    """Write ``<stem>.csv``, ``<stem>.md`` and ``<stem>.png`` atomically; their paths.

    A table already there is replaced only by one that :func:`extends` it (the same values and more
    seeds finished); any other table goes to the next free ``<stem>.v<k>``, so neither a partial nor a
    changed rerun erases an earlier table.
    """
    import pandas as pd

    from brianforce.io import atomic_path, atomic_write_text, free_stem

    stem = Path(stem)
    old = stem.with_name(stem.name + ".csv")
    if old.is_file():
        try:
            keep_old = not extends(frame, pd.read_csv(old))
        except (ValueError, OSError, pd.errors.ParserError):
            keep_old = True
        if keep_old:
            stem = free_stem(stem, (".csv", ".md", ".png"))
    paths = {ext: stem.with_name(stem.name + "." + ext) for ext in ("csv", "md", "png")}
    with atomic_path(paths["csv"]) as tmp:
        frame.to_csv(tmp, index=False)
    atomic_write_text(paths["md"], markdown)
    plot_table(frame, seeds, paths["png"], title)
    return paths
