"""One-to-one transfer of a trained rate RNN onto a Brian2 LIF network (Kim et al. 2019).

Each rate unit becomes one leaky integrate-and-fire neuron with the project-wide
conventions (voltages and currents in volts, method ``'euler'``)::

    dv/dt = (−v + I_syn + I_ext + v_bias)/τ_m + σ_v sqrt(2/τ_m) ξ      (unless refractory)
    dI_syn/dt = −I_syn/τ_r + h,        dh/dt = −h/τ_d,i
    dr/dt    = −r/τ_r + h_r,           dh_r/dt = −h_r/τ_d,i
    spike of j:  h_i += w_ij/(τ_r τ_d,i);  own spike: h_r += 1/(τ_r τ_d,i)
    o = Σ_i w^out_i r_i + b^out        (b^out left out with readout_bias=False, as the authors' code)

with the rate network's weights scaled by ``λ = 1/scaling_factor``::

    w_ij  = λ · W_ij · unit · 1 s      (volt·second; unit = 1 mV)
    w^out = λ · w^out_rate · 1 s       (r is in hertz)
    I_ext = W^in u · unit              (volt; inputs are not scaled)

``τ_d,i`` is the rate unit's trained decay constant and ``τ_r`` = 2 ms. The only free
parameter, ``1/λ``, is chosen by :class:`LIFTransfer` with a grid search over 20…75 on
validation trials. Many trials (and many candidate λ) are simulated at once as
independent copies of the network inside one Brian2 ``Network``.

References
----------
Kim R, Li Y, Sejnowski TJ (2019) Simple framework for constructing functional spiking
recurrent neural networks. PNAS 116:22811-22820.
Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE
training. Nat Commun 8:2208.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import brian2 as b2
import numpy as np
from brian2 import mV, ms, second
from brian2.units.fundamentalunits import DimensionMismatchError, Quantity, fail_for_dimension_mismatch

from brianforce.checks import as_count, as_finite_array, as_flag, as_number
from brianforce.rate.backprop import DaleRNNParams
from brianforce.io import load_arrays, save_arrays
from brianforce.methods.transfer_results import LIFRun
from brianforce.naming import own_clock, timed_table
from brianforce.neurons import lif_equations, lif_reset, lif_threshold
from brianforce.seeding import check_seed, rng_for

__all__ = ["TransferredLIF", "LIFRun", "simulate_lif", "LIFTransfer", "read_recipe", "recipe_settings",
           "check_kim2019_recipe", "KIM2019_RECIPE_KEYS", "DEFAULT_SCALING_FACTORS"]

DEFAULT_SCALING_FACTORS = tuple(range(20, 80, 5))       # 1/λ = 20, 25, …, 75 (the paper's grid)
_MODEL_KIND = "kim2019-lif"
_NEURON_DEFAULTS = dict(tau_m=10 * ms, tau_ref=2 * ms, tau_rise=2 * ms, v_th=-40 * mV,
                        v_reset=-65 * mV, v_bias=-40 * mV, sigma_v=1 * mV, unit=1 * mV, v_init_max=None)
_NEURON_UNITS = dict(tau_m=second, tau_ref=second, tau_rise=second, v_th=b2.volt, v_reset=b2.volt,
                     v_bias=b2.volt, sigma_v=b2.volt, unit=b2.volt, v_init_max=b2.volt)
_VOLTAGES = ("v_th", "v_reset", "v_bias", "v_init_max")


def _quantity(name, value, unit, *, positive=True, allow_zero=False):
    """Check units (DimensionMismatchError) and sign; return the SI float."""
    if not isinstance(value, Quantity) and not unit.is_dimensionless:
        raise DimensionMismatchError(f"{name} must be a Brian2 quantity in units of {unit!r} "
                                     f"(e.g. 10*ms), got the plain number {value!r}", unit.dim)
    fail_for_dimension_mismatch(value, unit, f"{name} must have units of {unit!r}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value}")
    if positive and (v < 0 or (v == 0 and not allow_zero)):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value}")
    return v


def _neuron_si(neuron: dict) -> dict:
    """The LIF neuron parameters (Brian2 quantities, over the defaults) checked, as SI floats."""
    unknown = set(neuron) - set(_NEURON_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown neuron parameters {sorted(unknown)}; allowed: {sorted(_NEURON_DEFAULTS)}")
    vals = {**_NEURON_DEFAULTS, **neuron}
    if vals["v_init_max"] is None:
        vals["v_init_max"] = vals["v_th"]
    si = {k: _quantity(k, vals[k], _NEURON_UNITS[k], positive=k not in _VOLTAGES,
                       allow_zero=k in ("sigma_v", "tau_ref")) for k in _NEURON_DEFAULTS}
    if si["v_reset"] >= si["v_th"]:
        raise ValueError(f"v_reset ({vals['v_reset']}) must be below v_th ({vals['v_th']})")
    if si["v_init_max"] <= si["v_reset"]:
        raise ValueError(f"v_init_max ({vals['v_init_max']}) must be above v_reset ({vals['v_reset']})")
    return si


def _scaling_factors(values) -> np.ndarray:
    """Candidate ``1/λ`` as a float array, each a finite plain number > 0."""
    seq = [values] if np.ndim(values) == 0 else values
    if np.ndim(seq) != 1 or len(seq) == 0:
        raise ValueError(f"scaling_factors must be a number or a non-empty sequence of numbers, got {values!r}")
    return np.array([as_number(v, f"scaling_factors[{k}]", low=0.0, low_open=True) for k, v in enumerate(seq)])


@dataclass
class TransferredLIF:
    """An LIF network built one-to-one from a rate RNN (arrays, plain SI floats).

    Attributes
    ----------
    W_rate : (N, N) effective rate weights (dimensionless, row = target).
    w_in_rate : (N, n_inputs); w_out_rate : (N,); b_out : float.
    tau_d : (N,) synaptic decay constants, seconds.
    scaling_factor : float, ``1/λ``.
    input_dt : float, seconds per input sample (the rate network's step).
    neuron : dict of SI floats: tau_m, tau_ref, tau_rise, v_th, v_reset, v_bias,
        sigma_v, unit (volts per rate unit), v_init_max (top of the initial voltages; files
        written without it start below ``v_th``).
    """

    W_rate: np.ndarray
    w_in_rate: np.ndarray
    w_out_rate: np.ndarray
    b_out: float
    tau_d: np.ndarray
    scaling_factor: float
    input_dt: float
    neuron: dict = field(default_factory=dict)

    @classmethod
    def from_rate(cls, rate: DaleRNNParams, scaling_factor: float, *, readout_bias: bool = True,
                  allow_diverged: bool = False, **neuron) -> "TransferredLIF":
        """Map ``rate`` with ``1/λ = scaling_factor``; neuron parameters as Brian2 quantities
        (``readout_bias=False``: ``b_out`` left out, see :class:`LIFTransfer`).

        The rate network's weights, bias and decay constants must be finite (``ValueError`` naming
        them); parameters kept from a training that diverged (``rate.diverged``) are refused
        (``RuntimeError``) unless ``allow_diverged=True``.
        """
        _refuse_diverged_rate(rate, allow_diverged)
        s = as_number(scaling_factor, "scaling_factor (1/lambda)", low=0.0, low_open=True)
        a = {name: as_finite_array(value, f"the rate network's {name}").copy() for name, value in
             (("W", rate.W), ("w_in", rate.w_in), ("w_out", rate.w_out), ("b_out", rate.b_out), ("tau", rate.tau))}
        b_out = float(a["b_out"]) if as_flag(readout_bias, "readout_bias") else 0.0
        return cls(W_rate=a["W"], w_in_rate=a["w_in"], w_out_rate=a["w_out"], b_out=b_out, tau_d=a["tau"],
                   scaling_factor=s, input_dt=float(rate.dt), neuron=_neuron_si(neuron))

    @property
    def lambda_(self) -> float:
        """The scaling factor λ = 1/scaling_factor."""
        return 1.0 / self.scaling_factor

    @property
    def n_units(self) -> int:
        return self.W_rate.shape[0]

    @property
    def n_inputs(self) -> int:
        return self.w_in_rate.shape[1]

    @property
    def w_rec(self) -> Quantity:
        """Spiking recurrent weights λ·W·unit·1 s (volt·second, (N, N), row = target)."""
        return self.W_rate * self.lambda_ * self.neuron["unit"] * b2.volt * second

    @property
    def w_out(self) -> Quantity:
        """Spiking readout weights λ·w_out·1 s (second)."""
        return self.w_out_rate * self.lambda_ * second

    def save(self, path, metadata: dict | None = None):
        """Save with :func:`brianforce.io.save_arrays` (kind ``"kim2019-lif"``)."""
        arrays = dict(W_rate=self.W_rate, w_in_rate=self.w_in_rate, w_out_rate=self.w_out_rate,
                      tau_d=self.tau_d, b_out=np.array(self.b_out))
        meta = dict(metadata or {})
        meta.update(scaling_factor=self.scaling_factor, input_dt=self.input_dt,
                    neuron={k: float(v) for k, v in self.neuron.items()}, units="SI")
        return save_arrays(path, arrays, meta, kind=_MODEL_KIND)

    @classmethod
    def load(cls, path) -> "TransferredLIF":
        """Load a file written by :meth:`save` (raises ``ModelFileError`` if invalid)."""
        arrays, meta = load_arrays(path, kind=_MODEL_KIND)
        return cls(b_out=float(arrays.pop("b_out")), **arrays, scaling_factor=meta["scaling_factor"],
                   input_dt=meta["input_dt"], neuron=meta["neuron"])


def _refuse_diverged_rate(rate, allow_diverged) -> None:
    """Refuse the parameters a diverged training kept (``rate.diverged``) unless ``allow_diverged=True``."""
    if not as_flag(allow_diverged, "allow_diverged") and getattr(rate, "diverged", False):
        raise RuntimeError("the rate network's parameters were kept from a training that diverged: not "
                           "transferring them to LIF. Pass allow_diverged=True to do so anyway, or train the rate "
                           "network again with a smaller learning_rate")


def _require_runtime():
    """Runtime device, or a fresh standalone device that builds and runs on ``run()``
    (:func:`brianforce.devices.standalone.run_transferred_standalone` sets one up)."""
    from brian2.devices.device import RuntimeDevice

    dev = b2.get_device()
    if isinstance(dev, RuntimeDevice):
        return
    if not getattr(dev, "build_on_run", False) or getattr(dev, "has_been_run", False):
        raise RuntimeError("brianforce.methods.transfer runs and reads back its monitors within one call; it "
                           "needs Brian2's runtime device (call brian2.set_device('runtime')) or a fresh "
                           "standalone device with build_on_run=True (see "
                           "brianforce.devices.standalone.run_transferred_standalone)")


def simulate_lif(model: TransferredLIF, inputs, *, seed: int = 0, dt=0.05 * ms, record_dt=1 * ms,
                 record_spikes: int = 0, scaling_factors=None) -> LIFRun:
    """Run the LIF network on a batch of trials, all simulated in parallel.

    Parameters
    ----------
    model : TransferredLIF
    inputs : array (B, T, n_inputs)
        One value per ``model.input_dt`` (held constant in between).
    seed : int
        Fixes initial voltages (uniform in [v_reset, v_init_max); neurons drawn at or above
        ``v_th`` spike in the first step) and membrane noise.
    dt, record_dt : Quantity
        Integration step (0.05 ms) and readout sampling step (1 ms).
    record_spikes : int
        Record the spikes of the first ``record_spikes`` trials.
    scaling_factors : array (B,), optional
        Per-trial ``1/λ`` overriding ``model.scaling_factor`` (used by the grid search).

    Returns
    -------
    LIFRun
    """
    _require_runtime()
    seed = check_seed(seed)
    dt_s = _quantity("dt", dt, second)
    rec_s = _quantity("record_dt", record_dt, second)
    if rec_s < dt_s:
        raise ValueError(f"record_dt ({record_dt}) must be >= dt ({dt})")
    inputs = np.asarray(inputs, dtype=float)
    if inputs.ndim == 2:
        inputs = inputs[None]
    if inputs.ndim != 3 or inputs.shape[2] != model.n_inputs:
        raise ValueError(f"inputs must be (n_trials, n_steps, {model.n_inputs}), got shape {inputs.shape}")
    if not np.all(np.isfinite(inputs)):
        raise ValueError("inputs contain NaN or Inf")
    B, T, n_in = inputs.shape
    N = model.n_units
    if scaling_factors is None:
        scaling_factors = np.full(B, model.scaling_factor)
    scaling_factors = np.asarray(scaling_factors, dtype=float).reshape(-1)
    if scaling_factors.shape != (B,) or not np.all(np.isfinite(scaling_factors)) or np.any(scaling_factors <= 0):
        raise ValueError(f"scaling_factors must be {B} finite positive numbers, got {scaling_factors}")
    nrn = model.neuron
    if model.tau_d.min() < 5 * dt_s or nrn["tau_m"] < 5 * dt_s:
        raise ValueError(f"dt ({dt}) is too coarse for the time constants (need dt <= tau/5)")
    duration = T * model.input_dt
    lam = 1.0 / scaling_factors

    b2.seed(int(rng_for(seed, "brian").integers(2 ** 31 - 1)))
    namespace = {"tau_m": nrn["tau_m"] * second, "tau_r": nrn["tau_rise"] * second,
                 "v_bias": nrn["v_bias"] * b2.volt, "sigma_v": nrn["sigma_v"] * b2.volt,
                 "v_th": nrn["v_th"] * b2.volt, "v_reset": nrn["v_reset"] * b2.volt}
    ext_terms = []
    for k in range(n_in):
        namespace[f"u{k}"] = timed_table(np.ascontiguousarray(inputs[:, :, k].T), model.input_dt * second,
                                         f"lif_u{k}")
        ext_terms.append(f"w_in{k}*u{k}(t, trial)")
    eqs = lif_equations(["I_syn", "I_ext", "v_bias"], noise=True,
                        parameters=["I_ext : volt", "tau_d : second (constant)", "trial : integer (constant)",
                                    *(f"w_in{k} : volt (constant)" for k in range(n_in))])
    M = B * N
    G = b2.NeuronGroup(M, eqs, threshold=lif_threshold(strict=True), reset=lif_reset(sep="; "),
                       refractory=nrn["tau_ref"] * second, method="euler", clock=own_clock("lif", dt_s * second),
                       namespace=namespace, name="lif")
    # inputs change only every input_dt: update I_ext then instead of at every step
    G.run_regularly(f"I_ext = {' + '.join(ext_terms)}", when="start",
                    clock=own_clock("input_update", model.input_dt * second), name="input_update")
    G.tau_d = np.tile(model.tau_d, B) * second
    G.trial = np.repeat(np.arange(B), N)
    unit = nrn["unit"]
    for k in range(n_in):
        setattr(G, f"w_in{k}", np.tile(model.w_in_rate[:, k] * unit, B) * b2.volt)
    rng = rng_for(seed, "lif-initial-voltage")
    v_top = nrn.get("v_init_max", nrn["v_th"])
    G.v = (nrn["v_reset"] + rng.random(M) * (v_top - nrn["v_reset"])) * b2.volt

    post, pre = np.nonzero(model.W_rate)
    wvals = model.W_rate[post, pre] * unit
    offs = np.repeat(np.arange(B) * N, post.size)
    objs = [G]
    if post.size:                                     # Brian2 rejects unconnected Synapses
        S = b2.Synapses(G, G, "w : volt*second", on_pre="h_post += w/(tau_r*tau_d_post)",
                        clock=own_clock("recurrent", dt_s * second), namespace=namespace, name="recurrent")
        S.connect(i=np.tile(pre, B) + offs, j=np.tile(post, B) + offs)
        S.w = (np.tile(wvals, B) * np.repeat(lam, post.size)) * b2.volt * second
        objs.append(S)

    R = b2.NeuronGroup(B, "o : 1", clock=own_clock("readout", rec_s * second), name="readout")
    S_out = b2.Synapses(G, R, "w_o : second\no_post = w_o*r_pre : 1 (summed)",
                        clock=own_clock("readout_synapses", rec_s * second), name="readout_synapses")
    S_out.connect(i=np.arange(M), j=np.repeat(np.arange(B), N))
    S_out.w_o = (np.tile(model.w_out_rate, B) * np.repeat(lam, N)) * second
    mon = b2.StateMonitor(R, "o", record=True, when="end", clock=own_clock("readout_monitor", rec_s * second),
                          name="readout_monitor")
    count = b2.SpikeMonitor(G, record=False, name="spike_count")
    objs += [R, S_out, mon, count]
    n_rec = min(as_count(record_spikes, "record_spikes"), B)
    if n_rec:
        spk = b2.SpikeMonitor(G[:n_rec * N], name="spikes")
        objs.append(spk)
    net = b2.Network(*objs)
    net.run(duration * second, namespace={})

    out = np.asarray(mon.o) + model.b_out
    if not np.all(np.isfinite(out)):
        bad = np.argwhere(~np.isfinite(out))[0]
        raise FloatingPointError(f"LIF readout became NaN/Inf in trial {bad[0]} at t = {bad[1] * rec_s:.4f} s")
    counts = np.asarray(count.count).reshape(B, N)
    if n_rec:
        idx = np.asarray(spk.i)
        s_trial, s_unit, s_time = idx // N, idx % N, np.asarray(spk.t / second)
    else:
        s_trial = s_unit = np.zeros(0, dtype=int)
        s_time = np.zeros(0)
    return LIFRun(outputs=out, record_dt=rec_s, scaling_factors=scaling_factors, spike_trial=s_trial,
                  spike_unit=s_unit, spike_time=s_time, mean_rate=counts.mean(axis=1) / duration)


class LIFTransfer:
    """Build an LIF network from a trained rate RNN and pick ``1/λ`` by grid search.

    Parameters
    ----------
    scaling_factors : sequence of float
        Candidate ``1/λ`` (default 20, 25, …, 75 as in the paper).
    n_validation : int
        Validation trials per candidate (the same trials for every candidate; the authors' grid
        search uses 100).
    dt, record_dt : Quantity
        LIF integration step (0.05 ms) and readout sampling step (1 ms).
    tau_m, tau_ref, tau_rise, v_th, v_reset, v_bias, sigma_v, unit : Quantity
        Neuron parameters (10 ms, 2 ms, 2 ms, −40 mV, −65 mV, −40 mV, 1 mV, 1 mV); ``unit``
        is the voltage of one rate unit of ``x``; ``sigma_v`` the stationary std of the
        membrane noise (0.1 mV per 0.05 ms step).
    v_init_max : Quantity or None
        Initial voltages are uniform in ``[v_reset, v_init_max)``; ``None``: ``v_th`` (every
        neuron starts below threshold). The authors' code draws them up to 30 mV
        (``LIF_network_fnc.m``: ``v = vreset + rand(N,1)*(30-vreset)``), so about three quarters
        of the neurons spike together in the first step.
    readout_bias : bool
        Add the rate network's readout bias ``b_out`` to the spiking readout (default). ``False``: the
        readout is ``λ·w_out·r`` alone, in the grid search and after it, as the authors' LIF code reads
        out (``LIF_network_fnc.m``: ``out = w_out/scaling_factor*rs``).
    seed : int

    Attributes
    ----------
    scaling_factor_ : float
        Chosen ``1/λ`` (best validation accuracy, scored with ``task.spiking_criterion()``
        as in the authors' grid search; ties → the median of the tied values, sorted by value
        whatever the order of ``scaling_factors``, and the upper of the two middle ones for an even
        number of ties).
    lambda_ : float
    grid_accuracy_ : ndarray
        Validation accuracy per candidate.
    model_ : TransferredLIF

    References
    ----------
    Kim R, Li Y, Sejnowski TJ (2019) PNAS 116:22811-22820 (λ grid search, Methods).
    """

    def __init__(self, scaling_factors=DEFAULT_SCALING_FACTORS, n_validation: int = 20, *,
                 dt=0.05 * ms, record_dt=1 * ms, readout_bias: bool = True, seed: int = 0, **neuron):
        self.scaling_factors, self.n_validation, self.readout_bias = scaling_factors, n_validation, readout_bias
        self.dt, self.record_dt, self.seed = dt, record_dt, seed
        self.neuron = neuron
        self._check()

    def _check(self):
        """Every setting checked (in the constructor and again by :meth:`fit`); errors name it."""
        _scaling_factors(self.scaling_factors)
        as_count(self.n_validation, "n_validation", minimum=1)
        if _quantity("record_dt", self.record_dt, second) < _quantity("dt", self.dt, second):
            raise ValueError(f"record_dt ({self.record_dt}) must be >= dt ({self.dt})")
        check_seed(self.seed)
        as_flag(self.readout_bias, "readout_bias")
        _neuron_si(self.neuron)

    def fit(self, rate: DaleRNNParams, task, *, allow_diverged: bool = False) -> "LIFTransfer":
        """Grid-search ``1/λ`` on ``n_validation`` fresh trials of ``task``.

        ``rate`` kept from a training that diverged (``rate.diverged``) is refused (``RuntimeError``)
        unless ``allow_diverged=True``; non-finite weights always (``ValueError``).
        """
        self._check()
        _refuse_diverged_rate(rate, allow_diverged)
        factors, n_val = _scaling_factors(self.scaling_factors), int(self.n_validation)
        if abs(task.dt - rate.dt) > 1e-12:
            raise ValueError(f"task step ({task.dt} s) differs from the rate network's dt ({rate.dt} s)")
        seed = check_seed(self.seed)
        base = TransferredLIF.from_rate(rate, factors[0], readout_bias=self.readout_bias,
                                        allow_diverged=allow_diverged, **self.neuron)
        val = task.sample(n_val, rng_for(seed, "lif-validation-trials"))
        k = factors.size
        run = simulate_lif(base, np.tile(val.inputs, (k, 1, 1)), seed=seed, dt=self.dt,
                           record_dt=self.record_dt, scaling_factors=np.repeat(factors, n_val))
        crit = _spiking(task)
        ok = crit.correct(run.outputs, np.tile(val.labels, k), dt=run.record_dt).reshape(k, n_val)
        acc = ok.mean(axis=1)
        choice = _median_best(factors, acc)
        self.grid_accuracy_ = acc
        self.grid_mean_rate_ = run.mean_rate.reshape(k, n_val).mean(axis=1)
        self.scaling_factor_ = float(factors[choice])
        self.lambda_ = 1.0 / self.scaling_factor_
        self.validation_accuracy_ = float(acc[choice])
        self.model_ = TransferredLIF.from_rate(rate, self.scaling_factor_, readout_bias=self.readout_bias,
                                               allow_diverged=allow_diverged, **self.neuron)
        return self

    def predict(self, inputs, *, seed: int = 1, record_spikes: int = 0) -> LIFRun:
        """Simulate the transferred network on ``inputs`` (B, T, n_inputs)."""
        return simulate_lif(self.model_, inputs, seed=seed, dt=self.dt, record_dt=self.record_dt,
                            record_spikes=record_spikes)

    def score(self, task, n_trials: int = 100, seed: int = 1, *, spiking_criterion: bool = True) -> float:
        """Task accuracy of the LIF network on ``n_trials`` fresh test trials.

        With ``spiking_criterion`` (default) trials are scored as in the authors' spiking
        evaluation (``task.spiking_criterion()``), otherwise with the rate criterion.
        """
        batch = task.sample(n_trials, rng_for(seed, "lif-test-trials"))
        run = self.predict(batch.inputs, seed=seed)
        self.test_run_, self.test_labels_ = run, batch.labels
        crit = _spiking(task) if spiking_criterion else task
        return crit.accuracy(run.outputs, batch.labels, dt=run.record_dt)


def _median_best(factors: np.ndarray, accuracy: np.ndarray) -> int:
    """Index of the chosen candidate: the best ``accuracy``; among tied candidates the median of
    their ``factors`` by value (the upper middle one for an even number of ties), whatever the
    order of the grid."""
    best = np.flatnonzero(accuracy == accuracy.max())
    best = best[np.argsort(factors[best], kind="stable")]
    return int(best[len(best) // 2])


def _spiking(task):
    """The task's spiking-network scoring rule (itself if it defines none)."""
    return task.spiking_criterion() if hasattr(task, "spiking_criterion") else task


