"""``brianforce reproduce``: the criteria table, the judged tables, resuming, refusals."""
import json
import math
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from brianforce.config import tuning_seeds
from brianforce.experiments.cli import CRITERION, main
from brianforce.experiments.recipes import recipe_path
from brianforce.experiments.reproduce import (CI_OVERRIDES, DEFAULT_SEEDS, METHODS, RUNNERS, Criterion, parse_seeds,
                                              reproduce, select)
from brianforce.experiments.reproduce import runners

SEEDS = (101, 102)


def _crit(op="<", threshold=0.2, **kw):
    return Criterion("test criterion", "m", op, threshold, "a paper", **kw)


# ------------------------------------------------------------------------------------------- the criteria table
def test_criterion_judges_values_pass_fail_median_and_count():
    j = _crit().judge([101, 102, 103, 104, 105], [0.1, 0.3, None, 0.15, 0.19])
    assert j.passed == (True, False, False, True, True)
    assert j.median == pytest.approx(0.17)                    # over the seeds with a value
    assert (j.n_pass, j.required, j.meets) == (3, 4, False)
    j = _crit().judge([101, 102, 103, 104, 105], [0.1, 0.3, 0.05, 0.15, 0.19])
    assert (j.n_pass, j.meets) == (4, True)                   # 4 of 5 meets it
    assert _crit().required(10) == 8 and _crit().required(2) == 2 and _crit().required(1) == 1
    # boundaries and missing values
    assert not _crit("<").passes(0.2) and _crit("<=").passes(0.2)
    assert not _crit(">", 0.95).passes(0.95) and _crit(">=", 0.9).passes(0.9)
    assert not _crit().passes(float("nan")) and not _crit().passes(None)
    assert math.isnan(_crit().judge([1], [None]).median)
    with pytest.raises(ValueError, match="op"):
        _crit("=")
    with pytest.raises(ValueError, match="2 seeds but 1 values"):
        _crit().judge([1, 2], [0.1])


def test_every_run_has_a_recipe_runner_ci_size_and_tuning_seeds():
    recipes = [r for m in METHODS.values() for r in m.runs]
    assert {m.name for m in METHODS.values()} == {"force", "depasquale", "reaching", "kim2019", "kimchow",
                                                   "newton_nicola"}
    for run in recipes:
        rec = tomllib.loads(recipe_path(run.recipe).read_text())
        assert run.kind in RUNNERS and run.recipe in CI_OVERRIDES and run.criteria
        assert "tuning_seeds" in rec["experiment"], run.recipe
        assert not set(DEFAULT_SEEDS) & set(tuning_seeds(rec) or ()), run.recipe
        for c in run.criteria:
            assert c.text and c.reference and c.metric and c.op in ("<", "<=", ">", ">=")


def test_every_shipped_recipe_records_its_tuning_seeds():
    for path in sorted(recipe_path("reaching_emg").parent.glob("*.toml")):
        rec = tomllib.loads(path.read_text())
        assert "tuning_seeds" in rec.get("experiment", {}), path.name
        tuning_seeds(rec, path.name)                           # parses


def test_tuning_seeds_key_is_read_and_checked():
    from brianforce.config import RecipeError, check_sections

    def rec(value):
        return {"experiment": {"method": "force", "tuning_seeds": value}}

    assert tuning_seeds(rec("0-3")) == (0, 1, 2, 3) and tuning_seeds(rec([3, 1, 3])) == (1, 3)
    assert tuning_seeds(rec("not recorded")) is None and tuning_seeds({"experiment": {}}) is None
    for bad in ("x", "3-1", [], [-1], [True], [1.5]):
        with pytest.raises(RecipeError, match="tuning_seeds"):
            tuning_seeds(rec(bad))
    check_sections(rec([0]), {"": ("experiment",), "experiment": ("method",)})     # every [experiment] takes it
    with pytest.raises(RecipeError, match="tuning_sed"):
        check_sections({"experiment": {"tuning_sed": [0]}}, {"": ("experiment",), "experiment": ("method",)})


