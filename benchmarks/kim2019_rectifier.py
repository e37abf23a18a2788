"""Rate training of Kim et al. (2019) networks with either rectifier of the recurrent weights, seed by seed.

``rectifier="abs"`` (``|W̃|``, the recipes) or ``"relu"`` (``max(W̃, 0)``, the authors' code: a weight trained
through zero stays cut). Each row: one task, seed and rectifier, the recipe's rate network and training as
shipped (``models/kim2019_<task>.toml``); whether the stopping rule was met, the Adam steps, and the rate
network's accuracy on the recipe's test trials (as ``brianforce reproduce`` scores it), and ``cut_weights``,
the connected entries with ``W̃ <= 0`` at the end (cut under ``relu``; under ``abs`` they act as ``|W̃|``).
No LIF transfer.
Appends to ``benchmarks/results/kim2019_rectifier.csv``::

    python benchmarks/kim2019_rectifier.py --task xor --seeds 0-9 --rectifiers abs relu
"""
from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "kim2019_rectifier.csv"


def main(argv=None):
    from brianforce.experiments.recipes import recipe_path
    from brianforce.experiments.reproduce.driver import parse_seeds
    from brianforce.io import append_csv_row
    from brianforce.methods.transfer import read_recipe, recipe_settings
    from brianforce.rate.backprop import DaleRNNTrainer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="xor", choices=("xor", "go_nogo", "context"))
    ap.add_argument("--seeds", default="0-9")
    ap.add_argument("--rectifiers", nargs="+", default=["abs", "relu"])
    ap.add_argument("--results", default=str(RESULTS))
    a = ap.parse_args(argv)
    recipe = read_recipe(recipe_path(f"kim2019_{a.task}"))
    task, trainer_kwargs, _, n_test = recipe_settings(recipe)
    for seed in parse_seeds(a.seeds):
        for rectifier in a.rectifiers:
            wall = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)        # "did not reach the stopping criteria"
                trainer = DaleRNNTrainer(seed=seed, **{**trainer_kwargs, "rectifier": rectifier}).fit(task)
            row = {"date": time.strftime("%Y-%m-%d %H:%M"), "task": a.task, "seed": seed, "rectifier": rectifier,
                   "rate_converged": bool(trainer.converged_), "adam_steps": trainer.n_iter_,
                   "rate_accuracy": trainer.score(task, n_trials=n_test, seed=seed + 1),
                   "cut_weights": int(((trainer.params_.w_rec <= 0) & (trainer.params_.mask > 0)).sum()),
                   "wall_s": round(time.perf_counter() - wall, 1)}
            append_csv_row(a.results, row)
            print(row, flush=True)


if __name__ == "__main__":
    main()
