import numpy as np
import pytest
import brian2
from brian2 import DimensionMismatchError, Hz, mV, ms, second

from brianforce.io import ModelFileError
from brianforce.networks.force_lif import StandaloneNotSupportedError
from brianforce.tasks import sinusoid
from brianforce.methods.force import FORCETrainer, TrainingDiverged


@pytest.fixture(scope="module")
def trained():
    tr = FORCETrainer(300, seed=1, device="runtime")
    tr.fit(sinusoid(5.0), settle=0.2 * second, train=2.0 * second)
    return tr


def test_training_reduces_error_and_records_history(trained):
    h = trained.history_
    assert len(h.times) == 800 and not h.diverged
    early, late = h.abs_error[:80].mean(), h.abs_error[-200:].mean()
    # |target| averages 2/pi ~ 0.64 (the error of phi = 0); training brings it well below
    assert late < 0.6 * early and late < 0.2
    assert trained.decoder_.shape == (300, 1)
    assert trained.timings_["n_rls_updates"] == 800


def test_free_running_output_follows_target(trained):
    res = trained.predict(0.6 * second)
    m = res.metrics(0.2)
    assert m["lag_adjusted_correlation"][0] > 0.9
    assert m["output_frequency_hz"][0] == pytest.approx(5.0, rel=0.1)
    assert 1 < m["mean_rate_hz"] < 100
    assert res.spike_i.max() < trained.config.n_record


def test_save_load_roundtrip_gives_identical_output(trained, tmp_path):
    path = trained.save(tmp_path / "force.npz")
    before = trained.predict(0.1 * second)
    loaded = FORCETrainer.load(path)
    after = loaded.predict(0.1 * second)
    np.testing.assert_array_equal(before.z, after.z)
    np.testing.assert_array_equal(before.spike_i, after.spike_i)
    np.testing.assert_allclose(before.spike_t, after.spike_t, atol=1e-12)
    np.testing.assert_allclose(before.t, after.t, atol=1e-12)
    np.testing.assert_array_equal(loaded.decoder_, trained.decoder_)


def test_a_loaded_model_trains_on_as_the_saved_one_would(tmp_path):
    """Saved with its RLS state, a model continues training where it stopped, at runtime: the same
    decoder as the trainer that never stopped, up to round-off."""
    task = sinusoid(5.0)
    kept = FORCETrainer(100, seed=0).fit(task, settle=10 * ms, train=20 * ms)
    path = kept.save(tmp_path / "force.npz", include_rls_state=True)
    loaded = FORCETrainer.load(path, name="loaded")
    phi_saved = np.asarray(loaded.decoder_ / second).copy()
    loaded.fit(task, settle=0 * ms, train=20 * ms)
    kept.fit(task, settle=0 * ms, train=20 * ms)
    assert loaded.device_ == "runtime" and loaded.rls_.n_updates == 8      # 20 ms every 2.5 ms
    phi, phi_kept = np.asarray(loaded.decoder_ / second), np.asarray(kept.decoder_ / second)
    assert np.abs(phi - phi_saved).max() > 0.01 * np.abs(phi_kept).max()      # it did learn on
    np.testing.assert_allclose(phi, phi_kept, rtol=0, atol=1e-9 * np.abs(phi_kept).max())


def test_tampered_model_file_is_rejected(trained, tmp_path):
    path = trained.save(tmp_path / "force.npz")
    with np.load(path) as f:
        content = {k: f[k] for k in f.files}
    content["phi"] = content["phi"] * 2
    np.savez(path, **content)
    with pytest.raises(ModelFileError, match="checksum"):
        FORCETrainer.load(path)


def test_divergence_is_detected_with_the_step(tmp_path):
    tr = FORCETrainer(100, alpha=1.0, seed=2, device="runtime")          # un-normalised update with P = I explodes
    with pytest.raises(TrainingDiverged) as info:
        tr.fit(sinusoid(), settle=50 * ms, train=0.5 * second)
    err = info.value
    assert err.step >= 0 and 0.05 <= err.time <= 0.55
    assert "RLS update" in str(err) and "time step" in str(err)
    assert tr.history_.diverged and len(tr.history_.times) == err.step
    # a diverged decoder is not used silently
    with pytest.raises(RuntimeError, match=rf"diverged at RLS update {err.step} .*allow_diverged=True"):
        tr.predict(0.1 * second)
    with pytest.raises(RuntimeError, match="diverged"):
        tr.save(tmp_path / "bad.npz")
    assert not (tmp_path / "bad.npz").exists()
    assert tr.predict(10 * ms, allow_diverged=True).z.shape[1] == 1


def test_constant_target_is_not_divergence():
    from brianforce.tasks import Task

    for value in (0.0, 0.5):
        tr = FORCETrainer(100, seed=2, device="runtime")
        tr.fit(Task("constant", 1, lambda t, v=value: np.full((len(t), 1), v)), settle=20 * ms, train=0.1 * second)
        assert len(tr.history_.times) == 40 and not tr.history_.diverged


def test_standalone_device_is_refused():
    brian2.set_device("cpp_standalone", build_on_run=False)
    try:
        with pytest.raises(StandaloneNotSupportedError, match="silently drop"):
            FORCETrainer(50, device="runtime").fit(sinusoid(), settle=10 * ms, train=10 * ms)
    finally:
        brian2.set_device("runtime")
        brian2.device.reinit()
        brian2.device.activate()


@pytest.mark.parametrize("kwargs, exc", [
    (dict(G=0.04), DimensionMismatchError),                 # missing units
    (dict(Q=10 * ms), DimensionMismatchError),              # wrong units
    (dict(dt=0.05), DimensionMismatchError),
    (dict(tau_m=10 * mV), DimensionMismatchError),
    (dict(alpha=0.0), ValueError),
    (dict(alpha=-5e-6), ValueError),
    (dict(p=1.5), ValueError),
    (dict(rls_interval=0.07 * ms), ValueError),
    (dict(seed=-1), ValueError),
    (dict(seed=1.5), TypeError),
])
def test_bad_parameters_give_clear_errors(kwargs, exc):
    with pytest.raises(exc):
        FORCETrainer(50, **kwargs)


def test_bad_targets_give_clear_errors():
    tr = FORCETrainer(50, device="runtime")
    dt = 0.05e-3
    n = int(0.2 / dt) + 10
    bad = np.sin(np.arange(n) * dt)
    bad[100] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        tr.fit(bad, settle=0.1 * second, train=0.1 * second)
    with pytest.raises(ValueError, match="2 outputs"):
        tr.fit(np.zeros((n, 2)), settle=0.1 * second, train=0.1 * second)
    with pytest.raises(ValueError, match="covers"):
        tr.fit(np.zeros(100), settle=0.1 * second, train=0.1 * second)
    with pytest.raises(DimensionMismatchError):
        tr.fit(sinusoid(), settle=0.1 * Hz, train=0.1 * second)
    with pytest.raises(ValueError):
        tr.fit(sinusoid(), settle=0.1 * second, train=-1 * second)
    with pytest.raises(RuntimeError, match="fit"):
        FORCETrainer(50).predict(0.1 * second)


def test_array_target_trains_like_task():
    dt = 0.05e-3
    t = np.arange(int(0.6 / dt) + 2) * dt
    tr = FORCETrainer(100, seed=5, device="runtime").fit(np.sin(2 * np.pi * 5 * t), settle=0.1 * second, train=0.5 * second)
    assert len(tr.history_.times) == 200
