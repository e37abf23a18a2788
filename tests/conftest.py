import os
from pathlib import Path

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


@pytest.fixture
def recorded_file():
    """``recorded_file(rel)``: the recorded data file ``rel`` (a path inside the data root: ``$BRIANFORCE_DATA``,
    else ``../shared/data`` next to the repository); the test is skipped where it is absent."""
    def find(rel) -> Path:
        env = os.environ.get("BRIANFORCE_DATA")
        for root in ([Path(env)] if env else []) + [Path(__file__).resolve().parents[2] / "shared" / "data"]:
            if (root / rel).is_file():
                return root / rel
        pytest.skip(f"recorded data not available ({rel}): set BRIANFORCE_DATA to a folder laid out like "
                    "shared/data (or place it at ../shared/data next to the repository)")
    return find
