"""Errors a person can act on.

Every rejection of user input in riskcore raises :class:`InputError`. It is a
``ValueError`` so generic callers keep working, and its message always names the
field, the offending row or value, and what is allowed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["InputError"]


class InputError(ValueError):
    """Invalid user input.

    Parameters
    ----------
    field : str
        Name of the parameter, column or widget that was wrong.
    message : str
        What is allowed, e.g. ``"must be > 0"``.
    value : Any, optional
        The offending value (shown with ``repr``).
    row : int, optional
        1-based data row for file input (header not counted).

    Examples
    --------
    >>> raise InputError("sigma_base", "must be > 0", value=-1.0)
    Traceback (most recent call last):
    ...
    riskcore.errors.InputError: sigma_base: must be > 0 (got -1.0)
    """

    _MISSING = object()

    def __init__(self, field: str, message: str, value: Any = _MISSING, row: int | None = None):
        self.field = field
        self.row = row
        self.value = None if value is self._MISSING else value
        self.detail = message
        text = f"{field}: {message}"
        if row is not None:
            text = f"row {row}, {text}"
        if value is not self._MISSING:
            text += f" (got {_shown(value)})"
        super().__init__(text)


def _shown(value: Any) -> str:
    """``repr`` for a person: numpy scalars as plain numbers (``0.0``, not ``np.float64(0.0)``)."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        value = item()
    elif isinstance(value, (list, tuple)):
        return ("[{}]" if isinstance(value, list) else "({})").format(", ".join(_shown(v) for v in value))
    return repr(value)
