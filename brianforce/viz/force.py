"""Figures. Every function takes ``ax=`` (or ``axes=``) and returns it."""
from __future__ import annotations

import numpy as np

from brianforce.checks import as_count, as_number

__all__ = ["plot_output", "plot_raster", "plot_training_error", "plot_force_summary", "plot_force_run"]

#: smallest error drawn on the log axis: exact zeros (and anything smaller) are drawn at this value
ERROR_FLOOR = 1e-12


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


def _seconds(value, name: str) -> float:
    """A duration > 0 in seconds, from a Brian2 time or a plain number of seconds."""
    if hasattr(value, "dim"):
        from brian2 import second

        from brianforce.units import as_positive_si

        return as_positive_si(value, second, name)
    return as_number(value, name, low=0.0, low_open=True)


def plot_training_error(history, ax=None):
    """A-priori RLS error per update on a log scale: the largest ``|error|`` over the outputs.

    Errors below :data:`ERROR_FLOOR` (exact zeros included) are drawn at the floor. NaN or Inf
    errors cannot be drawn: the first update with one is marked by a vertical line, and so is
    ``history.diverged_at`` when training stopped on divergence, each named in the legend.
    """
    ax = _axes(ax)
    times = np.asarray(history.times, dtype=float)
    marks = []
    if len(times):
        err = np.asarray(history.abs_error, dtype=float)
        finite = np.isfinite(err)
        ax.semilogy(times, np.where(finite, np.maximum(err, ERROR_FLOOR), np.nan), lw=0.5)
        if not finite.all():
            t_bad = float(times[np.argmax(~finite)])
            marks.append((t_bad, f"first NaN/Inf error (t = {t_bad:.4g} s)", ":"))
    diverged_at = getattr(history, "diverged_at", None)
    if diverged_at is not None and np.isfinite(diverged_at):
        if not any(np.isclose(t, diverged_at) for t, _, _ in marks):
            marks.append((float(diverged_at), f"diverged (t = {float(diverged_at):.4g} s)", "--"))
    for t, text, style in marks:
        ax.axvline(t, color="tab:red", ls=style, lw=1.0, label=text)
    if marks:
        ax.legend(fontsize="small")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("max |error| over outputs\nbefore update")
    return ax


def plot_force_summary(test_result, history, train_result=None, axes=None, train_tail=1.0):
    """Summary of a FORCE run in ``n_outputs + 2`` panels.

    One panel per output (the end of training, then the free-running test against its target,
    with a red line where the test starts and RLS stops), a spike raster of the test and the
    training error (:func:`plot_training_error`).

    Parameters
    ----------
    test_result : SimulationResult
        The free-running test.
    history : ~brianforce.learning.TrainingHistory
    train_result : SimulationResult, optional
        The training phase; its last ``train_tail`` is drawn before the test.
    axes : sequence of ``n_outputs + 2`` Axes, optional
    train_tail : float or Brian2 time
        How much of the end of training is shown (s, or a time such as ``500*ms``); > 0.

    Returns
    -------
    sequence of Axes
        Output panels, then the raster, then the training error.
    """
    tail_s = _seconds(train_tail, "train_tail")
    n_out = test_result.z.shape[1]
    if axes is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(2 + n_out, 1, figsize=(9, 2.4 * (2 + n_out)), constrained_layout=True)
    for k in range(n_out):
        if train_result is not None and len(train_result.t):
            tail = train_result.t >= train_result.t[-1] - tail_s
            axes[k].plot(train_result.t[tail], train_result.z[tail, k], color="0.6", lw=1,
                         label=f"training (last {tail_s:g} s)")
        plot_output(test_result, axes[k], channel=k, label="free-running test")
        axes[k].axvline(test_result.t[0], color="r", lw=0.8, label="test starts (RLS off)")
        axes[k].legend(loc="upper right", fontsize="small")
    plot_raster(test_result.spike_t, test_result.spike_i, axes[n_out], test_result.n_recorded)
    axes[n_out].set_title(f"{test_result.n_recorded} of {test_result.n_neurons} neurons", fontsize="small")
    plot_training_error(history, axes[n_out + 1])
    return axes


