"""The command line checks every input before it removes an earlier run or starts work; what it
records (verdicts, devices, gains, units, figure titles) says what was done."""
import json
from pathlib import Path

import numpy as np
import pytest

from brianforce import datasets as ds
from brianforce.experiments.cli import main

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
EARLIER = {"summary.json": "earlier summary", "model.npz": "earlier model", "figure.png": "earlier figure"}

FORCE_TINY = """[experiment]
method = "force"
seed = 3

[task]
name = "sinusoid"
frequency = 5.0
amplitude = 1.0

[network]
n_neurons = 100
alpha = 5e-6

[protocol]
settle = "0.05 s"
train = "0.2 s"
test = "{test}"
"""

M1_TINY = """[experiment]
method = "reaching_m1"
name = "m1_tiny"
[model]
base = "{base}"
[data]
synthetic = true
{data}
[network]
n = 200
[training]
n_trials = 1
rounds = 1
{training}
[evaluation]
n_test_trials = 2
max_units = 12
"""


def _earlier_run(out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for name, text in EARLIER.items():
        (out / name).write_text(text)
    return out


def _copy(tmp_path, name, old, new) -> Path:
    text = (MODELS / name).read_text()
    assert old in text, f"{old!r} not in {name}"
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1))
    return path


def _force(tmp_path, test="0.3 s", old="", new="") -> Path:
    path = tmp_path / "force_tiny.toml"
    path.write_text(FORCE_TINY.format(test=test).replace(old, new))
    return path


def _m1(tmp_path, data="", training="", name="m1_tiny.toml") -> Path:
    path = tmp_path / name
    path.write_text(M1_TINY.format(base=(MODELS / "kimchow_m1.toml").as_posix(), data=data, training=training))
    return path


def _odd_model(tmp_path) -> Path:
    from brianforce.io import save_arrays

    return save_arrays(tmp_path / "odd.npz", {"a": np.zeros(3)}, {}, kind="not-runnable")


