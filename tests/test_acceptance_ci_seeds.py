"""Acceptance over five fresh seeds: recipes that meet their criteria at full size by the reproduction's
rule (at least 4 of 5 seeds), but not at every seed.

The Nicola & Clopath sinusoid, as shipped (N = 2000, one compiled program, 12-20 s a run), passes
RMSE/amplitude < 0.2 at 4 of the 5 seeds 101-105 and misses at seed 111 (0.213), the single seed of
``test_acceptance_ci.py``. Here it runs at the five fresh seeds 111-115 and each criterion is judged as
``brianforce reproduce`` judges it (:meth:`Criterion.judge`: at least 4 of 5 seeds pass). Seed 111 was known
to miss when these seeds were fixed; seeds 112-115 had not been run. Their table, from the same runs:
``benchmarks/results/reproduce/force_full_seeds111-115.md`` (RMSE/amplitude 4/5, correlation 5/5).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from brianforce.experiments.reproduce import recipe_tuning_seeds, run_acceptance  # noqa: E402

from test_acceptance_ci import RUNS, met_at_full_size  # noqa: E402

#: Five fresh seeds (none is a tuning seed of these recipes).
SEEDS = (111, 112, 113, 114, 115)
#: Recipes judged over :data:`SEEDS` at full size.
RECIPES_OVER_SEEDS = ("nicola_clopath_sinusoid",)


def test_the_seeds_are_fresh_and_the_recipes_meet_their_criteria_at_full_size():
    for recipe in RECIPES_OVER_SEEDS:
        assert not set(SEEDS) & set(recipe_tuning_seeds(recipe) or ())
        assert all(met_at_full_size(recipe).values()), recipe


@pytest.mark.parametrize("recipe", RECIPES_OVER_SEEDS)
def test_full_size_meets_every_criterion_at_4_of_5_fresh_seeds(recipe, tmp_path):
    run = RUNS[recipe]
    values = {c.metric: [] for c in run.criteria}
    with threadpool_limits(limits=1, user_api="blas"):
        for seed in SEEDS:
            metrics = run_acceptance(run.kind, recipe, seed, "full", tmp_path / f"seed{seed}")["metrics"]
            for metric in values:
                values[metric].append(metrics.get(metric))
    judged = [c.judge(SEEDS, values[c.metric]) for c in run.criteria]
    missed = [f"{j.criterion.text}: {j.n_pass} of {len(SEEDS)} seeds pass ({j.criterion.metric} = "
              f"{[round(v, 4) for v in j.values]}; needs {j.criterion.rule} at {j.required})"
              for j in judged if not j.meets]
    assert not missed, f"{recipe} at seeds {SEEDS}: " + "; ".join(missed)
