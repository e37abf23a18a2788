import os

import pytest

# Headless plotting everywhere in the test-suite.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _brian_runtime_defaults():
    """Reset Brian2's device and clock between tests (tests must not leak state)."""
    import brian2

    yield
    brian2.set_device("runtime")
    brian2.defaultclock.dt = 0.1 * brian2.ms
