"""Performance benchmark of the Monte Carlo backends and the VaR methods (seed 000 §2.1).

The source's ``PerformanceBenchmarking`` compares a GPU and a CPU engine; here every backend that
:func:`riskcore.peg.montecarlo.simulate` offers on this machine is timed over a list of path counts,
with its throughput (path-steps per second) and its accuracy against the reference backend: the
difference of mean terminal prices in standard errors. Backends that share the reference's random
streams (``dask`` runs the numba kernel) give exactly 0; the others (``numpy``, ``torch``) use other
generators, so the difference is a z-score that should look standard normal. Each VaR method is
timed on 1,000 returns (the source's sample size) with its peak memory from :mod:`tracemalloc`, which
sees NumPy's allocations (not those of compiled libraries' private allocators).
"""

from __future__ import annotations

import math
import os
import platform
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.kinds import RunKind
from riskcore.peg.montecarlo import Backend, simulate
from riskcore.validate import integer
from riskcore.var import measures as M

__all__ = ["BenchmarkReport", "run_benchmark", "machine_description", "available_backends", "DEFAULT_PATH_COUNTS",
           "BENCH_KIND"]

#: the issue's range of path counts
DEFAULT_PATH_COUNTS: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000)
BENCH_KIND = RunKind.VALIDATION_BENCHMARK

_VAR_FUNCS: dict[str, Callable[[Any, float], float]] = {
    "historical": M.historical_var, "parametric": M.parametric_var, "cornish_fisher": M.cornish_fisher_var,
    "evt": M.evt_var, "fhs": M.fhs_var,
}


def machine_description() -> dict[str, Any]:
    """CPU, cores, Python and library versions, thread counts and GPU availability."""
    import numba

    info: dict[str, Any] = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                            "cpu_count": os.cpu_count(), "python": platform.python_version(),
                            "numpy": np.__version__, "numba": numba.__version__,
                            "numba_threads": numba.get_num_threads()}
    try:
        with open("/proc/loadavg") as fh:
            info["load_average"] = fh.read().split()[:3]
    except OSError:
        pass
    try:
        import torch

        info["torch"] = torch.__version__
        info["cuda"] = bool(torch.cuda.is_available())
        if info["cuda"]:
            info["gpu"] = torch.cuda.get_device_name(0)
    except Exception:  # noqa: BLE001 - torch is optional for the description
        info["torch"] = None
    return info


def available_backends() -> dict[str, str | None]:
    """Every backend of :class:`Backend` and why it is unavailable (None when it runs here)."""
    out: dict[str, str | None] = {}
    for b in Backend:
        try:
            simulate(None, 64, n_steps=2, seed=0, backend=b)
            out[b.value] = None
        except Exception as exc:  # noqa: BLE001 - unavailable is a result
            out[b.value] = f"{type(exc).__name__}: {exc}"
    return out


@dataclass(frozen=True, eq=False)
class BenchmarkReport:
    """Benchmark results.

    Attributes
    ----------
    mc : DataFrame
        One row per (backend, n_paths): ``seconds``, ``path_steps_per_s``, ``mean_terminal``,
        ``mean_terminal_se``, ``diff_se`` (difference from the reference backend's mean in standard errors)
        and ``speedup`` (reference seconds / seconds).
    var : DataFrame
        One row per method: ``seconds`` (best of ``repeats``) and ``peak_mb``.
    machine : dict
    unavailable : dict
        Backends that could not run, with the reason.
    """

    mc: pd.DataFrame
    var: pd.DataFrame
    machine: dict[str, Any]
    reference: str
    n_steps: int
    unavailable: dict[str, str] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: str(pd.Timestamp.now(tz="UTC")))

    def summary(self) -> pd.DataFrame:
        """The Monte Carlo table (a copy)."""
        return self.mc.copy()

    def to_dict(self) -> dict[str, Any]:
        return {"mc": self.mc, "var": self.var, "machine": self.machine, "reference": self.reference,
                "n_steps": self.n_steps, "unavailable": self.unavailable, "created_at": self.created_at}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BenchmarkReport:
        return cls(mc=d["mc"], var=d["var"], machine=dict(d["machine"]), reference=d["reference"],
                   n_steps=int(d["n_steps"]), unavailable=dict(d.get("unavailable") or {}),
                   created_at=str(d.get("created_at")))

    def to_csv(self) -> str:
        """Both tables and the machine in one CSV text (the page's download)."""
        machine = pd.DataFrame({"value": pd.Series({k: str(v) for k, v in self.machine.items()})})
        return "\n".join(["# Monte Carlo backends", self.mc.to_csv(index=False), "# VaR methods (1,000 returns)",
                          self.var.to_csv(index=False), "# machine", machine.to_csv()])

    def save(self, store: Any, name: str | None = None) -> str:
        return store.save_run(BENCH_KIND, None, None, self.mc, name=name, **self.to_dict())

    @classmethod
    def load(cls, store: Any, run_id: str) -> BenchmarkReport:
        rec = store.load_run(run_id, kind=BENCH_KIND)
        return cls.from_dict(rec.extra)


