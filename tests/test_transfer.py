"""Rate → LIF one-to-one transfer (Kim et al. 2019) in Brian2."""
import os

# small matrices: BLAS threads only add contention (effective when numpy is not yet imported)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from pathlib import Path

import numpy as np
import pytest
from brian2 import DimensionMismatchError, mV, ms, second

from brianforce.rate.backprop import DaleRNNParams, DaleRNNTrainer
from brianforce.io import ModelFileError
from brianforce.tasks.kim2019 import GoNoGo
from brianforce.methods.transfer import (LIFTransfer, TransferredLIF, read_recipe, recipe_settings,
                                 simulate_lif)

ROOT = Path(__file__).resolve().parents[1]


def _feedforward(w_in, W, w_out):
    """A hand-made 'rate network' (no training) with given weights."""
    N = len(w_in)
    return DaleRNNParams(w_rec=np.abs(W), mask=(W != 0).astype(float), sign=np.where(W.sum(0) < 0, -1.0, 1.0),
                         w_in=np.asarray(w_in, float)[:, None], w_out=np.asarray(w_out, float), b_out=0.1,
                         tau_raw=np.zeros(N), tau_min=0.030, tau_max=0.030)


def _lif_rate(delta_mV, tau_m=10e-3, tau_ref=2e-3, v_th=-40.0, v_reset=-65.0):
    """Analytic LIF rate for a constant input delta_mV above threshold (bias = v_th)."""
    I = v_th + delta_mV
    return 1.0 / (tau_ref + tau_m * np.log((I - v_reset) / (I - v_th)))


def test_single_neurons_follow_the_lif_fi_curve_and_readout_scaling():
    # three unconnected neurons, constant input 3, 6, 12 mV above threshold, no noise
    p = _feedforward([3.0, 6.0, 12.0], np.zeros((3, 3)), [1.0, 0.0, 0.0])
    m = TransferredLIF.from_rate(p, 40, sigma_v=0 * mV)
    run = simulate_lif(m, np.ones((1, 200, 1)), seed=0, record_spikes=1)   # 1 s
    counts = np.bincount(run.spike_unit, minlength=3)
    expected = _lif_rate(np.array([3.0, 6.0, 12.0]))
    np.testing.assert_allclose(counts, expected, atol=1.5)                # ±1 spike of phase
    np.testing.assert_allclose(run.mean_rate[0], counts.mean())
    # readout: o = λ w_out r + b_out with ∫r dt = 1 per spike  →  ⟨o⟩ = f/40 + 0.1
    late = run.outputs[0, 500:]
    assert late.mean() == pytest.approx(expected[0] / 40 + 0.1, rel=0.03)
    assert run.times[0] == 0.0 and run.times[1] == pytest.approx(1e-3) and run.outputs.shape == (1, 1000)
    # the authors' readout (no b_out): the same spikes, the output lower by b_out alone
    plain = simulate_lif(TransferredLIF.from_rate(p, 40, readout_bias=False, sigma_v=0 * mV), np.ones((1, 200, 1)),
                         seed=0, record_spikes=1)
    np.testing.assert_array_equal(plain.spike_time, run.spike_time)
    np.testing.assert_allclose(plain.outputs, run.outputs - 0.1, atol=1e-12)


def test_synapses_carry_lambda_scaled_weights_with_dale_sign():
    # neuron 0 driven (12 mV above threshold); neuron 1 excited by 0, neuron 2 inhibited by 0
    f0 = _lif_rate(12.0)
    drive = 6.0                                       # wanted mean synaptic current, mV
    w = drive * 40 / f0                               # λ W unit f0 = drive  (λ = 1/40)
    W = np.zeros((3, 3))
    W[1, 0] = w
    W[2, 0] = w
    p = _feedforward([12.0, 0.0, 3.0], W, [0.0, 0.0, 0.0])
    p.sign[:] = 1.0
    excit = TransferredLIF.from_rate(p, 40, sigma_v=0 * mV)
    np.testing.assert_allclose(np.asarray(excit.w_rec / (mV * second))[1, 0], w / 40)
    run = simulate_lif(excit, np.ones((1, 200, 1)), seed=0, record_spikes=1)
    counts = np.bincount(run.spike_unit, minlength=3)
    # neuron 1: mean input 6 mV above threshold (the filtered spike train fluctuates a little)
    assert counts[1] == pytest.approx(_lif_rate(drive), rel=0.15)
    p.sign[0] = -1.0                                  # make neuron 0 inhibitory
    inhib = TransferredLIF.from_rate(p, 40, sigma_v=0 * mV)
    counts_i = np.bincount(simulate_lif(inhib, np.ones((1, 200, 1)), seed=0, record_spikes=1).spike_unit,
                           minlength=3)
    assert counts_i[0] == counts[0]                   # the presynaptic neuron is unaffected
    assert counts_i[1] == 0                           # 0 → 1 now inhibits: silent at bias = v_th
    assert counts_i[2] < 0.5 * counts[2]              # 3 mV drive minus 6 mV inhibition


