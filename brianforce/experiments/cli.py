"""Command line: ``brianforce demo | train | sweep | reproduce | run | recipes``.

Every input (options, recipe, model file, durations) and then every output folder (writable; not
holding an earlier run's results unless ``--overwrite``) is checked before any work starts; with
``--overwrite`` the earlier run's results are removed only once those checks have passed. Errors
are one line on stderr (exit status 1; 2 for usage errors); ``--debug`` shows the traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from brianforce.experiments.force import CRITERION, FORCE_RECIPE_KEYS, run_force_experiment, run_force_recipe
from brianforce.experiments.progress import log

__all__ = ["main", "run_demo", "run_force_experiment", "run_force_recipe", "run_kim2019_recipe",
           "prepare_output", "OutputExistsError", "FORCE_RECIPE_KEYS", "CRITERION"]

#: Files that mark a folder as holding the results of an earlier run.
RUN_OUTPUTS = ("summary.json", "model.npz", "network.npz", "rate_model.npz", "lif_model.npz", "output.npz")
#: Figures and tables of ``train`` and ``run``; with ``--overwrite`` they go with the earlier run's results.
RUN_FIGURES = ("figure.png", "output.png", "outputs.png", "raster.png", "pcs.png", "emg_fits.png", "m1_rates.png",
               "unit_table.csv")


class OutputExistsError(FileExistsError):
    """The output folder holds an earlier run's results."""


