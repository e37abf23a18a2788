"""The factor student: a Brian2 LIF network that learns to generate a rate teacher's factors
(DePasquale et al.), scikit-learn style (``fit`` returns self, results in trailing-underscore
attributes).

References
----------
DePasquale B, Churchland MM, Abbott LF (2016) Using firing-rate dynamics to train recurrent
networks of spiking model neurons. arXiv:1601.07620.
DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023) The centrality of population-level
factors to network computation is demonstrated by a versatile approach for training spiking
networks. Neuron 111:631-649.
"""
from __future__ import annotations

import logging
import time

import numpy as np
from brian2 import mV, second, volt

from brianforce.devices.activation import CompilationFailed
from brianforce.devices.force_program import compiler_available
from brianforce.tasks.trials import trial_array
from brianforce.errors import TrainingDiverged, refuse_if_diverged
from brianforce.learning.targets import divergence_scale_of
from brianforce.methods.factor_student.calibration import period_drift
from brianforce.methods.factor_student.network import StudentLoop
from brianforce.methods.factor_student.params import (DEFAULT_DT, DaleSettings, FixedNetwork, PeriodCalibration,
                                                      StudentNeuron, StudentSchedule, check_fit_arguments,
                                                      check_quantity)
from brianforce.methods.factor_student.results import StudentRun
from brianforce.methods.factor_student.structure import draw_structure
from brianforce.networks.force_lif import require_runtime_device
from brianforce.blas import one_blas_thread
from brianforce.heap import frozen_heap
from brianforce.seeding import check_seed, rng_for

__all__ = ["FactorStudent", "TRAINING_DEVICES"]

logger = logging.getLogger(__name__)

#: Where :meth:`FactorStudent.fit` can train.
TRAINING_DEVICES = ("runtime", "cpp_standalone", "auto")


def _record(value, cls, name, *, optional=False):
    if value is None and not optional:
        return cls()
    if value is None or isinstance(value, cls):
        return value
    raise TypeError(f"{name} must be a {cls.__name__}{' or None' if optional else ''}, got {value!r}")


