import json

from brianforce.experiments.cli import main


def test_demo_writes_summary_figure_and_model(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--quick", "--n-neurons", "200", "--settle", "0.1",
                 "--train", "1.0", "--test", "0.5"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    m = summary["test_first_second"]
    assert summary["n_neurons"] == 200 and summary["n_rls_updates"] == 400
    for key in ("rmse_over_amplitude", "lag_adjusted_correlation", "output_frequency_hz"):
        assert len(m[key]) == 1
    assert summary["wall_time_s"]["rls"] > 0 and summary["wall_time_s"]["simulation"] > 0
    assert (out / "figure.png").stat().st_size > 10_000
    assert (out / "model.npz").exists()
