"""Balanced E/I LIF network in Brian2 with per-synapse trainable weights.

Strong, sparse excitatory and inhibitory connections (fixed in-degree ``K_E = p N_E``,
``K_I = p N_I``, weights ``∝ 1/√K``) and a supra-threshold bias put the network in the
balanced, irregular asynchronous regime. All structure is drawn in numpy from one seed
and handed to Brian2. Every recurrent synapse carries its own weight ``w`` (V·s), which
a trainer may overwrite in place (:meth:`BalancedNetwork.weight_view`).

LIF conventions (Nicola & Clopath): ``dv/dt = (−v + I_syn + I_ext + I_bias)/τ_m``;
double-exponential synaptic filter ``dI_syn/dt = −I_syn/τ_r + h``, ``dh/dt = −h/τ_d``,
``h += w/(τ_r τ_d)`` per presynaptic spike; each neuron's own spike train filtered the
same way into ``r`` (Hz), so that ``I_syn,i = Σ_j w_ij r_j`` while weights are fixed.

References
----------
van Vreeswijk C, Sompolinsky H (1996) Chaos in neuronal networks with balanced
excitatory and inhibitory activity. Science 274:1724-1726.
Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from brian2.units.fundamentalunits import fail_for_dimension_mismatch
import brian2 as b2
from brian2 import Network, NeuronGroup, SpikeMonitor, Synapses, mV, ms, second, volt

from brianforce.checks import as_count
from brianforce.naming import own_clock
from brianforce.neurons import lif_equations, lif_reset, lif_threshold
from brianforce.seeding import check_seed, rng_for

__all__ = ["BalancedConnectivity", "BalancedNetwork", "balanced_connectivity",
           "build_balanced_network"]

_PARAMETERS = ("I_bias : volt (constant)", "I_ext : volt")
_EQS = lif_equations(["I_syn", "I_ext", "I_bias"], parameters=_PARAMETERS)
# with independent white input noise of free membrane SD ``sigma_v`` (``noise`` argument)
_EQS_NOISE = lif_equations(["I_syn", "I_ext", "I_bias"], noise=True, parameters=_PARAMETERS)


def _positive(name, value) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {value}")
    return value


def _seconds(name, q) -> float:
    """Plain float (s) from a Brian2 time quantity; raises DimensionMismatchError otherwise."""
    fail_for_dimension_mismatch(q, second, f"{name} must be a time (e.g. 10*ms)")
    return _positive(name, float(q / second))


@dataclass(frozen=True)
class BalancedConnectivity:
    """Sparse E/I connectivity as (pre, post, weight) arrays; weights in V·s (plain floats).

    Neurons ``0 … n_exc−1`` are excitatory, the rest inhibitory; ``sign`` is +1/−1 per
    synapse (the presynaptic type), used to keep Dale's law during training.
    """

    n: int
    n_exc: int
    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray

    @property
    def sign(self) -> np.ndarray:
        return np.where(self.pre < self.n_exc, 1.0, -1.0)

    def mask(self, rows) -> np.ndarray:
        """Boolean (len(rows), n) mask of the presynaptic partners of neurons ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        pos = np.full(self.n, -1)
        pos[rows] = np.arange(rows.size)
        out = np.zeros((rows.size, self.n), dtype=bool)
        keep = pos[self.post] >= 0
        out[pos[self.post[keep]], self.pre[keep]] = True
        return out

    def dense(self) -> np.ndarray:
        """Dense (post, pre) weight matrix in V·s."""
        W = np.zeros((self.n, self.n))
        W[self.post, self.pre] = self.weight
        return W