class FactorStudent:
    """LIF network that learns to generate a teacher's factors (DePasquale et al. 2016).

    Each neuron ``i`` (currents in volts) obeys ``tau_m dv/dt = −v + I_syn + I_ctrl + I_bias``
    with fixed random synapses J^f (``I_syn``), learned low-rank input
    ``I_ctrl = Σ_p U_ip y_p(t) + Σ_m U_in,im u_m(t)``, learned factors ``y = wᵀ s`` (``s``: slow
    and fast filtered spike trains × their decay) and output ``z = W_outᵀ [y; 1]``; ``w`` and
    ``W_out`` are trained by RLS (:mod:`~brianforce.methods.factor_student.network`). Training
    cycles through the task's trials:

    1. ``n_forced`` teacher-forced trials (``y = ỹ``, the target factors);
    2. ``n_mean`` teacher-forced trials estimating each neuron's mean of ``I_syn + U ỹ``, removed
       through ``I_bias = bias − mean`` (the neurons become fluctuation driven);
    3. ``n_forced`` teacher-forced trials to settle with the new bias;
    4. ``n_rls`` RLS trials learning ``wᵀ s ≈ ỹ`` and ``W_out`` for ``z ≈ f``, driven by ỹ
       (``teacher_forced_rls``; the last ``n_closed_loop`` closed loop) or by their own ``y``;
       ``forcing_noise`` perturbs the drive but not the target, so the learned loop pulls
       perturbed activity back to the teacher's trajectory (measured: without it the
       free-running oscillation diverges within ~1-2 s);
    5. with ``calibration``, :meth:`calibrate_period` (autonomous rhythms).

    :meth:`predict` runs closed-loop test trials. The fixed connectivity makes the network
    chaotic, so one free-running test is one draw (measured on the oscillation at seed 1:
    error ratios from 1.1 to 13 over 7 draws with a 100 mV factor drive);
    :meth:`predict_repeats` runs perturbed copies of the state. With Dale's law
    (:class:`DaleSettings`) every fixed and learned weight keeps its presynaptic sign
    (:mod:`~brianforce.methods.factor_student.dale`).

    Parameters
    ----------
    n_neurons : int                          (>= 4; 600)
    neuron : StudentNeuron, optional         LIF neurons and filters (default ``StudentNeuron()``)
    network : FixedNetwork, optional         fixed weights and encoder scales
    schedule : StudentSchedule, optional     training phases and RLS
    dale : DaleSettings or None              Dale's law (``None``: none)
    calibration : PeriodCalibration or None  period calibration after training (``None``: off)
    dt : Quantity (time)                     integration step (0.05 ms)
    seed : int
    device : {'runtime', 'cpp_standalone', 'auto'}
        Where :meth:`fit` trains: at runtime (the loop in a Python ``network_operation``), or as one
        generated ``cpp_standalone`` program (:mod:`brianforce.devices.student_program`; not with
        Dale's law), the same readouts to round-off; ``'auto'``: the program where a C++ compiler is
        found and there is no Dale's law, runtime otherwise or where it does not compile. :meth:`predict` and
        :meth:`predict_repeats` (so :meth:`calibrate_period`'s free copies) follow it, Dale's law
        included (:mod:`brianforce.devices.student_trials`); :meth:`force` runs at runtime.

    Attributes
    ----------
    tau_m, tau_ref, v_th, v_reset, bias, tau_r, tau_d, tau_slow : float
        ``neuron`` in SI units (s, V).
    dt : float                   integration step (s)
    U_ : ndarray (N, P)          factor → neuron projection (V per factor unit)
    U_in_ : ndarray (N, M)       input weights (V per input unit)
    w_ : ndarray (2N, P)         learned factor readout from [s_slow; s_fast] (Dale "total":
                                 slow rows 0; "split": σ_j w_jp >= 0)
    W_out_ : ndarray (P + 1, Q)  output weights from [y; 1]
    I_bias_ : ndarray (N,)       bias after mean removal (V)
    signs_ : ndarray (N,)        +1/−1 (Dale) or 0 (no Dale)
    fixed_i_, fixed_j_, fixed_w_ : ndarray  fixed synapses (post i ← pre j, V·s), as drawn
    dale_beta_ : ndarray (2N,)   Dale "offset": offsets β (V), else 0
    dale_correction_ : ndarray (N, N)        Dale "total": clipping correction C (V·s)
    dale_clipped_ : ndarray      Dale "total": fraction of connections clipped after each RLS
                                 trial; "split": fraction of readout weights held at 0
    dale_resolve_s_ : float      Dale "split": wall time of the constrained re-solves (s), else 0
    device_ : str                the device :meth:`fit` trained on
    timings_ : dict              ``fit_s`` (wall time of :meth:`fit`, the calibration included);
                                 with ``device='cpp_standalone'`` also ``compile_s`` (code generation
                                 and compilation) and ``run_s`` (the program)
    test_device_ : str or None   the device of the last :meth:`predict` or :meth:`predict_repeats`
    test_timings_ : dict         their ``compile_s`` and ``run_s`` on ``cpp_standalone``, summed since :meth:`fit`
    train_errors_ : ndarray      factor nMSE per RLS trial
    mean_rate_ : float           mean firing rate in the last training trial (Hz)
    dt_op_ : float               sample interval of the training data (s)
    rest_step_ : int or None     the ``fit`` argument
    time_scale_ : float          factor on every time constant and fixed weight
                                 (:meth:`set_time_scale`; 1 = none)
    calibration_lags_ : ndarray  lags (s) of the free-running periods measured (copies, periods)
    calibration_drift_ : float   their drift (s per period) before the rescaling
    diverged_ : TrainingDiverged or None
        The divergence that stopped :meth:`fit` (NaN/Inf learned factors, or a factor nMSE above
        ``schedule.divergence_threshold``); :meth:`predict`, :meth:`predict_repeats`,
        :meth:`calibrate_period` and :meth:`arrays` (what is saved) then refuse unless
        ``allow_diverged=True``.
    """

    diverged_: TrainingDiverged | None = None

    def __init__(self, n_neurons: int = 600, *, neuron: StudentNeuron | None = None,
                 network: FixedNetwork | None = None, schedule: StudentSchedule | None = None,
                 dale: DaleSettings | None = None, calibration: PeriodCalibration | None = None,
                 dt=DEFAULT_DT, seed: int = 0, device: str = "runtime"):
        if isinstance(n_neurons, bool) or int(n_neurons) != n_neurons or n_neurons < 4:
            raise ValueError(f"n_neurons must be an integer >= 4, got {n_neurons!r}")
        self.n_neurons = int(n_neurons)
        self.neuron = _record(neuron, StudentNeuron, "neuron")
        self.network = _record(network, FixedNetwork, "network")
        self.schedule = _record(schedule, StudentSchedule, "schedule")
        self.dale = _record(dale, DaleSettings, "dale", optional=True)
        self.calibration = _record(calibration, PeriodCalibration, "calibration", optional=True)
        si = self.neuron.si()
        self.tau_m, self.tau_ref, self.v_th, self.v_reset = si["tau_m"], si["tau_ref"], si["v_th"], si["v_reset"]
        self.bias, self.tau_r, self.tau_d, self.tau_slow = si["bias"], si["tau_r"], si["tau_d"], si["tau_slow"]
        self.dt = check_quantity(dt, second, "dt")
        self.seed = check_seed(seed)
        if device not in TRAINING_DEVICES:
            raise ValueError(f"device must be one of {TRAINING_DEVICES}, got {device!r}")
        if device == "cpp_standalone" and self.dale is not None:
            raise ValueError("Dale's law trains at runtime only (its constrained re-solves run in numpy): "
                             "use device='runtime'")
        self.device = device

    @property
    def _split(self) -> bool:
        return self.dale is not None and self.dale.method == "split"

    @property
    def _total(self) -> bool:
        return self.dale is not None and self.dale.method == "total"

    def _mirrored(self, factor_targets):
        """Dale "split" with ``mirror``: targets ``[ỹ, −ỹ]`` (on and off pools)."""
        if self._split and self.dale.mirror:
            return np.concatenate([factor_targets, -factor_targets], axis=2)
        return factor_targets

    def _fitted(self, what: str, allow_diverged: bool | None = None):
        """Refuse before ``fit``, and after divergence unless ``allow_diverged`` (None: no check)."""
        if not hasattr(self, "_loop"):
            raise RuntimeError(f"call fit() before {what}()")
        if allow_diverged is not None:
            refuse_if_diverged(self.diverged_, allow_diverged, "the student",
                               "train again with a smaller alpha or more teacher-forced RLS trials")

    # ------------------------------------------------------------------ training
    def fit(self, inputs, factor_targets, output_targets, dt, *, rest_step=None) -> "FactorStudent":
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
        args = check_fit_arguments(inputs, factor_targets, output_targets, dt, rest_step, step=self.dt,
                                   calibrated=self.calibration is not None, n_forced=self.schedule.n_forced)
        wall0 = time.perf_counter()
        self.timings_, self.test_timings_, self.test_device_ = {}, {}, None
        try:
            with one_blas_thread(), frozen_heap():
                return self._fit(*args, rest_step)
        finally:
            self.timings_["fit_s"] = time.perf_counter() - wall0

    def _fit(self, inputs, factor_targets, output_targets, dt, rest_step=None):
        sched = self.schedule
        period = (inputs[0], factor_targets[0])
        self.calibration_lags_, self.calibration_drift_ = np.zeros(0), 0.0
        self.dt_op_ = dt
        factor_targets = self._mirrored(factor_targets)
        P, Q = factor_targets.shape[2], output_targets.shape[2]
        self.rest_step_, self.diverged_ = rest_step, None
        st = draw_structure(self.n_neurons, factor_targets, inputs.shape[2], self.network, self.dale, self.seed)
        self.U_, self.U_in_, self.signs_, self.dale_beta_ = st.U, st.U_in, st.signs, st.dale_beta
        self.fixed_i_, self.fixed_j_, self.fixed_w_ = st.fixed_i, st.fixed_j, st.fixed_w
        self._loop = loop = StudentLoop(st, self.neuron.si(), sched, self.dale, self.dt, self.dt_op_, Q,
                                        factor_targets.reshape(-1, P).std(axis=0), self.seed)
        n = inputs.shape[0]
        count = 0

        def trial(phase, c, forced=False, snapshot=None):
            j = c % n
            return self._run_trial(phase, c, inputs[j], factor_targets[j], output_targets[j],
                                   forced=forced, snapshot=snapshot)

        scale = divergence_scale_of(factor_targets.reshape(-1, P))   # of a trial whose factors are all 0
        self.device_ = "runtime"
        if self.device == "cpp_standalone" or (self.device == "auto" and self.dale is None and compiler_available()):
            try:
                return self._fit_program(inputs, factor_targets, output_targets, rest_step, scale, period)
            except CompilationFailed as exc:
                if self.device != "auto":
                    raise
                logger.warning(f"FactorStudent: the training program did not compile ({exc}); training at runtime")
        for _ in range(sched.n_forced):
            trial("forced", count); count += 1
        for _ in range(sched.n_mean):
            trial("mean", count); count += 1
        loop.remove_mean_input()
        for f in range(sched.n_forced):
            trial("forced", count, snapshot=rest_step if f == sched.n_forced - 1 else None)
            count += 1
        errs, clipped = [], []
        try:
            for r in range(sched.n_rls):
                if r == sched.n_rls - 1:
                    loop.mon.active = True
                    n0 = loop.mon.num_spikes
                    t0 = loop.t
                j = count % n
                forced = sched.teacher_forced_rls and r < sched.n_rls - sched.n_closed_loop
                out = trial("rls", count, forced); count += 1
                e = _factor_nmse(out["y"], factor_targets[j], scale)
                errs.append(e)
                c = loop.end_rls_trial()
                if c is not None:
                    clipped.append(c)
                if not np.isfinite(e) or (r > 0 and e > sched.divergence_threshold):
                    raise TrainingDiverged(r, loop.t, e, self.dt, counter="RLS trial",
                                           message=f"RLS training diverged: factor nMSE {e:.3g} in RLS trial {r} "
                                                   f"(t = {loop.t:.3f} s of simulation)")
        except TrainingDiverged as exc:      # kept for allow_diverged=True
            self.diverged_ = exc
            self.train_errors_, self.dale_clipped_, self.mean_rate_ = np.array(errs), np.array(clipped), np.nan
            self.dale_resolve_s_ = loop.split.resolve_s if loop.split is not None else 0.0
            loop.mon.active = False
            raise
        self.train_errors_ = np.array(errs)
        self.dale_clipped_ = np.array(clipped)
        self.dale_resolve_s_ = loop.split.resolve_s if loop.split is not None else 0.0
        self.mean_rate_ = (loop.mon.num_spikes - n0) / (self.n_neurons * (loop.t - t0))
        loop.mon.active = False
        if self.calibration is not None:
            self.calibrate_period(*period, n_periods=self.calibration.n_periods,
                                  n_copies=self.calibration.n_copies)
        return self

    def _fit_program(self, inputs, factor_targets, output_targets, rest_step, scale, period):
        """Train in one ``cpp_standalone`` program (:mod:`brianforce.devices.student_program`),
        then hand the learned readouts and the state to the runtime loop."""
        from brianforce.devices.student_program import run_student_program

        loop, sched = self._loop, self.schedule
        T = factor_targets.shape[1]
        plan = loop.training_plan(factor_targets, rest_step, scale)
        run = run_student_program(loop.structure, self.neuron.si(), sched, plan, inputs, factor_targets,
                                  output_targets, dt=self.dt, dt_op=self.dt_op_, v0=np.asarray(loop.G.v_[:]),
                                  threshold=sched.divergence_threshold)
        loop.adopt(run, plan)
        self.device_ = "cpp_standalone"
        self.timings_.update(run.timings)
        rls_rows = [j for phase, j in plan.trials if phase == "rls"]
        errs = [_factor_nmse(y, factor_targets[j], scale) for y, j in zip(run.factors, rls_rows)]
        self.dale_clipped_, self.dale_resolve_s_ = np.zeros(0), 0.0
        bad = [r for r, e in enumerate(errs) if not np.isfinite(e) or (r > 0 and e > sched.divergence_threshold)]
        if bad:
            r = bad[0]
            t_end = (plan.trial_end.tolist().index(r) + 1) * self.dt_op_
            self.train_errors_, self.mean_rate_ = np.array(errs[:r + 1]), np.nan
            self.diverged_ = TrainingDiverged(
                r, t_end, errs[r], self.dt, counter="RLS trial",
                message=f"RLS training diverged: factor nMSE {errs[r]:.3g} in RLS trial {r} "
                        f"(t = {t_end:.3f} s of simulation; the readouts were frozen from then on)")
            raise self.diverged_
        self.train_errors_ = np.array(errs)
        self.mean_rate_ = run.n_spikes_last / (self.n_neurons * T * self.dt_op_)
        if self.calibration is not None:
            self.calibrate_period(*period, n_periods=self.calibration.n_periods,
                                  n_copies=self.calibration.n_copies)
        return self

    def _run_trial(self, phase, index, inputs, factors, outputs, record_rates=False, forced=False,
                   snapshot=None) -> dict:
        return self._loop.run_trial(phase, index, inputs, factors, outputs, record_rates, forced, snapshot)

    # ------------------------------------------------------------------ fitted state
    @property
    def w_(self):
        return self._loop.w

    @property
    def W_out_(self):
        return self._loop.rls_out.W

    @property
    def I_bias_(self):
        return self._loop.I_bias

    @property
    def dale_correction_(self):
        return self._loop.dale_correction

    @property
    def time_scale_(self) -> float:
        return self._loop.time_scale

    # ------------------------------------------------------------------ period calibration
    def calibrate_period(self, inputs, factor_period, *, n_periods: int = 10,
                         n_copies: int = 4, allow_diverged: bool = False) -> "FactorStudent":
        """Match the free-running period of a trained autonomous rhythm to its target's.

        One teacher-forced period (:meth:`force`) first sets the phase, as a cue before a test
        does (the end of training can leave a transient lag: measured −5 and −17 ms over the
        first free period at seeds 1 and 4 of the Dale oscillation). From ``n_copies``
        perturbed copies of the state after it (:meth:`predict_repeats`, with their own seeds,
        so none is the run that follows) the student runs ``n_periods`` periods closed loop
        without learning; the drift d of their lag per period
        (:func:`~brianforce.methods.factor_student.calibration.period_drift`) gives the free
        period T + d, and :meth:`set_time_scale` multiplies the time scale by κ = T / (T + d).
        The state after the forced period is mapped, not reset, so the next run continues from
        there. Repeated calls compound (``time_scale_`` is the product).

        Parameters
        ----------
        inputs : array (T, M)          the period's task input (zeros for an autonomous rhythm)
        factor_period : array (T, P)   one period of the teacher factors ỹ
        n_periods : int                free-running periods per copy (>= 2)
        n_copies : int                 perturbed copies of the state
        allow_diverged : bool          run after :class:`TrainingDiverged` too
        """
        self._fitted("calibrate_period", allow_diverged)
        if self.rest_step_ is not None:
            raise ValueError("calibrate_period is for autonomous rhythms, not trial tasks that "
                             "start every trial from a rest state (rest_step)")
        n_periods = PeriodCalibration(n_periods, n_copies).n_periods
        factor_period = trial_array(factor_period, "factor_period")
        inputs = trial_array(inputs, "inputs")
        if factor_period.shape[0] != 1 or inputs.shape[0] != 1:
            raise ValueError(f"inputs {inputs.shape} and factor_period {factor_period.shape} must be one period, "
                             "(T, M) and (T, P), not several trials")
        target = self._mirrored(factor_period)[0]
        inputs = inputs[0]
        T = len(target)
        if inputs.shape[0] != T or target.shape[1] != self.U_.shape[1]:
            raise ValueError(f"inputs {inputs.shape} and factor_period {target.shape} must be one "
                             f"period (T, ·) with {self.U_.shape[1]} factors")
        self.force(inputs[None], factor_period)
        runs = self.predict_repeats(np.repeat(inputs[None], int(n_periods), axis=0), n_copies,
                                    stream="period-calibration", allow_diverged=allow_diverged)
        lags, drift = period_drift([run.factors for run in runs], target)
        self.calibration_lags_ = lags * self.dt_op_
        self.calibration_drift_ = drift * self.dt_op_
        self.set_time_scale(self.time_scale_ * T / (T + drift))
        return self

    def set_time_scale(self, scale: float) -> "FactorStudent":
        """Run the trained network ``scale`` times slower than trained.

        The time constants ``tau_m, tau_r, tau_d, tau_slow`` and the fixed weights (V·s) are
        multiplied by ``scale``: the features ``r τ`` and every current are unchanged, so the
        network follows the same trajectories ``scale`` times slower. The refractory period
        becomes the nearest whole number of integration steps
        (:func:`~brianforce.methods.factor_student.calibration.rescaled_refractory`: measured,
        a κ of 0.99985 that took one step off it moved the drift by −1 to −3.6 ms per 1-s
        period). The current state is mapped, so the network carries on from the same point.
        """
        self._fitted("set_time_scale")
        self._loop.set_time_scale(scale)
        return self

    # ------------------------------------------------------------------ closed-loop runs
    def predict(self, inputs, *, record_rates: bool = True, record_spikes: bool = True,
                allow_diverged: bool = False, device: str | None = None) -> StudentRun:
        """Closed-loop run over trials ``inputs`` (n_trials, T, M), continuing the current state
        (refused after :class:`TrainingDiverged` unless ``allow_diverged=True``).

        ``device``: ``"runtime"`` (the ``network_operation`` loop), ``"cpp_standalone"`` (every trial
        in one generated program, :mod:`brianforce.devices.student_trials`; the same outputs,
        factors, rates and spikes to round-off) or ``"auto"`` (the program where a C++ compiler is
        found and the student has not diverged); default: the student's ``device``.
        """
        self._fitted("predict", allow_diverged)
        inputs = trial_array(inputs, "inputs")
        run = self._compiled("predict_program", device, inputs, record_rates, record_spikes)
        if run is not None:
            return run
        with one_blas_thread(), frozen_heap():
            return self._predict(inputs, record_rates, record_spikes)

    def _compiled(self, program: str, device, *args):
        """``student_trials.<program>(self, *args)`` where ``device`` (default: the student's) runs the
        trials as a program; ``None`` where they run at runtime (``"auto"``: no compiler, a divergence,
        or the program did not compile)."""
        device = self.device if device is None else device
        if device not in TRAINING_DEVICES:
            raise ValueError(f"device must be one of {TRAINING_DEVICES}, got {device!r}")
        require_runtime_device("FactorStudent.predict")
        self.test_device_ = "runtime"
        if device == "runtime" or (device == "auto" and (self.diverged_ is not None or not compiler_available())):
            return None
        if self.diverged_ is not None:
            raise ValueError("a diverged student's trials run at runtime only: use device='runtime'")
        from brianforce.devices import student_trials

        try:
            result, timings = getattr(student_trials, program)(self, *args)
        except CompilationFailed as exc:
            if device != "auto":
                raise
            logger.warning(f"FactorStudent: the trials' program did not compile ({exc}); running at runtime")
            return None
        self.test_device_ = "cpp_standalone"
        for k, v in timings.items():
            self.test_timings_[k] = self.test_timings_.get(k, 0.0) + v
        return result

    def _predict(self, inputs, record_rates, record_spikes):
        loop = self._loop
        n, T = inputs.shape[:2]
        P, Q = self.U_.shape[1], self.W_out_.shape[1]
        outs, ys = np.zeros((n, T, Q)), np.zeros((n, T, P))
        rates = np.zeros((n, T, self.n_neurons)) if record_rates else None
        n_before = loop.mon.num_spikes
        loop.mon.active = record_spikes
        t_origin = loop.t
        starts = []
        for k in range(n):
            starts.append(loop.t - t_origin)
            st = self._run_trial("test", k, inputs[k], None, None, record_rates)
            outs[k], ys[k] = st["z"], st["y"]
            if record_rates:
                rates[k] = st["rates"]
        loop.mon.active = False
        si = np.asarray(loop.mon.i[n_before:])
        stt = np.asarray(loop.mon.t[n_before:] / second) - t_origin
        return StudentRun(outs, ys, rates, si, stt, np.array(starts), T * self.dt_op_)

    def predict_repeats(self, inputs, n_repeats: int, *, jitter=1 * mV, stream: str = "test",
                        allow_diverged: bool = False, device: str | None = None) -> list:
        """Closed-loop runs of ``inputs`` from ``n_repeats`` perturbed copies of the current state.

        In each copy every membrane potential is shifted by uniform(−``jitter``, ``jitter``)
        (seeded by the student's seed, ``stream`` and the copy's index; trial tasks, which start
        every trial from the rest state, draw that state's jitter anew per copy). The fixed
        connectivity makes the network chaotic, so a free-running test is one draw of its
        trajectories; these copies show how much the result depends on that draw. Afterwards
        the state is the one before the call, so a following :meth:`predict` is unaffected.
        Returns one :class:`StudentRun` per copy (outputs and factors; no rates or spikes).
        Refused after :class:`TrainingDiverged` unless ``allow_diverged=True``. ``device`` as in
        :meth:`predict` (``"cpp_standalone"``: every copy side by side in one program).
        """
        self._fitted("predict_repeats", allow_diverged)
        if isinstance(n_repeats, bool) or int(n_repeats) != n_repeats or n_repeats < 1:
            raise ValueError(f"n_repeats must be a positive integer, got {n_repeats!r}")
        amp = check_quantity(jitter, volt, "jitter")
        inputs = trial_array(inputs, "inputs")
        runs = self._compiled("repeats_program", device, inputs, int(n_repeats), amp, stream)
        if runs is not None:
            return runs
        loop = self._loop
        name = "brianforce_before_repeats"
        loop.net.store(name)
        rest_rng = loop.rest_rng
        runs = []
        try:
            with frozen_heap():
                for r in range(int(n_repeats)):
                    loop.net.restore(name)
                    loop.rest_rng = rng_for(self.seed, f"student-{stream}-repeat-rest-{r}")
                    loop.set_jittered_v(loop.G.v_[:], rng_for(self.seed, f"student-{stream}-repeat-{r}"), amp)
                    runs.append(self.predict(inputs, record_rates=False, record_spikes=False,
                                             allow_diverged=allow_diverged, device="runtime"))
        finally:
            loop.net.restore(name)
            loop.rest_rng = rest_rng
        return runs

    def force(self, inputs, factor_targets) -> "FactorStudent":
        """Run teacher-forced trials (``y = ỹ``, no learning), e.g. to set the phase of an
        autonomous rhythm before closed-loop tests, as the original code does before testing."""
        self._fitted("force")
        inputs = trial_array(inputs, "inputs")
        factor_targets = trial_array(factor_targets, "factor_targets")
        P = self.U_.shape[1] // (2 if self._split and self.dale.mirror else 1)    # before mirroring
        if factor_targets.shape[:2] != inputs.shape[:2] or factor_targets.shape[2] != P:
            raise ValueError(f"factor_targets {factor_targets.shape} must be (n_trials, T, {P}) with the "
                             f"trials and samples of inputs {inputs.shape}")
        factor_targets = self._mirrored(factor_targets)
        with one_blas_thread(), frozen_heap():
            for k in range(inputs.shape[0]):
                self._run_trial("forced", k, inputs[k], factor_targets[k], None)
        return self

    # ------------------------------------------------------------------ weights
    def learned_weights(self) -> dict:
        """Effective learned synaptic weights (V·s), ``{"slow": (N, N), "fast": (N, N)}``.

        Entry ``[i, j]`` is the weight from neuron ``j`` onto ``i``: ``(U_i·w_j + σ_j β_j)·τ``,
        with ``β = 0`` unless Dale ``"offset"``.
        """
        N = self.n_neurons
        offs = np.concatenate([self.signs_, self.signs_]) * self.dale_beta_
        full = self.U_ @ self.w_.T + offs[None, :]
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
        weights per filter, and (methods other than "total") the learned weights on their own."""
        if self.dale is None:
            raise ValueError("the student was trained without Dale's law (dale=None)")
        sg = self.signs_[None, :]
        mats = [self.fixed_weights(), *self.total_weights().values()]
        if not self._total:
            mats += list(self.learned_weights().values())
        return int(sum(np.sum(m * sg < 0) for m in mats))

    def arrays(self, *, allow_diverged: bool = False) -> dict:
        """Everything needed to rebuild the trained network (for ``brianforce.io.save_arrays``);
        refused after :class:`TrainingDiverged` unless ``allow_diverged=True``."""
        self._fitted("arrays", allow_diverged)
        fixed_w = self.fixed_w_
        if self._total:     # what the fixed synapses carry: J^f + the clipping correction
            fixed_w = fixed_w + self.dale_correction_[self.fixed_i_, self.fixed_j_]
        fixed_w = fixed_w * self.time_scale_       # (and the period calibration's time scale)
        out = dict(U=self.U_, U_in=self.U_in_, w=self.w_, W_out=self.W_out_, I_bias=self.I_bias_,
                   signs=self.signs_, fixed_i=self.fixed_i_, fixed_j=self.fixed_j_,
                   fixed_w=fixed_w, dale_beta=self.dale_beta_,
                   train_errors=self.train_errors_, time_scale=np.array(self.time_scale_))
        if self._loop.rest is not None:     # trial tasks: the state every trial starts from
            out.update({f"rest_{k}": v.copy() for k, v in self._loop.rest.items()})
        return out


def _factor_nmse(y, target, scale: float) -> float:
    """``Σ|y − ỹ|² / Σ|ỹ|²`` over a trial; a trial whose factors are all zero is judged against
    ``T·P·scale²`` (``scale``: :func:`~brianforce.learning.targets.divergence_scale_of` of all factors)."""
    den = np.sum(target ** 2)
    return float(np.sum((y - target) ** 2) / (den if den > 0 else target.size * scale ** 2))


