"""Newton & Nicola sweep metrics: the rank correlation over runs in which both networks learned."""
import numpy as np
import pandas as pd
import pytest

from brianforce.experiments.reproduce import runners


def _frame(**extra):
    # α = 5e-8 too slow to learn (own errors ~ 1/√2: the decoders never left zero), a chance correlation
    return pd.DataFrame({"alpha": [5e-8, 5e-7, 5e-6, 5e-5, 5e-4], "decoder_correlation": [0.21, 0.85, 0.57, 0.40, np.nan],
                         "diverged": [False, False, False, False, True],
                         "spike_to_rate_ratio_open": [0.99, 1.4, 2.6, 10.4, np.nan],
                         "rate_to_spike_ratio_open": [1.02, 1.38, 2.7, 1.8, np.nan], **extra})


def test_spearman_over_learned_runs_drops_a_run_that_did_not_learn():
    m = runners.newton_nicola_metrics(_frame(spiking_error_period=[0.68, 0.16, 0.12, 0.13, np.nan],
                                             rate_error_period=[0.68, 0.12, 0.08, 0.01, np.nan]))
    assert m["correlation_alpha_spearman"] == pytest.approx(0.2)  # the judged metric is unchanged
    assert m["correlation_alpha_spearman_learned"] == pytest.approx(-1.0)
    assert m["n_not_diverged"] == 4 and m["n_learned"] == 3
    assert m["transfer_ratio_open_spike_to_rate"] == 1.4 and m["transfer_ratio_open_rate_to_spike"] == 1.38
    assert m["transfer_ratio_open_max"] == 1.4


def test_spearman_over_learned_runs_needs_three_runs_and_the_error_columns():
    m = runners.newton_nicola_metrics(_frame(spiking_error_period=[0.68, 0.16, 0.5, 0.13, np.nan],
                                             rate_error_period=[0.68, 0.12, 0.08, 0.01, np.nan]), threshold=0.3)
    assert m["n_learned"] == 2 and np.isnan(m["correlation_alpha_spearman_learned"])
    m = runners.newton_nicola_metrics(_frame())
    assert np.isnan(m["correlation_alpha_spearman_learned"]) and np.isnan(m["n_learned"])
