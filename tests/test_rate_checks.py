"""Checks of the rate networks' inputs and fitted state: the Dale rate RNN (Kim et al. 2019), its
transfer to LIF, the DePasquale teacher and the tanh FORCE network."""
import os

# small matrices: BLAS threads only add contention (effective when numpy is not yet imported)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from brianforce.errors import TrainingDiverged
from brianforce.io import ModelFileError
from brianforce.rate.backprop import (DaleRNNParams, DaleRNNTrainer, init_dale_rnn, loss_and_gradients,
                                      simulate_rate)
from brianforce.rate.networks import TanhForceNetwork
from brianforce.rate.teacher import RateTeacher
from brianforce.tasks.kim2019 import GoNoGo

MODELS = Path(__file__).resolve().parents[1] / "models"


def _small_task():
    return GoNoGo(n_steps=30, stim_on=5, stim_dur=5, response_start=10)


def _diverged_trainer():
    """A trainer stopped at iteration 1 by a divergence threshold below any loss."""
    tr = DaleRNNTrainer(10, batch_size=2, max_iter=5, divergence_factor=1e-3, seed=0)
    with pytest.raises(TrainingDiverged, match="iteration 1"):
        tr.fit(_small_task())
    return tr


class _AlwaysRight(GoNoGo):
    def accuracy(self, outputs, labels, dt=None):
        return 1.0


class _NaNTargets(GoNoGo):
    def sample(self, n, rng):
        trials = super().sample(n, rng)
        trials.targets[:] = np.nan
        return trials


# ------------------------------------------------------------- transfer of a rate network to LIF
@pytest.mark.parametrize("name, spoil", [
    ("w_out", lambda p: p.w_out.__setitem__(2, np.nan)),
    ("W", lambda p: p.w_rec.__setitem__(tuple(np.argwhere(p.mask > 0)[0]), np.inf)),
    ("w_in", lambda p: p.w_in.__setitem__((0, 0), np.nan)),
    ("tau", lambda p: p.tau_raw.__setitem__(3, np.nan)),
    ("b_out", lambda p: setattr(p, "b_out", float("inf"))),
])
def test_from_rate_refuses_non_finite_weights(name, spoil):
    from brianforce.methods.transfer import TransferredLIF

    p = init_dale_rnn(6, 1, seed=0)
    spoil(p)                                         # after construction: no check of the record sees it
    with pytest.raises(ValueError, match=rf"{name}\b.*NaN or Inf"):
        TransferredLIF.from_rate(p, 30.0)


def test_params_of_a_diverged_fit_are_marked_and_not_transferred_unless_allowed(tmp_path):
    from brianforce.methods.transfer import LIFTransfer, TransferredLIF

    tr = _diverged_trainer()
    assert tr.params_.diverged is True and tr.initial_params_.diverged is False
    with pytest.raises(RuntimeError, match=r"diverged.*allow_diverged=True"):
        TransferredLIF.from_rate(tr.params_, 30.0)
    with pytest.raises(RuntimeError, match=r"diverged.*allow_diverged=True"):
        LIFTransfer((20, 40), n_validation=1).fit(tr.params_, _small_task())
    m = TransferredLIF.from_rate(tr.params_, 30.0, allow_diverged=True)
    np.testing.assert_array_equal(m.W_rate, tr.params_.W)
    # the marker is saved with the parameters; a file without it reads as not diverged
    back = DaleRNNParams.load(tr.save(tmp_path / "diverged.npz", allow_diverged=True))
    assert back.diverged is True and back.copy().diverged is True
    with pytest.raises(RuntimeError, match="allow_diverged=True"):
        TransferredLIF.from_rate(back, 30.0)
    healthy = DaleRNNParams.load(init_dale_rnn(6, 1, seed=0).save(tmp_path / "healthy.npz"))
    assert healthy.diverged is False
    TransferredLIF.from_rate(healthy, 30.0)


# ------------------------------------------------------------- a failed fit leaves nothing usable
def test_failed_refit_of_the_dale_trainer_leaves_it_unfitted(tmp_path):
    task = _small_task()
    tr = _diverged_trainer()
    with pytest.raises(ValueError, match="NaN"):
        tr.fit(_NaNTargets(n_steps=30, stim_on=5, stim_dur=5, response_start=10))
    assert getattr(tr, "diverged_", None) is None
    with pytest.raises(RuntimeError, match=r"call fit\(\) first"):
        tr.predict(task.sample(1, np.random.default_rng(0)).inputs)
    with pytest.raises(RuntimeError, match=r"call fit\(\) first"):
        tr.save(tmp_path / "unused.npz")
    # a fit that succeeded, then one that failed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tr = DaleRNNTrainer(8, batch_size=2, max_iter=2, eval_every=2, n_eval=2, seed=0).fit(task)
    with pytest.raises(ValueError, match="NaN"):
        tr.fit(_NaNTargets(n_steps=30, stim_on=5, stim_dur=5, response_start=10))
    for name in ("params_", "history_", "n_iter_", "accuracy_", "converged_"):
        assert not hasattr(tr, name), name
    with pytest.raises(RuntimeError, match=r"call fit\(\) first"):
        tr.predict(task.sample(1, np.random.default_rng(0)).inputs)


