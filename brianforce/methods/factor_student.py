"""Brian2 LIF student trained on factor targets from a rate teacher (DePasquale et al.).

Each spiking neuron ``i`` (Nicola & Clopath conventions: currents in volts) obeys::

    tau_m dv/dt = -v + I_syn + I_ctrl + I_bias           (refractory tau_ref)
    I_syn : fixed random connectivity J^f (mean inhibition + random part), double-exp filter
    I_ctrl = Σ_p U_ip y_p(t) + Σ_m U_in_im input_m(t)   (learned low-rank input + task input)
    y(t) = wᵀ s(t)                                       (learned factors)
    z(t) = W_outᵀ [y(t); 1]                              (output)

``s`` stacks each neuron's slow and fast filtered spike trains (decay ``tau_slow`` and
``tau_d``, both scaled by their decay time so that s ≈ rate × τ is dimensionless). The learned
recurrent connectivity is therefore the rank-P matrix ``U wᵀ`` (times the filter decay). ``w``
(shared P over the 2N features) and ``W_out`` are trained by RLS inside a Brian2
``network_operation`` that runs every ``dt_op`` (the task's sample interval).

Training runs over repeated trials (as in the original code):

1. ``n_forced`` teacher-forced trials (``y = ỹ``, the target factors);
2. ``n_mean`` teacher-forced trials estimating each neuron's mean of ``I_syn + U ỹ``, which
   is then removed through ``I_bias = bias − mean`` (neurons become fluctuation driven);
3. ``n_forced`` teacher-forced trials to settle with the new bias;
4. ``n_rls`` RLS trials: ``w`` learns ``wᵀ s ≈ ỹ`` and ``W_out`` learns ``z ≈ f``; the network
   is driven by ``ỹ`` (``teacher_forced_rls=True``, default; the last ``n_closed_loop`` of
   these trials run closed loop) or by its own ``y = wᵀ s`` (``teacher_forced_rls=False``:
   closed loop, FORCE-like); updates on a random (Bernoulli per ``dt_op`` step, mean
   interval ``update_interval``) or regular schedule. ``forcing_noise > 0`` adds an
   Ornstein-Uhlenbeck perturbation (time constant ``forcing_noise_tau``, std
   ``forcing_noise`` × each factor's std) to the factors that *drive* the neurons during RLS
   trials, while the RLS target stays ``ỹ``: the learned loop must pull perturbed activity
   back to the teacher's trajectory, which is what makes closed-loop generation stable
   (measured: without it the free-running oscillation diverges within ~1-2 s);
5. optionally (``period_calibration``, autonomous rhythms): :meth:`FactorStudent.calibrate_period`
   sets the phase with one teacher-forced period, runs ``calibration_copies`` perturbed copies
   of that state freely for ``period_calibration`` periods, fits the lag gained per period (the
   trained loop's own period error, shared by the copies: measured on the Dale oscillation
   +0.66 ms at seed 1 and −1.43 ms at seed 4 per 1-s period) and rescales time by
   κ = T / (T + drift). The copies have their own seeds, so they are never the test's draws;
6. :meth:`FactorStudent.predict` runs closed-loop test trials; :meth:`FactorStudent.predict_repeats`
   runs them from perturbed copies of the state (±1 mV membrane jitter). The fixed
   connectivity makes the network chaotic, so one free-running test is one draw: measured on
   the oscillation at seed 1, one trained student gives error ratios from 1.8 to 28 over 7
   draws (median 4.6) with a 30 mV factor drive, 1.1 to 13 (median 1.65) with 100 mV.

For trial tasks (``fit(..., rest_step=k)``) the state at baseline sample ``k`` of the last
settling trial is stored and every RLS/test trial starts from it (the teacher likewise starts
each trial at rest).

Dale's law (``dale=True``): each neuron is excitatory (σ=+1, fraction ``frac_exc``) or
inhibitory (σ=−1). Fixed weights are drawn sign-constrained (``|N(0,1)|`` magnitudes, inhibitory
columns scaled so the mean input equals ``fixed_mean``). Two ways to keep the learned weights
sign-correct (``dale_method``):

``"total"`` (default): the learned fast weights ride on the fixed ones. The fixed J^f is dense
(autapses included) and uses the same synaptic filter as the learned fast features, so every
connection ``i ← j`` has one total weight ``W_ij = J^f_ij + τ_d U_i·w_j + C_ij``; the slow
features are not learned (``w``'s slow rows stay 0). RLS is unconstrained; after every
``dale_check_every`` updates and at the end of every trial the entries whose total would take
the wrong sign are clipped to zero by a correction ``C`` folded into the fixed synapses
(``C_ij = −(J^f_ij + τ_d U_i·w_j)`` there, 0 elsewhere), so the trained network has
sign(W_ij) = σ_j (or W_ij = 0) for every pair; ``dale_clipped_`` records the clipped fraction
after each RLS trial. The correction's mean current ``C r̄`` (r̄: rates of the mean-estimation
phase) is removed from the bias like the other inputs' means (without this, measured: the rate
runs away to > 100 Hz as clipping accumulates). With ``dale_project`` (default) the factor
projection ``U`` is made orthogonal to J^f's rank-one mean direction (column means σ_j m_j),
so the learned drive does not excite the E−I imbalance mode that this mean part feeds back to
every neuron at once. Status (measured, ``benchmarks/results/depasquale_dale_diag.csv``): every
fixed and total weight keeps its sign (tests) and teacher-forced RLS learns the oscillation's
factors (nMSE ~0.01, 6 % clipped), but closed-loop training does not converge yet: the learned
weights are as large as the fixed ones, the clipped fraction grows trial by trial (10-40 %) and
the rate runs away.

``"offset"``: a *balanced positive/negative offset with norm clipping*: the effective learned
weight from feature ``j`` (neuron ``j``'s slow or fast trace) onto neuron ``i`` is
``(U_i·w_j + σ_j β_j)·τ_j``, with ``β_j = dale_offset`` for excitatory and
``dale_offset·N_E/N_I`` for inhibitory features (so the offset's common-mode current
``Σ_j σ_j β_j s_j`` cancels when E and I rates match; its mean is also removed in the
mean-estimation phase, but its fluctuations grow with N·β, so ``dale_offset`` must stay small —
a fraction of a mV at N ~ 600). After every RLS update each row ``w_j`` is clipped to
``|w_j| ≤ β_j / max_i |U_i|``, which guarantees ``|U_i·w_j| ≤ β_j`` and hence
sign(weight) = σ_j. Measured on the oscillation: the clipping is so tight that the factors
are not learned (nMSE ~1, ``benchmarks/results/depasquale_dale_probes.csv``).

``"split"``: sign-constrained factor loop, with no offset and no clipping of totals. The factor
projection is non-negative (``U >= 0``: ``dale_pools="disjoint"`` puts every neuron in one random
factor pool with a uniform(0.5, 1.5) weight, so the columns stay orthogonal; ``"overlap"``:
uniform(0, 1) entries kept with probability ``dale_pool_fraction``), and every row of the
factor readout is held on its presynaptic sign, ``σ_j w_jp >= 0`` (slow and fast features).
Each learned weight ``τ_j U_i·w_j = τ_j Σ_p U_ip w_jp`` is then a sum of terms of sign σ_j (or
0) for every postsynaptic ``i``, and the fixed weights have sign σ_j as drawn (no autapses), so
every learned and every total weight obeys Dale's law by construction, during training too.
The factors become pooled E-minus-I differences. ``dale_mirror`` trains ``[ỹ, −ỹ]`` (2P
factors, "on" and "off" pools) so that both signs of every factor drive some neurons.
Learning is the sign-constrained ridge regression that RLS would solve unconstrained: the
statistics ``H = Σ x xᵀ + I/α`` and ``B = Σ x ỹᵀ`` (``x = σ ⊙ s``) are accumulated at every
update; every ``dale_check_every`` updates and at the end of every RLS trial the non-negative
quadratic program ``min ½ vᵀHv − B_pᵀv, v >= 0`` (``v_p = σ ⊙ w_p``) is solved per factor by
block principal pivoting (warm-started from the current free set ``F_p``), and in between each
factor is updated by exact RLS restricted to ``F_p`` (``dale_hold``: weights held instead);
the network runs on ``σ ⊙ max(v, 0)``. ``dale_forget < 1`` decays the statistics of past RLS
trials after each trial (measured: stops the training error creeping up over trials, but
does not make the free-running loop stable).
Measured (``benchmarks/results/depasquale_dale_split_probes.csv``): clipping a running RLS
estimate to its sign (the shared RLS ``P`` untouched) diverges numerically within the first
RLS trial — an algebraic instability (the clip breaks cancellations along ill-conditioned
directions of ``P``; weights reach ~1e184), after which the rate saturates at ~500 Hz; a
projection in the RLS metric is stable, but its training error creeps up and the free-running
test fails; re-solving only every 25 updates (50 ms) is too slow for the closed loop
(training nMSE ~0.1). Status: every weight keeps its sign (tests), training factor nMSE
~0.01-0.03; with the period calibration and a cue period before the test the free-running
oscillation is within 3x of the teacher at the recipe's seed (median ratio over 7 draws 2.34;
3 of 4 seeds; ``models/depasquale_oscillation_dale.toml`` has the measured figures).

References
----------
DePasquale B, Churchland MM, Abbott LF (2016) Using firing-rate dynamics to train recurrent
networks of spiking model neurons. arXiv:1601.07620.
Kim J, Park H (2011) Fast nonnegative matrix factorization: an active-set-like method and
comparisons. SIAM J Sci Comput 33:3261-3281 (block principal pivoting).
DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023) The centrality of population-level
factors to network computation is demonstrated by a versatile approach for training spiking
networks. Neuron 111:631-649.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import blas, cho_factor, cho_solve, lapack

from brian2 import (NeuronGroup, Network, NetworkOperation, Synapses, SpikeMonitor, ms, mV,
                    second, volt)

from brian2.units.fundamentalunits import (DimensionMismatchError, get_dimensions,
                                           have_same_dimensions)

from brianforce.analysis.metrics import circular_lag, lag_drift
from brianforce.config import parse_quantity
from brianforce.errors import TrainingDiverged
from brianforce.neurons import SYNAPTIC_CURRENT, lif_equations, lif_reset, lif_threshold
from brianforce.rate.factors import pool_projection
from brianforce.learning.rls import RLS
from brianforce.seeding import check_seed, rng_for
from brianforce.networks.force_lif import require_runtime_device
from brianforce.rate.teacher import one_blas_thread

__all__ = ["FactorStudent", "StudentRun"]


@dataclass
class StudentRun:
    """Closed-loop run of a trained student.

    Attributes
    ----------
    outputs : ndarray (n_trials, T, Q)
    factors : ndarray (n_trials, T, P)       learned factors y(t)
    rates : ndarray (n_trials, T, N) or None fast filtered spike trains (Hz), if recorded
    spike_i, spike_t : ndarray               spike indices / times (s) since the run start
    trial_starts : ndarray (n_trials,)       start time (s) of each trial, same origin
    duration : float                         trial duration (s)
    """

    outputs: np.ndarray
    factors: np.ndarray
    rates: np.ndarray | None
    spike_i: np.ndarray
    spike_t: np.ndarray
    trial_starts: np.ndarray
    duration: float


# the student's neurons (shared with brianforce.devices.student_network, which adds the task input)
STUDENT_FILTERS = (SYNAPTIC_CURRENT, ("r_f", "hr_f", "hertz"), ("r_s", "hr_s", "hertz", "tau_r", "tau_slow"))
STUDENT_PARAMETERS = ("I_ctrl : volt", "I_bias : volt", "tau_m : second (shared, constant)",
                      "tau_r : second (shared, constant)", "tau_d : second (shared, constant)",
                      "tau_slow : second (shared, constant)", "tau_ref_ : second (shared, constant)",
                      "v_reset_ : volt (shared, constant)")


def student_equations(task_input: bool = False) -> str:
    """Equations of the student's neurons (fast and slow filtered spike trains ``r_f``, ``r_s``);
    ``task_input`` adds the input current ``I_in`` of :mod:`brianforce.devices.student_network`."""
    currents = ["I_syn", "I_ctrl", "I_in", "I_bias"] if task_input else ["I_syn", "I_ctrl", "I_bias"]
    return lif_equations(currents, filters=STUDENT_FILTERS, parameters=STUDENT_PARAMETERS)


STUDENT_EQUATIONS = student_equations()
STUDENT_RESET = lif_reset("v_reset_", (("hr_f", "tau_r", "tau_d"), ("hr_s", "tau_r", "tau_slow")), sep="; ")
STUDENT_THRESHOLD = lif_threshold("v_th_", strict=True)
# what a time rescaling (period calibration) multiplies, besides the fixed weights and tau_ref
RESCALED_TIME_CONSTANTS = ("tau_m", "tau_r", "tau_d", "tau_slow")


def rescaled_refractory(tau_ref: float, dt: float, scale: float) -> float:
    """Refractory period (s) of a network whose time constants are multiplied by ``scale``.

    Brian2 counts the refractory period in whole steps of ``dt``. It becomes the nearest whole
    number of steps to ``scale × tau_ref``; while that is the trained number of steps, the
    trained value is kept exactly, so a small rescaling leaves it as it was.
    """
    n = round(tau_ref * scale / dt)
    return float(tau_ref) if n == round(tau_ref / dt) else n * float(dt)


def recipe_student_kwargs(sec: dict) -> dict:
    """:class:`FactorStudent` keyword arguments from a recipe's ``[student]`` section.

    Parameters
    ----------
    sec : dict
        The section as read from the TOML file: unit strings (``"10 ms"``) are parsed with
        :func:`brianforce.config.parse_quantity`, except the string-valued options
        ``schedule``, ``dale_method`` and ``dale_pools``; other values are passed on as they are.

    Returns
    -------
    dict
    """
    out = {}
    for k, v in sec.items():
        if isinstance(v, str) and k not in ("schedule", "dale_method", "dale_pools"):
            out[k] = parse_quantity(v)
        else:
            out[k] = v
    return out


def _q(value, unit, name, *, positive=True, allow_zero=False):
    """Check ``value`` has ``unit``'s dimension (DimensionMismatchError otherwise); SI float."""
    if not have_same_dimensions(value, unit):
        raise DimensionMismatchError(f"{name} must have units of {unit!r}, got {value!r}",
                                     get_dimensions(value), get_dimensions(unit))
    v = float(np.asarray(value / unit)) * float(unit)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and not (v > 0 or (allow_zero and v == 0)):
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return v


