"""Figures for sweeps and spiking/rate comparisons. Every function takes ``ax=`` and returns it.

Sweep tables store every parameter in SI units (G in V·s, Q in V, time steps in s); the figures
draw G, Q and the time steps in the units of their axis labels (mV·s, mV, ms, see ``_SCALE``).
A seed whose value is NaN or ±Inf (a network that diverged, or a metric that could not be
computed) is never dropped silently: the figures count and mark such seeds.

References
----------
Newton TR, Nicola W (2025) PLoS Comput Biol 21:e1013224 (G × Q convergence heat maps,
decoder correlation against learning rate, decoder PC spectra).
"""
from __future__ import annotations

import numpy as np

from brianforce.checks import as_count

__all__ = ["grid_table", "value_bounds", "plot_heatmap", "plot_alpha_curve", "plot_pc_spectrum"]

#: (factor from the SI value in the sweep table to the plotted value, axis label) per sweep axis
_SCALE = {"G": (1e3, "G (mV·s)"), "Q": (1e3, "Q (mV)"), "alpha": (1.0, "α"), "n_neurons": (1.0, "N"),
          "rls_interval": (1e3, "rls_interval (ms)"), "dt": (1e3, "dt (ms)"), "rate_dt": (1e3, "rate_dt (ms)")}

#: legend line of the marks for seeds with a NaN or Inf value
NONFINITE_NOTE = "○ / ×: k/n seeds NaN or Inf (e.g. diverged), not in mean ± s.d."

#: aggregations that keep a value inside the range of its seeds
_RANGE_PRESERVING = ("mean", "median", "min", "max")


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def _is_converged_column(value: str) -> bool:
    return value == "converged" or value.endswith("_converged")


def value_bounds(value: str, agg: str = "mean") -> tuple[float | None, float | None]:
    """Fixed colour range of a sweep column, from its name, or ``(None, None)`` for the data range.

    Columns of booleans or fractions, ``*converged`` and ``*diverged`` (fraction of seeds) and
    names containing ``fraction``, are bounded in ``[0, 1]``; names containing ``correlation``
    in ``[-1, 1]``. The bound holds only for an aggregation over seeds that stays within the range
    of the seeds (``mean``, ``median``, ``min``, ``max``); any other column or aggregation (an
    error, a frequency, a ``sum`` or ``std``) is drawn over the range of its data.
    """
    if agg not in _RANGE_PRESERVING:
        return None, None
    if _is_converged_column(value) or value == "diverged" or value.endswith("_diverged") or "fraction" in value:
        return 0.0, 1.0
    if "correlation" in value:
        return -1.0, 1.0
    return None, None


def grid_table(frame, x: str, y: str, value: str, agg: str = "mean"):
    """Pivot ``value`` over the ``x`` × ``y`` grid, aggregating seeds (rows: y, columns: x).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per run (a sweep's ``results.csv``).
    x, y, value : str
        Column names.
    agg : str
        Aggregation over the seeds of one cell (a pandas aggregation name).

    Returns
    -------
    pandas.DataFrame
        One cell per grid point. For ``*_converged`` columns a seed with no value (NaN) counts as
        not converged, so a cell is the fraction of *all* its seeds that converged. For any other
        column a cell with a NaN seed is NaN (the aggregate of the other seeds would describe
        only the survivors); ``±Inf`` (the error of a diverged network) enters the aggregate as is.
    """
    for col in (x, y, value):
        if col not in frame.columns:
            raise KeyError(f"column {col!r} not in the sweep table ({list(frame.columns)})")
    data = frame[[x, y, value]].copy()
    data[value] = data[value].astype(float)
    if _is_converged_column(value):
        data[value] = data[value].fillna(0.0)
    table = data.pivot_table(index=y, columns=x, values=value, aggfunc=agg, dropna=False)
    has_nan = data[value].isna().groupby([data[y], data[x]]).any().unstack(x, fill_value=False)
    table = table.where(~has_nan.reindex(index=table.index, columns=table.columns, fill_value=False))
    return table.sort_index().sort_index(axis=1)


