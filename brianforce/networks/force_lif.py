"""Brian2 builders for FORCE-trained LIF networks (Nicola & Clopath 2017).

The network is three Brian2 objects doing all per-step work in generated code:

* ``neurons`` — LIF with refractoriness; a double-exponential filter of the input
  spikes (``I_syn``, ``h``) and of the neuron's own spikes (``r``, ``hr``, the
  regressor of the decoder); feedback ``Σ_k η_ik z_k`` read through linked variables.
* ``recurrent`` — static sparse weights ω (``on_pre: h_post += w/(τ_r τ_d)``).
* ``readout`` + ``decoder`` — a group holding ``z`` and an all-to-all ``Synapses``
  computing ``z_k = Σ_i φ_ik r_i`` as a summed variable, scheduled before the neurons.

The decoder φ is a Brian2 synaptic variable; :func:`decoder_view` returns a
zero-copy (N, K) numpy view of it, which the RLS hook updates in place.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import brian2 as b2
from brian2.devices.device import RuntimeDevice
from brian2 import Hz, NeuronGroup, Synapses, linked_var, second, volt

from brianforce.checks import as_finite_array
from brianforce.naming import own_clock
from brianforce.networks.connectivity import SparseWeights
from brianforce.errors import StandaloneNotSupportedError
from brianforce.neurons import LIFParams, lif_equations, lif_reset, lif_threshold

__all__ = ["ForceNetwork", "build_force_network", "decoder_view", "force_lif_equations", "require_runtime_device",
           "StandaloneNotSupportedError", "FILTERED_READOUT_EQS"]


def require_runtime_device(what: str = "online RLS training") -> None:
    """Refuse to build a ``network_operation`` trainer under a standalone device.

    Brian2's standalone devices (``cpp_standalone``, ``cuda_standalone``) silently drop
    ``network_operation`` objects, so a FORCE run would train nothing without warning.
    """
    device = b2.get_device()
    if not isinstance(device, RuntimeDevice):
        raise StandaloneNotSupportedError(
            f"{what} uses a Brian2 network_operation, which standalone devices "
            f"({type(device).__name__}) silently drop. Call brian2.set_device('runtime') "
            "before training; trained networks can then be run standalone.")


@dataclass
class ForceNetwork:
    """The Brian2 objects of one FORCE network (see module docstring)."""

    neurons: NeuronGroup
    recurrent: Synapses
    readout: NeuronGroup
    decoder: Synapses
    n_outputs: int

    @property
    def objects(self) -> list:
        return [self.neurons, self.recurrent, self.readout, self.decoder]


def force_lif_equations(n_outputs: int) -> str:
    """Brian2 equations of the FORCE LIF neuron with ``n_outputs`` linked feedback channels."""
    feedback = " + ".join(f"eta_{k}*z_{k}" for k in range(n_outputs))
    params = ["I_bias : volt (constant)", "I_ext : volt"]
    for k in range(n_outputs):
        params += [f"eta_{k} : volt (constant)", f"z_{k} : 1 (linked)"]
    return lif_equations(["I_syn", "I_bias", f"({feedback})", "I_ext"], parameters=params)


def build_force_network(weights: SparseWeights, eta: np.ndarray, phi: np.ndarray, *,
                        lif: LIFParams, v0: np.ndarray, dt, name: str = "force", state: dict | None = None,
                        lastspike: np.ndarray | None = None, readout_eqs: str = "z : 1",
                        extra_neuron_eqs: str = "", filtered_readout: bool = False,
                        n_synapses: int | None = None) -> ForceNetwork:
    """Create the Brian2 objects of a FORCE network from numpy arrays (SI units).

    Values are only assigned, never read back, so the same builder serves the runtime
    and the standalone devices (which produce the same spikes from the same arrays).

    Parameters
    ----------
    weights : SparseWeights
        Static recurrent weights ω in V·s.
    eta : ndarray (N, K)
        Feedback encoders in volts (finite).
    phi : ndarray (N, K)
        Initial decoder in seconds (``z = φᵀ r`` with ``r`` in Hz; finite).
    lif : LIFParams
    v0 : ndarray (N,) or float
        Initial membrane potentials in volts (finite).
    dt : Quantity
        Simulation time step.
    name : str
        Prefix of the Brian2 object names.
    state : dict, optional
        Initial ``I_syn`` (V), ``h`` (V/s), ``r`` (Hz), ``hr`` (Hz/s), ``not_refractory``.
    lastspike : ndarray (N,), optional
        Last spike times (s) relative to the start of the run.
    readout_eqs : str
        Equations of the readout group (must define ``z : 1``).
    extra_neuron_eqs : str
        Further parameter lines of the neuron group (e.g. linked variables used by
        generated-code RLS); they must not change the dynamics.
    filtered_readout : bool
        Instead of summing ``z = Σ φ_i r_i`` over all decoder synapses every step, integrate
        it: ``z`` obeys the same filter as ``r`` (``dz/dt = −z/τ_r + u``, ``du/dt = −u/τ_d``,
        each spike of neuron i adds ``φ_i/(τ_r τ_d)`` to ``u``), which is exact while φ is
        constant. Whoever changes φ must then reset ``z = φᵀr`` and ``u = φᵀh_r`` (the
        generated-code RLS does). ``readout_eqs`` must then define ``z`` and ``u`` through
        :data:`FILTERED_READOUT_EQS`.
    n_synapses : int, optional
        Number of recurrent synapses to create (at least those of ``weights``): the surplus
        connects neuron 0 to itself with zero weight, after the real synapses, so it adds exactly
        zero and leaves the order of every real addition unchanged. Standalone programs use
        :func:`~brianforce.networks.connectivity.synapse_capacity`, so that the generated code
        (which holds the count) is the same for every seed.
    """
    N = weights.n
    eta = np.asarray(eta, dtype=float)
    phi = np.asarray(phi, dtype=float)
    K = eta.shape[1] if eta.ndim == 2 else -1
    if eta.shape != (N, K) or phi.shape != (N, K):
        raise ValueError(f"eta and phi must have shape ({N}, K); got {eta.shape} and {phi.shape}")
    v_init = np.asarray(v0, dtype=float)
    if v_init.shape not in ((), (N,)):
        raise ValueError(f"v0 must have shape ({N},) or be a scalar, got {v_init.shape}")
    for what, a in (("eta", eta), ("phi", phi), ("v0", v_init)):
        as_finite_array(a, what)
    if not len(weights.pre):
        raise ValueError("the static weights have no synapses (increase p or n)")
    ns = dict(tau_m=lif.tau_m * second, tau_r=lif.tau_r * second, tau_d=lif.tau_d * second,
              v_th=lif.v_th * volt, v_reset=lif.v_reset * volt)
    eqs = force_lif_equations(K) + ("\n" + extra_neuron_eqs if extra_neuron_eqs.strip() else "")
    neurons = NeuronGroup(N, eqs, threshold=lif_threshold(),
                          reset=lif_reset(),
                          refractory=lif.tau_ref * second, method="euler", namespace=ns,
                          clock=own_clock(f"{name}_neurons", dt), name=f"{name}_neurons")
    neurons.v = v_init * volt
    neurons.I_bias = lif.bias * volt
    for k in range(K):
        setattr(neurons, f"eta_{k}", eta[:, k] * volt)
    if state is not None:
        for var, unit in (("I_syn", volt), ("h", volt / second), ("r", Hz), ("hr", Hz / second)):
            setattr(neurons, var, np.asarray(state[var], dtype=float) * unit)
        neurons.not_refractory = np.asarray(state["not_refractory"], dtype=bool)
    if lastspike is not None:
        neurons.lastspike = np.asarray(lastspike, dtype=float) * second
    recurrent = Synapses(neurons, neurons, "w : volt*second (constant)",
                         on_pre="h_post += w/(tau_r*tau_d)", namespace=ns, clock=own_clock(f"{name}_recurrent", dt),
                         name=f"{name}_recurrent")
    pre, post, value = np.asarray(weights.pre), np.asarray(weights.post), np.asarray(weights.value, dtype=float)
    if n_synapses is not None:
        if n_synapses < len(pre):
            raise ValueError(f"n_synapses ({n_synapses}) is below the number of weights ({len(pre)})")
        surplus = n_synapses - len(pre)
        pre, post = np.append(pre, np.zeros(surplus, pre.dtype)), np.append(post, np.zeros(surplus, post.dtype))
        value = np.append(value, np.zeros(surplus))
    recurrent.connect(i=pre, j=post)
    recurrent.w = value * volt * second
    # summed z: before the neurons (its updater runs just before it); filtered z: integrated after them
    readout = NeuronGroup(K, readout_eqs, order=1 if filtered_readout else -2, method="euler", namespace=ns,
                          clock=own_clock(f"{name}_readout", dt), name=f"{name}_readout")
    if filtered_readout:
        decoder = Synapses(neurons, readout, "phi : second", on_pre="u_post += phi/(tau_r*tau_d)",
                           namespace=ns, clock=own_clock(f"{name}_decoder", dt), name=f"{name}_decoder")
    else:
        decoder = Synapses(neurons, readout, "phi : second\nz_post = phi*r_pre : 1 (summed)",
                           clock=own_clock(f"{name}_decoder", dt), name=f"{name}_decoder")
    decoder.connect(i=np.repeat(np.arange(N), K), j=np.tile(np.arange(K), N))
    decoder.phi = phi.reshape(-1) * second
    for k in range(K):
        setattr(neurons, f"z_{k}", linked_var(readout, "z", index=np.full(N, k, dtype=int)))
    return ForceNetwork(neurons, recurrent, readout, decoder, K)


#: Readout equations for ``filtered_readout=True`` (z follows the filter of the rates r).
FILTERED_READOUT_EQS = "dz/dt = -z/tau_r + u : 1\ndu/dt = -u/tau_d : hertz"


def decoder_view(net: ForceNetwork) -> np.ndarray:
    """Zero-copy (N, K) view of the decoder φ (seconds) inside Brian2's memory."""
    N, K = len(net.neurons), net.n_outputs
    i = net.decoder.variables["i"].get_value()
    j = net.decoder.variables["j"].get_value()
    if not (np.array_equal(i, np.repeat(np.arange(N), K)) and np.array_equal(j, np.tile(np.arange(K), N))):
        raise RuntimeError("decoder synapses are not in (neuron, output) order")
    view = net.decoder.variables["phi"].get_value().reshape(N, K)
    return view
