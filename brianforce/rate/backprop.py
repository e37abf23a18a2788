"""Dale's-law rate RNN trained by backpropagation through time with Adam (numpy only).

The network (Kim, Li & Sejnowski 2019), integrated with Euler steps of ``dt``::

    τ_i dx_i/dt = −x_i + Σ_j W_ij r_j + Σ_k W^in_ik u_k + noise,   r = f(x)
    o = Σ_i w^out_i r_i + b^out

* ``W = [W̃]₊ ⊙ M · D``: a fixed connection mask ``M`` (probability ``p_connect``) and a
  diagonal sign matrix ``D`` (−1 for the ``p_inh`` inhibitory, +1 for excitatory units),
  so every unit's outgoing weights keep one sign (Dale's law); ``[W̃]₊`` is ``|W̃|``
  (``rectifier="abs"``) or ``max(W̃, 0)`` (``"relu"``, the authors' code, in which a weight
  trained through zero stays at zero).
* ``τ_i = σ(θ_i)(τ_max − τ_min) + τ_min``: per-unit trainable synaptic decay constants
  kept inside ``[τ_min, τ_max]`` by the sigmoid.
* ``f``: sigmoid (default), softplus or ReLU.
* Loss per trial: ``sqrt(Σ_t (o_t − z_t)²)`` (the authors' "L2" loss), averaged over the
  minibatch.

All times are plain floats in **seconds** (``dt=0.005``, ``tau_min=0.020``); ``x``, ``r``
and ``o`` are dimensionless. The parameter record and the random initial network live in
:mod:`brianforce.rate.dale_rnn` (re-exported here). Brian2 is never imported here; see
:mod:`brianforce.methods.transfer` for the spiking network built from a trained model.

References
----------
Kim R, Li Y, Sejnowski TJ (2019) Simple framework for constructing functional spiking
recurrent neural networks. PNAS 116:22811-22820.
Song HF, Yang GR, Wang X-J (2016) Training excitatory-inhibitory recurrent neural
networks for cognitive tasks. PLoS Comput Biol 12:e1004792.
Kingma DP, Ba J (2015) Adam: a method for stochastic optimization. ICLR.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from brianforce.blas import on_one_blas_thread
from brianforce.checks import as_count, as_finite_array, as_flag, as_number
from brianforce.errors import TrainingDiverged, refuse_if_diverged
from brianforce.rate.adam import Adam
from brianforce.rate.dale_rnn import ACTIVATIONS, RECTIFIERS, DaleRNNParams, init_dale_rnn, network_settings, sigmoid
from brianforce.seeding import check_seed, rng_for

__all__ = [
    "ACTIVATIONS", "DaleRNNParams", "RateTrajectory", "BPTTHistory", "TrainingDiverged",
    "init_dale_rnn", "simulate_rate", "loss_and_gradients", "DaleRNNTrainer", "RECTIFIERS",
]

_TRAINABLE = ("w_rec", "w_in", "w_out", "b_out", "tau_raw")
#: What :meth:`DaleRNNTrainer.fit` sets; cleared when it starts.
_FITTED = ("params_", "initial_params_", "history_", "n_iter_", "converged_", "diverged_", "accuracy_", "eval_loss_")
_N_REFERENCE = 64           # trials of the divergence reference (their own stream, "divergence-reference")


def _act(name, x):
    """Rates ``f(x)`` and slopes ``f'(x)``."""
    if name == "sigmoid":
        r = sigmoid(x)
        return r, r * (1.0 - r)
    if name == "softplus":
        return np.logaddexp(0.0, x), sigmoid(x)
    if name == "relu":
        return np.maximum(x, 0.0), (x > 0).astype(x.dtype)
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")


@dataclass
class RateTrajectory:
    """Result of :func:`simulate_rate`.

    Attributes
    ----------
    x : (B, T+1, N) synaptic currents, ``x[:, 0]`` the initial state.
    r : (B, T+1, N) rates ``f(x)``.
    outputs : (B, T) readout at the end of each step.
    """

    x: np.ndarray
    r: np.ndarray
    outputs: np.ndarray


def _check_inputs(params, inputs):
    inputs = np.asarray(inputs, dtype=float)
    if inputs.ndim == 2:
        inputs = inputs[None]
    if inputs.ndim != 3 or inputs.shape[2] != params.n_inputs:
        raise ValueError(f"inputs must be (n_trials, n_steps, {params.n_inputs}), got shape {inputs.shape}")
    if not np.all(np.isfinite(inputs)):
        raise ValueError("inputs contain NaN or Inf")
    return inputs


