"""Input checks of the RLS cores, the generated per-neuron update and RecurrentRLS."""
import numpy as np
import pytest
from brian2 import Network, NeuronGroup, Synapses, ms, second, volt

from brianforce.errors import TrainingDiverged
from brianforce.learning.codegen.per_neuron import per_neuron_rls_operations
from brianforce.learning.recurrent import RecurrentRLS
from brianforce.learning.rls import RLS
from brianforce.learning.rls_per_neuron import PerNeuronRLS


# -- RLS: non-finite values ------------------------------------------------------------------------
@pytest.mark.parametrize("call", [lambda m: m.step(np.ones(3), [np.nan]),
                                  lambda m: m.update(np.array([1.0, np.nan, 1.0]), [0.1]),
                                  lambda m: m.step(np.array([1.0, np.inf, 1.0]), [0.0])])
def test_rls_refuses_non_finite_updates_and_keeps_its_state(call):
    m = RLS(3, 1, reg=1.0)
    m.step(np.array([1.0, 0.5, 0.2]), [0.3])
    W, P = m.W.copy(), m.P.copy()
    with pytest.raises(TrainingDiverged, match="update 1") as exc:
        call(m)
    assert exc.value.step == 1 and m.n_updates == 1
    np.testing.assert_array_equal(m.W, W)
    np.testing.assert_array_equal(m.P, P)


def test_rls_refuses_non_finite_initial_weights():
    with pytest.raises(ValueError, match="weights must be finite"):
        RLS(2, 1, reg=1, weights=[np.nan, 1])


def test_per_neuron_rls_refuses_a_non_finite_regressor_and_keeps_its_state():
    est = PerNeuronRLS(np.ones((2, 3), dtype=bool), reg=1.0)
    P = est.P.copy()
    with pytest.raises(TrainingDiverged, match="regressor r .* update 0"):
        est.update(np.array([1.0, np.nan, 1.0]), np.zeros(2))
    np.testing.assert_array_equal(est.P, P)
    assert est.n_updates == 0 and np.all(est.W == 0)


# -- RLS: shapes and counts ------------------------------------------------------------------------
def test_rls_weights_must_have_shape_n_by_q():
    W0 = np.arange(6.0).reshape(3, 2)
    with pytest.raises(ValueError, match=r"weights must have shape \(3, 2\).*got \(2, 3\)"):
        RLS(3, 2, reg=1.0, weights=W0.T)
    with pytest.raises(ValueError, match="weights must have shape"):
        RLS(3, 2, reg=1.0, weights=W0.ravel())
    np.testing.assert_array_equal(RLS(3, 2, reg=1.0, weights=W0).W, W0)
    np.testing.assert_array_equal(RLS(3, 1, reg=1.0, weights=[1.0, 2.0, 3.0]).W, [[1.0], [2.0], [3.0]])
    with pytest.raises(ValueError, match="weights must have shape"):
        RLS(3, 1, reg=1.0, weights=np.ones((1, 3)))


@pytest.mark.parametrize("args, error", [((2.7, 1), TypeError), ((3, 1.5), TypeError), ((0, 1), ValueError),
                                         ((3, 0), ValueError), ((True, 1), TypeError)])
def test_rls_counts_must_be_integers(args, error):
    with pytest.raises(error, match="n_features|n_outputs"):
        RLS(*args, reg=1.0)


# -- RLS: P ----------------------------------------------------------------------------------------
def _spd(n, seed=0):
    a = np.random.default_rng(seed).standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


@pytest.mark.parametrize("setter", ["constructor", "set_P"])
def test_rls_P_must_be_finite_symmetric_and_square(setter):
    def give(P):
        if setter == "constructor":
            return RLS(4, 1, reg=1.0, P=P)
        RLS(4, 1, reg=1.0).set_P(P)

    A = _spd(4)
    asym = A.copy()
    asym[0, 3] += 1.0
    with pytest.raises(ValueError, match=r"P must be symmetric"):
        give(asym)
    bad = A.copy()
    bad[1, 2] = bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="P must be finite"):
        give(bad)
    with pytest.raises(ValueError, match=r"P must have shape \(4, 4\)"):
        give(np.eye(5))


def test_rls_P_is_read_from_the_same_triangle_by_constructor_and_set_P():
    A = _spd(5)
    A[0, 4] += 1e-12 * abs(A[0, 4])          # within np.allclose: accepted, read from the upper triangle
    expected = np.triu(A) + np.triu(A, 1).T
    from_constructor = RLS(5, 1, reg=1.0, P=A.copy()).P
    r = RLS(5, 1, reg=1.0)
    r.set_P(A.copy())
    np.testing.assert_array_equal(from_constructor, expected)
    np.testing.assert_array_equal(r.P, expected)
    np.testing.assert_array_equal(RLS(5, 1, reg=1.0, P=np.asfortranarray(A)).P, expected)
    read_only = A.copy()
    read_only.flags.writeable = False
    np.testing.assert_array_equal(RLS(5, 1, reg=1.0, P=read_only).P, expected)


