"""Trial boundaries and sampling grids: what lies at a window's edge is neither lost nor invented.

Inputs laid from a start off their sampling grid, targets paired with the output they were trained
against, spikes at a bin's start, intervals across trials that each start afresh, and a student
trained on the teacher's own inputs.
"""
import numpy as np
import pytest
from brian2 import Network, NeuronGroup, StateMonitor, Synapses, ms, prefs, second, volt

from brianforce.analysis.population import isi_cv, isi_cv_within_trials
from brianforce.learning import FORCE, RecurrentRLS
from brianforce.methods.recurrent_results import TrialRecording
from brianforce.datasets import load_reaching_emg
from brianforce.tasks.reaching import reaching_trials
from brianforce.tasks.trials import Trials


@pytest.fixture
def numpy_target(monkeypatch):
    """Brian2's numpy target: these small runs need no compiled code."""
    monkeypatch.setitem(prefs, "codegen.target", "numpy")


def test_force_inputs_start_with_training_off_their_grid(numpy_target):
    """A settle of 0.4 ms before inputs of 1-ms samples: input sample k is applied during
    [settle + k ms, settle + (k+1) ms), never during the settle and never shifted."""
    n, T, in_dt = 4, 6, 1e-3
    G = NeuronGroup(n, "dr/dt = -r/(10*ms) : 1\nI_in : volt", method="euler", dt=0.1 * ms, name="edge_g")
    G.r = 1.0
    net = Network(G)
    k = np.arange(T, dtype=float)
    trials = Trials(inputs=(k + 1).reshape(1, T, 1), targets=(k + 1).reshape(1, T, 1), dt=in_dt)
    f = FORCE(G, regressor="r", n_outputs=1, network=net, alpha=1.0, interval=1 * ms,
              input_variable="I_in", input_encoders=np.ones((n, 1)) * volt, name="edge_force")
    mon = StateMonitor(G, "I_in", record=[0], when="end", name="edge_imon")
    net.add(mon)
    settle = 0.4e-3
    f.fit(trials, settle=settle * second)
    t, u = np.asarray(mon.t_), np.asarray(mon.I_in_[0])
    s = t - settle
    want = np.where((s > -1e-12) & (s < T * in_dt - 1e-12), np.floor(s / in_dt + 1e-9) + 1, 0.0)
    np.testing.assert_array_equal(u, want)


def test_force_inputs_off_grid_need_a_multiple_of_the_time_step(numpy_target):
    G = NeuronGroup(2, "dr/dt = -r/(10*ms) : 1\nI_in : volt", method="euler", dt=0.3 * ms, name="edge_g3")
    net = Network(G)
    trials = Trials(inputs=np.ones((1, 4, 1)), targets=np.ones((1, 4, 1)), dt=1e-3)
    f = FORCE(G, regressor="r", n_outputs=1, network=net, alpha=1.0, interval=0.3 * ms,
              input_variable="I_in", input_encoders=np.ones((2, 1)) * volt, name="edge_force3")
    with pytest.raises(ValueError, match="not a multiple of the network's time step"):
        f.fit(trials, settle=0.3 * ms)


def test_recurrent_rls_scores_against_the_target_it_trained_on(numpy_target):
    """With target_offset, the current at window time s is trained toward y(s + offset); predict
    and score pair it with that same target (a quarter period off would read as uncorrelated)."""
    src = NeuronGroup(3, "r = (1 + sin(2*pi*10*Hz*t + i*pi/2)*int(i < 2))*Hz : hertz", dt=0.1 * ms,
                      name="edge_src")
    post = NeuronGroup(1, "I : volt", threshold="False", dt=0.1 * ms, name="edge_post")
    syn = Synapses(src, post, "w : volt*second\nI_post = w*r_pre : volt (summed)", dt=0.1 * ms,
                   name="edge_syn")
    syn.connect()
    net = Network(src, post, syn)
    learner = RecurrentRLS(syn, weight="w", regressor="r", network=net, reg=1e-3, interval=1 * ms,
                           target_offset=25 * ms)
    learner.fit(lambda s: np.sin(2 * np.pi * 10 * s)[:, None] * volt, duration=0.3 * second, repeats=2)
    res = learner.predict()
    s = res.t - res.t[0] + learner.dt + 0.025
    inside = np.isfinite(res.target[:, 0])
    np.testing.assert_allclose(res.target[inside, 0], np.sin(2 * np.pi * 10 * s[inside]), atol=1e-12)
    assert learner.score(result=res)[0] > 0.99


