"""Figures. Every function takes ``ax=`` (or ``axes=``) and returns it."""
from __future__ import annotations

import numpy as np

__all__ = ["plot_output", "plot_raster", "plot_training_error", "plot_force_summary"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def plot_output(result, ax=None, channel: int = 0, label: str = "network"):
    """Target (dashed) and network output of one channel against time (s)."""
    ax = _axes(ax)
    ax.plot(result.t, result.target[:, channel], "k--", lw=1.5, label="target")
    ax.plot(result.t, result.z[:, channel], lw=1.0, label=label)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"output {channel}")
    ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_raster(spike_t, spike_i, ax=None, n_neurons: int | None = None):
    """Spike raster (time in s)."""
    ax = _axes(ax)
    ax.plot(spike_t, spike_i, "|", ms=2, color="k", alpha=0.6)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("neuron")
    if n_neurons:
        ax.set_ylim(-0.5, n_neurons - 0.5)
    return ax


def plot_training_error(history, ax=None):
    """Absolute a-priori RLS error per update (log scale)."""
    ax = _axes(ax)
    if len(history.times):
        ax.semilogy(history.times, np.maximum(history.abs_error, 1e-12), lw=0.5)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("|error| before update")
    return ax


def plot_force_summary(test_result, history, train_result=None, axes=None):
    """Three-panel summary: output vs target, raster, training error. Returns the axes."""
    if axes is None:
        import matplotlib.pyplot as plt

        n_out = test_result.z.shape[1]
        fig, axes = plt.subplots(2 + n_out, 1, figsize=(9, 2.4 * (2 + n_out)), constrained_layout=True)
    n_out = test_result.z.shape[1]
    for k in range(n_out):
        if train_result is not None and len(train_result.t):
            tail = train_result.t >= train_result.t[-1] - 1.0
            axes[k].plot(train_result.t[tail], train_result.z[tail, k], color="0.6", lw=1, label="training")
        plot_output(test_result, axes[k], channel=k, label="free-running test")
        axes[k].axvline(test_result.t[0], color="r", lw=0.8)
    plot_raster(test_result.spike_t, test_result.spike_i, axes[n_out], test_result.n_recorded)
    axes[n_out].set_title(f"{test_result.n_recorded} of {test_result.n_neurons} neurons", fontsize="small")
    plot_training_error(history, axes[n_out + 1])
    return axes
