"""numpy BPTT rate RNN (Kim et al. 2019) and the Kim 2019 tasks."""
import os

# small matrices: BLAS threads only add contention (effective when numpy is not yet imported)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pytest

from brianforce.rate.backprop import (Adam, DaleRNNParams, DaleRNNTrainer,
                                 init_dale_rnn, loss_and_gradients, simulate_rate)
from brianforce.errors import TrainingDiverged
from brianforce.io import ModelFileError
from brianforce.tasks.kim2019 import XOR, ContextIntegration, GoNoGo, make_task
from brianforce.tasks.trials import Trials

PARAM_NAMES = ("w_rec", "w_in", "w_out", "b_out", "tau_raw")


def _problem(activation, N=10, B=3, T=20, n_in=2, seed=3):
    p = init_dale_rnn(N, n_in, seed, activation=activation)
    p.b_out = 0.3
    rng = np.random.default_rng(seed)
    u = rng.standard_normal((B, T, n_in))
    z = rng.standard_normal((B, T))
    noise = 0.1 * rng.standard_normal((B, T, N))
    x0 = 0.1 * rng.standard_normal((B, N))
    return p, u, z, noise, x0


def _numerical_gradient(p, name, u, z, noise, x0, eps=1e-4):
    ref = np.atleast_1d(np.asarray(getattr(p, name), dtype=float))
    num = np.zeros_like(ref)
    for idx in np.ndindex(ref.shape):
        if name == "w_rec" and p.mask[idx] == 0:
            continue                      # masked weights never enter W: gradient is exactly 0
        vals = []
        for d in (eps, -eps):
            q = p.copy()
            if name == "b_out":
                q.b_out = p.b_out + d
            else:
                getattr(q, name)[idx] += d
            vals.append(loss_and_gradients(q, u, z, x0=x0, noise=noise)[0])
        num[idx] = (vals[0] - vals[1]) / (2 * eps)
    return num


@pytest.mark.parametrize("activation", ["sigmoid", "softplus", "relu"])
def test_bptt_gradient_matches_finite_differences(activation):
    p, u, z, noise, x0 = _problem(activation)
    _, grads, _ = loss_and_gradients(p, u, z, x0=x0, noise=noise)
    for name in PARAM_NAMES:
        # ReLU is piecewise linear: a smaller step avoids crossing its kink
        num = _numerical_gradient(p, name, u, z, noise, x0, eps=1e-6 if activation == "relu" else 1e-4)
        ana = np.atleast_1d(grads[name])
        assert np.linalg.norm(ana) > 0, name
        rel = np.linalg.norm(ana - num) / (np.linalg.norm(ana) + np.linalg.norm(num))
        assert rel < 1e-6, f"{activation}/{name}: relative error {rel:.2e}"
    # entries outside the connection mask get no gradient
    assert np.all(grads["w_rec"][p.mask == 0] == 0)


def test_relu_rectifier_gradient_and_weights_trained_through_zero():
    """``rectifier="relu"`` (the authors' code): W uses max(W̃, 0); a weight below zero is cut and gets no
    gradient, so it stays cut, while ``"abs"`` reflects it."""
    p, u, z, noise, x0 = _problem("sigmoid")
    p.rectifier = "relu"
    rng = np.random.default_rng(5)
    flip = (p.mask > 0) & (rng.random(p.mask.shape) < 0.3)
    p.w_rec[flip] *= -1.0                                   # some weights below zero
    np.testing.assert_array_equal(p.W, np.maximum(p.w_rec, 0) * p.mask * p.sign[None, :])
    _, grads, _ = loss_and_gradients(p, u, z, x0=x0, noise=noise)
    assert np.all(grads["w_rec"][flip] == 0) and np.linalg.norm(grads["w_rec"]) > 0
    num = _numerical_gradient(p, "w_rec", u, z, noise, x0)
    num[flip] = 0.0                                         # one-sided at the cut; analytic 0 there
    rel = np.linalg.norm(grads["w_rec"] - num) / (np.linalg.norm(grads["w_rec"]) + np.linalg.norm(num))
    assert rel < 1e-6
    q = p.copy()
    q.rectifier = "abs"
    assert np.any(loss_and_gradients(q, u, z, x0=x0, noise=noise)[1]["w_rec"][flip] != 0)
    with pytest.raises(ValueError, match="rectifier"):
        init_dale_rnn(10, 2, 0, rectifier="clip")
    with pytest.raises(ValueError, match="rectifier"):
        DaleRNNTrainer(rectifier="RELU")


