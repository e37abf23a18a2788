"""The precompiled header of cpp_standalone projects changes the compile time, not the program."""
from pathlib import Path

import numpy as np
import pytest
from brian2 import Network, NeuronGroup, SpikeMonitor, StateMonitor, Synapses, ms, mV

from brianforce.devices.activation import activate, build, restore_runtime
from brianforce.devices.force_program import compiler_available
from brianforce.devices.precompiled_header import PCH_HEADER, compiler_is_gcc, patch_makefile

MAKEFILE = ("SRCS = a.cpp\nH_SRCS = a.h\nOBJS = a.o objects.o\nCXXFLAGS = -c -O3 -I.\nDEPS = make.deps\n\nall: main\n"
            "make.deps: $(SRCS) $(H_SRCS)\n\t$(CXX) $(CXXFLAGS) -MM $(SRCS) > make.deps\n")


def test_makefile_patch_adds_the_header_rule_once():
    patched = patch_makefile(MAKEFILE)
    assert "CXXFLAGS += -include $(PCH) -Winvalid-pch" in patched and "PCHFLAGS := $(CXXFLAGS)" in patched
    assert "$(filter-out objects.o,$(OBJS)): $(PCH).gch" in patched and "objects.o: $(H_SRCS)" in patched
    assert "-MM" not in patched and "> make.deps" in patched      # every object depends on every header
    assert patched.index("PCHFLAGS") < patched.index("CXXFLAGS +=")      # the header's own flags lack -include
    assert patch_makefile(patched) == patched
    assert patch_makefile("all: main\n") == "all: main\n"                 # not Brian2's makefile: unchanged


def _run(directory: Path, precompiled: bool):
    activate("cpp_standalone", str(directory))
    try:
        rng = np.random.default_rng(3)
        g = NeuronGroup(40, "dv/dt = (-v + I)/(10*ms) : volt\nI : volt", threshold="v > -50*mV",
                        reset="v = -65*mV", method="euler", name="pch_neurons")
        g.v = (-65 + 15 * rng.random(40)) * mV
        g.I = (-45 + 10 * rng.random(40)) * mV
        s = Synapses(g, g, "w : volt", on_pre="v_post += w", name="pch_synapses")
        pre, post = np.nonzero(rng.random((40, 40)) < 0.2)
        s.connect(i=pre, j=post)
        s.w = rng.normal(0, 2, len(pre)) * mV
        spikes, volts = SpikeMonitor(g, name="pch_spikes"), StateMonitor(g, "v", record=[0, 7], name="pch_v")
        Network(g, s, spikes, volts).run(100 * ms)
        build(directory=str(directory), compile=True, run=True, with_output=False, precompiled=precompiled)
        return np.asarray(spikes.i[:]).copy(), np.asarray(spikes.t_).copy(), np.asarray(volts.v_).copy()
    finally:
        restore_runtime()


@pytest.mark.skipif(not (compiler_available() and compiler_is_gcc()), reason="needs make and GCC")
def test_program_with_precompiled_header_gives_bit_identical_results(tmp_path):
    with_pch, without = _run(tmp_path / "pch", True), _run(tmp_path / "plain", False)
    assert (tmp_path / "pch" / f"{PCH_HEADER}.gch").exists()
    assert not (tmp_path / "plain" / f"{PCH_HEADER}.gch").exists()
    assert len(with_pch[0]) > 20
    for a, b in zip(with_pch, without):
        np.testing.assert_array_equal(a, b)