def test_thresholds_agree_with_the_recipes_and_the_force_runner():
    runs = {r.recipe: r for m in METHODS.values() for r in m.runs}
    for name in ("kim2019_go_nogo", "kim2019_xor", "kim2019_context"):
        paper = tomllib.loads(recipe_path(name).read_text())["paper"]
        by_metric = {c.metric: c.threshold for c in runs[name].criteria}
        assert by_metric["rate_accuracy"] == paper["expected_rate_accuracy"]
        assert by_metric["lif_accuracy"] == paper["expected_lif_accuracy"]
    ev = tomllib.loads(recipe_path("kimchow_patterns").read_text())["evaluation"]
    assert runs["kimchow_patterns"].criteria[0].threshold == ev["min_mean_correlation"]
    assert CRITERION["rmse_over_amplitude_below"] == 0.2 and CRITERION["lag_adjusted_correlation_above"] == 0.95


def test_select_and_parse_seeds():
    assert [r.recipe for _, rs in select(["kim2019_xor"]) for r in rs] == ["kim2019_xor"]
    assert [m.name for m, _ in select([])] == list(METHODS)
    with pytest.raises(ValueError, match=r"unknown method 'forc'; methods: force, depasquale"):
        select(["forc"])
    assert parse_seeds("101-105") == (101, 102, 103, 104, 105)
    assert parse_seeds("103,101,110-111") == (101, 103, 110, 111)
    for bad in ("5-3", "a", "", "-1"):
        with pytest.raises(ValueError):
            parse_seeds(bad)


def test_newton_nicola_metrics_from_a_sweep_table():
    frame = pd.DataFrame({"alpha": [5e-8, 5e-7, 5e-6, 5e-5, 5e-4], "decoder_correlation": [0.9, 0.85, 0.6, 0.3, np.nan],
                          "diverged": [False, False, False, False, True],
                          "spike_to_rate_ratio_open": [1.1, 1.3, 2.5, 4.0, np.nan],
                          "rate_to_spike_ratio_open": [1.2, 1.6, 3.0, 5.0, np.nan]})
    m = runners.newton_nicola_metrics(frame)
    assert m["alpha_slow"] == 5e-7 and m["decoder_correlation_slow"] == 0.85
    assert m["transfer_ratio_open_max"] == 1.6 and m["correlation_alpha_spearman"] == pytest.approx(-1.0)


