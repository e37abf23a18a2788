"""Progress messages of the command line and the recipe drivers, through :mod:`logging`.

Messages go to the ``brianforce`` logger at level INFO. When neither that logger nor the root
logger has a handler (a script or the command line that configured nothing), one handler
printing ``[brianforce HH:MM:SS] message`` to standard output is added, so progress shows by
default; an application that configures :mod:`logging` itself gets the records instead.
"""
from __future__ import annotations

import logging
import sys
import time

__all__ = ["LOGGER", "log", "ensure_handler", "OverallProgress"]

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


class OverallProgress:
    """One progress line over several Brian2 runs, with an overall estimate of the time left.

    Pass the instance as ``report=`` to each ``Network.run`` of a protocol (settle, train, test):
    Brian2 calls it with the wall time of the current run, its completed fraction, its start and
    its duration. Each line gives the share of the whole protocol simulated so far, the wall time
    since the instance was made (code generation and compilation included) and the time left at
    the current run's speed.

    Parameters
    ----------
    total : float
        Simulated seconds of the whole protocol.
    t0 : float
        Network time (s) at which the protocol starts.
    """

    def __init__(self, total: float, t0: float = 0.0):
        self.total = float(total)
        self.t0 = float(t0)      # network time at the start of the protocol
        self.wall0 = time.perf_counter()

    def __call__(self, elapsed, completed, start, duration):
        duration = float(duration)
        now = min(max(float(start) - self.t0 + completed * duration, 0.0), self.total)
        wall = time.perf_counter() - self.wall0
        left = self.total - now
        if completed > 0 and elapsed > 0:
            eta = f"about {left * elapsed / (completed * duration):.0f} s left"
        else:
            eta = "time left not known yet"
        log(f"{100 * now / self.total:.0f} % of {self.total:g} s simulated, {wall:.0f} s elapsed "
            f"(compilation included), {eta}")
