"""Per-neuron (batched) RLS against independent single-output RLS and ridge regression."""
import numpy as np
import pytest

from brianforce.errors import TrainingDiverged
from brianforce.learning.rls import RLS
from brianforce.learning.rls_per_neuron import PerNeuronRLS, padded_inputs
from brianforce.seeding import rng_for


def _problem(seed=0, M=12, N=40, T=150, p=0.3):
    rng = rng_for(seed, "test-per-neuron-rls")
    mask = rng.random((M, N)) < p
    mask[np.arange(M), rng.integers(0, N, M)] = True  # at least one input each
    mask[0] = False
    mask[0, :3] = True  # one neuron with very few inputs (heavy padding)
    R = rng.random((T, N)) * 20.0  # filtered spike trains, Hz
    Y = np.sin(np.linspace(0, 6, T)[:, None] + rng.uniform(0, 6, M)) * 1e-3
    W0 = rng.normal(0, 1e-5, (M, N))
    return mask, R, Y, W0


@pytest.mark.parametrize("normalised", [True, False])
def test_equals_independent_single_output_rls(normalised):
    mask, R, Y, W0 = _problem()
    M = mask.shape[0]
    batched = PerNeuronRLS(mask, alpha=0.05, normalised=normalised, weights=W0, chunk=5)
    singles = [RLS(int(mask[m].sum()), 1, alpha=0.05, normalised=normalised,
                   weights=W0[m, mask[m]]) for m in range(M)]
    for r, y in zip(R, Y):
        err = batched.step(r, y)
        for m, s in enumerate(singles):
            e = s.step(r[mask[m]], y[m:m + 1])
            assert abs(e[0] - err[m]) <= 1e-10 * max(1.0, abs(e[0]))
    dense = batched.dense_weights()
    for m, s in enumerate(singles):
        np.testing.assert_allclose(dense[m, mask[m]], s.W[:, 0], rtol=1e-10, atol=1e-16)
        assert np.all(dense[m, ~mask[m]] == 0)
        np.testing.assert_allclose(batched.neuron_P(m), s.P, rtol=1e-10, atol=1e-12)
    assert batched.n_updates == len(R)


def test_matches_closed_form_ridge_with_prior():
    # After T updates from W0, RLS (normalised) solves min |R W - y|^2 + lam |W - W0|^2.
    mask, R, Y, W0 = _problem(seed=3)
    lam = 4.0
    est = PerNeuronRLS(mask, reg=lam, weights=W0)
    for r, y in zip(R, Y):
        est.step(r, y)
    dense = est.dense_weights()
    for m in range(mask.shape[0]):
        X = R[:, mask[m]]
        w0 = W0[m, mask[m]]
        A = X.T @ X + lam * np.eye(X.shape[1])
        w = np.linalg.solve(A, X.T @ Y[:, m] + lam * w0)
        np.testing.assert_allclose(dense[m, mask[m]], w, rtol=1e-7, atol=1e-13)


def test_padded_inputs_layout():
    mask = np.array([[0, 1, 0, 1, 1], [1, 0, 0, 0, 0]], dtype=bool)
    index, valid = padded_inputs(mask)
    assert index.shape == (2, 3)
    assert index[0].tolist() == [1, 3, 4]
    assert index[1, 0] == 0 and valid[1].tolist() == [True, False, False]


def test_bad_input_raises():
    mask = np.ones((3, 4), dtype=bool)
    with pytest.raises(ValueError, match="boolean"):
        PerNeuronRLS(mask.astype(int), reg=1.0)
    with pytest.raises(ValueError, match="no inputs"):
        PerNeuronRLS(np.array([[True, False], [False, False]]), reg=1.0)
    with pytest.raises(ValueError, match=r"reg must be in \(0, inf\), got -1"):
        PerNeuronRLS(mask, reg=-1.0)
    est = PerNeuronRLS(mask, reg=1.0)
    with pytest.raises(ValueError, match="NaN"):
        est.step(np.ones(4), np.array([0.0, np.nan, 0.0]))
    with pytest.raises(TrainingDiverged, match="update 0"):
        est.update(np.ones(4), np.array([0.0, np.inf, 0.0]))
    with pytest.raises(ValueError, match="shape"):
        est.step(np.ones(5), np.zeros(3))
