"""The numpy training loops run on one BLAS thread whatever the caller's setting, so that one seed gives one
trained network (multi-threaded BLAS changes products at round-off) and no loop waits for a busy core."""
import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from brianforce.blas import one_blas_thread, on_one_blas_thread
from brianforce.rate.backprop import DaleRNNTrainer
from brianforce.rate.networks import TanhForceNetwork
from brianforce.tasks import sinusoid
from brianforce.tasks.kim2019 import XOR


def blas_threads() -> int:
    return max((i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"), default=1)


@pytest.fixture
def two_blas_threads():
    """The caller's BLAS on two threads (skipped where BLAS cannot run two)."""
    with threadpool_limits(2, user_api="blas"):
        if blas_threads() < 2:
            pytest.skip("BLAS runs one thread only here")
        yield


def test_one_blas_thread_limits_and_restores(two_blas_threads):
    with one_blas_thread():
        assert blas_threads() == 1
    assert blas_threads() == 2

    @on_one_blas_thread
    def inside():
        """Docstring kept."""
        return blas_threads()

    assert inside() == 1 and blas_threads() == 2 and inside.__doc__ == "Docstring kept."


def dale_fit():
    with pytest.warns(RuntimeWarning, match="stopping criteria"):       # 8 steps do not learn XOR
        return DaleRNNTrainer(200, seed=3, batch_size=1, max_iter=8, eval_every=4, n_eval=8, tau_max=0.1).fit(XOR())


def test_dale_rnn_training_is_the_same_on_two_blas_threads(two_blas_threads):
    many = dale_fit()
    with threadpool_limits(1, user_api="blas"):
        one = dale_fit()
    for name in ("w_rec", "w_out", "tau_raw"):
        assert np.array_equal(getattr(many.params_, name), getattr(one.params_, name)), name
    assert many.history_.train_loss == one.history_.train_loss


def rate_force_fit():
    net = TanhForceNetwork(1000, rng=np.random.default_rng(0))
    return net.fit(sinusoid(5.0), settle=0.05, train=0.2)


def test_rate_force_training_is_the_same_on_two_blas_threads(two_blas_threads):
    many = rate_force_fit()
    with threadpool_limits(1, user_api="blas"):
        one = rate_force_fit()
    assert np.array_equal(many.rls_.W, one.rls_.W)
    assert np.array_equal(many.predict(0.05).z, one.predict(0.05).z)
