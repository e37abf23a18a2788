"""Rate-network teacher (numpy only): target-driven training of a tanh network.

Dynamics (plain floats, SI units; ``dt`` and ``tau`` in seconds)::

    tau dx/dt = -x + J tanh(x) + u_in · input(t)        r = tanh(x),  z = W_outᵀ r

Target-driven training (as in the 2023 demos / full-FORCE): a *driven* copy with random
recurrence ``J_D`` (gain ``g``) is driven by the target through random weights ``u_f``,
``tau dx/dt = -x + J_D tanh(x) + u_f f(t) + u_in·input(t)``. The learned ``J`` and ``W_out``
are then fit so that ``J r ≈ J_D r_D + u_f f`` and ``W_outᵀ r ≈ f``: online by recursive least
squares with ``r`` the rates of the learned network running next to the driven one (full-FORCE,
the default), or by batch ridge regression with ``r = r_D``. The trained network generates the
driven activity autonomously.

References
----------
DePasquale B, Churchland MM, Abbott LF (2016) Using firing-rate dynamics to train recurrent
networks of spiking model neurons. arXiv:1601.07620.
DePasquale B, Cueva CJ, Rajan K, Escola GS, Abbott LF (2018) full-FORCE: a target-based method
for training recurrent networks. PLoS ONE 13:e0191527.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_factor, cho_solve

from brianforce.tasks.timing import seconds
from brianforce.tasks.trials import trial_array
from brianforce.blas import one_blas_thread
from brianforce.checks import as_count, as_flag, as_number
from brianforce.errors import TrainingDiverged, refuse_if_diverged
from brianforce.learning.targets import divergence_scale_of
from brianforce.seeding import check_seed, rng_for

__all__ = ["RateTeacher", "TeacherRun", "normalised_error"]

#: What :meth:`RateTeacher.fit` sets; cleared when it starts, so that a fit that raises leaves the teacher
#: unfitted (a divergence of the online training keeps what it reached, for ``allow_diverged=True``).
_FITTED = ("J_D_", "u_f_", "u_in_", "x_init_", "J_", "W_out_", "x_rest_", "x_end_", "train_error_", "dt_",
           "continuous_", "diverged_")


def normalised_error(output, target) -> float:
    """``Σ|z − f|² / Σ|f|²`` over all samples (0 is perfect, 1 is as bad as z = 0)."""
    output = np.asarray(output, dtype=float)
    target = np.asarray(target, dtype=float)
    if output.shape != target.shape:
        raise ValueError(f"output shape {output.shape} != target shape {target.shape}")
    den = float(np.sum(target ** 2))
    if den == 0:
        raise ValueError("target is identically zero; normalised error undefined")
    return float(np.sum((output - target) ** 2) / den)


@dataclass
class TeacherRun:
    """Activity of a teacher run over trials.

    Attributes
    ----------
    rates : ndarray (n_trials, T, N)   tanh(x) at every sample
    outputs : ndarray (n_trials, T, Q)
    x_final : ndarray (N,)              state at the end (to continue a continuous task)
    """

    rates: np.ndarray
    outputs: np.ndarray
    x_final: np.ndarray

    def to_frame(self, dt: float | None = None):
        """One row per trial and sample: ``trial``, ``sample`` (k), ``t`` (s, ``k·dt``; only with
        ``dt``, the teacher's ``dt_``: seconds or a Brian2 time) and ``output_q`` per output. The
        rates are left out."""
        import pandas as pd

        n, T = self.outputs.shape[:2]
        out = np.asarray(self.outputs).reshape(n * T, -1)
        cols = {"trial": np.repeat(np.arange(n), T), "sample": np.tile(np.arange(T), n)}
        if dt is not None:
            cols["t"] = cols["sample"] * as_number(seconds(dt, "dt"), "dt", low=0.0, low_open=True)
        cols.update({f"output_{q}": out[:, q] for q in range(out.shape[1])})
        return pd.DataFrame(cols)


def _train_error(sq_err: float, sq_target: float, n: int) -> float:
    """``Σ|z − f|² / Σ|f|²``; for all-zero targets (scale 1) the mean squared error ``Σ|z|² / n``."""
    if sq_target > 0:
        return sq_err / sq_target
    return sq_err / n if n else float("nan")


class RateTeacher:
    """Tanh rate network trained target-driven (online full-FORCE or batch ridge), scikit-learn style.

    Parameters
    ----------
    n_units : int
        Number N of rate units.
    tau : float
        Unit time constant (s), default 10 ms.
    g : float
        Gain of the random recurrence ``J_D`` of the driven network (``J_D ~ g N(0, 1/N)``).
    target_gain, input_gain : float
        Scale of the uniform(−1, 1) weights ``u_f`` (target drive) and ``u_in`` (inputs).
    reg : float
        Ridge parameter λ (> 0): of the batch fit, or ``P(0) = I/λ`` of the online RLS.
    noise : float
        Std of white noise added to x each step of the driven runs (robustness), default 0.
    washout : float or None
        Seconds at the start of the first driven trial left out of the ridge fit (the transient
        from the random initial state), for ``method='batch'`` on continuous tasks only (trial
        tasks start every trial at rest and keep every sample). Default ``None``: 0.5 s with
        ``method='batch'``, 0 with ``method='full-force'``, which learns online from the first
        sample and refuses a ``washout`` > 0 (``ValueError``).
    method : {'full-force', 'batch'}
        ``'full-force'`` (default): online training, the learned network runs closed loop next to
        the driven one and ``J_`` and ``W_out_`` are updated by recursive least squares (``P(0) =
        I/reg``). ``'batch'``: the driven network is run once and ``J_`` and ``W_out_`` are fit by
        ridge regression on all its samples (after ``washout``).
    update_every : int
        Samples between two RLS updates of ``method='full-force'`` (>= 1, default 2: every other
        sample); ``method='batch'`` does not use it.
    seed : int
        Fixes ``J_D``, ``u_f``, ``u_in``, initial state and noise (streams ``teacher-*``).

    Attributes
    ----------
    J_ : ndarray (N, N)      learned recurrence
    W_out_ : ndarray (N, Q)  readout
    u_in_ : ndarray (N, M)   input weights
    x_rest_ : ndarray (N,)   state at rest (start of every trial of non-continuous tasks; for
                             full-FORCE, the driven network's rest state that training used)
    x_end_ : ndarray (N,)    driven state at the end of training (continuous tasks)
    train_error_ : float     normalised error of the fit on the driven activity (all-zero
                             targets: the mean squared error)
    diverged_ : TrainingDiverged or None
        Online (full-FORCE) training stops with :class:`~brianforce.errors.TrainingDiverged` (RLS
        update, time, error) when the output error is not finite or exceeds ``divergence_factor``
        (class attribute, 100) target amplitudes (constant targets: their largest ``|f|``, zero
        targets: 1); :meth:`run` and :meth:`run_driven` then refuse unless ``allow_diverged=True``.

    References
    ----------
    DePasquale B, Churchland MM, Abbott LF (2016) arXiv:1601.07620.
    DePasquale B et al. (2018) full-FORCE. PLoS ONE 13:e0191527.
    """

    divergence_factor: float = 100.0
    diverged_: TrainingDiverged | None = None

    def __init__(self, n_units: int = 200, *, tau: float = 10e-3, g: float = 1.5,
                 target_gain: float = 1.0, input_gain: float = 1.0, reg: float = 1e-2,
                 noise: float = 0.0, washout: float | None = None, method: str = "full-force",
                 update_every: int = 2, seed: int = 0):
        if method not in ("full-force", "batch"):
            raise ValueError(f"method must be 'full-force' or 'batch', got {method!r}")
        self.method, self.update_every = method, as_count(update_every, "update_every", minimum=1)
        self.n_units = as_count(n_units, "n_units", minimum=2)
        # plain SI floats: a Brian2 unit (tau=10*ms) is refused, not stripped
        self.tau, self.reg = (as_number(v, k, low=0.0, low_open=True) for k, v in (("tau", tau), ("reg", reg)))
        if washout is None:
            washout = 0.5 if method == "batch" else 0.0
        self.g, self.target_gain, self.input_gain, self.noise, self.washout = (
            as_number(v, k, low=0.0) for k, v in (("g", g), ("target_gain", target_gain),
                                                  ("input_gain", input_gain), ("noise", noise),
                                                  ("washout", washout)))
        if method == "full-force" and self.washout > 0:
            raise ValueError(f"washout is for method='batch' only; method='full-force' trains online from the "
                             f"first sample, got washout={washout!r}")
        self.seed = check_seed(seed)

    # ------------------------------------------------------------------ internals
    def _draw(self, n_inputs, n_outputs):
        rng = rng_for(self.seed, "teacher-weights")
        N = self.n_units
        self.J_D_ = self.g * rng.standard_normal((N, N)) / np.sqrt(N)
        self.u_f_ = self.target_gain * rng.uniform(-1, 1, (N, n_outputs))
        self.u_in_ = self.input_gain * rng.uniform(-1, 1, (N, n_inputs))
        self.x_init_ = rng_for(self.seed, "teacher-initial").standard_normal(N)

    def _simulate(self, J, inputs, dt, x0, *, drive=None, continuous=True, x_rest=None, rng=None):
        """Exponential-Euler run; returns rates (n, T, N) and final state."""
        n_trials, T, _ = inputs.shape
        decay = np.exp(-dt / self.tau)
        ext = inputs @ self.u_in_.T
        if drive is not None:
            ext = ext + drive @ self.u_f_.T
        rates = np.empty((n_trials, T, self.n_units))
        x = x0.copy()
        for k in range(n_trials):
            if not continuous and x_rest is not None:
                x = x_rest.copy()
            for t in range(T):
                r = np.tanh(x)
                rates[k, t] = r
                xinf = J @ r + ext[k, t]
                x = xinf + (x - xinf) * decay
                if rng is not None:
                    x += self.noise * rng.standard_normal(self.n_units)
            if not np.all(np.isfinite(x)):
                raise TrainingDiverged(k, (k + 1) * T * dt, None, dt, counter="trial",
                                       message=f"teacher state diverged (NaN/Inf) in trial {k}, by "
                                               f"t = {(k + 1) * T * dt:.4f} s of the run")
        return rates, x

    def _rest_state(self, J, dt, n_inputs, x0, duration=2.0):
        zeros = np.zeros((1, int(round(duration / dt)), n_inputs))
        _, x = self._simulate(J, zeros, dt, x0)
        return x

    # ------------------------------------------------------------------ API
    def fit(self, inputs, targets, dt: float, *, continuous: bool = True) -> "RateTeacher":
        with one_blas_thread():
            try:
                return self._fit(inputs, targets, dt, continuous)
            except BaseException as exc:
                if exc is not self.diverged_:         # a divergence keeps what it reached
                    for name in _FITTED:
                        self.__dict__.pop(name, None)
                raise

    def _fit(self, inputs, targets, dt, continuous):
        """Drive the network with ``targets`` and fit ``J_`` and ``W_out_`` by ridge.

        A call that raises leaves the teacher unfitted (:meth:`run` refuses), except for a divergence of
        the online training, which keeps what it reached (``diverged_``).

        Parameters
        ----------
        inputs : array (n_trials, T, M)
        targets : array (n_trials, T, Q)
        dt : float
            Sample interval (s).
        continuous : bool
            Trials are consecutive (state carried over) or each starts at rest.
        """
        for name in _FITTED:
            self.__dict__.pop(name, None)
        inputs = trial_array(inputs, "inputs")
        targets = trial_array(targets, "targets")
        if inputs.shape[:2] != targets.shape[:2]:
            raise ValueError(f"inputs {inputs.shape} and targets {targets.shape} disagree in trials/time")
        dt = as_number(dt, "dt", low=0.0, low_open=True)
        continuous = as_flag(continuous, "continuous")
        self.dt_, self.continuous_ = dt, continuous
        self._draw(inputs.shape[2], targets.shape[2])
        x_rest_D = self._rest_state(self.J_D_, dt, inputs.shape[2], self.x_init_) if not continuous else None
        if self.method == "full-force":
            x_end = self._fit_online(inputs, targets, dt, x_rest_D)
            self.x_end_ = x_end
            # trial tasks: every training trial started at the driven network's rest state, so
            # test trials start there too. (Relaxing the *trained* network for a while instead
            # can land on a spurious fixed point: measured on the classification task, an
            # output stuck at -1 in every baseline, normalised error 0.72.)
            self.x_rest_ = x_rest_D.copy() if not continuous else x_end
            return self
        rng = rng_for(self.seed, "teacher-noise") if self.noise > 0 else None
        rates, x_end = self._simulate(self.J_D_, inputs, dt, self.x_init_, drive=targets,
                                      continuous=continuous, x_rest=x_rest_D, rng=rng)
        n_wash = min(int(round(self.washout / dt)), rates.shape[1] - 1) if continuous else 0
        R = np.concatenate([rates[0, n_wash:], rates[1:].reshape(-1, self.n_units)])
        F = np.concatenate([targets[0, n_wash:], targets[1:].reshape(-1, targets.shape[2])])
        D = R @ self.J_D_.T + F @ self.u_f_.T  # driven recurrent input to be reproduced
        G = R.T @ R + self.reg * np.eye(self.n_units)
        c = cho_factor(G)
        J = cho_solve(c, R.T @ D).T
        W_out = cho_solve(c, R.T @ F)
        x_rest = self._rest_state(J, dt, inputs.shape[2], x_rest_D) if not continuous else x_end
        self.J_, self.W_out_, self.x_end_, self.x_rest_ = J, W_out, x_end, x_rest
        self.train_error_ = _train_error(float(np.sum((R @ W_out - F) ** 2)), float(np.sum(F ** 2)), F.size)
        return self

    def _fit_online(self, inputs, targets, dt, x_rest_D):
        """Online full-FORCE: learned net runs closed loop next to the driven net; RLS."""
        from brianforce.learning.rls import RLS

        N, Q = self.n_units, targets.shape[2]
        rls = RLS(N, N + Q, reg=self.reg)
        decay = np.exp(-dt / self.tau)
        ext = inputs @ self.u_in_.T
        drv = ext + targets @ self.u_f_.T
        rng = rng_for(self.seed, "teacher-noise")
        xD = self.x_init_.copy() if x_rest_D is None else x_rest_D.copy()
        x = xD.copy()
        sq_err = sq_tgt = 0.0
        n_err, T = 0, inputs.shape[1]
        limit = self.divergence_factor * divergence_scale_of(targets.reshape(-1, Q))
        for k in range(inputs.shape[0]):
            if x_rest_D is not None:
                xD = x_rest_D.copy()
                x = x_rest_D.copy()
            for t in range(inputs.shape[1]):
                rD, r = np.tanh(xD), np.tanh(x)
                JrD = self.J_D_ @ rD       # the driven net's recurrent input (aim and its own step)
                out = r @ rls.W            # (N + Q,): [J r, W_out r]
                if t % self.update_every == 0:
                    aim = np.concatenate([JrD + self.u_f_ @ targets[k, t], targets[k, t]])
                    err = out - aim
                    if not (np.all(np.isfinite(err)) and np.max(np.abs(err[N:])) <= limit):
                        self._keep_diverged(rls, x, x_rest_D, TrainingDiverged(
                            rls.n_updates, (k * T + t) * dt, err[N:], dt,
                            message=f"online teacher training diverged at RLS update {rls.n_updates} (trial {k}, "
                                    f"t = {(k * T + t) * dt:.4f} s of training): output error {err[N:]} is not "
                                    f"finite or exceeds {self.divergence_factor:g} target amplitudes"))
                    rls.update(r, err)
                    if k == inputs.shape[0] - 1:
                        sq_err += float(np.sum((out[N:] - targets[k, t]) ** 2))
                        sq_tgt += float(np.sum(targets[k, t] ** 2))
                        n_err += Q
                xinf = JrD + drv[k, t]
                xD = xinf + (xD - xinf) * decay
                xinf = out[:N] + ext[k, t]
                x = xinf + (x - xinf) * decay
                if self.noise > 0:
                    x += self.noise * rng.standard_normal(N)
            if not np.all(np.isfinite(x)) or not np.all(np.isfinite(rls.W)):
                self._keep_diverged(rls, x, x_rest_D, TrainingDiverged(
                    k, (k + 1) * T * dt, None, dt, counter="trial",
                    message=f"online teacher training diverged (NaN/Inf state or weights) in trial {k}, by "
                            f"t = {(k + 1) * T * dt:.4f} s of training"))
        self.J_ = rls.W[:, :N].T.copy()
        self.W_out_ = rls.W[:, N:].copy()
        self.train_error_ = _train_error(sq_err, sq_tgt, n_err)
        return x

    def _keep_diverged(self, rls, x, x_rest_D, exc: TrainingDiverged):
        """Keep what a diverged online training left (for ``allow_diverged=True``) and raise ``exc``."""
        N = self.n_units
        self.J_, self.W_out_, self.train_error_ = rls.W[:, :N].T.copy(), rls.W[:, N:].copy(), float("nan")
        self.x_end_ = x
        self.x_rest_ = x if x_rest_D is None else x_rest_D.copy()
        self.diverged_ = exc
        raise exc

    def _check_run(self, what: str, allow_diverged) -> None:
        if not hasattr(self, "J_"):
            raise RuntimeError(f"call fit() before {what}()")
        refuse_if_diverged(self.diverged_, allow_diverged, "the trained network",
                           "fit again with a larger reg or a smaller target_gain")

    def _run_inputs(self, inputs):
        """``inputs`` as trials (n_trials, T, M) with the ``M`` input streams the teacher was fit on."""
        inputs = trial_array(inputs, "inputs")
        if inputs.shape[2] != self.u_in_.shape[1]:
            raise ValueError(f"inputs must have {self.u_in_.shape[1]} streams (as in fit), got shape {inputs.shape}")
        return inputs

    def _start_state(self, x0) -> np.ndarray:
        """``x0`` checked: ``None`` gives ``x_end_``, otherwise a finite array of shape (N,)."""
        if x0 is None:
            return self.x_end_
        if hasattr(x0, "dim") and not getattr(x0, "is_dimensionless", True):
            raise TypeError(f"x0 must be plain floats, got a quantity {x0!r:.60}")
        x = np.asarray(x0, dtype=float)
        if x.shape != (self.n_units,):
            raise ValueError(f"x0 must have shape ({self.n_units},), got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"x0 contains NaN or Inf, got {x0!r:.60}")
        return x

    def run_driven(self, inputs, targets, *, x0=None, allow_diverged: bool = False) -> TeacherRun:
        """Run the *driven* network (``J_D``, target fed in through ``u_f``) — the activity the
        trained network was fit to reproduce (exactly periodic for a periodic target). Refused after
        :class:`TrainingDiverged` unless ``allow_diverged=True``.

        ``inputs`` (n_trials, T, M) and ``targets`` (n_trials, T, Q) share their trials and samples and
        have the widths ``M`` and ``Q`` of the fit (``ValueError`` otherwise); the run starts from
        ``x0``, a finite array (N,) (default ``x_end_``). Trials of other than continuous tasks each start
        at the driven network's rest state, as in training.
        """
        self._check_run("run_driven", allow_diverged)
        inputs, targets = self._run_inputs(inputs), trial_array(targets, "targets")
        if inputs.shape[:2] != targets.shape[:2]:
            raise ValueError(f"inputs {inputs.shape} and targets {targets.shape} disagree in trials/time")
        if targets.shape[2] != self.u_f_.shape[1]:
            raise ValueError(f"targets must have {self.u_f_.shape[1]} outputs (as in fit), got shape {targets.shape}")
        x0 = self._start_state(x0)
        with one_blas_thread():
            x_rest_D = (None if self.continuous_ else
                        self._rest_state(self.J_D_, self.dt_, inputs.shape[2], self.x_init_))
            rates, x = self._simulate(self.J_D_, inputs, self.dt_, x0, drive=targets,
                                      continuous=self.continuous_, x_rest=x_rest_D)
        return TeacherRun(rates, rates @ self.W_out_, x)

    def run(self, inputs, *, x0=None, allow_diverged: bool = False) -> TeacherRun:
        """Run the trained (autonomous) network on ``inputs`` (n_trials, T, M).

        Continuous tasks start from ``x0`` (a finite array (N,); default ``x_end_``, the driven state
        at the end of training); other tasks start every trial at ``x_rest_``. ``inputs`` have the ``M``
        streams of the fit (``ValueError`` otherwise). Refused after :class:`TrainingDiverged` unless
        ``allow_diverged=True``.
        """
        self._check_run("run", allow_diverged)
        inputs = self._run_inputs(inputs)
        x0 = self._start_state(x0)
        with one_blas_thread():
            rates, x = self._simulate(self.J_, inputs, self.dt_, x0, continuous=self.continuous_,
                                  x_rest=self.x_rest_)
        return TeacherRun(rates, rates @ self.W_out_, x)
