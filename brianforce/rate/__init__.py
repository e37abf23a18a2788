"""Rate networks (numpy): tanh FORCE and the LIF-matched instantaneous rate network
(:mod:`.networks`), DePasquale teachers (:mod:`.teacher`) and their factors (:mod:`.factors`), the
Dale rate RNN trained by BPTT (:mod:`.backprop`).

The Dale rate RNN's parameter record, its checks and its random initial network: :mod:`brianforce.rate.dale_rnn`.

Public names are imported on first use (``from brianforce.rate import X``).
"""
from importlib import import_module

_LAZY = {"TanhForceNetwork": "networks", "LIFRateNetwork": "networks", "RateTeacher": "teacher", "pca_factors": "factors", "DaleRNNTrainer": "backprop"}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
