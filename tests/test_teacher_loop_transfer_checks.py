"""Argument checks and documented conventions of the rate teacher, trial arrays, the Nicola &
Clopath loop and the rate → LIF transfer (small sizes)."""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import brian2
import numpy as np
import pytest
from brian2 import Quantity, mV, ms

from brianforce.networks import nicola_clopath_loop
from brianforce.rate.teacher import RateTeacher
from brianforce.tasks.trials import Trials, trial_array

DT = 5e-5


# ---------------------------------------------------------------- RateTeacher: washout, run checks

def _sine(n_trials=2, T=40):
    f = np.sin(2 * np.pi * np.arange(T) / T)[None, :, None].repeat(n_trials, 0)
    return np.zeros_like(f), f


def test_washout_is_batch_only():
    with pytest.raises(ValueError, match=r"washout is for method='batch' only.*washout=0\.2"):
        RateTeacher(10, washout=0.2)
    with pytest.raises(ValueError, match="washout"):
        RateTeacher(10, method="full-force", washout=1e-3)
    assert RateTeacher(10).washout == 0.0
    assert RateTeacher(10, washout=0.0).washout == 0.0
    assert RateTeacher(10, method="batch").washout == 0.5
    # the batch default is 0.5 s: the same fit as asking for it
    u, f = _sine(2, 100)
    a = RateTeacher(10, method="batch", seed=1).fit(u, f, 1e-3)
    b = RateTeacher(10, method="batch", washout=0.5, seed=1).fit(u, f, 1e-3)
    np.testing.assert_array_equal(a.J_, b.J_)
    np.testing.assert_array_equal(a.W_out_, b.W_out_)
    c = RateTeacher(10, method="batch", washout=0.02, seed=1).fit(u, f, 1e-3)
    assert not np.array_equal(a.W_out_, c.W_out_)


@pytest.fixture(scope="module")
def teacher():
    u, f = _sine()
    return RateTeacher(10, seed=0).fit(u, f, 1e-3), u, f


def test_run_driven_refuses_mismatched_trials_and_widths(teacher):
    T, u, f = teacher
    u3 = np.zeros((3, u.shape[1], 1))
    with pytest.raises(ValueError, match=r"inputs \(3, 40, 1\) and targets \(1, 40, 1\) disagree"):
        T.run_driven(u3, f[:1])
    with pytest.raises(ValueError, match=r"targets must have 1 outputs \(as in fit\), got shape \(2, 40, 2\)"):
        T.run_driven(u, np.concatenate([f, f], axis=2))
    with pytest.raises(ValueError, match=r"inputs must have 1 streams \(as in fit\), got shape \(2, 40, 2\)"):
        T.run_driven(np.zeros((2, 40, 2)), f)
    with pytest.raises(ValueError, match=r"inputs must have 1 streams"):
        T.run(np.zeros((2, 40, 3)))
    assert T.run_driven(u, f).outputs.shape == f.shape        # matching shapes still run


@pytest.mark.parametrize("what", ["run", "run_driven"])
def test_x0_is_checked(teacher, what):
    T, u, f = teacher
    call = (lambda x0: T.run(u, x0=x0)) if what == "run" else (lambda x0: T.run_driven(u, f, x0=x0))
    bad = np.zeros(10)
    bad[3] = np.nan
    with pytest.raises(ValueError, match="x0 contains NaN or Inf"):
        call(bad)
    with pytest.raises(ValueError, match=r"x0 must have shape \(10,\), got \(9,\)"):
        call(np.zeros(9))
    with pytest.raises(ValueError, match=r"x0 must have shape \(10,\), got \(1, 10\)"):
        call(np.zeros((1, 10)))
    ref = call(T.x_end_)
    np.testing.assert_array_equal(call(list(T.x_end_)).outputs, ref.outputs)


# ---------------------------------------------------------------- trial_array: units refused

