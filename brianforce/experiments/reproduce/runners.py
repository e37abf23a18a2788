"""Acceptance runs: one shipped recipe at one seed and size → the metrics its criteria judge.

:data:`RUNNERS` maps each runner kind of :mod:`~brianforce.experiments.reproduce.criteria` to a function
``(recipe path, seed, overrides, out folder, data) → {"metrics": {...}, "data": str}`` that trains the
recipe with the project's own driver (:func:`~brianforce.experiments.force.run_force_recipe`,
:func:`~brianforce.experiments.depasquale.train_from_recipe`,
:func:`~brianforce.experiments.reaching.run_reaching_recipe`,
:func:`~brianforce.experiments.reaching.run_m1_recipe`, :func:`~brianforce.methods.transfer.run_kim2019`,
:func:`~brianforce.experiments.kimchow.run_patterns`, :func:`~brianforce.experiments.sweep.run_sweep`)
and writes that driver's outputs to the folder. ``size="full"`` runs the recipe as it is;
``size="ci"`` replaces the entries of :data:`CI_OVERRIDES` (smaller networks, shorter training: for
tests and quick looks, never for judging a method). :func:`run_acceptance_cell` is the Dask cell: it
records an error in its row instead of raising.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

__all__ = ["RUNNERS", "SIZES", "CI_OVERRIDES", "SLOW_ALPHA", "DATA_KINDS", "size_overrides", "run_acceptance",
           "run_acceptance_cell", "failed_cell_row", "newton_nicola_metrics", "ROW_KEYS"]

#: ``full``: the recipes as they are; ``ci``: reduced sizes (:data:`CI_OVERRIDES`).
SIZES = ("full", "ci")
#: Runner kinds that read recorded data (``--data`` / ``BRIANFORCE_DATA``, else the synthetic look-alike).
DATA_KINDS = ("reaching", "reaching_m1")
#: The slow learning rate at which Newton & Nicola's decoders are compared (the α-sweep recipe's
#: "at slow learning (alpha ~ 5e-7)"); the grid value nearest to it (log scale) is used.
SLOW_ALPHA = 5e-7
#: Keys of every cell row.
ROW_KEYS = ("method", "recipe", "seed", "size", "metrics", "data", "wall_s", "error")

_FORCE_CI = {"network.n_neurons": 1000, "protocol.settle": "0.2 s", "protocol.train": "3 s", "protocol.test": "1 s"}
_OSC_CI = {"task.n_train": 5, "task.n_test": 2, "task.n_test_repeats": 1, "teacher.n_units": 60,
           "student.n_neurons": 180, "student.n_rls": 10}
# DePasquale integration: half the teacher (100 units, 50 training trials), half the student (300 neurons,
# still 3x the teacher), half the RLS trials (30, over 10 distinct trials) and 10 test trials (about 30 s).
# Chosen at tuning seeds 0-9 (benchmarks/results/ci_size_probes.csv, label S300): accuracy 0.9-1.0 (10/10
# >= 90 %); with a 60-unit teacher (20 trials) and 180 neurons trained by 10 RLS trials over 5 (label ci):
# 0.5-1.0 (6/10).
_INTEGRATION_CI = {"task.n_train": 50, "task.n_test": 10, "task.n_student_train": 10, "teacher.n_units": 100,
                   "student.n_neurons": 300, "student.n_rls": 30}
# DePasquale classification: the same halved teacher and student with 40 RLS trials (half the recipe's 80;
# about 30 s). At tuning seeds 0-9 (benchmarks/results/ci_size_probes.csv, label "S300R40, target rising
# over the delay only"): accuracy 0.90-1.00 (10/10 >= 90 %; seed 0: 0.90); at the test seed 111: 1.00. The
# rows of labels S300R40, S300, S300R60 and ci were made with a target whose sin^2 rise was cut at 0.14 at
# the end of the delay and stepped to 1: 40 RLS trials 10/10, 30 (S300) 7/10, 60 (S300R60) 10/10, the
# smaller size of label ci 2/10.
_CLASSIFICATION_CI = {**_INTEGRATION_CI, "student.n_rls": 40}
# Reaching EMG on the recording (reaching_data.mat; the synthetic look-alike misses at full size): the
# teacher as shipped, a student of 500 neurons (2.5x the teacher) with the recipe's 200 RLS trials, 4 test
# trials per condition (about 2 min here). Chosen at tuning seeds 0-9 (benchmarks/results/ci_size_probes.csv,
# labels "S500 test4", "S400 test4", "S300 test4"): S500 meets every criterion at 9/10, spiking R^2
# 0.863-0.916; its one miss, seed 9, is the teacher's (R^2 0.78 in one condition: the same teacher as at
# full size). S400 8/10 (seed 5: R^2 0.837), S300 5/7 (seeds 4 and 6: 0.825, 0.781).
_REACH_CI = {"student.n_neurons": 500, "run.n_test_repeats": 4}
# Kim et al. 2019 XOR: the rate network as shipped (N = 200, the paper's stopping rule, the authors' ReLU on
# W~) and the 1/lambda search narrowed to 35-55, where every tuning network's chosen value lay, on 60 validation
# trials each; 100 test trials (120-300 s a run here, two side by side). At tuning seeds 0-9
# (benchmarks/results/ci_size_probes.csv, label "rectifier relu, 1/lambda 35-55 x 60 validation trials"):
# both criteria at 8/10, the share the reproduction asks of a method's seeds (>= 80 %): rate 0.95-0.99, LIF
# 0.89-0.99 (seeds 6 and 7: 0.89; seed 7 misses at full size too). 100 validation trials (label "rectifier
# relu, 1/lambda 35-55 x 100 validation trials", stopped after 6 seeds) missed at seeds 6 and 7 as well
# (0.88, 0.89). With |W~| the 60-trial size met both at 7/10 (label "1/lambda 35-55 x 60 validation trials":
# seed 5's rate network did not learn XOR, seeds 3 and 7 transferred at 0.87 and 0.85).
_KIM_CI = {"transfer.scaling_factors": [35, 40, 45, 50, 55], "transfer.n_validation": 60}
# Kim et al. 2019 Go/NoGo: the rate network as shipped (N = 200, at least 1500 trials), a lighter
# 1/lambda search (8 validation trials) and 20 test trials (30-45 s). At tuning seeds 0-9
# (benchmarks/results/ci_size_probes.csv), with the recipe's LIF start and readout (label "ci, readout
# without b_out"): rate accuracy 1.0 at 10/10, LIF >= 90 % at 9/10 (seed 3: 0.75 at 1/lambda = 60). With
# the LIF started below threshold and b_out in the readout (label ci) LIF >= 90 % at 7/10 (seeds 3, 8, 9).
_KIM_GO_NOGO_CI = {"transfer.n_validation": 8, "evaluation.n_test": 20}
# Kim et al. 2019 context: half the rate network (N = 100: the fewest Adam steps per second; N = 50
# needs 3300-6500 steps), the paper's stopping rule and 100 test trials, 1/lambda 30-55 (6 of the 12
# values; 35-45 were chosen) on 8 validation trials each (45-70 s). Chosen at tuning seeds 0-9:
# rate accuracy 0.96-1.00, LIF accuracy 0.86-1.00 (10/10 meet both; 20 test trials: rate 0.95 at 3
# seeds, too close to the threshold; 4 validation trials: LIF 0.90 at seed 6 instead of 0.98).
_KIM_CONTEXT_CI = {"rate.n_units": 100, "transfer.scaling_factors": [30, 35, 40, 45, 50, 55],
                   "transfer.n_validation": 8}
#: ``--size ci``: recipe entries (``"section.key"``) replaced per recipe.
CI_OVERRIDES = {
    "nicola_clopath_sinusoid": _FORCE_CI,
    # Van der Pol: the recipe as shipped (N = 2000; one compiled program, ~20 s); the N = 1000 size misses
    # RMSE/amp < 0.2 at seed 111 (0.237). The sinusoid misses at seed 111 at both sizes (0.255 at N = 1000,
    # 0.213 as shipped), so it has no ci acceptance test.
    "nicola_clopath_van_der_pol": {},
    # DePasquale oscillation: the recipe as shipped (about 100 s here with its training and test trials as
    # compiled programs). No reduced size keeps the student's error within 2x the teacher's at the tuning
    # seeds: at the size of _OSC_CI the teacher itself does not learn the oscillation (its error 1.44 and
    # 1.45 at seeds 0 and 1), and with the full teacher, 300 neurons and 40 RLS trials the ratio holds at 2
    # of 7 (benchmarks/results/ci_size_probes.csv, label S300R40).
    "depasquale_oscillation": {},
    # Dale's law: not asserted at a reduced size. The size here has the teacher of _OSC_CI, which does not
    # learn the oscillation; with the recipe's teacher and student, 20 RLS trials and a 2-period x 2-copy
    # calibration (about 145 s) the error ratio exceeded 3 at 3 of the first 4 tuning seeds (0, 1, 5: 16.9,
    # 57.0, 58.2; seed 6: 0.92; benchmarks/results/ci_size_probes.csv, label "R20 calibration 2x2 k10").
    # 40 RLS trials with that calibration: 2 of 5 (label "R40 calibration 2x2 k10"); with the recipe's whole
    # calibration, run as a compiled program: 9.3 and 3.57 at seeds 0 and 1, 347-368 s a run (label
    # "R40 k10 program tests"). The recipe's 120 RLS trials at half the student's time resolution (dt 0.1 ms)
    # with the whole calibration and the tests as compiled programs: 4.31 and 2.11 at seeds 0 and 1,
    # 583-597 s a run, two side by side (label "dt 0.1 ms k10 program tests"): a Dale student trains at
    # runtime (its sign-constrained re-solves are numpy), and a coarser step does not bring that into the budget.
    "depasquale_oscillation_dale": {**_OSC_CI, "student.period_calibration": 2, "student.calibration_copies": 2},
    "depasquale_integration": _INTEGRATION_CI,
    "depasquale_classification": _CLASSIFICATION_CI,
    "reaching_emg": _REACH_CI,
    # Reaching EMG, 13 muscles (EMG.mat): the recipe as shipped (about 2.5 min here with its training and test
    # trials compiled; its 80 RLS trials and 2 test trials per condition leave little to reduce). At tuning seeds
    # 0-9 (benchmarks/results/reaching_emg13_convergence.csv, label "n_rls=80"): every criterion met at 10/10,
    # spiking R^2 0.940-0.974.
    "reaching_emg13": {},
    "kim2019_go_nogo": _KIM_GO_NOGO_CI,
    "kim2019_xor": _KIM_CI,
    "kim2019_context": _KIM_CONTEXT_CI,
    # Kim & Chow patterns: half the network and half the pattern length (the same length per neuron),
    # the recipe's 15 training trials, 2 test trials (about 4 s a run). Chosen at tuning seeds 0-9
    # (benchmarks/results/ci_size_probes.csv, label ci): mean test correlation 0.958-0.990 (10/10 > 0.9).
    "kimchow_patterns": {"network.n": 500, "training.n_trials": 15, "targets.duration_ms": 500.0,
                         "evaluation.n_test_trials": 2},
    # Kim & Chow M1 (synthetic look-alike without --data): N = 300, 2 trials per direction, one round,
    # 12 units, 4 test trials (6-11 s with the compiled fit). Chosen at tuning seeds 0-9
    # (benchmarks/results/ci_size_probes.csv, label "B, bins closed at their start"): correlation / Poisson
    # ceiling 0.951-1.019 (10/10 >= 0.9); the same at N = 200 (label "C, ..."): 0.748-0.882 (0/10).
    "reaching_m1": {"network.n": 300, "training.n_trials": 2, "training.rounds": 1, "evaluation.n_test_trials": 4,
                    "evaluation.max_units": 12},
    # Newton & Nicola: the full size's slow-alpha cell alone (the other alpha values serve only the rank
    # correlation, which misses at full size); its metrics are the full sweep's at that alpha (seed 101:
    # decoder correlation 0.8496 both ways). At tuning seeds 0-9 (benchmarks/results/ci_size_probes.csv,
    # label "alpha 5e-7 only"): decoder correlation 0.801-0.868 (10/10 > 0.8), 5-8 s a run.
    "newton_nicola_alpha_sweep": {"grid.alpha": [SLOW_ALPHA]},
}


def size_overrides(recipe: str, size: str) -> dict:
    """The ``{"section.key": value}`` replacements of ``recipe`` at ``size`` (none at ``"full"``)."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    return dict(CI_OVERRIDES.get(recipe, {})) if size == "ci" else {}


