"""CI-sized acceptance: recipes whose ``--size ci`` meets its paper's criteria as written.

Each recipe here runs at size ``"ci"`` (:data:`~brianforce.experiments.reproduce.runners.CI_OVERRIDES`:
smaller networks, fewer trials, the method unchanged) at one fresh seed, and every criterion of its
acceptance run in :data:`~brianforce.experiments.reproduce.criteria.METHODS` is asserted with
:meth:`Criterion.passes`: the threshold is the paper's, the one in the table. The ci sizes were chosen
at the tuning seeds 0-9 only (values in the comments of ``CI_OVERRIDES``); :data:`SEED` was fixed before
this test first ran and is never changed to make it pass.

The Nicola & Clopath sinusoid misses RMSE/amplitude < 0.2 at this seed both at N = 1000 (0.255) and as
shipped (0.213), while the shipped recipe passes at 4 of the 5 seeds 101-105: it is judged as shipped at five
fresh seeds, by the reproduction's rule, in ``test_acceptance_ci_seeds.py``.

Not here, because no reduced size fits the suite: the DePasquale oscillation's Dale's-law variant (a Dale run
takes 17-41 min at full size). Kim et al. 2019 XOR runs from ``test_acceptance_ci_xor.py`` (a file of its own,
to share the load; its full-size table is that of the recipe as it stands, at the fresh seeds 121-125); its ci
size meets both criteria at 8 of the 10 tuning seeds, the share the reproduction asks of a method's seeds,
where the others here meet them at 9 or 10 (two of the ten shipped rate networks transfer at 0.89). The
full-size table of Kim et al. 2019 Go/NoGo is the one at 126-130, seeds that guided none of its settings.
Reaching EMG (2 and 13 muscles) is asserted at its ci size where its recording is present
(``test_acceptance_ci_reaching.py``; skipped without it: the synthetic look-alikes only stand in for the
recordings, and the 2-muscle one misses at full size).

In part: Newton & Nicola, whose transfer within 2x and falling correlation miss at full size (1/5 each at
seeds 101-105): its ci size, the full sweep's slow-alpha cell, asserts the decoder correlation > 0.8 that
holds there (5/5). The DePasquale oscillation, whose principal angle < 15 deg
misses at full size (1/5): no reduced size keeps the error within 2x the teacher's (at the smaller size
the teacher itself does not learn the oscillation; with the full teacher, 300 neurons and 40 RLS trials the
ratio holds at 2 of 7 tuning seeds, ci_size_probes.csv label S300R40), so its ci size is the recipe as
shipped (about 100 s with the training and test trials as compiled programs;
``test_acceptance_ci_oscillation.py``), asserting the error ratio, ISI CV and top-10 PCs. Which criteria a
partly asserted recipe asserts is read from its reproduction table, so a criterion that starts to miss at
full size leaves the assert, and one that starts to hold enters it.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from brianforce.experiments.reproduce import METHODS, recipe_tuning_seeds, run_acceptance  # noqa: E402

#: The fresh seed of every run here (fixed in advance; not a tuning seed of any recipe).
SEED = 111
#: Recipes whose ci size meets every criterion of their acceptance run at the tuning seeds 0-9 (the
#: DePasquale trial tasks run from ``test_acceptance_ci_depasquale.py``, a file of their own so that the
#: test workers share the load).
RECIPES = ("nicola_clopath_van_der_pol", "kimchow_patterns", "kim2019_context", "kim2019_go_nogo", "reaching_m1")
DEPASQUALE_RECIPES = ("depasquale_integration", "depasquale_classification")
#: The same, run from ``test_acceptance_ci_xor.py``.
XOR_RECIPES = ("kim2019_xor",)
#: Recipes judged on their recordings, run from ``test_acceptance_ci_reaching.py`` where the recording is present
#: (their synthetic look-alikes only stand in for the data the criteria are written for).
RECORDED_RECIPES = ("reaching_emg", "reaching_emg13")
#: Recipes that miss a criterion at full size at the fresh seeds 101-105: their ci size asserts the
#: criteria met there (read from the reproduction tables; the missed ones are not asserted).
PARTIAL_RECIPES = ("newton_nicola_alpha_sweep",)
#: The same, run from ``test_acceptance_ci_oscillation.py`` (a file of its own, to share the load).
PARTIAL_DEPASQUALE_RECIPES = ("depasquale_oscillation",)
RUNS = {run.recipe: run for method in METHODS.values() for run in method.runs}
RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
#: The full-size table of each recipe whose table is not ``reproduce/<method>_full_seeds101-105.csv``: recipes
#: whose settings changed after the fresh seeds 101-105 were run (the table of other fresh seeds), the
#: 13-muscle recipe as shipped (80 RLS trials, the ``.v2`` table), and recipes rerun in a folder of their
#: own: DePasquale classification with the target's rise over the whole delay, the reaching EMG with the
#: ISI CV taken within trials, and Kim & Chow with its trials on the sampling grid and spikes binned in
#: bins closed at their start.
FULL_SIZE_TABLES = {
    "kim2019_xor": "reproduce/kim2019_full_seeds121-125.csv",
    "kim2019_go_nogo": "reproduce/kim2019_full_seeds126-130.csv",
    "depasquale_classification": "reproduce_classification_rise/depasquale_full_seeds101-105.csv",
    "reaching_emg": "reproduce_isi_within_trials/reaching_full_seeds101-105.csv",
    "reaching_emg13": "reproduce/reaching_full_seeds101-105.v2.csv",
    "kimchow_patterns": "reproduce_2026-12-07/kimchow_full_seeds101-105.csv",
    "reaching_m1": "reproduce_2026-12-07/kimchow_full_seeds101-105.csv",
}


def test_the_seed_is_fresh_and_every_run_has_criteria():
    for recipe in (RECIPES + DEPASQUALE_RECIPES + XOR_RECIPES + RECORDED_RECIPES + PARTIAL_RECIPES
                   + PARTIAL_DEPASQUALE_RECIPES):
        assert SEED >= 100 and SEED not in (recipe_tuning_seeds(recipe) or ())
        assert RUNS[recipe].criteria


def met_at_full_size(recipe) -> dict:
    """``{metric: met}`` for the criteria of ``recipe`` in its reproduction table at fresh seeds
    (``benchmarks/results/reproduce/<method>_full_seeds101-105.csv``, or the table of :data:`FULL_SIZE_TABLES`)."""
    method = next(name for name, m in METHODS.items() if any(r.recipe == recipe for r in m.runs))
    table = pd.read_csv(RESULTS / FULL_SIZE_TABLES.get(recipe, f"reproduce/{method}_full_seeds101-105.csv"))
    rows = table[table.recipe == recipe]
    assert len(rows), f"no rows of {recipe} in its full-size table"
    return {m: bool(met) for m, met in zip(rows.metric, rows.meets)}


def assert_ci_size_meets_every_criterion(recipe, tmp_path, metrics_judged=None, data=None) -> dict:
    """Run ``recipe`` at size ci and seed :data:`SEED` (on the recorded ``data`` where given); assert every
    criterion of its acceptance run (or those whose metric is in ``metrics_judged``). Returns the outcome."""
    run = RUNS[recipe]
    with threadpool_limits(limits=1, user_api="blas"):
        outcome = run_acceptance(run.kind, recipe, SEED, "ci", tmp_path, data)
    metrics = outcome["metrics"]
    judged = [(c, metrics.get(c.metric)) for c in run.criteria
              if metrics_judged is None or c.metric in metrics_judged]
    assert judged
    failed = [f"{c.text}: {c.metric} = {value} (needs {c.rule})" for c, value in judged if not c.passes(value)]
    assert not failed, f"{recipe} at size ci, seed {SEED}: " + "; ".join(failed)
    return outcome


@pytest.mark.parametrize("recipe", RECIPES)
def test_ci_size_meets_every_criterion_of_the_paper(recipe, tmp_path):
    assert_ci_size_meets_every_criterion(recipe, tmp_path)


def test_partly_asserted_recipes_miss_at_full_size_and_the_others_do_not():
    for recipe in RECIPES + DEPASQUALE_RECIPES + XOR_RECIPES + RECORDED_RECIPES:
        assert all(met_at_full_size(recipe).values()), recipe
    for recipe in PARTIAL_RECIPES + PARTIAL_DEPASQUALE_RECIPES:
        met = met_at_full_size(recipe)
        assert any(met.values()) and not all(met.values()), recipe
        assert set(met) == {c.metric for c in RUNS[recipe].criteria}


def assert_ci_size_meets_the_criteria_met_at_full_size(recipe, tmp_path):
    """:func:`assert_ci_size_meets_every_criterion` for the criteria met in the reproduction table."""
    met = met_at_full_size(recipe)
    assert_ci_size_meets_every_criterion(recipe, tmp_path, {m for m, ok in met.items() if ok})


@pytest.mark.parametrize("recipe", PARTIAL_RECIPES)
def test_ci_size_meets_the_criteria_met_at_full_size(recipe, tmp_path):
    assert_ci_size_meets_the_criteria_met_at_full_size(recipe, tmp_path)