def _parse(value):
    from brianforce.config import RecipeError, parse_quantity

    if isinstance(value, dict):
        return {k: _parse(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_parse(v) for v in value]
    if isinstance(value, str):
        try:
            q = parse_quantity(value)
        except RecipeError:
            return value                              # a name, not a quantity
        return q if isinstance(q, Quantity) else value
    return value


#: Sections of a ``method = "kim2019"`` recipe and the keys of each: ``[rate]`` (network) and
#: ``[training]`` are :class:`~brianforce.rate.backprop.DaleRNNTrainer` arguments, ``[transfer]``
#: those of :class:`LIFTransfer`.
KIM2019_RECIPE_KEYS = {
    "": ("experiment", "paper", "task", "rate", "training", "transfer", "evaluation"),
    "experiment": ("method", "seed"),
    "paper": ("reference", "figure", "expected_rate_accuracy", "expected_lif_accuracy"),
    "task": ("name",),
    "rate": ("n_units", "p_inh", "p_connect", "gain", "tau_min", "tau_max", "dt", "activation", "noise_std",
             "rectifier"),
    "training": ("learning_rate", "batch_size", "max_iter", "min_iter", "loss_threshold", "target_accuracy",
                 "eval_every", "n_eval", "train_input_weights", "divergence_factor", "verbose"),
    "transfer": ("scaling_factors", "n_validation", "dt", "record_dt", "readout_bias", *_NEURON_DEFAULTS),
    "evaluation": ("n_test",),
}
_RATE_TIMES = ("tau_min", "tau_max", "dt")


def check_kim2019_recipe(recipe: dict, where: str = "the recipe") -> None:
    """Check the sections and keys of a Kim et al. (2019) recipe (:data:`KIM2019_RECIPE_KEYS`),
    the rate network's times (unit strings, quantities or seconds), its seed and number of test trials.

    Raises
    ------
    RecipeError
        An unknown section or key (naming the closest valid one), or a missing ``[task] name``
        or ``[rate]`` section.
    """
    from brianforce.config import RecipeError, check_sections, recipe_seconds

    check_sections(recipe, KIM2019_RECIPE_KEYS, where)
    if "name" not in recipe.get("task", {}) or "rate" not in recipe:
        raise RecipeError(f"{where}: a kim2019 recipe needs [task] name and a [rate] section")
    for key in _RATE_TIMES:
        if key in recipe["rate"]:
            recipe_seconds(recipe["rate"][key], f"[rate] {key}")
    as_count(recipe.get("experiment", {}).get("seed", 0), "[experiment] seed")
    as_count(recipe.get("evaluation", {}).get("n_test", 100), "[evaluation] n_test", minimum=1)


def read_recipe(path) -> dict:
    """Read a ``models/kim2019_*.toml`` recipe; unit strings ("5 ms", "-40 mV") → quantities.

    The sections and keys are checked first (:func:`check_kim2019_recipe`). Units are parsed by
    :func:`brianforce.config.parse_quantity` (whitelist, never evaluated); other strings are
    kept as they are.
    """
    from brianforce.config import load_recipe

    recipe = load_recipe(path)
    check_kim2019_recipe(recipe, str(path))
    return _parse(recipe)


def recipe_settings(recipe: dict) -> tuple:
    """Split a recipe into ``(task, trainer_kwargs, transfer_kwargs, n_test)``.

    Rate-network times become plain SI floats (the numpy core's convention; a quantity that is
    not a time raises ``DimensionMismatchError``); the LIF parameters stay Brian2 quantities.
    """
    from brianforce.tasks.kim2019 import make_task
    from brianforce.units import as_si

    check_kim2019_recipe(recipe)
    rate = {k: (as_si(v, second, f"[rate] {k}") if k in _RATE_TIMES and isinstance(v, Quantity) else v)
            for k, v in recipe["rate"].items()}
    trainer_kwargs = {**rate, **recipe.get("training", {})}
    task = make_task(recipe["task"]["name"], dt=trainer_kwargs.get("dt", 0.005))
    transfer_kwargs = dict(recipe.get("transfer", {}))
    n_test = as_count(recipe.get("evaluation", {}).get("n_test", 100), "[evaluation] n_test", minimum=1)
    return task, trainer_kwargs, transfer_kwargs, n_test


@dataclass
class Kim2019Result:
    """Outcome of :func:`run_kim2019` (one rate network and its LIF transfer)."""

    task_name: str
    seed: int
    rate_converged: bool
    rate_iterations: int
    rate_accuracy: float
    scaling_factor: float
    lambda_: float
    grid_accuracy: np.ndarray
    lif_accuracy: float
    lif_accuracy_rate_criterion: float
    trainer: object = field(repr=False, default=None)
    transfer: object = field(repr=False, default=None)

    def to_frame(self):
        """One row of the scalar fields (``task_name`` … ``lif_accuracy_rate_criterion``, accuracies as
        fractions); ``grid_accuracy`` (one per candidate scaling factor) and the trained objects are
        left out."""
        import pandas as pd

        skip = {"grid_accuracy", "trainer", "transfer"}
        return pd.DataFrame([{f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}])


def run_kim2019(recipe: dict, seed: int = 0, *, n_test: int | None = None, **overrides) -> Kim2019Result:
    """Train the rate RNN of ``recipe``, transfer it to LIF and score both on test trials.

    ``overrides`` replace trainer keyword arguments (e.g. ``n_units=50`` for a quick run).

    References
    ----------
    Kim R, Li Y, Sejnowski TJ (2019) PNAS 116:22811-22820.
    """
    from brianforce.rate.backprop import DaleRNNTrainer

    task, tkw, xkw, n_default = recipe_settings(recipe)
    tkw.update(overrides)
    n_test = n_default if n_test is None else n_test
    transfer = LIFTransfer(seed=seed, **xkw)          # its settings are checked before the rate training
    trainer = DaleRNNTrainer(seed=seed, **tkw).fit(task)
    rate_acc = trainer.score(task, n_trials=n_test, seed=seed + 1)
    transfer.fit(trainer.params_, task)
    lif_acc = transfer.score(task, n_trials=n_test, seed=seed + 1)
    run = transfer.test_run_
    lif_strict = task.accuracy(run.outputs, transfer.test_labels_, dt=run.record_dt)
    return Kim2019Result(task.name, seed, trainer.converged_, trainer.n_iter_, rate_acc,
                         transfer.scaling_factor_, transfer.lambda_, transfer.grid_accuracy_, lif_acc,
                         lif_strict, trainer, transfer)