def plot_heatmap(frame, x: str = "G", y: str = "Q", value: str = "rate_converged", ax=None, agg: str = "mean",
                 title: str | None = None, cmap: str = "viridis", vmin=None, vmax=None):
    """Heat map of ``value`` (aggregated over seeds) on the ``x`` × ``y`` grid, as in the paper's G × Q maps.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per run.
    x, y : str
        Sweep axes; G, Q and time steps are labelled in mV·s, mV and ms.
    value : str
        Column drawn; cells as :func:`grid_table` computes them.
    agg : str
        Aggregation over seeds.
    vmin, vmax : float, optional
        Colour range. By default the range fixed by the column name (:func:`value_bounds`:
        ``[0, 1]`` for fractions converged, ``[-1, 1]`` for correlations), else the range of the
        finite cells.

    Notes
    -----
    Cells that are NaN or ±Inf are drawn grey, and the colour-bar label says so.
    """
    import matplotlib

    ax = _axes(ax)
    table = grid_table(frame, x, y, value, agg)
    lo, hi = value_bounds(value, agg)
    vmin = lo if vmin is None else vmin
    vmax = hi if vmax is None else vmax
    cells = table.values.astype(float)
    finite = np.isfinite(cells)
    if finite.any():
        vmin = float(cells[finite].min()) if vmin is None else vmin
        vmax = float(cells[finite].max()) if vmax is None else vmax
    sx, lx = _SCALE.get(x, (1.0, x))
    sy, ly = _SCALE.get(y, (1.0, y))
    colours = matplotlib.colormaps[cmap].with_extremes(bad="0.6")
    im = ax.imshow(np.where(finite, cells, np.nan), origin="lower", aspect="auto", cmap=colours, vmin=vmin,
                   vmax=vmax, interpolation="nearest")
    ax.set_xticks(range(table.shape[1]))
    ax.set_xticklabels([f"{v * sx:.3g}" for v in table.columns], rotation=90, fontsize="small")
    ax.set_yticks(range(table.shape[0]))
    ax.set_yticklabels([f"{v * sy:.3g}" for v in table.index], fontsize="small")
    ax.set_xlabel(lx)
    ax.set_ylabel(ly)
    if _is_converged_column(value) and agg == "mean":
        label = f"fraction of seeds converged ({value})"
    else:
        label = f"{value} ({agg} over seeds)"
    if not finite.all():
        label += "\ngrey: NaN or Inf"
    ax.figure.colorbar(im, ax=ax, label=label)
    if title:
        ax.set_title(title)
    return ax


