"""Checking plain values at the public API: numbers, flags, counts and finite arrays (numpy only).

Every check raises with a message naming the parameter and the value: a Brian2 unit where none
belongs is a ``DimensionMismatchError`` (``alpha=5e-6*mV`` is not ``5e-6``), a wrong type a
``TypeError``, a value out of range a ``ValueError``. Physical quantities are checked by
:mod:`brianforce.units`.
"""
from __future__ import annotations

import reprlib

import numpy as np

__all__ = ["as_number", "as_flag", "as_count", "as_finite_array"]


def as_number(value, name: str, *, low: float | None = None, high: float | None = None,
              low_open: bool = False, high_open: bool = False) -> float:
    """A dimensionless scalar as a float, in ``[low, high]`` (open ends with ``low_open``/``high_open``).

    A quantity with units raises ``DimensionMismatchError`` (``5e-6*mV`` is not ``5e-6``); a bool,
    complex number, string or array raises ``TypeError``; NaN, Inf or a value out of range ``ValueError``.
    """
    if hasattr(value, "dim") and not getattr(value, "is_dimensionless", True):
        from brian2 import DimensionMismatchError       # only a Brian2 quantity gets here

        raise DimensionMismatchError(f"{name} is a plain number, without units; got {value!r}", value.dim)
    if isinstance(value, (bool, np.bool_, str, bytes, complex, np.complexfloating)) or np.ndim(value) != 0 \
            or getattr(value, "dtype", np.dtype(float)).kind not in "iuf":     # a 0-d array of bools or complex
        raise TypeError(f"{name} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    too_low = low is not None and (v <= low if low_open else v < low)
    too_high = high is not None and (v >= high if high_open else v > high)
    if too_low or too_high:
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        interval = f"{'(' if low_open or low is None else '['}{lo}, {hi}{')' if high_open or high is None else ']'}"
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return v


def as_flag(value, name: str) -> bool:
    """``True``/``False`` only: ``'no'``, ``0`` or ``None`` are not read as booleans."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {value!r}")


def as_count(value, name: str, *, minimum: int = 0) -> int:
    """An integer ``>= minimum`` (a bool, a non-integral float or a quantity with units is refused)."""
    if hasattr(value, "dim") and not getattr(value, "is_dimensionless", True):
        from brian2 import DimensionMismatchError       # only a Brian2 quantity gets here

        raise DimensionMismatchError(f"{name} is a plain integer, without units; got {value!r}", value.dim)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, float, np.floating)) \
            or hasattr(value, "dim") or not float(value).is_integer():
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _holds_units(value) -> bool:
    """Whether a (nested) list or tuple holds a value with units, which ``numpy.asarray`` would drop."""
    if isinstance(value, (list, tuple)):
        return any(_holds_units(v) for v in value)
    return hasattr(value, "dim") and not getattr(value, "is_dimensionless", True)


def as_finite_array(value, name: str, *, unit=None) -> np.ndarray:
    """``value`` as a float array of finite values.

    Parameters
    ----------
    value : array_like
        Real numbers (integers or floats); a Brian2 quantity only with ``unit``.
    name : str
        Names the parameter in the messages.
    unit : Brian2 unit, optional
        The dimensions ``value`` may carry: a quantity must have them and is returned in SI units
        (``[1, 2]*ms`` → ``[0.001, 0.002]``), a plain array is taken to be in SI units already.
        Without ``unit`` only dimensionless values are accepted.

    Returns
    -------
    ndarray of float64

    Raises
    ------
    DimensionMismatchError
        A quantity with units where none (or others) belong: ``[5, 6]*mV`` is not ``[5, 6]``.
    TypeError
        Booleans, complex numbers, strings or other objects.
    ValueError
        NaN or Inf, naming the first one and its flat index.
    """
    if hasattr(value, "dim") or _holds_units(value):
        from brian2 import DimensionMismatchError, Quantity, get_dimensions   # only Brian2 values get here

        try:
            dim = value.dim if hasattr(value, "dim") else get_dimensions(Quantity(value))
        except DimensionMismatchError as exc:
            raise DimensionMismatchError(f"{name} mixes values of different units: {reprlib.repr(value)}") from exc
        expected = get_dimensions(1 if unit is None else unit)
        if dim is not expected:
            want = "no units" if unit is None else f"units of {unit!r}"
            raise DimensionMismatchError(f"{name} must have {want}, got {reprlib.repr(value)}", dim)
    a = np.asarray(value)
    if a.dtype.kind not in "iuf":
        what = {"b": "booleans", "c": "complex numbers"}.get(a.dtype.kind, f"values of dtype {a.dtype}")
        raise TypeError(f"{name} must hold real numbers, got {what}: {reprlib.repr(value)}")
    a = np.asarray(a, dtype=float)
    bad = ~np.isfinite(a)
    if np.any(bad):
        k = int(np.argmax(bad.ravel()))
        raise ValueError(f"{name} contains NaN or Inf ({a.ravel()[k]} at flat index {k})")
    return a
