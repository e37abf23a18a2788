"""One integer seed → independent, named random streams (numpy only)."""
from __future__ import annotations

import zlib

import numpy as np

__all__ = ["rng_for", "check_seed"]


def check_seed(seed) -> int:
    """Return ``seed`` as a non-negative int or raise a clear error."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative integer, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}")
    return int(seed)


def rng_for(seed: int, stream: str) -> np.random.Generator:
    """Random generator for the named ``stream`` of ``seed``.

    Each stream (e.g. ``"connectivity"``, ``"initial_state"``, ``"trials"``) is an
    independent child of ``SeedSequence(seed)``, keyed by a stable hash of its name,
    so adding a stream never changes the numbers drawn by another.
    """
    seed = check_seed(seed)
    key = zlib.crc32(stream.encode("utf8"))
    return np.random.default_rng(np.random.SeedSequence([seed, key]))