# ------------------------------------------------------------------ inputs checked before --overwrite clears
REFUSED = {
    "force recipe typo": lambda tmp: ["train", str(_force(tmp, old="alpha = 5e-6", new="alhpa = 5e-6"))],
    "force test too short": lambda tmp: ["train", str(_force(tmp, test="0.01 s"))],
    "demo test too short": lambda tmp: ["demo", "--n-neurons", "50", "--test", "0.01"],
    "run unrunnable kind": lambda tmp: ["run", str(_odd_model(tmp)), "--device", "runtime"],
    "kim2019 seed": lambda tmp: ["train", str(_copy(tmp, "kim2019_xor.toml", "seed = 0", "seed = -1"))],
    "kim2019 transfer": lambda tmp: ["train", str(_copy(tmp, "kim2019_xor.toml", "n_validation = 100",
                                                       "n_validation = 0"))],
    "depasquale teacher": lambda tmp: ["train", str(_copy(tmp, "depasquale_integration.toml", "variance = 0.99",
                                                           "variance = 1.5"))],
    "depasquale student": lambda tmp: ["train", str(_copy(tmp, "depasquale_integration.toml", "n_neurons = 600",
                                                           "n_neurons = 2"))],
    "reaching data": lambda tmp: ["train", str(MODELS / "reaching_emg.toml"), "--data", str(tmp / "none.mat")],
    "reaching_m1 data": lambda tmp: ["train", str(_m1(tmp)), "--data", str(tmp / "none.npz")],
    "reaching_m1 rate_gain": lambda tmp: ["train", str(_m1(tmp, data="rate_gain = -1.0"))],
    "reaching_m1 rest": lambda tmp: ["train", str(_m1(tmp, training='rest = "stabilize"'))],
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_overwrite_keeps_the_earlier_run_when_an_input_is_refused(case, tmp_path, capsys):
    out = _earlier_run(tmp_path / "out")
    assert main([*REFUSED[case](tmp_path), "--out", str(out), "--overwrite"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("brianforce: error: ") and len(err.strip().splitlines()) == 1, err
    assert {p.name: p.read_text() for p in out.iterdir()} == EARLIER


def test_run_checks_the_model_kind_before_creating_the_output_folder(tmp_path, capsys):
    out = tmp_path / "new"
    assert main(["run", str(_odd_model(tmp_path)), "--out", str(out)]) == 1
    assert "'not-runnable' model cannot be run" in capsys.readouterr().err
    assert not out.exists()


# ------------------------------------------------------------------ options a recipe cannot use
@pytest.mark.parametrize("recipe", ["nicola_clopath_sinusoid", "depasquale_integration", "kim2019_xor"])
def test_train_refuses_data_for_recipes_that_read_none(recipe, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", recipe, "--data", "/nonexistent/path", "--out", str(tmp_path / "out")])
    assert info.value.code == 2
    assert "error: --data /nonexistent/path: " in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_demo_settle_message_matches_its_check(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--settle", "-1", "--out", str(tmp_path / "a")])
    assert info.value.code == 2 and "--settle must be >= 0, got -1.0" in capsys.readouterr().err
    # 0 passes the option check (the run then stops at the too-short test, before any work)
    assert main(["demo", "--settle", "0", "--n-neurons", "50", "--test", "0.01", "--out", str(tmp_path / "b")]) == 1
    assert "test (0.01 s) is shorter than the scored window" in capsys.readouterr().err


def test_a_section_that_is_not_a_table_is_refused(tmp_path, capsys):
    path = tmp_path / "r.toml"
    path.write_text("experiment = 3\n")
    assert main(["train", str(path), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "experiment = 3 is not a table" in err
    assert "[experiment]" in err and not (tmp_path / "out").exists()


# ------------------------------------------------------------------ FORCE verdicts and units
def _force_run(tmp_path, monkeypatch, test: str):
    from brianforce import io
    from brianforce.experiments import force

    logged, titles = [], []
    save = io.atomic_savefig

    def savefig(fig, path, **kwargs):
        titles.append(fig._suptitle.get_text())
        return save(fig, path, **kwargs)

    monkeypatch.setattr(force, "_log", logged.append)
    monkeypatch.setattr(io, "atomic_savefig", savefig)
    out = tmp_path / "out"
    assert main(["train", str(_force(tmp_path, test=test)), "--device", "runtime", "--out", str(out)]) == 0
    return json.loads((out / "summary.json").read_text()), "\n".join(logged), titles[0]


def test_force_test_shorter_than_a_second_is_scored_but_not_judged(tmp_path, monkeypatch):
    s, logged, title = _force_run(tmp_path, monkeypatch, "0.3 s")
    assert s["judged"] is False and s["verdict"].startswith("not judged: test shorter than 1 s")
    assert s["test_window_s"] == 0.3
    assert s["criterion"]["window"].startswith("first 0.3 s of the free-running test")
    assert "first second" not in title and "first 0.3 s of the test" in title
    assert "NOT JUDGED" in logged and "PASSED" not in logged and "FAILED" not in logged
    assert "test (first second)" not in logged


def test_force_full_length_test_is_judged_and_units_are_right(tmp_path, monkeypatch):
    from brianforce.experiments.force import CRITERION

    s, logged, title = _force_run(tmp_path, monkeypatch, "1 s")
    m = s["test_first_second"]
    e, r = m["rmse_over_amplitude"][0], m["lag_adjusted_correlation"][0]
    assert s["judged"] is True and s["passed"] == (e < 0.2 and r > 0.95)
    assert s["verdict"] == ("passed" if s["passed"] else "failed") and s["criterion"] == CRITERION
    assert ("PASSED" if s["passed"] else "FAILED") in logged and "first second of the test" in title
    # P(0) = I / reg with r in Hz: reg in Hz^2, alpha = 1 / reg in Hz^-2
    assert s["units"]["reg"] == "Hz^2" and s["units"]["alpha"] == "Hz^-2"
    assert s["config"]["alpha"] == pytest.approx(1 / s["config"]["reg"]) == 5e-6


# ------------------------------------------------------------------ reaching_m1: device and rate gain
class _Recording:
    def __init__(self, rates):
        self.rates = rates

    def binned_rates(self, mapped, smooth):
        return self.rates + 0.1 * np.sin(np.arange(self.rates.shape[1]))[None, :, None]


class _Trainer:
    """Stands in for the recurrent trainer: records the settings and targets it gets."""
    seen = {}

    def __init__(self, network, training):
        self.n, self.device = int(network["n"]), training.get("device", "runtime")
        self.n_trials = int(training["n_trials"])
        self.transfer_sigma_ = [1e-3]
        _Trainer.seen.update(training=dict(training))

    def fit_rates(self, rates, dt, **kwargs):
        _Trainer.seen.update(rates=np.array(rates))
        self.mapped_ = np.arange(rates.shape[2])
        self.device_ = "cpp_standalone" if self.device == "auto" else self.device
        self._rates = np.array(rates)
        return self

    def run_trials(self, n, batch=1):
        return _Recording(self._rates)


@pytest.fixture
def fake_trainer(monkeypatch):
    monkeypatch.setattr("brianforce.experiments.kimchow.trainer_from_sections", _Trainer)
    _Trainer.seen.clear()
    return _Trainer.seen


def _recorded(max_units=12):
    d = ds.load_m1_rates(None, synthetic=True)
    mean = d.rates.mean(axis=(0, 1))
    units = np.flatnonzero(mean > 1.0)
    units = np.sort(units[np.argsort(-mean[units])[:max_units]])
    return d.rates[:, :, units]


@pytest.mark.parametrize("device, used", [("runtime", "runtime"), ("cpp_standalone", "cpp_standalone"),
                                          ("auto", "cpp_standalone")])
def test_train_device_applies_to_reaching_m1_and_is_recorded(device, used, tmp_path, fake_trainer):
    out = tmp_path / "out"
    assert main(["train", str(_m1(tmp_path)), "--device", device, "--out", str(out)]) == 0
    assert fake_trainer["training"]["device"] == ("auto" if device == "auto" else device)   # auto: the recipe's
    s = json.loads((out / "summary.json").read_text())
    assert s["device"] == used and s["training"]["device"] == used


def test_reaching_m1_refuses_cuda_with_the_reason(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", str(_m1(tmp_path)), "--device", "cuda_standalone", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "'reaching_m1' recipes train at runtime or on cpp_standalone" in err
    assert "run the saved model" not in err


def test_reaching_m1_rate_gain_is_its_own_and_recorded(tmp_path, fake_trainer):
    from brianforce.experiments.reaching import run_m1_recipe

    recorded = _recorded()
    tiny = {"evaluation.max_units": 12, "evaluation.n_test_trials": 2, "network.n": 200}
    for recipe, gain in ((MODELS / "reaching_m1.toml", 1.0), (_m1(tmp_path), 1.0),
                         (_m1(tmp_path, data="rate_gain = 2.5", name="m1_gain.toml"), 2.5)):
        out = tmp_path / f"out_{recipe.stem}"
        res = run_m1_recipe(recipe, out, overrides=tiny, progress=False)
        np.testing.assert_array_equal(fake_trainer["rates"], recorded * gain)       # kimchow_m1's 3.0 not used
        assert res["summary"]["rate_gain"] == gain
        assert json.loads((out / "summary.json").read_text())["rate_gain"] == gain


# ------------------------------------------------------------------ reaching raster title
def test_reaching_raster_title_counts_the_neurons_shown(tmp_path, monkeypatch):
    from brianforce.experiments.reaching import emg as emg_module

    titles = {}
    save = emg_module.atomic_savefig

    def savefig(fig, path, **kwargs):
        titles[Path(path).name] = [ax.get_title() for ax in fig.axes]
        return save(fig, path, **kwargs)

    monkeypatch.setattr(emg_module, "atomic_savefig", savefig)
    data = ds.load_reaching_emg(ds.synthetic_path("reaching_emg"))
    emg_module.fit_reaching(data, teacher=dict(n_units=30), n_teacher_repeats=2,
                            student=dict(n_neurons=60, n_forced=1, n_mean=1, n_rls=1),
                            n_student_repeats=1, n_test_repeats=1, out=tmp_path, seed=1)
    title = titles["raster.png"][0]
    assert "(all 60 neurons)" in title and "200" not in title