def test_failed_refit_of_the_teacher_leaves_it_unfitted():
    T = 200
    t = np.arange(T) * 1e-3
    te = RateTeacher(20, method="batch", washout=0.0).fit(np.zeros((1, T, 1)),
                                                          np.sin(2 * np.pi * 5 * t)[None, :, None], 1e-3)
    with pytest.raises(TrainingDiverged):
        with np.errstate(over="ignore", invalid="ignore"):
            te.fit(np.full((1, T, 3), 1e308), np.zeros((1, T, 1)), 2e-3)     # overflowing inputs
    assert te.diverged_ is None
    for name in ("J_", "W_out_", "u_in_", "dt_", "x_rest_"):
        assert not hasattr(te, name), name
    with pytest.raises(RuntimeError, match=r"call fit\(\) before run\(\)"):
        te.run(np.zeros((1, 5, 3)))
    with pytest.raises(RuntimeError, match=r"call fit\(\) before run_driven\(\)"):
        te.run_driven(np.zeros((1, 5, 3)), np.zeros((1, 5, 1)))


# ------------------------------------------------------------- the stopping rule
def test_target_accuracy_of_one_is_refused():
    with pytest.raises(ValueError, match=r"target_accuracy must be < 1.*got 1\.0"):
        DaleRNNTrainer(10, target_accuracy=1.0)
    with pytest.raises(ValueError, match="target_accuracy"):
        DaleRNNTrainer(10, target_accuracy=0.0)
    tr = DaleRNNTrainer(10, target_accuracy=0.99, loss_threshold=1e9, max_iter=3, eval_every=1, batch_size=2,
                        n_eval=4)
    tr.fit(_AlwaysRight(n_steps=30, stim_on=5, stim_dur=5, response_start=10))
    assert tr.converged_ and tr.n_iter_ == 1


def test_min_iter_above_max_iter_is_refused():
    with pytest.raises(ValueError, match=r"min_iter \(100\) must not exceed max_iter \(3\)"):
        DaleRNNTrainer(10, min_iter=100, max_iter=3)
    tr = DaleRNNTrainer(10, min_iter=3, max_iter=3)
    tr.max_iter = 2                                  # changed after construction: fit checks again
    with pytest.raises(ValueError, match="min_iter"):
        tr.fit(_small_task())


@pytest.mark.parametrize("recipe", sorted(MODELS.glob("kim2019_*.toml")), ids=lambda p: p.stem)
def test_shipped_kim2019_recipes_build_their_trainer(recipe):
    from brianforce.methods.transfer import read_recipe, recipe_settings

    _, trainer_kwargs, _, _ = recipe_settings(read_recipe(recipe))
    tr = DaleRNNTrainer(**trainer_kwargs)
    assert tr.target_accuracy < 1 and tr.min_iter <= tr.max_iter


