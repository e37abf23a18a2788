"""Check that the built documentation covers the whole public API.

Run after building the html documentation (``python3 -m sphinx -b html docs docs/_build/html``)::

    python3 docs/check_api.py [path/to/objects.inv]

Every module of the ``brianforce`` package (except ``__main__``) and every name in each module's
``__all__`` must appear in the inventory as ``module.name``. Lists what is missing and exits with
status 1, or prints how many names were found.
"""
from __future__ import annotations

import importlib
import pkgutil
import posixpath
import sys
from pathlib import Path

from sphinx.util.inventory import InventoryFile

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))      # the checkout the documentation was built from

import brianforce  # noqa: E402


def public_names() -> tuple[list[str], list[str]]:
    """Full names of the package's modules and of the names in their ``__all__``."""
    modules = ["brianforce"] + sorted(m.name for m in pkgutil.walk_packages(brianforce.__path__, "brianforce.")
                                      if not m.name.endswith(".__main__"))
    names = []
    for modname in modules:
        names += [f"{modname}.{name}" for name in getattr(importlib.import_module(modname), "__all__", ())]
    return modules, names


def documented(path: Path) -> set[str]:
    """Names of the Python objects (modules included) in a Sphinx ``objects.inv``."""
    with open(path, "rb") as fh:
        inventory = InventoryFile.load(fh, "", posixpath.join)
    return {name for kind, entries in inventory.items() if kind.startswith("py:") for name in entries}


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DOCS / "_build" / "html" / "objects.inv"
    if not path.is_file():
        print(f"check_api: no inventory at {path}; build the html documentation first", file=sys.stderr)
        return 1
    inventory = documented(path)
    modules, names = public_names()
    missing = [name for name in modules + names if name not in inventory]
    if missing:
        print(f"check_api: {len(missing)} public name(s) missing from {path}:", file=sys.stderr)
        for name in missing:
            print(f"  {name}", file=sys.stderr)
        return 1
    print(f"check_api: all {len(names)} public names of {len(modules)} modules are documented")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