def _apply(recipe: dict, overrides: dict) -> dict:
    """``recipe`` with ``{"section.key": value}`` entries replaced (in place; returned)."""
    for dotted, value in overrides.items():
        section, _, key = dotted.partition(".")
        recipe.setdefault(section, {})[key] = value
    return recipe


def _data_label(source, synthetic) -> str:
    return f"{'synthetic look-alike' if synthetic else 'recorded'}: {source}"


def _write_summary(out: Path, summary: dict) -> None:
    from brianforce.io import atomic_write_text, json_text

    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "summary.json", json_text(summary, indent=2, default=float))


def _force(path: Path, seed: int, overrides: dict, out: Path, data) -> dict:
    from brianforce.config import load_recipe
    from brianforce.experiments.force import run_force_recipe

    recipe = _apply(load_recipe(path), {**overrides, "experiment.seed": seed})
    m = run_force_recipe(recipe, out, progress=False)["test_first_second"]
    return {"metrics": {"rmse_over_amplitude": max(m["rmse_over_amplitude"]),
                        "lag_adjusted_correlation": min(m["lag_adjusted_correlation"])}}


def _depasquale(path: Path, seed: int, overrides: dict, out: Path, data) -> dict:
    from brianforce.experiments.depasquale import train_from_recipe

    s = train_from_recipe(path, out, {**overrides, "experiment.seed": seed})
    ratio = s["error_ratio_over_repeats"] if s.get("error_ratio_over_repeats") is not None else s["error_ratio"]
    pop = s["population"]
    return {"metrics": {"error_ratio": ratio, "isi_cv_median": s["student"]["isi_cv_median"],
                        "top10_pcs_variance": pop["student_top_pcs_variance"],
                        "median_principal_angle_deg": pop["median_principal_angle_deg"],
                        "accuracy": s["student"]["accuracy"]}}


