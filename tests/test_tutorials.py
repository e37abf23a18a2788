"""Execute every tutorial end to end in FAST mode (each ends with its numeric success assert)."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

TUTORIALS = sorted((Path(__file__).resolve().parents[1] / "tutorials").glob("*.py"))


@pytest.mark.notebook
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_in_fast_mode(path, tmp_path):
    # the checkout's package first: a stale non-editable install must not shadow it
    repo = str(path.resolve().parents[1])
    pythonpath = os.pathsep.join(p for p in (repo, os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, BRIANFORCE_FAST="1", MPLBACKEND="Agg", BRIANFORCE_TUTORIAL_OUT=str(tmp_path),
               PYTHONPATH=pythonpath)
    proc = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, f"{path.name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def _code(path):
    import ast

    return ast.parse(path.read_text(), filename=str(path))


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_uses_public_names_only(path):
    """No private attribute (``obj._x``) and no private name imported: tutorials teach the public API."""
    import ast

    bad = []
    for node in ast.walk(_code(path)):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            bad.append(f"line {node.lineno}: .{node.attr}")
        if isinstance(node, ast.ImportFrom):
            bad += [f"line {node.lineno}: import {a.name}" for a in node.names if a.name.startswith("_")]
    assert not bad, bad


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_leaves_the_backend_alone(path):
    """Figures show inline in a notebook: no tutorial sets a matplotlib backend (tests set MPLBACKEND)."""
    import ast

    calls = [n for n in ast.walk(_code(path)) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr in ("use", "switch_backend")]
    assert not calls, [f"line {n.lineno}" for n in calls]


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_reads_as_a_notebook(path):
    """jupytext percent cells: a markdown title first, markdown and code cells, a divergence section."""
    jupytext = pytest.importorskip("jupytext")
    nb = jupytext.read(path)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds[0] == "markdown" and nb.cells[0].source.startswith("# "), nb.cells[0].source[:80]
    assert "code" in kinds and kinds.count("markdown") >= 5, kinds
    assert any("## If training diverges" in c.source for c in nb.cells if c.cell_type == "markdown")