def test_targets_with_one_output_column_give_identical_loss_and_gradients():
    p, u, z, noise, x0 = _problem("sigmoid")
    loss, grads, out = loss_and_gradients(p, u, z, x0=x0, noise=noise)
    loss3, grads3, out3 = loss_and_gradients(p, u, z[:, :, None], x0=x0, noise=noise)
    assert loss3 == loss
    np.testing.assert_array_equal(out3, out)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(grads3[name], grads[name])
    with pytest.raises(ValueError, match="targets must have shape"):
        loss_and_gradients(p, u, np.repeat(z[:, :, None], 2, axis=2), x0=x0, noise=noise)


def test_trainer_refuses_tasks_with_several_outputs():
    class TwoOutputs(GoNoGo):
        def sample(self, n_trials, rng):
            b = super().sample(n_trials, rng)
            return Trials(b.inputs, np.repeat(b.targets, 2, axis=2), b.dt, labels=b.labels)

    with pytest.raises(ValueError, match="one output"):
        DaleRNNTrainer(10, batch_size=2, max_iter=1, seed=0).fit(TwoOutputs())


def _naive_rate(p, u, x0, noise):
    """Unit-by-unit Euler loop written from the model equations (independent reference)."""
    B, T, _ = u.shape
    N = p.n_units
    tau = 1 / (1 + np.exp(-p.tau_raw)) * (p.tau_max - p.tau_min) + p.tau_min
    W = np.zeros((N, N))
    for i in range(N):
        for j in range(N):
            W[i, j] = abs(p.w_rec[i, j]) * p.mask[i, j] * (-1.0 if p.sign[j] < 0 else 1.0)
    out = np.zeros((B, T))
    for b in range(B):
        x = x0[b].copy()
        for t in range(T):
            r = 1 / (1 + np.exp(-x))
            dx = np.array([(-x[i] + sum(W[i, j] * r[j] for j in range(N))
                            + sum(p.w_in[i, k] * u[b, t, k] for k in range(u.shape[2]))) / tau[i]
                           for i in range(N)])
            x = x + p.dt * dx + noise[b, t]
            out[b, t] = sum(p.w_out[i] / (1 + np.exp(-x[i])) for i in range(N)) + p.b_out
    return out


def test_forward_pass_matches_naive_reference():
    p, u, _, noise, x0 = _problem("sigmoid", N=6, B=2, T=12)
    traj = simulate_rate(p, u, x0=x0, noise=noise)
    np.testing.assert_allclose(traj.outputs, _naive_rate(p, u, x0, noise), rtol=1e-12, atol=1e-12)
    assert traj.x.shape == (2, 13, 6) and traj.r.shape == (2, 13, 6)


def test_initial_network_structure():
    p = init_dale_rnn(400, 1, seed=5)
    W = p.W
    inh = p.sign < 0
    assert 0.15 < inh.mean() < 0.25                                   # 20 % inhibitory
    assert 0.17 < p.mask.mean() < 0.23                                # connection probability 0.2
    assert np.all(W[:, inh] <= 0) and np.all(W[:, ~inh] >= 0)        # Dale's law by column
    assert np.all(W[p.mask == 0] == 0) and np.all(np.diag(W) == 0)
    # gain: |W̃| ~ |N(0, 1)| g / sqrt(Np)  →  E|W̃_ij| = g sqrt(2/π)/sqrt(Np) on the mask
    nz = np.abs(W[p.mask == 1])
    assert nz.mean() == pytest.approx(1.5 * np.sqrt(2 / np.pi) / np.sqrt(400 * 0.2), rel=0.05)
    assert np.all((p.tau >= 0.020) & (p.tau <= 0.050))
    q = init_dale_rnn(400, 1, seed=5)
    np.testing.assert_array_equal(q.w_rec, p.w_rec)                   # one seed fixes everything
    assert not np.array_equal(init_dale_rnn(400, 1, seed=6).w_rec, p.w_rec)


