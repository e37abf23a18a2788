"""Recipes: TOML files whose physical values are strings with units ("10 ms", "0.04 mV*s").

Unit strings are parsed against a whitelist (never ``eval``): a number followed by
units from :data:`UNITS` joined by ``*`` or ``/``, optionally with integer powers (``Hz^2``).
At most one ``/`` is allowed, and only before the last unit (``"1 mV*s/ms"``, ``"1 mV/ms^2"``):
``"1 mV/ms*s"`` is volt in Python (``1*mV/ms*second``) but mV/(ms*s) as units are often
typeset, so it is refused; write ``"1 mV*s/ms"`` or use negative powers (``"1 mV*ms^-1*s^-1"``).
Every value must be finite.
"""
from __future__ import annotations

import difflib
import re
import tomllib
from pathlib import Path

import brian2
import numpy as np

from brianforce.units import as_number, as_si, parse_units

__all__ = ["parse_quantity", "si_float", "load_recipe", "RecipeError", "check_keys", "check_sections",
           "recipe_seconds", "COMMON_EXPERIMENT_KEYS", "NOT_RECORDED", "tuning_seeds"]

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_QTY = re.compile(rf"^\s*({_NUMBER})\s*(.*?)\s*$")


class RecipeError(ValueError):
    """A recipe file is malformed (bad TOML, unknown unit, missing key)."""


#: Keys that the ``[experiment]`` section of every recipe may hold, whatever its method:
#: ``tuning_seeds`` lists the seeds at which the recipe's settings were chosen (a list of
#: integers, a range ``"0-9"``, or :data:`NOT_RECORDED`); reproductions run at other seeds.
COMMON_EXPERIMENT_KEYS = ("tuning_seeds",)
#: The ``tuning_seeds`` value of a recipe whose tuning seeds are not known.
NOT_RECORDED = "not recorded"


def _units(expr: str):
    try:
        return parse_units(expr)
    except ValueError as exc:
        raise RecipeError(str(exc)) from None


def parse_quantity(text: str):
    """``"10 ms"`` → ``10*ms``; ``"0.04 mV*s"`` → volt·second; ``"5"`` → 5.0.

    Raises
    ------
    RecipeError
        Not a quantity string, an unknown or ambiguous unit (see the module notes), or a value that
        is not finite (``nan``, ``inf``, or an overflow such as ``"1e400 ms"``).
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        v = float(text) if abs(text) <= np.finfo(float).max else np.inf
        if not np.isfinite(v):
            raise RecipeError(f"a quantity must be finite, got {text!r}")
        return v
    if not isinstance(text, str):
        raise RecipeError(f"expected a quantity string like '10 ms', got {text!r}")
    m = _QTY.match(text)
    if not m:
        raise RecipeError(f"cannot parse quantity {text!r} (expected e.g. '10 ms')")
    with np.errstate(over="ignore"):
        q = float(m.group(1)) * _units(m.group(2))
    if not np.isfinite(float(np.asarray(q))):
        raise RecipeError(f"quantity {text!r} is not finite in SI units ({float(np.asarray(q))!r})")
    return q


def si_float(v):
    """Plain SI float from a number or a unit string.

    Parameters
    ----------
    v : str, number, Quantity or bool
        A unit string (``"1 ms"``, parsed by :func:`parse_quantity`) or a value.

    Returns
    -------
    float or bool
        The value in SI units as a float; a bool is returned unchanged.

    Raises
    ------
    RecipeError
        A string that is not a quantity, or a value that is not finite.
    """
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    q = parse_quantity(v) if isinstance(v, (str, int, float)) else v
    x = float(np.asarray(q))
    if not np.isfinite(x):
        raise RecipeError(f"a quantity must be finite, got {v!r}")
    return x


def load_recipe(path) -> dict:
    """Read a TOML recipe; returns the raw dict (values still strings)."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"no recipe file at {path}")
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"{path}: invalid TOML ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise RecipeError(f"{path}: invalid TOML, not a UTF-8 text file ({exc.reason} at byte {exc.start})") from exc


