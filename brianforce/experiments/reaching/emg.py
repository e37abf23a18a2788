"""Reaching EMG fits: rate teacher on all conditions, then a spiking student from its factors.

:func:`fit_reaching` runs the DePasquale et al. recipe on recorded (or synthetic) reaching EMG, or
on any data set of :mod:`brianforce.datasets` (C conditions × T bins × Q channels: EMG, cycling
EMG as one condition, population rates or their PCs; :func:`~brianforce.tasks.reaching.reaching_targets`):

1. :func:`brianforce.tasks.reaching.reaching_trials` builds trials (condition input + go cue,
   per-muscle normalised EMG targets upsampled to the simulation step, a resting baseline);
2. a :class:`~brianforce.rate.teacher.RateTeacher` is trained (online full-FORCE) on shuffled
   repeats of all conditions and tested on one clean trial per condition: R² per condition
   over the recorded EMG window (pooled over muscles: ``1 − Σ(z−f)² / Σ(f − f̄)²`` with f̄ the
   per-muscle mean of that condition);
3. the teacher's rates on the student's training trials give the factors (PCs,
   :func:`~brianforce.rate.factors.pca_factors`); a :class:`~brianforce.methods.factor_student.FactorStudent`
   (LIF, Brian2) learns them with closed-loop RLS and a perturbed drive, every trial starting
   from a stored rest state;
4. closed-loop test trials (``n_test_repeats`` per condition): trial-averaged R² per condition,
   single-trial R², ISI CV, local CV2 (rate-change insensitive), Fano factor, variance of the top-10 PCs of the condition-averaged
   filtered rates and principal angles between the student's and the teacher's top-10 PC
   time-course subspaces.

:func:`run_reaching_recipe` reads ``models/reaching_emg.toml`` (``brianforce train ... --data``;
``[data] dataset`` names any loader, e.g. ``models/reaching_cycling.toml``) and writes
``summary.json``, ``emg_fits.png`` (outputs vs recorded data per condition), ``raster.png``,
``pcs.png`` and ``network.npz``.

References
----------
DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023). The centrality of population-level
factors to network computation is demonstrated by a versatile approach for training spiking
networks. Neuron 111:631-649 (reaching EMG, Fig. 2-3).
DePasquale B, Churchland MM, Abbott LF (2016). arXiv:1601.07620.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from brianforce.experiments.progress import log as progress_log
from brianforce.io import atomic_savefig, atomic_write_text, json_text
from brianforce.analysis.population import (fano_factor, gaussian_smooth, isi_cv_within_trials,
                                            nanmedian_or_none, pca, principal_angles, r_squared)
from brianforce.rate.factors import pca_factors
from brianforce.tasks.reaching import SIGNALS, reaching_targets, reaching_trials
from brianforce.rate.teacher import RateTeacher

__all__ = ["fit_reaching", "run_reaching_recipe", "condition_r2", "population_comparison", "local_cv2",
           "noisy_inputs", "DEFAULT_TEACHER", "DEFAULT_STUDENT", "gaussian_smooth", "REACHING_RECIPE_KEYS",
           "REACHING_STUDENT_KEYS"]

#: Teacher settings measured to fit the real reaching EMG with R² > 0.995 in every condition.
DEFAULT_TEACHER = dict(n_units=200, tau=10e-3, g=1.2, reg=1.0, input_gain=1.0, target_gain=1.0)
#: Student settings as flat recipe keys (as ``models/depasquale_integration.toml``), mapped onto
#: the student's parameter records by :func:`~brianforce.methods.factor_student.recipe_student_kwargs`.
DEFAULT_STUDENT = dict(n_neurons=600, bias="-45 mV", fixed_gain="0.3 mV*s", fixed_mean="-0.3 mV*s",
                       signal_amplitude="10 mV", input_gain="10 mV", alpha=1.0,
                       update_interval="2 ms", schedule="random", n_forced=5, n_mean=10, n_rls=60,
                       dt="0.05 ms", teacher_forced_rls=False, forcing_noise=0.1,
                       forcing_noise_tau="50 ms")


def _fmt(value) -> str:
    """Two decimals, or ``n/a`` for an undefined (``None``) statistic."""
    return "n/a" if value is None else f"{value:.2f}"


def condition_r2(outputs, targets, window) -> np.ndarray:
    """R² per condition over samples ``window = (start, stop)``, pooled over channels.

    ``outputs``/``targets`` (C, T, Q), one (averaged) trial per condition.
    """
    a, b = window
    return np.array([r_squared(outputs[c, a:b], targets[c, a:b], "variance_weighted")
                     for c in range(len(targets))])


def local_cv2(spike_trains, min_spikes: int = 3) -> np.ndarray:
    """Median local variation CV2 = 2|I₂ − I₁| / (I₂ + I₁) of consecutive ISIs per train.

    Unlike the ISI CV it is insensitive to slow rate changes (a neuron that fires regularly in
    one epoch and is silent in another has CV2 ≈ 0 but a large ISI CV); 0 for a clock, ≈ 1 for
    Poisson. Trains with fewer than ``min_spikes`` spikes give NaN.

    References
    ----------
    Holt GR, Softky WR, Koch C, Douglas RJ (1996) J Neurophysiol 75:1806-1814.
    """
    out = []
    for tr in spike_trains:
        isi = np.diff(np.asarray(tr, float))
        if isi.size < max(2, min_spikes - 1):
            out.append(np.nan)
            continue
        a, b = isi[:-1], isi[1:]
        with np.errstate(invalid="ignore", divide="ignore"):
            out.append(float(np.nanmedian(2 * np.abs(b - a) / (a + b))))
    return np.array(out)


def _condition_average(x, labels, conds):
    return np.stack([x[labels == c].mean(0) for c in conds])


def population_comparison(student_rates, teacher_rates, n_pcs: int = 10) -> dict:
    """Top-``n_pcs`` PC variance of both networks and principal angles of their PC time courses.

    Arguments are condition-averaged rates ``(C, T, N_s)`` and ``(C, T, N_t)``; conditions are
    concatenated in time. The networks have different neurons, so the compared subspaces are
    spans of the PC *time courses* (C·T × n_pcs), as in DePasquale et al. (2023).
    """
    s = np.asarray(student_rates, float).reshape(-1, student_rates.shape[-1])
    t = np.asarray(teacher_rates, float).reshape(-1, teacher_rates.shape[-1])
    k = int(min(n_pcs, s.shape[1], t.shape[1], s.shape[0] - 1))
    ps, pt = pca(s, n_components=k), pca(t, n_components=k)
    ang = principal_angles(ps.transform(s), pt.transform(t))
    return {"n_pcs": k, "student_top_pcs_variance": float(ps.explained_variance_ratio.sum()),
            "teacher_top_pcs_variance": float(pt.explained_variance_ratio.sum()),
            "principal_angles_deg": [float(a) for a in ang],
            "median_principal_angle_deg": float(np.median(ang)),
            "_scores": (ps.transform(s), pt.transform(t))}


def fit_reaching(emg, *, dt: float = 1e-3, task: dict | None = None, teacher: dict | None = None,
                 student: dict | None = None, n_teacher_repeats: int = 20,
                 n_student_repeats: int = 2, n_test_repeats: int = 2, variance: float = 0.99,
                 n_factors: int | None = None, fit_student: bool = True, out=None,
                 pca_smoothing: float = 0.0, seed: int = 0, progress: bool = False) -> dict:
    """Fit a rate teacher and (optionally) a spiking student to ``emg``; return a summary dict.

    Parameters
    ----------
    emg : EMGData, PopulationRates or CyclingData
        Any data set of :mod:`brianforce.datasets` (C conditions × T bins × Q channels, C >= 1);
        anything but ``EMGData`` goes through :func:`~brianforce.tasks.reaching.reaching_targets`
        with its defaults (population rates: at most 50 units' rates; call it first to choose).
    dt : float
        Simulation/sample step (s) of teacher and student RLS hook.
    task : dict
        Keyword arguments of :func:`~brianforce.tasks.reaching.reaching_trials`.
    teacher : dict
        :class:`~brianforce.rate.teacher.RateTeacher` arguments (plain SI floats), over
        :data:`DEFAULT_TEACHER`.
    student : dict
        :class:`~brianforce.methods.factor_student.FactorStudent` settings as flat recipe keys
        (:func:`~brianforce.methods.factor_student.recipe_student_kwargs`; quantities or unit
        strings), over :data:`DEFAULT_STUDENT`.
    n_teacher_repeats, n_student_repeats, n_test_repeats : int
        Repeats of every condition for teacher training, student training (the trials the
        student cycles through) and closed-loop tests.
    variance, n_factors
        Factor selection (:func:`~brianforce.rate.factors.pca_factors`).
    fit_student : bool
        ``False`` stops after the teacher (numpy only, seconds).
    out : path, optional
        Folder for ``summary.json``, figures and ``network.npz``.
    pca_smoothing : float
        SD (s) of a Gaussian applied along time to both networks' condition-averaged rates
        before the PCA and principal angles (0 = none; the student's rates are its spike trains
        through the 2-ms rise / 20-ms decay synaptic filter, averaged over the
        ``n_test_repeats`` test trials). Unsmoothed figures are reported as well.
    seed : int

    Notes
    -----
    Two student keys are handled here, not by the student: ``background_noise`` (voltage) adds
    independent white-noise input currents of that SD per neuron (one sample per step ``dt``)
    in every training and test trial, delivered through ``background_channels`` extra input
    channels (default N) — spiking variability from unstructured background input
    (:func:`noisy_inputs`). Every test trial has its own noise; in training, each of the
    ``n_student_repeats`` × conditions training trials has its own, and the student's RLS trials
    cycle through them (the same noise each time a trial comes round again).

    Returns
    -------
    dict
        ``teacher``: ``r2_per_condition``, ``r2_min``, ``r2_overall``, ``r2_per_muscle``, ...;
        ``student`` (if fitted): ``r2_trial_averaged_per_condition``, ``r2_trial_averaged``
        (pooled over conditions and muscles), ``r2_single_trial_median``, ``isi_cv_median``,
        ``isi_cv_fraction_above_0.5``, ``fano_factor_median``, ``mean_rate_hz``;
        ``population``: ``student_top_pcs_variance``, ``median_principal_angle_deg``, ...;
        ``criteria``: each acceptance criterion with its value and pass/fail.
    """
    t_start = time.time()
    task_kw = dict(task or {})
    tkw = dict(DEFAULT_TEACHER, **(teacher or {}))
    log = (lambda m: progress_log(f"reaching: {m}")) if progress else (lambda m: None)
    if "signal" not in getattr(emg, "metadata", {}):
        emg = reaching_targets(emg)

    train = reaching_trials(emg, n_teacher_repeats, dt, shuffle=True, seed=seed, **task_kw)
    evalset = reaching_trials(emg, 1, dt, seed=seed, **task_kw)
    window = evalset.info["emg_window"]
    log(f"teacher: N = {tkw['n_units']}, {train.n_trials} training trials of {train.duration:.2f} s")
    T = RateTeacher(seed=seed, **tkw).fit(train.inputs, train.targets, dt, continuous=False)
    t_eval = T.run(evalset.inputs)
    r2_t = condition_r2(t_eval.outputs, evalset.targets, window)
    a, b = window
    C, n_bins, Q = emg.emg.shape
    summary = {
        "data": {"source": str(emg.source), "synthetic": bool(emg.synthetic), "kind": emg.metadata["data_kind"],
                 "signal": emg.metadata["signal"], "data_shape": emg.metadata["data_shape"],
                 "shape": [C, n_bins, Q], "n_conditions": C, "n_bins": n_bins, "bin_s": float(emg.dt),
                 "n_channels": Q, "channels": [str(c) for c in emg.channels],
                 "pc_variance_ratio" if emg.metadata["signal"].endswith("_pcs") else "selected":
                     emg.metadata["selected"],
                 "go_time_s": float(evalset.info["go_time"]),
                 "go_time_source": ("[task] go_time" if task_kw.get("go_time") is not None
                                    else emg.metadata["go_time_source"])},
        "seed": int(seed), "dt": float(dt),
        "task": {k: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v))
                 for k, v in task_kw.items()},
        "teacher": {**{k: v for k, v in tkw.items()}, "n_train_trials": train.n_trials,
                    "train_error": float(T.train_error_),
                    "r2_per_condition": [float(r) for r in r2_t], "r2_min": float(r2_t.min()),
                    "r2_overall": float(r_squared(t_eval.outputs[:, a:b], evalset.targets[:, a:b],
                                                  "variance_weighted")),
                    "r2_per_muscle": [float(r) for r in r_squared(
                        t_eval.outputs[:, a:b], evalset.targets[:, a:b], "raw_values")]},
    }
    log(f"teacher R² per condition {np.round(r2_t, 4).tolist()}")
    result = {"teacher_model": T, "eval": evalset, "teacher_eval": t_eval}
    if fit_student:
        result.update(_fit_student(emg, T, dt, task_kw, student, n_student_repeats, n_test_repeats,
                                   variance, n_factors, seed, summary, log, pca_smoothing))
    summary["criteria"] = _criteria(summary)
    summary["wall_time_s"] = time.time() - t_start
    if out is not None:
        _write(Path(out), summary, result)
    summary["_result"] = result
    return summary


def _student_settings(student):
    """``student`` over :data:`DEFAULT_STUDENT`, checked: (FactorStudent keyword arguments, the
    parsed flat keys, ``background_noise`` SD in volts, ``background_channels``)."""
    from brian2 import volt

    from brianforce.methods.factor_student import recipe_student_kwargs
    from brianforce.methods.factor_student.params import parse_student_section
    from brianforce.units import as_count, as_number, as_si

    flat = parse_student_section(dict(DEFAULT_STUDENT, **(student or {})))
    sd = flat.pop("background_noise", 0.0)
    sd = as_si(sd, volt, "background_noise") if hasattr(sd, "dim") else as_number(sd, "background_noise")
    if np.ndim(sd) != 0 or sd < 0:
        raise ValueError(f"background_noise must be a voltage >= 0, got {sd!r}")
    ch = flat.pop("background_channels", 0)
    ch = 0 if ch is None else as_count(ch, "background_channels")
    return recipe_student_kwargs(flat), flat, float(sd), ch


def _fit_student(emg, T, dt, task_kw, student, n_student_repeats, n_test_repeats, variance,
                 n_factors, seed, summary, log, pca_smoothing=0.0):
    import brian2

    from brianforce.methods.factor_student import FactorStudent

    skw, flat, noise_sd, noise_ch = _student_settings(student)
    # the teacher's inputs (random encodings drawn with ``seed``) in another order
    strain = reaching_trials(emg, n_student_repeats, dt, shuffle=True, seed=seed, shuffle_seed=seed + 1, **task_kw)
    test = reaching_trials(emg, n_test_repeats, dt, seed=seed, **task_kw)
    s_inputs, test_inputs = strain.inputs, test.inputs
    if noise_sd > 0:
        if noise_ch < 1:
            noise_ch = int(skw["n_neurons"])
        gain = skw["network"].si()["input_gain"]
        if gain <= 0:
            raise ValueError("background_noise needs input_gain > 0 (it is delivered through input weights)")
        s_inputs = noisy_inputs(strain.inputs, noise_ch, noise_sd, gain, seed, "train")
        test_inputs = noisy_inputs(test.inputs, noise_ch, noise_sd, gain, seed, "test")
    nb = strain.info["baseline_samples"]
    if nb < 2:
        raise ValueError("the student needs a baseline of >= 2 samples (rest state)")
    t_run = T.run(strain.inputs)
    fac = pca_factors(t_run.rates, variance=None if n_factors is not None else variance,
                      n_factors=n_factors)
    ytilde = fac.transform(t_run.rates)
    log(f"factors: {fac.n_factors} PCs ({fac.total_explained:.4f} of the variance); student "
        f"N = {skw.get('n_neurons')}, {strain.n_trials} trials cycled")
    S = FactorStudent(seed=seed, **skw)
    t0 = time.time()
    S.fit(s_inputs, ytilde, strain.targets, dt * brian2.second, rest_step=nb - 1)
    fit_wall = time.time() - t0
    log(f"student trained in {fit_wall:.0f} s (last factor nMSE {S.train_errors_[-1]:.3g}); testing")
    run = S.predict(test_inputs)
    t_test = T.run(test.inputs)
    conds = np.unique(test.labels)
    window = test.info["emg_window"]
    a, b = window
    z_avg = _condition_average(run.outputs, test.labels, conds)
    f_avg = _condition_average(test.targets, test.labels, conds)
    r2_avg = condition_r2(z_avg, f_avg, window)
    r2_single = condition_r2(run.outputs, test.targets, window)
    trains = [np.sort(run.spike_t[run.spike_i == i]) for i in range(S.n_neurons)]
    # every test trial starts from the stored rest state: intervals across trials are not ISIs
    cv = isi_cv_within_trials(run.spike_i, run.spike_t, run.trial_starts, run.duration, S.n_neurons)
    # CV2 within trials only (intervals across a trial reset are not ISIs of one run)
    per_trial = [[tr[(tr >= s0) & (tr < s0 + run.duration)] for s0 in run.trial_starts] for tr in trains]
    cv2 = np.array([np.nanmedian(v) if np.any(np.isfinite(v)) else np.nan
                    for v in (local_cv2(ts) for ts in per_trial)])
    edges = np.append(run.trial_starts, run.trial_starts[-1] + run.duration)
    counts = np.stack([np.histogram(tr, edges)[0] for tr in trains], axis=1)   # (trials, N)
    ff = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for c in conds:
            if np.sum(test.labels == c) > 1:
                ff.append(fano_factor(counts[test.labels == c]))
    ff_med = nanmedian_or_none(np.concatenate(ff)) if ff else None   # needs 2 trials/condition
    s_avg = _condition_average(run.rates, test.labels, conds)
    t_avg = _condition_average(t_test.rates, test.labels, conds)
    sd = pca_smoothing / dt
    pop = population_comparison(gaussian_smooth(s_avg, sd, axis=1), gaussian_smooth(t_avg, sd, axis=1))
    raw = population_comparison(s_avg, t_avg)
    pop["pca_smoothing_s"] = float(pca_smoothing)
    pop["n_trials_averaged"] = int(n_test_repeats)
    pop["unsmoothed_student_top_pcs_variance"] = raw["student_top_pcs_variance"]
    pop["unsmoothed_median_principal_angle_deg"] = raw["median_principal_angle_deg"]
    scores = pop.pop("_scores")
    summary["factors"] = {"n_factors": fac.n_factors, "variance_explained": fac.total_explained}
    summary["student"] = {
        "n_neurons": S.n_neurons, "size_ratio": S.n_neurons / T.n_units,
        "n_train_trials": strain.n_trials, "n_test_trials": test.n_trials,
        "settings": {k: str(v) for k, v in flat.items()},
        "background_noise_V": noise_sd, "background_channels": noise_ch if noise_sd > 0 else 0,
        "train_factor_error_last": float(S.train_errors_[-1]),
        "train_mean_rate_hz": float(S.mean_rate_), "fit_wall_s": fit_wall, "train_device": S.device_,
        "train_timings_s": dict(S.timings_), "test_device": S.test_device_, "test_timings_s": dict(S.test_timings_),
        "r2_trial_averaged_per_condition": [float(r) for r in r2_avg],
        "r2_trial_averaged_min": float(r2_avg.min()),
        "r2_trial_averaged": float(r_squared(z_avg[:, a:b], f_avg[:, a:b], "variance_weighted")),
        "r2_trial_averaged_per_muscle": [float(r) for r in r_squared(z_avg[:, a:b], f_avg[:, a:b],
                                                                     "raw_values")],
        "r2_single_trial_median": float(np.median(r2_single)),
        "mean_rate_hz": float(len(run.spike_t) / (S.n_neurons * run.duration * test.n_trials)),
        "isi_cv_median": nanmedian_or_none(cv),
        "isi_cv_fraction_above_0.5": float(np.nanmean(cv[np.isfinite(cv)] > 0.5)) if np.any(np.isfinite(cv)) else 0.0,
        "fano_factor_median": ff_med,
        "cv2_median": nanmedian_or_none(cv2),
    }
    summary["population"] = pop
    log(f"student trial-averaged R² {summary['student']['r2_trial_averaged']:.3f} "
        f"(per condition {np.round(r2_avg, 3).tolist()}), ISI CV {_fmt(summary['student']['isi_cv_median'])}, "
        f"top-10 PCs {pop['student_top_pcs_variance']:.3f}, median angle {pop['median_principal_angle_deg']:.1f}°")
    return {"student_model": S, "test": test, "student_run": run, "teacher_test": t_test,
            "student_avg": z_avg, "target_avg": f_avg, "pc_scores": scores, "factors": fac}


def noisy_inputs(inputs, n_channels, sd, input_gain, seed, stream):
    """``inputs`` with ``n_channels`` independent white-noise channels appended (1 sample = 1
    RLS step). The student's input weights are uniform(−1, 1)·``input_gain``, so each channel
    gets SD ``sd / (input_gain·√(n_channels/3))``: every neuron then receives a noise current of
    SD ≈ ``sd``, nearly independent across neurons for ``n_channels`` ~ N (background input)."""
    from brianforce.seeding import rng_for

    n, T, _ = inputs.shape
    ch_sd = sd / (input_gain * np.sqrt(n_channels / 3.0))
    noise = rng_for(seed, f"reaching-background-{stream}").standard_normal((n, T, n_channels)) * ch_sd
    return np.concatenate([inputs, noise], axis=2)


def _criteria(summary) -> dict:
    """Acceptance criteria of the DePasquale et al. reaching fit, value and pass/fail."""
    c = {"teacher_r2_min_gt_0.95": {"value": summary["teacher"]["r2_min"],
                                    "passed": summary["teacher"]["r2_min"] > 0.95}}
    s, p = summary.get("student"), summary.get("population")
    if s:
        c["student_r2_trial_averaged_gt_0.85"] = {"value": s["r2_trial_averaged"],
                                                   "passed": s["r2_trial_averaged"] > 0.85}
        c["isi_cv_median_gt_0.5"] = {"value": s["isi_cv_median"], "passed": (s["isi_cv_median"] or 0.0) > 0.5}
        c["size_ratio_le_3"] = {"value": s["size_ratio"], "passed": s["size_ratio"] <= 3}
    if p:
        c["top10_pcs_variance_gt_0.9"] = {"value": p["student_top_pcs_variance"],
                                          "passed": p["student_top_pcs_variance"] > 0.9}
        c["median_principal_angle_lt_15deg"] = {"value": p["median_principal_angle_deg"],
                                                "passed": p["median_principal_angle_deg"] < 15}
    return c


def _write(out: Path, summary: dict, result: dict) -> None:
    from brianforce.io import save_arrays

    out.mkdir(parents=True, exist_ok=True)
    _figures(out, summary, result)
    T = result["teacher_model"]
    arrays = dict(teacher_J=T.J_, teacher_W_out=T.W_out_, teacher_u_in=T.u_in_, teacher_x_rest=T.x_rest_)
    if "student_model" in result:
        arrays.update({f"student_{k}": v for k, v in result["student_model"].arrays().items()})
        arrays.update(factor_components=result["factors"].components, factor_mean=result["factors"].mean)
    save_arrays(out / "network.npz", arrays, {"summary": summary}, kind="reaching-emg")
    atomic_write_text(out / "summary.json", json_text(summary, indent=2, sort_keys=True))


_MAX_SHOWN = 6   # channels drawn per condition in emg_fits.png


def _figures(out: Path, summary: dict, result: dict) -> None:
    import matplotlib.pyplot as plt

    ev = result["eval"]
    a, b = ev.info["emg_window"]
    t = (np.arange(ev.n_steps) - a) * ev.dt
    C = ev.targets.shape[0]
    shown = np.sort(np.argsort(-ev.targets[:, a:b].reshape(-1, ev.targets.shape[2]).var(axis=0),
                               kind="stable")[:_MAX_SHOWN])     # the most variable channels
    Q = len(shown)
    ncol = min(4, C)
    nrow = int(np.ceil(C / ncol))
    wide = 1 + (ncol < 3) * (3 - ncol) / ncol      # room for the title with 1-2 conditions
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.2 * ncol * wide, 2.4 * nrow), sharex=True, sharey=True,
                             constrained_layout=True, squeeze=False)
    colors = plt.cm.tab10(np.arange(Q) % 10) if Q <= 10 else plt.cm.viridis(np.linspace(0, 1, Q))
    has_s = "student_avg" in result
    for c in range(C):
        ax = axes.flat[c]
        for j, q in enumerate(shown):
            ax.plot(t, ev.targets[c, :, q], color=colors[j], lw=2.2, alpha=0.45)
            ax.plot(t, result["teacher_eval"].outputs[c, :, q], "--", color=colors[j], lw=0.9)
            if has_s:
                ax.plot(t, result["student_avg"][c, :, q], color=colors[j], lw=1.0)
        title = f"cond {ev.info['conditions'][c]}: teacher R² {summary['teacher']['r2_per_condition'][c]:.3f}"
        if has_s:
            title += f"\nstudent R² {summary['student']['r2_trial_averaged_per_condition'][c]:.3f}"
        ax.set_title(title, fontsize=8)
        ax.axvline(ev.info["go_time"], color="0.6", lw=0.6)
    for ax in axes.flat[C:]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("time from data window start (s)")
    what = summary["data"]["signal"].replace("_pcs", " PCs").replace("emg", "EMG")
    n_ch = ev.targets.shape[2]
    what += f" ({Q} of {n_ch} channels)" if Q < n_ch else ""
    fig.suptitle(f"recorded {what} (thick), rate teacher (dashed), spiking student trial average (thin)"
                 if has_s else f"recorded {what} (thick), rate teacher (dashed)", fontsize=9)
    atomic_savefig(fig, out / "emg_fits.png", dpi=90)
    plt.close(fig)
    if not has_s:
        return
    run, test = result["student_run"], result["test"]
    n_show = min(4, test.n_trials)
    fig, ax = plt.subplots(figsize=(9, 3.5), constrained_layout=True)
    n_neurons = result["student_model"].n_neurons
    n_raster = min(200, n_neurons)
    m = (run.spike_t < n_show * run.duration) & (run.spike_i < n_raster)
    ax.plot(run.spike_t[m], run.spike_i[m], "k.", ms=0.8)
    for s in run.trial_starts[:n_show]:
        ax.axvline(s, color="r", lw=0.6)
    ax.set_xlabel("time (s), test trials back to back")
    ax.set_ylabel("neuron")
    shown = f"{n_raster} of {n_neurons}" if n_raster < n_neurons else f"all {n_neurons}"
    ax.set_title(f"spiking student raster ({shown} neurons); "
                 f"median ISI CV {_fmt(summary['student']['isi_cv_median'])}, CV2 "
                 f"{_fmt(summary['student']['cv2_median'])}, Fano {_fmt(summary['student']['fano_factor_median'])}",
                 fontsize=9)
    atomic_savefig(fig, out / "raster.png", dpi=90)
    plt.close(fig)
    ss, st = result["pc_scores"]
    fig, axes = plt.subplots(1, 3, figsize=(10, 3), constrained_layout=True)
    for k, ax in enumerate(axes):
        if k >= min(ss.shape[1], st.shape[1]):
            break
        zt = st[:, k] / (st[:, k].std() or 1)          # z-scored: rates (Hz) vs tanh units
        zs = ss[:, k] / (ss[:, k].std() or 1) * (np.sign(np.dot(ss[:, k], st[:, k])) or 1)
        ax.plot(zt, "k", lw=1, label="teacher")
        ax.plot(zs, "r", lw=0.8, label="student")
        ax.set_title(f"PC {k + 1}, z-scored (conditions concatenated)", fontsize=8)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"median principal angle {summary['population']['median_principal_angle_deg']:.1f}°, "
                 f"student top-10 PCs {100 * summary['population']['student_top_pcs_variance']:.1f} %", fontsize=9)
    atomic_savefig(fig, out / "pcs.png", dpi=90)
    plt.close(fig)


# ---------------------------------------------------------------------------- recipes
#: Sections of a ``method = "reaching"`` recipe and the keys of each: ``[task]`` holds ``dt`` and
#: :func:`~brianforce.tasks.reaching.reaching_trials` arguments, ``[run]`` and ``[analysis]``
#: :func:`fit_reaching` arguments, ``[teacher]`` :class:`~brianforce.rate.teacher.RateTeacher`
#: arguments and the factor selection (``variance``, ``n_factors``). ``[student]`` takes the flat
#: keys of :func:`~brianforce.methods.factor_student.recipe_student_kwargs` and :data:`REACHING_STUDENT_KEYS`.
#: ``[data]``: ``dataset`` (a name of :data:`brianforce.datasets.LOADERS`, or ``"auto"`` to detect
#: the ``--data`` file's layout), ``synthetic`` (look-alike fallback), and the
#: :func:`~brianforce.tasks.reaching.reaching_targets` arguments ``signal`` (``"recorded"`` or
#: ``"pcs"``), ``max_channels`` and ``go_time`` (for data that define no go time).
REACHING_RECIPE_KEYS = {
    "": ("experiment", "data", "task", "run", "teacher", "student", "analysis"),
    "experiment": ("method", "name", "seed", "paper"),
    "data": ("dataset", "synthetic", "signal", "max_channels", "go_time"),
    "task": ("dt", "baseline", "encoding", "n_dims", "input_amplitude", "input_off_at_go", "go_time",
             "go_amplitude", "go_duration", "target_scale", "normalise", "conditions", "crop"),
    "run": ("n_teacher_repeats", "n_student_repeats", "n_test_repeats", "fit_student"),
    "teacher": ("n_units", "tau", "g", "reg", "target_gain", "input_gain", "noise", "washout", "method",
                "update_every", "variance", "n_factors"),
    "analysis": ("pca_smoothing",),
}
#: ``[student]`` keys of a reaching recipe handled by :func:`fit_reaching` itself.
REACHING_STUDENT_KEYS = ("background_noise", "background_channels")
# durations of the [task] and [teacher] sections (in seconds), and whether 0 is allowed
_DURATIONS = {"task": {"baseline": True, "go_time": True, "go_duration": False, "crop": False},
              "teacher": {"tau": False, "washout": True}}


def _parsed(v, section: str, key: str):
    """A recipe value: a duration → seconds, another unit string → a quantity (refused later where
    a plain number belongs), other values unchanged."""
    from brianforce.config import RecipeError, parse_quantity, recipe_seconds

    durations = _DURATIONS.get(section, {})
    if key in durations:
        return recipe_seconds(v, f"[{section}] {key}", allow_zero=durations[key])
    if isinstance(v, str):
        try:
            return parse_quantity(v)
        except RecipeError:
            return v
    return v


def run_reaching_recipe(path, out, *, data=None, overrides: dict | None = None,
                        progress: bool = True, before_work=None) -> dict:
    """Run a ``method = "reaching"`` recipe (``models/reaching_emg.toml``) and write ``out``.

    ``data`` (file, folder or data root) overrides ``BRIANFORCE_DATA``; with neither, the recipe's
    ``[data] synthetic = true`` falls back to the look-alike in ``data/``. ``overrides``:
    ``{"section.key": value}`` replacements (tests, FAST runs). The recipe's sections and keys
    (:data:`REACHING_RECIPE_KEYS`) and its settings are checked and the data read before any work;
    ``before_work`` (no arguments) is called then, before any training or output.
    """
    import copy

    from brianforce import datasets
    from brianforce.config import RecipeError, check_keys, check_sections, load_recipe, recipe_seconds
    from brianforce.methods.factor_student.params import STUDENT_KEYS
    from brianforce.units import as_count, as_flag, as_number

    rec = copy.deepcopy(load_recipe(path))
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        if not key:
            raise RecipeError(f"override {dotted!r} must look like 'section.key'")
        rec.setdefault(section, {})[key] = value
    check_sections(rec, REACHING_RECIPE_KEYS, str(path))
    student = dict(rec.get("student", {}))
    check_keys(student, (*STUDENT_KEYS, *REACHING_STUDENT_KEYS), "[student]")
    exp = rec.get("experiment", {})
    seed = as_count(exp.get("seed", 0), "[experiment] seed")
    dsec = dict(rec.get("data", {}))
    name = dsec.get("dataset", "reaching_emg")
    if name != datasets.AUTO and (not isinstance(name, str) or name not in datasets.LOADERS):
        raise RecipeError(f"{path}: unknown [data] dataset {name!r}; the loaders of brianforce.datasets "
                          f"are {datasets.loader_names()}")
    synthetic = as_flag(dsec.get("synthetic", True), "[data] synthetic")
    signal = dsec.get("signal", "recorded")
    if signal not in SIGNALS:
        raise RecipeError(f"{path}: [data] signal must be one of {SIGNALS}, got {signal!r}")
    max_channels = dsec.get("max_channels")
    max_channels = None if max_channels is None else as_count(max_channels, "[data] max_channels", minimum=1)
    go_time = dsec.get("go_time")
    go_time = None if go_time is None else recipe_seconds(go_time, "[data] go_time", allow_zero=True)
    task = {k: _parsed(v, "task", k) for k, v in rec.get("task", {}).items()}
    dt = recipe_seconds(task.pop("dt", 1e-3), "[task] dt")
    run_kw = {k: (as_flag(v, f"[run] {k}") if k == "fit_student" else
                  as_count(v, f"[run] {k}", minimum=1)) for k, v in rec.get("run", {}).items()}
    teacher = {k: _parsed(v, "teacher", k) for k, v in rec.get("teacher", {}).items()}
    variance = as_number(teacher.pop("variance", 0.99), "[teacher] variance", low=0.0, high=1.0, low_open=True)
    n_factors = teacher.pop("n_factors", None)
    n_factors = None if n_factors is None else as_count(n_factors, "[teacher] n_factors", minimum=1)
    pca_smoothing = recipe_seconds(rec.get("analysis", {}).get("pca_smoothing", 0.0), "[analysis] pca_smoothing",
                                   allow_zero=True)
    RateTeacher(seed=seed, **dict(DEFAULT_TEACHER, **teacher))       # checks the settings before any work
    if run_kw.get("fit_student", True):
        _student_settings(student)
    emg = reaching_targets(datasets.load_dataset(name, data, synthetic=synthetic), signal=signal,
                           max_channels=max_channels, go_time=go_time)
    if before_work is not None:
        before_work()
    summary = fit_reaching(emg, dt=dt, task=task, teacher=teacher, student=student,
                           variance=variance, n_factors=n_factors, out=out,
                           pca_smoothing=pca_smoothing, seed=seed, progress=progress, **run_kw)
    summary["recipe"] = str(path)
    summary["experiment"] = exp.get("name", Path(path).stem)
    res = summary.pop("_result")
    atomic_write_text(Path(out) / "summary.json", json_text(summary, indent=2, sort_keys=True))
    summary["_result"] = res
    return summary