def test_adam_first_steps_match_closed_form():
    opt = Adam(learning_rate=0.1)
    g = np.array([2.0, -0.5, 0.0])
    step = opt.step({"a": g})["a"]
    # first step: m̂ = g, v̂ = g²  →  −lr g/(|g| + eps)
    np.testing.assert_allclose(step, -0.1 * g / (np.abs(g) + 1e-8))
    g2 = np.array([1.0, 1.0, 1.0])
    step2 = opt.step({"a": g2})["a"]
    m = 0.9 * 0.1 * g + 0.1 * g2
    v = 0.999 * 0.001 * g ** 2 + 0.001 * g2 ** 2
    np.testing.assert_allclose(step2, -0.1 * (m / (1 - 0.9 ** 2)) / (np.sqrt(v / (1 - 0.999 ** 2)) + 1e-8))


def test_small_network_learns_go_nogo_and_keeps_constraints():
    """N = 50 learns Go/NoGo to the paper's stopping criteria within a few seconds."""
    task = GoNoGo()
    tr = DaleRNNTrainer(50, batch_size=16, learning_rate=0.03, max_iter=400, eval_every=10,
                        n_eval=50, seed=0).fit(task)
    assert tr.converged_ and tr.n_iter_ < 400
    assert tr.eval_loss_ < 7.0 and tr.accuracy_ > 0.95
    assert tr.score(task, n_trials=100, seed=5) >= 0.9             # fresh noisy trials
    loss = np.asarray(tr.history_.train_loss)
    assert loss.shape == (tr.n_iter_,) and loss[-20:].mean() < 0.7 * loss[:20].mean()
    p, p0 = tr.params_, tr.initial_params_
    W = p.W
    assert np.all(W[:, p.sign < 0] <= 0) and np.all(W[:, p.sign > 0] >= 0)
    assert np.all(W[p0.mask == 0] == 0)
    assert np.all((p.tau >= 0.020) & (p.tau <= 0.050))
    assert not np.allclose(p.tau, p0.tau)                             # time constants are trained
    np.testing.assert_array_equal(p.w_in, p0.w_in)                    # W_in fixed (paper)


def test_unconverged_training_warns():
    tr = DaleRNNTrainer(20, batch_size=4, max_iter=3, eval_every=3, n_eval=10, seed=1)
    with pytest.warns(RuntimeWarning, match="did not reach"):
        tr.fit(XOR())
    assert not tr.converged_ and tr.n_iter_ == 3 and len(tr.history_.eval_loss) == 1


def test_training_diverging_is_detected():
    tr = DaleRNNTrainer(20, activation="relu", gain=50.0, batch_size=2, max_iter=5, seed=0)
    with pytest.raises(TrainingDiverged, match="iteration|step"):
        with np.errstate(over="ignore", invalid="ignore"):
            tr.fit(GoNoGo())


