"""Attach a linear readout, its decoder and low-rank feedback to any Brian2 ``NeuronGroup``.

For a group of N neurons with a per-neuron regressor ``r`` (e.g. filtered spike trains) and
a parameter ``I_fb`` that receives the feedback, :func:`attach_readout` adds

* ``readout`` — K units holding the outputs ``z`` (and the a-priori RLS error ``rls_err``);
* ``decoder`` — N×K ``Synapses`` with the learned weights φ; ``z_k = Σ_i φ_ik r_i / r_unit``
  is a summed variable computed at the end of every time step, after the neurons' update;
* ``feedback`` — K×N ``Synapses`` with fixed encoders η; ``I_fb,i = Σ_k η_ik z_k`` is summed
  into the group before its next update, so the feedback of step n+1 uses the ``z`` of step n
  (as in Nicola & Clopath's loop, where the decoder update of step n acts from step n+2);
* optionally teacher forcing — the feedback carries the target instead of ``z`` while training
  (``z_fb = z + forcing·(y − z)``, set after the RLS at the end of each step);
* optionally ``inputs`` — M units replaying an input ``u(t)`` (``TimedArray``) and N×M input
  ``Synapses`` summing ``Σ_m w_im u_m`` into another parameter of the group.

All per-step work is generated code, so the readout runs on every device.

References
----------
Sussillo D, Abbott LF (2009) Neuron 63:544-557.
Nicola W, Clopath C (2017) Nat Commun 8:2208.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from brian2 import NeuronGroup, Quantity, Synapses, get_dimensions, second
from brian2.equations.equations import PARAMETER
from brian2.units.fundamentalunits import DIMENSIONLESS, DimensionMismatchError, get_unit

from brianforce.naming import own_clock, timed_table

__all__ = ["Readout", "attach_readout", "unit_of", "unit_string", "check_parameter"]


@dataclass
class Readout:
    """Brian2 objects a learner adds to a user's network (see module docstring)."""

    neurons: NeuronGroup
    readout: NeuronGroup
    decoder: Synapses
    feedback: Synapses | None
    inputs: NeuronGroup | None
    input_synapses: Synapses | None
    regressor: str
    r_unit: Quantity
    namespace: dict

    @property
    def n_outputs(self) -> int:
        return len(self.readout)

    @property
    def objects(self) -> list:
        return [o for o in (self.readout, self.decoder, self.feedback, self.inputs, self.input_synapses)
                if o is not None]

    def decoder_view(self) -> np.ndarray:
        """Zero-copy (N, K) view of φ (in ``1/r_unit``) inside Brian2's memory (runtime only)."""
        return self.decoder.variables["bf_phi"].get_value().reshape(len(self.neurons), self.n_outputs)

    @property
    def teacher_forcing(self) -> bool:
        return "bf_forced" in self.namespace

    def set_forced_target(self, target, t_start: float, t_stop: float) -> None:
        """Table of ``target(t)`` (absolute times, s → (n, K)) fed back during ``[t_start, t_stop)``
        while forcing is on (:meth:`force`)."""
        if not self.teacher_forcing:
            return
        dt = float(self.readout.clock.dt_)
        n = int(round(t_stop / dt)) + 1
        values = np.zeros((n, self.n_outputs))
        first = int(round(t_start / dt))
        # the last row is read only after training, with forcing off: a trial target ends at t_stop
        values[first:] = target(np.minimum(np.arange(first, n) * dt + dt, t_stop))
        self.namespace["bf_forced"] = timed_table(values, dt * second, f"{self.readout.name}_forced")

    def force(self, on: bool) -> None:
        """Switch teacher forcing on or off."""
        if self.teacher_forcing:
            self.readout.variables["forcing"].set_value(1.0 if on else 0.0)

    def set_inputs(self, values: np.ndarray | None, dt: float, offset: float) -> None:
        """Replay ``values`` (n_samples, M), one row per ``dt`` s, from time ``offset`` on.

        Row k is applied during ``[offset + k dt, offset + (k+1) dt)``. The table steps every ``dt``
        where ``offset`` lies on that grid, else every step of the readout's clock (``dt`` must then
        be a multiple of it), so that no row is shifted against the targets laid from ``offset``.
        """
        if self.inputs is None:
            return
        m = len(self.inputs)
        values = np.zeros((1, m)) if values is None else np.asarray(values, float)
        step = dt
        if abs(offset / dt - round(offset / dt)) > 1e-6:
            step = float(self.readout.clock.dt_)
            ratio = dt / step
            if abs(ratio - round(ratio)) > 1e-6:
                raise ValueError(f"the inputs start at t = {offset * 1e3:g} ms, off their {dt * 1e3:g}-ms grid, and "
                                 f"{dt * 1e3:g} ms is not a multiple of the network's time step "
                                 f"{step * 1e3:g} ms: give inputs whose dt is a multiple of the time step")
            values = np.repeat(values, int(round(ratio)), axis=0)
        pad = int(round(offset / step))
        arr = np.vstack([np.zeros((pad, m)), values, np.zeros((1, m))])
        self.namespace["bf_input"] = timed_table(arr, step * second, f"{self.readout.name}_input")


def unit_of(group, name: str):
    """Brian2 unit of variable ``name`` of ``group``."""
    return get_unit(group.variables[name].dim)


def unit_string(unit) -> str:
    """``unit`` as written in Brian2 equations (``'1'`` when dimensionless)."""
    return "1" if unit.dim is DIMENSIONLESS else repr(unit)