def _noise_and_x0(params, B, T, rng, x0, noise):
    """Initial states (B, N) and time-major noise (T, B, N): drawn from ``rng``, or the caller's
    ``x0`` and ``noise`` (B, T, N) checked finite."""
    N = params.n_units
    if x0 is None:
        x0 = (rng.standard_normal((B, N)) / 100.0) if rng is not None else np.zeros((B, N))
    else:
        x0 = as_finite_array(x0, "x0")
    x0 = np.broadcast_to(np.asarray(x0, dtype=float), (B, N))
    if noise is None:
        if rng is not None and params.noise_std > 0:
            noise = params.noise_std * rng.standard_normal((T, B, N))
        else:
            noise = np.zeros((T, B, N))
    else:
        noise = as_finite_array(noise, "noise")
        if noise.shape != (B, T, N):
            raise ValueError(f"noise must have shape (n_trials, n_steps, n_units) = {(B, T, N)}, got {noise.shape}")
        noise = np.ascontiguousarray(noise.transpose(1, 0, 2))
    return x0, noise


def _rates_into(name, x, out):
    """``out[...] = f(x)``, the rates of :func:`_act`; the sigmoid in place, as :func:`_sigmoid`."""
    if name != "sigmoid":
        out[...] = _act(name, x)[0]
        return
    np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5


def _forward(params, inputs, x0, noise, W=None):
    """Time-major forward pass into preallocated arrays: X, R, FP (T+1, B, N), PRE (T, B, N), O (B, T)."""
    B, T, _ = inputs.shape
    N = params.n_units
    W = params.W if W is None else W
    alpha = params.dt / params.tau
    X, R = np.empty((T + 1, B, N)), np.empty((T + 1, B, N))
    PRE, step = np.empty((T, B, N)), np.empty((B, N))
    X[0] = x0
    _rates_into(params.activation, X[0], R[0])
    drive = inputs.transpose(1, 0, 2) @ params.w_in.T   # (T, B, N)
    WT = W.T
    for t in range(T):
        pre = PRE[t]
        np.matmul(R[t], WT, out=pre)
        pre += drive[t]
        np.subtract(pre, X[t], out=step)                # x + α (pre − x) + noise
        step *= alpha
        np.add(X[t], step, out=X[t + 1])
        X[t + 1] += noise[t]
        _rates_into(params.activation, X[t + 1], R[t + 1])
    FP = R * (1.0 - R) if params.activation == "sigmoid" else _act(params.activation, X)[1]
    O = (R[1:] @ params.w_out).T + params.b_out        # (B, T)
    return X, R, FP, PRE, O


@on_one_blas_thread
def simulate_rate(params: DaleRNNParams, inputs, *, rng: np.random.Generator | None = None,
                  x0=None, noise=None) -> RateTrajectory:
    """Run the rate network on ``inputs`` (B, T, n_inputs).

    Noise and the initial state ``x0`` (default ``N(0, 0.01²)``) are drawn from ``rng``;
    with ``rng=None`` and no ``noise``/``x0`` the run is noise-free from ``x = 0``. A given
    ``x0`` (broadcast to (B, N)) or ``noise`` (B, T, N) with NaN or Inf raises ``ValueError``.
    """
    inputs = _check_inputs(params, inputs)
    B, T, _ = inputs.shape
    x0, noise = _noise_and_x0(params, B, T, rng, x0, noise)
    X, R, _, _, O = _forward(params, inputs, x0, noise)
    if not np.all(np.isfinite(O)):
        bad = int(np.argmax(~np.all(np.isfinite(O), axis=0)))
        raise TrainingDiverged(None, (bad + 1) * params.dt, None, params.dt,
                               message=f"rate network diverged (NaN/Inf output) at step {bad} "
                                       f"(t = {(bad + 1) * params.dt:.3f} s)")
    return RateTrajectory(X.transpose(1, 0, 2), R.transpose(1, 0, 2), O)


def _single_output(trials) -> np.ndarray:
    """Targets ``(B, T)`` of the network's one output from trials with targets ``(B, T, 1)``."""
    z = np.asarray(trials.targets, dtype=float)
    if z.ndim == 3:
        if z.shape[2] != 1:
            raise ValueError(f"the Dale rate RNN has one output; task targets have {z.shape[2]}")
        z = z[:, :, 0]
    return z


