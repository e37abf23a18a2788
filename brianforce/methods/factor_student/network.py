"""The Brian2 network of a factor student, its closed loop and its learning, trial by trial.

Every ``dt_op`` (the task's sample interval) a ``network_operation`` reads the features
``s = [τ_slow r_s; τ_d r_f]`` (filtered spike trains × their decay, ≈ rate × τ), computes the
learned factors ``y = wᵀ s`` and output ``z = W_outᵀ [y; 1]``, updates the RLS readouts in RLS
trials, and sets ``I_ctrl = U y_drive + U_in u(t)`` (+ the Dale ``"offset"`` common mode),
``y_drive`` being ỹ (teacher-forced), ``y`` (closed loop) or either plus an
Ornstein-Uhlenbeck perturbation (``forcing_noise``). Runtime device only (the loop is Python;
:mod:`brianforce.devices.student_program` runs a whole training as one generated program and
:meth:`StudentLoop.adopt` carries on from its end; :mod:`brianforce.devices.student_network`
generates the trained closed loop for standalone devices).

References
----------
DePasquale B, Churchland MM, Abbott LF (2016) arXiv:1601.07620.
DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023) Neuron 111:631-649.
"""
from __future__ import annotations

import numpy as np
from brian2 import Network, NetworkOperation, NeuronGroup, SpikeMonitor, Synapses, second, volt

from brianforce.checks import as_number
from brianforce.devices.activation import mark_as_run
from brianforce.errors import TrainingDiverged
from brianforce.learning.rls import RLS
from brianforce.methods.factor_student.calibration import RESCALED_TIME_CONSTANTS, rescaled_refractory
from brianforce.methods.factor_student.dale import SplitDaleRLS, clip_rows, total_correction
from brianforce.methods.factor_student.equations import (REST_JITTER, STATE_VARIABLES, STUDENT_EQUATIONS, STUDENT_RESET,
                                                         STUDENT_THRESHOLD)
from brianforce.methods.factor_student.params import DaleSettings, StudentSchedule
from brianforce.methods.factor_student.structure import StudentStructure
from brianforce.naming import own_clock
from brianforce.networks.force_lif import require_runtime_device
from brianforce.seeding import rng_for

__all__ = ["StudentLoop", "STATE_VARIABLES"]


