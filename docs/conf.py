"""Sphinx configuration of the brianforce documentation.

Build (from the repository root, after ``pip install ".[docs]"``)::

    python3 -m sphinx -W --keep-going -b html docs docs/_build/html

The tutorials (``tutorials/*.py``, jupytext percent format) are copied into ``docs/tutorials/``
(generated, git-ignored) and executed by myst-nb in FAST mode. ``BRIANFORCE_DOCS_EXECUTE`` sets
myst-nb's execution mode (default ``force``; ``off`` renders them without running them).
"""
from __future__ import annotations

import ast
import atexit
import contextlib
import importlib
import inspect
import io
import os
import pkgutil
import re
import shutil
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent

# document (and execute the tutorials against) this checkout, not an older installed copy
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)

# tutorials run small (FAST mode), write their files to a temporary folder and draw their
# figures with the notebook's inline backend
os.environ["BRIANFORCE_FAST"] = "1"
_OUT = tempfile.mkdtemp(prefix="brianforce_docs_")
atexit.register(shutil.rmtree, _OUT, ignore_errors=True)
os.environ["BRIANFORCE_TUTORIAL_OUT"] = _OUT
os.environ["BRIANFORCE_OUT"] = _OUT
os.environ.pop("MPLBACKEND", None)

import brianforce  # noqa: E402

# -- project ---------------------------------------------------------------------------------
project = "brianforce"
author = "the brianforce developers"
copyright = "the brianforce developers"
release = version = brianforce.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "myst_nb",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "_templates", "_generated", "conf.py", "check_api.py", "Thumbs.db", ".DS_Store",
                    "**.ipynb_checkpoints"]

# -- MyST and notebooks ----------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3
nb_custom_formats = {".py": ["jupytext.reads", {"fmt": "py:percent"}]}
nb_execution_mode = os.environ.get("BRIANFORCE_DOCS_EXECUTE", "force")
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_in_temp = True
nb_merge_streams = True

# -- API reference ---------------------------------------------------------------------------
autosummary_generate = True
autosummary_ignore_module_all = False     # a module's public names are its __all__
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autoclass_content = "class"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_ivar = True                  # "Attributes" as fields: no second entry beside autodoc's
napoleon_use_rtype = False

# -- HTML ------------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"brianforce {release}"


# -- the public API: each object documented once, named under every import path ---------------
def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def public_modules() -> list[str]:
    """Every module of the package except ``__main__``."""
    found = pkgutil.walk_packages(brianforce.__path__, "brianforce.")
    return ["brianforce"] + sorted(m.name for m in found if not m.name.endswith(".__main__"))


def _assigned(module) -> set[str]:
    """Names bound by an assignment at the top level of ``module``'s source."""
    names = set()
    for node in ast.parse(inspect.getsource(module)).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
    return names


def reexported_names() -> dict[str, dict[str, str]]:
    """``{module: {name: full name where it is documented}}`` for the names of a module's ``__all__``
    that are defined in another module (``brianforce.FORCE`` → ``brianforce.learning.force.FORCE``).

    Each object is documented once, in the module that defines it; the others list it in their
    tables and name it in the inventory (:func:`register_reexports`).
    """
    modules = {name: importlib.import_module(name) for name in public_modules()}
    defined = {modname: set(module.__all__) & _assigned(module) for modname, module in modules.items()}
    data_homes = {}
    for modname, names in defined.items():
        for name in names:
            data_homes.setdefault((name, id(getattr(modules[modname], name))), f"{modname}.{name}")
    result = {}
    for modname, module in modules.items():
        for name in module.__all__:
            obj, here = getattr(module, name), f"{modname}.{name}"
            if inspect.isclass(obj) or inspect.isroutine(obj):
                home = f"{obj.__module__}.{obj.__qualname__}"
            else:
                home = here if name in defined[modname] else data_homes.get((name, id(obj)), here)
            if home != here:
                result.setdefault(modname, {})[name] = home
    return result


