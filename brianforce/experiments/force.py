"""FORCE recipes (``method = "force"``): train a LIF network, test it free-running, judge it.

:func:`run_force_recipe` reads a recipe such as ``models/nicola_clopath_sinusoid.toml``;
:func:`run_force_experiment` trains and tests a :class:`~brianforce.methods.force.FORCETrainer`
(at runtime or as one compiled standalone program) and writes ``summary.json``, ``figure.png`` and
``model.npz``. The run is judged by Nicola & Clopath's criterion (:data:`CRITERION`, from the
table of :mod:`brianforce.experiments.reproduce.criteria`).

References
----------
Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE training.
Nat Commun 8:2208.
"""
from __future__ import annotations

import time
from pathlib import Path

from brianforce.experiments.progress import log
from brianforce.experiments.reproduce.criteria import FORCE_CORRELATION, FORCE_RMSE

__all__ = ["run_force_experiment", "run_force_recipe", "FORCE_RECIPE_KEYS", "CRITERION",
           "CRITERION_WINDOW_S"]

#: Keys of a ``method = "force"`` recipe, per section (``[task]`` is checked by the task).
FORCE_RECIPE_KEYS = {
    "": ("experiment", "task", "network", "protocol", "paper"),      # [paper]: free-form reference
    "experiment": ("method", "title", "name", "description", "seed"),
    "network": ("n_neurons", "p", "G", "Q", "alpha", "reg", "rls_interval", "dt", "tau_m", "tau_ref", "tau_r",
                "tau_d", "v_th", "v_reset", "bias", "normalised", "divergence_factor", "n_record", "record_dt"),
    "protocol": ("settle", "train", "test"),
}

#: Nicola & Clopath's success criterion, on the first second of the free-running test (every output).
CRITERION = {"rmse_over_amplitude_below": FORCE_RMSE.threshold,
             "lag_adjusted_correlation_above": FORCE_CORRELATION.threshold,
             "window": "first second of the free-running test", "reference": "Nicola & Clopath 2017"}
#: Seconds of the free-running test that :data:`CRITERION` judges; a shorter test is scored, not judged.
CRITERION_WINDOW_S = 1.0


def _log(msg: str) -> None:
    log(msg)