def plot_alpha_curve(frame, x: str = "alpha", value: str = "decoder_correlation", ax=None, log_x: bool = True,
                     label: str | None = None):
    """Mean ± s.d. over seeds of ``value`` against ``x`` (e.g. decoder correlation against α).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per run.
    x : str
        Sweep axis; G, Q and time steps are drawn in the units of their label (mV·s, mV, ms).
    value : str
        Column drawn.
    log_x : bool
        Logarithmic x axis; grid values ``<= 0`` cannot be drawn on it and are named in a note.
    label : str, optional
        Legend label (default ``value``).

    Notes
    -----
    Mean and s.d. are over the seeds with a finite value; the s.d. bar is drawn only where at least
    two seeds are finite. Where ``k`` of the ``n`` seeds of a grid value are NaN or ±Inf (a
    diverged network, a metric not computed) the mean is drawn as an open marker and labelled
    ``k/n NaN/Inf``; where all are, a × on the lower edge of the axes marks the grid value. When
    any seed is marked, the legend gets a line explaining the marks (:data:`NONFINITE_NOTE`).
    """
    from matplotlib.transforms import blended_transform_factory

    ax = _axes(ax)
    if x not in frame.columns or value not in frame.columns:
        missing = x if x not in frame.columns else value
        raise KeyError(f"column {missing!r} not in the sweep table ({list(frame.columns)})")
    scale, xlabel = _SCALE.get(x, (1.0, x))
    values = frame[value].astype(float)
    ok = np.isfinite(values)
    g = values.where(ok).groupby(frame[x]).agg(["mean", "std", "count", "size"]).sort_index()
    xs = g.index.values.astype(float) * scale
    n_ok, n_all = g["count"].values, g["size"].values
    if log_x and (xs <= 0).any():
        hidden = ", ".join(f"{v:.3g}" for v in xs[xs <= 0])
        ax.text(0.01, 0.99, f"{xlabel} = {hidden} not drawn (log axis)", transform=ax.transAxes, ha="left",
                va="top", fontsize="x-small", color="0.3")
        keep = xs > 0
        g, xs, n_ok, n_all = g[keep], xs[keep], n_ok[keep], n_all[keep]
    mean, sd = g["mean"].values, g["std"].values
    has = n_ok > 0
    (line,) = ax.plot(xs[has], mean[has], marker="o", label=label or value)
    colour = line.get_color()
    bars = n_ok >= 2
    if bars.any():
        ax.errorbar(xs[bars], mean[bars], yerr=sd[bars], fmt="none", ecolor=colour, capsize=3)
    partial = has & (n_ok < n_all)
    if partial.any():
        ax.plot(xs[partial], mean[partial], "o", ms=9, mfc="white", mec=colour, zorder=line.get_zorder() + 1)
        for xv, yv, k, n in zip(xs[partial], mean[partial], n_ok[partial], n_all[partial]):
            ax.annotate(f"{n - k}/{n} NaN/Inf", (xv, yv), xytext=(4, 4), textcoords="offset points",
                        fontsize="x-small", color=colour)
    none = ~has
    if none.any():
        bottom = blended_transform_factory(ax.transData, ax.transAxes)
        ax.plot(xs[none], np.full(none.sum(), 0.02), "x", color=colour, transform=bottom, clip_on=False)
        for xv, n in zip(xs[none], n_all[none]):
            ax.text(xv, 0.05, f"{n}/{n} NaN/Inf", transform=bottom, ha="center", va="bottom", rotation=90,
                    fontsize="x-small", color=colour)
    if partial.any() or none.any():
        if not any(a.get_label() == NONFINITE_NOTE for a in ax.get_lines()):
            ax.plot([], [], "o", mfc="white", mec="0.3", label=NONFINITE_NOTE)
    if (partial.any() or none.any() or ax.get_legend() is not None) and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(value)
    return ax


def plot_pc_spectrum(projections: dict, ax=None, n_components: int | None = None, normalise: bool = True):
    """``|φ|`` coefficients on the neural-basis PCs for several decoders (``{label: PCProjection}``).

    Parameters
    ----------
    projections : dict
        ``{label: PCProjection}``; ``coefficients`` has one row per principal component.
    n_components : int, optional
        Leading components drawn (default: all). More than a projection has raises ``ValueError``.
    normalise : bool
        Scale each spectrum to unit norm.
    """
    ax = _axes(ax)
    if n_components is not None:
        n_components = as_count(n_components, "n_components", minimum=1)
    for label, proj in projections.items():
        c = np.sqrt((proj.coefficients ** 2).sum(1))
        if n_components is not None and n_components > len(c):
            raise ValueError(f"n_components={n_components} but the projection {label!r} has only {len(c)} "
                             f"principal components")
        if normalise and c.max() > 0:
            c = c / np.linalg.norm(c)
        k = n_components or len(c)
        ax.semilogy(np.arange(1, k + 1), c[:k] + 1e-300, ".", ms=3, label=label)
    ax.set_xlabel("principal component (by variance)")
    ax.set_ylabel("|decoder coefficient|" + (" (unit norm)" if normalise else ""))
    ax.legend(fontsize="small")
    return ax
