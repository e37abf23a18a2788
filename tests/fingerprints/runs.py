"""Small, deterministic runs of each training method (behaviour fingerprints).

Each ``run_<name>(seed)`` builds, trains and runs one method through the package's
public entry points only, at a size that takes seconds, and returns a flat dict of
numpy arrays: spikes (``*_spike_i`` int, ``*_spike_t`` float, seconds) and outputs,
errors and learned weights. ``meta`` is a JSON string (0-d array) with the settings.
:mod:`record` saves these dicts to ``<name>.npz``; ``tests/test_fingerprints.py``
reruns the same functions and compares.

The recordings were made with ``OPENBLAS_NUM_THREADS=1`` set before numpy is imported
(as the test-suite's conftest and ``record.py`` do); two BLAS threads gave identical bits.
"""
import json
import warnings

import brian2
import numpy as np
from brian2 import ms, second

SEED = 0


def _meta(name: str, seed: int, **settings) -> np.ndarray:
    """Settings as a 0-d JSON string array (loads without pickle); ``env`` is informative."""
    env = dict(brian2=brian2.__version__, numpy=np.__version__,
               codegen_target=str(brian2.prefs.codegen.target))
    return np.array(json.dumps(dict(method=name, seed=seed, env=env, **settings), sort_keys=True))


def _fresh():
    """Runtime device and default clock, as the test-suite's conftest leaves them."""
    brian2.set_device("runtime")
    brian2.defaultclock.dt = 0.1 * ms


def run_force_lif(seed: int = SEED) -> dict:
    """Nicola & Clopath FORCE (:class:`brianforce.methods.force.FORCETrainer`) on a 5 Hz sinusoid.

    200 neurons, settle 0.1 s, train 0.4 s (RLS every 2.5 ms), free-running test 0.2 s.

    Returns
    -------
    dict
        RLS history (times, errors), decoder (s), test output ``z`` and all spikes.
    """
    from brianforce.tasks import sinusoid
    from brianforce.methods.force import FORCETrainer

    _fresh()
    n, settle, train, test = 200, 0.1, 0.4, 0.2
    tr = FORCETrainer(n, n_record=n, seed=seed, device="runtime")
    tr.fit(sinusoid(5.0), settle=settle * second, train=train * second)
    res = tr.predict(test * second)
    return dict(history_times=tr.history_.times, history_errors=tr.history_.errors,
                decoder=np.asarray(tr.decoder_ / second), test_t=res.t, test_z=res.z,
                test_spike_i=res.spike_i.astype(np.int64), test_spike_t=res.spike_t,
                meta=_meta("force_lif", seed, n_neurons=n, settle_s=settle, train_s=train,
                           test_s=test, task="sinusoid(5.0)"))


def run_depasquale_student(seed: int = SEED) -> dict:
    """DePasquale et al. factor student (:class:`brianforce.methods.factor_student.FactorStudent`).

    ``tests/test_student.py::_small`` with ``seed``: 120 neurons, 3 RLS trials of 200 ms on
    three sinusoidal factors (5, 10, 15 Hz) at 1 ms samples, then 2 closed-loop test trials.

    Returns
    -------
    dict
        Training errors, learned weights (``w``, ``W_out``, ``U``, ``I_bias``), test
        outputs, factors, spikes and the filtered spike trains (rates) of every 10th neuron.
    """
    from brianforce.methods.factor_student import FactorStudent, StudentSchedule

    _fresh()
    T, P, n = 200, 3, 120
    t = np.arange(T) * 1e-3
    y = np.stack([np.sin(2 * np.pi * (p + 1) * 5 * t) * 2 for p in range(P)], 1)[None]
    st = FactorStudent(n_neurons=n, schedule=StudentSchedule(n_forced=1, n_mean=2, n_rls=3), seed=seed)
    st.fit(np.zeros((1, T, 1)), y, y[:, :, :1], 1 * ms)
    run = st.predict(np.zeros((2, T, 1)))
    return dict(train_errors=np.asarray(st.train_errors_), w=st.w_, W_out=st.W_out_, U=st.U_,
                I_bias=st.I_bias_, test_outputs=run.outputs, test_factors=run.factors,
                test_rates=run.rates[:, :, ::10], test_spike_i=run.spike_i.astype(np.int64),
                test_spike_t=run.spike_t,
                meta=_meta("depasquale_student", seed, n_neurons=n, n_forced=1, n_mean=2,
                           n_rls=3, trial_steps=T, n_factors=P, n_test_trials=2))


