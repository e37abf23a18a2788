"""The pure helpers of ``benchmarks/force_scaling.py``: rows, time prediction, skips and the figure (no runs)."""
import csv
import importlib.util
from pathlib import Path

import pytest

from brianforce.io import append_csv_row

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "force_scaling.py"


@pytest.fixture(scope="module")
def fs():
    spec = importlib.util.spec_from_file_location("force_scaling", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _child(run_s=2.0, compile_s=1.5, rls_s=0.4, k=80):
    return {"timings": {"compile_s": compile_s, "run_s": run_s}, "rls_s": rls_s, "n_rls_updates": k,
            "device": "runtime", "rss_self_kb": 1000, "rmse_over_amplitude": 0.5,
            "lag_adjusted_correlation": 0.99, "metric_window_s": 0.1}


def _wrapper(end_to_end_s=5.0):
    return {"end_to_end_s": end_to_end_s, "maxrss_kb": 2000, "run_rss_bytes": 3_000_000}


def test_rows_of_every_status_share_the_columns(fs, tmp_path):
    phases = fs.phases_for("short")
    assert phases == (0.1, 0.2, 0.1)
    ok = fs.make_row("runtime", 1000, 0, "short", phases, child=_child(), wrapper=_wrapper(), note="x")
    assert tuple(ok) == fs.COLUMNS
    assert ok["wall_per_simulated_s"] == pytest.approx(2.0 / 0.4)
    assert ok["rls_ms_per_update"] == pytest.approx(1e3 * 0.4 / 80)
    assert ok["P_bytes"] == 8 * 1000 ** 2
    assert ok["peak_rss_bytes"] == 2000 * 1024 and ok["peak_rss_python_bytes"] == 1000 * 1024
    no_rls = fs.make_row("cpp_standalone-1thread", 1000, 0, "short", phases,
                         child={**_child(), "rls_s": None}, wrapper=_wrapper())
    assert no_rls["rls_ms_per_update"] == ""
    skipped = fs.make_row("numpy-loop", 4000, 0, "short", phases, status="skipped", reason="too big", needed=7)
    assert tuple(skipped) == fs.COLUMNS and skipped["run_s"] == "" and skipped["needed_bytes_estimate"] == 7
    out = tmp_path / "rows.csv"
    for row in (ok, no_rls, skipped):          # append_csv_row refuses rows of other columns
        append_csv_row(out, row)
    assert [r["status"] for r in fs.read_rows(out)] == ["ok", "ok", "skipped"]


def test_time_prediction_and_previous_size(fs):
    prev = {"n_neurons": "1000", "run_s": "2", "end_to_end_s": "5", "settle_s": "0.1", "train_s": "0.2",
            "test_s": "0.1"}
    # run ~ N² (and ~ simulated time), the rest ~ N
    assert fs.predict_seconds(prev, 2000, 0.4) == pytest.approx(2 * 4 + 3 * 2)
    assert fs.predict_seconds(prev, 2000, 0.8) == pytest.approx(2 * 4 * 2 + 3 * 2)
    rows = [dict(prev, path="runtime", status="ok"),
            dict(prev, path="runtime", status="ok", n_neurons="2000", run_s="9"),
            dict(prev, path="runtime", status="skipped", n_neurons="3000", run_s=""),
            dict(prev, path="numpy-loop", status="ok", n_neurons="3000")]
    assert fs.last_measured(rows, "runtime", 4000)["run_s"] == "9"
    assert fs.last_measured(rows, "runtime", 2000)["n_neurons"] == "1000"
    assert fs.last_measured(rows, "runtime", 1000) is None
    assert fs.needed_bytes("numpy-loop", 1000) - fs.needed_bytes("runtime", 1000) == 8 * 1000 ** 2


def test_sizes_that_do_not_fit_are_recorded_not_run(fs, tmp_path, monkeypatch):
    import brianforce.memory

    monkeypatch.setattr(brianforce.memory, "available_bytes", lambda: 10)
    monkeypatch.setattr(fs, "run_one", lambda *a, **k: pytest.fail("nothing may run"))
    out = tmp_path / "skip.csv"
    fs.main(["--sizes", "1000", "--paths", "runtime", "numpy-loop", "--out", str(out), "--note", "t"])
    rows = fs.read_rows(out)
    assert [r["status"] for r in rows] == ["skipped", "skipped"]
    assert str(fs.needed_bytes("runtime", 1000)) in rows[0]["reason"]
    assert not out.with_suffix(".png").exists()


def test_plot_from_a_small_table(fs, tmp_path):
    out = tmp_path / "t.csv"
    phases = fs.phases_for("short")
    for path in ("numpy-loop", "runtime"):
        for n in (1000, 2000):
            append_csv_row(out, fs.make_row(path, n, 0, "short", phases, child=_child(run_s=n / 1000),
                                            wrapper=_wrapper()))
    append_csv_row(out, fs.make_row("runtime", 4000, 0, "short", phases, status="failed", reason="boom"))
    png = fs.plot(out, tmp_path / "t.png")
    assert png.stat().st_size > 1000 and png.read_bytes()[:4] == b"\x89PNG"
    with open(out, newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 5
    empty = tmp_path / "empty.csv"
    append_csv_row(empty, fs.make_row("runtime", 4000, 0, "short", phases, status="skipped", reason="x"))
    with pytest.raises(ValueError, match="no measured rows"):
        fs.plot(empty, tmp_path / "e.png")