def _time_var(name: str, r: np.ndarray, confidence: float, repeats: int) -> dict[str, Any]:
    fn = _VAR_FUNCS[name]
    fn(r, confidence)  # warm-up: compiled kernels and imports are not part of the method's cost
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn(r, confidence)
        best = min(best, time.perf_counter() - t)
    tracemalloc.start()
    try:
        fn(r, confidence)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return {"method": name, "seconds": best, "peak_mb": peak / 2**20, "n_returns": r.size, "confidence": confidence}


def run_benchmark(path_counts: Sequence[int] = DEFAULT_PATH_COUNTS, n_steps: int = 365,
                  backends: Sequence[Backend | str] | None = None, reference: Backend | str = Backend.NUMBA,
                  seed: int = 0, n_returns: int = 1000, var_repeats: int = 3,
                  progress: Callable[[float, str], None] | None = None) -> BenchmarkReport:
    """Time every available backend over ``path_counts`` and every VaR method on ``n_returns`` returns.

    Parameters
    ----------
    path_counts : sequence of int, default (1,000, 10,000, 100,000, 1,000,000)
    n_steps : int, default 365
    backends : sequence, optional
        Default: every backend that runs here (:func:`available_backends`).
    reference : Backend, default numba
        The accuracy reference; always run.
    seed : int
        Same seed for every backend and path count.
    n_returns : int, default 1,000
        Size of the VaR sample (the source's ``normal(-0.001, 0.02)`` returns).
    var_repeats : int, default 3
        Timed repetitions per VaR method (the best is kept; compile time excluded by a warm-up call).

    Returns
    -------
    BenchmarkReport
    """
    counts = [integer("path_counts", n, 1, 50_000_000) for n in path_counts]
    if not counts:
        raise InputError("path_counts", "needs at least one path count", value=list(path_counts))
    n_steps = integer("n_steps", n_steps, 1, 100_000)
    n_returns = integer("n_returns", n_returns, 100, 1_000_000)
    var_repeats = integer("var_repeats", var_repeats, 1, 100)
    ref = Backend.parse(reference)
    unavailable: dict[str, str] = {}
    if backends is None:
        avail = available_backends()
        unavailable = {k: v for k, v in avail.items() if v is not None}
        chosen = [Backend(k) for k, v in avail.items() if v is None]
    else:
        chosen = [Backend.parse(b) for b in backends]
    chosen = [ref, *[b for b in chosen if b is not ref]]
    for b in chosen:  # warm-up: imports, compiled kernels, a Dask cluster's start are not throughput
        try:
            simulate(None, 64, n_steps=2, seed=seed, backend=b)
        except Exception:  # noqa: BLE001 - reported when the timed run fails
            pass
    rows = []
    total = len(chosen) * len(counts) + 1
    k = 0
    for n in counts:
        ref_row: dict[str, Any] | None = None
        for b in chosen:
            if progress is not None:
                progress(k / total, f"{b.value}: {n:,} paths")
            try:
                res = simulate(None, n, n_steps=n_steps, seed=seed, backend=b)
            except Exception as exc:  # noqa: BLE001 - a backend failing at one size is a result
                unavailable[b.value] = f"{type(exc).__name__}: {exc}"
                k += 1
                continue
            row = {"backend": b.value, "n_paths": n, "n_steps": n_steps, "seconds": res.elapsed_s,
                   "path_steps_per_s": res.path_steps_per_s, "mean_terminal": res.stats["mean_terminal"],
                   "mean_terminal_se": res.std_errors["mean_terminal"]}
            if b is ref:
                ref_row = row
                row["diff_se"], row["speedup"] = 0.0, 1.0
            elif ref_row is not None:
                same_stream = b is Backend.DASK and ref is Backend.NUMBA
                se = 0.0 if same_stream else math.hypot(row["mean_terminal_se"], ref_row["mean_terminal_se"])
                diff = row["mean_terminal"] - ref_row["mean_terminal"]
                row["diff_se"] = diff / se if se > 0 else (0.0 if diff == 0 else math.inf)
                row["speedup"] = ref_row["seconds"] / row["seconds"] if row["seconds"] > 0 else math.inf
            rows.append(row)
            k += 1
    if progress is not None:
        progress(k / total, "VaR methods")
    r = np.random.default_rng(42).normal(-0.001, 0.02, n_returns)
    var_rows = [_time_var(m, r, 0.95, var_repeats) for m in _VAR_FUNCS]
    if progress is not None:
        progress(1.0, "done")
    return BenchmarkReport(mc=pd.DataFrame(rows), var=pd.DataFrame(var_rows), machine=machine_description(),
                           reference=ref.value, n_steps=n_steps, unavailable=unavailable)
