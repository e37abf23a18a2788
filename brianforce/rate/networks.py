"""Rate networks in numpy: a tanh FORCE network and the LIF-matched instantaneous rate network.

All quantities are SI floats (seconds, volts, hertz). No Brian2 import.

References
----------
Sussillo D, Abbott LF (2009) Generating coherent patterns of activity from chaotic
neural networks. Neuron 63:544-557.
Newton TR, Nicola W (2025) Spiking and rate networks trained with FORCE: a parameter-
matched comparison. PLoS Comput Biol 21:e1013224.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from brianforce.blas import on_one_blas_thread
from brianforce.checks import as_count, as_flag, as_number
from brianforce.networks.connectivity import SparseWeights
from brianforce.errors import TrainingDiverged, refuse_if_diverged
from brianforce.neurons import LIFParams, lif_rate
from brianforce.learning.rls import RLS
from brianforce.learning.targets import divergence_scale

__all__ = ["RateResult", "TanhForceNetwork", "LIFRateNetwork"]


@dataclass
class RateResult:
    """Recorded output of a rate network phase (times in s)."""

    t: np.ndarray
    z: np.ndarray
    target: np.ndarray
    activity: np.ndarray | None = None
    errors: np.ndarray | None = None

    def to_frame(self):
        """One row per recorded sample: ``t`` (s), ``z_k`` and ``target_k`` per output (as
        :meth:`brianforce.learning.results.SimulationResult.to_frame`)."""
        import pandas as pd

        z = np.asarray(self.z).reshape(len(self.t), -1)
        y = np.asarray(self.target).reshape(len(self.t), -1)
        cols = {f"z_{k}": z[:, k] for k in range(z.shape[1])}
        cols.update({f"target_{k}": y[:, k] for k in range(y.shape[1])})
        return pd.DataFrame({"t": np.asarray(self.t), **cols})


def _rate_result(task, ts, zs, acts, errs, record_activity: int, n_outputs: int) -> RateResult:
    """A :class:`RateResult` of the samples recorded by ``_OnlineRateNet._run`` (possibly none)."""
    t = np.array(ts)
    z = np.array(zs).reshape(len(t), -1) if len(t) else np.zeros((0, n_outputs))
    return RateResult(t, z, task(t) if len(t) else np.zeros((0, 1)),
                      np.array(acts) if record_activity else None,
                      np.array(errs) if errs else None)


def _check_divergence(err, limit, step, t, dt):
    if not (np.all(np.isfinite(err)) and np.max(np.abs(err)) <= limit):
        raise TrainingDiverged(step, t, err, dt)


class _OnlineRateNet:
    """Shared settle / train / predict loop; subclasses define ``_step`` and ``_regressor``.

    Training stops with :class:`TrainingDiverged` (RLS update, time, error) when an error is not finite
    or exceeds ``divergence_factor`` target amplitudes (constant targets: their largest ``|y|``, zero
    targets: 1; :func:`~brianforce.learning.targets.divergence_scale`); it is kept in ``diverged_`` and
    :meth:`predict` then refuses unless ``allow_diverged=True``.
    """

    dt: float
    rls_every: int
    record_every: int = 1
    divergence_factor: float = 100.0
    diverged_: TrainingDiverged | None = None

    def _run(self, task, duration: float, train: bool, record_activity: int = 0) -> RateResult:
        n_steps = int(round(duration / self.dt))
        ts, zs, acts, errs = [], [], [], []
        limit = self.divergence_factor * divergence_scale(task, self.t_, self.t_ + duration) if train else np.inf
        try:
            for n in range(n_steps):
                self._step()
                self.t_ += self.dt
                x = self._regressor()
                if train and n % self.rls_every == 0:
                    err = x @ self.rls_.W - task(np.array([self.t_]))[0]
                    _check_divergence(err, limit, self.rls_.n_updates, self.t_, self.dt)
                    self.rls_.update(x, err)
                    errs.append(err)
                if n % self.record_every == 0:
                    ts.append(self.t_)
                    zs.append(x @ self.rls_.W)
                    if record_activity:
                        acts.append(x[:record_activity].copy())
        except TrainingDiverged:
            # what the diverged training reached: the samples and errors before the update that diverged
            self.train_result_ = _rate_result(task, ts, zs, acts, errs, record_activity, self.rls_.W.shape[1])
            raise
        return _rate_result(task, ts, zs, acts, errs, record_activity, self.rls_.W.shape[1])

    @on_one_blas_thread
    def fit(self, task, settle: float = 0.5, train: float = 4.5):
        """Settle without learning, then train the readout online by RLS.

        A second call continues from where the network is: training goes on from the current
        readout weights, RLS matrix ``P``, network state and time ``t_`` (nothing is reset).

        Parameters
        ----------
        task : Task
            The target, a function of time (s).
        settle : float
            Time (s) run without learning first, >= 0.
        train : float
            Time (s) of online RLS training, > 0.

        Returns
        -------
        self

        Raises
        ------
        TrainingDiverged
            An error is not finite or exceeds ``divergence_factor`` target amplitudes. It is kept in
            ``diverged_``, and ``train_result_`` holds what this training reached before the update
            that diverged (not the result of an earlier fit).
        """
        if as_number(settle, "settle") < 0 or as_number(train, "train") <= 0:
            raise ValueError(f"settle must be >= 0 and train > 0 (seconds), got {settle!r}, {train!r}")
        self.task_, self.diverged_ = task, None
        if settle:
            self._run(task, settle, False)
        try:
            self.train_result_ = self._run(task, train, True)
        except TrainingDiverged as exc:
            self.diverged_ = exc
            raise
        return self

    @on_one_blas_thread
    def predict(self, duration: float = 2.0, record_activity: int = 0, *, allow_diverged: bool = False) -> RateResult:
        """Free-running continuation (no learning); refused after :class:`TrainingDiverged` unless
        ``allow_diverged=True``.

        Parameters
        ----------
        duration : float
            Time (s) to run, > 0.
        record_activity : int
            Number of units (the first ones) whose activity is recorded, >= 0; 0 records none.
        allow_diverged : bool
            Run a network whose training diverged.

        Returns
        -------
        RateResult
        """
        record_activity = as_count(record_activity, "record_activity")
        duration = as_number(duration, "duration", low=0.0, low_open=True)
        if not hasattr(self, "task_"):
            raise RuntimeError("call fit() first")
        refuse_if_diverged(self.diverged_, allow_diverged, "the readout",
                           "train a new network with a larger reg or a longer rls_every")
        return self._run(self.task_, duration, False, record_activity)


class TanhForceNetwork(_OnlineRateNet):
    """Chaotic tanh network with output feedback, FORCE-trained (Sussillo & Abbott 2009).

    ``τ dx/dt = −x + g J tanh(x) + w_f z``, ``z = wᵀ tanh(x)``; RLS on ``w`` every
    ``rls_every`` steps with ``P(0) = I/reg``.

    Parameters
    ----------
    n : int
    g : float
        Recurrent gain (chaotic for g > 1).
    p : float
        Connection probability of J (entries N(0, 1/(pN))).
    tau, dt : float (s)
        Unit time constant and Euler step, ``dt <= tau``.
    reg : float
        RLS regularisation (Sussillo & Abbott: α = 1 ⇒ reg = 1).
    n_outputs : int
    rng : numpy Generator
    """

    def __init__(self, n: int = 1000, *, g: float = 1.5, p: float = 0.1, tau: float = 10e-3, dt: float = 1e-3,
                 reg: float = 1.0, rls_every: int = 2, n_outputs: int = 1, rng=None, record_every: int = 1):
        n, n_outputs = as_count(n, "n", minimum=1), as_count(n_outputs, "n_outputs", minimum=1)
        g, p = as_number(g, "g"), as_number(p, "p", low=0.0, high=1.0, low_open=True)
        tau, dt = (as_number(v, k, low=0.0, low_open=True) for k, v in (("tau", tau), ("dt", dt)))
        if dt > tau:
            raise ValueError(f"dt ({dt} s) must not exceed tau ({tau} s) (Euler step would be unstable)")
        rls_every = as_count(rls_every, "rls_every", minimum=1)
        record_every = as_count(record_every, "record_every", minimum=1)
        rng = np.random.default_rng(0) if rng is None else rng
        self.n, self.g, self.tau, self.dt = n, g, tau, dt
        mask = rng.random((n, n)) < p
        self.J = g * rng.standard_normal((n, n)) * mask / np.sqrt(p * n)
        self.w_feedback = 2 * rng.random((n, n_outputs)) - 1
        self.x = 0.5 * rng.standard_normal(n)
        self.rls_ = RLS(n, n_outputs, reg=reg)
        self.rls_every, self.record_every = rls_every, record_every
        self.t_ = 0.0

    def _regressor(self):
        return np.tanh(self.x)

    def _step(self):
        r = np.tanh(self.x)
        z = r @ self.rls_.W
        self.x += self.dt / self.tau * (-self.x + self.J @ r + self.w_feedback @ z)


class LIFRateNetwork(_OnlineRateNet):
    """Instantaneous rate network parameter-matched to the FORCE LIF network.

    Each unit fires at the LIF f–I rate of its total input,
    ``f_i = f(bias + Σ_j ω_ij s_j + Σ_k η_ik z_k)`` (refractory period included), and
    ``s`` is ``f`` passed through the same double-exponential synaptic filter as the
    spikes of the LIF network; ``z = φᵀ s`` is trained by the same RLS.

    Parameters
    ----------
    weights : SparseWeights
        The LIF network's static weights ω (V·s).
    eta : ndarray (N, K)
        Feedback encoders (V).
    lif : LIFParams
    dt : float (s)
    reg : float
        RLS regularisation (``1/alpha``).
    rls_every : int
    normalised : bool
    initial_rates : ndarray (N,), optional
        Initial filtered rates ``s`` (Hz).
    bias : float or ndarray (N,), optional
        Per-unit bias (V); default ``lif.bias``.
    """

    def __init__(self, weights: SparseWeights, eta, *, lif: LIFParams = LIFParams(), dt: float = 5e-5,
                 reg: float = 2e5, rls_every: int = 50, normalised: bool = False, record_every: int = 10,
                 initial_rates=None, bias=None):
        self.W = sparse.csr_matrix((weights.value, (weights.post, weights.pre)), shape=(weights.n, weights.n))
        self.eta = np.asarray(eta, dtype=float)
        self.lif, self.dt = lif, as_number(dt, "dt", low=0.0, low_open=True)
        rls_every = as_count(rls_every, "rls_every", minimum=1)
        record_every = as_count(record_every, "record_every", minimum=1)
        normalised = as_flag(normalised, "normalised")
        n, k = self.eta.shape
        self.bias = np.full(n, lif.bias) if bias is None else np.broadcast_to(np.asarray(bias, float), (n,)).copy()
        self.s = np.zeros(n) if initial_rates is None else np.asarray(initial_rates, float).copy()
        self.hs = np.zeros(n)
        self.I_syn = self.W @ self.s
        self.rls_ = RLS(n, k, reg=reg, normalised=normalised)
        self.rls_every, self.record_every = rls_every, record_every
        self.t_ = 0.0

    def rates(self) -> np.ndarray:
        """Instantaneous rates (Hz) of all units."""
        z = self.s @ self.rls_.W
        return lif_rate(self.bias + self.W @ self.s + self.eta @ z, self.lif)

    def _regressor(self):
        return self.s

    def _step(self):
        f = self.rates()
        lif, dt = self.lif, self.dt
        s_new = self.s + dt * (-self.s / lif.tau_r + self.hs)
        self.hs += dt * (-self.hs / lif.tau_d + f / (lif.tau_r * lif.tau_d))
        self.s = s_new