def _silent_losses(trials, what: str) -> np.ndarray:
    """Per trial, the loss ``sqrt(Σ_t z_t²)`` of a silent network (``o = 0``); targets checked finite."""
    return np.sqrt(np.sum(as_finite_array(_single_output(trials), what) ** 2, axis=1))


def loss_and_gradients(params: DaleRNNParams, inputs, targets, *, rng=None, x0=None, noise=None):
    """Loss and exact BPTT gradients.

    The loss is ``mean_b sqrt(Σ_t (o_bt − z_bt)²)``. Gradients are returned for the
    trainable arrays ``w_rec`` (through ``|W̃| ⊙ M · D``), ``w_in``, ``w_out``, ``b_out``
    and ``tau_raw`` (through ``τ = σ(θ)(τ_max − τ_min) + τ_min``), for the given noise.
    ``targets`` is ``(B, T)`` or, as in :class:`~brianforce.tasks.trials.Trials`, ``(B, T, 1)``;
    ``x0`` and ``noise`` as in :func:`simulate_rate` (non-finite ones raise ``ValueError``).

    Returns
    -------
    loss : float
    grads : dict of arrays (same shapes as the parameters)
    outputs : (B, T) array
    """
    inputs = _check_inputs(params, inputs)
    targets = np.asarray(targets, dtype=float)
    B, T, _ = inputs.shape
    if targets.shape == (B, T, 1):
        targets = targets[:, :, 0]
    if targets.shape != (B, T):
        raise ValueError(f"targets must have shape (n_trials, n_steps) = {(B, T)} or {(B, T, 1)}, "
                         f"got {targets.shape}")
    if not np.all(np.isfinite(targets)):
        raise ValueError("targets contain NaN or Inf")
    x0, noise = _noise_and_x0(params, B, T, rng, x0, noise)
    W, tau = params.W, params.tau
    X, R, FP, PRE, O = _forward(params, inputs, x0, noise, W)
    err = O - targets
    per_trial = np.sqrt(np.sum(err ** 2, axis=1))
    loss = float(np.mean(per_trial))
    if not np.isfinite(loss):
        return loss, None, O
    E = err / np.maximum(per_trial, 1e-300)[:, None] / B          # dL/do (B, T)

    alpha = params.dt / tau
    N = params.n_units
    G, DA = np.empty((T, B, N)), np.empty((T, B, N))              # G[t] = dL/dx_{t+1}, DA[t] = α ⊙ G[t]
    EW = E.T[:, :, None] * params.w_out                           # (T, B, N): dL/do_t · w_out
    one_minus_alpha = 1.0 - alpha
    d_next, g_next = np.zeros((B, N)), np.zeros((B, N))           # α ⊙ dL/dx_{t+2}, dL/dx_{t+2}
    back, leak = np.empty((B, N)), np.empty((B, N))
    for t in range(T - 1, -1, -1):                                # g = f'(x) ⊙ (e w_out + d W) + (1 − α) g'
        np.matmul(d_next, W, out=back)
        np.add(EW[t], back, out=back)
        back *= FP[t + 1]
        np.multiply(one_minus_alpha, g_next, out=leak)
        np.add(back, leak, out=G[t])
        np.multiply(alpha, G[t], out=DA[t])
        d_next, g_next = DA[t], G[t]

    D = DA.reshape(T * B, N)
    dW = D.T @ R[:-1].reshape(T * B, N)
    U = inputs.transpose(1, 0, 2).reshape(T * B, -1)
    d_alpha = np.einsum("tbn,tbn->n", G, PRE - X[:-1])
    s = sigmoid(params.tau_raw)
    grads = {
        "w_rec": dW * params.mask * params.sign[None, :] * (np.sign(params.w_rec) if params.rectifier == "abs"
                                                            else (params.w_rec > 0)),
        "w_in": D.T @ U,
        "w_out": R[1:].transpose(1, 0, 2).reshape(B * T, N).T @ E.reshape(B * T),
        "b_out": np.array(E.sum()),
        "tau_raw": d_alpha * (-params.dt / tau ** 2) * s * (1.0 - s) * (params.tau_max - params.tau_min),
    }
    return loss, grads, O