def test_diverged_training_is_kept_and_refused_unless_allowed(tmp_path):
    tr = DaleRNNTrainer(10, batch_size=2, max_iter=5, divergence_factor=1e-3, seed=0)
    with pytest.raises(TrainingDiverged, match="iteration 1: batch loss") as info:
        tr.fit(GoNoGo())
    err = info.value
    assert err.step == 1 and err.counter == "iteration" and err.error > 1e-3 and tr.diverged_ is err
    assert tr.n_iter_ == 1 and tr.history_.train_loss == [] and isinstance(tr.params_, DaleRNNParams)
    trials = GoNoGo().sample(2, np.random.default_rng(0))
    for call in (lambda: tr.predict(trials.inputs), lambda: tr.score(GoNoGo(), n_trials=2),
                 lambda: tr.save(tmp_path / "x.npz")):
        with pytest.raises(RuntimeError, match=r"diverged at iteration 1: not running or saving .*allow_diverged=True"):
            call()
    assert tr.predict(trials.inputs, allow_diverged=True).shape == trials.targets.shape[:2]
    saved = DaleRNNParams.load(tr.save(tmp_path / "x.npz", allow_diverged=True))
    np.testing.assert_array_equal(saved.w_rec, tr.params_.w_rec)
    with pytest.raises(RuntimeError, match="fit"):
        DaleRNNTrainer(10).predict(trials.inputs)


def test_zero_targets_are_not_divergence():
    """The silent network's loss is 0 on zero targets: the divergence scale is then 1."""
    class ZeroTask:
        n_inputs, dt = 1, 0.005

        def sample(self, n, rng):
            return Trials(rng.standard_normal((n, 40, 1)), np.zeros((n, 40, 1)), self.dt, labels=np.zeros(n))

        def accuracy(self, outputs, labels):
            return 0.0

    tr = DaleRNNTrainer(10, batch_size=2, max_iter=3, eval_every=3, n_eval=2, seed=0)
    with pytest.warns(RuntimeWarning, match="did not reach"):
        tr.fit(ZeroTask())
    assert tr.diverged_ is None and len(tr.history_.train_loss) == 3