class FactorStudent:
    """LIF network that learns to generate a teacher's factors (scikit-learn style).

    Parameters
    ----------
    n_neurons : int
    tau_m, tau_ref : Quantity (time)          membrane time constant, refractory period
    v_th, v_reset, bias : Quantity (voltage)  threshold, reset, bias current (before demeaning)
    tau_r, tau_d, tau_slow : Quantity (time)  filter rise, fast decay, slow decay
    fixed_gain : Quantity (volt*second)       std × √N of the random fixed weights J^f
    fixed_mean : Quantity (volt*second)       mean total fixed weight onto a neuron (< 0: inhibition)
    signal_amplitude : Quantity (voltage)     RMS of the target currents U ỹ (sets |U|)
    input_gain : Quantity (voltage)           scale of the uniform(−1, 1) task-input weights
    alpha : float                             RLS P(0) = α I for w and W_out
    update_interval : Quantity (time)         mean interval between RLS updates
    schedule : {"random", "regular"}          Bernoulli per step, or every ``update_interval``
    n_forced, n_mean, n_rls : int             trials per training phase (see module docstring)
    dale : bool, frac_exc : float
    dale_method : {"total", "offset", "split"}  how learned weights keep Dale's law (module docstring)
    dale_check_every : int                    "total": RLS updates between sign checks (and clips);
                                              "split": updates between exact constrained re-solves
    dale_pools : {"overlap", "disjoint"}      "split": non-negative factor pools of U
    dale_pool_fraction : float                "split", "overlap": fraction of neurons per pool
    dale_iterations : int                     "split": max block-pivoting exchanges per re-solve
    dale_mirror : bool                        "split": train [ỹ, −ỹ] (on and off pools)
    dale_hold : bool                          "split": hold the weights between exact re-solves
                                              (no RLS steps on the free sets)
    dale_forget : float                       "split": factor by which the ridge statistics of
                                              past RLS trials decay after each trial (1 = none)
    dale_offset : Quantity (voltage)          "offset": the offset β
    dale_project : bool                       "total": project the factor drive U off J^f's
                                              rank-one mean direction (see module docstring)
    teacher_forced_rls : bool                 drive with ỹ during RLS trials (else closed loop)
    n_closed_loop : int                       with teacher forcing: last RLS trials run closed loop
    forcing_noise : float                     OU perturbation of the drive (× factor std), 0 = off
    forcing_noise_tau : Quantity (time)       its correlation time
    period_calibration : int                  autonomous rhythms: after training, free-run this
                                              many periods and rescale time to the target
                                              period (:meth:`calibrate_period`; 0 = off)
    calibration_copies : int                  perturbed copies of the state it runs from
    divergence_threshold : float              a training trial with factor nMSE above it raises
    dt : Quantity (time)                      integration step (default 0.05 ms)
    seed : int

    Attributes
    ----------
    U_ : ndarray (N, P)          factor → neuron projection (V per factor unit)
    U_in_ : ndarray (N, M)       input weights (V per input unit)
    w_ : ndarray (2N, P)         learned factor readout from [s_slow; s_fast] (Dale "total":
                                 slow rows 0; "split": σ_j w_jp >= 0)
    W_out_ : ndarray (P + 1, Q)  output weights from [y; 1]
    I_bias_ : ndarray (N,)       bias after mean removal (V)
    signs_ : ndarray (N,)        +1/−1 (Dale) or 0 (no Dale)
    fixed_i_, fixed_j_, fixed_w_ : ndarray  fixed synapses (post i ← pre j, V·s), as drawn
    dale_correction_ : ndarray (N, N)        Dale "total": clipping correction C (V·s), else 0
    dale_clipped_ : ndarray      Dale "total": fraction of connections clipped after each RLS
                                 trial; "split": fraction of readout weights held at 0
    train_errors_ : ndarray      factor nMSE per RLS trial
    mean_rate_ : float           mean firing rate in the last training trial (Hz)
    time_scale_ : float          factor applied to every time constant and fixed weight by
                                 :meth:`calibrate_period` (1 = none)
    calibration_lags_ : ndarray  lags (s) of the free-running periods it measured (copies, periods)
    calibration_drift_ : float   their drift (s per period) before the rescaling
    """

    def __init__(self, n_neurons: int = 600, *, tau_m=10 * ms, tau_ref=2 * ms, v_th=-40 * mV,
                 v_reset=-65 * mV, bias=-45 * mV, tau_r=2 * ms, tau_d=20 * ms, tau_slow=100 * ms,
                 fixed_gain=0.3 * mV * second, fixed_mean=-0.3 * mV * second,
                 signal_amplitude=10 * mV, input_gain=10 * mV, alpha: float = 1.0,
                 update_interval=2 * ms, schedule: str = "random", n_forced: int = 5,
                 n_mean: int = 10, n_rls: int = 50, dale: bool = False, frac_exc: float = 0.8,
                 dale_offset=2 * mV, dale_method: str = "total", dale_check_every: int = 25,
                 dale_project: bool = True, dale_pools: str = "overlap",
                 dale_pool_fraction: float = 1.0, dale_iterations: int = 10,
                 dale_mirror: bool = False, dale_hold: bool = False, dale_forget: float = 1.0,
                 divergence_threshold: float = 25.0, dt=0.05 * ms,
                 teacher_forced_rls: bool = True, n_closed_loop: int = 0,
                 forcing_noise: float = 0.0, forcing_noise_tau=50 * ms,
                 period_calibration: int = 0, calibration_copies: int = 4, seed: int = 0):
        self.teacher_forced_rls = bool(teacher_forced_rls)
        if isinstance(n_closed_loop, bool) or int(n_closed_loop) != n_closed_loop or n_closed_loop < 0:
            raise ValueError(f"n_closed_loop must be a non-negative integer, got {n_closed_loop!r}")
        self.n_closed_loop = int(n_closed_loop)
        if not (np.isfinite(forcing_noise) and forcing_noise >= 0):
            raise ValueError(f"forcing_noise must be >= 0, got {forcing_noise!r}")
        self.forcing_noise = float(forcing_noise)
        self.forcing_noise_tau = _q(forcing_noise_tau, second, "forcing_noise_tau")
        if (isinstance(period_calibration, bool) or int(period_calibration) != period_calibration
                or period_calibration < 0 or period_calibration == 1):
            raise ValueError(f"period_calibration must be 0 or an integer >= 2, got {period_calibration!r}")
        self.period_calibration = int(period_calibration)
        if isinstance(calibration_copies, bool) or int(calibration_copies) != calibration_copies or calibration_copies < 1:
            raise ValueError(f"calibration_copies must be a positive integer, got {calibration_copies!r}")
        self.calibration_copies = int(calibration_copies)
        if isinstance(n_neurons, bool) or int(n_neurons) != n_neurons or n_neurons < 4:
            raise ValueError(f"n_neurons must be an integer >= 4, got {n_neurons!r}")
        self.n_neurons = int(n_neurons)
        self.tau_m = _q(tau_m, second, "tau_m")
        self.tau_ref = _q(tau_ref, second, "tau_ref", allow_zero=True)
        self.v_th = _q(v_th, volt, "v_th", positive=False)
        self.v_reset = _q(v_reset, volt, "v_reset", positive=False)
        if not self.v_reset < self.v_th:
            raise ValueError("v_reset must be below v_th")
        self.bias = _q(bias, volt, "bias", positive=False)
        self.tau_r = _q(tau_r, second, "tau_r")
        self.tau_d = _q(tau_d, second, "tau_d")
        self.tau_slow = _q(tau_slow, second, "tau_slow")
        self.fixed_gain = _q(fixed_gain, volt * second, "fixed_gain", allow_zero=True)
        self.fixed_mean = _q(fixed_mean, volt * second, "fixed_mean", positive=False)
        self.signal_amplitude = _q(signal_amplitude, volt, "signal_amplitude")
        self.input_gain = _q(input_gain, volt, "input_gain", allow_zero=True)
        self.update_interval = _q(update_interval, second, "update_interval")
        self.dale_offset = _q(dale_offset, volt, "dale_offset")
        self.dt = _q(dt, second, "dt")
        if not (np.isfinite(alpha) and alpha > 0):
            raise ValueError(f"alpha must be > 0, got {alpha!r}")
        self.alpha = float(alpha)
        if schedule not in ("random", "regular"):
            raise ValueError(f"schedule must be 'random' or 'regular', got {schedule!r}")
        self.schedule = schedule
        for name, v in dict(n_forced=n_forced, n_mean=n_mean, n_rls=n_rls).items():
            if isinstance(v, bool) or int(v) != v or v < (1 if name == "n_rls" else 0):
                raise ValueError(f"{name} must be a non-negative integer (n_rls >= 1), got {v!r}")
        self.n_forced, self.n_mean, self.n_rls = int(n_forced), int(n_mean), int(n_rls)
        self.dale = bool(dale)
        if dale_method not in ("total", "offset", "split"):
            raise ValueError(f"dale_method must be 'total', 'offset' or 'split', got {dale_method!r}")
        self.dale_method = dale_method
        if dale_pools not in ("overlap", "disjoint"):
            raise ValueError(f"dale_pools must be 'overlap' or 'disjoint', got {dale_pools!r}")
        self.dale_pools = dale_pools
        if not (np.isfinite(dale_pool_fraction) and 0 < dale_pool_fraction <= 1):
            raise ValueError(f"dale_pool_fraction must be in (0, 1], got {dale_pool_fraction!r}")
        self.dale_pool_fraction = float(dale_pool_fraction)
        if isinstance(dale_iterations, bool) or int(dale_iterations) != dale_iterations or dale_iterations < 1:
            raise ValueError(f"dale_iterations must be a positive integer, got {dale_iterations!r}")
        self.dale_iterations = int(dale_iterations)
        self.dale_mirror = bool(dale_mirror)
        self.dale_hold = bool(dale_hold)
        if not (np.isfinite(dale_forget) and 0 < dale_forget <= 1):
            raise ValueError(f"dale_forget must be in (0, 1], got {dale_forget!r}")
        self.dale_forget = float(dale_forget)
        if (isinstance(dale_check_every, bool) or int(dale_check_every) != dale_check_every
                or dale_check_every < 1):
            raise ValueError(f"dale_check_every must be a positive integer, got {dale_check_every!r}")
        self.dale_check_every = int(dale_check_every)
        self.dale_project = bool(dale_project)
        if not 0 < frac_exc < 1:
            raise ValueError(f"frac_exc must be in (0, 1), got {frac_exc}")
        self.frac_exc = float(frac_exc)
        if not divergence_threshold > 0:
            raise ValueError("divergence_threshold must be > 0")
        self.divergence_threshold = float(divergence_threshold)
        self.seed = check_seed(seed)

    # ------------------------------------------------------------------ structure
    def _draw_structure(self, n_factors, n_inputs, factor_targets):
        N = self.n_neurons
        rng = rng_for(self.seed, "student-connectivity")
        if self.dale:
            n_exc = int(round(self.frac_exc * N))
            signs = np.full(N, -1.0)
            signs[rng.permutation(N)[:n_exc]] = 1.0
            mag = np.abs(rng.standard_normal((N, N))) * self.fixed_gain / np.sqrt(N)
            m = np.sqrt(2 / np.pi) * self.fixed_gain / np.sqrt(N)
            n_inh = N - n_exc
            k_inh = (n_exc * m - self.fixed_mean) / (n_inh * m) if m > 0 else 1.0
            if k_inh <= 0:
                raise ValueError("fixed_mean too positive for Dale's law (inhibition would vanish)")
            scale = np.where(signs > 0, 1.0, k_inh)
            W = mag * (signs * scale)[None, :]
        else:
            signs = np.zeros(N)
            W = (self.fixed_mean / N + self.fixed_gain / np.sqrt(N) * rng.standard_normal((N, N)))
        if not self._total:      # Dale "total": autapses too, so every pair has a fixed weight
            np.fill_diagonal(W, 0.0)
        post, pre = np.nonzero(W != 0)
        self.fixed_i_, self.fixed_j_, self.fixed_w_ = post, pre, W[post, pre]
        self.signs_ = signs
        if self._split:
            U = self._nonnegative_projection(N, n_factors, rng_for(self.seed, "student-projection"))
        else:
            U = pool_projection(N, n_factors, 1.0, rng_for(self.seed, "student-projection"))
        if self._total and self.dale_project:
            # keep the factor drive out of J^f's balanced-amplification mode: with Dale's law
            # J^f has a rank-one mean part 1·vᵀ (v_j = σ_j × mean magnitude of column j), so
            # any E−I imbalance of activity along v is fed back to every neuron at once
            v = W.mean(axis=0)
            U = U - np.outer(v, v @ U) / (v @ v)
            U, _ = np.linalg.qr(U)
        rms = np.sqrt(np.mean((factor_targets.reshape(-1, n_factors) @ U.T) ** 2))
        if rms == 0:
            raise ValueError("factor targets are identically zero")
        self.U_ = U * (self.signal_amplitude / rms)
        self.U_in_ = self.input_gain * rng_for(self.seed, "student-input").uniform(-1, 1, (N, n_inputs))
        self.dale_correction_ = np.zeros((N, N)) if self._total else np.zeros((0, 0))
        if self.dale and self.dale_method == "offset":
            n_exc = int(np.sum(signs > 0))
            beta = np.where(signs > 0, self.dale_offset, self.dale_offset * n_exc / (N - n_exc))
            self.dale_beta_ = np.concatenate([beta, beta])           # slow, fast features
            self._row_limit = self.dale_beta_ / np.max(np.linalg.norm(self.U_, axis=1))
        else:
            self.dale_beta_ = np.zeros(2 * N)

    def _nonnegative_projection(self, N, P, rng):
        """Dale "split": U >= 0 with unit-norm columns. ``"disjoint"``: every neuron in one
        random factor pool (orthogonal columns); ``"overlap"``: uniform(0, 1) entries, each
        kept with probability ``dale_pool_fraction`` (random overlapping pools)."""
        if self.dale_pools == "disjoint":
            if N < P:
                raise ValueError("dale_pools='disjoint' needs n_neurons >= n_factors")
            U = np.zeros((N, P))
            U[rng.permutation(N), np.arange(N) % P] = rng.uniform(0.5, 1.5, N)
        else:
            U = rng.uniform(0, 1, (N, P)) * (rng.random((N, P)) < self.dale_pool_fraction)
        norms = np.linalg.norm(U, axis=0)
        if np.any(norms == 0):
            raise ValueError("a factor pool is empty; increase dale_pool_fraction or n_neurons")
        return U / norms

    @property
    def _total(self):
        return self.dale and self.dale_method == "total"

    def _mirrored(self, factor_targets):
        """Dale "split" with ``dale_mirror``: targets ``[ỹ, −ỹ]`` (on and off pools)."""
        if self._split and self.dale_mirror:
            return np.concatenate([factor_targets, -factor_targets], axis=2)
        return factor_targets

    @property
    def _split(self):
        return self.dale and self.dale_method == "split"

    def _split_init(self, P):
        """Dale "split" state: ridge statistics in sign space (``x = σ ⊙ s``):
        ``H = Σ x xᵀ + I/α`` (upper triangle) and ``B = Σ x ỹᵀ``; per factor a free set
        ``F_p`` (initially every feature), ``v_p`` (``w_p = σ ⊙ max(v_p, 0)``) and
        ``(H_FF)⁻¹``."""
        n = 2 * self.n_neurons
        self._H = np.asfortranarray(np.eye(n) / self.alpha)
        self._B = np.zeros((n, P))
        self._F = [np.arange(n) for _ in range(P)]
        self._Pinv = [np.asfortranarray(np.eye(n) * self.alpha) for _ in range(P)]
        self._v = np.zeros((n, P))
        self._wc = np.zeros((n, P))

    def _split_update(self, s, target):
        """Dale "split" RLS step: accumulate ``H, B`` and update each factor's ``v_F`` by exact
        RLS restricted to its free set (Sherman-Morrison on ``(H_FF)⁻¹``); the network's
        weights are ``σ ⊙ max(v, 0)``, so they keep their signs between refreshes."""
        x = s * self._feat_sign
        blas.dsyr(1.0, x, a=self._H, lower=0, overwrite_a=True)
        self._B += np.outer(x, target)
        if self.dale_hold:             # weights held until the next exact re-solve
            return
        for p, F in enumerate(self._F):
            if not len(F):
                continue
            xF = x[F]
            Pi = self._Pinv[p]                       # upper triangle, Fortran order
            Px = blas.dsymv(1.0, Pi, xF, lower=0)
            c = 1.0 / (1.0 + xF @ Px)
            e = self._v[F, p] @ xF - target[p]
            self._v[F, p] -= (c * e) * Px
            self._Pinv[p] = blas.dsyr(-c, Px, a=Pi, lower=0, overwrite_a=True)
        np.maximum(self._v, 0.0, out=self._wc)
        self._wc *= self._feat_sign[:, None]

    def _split_project(self) -> int:
        """Dale "split": re-solve the sign-constrained ridge problem exactly.

        With ``v = σ ⊙ w_p`` the constrained ridge problem is the non-negative quadratic
        program ``min ½ vᵀ H v − B_pᵀ v, v >= 0``, solved per factor by block principal
        pivoting (Kim & Park 2011), warm-started from the current free set, at most
        ``dale_iterations`` exchanges; then ``(H_FF)⁻¹`` is recomputed for the RLS steps.
        Negative entries left by an unconverged iteration are clipped, so ``σ_j w_jp >= 0``
        holds exactly. Returns the number of weights held at 0."""
        Hu = self._H
        n, Pn = self._B.shape
        for p in range(Pn):
            Fm = np.zeros(n, dtype=bool)
            Fm[self._F[p]] = True
            v = self._v[:, p].copy()      # RLS on F: already the optimum for the current F
            b = self._B[:, p]
            tol = 1e-12 * (np.abs(b).max() + 1e-300)
            changed = False
            last = None                    # (J, Cholesky factor of H_JJ) of the last solve
            for it in range(int(self.dale_hold), self.dale_iterations + 1):
                if it:
                    v[:] = 0.0
                    J = np.flatnonzero(Fm)
                    if len(J):
                        try:    # cho_factor reads the upper triangle only (J is sorted)
                            cf = cho_factor(Hu[np.ix_(J, J)], lower=False)
                        except np.linalg.LinAlgError:
                            break
                        v[J] = cho_solve(cf, b[J])
                        last = (J, cf)
                g = blas.dsymv(1.0, Hu, v, lower=0) - b
                flip = (Fm & (v < 0)) | (~Fm & (g < -tol))
                if not np.any(flip):
                    break
                Fm ^= flip
                changed = True
            if not (changed or self.dale_hold):
                continue
            v = np.maximum(v, 0.0)
            F = np.flatnonzero(v > 0)
            self._F[p] = F
            self._v[:, p] = v
            if self.dale_hold:
                continue
            if len(F):     # (H_FF)⁻¹ from its Cholesky factor (upper triangle, as RLS reads it)
                if last is not None and np.array_equal(last[0], F):
                    cf = last[1]
                else:
                    cf = cho_factor(Hu[np.ix_(F, F)], lower=False)
                inv, info = lapack.dpotri(cf[0], lower=0)
                if info != 0:
                    raise np.linalg.LinAlgError(f"dpotri failed (info {info})")
                self._Pinv[p] = np.asfortranarray(inv)
            else:
                self._Pinv[p] = np.zeros((0, 0))
        np.maximum(self._v, 0.0, out=self._wc)
        self._wc *= self._feat_sign[:, None]
        return int(np.sum(self._wc == 0))

    def _build(self):
        require_runtime_device("FactorStudent training")
        N = self.n_neurons
        self._rng_init = rng_for(self.seed, "student-initial")
        G = NeuronGroup(N, STUDENT_EQUATIONS, threshold=STUDENT_THRESHOLD, reset=STUDENT_RESET, refractory="tau_ref_",
                        method="euler", dt=self.dt * second, name="student_neurons*",
                        namespace={"v_th_": self.v_th * volt})
        G.tau_m = self.tau_m * second
        G.tau_r = self.tau_r * second
        G.tau_d = self.tau_d * second
        G.tau_slow = self.tau_slow * second
        G.tau_ref_ = self.tau_ref * second
        G.v_reset_ = self.v_reset * volt
        G.v = (self.v_reset + (self.v_th - self.v_reset) * self._rng_init.random(N)) * volt
        G.I_bias = self.bias * volt
        S = Synapses(G, G, "w : volt*second", on_pre="h_post += w/(tau_r_post*tau_d_post)",
                     dt=self.dt * second, name="student_fixed*")
        S.connect(i=self.fixed_j_, j=self.fixed_i_)
        S.w = self.fixed_w_ * volt * second
        if self._total:   # corrections are written by synapse index: check the order once
            if not (np.array_equal(S.i[:], self.fixed_j_) and np.array_equal(S.j[:], self.fixed_i_)):
                raise RuntimeError("fixed synapses were not created in the order given")
            self._syn_k = np.full((N, N), -1)
            self._syn_k[self.fixed_i_, self.fixed_j_] = np.arange(len(self.fixed_i_))
        mon = SpikeMonitor(G, name="student_spikes*")
        mon.active = False
        op = NetworkOperation(self._operate, dt=self._dt_op * second, when="start",
                              name="student_rls_hook*")
        self._G, self._S, self._mon = G, S, mon
        self._net = Network(G, S, mon, op)
        self._mean_sum = np.zeros(N)
        self._rate_sum = np.zeros(N)
        self._mean_n = 0

    def _features(self):
        k = self.time_scale_
        return np.concatenate([self._G.r_s_[:] * (self.tau_slow * k), self._G.r_f_[:] * (self.tau_d * k)])

    # ------------------------------------------------------------------ the hook
    def _operate(self):
        st = self._trial
        k = st["k"]
        if k >= st["T"]:
            return
        if st["snapshot"] == k:
            self._store_rest()
        s = self._features()
        phase = st["phase"]
        if phase in ("forced", "mean"):
            y = st["factors"][k]
            z = st["outputs"][k] if st["outputs"] is not None else None
        else:
            y = s[self._feat] @ (self._wc if self._split else self._rls_w.W)
            z = np.append(y, 1.0) @ self._rls_out.W
            if not np.all(np.isfinite(y)):
                raise TrainingDiverged(
                    st["index"], float(self._net.t / second), y,
                    message=f"learned factors became NaN/Inf in {phase} trial {st['index']} at "
                            f"t = {k * self._dt_op:.4f} s of the trial")
        if phase == "rls" and self._update_now(k):
            if self._split:
                self._split_update(s, st["factors"][k])
            else:
                self._rls_w.update(s[self._feat], y - st["factors"][k])
            self._rls_out.update(np.append(y, 1.0), z - st["outputs"][k])
            self._n_updates += 1
            if self._total and self._n_updates % self.dale_check_every == 0:
                self._dale_clip()
            if self._split:
                if self._n_updates % self.dale_check_every == 0:
                    self._split_project()
            elif self.dale and not self._total:
                norms = np.linalg.norm(self._rls_w.W, axis=1)
                over = norms > self._row_limit
                if np.any(over):
                    self._rls_w.W[over] *= (self._row_limit[over] / norms[over])[:, None]
        y_drive = st["factors"][k] if (phase == "rls" and st.get("forced", False)) else y
        if phase == "rls" and self.forcing_noise > 0:   # OU perturbation; the target stays ỹ
            a = np.exp(-self._dt_op / self.forcing_noise_tau)
            self._eps = a * self._eps + np.sqrt(1 - a * a) * self._noise_rng.standard_normal(len(y))
            y_drive = y_drive + self.forcing_noise * self._factor_std * self._eps
        common = (float(np.dot(np.concatenate([self.signs_, self.signs_]) * self.dale_beta_, s))
                  if self.dale and self.dale_method == "offset" else 0.0)
        if phase == "mean":   # the Dale offset's common-mode current is demeaned too
            self._mean_sum += self._G.I_syn_[:] + self.U_ @ y + common
            self._rate_sum += self._G.r_f_[:]
            self._mean_n += 1
        ctrl = self.U_ @ y_drive + st["ext"][k] + common
        self._G.I_ctrl_[:] = ctrl
        st["y"][k] = y
        if z is not None:
            st["z"][k] = z
        if st["rates"] is not None:
            st["rates"][k] = self._G.r_f_[:]
        st["k"] = k + 1

    def _dale_clip(self) -> float:
        """Dale "total": clip to zero every connection whose total weight
        ``J^f + τ_d U wᵀ`` has the wrong sign (correction folded into the fixed synapses);
        returns the fraction clipped."""
        N = self.n_neurons
        J = np.zeros((N, N))
        J[self.fixed_i_, self.fixed_j_] = self.fixed_w_
        tot = J + self.tau_d * (self.U_ @ self._rls_w.W.T)
        bad = tot * self.signs_[None, :] < 0
        C = np.where(bad, -tot, 0.0)
        changed = np.nonzero(C != self.dale_correction_)
        if len(changed[0]):
            k = self._syn_k[changed]
            self._S.w_[k] = J[changed] + C[changed]
            self.dale_correction_ = C
            # the correction's mean current (at the mean-phase rates) is removed too
            self.I_bias_ = self._I_bias_mean_removed - C @ self._mean_rate
            self._G.I_bias_[:] = self.I_bias_
        return float(np.mean(bad))

    def _update_now(self, k):
        if self.schedule == "random":
            return self._sched_rng.random() < self._dt_op / self.update_interval
        every = max(1, int(round(self.update_interval / self._dt_op)))
        return k % every == 0

    # ------------------------------------------------------------------ trials
    _STATE = ("v", "I_syn", "h", "r_f", "hr_f", "r_s", "hr_s")

    def _store_rest(self):
        self._rest = {k: getattr(self._G, k + "_")[:].copy() for k in self._STATE}

    def _restore_rest(self):
        """Start a trial from the stored rest state (as the teacher starts each trial at
        rest); membrane potentials get a small seeded jitter so trials still differ."""
        for k, v in self._rest.items():
            getattr(self._G, k + "_")[:] = v
        self._set_jittered_v(self._rest["v"], self._rest_rng, 1e-3)
        self._G.lastspike_[:] = -1e4
        self._G.not_refractory_[:] = True

    def _set_jittered_v(self, v, rng, amplitude: float):
        """Membrane potentials ``v`` + uniform(−amplitude, amplitude) (V), kept below threshold."""
        self._G.v_[:] = np.minimum(v + rng.uniform(-amplitude, amplitude, self.n_neurons),
                                   self.v_th - 1e-4)

    def _run_trial(self, phase, index, inputs, factors, outputs, record_rates=False, forced=False,
                   snapshot=None):
        T = inputs.shape[0]
        P = self.U_.shape[1]
        Q = self._n_outputs
        if phase in ("rls", "test") and getattr(self, "_rest", None) is not None:
            self._restore_rest()
        self._trial = dict(phase=phase, index=index, k=0, T=T, factors=factors, outputs=outputs,
                           forced=forced, snapshot=snapshot,
                           ext=inputs @ self.U_in_.T, y=np.zeros((T, P)), z=np.zeros((T, Q)),
                           rates=np.zeros((T, self.n_neurons)) if record_rates else None)
        self._net.run(T * self._dt_op * second)
        return self._trial

    def fit(self, inputs, factor_targets, output_targets, dt, *, rest_step=None) -> "FactorStudent":
        with one_blas_thread():
            return self._fit(inputs, factor_targets, output_targets, dt, rest_step)

    def _fit(self, inputs, factor_targets, output_targets, dt, rest_step=None):
        """Train on trials (cycled through in order) of a task.

        Parameters
        ----------
        inputs : array (n_trials, T, M)        task inputs
        factor_targets : array (n_trials, T, P) teacher factors ỹ for the same trials
        output_targets : array (n_trials, T, Q)
        dt : Quantity (time)                   sample interval of the arrays (= RLS hook step)
        rest_step : int, optional
            For trial tasks whose trials start at rest (zero-input baseline): the sample index
            of a baseline step. The neuron state at that step of the last settling
            teacher-forced trial is stored, and every RLS and test trial starts from it (with
            ±1 mV membrane jitter), as the teacher starts every trial at ``x_rest_``.
            Default ``None``: trials follow each other without reset.
        """
        inputs, factor_targets, output_targets = (_trials(a, n) for a, n in (
            (inputs, "inputs"), (factor_targets, "factor_targets"), (output_targets, "output_targets")))
        if not inputs.shape[:2] == factor_targets.shape[:2] == output_targets.shape[:2]:
            raise ValueError("inputs, factor_targets and output_targets must share (n_trials, T)")
        if self.period_calibration and (inputs.shape[0] != 1 or rest_step is not None):
            raise ValueError("period_calibration is for autonomous rhythms: one target trial (one "
                             "period) and no rest_step")
        period = (inputs[0], factor_targets[0])
        self.time_scale_ = 1.0
        self.calibration_lags_, self.calibration_drift_ = np.zeros(0), 0.0
        self._dt_op = _q(dt, second, "dt")
        ratio = self._dt_op / self.dt
        if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 1:
            raise ValueError(f"dt of the targets ({self._dt_op} s) must be a multiple of the "
                             f"integration step ({self.dt} s)")
        factor_targets = self._mirrored(factor_targets)
        P, Q = factor_targets.shape[2], output_targets.shape[2]
        self._n_outputs = Q
        self._rest = None
        self._rest_rng = rng_for(self.seed, "student-rest-jitter")
        if rest_step is not None:
            if isinstance(rest_step, bool) or int(rest_step) != rest_step or not 0 <= rest_step < inputs.shape[1]:
                raise ValueError(f"rest_step must be a sample index in [0, {inputs.shape[1]}), got {rest_step!r}")
            if self.n_forced < 1:
                raise ValueError("rest_step needs n_forced >= 1 (the state is stored in a forced trial)")
        self.rest_step_ = rest_step
        self._draw_structure(P, inputs.shape[2], factor_targets)
        self._build()
        self._sched_rng = rng_for(self.seed, "student-schedule")
        self._noise_rng = rng_for(self.seed, "student-forcing-noise")
        self._factor_std = factor_targets.reshape(-1, P).std(axis=0)
        self._eps = np.zeros(P)
        # Dale "total": only the fast features (same filter as J^f) are learned
        self._feat = slice(self.n_neurons, 2 * self.n_neurons) if self._total else slice(None)
        self._n_updates = 0
        clipped = []
        self._rls_w = RLS(self.n_neurons if self._total else 2 * self.n_neurons, P, alpha=self.alpha)
        self._feat_sign = np.concatenate([self.signs_, self.signs_])
        if self._split:
            self._split_init(P)
        self._rls_out = RLS(P + 1, Q, alpha=self.alpha)
        n = inputs.shape[0]
        count = 0

        def trial(phase, c, forced=False, snapshot=None):
            j = c % n
            return self._run_trial(phase, c, inputs[j], factor_targets[j], output_targets[j],
                                   forced=forced, snapshot=snapshot)

        for _ in range(self.n_forced):
            trial("forced", count); count += 1
        for _ in range(self.n_mean):
            trial("mean", count); count += 1
        if self._mean_n:
            self.I_bias_ = self.bias - self._mean_sum / self._mean_n
            self._mean_rate = self._rate_sum / self._mean_n
        else:
            self.I_bias_ = np.full(self.n_neurons, self.bias)
            self._mean_rate = np.zeros(self.n_neurons)
        self._G.I_bias_[:] = self.I_bias_
        self._I_bias_mean_removed = self.I_bias_.copy()
        for f in range(self.n_forced):
            trial("forced", count, snapshot=rest_step if f == self.n_forced - 1 else None)
            count += 1
        errs = []
        for r in range(self.n_rls):
            if r == self.n_rls - 1:
                self._mon.active = True
                n0 = self._mon.num_spikes
                t0 = float(self._net.t / second)
            j = count % n
            forced = self.teacher_forced_rls and r < self.n_rls - self.n_closed_loop
            st = trial("rls", count, forced); count += 1
            e = float(np.sum((st["y"] - factor_targets[j]) ** 2) / np.sum(factor_targets[j] ** 2))
            errs.append(e)
            if self._total:
                clipped.append(self._dale_clip())
            elif self._split:
                self._split_project()
                if self.dale_forget < 1:    # older trials' statistics decay (ridge term kept)
                    reg = np.eye(len(self._B)) / self.alpha
                    self._H[:] = self.dale_forget * (self._H - reg) + reg
                    self._B *= self.dale_forget
                clipped.append(float(np.mean(self._wc == 0)))
            if not np.isfinite(e) or (r > 0 and e > self.divergence_threshold):
                raise TrainingDiverged(
                    r, float(self._net.t / second), e,
                    message=f"RLS training diverged: factor nMSE {e:.3g} in RLS trial {r} "
                            f"(t = {float(self._net.t / second):.3f} s of simulation)")
        self.train_errors_ = np.array(errs)
        self.dale_clipped_ = np.array(clipped)
        self.mean_rate_ = (self._mon.num_spikes - n0) / (self.n_neurons * (float(self._net.t / second) - t0))
        self._mon.active = False
        if self.period_calibration:
            self.calibrate_period(*period, n_periods=self.period_calibration,
                                  n_copies=self.calibration_copies)
        return self

    def calibrate_period(self, inputs, factor_period, *, n_periods: int = 10,
                         n_copies: int = 4) -> "FactorStudent":
        """Match the free-running period of a trained autonomous rhythm to its target's.

        One teacher-forced period (``y = ỹ``, :meth:`force`) first sets the phase, as a cue
        before a test does (the end of training can leave a transient lag: measured −5 and
        −17 ms over the first free period at seeds 1 and 4 of the Dale oscillation). From
        ``n_copies`` perturbed copies of the state after it (:meth:`predict_repeats`, with
        their own seeds, so none is the run that follows) the student runs ``n_periods``
        periods closed loop without learning. The lag of its factors behind ``factor_period``
        (T, P) is measured in every period (:func:`brianforce.analysis.metrics.circular_lag`), and one
        slope fitted through every copy's lags (each copy its own offset) gives the mean drift
        d per period: the free period is T + d. The time constants ``tau_m, tau_r, tau_d,
        tau_slow`` and the fixed weights (V·s) are then multiplied by κ = T / (T + d): the
        features ``r τ`` and every current are unchanged, so the network follows the same
        trajectories κ times slower. The refractory period is a whole number of integration
        steps: it is rescaled to the nearest whole number (:func:`rescaled_refractory`), so the
        small κ of a calibration leave it exactly as trained (measured: a κ of 0.99985 that took
        one step off it moved the drift by −1 to −3.6 ms per 1-s period). The state after the
        forced period is mapped, not reset, so the next run continues from there. Repeated
        calls compound (``time_scale_`` is the product).

        Parameters
        ----------
        inputs : array (T, M)          the period's task input (zeros for an autonomous rhythm)
        factor_period : array (T, P)   one period of the teacher factors ỹ
        n_periods : int                free-running periods per copy (>= 2)
        n_copies : int                 perturbed copies of the state
        """
        if not hasattr(self, "_net"):
            raise RuntimeError("call fit() before calibrate_period()")
        if self.rest_step_ is not None:
            raise ValueError("calibrate_period is for autonomous rhythms, not trial tasks that "
                             "start every trial from a rest state (rest_step)")
        if isinstance(n_periods, bool) or int(n_periods) != n_periods or n_periods < 2:
            raise ValueError(f"n_periods must be an integer >= 2, got {n_periods!r}")
        factor_period = _trials(factor_period, "factor_period")
        target = self._mirrored(factor_period)[0]
        inputs = _trials(inputs, "inputs")[0]
        T = len(target)
        if inputs.shape[0] != T or target.shape[1] != self.U_.shape[1]:
            raise ValueError(f"inputs {inputs.shape} and factor_period {target.shape} must be one "
                             f"period (T, ·) with {self.U_.shape[1]} factors")
        self.force(inputs[None], factor_period)
        runs = self.predict_repeats(np.repeat(inputs[None], int(n_periods), axis=0), n_copies,
                                    stream="period-calibration")
        lags = np.array([[float(circular_lag(y, target)) for y in run.factors]
                         for run in runs])                        # (n_copies, n_periods)
        # every copy has the same periods, so the slope of one fit with an offset per copy is
        # the mean of the copies' own slopes
        drift = float(np.mean([lag_drift(copy, T)[0] for copy in lags]))
        lags = np.unwrap(lags, period=T, axis=1)
        if not abs(drift) < 0.1 * T:
            raise ValueError(f"free-running period differs from the target's by {drift:.0f} of {T} "
                             "samples: not the trained rhythm, period calibration refused")
        self.calibration_lags_ = lags * self._dt_op
        self.calibration_drift_ = drift * self._dt_op
        self._set_time_scale(self.time_scale_ * T / (T + drift))
        return self

    def _set_time_scale(self, scale: float):
        """Multiply the time constants and fixed weights by ``scale`` (relative to training;
        ``tau_ref`` in whole integration steps, :func:`rescaled_refractory`).
        The current state is mapped too (filtered rates ÷ ρ, their derivatives ÷ ρ², ρ the
        change of scale), so the network carries on from the same point of its trajectory."""
        G = self._G
        rho = scale / self.time_scale_
        for name, power in (("h", 1), ("r_f", 1), ("r_s", 1), ("hr_f", 2), ("hr_s", 2)):
            getattr(G, name + "_")[:] = getattr(G, name + "_")[:] / rho ** power
        for name in RESCALED_TIME_CONSTANTS:
            setattr(G, name, getattr(self, name) * scale * second)
        G.tau_ref_ = rescaled_refractory(self.tau_ref, self.dt, scale) * second
        self._S.w_[:] = self._S.w_[:] * (scale / self.time_scale_)
        self.time_scale_ = float(scale)

    @property
    def w_(self):
        if self._total:
            return np.concatenate([np.zeros_like(self._rls_w.W), self._rls_w.W])
        if self._split:
            return self._wc
        return self._rls_w.W

    @property
    def W_out_(self):
        return self._rls_out.W

    def predict(self, inputs, *, record_rates: bool = True, record_spikes: bool = True) -> StudentRun:
        """Closed-loop run over trials ``inputs`` (n_trials, T, M), continuing the current state."""
        with one_blas_thread():
            return self._predict(inputs, record_rates, record_spikes)

    def _predict(self, inputs, record_rates, record_spikes):
        if not hasattr(self, "_net"):
            raise RuntimeError("call fit() before predict()")
        require_runtime_device("FactorStudent.predict")
        inputs = _trials(inputs, "inputs")
        n, T = inputs.shape[:2]
        P, Q = self.U_.shape[1], self._n_outputs
        outs, ys = np.zeros((n, T, Q)), np.zeros((n, T, P))
        rates = np.zeros((n, T, self.n_neurons)) if record_rates else None
        n_before = self._mon.num_spikes
        self._mon.active = record_spikes
        t_origin = float(self._net.t / second)
        starts = []
        for k in range(n):
            starts.append(float(self._net.t / second) - t_origin)
            st = self._run_trial("test", k, inputs[k], None, None, record_rates)
            outs[k], ys[k] = st["z"], st["y"]
            if record_rates:
                rates[k] = st["rates"]
        self._mon.active = False
        si = np.asarray(self._mon.i[n_before:])
        stt = np.asarray(self._mon.t[n_before:] / second) - t_origin
        return StudentRun(outs, ys, rates, si, stt, np.array(starts), T * self._dt_op)

    def predict_repeats(self, inputs, n_repeats: int, *, jitter=1 * mV, stream: str = "test") -> list:
        """Closed-loop runs of ``inputs`` from ``n_repeats`` perturbed copies of the current state.

        In each copy every membrane potential is shifted by uniform(−``jitter``, ``jitter``)
        (seeded by the student's seed, ``stream`` and the copy's index; trial tasks, which start every
        trial from the rest state, draw that state's jitter anew per copy). The fixed
        connectivity makes the network chaotic, so a free-running test is one draw of its
        trajectories; these copies show how much the result depends on that draw. Afterwards
        the state is the one before the call, so a following :meth:`predict` is unaffected.
        Returns one :class:`StudentRun` per copy (outputs and factors; no rates or spikes
        recorded).
        """
        if not hasattr(self, "_net"):
            raise RuntimeError("call fit() before predict_repeats()")
        if isinstance(n_repeats, bool) or int(n_repeats) != n_repeats or n_repeats < 1:
            raise ValueError(f"n_repeats must be a positive integer, got {n_repeats!r}")
        amp = _q(jitter, volt, "jitter")
        name = "brianforce_before_repeats"
        self._net.store(name)
        rest_rng = getattr(self, "_rest_rng", None)
        runs = []
        try:
            for r in range(int(n_repeats)):
                self._net.restore(name)
                self._rest_rng = rng_for(self.seed, f"student-{stream}-repeat-rest-{r}")
                self._set_jittered_v(self._G.v_[:], rng_for(self.seed, f"student-{stream}-repeat-{r}"), amp)
                runs.append(self.predict(inputs, record_rates=False, record_spikes=False))
        finally:
            self._net.restore(name)
            self._rest_rng = rest_rng
        return runs

    def force(self, inputs, factor_targets) -> "FactorStudent":
        """Run teacher-forced trials (``y = ỹ``, no learning), e.g. to set the phase of an
        autonomous rhythm before closed-loop tests, as the original code does before testing."""
        if not hasattr(self, "_net"):
            raise RuntimeError("call fit() before force()")
        inputs = _trials(inputs, "inputs")
        factor_targets = self._mirrored(_trials(factor_targets, "factor_targets"))
        with one_blas_thread():
            for k in range(inputs.shape[0]):
                self._run_trial("forced", k, inputs[k], factor_targets[k], None)
        return self

    def learned_weights(self) -> dict:
        """Effective learned synaptic weights (V·s), ``{"slow": (N, N), "fast": (N, N)}``.

        Entry ``[i, j]`` is the weight from neuron ``j`` onto ``i``: ``(U_i·w_j + σ_j β_j)·τ``,
        with ``β = 0`` without Dale's law.
        """
        N = self.n_neurons
        W = self.w_
        offs = np.concatenate([self.signs_, self.signs_]) * self.dale_beta_
        full = self.U_ @ W.T + offs[None, :]
        k = self.time_scale_
        return {"slow": full[:, :N] * (self.tau_slow * k), "fast": full[:, N:] * (self.tau_d * k)}

    def fixed_weights(self) -> np.ndarray:
        """Dense fixed connectivity J^f (N, N) as drawn, entry [post, pre] in V·s."""
        J = np.zeros((self.n_neurons, self.n_neurons))
        J[self.fixed_i_, self.fixed_j_] = self.fixed_w_ * self.time_scale_
        return J

    def total_weights(self) -> dict:
        """Total weight of every connection per synaptic filter (V·s), ``{"slow", "fast"}``:
        learned slow weights, and fixed + learned fast weights (+ the Dale "total" clipping
        correction). These are what Dale's law constrains."""
        lw = self.learned_weights()
        fast = lw["fast"] + self.fixed_weights()
        if self._total:
            fast = fast + self.dale_correction_ * self.time_scale_
        return {"slow": lw["slow"], "fast": fast}

    def dale_violations(self) -> int:
        """Number of weights of the wrong sign under Dale's law: fixed weights as drawn, total
        weights per filter, and (``dale_method="offset"``) the learned weights on their own."""
        if not self.dale:
            raise ValueError("the student was not trained with dale=True")
        sg = self.signs_[None, :]
        mats = [self.fixed_weights(), *self.total_weights().values()]
        if not self._total:
            mats += list(self.learned_weights().values())
        return int(sum(np.sum(m * sg < 0) for m in mats))

    def arrays(self) -> dict:
        """Everything needed to rebuild the trained network (for ``brianforce.io.save_arrays``)."""
        fixed_w = self.fixed_w_
        if self._total:     # what the fixed synapses carry: J^f + the clipping correction
            fixed_w = fixed_w + self.dale_correction_[self.fixed_i_, self.fixed_j_]
        fixed_w = fixed_w * self.time_scale_       # (and the period calibration's time scale)
        out = dict(U=self.U_, U_in=self.U_in_, w=self.w_, W_out=self.W_out_, I_bias=self.I_bias_,
                   signs=self.signs_, fixed_i=self.fixed_i_, fixed_j=self.fixed_j_,
                   fixed_w=fixed_w, dale_beta=self.dale_beta_,
                   train_errors=self.train_errors_, time_scale=np.array(self.time_scale_))
        if getattr(self, "_rest", None) is not None:     # trial tasks: the state every trial starts from
            out.update({f"rest_{k}": v.copy() for k, v in self._rest.items()})
        return out


def _trials(a, name):
    a = np.asarray(a, dtype=float)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise ValueError(f"{name} must have shape (n_trials, T, dims), got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or Inf")
    return a
