"""The input checks of the whole package (like arch's ``ensure1d`` or scikit-learn's ``check_array``).

Every public function of riskcore validates its inputs with these and raises
:class:`~riskcore.errors.InputError` naming the field (and row) and the allowed range, so a page can
show the message as it is. One function per kind of value, one wording per rule:

==================  =====================================================================
:func:`real`        a finite real number (not a bool, not a string) within bounds
:func:`finite`      anything ``float()`` reads as a finite number (not a bool)
:func:`integer`     an integer (whole floats accepted) within bounds
:func:`float_array` a float array, optionally one value or one per row (broadcast)
:func:`direction`   trade direction +1 / -1
:func:`text`        a non-empty string
==================  =====================================================================
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np

from riskcore.errors import InputError

__all__ = ["real", "finite", "integer", "float_array", "direction", "text", "bounds_text"]

_isfinite = math.isfinite


def bounds_text(lo: float | None, hi: float | None, lo_open: bool = False, hi_open: bool = False) -> str:
    """``"in [0, 1]"``, ``"in (0, 1]"``, ``">= 0"``, ``"> 0"``, ``"<= 1"`` … (empty without bounds)."""
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{lo:g}, {hi:g}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo:g}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {hi:g}"
    return ""


def real(field: str, value: Any, *, lo: float | None = None, hi: float | None = None,
         lo_open: bool = False, hi_open: bool = False) -> float:
    """``value`` as a finite float within the given bounds, else :class:`InputError` naming ``field``.

    Accepts Python and NumPy reals (not bools, not strings). Messages read
    ``"must be a number"`` or ``"must be a finite number in [lo, hi]"`` (the bounds given).
    """
    t = type(value)
    if t is not float and t is not int and (isinstance(value, bool) or not isinstance(value, Real)):
        raise InputError(field, "must be a number", value=value)
    x = float(value)
    if not _isfinite(x) or (lo is not None and (x <= lo if lo_open else x < lo)) or (
            hi is not None and (x >= hi if hi_open else x > hi)):
        rng = bounds_text(lo, hi, lo_open, hi_open)
        raise InputError(field, f"must be a finite number {rng}".rstrip(), value=value)
    return x


def finite(field: str, value: Any) -> float:
    """``float(value)`` when it is finite (strings such as ``"1.5"`` included, bools not)."""
    if isinstance(value, bool):
        raise InputError(field, "must be a number", value=value)
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(field, "must be a number", value=value) from None
    if not _isfinite(v):
        raise InputError(field, "must be finite", value=value)
    return v


def integer(field: str, value: Any, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` as an int (whole floats accepted) within ``[lo, hi]``, else :class:`InputError`.

    The message reads ``"must be an integer >= lo"`` or ``"must be an integer in [lo, hi]"``.
    """
    n: int | None = None
    if isinstance(value, Integral) and not isinstance(value, bool):
        n = int(value)
    elif isinstance(value, Real) and not isinstance(value, bool) and _isfinite(float(value)) \
            and float(value).is_integer():
        n = int(value)
    if n is None or (lo is not None and n < lo) or (hi is not None and n > hi):
        raise InputError(field, f"must be an integer {bounds_text(lo, hi)}".rstrip(), value=value)
    return n


def float_array(field: str, x: Any, k: int | None = None) -> np.ndarray:
    """``x`` as a float array; with ``k``, one number or one per row broadcast to length ``k``."""
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise InputError(field, "must be numbers", value=x if np.ndim(x) == 0 else type(x).__name__) from None
    if k is None:
        return a
    if a.ndim > 1 or (a.ndim == 1 and a.size not in (1, k)):
        raise InputError(field, f"must be one number or one per price ({k})", value=a.shape)
    return np.broadcast_to(a.reshape(-1)[0] if a.ndim == 1 and a.size == 1 else a, (k,))


def direction(field: str, value: Any) -> int:
    """Trade direction: +1 (long) or -1 (short)."""
    if isinstance(value, bool) or not isinstance(value, Real) or float(value) not in (1.0, -1.0):
        raise InputError(field, "must be 1 (long) or -1 (short)", value=value)
    return int(value)


def text(field: str, value: Any) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, "must be a non-empty string", value=value)
    return value
