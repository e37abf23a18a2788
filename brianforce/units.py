"""Checking Brian2 quantities at the public API and converting them to SI floats.

Plain numbers, flags and counts are checked by :mod:`brianforce.checks` (re-exported here).
Every check raises with a message naming the parameter and the value.
"""
from __future__ import annotations

import numpy as np
from brian2 import DimensionMismatchError, Quantity, get_dimensions, have_same_dimensions

from brianforce.checks import as_count, as_flag, as_number

__all__ = ["as_si", "as_positive_si", "as_number", "as_flag", "as_count", "to_json_quantity",
           "from_json_quantity"]


def as_si(value, unit, name: str):
    """SI value of ``value`` after checking that it has the dimensions of ``unit``.

    A plain number is accepted only for a dimensionless ``unit``.
    """
    if not have_same_dimensions(value, unit):
        raise DimensionMismatchError(
            f"{name} must have units of {unit!r} (e.g. {name}=10*{unit!r}), got {value!r}",
            get_dimensions(value))
    arr = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(arr) if arr.ndim == 0 else arr


def as_positive_si(value, unit, name: str) -> float:
    """Like :func:`as_si` for a scalar that must be > 0."""
    v = as_si(value, unit, name)
    if np.ndim(v) != 0 or not v > 0:
        raise ValueError(f"{name} must be a positive scalar, got {value!r}")
    return float(v)


def to_json_quantity(value: float, unit: str) -> dict:
    """``{"value": SI float, "unit": SI unit name}`` for metadata files."""
    return {"value": float(value), "unit": unit}


def from_json_quantity(entry) -> float:
    if not (isinstance(entry, dict) and set(entry) == {"value", "unit"}):
        raise ValueError(f"not a quantity entry: {entry!r}")
    return float(entry["value"])


def is_quantity(value) -> bool:
    return isinstance(value, Quantity)
