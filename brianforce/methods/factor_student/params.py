"""Parameter records of the factor student (:class:`~brianforce.methods.factor_student.FactorStudent`).

Frozen dataclasses, one per part of the model: the LIF neurons (:class:`StudentNeuron`), the
fixed random structure (:class:`FixedNetwork`), the training schedule (:class:`StudentSchedule`),
Dale's law (:class:`DaleSettings`) and the period calibration (:class:`PeriodCalibration`).
Physical values are Brian2 quantities; a value of the wrong dimension (or a unit where none
belongs) raises ``DimensionMismatchError``, any other invalid value ``ValueError``, each
naming the parameter and the value. :func:`recipe_student_kwargs` maps the flat keys of a
recipe's ``[student]`` section onto the records.

References
----------
DePasquale B, Churchland MM, Abbott LF (2016) Using firing-rate dynamics to train recurrent
networks of spiking model neurons. arXiv:1601.07620.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np
from brian2 import Quantity, ms, mV, second, volt
from brian2.units.fundamentalunits import DimensionMismatchError, get_dimensions, have_same_dimensions

from brianforce.checks import as_count, as_flag, as_number
from brianforce.config import RecipeError, parse_quantity
from brianforce.neurons.lif import LIFParams

__all__ = ["check_fit_arguments", "StudentNeuron", "FixedNetwork", "StudentSchedule", "DaleSettings", "PeriodCalibration",
           "DALE_METHODS", "DALE_POOLS", "UPDATE_TIMES", "recipe_student_kwargs", "parse_student_section",
           "STUDENT_KEYS", "check_quantity", "DEFAULT_DT"]

#: Integration step of a student's neurons unless one is given.
DEFAULT_DT = 0.05 * ms
DALE_METHODS = ("total", "offset", "split")
DALE_POOLS = ("overlap", "disjoint")
UPDATE_TIMES = ("random", "regular")


def check_quantity(value, unit, name: str, *, positive: bool = True, allow_zero: bool = False) -> float:
    """SI float of ``value`` after checking that it has ``unit``'s dimension and is finite.

    Parameters
    ----------
    value : Quantity
    unit : Unit
        Its expected dimension (``second``, ``volt``, ``volt*second``).
    name : str
        Parameter name for the error messages.
    positive, allow_zero : bool
        Require ``value > 0`` (or ``>= 0`` with ``allow_zero``); ``positive=False``: any sign.

    Raises
    ------
    DimensionMismatchError
        Wrong dimension (a plain number where a unit belongs included).
    ValueError
        Not finite, or of the wrong sign.
    """
    if not have_same_dimensions(value, unit):
        raise DimensionMismatchError(f"{name} must have units of {unit!r}, got {value!r}",
                                     get_dimensions(value), get_dimensions(unit))
    v = _si(value, unit)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if positive and not (v > 0 or (allow_zero and v == 0)):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return v


def check_fit_arguments(inputs, factor_targets, output_targets, dt, rest_step, *, step: float,
                        calibrated: bool, n_forced: int) -> tuple:
    """The arguments of :meth:`FactorStudent.fit <brianforce.methods.factor_student.FactorStudent.fit>`,
    checked before anything of the student changes: ``(inputs, factor_targets, output_targets, dt)``, the
    arrays as (n_trials, T, ·) floats and ``dt`` in seconds, a multiple of the integration ``step`` (s)."""
    from brianforce.tasks.trials import trial_array

    inputs, factor_targets, output_targets = (trial_array(a, n) for a, n in (
        (inputs, "inputs"), (factor_targets, "factor_targets"), (output_targets, "output_targets")))
    if not inputs.shape[:2] == factor_targets.shape[:2] == output_targets.shape[:2]:
        raise ValueError("inputs, factor_targets and output_targets must share (n_trials, T)")
    if calibrated and (inputs.shape[0] != 1 or rest_step is not None):
        raise ValueError("period calibration is for autonomous rhythms: one target trial (one "
                         "period) and no rest_step")
    dt = check_quantity(dt, second, "dt")
    ratio = dt / step
    if abs(ratio - round(ratio)) > 1e-6 or round(ratio) < 1:
        raise ValueError(f"dt of the targets ({dt} s) must be a multiple of the integration step ({step} s)")
    if rest_step is not None:
        if isinstance(rest_step, bool) or int(rest_step) != rest_step or not 0 <= rest_step < inputs.shape[1]:
            raise ValueError(f"rest_step must be a sample index in [0, {inputs.shape[1]}), got {rest_step!r}")
        if n_forced < 1:
            raise ValueError("rest_step needs n_forced >= 1 (the state is stored in a forced trial)")
    return inputs, factor_targets, output_targets, dt


def _si(value, unit) -> float:
    return float(np.asarray(value / unit)) * float(unit)


def _unitless(value, name: str):
    if isinstance(value, Quantity) and not value.is_dimensionless:
        raise DimensionMismatchError(f"{name} is dimensionless, got {value!r}", get_dimensions(value))


def _number(value, name: str, low: float, high: float = np.inf, *, low_open: bool = True,
            high_open: bool = False) -> float:
    """``value`` as a float in the interval (``low``, ``high``] (ends as given)."""
    return as_number(value, name, low=low, high=None if high == np.inf else high, low_open=low_open,
                     high_open=high_open)


def _integer(value, name: str, minimum: int) -> int:
    return as_count(value, name, minimum=minimum)


def _flag(value, name: str) -> bool:
    return as_flag(value, name)


def _choice(value, name: str, choices: tuple) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def _quantity(default, unit, sign: str = "positive"):
    """A quantity field: its unit and sign (``"positive"``, ``"non-negative"`` or ``"any"``)."""
    return field(default_factory=default.copy, metadata={"unit": unit, "sign": sign})


class _Record:
    """Checks the quantity fields of a record (then ``_check``) and gives their SI view."""

    def __post_init__(self):
        for f in fields(self):
            if "unit" in f.metadata:
                sign = f.metadata["sign"]
                check_quantity(getattr(self, f.name), f.metadata["unit"], f.name,
                               positive=sign != "any", allow_zero=sign == "non-negative")
        self._check()

    def _check(self):
        pass

    def _set(self, name, value):
        object.__setattr__(self, name, value)

    def si(self) -> dict:
        """The fields as a dict, quantities as SI floats (s, V, V·s)."""
        return {f.name: _si(getattr(self, f.name), f.metadata["unit"]) if "unit" in f.metadata
                else getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class StudentNeuron(_Record):
    """LIF neurons of the student and their filtered spike trains (DePasquale et al. 2016).

    ``tau_m dv/dt = −v + I_syn + I_ctrl + I_bias`` (currents in volts), threshold ``v > v_th``,
    reset to ``v_reset``, refractory for ``tau_ref``. Spikes are filtered with rise ``tau_r``
    and decay ``tau_d`` (fast: the fixed synapses and the fast features) or ``tau_slow``
    (slow features).

    Attributes
    ----------
    tau_m : Quantity (time)      membrane time constant (10 ms)
    tau_ref : Quantity (time)    refractory period (2 ms; 0 allowed)
    v_th : Quantity (voltage)    threshold (−40 mV)
    v_reset : Quantity (voltage) reset (−65 mV), below ``v_th``
    bias : Quantity (voltage)    bias current before the mean removal of training (−45 mV)
    tau_r : Quantity (time)      filter rise time (2 ms)
    tau_d : Quantity (time)      fast filter decay (20 ms)
    tau_slow : Quantity (time)   slow filter decay (100 ms)
    """

    tau_m: Quantity = _quantity(10 * ms, second)
    tau_ref: Quantity = _quantity(2 * ms, second, "non-negative")
    v_th: Quantity = _quantity(-40 * mV, volt, "any")
    v_reset: Quantity = _quantity(-65 * mV, volt, "any")
    bias: Quantity = _quantity(-45 * mV, volt, "any")
    tau_r: Quantity = _quantity(2 * ms, second)
    tau_d: Quantity = _quantity(20 * ms, second)
    tau_slow: Quantity = _quantity(100 * ms, second)

    def _check(self):
        if not self.v_reset < self.v_th:
            raise ValueError(f"v_reset must be below v_th, got v_reset = {self.v_reset!r}, v_th = {self.v_th!r}")

    @property
    def lif(self) -> LIFParams:
        """The LIF parameters in SI floats (:class:`brianforce.neurons.lif.LIFParams`; the
        slow filter ``tau_slow`` is the student's own)."""
        si = self.si()
        return LIFParams(**{f.name: si[f.name] for f in fields(LIFParams)})


@dataclass(frozen=True)
class FixedNetwork(_Record):
    """The student's untrained structure: fixed recurrent weights and the two encoders.

    Attributes
    ----------
    fixed_gain : Quantity (volt·second)
        Standard deviation × √N of the fixed weights J^f (0.3 mV·s; 0 allowed).
    fixed_mean : Quantity (volt·second)
        Mean total fixed weight onto a neuron (−0.3 mV·s; < 0: net inhibition).
    signal_amplitude : Quantity (voltage)
        RMS of the factor drive U ỹ over the training targets (10 mV); sets the scale of U.
    input_gain : Quantity (voltage)
        Scale of the uniform(−1, 1) task-input weights U_in (10 mV; 0 allowed).
    """

    fixed_gain: Quantity = _quantity(0.3 * mV * second, volt * second, "non-negative")
    fixed_mean: Quantity = _quantity(-0.3 * mV * second, volt * second, "any")
    signal_amplitude: Quantity = _quantity(10 * mV, volt)
    input_gain: Quantity = _quantity(10 * mV, volt, "non-negative")


@dataclass(frozen=True)
class StudentSchedule(_Record):
    """Training schedule of the factor student: trial phases and RLS (DePasquale et al. 2016).

    Training runs ``n_forced`` teacher-forced trials, ``n_mean`` trials estimating the mean
    input of every neuron (removed through its bias), ``n_forced`` settling trials, then
    ``n_rls`` RLS trials (see :class:`~brianforce.methods.factor_student.FactorStudent`).

    Attributes
    ----------
    alpha : float                  RLS ``P(0) = α I`` for the factor and output readouts (1)
    update_interval : Quantity (time)
        Mean interval between RLS updates (2 ms).
    update_times : {"random", "regular"}
        Updates at Bernoulli-distributed sample steps with that mean interval, or every
        ``update_interval``.
    n_forced, n_mean, n_rls : int  trials per training phase (5, 10, 50; ``n_rls >= 1``)
    teacher_forced_rls : bool
        Drive the neurons with the target factors ỹ during RLS trials (True) or with their own
        learned factors (closed loop, FORCE-like).
    n_closed_loop : int            with teacher forcing: the last RLS trials run closed loop (0)
    forcing_noise : float
        Ornstein-Uhlenbeck perturbation of the factors that drive the neurons in RLS trials,
        × each factor's standard deviation (0 = off); the RLS target stays ỹ.
    forcing_noise_tau : Quantity (time)
        Its correlation time (50 ms).
    divergence_threshold : float
        An RLS trial (after the first) whose factor nMSE ``Σ|y − ỹ|² / Σ|ỹ|²`` exceeds it raises
        :class:`~brianforce.errors.TrainingDiverged` (25; 1 is the error of ``y = 0``). A trial
        whose factors are all zero is judged against ``T·P·a²``, ``a`` the amplitude of all
        factor targets (:func:`~brianforce.learning.targets.divergence_scale_of`).
    """

    alpha: float = 1.0
    update_interval: Quantity = _quantity(2 * ms, second)
    update_times: str = "random"
    n_forced: int = 5
    n_mean: int = 10
    n_rls: int = 50
    teacher_forced_rls: bool = True
    n_closed_loop: int = 0
    forcing_noise: float = 0.0
    forcing_noise_tau: Quantity = _quantity(50 * ms, second)
    divergence_threshold: float = 25.0

    def _check(self):
        self._set("alpha", _number(self.alpha, "alpha", 0))
        self._set("update_times", _choice(self.update_times, "update_times", UPDATE_TIMES))
        self._set("n_forced", _integer(self.n_forced, "n_forced", 0))
        self._set("n_mean", _integer(self.n_mean, "n_mean", 0))
        self._set("n_rls", _integer(self.n_rls, "n_rls", 1))
        self._set("teacher_forced_rls", _flag(self.teacher_forced_rls, "teacher_forced_rls"))
        self._set("n_closed_loop", _integer(self.n_closed_loop, "n_closed_loop", 0))
        self._set("forcing_noise", _number(self.forcing_noise, "forcing_noise", 0, low_open=False))
        self._set("divergence_threshold", _number(self.divergence_threshold, "divergence_threshold", 0))


@dataclass(frozen=True)
class DaleSettings(_Record):
    """Dale's law for the student: every neuron excitatory or inhibitory, and how the learned
    weights keep their signs (:mod:`brianforce.methods.factor_student.dale`).

    Attributes
    ----------
    method : {"total", "offset", "split"}
        ``"total"``: learned fast weights ride on the fixed ones, wrong-sign totals clipped;
        ``"offset"``: balanced offset β with norm clipping of the readout rows; ``"split"``:
        non-negative factor pools and a sign-constrained readout (exact ridge solves).
    frac_exc : float               fraction of excitatory neurons, in (0, 1) (0.8)
    offset : Quantity (voltage)    ``"offset"``: the offset β (2 mV)
    check_every : int
        ``"total"``: RLS updates between sign checks (and clips); ``"split"``: updates between
        exact constrained re-solves (25).
    project : bool
        ``"total"``: project the factor drive U off J^f's rank-one mean direction (True).
    pools : {"overlap", "disjoint"}
        ``"split"``: random overlapping non-negative pools, or one pool per neuron.
    pool_fraction : float          ``"split"``, ``"overlap"``: fraction of neurons per pool, in (0, 1]
    iterations : int               ``"split"``: block-pivoting exchanges per re-solve (10)
    mirror : bool                  ``"split"``: train ``[ỹ, −ỹ]`` (on and off pools)
    hold : bool                    ``"split"``: hold the weights between re-solves (no RLS steps)
    refactor_every : int
        ``"split"``: 1 (default) factorises every changed free set afresh at each re-solve; k > 1
        carries ``(H_FF)⁻¹`` through the exchanges and factorises every k-th re-solve
        (:class:`~brianforce.methods.factor_student.dale.SplitDaleRLS`; the same problem in less
        than half the re-solve time, a different round-off).
    forget : float
        ``"split"``: factor by which the ridge statistics of past RLS trials decay after each
        trial, in (0, 1] (1 = none).
    """

    method: str = "total"
    frac_exc: float = 0.8
    offset: Quantity = _quantity(2 * mV, volt)
    check_every: int = 25
    project: bool = True
    pools: str = "overlap"
    pool_fraction: float = 1.0
    iterations: int = 10
    mirror: bool = False
    hold: bool = False
    forget: float = 1.0
    refactor_every: int = 1

    def _check(self):
        self._set("method", _choice(self.method, "method", DALE_METHODS))
        self._set("frac_exc", _number(self.frac_exc, "frac_exc", 0, 1, high_open=True))
        self._set("check_every", _integer(self.check_every, "check_every", 1))
        self._set("project", _flag(self.project, "project"))
        self._set("pools", _choice(self.pools, "pools", DALE_POOLS))
        self._set("pool_fraction", _number(self.pool_fraction, "pool_fraction", 0, 1))
        self._set("iterations", _integer(self.iterations, "iterations", 1))
        self._set("mirror", _flag(self.mirror, "mirror"))
        self._set("hold", _flag(self.hold, "hold"))
        self._set("forget", _number(self.forget, "forget", 0, 1))
        self._set("refactor_every", _integer(self.refactor_every, "refactor_every", 1))


@dataclass(frozen=True)
class PeriodCalibration(_Record):
    """Period calibration of a trained autonomous rhythm
    (:meth:`~brianforce.methods.factor_student.FactorStudent.calibrate_period`).

    Attributes
    ----------
    n_periods : int   free-running periods per copy of the state (>= 2; 10)
    n_copies : int    perturbed copies of the state after one forced period (4)
    """

    n_periods: int = 10
    n_copies: int = 4

    def _check(self):
        self._set("n_periods", _integer(self.n_periods, "n_periods", 2))
        self._set("n_copies", _integer(self.n_copies, "n_copies", 1))


# flat recipe key -> field of its record
_NEURON_KEYS = {f.name: f.name for f in fields(StudentNeuron)}
_NETWORK_KEYS = {f.name: f.name for f in fields(FixedNetwork)}
_SCHEDULE_KEYS = {("schedule" if f.name == "update_times" else f.name): f.name for f in fields(StudentSchedule)}
_DALE_KEYS = {"frac_exc": "frac_exc", **{f"dale_{f.name}": f.name for f in fields(DaleSettings)
                                         if f.name != "frac_exc"}}
_CALIBRATION_KEYS = {"period_calibration": "n_periods", "calibration_copies": "n_copies"}
_TOP_KEYS = ("n_neurons", "dt", "seed", "device", "dale")
_STRING_KEYS = ("schedule", "dale_method", "dale_pools", "device")
#: Every flat key :func:`recipe_student_kwargs` accepts.
STUDENT_KEYS = (*_TOP_KEYS, *_NEURON_KEYS, *_NETWORK_KEYS, *_SCHEDULE_KEYS, *_DALE_KEYS, *_CALIBRATION_KEYS)


def parse_student_section(sec: dict) -> dict:
    """A recipe's ``[student]`` values with unit strings (``"10 ms"``) parsed
    (:func:`brianforce.config.parse_quantity`); the string options ``schedule``,
    ``dale_method``, ``dale_pools`` and non-string values are kept as they are."""
    return {k: (parse_quantity(v) if isinstance(v, str) and k not in _STRING_KEYS else v)
            for k, v in sec.items()}


def recipe_student_kwargs(sec: dict) -> dict:
    """:class:`~brianforce.methods.factor_student.FactorStudent` keyword arguments from the
    flat keys of a recipe's ``[student]`` section.

    Keys: ``n_neurons``, ``dt``, ``seed``, ``device``; :class:`StudentNeuron` and :class:`FixedNetwork`
    fields by name; the :class:`StudentSchedule` fields by name, except ``schedule`` for
    ``update_times``; ``dale`` (true: a :class:`DaleSettings`, else ``None``), ``frac_exc``
    and ``dale_<field>`` for the other :class:`DaleSettings` fields; ``period_calibration``
    (number of periods, 0 = off) and ``calibration_copies`` for :class:`PeriodCalibration`
    (``calibration_copies`` needs ``period_calibration``; with ``period_calibration = 0``, e.g. an
    override that switches the calibration off, it has nothing to set).

    Parameters
    ----------
    sec : dict
        The section as read from the TOML file; unit strings are parsed
        (:func:`parse_student_section`), quantities are taken as they are.

    Returns
    -------
    dict
        ``neuron``, ``network``, ``schedule``, ``dale``, ``calibration`` (records, defaults
        for keys not given) and ``n_neurons``, ``dt``, ``seed``, ``device`` where given.

    Raises
    ------
    RecipeError
        Unknown keys, or Dale or calibration settings with Dale's law or the calibration off.
    """
    sec = parse_student_section(sec)
    unknown = sorted(set(sec) - set(STUDENT_KEYS))
    if unknown:
        raise RecipeError(f"unknown [student] keys {unknown}")

    def pick(keys):
        return {keys[k]: v for k, v in sec.items() if k in keys}

    out = {k: sec[k] for k in ("n_neurons", "dt", "seed", "device") if k in sec}
    out["neuron"] = StudentNeuron(**pick(_NEURON_KEYS))
    out["network"] = FixedNetwork(**pick(_NETWORK_KEYS))
    out["schedule"] = StudentSchedule(**pick(_SCHEDULE_KEYS))
    dale, dale_kw = _flag(sec.get("dale", False), "dale"), pick(_DALE_KEYS)
    if dale_kw and not dale:
        raise RecipeError(f"[student] {sorted(k for k in sec if k in _DALE_KEYS)} given without dale = true")
    out["dale"] = DaleSettings(**dale_kw) if dale else None
    calib = pick(_CALIBRATION_KEYS)
    n_periods = calib.get("n_periods", 0)
    if "n_copies" in calib and "n_periods" not in calib:
        raise RecipeError("[student] calibration_copies given without period_calibration")
    out["calibration"] = PeriodCalibration(**calib) if n_periods != 0 else None
    return out
