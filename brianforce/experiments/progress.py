"""Progress messages of the command line and the recipe drivers, through :mod:`logging`.

Messages go to the ``brianforce`` logger at level INFO. When neither that logger nor the root
logger has a handler (a script or the command line that configured nothing), one handler
printing ``[brianforce HH:MM:SS] message`` to standard output is added, so progress shows by
default; an application that configures :mod:`logging` itself gets the records instead.
"""
from __future__ import annotations

import logging
import sys

__all__ = ["LOGGER", "log", "ensure_handler"]

LOGGER = logging.getLogger("brianforce")


def ensure_handler(level: int = logging.INFO) -> None:
    """Add the standard-output handler unless logging is configured already."""
    if LOGGER.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("[brianforce %(asctime)s] %(message)s", datefmt="%H:%M:%S"))
    LOGGER.addHandler(handler)
    LOGGER.setLevel(level)
    LOGGER.propagate = False


def log(msg: str) -> None:
    """One progress message (INFO)."""
    ensure_handler()
    LOGGER.info(msg)