@dataclass
class BPTTHistory:
    """Learning curve of :class:`DaleRNNTrainer`: ``train_loss`` per iteration; ``eval_iteration``,
    ``eval_loss``, ``eval_accuracy`` at every evaluation (fresh trials)."""
    train_loss: list = field(default_factory=list)
    eval_iteration: list = field(default_factory=list)
    eval_loss: list = field(default_factory=list)
    eval_accuracy: list = field(default_factory=list)

    def to_frame(self):
        """Per iteration (from 1): ``train_loss``; ``eval_loss``, ``eval_accuracy`` where evaluated, else NaN."""
        import pandas as pd
        at = np.asarray(self.eval_iteration, dtype=np.int64) - 1
        ev = {k: np.full(len(self.train_loss), np.nan) for k in ("eval_loss", "eval_accuracy")}
        ev["eval_loss"][at], ev["eval_accuracy"][at] = self.eval_loss, self.eval_accuracy
        return pd.DataFrame({"iteration": np.arange(len(self.train_loss)) + 1, "train_loss": self.train_loss, **ev})


class DaleRNNTrainer:
    """Train a Dale's-law rate RNN on a task by BPTT + Adam.

    Parameters
    ----------
    n_units : int
        Network size N (paper: 200-250).
    p_inh, p_connect, gain : float
        Inhibitory fraction (0.2), connection probability (0.2), initial gain (1.5).
    tau_min, tau_max, dt : float
        Bounds of the trainable decay constants and Euler step, **seconds**
        (0.020, 0.050, 0.005). The recipes (``models/kim2019_*.toml``)
        use ``tau_max = 0.100``, the default of the authors' code (``decay_taus 4 20``
        steps of 5 ms): with 0.050 our XOR networks stayed at the loss of a silent output,
        and wider decay constants made Go/NoGo transfers to LIF more reliable.
    activation : str
        ``"sigmoid"`` (default), ``"softplus"`` or ``"relu"``.
    noise_std : float
        Std of the noise added to ``x`` each step (0.1, as in the authors' code).
    rectifier : str
        ``"abs"`` (default, ``|W̃|``) or ``"relu"`` (``max(W̃, 0)``, as the authors' code).
    learning_rate, batch_size : float, int
        Adam step size (0.01) and trials per update (the paper uses 1: one trial per
        step; minibatches converge in fewer steps but gave spiking transfers that were
        less reliable in our Go/NoGo benchmark).
    max_iter, min_iter : int
        Update budget; no stopping before ``min_iter`` (at most ``max_iter``).
    loss_threshold, target_accuracy : float
        Stopping criteria: mean loss < ``loss_threshold`` and accuracy strictly above
        ``target_accuracy``, which is therefore in (0, 1) (paper: mean loss < 7 and accuracy
        > 95 % on ``n_eval`` fresh trials, checked every ``eval_every`` updates).
    eval_every, n_eval : int
        Updates between two evaluations, and trials per evaluation. The evaluation draws its
        trials' noise and initial states from the training stream, so that the training trials
        after it see other noise: ``eval_every`` and ``n_eval`` change the trained network and
        are part of a recipe's settings.
    train_input_weights : bool
        Whether ``W^in`` is trained (paper: no).
    divergence_factor : float
        Raise :class:`~brianforce.errors.TrainingDiverged` (with the iteration and the loss) if a
        batch loss is NaN/Inf or exceeds this multiple of a reference loss: the largest loss of a
        silent network (``o = 0``: ``sqrt(Σ_t z_t²)``, at least 1, so all-zero targets count 1)
        over the first batch's trials and 64 trials drawn from the task with a stream of their own
        (``"divergence-reference"``, which leaves the training draws untouched). So the threshold
        does not hang on which trial comes first (a NoGo trial alone has the silent loss 0).
        The trainer keeps what it reached (``params_``, marked ``diverged``; ``history_``,
        ``diverged_``), and :meth:`predict`, :meth:`score` and :meth:`save` then refuse unless
        ``allow_diverged=True``.
    seed : int
        Fixes initial weights, trials and noise (BLAS runs on one thread: :mod:`brianforce.blas`).

    Attributes
    ----------
    params_ : DaleRNNParams
        Trained network.
    history_ : BPTTHistory
    converged_ : bool
        Whether the stopping criteria were met within ``max_iter``.
    n_iter_ : int
    accuracy_, eval_loss_ : float
        Last evaluation.
    diverged_ : TrainingDiverged or None
        The divergence that stopped :meth:`fit`, else None. A :meth:`fit` that raises for any
        other reason leaves the trainer unfitted.

    References
    ----------
    Kim R, Li Y, Sejnowski TJ (2019) PNAS 116:22811-22820.
    """

    def __init__(self, n_units: int = 200, *, p_inh: float = 0.2, p_connect: float = 0.2,
                 gain: float = 1.5, tau_min: float = 0.020, tau_max: float = 0.050,
                 dt: float = 0.005, activation: str = "sigmoid", noise_std: float = 0.1, rectifier: str = "abs",
                 learning_rate: float = 0.01, batch_size: int = 16, max_iter: int = 2000,
                 min_iter: int = 0, loss_threshold: float = 7.0, target_accuracy: float = 0.95,
                 eval_every: int = 25, n_eval: int = 100, train_input_weights: bool = False,
                 divergence_factor: float = 1e3, seed: int = 0, verbose: bool = False):
        self.n_units = n_units
        self.p_inh, self.p_connect, self.gain = p_inh, p_connect, gain
        self.tau_min, self.tau_max, self.dt = tau_min, tau_max, dt
        self.activation, self.noise_std, self.rectifier = activation, noise_std, rectifier
        self.learning_rate, self.batch_size = learning_rate, batch_size
        self.max_iter, self.min_iter = max_iter, min_iter
        self.loss_threshold, self.target_accuracy = loss_threshold, target_accuracy
        self.eval_every, self.n_eval = eval_every, n_eval
        self.train_input_weights = train_input_weights
        self.divergence_factor = divergence_factor
        self.seed, self.verbose = seed, verbose
        self._check()

    def _check(self):
        """Every setting checked (in the constructor and again by :meth:`fit`); errors name it."""
        network_settings(self.n_units, self.p_inh, self.p_connect, self.gain, self.tau_min, self.tau_max,
                         self.dt, self.activation, self.noise_std, self.rectifier)
        for name in ("batch_size", "max_iter", "eval_every", "n_eval"):
            as_count(getattr(self, name), name, minimum=1)
        if as_count(self.min_iter, "min_iter") > self.max_iter:
            raise ValueError(f"min_iter ({self.min_iter}) must not exceed max_iter ({self.max_iter})")
        for name in ("learning_rate", "loss_threshold", "divergence_factor"):
            as_number(getattr(self, name), name, low=0.0, low_open=True)
        if as_number(self.target_accuracy, "target_accuracy", low=0.0, high=1.0, low_open=True) == 1.0:
            raise ValueError(f"target_accuracy must be < 1 (training stops once the accuracy exceeds it), "
                             f"got {self.target_accuracy!r}")
        as_flag(self.train_input_weights, "train_input_weights")
        as_flag(self.verbose, "verbose")
        check_seed(self.seed)

    @on_one_blas_thread
    def fit(self, task) -> "DaleRNNTrainer":
        """Train on ``task`` (an object with ``sample`` → :class:`~brianforce.tasks.trials.Trials`
        with one target column, ``accuracy``, ``n_inputs``, ``dt``). A call that raises leaves the
        trainer unfitted, except for :class:`TrainingDiverged`, after which it keeps what it reached."""
        for name in _FITTED:
            self.__dict__.pop(name, None)
        self._check()
        if abs(float(task.dt) - float(self.dt)) > 1e-12:
            raise ValueError(f"task step ({task.dt} s) differs from the network step dt ({self.dt} s)")
        params = init_dale_rnn(self.n_units, task.n_inputs, self.seed, p_inh=self.p_inh,
                               p_connect=self.p_connect, gain=self.gain, tau_min=self.tau_min,
                               tau_max=self.tau_max, dt=self.dt, activation=self.activation,
                               noise_std=self.noise_std, rectifier=self.rectifier)
        initial = params.copy()
        reference = task.sample(_N_REFERENCE, rng_for(self.seed, "divergence-reference"))
        reference = float(np.max(_silent_losses(reference, "targets of the divergence-reference trials")))
        trainable = [k for k in _TRAINABLE if k != "w_in" or self.train_input_weights]
        opt = Adam(self.learning_rate)
        rng_trials = rng_for(self.seed, "trials")
        rng_noise = rng_for(self.seed, "rate-noise")
        rng_eval = rng_for(self.seed, "evaluation")
        hist = BPTTHistory()
        converged = False
        for it in range(1, self.max_iter + 1):
            batch = task.sample(self.batch_size, rng_trials)
            z = _single_output(batch)
            loss, grads, _ = loss_and_gradients(params, batch.inputs, z, rng=rng_noise)
            if it == 1:
                ref = max(reference, float(np.max(_silent_losses(batch, "targets"))), 1.0)
            if not np.isfinite(loss) or loss > self.divergence_factor * ref:
                self._stop(params, initial, hist, it, TrainingDiverged(
                    it, None, loss, counter="iteration",
                    message=f"training diverged at iteration {it}: batch loss {loss!r} exceeds "
                            f"{self.divergence_factor:g} x {ref:.3g} (largest loss of a silent network)"))
            hist.train_loss.append(loss)
            steps = opt.step({k: grads[k] for k in trainable})
            for k, d in steps.items():
                if k == "b_out":
                    params.b_out = float(params.b_out + d)
                else:
                    getattr(params, k)[...] += d
            if it % self.eval_every == 0 or it == self.max_iter:
                ev = task.sample(self.n_eval, rng_eval)
                try:
                    traj = simulate_rate(params, ev.inputs, rng=rng_noise)     # the training noise stream
                except TrainingDiverged as exc:
                    self._stop(params, initial, hist, it, TrainingDiverged(
                        it, None, None, counter="iteration", message=f"training diverged at iteration {it}: {exc}"))
                ev_loss = float(np.mean(np.sqrt(np.sum((traj.outputs - _single_output(ev)) ** 2, axis=1))))
                acc = task.accuracy(traj.outputs, ev.labels)
                hist.eval_iteration.append(it)
                hist.eval_loss.append(ev_loss)
                hist.eval_accuracy.append(acc)
                if self.verbose:
                    print(f"iter {it:5d}  loss {ev_loss:7.3f}  accuracy {acc:.2f}")
                if it >= self.min_iter and ev_loss < self.loss_threshold and acc > self.target_accuracy:
                    converged = True
                    break
        self.params_, self.initial_params_, self.history_, self.n_iter_ = params, initial, hist, it
        self.converged_, self.diverged_ = converged, None
        self.accuracy_ = hist.eval_accuracy[-1]
        self.eval_loss_ = hist.eval_loss[-1]
        if not self.converged_:
            warnings.warn(f"rate RNN did not reach the stopping criteria in {self.max_iter} iterations "
                          f"(last accuracy {self.accuracy_:.2f}, loss {self.eval_loss_:.2f})", RuntimeWarning)
        return self

    def _stop(self, params, initial, hist, it, exc: TrainingDiverged):
        """Keep what a diverged training reached (for ``allow_diverged=True``), its parameters marked
        ``diverged``, and raise ``exc``."""
        params.diverged = True
        self.params_, self.initial_params_, self.history_, self.n_iter_ = params, initial, hist, it
        self.converged_, self.diverged_ = False, exc
        self.accuracy_ = hist.eval_accuracy[-1] if hist.eval_accuracy else float("nan")
        self.eval_loss_ = hist.eval_loss[-1] if hist.eval_loss else float("nan")
        raise exc

    def _check_usable(self, allow_diverged) -> None:
        if not hasattr(self, "params_"):
            raise RuntimeError("call fit() first")
        refuse_if_diverged(getattr(self, "diverged_", None), allow_diverged, "the network",
                           "train again with a smaller learning_rate")

    @on_one_blas_thread
    def predict(self, inputs, *, seed: int | None = None, allow_diverged: bool = False) -> np.ndarray:
        """Outputs (B, T) of the trained network; noisy when ``seed`` is given. Refused after
        :class:`TrainingDiverged` unless ``allow_diverged=True``."""
        self._check_usable(allow_diverged)
        rng = None if seed is None else rng_for(seed, "rate-predict")
        return simulate_rate(self.params_, inputs, rng=rng).outputs

    def score(self, task, n_trials: int = 100, seed: int = 1, *, allow_diverged: bool = False) -> float:
        """Accuracy on ``n_trials`` fresh, noisy trials (refused after divergence, as :meth:`predict`)."""
        batch = task.sample(n_trials, rng_for(seed, "rate-score-trials"))
        return task.accuracy(self.predict(batch.inputs, seed=seed, allow_diverged=allow_diverged), batch.labels)

    def save(self, path, metadata: dict | None = None, *, allow_diverged: bool = False):
        """Save ``params_`` (:meth:`DaleRNNParams.save`); refused after :class:`TrainingDiverged`
        unless ``allow_diverged=True``."""
        self._check_usable(allow_diverged)
        return self.params_.save(path, metadata)
