"""Ready-made spiking networks.

* :mod:`.nicola_clopath` — Nicola & Clopath's (2017) LIF network in the discretisation of
  their MATLAB code, as Brian2 objects (imported on first use: it needs Brian2);
* :mod:`.nicola_clopath_loop` — the same network as their published numpy-style loop.
"""
from importlib import import_module

from brianforce.networks.nicola_clopath_loop import NicolaClopathLoopResult, nicola_clopath_loop

_LAZY = {"NicolaClopathNetwork": "nicola_clopath", "nicola_clopath_network": "nicola_clopath",
         "refractory_steps": "nicola_clopath", "NICOLA_CLOPATH_EQS": "nicola_clopath"}

__all__ = ["nicola_clopath_loop", "NicolaClopathLoopResult", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
