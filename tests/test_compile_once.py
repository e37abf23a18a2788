"""Compiled code is reused: a second network of the same structure, built while the first still
exists, runs the code compiled for the first (Brian2 names generated code after its objects,
so a numbered object name would give new code and a new compilation)."""
import numpy as np
import pytest
from brian2 import Clock, Network, NeuronGroup, Synapses, mV, ms, prefs, second
from brian2.codegen.runtime.cython_rt import extension_manager

from brianforce.learning import FORCE
from brianforce.methods.comparison import MatchedForceComparison
from brianforce.methods.factor_student import FactorStudent, StudentSchedule
from brianforce.methods.teacher_forcing import teacher_forced_spiking_basis
from brianforce.methods.transfer import TransferredLIF, simulate_lif
from brianforce.rate.backprop import init_dale_rnn
from brianforce.tasks import sinusoid

pytest.importorskip("Cython")


@pytest.fixture
def compiled(monkeypatch):
    """Every Cython code text Brian2 asks for from here on (compiled, or found in its cache)."""
    texts = []
    manager = extension_manager.cython_extension_manager
    create = manager.create_extension

    def recording(code, *args, **kwargs):
        texts.append(code)
        return create(code, *args, **kwargs)

    monkeypatch.setattr(manager, "create_extension", recording)
    monkeypatch.setitem(prefs, "codegen.target", "cython")
    return texts


def new_code(compiled, build):
    """Run ``build`` twice; the code texts the second call asks for and the first did not."""
    first = build()
    seen, n_first = set(compiled), len(compiled)
    second_ = build()
    assert len(compiled) > n_first           # the second network did generate its code
    seen_lines = set().union(*(text.splitlines() for text in seen))
    # the lines in which each new text differs from every earlier one (names, typically)
    return first, second_, [sorted(set(c.splitlines()) - seen_lines)[:4] for c in compiled[n_first:] if c not in seen]


def test_a_second_student_compiles_nothing(compiled):
    y = np.sin(2 * np.pi * 5 * np.arange(200) * 1e-3)[None, :, None] * np.ones((1, 1, 2))
    seeds = iter([1, 2])

    def student():
        return FactorStudent(60, schedule=StudentSchedule(n_forced=1, n_mean=1, n_rls=1), seed=next(seeds),
                             device="runtime").fit(np.zeros((1, 200, 1)), y, y[:, :, :1], 1 * ms)

    first, second_, new = new_code(compiled, student)
    assert not new, new
    assert first._loop.G.name == second_._loop.G.name and first._loop.G is not second_._loop.G
    assert not np.array_equal(first.w_, second_.w_)          # two networks, each with its own state


def test_a_second_transferred_lif_run_compiles_nothing(compiled):
    model = TransferredLIF.from_rate(init_dale_rnn(30, 2, seed=3), 40)
    inputs = np.ones((2, 20, 2))
    first, second_, new = new_code(compiled, lambda: simulate_lif(model, inputs, seed=5))
    assert not new, new
    np.testing.assert_array_equal(first.outputs, second_.outputs)


def _user_force(seed):
    """A user's LIF network (fixed names, its clock included) trained with inputs and teacher forcing."""
    eqs = """dv/dt = (-v + I_syn + I_fb + I_in - 40*mV)/(10*ms) : volt (unless refractory)
    dI_syn/dt = -I_syn/(2*ms) + h : volt
    dh/dt = -h/(20*ms) : volt/second
    dr/dt = -r/(2*ms) + hr : hertz
    dhr/dt = -hr/(20*ms) : hertz/second
    I_fb : volt
    I_in : volt"""
    rng = np.random.default_rng(seed)
    clock = Clock(0.1 * ms, name="user_clock")
    g = NeuronGroup(50, eqs, threshold="v >= -40*mV", reset="v = -65*mV; hr += 1/(2*ms*20*ms)",
                    refractory=2 * ms, method="euler", clock=clock, name="user_lif")
    g.v = -65 * mV + rng.random(50) * 30 * mV
    s = Synapses(g, g, "w : volt*second", on_pre="h_post += w/(2*ms*20*ms)", clock=clock, name="user_syn")
    s.connect(p=0.2)
    s.w_ = 1e-5 * rng.standard_normal(len(s))
    f = FORCE(g, feedback="I_fb", encoders=rng.uniform(-10, 10, (50, 1)) * mV, network=Network(g, s),
              alpha=5e-6, interval=1 * ms, input_variable="I_in", input_encoders=rng.normal(0, 5, (50, 1)) * mV,
              teacher_forcing=True, backend="codegen")
    trials = type("Trials", (), dict(inputs=np.ones((1, 50, 1)), targets=np.full((1, 50, 1), 0.5), dt=1e-3))()
    return f.fit(trials)


def test_a_second_force_learner_with_inputs_and_forcing_compiles_nothing(compiled):
    seeds = iter([1, 2])
    first, second_, new = new_code(compiled, lambda: _user_force(next(seeds)))
    assert not new, new
    assert len(first.history_.times) == len(second_.history_.times) == 50


def test_teacher_forcing_again_compiles_nothing(compiled):
    comp = MatchedForceComparison(40, alpha=5e-6, G=0.08 * mV * second, rate_dt=0.5 * ms, seed=8)
    trainer = comp.spiking_.fit(sinusoid(5.0), settle=0.02 * second, train=0.03 * second)
    first, second_, new = new_code(compiled, lambda: teacher_forced_spiking_basis(trainer, sinusoid(5.0), 0.02))
    assert not new, new
    assert first[1].shape == second_[1].shape