def test_bad_inputs_raise_clear_errors():
    p = init_dale_rnn(8, 1, 0)
    u = np.zeros((2, 10, 1))
    z = np.zeros((2, 10))
    z[0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        loss_and_gradients(p, u, z)
    with pytest.raises(ValueError, match="inputs must be"):
        simulate_rate(p, np.zeros((2, 10, 3)))
    with pytest.raises(ValueError, match="tau_min"):
        init_dale_rnn(8, 1, 0, tau_min=-0.02)
    with pytest.raises(TypeError, match="tau_max"):
        init_dale_rnn(8, 1, 0, tau_max="50 ms")
    with pytest.raises(ValueError, match="activation"):
        init_dale_rnn(8, 1, 0, activation="tanh")
    with pytest.raises(ValueError, match="batch_size"):
        DaleRNNTrainer(8, batch_size=0).fit(GoNoGo())
    with pytest.raises(ValueError, match="differs"):
        DaleRNNTrainer(8, dt=0.001).fit(GoNoGo())


def test_rate_model_save_load_roundtrip(tmp_path):
    p = init_dale_rnn(12, 4, 2, activation="softplus")
    p.b_out = -0.25
    path = p.save(tmp_path / "rate.npz", {"note": "test"})
    q = DaleRNNParams.load(path)
    for k in ("w_rec", "mask", "sign", "w_in", "w_out", "tau_raw"):
        np.testing.assert_array_equal(getattr(q, k), getattr(p, k))
    assert (q.b_out, q.activation, q.tau_max, q.rectifier) == (-0.25, "softplus", 0.050, "abs")
    u = np.random.default_rng(0).standard_normal((1, 15, 4))
    np.testing.assert_array_equal(simulate_rate(q, u).outputs, simulate_rate(p, u).outputs)
    with pytest.raises(ModelFileError):
        DaleRNNParams.load(tmp_path / "missing.npz")
    relu = init_dale_rnn(12, 4, 2, rectifier="relu")
    relu.w_rec[relu.mask > 0] -= 0.1                        # some weights cut
    back = DaleRNNParams.load(relu.save(tmp_path / "relu.npz"))
    assert back.rectifier == "relu"
    np.testing.assert_array_equal(back.W, relu.W)
    relu.rectifier = "clip"                                 # a writer that did not check it
    with pytest.raises(ModelFileError, match="rectifier 'clip'"):
        DaleRNNParams.load(relu.save(tmp_path / "clip.npz"))


# ---------------------------------------------------------------- tasks

@pytest.mark.parametrize("task", [GoNoGo(), XOR(), ContextIntegration()])
def test_task_targets_score_perfectly_and_wrong_answers_fail(task):
    rng = np.random.default_rng(0)
    b = task.sample(200, rng)
    assert isinstance(b, Trials) and b.name == task.name and b.dt == task.dt
    assert b.inputs.shape == (200, task.n_steps, task.n_inputs)
    assert b.targets.shape == (200, task.n_steps, 1)
    assert b.response == (task.response_start, task.n_steps)
    assert task.accuracy(b.targets, b.labels) == 1.0                   # (B, T, 1) accepted
    z = b.targets[..., 0]
    assert task.accuracy(z, b.labels) == 1.0
    if task.name == "go_nogo":
        wrong = np.where(b.labels[:, None] == 1, 0.0, 1.0) * np.ones_like(z)
    else:
        wrong = -z
    assert task.accuracy(wrong, b.labels) == 0.0
    # the same answer sampled at 1 ms (LIF readout) scores the same
    fine = np.repeat(z, 5, axis=1)
    assert task.accuracy(fine, b.labels, dt=0.001) == 1.0
    assert 0.4 < np.mean(b.labels == b.labels.max()) < 0.6            # balanced conditions


def test_task_timing_matches_paper():
    g = GoNoGo().sample(50, np.random.default_rng(1))
    go = g.labels == 1
    assert np.all(g.inputs[go, 50:75, 0] == 1) and g.inputs[go].sum() == 25 * go.sum()
    assert np.all(g.inputs[~go] == 0) and np.all(g.targets[go, 75:, 0] == 1) and np.all(g.targets[go, :75] == 0)
    x = XOR().sample(50, np.random.default_rng(2))
    assert np.all(np.abs(x.inputs[:, 50:100, 0]) == 1) and np.all(x.inputs[:, 100:, 0] == 0)
    assert np.all(np.abs(x.inputs[:, 110:160, 1]) == 1)
    np.testing.assert_array_equal(x.labels, x.inputs[:, 50, 0] * x.inputs[:, 110, 1])
    assert np.all(x.targets[:, 170:270, 0] == x.labels[:, None]) and np.all(x.targets[:, 270:] == 0)
    c = ContextIntegration().sample(400, np.random.default_rng(3))
    attend0 = c.inputs[:, 0, 2] == 1
    assert np.all(c.inputs[:, :, 2] + c.inputs[:, :, 3] == 1)
    means = c.inputs[:, 50:250, :2].mean(axis=1)
    # labels are the sign of the attended stream's generating mean (±0.5): the realised
    # mean over 200 samples (std 1/sqrt(200) = 0.07) almost always agrees with it
    agree = np.sign(np.where(attend0, means[:, 0], means[:, 1])) == c.labels
    assert agree.mean() > 0.98
    assert np.all(c.inputs[:, 250:, :2] == 0) and np.all(c.targets[:, 250:, 0] == c.labels[:, None])


def test_task_errors():
    with pytest.raises(ValueError, match="unknown task"):
        make_task("dms")
    with pytest.raises(ValueError, match="n_trials"):
        GoNoGo().sample(0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="NaN"):
        GoNoGo().accuracy(np.full((2, 200), np.nan), [0, 1])
    with pytest.raises(ValueError, match="n_trials"):
        GoNoGo().accuracy(np.zeros((3, 200)), [0, 1])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["go_nogo", "xor", "context"])
def test_rate_network_reaches_95_percent(name):
    """Acceptance: N = 200 rate networks reach > 95 % on fresh noisy trials (minutes)."""
    from brianforce.methods.transfer import read_recipe, recipe_settings
    from pathlib import Path

    task, kw, _, _ = recipe_settings(read_recipe(Path(__file__).parents[1] / "models" / f"kim2019_{name}.toml"))
    tr = DaleRNNTrainer(seed=0, **kw).fit(task)
    assert tr.converged_
    assert tr.score(task, n_trials=200, seed=11) >= 0.95