class StudentLoop:
    """Brian2 network of a student with its learned loop closed in a ``network_operation``.

    Parameters
    ----------
    structure : StudentStructure
    neuron : dict
        SI floats of :class:`~brianforce.methods.factor_student.params.StudentNeuron`
        (``StudentNeuron.si()``).
    schedule : StudentSchedule
    dale : DaleSettings or None
    dt, dt_op : float
        Integration step and sample interval of the targets (s).
    n_outputs : int
    factor_std : array (P,)
        Standard deviation of each target factor (scale of the forcing noise).
    seed : int

    Attributes
    ----------
    G, S, mon, net : the neurons, fixed synapses, spike monitor (inactive) and network
    rls_out : RLS                         output readout ``W_out``
    rls_w : RLS                           factor readout (all methods but Dale ``"split"``)
    split : SplitDaleRLS or None          Dale ``"split"`` factor readout
    I_bias : ndarray (N,)                 current bias (V)
    dale_correction : ndarray             Dale ``"total"``: clipping correction C (V·s)
    rest : dict or None                   stored rest state (:meth:`store_rest`)
    rest_rng : Generator                  jitter of the rest state's membrane potentials
    time_scale : float                    factor on the time constants (:meth:`set_time_scale`)
    trial : dict                          state of the running trial (:meth:`run_trial`)
    """

    def __init__(self, structure: StudentStructure, neuron: dict, schedule: StudentSchedule,
                 dale: DaleSettings | None, dt: float, dt_op: float, n_outputs: int, factor_std,
                 seed: int):
        require_runtime_device("FactorStudent training")
        self.structure, self.neuron, self.schedule, self.dale = structure, neuron, schedule, dale
        self.dt, self.dt_op, self.seed = dt, dt_op, seed
        times = schedule.si()
        self._update_interval, self._noise_tau = times["update_interval"], times["forcing_noise_tau"]
        method = dale.method if dale is not None else None
        self._total, self._split, self._offset = (method == "total", method == "split", method == "offset")
        N, P = structure.U.shape
        self.n_neurons = N
        self.time_scale = 1.0
        self.rest = None
        self.rest_rng = rng_for(seed, "student-rest-jitter")
        self._build()
        self._sched_rng = rng_for(seed, "student-schedule")
        self._noise_rng = rng_for(seed, "student-forcing-noise")
        self._factor_std = factor_std
        self._eps = np.zeros(P)
        # Dale "total": only the fast features (same filter as J^f) are learned
        self._feat = slice(N, 2 * N) if self._total else slice(None)
        self.n_updates = 0
        self.rls_w = RLS(N if self._total else 2 * N, P, alpha=schedule.alpha)
        feat_sign = np.concatenate([structure.signs, structure.signs])
        self._offset_weights = feat_sign * structure.dale_beta
        self.split = (SplitDaleRLS(feat_sign, P, schedule.alpha, iterations=dale.iterations, hold=dale.hold,
                                   refactor_every=dale.refactor_every)
                      if self._split else None)
        self.rls_out = RLS(P + 1, n_outputs, alpha=schedule.alpha)
        self.dale_correction = np.zeros((N, N)) if self._total else np.zeros((0, 0))
        self.I_bias = None

    def _build(self):
        N, nrn, st = self.n_neurons, self.neuron, self.structure
        rng_init = rng_for(self.seed, "student-initial")
        # fixed names, clocks included (brianforce.naming): every student of the same structure
        # runs the code compiled for the first one
        G = NeuronGroup(N, STUDENT_EQUATIONS, threshold=STUDENT_THRESHOLD, reset=STUDENT_RESET, refractory="tau_ref_",
                        method="euler", clock=own_clock("student_neurons", self.dt * second), name="student_neurons",
                        namespace={"v_th_": nrn["v_th"] * volt})
        G.tau_m = nrn["tau_m"] * second
        G.tau_r = nrn["tau_r"] * second
        G.tau_d = nrn["tau_d"] * second
        G.tau_slow = nrn["tau_slow"] * second
        G.tau_ref_ = nrn["tau_ref"] * second
        G.v_reset_ = nrn["v_reset"] * volt
        G.v = (nrn["v_reset"] + (nrn["v_th"] - nrn["v_reset"]) * rng_init.random(N)) * volt
        G.I_bias = nrn["bias"] * volt
        S = Synapses(G, G, "w : volt*second", on_pre="h_post += w/(tau_r_post*tau_d_post)",
                     clock=own_clock("student_fixed", self.dt * second), name="student_fixed")
        S.connect(i=st.fixed_j, j=st.fixed_i)
        S.w = st.fixed_w * volt * second
        if self._total:   # corrections are written by synapse index: check the order once
            if not (np.array_equal(S.i[:], st.fixed_j) and np.array_equal(S.j[:], st.fixed_i)):
                raise RuntimeError("fixed synapses were not created in the order given")
            self._syn_k = np.full((N, N), -1)
            self._syn_k[st.fixed_i, st.fixed_j] = np.arange(len(st.fixed_i))
        mon = SpikeMonitor(G, name="student_spikes")
        mon.active = False
        op = NetworkOperation(self._operate, dt=self.dt_op * second, when="start",
                              name="student_rls_hook")
        self.G, self.S, self.mon = G, S, mon
        self.net = Network(G, S, mon, op)
        self._mean_sum = np.zeros(N)
        self._rate_sum = np.zeros(N)
        self._mean_n = 0

    @property
    def t(self) -> float:
        """Simulated time (s)."""
        return float(self.net.t / second)

    @property
    def w(self) -> np.ndarray:
        """Factor readout (2N, P) over [slow; fast] features (Dale ``"total"``: slow rows 0)."""
        if self._total:
            return np.concatenate([np.zeros_like(self.rls_w.W), self.rls_w.W])
        if self._split:
            return self.split.W
        return self.rls_w.W

    def features(self) -> np.ndarray:
        """``[τ_slow r_s; τ_d r_f]`` (time constants × the time scale)."""
        k = self.time_scale
        return np.concatenate([self.G.r_s_[:] * (self.neuron["tau_slow"] * k),
                               self.G.r_f_[:] * (self.neuron["tau_d"] * k)])

    # ------------------------------------------------------------------ the hook
    def _operate(self):
        st = self.trial
        k = st["k"]
        if k >= st["T"]:
            return
        if st["snapshot"] == k:
            self.store_rest()
        s = self.features()
        phase = st["phase"]
        U = self.structure.U
        if phase in ("forced", "mean"):
            y = st["factors"][k]
            z = st["outputs"][k] if st["outputs"] is not None else None
        else:
            y = s[self._feat] @ (self.split.W if self._split else self.rls_w.W)
            z = np.append(y, 1.0) @ self.rls_out.W
            if not np.all(np.isfinite(y)):
                raise TrainingDiverged(
                    st["index"], self.t, y, self.dt, counter=f"{phase} trial",
                    message=f"learned factors became NaN/Inf in {phase} trial {st['index']} at "
                            f"t = {k * self.dt_op:.4f} s of the trial (t = {self.t:.4f} s of simulation)")
        if phase == "rls" and self._update_now(k):
            if self._split:
                self.split.update(s, st["factors"][k])
            else:
                self.rls_w.update(s[self._feat], y - st["factors"][k])
            self.rls_out.update(np.append(y, 1.0), z - st["outputs"][k])
            self.n_updates += 1
            if self._total and self.n_updates % self.dale.check_every == 0:
                self.clip_total()
            if self._split:
                if self.n_updates % self.dale.check_every == 0:
                    self.split.project()
            elif self._offset:
                clip_rows(self.rls_w.W, self.structure.row_limit)
        y_drive = st["factors"][k] if (phase == "rls" and st.get("forced", False)) else y
        noise = self.schedule.forcing_noise
        if phase == "rls" and noise > 0:   # OU perturbation; the target stays ỹ
            a = np.exp(-self.dt_op / self._noise_tau)
            self._eps = a * self._eps + np.sqrt(1 - a * a) * self._noise_rng.standard_normal(len(y))
            y_drive = y_drive + noise * self._factor_std * self._eps
        common = float(np.dot(self._offset_weights, s)) if self._offset else 0.0
        if phase == "mean":   # the Dale offset's common-mode current is demeaned too
            self._mean_sum += self.G.I_syn_[:] + U @ y + common
            self._rate_sum += self.G.r_f_[:]
            self._mean_n += 1
        ctrl = U @ y_drive + st["ext"][k] + common
        self.G.I_ctrl_[:] = ctrl
        st["y"][k] = y
        if z is not None:
            st["z"][k] = z
        if st["rates"] is not None:
            st["rates"][k] = self.G.r_f_[:]
        st["k"] = k + 1

    def _update_now(self, k) -> bool:
        if self.schedule.update_times == "random":
            return self._sched_rng.random() < self.dt_op / self._update_interval
        every = max(1, int(round(self._update_interval / self.dt_op)))
        return k % every == 0

    # ------------------------------------------------------------------ training steps
    def remove_mean_input(self) -> None:
        """After the mean-estimation trials: ``I_bias = bias − mean(I_syn + U ỹ)`` per neuron."""
        if self._mean_n:
            self.I_bias = self.neuron["bias"] - self._mean_sum / self._mean_n
            self._mean_rate = self._rate_sum / self._mean_n
        else:
            self.I_bias = np.full(self.n_neurons, self.neuron["bias"])
            self._mean_rate = np.zeros(self.n_neurons)
        self.G.I_bias_[:] = self.I_bias
        self._I_bias_mean_removed = self.I_bias.copy()

    def training_plan(self, factor_targets, rest_step, scale: float):
        """The operations of a whole training as tables for the generated program
        (:func:`~brianforce.devices.student_program.plan_student_training`), drawn from copies of this
        loop's generators as :meth:`run_trial` would draw them; ``scale``: the divergence scale."""
        from brianforce.devices.student_program import plan_student_training

        n, T, _ = factor_targets.shape
        return plan_student_training(self.schedule, n, T, factor_targets, self._factor_std, self.dt_op, rest_step,
                                     scale, self.n_neurons, self._sched_rng, self._noise_rng, self.rest_rng, self._eps)

    def adopt(self, run, plan) -> None:
        """Carry on at runtime from a training run of the generated program
        (:class:`~brianforce.devices.student_program.StudentProgramRun` of ``plan``): its final neuron
        state, readouts with their ``P``, mean-input statistics (the bias is recomputed from them), rest
        state, and the generators and forcing-noise state after the plan's draws."""
        G = self.G
        for k in (*STATE_VARIABLES, "I_ctrl", "lastspike"):
            getattr(G, k + "_")[:] = run.state[k]
        G.not_refractory_[:] = run.state["not_refractory"]
        self._mean_sum, self._rate_sum, self._mean_n = run.mean_sum, run.rate_sum, run.n_mean
        self.remove_mean_input()
        for rls, W, P in ((self.rls_w, run.w, run.P), (self.rls_out, run.W_out, run.P_out)):
            rls.W[...] = W
            rls.set_P(P)
            rls.n_updates = run.n_updates
        self.n_updates = run.n_updates
        self.rest = run.rest
        self._eps = np.array(plan.eps, dtype=float)
        self._sched_rng, self._noise_rng, self.rest_rng = plan.generators
        mark_as_run(self.net)

    def clip_total(self) -> float:
        """Dale ``"total"``: clip every wrong-sign total weight to zero (the correction folded
        into the fixed synapses, its mean current removed from the bias); returns the
        fraction clipped."""
        J = self.structure.fixed_matrix()
        C, bad = total_correction(J, self.structure.U, self.rls_w.W, self.neuron["tau_d"],
                                  self.structure.signs)
        changed = np.nonzero(C != self.dale_correction)
        if len(changed[0]):
            k = self._syn_k[changed]
            self.S.w_[k] = J[changed] + C[changed]
            self.dale_correction = C
            # the correction's mean current (at the mean-phase rates) is removed too
            self.I_bias = self._I_bias_mean_removed - C @ self._mean_rate
            self.G.I_bias_[:] = self.I_bias
        return float(np.mean(bad))

    def end_rls_trial(self) -> float | None:
        """Dale steps after an RLS trial: ``"total"`` clips, ``"split"`` re-solves (and decays
        its statistics by ``forget``). Returns the fraction clipped (``"total"``) or of readout
        weights held at 0 (``"split"``), else ``None``."""
        if self._total:
            return self.clip_total()
        if self._split:
            self.split.project()
            if self.dale.forget < 1:    # older trials' statistics decay (ridge term kept)
                self.split.forget(self.dale.forget)
            return float(np.mean(self.split.W == 0))
        return None

    # ------------------------------------------------------------------ trials
    def store_rest(self) -> None:
        """Store the current neuron state as the rest state of trial tasks."""
        self.rest = {k: getattr(self.G, k + "_")[:].copy() for k in STATE_VARIABLES}

    def restore_rest(self) -> None:
        """Start a trial from the stored rest state (as the teacher starts each trial at
        rest); membrane potentials get a small seeded jitter so trials still differ."""
        for k, v in self.rest.items():
            getattr(self.G, k + "_")[:] = v
        self.set_jittered_v(self.rest["v"], self.rest_rng, REST_JITTER)
        self.G.lastspike_[:] = -1e4
        self.G.not_refractory_[:] = True

    def set_jittered_v(self, v, rng, amplitude: float) -> None:
        """Set the membrane potentials to :meth:`jittered_v`."""
        self.G.v_[:] = self.jittered_v(v, rng, amplitude)

    def jittered_v(self, v, rng, amplitude: float) -> np.ndarray:
        """Membrane potentials ``v`` + uniform(−amplitude, amplitude) (V), kept below threshold."""
        return np.minimum(v + rng.uniform(-amplitude, amplitude, self.n_neurons), self.neuron["v_th"] - 1e-4)

    def state_now(self) -> dict:
        """The neurons' state now: ``STATE_VARIABLES`` (SI), ``lastspike`` (s, relative to now) and
        ``not_refractory``."""
        G = self.G
        state = {k: getattr(G, k + "_")[:].copy() for k in STATE_VARIABLES}
        state["lastspike"] = G.lastspike_[:] - float(self.net.t_)
        state["not_refractory"] = G.not_refractory_[:].copy()
        return state

    def set_state(self, state: dict) -> None:
        """Carry on from ``state`` (as :meth:`state_now` returns it)."""
        G = self.G
        for k in STATE_VARIABLES:
            getattr(G, k + "_")[:] = state[k]
        G.lastspike_[:] = state["lastspike"] + float(self.net.t_)
        G.not_refractory_[:] = state["not_refractory"]

    def run_trial(self, phase, index, inputs, factors, outputs, record_rates=False, forced=False,
                  snapshot=None) -> dict:
        """Simulate one trial.

        Parameters
        ----------
        phase : {"forced", "mean", "rls", "test"}
        index : int                      trial counter (for messages)
        inputs : array (T, M)            task input
        factors, outputs : array (T, P), (T, Q) or None
            Targets ỹ and f (forced and mean trials drive with ỹ; RLS trials learn them).
        record_rates : bool              keep the fast filtered spike trains
        forced : bool                    RLS trial driven by ỹ (teacher forcing)
        snapshot : int, optional         sample at which to store the rest state

        Returns
        -------
        dict
            The trial state: ``y`` (T, P) learned (or forced) factors, ``z`` (T, Q) outputs,
            ``rates`` (T, N) or None.
        """
        T = inputs.shape[0]
        P = self.structure.U.shape[1]
        Q = self.rls_out.W.shape[1]
        if phase in ("rls", "test") and self.rest is not None:
            self.restore_rest()
        self.trial = dict(phase=phase, index=index, k=0, T=T, factors=factors, outputs=outputs,
                          forced=forced, snapshot=snapshot,
                          ext=inputs @ self.structure.U_in.T, y=np.zeros((T, P)), z=np.zeros((T, Q)),
                          rates=np.zeros((T, self.n_neurons)) if record_rates else None)
        self.net.run(T * self.dt_op * second)
        return self.trial

    def set_time_scale(self, scale: float) -> None:
        """Multiply the time constants and fixed weights by ``scale`` (relative to training;
        ``tau_ref`` in whole integration steps, :func:`rescaled_refractory`).

        The current state and the stored rest state of trial tasks are mapped too (filtered rates
        ÷ ρ, their derivatives ÷ ρ², ρ the change of scale), so the network carries on from the
        same point of its trajectory and every later trial starts from the same rest.
        """
        scale = as_number(scale, "scale", low=0.0, low_open=True)
        G = self.G
        rho = scale / self.time_scale
        for name, power in (("h", 1), ("r_f", 1), ("r_s", 1), ("hr_f", 2), ("hr_s", 2)):
            getattr(G, name + "_")[:] = getattr(G, name + "_")[:] / rho ** power
            if self.rest is not None:
                self.rest[name] = self.rest[name] / rho ** power
        for name in RESCALED_TIME_CONSTANTS:
            setattr(G, name, self.neuron[name] * scale * second)
        G.tau_ref_ = rescaled_refractory(self.neuron["tau_ref"], self.dt, scale) * second
        self.S.w_[:] = self.S.w_[:] * (scale / self.time_scale)
        self.time_scale = float(scale)
