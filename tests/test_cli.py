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
    # the default device: one compiled program where a compiler is present (RLS inside its simulation time)
    from brianforce.devices.force_program import compiler_available

    assert summary["device"] == ("cpp_standalone" if compiler_available() else "runtime")
    rls = summary["wall_time_s"]["rls"]
    assert (rls is None) if summary["device"] != "runtime" else rls > 0
    assert summary["wall_time_s"]["simulation"] > 0
    assert summary["wall_time_s"]["compile"] > 0 and summary["wall_time_s"]["build"] > 0
    assert "test_whole" not in summary                                             # test of 0.5 s
    # the verdict against Nicola & Clopath's criterion, the full configuration and the versions
    e, r = m["rmse_over_amplitude"][0], m["lag_adjusted_correlation"][0]
    assert summary["passed"] == (e < 0.2 and r > 0.95)
    assert summary["config"]["G"] == 0.04e-3 and summary["config"]["alpha"] == 5e-6
    assert summary["config"]["lif"]["tau_m"] == 0.01 and summary["versions"]["brian2"]
    assert (out / "figure.png").stat().st_size > 10_000
    assert (out / "model.npz").exists()


def test_cli_refuses_to_overwrite_and_checks_before_work(tmp_path, capsys):
    import os

    import pytest

    out = tmp_path / "demo"
    out.mkdir()
    (out / "model.npz").write_bytes(b"an earlier model")
    argv = ["demo", "--out", str(out), "--quick", "--n-neurons", "50", "--train", "0.05", "--test", "0.2"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("brianforce: error: ") and "already holds an earlier run (model.npz)" in err
    assert "--overwrite" in err and "Traceback" not in err
    assert (out / "model.npz").read_bytes() == b"an earlier model"         # nothing lost
    if os.geteuid() != 0:                                                   # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert main(["demo", "--out", str(locked / "x"), "--quick"]) == 1
        assert "cannot write to the output folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:                                 # usage errors: exit 2
        main(["demo", "--task", "foo"])
    assert info.value.code == 2 and "invalid choice: 'foo'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["demo", "--train", "-1"])
    assert info.value.code == 2 and "--train must be > 0, got -1.0" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "r")]) == 1
    assert "no model file at" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("brianforce ")


def test_recipe_typos_are_errors_naming_the_closest_key(tmp_path, capsys):
    from pathlib import Path

    recipe = (Path(__file__).resolve().parents[1] / "models" / "nicola_clopath_sinusoid.toml").read_text()
    for good, bad, message in (("seed = 0", "sed = 3", "unknown key 'sed' in [experiment]; did you mean 'seed'?"),
                               ('alpha = 5e-6', 'alhpa = 5e-6', "unknown key 'alhpa' in [network]; did you "
                                                                "mean 'alpha'?"),
                               ('alpha = 5e-6', 'alpha = "5e-6 mV"', "alpha is a plain number")):
        path = tmp_path / "r.toml"
        path.write_text(recipe.replace(good, bad))
        assert main(["train", str(path), "--out", str(tmp_path / "o")]) == 1
        assert message in capsys.readouterr().err
    assert not (tmp_path / "o" / "summary.json").exists()


def test_killed_overwrite_never_leaves_files_of_two_runs(tmp_path, monkeypatch):
    """A run killed right after it replaced its first output leaves no summary or figure of the
    earlier run beside it (the kill is a ``KeyboardInterrupt`` raised at that moment)."""
    import numpy as np

    from brianforce.devices import force_standalone
    from brianforce.methods.force import FORCETrainer

    out = tmp_path / "train"
    short = ["--quick", "--n-neurons", "50", "--settle", "0.05", "--train", "0.1", "--test", "0.2"]
    assert main(["demo", "--out", str(out), *short]) == 0
    save = FORCETrainer.save

    def save_then_die(self, path, *args, **kwargs):
        save(self, path, *args, **kwargs)
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(FORCETrainer, "save", save_then_die)
        assert main(["demo", "--out", str(out), "--seed", "1", "--overwrite", *short]) == 130
    assert FORCETrainer.load(out / "model.npz").config.seed == 1        # the new model, alone
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == ["model.npz"]

    run = tmp_path / "run"
    assert main(["run", str(out / "model.npz"), "--device", "runtime", "--duration", "0.2", "--out", str(run)]) == 0
    assert json.loads((run / "summary.json").read_text())["duration_s"] == 0.2

    def die(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(force_standalone, "atomic_savefig", die)        # killed after output.npz
    assert main(["run", str(out / "model.npz"), "--device", "runtime", "--duration", "0.1", "--out", str(run),
                 "--overwrite"]) == 130
    assert sorted(p.name for p in run.iterdir() if not p.name.startswith(".")) == ["output.npz"]
    assert len(np.load(run / "output.npz")["t"]) < 0.15 / 5e-4             # the 0.1 s run's output


def test_overwrite_removes_the_earlier_runs_files_but_not_the_model_it_runs(tmp_path, monkeypatch):
    from brianforce.experiments import cli

    out = tmp_path / "out"
    out.mkdir()
    for name in ("summary.json", "model.npz", "figure.png", "raster.png", "notes.txt"):
        (out / name).write_text("earlier run")
    cli.prepare_output(out, overwrite=True, keep=(out / "model.npz",))
    assert sorted(p.name for p in out.iterdir()) == ["model.npz", "notes.txt"]     # the user's own file stays
    cli.prepare_output(out, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]

    def interrupted(recipe, seed):                  # a kim2019 run killed before it wrote anything
        raise KeyboardInterrupt

    (out / "summary.json").write_text('{"run": "earlier"}')
    monkeypatch.setattr("brianforce.methods.transfer.run_kim2019", interrupted)
    assert main(["train", "kim2019_xor", "--out", str(out), "--overwrite"]) == 130
    assert not (out / "summary.json").exists()


def test_durations_too_short_to_score_are_refused_before_work(tmp_path, capsys):
    for args, message in ((["--test", "0.05"], "test (0.05 s) is shorter than the scored window (0.2 s"),
                          (["--train", "0.001"], "train (0.001 s) is shorter than one RLS interval")):
        out = tmp_path / args[0].strip("-")
        assert main(["demo", "--out", str(out), "--n-neurons", "50", *args]) == 1
        assert message in capsys.readouterr().err
        assert not (out / "model.npz").exists()


def test_shipped_recipes_are_listed_shown_copied_and_trained_by_name(tmp_path, capsys):
    from brianforce.experiments.recipes import list_recipes, recipe_path

    names = list_recipes()
    assert "nicola_clopath_sinusoid" in names and len(names) >= 15
    assert main(["recipes", "list"]) == 0 and "kim2019_xor" in capsys.readouterr().out.split()
    assert main(["recipes", "show", "nicola_clopath_sinusoid"]) == 0
    assert 'method = "force"' in capsys.readouterr().out
    assert main(["recipes", "copy", "kim2019_xor.toml", str(tmp_path)]) == 0
    assert (tmp_path / "kim2019_xor.toml").read_text() == recipe_path("kim2019_xor").read_text()
    assert main(["recipes", "copy", "kim2019_xor", str(tmp_path)]) == 1          # never overwrites
    assert "exists" in capsys.readouterr().err
    assert main(["train", "nicola_clopath_sinusoi", "--out", str(tmp_path / "o")]) == 1
    assert "did you mean 'nicola_clopath_sinusoid'?" in capsys.readouterr().err
    assert recipe_path(tmp_path / "kim2019_xor.toml") == tmp_path / "kim2019_xor.toml"   # a path as it is
