"""M1 rates recipe: a spiking network whose neurons' rates follow recorded M1 units, scored unit by unit.

:func:`fit_m1_rates` maps every recorded unit with a mean rate above a threshold onto one neuron
of a balanced LIF network trained with per-neuron RLS (Kim & Chow 2018;
:meth:`RecurrentTrainer.fit_rates <brianforce.methods.recurrent_rates.RateFitting.fit_rates>`) and compares the trial-averaged
rates of test trials with the recordings (:func:`unit_quality_table`, with the Poisson ceiling
of :func:`poisson_ceiling`). :func:`run_m1_recipe` reads ``models/reaching_m1.toml``
(``method = "reaching_m1"``) and writes ``unit_table.csv``, ``summary.json`` and ``m1_rates.png``.
The targets are ``[data] rate_gain`` times the recorded rates (default 1.0: the recorded rates); the
``rate_gain`` of the ``[model] base`` recipe (3.0 in ``kimchow_m1.toml``) is not inherited.

References
----------
Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from brianforce.experiments.progress import log as progress_log
from brianforce.io import atomic_savefig, atomic_write_text, json_text
from brianforce.analysis.population import gaussian_smooth, time_correlations
from brianforce.checks import as_count, as_flag, as_number

__all__ = ["fit_m1_rates", "run_m1_recipe", "unit_quality_table", "unit_table_summary", "write_unit_table",
           "poisson_ceiling", "UNIT_TABLE_COLUMNS", "M1_RECIPE_KEYS"]

#: Sections of a ``method = "reaching_m1"`` recipe and the keys of each; ``[network]`` and
#: ``[training]`` are Kim & Chow sections (:data:`brianforce.experiments.kimchow.KIMCHOW_NETWORK_KEYS`,
#: :data:`~brianforce.experiments.kimchow.KIMCHOW_TRAINING_KEYS`), and the ``[model] base`` recipe is
#: checked as a Kim & Chow recipe (:func:`brianforce.experiments.kimchow.check_kimchow_recipe`).
M1_RECIPE_KEYS = {
    "": ("experiment", "model", "data", "evaluation", "network", "training"),
    "experiment": ("method", "name", "paper"),
    "model": ("base",),
    "data": ("synthetic", "min_mean_rate_hz", "smoothing_ms", "rate_gain"),
    "evaluation": ("n_test_trials", "max_units", "batch"),
}

#: Columns of :func:`unit_quality_table` (``corr_dir_<deg>`` columns follow, one per direction).
UNIT_TABLE_COLUMNS = ("unit", "unit_index", "neuron", "recorded_mean_rate_hz", "model_mean_rate_hz",
                      "rate_ratio", "corr_all_directions", "r2_all_directions",
                      "corr_per_direction_mean", "poisson_ceiling_corr_all_directions")


def poisson_ceiling(recorded, dt: float, n_trials: int, *, smooth: float = 0.025,
                    seed: int = 0) -> np.ndarray:
    """Per-unit all-direction correlation reachable by Poisson neurons firing at the recorded rate.

    ``n_trials`` inhomogeneous-Poisson trials per direction (counts per ``dt`` bin), averaged and
    smoothed like the model's rates (Gaussian SD ``smooth`` s), correlated with ``recorded``
    (C, T, U) over the concatenated directions: the best a model with Poisson-like spiking can
    score with that many test trials.
    """
    from brianforce.seeding import rng_for

    R = np.asarray(recorded, dtype=float)
    C, T, U = R.shape
    rng = rng_for(seed, "m1-poisson-ceiling")
    counts = rng.poisson(np.clip(R, 0, None)[None] * dt, size=(int(n_trials), C, T, U)).mean(0) / dt
    sm = gaussian_smooth(counts, smooth / dt, axis=1)
    return time_correlations(sm.reshape(1, C * T, U), R.reshape(1, C * T, U))[0]


def unit_quality_table(model_rates, recorded, *, units=None, directions=None, neurons=None,
                       ceiling=None) -> list[dict]:
    """Quality of a model's per-neuron rates against recorded units, one row per unit.

    Parameters
    ----------
    model_rates, recorded : array (C, T, U)
        Trial-averaged model rates of the neurons mapped onto the units, and the recorded
        rates (spikes/s), same directions, time grid and unit order.
    units : sequence of str, optional
        Unit names (default ``unit_<index>``).
    directions : sequence, optional
        Direction labels (default 0 … C−1), used in the ``corr_dir_<label>`` column names.
    neurons : array (U,), optional
        Network index of each unit's neuron.
    ceiling : array (U,), optional
        Poisson ceiling per unit (:func:`poisson_ceiling`).

    Returns
    -------
    list of dict
        Columns :data:`UNIT_TABLE_COLUMNS` then ``corr_dir_<label>`` per direction:
        ``corr_all_directions`` correlates the directions' time courses concatenated (tuning
        and temporal shape), ``r2_all_directions`` = 1 − Σ(model − data)² / Σ(data − mean)² over
        the same samples (it also penalises rate offsets and gains), ``corr_dir_<label>`` the
        time course within one direction (NaN where flat), ``corr_per_direction_mean`` their
        mean.
    """
    m = np.asarray(model_rates, dtype=float)
    r = np.asarray(recorded, dtype=float)
    if m.shape != r.shape or m.ndim != 3:
        raise ValueError(f"model_rates {m.shape} and recorded {r.shape} must both be (C, T, U)")
    C, T, U = r.shape
    units = [f"unit_{k:03d}" for k in range(U)] if units is None else [str(u) for u in units]
    directions = list(range(C)) if directions is None else list(directions)
    if len(units) != U or len(directions) != C:
        raise ValueError("units/directions do not match the (C, T, U) shape")
    per = time_correlations(m, r)                               # (C, U)
    flat_m, flat_r = m.reshape(C * T, U), r.reshape(C * T, U)
    overall = time_correlations(flat_m[None], flat_r[None])[0]
    ss_tot = ((flat_r - flat_r.mean(0)) ** 2).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r2 = np.where(ss_tot > 0, 1 - ((flat_m - flat_r) ** 2).sum(0) / np.where(ss_tot > 0, ss_tot, 1), np.nan)
    rows = []
    for u in range(U):
        rec_mean, mod_mean = float(r[..., u].mean()), float(m[..., u].mean())
        row = {"unit": units[u], "unit_index": u,
               "neuron": int(neurons[u]) if neurons is not None else -1,
               "recorded_mean_rate_hz": rec_mean, "model_mean_rate_hz": mod_mean,
               "rate_ratio": mod_mean / rec_mean if rec_mean > 0 else float("nan"),
               "corr_all_directions": float(overall[u]), "r2_all_directions": float(r2[u]),
               "corr_per_direction_mean": float(np.nanmean(per[:, u])) if np.any(np.isfinite(per[:, u])) else float("nan"),
               "poisson_ceiling_corr_all_directions": float(ceiling[u]) if ceiling is not None else float("nan")}
        for c, d in enumerate(directions):
            row[f"corr_dir_{d}"] = float(per[c, u])
        rows.append(row)
    return rows


def unit_table_summary(table) -> dict:
    """Median/mean correlations and R², fractions of units above 0.5/0.8, mean rates."""
    def col(k):
        return np.array([row[k] for row in table], dtype=float)

    out = {"n_units": len(table)}
    for k in ("corr_all_directions", "corr_per_direction_mean", "r2_all_directions",
              "poisson_ceiling_corr_all_directions"):
        v = col(k)
        fin = v[np.isfinite(v)]
        out[f"{k}_median"] = float(np.median(fin)) if fin.size else float("nan")
        out[f"{k}_mean"] = float(fin.mean()) if fin.size else float("nan")
    c = col("corr_all_directions")
    out["fraction_corr_all_directions_gt_0.5"] = float(np.mean(np.nan_to_num(c, nan=-1) > 0.5))
    out["fraction_corr_all_directions_gt_0.8"] = float(np.mean(np.nan_to_num(c, nan=-1) > 0.8))
    out["recorded_mean_rate_hz"] = float(col("recorded_mean_rate_hz").mean())
    out["model_mean_rate_hz"] = float(col("model_mean_rate_hz").mean())
    return out


def write_unit_table(table, path) -> Path:
    """Write :func:`unit_quality_table` rows as CSV (header = the rows' keys); returns the path."""
    import csv

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = list(table[0]) if table else list(UNIT_TABLE_COLUMNS)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for row in table:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    tmp.replace(path)
    return path


def fit_m1_rates(data, *, network: dict, training: dict, min_mean_rate_hz: float = 1.0,
                 smoothing: float = 0.025, n_test_trials: int = 24, max_units: int | None = None,
                 batch: int = 1, rate_gain: float = 1.0, out=None, progress: bool = False,
                 before_work=None) -> dict:
    """Spiking network whose neurons' rates follow recorded M1 units; per-unit quality table.

    Units with a mean rate above ``min_mean_rate_hz`` (the ``max_units`` most active, if set)
    are mapped one-to-one onto neurons of a balanced LIF network trained with per-neuron RLS
    (Kim & Chow 2018; :meth:`RecurrentTrainer.fit_rates <brianforce.methods.recurrent_rates.RateFitting.fit_rates>`).
    ``n_test_trials`` test trials per direction without learning give trial-averaged rates
    (Gaussian SD ``smoothing`` s, as the data), compared unit by unit with
    :func:`unit_quality_table` (with the Poisson ceiling for the same number of trials).

    Parameters
    ----------
    data : PopulationRates
        :func:`brianforce.datasets.load_m1_rates` (real or synthetic).
    network, training : dict
        The ``[network]`` and ``[training]`` sections of ``models/kimchow_m1.toml``
        (``training`` also holds ``sigma_mV``, ``rounds``, ``calibration_trials``, ``rest``).
    batch : int
        Trials simulated at once (where the trainer supports it).
    rate_gain : float
        Targets = ``rate_gain`` × the recorded rates (units are selected on the recorded rates);
        the model's rates are compared with these targets.
    out : path, optional
        Folder for ``unit_table.csv``, ``summary.json`` and ``m1_rates.png``.
    before_work : callable, optional
        Called without arguments once every setting has been checked, before training.

    Returns
    -------
    dict
        ``summary`` (:func:`unit_table_summary` plus settings, the device the network trained
        on, ``device``, and timing), ``table`` (rows),
        ``model_rates`` and ``recorded`` (C, T, U), ``trainer``.

    References
    ----------
    Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
    """
    t0 = time.time()
    log = (lambda m: progress_log(f"m1: {m}")) if progress else (lambda m: None)
    mean = data.rates.mean(axis=(0, 1))
    units = np.flatnonzero(mean > min_mean_rate_hz)
    max_units = None if max_units is None else as_count(max_units, "max_units", minimum=1)
    n_test_trials = as_count(n_test_trials, "n_test_trials", minimum=1)
    if max_units is not None and units.size > max_units:
        units = np.sort(units[np.argsort(-mean[units])[:max_units]])
    if units.size == 0:
        raise ValueError(f"no unit has a mean rate above {min_mean_rate_hz} Hz")
    rate_gain = as_number(rate_gain, "rate_gain", low=0.0, low_open=True)
    R = data.rates[:, :, units] * rate_gain
    from brianforce.experiments.kimchow import trainer_from_sections

    tr = trainer_from_sections(network, training)
    sigma = training.get("sigma_mV")
    sigma = None if sigma is None else as_number(sigma, "[training] sigma_mV", low=0.0) * 1e-3
    rounds = as_count(training.get("rounds", 2), "[training] rounds", minimum=1)
    calibration = as_count(training.get("calibration_trials", 4), "[training] calibration_trials")
    batch = as_count(batch, "batch", minimum=1)
    from brianforce.methods.recurrent_rates import check_rest

    rest = check_rest(training.get("rest", "untrained"))
    if before_work is not None:
        before_work()
    log(f"{units.size} units (> {min_mean_rate_hz} Hz) onto N = {tr.n}; {tr.n_trials} "
        f"trials per direction and round, {rounds} rounds")
    tr.fit_rates(R, data.dt, sigma=sigma, rounds=rounds, calibration_trials=calibration,
                 rest=rest, smooth=smoothing, batch=batch)
    t_train = time.time() - t0
    log(f"trained in {t_train:.0f} s; {n_test_trials} test trials per direction")
    rec = tr.run_trials(n_test_trials, batch=batch)
    model = rec.binned_rates(tr.mapped_, smooth=smoothing)
    ceiling = poisson_ceiling(R, data.dt, n_test_trials, smooth=smoothing)
    table = unit_quality_table(model, R, units=np.asarray(data.units)[units],
                               directions=[int(d) if float(d).is_integer() else d for d in data.conditions],
                               neurons=tr.mapped_, ceiling=ceiling)
    for row, u in zip(table, units):
        row["unit_index"] = int(u)
    summary = dict(unit_table_summary(table), n_neurons=int(tr.n), n_test_trials=n_test_trials,
                   min_mean_rate_hz=float(min_mean_rate_hz), smoothing_s=float(smoothing), rate_gain=rate_gain,
                   device=str(tr.device_),
                   transfer_sigma_mV=[float(s) * 1e3 for s in tr.transfer_sigma_],
                   source=str(data.source), synthetic=bool(data.synthetic),
                   train_wall_s=t_train, wall_time_s=time.time() - t0)
    log(f"median corr (all directions) {summary['corr_all_directions_median']:.3f}, mean "
        f"{summary['corr_all_directions_mean']:.3f}; > 0.5: {summary['fraction_corr_all_directions_gt_0.5']:.2f}, "
        f"> 0.8: {summary['fraction_corr_all_directions_gt_0.8']:.2f}; model {summary['model_mean_rate_hz']:.2f} Hz "
        f"vs data {summary['recorded_mean_rate_hz']:.2f} Hz")
    result = {"summary": summary, "table": table, "model_rates": model, "recorded": R,
              "trainer": tr, "units": units}
    if out is not None:
        out = Path(out)
        write_unit_table(table, out / "unit_table.csv")
        atomic_write_text(out / "summary.json", json_text(summary, indent=2, sort_keys=True))
        _m1_figure(out / "m1_rates.png", result, data)
    return result


def _m1_figure(path, result, data) -> None:
    import matplotlib.pyplot as plt

    table, m, R = result["table"], result["model_rates"], result["recorded"]
    corr = np.array([row["corr_all_directions"] for row in table])
    order = np.argsort(-np.nan_to_num(corr, nan=-2))
    pick = [order[0], order[len(order) // 2], order[-1]] if len(order) >= 3 else list(order)
    fig, axes = plt.subplots(1, len(pick) + 1, figsize=(3.3 * (len(pick) + 1), 2.8), constrained_layout=True)
    t = np.asarray(data.time) if len(data.time) == R.shape[1] else np.arange(R.shape[1]) * data.dt
    colors = plt.cm.hsv(np.linspace(0, 1, R.shape[0], endpoint=False))
    for ax, u in zip(axes, pick):
        for c in range(R.shape[0]):
            ax.plot(t, R[c, :, u], color=colors[c], lw=2, alpha=0.4)
            ax.plot(t, m[c, :, u], color=colors[c], lw=0.8)
        ax.set_title(f"{table[u]['unit']}: r = {corr[u]:.2f}", fontsize=8)
        ax.set_xlabel("time (s; data's time axis)")
    axes[0].set_ylabel("rate (Hz): recorded (thick), model (thin)")
    ax = axes[-1]
    ax.hist(corr[np.isfinite(corr)], bins=20, range=(-1, 1), color="0.4")
    ceil = np.array([row["poisson_ceiling_corr_all_directions"] for row in table])
    if np.any(np.isfinite(ceil)):
        ax.axvline(np.nanmedian(ceil), color="r", lw=1, label="Poisson ceiling (median)")
        ax.legend(fontsize=7)
    ax.set_xlabel("corr, all directions")
    ax.set_title(f"{len(table)} units: median r = {np.nanmedian(corr):.2f}", fontsize=8)
    atomic_savefig(fig, path, dpi=90)
    plt.close(fig)


def run_m1_recipe(path, out, *, data=None, overrides: dict | None = None,
                  progress: bool = True, before_work=None) -> dict:
    """Run a ``method = "reaching_m1"`` recipe (``models/reaching_m1.toml``) and write ``out``.

    The recipe's ``[model] base`` names a Kim & Chow recipe (``kimchow_m1.toml``, relative to
    the recipe) whose ``[network]``, ``[training]``, ``[data]`` and ``[evaluation]`` sections
    are used, updated by the same sections of this recipe, then by ``overrides``
    (``{"section.key": value}``); the base's ``[data] rate_gain`` is not inherited: the targets
    are this recipe's ``rate_gain`` times the recorded rates (default 1.0). ``data`` (file,
    folder or data root) overrides ``BRIANFORCE_DATA``; with neither and ``[data] synthetic =
    true``, the look-alike is used. ``before_work`` (no arguments) is called once the recipe has
    been checked and the data read, before training. Writes ``unit_table.csv`` (one row per
    unit), ``summary.json`` (with ``rate_gain`` and, in ``device`` and ``training.device``, the
    device the network trained on) and ``m1_rates.png``.
    """
    import copy

    from brianforce import datasets
    from brianforce.config import RecipeError, check_keys, check_sections, load_recipe
    from brianforce.experiments.kimchow import KIMCHOW_NETWORK_KEYS, KIMCHOW_TRAINING_KEYS, check_kimchow_recipe

    schema = dict(M1_RECIPE_KEYS, network=KIMCHOW_NETWORK_KEYS, training=KIMCHOW_TRAINING_KEYS)
    path = Path(path)
    rec = copy.deepcopy(load_recipe(path))
    check_sections(rec, schema, str(path))
    base = rec.get("model", {}).get("base")
    merged = {}
    if base:
        merged = copy.deepcopy(load_recipe(path.parent / base))
        check_kimchow_recipe(merged, str(path.parent / base))
        merged.get("data", {}).pop("rate_gain", None)
    for sec in ("network", "training", "data", "evaluation", "experiment"):
        merged.setdefault(sec, {}).update(rec.get(sec, {}))
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        if not key:
            raise RecipeError(f"override {dotted!r} must look like 'section.key'")
        check_sections({section: {key: value}}, schema, f"override {dotted!r}")
        merged.setdefault(section, {})[key] = value
    for sec in ("network", "training"):
        if not merged.get(sec):
            raise RecipeError(f"{path}: no [{sec}] section (set [model] base = \"kimchow_m1.toml\")")
        check_keys(merged[sec], schema[sec], f"[{sec}]")
    dsec, ev = merged["data"], merged["evaluation"]
    max_units = ev.get("max_units")
    settings = dict(min_mean_rate_hz=as_number(dsec.get("min_mean_rate_hz", 1.0), "[data] min_mean_rate_hz", low=0.0),
                    smoothing=as_number(dsec.get("smoothing_ms", 25.0), "[data] smoothing_ms", low=0.0,
                                        low_open=True) * 1e-3,
                    n_test_trials=as_count(ev.get("n_test_trials", 24), "[evaluation] n_test_trials", minimum=1),
                    max_units=None if max_units is None else as_count(max_units, "[evaluation] max_units", minimum=1),
                    batch=as_count(ev.get("batch", 1), "[evaluation] batch", minimum=1),
                    rate_gain=as_number(dsec.get("rate_gain", 1.0), "[data] rate_gain", low=0.0, low_open=True))
    rates = datasets.load_m1_rates(data, synthetic=as_flag(dsec.get("synthetic", True), "[data] synthetic"))
    res = fit_m1_rates(rates, network=merged["network"], training=merged["training"], out=out, progress=progress,
                       before_work=before_work, **settings)
    used = dict(merged["training"], device=res["summary"]["device"])
    res["summary"].update(recipe=str(path), experiment=merged["experiment"].get("name", path.stem),
                          network=merged["network"], training=used)
    atomic_write_text(Path(out) / "summary.json", json_text(res["summary"], indent=2, sort_keys=True))
    return res