def balanced_connectivity(n: int, *, p: float = 0.1, frac_exc: float = 0.8, j0: float = 10e-3,
                          g: float = 6.0, tau_m: float = 10e-3, seed: int = 0
                          ) -> BalancedConnectivity:
    """Draw a fixed in-degree balanced E/I network (numpy, SI floats).

    Each neuron receives ``K_E = round(p N_E)`` excitatory and ``K_I = round(p N_I)``
    inhibitory inputs (each at least 1 and at most ``N_E − 1``, ``N_I − 1``), drawn without
    replacement and without autapses. The excitatory weight is ``j0 τ_m / √K``, the
    inhibitory one ``−g`` times that. Through the synapse of
    :func:`build_balanced_network` (unit-area kernel
    ``k(s) = (e^{−s/τ_d} − e^{−s/τ_r})/(τ_d − τ_r)``) and the membrane, an isolated EPSP is
    ``(j0/√K) ∫_0^t e^{−(t−s)/τ_m} k(s) ds``: it peaks at ``0.247 j0/√K`` (16 ms after the
    spike) for ``τ_m, τ_r, τ_d`` = 10, 2, 20 ms.

    Parameters
    ----------
    n : int
        At least 2 excitatory and 2 inhibitory neurons must result
        (``N_E = round(frac_exc·n)``, ``N_I = n − N_E``).
    p : float in (0, 1]
    frac_exc : float in (0, 1)
    j0 : float
        Coupling scale in volts (default 10 mV).
    g : float
        Relative inhibitory strength (> 0).
    tau_m : float
        Membrane time constant in seconds (converts ``j0`` into V·s).
    seed : int
        Stream ``"balanced-connectivity"`` of :func:`brianforce.seeding.rng_for`.
    """
    n = as_count(n, "n", minimum=2)
    if not 0 < p <= 1:
        raise ValueError(f"p must be in (0, 1], got {p}")
    if not 0 < frac_exc < 1:
        raise ValueError(f"frac_exc must be in (0, 1), got {frac_exc}")
    j0, g, tau_m = _positive("j0", j0), _positive("g", g), _positive("tau_m", tau_m)
    rng = rng_for(check_seed(seed), "balanced-connectivity")
    n_exc = int(round(frac_exc * n))
    n_inh = n - n_exc
    k_e = max(1, min(n_exc - 1, int(round(p * n_exc))))
    k_i = max(1, min(n_inh - 1, int(round(p * n_inh))))
    if n_exc < 2 or n_inh < 2:
        raise ValueError(f"n={n}, frac_exc={frac_exc} gives {n_exc} excitatory and {n_inh} inhibitory neurons "
                         f"(in-degrees K_E={k_e}, K_I={k_i}); each neuron needs K_E >= 1 and K_I >= 1 inputs "
                         "other than itself, so at least 2 of each type")
    K = k_e + k_i
    w_e = j0 * tau_m / np.sqrt(K)
    pre, post, weight = [], [], []
    for i in range(n):
        for lo, hi, k, w in ((0, n_exc, k_e, w_e), (n_exc, n, k_i, -g * w_e)):
            cand = np.arange(lo, hi)
            cand = cand[cand != i]
            chosen = np.sort(rng.choice(cand, size=k, replace=False))
            pre.append(chosen)
            post.append(np.full(k, i))
            weight.append(np.full(k, w))
    return BalancedConnectivity(n, n_exc, np.concatenate(pre), np.concatenate(post),
                                np.concatenate(weight))