def run_force_experiment(out, task, *, trainer_kwargs: dict, settle: float, train: float, test: float,
                         progress: bool = True, title: str = "FORCE-trained LIF network",
                         device: str = "auto", before_work=None) -> dict:
    """Fit a :class:`~brianforce.methods.force.FORCETrainer`, test it free-running, write outputs.

    ``device='auto'`` trains where :class:`~brianforce.methods.force.FORCETrainer` is fastest (one
    ``cpp_standalone`` program when a compiler is present, else at runtime); ``'runtime'`` at
    runtime (RLS in numpy, per-update Python); ``'cpp_standalone'`` compiles settling, training
    (RLS in generated code) and the test into one program built in the cached project of its
    architecture (:mod:`brianforce.devices.cache`); ``'cuda_standalone'`` the same through Brian2CUDA
    with :class:`~brianforce.devices.force_standalone.StandaloneFORCETrainer`.

    Writes ``summary.json`` (metrics of the first second of the test and of the whole
    test, wall times of simulation and RLS), ``figure.png`` and ``model.npz`` to ``out``.
    The criterion (:data:`CRITERION`) judges the first second of the test: a shorter test is
    scored on its whole length (``test_window_s``; ``test_first_second`` holds these metrics),
    with ``judged`` false and ``verdict`` "not judged: ..."; ``passed`` then only says whether
    the thresholds are met on that shorter window. ``before_work`` (no arguments) is called
    once every setting has been checked, before any simulation or output.
    The figure shows the whole run on one time axis after Nicola & Clopath (2017, Fig. 2): output
    and target, decoder weights of ten neurons and a raster of thirty (see
    :func:`~brianforce.viz.force.plot_force_run`). Durations in seconds.
    """
    import matplotlib.pyplot as plt
    from brian2 import second

    from brianforce.io import atomic_savefig, atomic_write_text, json_text
    from brianforce.viz.force import plot_force_run
    from brianforce.methods.force import FORCETrainer

    out = Path(out)
    if device == "auto":
        from brianforce.devices.force_program import compiler_available

        device = "cpp_standalone" if compiler_available() else "runtime"
    if not progress:
        report = None
    elif device == "runtime":  # one line over settle, training and test, with the overall time left
        from brianforce.experiments.progress import OverallProgress

        report = OverallProgress(settle + train + test)
    else:
        report = "text"  # the compiled program reports by itself
    if device == "cuda_standalone":
        from brianforce.devices.force_standalone import StandaloneFORCETrainer

        trainer = StandaloneFORCETrainer(n_outputs=task.n_outputs, device=device, **trainer_kwargs)
    else:
        trainer = FORCETrainer(n_outputs=task.n_outputs, device=device, **trainer_kwargs)
    c = trainer.config
    # long enough for one RLS update and one scored window, checked before any simulation
    if not settle >= 0:
        raise ValueError(f"settle must be >= 0 s, got {settle}")
    if not train >= c.rls_interval:
        raise ValueError(f"train ({train} s) is shorter than one RLS interval ({c.rls_interval} s)")
    window = task.period if task.period else 10 * c.record_dt
    if not test >= window:
        raise ValueError(f"test ({test} s) is shorter than the scored window ({window} s: one period of the "
                         "target)")
    if before_work is not None:
        before_work()
    out.mkdir(parents=True, exist_ok=True)
    _log(f"task {task.name!r}: N = {c.n_neurons}, settle {settle} s, train {train} s, test {test} s, "
         f"seed {c.seed}, device {device}")
    wall0 = time.perf_counter()
    if device == "runtime":
        _log("building and compiling the Brian2 network, then settling, RLS training and the free-running test ...")
    else:
        _log("generating and compiling one program (settling, RLS training, test), then running it ...")
    if device == "cuda_standalone":
        trainer.fit(task, settle=settle * second, train=train * second, test=test * second, report=report)
        result = trainer.predict(test * second)
    else:
        trainer.fit(task, settle=settle * second, train=train * second, test=test * second, report=report,
                    record_spikes=True)
        result = trainer.test_result_
    fit_wall = time.perf_counter() - wall0
    tf = dict(trainer.timings_)
    if "run_s" in tf:  # the compiled program's run time holds the RLS updates and the test
        tf.update(simulation_s=tf["run_s"], rls_s=0.0)
    build = fit_wall - tf["compile_s"] - tf["simulation_s"] - tf["rls_s"]
    _log(f"trained in {fit_wall:.1f} s wall: {build:.1f} s building the network (drawing it, creating the "
         f"Brian2 objects and their code), {tf['compile_s']:.1f} s code generation and compilation of the runs, "
         f"{tf['simulation_s']:.1f} s simulation (the test included), "
         + (f"{tf['rls_s']:.1f} s in {tf['n_rls_updates']} RLS updates" if device == "runtime" else
            f"{tf['n_rls_updates']} RLS updates in generated code inside it"))
    judged = test >= CRITERION_WINDOW_S
    scored = min(CRITERION_WINDOW_S, test)
    label = "first second" if judged else f"first {scored:g} s"
    first = result.window(result.t[0], result.t[0] + scored)
    metrics = first.metrics(task.period)
    passed = bool(all(e < CRITERION["rmse_over_amplitude_below"] for e in metrics["rmse_over_amplitude"])
                  and all(r > CRITERION["lag_adjusted_correlation_above"]
                          for r in metrics["lag_adjusted_correlation"]))
    verdict = ("passed" if passed else "failed") if judged else \
        f"not judged: test shorter than {CRITERION_WINDOW_S:g} s ({scored:g} s scored)"
    criterion = CRITERION if judged else dict(CRITERION, window=f"{label} of the free-running test (all of "
                                              "it; the criterion judges the first second)")
    from brianforce.io import versions

    t = tf
    summary = {
        "passed": passed, "judged": judged, "verdict": verdict, "criterion": criterion,
        "task": task.name, "task_params": task.params, "seed": c.seed, "n_neurons": c.n_neurons,
        "durations_s": {"settle": settle, "train": train, "test": test},
        "test_window_s": scored, "test_first_second": metrics,
        **({"test_whole": result.metrics(task.period)} if test > CRITERION_WINDOW_S else {}),
        "config": {**{k: v for k, v in c.__dict__.items() if k != "lif"}, "lif": dict(c.lif.__dict__),
                   "alpha": 1.0 / c.reg},
        "units": {"G": "V*s", "Q": "V", "rls_interval": "s", "dt": "s", "record_dt": "s", "reg": "Hz^2",
                  "alpha": "Hz^-2",
                  "lif": {"tau_m": "s", "tau_ref": "s", "tau_r": "s", "tau_d": "s", "v_th": "V", "v_reset": "V",
                          "bias": "V"}},
        "versions": versions(), "device": device,
        "wall_time_s": {"build": build, "compile": t["compile_s"], "simulation": t["simulation_s"],
                        "rls": t["rls_s"] if device == "runtime" else None, "fit": fit_wall,
                        "test": result.wall_time if device == "runtime" else None},
        "n_rls_updates": t["n_rls_updates"],
        "final_training_abs_error": float(trainer.history_.abs_error[-50:].mean()),
    }
    axes = plot_force_run(getattr(trainer, "settle_result_", None), trainer.train_result_, result,
                          trainer.history_)
    fig = axes[0].figure
    fig.suptitle(f"{title} (N = {c.n_neurons}, {task.name}); {label} of the test: RMSE/amplitude "
                 f"{metrics['rmse_over_amplitude'][0]:.3f}, correlation {metrics['lag_adjusted_correlation'][0]:.3f}")
    # an earlier run's summary and figure go before its model is replaced, and the summary is
    # written last: a killed run never leaves files of two runs side by side
    for name in ("summary.json", "figure.png"):
        (out / name).unlink(missing_ok=True)
    trainer.save(out / "model.npz")
    atomic_savefig(fig, out / "figure.png", dpi=110)
    plt.close(fig)
    atomic_write_text(out / "summary.json", json_text(summary, indent=2))
    fmt = lambda xs: ", ".join(f"{x:.3f}" for x in xs)  # noqa: E731
    _log(f"test ({label}): RMSE/amplitude {fmt(metrics['rmse_over_amplitude'])}, "
         f"lag-adjusted correlation {fmt(metrics['lag_adjusted_correlation'])}, "
         f"frequency {fmt(metrics['output_frequency_hz'])} Hz")
    rule = (f"RMSE/amplitude < {CRITERION['rmse_over_amplitude_below']}, lag-adjusted correlation > "
            f"{CRITERION['lag_adjusted_correlation_above']}")
    if judged:
        _log(f"{'PASSED' if passed else 'FAILED'}: Nicola & Clopath's criterion (first second of the test: {rule})")
    else:
        _log(f"NOT JUDGED: Nicola & Clopath's criterion ({rule}) judges the first second of the test; this test "
             f"is {scored:g} s (thresholds {'met' if passed else 'missed'} on it)")
    _log(f"wrote {out / 'summary.json'}, {out / 'figure.png'}, {out / 'model.npz'}")
    return summary


