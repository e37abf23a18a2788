"""brianforce.learning.FORCE on networks written by the user (LIF and Izhikevich in Brian2)."""
import numpy as np
import pytest
from brian2 import (Clock, DimensionMismatchError, Hz, Network, NeuronGroup, StateMonitor, Synapses, mV, ms, nS, pA, pF,
                    second, set_device)

from brianforce.devices.activation import activate, restore_runtime
from brianforce.errors import StandaloneNotSupportedError, TrainingDiverged
from brianforce.learning import FORCE
from brianforce.learning.targets import divergence_scale_of
from brianforce.tasks import sinusoid

LIF_EQS = """
dv/dt = (-v + I_syn + I_fb + I_in + bias)/tau_m : volt (unless refractory)
dI_syn/dt = -I_syn/tau_r + h : volt
dh/dt = -h/tau_d : volt/second
dr/dt = -r/tau_r + hr : hertz
dhr/dt = -hr/tau_d : hertz/second
I_fb : volt
I_in : volt
"""
NS = dict(tau_m=10 * ms, tau_r=2 * ms, tau_d=20 * ms, bias=-40 * mV)


def lif_network(N=100, seed=0, dt=0.1 * ms, G=0.04):
    """A user's LIF network: static sparse random weights drawn in numpy, handed to Brian2.

    Named, its clock too, so that every test's network runs the code compiled for the first."""
    rng = np.random.default_rng(seed)
    clock = Clock(dt, name="user_lif_clock")
    g = NeuronGroup(N, LIF_EQS, threshold="v >= -40*mV", reset="v = -65*mV; hr += 1/(tau_r*tau_d)",
                    refractory=2 * ms, method="euler", clock=clock, namespace=NS, name="user_lif")
    g.v = -65 * mV + rng.random(N) * 95 * mV
    W = G * 1e-3 * rng.standard_normal((N, N)) * (rng.random((N, N)) < 0.1) / (0.1 * np.sqrt(N))
    post, pre = np.nonzero(W)
    s = Synapses(g, g, "w : volt*second", on_pre="h_post += w/(tau_r*tau_d)", clock=clock, namespace=NS,
                 name="user_lif_synapses")
    s.connect(i=pre, j=post)
    s.w_ = W[post, pre]
    eta = (2 * rng.random((N, 1)) - 1) * 10 * mV
    return g, s, eta


IZH_EQS = """
dv/dt = (k*(v - vr)*(v - vt) - u + I_syn + I_fb + I_bias)/C : volt
du/dt = -a_u*u : amp
dI_syn/dt = -I_syn/tau_r + h : amp
dh/dt = -h/tau_d : amp/second
dr/dt = -r/tau_r + hr : hertz
dhr/dt = -hr/tau_d : hertz/second
I_fb : amp
"""
IZH_NS = dict(C=250 * pF, vr=-60 * mV, vt=-20 * mV, k=2.5 * nS / mV, a_u=0.01 / ms, d_u=200 * pA, vpeak=30 * mV,
              vreset=-65 * mV, tau_r=2 * ms, tau_d=20 * ms, I_bias=1000 * pA)


def izhikevich_network(N=80, seed=0, dt=0.04 * ms):
    """Nicola & Clopath's Izhikevich network (their parameters), as a user writes it."""
    rng = np.random.default_rng(seed)
    clock = Clock(dt, name="user_izh_clock")
    g = NeuronGroup(N, IZH_EQS, threshold="v >= vpeak", reset="v = vreset; u += d_u; hr += 1/(tau_r*tau_d)",
                    method="euler", clock=clock, namespace=IZH_NS, name="user_izh")
    g.v = -60 * mV + rng.random(N) * 90 * mV
    W = 5e3 * 1e-15 * rng.standard_normal((N, N)) * (rng.random((N, N)) < 0.1) / (0.1 * np.sqrt(N))  # pA*ms
    post, pre = np.nonzero(W)
    s = Synapses(g, g, "w : amp*second", on_pre="h_post += w/(tau_r*tau_d)", clock=clock, namespace=IZH_NS,
                 name="user_izh_synapses")
    s.connect(i=pre, j=post)
    s.w_ = W[post, pre]
    eta = (2 * rng.random((N, 1)) - 1) * 5e3 * pA
    return g, s, eta


