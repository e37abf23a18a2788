import json
import re

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

from brianforce.config import RecipeError
from brianforce.experiments.sweep import SweepSpec, cell_key, load_results, run_sweep, sweep_cli

#: The [network] and [protocol] of the small recipes below (N = 100, 0.3 s of training).
SMALL_BODY = """[network]
n_neurons = 100
rate_dt = "0.5 ms"
[protocol]
settle = "0.05 s"
train = "0.3 s"
test = "0.2 s"
"""
# 2 × 2 G × Q grid of small rate networks (N = 100, 0.3 s of training)
SMALL = dict(name="test-gq", axes={"G": [0.02e-3, 0.08e-3], "Q": [10e-3, 40e-3]}, seeds=(0,),
             network={"n_neurons": 100, "rate_dt": 5e-4}, settle=0.05, train=0.3, test=0.2, model="rate",
             threshold=0.5)


def _mtimes(out):
    return {p.stem: p.stat().st_mtime_ns for p in (out / "cells").glob("*.json")}


@pytest.fixture(scope="module")
def threaded_client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None)
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_spec_cells_and_keys_are_stable():
    spec = SweepSpec(**SMALL)
    cells = spec.cells()
    assert len(cells) == 4
    keys = [cell_key(c) for c in cells]
    assert len(set(keys)) == 4
    # the key depends only on the parameter values, not on dict order or float noise
    c = dict(cells[0])
    shuffled = {k: c[k] for k in reversed(list(c))}
    shuffled["network"] = dict(c["network"], G=c["network"]["G"] * (1 + 1e-15))
    assert cell_key(shuffled) == keys[0]
    assert cell_key(dict(c, seed=1)) != keys[0]


def test_sweep_runs_on_dask_and_resumes_only_missing_cell(tmp_path, threaded_client):
    spec = SweepSpec(**SMALL)
    out = tmp_path / "sweep"
    first = run_sweep(spec, out, scheduler=threaded_client, progress=False)
    assert len(first.computed) == 4 and first.reused == []
    frame = pd.read_csv(out / "results.csv")
    assert len(frame) == 4
    assert set(frame["G"]) == {0.02e-3, 0.08e-3} and set(frame["Q"]) == {10e-3, 40e-3}
    assert np.all((frame["rate_error"] > 0) | ~np.isfinite(frame["rate_error"]))
    assert frame["rate_converged"].dtype == bool
    assert (frame["rate_converged"] == (frame["rate_error"] < 0.5)).all()

    before = _mtimes(out)
    victim = cell_key(spec.cells()[2])
    old_row = json.loads((out / "cells" / f"{victim}.json").read_text())["row"]
    (out / "cells" / f"{victim}.json").unlink()
    second = run_sweep(spec, out, scheduler=threaded_client, progress=False)
    assert second.computed == [victim]
    assert sorted(second.reused) == sorted(k for k in before if k != victim)
    after = _mtimes(out)
    assert all(after[k] == before[k] for k in before if k != victim)
    # the recomputed cell is deterministic given its seed
    new_row = json.loads((out / "cells" / f"{victim}.json").read_text())["row"]
    assert new_row["rate_error"] == pytest.approx(old_row["rate_error"], rel=1e-9)
    assert len(second.frame) == 4


def test_interrupted_sweep_finishes_missing_cells_synchronously(tmp_path):
    spec = SweepSpec(**SMALL)
    out = tmp_path / "sweep"
    part = run_sweep(spec, out, scheduler="synchronous", progress=False, max_cells=1)
    assert len(part.computed) == 1 and len(load_results(spec, out)) == 1
    rest = run_sweep(spec, out, scheduler="synchronous", progress=False)
    assert len(rest.computed) == 3 and part.computed[0] not in rest.computed
    assert len(rest.frame) == 4


def test_sweep_records_divergence_instead_of_raising(tmp_path):
    spec = SweepSpec(name="diverge", axes={"alpha": [1e3]}, seeds=(1,), network={"n_neurons": 100, "rate_dt": 5e-4},
                     settle=0.0, train=0.3, test=0.1, model="rate")
    row = run_sweep(spec, tmp_path, scheduler="synchronous", progress=False).frame.iloc[0]
    assert bool(row["diverged"]) and 0 < row["diverged_at"] <= 0.3
    assert np.isinf(row["rate_error"]) and not bool(row["rate_converged"])