def plot_force_run(settle_result, train_result, test_result, history, *, n_raster: int = 30,
                   decoder_output: int = 0, axes=None):
    """A whole FORCE run on one time axis, after Nicola & Clopath (2017, Fig. 2).

    One panel per output (network output ``z`` over settling, training and test; the target,
    dashed, during training and test), the decoder weights φ of the traced neurons
    (``history.decoder_samples``) and a spike raster of the first ``n_raster`` recorded neurons.
    All panels share the time axis (absolute simulated time, s, from 0 to the end of the test);
    the training window, when RLS updates the decoder, is shaded, with lines at the switches.

    Parameters
    ----------
    settle_result, train_result, test_result : SimulationResult or None
        The recorded phases (``FORCETrainer.settle_result_``, ``train_result_`` and
        ``predict()``); spikes during settling and training are there when ``fit`` was called
        with ``record_spikes=True``. A phase without samples is left out; without a training
        phase no RLS window is shaded. At least one phase must have samples.
    history : ~brianforce.learning.TrainingHistory
    n_raster : int
        Neurons shown in the raster (the first ones recorded).
    decoder_output : int
        Output whose decoder weights are drawn, ``0 <= decoder_output < n_outputs``.
    axes : sequence of ``n_outputs + 2`` Axes sharing x, optional

    Returns
    -------
    numpy.ndarray of Axes
        Output panels, then the decoder panel, then the raster.

    References
    ----------
    Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE
    training. Nat Commun 8:2208.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.transforms import blended_transform_factory

    phases = [r for r in (settle_result, train_result, test_result) if r is not None and len(r.t)]
    if not phases:
        raise ValueError("plot_force_run needs at least one phase with recorded samples; settle_result, "
                         "train_result and test_result are all None or empty")
    n_out = phases[0].z.shape[1]
    decoder_output = as_count(decoder_output, "decoder_output")
    if decoder_output >= n_out:
        raise ValueError(f"decoder_output must be < the number of outputs ({n_out}), got {decoder_output}")
    if train_result is not None and not len(train_result.t):
        train_result = None                          # no training recorded: no RLS window to shade
    if axes is None:
        _, axes = plt.subplots(n_out + 2, 1, sharex=True, figsize=(11, 1.9 * n_out + 4.6),
                               height_ratios=[1.4] * n_out + [1.0, 1.3], constrained_layout=True)
    axes = np.asarray(axes).ravel()
    dt = float(np.median(np.diff(phases[0].t))) if len(phases[0].t) > 1 else 0.0
    t_end = max(float(r.t[-1]) for r in phases) + dt
    on = (float(train_result.t[0]), float(train_result.t[-1]) + dt) if train_result is not None else None
    t_start = min(0.0, float(phases[0].t[0]))

    for ax in axes:
        if on is not None:
            ax.axvspan(*on, color="tab:orange", alpha=0.12, lw=0, label="RLS on", gid="rls_on")
            for x in on:
                ax.axvline(x, color="tab:orange", lw=1.0, ls="-", alpha=0.9)
    # outputs: z throughout, target (dashed) while training and testing
    for k in range(n_out):
        ax = axes[k]
        t = np.concatenate([r.t for r in phases])
        z = np.concatenate([r.z[:, k] for r in phases])
        ax.plot(t, z, color="tab:blue", lw=1.0)
        for r in (train_result, test_result):
            if r is not None and len(r.t):
                ax.plot(r.t, r.target[:, k], "k--", lw=1.3)
        ax.set_ylabel(f"output {k}" if n_out > 1 else "output z")
    handles = [Line2D([], [], color="k", ls="--", lw=1.3, label="target"),
               Line2D([], [], color="tab:blue", lw=1.0, label="network output z")]
    if on is not None:
        handles.append(Patch(color="tab:orange", alpha=0.25, label="RLS on (training)"))
    axes[0].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize="small",
                   frameon=False)
    # RLS on / off above the first panel
    top = blended_transform_factory(axes[0].transData, axes[0].transAxes)
    spans = ([(t_start, on[0], "RLS off"), (on[0], on[1], "RLS on (training)"), (on[1], t_end, "RLS off (test)")]
             if on is not None else [(t_start, t_end, "RLS off")])
    for a, b, text in spans:
        if b > a:
            rls_on = text.startswith("RLS on")
            axes[0].text((a + b) / 2, 1.03, text, transform=top, ha="center", va="bottom", fontsize="small",
                         color="tab:orange" if rls_on else "0.3", fontweight="bold" if rls_on else "normal")

    # decoder weights of the traced neurons: updated at every RLS step, then frozen
    ax = axes[n_out]
    samples = getattr(history, "decoder_samples", None)
    if samples is not None and samples.size and len(history.times):
        ts = np.asarray(history.times)
        phi = np.asarray(samples)[:, :, decoder_output] * 1e3
        ts = np.append(ts, t_end)                    # frozen after training
        phi = np.vstack([phi, phi[-1]])
        ax.plot(ts, phi, lw=0.9)
        ax.axhline(0.0, color="0.5", lw=0.5)
        traced = np.asarray(history.traced_neurons)
        note = f"φ of neurons {traced[0]}–{traced[-1]}" + (f",\noutput {decoder_output}" if n_out > 1 else "")
        ax.text(1.01, 1.0, note + "\n(frozen after\ntraining)", transform=ax.transAxes, ha="left", va="top",
                fontsize="small", color="0.2")
    else:
        ax.text(0.5, 0.5, "no decoder samples", transform=ax.transAxes, ha="center", va="center", color="0.4")
    ax.set_ylabel("decoder φ (ms)")

    # raster of the first n_raster recorded neurons, over every phase recorded
    ax = axes[n_out + 1]
    n_shown = min(n_raster, max(r.n_recorded for r in phases))
    si = np.concatenate([r.spike_i for r in phases])
    st = np.concatenate([r.spike_t for r in phases])
    keep = si < n_shown
    ax.plot(st[keep], si[keep], "|", ms=3, mew=0.6, color="k")
    ax.set_ylim(max(n_shown, 1) - 0.5, -0.5)
    ax.set_ylabel("neuron")
    ax.set_xlabel("time (s)")
    ax.text(1.01, 1.0, f"spikes of the\nfirst {n_shown} of\n{phases[0].n_neurons} neurons", transform=ax.transAxes,
            ha="left", va="top", fontsize="small", color="0.2")
    unrecorded = [r for r in phases if r.phase in ("settle", "train") and r.n_recorded and not len(r.spike_t)]
    for r in unrecorded:
        ax.text((r.t[0] + r.t[-1]) / 2, n_shown / 2, "spikes not recorded", ha="center", va="center",
                fontsize="x-small", color="0.4")
    for a in axes:
        a.set_xlim(t_start, t_end)
    return axes
