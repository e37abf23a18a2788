"""Switching Brian2 between the runtime and the standalone devices.

Shared by the code-generated programs of :mod:`brianforce.devices.standalone` (FORCE models,
transferred LIF networks, in-code FORCE training) and :mod:`brianforce.devices.student_network`
(trained DePasquale students): activate a device with a fresh project, give every build a
project directory, work around Brian2CUDA's ``defaultclock`` references, and go back to
the runtime device afterwards.
"""
from __future__ import annotations

import gc
import tempfile
from pathlib import Path

import brian2 as b2
from brian2 import NeuronGroup, second
from brian2.devices.device import RuntimeDevice

__all__ = ["DEVICES", "activate", "restore_runtime", "project_dir", "cuda_clock_anchor"]

DEVICES = ("cpp_standalone", "cuda_standalone", "runtime")


def activate(device: str, directory=None, build_on_run: bool = False):
    """Switch Brian2 to ``device`` (fresh state, ``build_on_run=False`` unless asked)."""
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    if device == "cuda_standalone":
        try:
            import brian2cuda  # noqa: F401  (registers the cuda_standalone device)
        except ImportError as exc:
            raise ImportError("device='cuda_standalone' needs Brian2CUDA: pip install 'brianforce[cuda]' "
                              "(and a CUDA toolkit + GPU), see docs/standalone.md") from exc
        # Brian2CUDA refuses any OpenMP thread count (NotImplementedError at build time): do not
        # inherit one left behind by an earlier cpp_standalone build in this process
        b2.prefs.devices.cpp_standalone.openmp_threads = 0
    if device == "runtime":
        b2.set_device("runtime")
        return
    b2.set_device(device, build_on_run=build_on_run, directory=directory)
    b2.get_device().reinit()
    b2.get_device().activate(build_on_run=build_on_run, directory=directory)


def restore_runtime():
    """Forget the standalone project and go back to the runtime device."""
    dev = b2.get_device()
    if not isinstance(dev, RuntimeDevice):
        dev.reinit()
        dev.activate()
    b2.set_device("runtime")
    gc.collect()  # drop the project's objects so the next build gets the same code-object names


def project_dir(directory) -> str:
    """``directory`` (created if missing) as a string, or a new temporary directory when ``None``."""
    if directory is None:
        return tempfile.mkdtemp(prefix="brianforce_standalone_")
    Path(directory).mkdir(parents=True, exist_ok=True)
    return str(directory)


def cuda_clock_anchor(device: str, dt: float, prefix: str) -> list:
    """Objects working around Brian2CUDA 1.0b1 referring to ``defaultclock`` in synaptic
    pathway code even when every object has its own ``dt``: put ``defaultclock`` (with the
    network's ``dt``) into the network through a variable-only group."""
    if device != "cuda_standalone":
        return []
    b2.defaultclock.dt = dt * second
    return [NeuronGroup(1, "bf_anchor : 1", name=f"{prefix}_defaultclock_anchor")]