def test_corrupt_edited_and_failed_cells_are_recomputed_not_trusted(tmp_path):
    spec = SweepSpec(**{**SMALL, "axes": {"G": [0.02e-3, 0.08e-3]}})
    out = tmp_path / "sweep"
    run_sweep(spec, out, scheduler="synchronous", progress=False)
    k0, k1 = (cell_key(c) for c in spec.cells())
    cells = out / "cells"
    text = (cells / f"{k0}.json").read_text()
    (cells / f"{k0}.json").write_text(text[: len(text) // 2])            # truncated by a kill
    rec = json.loads((cells / f"{k1}.json").read_text())
    rec["row"]["rate_error"] = 0.0                                       # edited by hand
    (cells / f"{k1}.json").write_text(json.dumps(rec))
    with pytest.warns(UserWarning) as caught:
        again = run_sweep(spec, out, scheduler="synchronous", progress=False)
    messages = " ".join(str(w.message) for w in caught)
    assert f"{k0}.json: unreadable" in messages and f"{k1}.json: checksum mismatch" in messages
    assert sorted(again.computed) == sorted([k0, k1]) and len(again.frame) == 2
    assert (again.frame["rate_error"] > 0).all()
    (cells / f"{k0}.json").write_text("{}")
    with pytest.warns(UserWarning, match="not a cell file"):
        assert run_sweep(spec, out, scheduler="synchronous", progress=False).computed == [k0]


def test_a_failing_cell_is_recorded_and_does_not_end_the_sweep(tmp_path):
    # alpha = 0 is invalid: that cell records its error, the other cell finishes
    spec = SweepSpec(**{**SMALL, "axes": {"alpha": [0.0, 5e-6]}})
    run = run_sweep(spec, tmp_path, scheduler="synchronous", progress=False)
    assert len(run.computed) == 2 and len(run.frame) == 2
    bad, good = run.frame.iloc[0], run.frame.iloc[1]
    assert bad["error"].startswith("ValueError: alpha") and "got 0" in bad["error"] and np.isnan(bad["rate_error"])
    assert not isinstance(good["error"], str) or good["error"] == ""
    assert np.isfinite(good["rate_error"])
    # a failed cell is tried again on the next run; a finished one is not
    assert run_sweep(spec, tmp_path, scheduler="synchronous", progress=False).computed == [cell_key(spec.cells()[0])]


def test_the_sweep_command_fails_when_a_cell_failed_after_writing_the_rest(tmp_path, capsys):
    from brianforce.experiments.cli import main

    recipe = tmp_path / "r.toml"
    recipe.write_text("""
[experiment]
method = "sweep"
name = "fails"
model = "rate"
seeds = [0]
""" + SMALL_BODY + """[grid]
alpha = [0.0, 5e-6]
""")
    assert main(["sweep", str(recipe), "--out", str(tmp_path / "out"), "--scheduler", "synchronous"]) == 1
    assert re.search(r"^brianforce: error: sweep: 1 of 2 runs failed \(first: seed 0: ValueError: alpha",
                     capsys.readouterr().err, re.M)
    frame = pd.read_csv(tmp_path / "out" / "results.csv")
    assert len(frame) == 2 and (tmp_path / "out" / "curve.png").stat().st_size > 1000


def test_another_sweep_in_the_same_folder_gets_versioned_files(tmp_path):
    first = SweepSpec(**{**SMALL, "axes": {"alpha": [5e-6]}, "seeds": (0,)})
    second = SweepSpec(**{**SMALL, "axes": {"alpha": [5e-6]}, "seeds": (1,)})
    a = run_sweep(first, tmp_path, scheduler="synchronous", progress=False)
    b = run_sweep(second, tmp_path, scheduler="synchronous", progress=False)
    assert a.csv_path.name == "results.csv" and b.csv_path.name == "results.v2.csv"
    assert pd.read_csv(a.csv_path)["seed"].tolist() == [0] and pd.read_csv(b.csv_path)["seed"].tolist() == [1]
    assert json.loads((tmp_path / "spec.json").read_text())["seeds"] == [0]
    again = run_sweep(first, tmp_path, scheduler="synchronous", progress=False)       # resumes its own table
    assert again.csv_path.name == "results.csv" and again.computed == []


def test_bad_specs_raise():
    with pytest.raises(ValueError, match="model"):
        SweepSpec(**{**SMALL, "model": "lstm"})
    with pytest.raises(ValueError, match="cannot sweep"):
        SweepSpec(**{**SMALL, "axes": {"colour": [1]}})
    with pytest.raises(ValueError, match="thread-safe"):
        run_sweep(SweepSpec(**{**SMALL, "model": "spiking"}), "unused", processes=False)


def test_sweep_cli_reads_recipe_and_writes_heatmap(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text("""
[experiment]
method = "sweep"
name = "cli-test"
model = "rate"
seeds = [0]
threshold = 0.5
[task]
name = "sinusoid"
frequency = 5.0
""" + SMALL_BODY + """[grid]
G = ["0.02 mV*s", "0.08 mV*s"]
Q = { start = "10 mV", stop = "40 mV", num = 2 }
""")
    frame = sweep_cli(recipe, tmp_path / "out", scheduler="synchronous")
    assert len(frame) == 4
    assert sorted(frame["Q"].unique()) == pytest.approx([0.01, 0.04])
    assert (tmp_path / "out" / "heatmap.png").stat().st_size > 1000
    bad = tmp_path / "bad.toml"
    bad.write_text('[experiment]\nmethod = "force"\n')
    with pytest.raises(RecipeError):
        sweep_cli(bad, tmp_path / "x")
    # typos are errors naming the key and the closest valid one, before any work
    for edit, message in ((("seeds = [0]", "seed = [0, 1, 2]"), "unknown key 'seed' in \\[experiment\\]; did you mean 'seeds'"),
                          (("n_neurons = 100", "n_neuron = 100"), "unknown key 'n_neuron' in \\[network\\]; did you mean 'n_neurons'"),
                          (("[grid]", "[dask]\nn_workers = 0\n[grid]"), "n_workers must be an integer >= 1, got 0"),
                          # values in the wrong units or of the wrong type, and a [task] typo
                          (('"0.02 mV*s"', '"0.02 mV"'), r"\[grid\] G must have units of V\*s, got '0.02 mV'"),
                          (('rate_dt = "0.5 ms"', 'rate_dt = "0.5 mV"'), r"\[network\] rate_dt must have units of s"),
                          (('train = "0.3 s"', 'train = "3 Hz"'), r"\[protocol\] train must have units of second"),
                          (("seeds = [0]", "seeds = [0.9]"), r"\[experiment\] seeds must be an integer, got 0\.9"),
                          (("n_neurons = 100", "n_neurons = true"), r"\[network\] n_neurons must be an integer"),
                          (("num = 2 }", 'num = 2, log = "no" }'), r"\[grid\] Q log must be True or False"),
                          (("num = 2 }", "num = 2, lgo = true }"), r"unknown key 'lgo' in \[grid\] Q; did you mean 'log'"),
                          (("frequency = 5.0", "frequncy = 5.0"), r"\[task\]: .*'frequncy'")):
        bad.write_text(recipe.read_text().replace(*edit))
        with pytest.raises((RecipeError, ValueError), match=message):
            sweep_cli(bad, tmp_path / "typo", scheduler="synchronous")
        assert not (tmp_path / "typo" / "cells").exists() or not list((tmp_path / "typo" / "cells").iterdir())


def test_heatmap_pivots_mean_over_seeds():
    import matplotlib

    matplotlib.use("Agg")
    from brianforce.viz.sweeps import grid_table, plot_heatmap

    frame = pd.DataFrame({"G": [1, 1, 2, 2, 1, 2], "Q": [1, 1, 1, 1, 2, 2],
                          "rate_converged": [True, False, True, True, False, False]})
    table = grid_table(frame, "G", "Q", "rate_converged")
    assert table.loc[1, 1] == 0.5 and table.loc[1, 2] == 1.0 and table.loc[2, 2] == 0.0
    ax = plot_heatmap(frame, "G", "Q", "rate_converged")
    assert ax.images[0].get_array().shape == (2, 2)


def test_run_cell_both_models_reports_matched_metrics():
    from brianforce.experiments.sweep import run_cell

    spec = SweepSpec(name="both", axes={"alpha": [5e-6]}, seeds=(2,), network={"n_neurons": 60},
                     settle=0.05, train=0.2, test=0.45, model="both", threshold=10.0)
    row = run_cell(spec.cells()[0])
    for k in ("spiking_error", "rate_error", "spike_to_rate_error", "rate_to_spike_error",
              "spiking_error_period", "rate_error_period"):
        assert np.isfinite(row[k]) and 0 < row[k] < 10, (k, row[k])
    assert -1 <= row["decoder_correlation"] <= 1 and not row["diverged"]
    assert row["spiking_converged"] and row["rate_converged"]  # threshold 10 amplitudes
