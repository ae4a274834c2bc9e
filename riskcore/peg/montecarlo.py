"""Monte Carlo simulation of the stable-token peg model (SPEC §1).

:func:`simulate` runs the model on one of four backends and returns a frozen
:class:`SimulationResult` with terminal prices, per-step bands, sample paths and the
peg statistics. Statistics are streamed: no backend ever holds the
``n_paths x n_steps`` price matrix (see :mod:`riskcore.peg.kernels`).

Peg statistics (``SimulationResult.stats``)
-------------------------------------------
With ``p_t`` the price at step ``t = 0..n_steps`` (``p_0`` the initial price) of a path:

- ``p_terminal_below_0.98`` = P(p_T < 0.98); ``p_min_below_0.95``, ``p_min_below_0.90`` =
  P(min_t p_t < level); ``p_depeg`` = P(min_{t>=1} p_t < 0.98).
- ``expected_days_below_0.98`` = E[#{t >= 1 : p_t < 0.98}] * dt * 365 (calendar days).
- Drawdown **from the peg** of a path: ``max(0, 1 - min_t p_t)`` (a fraction of the peg, 1.0);
  ``mean_drawdown`` and ``worst_drawdown`` are its mean and maximum over paths.
- Time to recover: for a path that falls below 0.98, the days from its first step below
  0.98 to its first later step back at or above 0.98. ``mean_days_to_recover`` averages
  the paths that recovered within the horizon; ``p_unrecovered`` is the share of all paths
  that fell below 0.98 and were still below at the horizon (censored; not averaged in).
- Terminal VaR and ES at 95, 99, 99.7 %: on the return ``r = p_T / p_0 - 1`` relative to the
  **initial price** (the holder's loss over the horizon), as positive losses (SPEC §2):
  ``VaR_c = -quantile(r, 1 - c)`` with linear interpolation, ``ES_c = -mean(r | r <= quantile(r, 1 - c))``.

Bands
-----
``bands`` holds, for each step, the quantiles 1, 5, 25, 50, 75, 95, 99 % and the mean. The
mean is exact over all paths (streamed per-block sums). The quantiles are exact over the
first ``band_paths = max(keep_paths, min(n_paths, BAND_PATHS))`` paths, which are an i.i.d.
sample of all paths: exact whenever ``n_paths <= BAND_PATHS`` (20,000); above, the band at
level ``q`` is the sample quantile of 20,000 draws, whose level has standard error
``sqrt(q (1 - q) / 20000)``, e.g. 0.07 percentage points at the 1 % band.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.kinds import RunKind
from riskcore.params import ModelParameters, check_stable_step
from riskcore.peg import kernels, reductions
from riskcore.peg.model import (
    BAND_QUANTILES,
    DEPEG_LEVEL,
    MIN_LEVELS,
    PEG,
    PathStats,
    StepCoefficients,
    simulate_reference,
    step_coefficients,
)
from riskcore.peg.scenarios import Scenario
from riskcore.peg.stat_keys import STAT_DESCRIPTIONS, VAR_LEVELS, PegStat, es_key, min_below_key, var_key
from riskcore.validate import integer, real

__all__ = ["Backend", "SimulationResult", "simulate", "available_backends", "peg_statistics", "BAND_PATHS",
           "VAR_LEVELS", "RUN_KIND",
           "STAT_DESCRIPTIONS"]

#: paths used for the per-step quantile bands (see module docstring)
BAND_PATHS = 20_000
#: store kind of a saved simulation
RUN_KIND = RunKind.PEG_SIMULATION
#: most paths in one call (28 bytes of per-path output each: 1.4 GB); split bigger studies by seed
MAX_PATHS = 50_000_000
#: largest kept path matrix, in values (800 MB of float64)
MAX_KEPT_VALUES = 100_000_000
#: path-steps per Dask task (about 0.1-0.3 s of kernel time)
CHUNK_PATH_STEPS = 20_000_000
#: seconds between progress reports of a multi-threaded numba run
PROGRESS_POLL_S = 0.1
#: below this many path-steps one thread runs everything (thread start-up would dominate)
SERIAL_PATH_STEPS = 200_000
#: fewest steps per thread of the band quantiles (see :func:`_step_quantiles`)
QUANTILE_STEPS = 16


class Backend(StrEnum):
    """Where :func:`simulate` runs."""

    NUMBA = "numba"
    NUMPY = "numpy"
    TORCH = "torch"
    DASK = "dask"
    CUDA = "cuda"

    @classmethod
    def parse(cls, value: Backend | str) -> Backend:
        try:
            return cls(str(value).lower())
        except ValueError:
            raise InputError("backend", f"must be one of {', '.join(b.value for b in cls)}", value=value) from None


def available_backends(include_simulator: bool = False) -> list[Backend]:
    """The backends usable on this machine, in display order.

    ``numba``, ``numpy`` and ``dask`` always; ``torch`` when PyTorch is installed; ``cuda`` when
    a CUDA GPU is usable (:func:`riskcore.peg.cuda_backend.cuda_status`), or, with
    ``include_simulator``, when Numba's CUDA simulator is on (correct but thousands of
    times slower: for tests, not for users).
    """
    import importlib.util

    from riskcore.peg.gpu import cuda_possible, simulator_requested

    out = [Backend.NUMBA, Backend.NUMPY]
    if importlib.util.find_spec("torch") is not None:  # not imported: that costs seconds on a page load
        out.append(Backend.TORCH)
    out.append(Backend.DASK)
    if not cuda_possible()[0] or (simulator_requested() and not include_simulator):
        return out
    try:
        from riskcore.peg.cuda_backend import cuda_status
    except ImportError:  # numba-cuda missing
        return out
    if cuda_status()[0]:
        out.append(Backend.CUDA)
    return out


def peg_statistics(terminal: np.ndarray, min_price: np.ndarray, steps_below: np.ndarray,
                   first_breach: np.ndarray, recovery: np.ndarray, initial_price: float,
                   dt: float) -> tuple[dict[str, float], dict[str, float]]:
    """Peg statistics and their Monte Carlo standard errors (see module docstring).

    Computed in one compiled ``nogil`` call (:func:`riskcore.peg.reductions.peg_reductions`)
    whose numbers are NumPy's to the last bit; with a NaN or infinite price the NumPy
    expressions of :func:`_peg_statistics_numpy` give NumPy's own answer for it.

    Returns
    -------
    stats, std_errors : dict
        Keys as in :data:`STAT_DESCRIPTIONS`; standard errors are NaN where no simple
        formula applies (worst drawdown, VaR, ES).
    """
    terminal, min_price = np.ascontiguousarray(terminal, np.float64), np.ascontiguousarray(min_price, np.float64)
    if not (reductions.all_finite(terminal) and reductions.all_finite(min_price)):
        return _peg_statistics_numpy(terminal, min_price, steps_below, first_breach, recovery, initial_price, dt)
    (mean_t, std_t, n_below_t, n_min_below, n_breached, mean_below, std_below, mean_dd, std_dd, max_dd,
     n_recovered, mean_rec, std_rec, n_unrecovered, q_price, tail_mean) = reductions.peg_reductions(
        terminal, min_price, np.ascontiguousarray(steps_below), np.ascontiguousarray(first_breach),
        np.ascontiguousarray(recovery), DEPEG_LEVEL, np.array(MIN_LEVELS), PEG, 1.0 - np.array(VAR_LEVELS))
    n = terminal.shape[0]
    days = dt * 365.0
    stats: dict[str, float] = {}
    se: dict[str, float] = {}

    def prob(key: str, count: float) -> None:
        p = float(count) / n
        stats[key], se[key] = p, math.sqrt(p * (1 - p) / n)

    def mean(key: str, m: float, mu: float, sd: float, scale: float = 1.0) -> None:
        m = int(m)
        stats[key] = float(mu) * scale if m else math.nan
        se[key] = float(sd) * scale / math.sqrt(m) if m > 1 else math.nan

    mean(PegStat.MEAN_TERMINAL, n, mean_t, std_t)
    std = PegStat.STD_TERMINAL
    stats[std] = float(std_t) if n > 1 else math.nan
    se[std] = stats[std] / math.sqrt(2 * (n - 1)) if n > 1 else math.nan
    prob(PegStat.P_TERMINAL_BELOW, n_below_t)
    for level, count in zip(MIN_LEVELS, n_min_below, strict=True):
        prob(min_below_key(level), count)
    prob(PegStat.P_DEPEG, n_breached)
    mean(PegStat.EXPECTED_DAYS_BELOW, n, mean_below, std_below, days)
    mean(PegStat.MEAN_DRAWDOWN, n, mean_dd, std_dd)
    stats[PegStat.WORST_DRAWDOWN], se[PegStat.WORST_DRAWDOWN] = float(max_dd), math.nan
    mean(PegStat.MEAN_DAYS_TO_RECOVER, n_recovered, mean_rec, std_rec, days)
    prob(PegStat.P_UNRECOVERED, n_unrecovered)
    for c, q, tail in zip(VAR_LEVELS, q_price, tail_mean, strict=True):
        stats[var_key(c)] = -(float(q) / initial_price - 1.0)
        stats[es_key(c)] = -(float(tail) / initial_price - 1.0)
        se[var_key(c)] = se[es_key(c)] = math.nan
    ordered = {k: stats[k] for k in STAT_DESCRIPTIONS}
    return ordered, {k: se[k] for k in STAT_DESCRIPTIONS}


def _peg_statistics_numpy(terminal: np.ndarray, min_price: np.ndarray, steps_below: np.ndarray,
                          first_breach: np.ndarray, recovery: np.ndarray, initial_price: float,
                          dt: float) -> tuple[dict[str, float], dict[str, float]]:
    """:func:`peg_statistics` in NumPy expressions: the reference the compiled pass is tested
    against bit for bit, and the path for non-finite prices."""
    n = terminal.shape[0]
    days = dt * 365.0
    stats: dict[str, float] = {}
    se: dict[str, float] = {}

    def prob(key: str, mask: np.ndarray) -> None:
        p = float(np.count_nonzero(mask)) / n
        stats[key], se[key] = p, math.sqrt(p * (1 - p) / n)

    def mean(key: str, x: np.ndarray, scale: float = 1.0) -> None:
        m = x.shape[0]
        stats[key] = float(x.mean()) * scale if m else math.nan
        se[key] = float(x.std(ddof=1)) * scale / math.sqrt(m) if m > 1 else math.nan

    mean(PegStat.MEAN_TERMINAL, terminal)
    std = PegStat.STD_TERMINAL
    stats[std] = float(terminal.std(ddof=1)) if n > 1 else math.nan
    se[std] = stats[std] / math.sqrt(2 * (n - 1)) if n > 1 else math.nan
    prob(PegStat.P_TERMINAL_BELOW, terminal < DEPEG_LEVEL)
    for level in MIN_LEVELS:
        prob(min_below_key(level), min_price < level)
    breached = first_breach >= 0
    prob(PegStat.P_DEPEG, breached)
    mean(PegStat.EXPECTED_DAYS_BELOW, steps_below.astype(np.float64), days)
    drawdown = np.maximum(0.0, PEG - min_price)
    drawdown /= PEG
    mean(PegStat.MEAN_DRAWDOWN, drawdown)
    stats[PegStat.WORST_DRAWDOWN], se[PegStat.WORST_DRAWDOWN] = float(drawdown.max()), math.nan
    del drawdown
    recovered = breached & (recovery >= 0)
    mean(PegStat.MEAN_DAYS_TO_RECOVER, (recovery[recovered] - first_breach[recovered]).astype(np.float64), days)
    prob(PegStat.P_UNRECOVERED, breached & (recovery < 0))
    # quantiles of the terminal price, mapped to returns (r = p_T / p_0 - 1 is increasing in p_T, and linear
    # interpolation commutes with it): no n-sized temporary beyond NumPy's partition copy
    for c in VAR_LEVELS:
        q_price = float(np.quantile(terminal, 1.0 - c))
        tail = terminal[terminal <= q_price]
        stats[var_key(c)] = -(q_price / initial_price - 1.0)
        stats[es_key(c)] = -(float(tail.mean()) / initial_price - 1.0)
        se[var_key(c)] = se[es_key(c)] = math.nan
    ordered = {k: stats[k] for k in STAT_DESCRIPTIONS}
    return ordered, {k: se[k] for k in STAT_DESCRIPTIONS}


# ---- validation ---------------------------------------------------------------------------


def _check_positive(name: str, value: Any, hi: float = math.inf) -> float:
    return real(name, value, lo=0.0, lo_open=True, hi=None if hi == math.inf else hi)


def _resolve_seed(seed: int | np.random.Generator) -> int:
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63 - 1))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError("seed", "must be a non-negative integer or a numpy.random.Generator", value=seed)
    return int(seed)


# ---- backends -----------------------------------------------------------------------------


def _chunks(n_paths: int, n_steps: int, target: int = CHUNK_PATH_STEPS) -> list[tuple[int, int]]:
    """Split [0, n_paths) into (start, stop) chunks of whole blocks, about ``target`` path-steps each."""
    per = max(1, target // max(1, n_steps) // kernels.BLOCK) * kernels.BLOCK
    return [(s, min(s + per, n_paths)) for s in range(0, n_paths, per)]


def _alloc(n: int, n_steps: int, n_record: int) -> dict[str, np.ndarray]:
    n_blocks = (n + kernels.BLOCK - 1) // kernels.BLOCK
    return {
        "terminal": np.empty(n), "min_price": np.empty(n), "steps_below": np.empty(n, np.int32),
        "first_breach": np.empty(n, np.int32), "recovery": np.empty(n, np.int32),
        "block_sum": np.zeros((n_blocks, n_steps + 1)), "block_sumsq": np.zeros((n_blocks, n_steps + 1)),
        "recorded": np.empty((n_record, n_steps + 1)),
    }


def _kernel_args(c: StepCoefficients, p0: float) -> tuple[Any, ...]:
    return (p0, c.decay, c.support, c.vol_sqrt_dt, c.shock_factor, c.alpha, c.dt, c.jump_rate_dt, c.jump_mu,
            c.jump_sigma)


def _call_kernel(fn: Callable[..., None], key: np.uint64, start: int, stop: int, c: StepCoefficients, p0: float,
                 n_record: int, out: dict[str, np.ndarray], block0: int, done: np.ndarray | None = None,
                 cancel: np.ndarray | None = None, path_offset: int | None = None) -> None:
    """Paths ``[start, stop)`` of ``out`` (run paths from ``path_offset``, default ``start``)."""
    b0, b1 = block0, block0 + (stop - start + kernels.BLOCK - 1) // kernels.BLOCK
    rec = max(0, min(n_record - start, stop - start))
    fn(key, np.int64(start if path_offset is None else path_offset), *_kernel_args(c, p0), np.int64(rec),
       out["terminal"][start:stop], out["min_price"][start:stop], out["steps_below"][start:stop],
       out["first_breach"][start:stop], out["recovery"][start:stop],
       out["block_sum"][b0:b1], out["block_sumsq"][b0:b1], out["recorded"][start:start + rec],
       np.zeros(1, np.int64) if done is None else done, np.zeros(1, np.int64) if cancel is None else cancel)


def _finish(out: dict[str, np.ndarray]) -> PathStats:
    return PathStats(out["terminal"], out["min_price"], out["steps_below"], out["first_breach"], out["recovery"],
                     out["block_sum"].sum(axis=0), out["block_sumsq"].sum(axis=0), out["recorded"])


def _thread_ranges(n_paths: int, threads: int) -> list[tuple[int, int]]:
    """One block-aligned range of paths per thread, as equal as whole blocks allow."""
    n_blocks = -(-n_paths // kernels.BLOCK)
    per = -(-n_blocks // threads) * kernels.BLOCK
    return [(s, min(s + per, n_paths)) for s in range(0, n_paths, per)]


def _run_numba(c: StepCoefficients, n_paths: int, p0: float, seed: int, n_record: int,
               progress: Callable[[float], None] | None) -> PathStats:
    """Run the ``nogil`` serial kernel on one block-aligned range of paths per thread.

    A pool of ``numba.get_num_threads()`` Python threads, each calling the compiled
    kernel with the GIL released, scales better here than a ``prange`` region (255 vs
    148 M path-steps/s on 2 cores, measured in one run): each range is a long
    independent loop with no scheduler in between. The numbers do not depend on the
    split, because every path draws from its own stream.

    Each thread makes **one** call, so it needs the GIL only to start and to return. In
    the app the engine shares the interpreter with other sessions' script threads, and
    every return to Python waits for the GIL behind them (issue 17: with small chunks,
    sixteen such waits made a 0.25 s kernel take 0.5-1.9 s next to five sessions). The
    kernel writes its progress into an array after each block and this thread reads it
    every :data:`PROGRESS_POLL_S`; a ``progress`` callback that raises (a cancel) sets the
    kernel's stop flag, so the threads return within one block and the error propagates.
    """
    import numba

    out = _alloc(n_paths, c.n_steps, n_record)
    key = kernels.seed_key(seed)
    serial = n_paths * c.n_steps <= SERIAL_PATH_STEPS
    ranges = _thread_ranges(n_paths, 1 if serial else max(1, numba.get_num_threads()))
    done = np.zeros((len(ranges), 1), np.int64)
    cancel = np.zeros(1, np.int64)
    n_blocks = -(-n_paths // kernels.BLOCK)
    fn = kernels.simulate_paths_serial

    def run(i: int) -> None:
        start, stop = ranges[i]
        _call_kernel(fn, key, start, stop, c, p0, n_record, out, start // kernels.BLOCK, done[i], cancel)

    if serial:  # too small to be worth a thread, a progress report or a cancel
        run(0)
        if progress is not None:
            progress(1.0)
        return _finish(out)
    with ThreadPoolExecutor(len(ranges), thread_name_prefix="riskcore-mc") as pool:
        futures = [pool.submit(run, i) for i in range(len(ranges))]
        try:
            while wait(futures, timeout=PROGRESS_POLL_S if progress is not None else None).not_done:
                progress(int(done.sum()) / n_blocks)
        except BaseException:
            cancel[0] = 1  # the kernels stop after their current block; the pool's exit waits for them
            raise
        for f in futures:
            f.result()
    if progress is not None:
        progress(1.0)
    return _finish(out)


def _dask_task(task: tuple[Any, ...]) -> dict[str, np.ndarray]:
    """One Dask task: paths [start, stop) of the run with the serial kernel (module-level: picklable)."""
    key, start, stop, c, p0, n_record = task
    out = _alloc(stop - start, c.n_steps, max(0, min(n_record - start, stop - start)))
    _call_kernel(kernels.simulate_paths_serial, key, 0, stop - start, c, p0, out["recorded"].shape[0], out, 0,
                 path_offset=start)
    return out


def _run_dask(c: StepCoefficients, n_paths: int, p0: float, seed: int, n_record: int,
              progress: Callable[[float], None] | None, chunk_paths: int | None) -> PathStats:
    from riskcore.distributed import map_chunks

    if chunk_paths is None:
        chunks = _chunks(n_paths, c.n_steps)
    else:
        per = math.ceil(chunk_paths / kernels.BLOCK) * kernels.BLOCK  # whole blocks: identical block sums
        chunks = [(s, min(s + per, n_paths)) for s in range(0, n_paths, per)]
    key = kernels.seed_key(seed)
    parts = map_chunks(_dask_task, [(key, s, e, c, p0, n_record) for s, e in chunks], progress=progress)
    merged = {k: np.concatenate([p[k] for p in parts], axis=0) for k in parts[0]}
    return _finish(merged)


#: backends with a float32 mode
_FLOAT32_BACKENDS = (Backend.CUDA, Backend.TORCH)


def _check_dtype(dtype: Any, backend: Backend) -> str:
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = str(dtype)
    if name not in ("float64", "float32"):
        raise InputError("dtype", "must be float64 or float32", value=dtype)
    if name == "float32" and backend not in _FLOAT32_BACKENDS:
        raise InputError("dtype", f"float32 is available on the cuda and torch backends only, not {backend.value}",
                         value=dtype)
    return name


def _run_cuda(c: StepCoefficients, n_paths: int, p0: float, seed: int, n_record: int,
              progress: Callable[[float], None] | None, dtype: str, chunk_paths: int | None) -> PathStats:
    try:
        from riskcore.peg.cuda_backend import simulate_cuda
    except ImportError as exc:
        raise InputError("backend", f"'cuda' needs numba-cuda and a CUDA GPU ({exc}); use 'numba' or 'torch'",
                         value="cuda") from None
    return simulate_cuda(c, n_paths, p0, seed, n_record, progress, dtype=dtype, chunk_paths=chunk_paths)


def _run_numpy(c: StepCoefficients, n_paths: int, p0: float, seed: int, n_record: int,
               progress: Callable[[float], None] | None) -> PathStats:
    out = simulate_reference(c, n_paths, p0, np.random.default_rng(seed), n_record)
    if progress is not None:
        progress(1.0)
    return out


# ---- result -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Outcome of :func:`simulate`.

    Attributes
    ----------
    terminal : ndarray, float64 (n_paths,)
        Terminal prices.
    paths : ndarray, float64 (keep_paths, n_steps + 1)
        The first ``keep_paths`` paths, initial price included.
    bands : DataFrame
        Index ``step`` 0..n_steps; columns the quantiles of :data:`BAND_QUANTILES` and ``"mean"``.
    stats : dict
        Peg statistics (module docstring); ``std_errors`` their Monte Carlo standard errors.
    min_price, steps_below, first_breach, recovery : ndarray (n_paths,)
        Per-path statistics from which ``stats`` are computed.
    step_std : ndarray (n_steps + 1,)
        Cross-sectional standard deviation of the price at each step (all paths).
    band_paths : int
        Number of paths behind the quantile bands.
    dtype : str
        Precision the paths were simulated in (``"float32"`` only on cuda / torch on request).
    """

    params: ModelParameters
    scenario: Scenario
    seed: int
    backend: Backend
    n_paths: int
    n_steps: int
    dt: float
    initial_price: float
    keep_paths: int
    terminal: np.ndarray
    paths: np.ndarray
    bands: pd.DataFrame
    stats: dict[str, float]
    std_errors: dict[str, float]
    min_price: np.ndarray
    steps_below: np.ndarray
    first_breach: np.ndarray
    recovery: np.ndarray
    step_std: np.ndarray
    band_paths: int
    elapsed_s: float
    run_id: str | None = field(default=None, compare=False)
    dtype: str = "float64"

    @property
    def path_steps_per_s(self) -> float:
        return self.n_paths * self.n_steps / self.elapsed_s if self.elapsed_s > 0 else math.inf

    def summary(self) -> pd.DataFrame:
        """Peg statistics: index the statistic, columns value, std_error, description."""
        df = pd.DataFrame({"value": pd.Series(self.stats), "std_error": pd.Series(self.std_errors),
                           "description": pd.Series(STAT_DESCRIPTIONS)}).loc[list(self.stats)]
        df.index.name = "statistic"
        return df

    def settings(self) -> dict[str, Any]:
        """What defines the run (enough to re-run it): everything but the outputs."""
        return {"n_paths": self.n_paths, "n_steps": self.n_steps, "dt": self.dt, "seed": self.seed,
                "backend": self.backend.value, "initial_price": self.initial_price, "keep_paths": self.keep_paths,
                "dtype": self.dtype}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able description: parameters, scenario, settings, statistics and timing (no arrays)."""
        return {"params": self.params.to_dict(), "scenario": self.scenario.to_dict(), **self.settings(),
                "stats": dict(self.stats), "std_errors": dict(self.std_errors), "band_paths": self.band_paths,
                "elapsed_s": self.elapsed_s, "run_id": self.run_id}

    def save(self, store: Any, name: str | None = None) -> str:
        """Save in ``store`` as kind ``"peg_simulation"``; returns the run id.

        Stored: parameters, seed, the summary table, scenario, backend and the other
        settings, timing, the bands, the kept paths and the per-path arrays (about 28
        bytes per path).
        """
        arrays = {"terminal": self.terminal, "paths": self.paths, "bands": self.bands.to_numpy(),
                  "min_price": self.min_price, "steps_below": self.steps_below,
                  "first_breach": self.first_breach, "recovery": self.recovery, "step_std": self.step_std}
        return store.save_run(RUN_KIND, self.params, self.seed, self.summary(), name=name, arrays=arrays,
                              scenario=self.scenario.to_dict(), settings=self.settings(), stats=self.stats,
                              std_errors=self.std_errors, band_paths=self.band_paths, elapsed_s=self.elapsed_s,
                              backend=self.backend.value)

    @classmethod
    def load(cls, store: Any, run_id: str) -> SimulationResult:
        """Read a run saved by :meth:`save` back (bit-identical arrays)."""
        rec = store.load_run(run_id, kind=RUN_KIND)
        s, a = rec.extra["settings"], rec.arrays
        n_steps = int(s["n_steps"])
        bands = pd.DataFrame(a["bands"], index=pd.RangeIndex(n_steps + 1, name="step"),
                             columns=[*BAND_QUANTILES, "mean"])
        return cls(params=ModelParameters.from_dict(rec.params), scenario=Scenario.from_dict(rec.extra["scenario"]),
                   seed=int(s["seed"]), backend=Backend.parse(s["backend"]), n_paths=int(s["n_paths"]),
                   n_steps=n_steps, dt=float(s["dt"]), initial_price=float(s["initial_price"]),
                   keep_paths=int(s["keep_paths"]), terminal=a["terminal"], paths=a["paths"], bands=bands,
                   stats=dict(rec.extra["stats"]), std_errors=dict(rec.extra["std_errors"]),
                   min_price=a["min_price"], steps_below=a["steps_below"], first_breach=a["first_breach"],
                   recovery=a["recovery"], step_std=a["step_std"], band_paths=int(rec.extra["band_paths"]),
                   elapsed_s=float(rec.extra["elapsed_s"]), run_id=rec.run_id, dtype=str(s.get("dtype", "float64")))

    def rerun(self, backend: Backend | str | None = None,
              progress: Callable[[float], None] | None = None) -> SimulationResult:
        """Simulate again with the same parameters, scenario, seed and settings.

        On the same backend (default) the numbers are the same; numba and dask give
        bit-identical terminal prices to each other.
        """
        s = self.settings()
        return simulate(self.params, s["n_paths"], n_steps=s["n_steps"], dt=s["dt"], seed=s["seed"],
                        backend=backend or self.backend, initial_price=s["initial_price"], scenario=self.scenario,
                        keep_paths=s["keep_paths"], progress=progress,
                        dtype=s["dtype"] if (backend or self.backend) in _FLOAT32_BACKENDS else "float64")

    def same_numbers(self, other: SimulationResult) -> bool:
        """True when terminal prices and statistics are bit-identical."""
        return (np.array_equal(self.terminal, other.terminal)
                and all(np.array_equal(self.stats[k], other.stats[k], equal_nan=True) for k in self.stats))


# ---- entry point ----------------------------------------------------------------------------


def simulate(params: ModelParameters | None, n_paths: int, n_steps: int = 365, dt: float = 1 / 365,
             seed: int | np.random.Generator = 0, backend: Backend | str = Backend.NUMBA,
             initial_price: float = 1.0, scenario: Scenario | str | None = None, keep_paths: int = 0,
             progress: Callable[[float], None] | None = None, *, chunk_paths: int | None = None,
             device: str | None = None, dtype: str = "float64") -> SimulationResult:
    """Monte Carlo of the stable-token price model (SPEC §1).

    Parameters
    ----------
    params : ModelParameters or None
        Model parameters (None: the defaults).
    n_paths : int
        Number of paths, in [1, 50,000,000].
    n_steps : int, default 365
        Steps per path, >= 1.
    dt : float, default 1/365
        Step length in years, in (0, 1].
    seed : int or numpy.random.Generator, default 0
        A Generator is turned into an integer seed (recorded in the result).
    backend : Backend or str, default "numba"
        ``numba`` (parallel kernel), ``numpy`` (vectorised reference), ``torch`` (CUDA if
        available, else CPU), ``dask`` (chunks of paths as tasks; numba kernel on workers),
        ``cuda`` (one fused kernel per chunk, :mod:`riskcore.peg.cuda_backend`; needs a CUDA
        GPU, see :func:`available_backends`).
    initial_price : float, default 1.0
        Price at step 0, > 0.
    scenario : Scenario, preset name or None
        State inputs and shocks (None: baseline).
    keep_paths : int, default 0
        Number of full paths to return (the first ones), 0..n_paths.
    progress : callable, optional
        Called with the fraction done (0..1) as work completes.
    chunk_paths : int, optional
        Paths per Dask task (rounded up to whole blocks of 1024; default ~2e7 path-steps) or
        per CUDA launch (rounded up to whole blocks of 128; default 4,194,304).
    device : str, optional
        Torch device (default ``cuda`` when available, else ``cpu``).
    dtype : {"float64", "float32"}, default "float64"
        Precision of the simulated prices on ``cuda`` and ``torch`` (the other backends are
        float64 only). Results, statistics and per-step sums are float64 either way.

    Returns
    -------
    SimulationResult

    Raises
    ------
    InputError
        For any invalid argument (named in the message), including ``params.alpha * dt >= 1``: the explicit
        step is stable only below that (SPEC §1), and the message names the largest alpha for this ``dt``.

    Notes
    -----
    The same seed gives bit-identical paths on ``numba`` and ``dask`` whatever the
    chunking and thread count (one random stream per path, see
    :mod:`riskcore.peg.kernels`), and on ``cuda`` whatever the chunking (counter-based
    Philox, see :mod:`riskcore.peg.cuda_backend`). ``numpy``, ``torch`` and ``cuda`` use
    their own generators: same distribution, other numbers.

    Examples
    --------
    >>> r = simulate(ModelParameters(), n_paths=10_000, seed=1)   # doctest: +SKIP
    >>> r.stats["p_terminal_below_0.98"]                            # doctest: +SKIP
    """
    t0 = time.perf_counter()
    if params is None:
        params = ModelParameters()
    if not isinstance(params, ModelParameters):
        raise InputError("params", "must be a ModelParameters", value=type(params).__name__)
    n_paths = integer("n_paths", n_paths, 1, MAX_PATHS)
    n_steps = integer("n_steps", n_steps, 1, 1_000_000)
    dt = _check_positive("dt", dt, 1.0)
    check_stable_step(params.alpha, dt)  # SPEC §1: alpha * dt < 1, else the explicit step is unstable
    p0 = _check_positive("initial_price", initial_price, 1e6)
    keep_paths = integer("keep_paths", keep_paths, 0, n_paths)
    if keep_paths * (n_steps + 1) > MAX_KEPT_VALUES:
        raise InputError("keep_paths", f"keep_paths x (n_steps + 1) must be <= {MAX_KEPT_VALUES:,}", value=keep_paths)
    if chunk_paths is not None:
        chunk_paths = integer("chunk_paths", chunk_paths, 1)
    backend = Backend.parse(backend)
    dtype = _check_dtype(dtype, backend)
    seed_int = _resolve_seed(seed)
    if scenario is None:
        scenario = Scenario()
    elif isinstance(scenario, str):
        from riskcore.peg.scenarios import preset

        scenario = preset(scenario)
    elif not isinstance(scenario, Scenario):
        raise InputError("scenario", "must be a Scenario, a preset name or None", value=type(scenario).__name__)
    c = step_coefficients(params, scenario.resolve(n_steps), dt)
    n_record = max(keep_paths, min(n_paths, BAND_PATHS))

    if backend is Backend.NUMBA:
        raw = _run_numba(c, n_paths, p0, seed_int, n_record, progress)
    elif backend is Backend.DASK:
        raw = _run_dask(c, n_paths, p0, seed_int, n_record, progress, chunk_paths)
    elif backend is Backend.NUMPY:
        raw = _run_numpy(c, n_paths, p0, seed_int, n_record, progress)
    elif backend is Backend.CUDA:
        raw = _run_cuda(c, n_paths, p0, seed_int, n_record, progress, dtype, chunk_paths)
    else:
        from riskcore.peg.torch_backend import simulate_torch

        raw = simulate_torch(c, n_paths, p0, seed_int, n_record, progress, device=device, dtype=dtype)
    result = _assemble(raw, params=params, scenario=scenario, seed=seed_int, backend=backend, n_paths=n_paths,
                       n_steps=n_steps, dt=dt, p0=p0, keep_paths=keep_paths, t0=t0)
    return result if dtype == "float64" else dataclasses.replace(result, dtype=dtype)


def _step_quantiles(rec: np.ndarray) -> np.ndarray:
    """:data:`BAND_QUANTILES` of each step (column) of ``rec``, shape (len(BAND_QUANTILES), n_steps + 1).

    Same numbers as ``np.quantile(rec, BAND_QUANTILES, axis=0)``, from the compiled ``nogil``
    :func:`riskcore.peg.reductions.column_quantiles`: the steps split in one contiguous range
    per thread, one call each, so a run next to busy Python threads waits for the GIL once per
    thread, not once per NumPy call (issue 17). Its scratch is eight columns per thread, not a
    copy of the band sample. Non-finite prices go to NumPy, which has its own rules for them.
    """
    import numba

    n_cols = rec.shape[1]
    probs = np.array(BAND_QUANTILES)
    if not reductions.all_finite(rec):
        return np.quantile(rec, probs, axis=0)
    rec = np.ascontiguousarray(rec)
    out = np.empty((len(probs), n_cols))
    threads = max(1, min(numba.get_num_threads(), n_cols // QUANTILE_STEPS))
    if threads == 1 or rec.shape[0] < 2_000:
        reductions.column_quantiles(rec, 0, n_cols, probs, out)
        return out
    bounds = np.linspace(0, n_cols, threads + 1).astype(int)
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(lambda i: reductions.column_quantiles(rec, bounds[i], bounds[i + 1], probs, out),
                      range(threads)))
    return out


def _assemble(raw: PathStats, *, params: ModelParameters, scenario: Scenario, seed: int, backend: Backend,
              n_paths: int, n_steps: int, dt: float, p0: float, keep_paths: int, t0: float) -> SimulationResult:
    rec = raw.recorded
    quantiles = _step_quantiles(rec)
    mean = raw.step_sum / n_paths
    var = np.maximum(0.0, raw.step_sumsq / n_paths - mean * mean) * (n_paths / max(1, n_paths - 1))
    bands = pd.DataFrame(np.column_stack([quantiles.T, mean]), index=pd.RangeIndex(n_steps + 1, name="step"),
                         columns=[*BAND_QUANTILES, "mean"])
    stats, se = peg_statistics(raw.terminal, raw.min_price, raw.steps_below, raw.first_breach, raw.recovery, p0, dt)
    # a copy, not a view: a view of the first rows would keep the whole recorded buffer
    # (band_paths x (n_steps + 1), ~56 MB) alive for as long as the result is held
    paths = rec[:keep_paths].copy() if keep_paths else np.empty((0, n_steps + 1))
    return SimulationResult(
        params=params, scenario=scenario, seed=seed, backend=backend, n_paths=n_paths, n_steps=n_steps, dt=dt,
        initial_price=p0, keep_paths=keep_paths, terminal=raw.terminal, paths=paths, bands=bands, stats=stats,
        std_errors=se, min_price=raw.min_price, steps_below=raw.steps_below, first_breach=raw.first_breach,
        recovery=raw.recovery, step_std=np.sqrt(var), band_paths=int(rec.shape[0]),
        elapsed_s=time.perf_counter() - t0)


def replace_result(result: SimulationResult, **changes: Any) -> SimulationResult:
    """Copy of a result with fields changed (e.g. ``run_id``)."""
    return dataclasses.replace(result, **changes)
