"""Experiments: recipes, the command line, sweeps and paper reproductions. Everything may be
imported from here; nothing in the package imports this layer.

Public names are imported on first use (``from brianforce.experiments import X``).
"""
from importlib import import_module

_LAZY = {"main": "cli"}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