def test_trial_array_refuses_dimensioned_quantities_as_trials_does():
    a = np.ones((1, 5, 1))
    with pytest.raises(TypeError, match=r"(?s)targets must be plain SI floats, got a quantity .*"
                                        r"use Trials\.from_units for Brian2 quantities"):
        trial_array(a * mV, "targets")
    with pytest.raises(TypeError, match=r"targets must be plain SI floats"):
        Trials(a, a * mV, 1e-3)
    with pytest.raises(TypeError, match=r"targets must be plain SI floats"):
        RateTeacher(4).fit(np.zeros((1, 5, 1)), a * mV, 1e-3)
    # plain arrays and dimensionless quantities pass as before
    np.testing.assert_array_equal(trial_array(Quantity(a), "targets"), a)
    np.testing.assert_array_equal(trial_array(a[0] * 2.0, "targets"), 2 * a)


# ---------------------------------------------------------------- Nicola & Clopath loop

def _tiny():
    return np.zeros((2, 2)), np.zeros((2, 1)), np.full(2, -0.065)


@pytest.mark.parametrize("kwargs, match", [
    (dict(settle=-1e-3), r"settle must be in \[0, inf\)"),
    (dict(settle=0.01, train=-1e-3), r"train must be in \[0, inf\)"),
    (dict(settle=0.01, test=-1e-3), r"test must be in \[0, inf\)"),
    (dict(settle=float("nan")), "settle must be finite"),
    (dict(settle=0.01, alpha=0.0), r"alpha must be in \(0, inf\)"),
    (dict(settle=0.01, alpha=float("inf")), "alpha must be finite"),
    (dict(settle=0.01, dt=-5e-5), r"dt must be in \(0, inf\)"),
])
def test_loop_refuses_bad_phases_and_alpha(kwargs, match):
    from brianforce.tasks import sinusoid

    W, E, v0 = _tiny()
    with pytest.raises(ValueError, match=match):
        nicola_clopath_loop(W, E, v0, sinusoid(5.0), **{"train": 0.005, **kwargs})


@pytest.mark.parametrize("which", ["weights", "encoders", "v0", "phi0"])
def test_loop_refuses_non_finite_arrays(which):
    W, E, v0 = _tiny()
    arrays = dict(weights=W, encoders=E, v0=v0, phi0=np.zeros((2, 1)))
    arrays[which] = arrays[which].copy()
    arrays[which].flat[0] = np.nan
    with pytest.raises(ValueError, match=f"{which} contains NaN or Inf"):
        nicola_clopath_loop(arrays["weights"], arrays["encoders"], arrays["v0"], settle=0.001,
                            phi0=arrays["phi0"])


def test_loop_rls_schedule_counts_from_the_start_of_training():
    from brianforce.tasks import sinusoid

    W, E, v0 = _tiny()
    # settle = 1010 steps (not a multiple of step = 50): updates at 1011, 1061, ..., not MATLAB's 1051, ...
    out = nicola_clopath_loop(W, E, v0, sinusoid(5.0), settle=1010 * DT, train=1000 * DT)
    np.testing.assert_array_equal(out.update_steps, 1011 + 50 * np.arange(20))
    # n_train mod step = 1: one update more than MATLAB's rule (at i = icrit)
    out = nicola_clopath_loop(W, E, v0, sinusoid(5.0), settle=1000 * DT, train=1001 * DT)
    i = np.arange(1, 2002)
    matlab = i[(i % 50 == 1) & (i > 1000) & (i < 2001)]
    np.testing.assert_array_equal(out.update_steps, np.append(matlab, 2001))


# ---------------------------------------------------------------- LIF transfer

def _quiet_rate(n=2):
    """A rate network whose LIF copy reads out its bias alone (w_out = 0, no recurrence)."""
    from brianforce.rate.backprop import DaleRNNParams

    W = np.zeros((n, n))
    return DaleRNNParams(w_rec=W, mask=W, sign=np.ones(n), w_in=np.zeros((n, 1)), w_out=np.zeros(n),
                         b_out=0.1, tau_raw=np.zeros(n), tau_min=0.030, tau_max=0.030)


