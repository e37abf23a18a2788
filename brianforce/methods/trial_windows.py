"""Trial windows on a network's clock grid: sampling operations that miss no sample.

A Brian2 ``network_operation`` of period ``step`` ticks at the multiples of ``step`` in absolute
time. A trial window that starts between two of them would lose its first sample, and a buffer
filled by such an operation would keep whatever it held there. :func:`align_to_grid` starts a trial
so that its window lies on the grid; :func:`require_complete` checks afterwards that every sample
was written.
"""
from __future__ import annotations

import numpy as np
from brian2 import network_operation, second

__all__ = ["align_to_grid", "window_recorder", "require_complete"]


def align_to_grid(net, step: float, lead_in: float = 0.0) -> None:
    """Run ``net`` on until ``t + lead_in`` is a multiple of ``step`` (s).

    Call it before a trial's state is reset: the network idles to the point from which a lead-in
    (a stimulus or warm-up) of ``lead_in`` s ends on the grid, where the window starts. It is off
    the grid after a run stopped mid-window by a divergence, or with a lead-in that is not a
    multiple of ``step``.
    """
    t = float(net.t / second) + lead_in
    gap = np.ceil(t / step - 1e-6) * step - t
    if gap > 1e-9:
        net.run(gap * second, namespace={})


def window_recorder(buf, values, index, step: float, window_start, name: str):
    """A ``network_operation`` writing ``values[index]`` into row k of ``buf`` at the k-th multiple of
    ``step`` (s) after ``window_start()`` (s, read at every tick); its boolean array ``filled``
    marks the rows written (:func:`require_complete`)."""
    T = len(buf)
    filled = np.zeros(T, dtype=bool)

    @network_operation(dt=step * second, when="start", name=name)
    def record(t):
        k = int(round((float(t / second) - window_start()) / step))
        if 0 <= k < T:
            buf[k] = values[index]
            filled[k] = True
    record.filled = filled
    return record


def require_complete(recorder, what: str) -> None:
    """Raise ``RuntimeError`` if ``recorder`` missed a sample of its window.

    ``recorder`` is a network operation with a boolean array ``filled``, one entry per sample of
    the window, set where the sample was written; ``what`` names the window in the message.
    """
    missing = np.flatnonzero(~recorder.filled)
    if missing.size:
        raise RuntimeError(f"{what}: {missing.size} of {recorder.filled.size} samples were not recorded "
                           f"(first: sample {missing[0]}); the window did not start on the sampling grid")
