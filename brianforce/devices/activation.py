"""Switching Brian2 between the runtime and the standalone devices.

Shared by the code-generated programs of :mod:`brianforce.devices.standalone` (FORCE models,
transferred LIF networks, in-code FORCE training) and :mod:`brianforce.devices.student_network`
(trained DePasquale students): activate a device with a fresh project, give every build a
project directory, work around Brian2CUDA's ``defaultclock`` references, and go back to
the runtime device and the caller's Brian2 preferences afterwards.
"""
from __future__ import annotations

import gc
import re

import brian2 as b2
from brian2 import NeuronGroup, second
from brian2.devices.device import RuntimeDevice

from brianforce.devices.precompiled_header import precompiled_header

__all__ = ["DEVICES", "CALLER_PREFS", "activate", "restore_runtime", "cuda_clock_anchor", "build", "build_and_time",
           "mark_as_run", "CompilationFailed"]

DEVICES = ("cpp_standalone", "cuda_standalone", "runtime")


class CompilationFailed(RuntimeError):
    """The standalone project did not compile (Brian2's message, with the project directory)."""


#: Brian2 preferences a standalone build may set; :func:`restore_runtime` gives them back the values
#: they had when :func:`activate` was called.
CALLER_PREFS = ("devices.cpp_standalone.openmp_threads",)
_saved_prefs: dict = {}


def activate(device: str, directory=None, build_on_run: bool = False):
    """Switch Brian2 to ``device`` (fresh state, ``build_on_run=False`` unless asked).

    A standalone device also keeps the caller's values of :data:`CALLER_PREFS`, which
    :func:`restore_runtime` puts back.
    """
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    if device == "cuda_standalone":
        try:
            import brian2cuda  # noqa: F401  (registers the cuda_standalone device)
        except ImportError as exc:
            raise ImportError("device='cuda_standalone' needs Brian2CUDA: pip install 'brianforce[cuda]' "
                              "(and a CUDA toolkit + GPU), see docs/standalone.md") from exc
    if device == "runtime":
        b2.set_device("runtime")
        return
    for name in CALLER_PREFS:    # the first activation since the last restore holds the caller's values
        _saved_prefs.setdefault(name, b2.prefs[name])
    if device == "cuda_standalone":
        # Brian2CUDA refuses any OpenMP thread count (NotImplementedError at build time)
        b2.prefs.devices.cpp_standalone.openmp_threads = 0
    # objects of an earlier build that are only held in reference cycles still own their names:
    # collect them, so that the same network gets the same code-object names (and file names)
    gc.collect()
    b2.set_device(device, build_on_run=build_on_run, directory=directory)
    b2.get_device().reinit()
    b2.get_device().activate(build_on_run=build_on_run, directory=directory)


def restore_runtime():
    """Forget the standalone project, go back to the runtime device and give the preferences of
    :data:`CALLER_PREFS` the values they had when :func:`activate` was called."""
    dev = b2.get_device()
    if not isinstance(dev, RuntimeDevice):
        dev.reinit()
        dev.activate()
    b2.set_device("runtime")
    while _saved_prefs:
        name, value = _saved_prefs.popitem()
        b2.prefs[name] = value
    gc.collect()  # drop the project's objects so the next build gets the same code-object names


def mark_as_run(net) -> None:
    """Mark the objects of the runtime ``net`` as belonging to it, as a run would: they hold a state trained
    by a program, like those of a network that ran (and Brian2 does not warn about them as unused when
    they are deleted unrun)."""
    stack = list(net.objects)
    while stack:
        obj = stack.pop()
        obj._network = net.id
        stack.extend(obj.contained_objects)


def cuda_clock_anchor(device: str, dt: float, prefix: str) -> list:
    """Objects working around Brian2CUDA 1.0b1 referring to ``defaultclock`` in synaptic
    pathway code even when every object has its own ``dt``: put ``defaultclock`` (with the
    network's ``dt``) into the network through a variable-only group."""
    if device != "cuda_standalone":
        return []
    b2.defaultclock.dt = dt * second
    return [NeuronGroup(1, "bf_anchor : 1", name=f"{prefix}_defaultclock_anchor")]


_CLOCK_RESET = re.compile(r"_clock_(timestep|t)$")


def _clock_reset(entry) -> str | None:
    """The array name of a main-queue entry that sets a clock's ``timestep`` or ``t``, else None."""
    func, args = entry
    if func == "set_by_single_value" and isinstance(args, tuple) and args and isinstance(args[0], str) \
            and _CLOCK_RESET.search(args[0]):
        return args[0]
    return None


_IDLE_CLOCK = re.compile(r"^\w+\.add\(&\w+, NULL\);$")


def _sorted_blocks(items: list, key) -> list:
    """``items`` with each run of consecutive items whose ``key`` is not None sorted by it (stably)."""
    out, block = [], []
    for item in items + [None]:
        if item is not None and key(item) is not None:
            block.append(item)
            continue
        out.extend(sorted(block, key=key))
        block = []
        if item is not None:
            out.append(item)
    return out


def _idle_clock_lines(entry):
    func, args = entry
    if func == "run_network":
        net, lines = args
        return func, (net, _sorted_blocks(list(lines), lambda line: line if _IDLE_CLOCK.match(line) else None))
    return entry


def build(*, precompiled: bool = True, **kwargs):
    """``device.build(**kwargs)`` of the active standalone device, with the same ``main.cpp`` for the same network.

    Brian2 lists some clocks of a run in the order of a Python ``set`` (object ids): the resets of
    ``timestep`` and ``t`` before each run, and the clocks without code of a run (operations
    switched off). The text of ``main.cpp`` then changes from build to build and the compiler runs
    again although nothing changed. Both are order-free (independent scalar assignments; clocks
    the network only keeps in a set), so each block of them is sorted by name here (stably: an
    array set twice keeps its last value).

    With ``precompiled`` (default), ``cpp_standalone`` projects compiled by GCC parse their common
    headers once (:mod:`~brianforce.devices.precompiled_header`).
    """
    dev = b2.get_device()
    dev.main_queue[:] = [_idle_clock_lines(e) for e in _sorted_blocks(list(dev.main_queue), _clock_reset)]
    with precompiled_header(dev, precompiled):
        return dev.build(**kwargs)


def build_and_time(directory: str, wall0: float, *, with_output: bool = False) -> dict:
    """Compile and run the active standalone project in ``directory`` (:func:`build`).

    Returns ``compile_s`` (everything since ``wall0``, a ``time.perf_counter()`` value, but the
    program's run) and ``run_s`` (the program). A failed compilation raises
    :class:`CompilationFailed` naming the project.
    """
    import time

    dev = b2.get_device()
    try:
        build(directory=directory, compile=True, run=True, with_output=with_output)
    except RuntimeError as exc:
        if "compilation failed" in str(exc).lower():
            raise CompilationFailed(f"{exc} (project {directory})") from exc
        raise
    run_s = float(dev.timers.get("run_binary") or 0.0)
    return {"compile_s": time.perf_counter() - wall0 - run_s, "run_s": run_s}
