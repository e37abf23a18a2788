"""Showing figures that were saved to files."""
from __future__ import annotations

__all__ = ["show_png"]


def show_png(path) -> None:
    """Display a saved PNG inline in a notebook (IPython); print its path anywhere else."""
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(Image(filename=str(path)))
    else:
        print("figure:", path)