def check_keys(section, allowed, where: str) -> None:
    """Raise :class:`RecipeError` for a key of ``section`` not in ``allowed``, naming the closest valid one.

    ``where`` names the section in the message (e.g. ``"[experiment]"``). A typo such as
    ``sed = 3`` for ``seed`` is an error, never ignored.
    """
    if not isinstance(section, dict):
        raise RecipeError(f"{where} must be a table of keys, got {section!r}")
    allowed = sorted(allowed)
    for key in section:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(allowed)}"
            raise RecipeError(f"unknown key {key!r} in {where}{hint}")



def check_sections(recipe, schema: dict, where: str = "the recipe") -> None:
    """Check a recipe's sections and the keys of each against ``schema``, before any work.

    Parameters
    ----------
    recipe : dict
        The recipe as read by :func:`load_recipe`.
    schema : dict
        ``""`` → the allowed section names; ``"<section>"`` → the allowed keys of that section.
    where : str
        Names the recipe in the messages (e.g. its path).

    Raises
    ------
    RecipeError
        For an unknown section or key, naming it and the closest valid one (:func:`check_keys`).

    Notes
    -----
    An ``[experiment]`` section may also hold the keys of :data:`COMMON_EXPERIMENT_KEYS`.
    """
    check_keys(recipe, schema[""], where)
    for name, section in recipe.items():
        if name in schema:
            allowed = (*schema[name], *COMMON_EXPERIMENT_KEYS) if name == "experiment" else schema[name]
            check_keys(section, allowed, f"[{name}]")


def recipe_seconds(value, name: str, *, allow_zero: bool = False) -> float:
    """A duration of a recipe as a float in seconds: a unit string (``"20 ms"``), a Brian2 time or a
    plain number read as seconds.

    Raises
    ------
    RecipeError
        A string that is not a quantity.
    DimensionMismatchError
        A quantity that is not a time (``"20 mV"``).
    TypeError
        A bool or another non-number.
    ValueError
        Not finite, or not > 0 (``>= 0`` with ``allow_zero``).
    """

    try:
        q = parse_quantity(value) if isinstance(value, str) else value
    except RecipeError as exc:
        raise RecipeError(f"{name}: {exc}") from None
    v = as_si(q, brian2.second, name) if hasattr(q, "dim") else as_number(q, name)
    if np.ndim(v) != 0 or not (v > 0 or (allow_zero and v == 0)):
        raise ValueError(f"{name} must be a duration {'>= 0' if allow_zero else '> 0'}, got {value!r}")
    return float(v)


def tuning_seeds(recipe: dict, where: str = "the recipe"):
    """The seeds at which a recipe's settings were chosen (``[experiment] tuning_seeds``).

    Parameters
    ----------
    recipe : dict
        The recipe as read by :func:`load_recipe`.
    where : str
        Names the recipe in the messages.

    Returns
    -------
    tuple of int, or None
        The seeds, sorted; ``None`` when the recipe says :data:`NOT_RECORDED` or has no such key.

    Raises
    ------
    RecipeError
        A value that is not a list of non-negative integers, a range ``"a-b"`` or :data:`NOT_RECORDED`.
    """
    experiment = recipe.get("experiment", {})
    if not isinstance(experiment, dict):
        raise RecipeError(f"{where}: [experiment] must be a table of keys, got {experiment!r}")
    value = experiment.get("tuning_seeds", NOT_RECORDED)
    if value == NOT_RECORDED:
        return None
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", value)
        if m and int(m.group(1)) <= int(m.group(2)):
            return tuple(range(int(m.group(1)), int(m.group(2)) + 1))
    elif isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0
                                                   for v in value):
        return tuple(sorted(set(value)))
    raise RecipeError(f"{where}: [experiment] tuning_seeds must be a list of seeds, a range like \"0-9\" "
                      f"or {NOT_RECORDED!r}, got {value!r}")
