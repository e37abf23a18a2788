"""Memory a network will need, checked before anything is allocated.

A network too large for the machine should fail at once with the bytes it needs, not be killed
by the kernel after minutes of drawing connectivity.
"""
from __future__ import annotations

import os

__all__ = ["available_bytes", "require_memory", "force_network_bytes", "force_program_bytes", "format_bytes",
           "BRIAN2_BYTES_PER_SYNAPSE", "PROGRAM_BYTES_PER_SYNAPSE", "PROGRAM_FIXED_BYTES"]

#: Peak bytes per synapse of building a Brian2 ``Synapses`` from index arrays. Measured for a whole
#: ``FORCETrainer`` at runtime (p = 0.1): 151 / 141 / 120 bytes per synapse beyond P at N = 4000 /
#: 8000 / 12 000, drawn weights included (``benchmarks/results/force_memory.csv``); with the 24 bytes
#: of the drawn weights the estimate is 144.
BRIAN2_BYTES_PER_SYNAPSE = 120.0
#: Peak bytes a ``cpp_standalone`` FORCE program adds per synapse, and in all, to :func:`force_network_bytes`
#: (its own copies of the synapses and their spike queues, and the process). Measured as the peak of Python
#: and the program together beyond that estimate (``benchmarks/results/force_scaling.csv``, path
#: ``cpp_standalone-all-threads``, p = 0.1): 0.73 GB at N = 8000 and 1.91 GB at N = 16 000, i.e. 61 bytes
#: per synapse and 0.34 GB.
PROGRAM_BYTES_PER_SYNAPSE = 62.0
PROGRAM_FIXED_BYTES = 350e6


def available_bytes() -> int | None:
    """Memory available to new allocations (``MemAvailable`` of ``/proc/meminfo``, else physical
    memory), or ``None`` where it cannot be read."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def format_bytes(n: float) -> str:
    """``n`` bytes as ``'12.8 GB'`` (powers of 1000)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1000
    return f"{n:.1f} TB"


def require_memory(parts: dict, what: str, available: int | None = None) -> int:
    """Raise ``MemoryError`` when the bytes in ``parts`` (name → bytes) exceed the available memory.

    Returns the total. The message states the total, its largest parts and what is available.
    """
    total = int(sum(parts.values()))
    free = available_bytes() if available is None else available
    if free is not None and total > free:
        detail = ", ".join(f"{k} {format_bytes(v)}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1])
                           if v > 0.01 * total)
        raise MemoryError(f"{what} needs about {format_bytes(total)} ({total} bytes: {detail}) but only "
                          f"{format_bytes(free)} are available; use fewer neurons or a sparser network")
    return total


def force_network_bytes(n_neurons: int, p: float, n_outputs: int = 1) -> dict:
    """Bytes of a FORCE network of ``n_neurons`` with connection probability ``p``, by part: the RLS
    matrix P (N² float64), the drawn static weights (pre, post, value: 24 bytes per synapse), their
    Brian2 ``Synapses`` with the temporaries of building them (120 bytes per synapse, measured:
    ``benchmarks/force_memory.py``) and the decoder/encoders."""
    n = int(n_neurons)
    synapses = p * n * n
    return {"RLS matrix P": 8.0 * n * n, "drawn weights": 24.0 * synapses,
            "Brian2 synapses": BRIAN2_BYTES_PER_SYNAPSE * synapses, "decoder and encoders": 32.0 * n * n_outputs}


def force_program_bytes(n_neurons: int, p: float, n_outputs: int = 1, read_back_P: bool = False) -> dict:
    """Peak bytes of training a FORCE network as one ``cpp_standalone`` program, by part:
    :func:`force_network_bytes` (the program holds ``P``), the program's own synapses and process
    (:data:`PROGRAM_BYTES_PER_SYNAPSE`, :data:`PROGRAM_FIXED_BYTES`) and, with ``read_back_P``, the
    ``P`` read back into Python after the run (N² float64)."""
    parts = force_network_bytes(n_neurons, p, n_outputs)
    parts["compiled program"] = PROGRAM_BYTES_PER_SYNAPSE * p * int(n_neurons) ** 2 + PROGRAM_FIXED_BYTES
    if read_back_P:
        parts["P read back"] = 8.0 * int(n_neurons) ** 2
    return parts
