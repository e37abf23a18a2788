"""Kim et al. (2019) transfers started from two initial voltage ranges, with and without the readout bias.

The LIF network's initial voltages are uniform in ``[v_reset, v_init_max)``: below threshold
(``v_init_max = v_th``, :class:`~brianforce.methods.transfer.LIFTransfer`'s default) or up to 30 mV as in the
authors' LIF code (``LIF_network_fnc.m``: ``v = vreset + rand(N,1)*(30-vreset)``), where about three
quarters of the neurons spike together in the first step. Each seed's rate network is trained once
(``models/kim2019_<task>.toml`` as shipped); each start then runs the recipe's whole transfer (1/λ grid
search on its validation trials) and is scored on the recipe's test trials, as ``brianforce reproduce``
does. ``--readout-bias on off`` also transfers without the rate network's readout bias ``b_out``, as the
authors' LIF code reads out (``LIF_network_fnc.m``: ``out = w_out/scaling_factor*rs``). Appends one row per
(task, seed, start, readout bias) to ``benchmarks/results/kim2019_lif_initial_voltage.v2.csv`` (with the
trained ``b_out``)::

    python benchmarks/kim2019_lif_initial_voltage.py --task go_nogo --seeds 0-9
    python benchmarks/kim2019_lif_initial_voltage.py --task go_nogo --seeds 0-9 --v-init-max-mv 30 --readout-bias on off

References
----------
Kim R, Li Y, Sejnowski TJ (2019) PNAS 116:22811-22820.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")    # small matrices: threads only add contention

import argparse  # noqa: E402
import itertools  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "kim2019_lif_initial_voltage.v2.csv"


def main(argv=None):
    from brian2 import mV

    from brianforce.experiments.recipes import recipe_path
    from brianforce.experiments.reproduce.driver import parse_seeds
    from brianforce.io import append_csv_row
    from brianforce.methods.transfer import LIFTransfer, read_recipe, recipe_settings
    from brianforce.rate.backprop import DaleRNNTrainer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", default="go_nogo", choices=("xor", "go_nogo", "context"))
    ap.add_argument("--seeds", default="0-9")
    ap.add_argument("--v-init-max-mv", nargs="+", default=["v_th", "30"],
                    help="tops of the initial voltages in mV, or v_th (default: v_th 30)")
    ap.add_argument("--readout-bias", nargs="+", default=["on"], choices=("on", "off"),
                    help="add b_out to the spiking readout (on: LIFTransfer's default) or not (off: the authors' code)")
    ap.add_argument("--results", default=str(RESULTS))
    a = ap.parse_args(argv)
    recipe = read_recipe(recipe_path(f"kim2019_{a.task}"))
    task, trainer_kwargs, transfer_kwargs, n_test = recipe_settings(recipe)
    for seed in parse_seeds(a.seeds):
        wall = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)        # "did not reach the stopping criteria"
            trainer = DaleRNNTrainer(seed=seed, **trainer_kwargs).fit(task)
        rate_acc = trainer.score(task, n_trials=n_test, seed=seed + 1)
        rate_s = time.perf_counter() - wall
        for top, bias in itertools.product(a.v_init_max_mv, a.readout_bias):
            wall = time.perf_counter()
            kwargs = {**transfer_kwargs, "v_init_max": None if top == "v_th" else float(top) * mV,
                      "readout_bias": bias == "on"}
            transfer = LIFTransfer(seed=seed, **kwargs).fit(trainer.params_, task)
            lif_acc = transfer.score(task, n_trials=n_test, seed=seed + 1)
            row = {"date": time.strftime("%Y-%m-%d %H:%M"), "task": a.task, "seed": seed,
                   "v_init_max": "v_th" if top == "v_th" else f"{float(top):g} mV", "readout_bias": bias,
                   "b_out": round(float(trainer.params_.b_out), 4),
                   "rate_converged": bool(trainer.converged_), "rate_accuracy": rate_acc,
                   "scaling_factor": transfer.scaling_factor_,
                   "grid_accuracy": " ".join(f"{v:.2f}" for v in transfer.grid_accuracy_),
                   "lif_accuracy": lif_acc, "lif_meets_90": bool(lif_acc >= 0.9),
                   "rate_training_s": round(rate_s, 1), "transfer_s": round(time.perf_counter() - wall, 1)}
            append_csv_row(a.results, row)
            print(row, flush=True)


if __name__ == "__main__":
    main()