def test_eval_every_is_documented_as_part_of_the_training_noise():
    """Evaluation trials draw their noise from the training stream: eval_every changes the trained network."""
    doc = " ".join(DaleRNNTrainer.__doc__.split())
    assert "eval_every" in doc and "training stream" in doc and "part of a recipe" in doc
    runs = []
    for every in (6, 3):
        tr = DaleRNNTrainer(10, eval_every=every, max_iter=6, batch_size=2, n_eval=4, seed=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            runs.append(tr.fit(_small_task()).history_.train_loss)
    assert runs[0][:3] == runs[1][:3] and runs[0][3:] != runs[1][3:]


# ------------------------------------------------------------- the divergence threshold
def test_divergence_threshold_does_not_depend_on_the_first_trial():
    """With one trial a batch, a NoGo first trial (silent loss 0) set a threshold 30x lower than a Go one."""
    from brianforce.seeding import rng_for

    task = GoNoGo()
    first = [int(task.sample(1, rng_for(seed, "trials")).labels[0]) for seed in range(6)]
    assert 0 in first and 1 in first                 # both kinds of first trial are covered
    for seed in range(6):
        tr = DaleRNNTrainer(20, batch_size=1, max_iter=5, eval_every=5, n_eval=2, divergence_factor=5,
                            seed=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            tr.fit(task)
        assert tr.diverged_ is None and tr.n_iter_ == 5
    doc = " ".join(DaleRNNTrainer.__doc__.split())
    assert "64" in doc and "divergence-reference" in doc


def test_divergence_is_still_detected_against_the_silent_loss():
    tr = DaleRNNTrainer(10, batch_size=2, max_iter=5, divergence_factor=1e-3, seed=0)
    with pytest.raises(TrainingDiverged, match=r"iteration 1: batch loss .* \(largest loss of a silent network\)"):
        tr.fit(GoNoGo())


# ------------------------------------------------------------- the parameter record
def _params():
    return init_dale_rnn(6, 2, seed=0)


@pytest.mark.parametrize("change, error, match", [
    (dict(dt=0.2), ValueError, r"dt \(0\.2 s\) must not exceed"),
    (dict(tau_min=0.05, tau_max=0.02), ValueError, r"tau_max \(0\.02\) must be >= tau_min \(0\.05\)"),
    (dict(tau_min=-0.01), ValueError, "tau_min"),
    (dict(sign=np.array([1.0, -1.0, 0.5, 0.0, 1.0, 1.0])), ValueError, r"sign must be \+1 or -1"),
    (dict(mask=np.full((6, 6), 2.0)), ValueError, r"mask must be 0 or 1"),
    (dict(rectifier="ABS"), ValueError, r"rectifier must be one of \('abs', 'relu'\), got 'ABS'"),
    (dict(activation="tanh"), ValueError, "activation must be one of"),
    (dict(w_out=np.zeros((6, 1))), ValueError, r"w_out must have shape \(6,\), got \(6, 1\)"),
    (dict(w_rec=np.zeros((6, 7))), ValueError, r"w_rec must have shape \(N, N\)"),
    (dict(mask=np.zeros((5, 5))), ValueError, r"mask must have shape \(6, 6\)"),
    (dict(w_in=np.zeros((5, 2))), ValueError, r"w_in must have shape \(6, n_inputs\)"),
    (dict(tau_raw=np.zeros(5)), ValueError, r"tau_raw must have shape \(6,\)"),
    (dict(w_rec=np.full((6, 6), np.nan)), ValueError, r"w_rec contains NaN or Inf"),
    (dict(b_out=float("nan")), ValueError, "b_out must be finite"),
    (dict(noise_std=-0.1), ValueError, "noise_std"),
    (dict(diverged="no"), TypeError, "diverged must be True or False"),
])
def test_dale_params_are_checked_when_built(change, error, match):
    with pytest.raises(error, match=match):
        replace(_params(), **change)


def test_dale_params_checks_accept_valid_records():
    p = _params()
    q = replace(p, dt=float(p.tau.min()), w_out=list(p.w_out))       # dt = the shortest tau; a list of floats
    assert isinstance(q.w_out, np.ndarray) and q.w_out.shape == (6,)
    assert p.copy().diverged is False
    W = np.zeros((2, 2))
    DaleRNNParams(w_rec=W, mask=W, sign=np.ones(2), w_in=np.zeros((2, 1)), w_out=np.zeros(2), b_out=0.1,
                  tau_raw=np.zeros(2), tau_min=0.030, tau_max=0.030)


def test_invalid_params_file_is_refused_on_load(tmp_path):
    p = _params()
    p.dt = 0.2                                       # a writer that did not check it
    path = p.save(tmp_path / "bad.npz")
    with pytest.raises(ModelFileError, match=r"bad\.npz.*dt \(0\.2 s\) must not exceed"):
        DaleRNNParams.load(path)
    q = _params()
    q.sign = np.array([1.0, -1.0, 0.5, 0.0, 1.0, 1.0])
    with pytest.raises(ModelFileError, match=r"sign must be \+1 or -1"):
        DaleRNNParams.load(q.save(tmp_path / "sign.npz"))


# ------------------------------------------------------------- the tanh FORCE network
def test_tanh_force_network_refuses_an_unstable_euler_step():
    with pytest.raises(ValueError, match=r"dt \(0\.03 s\) must not exceed tau \(0\.01 s\)"):
        TanhForceNetwork(50, tau=0.01, dt=0.03, rng=np.random.default_rng(0))
    TanhForceNetwork(50, tau=0.01, dt=0.01, rng=np.random.default_rng(0))


# ------------------------------------------------------------- initial states and noise
def test_non_finite_x0_or_noise_is_refused():
    p = init_dale_rnn(5, 1, seed=0)
    u, z = np.zeros((2, 4, 1)), np.zeros((2, 4))
    x0 = np.zeros((2, 5))
    x0[0, 1] = np.nan
    noise = np.zeros((2, 4, 5))
    noise[1, 2, 3] = np.inf
    with pytest.raises(ValueError, match=r"x0 contains NaN or Inf \(nan at flat index 1\)"):
        loss_and_gradients(p, u, z, x0=x0)
    with pytest.raises(ValueError, match=r"noise contains NaN or Inf \(inf at flat index 33\)"):
        loss_and_gradients(p, u, z, noise=noise)
    with pytest.raises(ValueError, match="x0 contains NaN or Inf"):
        simulate_rate(p, u, x0=x0)
    with pytest.raises(ValueError, match="noise contains NaN or Inf"):
        simulate_rate(p, u, noise=noise)
    assert simulate_rate(p, u, x0=np.zeros(5), noise=np.zeros((2, 4, 5))).outputs.shape == (2, 4)