@dataclass
class BalancedNetwork:
    """Brian2 objects of a balanced LIF network (see module docstring)."""

    connectivity: BalancedConnectivity
    neurons: NeuronGroup
    synapses: Synapses
    spikes: SpikeMonitor
    network: Network

    def weight_view(self) -> np.ndarray:
        """Zero-copy numpy view (V·s) of the per-synapse weights, in ``connectivity`` order."""
        return self.synapses.variables["w"].get_value()

    def synapse_index(self, rows, index: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Synapse numbers for a padded input table (see :func:`rls_per_neuron.padded_inputs`).

        ``rows`` are the postsynaptic neurons of the table rows; padded slots give −1.
        """
        c = self.connectivity
        key = c.post.astype(np.int64) * c.n + c.pre
        order = np.argsort(key)
        rows = np.asarray(rows, dtype=np.int64)
        want = rows[:, None] * c.n + index
        pos = np.searchsorted(key[order], want)
        pos = np.clip(pos, 0, key.size - 1)
        out = order[pos]
        if not np.all(key[out][valid] == want[valid]):
            raise ValueError("input table does not match the network's synapses")
        return np.where(valid, out, -1)


def build_balanced_network(connectivity: BalancedConnectivity, *, bias=(-37.5 * mV, -35 * mV),
                           tau_m=10 * ms, tau_ref=2 * ms, tau_r=2 * ms, tau_d=20 * ms,
                           v_th=-40 * mV, v_reset=-65 * mV, dt=0.05 * ms, noise=0 * mV,
                           seed: int = 0, name: str = "balanced") -> BalancedNetwork:
    """Create the Brian2 network for ``connectivity``.

    Parameters
    ----------
    connectivity : BalancedConnectivity
    bias : (Quantity, Quantity)
        Range of the per-neuron constant bias ``I_bias`` (volts), drawn uniformly;
        supra-threshold so that recurrent inhibition has to balance it.
    tau_m, tau_ref, tau_r, tau_d, dt : Quantity (time)
        All > 0, except ``tau_ref`` >= 0.
    v_th, v_reset : Quantity (voltage)
        Finite, ``v_reset < v_th``.
    noise : Quantity (voltage)
        Free membrane-potential SD of an independent white-noise input to every neuron
        (``+ noise·sqrt(2/τ_m)·ξ`` in ``dv/dt``; Euler-Maruyama). 0 (default): no noise
        term, the network is deterministic given its initial state. Its transfer curve is
        :func:`brianforce.tasks.patterns.lif_transfer` with ``white=noise``.
    seed : int
        Streams ``"balanced-bias"`` and ``"balanced-initial-state"``; with ``noise``,
        Brian2's generator is seeded from stream ``"balanced-noise"``.

    Returns
    -------
    BalancedNetwork
        With an explicit ``Network`` holding neurons, synapses and a ``SpikeMonitor``.
    """
    seed = check_seed(seed)
    for k, q in dict(tau_m=tau_m, tau_r=tau_r, tau_d=tau_d, dt=dt).items():
        _seconds(k, q)  # unit and sign checks
    fail_for_dimension_mismatch(tau_ref, second, "tau_ref must be a time")
    if not (np.isfinite(float(tau_ref / second)) and float(tau_ref / second) >= 0):
        raise ValueError(f"tau_ref must be finite and >= 0, got {tau_ref}")
    for nm, q in (("noise", noise), ("v_th", v_th), ("v_reset", v_reset), ("bias[0]", bias[0]), ("bias[1]", bias[1])):
        fail_for_dimension_mismatch(q, volt, f"{nm} must be a voltage (e.g. -40*mV)")
        if not np.isfinite(float(q / volt)):
            raise ValueError(f"{nm} must be finite, got {q}")
    if not v_reset < v_th:
        raise ValueError(f"v_reset ({v_reset}) must be below v_th ({v_th})")
    lo, hi = float(bias[0] / volt), float(bias[1] / volt)
    if hi < lo:
        raise ValueError(f"bias range must be (low, high), got {bias}")
    sigma_v = float(noise / volt)
    if not (np.isfinite(sigma_v) and sigma_v >= 0):
        raise ValueError(f"noise must be >= 0 volts, got {noise}")
    c = connectivity
    ns = dict(tau_m=tau_m, tau_r=tau_r, tau_d=tau_d, v_th=v_th, v_reset=v_reset)
    if sigma_v > 0:
        ns["sigma_v"] = noise
        b2.seed(int(rng_for(seed, "balanced-noise").integers(2**31 - 1)))
    neurons = NeuronGroup(c.n, _EQS_NOISE if sigma_v > 0 else _EQS, threshold=lif_threshold(), reset=lif_reset(),
                          refractory=tau_ref, method="euler", namespace=ns, clock=own_clock(f"{name}_neurons", dt),
                          name=f"{name}_neurons")
    neurons.I_bias = rng_for(seed, "balanced-bias").uniform(lo, hi, c.n) * volt
    v_lo, v_hi = float(v_reset / volt), float(v_th / volt)
    neurons.v = rng_for(seed, "balanced-initial-state").uniform(v_lo, v_hi, c.n) * volt
    synapses = Synapses(neurons, neurons, "w : volt*second", on_pre="h_post += w/(tau_r*tau_d)",
                        namespace=ns, clock=own_clock(f"{name}_synapses", dt), name=f"{name}_synapses")
    synapses.connect(i=c.pre, j=c.post)
    if not (np.array_equal(synapses.i[:], c.pre) and np.array_equal(synapses.j[:], c.post)):
        raise RuntimeError("Brian2 reordered the synapses; cannot map weights")
    synapses.w = c.weight * volt * second
    spikes = SpikeMonitor(neurons, name=f"{name}_spikes")
    network = Network(neurons, synapses, spikes, name=f"{name}_network")
    return BalancedNetwork(c, neurons, synapses, spikes, network)
