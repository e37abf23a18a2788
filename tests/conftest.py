import gc
import os
from pathlib import Path

# Before numpy is imported: one BLAS thread. The suite runs many small level-2 BLAS
# calls on a 2-core machine, where a second OpenBLAS thread waits for a busy core (2.6-111x slower an
# update, benchmarks/results/blas_threads.csv).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# Headless plotting everywhere in the test-suite.
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

#: Test files that take longest, longest first (their summed test times in a run with the compiled code
#: cached, ``python3 -m pytest --durations=0``). The two workers take these first and the many short
#: files after them, so that no long file starts while the other worker is about to run out of work:
#: longest-first list scheduling. Files not listed follow in pytest-xdist's own order. The acceptance runs on
#: the recordings lead: the longest file where the recorded data are present, skipped at once where not.
#: A ranking by the files' times on a fresh machine (the compiling each asks for with empty caches
#: included) is slower there (``benchmarks/results/fresh_setup.csv``; RESULTS.md, "Other results files").
LONGEST_FILES = (
    "test_acceptance_ci_reaching.py", "test_acceptance_ci_xor.py", "test_acceptance_ci.py", "test_tutorials.py",
    "test_acceptance_ci_oscillation.py", "test_standalone.py", "test_recurrent_training.py",
    "test_acceptance_ci_seeds.py", "test_student.py", "test_student_trials.py", "test_reaching.py",
    "test_recurrent_program.py", "test_student_network.py", "test_standalone_cache.py", "test_fingerprints.py",
    "test_force_default_device.py", "test_acceptance_ci_depasquale.py", "test_student_program.py",
)


def longest_first(files) -> list:
    """``files`` (test file paths) with those of :data:`LONGEST_FILES` first, in its order; the others after
    them in their given order."""
    rank = {name: k for k, name in enumerate(LONGEST_FILES)}
    return sorted(files, key=lambda f: rank.get(Path(f).name, len(rank)))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With ``--dist loadfile``: whole files to each worker, the longest files first."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class LongestFilesFirst(LoadFileScheduling):
        def _assign_work_unit(self, node):
            if not getattr(self, "_ordered", False):      # the queue is complete at the first assignment
                order = longest_first(self.workqueue)
                units = {scope: self.workqueue[scope] for scope in order}
                self.workqueue.clear()
                self.workqueue.update(units)
                self._ordered = True
            super()._assign_work_unit(node)

    return LongestFilesFirst(config, log)


@pytest.fixture(autouse=True, scope="module")
def _frozen_heap():
    """At the start of each test file, collect once and freeze what is alive (``gc.freeze``): the full
    collection that starts every Brian2 run then skips the imported modules and caches (measured: about
    half the time of files that run many small networks, 15 % of the suite's; ``docs/design.md``). Frozen
    objects are never collected, so this is for the test processes only; the package freezes only for the
    duration of its training loops (:mod:`brianforce.heap`). ``BRIANFORCE_FREEZE_HEAP=0`` turns it off
    (``benchmarks/frozen_heap.py`` compares the two)."""
    from brianforce.heap import ENV_DISABLE

    if os.environ.get(ENV_DISABLE, "1") != "0":
        gc.collect()
        gc.freeze()
    yield


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
