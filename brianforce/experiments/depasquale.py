"""Recipe driver for DePasquale-style experiments: task → rate teacher → factors → LIF student.

``train_from_recipe("models/depasquale_oscillation.toml", out_dir)`` runs the whole flow and
writes ``summary.json``, figures (PNG) and the trained network (``network.npz`` via
:func:`brianforce.io.save_arrays`, kind ``"depasquale-student"``).

Recipe layout (TOML; physical values are strings with units)::

    [experiment]  name, task ("oscillation" | "integration" | "classification"), seed
    [task]        dt, n_train, n_test, n_cue, n_test_repeats, plus task keyword arguments
    [teacher]     n_units, tau, g, reg, target_gain, input_gain, noise, variance | n_factors
    [student]     FactorStudent settings as flat keys (units as strings), mapped onto its
                  parameter records by :func:`~brianforce.methods.factor_student.recipe_student_kwargs`;
                  ``reset_trials`` (trial tasks: every trial from a rest state) is the driver's own

Sections, keys and the counts, flags and durations among the values are checked before any work
(:data:`DEPASQUALE_RECIPE_KEYS`, :data:`DEPASQUALE_TASK_KEYS`): an unknown key is a
:class:`~brianforce.config.RecipeError` naming it and the closest valid key.

For a rhythm (continuous task) the summary also gives, for teacher and student, the lag of
every test period behind the target (``phase_lag_per_trial_ms``, positive = behind) and its
straight-line drift (``phase_drift_ms_per_period``, :func:`brianforce.analysis.metrics.lag_drift`):
a drift that every test draw shares is a period error of the trained network, scatter
between draws is phase diffusion.

References
----------
DePasquale B, Churchland MM, Abbott LF (2016) arXiv:1601.07620.
DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023) Neuron 111:631-649.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from brianforce.analysis.metrics import circular_lag, lag_drift
from brianforce.analysis.population import (fano_factor, isi_cv, isi_cv_within_trials, nanmedian_or_none,
                                            normalised_error, pca, principal_angles, variance_outside_span)
from brianforce.checks import as_count, as_flag, as_number
from brianforce.config import (COMMON_EXPERIMENT_KEYS, RecipeError, check_keys, check_sections, load_recipe,
                               parse_quantity, recipe_seconds)
from brianforce.io import atomic_savefig, atomic_write_text, json_text, save_arrays
from brianforce.methods.factor_student.params import STUDENT_KEYS
from brianforce.rate.factors import pca_factors
from brianforce.rate.teacher import RateTeacher
from brianforce.tasks.depasquale import TASKS, decision_accuracy

__all__ = ["train_from_recipe", "apply_overrides", "condition_averaged_error", "evaluate_student",
           "population_metrics", "phase_aligned_errors", "DEPASQUALE_RECIPE_KEYS", "DEPASQUALE_TASK_KEYS"]

#: Sections of a ``method = "depasquale"`` recipe and the keys of each. ``[task]`` also takes the
#: keyword arguments of its task generator (:data:`DEPASQUALE_TASK_KEYS`); ``[student]`` the flat
#: keys of :func:`~brianforce.methods.factor_student.recipe_student_kwargs` and ``reset_trials``.
DEPASQUALE_RECIPE_KEYS = {
    "": ("experiment", "task", "teacher", "student"),
    "experiment": ("method", "name", "task", "seed", "paper"),
    "task": ("dt", "n_train", "n_test", "n_test_repeats", "n_cue", "n_student_train"),
    "teacher": ("n_units", "tau", "g", "reg", "target_gain", "input_gain", "noise", "washout", "method",
                "update_every", "variance", "n_factors"),
    "student": (*STUDENT_KEYS, "reset_trials"),
}
#: Keyword arguments of each task generator that a ``[task]`` section may set.
DEPASQUALE_TASK_KEYS = {
    "oscillation": ("freqs", "amplitude", "cue_amplitude", "cue_duration"),
    "integration": ("baseline", "stimulus", "delay", "response", "mean_range", "noise"),
    "classification": ("baseline", "pulse", "gap", "delay", "response", "amplitude"),
}
_DURATIONS = ("baseline", "stimulus", "delay", "response", "pulse", "gap", "cue_duration")


def population_metrics(student_rates, teacher_rates, labels, n_pcs: int = 10) -> dict:
    """PCA of condition-averaged filtered rates and principal angles of the top PCs.

    ``student_rates`` (n_trials, T, N_s) and ``teacher_rates`` (n_trials, T, N_t) are averaged
    per condition (``labels``), concatenated in time, and each reduced to its top ``n_pcs``
    PCs. The two networks live in different neuron spaces, so the subspaces compared are the
    spans of the PC *time courses* (T·n_conditions × n_pcs) — the factor trajectories.

    Next to the angles, what sets them: each network's variance per PC; the part of the
    student's variance outside the span of the teacher's top PC time courses (in all, along its
    largest direction, and its per-neuron correlation with the mean rate); and, where every
    condition has at least 2 trials, the median angle between the student's top PC time courses
    of its odd and its even trials — the angle that trial-to-trial noise alone gives.
    """
    labels = np.asarray(labels)
    conds = np.unique(labels)

    def condition_means(rates, part=slice(None)):      # per condition, trials `part`, concatenated in time
        return np.concatenate([rates[labels == c][part].mean(0) for c in conds])

    s, t = condition_means(student_rates), condition_means(teacher_rates)
    k = int(min(n_pcs, s.shape[1], t.shape[1], s.shape[0] - 1))
    ps, pt = pca(s, n_components=k), pca(t, n_components=k)
    angles = principal_angles(ps.transform(s), pt.transform(t))
    outside = variance_outside_span(s, pt.transform(t))
    per, rate = outside["per_feature"], s.mean(0)
    ok = np.isfinite(per)
    out = {"n_pcs": k,
           "student_top_pcs_variance": float(ps.explained_variance_ratio.sum()),
           "teacher_top_pcs_variance": float(pt.explained_variance_ratio.sum()),
           "student_pc_variance_ratios": ps.explained_variance_ratio.tolist(),
           "teacher_pc_variance_ratios": pt.explained_variance_ratio.tolist(),
           "principal_angles_deg": angles.tolist(),
           "median_principal_angle_deg": float(np.median(angles)),
           "student_variance_outside_teacher_pcs": outside["fraction"],
           "student_variance_outside_teacher_pcs_top_direction": outside["top_direction"],
           "outside_fraction_rate_correlation": (float(np.corrcoef(per[ok], rate[ok])[0, 1])
                                                 if ok.sum() > 2 else None),
           "student_split_half_median_angle_deg": None}
    if all(np.sum(labels == c) >= 2 for c in conds):
        halves = [condition_means(student_rates, slice(h, None, 2)) for h in (0, 1)]
        pa, pb = (pca(x, n_components=k) for x in halves)
        out["student_split_half_median_angle_deg"] = float(np.median(
            principal_angles(pa.transform(halves[0]), pb.transform(halves[1]))))
    return out


def phase_aligned_errors(outputs, targets, *, return_shifts: bool = False):
    """Per-trial normalised error after the best circular time shift (periodic targets only).

    An autonomous oscillator has no preferred phase; this isolates waveform error from phase
    slips. Reported next to (never instead of) the raw error.
    """
    shifts = _circular_shifts(outputs, targets)     # best circular shift, then the exact error
    out = np.array([normalised_error(np.roll(z, -L, axis=0), f)
                    for z, f, L in zip(outputs, targets, shifts)])
    return (out, shifts) if return_shifts else out


def _circular_shifts(outputs, targets) -> np.ndarray:
    """Per trial, the circular shift in ``[0, n)`` samples that best aligns output and target."""
    return np.array([circular_lag(z, f) % len(f) for z, f in zip(outputs, targets)])


def _phase_aligned_rates(rates, shifts):
    """Roll every trial's rates by its output's aligning shift (:func:`_circular_shifts`)."""
    return np.stack([np.roll(r, -L, axis=0) for r, L in zip(rates, shifts)])


def signed_lags(shifts, n_samples: int) -> np.ndarray:
    """Circular shifts from :func:`phase_aligned_errors` as signed lags in samples, in
    ``[−n/2, n/2)``: positive when the output runs *behind* its target (``z(t) ≈ f(t − lag)``)."""
    shifts = np.asarray(shifts)
    return (shifts + n_samples // 2) % n_samples - n_samples // 2


def _lags_ms(shifts, n_samples: int, duration: float) -> list:
    """:func:`signed_lags` of trials lasting ``duration`` seconds, in ms."""
    return [float(v) for v in signed_lags(shifts, n_samples) * duration / n_samples * 1e3]


def _drift_ms(lags_ms: list, duration: float):
    """:func:`~brianforce.analysis.metrics.lag_drift` (ms per period) of per-period lags in ms, or
    ``None`` for a single period."""
    return lag_drift(lags_ms, duration * 1e3)[0] if len(lags_ms) > 1 else None


def condition_averaged_error(outputs, targets, labels) -> float:
    """Normalised error of the condition-averaged output (trials with the same label
    averaged, as DePasquale et al. report trial-averaged fits) against the averaged target."""
    outputs, targets, labels = np.asarray(outputs), np.asarray(targets), np.asarray(labels)
    conds = np.unique(labels)
    z = np.concatenate([outputs[labels == c].mean(0) for c in conds])
    f = np.concatenate([targets[labels == c].mean(0) for c in conds])
    return normalised_error(z, f)


def evaluate_student(run, targets, trials, n_neurons: int) -> dict:
    """Output errors, accuracy and spike statistics of a :class:`~brianforce.methods.factor_student.StudentRun`."""
    errs = [normalised_error(run.outputs[k], targets[k]) for k in range(len(targets))]
    trains = [np.sort(run.spike_t[run.spike_i == i]) for i in range(n_neurons)]
    # continuous trials are periods of one run; others each start afresh, so intervals across
    # their boundaries are not ISIs
    cv = isi_cv(trains) if trials.continuous else isi_cv_within_trials(
        run.spike_i, run.spike_t, run.trial_starts, run.duration, n_neurons)
    edges = np.append(run.trial_starts, run.trial_starts[-1] + run.duration)
    counts = np.stack([np.histogram(tr, edges)[0] for tr in trains], axis=1)   # (n_trials, N)
    with np.errstate(invalid="ignore", divide="ignore"):
        ff = fano_factor(counts) if counts.shape[0] > 1 else np.full(n_neurons, np.nan)
    extra = {}
    if trials.continuous:
        pa, shifts = phase_aligned_errors(run.outputs, targets, return_shifts=True)
        lags = _lags_ms(shifts, np.asarray(targets).shape[1], run.duration)
        extra = {"phase_aligned_error_median": float(np.median(pa)),
                 "normalised_error_first_trial": float(errs[0]),
                 "phase_lag_per_trial_ms": lags,
                 "phase_drift_ms_per_period": _drift_ms(lags, run.duration)}
    return {**extra, "normalised_error_median": float(np.median(errs)),
            "normalised_error_trial_averaged": condition_averaged_error(run.outputs, targets,
                                                                        trials.labels),
            "normalised_error_mean": float(np.mean(errs)),
            "normalised_error_per_trial": [float(e) for e in errs],
            "accuracy": decision_accuracy(run.outputs, trials),
            "mean_rate_hz": float(len(run.spike_t) / (n_neurons * run.duration * len(targets))),
            "isi_cv_median": nanmedian_or_none(cv),
            "isi_cv_fraction_above_0.5": float(np.mean(cv > 0.5)),
            "fano_factor_median": nanmedian_or_none(ff)}


def _figures(out, trials, teacher_out, run, metrics_s, name):
    import matplotlib.pyplot as plt

    n_show = min(3, trials.n_trials)
    t = np.arange(trials.n_steps * n_show) * trials.dt
    fig, axes = plt.subplots(3, 1, figsize=(9, 8), constrained_layout=True)
    f = trials.targets[:n_show].reshape(-1, trials.targets.shape[2])
    axes[0].plot(t, f, "k", lw=2, label="target")
    axes[0].plot(t, teacher_out[:n_show].reshape(len(t), -1), "b--", lw=1, label="rate teacher")
    axes[0].plot(t, run.outputs[:n_show].reshape(len(t), -1), "r", lw=1, label="spiking student")
    axes[0].set_ylabel("output")
    axes[0].legend(loc="upper right", fontsize=7)
    axes[0].set_title(f"{name}: student normalised error {metrics_s['normalised_error_median']:.3g}")
    m = run.spike_t < n_show * run.duration
    sel = run.spike_i < 100
    axes[1].plot(run.spike_t[m & sel], run.spike_i[m & sel], "k.", ms=1)
    axes[1].set_ylabel("neuron")
    axes[2].plot(t, run.factors[:n_show].reshape(len(t), -1)[:, :4])
    axes[2].set_ylabel("learned factors y")
    axes[2].set_xlabel("time (s)")
    atomic_savefig(fig, out / "outputs.png", dpi=90)
    plt.close(fig)


def apply_overrides(rec: dict, overrides: dict | None) -> dict:
    """Copy of recipe ``rec`` with ``{"section.key": value}`` entries replaced (or added)."""
    import copy

    rec = copy.deepcopy(rec)
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        if not key:
            raise RecipeError(f"override {dotted!r} must look like 'section.key'")
        rec.setdefault(section, {})[key] = value
    return rec


def _check_recipe(rec: dict, path) -> str:
    """Check the sections and keys of a DePasquale recipe (:data:`DEPASQUALE_RECIPE_KEYS`); its task name."""
    check_keys(rec, DEPASQUALE_RECIPE_KEYS[""], str(path))
    missing = [name for name in DEPASQUALE_RECIPE_KEYS[""] if name not in rec]
    if missing:
        raise RecipeError(f"{path}: missing section [{missing[0]}]")
    check_keys(rec["experiment"], (*DEPASQUALE_RECIPE_KEYS["experiment"], *COMMON_EXPERIMENT_KEYS), "[experiment]")
    task_name = rec["experiment"].get("task")
    if task_name not in TASKS:
        raise RecipeError(f"{path}: unknown [experiment] task {task_name!r}; choose from {sorted(TASKS)}")
    check_keys(rec["task"], (*DEPASQUALE_RECIPE_KEYS["task"], *DEPASQUALE_TASK_KEYS[task_name]),
               f"[task] (task {task_name!r})")
    check_sections(rec, {k: v for k, v in DEPASQUALE_RECIPE_KEYS.items() if k != "task"}, str(path))
    return task_name


def train_from_recipe(path, out_dir, overrides: dict | None = None, before_work=None) -> dict:
    """Run the experiment described by the TOML recipe ``path``; write results to ``out_dir``.

    ``overrides`` (``{"student.alpha": 0.1, ...}``) replace recipe entries (sweeps, tests).
    ``before_work`` (no arguments) is called once the recipe and the settings of the task, teacher
    and student have been checked, before any training or output (the command line clears an
    earlier run's results there). Returns the summary dict (also written to ``out_dir/summary.json``).
    """
    import brian2

    from brianforce.methods.factor_student import FactorStudent, recipe_student_kwargs

    t_start = time.time()
    rec = apply_overrides(load_recipe(path), overrides)
    task_name = _check_recipe(rec, path)
    exp, task_sec = rec["experiment"], dict(rec["task"])
    teach_sec, stud_sec = dict(rec["teacher"]), dict(rec["student"])
    seed = as_count(exp.get("seed", 0), "[experiment] seed")
    dt = recipe_seconds(task_sec.pop("dt", "1 ms"), "[task] dt")
    n_train = as_count(task_sec.pop("n_train", 20), "[task] n_train", minimum=1)
    n_test = as_count(task_sec.pop("n_test", 10), "[task] n_test", minimum=1)
    n_repeats = as_count(task_sec.pop("n_test_repeats", 0), "[task] n_test_repeats")
    n_cue = as_count(task_sec.pop("n_cue", 0), "[task] n_cue")
    n_student_train = as_count(task_sec.pop("n_student_train", n_train), "[task] n_student_train", minimum=1)
    task_kw = {k: (recipe_seconds(v, f"[task] {k}", allow_zero=True) if k in _DURATIONS
                   else parse_quantity(v) if isinstance(v, str) else v) for k, v in task_sec.items()}
    variance = as_number(teach_sec.pop("variance", 0.99), "[teacher] variance", low=0.0, high=1.0, low_open=True)
    n_factors = teach_sec.pop("n_factors", None)
    if n_factors is not None:
        n_factors = as_count(n_factors, "[teacher] n_factors", minimum=1)
    tkw = {k: (recipe_seconds(v, f"[teacher] {k}", allow_zero=k == "washout") if k in ("tau", "washout")
               else parse_quantity(v) if isinstance(v, str) and k != "method" else v) for k, v in teach_sec.items()}
    teacher = RateTeacher(seed=seed, **tkw)           # checks its settings before any work
    reset_opt = stud_sec.pop("reset_trials", None)
    if reset_opt is not None:
        reset_opt = as_flag(reset_opt, "[student] reset_trials")
    skw = recipe_student_kwargs(stud_sec)
    student = FactorStudent(seed=seed, **skw)         # checks its settings before any work
    gen = TASKS[task_name]
    train = gen(n_train, dt, seed=seed, **task_kw)
    test = gen(n_test, dt, seed=seed + 1000, **task_kw)
    if before_work is not None:
        before_work()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    # teacher -------------------------------------------------------------------------
    teacher.fit(train.inputs, train.targets, dt, continuous=train.continuous)
    # activity that defines the factors: the trained teacher on the student's training trials
    stud_train = gen(n_student_train, dt, seed=seed + 2000, **task_kw)
    t_run = teacher.run(stud_train.inputs)
    fac = pca_factors(t_run.rates, variance=variance if n_factors is None else None,
                      n_factors=n_factors)
    if train.continuous:
        # one exactly periodic, phase-locked period: the driven activity the teacher reproduces
        drv = teacher.run_driven(stud_train.inputs[:1].repeat(3, 0), stud_train.targets[:1].repeat(3, 0))
        fac = pca_factors(drv.rates[1:], variance=variance if n_factors is None else None,
                          n_factors=n_factors)
        ytilde = np.repeat(fac.transform(drv.rates[2:3]), n_student_train, axis=0)
        out_targets = stud_train.targets
    else:
        ytilde = fac.transform(t_run.rates)
        out_targets = stud_train.targets
    t_test = teacher.run(test.inputs, x0=t_run.x_final)
    teacher_err = [normalised_error(t_test.outputs[k], test.targets[k]) for k in range(n_test)]
    teacher_extra = {"normalised_error_trial_averaged": condition_averaged_error(
        t_test.outputs, test.targets, test.labels)}
    if test.continuous:
        t_pa, t_shifts = phase_aligned_errors(t_test.outputs, test.targets, return_shifts=True)
        t_len = np.asarray(test.targets).shape[1]
        t_lags = _lags_ms(t_shifts, t_len, t_len * dt)
        teacher_extra.update(phase_aligned_error_median=float(np.median(t_pa)),
                             phase_lag_per_trial_ms=t_lags,
                             phase_drift_ms_per_period=_drift_ms(t_lags, t_len * dt))

    # student -------------------------------------------------------------------------
    # trial tasks: every student trial starts from a stored rest state, as every teacher trial
    # starts at x_rest_ (recipe key [student] reset_trials, default true for trial tasks)
    reset = (not train.continuous) if reset_opt is None else reset_opt
    rest_step = None
    if reset:
        active = np.flatnonzero(np.any(stud_train.inputs != 0, axis=(0, 2)))
        rest_step = max(int(active[0]) - 1, 0) if len(active) else 0
    student.fit(stud_train.inputs, ytilde, out_targets, dt * brian2.second, rest_step=rest_step)
    if n_cue:
        student.force(stud_train.inputs[:n_cue], ytilde[:n_cue])
    repeats = student.predict_repeats(test.inputs, n_repeats) if n_repeats else []
    s_run = student.predict(test.inputs)
    ms = evaluate_student(s_run, test.targets, test, student.n_neurons)
    if repeats:   # the same test from perturbed copies of the state (FactorStudent.predict_repeats)
        per_run = [ms["normalised_error_median"]] + [
            float(np.median([normalised_error(r.outputs[k], test.targets[k]) for k in range(n_test)]))
            for r in repeats]
        ms["normalised_error_median_per_repeat"] = per_run
        ms["normalised_error_median_over_repeats"] = float(np.median(per_run))
        if test.continuous:
            n_t = np.asarray(test.targets).shape[1]
            ms["phase_lag_per_trial_ms_per_repeat"] = [ms["phase_lag_per_trial_ms"]] + [
                _lags_ms(_circular_shifts(r.outputs, test.targets), n_t, r.duration)
                for r in repeats]
            ms["phase_drift_ms_per_period_per_repeat"] = [
                _drift_ms(lags, s_run.duration) for lags in ms["phase_lag_per_trial_ms_per_repeat"]]
    s_rates, t_rates = s_run.rates, t_test.rates
    if test.continuous:   # undo phase slips before trial-averaging (see phase_aligned_errors),
        # the student's and the (also free-running, drifting) teacher's alike
        s_rates = _phase_aligned_rates(s_rates, _circular_shifts(s_run.outputs, test.targets))
        t_rates = _phase_aligned_rates(t_rates, t_shifts)
    pop = population_metrics(s_rates, t_rates, test.labels)

    teacher_median = max(float(np.median(teacher_err)), 1e-12)
    summary = {
        "recipe": str(path), "experiment": exp.get("name", Path(path).stem), "task": task_name,
        "seed": seed,
        "teacher": {"n_units": teacher.n_units, "n_factors": fac.n_factors,
                    "factor_variance": fac.total_explained,
                    "train_error": teacher.train_error_,
                    "normalised_error_median": float(np.median(teacher_err)),
                    "normalised_error_per_trial": [float(e) for e in teacher_err],
                    "accuracy": decision_accuracy(t_test.outputs, test), **teacher_extra},
        "student": {"n_neurons": student.n_neurons, "dale": student.dale is not None,
                    "reset_trials": rest_step is not None,
                    "train_factor_error_last": float(student.train_errors_[-1]),
                    "train_mean_rate_hz": float(student.mean_rate_), "train_device": student.device_,
                    "train_timings_s": dict(student.timings_), "test_device": student.test_device_,
                    "test_timings_s": dict(student.test_timings_), **ms},
        "population": pop,
        "size_ratio": student.n_neurons / teacher.n_units,
        "n_cue": n_cue,
        "error_ratio": ms["normalised_error_median"] / teacher_median,
        "error_ratio_over_repeats": (ms["normalised_error_median_over_repeats"] / teacher_median
                                     if repeats else None),
        "wall_time_s": None,
    }
    if student.calibration is not None:
        summary["student"].update(
            time_scale=student.time_scale_,
            calibration_drift_ms_per_period=student.calibration_drift_ * 1e3,
            calibration_lags_ms=(student.calibration_lags_ * 1e3).tolist())
    if student.dale is not None:
        summary["student"]["dale_method"] = student.dale.method
        summary["student"]["dale_sign_violations"] = student.dale_violations()
        if student.dale.method in ("total", "split"):
            summary["student"]["dale_clipped_fraction_last"] = float(student.dale_clipped_[-1])
        if student.dale.method == "split":
            summary["student"]["dale_resolve_s"] = float(student.dale_resolve_s_)
    _figures(out, test, t_test.outputs, s_run, ms, summary["experiment"])
    arrays = {f"student_{k}": v for k, v in student.arrays().items()}
    arrays.update(teacher_J=teacher.J_, teacher_W_out=teacher.W_out_, teacher_u_in=teacher.u_in_,
                  factor_components=fac.components, factor_mean=fac.mean)
    summary["wall_time_s"] = time.time() - t_start
    save_arrays(out / "network.npz", arrays, {"summary": summary, "recipe": rec},
                kind="depasquale-student")
    atomic_write_text(out / "summary.json", json_text(summary, indent=2, sort_keys=True))
    return summary
