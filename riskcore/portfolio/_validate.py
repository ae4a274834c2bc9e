"""Small, fast input checks shared by the portfolio functions (raise :class:`InputError`)."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

from riskcore.errors import InputError

_isfinite = math.isfinite


def real(field: str, value: Any, *, lo: float | None = None, hi: float | None = None,
         lo_open: bool = False, hi_open: bool = False) -> float:
    """``value`` as a finite float within the given bounds, else :class:`InputError` naming ``field``."""
    t = type(value)
    if t is not float and t is not int and (isinstance(value, bool) or not isinstance(value, Real)):
        raise InputError(field, "must be a number", value=value)
    x = float(value)
    if not _isfinite(x):
        raise InputError(field, "must be finite", value=value)
    if lo is not None and (x <= lo if lo_open else x < lo):
        raise InputError(field, f"must be {'>' if lo_open else '>='} {lo:g}", value=value)
    if hi is not None and (x >= hi if hi_open else x > hi):
        raise InputError(field, f"must be {'<' if hi_open else '<='} {hi:g}", value=value)
    return x


def integer(field: str, value: Any, *, lo: int | None = None, hi: int | None = None) -> int:
    """``value`` as an int (whole floats accepted) within bounds, else :class:`InputError`."""
    if isinstance(value, bool):
        raise InputError(field, "must be an integer", value=value)
    if isinstance(value, Integral):
        n = int(value)
    elif isinstance(value, Real) and math.isfinite(float(value)) and float(value).is_integer():
        n = int(value)
    else:
        raise InputError(field, "must be an integer", value=value)
    if lo is not None and n < lo:
        raise InputError(field, f"must be >= {lo}", value=value)
    if hi is not None and n > hi:
        raise InputError(field, f"must be <= {hi}", value=value)
    return n


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
