"""The one policy of riskcore's package ``__init__`` files: public names are imported on first use.

A package lists ``name -> defining module`` and installs :func:`lazy_exports`' two functions as its
module ``__getattr__`` and ``__dir__`` (PEP 562). ``import riskcore.monitor`` then costs nothing,
``from riskcore.monitor import TokenMonitor`` imports :mod:`riskcore.monitor.token` only, and an
optional dependency (HTTP webhooks, Numba, PyTorch) is paid for only by the code that uses it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports", "lazy_table"]


def lazy_table(by_module: Mapping[str, str]) -> dict[str, str]:
    """``{module: "name name ..."}`` (how a package lists its exports, one line per module) as
    ``{name: module}``; a name listed twice is an error."""
    table: dict[str, str] = {}
    for module, names in by_module.items():
        for name in names.split():
            if name in table:
                raise ValueError(f"{name!r} is exported from both {table[name]} and {module}")
            table[name] = module
    return table


def lazy_exports(package: str, table: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module ``__getattr__`` and ``__dir__`` for ``package`` that import each name of ``table`` on use.

    Parameters
    ----------
    package : str
        ``__name__`` of the package.
    table : mapping of str to str
        Public name -> module that defines it.

    Returns
    -------
    (getattr, dir) : tuple of callables
        Assign them to the package's ``__getattr__`` and ``__dir__``. A resolved name is cached in
        the package's namespace, so the next access is a plain attribute read.
    """
    names = dict(table)

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*names, *vars(sys.modules[package])})

    return __getattr__, __dir__