def test_open_loop_decoder_equals_batch_ridge_regression():
    """Without feedback the regressors do not depend on φ: after n updates from φ = 0 the
    normalised RLS decoder is the ridge solution over the n regressors it saw."""
    g, s, _ = lif_network(N=60, seed=2)
    reg = 1e-4
    f = FORCE(g, regressor="r", n_outputs=1, network=Network(g, s), reg=reg, normalised=True, interval=1 * ms)
    mon = StateMonitor(g, "r", record=True, dt=1 * ms, when="end", order=-1)
    f.network.add(mon)
    task = sinusoid(5 * Hz)
    f.fit(task, settle=50 * ms, train=200 * ms)
    t = f.history_.times
    R = np.asarray(mon.r_).T[np.isin(np.round(np.asarray(mon.t_) / 1e-3), np.round((t - 1e-4) / 1e-3))]
    assert R.shape == (len(t), 60) and len(t) == 200
    Y = task(t)
    ridge = np.linalg.solve(R.T @ R + reg * np.eye(60), R.T @ Y)
    np.testing.assert_allclose(np.asarray(f.decoder_ / Hz ** -1), ridge, rtol=1e-6, atol=1e-9 * np.abs(ridge).max())
    # history holds the a-priori errors: φ_{n-1}ᵀ r_n − y_n
    assert f.history_.errors.shape == (200, 1) and abs(f.history_.errors[0, 0] + Y[0, 0]) < 1e-12


def test_feedback_training_learns_and_predict_scores():
    g, s, eta = lif_network(N=150, seed=1)
    f = FORCE(g, feedback="I_fb", encoders=eta, network=Network(g, s), alpha=5e-6, normalised=False,
              interval=1 * ms, record_dt=1 * ms, n_record=20)
    assert f.fit(sinusoid(5 * Hz), settle=0.1 * second, train=0.6 * second) is f
    assert len(f.history_.times) == 600
    res = f.predict(0.4 * second)
    m = res.metrics(period=0.2)
    assert m["lag_adjusted_correlation"][0] > 0.8, m
    assert np.all(res.spike_i < 20) and len(res.spike_t) > 0
    frame = res.to_frame()
    assert list(frame.columns) == ["t", "z_0", "target_0"] and len(frame) == len(res.t)
    assert f.history_.to_frame().shape == (600, 2)
    # the feedback is the encoded output of the step before: I_fb = η z (one scalar z for all neurons)
    ratio = np.asarray(g.I_fb_) / np.asarray(eta)[:, 0]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    assert abs(ratio[0] - res.z[-1, 0]) < 0.05


def test_input_driven_cued_choice():
    """Trials of inputs → targets: a cue on channel 0 or 1 sets the sign of the output that
    the network must hold after the cue (a cued choice)."""
    rng = np.random.default_rng(0)
    T, dt = 300, 1e-3

    def trials(n):
        side = rng.integers(0, 2, n)
        u = np.zeros((n, T, 2))
        y = np.zeros((n, T, 1))
        for m, c in enumerate(side):
            u[m, 50:100, c] = 1.0
            y[m, 100:, 0] = 1.0 if c == 0 else -1.0
            y[m, 50:100, 0] = np.linspace(0, 1, 50) * (1.0 if c == 0 else -1.0)
        return type("Trials", (), dict(inputs=u, targets=y, dt=dt))(), side

    g, s, eta = lif_network(N=200, seed=3)
    w_in = rng.normal(0, 1, (200, 2)) * 20 * mV
    f = FORCE(g, feedback="I_fb", encoders=eta, network=Network(g, s), alpha=5e-6, normalised=False,
              interval=1 * ms, input_variable="I_in", input_encoders=w_in, record_dt=1 * ms)
    train, _ = trials(16)
    f.fit(train)
    assert len(f.history_.times) == 16 * T
    test, side = trials(8)
    res = f.predict(inputs=test)
    z = res.z[:, 0].reshape(8, T)
    decided = np.sign(z[:, 150:].mean(1))
    assert np.mean(decided == np.where(side == 0, 1, -1)) >= 7 / 8, decided
    assert res.target.shape == res.z.shape and np.isfinite(res.target).all()