def test_rls_with_adopted_P_continues_like_a_fresh_one():
    rng = np.random.default_rng(3)
    R, Y = rng.standard_normal((40, 6)), rng.standard_normal((40, 1))
    fresh = RLS(6, 1, reg=2.0)
    for r, y in zip(R[:20], Y[:20]):
        fresh.step(r, y)
    adopted = RLS(6, 1, reg=2.0, weights=fresh.W, P=fresh.P)
    for r, y in zip(R[20:], Y[20:]):
        fresh.step(r, y), adopted.step(r, y)
    np.testing.assert_allclose(adopted.W, fresh.W, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(adopted.P, fresh.P, rtol=1e-12, atol=1e-14)


# -- PerNeuronRLS.set_weights layout ---------------------------------------------------------------
def test_per_neuron_weights_layout_must_be_given_when_ambiguous():
    mask = np.array([[True, True, True], [False, True, False]])     # K = N = 3, mask not full
    W = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    est = PerNeuronRLS(mask, reg=1.0)
    with pytest.raises(ValueError, match="layout='dense' or layout='padded'"):
        est.set_weights(W)
    with pytest.raises(ValueError, match="layout"):
        PerNeuronRLS(mask, reg=1.0, weights=W)
    est.set_weights(W, layout="dense")
    np.testing.assert_array_equal(est.dense_weights(), [[1.0, 2.0, 3.0], [0.0, 5.0, 0.0]])
    est.set_weights(W, layout="padded")
    np.testing.assert_array_equal(est.dense_weights(), [[1.0, 2.0, 3.0], [0.0, 4.0, 0.0]])
    np.testing.assert_array_equal(PerNeuronRLS(mask, reg=1.0, weights=W, layout="padded").W, [[1, 2, 3], [4, 0, 0]])
    with pytest.raises(ValueError, match="layout must be"):
        est.set_weights(W, layout="rows")
    with pytest.raises(ValueError, match=r"got \(2, 2\) with layout='dense'"):
        est.set_weights(np.ones((2, 2)), layout="dense")


def test_per_neuron_weights_layout_auto_where_unambiguous():
    full = PerNeuronRLS(np.ones((2, 3), dtype=bool), reg=1.0, weights=np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(full.dense_weights(), np.arange(6.0).reshape(2, 3))
    mask = np.array([[True, False, True], [False, True, False]])    # K = 2 < N = 3
    est = PerNeuronRLS(mask, reg=1.0)
    est.set_weights(np.array([[1.0, 9.0, 3.0], [9.0, 5.0, 9.0]]))
    np.testing.assert_array_equal(est.W, [[1.0, 3.0], [5.0, 0.0]])
    est.set_weights(np.array([[7.0, 8.0], [6.0, 9.0]]))
    np.testing.assert_array_equal(est.W, [[7.0, 8.0], [6.0, 0.0]])


# -- per_neuron_rls_operations ---------------------------------------------------------------------
def _tiny_synapses():
    g = NeuronGroup(4, "r : hertz", dt=0.1 * ms)
    s = Synapses(g, g, "w : volt*second", dt=0.1 * ms)
    s.connect(i=[0, 1, 2, 3], j=[1, 0, 3, 2])
    return s


@pytest.mark.parametrize("bad, match", [({"reg": 0.0}, "reg"), ({"reg": -1.0}, "reg"), ({"reg": np.nan}, "reg"),
                                        ({"limit": -5.0}, "limit"), ({"limit": 0.0}, "limit"),
                                        ({"limit": np.nan}, "limit"), ({"interval": 0.0}, "interval"),
                                        ({"interval": -0.01}, "interval"), ({"interval": np.inf}, "interval"),
                                        ({"interval": -1 * ms}, "interval")])
def test_generated_update_refuses_bad_settings(bad, match):
    s = _tiny_synapses()
    ok = dict(weight="w", regressor="r", target_neurons=[0, 1], weights0=np.zeros(4), targets=np.zeros((3, 2)),
              update_row=np.array([0, 1, 2, 3.0]), interval=0.01, reg=1.0, limit=1.0)
    with pytest.raises(ValueError, match=match):
        per_neuron_rls_operations(s, **{**ok, **bad})


# -- RecurrentRLS.target_offset --------------------------------------------------------------------
def _tiny_recurrent(offset):
    g = NeuronGroup(6, "dv/dt = (-v + 0.02*volt*i)/(10*ms) : volt\nr : hertz", threshold="v > 0.05*volt",
                    reset="v = 0*volt", method="euler", dt=0.1 * ms)
    s = Synapses(g, g, "w : volt*second", dt=0.1 * ms)
    s.connect(condition="i != j")
    s.w_ = 1e-4
    return RecurrentRLS(s, network=Network(g, s), reg=1.0, interval=2 * ms, target_offset=offset)


@pytest.mark.parametrize("offset", [1 * second, 20.1 * ms, -20 * ms, -1 * second])
def test_target_offset_outside_the_window_is_refused(offset):
    learner = _tiny_recurrent(offset)
    with pytest.raises(ValueError, match=r"target_offset .* no update inside the target window \(0, 0.02\] s"):
        learner.fit(np.zeros((200, 6)) * volt, dt=0.1 * ms)
    assert learner.t_ == 0.0                  # refused before simulating


@pytest.mark.parametrize("offset, n_updates", [(0 * ms, 10), (-0.1 * ms, 9), (18 * ms, 1)])
def test_target_offset_inside_the_window_trains(offset, n_updates):
    learner = _tiny_recurrent(offset)
    learner.fit(np.zeros((200, 6)) * volt, dt=0.1 * ms)
    assert len(learner.history_.times) == n_updates


def test_target_offset_that_misses_the_window_after_a_settle_is_refused():
    """The window starts 1.5 ms after a 2 ms tick: with a 19.8 ms offset every update falls after the window."""
    learner = _tiny_recurrent(19.8 * ms)
    with pytest.raises(ValueError, match="no update inside the target window"):
        learner.fit(np.zeros((200, 6)) * volt, dt=0.1 * ms, settle=1.5 * ms)
    assert len(learner.history_.times) == 0 and learner.t_ > 0.02