def test_initial_voltages_up_to_v_init_max_start_with_a_volley(tmp_path):
    # 400 unconnected neurons, no input, no noise, bias at threshold: a neuron spikes in the first
    # step only if it starts at or above v_th (below, it approaches v_th without crossing it)
    N = 400
    p = _feedforward(np.zeros(N), np.zeros((N, N)), np.zeros(N))
    below = simulate_lif(TransferredLIF.from_rate(p, 40, sigma_v=0 * mV), np.zeros((1, 20, 1)), seed=2,
                         record_spikes=1)
    assert below.spike_time.size == 0                 # default: every neuron starts below v_th
    authors = TransferredLIF.from_rate(p, 40, sigma_v=0 * mV, v_init_max=30 * mV)
    run = simulate_lif(authors, np.zeros((1, 20, 1)), seed=2, record_spikes=1)
    assert np.all(run.spike_time < 0.1e-3) and np.unique(run.spike_unit).size == run.spike_unit.size
    # uniform in [-65, 30] mV: a fraction 70/95 at or above -40 mV
    assert run.spike_unit.size / N == pytest.approx(70 / 95, abs=3 * np.sqrt(0.74 * 0.26 / N))
    # the setting is saved with the model; a file written without it starts below threshold
    back = TransferredLIF.load(authors.save(tmp_path / "lif.npz"))
    assert back.neuron["v_init_max"] == pytest.approx(0.030)
    back.neuron.pop("v_init_max")
    assert simulate_lif(back, np.zeros((1, 20, 1)), seed=2, record_spikes=1).spike_time.size == 0
    with pytest.raises(ValueError, match="v_init_max"):
        TransferredLIF.from_rate(p, 40, v_init_max=-70 * mV)
    with pytest.raises(DimensionMismatchError):
        TransferredLIF.from_rate(p, 40, v_init_max=30)


@pytest.fixture(scope="module")
def small_go_nogo():
    tr = DaleRNNTrainer(50, batch_size=16, learning_rate=0.03, max_iter=400, eval_every=10,
                        n_eval=50, seed=0).fit(GoNoGo())
    assert tr.converged_
    return tr.params_


def test_grid_search_picks_best_scaling_factor(small_go_nogo, tmp_path):
    task = GoNoGo()
    factors = [20, 40, 60]
    xf = LIFTransfer(factors, n_validation=6, seed=3).fit(small_go_nogo, task)
    acc = xf.grid_accuracy_
    assert acc.shape == (3,) and np.all((acc >= 0) & (acc <= 1))
    assert xf.scaling_factor_ in factors and acc[factors.index(xf.scaling_factor_)] == acc.max()
    assert xf.lambda_ == pytest.approx(1 / xf.scaling_factor_)
    assert xf.model_.scaling_factor == xf.scaling_factor_
    # firing rises as 1/λ grows (weaker recurrent inhibition/excitation balance is not assumed:
    # only that the three candidates produce different activity)
    assert len(np.unique(np.round(xf.grid_mean_rate_, 3))) == 3
    # the transferred network answers Go and NoGo differently
    run = xf.predict(task.sample(8, np.random.default_rng(0)).inputs, record_spikes=2)
    assert run.outputs.shape == (8, 1000) and run.spike_time.size > 0
    assert set(np.unique(run.spike_trial)) <= {0, 1}
    # save / load round trip reproduces the network exactly
    path = xf.model_.save(tmp_path / "lif.npz", {"task": "go_nogo"})
    back = TransferredLIF.load(path)
    np.testing.assert_array_equal(back.W_rate, xf.model_.W_rate)
    assert back.neuron == xf.model_.neuron and back.scaling_factor == xf.scaling_factor_
    u = task.sample(2, np.random.default_rng(1)).inputs
    np.testing.assert_array_equal(simulate_lif(back, u, seed=4).outputs,
                                  simulate_lif(xf.model_, u, seed=4).outputs)
    with pytest.raises(ModelFileError):
        DaleRNNParams.load(path)                      # a LIF file is not a rate model


def test_units_and_bad_values_raise(small_go_nogo):
    p = small_go_nogo
    with pytest.raises(DimensionMismatchError):
        TransferredLIF.from_rate(p, 40, tau_m=10)
    with pytest.raises(DimensionMismatchError):
        TransferredLIF.from_rate(p, 40, tau_m=10 * mV)
    with pytest.raises(ValueError, match="tau_rise"):
        TransferredLIF.from_rate(p, 40, tau_rise=-2 * ms)
    with pytest.raises(ValueError, match="v_reset"):
        TransferredLIF.from_rate(p, 40, v_reset=-30 * mV)
    with pytest.raises(ValueError, match="scaling_factor"):
        TransferredLIF.from_rate(p, 0)
    with pytest.raises(TypeError, match="unknown neuron"):
        TransferredLIF.from_rate(p, 40, tau_x=1 * ms)
    m = TransferredLIF.from_rate(p, 40)
    u = np.zeros((1, 10, 1))
    with pytest.raises(DimensionMismatchError):
        simulate_lif(m, u, dt=0.05)
    with pytest.raises(ValueError, match="too coarse"):
        simulate_lif(m, u, dt=5 * ms, record_dt=5 * ms)
    with pytest.raises(ValueError, match="inputs"):
        simulate_lif(m, np.zeros((1, 10, 2)))
    with pytest.raises(ValueError, match="NaN"):
        simulate_lif(m, np.full((1, 10, 1), np.nan))
    with pytest.raises(ValueError, match="n_validation"):
        LIFTransfer(n_validation=0).fit(p, GoNoGo())


