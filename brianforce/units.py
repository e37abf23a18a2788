"""Checking Brian2 quantities at the public API and converting them to SI floats.

Plain numbers, flags and counts are checked by :mod:`brianforce.checks` (re-exported here).
Every check raises with a message naming the parameter and the value.
"""
from __future__ import annotations

import re

import brian2
import numpy as np
from brian2 import DimensionMismatchError, Quantity, get_dimensions, have_same_dimensions

from brianforce.checks import as_count, as_flag, as_number

__all__ = ["UNITS", "parse_units", "as_si", "as_positive_si", "as_number", "as_flag", "as_count", "to_json_quantity",
           "from_json_quantity"]


#: Units a unit string may name (:func:`parse_units`, recipe quantities of :mod:`brianforce.config`).
UNITS = {name: getattr(brian2, name) for name in (
    "second", "ms", "us", "Hz", "kHz", "volt", "mV", "amp", "nA", "pA", "ohm", "Mohm",
    "siemens", "nS", "farad", "pF", "metre", "cm")}
UNITS.update({"s": brian2.second, "V": brian2.volt, "A": brian2.amp})
_FACTOR = re.compile(r"^([A-Za-z]+)(?:\^(-?\d+))?$")


def parse_units(expr: str):
    """The Brian2 unit of a unit string: units of :data:`UNITS` joined by ``*`` or ``/``, with integer
    powers (``"mV*s"``, ``"Hz^2"``, ``"/s"``; ``""`` is 1).

    At most one ``/``, and only before the last unit: ``"mV/ms*s"`` is volt in Python
    (``1*mV/ms*second``) but mV/(ms·s) as units are often typeset, so it is refused.

    Raises
    ------
    ValueError
        An unknown unit, or an ambiguous or incomplete expression.
    """
    if not expr:
        return 1
    num, slash, den = expr.partition("/")
    if "/" in den:
        raise ValueError(f"at most one '/' allowed in units: {expr!r}")
    if "*" in den:
        raise ValueError(f"ambiguous units {expr!r}: Python reads '*' after '/' left to right, typeset units "
                         "read it as part of the denominator; put one unit after the '/' and the other "
                         "factors before it (e.g. 'mV*s/ms'), or use negative powers (e.g. 'mV*ms^-1*s^-1')")
    if slash and not den.strip():
        raise ValueError(f"missing unit after '/': {expr!r}")
    out = 1
    for part, sign in ((num, 1), (den, -1)):
        if not part.strip():                    # "/s": nothing before the '/'
            continue
        for factor in part.split("*"):
            m = _FACTOR.match(factor.strip())
            if not m or m.group(1) not in UNITS:
                raise ValueError(f"unknown unit {factor.strip()!r} in {expr!r}; allowed: {sorted(UNITS)}")
            out = out * UNITS[m.group(1)] ** (sign * int(m.group(2) or 1))
    return out


def as_si(value, unit, name: str):
    """SI value of ``value`` after checking that it has the dimensions of ``unit``.

    A plain number is accepted only for a dimensionless ``unit``.

    Raises
    ------
    DimensionMismatchError
        ``value`` does not have the dimensions of ``unit``.
    TypeError
        Booleans, complex numbers or other non-real values.
    ValueError
        NaN or Inf.
    """
    if not have_same_dimensions(value, unit):
        raise DimensionMismatchError(
            f"{name} must have units of {unit!r} (e.g. {name}=10*{unit!r}), got {value!r}",
            get_dimensions(value))
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        what = {"b": "a boolean", "c": "a complex number"}.get(arr.dtype.kind, f"of dtype {arr.dtype}")
        raise TypeError(f"{name} must be a real number or array, got {what}: {value!r}")
    arr = np.asarray(arr, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(arr) if arr.ndim == 0 else arr


def as_positive_si(value, unit, name: str) -> float:
    """Like :func:`as_si` for a scalar that must be > 0."""
    v = as_si(value, unit, name)
    if np.ndim(v) != 0 or not v > 0:
        raise ValueError(f"{name} must be a positive scalar, got {value!r}")
    return float(v)


def _unit_of(unit: str, what: str):
    """The Brian2 unit named by ``unit`` (``"second"``, ``"V*s"``, ``"1"`` for dimensionless)."""
    if not isinstance(unit, str):
        raise TypeError(f"{what}: the unit must be a string such as 'second', got {unit!r}")
    if unit.strip() in ("", "1"):
        return 1.0
    try:
        return 1.0 * parse_units(unit.strip())
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


def to_json_quantity(value, unit: str) -> dict:
    """``{"value": SI float, "unit": SI unit name}`` for metadata files.

    Parameters
    ----------
    value : Quantity or float
        A quantity with the dimensions of ``unit``, or a plain number already in SI units.
    unit : str
        An SI unit (``"second"``, ``"volt"``, ``"V*s"``; ``"1"`` for dimensionless), parsed as
        by :func:`brianforce.config.parse_quantity`; a scaled unit such as ``"ms"`` is refused,
        as the value is written in SI units.

    Raises
    ------
    DimensionMismatchError
        A quantity whose dimensions are not those of ``unit``.
    TypeError
        A bool, complex number, array or other non-number.
    ValueError
        An unknown or scaled unit, or a value that is NaN or Inf.
    """
    u = _unit_of(unit, "to_json_quantity")
    if float(np.asarray(u)) != 1.0:
        raise ValueError(f"to_json_quantity writes SI values; {unit!r} is a scaled unit "
                         f"(1 {unit} = {float(np.asarray(u))!r} in SI units): give the SI unit")
    if hasattr(value, "dim"):
        if not have_same_dimensions(value, u):
            raise DimensionMismatchError(f"to_json_quantity: {value!r} does not have units of {unit!r}",
                                         get_dimensions(value))
        if np.ndim(value) != 0:
            raise TypeError(f"to_json_quantity writes one number, got {value!r}")
        value = np.asarray(value)[()]                                         # the SI value
    return {"value": as_number(value, f"to_json_quantity value in {unit}"), "unit": unit}


def from_json_quantity(entry, unit=None) -> float:
    """The SI float of a ``{"value": number, "unit": str}`` entry of a metadata file.

    Parameters
    ----------
    entry : dict
        As written by :func:`to_json_quantity`; a scaled unit (``"ms"``) is converted to SI.
    unit : Brian2 unit, optional
        The dimensions the entry must have.

    Raises
    ------
    ValueError
        Not such an entry, an unknown unit, or a value that is NaN or Inf.
    TypeError
        A value that is a bool or not a number.
    DimensionMismatchError
        An entry whose unit does not have the dimensions of ``unit``.
    """
    if not (isinstance(entry, dict) and set(entry) == {"value", "unit"}):
        raise ValueError(f"not a quantity entry: {entry!r}")
    scale = _unit_of(entry["unit"], f"quantity entry {entry!r}")
    v = as_number(entry["value"], f"value of quantity entry {entry!r}")
    if unit is not None and not have_same_dimensions(scale, unit):
        raise DimensionMismatchError(f"quantity entry {entry!r} must have units of {unit!r}",
                                     get_dimensions(scale))
    return as_number(v * float(np.asarray(scale)), f"quantity entry {entry!r} in SI units")


def is_quantity(value) -> bool:
    return isinstance(value, Quantity)
