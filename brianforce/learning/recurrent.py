"""Kim & Chow's learning of recurrent dynamics on a user's own Brian2 ``Synapses``: per-neuron RLS.

For every trained postsynaptic neuron, the weights of its existing incoming synapses are fitted by
RLS (its own ``P``) so that its synaptic current ``u_i = Σ_j w_ij r_j`` (``r``: a per-neuron
regressor of the presynaptic group, e.g. a filtered spike train) follows its own target ``y_i(t)``:

>>> learner = RecurrentRLS(syn, weight="w", regressor="r", network=net, reg=1e3, interval=5*ms)
>>> learner.fit(targets, repeats=5, dt=0.1*ms).score()    # correlation per trained neuron

References
----------
Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
"""
from __future__ import annotations

import time
from collections import namedtuple
from dataclasses import dataclass

import brian2 as b2
import numpy as np
from brian2 import (DimensionMismatchError, Network, Quantity, SpikeMonitor, StateMonitor, Synapses,
                    get_dimensions, get_unit, ms, network_operation, second)
from brian2.core.namespace import get_local_namespace
from brian2.core.variables import ArrayVariable
from brian2.devices.device import RuntimeDevice
from scipy import sparse

from brianforce.checks import as_count, as_number
from brianforce.errors import StandaloneNotSupportedError, TrainingDiverged, refuse_if_diverged
from brianforce.io import load_arrays, save_arrays
from brianforce.learning.rls import regularisation_from
from brianforce.memory import require_memory
from brianforce.learning.rls_per_neuron import PerNeuronRLS, padded_inputs
from brianforce.naming import own_clock
from brianforce.units import as_positive_si, as_si
from brianforce.learning.results import SimulationResult, TrainingHistory
from brianforce.learning.targets import divergence_scale_of

__all__ = ["RecurrentRLS", "RecurrentResult"]
_Window = namedtuple("_Window", "fn duration scale")   # fn: s (n,) since the window start -> (n, M), SI


def _plain(value, name):
    if value is not None and get_dimensions(value) is not get_dimensions(1.0):
        raise DimensionMismatchError(f"{name} is a plain number (regressor unit⁻²), got {value!r}",
                                     get_dimensions(value))
    return None if value is None else as_number(value, name)


@dataclass
class RecurrentResult(SimulationResult):
    """A recorded run: currents ``z`` = ``u_i = Σ_j w_ij r_j`` (n_times, n_trained; SI) and ``target`` (NaN
    outside the target window), spikes of the postsynaptic group."""

    neurons: np.ndarray | None = None
    unit: Quantity | None = None

    currents = property(lambda self: Quantity(self.z, dim=self.unit.dim), doc="``z`` as a Quantity.")

    def correlation(self) -> np.ndarray:
        """Pearson correlation per trained neuron between current and target (NaN if either is flat)."""
        keep = np.all(np.isfinite(self.target), axis=1)
        z, y = (a[keep] - a[keep].mean(0) for a in (self.z, self.target))
        with np.errstate(invalid="ignore", divide="ignore"):
            return (z * y).sum(0) / np.sqrt((z * z).sum(0) * (y * y).sum(0))