def test_a_spike_at_a_bins_start_is_counted_in_that_bin():
    """One spike at the start of every 10-ms bin (times as run_trials stores them: step·dt − t0)."""
    sim_dt, dt, T = 1e-4, 1e-2, 121
    per_bin = int(round(dt / sim_dt))
    for w in range(20):
        t0_step = per_bin * (3000 + 937 * w)
        rel = (t0_step + np.arange(0, T * per_bin, per_bin)) * sim_dt - t0_step * sim_dt
        rec = TrialRecording(np.zeros((1, 1, T, 1)), [[(np.zeros(T, np.int64), rel)]], dt, T * dt, 1)
        np.testing.assert_array_equal(rec.binned_rates([0], smooth=0.0)[0, :, 0], np.full(T, 100.0))


def test_isi_cv_leaves_out_intervals_across_trials():
    """Regular firing inside each trial: CV 0 within trials, although the intervals across trial
    boundaries (each trial starting afresh) differ from those within."""
    duration, n_trials = 1.01, 6
    one = [np.arange(0.025, duration, 0.05), np.arange(0.4, 0.6, 0.02)]
    spike_i = np.concatenate([np.full(len(s) * n_trials, i) for i, s in enumerate(one)])
    spike_t = np.concatenate([np.concatenate([s + k * duration for k in range(n_trials)]) for s in one])
    starts = np.arange(n_trials) * duration
    within = isi_cv_within_trials(spike_i, spike_t, starts, duration, 2)
    np.testing.assert_allclose(within, 0.0, atol=1e-9)
    across = isi_cv([np.sort(spike_t[spike_i == i]) for i in range(2)])
    assert across[1] > 1.0            # what pooling across the boundaries would report
    # a neuron with fewer than 3 spikes in every trial has no CV
    assert np.isnan(isi_cv_within_trials(np.zeros(n_trials, int), starts + 0.1, starts, duration, 1))[0]


def test_the_students_training_order_keeps_the_teachers_random_inputs():
    """``shuffle_seed`` reorders trials without redrawing the random input directions."""
    emg = load_reaching_emg(synthetic=True)
    base = reaching_trials(emg, 3, 1e-3, encoding="random", seed=5)
    other = reaching_trials(emg, 3, 1e-3, encoding="random", shuffle=True, seed=5, shuffle_seed=6)
    redrawn = reaching_trials(emg, 3, 1e-3, encoding="random", shuffle=True, seed=6)
    for c in np.unique(base.labels):
        a = base.inputs[np.flatnonzero(base.labels == c)[0]]
        np.testing.assert_array_equal(other.inputs[np.flatnonzero(other.labels == c)[0]], a)
        assert not np.array_equal(redrawn.inputs[np.flatnonzero(redrawn.labels == c)[0]], a)
    assert not np.array_equal(other.labels, base.labels)   # another order


def test_recording_between_steps_is_refused(numpy_target):
    G = NeuronGroup(2, "dr/dt = -r/(10*ms) : 1", method="euler", dt=0.1 * ms, name="edge_g4")
    with pytest.raises(ValueError, match="record_dt .* must be a multiple of dt"):
        FORCE(G, regressor="r", n_outputs=1, network=Network(G), alpha=1.0, interval=1 * ms,
              record_dt=0.25 * ms, name="edge_force4")


def test_a_training_stopped_by_an_error_leaves_teacher_forcing_off(numpy_target):
    """The forced output is fed back only while training runs: an error inside it (here the
    target, at 3 ms) must not leave the next run driven by the target."""
    G = NeuronGroup(3, "dr/dt = -r/(10*ms) : 1\nI_fb : volt", method="euler", dt=0.1 * ms, name="edge_g5")
    G.r = 1.0
    net = Network(G)
    f = FORCE(G, regressor="r", n_outputs=1, network=net, alpha=1.0, interval=1 * ms, feedback="I_fb",
              encoders=np.ones((3, 1)) * volt, teacher_forcing=True, name="edge_force5")

    def target(t):       # the forced table (all times at once) is built; the RLS tick at 3 ms fails
        t = np.atleast_1d(t)
        if t.size == 1 and t[0] > 3e-3:
            raise RuntimeError("target failed")
        return np.sin(t)[:, None]

    with pytest.raises(RuntimeError, match="target failed"):
        f.fit(target, train=10 * ms)
    assert f.readout_.readout.variables["forcing"].get_value()[0] == 0.0
