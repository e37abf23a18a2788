"""LIF neuron parameters and the analytic f–I curve (numpy only, SI floats)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LIFParams", "lif_rate"]


@dataclass(frozen=True)
class LIFParams:
    """Leaky integrate-and-fire parameters in SI units (seconds, volts).

    Defaults are Nicola & Clopath (2017): τ_m 10 ms, τ_ref 2 ms, v_th −40 mV,
    v_reset −65 mV, synaptic rise 2 ms and decay 20 ms, bias −40 mV (= v_th).
    Currents are expressed in voltage units (``R·I``).
    """

    tau_m: float = 10e-3
    tau_ref: float = 2e-3
    v_th: float = -40e-3
    v_reset: float = -65e-3
    tau_r: float = 2e-3
    tau_d: float = 20e-3
    bias: float = -40e-3

    def __post_init__(self):
        for name in ("tau_m", "tau_r", "tau_d"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.tau_ref < 0:
            raise ValueError(f"tau_ref must be >= 0, got {self.tau_ref}")
        if not self.v_reset < self.v_th:
            raise ValueError(f"v_reset ({self.v_reset}) must be below v_th ({self.v_th})")


def lif_rate(current, params: LIFParams = LIFParams()) -> np.ndarray:
    """Stationary firing rate (Hz) of a LIF neuron under constant input ``current`` (V).

    ``f(I) = 1 / (τ_ref + τ_m ln((I − v_reset)/(I − v_th)))`` for ``I > v_th``, else 0
    (the neuron integrates ``τ_m dv/dt = −v + I`` from ``v_reset`` to ``v_th`` and is
    then refractory for ``τ_ref``).

    References
    ----------
    Newton TR, Nicola W (2025) PLoS Comput Biol 21:e1013224 (parameter-matched
    instantaneous rate network).
    """
    current = np.asarray(current, dtype=float)
    out = np.zeros_like(current)
    above = current > params.v_th
    I = current[above]
    out[above] = 1.0 / (params.tau_ref + params.tau_m * np.log((I - params.v_reset) / (I - params.v_th)))
    return out
