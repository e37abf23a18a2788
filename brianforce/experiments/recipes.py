"""The recipes shipped with brianforce (``models/*.toml``): find, list, show and copy them.

A source checkout reads ``models/`` next to the package; a regular install reads the copy under
``<prefix>/share/brianforce/models`` (pyproject: ``tool.setuptools.data-files``), so that
``brianforce train nicola_clopath_sinusoid`` works without a checkout.
"""
from __future__ import annotations

import difflib
import shutil
import sys
from pathlib import Path

__all__ = ["RECIPE_DIR", "list_recipes", "recipe_path", "copy_recipe"]

_REPO = Path(__file__).resolve().parents[2]
#: Folder of the shipped recipes.
RECIPE_DIR = next((d for d in (_REPO / "models", Path(sys.prefix) / "share" / "brianforce" / "models")
                   if d.is_dir() and any(d.glob("*.toml"))), _REPO / "models")


def list_recipes() -> list[str]:
    """Names of the shipped recipes (file names without ``.toml``), sorted."""
    return sorted(p.stem for p in RECIPE_DIR.glob("*.toml"))


def recipe_path(name_or_path) -> Path:
    """A recipe file: an existing path as it is, else a shipped recipe's name (``.toml`` optional).

    Raises
    ------
    FileNotFoundError
        A path (with a folder) that is not a file, or a name that is no shipped recipe (the message
        names the closest one).
    """
    p = Path(name_or_path)
    if p.is_file():
        return p
    if p.parent != Path("."):
        raise FileNotFoundError(f"no recipe file at {p}")
    name = p.name[:-5] if p.name.endswith(".toml") else p.name
    if (RECIPE_DIR / f"{name}.toml").is_file():
        return RECIPE_DIR / f"{name}.toml"
    names = list_recipes()
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else f"; shipped recipes: {', '.join(names)}"
    raise FileNotFoundError(f"no recipe file {str(name_or_path)!r} and no shipped recipe {name!r}{hint}")


def copy_recipe(name: str, directory) -> Path:
    """Copy the shipped recipe ``name`` into ``directory`` (created) to edit it; refuses to overwrite."""
    src = recipe_path(name)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    dst = directory / src.name
    if dst.exists():
        raise FileExistsError(f"{dst} exists; choose another folder or remove it")
    shutil.copyfile(src, dst)
    return dst