# ------------------------------------------------------------------------------------------- refusals
def test_unknown_method_is_a_clear_error(tmp_path, capsys):
    assert main(["reproduce", "nope", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert re.search(r"^brianforce: error: unknown method 'nope'; methods: force, depasquale, reaching, kim2019, "
                     r"kimchow, newton_nicola", err, re.M)
    assert not (tmp_path / "out").exists()


def test_tuning_seeds_are_refused_unless_allowed(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["reproduce", "nicola_clopath_sinusoid", "--seeds", "3,101", "--size", "ci", "--out", str(out),
                 "--scheduler", "synchronous"]) == 1
    err = capsys.readouterr().err
    assert "3 of nicola_clopath_sinusoid (tuning seeds 0-9)" in err and "--allow-tuning-seeds" in err
    assert not out.exists()


# ------------------------------------------------------------------------------------------- a failing run
def _fake_force(path, seed, overrides, out, data):
    if seed == 102:
        raise RuntimeError("planted failure")
    return {"metrics": {"rmse_over_amplitude": 0.1, "lag_adjusted_correlation": 0.99}}


def test_a_failing_run_is_recorded_and_retried(tmp_path, monkeypatch):
    monkeypatch.setitem(runners.RUNNERS, "force", _fake_force)
    res = reproduce(["nicola_clopath_sinusoid"], SEEDS, tmp_path, scheduler="synchronous", size="ci", progress=False)
    assert len(res.computed) == 2 and len(res.failed) == 1 and "planted failure" in res.failed[0]
    row = res.tables["force"].iloc[0]
    assert row["value_101"] == 0.1 and math.isnan(row["value_102"]) and not row["pass_102"] and row["n_pass"] == 1
    assert "failed: nicola_clopath_sinusoid seed 102: RuntimeError: planted failure" in res.markdown["force"]
    again = reproduce(["nicola_clopath_sinusoid"], SEEDS, tmp_path, scheduler="synchronous", size="ci",
                      progress=False)
    assert len(again.computed) == 1 and len(again.reused) == 1         # only the failed run is tried again


def test_the_command_line_fails_when_a_run_failed_after_writing_the_rest(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(runners.RUNNERS, "force", _fake_force)
    out = tmp_path / "out"
    assert main(["reproduce", "nicola_clopath_sinusoid", "--seeds", "101-102", "--size", "ci", "--out", str(out),
                 "--scheduler", "synchronous"]) == 1
    err = capsys.readouterr().err
    assert re.search(r"^brianforce: error: reproduce: 1 of 2 runs failed \(first: nicola_clopath_sinusoid seed 102: "
                     r"RuntimeError: planted failure\)", err, re.M)
    assert (out / "force_ci_seeds101-102.csv").is_file()


def test_missing_recorded_data_is_refused_before_any_run(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["reproduce", "reaching_m1", "--seeds", "101", "--size", "ci", "--out", str(out),
                 "--scheduler", "synchronous", "--data", str(tmp_path / "does_not_exist")]) == 1
    assert "does_not_exist does not exist" in capsys.readouterr().err
    assert not (out / "cells").exists() or not list((out / "cells").iterdir())


def test_a_table_is_never_replaced_by_a_less_complete_one(tmp_path):
    from brianforce.experiments.reproduce import write_table

    full = pd.DataFrame({"recipe": ["r"], "metric": ["m"], "criterion": ["c"], "op": ["<"], "threshold": [0.2],
                         "value_1": [0.1], "pass_1": [True], "value_2": [0.3], "pass_2": [False]})
    part = full.assign(value_2=[np.nan])
    first = write_table(full, "# full\n", [1, 2], tmp_path / "t")
    assert first["csv"] == tmp_path / "t.csv" and first["png"].is_file()
    second = write_table(part, "# part\n", [1, 2], tmp_path / "t")
    assert second["md"] == tmp_path / "t.v2.md" and (tmp_path / "t.md").read_text() == "# full\n"
    assert write_table(full, "# again\n", [1, 2], tmp_path / "t")["md"] == tmp_path / "t.md"


def test_a_changed_rerun_goes_to_a_new_version_and_a_resumed_one_replaces(tmp_path):
    from brianforce.experiments.reproduce import extends, write_table

    base = pd.DataFrame({"recipe": ["r", "r"], "metric": ["m", "m"], "criterion": ["c", "d"], "op": ["<", ">"],
                         "threshold": [0.2, 0.5], "value_1": [0.1, 0.9], "pass_1": [True, True],
                         "value_2": [np.nan, np.nan], "pass_2": [False, False]})
    resumed = base.assign(value_2=[0.3, 0.8])
    changed = resumed.assign(value_1=[0.1, 0.7])
    assert extends(resumed, base) and not extends(base, resumed) and not extends(changed, base)
    assert not extends(resumed.iloc[:1], base)                         # a criterion's row left out
    assert not extends(resumed.drop(columns="value_1"), base)
    write_table(base, "# partial\n", [1, 2], tmp_path / "t")
    assert write_table(resumed, "# resumed\n", [1, 2], tmp_path / "t")["md"] == tmp_path / "t.md"
    paths = write_table(changed, "# changed\n", [1, 2], tmp_path / "t")
    assert paths["md"] == tmp_path / "t.v2.md" and (tmp_path / "t.md").read_text() == "# resumed\n"
    assert pd.read_csv(tmp_path / "t.csv")["value_1"].tolist() == [0.1, 0.9]
    assert write_table(changed, "# changed again\n", [1, 2], tmp_path / "t")["md"] == tmp_path / "t.v3.md"


def test_runs_go_through_a_dask_cluster(tmp_path, monkeypatch):
    from distributed import Client, LocalCluster

    monkeypatch.setitem(runners.RUNNERS, "force", _fake_force)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        res = reproduce(["nicola_clopath_sinusoid"], [101, 103], tmp_path, scheduler=client, size="ci",
                        progress=False)
    assert len(res.computed) == 2 and not res.failed and res.tables["force"]["n_pass"].tolist() == [2, 2]


# ------------------------------------------------------------------------------------------- a real CI reproduction
@pytest.fixture(scope="module")
def ci_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce") / "out"
    code = main(["reproduce", "nicola_clopath_sinusoid", "--seeds", "101-102", "--size", "ci", "--out", str(out),
                 "--scheduler", "synchronous"])
    assert code == 0
    return out


def _mtimes(out):
    return {p.stem: p.stat().st_mtime_ns for p in (out / "cells").glob("*.json")}


def test_ci_reproduction_writes_csv_markdown_and_figure(ci_run):
    stem = ci_run / "force_ci_seeds101-102"
    frame = pd.read_csv(f"{stem}.csv")
    assert list(frame.columns) == ["method", "recipe", "run", "criterion", "reference", "metric", "how", "op",
                                   "threshold", "value_101", "pass_101", "value_102", "pass_102", "median", "n_pass",
                                   "n_seeds", "required", "meets", "size", "data"]
    assert frame["metric"].tolist() == ["rmse_over_amplitude", "lag_adjusted_correlation"]
    assert frame["threshold"].tolist() == [0.2, 0.95] and (frame["size"] == "ci").all()
    assert (frame["n_seeds"] == 2).all() and (frame["required"] == 2).all()
    for _, r in frame.iterrows():
        vals = [r["value_101"], r["value_102"]]
        assert np.all(np.isfinite(vals)) and r["median"] == pytest.approx(np.median(vals))
        assert r["n_pass"] == r["pass_101"] + r["pass_102"] and r["meets"] == (r["n_pass"] >= 2)
        assert r["pass_101"] == (r["value_101"] < 0.2 if r["op"] == "<" else r["value_101"] > 0.95)
    md = Path(f"{stem}.md").read_text()
    assert "Size: **ci** (nicola_clopath_sinusoid: network.n_neurons = 1000" in md
    assert "| recipe | criterion (paper) | metric | threshold | seed 101 | seed 102 | median | passing | meets |" in md
    assert "tuning seeds: 0-9" in md and "data: none (simulated task)" in md
    assert Path(f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # one folder per run, named by its cell (runs on other data or of a changed recipe do not share it)
    cells_ = [json.loads(p.read_text()) for p in (ci_run / "cells").glob("*.json")]
    expected = sorted(f"nicola_clopath_sinusoid_ci_seed{c['params']['seed']}_{c['key']}" for c in cells_)
    folders = sorted((ci_run / "runs" / "force").iterdir())
    assert [f.name for f in folders] == expected and len(expected) == 2
    assert all((f / "summary.json").is_file() for f in folders)


def test_a_second_run_recomputes_nothing_and_a_corrupt_cell_is_recomputed(ci_run):
    before = _mtimes(ci_run)
    again = reproduce(["nicola_clopath_sinusoid"], SEEDS, ci_run, scheduler="synchronous", size="ci", progress=False)
    assert again.computed == [] and sorted(again.reused) == sorted(before) and _mtimes(ci_run) == before

    victim = sorted(before)[0]
    path = ci_run / "cells" / f"{victim}.json"
    old = json.loads(path.read_text())["row"]
    text = path.read_text()
    path.write_text(text[: len(text) // 2])                   # truncated
    with pytest.warns(UserWarning, match=f"{victim}.json: unreadable"):
        third = reproduce(["nicola_clopath_sinusoid"], SEEDS, ci_run, scheduler="synchronous", size="ci",
                          progress=False)
    assert third.computed == [victim]
    after = _mtimes(ci_run)
    assert all(after[k] == before[k] for k in before if k != victim)
    new = json.loads(path.read_text())["row"]
    for k, v in old["metrics"].items():                        # the same seed gives the same run
        assert new["metrics"][k] == pytest.approx(v, rel=1e-9)


def test_the_table_states_the_range_of_wall_times_of_the_runs():
    from brianforce.experiments.reproduce import criteria_table, table_markdown

    method = METHODS["force"]
    run = method.runs[0]
    ok = {"metrics": {"rmse_over_amplitude": 0.1, "lag_adjusted_correlation": 0.99}, "data": "none"}
    rows = {(run.recipe, 101): ok, (run.recipe, 102): None}
    frame = criteria_table(method, [run], [101, 102], rows, "full")
    md = table_markdown(method, frame, [101, 102], size="full", wall_s={run.recipe: [90.0, None, 270.0]})
    assert f"* `{run.recipe}`: data: none" in md and "wall time a run: 1.5–4.5 min" in md
    assert "wall time" not in table_markdown(method, frame, [101, 102], size="full")
