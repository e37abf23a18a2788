"""Showing figures that were saved to files."""
from __future__ import annotations

from pathlib import Path

__all__ = ["show_png"]


def show_png(path) -> None:
    """Display a saved PNG inline in a notebook (IPython); print its path anywhere else.

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path``.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"no figure file at {str(path)!r}")
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(Image(filename=str(path)))
    else:
        print("figure:", path)
