"""brianforce.heap: the heap is frozen inside frozen_heap and only there, garbage is still freed, and a
Brian2 run inside gives the same result as outside."""
import gc
import weakref

import numpy as np
import pytest

from brianforce.heap import ENV_DISABLE, frozen_heap, on_frozen_heap


class _Node:
    pass


@pytest.fixture
def unfrozen(monkeypatch):
    """The test session freezes the heap (conftest); these tests start from an unfrozen one, with
    frozen_heap switched on."""
    monkeypatch.delenv(ENV_DISABLE, raising=False)
    gc.unfreeze()
    yield
    gc.collect()
    gc.freeze()


def test_freezes_inside_and_unfreezes_after(unfrozen):
    assert gc.get_freeze_count() == 0
    with frozen_heap():
        assert gc.get_freeze_count() > 0
        with frozen_heap():              # nested: nothing more
            inner = gc.get_freeze_count()
        assert gc.get_freeze_count() == inner > 0
    assert gc.get_freeze_count() == 0


def test_leaves_a_heap_frozen_by_the_caller_frozen(unfrozen):
    gc.freeze()
    before = gc.get_freeze_count()
    with frozen_heap():
        pass
    assert gc.get_freeze_count() == before > 0


def test_switched_off_by_the_environment(unfrozen, monkeypatch):
    monkeypatch.setenv(ENV_DISABLE, "0")
    with frozen_heap():
        assert gc.get_freeze_count() == 0


def test_cycles_are_collected_inside_and_after(unfrozen):
    old = _Node()
    old.self = old                       # alive at entry, so frozen
    old_ref = weakref.ref(old)
    with frozen_heap():
        new = _Node()
        new.self = new
        new_ref = weakref.ref(new)
        del new
        gc.collect()
        assert new_ref() is None         # created inside: collected inside
        del old
        gc.collect()
        assert old_ref() is not None     # frozen: kept until the exit
    gc.collect()
    assert old_ref() is None


def test_decorator_returns_and_unfreezes(unfrozen):
    @on_frozen_heap
    def frozen_count(x):
        return x, gc.get_freeze_count()

    x, count = frozen_count(3)
    assert x == 3 and count > 0 and gc.get_freeze_count() == 0


def test_unfreezes_after_an_exception(unfrozen):
    with pytest.raises(RuntimeError):
        with frozen_heap():
            raise RuntimeError("stop")
    assert gc.get_freeze_count() == 0


def test_brian2_runs_are_the_same_inside(unfrozen):
    from brian2 import Network, NeuronGroup, SpikeMonitor, mV, ms, second

    def spikes():
        g = NeuronGroup(20, "dv/dt = (-65*mV + 30*mV*i/20 - v) / (10*ms) : volt", threshold="v > -50*mV",
                        reset="v = -65*mV", method="exact", name="heap_neurons")
        g.v = "-65*mV + 10*mV*i/20"
        mon = SpikeMonitor(g, name="heap_spikes")
        net = Network(g, mon, name="heap_network")
        for _ in range(3):               # a training loop runs its network once per trial
            net.run(20 * ms)
        return np.asarray(mon.i), np.asarray(mon.t / second)

    outside = spikes()
    with frozen_heap():
        inside = spikes()
    assert len(outside[0]) > 0
    np.testing.assert_array_equal(outside[0], inside[0])
    np.testing.assert_array_equal(outside[1], inside[1])
