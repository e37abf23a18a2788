"""Analysis of outputs and populations: error metrics, lags and frequencies (:mod:`.metrics`);
PCA, principal angles, irregularity, Fano factors (:mod:`.population`).

Public names are imported on first use (``from brianforce.analysis import X``).
"""
from importlib import import_module

_LAZY = {"lag_adjusted_correlation": "metrics", "normalised_rmse": "metrics", "rmse": "metrics", "dominant_frequency": "metrics"}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