def test_trial_targets_train_alike_with_teacher_forcing_on_both_backends():
    """A trial target fed back while training and tabled for the generated-code RLS ends where its
    trials end: both backends train every step of the trials and learn the same decoder."""
    trials = type("Trials", (), dict(inputs=np.ones((2, 40, 1)), targets=np.linspace(-0.5, 0.5, 80).reshape(2, 40, 1),
                                     dt=1e-3))()
    decoders = []
    for backend in ("numpy", "codegen"):
        g, s, eta = lif_network(N=50, seed=6)
        f = FORCE(g, feedback="I_fb", encoders=eta, network=Network(g, s), alpha=5e-6, interval=1 * ms,
                  input_variable="I_in", input_encoders=np.full((50, 1), 5.0) * mV, teacher_forcing=True,
                  backend=backend).fit(trials)
        assert len(f.history_.times) == 80
        decoders.append(np.asarray(f.decoder_))
    np.testing.assert_allclose(decoders[1], decoders[0], rtol=1e-7, atol=1e-12 * np.abs(decoders[0]).max())


def test_a_trial_target_is_shown_where_its_trials_are_played_and_each_fit_reports_its_own_runs():
    """Settling and a test after the trials show no target (NaN); a trial set without inputs (M = 0) trains;
    ``history_`` and the phase results of a second fit describe that fit only."""
    y = np.sin(np.linspace(0, 2 * np.pi, 40))
    trials = type("Trials", (), dict(inputs=np.zeros((2, 40, 0)), targets=np.stack([y, y])[..., None], dt=1e-3))()
    g, s, eta = lif_network(N=30, seed=2)
    f = FORCE(g, feedback="I_fb", encoders=eta, network=Network(g, s), alpha=5e-6, interval=1 * ms)
    f.fit(trials, settle=50 * ms, test=10 * ms)             # settle longer than the trials, a test after them
    assert np.isnan(f.settle_result_.target).all() and np.isnan(f.test_result_.target).all()
    assert np.isfinite(f.train_result_.target).all() and len(f.history_.times) == 80
    assert 0.99 < np.abs(f.train_result_.target).max() <= 1.0
    f.fit(sinusoid(5 * Hz), train=20 * ms)                  # no settle, no test
    assert f.settle_result_ is None and f.test_result_ is None
    assert len(f.history_.times) == 20 and f.history_.times[0] > f.train_result_.t[0]


def test_bad_inputs_raise_clear_errors():
    g, s, eta = lif_network(N=20)
    net = Network(g, s)
    with pytest.raises(DimensionMismatchError):
        FORCE(g, feedback="I_fb", encoders=np.asarray(eta), network=net, alpha=1.0)   # no units
    with pytest.raises(DimensionMismatchError):
        FORCE(g, feedback="I_fb", encoders=eta, network=net, alpha=5e-6 * mV)
    with pytest.raises(ValueError, match="plain per-neuron parameter"):
        FORCE(g, feedback="v", encoders=eta, network=net, alpha=1.0)
    with pytest.raises(ValueError, match="not a variable"):
        FORCE(g, feedback="I_nope", encoders=eta, network=net, alpha=1.0)
    with pytest.raises(ValueError, match="regressor"):
        FORCE(g, regressor="nope", feedback="I_fb", encoders=eta, network=net, alpha=1.0)
    with pytest.raises(ValueError, match="multiple"):
        FORCE(g, feedback="I_fb", encoders=eta, network=net, alpha=1.0, interval=0.25 * ms)
    with pytest.raises(ValueError, match="exactly one"):
        FORCE(g, feedback="I_fb", encoders=eta, network=net)
    with pytest.raises(ValueError, match="backend"):
        FORCE(g, feedback="I_fb", encoders=eta, network=net, alpha=1.0, backend="gpu?")
    with pytest.raises(TypeError, match="normalised"):
        FORCE(g, feedback="I_fb", encoders=eta, network=net, alpha=1.0, normalised="no")
    f = FORCE(g, feedback="I_fb", encoders=eta, network=net, alpha=1.0)
    with pytest.raises(RuntimeError, match="fit"):
        f.predict(10 * ms)
    with pytest.raises(ValueError, match="train"):
        f.fit(sinusoid(5 * Hz))
    with pytest.raises(ValueError, match="target"):
        f.fit(np.full((100, 1), np.nan), train=5 * ms, target_dt=1 * ms)


