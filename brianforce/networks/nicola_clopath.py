"""Nicola & Clopath's LIF network in its original (MATLAB) discretisation, in Brian2.

:func:`brianforce.networks.force_lif.build_force_network` integrates the same model with Brian2's
forward Euler and Brian2's refractoriness; this builder instead reproduces, step for step,
the published loop ``LIFFORCESINE.m`` (forward Euler for ``v``, exact exponential factors
for the double-exponential filters, a refractory test on whole time steps), so that the
Brian2 network and that loop (:func:`~brianforce.networks.nicola_clopath_loop.nicola_clopath_loop`)
fire the same spikes.

References
----------
Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE
training. Nat Commun 8:2208 (code: ModelDB 190565, ``LIFFORCESINE.m``).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from brian2 import NeuronGroup, Synapses, second, volt

from brianforce.naming import own_clock
from brianforce.networks.connectivity import SparseWeights
from brianforce.neurons import LIFParams
from brianforce.units import as_positive_si

__all__ = ["NicolaClopathNetwork", "nicola_clopath_network", "refractory_steps", "NICOLA_CLOPATH_EQS"]

#: Equations of the group: every variable is a parameter, advanced by the step code below.
NICOLA_CLOPATH_EQS = """
v : volt
I_syn : volt
h : volt/second
r : hertz
hr : hertz/second
I_fb : volt
I_bias : volt (constant)
last_step : integer
"""

# One time step, from the values of the previous step (statements run in this order, so each
# line reads variables that no earlier line has changed).
_STEP_CODE = """
v = v + dt*(int(t_in_timesteps > last_step + n_ref)*(I_syn + I_fb + I_bias - v)/tau_m)
I_syn = I_syn*exp_r + dt*h
h = h*exp_d
r = r*exp_r + dt*hr
hr = hr*exp_d
"""


class NicolaClopathNetwork(NamedTuple):
    """The two Brian2 objects of the network (unpacks as ``neurons, synapses``)."""

    neurons: NeuronGroup
    synapses: Synapses

    @property
    def objects(self) -> list:
        return [self.neurons, self.synapses]


def refractory_steps(tau_ref: float, dt: float) -> int:
    """Whole steps ``m`` such that ``i·dt > i_last·dt + τ_ref  ⇔  i − i_last > m`` (SI floats)."""
    if tau_ref < 0:
        raise ValueError(f"tau_ref must be >= 0, got {tau_ref}")
    return int(math.floor(tau_ref / dt + 1e-9))


def nicola_clopath_network(weights: SparseWeights, v0, *, lif: LIFParams = LIFParams(), dt,
                           name: str = "nicola_clopath") -> NicolaClopathNetwork:
    r"""LIF network of Nicola & Clopath (2017) in the discretisation of their MATLAB code.

    Per time step ``i = 1, 2, …`` (Brian2 step ``k = i − 1``, time ``t = i·dt`` in the
    MATLAB code), all right-hand sides use the values of step ``i − 1``:

    .. math::

        I &= I_\mathrm{syn} + I_\mathrm{fb} + I_\mathrm{bias}, \qquad
            I_\mathrm{fb} = E z \ \text{(summed in by the learner, from the previous step's } z)\\
        v &\leftarrow v + \frac{dt}{\tau_m}(I - v) \quad \text{only if } i > i_\mathrm{last} + m,
            \quad m = \lfloor \tau_\mathrm{ref}/dt \rfloor \ (\Leftrightarrow t > t_\mathrm{last} + \tau_\mathrm{ref})\\
        \text{spike} &: v \ge v_\mathrm{th}\\
        I_\mathrm{syn} &\leftarrow I_\mathrm{syn}\, e^{-dt/\tau_r} + dt\, h, \qquad
            h \leftarrow h\, e^{-dt/\tau_d} + \frac{1}{\tau_r \tau_d}\sum_{j\ \mathrm{spiking}} \omega_{\cdot j}\\
        r &\leftarrow r\, e^{-dt/\tau_r} + dt\, h_r, \qquad
            h_r \leftarrow h_r\, e^{-dt/\tau_d} + \frac{\mathrm{spike}}{\tau_r \tau_d}\\
        v &\leftarrow v_\mathrm{reset},\ i_\mathrm{last} \leftarrow i \quad \text{for the neurons that spiked.}

    Every neuron starts with ``t_last = 0`` (``last_step = −1`` in Brian2 steps), so none
    integrates during the first ``τ_ref``; neurons starting at ``v0 ≥ v_th`` fire on the first
    step. A learner (:class:`brianforce.learning.FORCE`) adds ``z = φᵀr`` at the end of the
    step and sums ``E z`` into ``I_fb`` before the next one, as in the loop.

    How Brian2's schedule maps on the loop:

    * ``groups`` — the summed ``I_fb`` (order −1), then ``run_regularly`` (order 0) with the
      lines above for ``v`` (refractory test on ``t_in_timesteps``), ``I_syn``, ``h``,
      ``r``, ``hr``, in that order, so every line reads unchanged values of the previous step;
    * ``thresholds`` — ``v >= v_th`` for all neurons (no Brian2 ``refractory``: the loop
      tests every neuron);
    * ``synapses`` — ``h_post += w/(τ_r τ_d)`` (no delay): the spikes of step ``i`` enter
      ``h`` at step ``i`` and ``I_syn`` from step ``i + 1``;
    * ``resets`` — ``v = v_reset``, ``hr += 1/(τ_r τ_d)``, ``last_step = t_in_timesteps``.

    Parameters
    ----------
    weights : SparseWeights
        Static recurrent weights ω in V·s (:func:`brianforce.networks.connectivity.static_weights`).
    v0 : ndarray (N,)
        Initial membrane potentials in volts (N&C: ``v_reset + U(0, 1)·(30 mV − v_reset)``).
    lif : LIFParams
        ``v_th`` plays the role of N&C's ``vpeak``.
    dt : Quantity
        Time step (N&C: 0.05 ms).
    name : str
        Prefix of the Brian2 object names.

    Returns
    -------
    NicolaClopathNetwork
        ``neurons`` (regressor ``r`` in Hz, feedback parameter ``I_fb`` in volts, ``I_syn``,
        ``h``, ``hr``, ``I_bias``, ``last_step``) and the recurrent ``synapses`` (``w`` in V·s).
    """
    dt_s = as_positive_si(dt, second, "dt")
    N = int(weights.n)
    v0 = np.asarray(v0, dtype=float)
    if v0.shape != (N,):
        raise ValueError(f"v0 must have shape ({N},), got {v0.shape}")
    ns = dict(tau_m=lif.tau_m * second, tau_r=lif.tau_r * second, tau_d=lif.tau_d * second,
              v_th=lif.v_th * volt, v_reset=lif.v_reset * volt,
              exp_r=math.exp(-dt_s / lif.tau_r), exp_d=math.exp(-dt_s / lif.tau_d),
              n_ref=refractory_steps(lif.tau_ref, dt_s))
    neurons = NeuronGroup(N, NICOLA_CLOPATH_EQS, threshold="v >= v_th",
                          reset="v = v_reset\nhr += 1/(tau_r*tau_d)\nlast_step = t_in_timesteps",
                          namespace=ns, clock=own_clock(f"{name}_neurons", dt), name=f"{name}_neurons")
    neurons.run_regularly(_STEP_CODE, when="groups", order=0, name=f"{name}_neurons_step")
    neurons.v = v0 * volt
    neurons.I_bias = lif.bias * volt
    neurons.last_step = -1
    synapses = Synapses(neurons, neurons, "w : volt*second (constant)", on_pre="h_post += w/(tau_r*tau_d)",
                        namespace=ns, clock=own_clock(f"{name}_recurrent", dt), name=f"{name}_recurrent")
    if len(weights.pre):
        synapses.connect(i=np.asarray(weights.pre), j=np.asarray(weights.post))
        synapses.w = np.asarray(weights.value, dtype=float) * volt * second
    return NicolaClopathNetwork(neurons, synapses)
