"""Brian2 runs without a full garbage collection of the whole heap each (no Brian2 import).

Brian2's ``Network.run`` begins with ``gc.collect()`` (so that objects created but left out of a
network are reported), a full collection that visits every object the process tracks: the
imported modules, sympy's caches, everything a notebook holds; and a training loop runs a
network once per trial. :func:`frozen_heap` moves the objects alive when it is entered into the permanent
generation (:func:`gc.freeze`), so each collection inside visits only what the loop creates;
leaving it moves them back (:func:`gc.unfreeze`), where the next full collection finds any of
them that died in between. Nothing else changes: garbage without reference cycles is freed by
reference counting as always, and the trained networks are the same to the last bit.
Measured (``benchmarks/frozen_heap.py`` → ``benchmarks/results/frozen_heap.csv``; figures in
``docs/design.md``): collecting took 12.2 s of a short Dale-law student run's 141.8 s and 0.9 s of
124.6 s with the heap frozen; 34.0 s of 72.6 s and 4.2 s of 43.6 s in four test files.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import os
import threading

__all__ = ["frozen_heap", "on_frozen_heap", "ENV_DISABLE"]

#: Set this environment variable to ``0`` to leave the heap as it is (every run collects all of it).
ENV_DISABLE = "BRIANFORCE_FREEZE_HEAP"

_lock = threading.Lock()
_depth = 0
_owner = False      # whether the outermost frozen_heap froze the heap (and so unfreezes it)


@contextlib.contextmanager
def frozen_heap():
    """Context in which the objects alive at entry are left out of garbage collections.

    The outermost entry collects once and freezes; nested entries do nothing; the last exit
    unfreezes. Where the heap is already frozen on entry (by the caller, e.g. a test session or a
    pre-fork server) it is left to its owner. ``BRIANFORCE_FREEZE_HEAP=0`` turns it off.
    """
    global _depth, _owner
    with _lock:
        if _depth == 0:
            _owner = os.environ.get(ENV_DISABLE, "1") != "0" and gc.get_freeze_count() == 0
            if _owner:
                gc.collect()        # garbage already present is freed now, not kept frozen
                gc.freeze()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _owner:
                gc.unfreeze()
                _owner = False


def on_frozen_heap(method):
    """Decorator: run ``method`` inside :func:`frozen_heap`."""
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with frozen_heap():
            return method(*args, **kwargs)
    return wrapper