class RecurrentRLS:
    """Train a user's ``Synapses`` so that each trained neuron's synaptic current follows its target.

    For each trained postsynaptic neuron ``i``, RLS over its existing presynaptic partners' ``r``
    (normalised gain ``Pr/(1 + rᵀPr)``, so the weights equal batch ridge regression's) minimises
    ``Σ_t (u_i(t) − y_i(t))² + reg |w_i − w_i(0)|²`` (Kim & Chow 2018): every ``interval``,
    at the end of the time step, the a-priori error ``e_i = u_i − y_i(t + dt)`` updates ``w_i`` in
    place in the ``Synapses``' weight array, from a Python ``network_operation`` (runtime device
    only; in a standalone program the same update runs as generated code:
    :func:`~brianforce.learning.codegen.per_neuron.per_neuron_rls_operations`).

    Kim & Chow's current uses the present weights (e.g. ``I_syn_post = w*r_pre : volt (summed)``),
    so an update acts from the next step. A current integrated from spikes (``on_pre=
    "h_post += w/(tau_r*tau_d)"``) equals ``u_i`` only while the weights are fixed (updates act
    through later spikes); such networks need trials from a reproducible state (``before_repeat``).

    Parameters
    ----------
    synapses : Synapses
        At most one synapse per (pre, post) pair onto trained neurons.
    weight, regressor : str
        Per-synapse parameter ``w``; per-neuron variable ``r`` of the presynaptic group (e.g. a
        filtered spike train). The unit of ``w`` times that of ``r`` is the current's.
    target_neurons : int array, optional
        Indices into ``synapses.target`` to train (default all).
    network : Network, optional
        The user's network (default: the two groups and ``synapses``).
    reg, alpha : float
        Ridge λ (``P(0) = I/reg``) or ``alpha = 1/reg``, plain numbers (regressor unit⁻²).
    interval : Quantity (second)
        Time between updates, a multiple of the presynaptic group's ``dt``.
    target_offset : Quantity (second)
        The current at the end of a step (window time ``s``) is compared with the target at
        ``s + target_offset``; updates happen while that time is inside the window. 0 (default):
        the same time; ``-dt``: the target sample of the step's start.
    dale : bool or array (n_pre,) of ±1
        Keep each weight's sign (at the first fit, or its presynaptic neuron's) by clipping at 0.
    divergence_factor : float
        An error that is not finite or exceeds this many target amplitudes (half the peak-to-peak
        range; constant targets: their largest ``|y|``, zero targets: 1 in the current's unit;
        :func:`~brianforce.learning.targets.divergence_scale_of`) raises
        :class:`~brianforce.errors.TrainingDiverged`. The learner then refuses to train on, and
        :meth:`predict` and :meth:`save` refuse unless ``allow_diverged=True``.
    max_error : Quantity, optional
        A fixed limit on ``|e_i|`` in the current's unit, used instead of ``divergence_factor``.
    name : str, optional
        Prefix of the Brian2 objects added (default ``'<synapses name>_recurrent'``).

    Attributes
    ----------
    weights_ : Quantity (n_trained, n_pre)
        Incoming weights of the trained neurons (0 where there is no synapse).
    history_ : ~brianforce.learning.TrainingHistory
        Times and a-priori errors (n_updates, n_trained; SI) of the last :meth:`fit`.
    rls_ : PerNeuronRLS
    timings_ : dict
        Wall-clock seconds: ``simulation_s`` and ``rls_s``.
    """

    def __init__(self, synapses: Synapses, *, weight: str = "w", regressor: str = "r", target_neurons=None,
                 network: Network | None = None, reg: float | None = None, alpha: float | None = None,
                 interval=10 * ms, dale=False, divergence_factor: float = 100.0, max_error=None,
                 target_offset=0 * second, name: str | None = None):
        self._bad = None
        self._check_usable()
        if not isinstance(synapses, Synapses):
            raise TypeError(f"synapses must be a brian2 Synapses, got {type(synapses).__name__}")
        self.synapses, self.weight, self.regressor, self.source, self.post = \
            synapses, weight, regressor, synapses.source, synapses.target
        wvar = synapses.variables.get(weight) if isinstance(weight, str) else None
        if not isinstance(wvar, ArrayVariable) or wvar.scalar or wvar.constant or wvar.read_only:
            raise ValueError(f"weight {weight!r} is not a variable of {synapses.name!r} that is a per-synapse "
                             f"parameter ('{weight} : <unit>' without flags)")
        rvar = self.source.variables.get(regressor) if isinstance(regressor, str) else None
        if rvar is None or rvar.scalar or regressor in ("i", "N", "t", "dt"):
            raise ValueError(f"regressor {regressor!r} is not a per-neuron variable of the presynaptic "
                             f"group {self.source.name!r}")
        self.w_unit, self.r_unit = get_unit(wvar.dim), get_unit(rvar.dim)
        self.unit = 1.0 * self.w_unit * self.r_unit          # the current's unit
        self.dt = float(self.source.clock.dt_)
        self.interval = as_positive_si(interval, second, "interval")
        if abs(self.interval / self.dt - round(self.interval / self.dt)) > 1e-6:
            raise ValueError(f"interval ({self.interval} s) must be a multiple of the group's dt ({self.dt} s)")
        self.reg = regularisation_from(_plain(reg, "reg"), _plain(alpha, "alpha"))
        self.target_offset = float(as_si(target_offset, second, "target_offset"))
        self.divergence_factor = as_number(divergence_factor, "divergence_factor", low=0.0, low_open=True)
        self.n_pre, n_post = len(self.source), len(self.post)
        tn = self.target_neurons = np.arange(n_post) if target_neurons is None else \
            np.asarray(target_neurons, dtype=np.int64).reshape(-1)
        if tn.size == 0 or tn.min() < 0 or tn.max() >= n_post or np.unique(tn).size != tn.size:
            raise ValueError(f"target_neurons must be distinct indices in [0, {n_post}), got {target_neurons!r}")
        if not (dale is True or dale is False or (np.shape(dale) == (self.n_pre,) and np.all(np.abs(dale) == 1))) \
                or not self.divergence_factor > 0:
            raise ValueError(f"dale must be True, False or {self.n_pre} signs (+1/-1), one per presynaptic neuron, "
                             f"and divergence_factor > 0; got {dale!r}, {divergence_factor!r}")
        self.network = network if network is not None else Network(
            *{id(o): o for o in (self.source, self.post, synapses)}.values())
        if synapses not in self.network.objects:
            raise ValueError("network does not contain the synapses")
        self.name = name or f"{synapses.name}_recurrent"
        if max_error is not None and get_dimensions(max_error) != self.unit.dim:
            raise DimensionMismatchError(f"max_error must have the units of weight × regressor ({self.unit.dim}), "
                                         f"got {max_error!r}", get_dimensions(max_error))
        self.max_error = None if max_error is None else float(np.asarray(max_error))
        if self.max_error is not None and not self.max_error > 0:
            raise ValueError(f"max_error must be > 0, got {max_error!r}")
        self.rls_ = self.target_ = self.history_ = None
        self.timings_ = {"simulation_s": 0.0, "rls_s": 0.0}
        pre, post = np.asarray(synapses.i[:], np.int64), np.asarray(synapses.j[:], np.int64)
        self.n_synapses, pos = pre.size, np.full(n_post, -1)
        pos[self.target_neurons] = np.arange(self.n_trained)
        self._sel = np.flatnonzero(pos[post] >= 0)                 # synapses onto trained neurons
        self._rows, self._cols = pos[post[self._sel]], pre[self._sel]
        key = self._rows * self.n_pre + self._cols
        order = np.argsort(key, kind="stable")
        if np.any(np.diff(key[order]) == 0):
            raise ValueError(f"{self.synapses.name!r} has several synapses between the same (pre, post) pair; "
                             "RecurrentRLS needs at most one synapse per pair onto trained neurons")
        mask = self._mask = np.zeros((self.n_trained, self.n_pre), dtype=bool)
        mask[self._rows, self._cols] = True
        if not mask.any(axis=1).all():
            raise ValueError(f"trained neurons {tn[~mask.any(axis=1)][:5].tolist()} have no incoming synapses")
        # synapse number of every (trained neuron, padded input slot) of PerNeuronRLS's index
        self._index, self._valid = padded_inputs(mask)
        want = np.arange(self.n_trained)[:, None] * self.n_pre + self._index
        hit = order[np.clip(np.searchsorted(key[order], want), 0, key.size - 1)]
        self._slot_syn = self._sel[hit][self._valid]
        self._dale, self._sign = dale, None
        require_memory({"per-neuron RLS matrices": 8.0 * self.n_trained * self._index.shape[1] ** 2},
                       f"per-neuron RLS of {self.n_trained} neurons with up to {self._index.shape[1]} inputs each")

    def _weight_view(self) -> np.ndarray:
        if len(self.synapses) != self.n_synapses:
            raise RuntimeError(f"{self.synapses.name!r} has gained synapses since the learner was built")
        return self.synapses.variables[self.weight].get_value()   # zero-copy (runtime device)

    def _learner(self) -> PerNeuronRLS:
        """The RLS state, its weights taken from the synapses (the user may have changed them)."""
        w, K = np.asarray(self._weight_view())[self._slot_syn], self._index.shape[1]
        if self.rls_ is None:   # chunk: batched temporaries of ~16 MB
            self.rls_ = PerNeuronRLS(self._mask, reg=self.reg,
                                     chunk=int(max(1, min(self.n_trained, 2_000_000 // (K * K)))))
        self.rls_.W[self._valid] = w
        if self._sign is None and self._dale is not False:     # Dale's law: the signs at the first fit
            if self._dale is True and np.any(w == 0):
                raise ValueError(f"dale=True keeps the sign of each weight, but {int(np.sum(w == 0))} trained "
                                 "weights are exactly 0; pass dale as one sign (+1/-1) per presynaptic neuron")
            self._sign = np.sign(np.where(self._valid, self.rls_.W, 0.0)) if self._dale is True else \
                np.where(self._valid, np.asarray(self._dale, float)[self._index], 0.0)
        return self.rls_

    def _current(self, values, what: str) -> np.ndarray:
        if get_dimensions(values) != self.unit.dim:
            raise DimensionMismatchError(f"{what} must have the units of weight × regressor "
                                         f"({self.unit.dim}), got {get_dimensions(values)}", get_dimensions(values))
        M, arr = self.n_trained, np.asarray(values, dtype=float)
        arr = arr[:, None] if arr.ndim == 1 and M == 1 else arr
        if arr.ndim != 2 or arr.shape[1] != M or not np.all(np.isfinite(arr)):
            raise ValueError(f"{what} must be finite, of shape (n_times, {M}); got shape {arr.shape}")
        return arr

    def target_window(self, targets, dt=None, duration=None) -> _Window:
        """The target window of ``targets`` (as :meth:`fit` takes them): ``fn(s)`` (the targets at the times
        ``s`` since the window start, interpolated as :meth:`fit` does; SI, (len(s), n_trained)), its
        ``duration`` (s) and ``scale`` (the divergence test's target amplitude)."""
        if callable(targets) and not isinstance(targets, np.ndarray):
            if duration is None:
                raise ValueError("a target callable needs the window's duration=...")
            d = as_positive_si(duration, second, "duration")

            def fn(s):
                return self._current(targets(np.asarray(s, dtype=float)), "the target callable's values")
            return _Window(fn, d, divergence_scale_of(fn(np.linspace(0, d, 201))))
        values = self._current(targets, "targets")
        if dt is None or len(values) < 2:
            raise ValueError("an array target needs >= 2 samples and its sampling step dt=...")
        step, n = as_positive_si(dt, second, "dt"), values.shape[0]
        d = n * step if duration is None else as_positive_si(duration, second, "duration")
        if d > n * step * (1 + 1e-9):
            raise ValueError(f"duration ({d} s) is longer than the targets ({n} samples × {step} s)")

        def fn(s):   # sample k at k·dt; linear in between, the last one held
            x = np.clip(np.asarray(s, dtype=float) / step, 0, n - 1)
            k = np.minimum(x.astype(np.int64), n - 2)
            return values[k] + (x - k)[:, None] * (values[k + 1] - values[k])
        return _Window(fn, d, divergence_scale_of(values))

    t_ = property(lambda self: float(np.asarray(self.network.t_).reshape(-1)[0]),   # (an array after brian2.stop())
                  doc="Simulated time of the network (s).")
    n_trained = property(lambda self: int(self.target_neurons.size), doc="Number of trained neurons.")

    @property
    def diverged_(self) -> TrainingDiverged | None:
        """The :class:`TrainingDiverged` that stopped :meth:`fit`, or None."""
        return None if self._bad is None else TrainingDiverged(*self._bad, self.dt)

    def _check_usable(self, allow_diverged: bool | None = None):
        """Runtime device only; after divergence ``fit`` and ``load_state`` (``allow_diverged=None``)
        refuse, ``predict`` and ``save`` unless ``allow_diverged=True``."""
        if not isinstance(b2.get_device(), RuntimeDevice):
            raise StandaloneNotSupportedError(f"RecurrentRLS trains in a Python network_operation, which standalone "
                                              f"devices ({type(b2.get_device()).__name__}) silently drop; in a "
                                              "standalone program use brianforce.learning.codegen.per_neuron."
                                              "per_neuron_rls_operations")
        if self._bad is not None and allow_diverged is None:
            raise RuntimeError(f"{self.diverged_.where()}: the network's weights are spoiled. Rebuild the network "
                               "and the learner to train again, with a larger reg or interval")
        if allow_diverged is not None:
            refuse_if_diverged(self.diverged_, allow_diverged, "the weights",
                               "rebuild the network and train again with a larger reg or interval")

    def _run(self, duration: float, objects, ns, report):
        self.network.add(*objects)
        w0 = time.perf_counter()
        try:
            self.network.run(duration * second, namespace=ns, report=report)
        finally:
            self.network.remove(*objects)
            self.timings_["simulation_s"] += time.perf_counter() - w0

    def _operation(self, window: _Window, t0: float, limit: float, times: list, errors: list):
        rls, valid, syn, sign, offset = self.rls_, self._valid, self._slot_syn, self._sign, self.target_offset
        w_view, dt, src, var = self._weight_view(), self.dt, self.source, self.source.variables[self.regressor]
        arr = var.get_value()[src.start:src.stop] if isinstance(var, ArrayVariable) else None  # zero-copy view
        read_r = (lambda: arr) if arr is not None else (lambda: np.asarray(getattr(src, self.regressor + "_")))

        @network_operation(dt=self.interval * second, when="end", name=f"{self.name}_rls*")
        def rls_update(t):
            t_now = float(t / second) + dt
            s = t_now - t0 + offset                     # the target's time in the window
            if self._bad is not None or s <= 1e-12 or s > window.duration + 1e-9:
                return
            w0, r = time.perf_counter(), read_r()
            err = rls.predict(r) - window.fn(np.array([s]))[0]
            if not (np.all(np.isfinite(err)) and np.max(np.abs(err)) <= limit):
                self._bad = (len(times), t_now, err)
                return b2.stop()
            rls.update(r, err)
            if sign is not None:
                np.copyto(rls.W, 0.0, where=rls.W * sign < 0)
            w_view[syn] = rls.W[valid]
            times.append(t_now), errors.append(err)
            self.timings_["rls_s"] += time.perf_counter() - w0
        return rls_update

    def _offset_message(self, window: _Window) -> str:
        n_ticks = int(np.ceil(window.duration / self.interval - 1e-9))
        first = self.dt + self.target_offset
        return (f"target_offset ({self.target_offset:g} s) leaves no update inside the target window (0, "
                f"{window.duration:g}] s: the updates would use the targets at window times {first:g} s to "
                f"{first + (n_ticks - 1) * self.interval:g} s")

    def _check_offset(self, window: _Window) -> None:
        """Refuse a ``target_offset`` that leaves no update inside the window (ticks every ``interval`` from
        the window start)."""
        n_ticks = int(np.ceil(window.duration / self.interval - 1e-9))
        s = np.arange(n_ticks) * self.interval + self.dt + self.target_offset
        if not np.any((s > 1e-12) & (s <= window.duration + 1e-9)):
            raise ValueError(self._offset_message(window))

    def fit(self, targets, repeats: int = 1, *, dt=None, duration=None, settle=0 * second, before_repeat=None,
            window_objects=(), report=None, level: int = 0) -> "RecurrentRLS":
        """Train on the target window ``repeats`` times in a row; returns ``self``.

        Parameters
        ----------
        targets : Quantity (n_times, n_trained) or callable
            ``y_i`` in the current's unit, sample ``k`` at ``k·dt`` after the window start (the
            window lasts ``n_times·dt``); or ``f(s) -> Quantity (len(s), n_trained)`` of the times
            ``s`` (s, array) since the window start, with ``duration``.
        repeats : int
            Windows, each from the network's present state (periodic targets continue seamlessly).
        dt, duration, settle : Quantity (second)
            Sampling step of array targets; window length; run without learning before each window.
        before_repeat : callable, optional
            ``f(k)`` before each repeat's settle and window (e.g. to reset or stimulate).
        window_objects : sequence of Brian2 objects
            Added to the network during the target windows only (e.g. recorders, inputs).
        report, level
            As in ``brian2.run``.

        Raises
        ------
        TrainingDiverged
            With the update's index (within this fit), time (s) and errors.
        ValueError
            When ``target_offset`` leaves no update inside the target window.
        """
        ns = get_local_namespace(level=level + 1)
        self._check_usable()
        window = self.target_window(targets, dt, duration)
        settle_s = float(as_si(settle, second, "settle"))
        repeats = as_count(repeats, "repeats", minimum=1)
        if settle_s < 0 or window.duration < self.interval:
            raise ValueError(f"need settle >= 0 s (got {settle!r}) and a window >= one interval "
                             f"({window.duration} s < {self.interval} s)")
        self._check_offset(window)
        limit = self.max_error if self.max_error is not None else \
            self.divergence_factor * window.scale
        self.target_, times, errors = window, [], []
        for k in range(int(repeats)):
            if before_repeat is not None:
                before_repeat(k)
            if settle_s > 0:
                self._run(settle_s, [], ns, report)
            self._learner()                           # weights from the synapses (before_repeat may set them)
            self._run(window.duration, [self._operation(window, self.t_, limit, times, errors), *window_objects],
                      ns, report)
            if self._bad is not None:
                break
        bad = self._bad
        self.history_ = TrainingHistory(np.array(times), np.reshape(errors, (len(times), self.n_trained)),
                                        bad is not None, None if bad is None else bad[1])
        if bad is None and not times:
            raise ValueError(self._offset_message(window))
        if bad is not None:
            raise self.diverged_
        return self

    def predict(self, duration=None, *, targets=None, dt=None, record_dt=None, report=None,
                level: int = 0, allow_diverged: bool = False) -> RecurrentResult:
        """Run on without learning; record the currents ``u_i = Σ_j w_ij r_j`` and the spikes.

        ``targets`` (as in :meth:`fit`; default: the last fit's) start with this run; ``duration`` defaults
        to their window, ``record_dt`` to the group's ``dt``; ``report``, ``level`` as in ``brian2.run``.
        Each current is paired with the target it is trained against (window time ``s + target_offset``).
        Refused after :class:`TrainingDiverged` unless ``allow_diverged=True``.
        """
        ns = get_local_namespace(level=level + 1)
        self._check_usable(allow_diverged)
        window = self.target_ if targets is None else self.target_window(targets, dt, duration)
        if duration is None and window is None:
            raise ValueError("give the duration")
        d = window.duration if duration is None else as_positive_si(duration, second, "duration")
        rec = self.dt if record_dt is None else as_positive_si(record_dt, second, "record_dt")
        # fixed names (the monitors leave the network after the run): the next test run reuses their code
        rmon = StateMonitor(self.source, self.regressor, record=True, when="end",
                            clock=own_clock(f"{self.name}_regressor", rec * second), name=f"{self.name}_regressor")
        smon = SpikeMonitor(self.post, name=f"{self.name}_spikes")
        t0, w0 = self.t_, time.perf_counter()
        self._run(d, [rmon, smon], ns, report)
        t = np.asarray(rmon.t_).copy()
        u = np.asarray((self._csr() @ np.asarray(getattr(rmon, self.regressor + "_"))).T).reshape(len(t), -1)
        # each current is paired with the target it was trained against: window time s + target_offset
        y, s, n = np.full_like(u, np.nan), t - t0 + self.dt + self.target_offset, len(self.post)
        inside = (s > 1e-12) & (s <= (window.duration if window is not None else -1) + 1e-9)
        if inside.any():
            y[inside] = window.fn(s[inside])
        return RecurrentResult(t, u, y, np.asarray(smon.i[:]).copy(), np.asarray(smon.t_).copy(), n, n,
                               "test", time.perf_counter() - w0, self.target_neurons.copy(), self.unit)

    def score(self, targets=None, duration=None, *, dt=None, result: RecurrentResult | None = None,
              allow_diverged: bool = False) -> np.ndarray:
        """Correlation per trained neuron between current and target over a :meth:`predict` run
        (or over ``result``)."""
        if result is None:
            result = self.predict(duration, targets=targets, dt=dt, level=1, allow_diverged=allow_diverged)
        return result.correlation()

    def _csr(self):
        return sparse.csr_matrix((np.asarray(self._weight_view())[self._sel], (self._rows, self._cols)),
                                 shape=(self.n_trained, self.n_pre))

    weights_ = property(lambda self: Quantity(self._csr().toarray(), dim=self.w_unit.dim),
                        doc="Incoming weights (n_trained, n_pre) of the trained neurons, 0 where no synapse.")

    _groups = property(lambda self: {"post": self.post} if self.post is self.source else
                       {"pre": self.source, "post": self.post})

    def save(self, path, include_rls_state: bool = False, *, allow_diverged: bool = False):
        """Save the weights, settings and both groups' state (pickle-free, checksummed ``.npz``);
        :meth:`load_state` restores them into a network rebuilt by the user's own code. Refused after
        :class:`TrainingDiverged` unless ``allow_diverged=True``."""
        self._check_usable(allow_diverged)
        arrays = {"w": np.array(self._weight_view()), "syn_i": self.synapses.i[:], "syn_j": self.synapses.j[:],
                  "target_neurons": self.target_neurons}
        for prefix, group in self._groups.items():
            for key, value in group.get_states(units=False, read_only_variables=False).items():
                arrays[f"{prefix}_{key}"] = value - self.t_ if key == "lastspike" else value
        if include_rls_state and self.rls_ is not None:
            arrays["P"] = self.rls_.P
        meta = {"weight": self.weight, "regressor": self.regressor, "n_pre": self.n_pre, "n_post": len(self.post),
                "weight_unit": repr(self.w_unit), "reg": self.reg, "t": self.t_,
                "interval": self.interval, "dt": self.dt, "n_rls_updates": getattr(self.rls_, "n_updates", 0)}
        return save_arrays(path, arrays, meta, kind="recurrent_rls")

    def load_state(self, path) -> "RecurrentRLS":
        """Restore saved weights, group state (and RLS state) into this freshly built, matching learner."""
        self._check_usable()
        arrays, meta = load_arrays(path, kind="recurrent_rls")
        same = [meta.get(k) for k in ("weight", "regressor", "n_pre", "n_post")] == \
            [self.weight, self.regressor, self.n_pre, len(self.post)]
        if not (same and all(np.array_equal(arrays[k], v) for k, v in (("syn_i", self.synapses.i[:]),
                ("syn_j", self.synapses.j[:]), ("target_neurons", self.target_neurons)))):
            raise ValueError(f"{path}: saved for other synapses, groups or trained neurons "
                             f"({meta.get('n_pre')} → {meta.get('n_post')} neurons)")
        self._weight_view()[:] = arrays["w"]
        for prefix, group in self._groups.items():
            states = {k[len(prefix) + 1:]: (v + self.t_ if k.endswith("_lastspike") else v)
                      for k, v in arrays.items() if k.startswith(prefix + "_")}
            group.set_states(states, units=False)
        self.rls_ = None
        if "P" in arrays:
            self._learner().P[...] = arrays["P"]
        return self