def shadowed_modules() -> dict[str, list[str]]:
    """``{package: [module]}`` for modules that a name of the package hides
    (``brianforce.networks.nicola_clopath_loop`` is the function of the module of that name).

    Autosummary documents what the attribute holds, so these modules get a page of their own
    (``api/<module>.rst``), linked from their package's page.
    """
    hidden = {}
    for modname in public_modules():
        package = importlib.import_module(modname)
        for info in pkgutil.iter_modules(getattr(package, "__path__", [])):
            value = getattr(package, info.name, None)
            if info.name != "__main__" and value is not None and not inspect.ismodule(value):
                hidden.setdefault(modname, []).append(info.name)
                title = f"{modname}.{info.name}"
                _write_if_changed(DOCS / "api" / f"{title}.rst",
                                  f"{title}\n{'=' * len(title)}\n\n.. automodule:: {title}\n   :members:\n"
                                  "   :show-inheritance:\n")
    return hidden


REEXPORTS = reexported_names()
autosummary_context = {"reexports": REEXPORTS, "shadowed": shadowed_modules()}


def register_reexports(app, env):
    """Name every re-exported object under each of its import paths in the inventory, pointing at
    its documentation; these entries yield to the defining module's in cross-references."""
    python = env.domains["py"]
    for modname, names in REEXPORTS.items():
        for name, home in names.items():
            entry = python.objects.get(home)
            if entry is not None:
                python.objects[f"{modname}.{name}"] = entry._replace(aliased=True)


def drop_type_docstrings(app, what, name, obj, options, lines):
    """Module data without a comment of its own would show its type's docstring (``dict``): drop it."""
    doc = inspect.getdoc(type(obj)) if what == "data" else None
    if doc and [x.strip() for x in lines if x.strip()] == [x.strip() for x in doc.splitlines() if x.strip()]:
        lines.clear()

# -- generated sources: tutorial copies and command-line help ---------------------------------
KERNELSPEC = ("kernelspec:", "  display_name: Python 3", "  language: python", "  name: python3")


def copy_tutorials() -> None:
    """Copy ``tutorials/*.py`` into ``docs/tutorials/`` with a hidden first cell setting ``__file__``.

    The tutorials find the repository (recipes, data) from ``__file__``, as when run as scripts;
    a notebook kernel has no ``__file__``, so the copy sets it to the original file. The copy's
    header names the Python kernel.
    """
    dest = DOCS / "tutorials"
    sources = sorted((ROOT / "tutorials").glob("*.py"))
    for path in sources:
        lines = path.read_text().splitlines(keepends=True)
        header, body = ["# ---\n", "# jupyter:\n", "# ---\n"], lines
        if lines and lines[0].startswith("# ---"):        # the jupytext header stays first
            end = next(i for i in range(1, len(lines)) if lines[i].startswith("# ---"))
            header, body = lines[:end + 1], lines[end + 1:]
        if not any("kernelspec:" in line for line in header):
            header[-1:-1] = [f"#   {line}\n" for line in KERNELSPEC]
        cell = f'# %% tags=["remove-cell"]\n__file__ = {str(path)!r}\n\n'
        _write_if_changed(dest / path.name, "".join(header) + "\n" + cell + "".join(body))
    names = {p.name for p in sources}
    for stale in dest.glob("*.py"):
        if stale.name not in names:
            stale.unlink()


def write_cli_help() -> None:
    """``brianforce --help`` and ``brianforce COMMAND --help`` of every command, as
    ``_generated/cli_help.md`` (included by ``cli.md``)."""
    from brianforce.experiments.cli import main

    def help_text(*command: str) -> str:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):
            main([*command, "--help"])
        return buf.getvalue().rstrip()

    os.environ["COLUMNS"] = "100"
    top = help_text()
    commands = re.search(r"\{([\w,-]+)\}", top).group(1).split(",")
    parts = [f"### `brianforce`\n\n```text\n{top}\n```\n"]
    parts += [f"### `brianforce {c}`\n\n```text\n{help_text(c)}\n```\n" for c in commands]
    _write_if_changed(DOCS / "_generated" / "cli_help.md", "\n".join(parts))


copy_tutorials()
write_cli_help()


def setup(app):
    app.connect("autodoc-process-docstring", drop_type_docstrings)
    app.connect("env-updated", register_reexports)
