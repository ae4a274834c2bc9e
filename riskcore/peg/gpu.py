"""Cheap checks for a CUDA device, without importing Numba's CUDA target (~1.5 s).

:func:`cuda_possible` answers from the environment alone: Numba's CUDA simulator switched
on (``NUMBA_ENABLE_CUDASIM=1``), or a CUDA driver library (``libcuda.so.1`` /
``nvcuda.dll``) that the dynamic loader opens -- what the driver API would load; a
failed ``dlopen`` takes microseconds, where ``ctypes.util.find_library`` runs ``ldconfig``.
Only when it says yes is :func:`riskcore.peg.cuda_backend.cuda_status` worth asking,
which imports ``numba.cuda`` and opens the driver.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys

__all__ = ["cuda_possible", "simulator_requested"]


def simulator_requested() -> bool:
    """True when Numba runs (or will run) CUDA kernels in its Python simulator."""
    if "numba" in sys.modules:  # numba read the variable at import; that value is the one in force
        return bool(sys.modules["numba"].config.ENABLE_CUDASIM)
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0").strip() not in ("", "0")


_DRIVER_NAMES = ("nvcuda.dll",) if sys.platform == "win32" else ("libcuda.so.1", "libcuda.so")


@functools.lru_cache(maxsize=1)
def _driver_library() -> str | None:
    for name in _DRIVER_NAMES:
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return name
    return None


def cuda_possible() -> tuple[bool, str]:
    """``(maybe, reason)``: False when there is certainly no usable CUDA device here."""
    if simulator_requested():
        return True, "Numba CUDA simulator requested (NUMBA_ENABLE_CUDASIM=1)"
    lib = _driver_library()
    if lib is None:
        return False, "no CUDA driver library (libcuda) was found on this machine"
    return True, f"CUDA driver library {lib}"
