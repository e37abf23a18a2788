"""Names of the Brian2 objects that brianforce creates, chosen so that compiled code is reused.

Brian2's generated code names every array and function after the object that owns it, and
the compiled code is cached by its text. An object named with a trailing ``*`` (or a
``TimedArray`` left unnamed, ``_timedarray*``) takes the next free number among the objects
alive in the process, so a second network of the same structure built while the first still
exists gets new names, new code and a new compilation (several seconds per code object).
An object given its own ``dt`` gets a clock named ``<name>_clock*``, numbered the same way,
and the clock's name is in the code too. brianforce therefore names its objects, and their
clocks (:func:`own_clock`), without numbers: the objects of one network are the only ones of
their names in a run.

A ``TimedArray``'s generated code also holds its number of rows. At runtime
:func:`timed_table` therefore pads a table to the next power of two of rows with copies of its
last row, which a ``TimedArray`` returns after its end anyway: tables of other lengths (other
durations, later start times) share the code, and the values read are the same.

On a standalone device every table is an array of the one program, so there Brian2 numbers
the tables and no two share a name; they are not padded.
"""
from __future__ import annotations

import brian2 as b2
import numpy as np
from brian2 import Clock, Quantity, TimedArray, get_dimensions
from brian2.devices.device import RuntimeDevice

__all__ = ["own_clock", "timed_table"]


def timed_table(values, dt, name: str) -> TimedArray:
    """A ``TimedArray`` called ``name``, padded to a power of two of rows, at runtime.

    On a standalone device: the table as given, with Brian2's numbered default name.

    Parameters
    ----------
    values : array or Quantity (T,) or (T, K)   table, one row per ``dt``
    dt : Quantity                               time step of the rows
    name : str                                  the table's name in generated code at runtime
    """
    if not isinstance(b2.get_device(), RuntimeDevice):
        return TimedArray(values, dt=dt)
    rows = len(values)
    pad = (1 << max(rows - 1, 0).bit_length()) - rows
    if pad:
        plain = np.asarray(values)
        values = Quantity(np.concatenate([plain, np.repeat(plain[-1:], pad, axis=0)]), dim=get_dimensions(values))
    return TimedArray(values, dt=dt, name=name)


def own_clock(name: str, dt) -> Clock:
    """The clock of an object called ``name`` with its own ``dt``: ``<name>_clock``.

    This is the name Brian2 gives that clock where no other object called ``name`` exists, so
    the generated code is the same as without it; Brian2 would number it otherwise.
    """
    return Clock(dt=dt, name=f"{name}_clock")
