"""The leaky integrate-and-fire neuron: parameters, Brian2 equations, threshold, reset, f–I curve.

Equations (currents in voltage units, ``R·I``)::

    τ_m dv/dt = −v + Σ_k I_k  [+ σ_v √(2 τ_m) ξ]          (unless refractory for τ_ref)
    spike when v ≥ v_th (or v > v_th), then v ← v_reset
    dI_syn/dt = −I_syn/τ_r + h,   dh/dt = −h/τ_d,   h += ω/(τ_r τ_d) per presynaptic spike
    dr/dt = −r/τ_r + h_r,         dh_r/dt = −h_r/τ_d, h_r += 1/(τ_r τ_d) per own spike

``r`` (Hz) is the neuron's own filtered spike train, the regressor of FORCE decoders. The
builders return Brian2 equation text; the numeric helpers are numpy only (SI floats).

References
----------
Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE
training. Nat Commun 8:2208.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from brianforce.checks import as_number

__all__ = ["LIFParams", "lif_rate", "lif_equations", "membrane_equation", "filtered_spike_train", "lif_threshold",
           "lif_reset", "SYNAPTIC_CURRENT", "OWN_RATE"]


@dataclass(frozen=True)
class LIFParams:
    """Leaky integrate-and-fire parameters in SI units (seconds, volts).

    Defaults are Nicola & Clopath (2017): τ_m 10 ms, τ_ref 2 ms, v_th −40 mV,
    v_reset −65 mV, synaptic rise 2 ms and decay 20 ms, bias −40 mV (= v_th).
    Currents are expressed in voltage units (``R·I``).

    Parameters
    ----------
    tau_m, tau_r, tau_d : float
        Membrane time constant, synaptic rise and decay (s), finite and > 0.
    tau_ref : float
        Refractory period (s), finite and >= 0.
    v_th, v_reset, bias : float
        Threshold, reset and bias (V), finite, with ``v_reset < v_th``.

    Raises
    ------
    DimensionMismatchError
        A field given as a Brian2 quantity with units (these fields are plain SI floats).
    TypeError
        A field that is not a number (a bool, a string, an array).
    ValueError
        A field that is NaN, infinite or out of range, or ``v_reset >= v_th``.
    """

    tau_m: float = 10e-3
    tau_ref: float = 2e-3
    v_th: float = -40e-3
    v_reset: float = -65e-3
    tau_r: float = 2e-3
    tau_d: float = 20e-3
    bias: float = -40e-3

    def __post_init__(self):
        ranges = {"tau_m": dict(low=0.0, low_open=True), "tau_ref": dict(low=0.0),
                  "tau_r": dict(low=0.0, low_open=True), "tau_d": dict(low=0.0, low_open=True)}
        for name in ("tau_m", "tau_ref", "v_th", "v_reset", "tau_r", "tau_d", "bias"):
            value = getattr(self, name)
            v = as_number(value, name, **ranges.get(name, {}))
            if hasattr(value, "dim"):           # a dimensionless Brian2 quantity: kept as a float
                object.__setattr__(self, name, v)
        if not self.v_reset < self.v_th:
            raise ValueError(f"v_reset ({self.v_reset}) must be below v_th ({self.v_th})")


def lif_rate(current, params: LIFParams = LIFParams()) -> np.ndarray:
    """Stationary firing rate (Hz) of a LIF neuron under constant input ``current`` (V).

    ``f(I) = 1 / (τ_ref + τ_m ln((I − v_reset)/(I − v_th)))`` for ``I > v_th``, else 0
    (the neuron integrates ``τ_m dv/dt = −v + I`` from ``v_reset`` to ``v_th`` and is
    then refractory for ``τ_ref``). The limits carry over: ``I = +inf`` fires at
    ``1/τ_ref`` (``inf`` for ``τ_ref = 0``), ``I = −inf`` at 0, and a NaN current gives NaN.

    References
    ----------
    Newton TR, Nicola W (2025) PLoS Comput Biol 21:e1013224 (parameter-matched
    instantaneous rate network).
    """
    current = np.asarray(current, dtype=float)
    out = np.zeros_like(current)
    above = current > params.v_th
    infinite = current == np.inf
    if np.any(infinite):
        above &= ~infinite
        out[infinite] = np.inf if params.tau_ref == 0 else 1.0 / params.tau_ref
    I = current[above]
    out[above] = 1.0 / (params.tau_ref + params.tau_m * np.log((I - params.v_reset) / (I - params.v_th)))
    out[np.isnan(current)] = np.nan
    return out


def membrane_equation(currents: Sequence[str], *, noise: bool = False) -> str:
    """``dv/dt = (-v + I_1 + … + I_n)/tau_m [+ sigma_v*sqrt(2/tau_m)*xi] : volt (unless refractory)``.

    ``currents`` are summed in the order given (the order fixes the floating-point result);
    ``noise`` adds white noise of free membrane standard deviation ``sigma_v``.
    """
    drive = " + ".join(["-v", *currents])
    noise_term = " + sigma_v*sqrt(2/tau_m)*xi" if noise else ""
    return f"dv/dt = ({drive})/tau_m{noise_term} : volt (unless refractory)"


def filtered_spike_train(variable: str, helper: str, unit: str, *, tau_rise: str = "tau_r",
                         tau_decay: str = "tau_d") -> str:
    """Double-exponential filter: ``dx/dt = -x/tau_rise + h``, ``dh/dt = -h/tau_decay``.

    Spikes add ``w/(tau_rise*tau_decay)`` to ``helper`` (:func:`lif_reset`, ``on_pre``).
    """
    return (f"d{variable}/dt = -{variable}/{tau_rise} + {helper} : {unit}\n"
            f"d{helper}/dt = -{helper}/{tau_decay} : {unit}/second")


#: The synaptic current and the neuron's own filtered spike train of most networks.
SYNAPTIC_CURRENT = ("I_syn", "h", "volt")
OWN_RATE = ("r", "hr", "hertz")


def lif_equations(currents: Sequence[str], *, filters=(SYNAPTIC_CURRENT, OWN_RATE), noise: bool = False,
                  parameters: Sequence[str] = ()) -> str:
    """Brian2 equations of a LIF network's neurons.

    Parameters
    ----------
    currents : sequence of str
        Terms of the membrane drive, summed after ``-v`` in this order.
    filters : sequence of (variable, helper, unit[, tau_rise, tau_decay])
        Double-exponential filters (:func:`filtered_spike_train`).
    noise : bool
        White membrane noise of standard deviation ``sigma_v``.
    parameters : sequence of str
        Further equation lines (parameters, linked variables, subexpressions).
    """
    lines = [membrane_equation(currents, noise=noise)]
    for f in filters:
        var, helper, unit, *taus = f
        kw = dict(zip(("tau_rise", "tau_decay"), taus))
        lines.append(filtered_spike_train(var, helper, unit, **kw))
    lines += list(parameters)
    return "\n".join(lines) + "\n"


def lif_threshold(v_th: str = "v_th", *, strict: bool = False) -> str:
    """``v >= v_th`` (Nicola & Clopath), or ``v > v_th`` with ``strict``.

    The two differ only when ``v`` lands exactly on the threshold, which a neuron whose bias
    equals the threshold can reach by rounding; each network keeps the test it was fitted with.
    """
    return f"v {'>' if strict else '>='} {v_th}"


def lif_reset(v_reset: str = "v_reset", filters: Sequence[tuple] = (("hr", "tau_r", "tau_d"),),
              sep: str = "\n") -> str:
    """Reset ``v`` and add ``1/(tau_rise*tau_decay)`` to each own-spike filter helper."""
    return sep.join([f"v = {v_reset}", *(f"{h} += 1/({a}*{b})" for h, a, b in filters)])
