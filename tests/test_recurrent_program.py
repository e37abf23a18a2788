"""Kim & Chow training as one compiled program (per-neuron RLS in C++) against the runtime path.

Both paths run the same trials (randomised potentials, stimulus, drive, RLS every 10 ms) from
the same numpy draws, so without white noise the weights, errors and learning curves agree to
round-off, and a divergence is reported at the same update.
"""
import numpy as np
import pytest
from brian2 import mV, ms, second, volt

from brianforce.devices.force_program import compiler_available
from brianforce.errors import TrainingDiverged
from brianforce.methods.recurrent import RecurrentTrainer
from brianforce.seeding import rng_for
from brianforce.tasks.patterns import pattern_targets, sinusoid_patterns

needs_compiler = pytest.mark.skipif(not compiler_available(), reason="needs make and a C++ compiler")

N, SEED = 200, 3


def _fit(device, n_trials, rls_threads=1, noise=0 * mV):
    tr = RecurrentTrainer(N, p=0.3, dt=0.1 * ms, tau_d=50 * ms, reg=1e4, learn_every=10 * ms, n_trials=n_trials,
                          seed=SEED, device=device, drive=5 * mV, dale=True, rls_threads=rls_threads, noise=noise)
    tr.build()
    z = sinusoid_patterns(N, 0.3, 1e-3, rng_for(SEED, "patterns"), periods=(0.1, 0.3), n_components=2)
    neurons = np.arange(0, N, 2)
    offset = tr.spontaneous(100 * ms, neurons=neurons).mean(0)
    z = np.stack([z[:, neurons], 0.9 * z[::-1, neurons]])         # two conditions
    targets = pattern_targets(z, offset, 5e-3, 1e-3, neurons)
    try:
        tr.fit(targets)
    except TrainingDiverged as exc:
        return tr, exc
    return tr, None