def test_standalone_device_is_refused(small_go_nogo):
    import brian2

    brian2.set_device("cpp_standalone", build_on_run=False)
    with pytest.raises(RuntimeError, match="runtime device"):
        simulate_lif(TransferredLIF.from_rate(small_go_nogo, 40), np.zeros((1, 10, 1)))


@pytest.mark.parametrize("name", ["go_nogo", "xor", "context"])
def test_recipes_parse_into_trainer_and_transfer_settings(name):
    recipe = read_recipe(ROOT / "models" / f"kim2019_{name}.toml")
    assert "Kim" in recipe["paper"]["reference"]
    task, tkw, xkw, n_test = recipe_settings(recipe)
    assert task.name == name and n_test == 100
    assert tkw["dt"] == pytest.approx(0.005) and tkw["tau_min"] == pytest.approx(0.020)
    assert tkw["tau_max"] == pytest.approx(0.100)      # authors' code default (issue: 0.050)
    assert 200 <= tkw["n_units"] <= 250
    DaleRNNTrainer(**tkw)._check()
    assert xkw["dt"] == 0.05 * ms and xkw["v_th"] == -40 * mV and xkw["tau_m"] == 10 * ms
    assert list(xkw["scaling_factors"]) == list(range(20, 80, 5))
    LIFTransfer(**xkw)                                 # accepted keyword set


@pytest.mark.slow
@pytest.mark.parametrize("name", ["go_nogo", "xor"])
def test_transfer_end_to_end(name):
    """Acceptance (one network): N = 200 rate net ≥ 95 %, LIF ≥ 90 % on 100 test trials (minutes)."""
    from brianforce.methods.transfer import run_kim2019

    res = run_kim2019(read_recipe(ROOT / "models" / f"kim2019_{name}.toml"), seed=0)
    assert res.rate_converged and res.rate_accuracy >= 0.95
    assert 20 <= res.scaling_factor <= 75
    assert res.lif_accuracy >= 0.90


@pytest.mark.slow
@pytest.mark.notebook
def test_tutorial_runs_in_fast_mode(tmp_path):
    """The Go/NoGo tutorial executes end to end (FAST) and meets its own assert."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, BRIANFORCE_FAST="1", BRIANFORCE_TUTORIAL_OUT=str(tmp_path), BRIANFORCE_OUT=str(tmp_path),
               MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, str(ROOT / "tutorials" / "kim2019_go_nogo.py")], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert (tmp_path / "kim2019_go_nogo" / "kim2019_go_nogo.png").stat().st_size > 10_000
    assert "LIF accuracy" in proc.stdout


def test_the_run_command_scores_a_model_with_its_own_task_timing(tmp_path, monkeypatch):
    """A model trained at a 10-ms step is scored in the response window of that timing: a network
    that answers while the second XOR pulse is on and is silent in the window scores 0 (at the
    task's default 5-ms step the window would start 1 s early, over the answer)."""
    import brianforce.methods.transfer as transfer
    from brianforce.devices.transferred import run_transferred_cli
    from brianforce.methods.transfer_results import LIFRun

    N, dt_model, rec = 4, 0.01, 1e-3
    m = transfer.TransferredLIF(W_rate=np.zeros((N, N)), w_in_rate=np.zeros((N, 2)), w_out_rate=np.zeros(N),
                                b_out=0.0, tau_d=np.full(N, 0.05), scaling_factor=25.0, input_dt=dt_model,
                                neuron={k: float(v) for k, v in transfer._neuron_si({}).items()})
    m.save(tmp_path / "lif_model.npz", {"task": "xor", "seed": 0})

    def early_answer(model, inputs, **kw):
        B, T, _ = inputs.shape
        k = np.arange(int(round(T * model.input_dt / rec)))
        step = np.minimum((k * rec / model.input_dt).astype(int), T - 1)
        label = np.sign(inputs[:, 50:100, 0].mean(1) * inputs[:, 110:160, 1].mean(1))
        z = 1.0 * ((step >= 110) & (step < 160))[None] * label[:, None]
        return LIFRun(z, rec, np.full(B, 25.0), np.zeros(0, int), np.zeros(0, int), np.zeros(0), np.zeros(B))

    monkeypatch.setattr(transfer, "simulate_lif", early_answer)
    summary = run_transferred_cli(tmp_path / "lif_model.npz", device="runtime", out=tmp_path / "run",
                                  n_trials=20, seed=0)
    assert summary["accuracy"] == 0.0