def _reaching(path: Path, seed: int, overrides: dict, out: Path, data) -> dict:
    from brianforce.experiments.reaching import run_reaching_recipe

    s = run_reaching_recipe(path, out, data=data, overrides={**overrides, "experiment.seed": seed}, progress=False)
    student = s.get("student") or {}
    return {"metrics": {"teacher_r2_min": s["teacher"]["r2_min"],
                        "student_r2_trial_averaged": student.get("r2_trial_averaged"),
                        "isi_cv_median": student.get("isi_cv_median")},
            "data": _data_label(s["data"]["source"], s["data"]["synthetic"])}


def _reaching_m1(path: Path, seed: int, overrides: dict, out: Path, data) -> dict:
    from brianforce.experiments.reaching import run_m1_recipe

    s = run_m1_recipe(path, out, data=data, overrides={**overrides, "network.seed": seed}, progress=False)["summary"]
    corr, ceiling = s["corr_all_directions_median"], s["poisson_ceiling_corr_all_directions_median"]
    return {"metrics": {"corr_all_directions_median": corr, "poisson_ceiling_median": ceiling,
                        "corr_over_poisson_ceiling": corr / ceiling if ceiling > 0 else float("nan")},
            "data": _data_label(s["source"], s["synthetic"])}


def _kim2019(path: Path, seed: int, overrides: dict, out: Path, data) -> dict:
    from brianforce.methods.transfer import check_kim2019_recipe, read_recipe, run_kim2019

    recipe = _apply(read_recipe(path), overrides)
    check_kim2019_recipe(recipe, str(path))
    res = run_kim2019(recipe, seed)
    metrics = {"rate_accuracy": float(res.rate_accuracy), "lif_accuracy": float(res.lif_accuracy),
               "rate_converged": float(res.rate_converged), "inverse_lambda": float(res.scaling_factor)}
    _write_summary(out, {"recipe": str(path), "seed": seed, "overrides": overrides, **metrics})
    return {"metrics": metrics}