@needs_compiler
def test_compiled_fit_equals_the_runtime_fit_to_round_off():
    rt, bad_rt = _fit("runtime", 2)
    sa, bad_sa = _fit("cpp_standalone", 2, rls_threads=2)     # trained neurons split over two threads
    assert bad_rt is None and bad_sa is None
    assert sa.device_ == "cpp_standalone" and sa.timings_["compile_s"] >= 0 and sa.timings_["run_s"] > 0
    w_rt, w_sa = np.array(rt.network_.weight_view()), np.array(sa.network_.weight_view())
    w0 = rt.network_.connectivity.weight
    changed = np.abs(w_rt - w0).max()
    assert changed > 1e-3 * np.abs(w0).max()                   # training did change the weights
    assert np.abs(w_rt - w_sa).max() <= 1e-9 * changed
    for field in ("condition", "rms_error", "correlation"):
        np.testing.assert_allclose(getattr(sa.learning_curve_, field), getattr(rt.learning_curve_, field),
                                   rtol=1e-9, atol=1e-12)
    last = rt.learner_.history_                                # the runtime learner keeps its last trial
    np.testing.assert_allclose(sa.learner_.history_.errors[-len(last.errors):], last.errors, rtol=1e-7,
                               atol=1e-12)
    assert sa.learner_.history_.errors.shape == (4 * len(last.errors), N // 2)
    # test trials run on at runtime from the trained weights, identically
    a, b = rt.run_trials(1), sa.run_trials(1)
    np.testing.assert_allclose(a.currents, b.currents, rtol=1e-7, atol=1e-12)


@needs_compiler
def test_auto_compiles_where_the_program_gives_the_runtime_result():
    assert _fit("auto", 2, rls_threads=2)[0].device_ == "cpp_standalone"
    assert _fit("auto", 1, noise=1 * mV)[0].device_ == "runtime"     # white noise: the program's own draws


@needs_compiler
def test_a_divergence_is_reported_at_the_same_update():
    rt, bad_rt = _fit("runtime", 3)
    sa, bad_sa = _fit("cpp_standalone", 3)
    assert bad_rt is not None and bad_sa is not None
    assert bad_sa.step == rt.rls_.n_updates == bad_rt.step
    assert "training trial 2, condition 0" in str(bad_sa) and "training trial 2, condition 0" in str(bad_rt)
    assert sa.diverged_ is bad_sa
    np.testing.assert_allclose(np.array(sa.network_.weight_view()), np.array(rt.network_.weight_view()),
                               rtol=0, atol=1e-9 * np.abs(rt.network_.connectivity.weight).max())
    with pytest.raises(RuntimeError, match="allow_diverged"):
        sa.save("unused.npz")


@pytest.mark.parametrize("kw, match", [({"device": "cuda_standalone"}, "device must be one of"),
                                       ({"rls_threads": 0}, "rls_threads")])
def test_bad_device_settings_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        RecurrentTrainer(50, **kw)


def test_a_compiled_fit_refuses_a_window_off_the_update_grid():
    from brianforce.devices.recurrent_program import TrialPlan, run_recurrent_program

    tr = RecurrentTrainer(50, learn_every=10 * ms, stim_duration=105 * ms)
    bn = tr.build()

    class Window:
        duration = 0.3
    plan = TrialPlan(np.zeros(1, int), np.zeros((1, 50)), np.zeros((1, 50)), 0.105, [Window()], np.arange(5),
                     1e-3, 300)
    with pytest.raises(ValueError, match="stim_duration .* multiple of learn_every"):
        run_recurrent_program(bn, {"dt": 0.05 * ms}, plan, interval=0.01, reg=1.0, limit=1.0)


OWN_MODEL = """dv/dt = (-v + I_syn + I0)/tau : volt (unless refractory)
dI_syn/dt = -I_syn/tau_s : volt
dr/dt = -r/tau_s : Hz
I0 : volt (constant)"""


def _own_model(w0, v0):
    """A user's own LIF network (not brianforce's): a current jump per spike, r its own filtered spikes."""
    from brian2 import Network, NeuronGroup, Synapses

    n = len(v0)
    ns = {"tau": 10 * ms, "tau_s": 20 * ms}
    g = NeuronGroup(n, OWN_MODEL, threshold="v > -50*mV", reset="v = -65*mV\nr += 1/tau_s", refractory=2 * ms,
                    method="exact", namespace=ns, dt=0.1 * ms, name="own_neurons")
    g.v, g.I0 = v0 * volt, np.linspace(-45, -40, n) * mV
    s = Synapses(g, g, "w : volt*second", on_pre="I_syn_post += w/tau_s", namespace=ns, dt=0.1 * ms,
                 name="own_synapses")
    pre, post = np.nonzero(np.random.default_rng(0).random((n, n)) < 0.3)
    s.connect(i=pre, j=post)
    s.w = w0[: len(pre)] * volt * second
    return g, s, Network(g, s)


@needs_compiler
def test_the_generated_update_trains_a_users_own_model_as_the_runtime_learner_does(tmp_path):
    from brian2 import volt as V

    from brianforce.devices.activation import activate, build, restore_runtime
    from brianforce.learning import RecurrentRLS
    from brianforce.learning.codegen.per_neuron import per_neuron_rls_operations

    rng = np.random.default_rng(5)
    n, dt, interval, duration = 40, 1e-4, 5e-3, 0.2
    w0, v0 = rng.normal(0, 2e-4, n * n), rng.uniform(-0.065, -0.05, n)
    trained = np.arange(0, n, 2)
    step = 1e-3
    targets = 0.01 * np.sin(2 * np.pi * np.arange(int(duration / step))[:, None] * step / 0.1 + trained[None, :])

    g, s, net = _own_model(w0, v0)
    learner = RecurrentRLS(s, weight="w", regressor="r", target_neurons=trained, network=net, reg=1e3,
                           interval=interval * second)
    learner.fit(targets * V, dt=step * second)
    w_runtime = np.asarray(s.w_[:]).copy()

    window = learner.target_window(targets * V, dt=step * second)
    k = np.arange(int(round(duration / interval)) + 1)
    k = k[k * interval + dt <= duration + 1e-9]
    update_row = np.zeros(k.size + 2)
    update_row[k] = k + 1
    activate("cpp_standalone", str(tmp_path))
    try:
        g, s, net = _own_model(w0, v0)
        ops = per_neuron_rls_operations(s, weight="w", regressor="r", target_neurons=trained, weights0=w0[: len(w_runtime)],
                                        targets=window.fn(k * interval + dt), update_row=update_row,
                                        interval=interval, reg=1e3, limit=learner.max_error or 1e9)
        net.add(*ops.groups)
        net.run(duration * second, namespace=ops.namespace)
        build(directory=str(tmp_path), compile=True, run=True)
        w_program = np.asarray(s.w_[:]).copy()
    finally:
        restore_runtime()
    changed = np.abs(w_runtime - w0[: w_runtime.size]).max()
    assert changed > 1e-2 * np.abs(w0).max()
    assert np.abs(w_program - w_runtime).max() <= 1e-9 * changed


def test_the_generated_update_refuses_bad_tables():
    from brianforce.learning.codegen.per_neuron import per_neuron_rls_operations

    tr = RecurrentTrainer(30, p=0.3)
    s = tr.build().synapses
    w0 = np.asarray(s.w_[:])
    ok = dict(weight="w", regressor="r", target_neurons=[0, 1], weights0=w0, targets=np.zeros((3, 2)),
              update_row=np.array([0, 1, 2, 3.0]), interval=0.01, reg=1.0, limit=1.0)
    assert len(per_neuron_rls_operations(s, **ok).operations) == 4
    for bad, match in (({"target_neurons": [0, 0]}, "distinct"), ({"weights0": w0[:-1]}, "one weight per synapse"),
                       ({"targets": np.zeros((3, 3))}, "targets must be"),
                       ({"update_row": np.array([0, 4.0])}, "update_row")):
        with pytest.raises(ValueError, match=match):
            per_neuron_rls_operations(s, **{**ok, **bad})