def test_tied_scaling_factors_pick_the_median_by_value():
    from brianforce.methods.transfer import _median_best

    flat = np.full(3, 0.5)
    assert _median_best(np.array([75.0, 20.0, 50.0]), flat) == 2          # 50
    assert _median_best(np.array([20.0, 50.0, 75.0]), flat) == 1          # 50
    assert _median_best(np.array([50.0, 75.0, 20.0]), flat) == 0          # 50
    # even number of ties: the upper middle value; a single best wins
    assert _median_best(np.array([40.0, 30.0, 20.0, 10.0]), np.full(4, 1.0)) == 1      # 30
    assert _median_best(np.array([75.0, 20.0, 50.0]), np.array([0.2, 0.9, 0.5])) == 1
    # ascending grids (the shipped recipes'): the middle position, as before
    rng = np.random.default_rng(0)
    grid = np.arange(20.0, 80.0, 5.0)
    for _ in range(50):
        acc = rng.integers(0, 3, grid.size) / 2
        best = np.flatnonzero(acc == acc.max())
        assert _median_best(grid, acc) == best[len(best) // 2]


def test_lif_transfer_tie_is_independent_of_the_grid_order():
    from brianforce.methods.transfer import LIFTransfer
    from brianforce.tasks.kim2019 import GoNoGo

    prev = brian2.prefs.codegen.target
    brian2.prefs.codegen.target = "numpy"
    try:
        rate, task = _quiet_rate(), GoNoGo()
        xf = LIFTransfer((75, 20, 50), n_validation=1, sigma_v=0 * mV).fit(rate, task)
    finally:
        brian2.prefs.codegen.target = prev
    assert np.all(xf.grid_accuracy_ == xf.grid_accuracy_[0])            # every candidate ties
    assert xf.scaling_factor_ == 50.0


def test_lif_sample_k_is_the_state_at_k_record_dt():
    """The readout sums r before the LIF step from k·record_dt: sample 0 is the initial state (b_out),
    sample k equals sample k·record_dt/dt of a run with record_dt = dt, and times label it k·record_dt."""
    from brianforce.methods.transfer import TransferredLIF, simulate_lif
    from brianforce.rate.backprop import DaleRNNParams

    W = np.zeros((2, 2))
    rate = DaleRNNParams(w_rec=W, mask=W, sign=np.ones(2), w_in=np.array([[6.0], [12.0]]),
                         w_out=np.array([1.0, 0.5]), b_out=0.1, tau_raw=np.zeros(2), tau_min=0.030, tau_max=0.030)
    m = TransferredLIF.from_rate(rate, 40, sigma_v=0 * mV)
    u = np.ones((1, 20, 1))                                              # 0.1 s
    prev = brian2.prefs.codegen.target
    brian2.prefs.codegen.target = "numpy"
    try:
        fine = simulate_lif(m, u, seed=0, record_dt=0.05 * ms, record_spikes=1)
        coarse = simulate_lif(m, u, seed=0, record_dt=1 * ms)
    finally:
        brian2.prefs.codegen.target = prev
    assert fine.outputs.shape == (1, 2000) and coarse.outputs.shape == (1, 100)
    np.testing.assert_array_equal(coarse.outputs[0], fine.outputs[0, ::20])
    assert coarse.outputs[0, 0] == 0.1 and coarse.times[0] == 0.0 and coarse.times[1] == pytest.approx(1e-3)
    # the first spike (in the step from t_s) raises h_r; r follows in the next step, so the readout
    # first departs from b_out at the state of t_s + 2 dt
    s = int(round(fine.spike_time.min() / 5e-5))
    k = int(np.flatnonzero(fine.outputs[0] != 0.1)[0])
    assert k == s + 2