def run_force_recipe(recipe: dict, out, progress: bool = True, device: str = "auto", before_work=None) -> dict:
    """Run a ``method = "force"`` recipe (see ``models/nicola_clopath_*.toml``).

    ``before_work`` (no arguments) is called once the recipe and its durations have been
    checked, before any simulation or output (:func:`run_force_experiment`).
    """
    from brianforce.checks import as_count
    from brianforce.config import RecipeError, check_sections, parse_quantity, recipe_seconds
    from brianforce.tasks import make_task

    check_sections(recipe, FORCE_RECIPE_KEYS, "the recipe")    # [experiment] also takes tuning_seeds
    try:
        exp, task_cfg, net, proto = (recipe[k] for k in ("experiment", "task", "network", "protocol"))
        task_cfg = dict(task_cfg)
        task = make_task(task_cfg.pop("name"), **task_cfg)
        kwargs = {k: (parse_quantity(v) if isinstance(v, str) else v) for k, v in net.items()}
        kwargs["seed"] = as_count(exp.get("seed", 0), "[experiment] seed")
        durations = {k: recipe_seconds(proto[k], f"[protocol] {k}", allow_zero=k == "settle")
                     for k in ("settle", "train", "test")}
    except KeyError as exc:
        raise RecipeError(f"recipe is missing {exc}") from exc
    return run_force_experiment(out, task, trainer_kwargs=kwargs, progress=progress, device=device,
                                title=exp.get("title", "FORCE-trained LIF network"), before_work=before_work,
                                **durations)
