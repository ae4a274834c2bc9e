"""Runs of the CUDA backend in a fresh process, for tests/peg/test_peg_cuda.py.

Numba reads ``NUMBA_ENABLE_CUDASIM`` when it is imported, so the simulator runs cannot
share the test process (which imports Numba for the CPU kernel). The parent starts
``python tests/peg/_cuda_runs.py OUT.npz SIZE`` with the environment it wants (the
simulator, or a real GPU) and makes every assertion itself on the arrays saved here.
SIZE is ``small`` (simulator: hundreds of paths x tens of steps) or ``large`` (a GPU).
"""

from __future__ import annotations

import sys

import numpy as np
from numba import cuda

from riskcore.params import ModelParameters
from riskcore.peg import cuda_backend
from riskcore.peg.montecarlo import available_backends, simulate
from riskcore.peg.scenarios import Scenario

#: shared with the test module (which imports this file only for these constants)
STRESS = Scenario(name="mixed", liquidity_pool={0: 1e6, 10: 1e5}, network_health={0: 0.6, 15: 1.0},
                  fiat_activity=0.3, shocks={5: -0.01})
JUMPY = ModelParameters(jump_intensity=30.0, jump_size_mu=-0.01, jump_size_sigma=0.02)
SIZES = {"small": {"n": 1024, "steps": 30, "split_n": 300, "jump_n": 512},  # 300: a partial last block
         "large": {"n": 100_000, "steps": 100, "split_n": 20_000, "jump_n": 100_000}}
EXACT = {"params": ModelParameters(jump_intensity=0.0, sigma_base=0.05, alpha=2.0),
         "scenario": Scenario(liquidity_pool={0: 1e6, 20: 1e4}, fiat_activity={0: 0.8, 30: 0.05},
                              network_health={0: 0.6, 25: 0.6, 26: 1.0}, shocks={7: -0.2, 33: 0.15}),
         "n": 8, "steps": 60, "seed": 11, "p0": (1.05, 0.9)}
JUMP_LAW = {"lam": 20.0, "mu": -0.05, "sigma": 0.005}
KAT_COUNTERS = [[0, 0, 0, 0], [0xFFFFFFFF] * 4, [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344]]
KAT_KEYS = [[0, 0], [0xFFFFFFFF] * 2, [0xA4093822, 0x299F31D0]]


@cuda.jit
def _philox_kernel(ctr, key, rounds, out):
    i = cuda.grid(1)
    if i < ctr.shape[0]:
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = cuda_backend._philox(ctr[i, 0], ctr[i, 1], ctr[i, 2], ctr[i, 3],
                                                                          key[i, 0], key[i, 1], rounds)


def _kat(rounds: int) -> np.ndarray:
    ctr = np.array(KAT_COUNTERS, dtype=np.uint64)
    key = np.array(KAT_KEYS, dtype=np.uint64)
    out = np.zeros((3, 4), dtype=np.uint64)
    _philox_kernel[1, 32](ctr, key, np.int64(rounds), out)
    return out


def main(out_path: str, size: str) -> None:
    z = SIZES[size]
    n, steps = z["n"], z["steps"]
    res: dict[str, np.ndarray] = {"kat10": _kat(10), "kat7": _kat(7),
                                  "simulator": np.array(cuda_backend.simulator_active()),
                                  "backends": np.array([b.value for b in available_backends()]),
                                  "backends_sim": np.array([b.value for b in available_backends(True)])}
    keep = n if size == "small" else 2_000
    for seed, dtype in ((21, "float64"), (22, "float32")):  # other seeds: the precisions share Philox words
        r = simulate(JUMPY, n, n_steps=steps, seed=seed, scenario=STRESS, backend="cuda", keep_paths=keep, dtype=dtype)
        tag = dtype[-2:]
        for k in ("terminal", "min_price", "steps_below", "first_breach", "recovery", "paths", "step_std"):
            res[f"r{tag}_{k}"] = getattr(r, k)
        res[f"r{tag}_mean"] = r.bands["mean"].to_numpy()
        res[f"r{tag}_stats"] = np.array([r.stats[k] for k in sorted(r.stats)])
        res[f"r{tag}_se"] = np.array([r.std_errors[k] for k in sorted(r.stats)])
    res["stat_keys"] = np.array(sorted(r.stats))
    m = z["split_n"]
    whole = simulate(JUMPY, m, n_steps=steps, seed=21, scenario=STRESS, backend="cuda", keep_paths=m)
    split = simulate(JUMPY, m, n_steps=steps, seed=21, scenario=STRESS, backend="cuda", keep_paths=m,
                     chunk_paths=cuda_backend.TPB)
    for name, r in (("whole", whole), ("split", split)):
        for k in ("terminal", "min_price", "steps_below", "first_breach", "recovery", "paths", "step_std"):
            res[f"{name}_{k}"] = getattr(r, k)
        res[f"{name}_mean"] = r.bands["mean"].to_numpy()
    e = EXACT
    for i, p0 in enumerate(e["p0"]):
        r = simulate(e["params"], e["n"], n_steps=e["steps"], seed=e["seed"], initial_price=p0, scenario=e["scenario"],
                     backend="cuda", keep_paths=e["n"])
        res[f"exact{i}_paths"] = r.paths
    j = JUMP_LAW
    params = ModelParameters(alpha=0.0, beta=0.0, gamma=0.0, sigma_base=1e-9, jump_intensity=j["lam"],
                             jump_size_mu=j["mu"], jump_size_sigma=j["sigma"])
    r = simulate(params, z["jump_n"], n_steps=steps, seed=4, backend="cuda", keep_paths=min(z["jump_n"], 20_000))
    res["jumps_paths"] = r.paths
    np.savez(out_path, **res)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "small")
