import os

# Before numpy is imported: one BLAS thread. The suite runs many small level-2 BLAS
# calls on a 2-core machine, where multi-threaded OpenBLAS spin-waits (up to 10x slower).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# Headless plotting everywhere in the test-suite.
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _brian_runtime_defaults():
    """Reset Brian2's device and clock between tests (tests must not leak state)."""
    import brian2

    yield
    brian2.set_device("runtime")
    brian2.defaultclock.dt = 0.1 * brian2.ms
