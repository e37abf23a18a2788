"""Figures: FORCE summaries and rasters (:mod:`~brianforce.viz.force`), sweep heat maps and curves
(:mod:`~brianforce.viz.sweeps`), saved figures shown inline in a notebook (:mod:`~brianforce.viz.display`).

Public names are imported on first use (``from brianforce.viz import X``).
"""
from importlib import import_module

_LAZY = {"plot_force_summary": "force", "plot_force_run": "force", "plot_raster": "force", "plot_heatmap": "sweeps",
         "show_png": "display"}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