def prepare_output(out, *, overwrite: bool = False, keep=()) -> Path:
    """Create ``out`` and check, before any work, that it is writable and holds no earlier results.

    With ``overwrite``, the earlier run's results and figures (:data:`RUN_OUTPUTS`, :data:`RUN_FIGURES`)
    are removed first, so that the folder never holds files of two runs side by side; files in ``keep``
    (the model a ``run`` reads) stay.

    Raises
    ------
    OutputExistsError
        ``out`` holds files of an earlier run (``summary.json``, a model ...) and not ``overwrite``.
    PermissionError
        ``out`` cannot be created or written.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"output {str(out)!r} is a file, not a folder")
    earlier = [name for name in RUN_OUTPUTS if (out / name).exists()]
    if earlier and not overwrite:
        raise OutputExistsError(f"{out} already holds an earlier run ({', '.join(earlier)}); choose another "
                                "--out or pass --overwrite")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".brianforce-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise PermissionError(f"cannot write to the output folder {out} ({exc.strerror or exc})") from exc
    if overwrite:
        kept = {Path(k).resolve() for k in keep}
        for name in ("summary.json", *RUN_OUTPUTS, *RUN_FIGURES):          # the summary first
            if (out / name).resolve() not in kept:
                (out / name).unlink(missing_ok=True)
    return out

DEMO_FULL = dict(n_neurons=2000, settle=0.5, train=9.5, test=2.0)
# Quick: Nicola & Clopath's size with 6 s of training (9/10 tuning seeds 0-9 meet the criterion;
# 500 or 1000 neurons, or 3 s of training, met it at 3-5 of 10: benchmarks/results/demo_quick.csv).
DEMO_QUICK = dict(n_neurons=2000, settle=0.3, train=6.0, test=1.0)
# Per-task trainer settings differing from Nicola & Clopath's sinusoid defaults
# (the two-output Van der Pol needs a stronger-regularised decoder; see its recipe).
DEMO_TASK_SETTINGS = {"van_der_pol": {"alpha": 5e-7}}


def _log(msg: str) -> None:
    log(msg)


def run_demo(out, *, quick: bool = False, seed: int = 0, task: str = "sinusoid", n_neurons: int | None = None,
             settle: float | None = None, train: float | None = None, test: float | None = None,
             progress: bool = True, device: str = "auto", before_work=None) -> dict:
    """The demo: Nicola & Clopath's sinusoid LIF network (durations in seconds).

    ``before_work`` (no arguments) is called once the settings and durations have been checked,
    before any simulation or output (:func:`run_force_experiment`).
    """
    from brianforce.tasks import make_task

    d = dict(DEMO_QUICK if quick else DEMO_FULL)
    for key, val in dict(n_neurons=n_neurons, settle=settle, train=train, test=test).items():
        if val is not None:
            d[key] = val
    kwargs = dict(n_neurons=d["n_neurons"], seed=seed, **DEMO_TASK_SETTINGS.get(task, {}))
    return run_force_experiment(out, make_task(task), trainer_kwargs=kwargs,
                                settle=d["settle"], train=d["train"], test=d["test"], progress=progress,
                                device=device, before_work=before_work)


def run_kim2019_recipe(path, out, before_work=None) -> dict:
    """Run a ``method = "kim2019"`` recipe: train the rate RNN, transfer it to LIF, save both.

    The recipe and the settings of the rate trainer and of the transfer are checked first;
    ``before_work`` (no arguments) is called after these checks, before any training or output.
    """
    from brianforce.checks import as_count
    from brianforce.io import atomic_write_text, json_text
    from brianforce.methods.transfer import LIFTransfer, read_recipe, recipe_settings, run_kim2019
    from brianforce.rate.backprop import DaleRNNTrainer

    recipe = read_recipe(path)
    seed = as_count(recipe.get("experiment", {}).get("seed", 0), "[experiment] seed")
    _, trainer_kwargs, transfer_kwargs, _ = recipe_settings(recipe)
    LIFTransfer(seed=seed, **transfer_kwargs)
    DaleRNNTrainer(seed=seed, **trainer_kwargs)
    if before_work is not None:
        before_work()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").unlink(missing_ok=True)      # written last: no summary beside new models
    _log(f"{path}: training the rate RNN (BPTT) and transferring it to LIF, seed {seed} ...")
    res = run_kim2019(recipe, seed)
    summary = {"task": res.task_name, "seed": seed, "rate_converged": bool(res.rate_converged),
               "rate_iterations": int(res.rate_iterations), "rate_accuracy": float(res.rate_accuracy),
               "inverse_lambda": float(res.scaling_factor), "lambda": float(res.lambda_),
               "grid_accuracy": np.asarray(res.grid_accuracy).tolist(), "lif_accuracy": float(res.lif_accuracy),
               "lif_accuracy_rate_criterion": float(res.lif_accuracy_rate_criterion)}
    res.trainer.params_.save(out / "rate_model.npz", {"task": res.task_name, "seed": seed})
    res.transfer.model_.save(out / "lif_model.npz", {"task": res.task_name, "seed": seed})
    atomic_write_text(out / "summary.json", json_text(summary, indent=2))
    _log(f"rate accuracy {res.rate_accuracy:.3f}, LIF accuracy {res.lif_accuracy:.3f} at 1/lambda = "
         f"{res.scaling_factor:g}; wrote {out}")
    return summary


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("brianforce")
    except PackageNotFoundError:
        return "unknown"


#: Devices of ``demo``, ``train`` and ``run`` (``brianforce.devices.DEVICES``, without importing Brian2 here).
DEVICE_CHOICES = ["runtime", "cpp_standalone", "cuda_standalone"]
#: Devices of ``demo`` and ``train``: ``auto`` picks the fastest one here (see ``FORCETrainer``).
TRAIN_DEVICE_CHOICES = ["auto", *DEVICE_CHOICES]
#: Recipe methods of ``train``.
TRAIN_METHODS = ("depasquale", "force", "kim2019", "reaching", "reaching_m1")
#: Recipe methods that read recorded data (``train --data``).
DATA_METHODS = ("reaching", "reaching_m1")


def _parser() -> argparse.ArgumentParser:
    from brianforce.tasks import TASKS

    parser = argparse.ArgumentParser(prog="brianforce", description="Train spiking networks to do what rate "
                                     "networks do (FORCE, rate teachers, transfer, recurrent RLS).")
    parser.add_argument("--version", action="version", version=f"brianforce {_version()}")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train and test the Nicola & Clopath sinusoid LIF network")
    demo.add_argument("--out", default="demo_output", help="output folder (default: %(default)s)")
    demo.add_argument("--quick", action="store_true", help="shorter run (6 s of training instead of 9.5 s)")
    demo.add_argument("--seed", type=int, default=0, help="fixes connectivity, encoders and initial state "
                      "(default: %(default)s)")
    demo.add_argument("--task", default="sinusoid", choices=sorted(TASKS), help="target (default: %(default)s)")
    demo.add_argument("--n-neurons", type=int, help="network size (default: 2000)")
    demo.add_argument("--settle", type=float, help="seconds without learning before training")
    demo.add_argument("--train", type=float, help="seconds of RLS training")
    demo.add_argument("--test", type=float, help="seconds of free-running test")
    demo.add_argument("--overwrite", action="store_true", help="replace an earlier run in --out")
    demo.add_argument("--device", default="auto", choices=TRAIN_DEVICE_CHOICES,
                      help="auto: cpp_standalone where a C++ compiler is present, else runtime; runtime: RLS in numpy; "
                      "cpp_standalone / cuda_standalone: one compiled program with the RLS in generated code, cached "
                      "by architecture (default: %(default)s)")
    train = sub.add_parser("train", help="run a recipe (a shipped one by name, or a TOML file)")
    train.add_argument("recipe", help="name of a shipped recipe (brianforce recipes list) or path of a TOML recipe")
    train.add_argument("--out", required=True, help="output folder")
    train.add_argument("--data", help="data folder or file for recipes that use recorded data")
    train.add_argument("--overwrite", action="store_true", help="replace an earlier run in --out")
    train.add_argument("--device", default="auto", choices=TRAIN_DEVICE_CHOICES,
                       help="FORCE recipes: runtime (RLS in numpy) or one compiled program with the RLS in generated "
                       "code, cached by architecture (auto: compiled where a C++ compiler is present); DePasquale and "
                       "reaching students without Dale's law: cpp_standalone trains and tests in compiled programs (auto: "
                       "the recipe's [student] device); reaching_m1: runtime or cpp_standalone (auto: the recipe's "
                       "[training] device); kim2019 trains at runtime (default: %(default)s)")
    sw = sub.add_parser("sweep", help="run a resumable parameter sweep recipe on Dask")
    sw.add_argument("recipe", help="path of a sweep recipe (method = \"sweep\")")
    sw.add_argument("--out", required=True, help="output folder; rerunning into it resumes the sweep")
    sw.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786) or 'synchronous'; "
                    "default: a LocalCluster on this machine")
    _reproduce_parser(sub)
    run = sub.add_parser("run", help="run a saved model (FORCE, transferred LIF or DePasquale student) "
                         "standalone or at runtime")
    run.add_argument("model", help="saved model (.npz)")
    run.add_argument("--device", default="cpp_standalone", choices=DEVICE_CHOICES,
                     help="default: %(default)s")
    run.add_argument("--duration", type=float, default=2.0, help="seconds (FORCE models; default: %(default)s)")
    run.add_argument("--trials", type=int, default=20, help="test trials (transferred LIF models, DePasquale "
                     "students; default: %(default)s)")
    run.add_argument("--seed", type=int, default=0,
                     help="seed of the test trials (transferred LIF models, DePasquale students)")
    run.add_argument("--out", default="standalone_output", help="output folder (default: %(default)s)")
    run.add_argument("--overwrite", action="store_true", help="replace an earlier run in --out")
    recipes = sub.add_parser("recipes", help="list, show or copy the shipped recipes")
    recipes.add_argument("action", choices=["list", "show", "copy"], help="list the names, print one, or copy "
                         "one into a folder to edit it")
    recipes.add_argument("name", nargs="?", help="recipe name (show, copy)")
    recipes.add_argument("directory", nargs="?", help="destination folder (copy)")
    cache = sub.add_parser("cache", help="show or empty the cache of compiled standalone projects")
    cache.add_argument("action", choices=["info", "clear"], help="list the cached projects and their size, or "
                       "delete those not in use")
    return parser


def _reproduce_parser(sub) -> None:
    from brianforce.experiments.reproduce.criteria import METHODS

    rp = sub.add_parser("reproduce", help="rerun the methods' acceptance runs at fresh seeds (resumable, on Dask) "
                        "and tabulate them against the papers' criteria")
    rp.add_argument("methods", nargs="*", metavar="METHOD", help=f"method ({', '.join(METHODS)}) or one of their "
                    "recipes; default: every method")
    rp.add_argument("--seeds", default="101-105", help="seeds, e.g. 101-105 or 101,103; a recipe's tuning seeds "
                    "are refused (default: %(default)s)")
    rp.add_argument("--out", required=True, help="output folder; rerunning into it computes only the missing or "
                    "corrupt runs")
    rp.add_argument("--scheduler", help="Dask scheduler address (tcp://host:8786) or 'synchronous'; default: a "
                    "LocalCluster on this machine")
    rp.add_argument("--workers", type=int, default=2, help="worker processes of the LocalCluster "
                    "(default: %(default)s)")
    rp.add_argument("--size", default="full", choices=["full", "ci"], help="full: the recipes as shipped; ci: "
                    "reduced sizes for tests and quick looks, stated in each table (default: %(default)s)")
    rp.add_argument("--data", help="recorded data (file, folder or data root) for the reaching runs; default: "
                    "BRIANFORCE_DATA, else the synthetic look-alike (each table names the data used)")
    rp.add_argument("--allow-tuning-seeds", action="store_true", help="run seeds at which a recipe's settings were "
                    "chosen ([experiment] tuning_seeds)")


def _cache(action: str) -> None:
    from brianforce.devices.cache import cache_info, clear_cache

    if action == "clear":
        print(f"deleted {clear_cache()} cached project(s)")
        return
    info = cache_info()
    print(f"root: {info['root'] or 'off (BRIANFORCE_CACHE_DIR=off)'}")
    for entry in info["entries"]:
        print(f"{entry['name']}  slots {','.join(entry['slots']) or '-'}  {entry['bytes'] / 1e6:.1f} MB  "
              f"{entry['key']}")
    print(f"total {info['bytes'] / 1e6:.1f} MB in {len(info['entries'])} project(s)")


def _recipes(parser, args) -> None:
    from brianforce.experiments.recipes import copy_recipe, list_recipes, recipe_path

    if args.action == "list":
        print("\n".join(list_recipes()))
        return
    if args.name is None:
        parser.error(f"recipes {args.action} needs a recipe name")
    if args.action == "show":
        print(recipe_path(args.name).read_text(), end="")
    else:
        if args.directory is None:
            parser.error("recipes copy needs a destination folder")
        print(copy_recipe(args.name, args.directory))


def _command(parser, args) -> None:
    if args.command == "run":
        from brianforce.devices.standalone import run_model_cli

        if not args.duration > 0:
            parser.error(f"--duration must be > 0 seconds, got {args.duration}")
        if args.trials < 1:
            parser.error(f"--trials must be >= 1, got {args.trials}")
        if not Path(args.model).is_file():
            raise FileNotFoundError(f"no model file at {args.model}")
        run_model_cli(args.model, args.device, args.duration, args.out, n_trials=args.trials, seed=args.seed,
                      before_work=lambda: prepare_output(args.out, overwrite=args.overwrite, keep=(args.model,)))
    elif args.command == "sweep":
        from brianforce.experiments.sweep import sweep_cli

        sweep_cli(args.recipe, args.out, scheduler=args.scheduler)
    elif args.command == "reproduce":
        from brianforce.experiments.reproduce.driver import reproduce_cli

        if args.workers < 1:
            parser.error(f"--workers must be >= 1, got {args.workers}")
        reproduce_cli(args)
    elif args.command == "recipes":
        _recipes(parser, args)
    elif args.command == "cache":
        _cache(args.action)
    elif args.command == "train":
        from brianforce.config import load_recipe
        from brianforce.experiments.recipes import recipe_path

        args.recipe = str(recipe_path(args.recipe))
        recipe = load_recipe(args.recipe)
        _check_tables(recipe, args.recipe)
        method = recipe.get("experiment", {}).get("method")
        if method not in TRAIN_METHODS:
            parser.error(f"{args.recipe}: unknown experiment.method {method!r}; one of {list(TRAIN_METHODS)}")
        _check_train_options(parser, args, method, recipe)
        _train(method, recipe, args, lambda: prepare_output(args.out, overwrite=args.overwrite))
    elif args.command == "demo":
        for name in ("n_neurons", "settle", "train", "test"):
            value, settle = getattr(args, name), name == "settle"
            if value is not None and not (value >= 0 if settle else value > 0):
                parser.error(f"--{name.replace('_', '-')} must be {'>= 0' if settle else '> 0'}, got {value}")
        run_demo(args.out, quick=args.quick, seed=args.seed, task=args.task, n_neurons=args.n_neurons,
                 settle=args.settle, train=args.train, test=args.test, device=args.device,
                 before_work=lambda: prepare_output(args.out, overwrite=args.overwrite))


def _check_tables(recipe: dict, path) -> None:
    """Refuse a recipe whose top-level entries are not all tables (``[section]``)."""
    from brianforce.config import RecipeError

    for name, value in recipe.items():
        if not isinstance(value, dict):
            raise RecipeError(f"{path}: {name} = {value!r} is not a table; write it as a [{name}] section")


def _check_train_options(parser, args, method: str, recipe: dict) -> None:
    """Refuse ``--data`` and ``--device`` values that ``method`` recipes cannot use (usage errors)."""
    if args.data is not None and method not in DATA_METHODS:
        parser.error(f"--data {args.data}: {method!r} recipes read no data (only {' and '.join(DATA_METHODS)} "
                     "recipes do)")
    if args.device in ("auto", "runtime") or method == "force":
        return
    if method == "reaching_m1":
        if args.device != "cpp_standalone":
            parser.error(f"--device {args.device}: 'reaching_m1' recipes train at runtime or on cpp_standalone "
                         "(their RLS program is C++)")
        return
    compiled_student = method in ("depasquale", "reaching") and args.device == "cpp_standalone"
    if not compiled_student:
        parser.error(f"--device {args.device}: {method!r} recipes train at runtime only (their learning runs "
                     "in Python); train there and run the saved model with 'brianforce run --device'")
    if recipe.get("student", {}).get("dale", False):
        parser.error(f"--device {args.device}: Dale's law students train at runtime only (their constrained "
                     "re-solves run in numpy)")


def _train(method: str, recipe: dict, args, clear) -> None:
    """Train a ``method`` recipe; ``clear`` (prepares the output folder) is called after every check, before
    any work."""
    if method == "force":
        run_force_recipe(recipe, args.out, device=args.device, before_work=clear)
    elif method == "kim2019":
        run_kim2019_recipe(args.recipe, args.out, before_work=clear)
    elif method == "depasquale":
        from brianforce.experiments.depasquale import train_from_recipe

        overrides = {} if args.device == "auto" else {"student.device": args.device}   # auto: the recipe's own
        train_from_recipe(args.recipe, args.out, overrides, before_work=clear)
    else:
        from brianforce.experiments import reaching

        key, name = (("student.device", "run_reaching_recipe") if method == "reaching" else
                     ("training.device", "run_m1_recipe"))
        overrides = {} if args.device == "auto" else {key: args.device}               # auto: the recipe's own
        getattr(reaching, name)(args.recipe, args.out, data=args.data, overrides=overrides, before_work=clear)


def main(argv=None) -> int:
    """Entry point of ``brianforce`` and ``python -m brianforce``; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if "MPLBACKEND" not in os.environ:  # figures go to files: no window, no display needed
        import matplotlib

        matplotlib.use("Agg")
    try:
        _command(parser, args)
    except KeyboardInterrupt:
        print("brianforce: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line per error; --debug shows the traceback
        if args.debug:
            raise
        print(f"brianforce: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