def test_divergence_is_reported_with_its_update_and_blocks_use(tmp_path):
    g, s, eta = lif_network(N=50)
    f = FORCE(g, feedback="I_fb", encoders=eta * 100, network=Network(g, s), alpha=1e3, normalised=False,
              interval=1 * ms, divergence_factor=2.0)
    with pytest.raises(TrainingDiverged) as exc:
        f.fit(sinusoid(5 * Hz), settle=20 * ms, train=0.3 * second)
    assert exc.value.step >= 1 and 0.02 <= exc.value.time <= 0.32
    assert exc.value.sim_step == int(round(exc.value.time / 1e-4))
    assert f.history_.diverged and len(f.history_.times) == exc.value.step
    assert f.diverged_ is exc.value
    # the decoder is refused unless asked for explicitly, with the update that diverged
    refusal = rf"diverged at RLS update {exc.value.step} .*allow_diverged=True"
    with pytest.raises(RuntimeError, match=refusal):
        f.predict(10 * ms)
    with pytest.raises(RuntimeError, match=refusal):
        f.score(10 * ms)
    with pytest.raises(RuntimeError, match=refusal):
        f.save(tmp_path / "never.npz")
    assert not (tmp_path / "never.npz").exists()
    with pytest.raises(RuntimeError, match="Rebuild the network"):
        f.fit(sinusoid(5 * Hz), train=10 * ms)
    with pytest.raises(TypeError, match="allow_diverged"):
        f.predict(10 * ms, allow_diverged="yes")
    assert f.predict(10 * ms, allow_diverged=True).z.shape == (100, 1)
    assert f.save(tmp_path / "diverged.npz", allow_diverged=True).exists()


def test_divergence_scale_of_sampled_targets():
    assert divergence_scale_of(np.sin(np.linspace(0, 2 * np.pi, 401))[:, None] * 3) == pytest.approx(3)
    assert divergence_scale_of(np.array([[1.0, 0.0], [3.0, 0.5]])) == 3.0     # its largest |value| (offset)
    assert divergence_scale_of(np.array([[-1.0], [1.0]])) == 1.0               # amplitude = peak
    assert divergence_scale_of(-0.02 + 1e-5 * np.sin(np.arange(50))[:, None]) == pytest.approx(0.02, rel=1e-3)
    assert divergence_scale_of(np.full((10, 2), -0.25)) == 0.25                # constant: its magnitude
    assert divergence_scale_of(np.zeros((10, 3))) == 1.0                       # zero: 1
    assert divergence_scale_of(np.zeros((0, 1))) == 1.0


@pytest.mark.parametrize("value", [0.0, 0.5])
def test_constant_target_is_not_divergence(value):
    """A zero or constant target has no amplitude: errors are judged against its magnitude (or 1)."""
    g, s, eta = lif_network(N=50, seed=1)
    f = FORCE(g, feedback="I_fb", encoders=eta, network=Network(g, s), alpha=5e-6, normalised=False,
              interval=1 * ms)
    f.fit(np.full((700, 1), value), settle=10 * ms, train=50 * ms, target_dt=0.1 * ms)
    assert len(f.history_.times) == 50 and not f.history_.diverged and f.diverged_ is None
    assert f.backend_.limit == pytest.approx(100 * (value or 1.0))


def test_numpy_backend_is_refused_on_standalone_devices(tmp_path):
    activate("cpp_standalone", directory=str(tmp_path))
    try:
        g, s, eta = lif_network(N=10)
        f = FORCE(g, feedback="I_fb", encoders=eta, network=Network(g, s), alpha=1.0, backend="numpy")
        with pytest.raises(StandaloneNotSupportedError):
            f.fit(sinusoid(5 * Hz), train=10 * ms)
    finally:
        restore_runtime()


