"""Times and frequencies at the task API: a Brian2 quantity, or a plain number in SI units.

``seconds(20*ms, "dt")`` is ``0.02`` and ``hertz(5*Hz, "frequency")`` is ``5.0``; a plain number
(read as seconds or Hz) or a dimensionless quantity is returned unchanged, for the caller's range
checks (:func:`brianforce.checks.as_number`). A quantity of other dimensions raises
``DimensionMismatchError`` naming the parameter and the value. Lists and tuples are converted
element by element (``[1, 2]*Hz`` and ``[1*Hz, 2*Hz]`` alike). Brian2 is imported only when a
quantity is given, so tasks stay numpy only.
"""
from __future__ import annotations

import numpy as np

__all__ = ["seconds", "hertz"]


def _si(value, unit: str, example: str, plain: str, name: str):
    if isinstance(value, (list, tuple)):
        return type(value)(_si(v, unit, example, plain, f"{name}[{k}]") for k, v in enumerate(value))
    if not hasattr(value, "dim") or getattr(value, "is_dimensionless", False):
        return value
    import brian2

    if not brian2.have_same_dimensions(value, getattr(brian2, unit)):
        raise brian2.DimensionMismatchError(
            f"{name} must have units of {unit} (e.g. {name}={example}) or be a plain number of {plain}; "
            f"got {value!r}",
            brian2.get_dimensions(value))
    si = np.asarray(value / getattr(brian2, unit), dtype=float)
    return float(si) if si.ndim == 0 else si


def seconds(value, name: str):
    """``value`` in seconds: a Brian2 time as a float (array), anything else unchanged."""
    return _si(value, "second", "20*ms", "seconds", name)


def hertz(value, name: str):
    """``value`` in Hz: a Brian2 frequency as a float (array), anything else unchanged."""
    return _si(value, "Hz", "5*Hz", "Hz", name)
