"""CI-sized acceptance of the DePasquale integration and classification recipes (see
``test_acceptance_ci.py``: the same seed, sizes chosen at the tuning seeds 0-9, the papers' thresholds)."""
import pytest

from test_acceptance_ci import DEPASQUALE_RECIPES, assert_ci_size_meets_every_criterion


@pytest.mark.parametrize("recipe", DEPASQUALE_RECIPES)
def test_ci_size_meets_every_criterion_of_the_paper(recipe, tmp_path):
    assert_ci_size_meets_every_criterion(recipe, tmp_path)