def _kimchow_patterns(path: Path, seed: int, overrides: dict, out: Path, data) -> dict:
    from brianforce.config import load_recipe
    from brianforce.experiments.kimchow import run_patterns

    row = run_patterns(_apply(load_recipe(path), overrides), seed)
    _write_summary(out, {"recipe": str(path), "overrides": overrides, **row})
    return {"metrics": {k: row[k] for k in ("test_corr_mean", "test_corr_median", "cv_fraction", "rate_hz")}}


def newton_nicola_metrics(frame, slow_alpha: float = SLOW_ALPHA, threshold: float = 0.3) -> dict:
    """Newton & Nicola's three measures from a learning-rate sweep (``model = "both"``) at one seed.

    Returns
    -------
    dict
        ``alpha_slow`` (the grid value nearest ``slow_alpha``, log scale); ``decoder_correlation_slow``
        there; ``transfer_ratio_open_max``: the larger of the two open-loop transfer ratios there
        (spiking decoder in the rate network and back; each direction also on its own,
        ``transfer_ratio_open_spike_to_rate`` and ``transfer_ratio_open_rate_to_spike``);
        ``correlation_alpha_spearman``: Spearman rank correlation of α and decoder correlation over
        the runs that did not diverge (NaN with fewer than three).

        Also, not judged by the criteria: ``correlation_alpha_spearman_learned``, the same rank
        correlation over the runs in which *both* networks learned, i.e. both closed-loop test
        errors (``*_error_period``, RMSE / amplitude, best shift per period) below ``threshold``
        (the paper compares the decoders of networks whose testing error is below a threshold;
        a run whose α is too small to learn within the training keeps decoders that are
        correlated only by chance; NaN with fewer than three such runs); ``n_not_diverged`` and
        ``n_learned`` count the runs behind the two rank correlations.
    """
    from scipy.stats import spearmanr

    ok = frame[~frame["diverged"].astype(bool) & np.isfinite(frame["decoder_correlation"].astype(float))]
    slow = frame.iloc[int(np.argmin(np.abs(np.log(frame["alpha"].astype(float) / slow_alpha))))]
    ratios = [float(slow[k]) for k in ("spike_to_rate_ratio_open", "rate_to_spike_ratio_open")]
    rho = float(spearmanr(ok["alpha"], ok["decoder_correlation"])[0]) if len(ok) >= 3 else float("nan")
    if {"spiking_error_period", "rate_error_period"} <= set(frame.columns):
        learned = ok[(ok["spiking_error_period"].astype(float) < threshold)
                     & (ok["rate_error_period"].astype(float) < threshold)]
        n_learned = len(learned)
        rho_learned = (float(spearmanr(learned["alpha"], learned["decoder_correlation"])[0]) if n_learned >= 3
                       else float("nan"))
    else:
        n_learned, rho_learned = float("nan"), float("nan")
    return {"alpha_slow": float(slow["alpha"]), "decoder_correlation_slow": float(slow["decoder_correlation"]),
            "transfer_ratio_open_max": max(ratios) if np.all(np.isfinite(ratios)) else float("nan"),
            "correlation_alpha_spearman": rho,
            "transfer_ratio_open_spike_to_rate": ratios[0], "transfer_ratio_open_rate_to_spike": ratios[1],
            "correlation_alpha_spearman_learned": rho_learned,
            "n_not_diverged": len(ok), "n_learned": n_learned}


