"""Static weights drawn without dense temporaries equal their dense definition, bit for bit."""
import numpy as np
import pytest

from brianforce.networks.connectivity import _dense_static_weights, static_weights


@pytest.mark.parametrize("n, p", [(1, 1.0), (7, 0.5), (300, 0.1), (1100, 0.3), (1500, 1.0)])
def test_blockwise_draw_equals_the_dense_definition(n, p):
    rng_a, rng_b = np.random.default_rng(12), np.random.default_rng(12)
    a, b = static_weights(n, p, 4e-5, rng_a), _dense_static_weights(n, p, 4e-5, rng_b)
    for key in ("pre", "post", "value"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), strict=True)
    assert rng_a.random() == rng_b.random()               # the generator ends in the same state
    rows = np.bincount(a.post, weights=a.value, minlength=n)
    np.testing.assert_allclose(rows, 0.0, atol=1e-18)      # zero-mean rows


@pytest.mark.slow
def test_n_20000_is_drawn_below_twice_its_sparse_size():
    import tracemalloc

    tracemalloc.start()
    w = static_weights(20_000, 0.1, 4e-5, np.random.default_rng(0))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    size = w.pre.nbytes + w.post.nbytes + w.value.nbytes
    print(f"N = 20 000: sparse {size / 1e9:.2f} GB, peak {peak / 1e9:.2f} GB ({peak / size:.2f}x)")
    assert peak < 2 * size