def test_saved_decoder_and_state_continue_in_a_rebuilt_network(tmp_path):
    def trained():
        g, s, eta = lif_network(N=60, seed=4)
        f = FORCE(g, feedback="I_fb", encoders=eta, network=Network(g, s), alpha=5e-6, normalised=False,
                  interval=1 * ms)
        return f

    f = trained().fit(sinusoid(5 * Hz), settle=20 * ms, train=100 * ms)
    path = f.save(tmp_path / "user.npz", include_rls_state=True)
    ref = f.predict(50 * ms)
    g = trained()
    g.load_state(path)
    np.testing.assert_array_equal(np.asarray(g.decoder_), np.asarray(f.decoder_))
    np.testing.assert_allclose(g.backend_.P(), f.backend_.P(), rtol=1e-12, atol=0)   # training can go on
    again = g.predict(50 * ms)
    np.testing.assert_allclose(again.z, ref.z, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(again.spike_i, ref.spike_i)
    with pytest.raises(ValueError, match="neurons"):
        h, s, eta = lif_network(N=61, seed=4)
        FORCE(h, feedback="I_fb", encoders=eta, network=Network(h, s), alpha=1.0).load_state(path)


def _izhikevich_fit(backend):
    g, s, eta = izhikevich_network()
    f = FORCE(g, feedback="I_fb", encoders=eta, network=Network(g, s), alpha=2e-6, normalised=False,
              interval=0.8 * ms, backend=backend, n_record=80)
    f.fit(sinusoid(5 * Hz), settle=40 * ms, train=120 * ms, test=20 * ms)
    return f


@pytest.mark.standalone
def test_izhikevich_trains_the_same_at_runtime_and_in_cpp_standalone(tmp_path):
    """A user's Izhikevich network: numpy RLS at runtime and generated-code RLS compiled into a
    cpp_standalone program give the same decoder (to 1e-8) and the same spikes."""
    rt = _izhikevich_fit("numpy")
    activate("cpp_standalone", directory=str(tmp_path / "izh"))
    try:
        sa = _izhikevich_fit("auto")
        assert sa.backend_.name == "codegen"
        phi_sa, err_sa = np.asarray(sa.decoder_), sa.history_.errors
        test_sa = sa.predict(20 * ms)
        train_sa = sa.train_result_
    finally:
        restore_runtime()
    phi_rt = np.asarray(rt.decoder_)
    assert len(rt.history_.times) == 150 and err_sa.shape == rt.history_.errors.shape
    assert np.abs(phi_rt).max() > 0
    np.testing.assert_allclose(phi_sa, phi_rt, rtol=0, atol=1e-8 * np.abs(phi_rt).max())
    np.testing.assert_allclose(err_sa, rt.history_.errors, rtol=0, atol=1e-8)
    np.testing.assert_allclose(train_sa.z, rt.train_result_.z, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(test_sa.spike_i, rt.test_result_.spike_i)


def test_teacher_forced_decoder_equals_ridge_regression_and_then_runs_closed_loop():
    """With the target fed back while training (DePasquale et al.'s student), the network's
    activity does not depend on φ: the normalised RLS decoder is the ridge solution over the
    regressors it saw, although the network has feedback. ``predict`` then closes the loop."""
    g, s, eta = lif_network(N=80, seed=5)
    reg = 1e-4
    f = FORCE(g, feedback="I_fb", encoders=eta, network=Network(g, s), reg=reg, normalised=True,
              interval=1 * ms, teacher_forcing=True)
    mon = StateMonitor(g, "r", record=True, dt=1 * ms, when="end", order=-1)
    fb = StateMonitor(g, "I_fb", record=[0], dt=1 * ms, when="end", order=-1)
    f.network.add(mon, fb)
    task = sinusoid(5 * Hz)
    f.fit(task, settle=20 * ms, train=150 * ms)
    t = f.history_.times
    R = np.asarray(mon.r_).T[np.isin(np.round(np.asarray(mon.t_) / 1e-3), np.round((t - 1e-4) / 1e-3))]
    ridge = np.linalg.solve(R.T @ R + reg * np.eye(80), R.T @ task(t))
    # sequential rank-1 updates against one batch solve: round-off (which BLAS kernels run depends on the
    # arrays' alignment) reaches ~1e-6 relative on single weights
    np.testing.assert_allclose(np.asarray(f.decoder_), ridge, rtol=1e-5, atol=1e-9 * np.abs(ridge).max())
    # while forcing, neuron 0 received η₀·y(t) of the step before
    tf = np.asarray(fb.t_)
    during = (tf > 0.021) & (tf < 0.169)
    np.testing.assert_allclose(np.asarray(fb.I_fb_[0])[during], float(eta[0, 0]) * task(tf[during])[:, 0],
                               rtol=1e-9, atol=1e-15)
    res = f.predict(30 * ms)
    ratio = np.asarray(g.I_fb_) / np.asarray(eta)[:, 0]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    assert abs(ratio[0] - res.z[-1, 0]) < 0.05   # closed loop again: the fed-back value is z