def _newton_nicola(path: Path, seed: int, overrides: dict, out: Path, data) -> dict:
    from brianforce.config import load_recipe
    from brianforce.experiments.sweep import SweepSpec, run_sweep

    recipe = _apply(load_recipe(path), {**overrides, "experiment.seeds": [seed]})
    spec = SweepSpec.from_recipe(recipe)
    frame = run_sweep(spec, out, scheduler="synchronous", progress=False).frame
    errors = [e for e in frame.get("error", []) if isinstance(e, str) and e]
    if errors:
        raise RuntimeError(f"{len(errors)} sweep cell(s) failed, e.g. {errors[0]}")
    return {"metrics": newton_nicola_metrics(frame, threshold=spec.threshold)}


#: Runner kind → function ``(recipe path, seed, overrides, out folder, data) → {"metrics", "data"}``.
RUNNERS = {"force": _force, "depasquale": _depasquale, "reaching": _reaching, "reaching_m1": _reaching_m1,
           "kim2019": _kim2019, "kimchow_patterns": _kimchow_patterns, "newton_nicola": _newton_nicola}


def run_acceptance(kind: str, recipe: str, seed: int, size: str, out, data=None) -> dict:
    """Train shipped recipe ``recipe`` with runner ``kind`` at ``seed`` and ``size``; its metrics.

    Returns
    -------
    dict
        ``metrics`` (name → float or None) and ``data`` (which data the run read; ``""`` for none).
    """
    from brianforce.experiments.recipes import recipe_path

    if kind not in RUNNERS:
        raise ValueError(f"unknown runner kind {kind!r}; one of {sorted(RUNNERS)}")
    outcome = RUNNERS[kind](recipe_path(recipe), int(seed), size_overrides(recipe, size), Path(out),
                            data if kind in DATA_KINDS else None)
    metrics = {k: (None if v is None else float(v)) for k, v in outcome["metrics"].items()}
    return {"metrics": metrics, "data": outcome.get("data", "")}