def run_kim2019_transfer(seed: int = SEED) -> dict:
    """Kim, Li & Sejnowski one-to-one rate → LIF transfer on Go/NoGo.

    A 20-unit Dale rate RNN (:class:`brianforce.rate.backprop.DaleRNNTrainer`) trained for only
    6 Adam steps of 4 trials (it need not solve the task), a 1/λ grid search over
    (20, 40) on 2 validation trials (:class:`brianforce.methods.transfer.LIFTransfer`), then 2
    LIF test trials of 1 s with spikes.

    Returns
    -------
    dict
        Rate training loss, rate weights, grid accuracy / rates, chosen 1/λ, LIF test
        outputs, mean rates and spikes (trial, unit, time).
    """
    from brianforce.rate.backprop import DaleRNNTrainer
    from brianforce.seeding import rng_for
    from brianforce.tasks.kim2019 import GoNoGo
    from brianforce.methods.transfer import LIFTransfer

    _fresh()
    task, n, iters, factors = GoNoGo(), 20, 6, (20, 40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)    # "did not reach the stopping criteria"
        rate = DaleRNNTrainer(n, batch_size=4, max_iter=iters, eval_every=3, n_eval=4,
                              seed=seed).fit(task)
    p = rate.params_
    xf = LIFTransfer(factors, n_validation=2, seed=seed).fit(p, task)
    test = task.sample(2, rng_for(seed, "fingerprint-test"))
    run = xf.predict(test.inputs, seed=seed, record_spikes=2)
    return dict(rate_train_loss=np.asarray(rate.history_.train_loss), rate_w_rec=p.w_rec,
                rate_tau_raw=p.tau_raw, rate_w_out=p.w_out, rate_b_out=np.array(p.b_out),
                grid_accuracy=xf.grid_accuracy_, grid_mean_rate=xf.grid_mean_rate_,
                scaling_factor=np.array(xf.scaling_factor_), test_labels=np.asarray(test.labels),
                test_outputs=run.outputs, test_mean_rate=run.mean_rate,
                test_spike_trial=run.spike_trial.astype(np.int64),
                test_spike_i=run.spike_unit.astype(np.int64), test_spike_t=run.spike_time,
                meta=_meta("kim2019_transfer", seed, task="GoNoGo", n_units=n, adam_steps=iters,
                           batch_size=4, scaling_factors=list(factors), n_validation=2,
                           n_test_trials=2))


def run_kimchow_patterns(seed: int = SEED, target_offset=0 * ms) -> dict:
    """Kim & Chow per-neuron RLS (:class:`brianforce.methods.recurrent.RecurrentTrainer`).

    As ``tests/test_recurrent_training.py::test_training_makes_currents_follow_targets``,
    smaller: 200 neurons (p = 0.1), sinusoidal current patterns of 0.2 s around the
    spontaneous mean current (0.2 s), 3 training trials (stimulus 50 ms, RLS every 10 ms,
    reg 1e4), then one test trial.

    Returns
    -------
    dict
        Learning curve, all synaptic weights after training, the test trial's currents
        (V, every 10th neuron) and all its spikes (window-relative times).
    """
    from brianforce.methods.recurrent import RecurrentTrainer
    from brianforce.seeding import rng_for
    from brianforce.tasks.patterns import pattern_targets, sinusoid_patterns

    _fresh()
    n, duration, n_trials = 200, 0.2, 3
    tr = RecurrentTrainer(n, p=0.1, stim_duration=50 * ms, learn_every=10 * ms, reg=1e4,
                          n_trials=n_trials, seed=seed, target_offset=target_offset)
    base = tr.spontaneous(0.2 * second).mean(0)
    z = sinusoid_patterns(n, duration, 1e-3, rng_for(seed, "patterns"), periods=(0.2, 0.4))
    tr.fit(pattern_targets(z, base, 15e-3, 1e-3, np.arange(n)))
    lc = tr.learning_curve_
    rec = tr.run_trials(1)
    i, t = rec.spike_times[0][0]
    return dict(base_current=base, lc_rms_error=lc.rms_error, lc_correlation=lc.correlation,
                weight=np.array(tr.network_.weight_view()), test_currents=rec.currents[..., ::10],
                test_spike_i=np.asarray(i, np.int64), test_spike_t=np.asarray(t),
                meta=_meta("kimchow_patterns", seed, n=n, p=0.1, pattern_s=duration,
                           amplitude_V=15e-3, n_trials=n_trials, stim_ms=50, learn_every_ms=10,
                           reg=1e4, n_test_trials=1))


def run_kimchow_patterns_start_of_step(seed: int = SEED) -> dict:
    """:func:`run_kimchow_patterns` with each current compared with the target sample of its step's
    start (``target_offset = -dt``). Its fingerprint was recorded from an independent per-neuron RLS
    loop (a ``network_operation`` of its own) with that alignment: the trainer, which learns through
    :class:`brianforce.learning.RecurrentRLS`, agrees with it spike for spike."""
    return run_kimchow_patterns(seed, target_offset=-0.05 * ms)


RUNS = {"force_lif": run_force_lif, "depasquale_student": run_depasquale_student,
        "kim2019_transfer": run_kim2019_transfer, "kimchow_patterns": run_kimchow_patterns,
        "kimchow_patterns_start_of_step": run_kimchow_patterns_start_of_step}
