"""CI-sized acceptance: recipes whose ``--size ci`` meets its paper's criteria as written.

Each recipe here runs at size ``"ci"`` (:data:`~brianforce.experiments.reproduce.runners.CI_OVERRIDES`:
smaller networks, fewer trials, the method unchanged) at one fresh seed, and every criterion of its
acceptance run in :data:`~brianforce.experiments.reproduce.criteria.METHODS` is asserted with
:meth:`Criterion.passes`: the threshold is the paper's, the one in the table. The ci sizes were chosen
at the tuning seeds 0-9 only (values in the comments of ``CI_OVERRIDES``); :data:`SEED` was fixed before
this test first ran and is never changed to make it pass.

Not here, each because a criterion fails at full size too or no reduced size met it at the tuning seeds:
the Nicola & Clopath sinusoid, which misses RMSE/amplitude < 0.2 at this seed both at N = 1000 (0.255)
and as shipped (0.213; the shipped recipe passes at 4 of the 5 seeds 101-105); Kim et al. 2019 Go/NoGo
and XOR (their rate networks meet >= 95 %, but the LIF transfer fails for some networks at every size,
the full one included: Go/NoGo 7/10 at the tuning seeds at ci size, 2/5 at seeds 101-105 at full size;
XOR 3/5 at full size; XOR's rate training alone takes 80-90 s); the DePasquale oscillation (principal
angle < 15 deg at 1/5 of the seeds 101-105 at full size) and its Dale's-law variant (a Dale run takes
17-41 min at full size); reaching EMG (5/5 at full size, 5-6 min a run, but the reduced sizes tried miss:
the tutorial's fast size reaches spiking R^2 0.53, the 13-muscle ci size a negative R^2); Newton & Nicola
(closed-loop transfer within 2x at 1/5).
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from brianforce.experiments.reproduce import METHODS, recipe_tuning_seeds, run_acceptance  # noqa: E402

#: The fresh seed of every run here (fixed in advance; not a tuning seed of any recipe).
SEED = 111
#: Recipes whose ci size meets every criterion of their acceptance run at the tuning seeds 0-9 (the
#: DePasquale trial tasks run from ``test_acceptance_ci_depasquale.py``, a file of their own so that the
#: test workers share the load).
RECIPES = ("nicola_clopath_van_der_pol", "kimchow_patterns", "kim2019_context", "reaching_m1")
DEPASQUALE_RECIPES = ("depasquale_integration", "depasquale_classification")
RUNS = {run.recipe: run for method in METHODS.values() for run in method.runs}


def test_the_seed_is_fresh_and_every_run_has_criteria():
    for recipe in RECIPES + DEPASQUALE_RECIPES:
        assert SEED >= 100 and SEED not in (recipe_tuning_seeds(recipe) or ())
        assert RUNS[recipe].criteria


def assert_ci_size_meets_every_criterion(recipe, tmp_path):
    """Run ``recipe`` at size ci and seed :data:`SEED`; assert every criterion of its acceptance run."""
    run = RUNS[recipe]
    with threadpool_limits(limits=1, user_api="blas"):
        metrics = run_acceptance(run.kind, recipe, SEED, "ci", tmp_path)["metrics"]
    judged = [(c, metrics.get(c.metric)) for c in run.criteria]
    failed = [f"{c.text}: {c.metric} = {value} (needs {c.rule})" for c, value in judged if not c.passes(value)]
    assert not failed, f"{recipe} at size ci, seed {SEED}: " + "; ".join(failed)


@pytest.mark.parametrize("recipe", RECIPES)
def test_ci_size_meets_every_criterion_of_the_paper(recipe, tmp_path):
    assert_ci_size_meets_every_criterion(recipe, tmp_path)