def failed_cell_row(params: dict, exc: BaseException) -> dict:
    """The row of an acceptance cell whose run raised ``exc``."""
    return {"method": params["method"], "recipe": params["recipe"], "seed": params["seed"], "size": params["size"],
            "metrics": {}, "data": "", "wall_s": 0.0, "error": f"{type(exc).__name__}: {exc}"}


def run_acceptance_cell(params: dict, runs_dir: str) -> dict:
    """One Dask cell: :func:`run_acceptance` of ``params`` into
    ``runs_dir/<method>/<recipe>_<size>_seed<k>_<key>`` (``key``: the cell's, so runs on other data or of
    a changed recipe keep folders of their own), with BLAS on one thread; an exception is recorded in the
    row's ``error``, not raised."""
    from brianforce.blas import one_blas_thread
    from brianforce.experiments.cells import cell_key
    from brianforce.heap import frozen_heap

    out = (Path(runs_dir) / params["method"]
           / f"{params['recipe']}_{params['size']}_seed{params['seed']}_{cell_key(params)}")
    wall0 = time.perf_counter()
    try:
        with one_blas_thread(), frozen_heap():
            outcome = run_acceptance(params["kind"], params["recipe"], params["seed"], params["size"], out,
                                     params.get("data"))
    except Exception as exc:  # noqa: BLE001 - one run's failure must not end the reproduction
        row = failed_cell_row(params, exc)
        row["wall_s"] = time.perf_counter() - wall0
        return row
    return {"method": params["method"], "recipe": params["recipe"], "seed": params["seed"], "size": params["size"],
            "metrics": outcome["metrics"], "data": outcome["data"], "wall_s": time.perf_counter() - wall0,
            "error": ""}
