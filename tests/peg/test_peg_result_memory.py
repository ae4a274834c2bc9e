"""A simulation result holds only what it reports (issue 17, item 7).

The kept sample paths used to be a view of the recorded band sample, so every result
kept the whole 20,000 x 366 buffer (~56 MB) alive.
"""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

from riskcore.params import ModelParameters
from riskcore.peg.montecarlo import simulate


def _nbytes_held(result) -> int:
    """Bytes of every array the result references, counting the buffers behind views."""
    seen: dict[int, int] = {}
    for value in vars(result).values():
        arr = value.to_numpy() if hasattr(value, "to_numpy") else value
        if isinstance(arr, np.ndarray):
            while isinstance(arr.base, np.ndarray):
                arr = arr.base
            seen[id(arr)] = arr.nbytes
    return sum(seen.values())


@pytest.mark.parametrize("backend", ["numpy", "numba"])
def test_kept_paths_own_their_memory(backend):
    res = simulate(ModelParameters(), 30_000, n_steps=365, seed=3, backend=backend, keep_paths=20)
    assert res.paths.shape == (20, 366) and res.paths.base is None and res.paths.flags.c_contiguous
    # terminal, min price, steps below, breach, recovery (n_paths each), bands, step std, 20 paths
    bound = 6 * 30_000 * 8 + 9 * 366 * 8 + 20 * 366 * 8 + 1_000_000
    assert _nbytes_held(res) < bound  # the view kept 20,000 x 366 x 8 = 58.6 MB


def test_recorded_buffer_is_freed_with_the_result_kept():
    # NumPy reports its buffers to tracemalloc: what stays allocated while three results
    # are held is what they retain.
    simulate(ModelParameters(), 1_000, n_steps=10, seed=0, backend="numpy")  # warm caches
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        results = [simulate(ModelParameters(), 20_000, n_steps=365, seed=s, backend="numpy", keep_paths=10)
                   for s in range(3)]
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert len(results) == 3
    assert held / 3 < 5e6  # about 1 MB per result, not 58 MB
