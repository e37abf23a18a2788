"""Figures for sweeps and spiking/rate comparisons. Every function takes ``ax=`` and returns it.

References
----------
Newton TR, Nicola W (2025) PLoS Comput Biol 21:e1013224 (G × Q convergence heat maps,
decoder correlation against learning rate, decoder PC spectra).
"""
from __future__ import annotations

import numpy as np

__all__ = ["grid_table", "plot_heatmap", "plot_alpha_curve", "plot_pc_spectrum"]

_SCALE = {"G": (1e3, "G (mV·s)"), "Q": (1e3, "Q (mV)"), "alpha": (1.0, "α"), "n_neurons": (1.0, "N")}


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def grid_table(frame, x: str, y: str, value: str, agg: str = "mean"):
    """Pivot ``value`` over the ``x`` × ``y`` grid, aggregating seeds (rows: y, columns: x)."""
    for col in (x, y, value):
        if col not in frame.columns:
            raise KeyError(f"column {col!r} not in the sweep table ({list(frame.columns)})")
    data = frame[[x, y, value]].copy()
    data[value] = data[value].astype(float)
    return data.pivot_table(index=y, columns=x, values=value, aggfunc=agg).sort_index().sort_index(axis=1)


def plot_heatmap(frame, x: str = "G", y: str = "Q", value: str = "rate_converged", ax=None, agg: str = "mean",
                 title: str | None = None, cmap: str = "viridis", vmin=0.0, vmax=1.0):
    """Heat map of ``value`` (averaged over seeds) on the ``x`` × ``y`` grid, as in the paper's G × Q maps."""
    ax = _axes(ax)
    table = grid_table(frame, x, y, value, agg)
    sx, lx = _SCALE.get(x, (1.0, x))
    sy, ly = _SCALE.get(y, (1.0, y))
    im = ax.imshow(table.values, origin="lower", aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax,
                   interpolation="nearest")
    ax.set_xticks(range(table.shape[1]))
    ax.set_xticklabels([f"{v * sx:.3g}" for v in table.columns], rotation=90, fontsize="small")
    ax.set_yticks(range(table.shape[0]))
    ax.set_yticklabels([f"{v * sy:.3g}" for v in table.index], fontsize="small")
    ax.set_xlabel(lx)
    ax.set_ylabel(ly)
    ax.figure.colorbar(im, ax=ax, label=value)
    if title:
        ax.set_title(title)
    return ax


def plot_alpha_curve(frame, x: str = "alpha", value: str = "decoder_correlation", ax=None, log_x: bool = True,
                     label: str | None = None):
    """Mean ± s.d. over seeds of ``value`` against ``x`` (e.g. decoder correlation against α)."""
    ax = _axes(ax)
    g = frame.groupby(x)[value].agg(["mean", "std"]).sort_index()
    ax.errorbar(g.index.values, g["mean"].values, yerr=np.nan_to_num(g["std"].values), marker="o", capsize=3,
                label=label or value)
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(_SCALE.get(x, (1.0, x))[1])
    ax.set_ylabel(value)
    return ax


def plot_pc_spectrum(projections: dict, ax=None, n_components: int | None = None, normalise: bool = True):
    """``|φ|`` coefficients on the neural-basis PCs for several decoders (``{label: PCProjection}``)."""
    ax = _axes(ax)
    for label, proj in projections.items():
        c = np.sqrt((proj.coefficients ** 2).sum(1))
        if normalise and c.max() > 0:
            c = c / np.linalg.norm(c)
        k = n_components or len(c)
        ax.semilogy(np.arange(1, k + 1), c[:k] + 1e-300, ".", ms=3, label=label)
    ax.set_xlabel("principal component (by variance)")
    ax.set_ylabel("|decoder coefficient|" + (" (unit norm)" if normalise else ""))
    ax.legend(fontsize="small")
    return ax
