"""The whole-run FORCE figure (Nicola & Clopath 2017, Fig. 2): decoder traces recorded at every
RLS update, spikes recorded while settling and training, and one shared time axis."""
import numpy as np
import pytest
from brian2 import second

from brianforce.methods.force import FORCETrainer
from brianforce.tasks import sinusoid

N, SETTLE, TRAIN, TEST = 200, 0.1, 0.3, 0.2


@pytest.fixture(scope="module")
def run():
    tr = FORCETrainer(N, n_record=50, seed=3, device="runtime")
    tr.fit(sinusoid(5.0), settle=SETTLE * second, train=TRAIN * second, record_spikes=True)
    decoder_after_fit = np.asarray(tr.decoder_ / second).copy()
    test = tr.predict(TEST * second)
    return tr, decoder_after_fit, test


def test_decoder_samples_follow_every_update_and_end_at_the_decoder(run):
    tr, decoder_after_fit, _ = run
    h = tr.history_
    n_updates = int(round(TRAIN / tr.config.rls_interval))
    assert len(h.times) == n_updates == tr.timings_["n_rls_updates"]
    assert h.decoder_samples.shape == (n_updates, 10, 1)
    np.testing.assert_array_equal(h.traced_neurons, np.arange(10))         # the first ten neurons
    # after the last update the samples are the decoder rows of the traced neurons ...
    np.testing.assert_array_equal(h.decoder_samples[-1], decoder_after_fit[h.traced_neurons])
    # ... which the free-running test leaves unchanged
    np.testing.assert_array_equal(np.asarray(tr.decoder_ / second)[h.traced_neurons], h.decoder_samples[-1])
    # every update moves the traced weights
    assert np.all(np.any(np.diff(h.decoder_samples, axis=0) != 0, axis=(1, 2)))
    assert len(h.to_frame()) == n_updates


def test_spikes_recorded_in_every_phase_without_changing_training(run):
    tr, decoder_after_fit, _ = run
    for res in (tr.settle_result_, tr.train_result_):
        assert len(res.spike_t) > 0 and res.spike_i.max() < 50
        assert res.spike_t.min() >= res.t[0] and res.spike_t.max() < res.t[-1] + tr.config.record_dt
    plain = FORCETrainer(N, n_record=50, seed=3, device="runtime")
    plain.fit(sinusoid(5.0), settle=SETTLE * second, train=TRAIN * second, n_decoder_traces=0)
    assert len(plain.train_result_.spike_t) == 0                           # default: not recorded
    assert plain.history_.decoder_samples.shape == (len(plain.history_.times), 0, 1)
    np.testing.assert_array_equal(plain.history_.errors, tr.history_.errors)
    np.testing.assert_array_equal(np.asarray(plain.decoder_ / second), decoder_after_fit)
    with pytest.raises(ValueError, match="n_decoder_traces must stay 0"):
        plain.fit(sinusoid(5.0), settle=0 * second, train=0.01 * second, n_decoder_traces=5)


def test_plot_force_run_shares_one_time_axis_and_marks_rls(run):
    import matplotlib.pyplot as plt

    from brianforce.viz.force import plot_force_run

    tr, _, test = run
    axes = plot_force_run(tr.settle_result_, tr.train_result_, test, tr.history_)
    try:
        assert len(axes) == 3                                                # output, decoders, raster
        total = SETTLE + TRAIN + TEST
        for ax in axes:
            assert axes[0].get_shared_x_axes().joined(axes[0], ax)
            assert ax.get_xlim() == pytest.approx((0.0, total), abs=1e-9)
            spans = [p for p in ax.patches if p.get_gid() == "rls_on"]
            assert len(spans) == 1
            xs = spans[0].get_patch_transform().transform(spans[0].get_path().vertices)[:, 0]
            assert (xs.min(), xs.max()) == pytest.approx((SETTLE, SETTLE + TRAIN), abs=1e-9)
        labels = [t.get_text() for t in axes[0].texts]
        assert labels.count("RLS off") + labels.count("RLS off (test)") == 2 and "RLS on (training)" in labels
        assert axes[-1].get_xlabel() == "time (s)" and "φ" in axes[1].get_ylabel()
        assert len(axes[1].lines) >= 10                                      # ten decoder traces
        # raster: spikes from settling, training and test on the shared axis
        x = np.concatenate([np.asarray(line.get_xdata(), float) for line in axes[2].lines])
        assert x.min() < SETTLE and SETTLE + TRAIN > np.median(x) and x.max() > SETTLE + TRAIN
    finally:
        plt.close(axes[0].figure)


def test_overall_progress_line_spans_every_run(caplog):
    """One progress line over settle, training and test: share of the whole protocol, time left."""
    import logging

    from brianforce.experiments.progress import OverallProgress

    progress = OverallProgress(10.0)
    with caplog.at_level(logging.INFO, logger="brianforce"):
        progress(0.0, 0.0, 0.0 * second, 2.0 * second)        # settle starts
        progress(1.0, 0.5, 0.0 * second, 2.0 * second)        # half of the settle: 1 s of 10 in 1 s
        progress(4.0, 0.5, 2.0 * second, 8.0 * second)        # half of the training: 6 s of 10
    lines = [r.getMessage() for r in caplog.records if "simulated" in r.getMessage()]
    assert lines[0].startswith("0 % of 10 s simulated") and "not known yet" in lines[0]
    assert lines[1].startswith("10 % of 10 s") and "about 9 s left" in lines[1]
    assert lines[2].startswith("60 % of 10 s") and "about 4 s left" in lines[2]