def check_parameter(group: NeuronGroup, name: str, what: str) -> None:
    """Raise unless ``name`` is a writable per-neuron parameter of ``group``."""
    eqs = getattr(group, "equations", None)
    if eqs is None or name not in eqs.names:
        raise ValueError(f"{what} {name!r} is not a variable of {group.name!r}; declare it in the "
                         f"equations as a parameter, e.g. '{name} : volt'")
    eq = eqs[name]
    if eq.type != PARAMETER or "constant" in eq.flags or "linked" in eq.flags or "shared" in eq.flags:
        raise ValueError(f"{what} {name!r} of {group.name!r} must be a plain per-neuron parameter "
                         f"('{name} : <unit>' without flags); it is summed into by brianforce's synapses")


def _as_matrix(values, shape, unit, what):
    if get_dimensions(values) is not unit.dim:
        raise DimensionMismatchError(f"{what} must have units of {unit!r}, got {values!r:.40}",
                                     get_dimensions(values))
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1 and shape[1] == 1:
        arr = arr[:, None]
    if arr.shape != shape:
        raise ValueError(f"{what} must have shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} contain NaN/Inf")
    return arr


def attach_readout(neurons: NeuronGroup, regressor: str, n_outputs: int, *, feedback: str | None = None,
                   encoders=None, input_variable: str | None = None, input_encoders=None, n_inputs: int = 0,
                   teacher_forcing: bool = False, name: str) -> Readout:
    """Create the readout, decoder, feedback and input objects for ``neurons``.

    Parameters
    ----------
    neurons : NeuronGroup
    regressor : str
        Per-neuron variable the decoder reads (e.g. ``'r'``), any unit.
    n_outputs : int
    feedback : str, optional
        Parameter of ``neurons`` that receives ``Σ_k η_ik z_k``.
    encoders : Quantity (N, K)
        η, in the units of ``feedback``.
    input_variable : str, optional
        Parameter of ``neurons`` that receives ``Σ_m w_im u_m``.
    input_encoders : Quantity (N, M)
        Input weights, in the units of ``input_variable``.
    n_inputs : int
    teacher_forcing : bool
        Feed back ``z_fb`` (the target while ``forcing = 1``, else ``z``) instead of ``z``.
    name : str
        Prefix of the Brian2 object names.
    """
    N = len(neurons)
    if regressor not in neurons.variables or neurons.variables[regressor].scalar:
        raise ValueError(f"regressor {regressor!r} is not a per-neuron variable of {neurons.name!r}")
    r_unit = 1.0 * unit_of(neurons, regressor)
    ns = {"r_unit": r_unit}
    dt = neurons.clock.dt
    readout = NeuronGroup(n_outputs, "z : 1\nrls_err : 1\nz_fb : 1\nforcing : 1 (shared)", namespace=ns,
                          clock=own_clock(f"{name}_readout", dt), name=f"{name}_readout")
    decoder = Synapses(neurons, readout, f"bf_phi : 1\nz_post = bf_phi*{regressor}_pre/r_unit : 1 (summed)",
                       clock=own_clock(f"{name}_decoder", dt), namespace=ns, name=f"{name}_decoder")
    decoder.connect(i=np.repeat(np.arange(N), n_outputs), j=np.tile(np.arange(n_outputs), N))
    for upd in decoder.summed_updaters.values():     # z from this step's r, before the RLS
        upd.when, upd.order = "end", 0
    fb = None
    if feedback is not None:
        check_parameter(neurons, feedback, "feedback variable")
        unit = unit_of(neurons, feedback)
        eta = _as_matrix(encoders, (N, n_outputs), unit, "encoders")
        us = unit_string(unit)
        fed = "z_fb" if teacher_forcing else "z"
        fb = Synapses(readout, neurons, f"bf_eta : {us}\n{feedback}_post = bf_eta*{fed}_pre : {us} (summed)",
                      clock=own_clock(f"{name}_feedback", dt), namespace=ns, name=f"{name}_feedback")
        fb.connect(i=np.tile(np.arange(n_outputs), N), j=np.repeat(np.arange(N), n_outputs))
        fb.variables["bf_eta"].set_value(eta.reshape(-1))
        if teacher_forcing:      # after the RLS: fed back next step is the target (forcing = 1) or z
            ns["bf_forced"] = timed_table(np.zeros((1, n_outputs)), dt, f"{readout.name}_forced")
            readout.run_regularly("z_fb = z + forcing*(bf_forced(t, i) - z)", when="end", order=3,
                                  name=f"{name}_forcing")
    elif encoders is not None:
        raise ValueError("encoders given but no feedback variable named")
    inputs = syn = None
    if n_inputs:
        if input_variable is None:
            raise ValueError("an input-driven target needs input_variable (a parameter of the group)")
        check_parameter(neurons, input_variable, "input variable")
        unit = unit_of(neurons, input_variable)
        w = _as_matrix(input_encoders, (N, n_inputs), unit, "input_encoders")
        ns["bf_input"] = timed_table(np.zeros((1, n_inputs)), dt, f"{readout.name}_input")
        inputs = NeuronGroup(n_inputs, "u = bf_input(t, i) : 1", clock=own_clock(f"{name}_inputs", dt), namespace=ns,
                             name=f"{name}_inputs")
        us = unit_string(unit)
        syn = Synapses(inputs, neurons, f"bf_w_in : {us}\n{input_variable}_post = bf_w_in*u_pre : {us} (summed)",
                       clock=own_clock(f"{name}_input_synapses", dt), namespace=ns, name=f"{name}_input_synapses")
        syn.connect(i=np.tile(np.arange(n_inputs), N), j=np.repeat(np.arange(N), n_inputs))
        syn.variables["bf_w_in"].set_value(w.reshape(-1))
    return Readout(neurons, readout, decoder, fb, inputs, syn, regressor, r_unit, ns)
