"""The cache of compiled standalone projects: one locked directory per architecture, reused."""
import os
from pathlib import Path

import numpy as np
import pytest
from brian2 import second

from brianforce.devices.cache import MAX_SLOTS, cache_info, clear_cache, project_directory
from brianforce.tasks import sinusoid

KEY = {"device": "cpp_standalone", "n_neurons": 10}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("BRIANFORCE_CACHE_DIR", str(root))
    return root


def test_one_directory_per_architecture_and_slots_for_concurrent_users(cache):
    a = project_directory(None, "net", KEY)
    b = project_directory(None, "net", KEY)          # a's slot is locked: the next one
    c = project_directory(None, "net", {**KEY, "n_neurons": 11})
    assert a.cached and b.cached and Path(a.path).parent == Path(b.path).parent and a.path != b.path
    assert Path(c.path).parent != Path(a.path).parent and str(cache) in c.path
    a.close()
    again = project_directory(None, "net", KEY)      # released: reused
    assert again.path == a.path
    for handle in (b, c, again):
        handle.close()
    info = cache_info()
    assert len(info["entries"]) == 2 and info["entries"][0]["key"] in (KEY, {**KEY, "n_neurons": 11})


def test_all_slots_busy_gives_a_temporary_directory(cache):
    held = [project_directory(None, "net", KEY) for _ in range(MAX_SLOTS)]
    extra = project_directory(None, "net", KEY)
    assert all(h.cached for h in held) and not extra.cached and str(cache) not in extra.path
    assert extra.temporary and os.path.isdir(extra.path)
    extra.close()
    assert not os.path.exists(extra.path)                         # removed: nothing left behind
    for h in held:
        h.close()
    assert all(os.path.isdir(h.path) for h in held)               # cache slots stay


def test_explicit_directory_and_cache_off(tmp_path, monkeypatch):
    mine = project_directory(tmp_path / "mine", "net", KEY)
    assert mine.path == str(tmp_path / "mine") and not mine.cached and not mine.temporary
    (Path(mine.path) / "main.cpp").write_text("// a user's project")
    mine.close()
    assert (Path(mine.path) / "main.cpp").is_file()              # an explicit directory stays as it is
    monkeypatch.setenv("BRIANFORCE_CACHE_DIR", "off")
    off = project_directory(None, "net", KEY)
    assert not off.cached and off.temporary and "brianforce_standalone_" in off.path
    with off:
        (Path(off.path) / "main.cpp").write_text("// a build")
    assert not os.path.exists(off.path)


def test_clear_keeps_slots_in_use(cache):
    busy = project_directory(None, "net", KEY)
    project_directory(None, "net", {**KEY, "n_neurons": 3}).close()
    assert clear_cache() == 1
    assert os.path.isdir(busy.path)
    busy.close()
    assert clear_cache() == 1 and cache_info()["entries"] == []


def _objects(directory) -> dict:
    files = [*Path(directory).glob("**/*.o"), Path(directory) / "main"]
    return {p.name: p.stat().st_mtime_ns for p in files if p.exists()}


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    """One cache for the compiling tests of this file (the demo reuses the first test's project)."""
    root = tmp_path_factory.mktemp("shared_cache")
    old = os.environ.get("BRIANFORCE_CACHE_DIR")
    os.environ["BRIANFORCE_CACHE_DIR"] = str(root)
    yield root
    if old is None:
        del os.environ["BRIANFORCE_CACHE_DIR"]
    else:
        os.environ["BRIANFORCE_CACHE_DIR"] = old


@pytest.mark.standalone
def test_second_fit_reuses_the_compiled_project_and_equals_a_fresh_build(shared_cache, tmp_path):
    """A fit with another seed (other weights, another number of synapses) in the cached project of a
    first fit recompiles nothing, and gives exactly what a build in a fresh directory gives."""
    from brianforce.devices.force_standalone import StandaloneFORCETrainer

    kw = dict(settle=0.1 * second, train=0.3 * second, test=0.2 * second)
    StandaloneFORCETrainer(100, seed=0, alpha=5e-5).fit(sinusoid(5.0), **kw)
    (entry,) = [p for p in shared_cache.iterdir() if p.is_dir()]
    slot = entry / "0"
    before = _objects(slot)
    cached = StandaloneFORCETrainer(100, seed=1, alpha=5e-5).fit(sinusoid(5.0), **kw)
    after = _objects(slot)
    recompiled = {name for name in after if before.get(name) != after[name]}
    assert len(before) > 20 and not recompiled, recompiled
    fresh = StandaloneFORCETrainer(100, seed=1, alpha=5e-5, directory=tmp_path / "fresh").fit(sinusoid(5.0), **kw)
    np.testing.assert_array_equal(cached.decoder_, fresh.decoder_)
    np.testing.assert_array_equal(cached.test_result_.spike_t, fresh.test_result_.spike_t)
    assert cached.timings_["compile_s"] > 0


@pytest.mark.standalone
def test_demo_on_cpp_standalone_and_the_cache_command(shared_cache, tmp_path, capsys):
    """``brianforce demo --device cpp_standalone`` trains in the cached program; ``cache info`` lists it."""
    import json

    from brianforce.experiments.cli import main

    out = tmp_path / "demo"
    assert main(["demo", "--device", "cpp_standalone", "--n-neurons", "100", "--settle", "0.1", "--train", "0.3",
                 "--test", "0.2", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["device"] == "cpp_standalone" and isinstance(summary["passed"], bool)
    assert summary["wall_time_s"]["compile"] > 0 and summary["n_rls_updates"] == 120
    assert (out / "figure.png").stat().st_size > 0 and (out / "model.npz").stat().st_size > 0
    capsys.readouterr()
    assert main(["cache", "info"]) == 0
    text = capsys.readouterr().out
    assert str(shared_cache) in text and "force-training-" in text and "'n_neurons': 100" in text


@pytest.mark.standalone
def test_train_takes_a_device_for_force_and_depasquale_recipes(shared_cache, tmp_path, capsys):
    """``brianforce train --device cpp_standalone`` trains a FORCE recipe in the cached program and is a
    usage error for methods that learn in Python."""
    import json

    from brianforce.experiments.cli import main
    from brianforce.experiments.recipes import recipe_path

    text = recipe_path("nicola_clopath_sinusoid").read_text()
    small = (text.replace("n_neurons = 2000", "n_neurons = 100").replace('settle = "0.5 s"', 'settle = "0.1 s"')
             .replace('train = "9.5 s"', 'train = "0.3 s"').replace('test = "2 s"', 'test = "0.2 s"'))
    assert small.count("n_neurons = 100") == 1 and 'train = "0.3 s"' in small
    recipe = tmp_path / "small.toml"
    recipe.write_text(small)
    assert main(["train", str(recipe), "--device", "cpp_standalone", "--out", str(tmp_path / "out")]) == 0
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["device"] == "cpp_standalone" and summary["n_rls_updates"] == 120
    for recipe, device, refusal in (("depasquale_oscillation_dale", "cpp_standalone", "Dale's law students"),
                                    ("depasquale_oscillation", "cuda_standalone", "train at runtime only"),
                                    ("kim2019_xor", "cpp_standalone", "train at runtime only")):
        with pytest.raises(SystemExit) as exc:
            main(["train", recipe, "--device", device, "--out", str(tmp_path / "dp")])
        assert exc.value.code == 2 and refusal in capsys.readouterr().err
        assert not (tmp_path / "dp").exists()
