"""Parameter sweeps and reverse stress tests of the peg model.

:func:`sweep` runs :func:`~riskcore.peg.montecarlo.simulate` on the Cartesian product of parameter and
scenario values and returns one tidy table (a row per grid point: the grid values, then every peg
statistic and its Monte Carlo standard error). :func:`reverse_stress` searches the least severe
scenario under which a criterion such as ``P(min < 0.95) >= 5 %`` is breached.

Common random numbers
---------------------
Every grid point and every search step uses the same seed. On the ``numba`` and ``dask`` backends
path ``i`` draws from its own stream, whose normals do not depend on the price, so path ``i`` sees
the same diffusion shocks at every point and differences between points are the effect of the
parameters, not of sampling noise; the ``numpy`` and ``torch`` backends consume their generator in an
order that does not depend on the parameters either. This holds exactly while ``jump_intensity`` is the
same at the points compared: the jump times come from the same uniforms with another rate, so
after the first jump a path's later draws shift.

Grid keys
---------
- any field of :class:`~riskcore.params.ModelParameters` (values checked against its range, and
  ``alpha * dt < 1``);
- ``scenario``: preset names or :class:`~riskcore.peg.scenarios.Scenario` objects;
- ``liquidity_pool``, ``network_health``, ``fiat_activity``: a constant state replacing the scenario's;
- ``shock``: a relative price shock at step ``shock_step`` (default 10), replacing the scenario's
  shock at that step (0 means none).
"""

from __future__ import annotations

import itertools
import math
import operator
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from riskcore.errors import InputError
from riskcore.kinds import RunKind
from riskcore.params import ModelParameters
from riskcore.peg.montecarlo import STAT_DESCRIPTIONS, Backend, _check_positive, _resolve_seed, simulate
from riskcore.peg.scenarios import PRESETS, STATE_RANGES, Scenario, preset
from riskcore.validate import integer

__all__ = ["sweep", "SweepResult", "reverse_stress", "ReverseStressResult", "Criterion", "Direction", "parse_grid_text",
           "SCENARIO_KEYS", "MAX_GRID_POINTS", "SWEEP_KIND", "REVERSE_KIND"]

#: largest grid a sweep accepts
MAX_GRID_POINTS = 10_000
#: grid keys that change the scenario rather than the parameters
SCENARIO_KEYS: tuple[str, ...] = ("scenario", *STATE_RANGES, "shock")
#: store kinds
SWEEP_KIND = RunKind.PEG_SWEEP
REVERSE_KIND = RunKind.PEG_REVERSE_STRESS
#: shock range (as in :class:`~riskcore.peg.scenarios.Scenario`: open below)
_SHOCK = (-1.0, 10.0)

ProgressFn = Callable[[float], None]


# ---- grid ----------------------------------------------------------------------------------------
def _check_value(key: str, value: Any, dt: float) -> Any:
    """One grid value, validated (raises InputError naming ``grid[key]``)."""
    name = f"grid[{key}]"
    if key == "scenario":
        if isinstance(value, Scenario):
            return value
        if isinstance(value, str) and value in PRESETS:
            return preset(value)
        raise InputError(name, f"must be a Scenario or a preset name ({', '.join(PRESETS)})", value=value)
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)):
        raise InputError(name, "must be a finite number", value=value)
    v = float(value)
    if key == "shock":
        if not _SHOCK[0] < v <= _SHOCK[1]:
            raise InputError(name, "must be a relative shock in (-1, 10]", value=value)
        return v
    if key in STATE_RANGES:
        lo, hi = STATE_RANGES[key]
        if not lo <= v <= hi:
            raise InputError(name, f"must be in [{lo:g}, {hi:g}]", value=value)
        return v
    spec = ModelParameters.specs()[key]
    try:
        checked = spec.check(name, value)
    except InputError as exc:
        raise InputError(name, f"{exc.detail} ({spec.describe()})", value=value) from None
    if key == "alpha" and checked * dt >= 1.0:
        raise InputError(name, f"alpha * dt must be < 1 for a stable step (dt = {dt:g}: alpha < {1 / dt:g})",
                         value=value)
    return checked


def _check_grid(grid: Any, dt: float) -> dict[str, list[Any]]:
    if not isinstance(grid, Mapping) or not grid:
        raise InputError("grid", "must be a non-empty mapping {name: [values]}", value=grid)
    allowed = set(ModelParameters.field_names()) | set(SCENARIO_KEYS)
    out: dict[str, list[Any]] = {}
    size = 1
    for key, values in grid.items():
        if key not in allowed:
            raise InputError("grid", f"unknown name; allowed: parameters ({', '.join(ModelParameters.field_names())}) "
                             f"and {', '.join(SCENARIO_KEYS)}", value=key)
        if isinstance(values, (str, Scenario)) or not isinstance(values, (Sequence, np.ndarray)):
            values = [values]
        values = list(values)
        if not values:
            raise InputError(f"grid[{key}]", "needs at least one value", value=values)
        size *= len(values)
        if size > MAX_GRID_POINTS:
            raise InputError("grid", f"has more than {MAX_GRID_POINTS:,} points; split the sweep",
                             value=" x ".join(str(len(v)) for v in [*out.values(), values]))
        out[key] = [_check_value(key, v, dt) for v in values]
    return out


def _point(base: ModelParameters, scenario: Scenario, point: Mapping[str, Any], shock_step: int,
           ) -> tuple[ModelParameters, Scenario]:
    """Parameters and scenario of one grid point."""
    changes = {k: v for k, v in point.items() if k not in SCENARIO_KEYS}
    params = base.replace(**changes) if changes else base
    scen = point.get("scenario", scenario)
    state = {k: float(point[k]) for k in STATE_RANGES if k in point}
    if state or "shock" in point:
        data = scen.to_dict()
        data.update(state)
        if "shock" in point:
            shocks = {int(k): v for k, v in data["shocks"]}
            shocks.pop(shock_step, None)
            if point["shock"] != 0.0:
                shocks[shock_step] = point["shock"]
            data["shocks"] = shocks
        scen = Scenario.from_dict(data)
    return params, scen


def _label(value: Any) -> Any:
    return value.name if isinstance(value, Scenario) else value


# ---- runners -------------------------------------------------------------------------------------
def _numba_stats(params: ModelParameters, scen: Scenario, n_paths: int, n_steps: int, dt: float, seed: int,
                 p0: float) -> tuple[dict[str, float], dict[str, float]] | None:
    """Statistics of a numba run without the per-step quantile bands (None if the engine's internals moved).

    A sweep reduces each point to its statistics; :func:`simulate` also records 20,000 paths and sorts
    every step for the fan-chart bands, which costs more than the kernel itself at 100,000 paths
    (measured 0.74 of 0.98 s at 10,000 paths x 365 steps). The same kernel and seeds give the same
    per-path numbers, hence the same statistics, as :func:`simulate` (tested).
    """
    try:
        from riskcore.peg.model import step_coefficients
        from riskcore.peg.montecarlo import _run_numba, peg_statistics
    except ImportError:  # pragma: no cover - the engine was reorganised: fall back to simulate()
        return None
    c = step_coefficients(params, scen.resolve(n_steps), dt)
    raw = _run_numba(c, n_paths, p0, seed, 0, None)
    return peg_statistics(raw.terminal, raw.min_price, raw.steps_below, raw.first_breach, raw.recovery, p0, dt)


def _run_point(task: tuple[Any, ...]) -> dict[str, float]:
    """Simulate one point and return its statistics and standard errors (module level: a Dask task)."""
    params, scen, n_paths, n_steps, dt, seed, backend, p0 = task
    t0 = time.perf_counter()
    fast = _numba_stats(params, scen, n_paths, n_steps, dt, seed, p0) if backend == Backend.NUMBA.value else None
    if fast is None:
        r = simulate(params, n_paths, n_steps=n_steps, dt=dt, seed=seed, backend=backend, initial_price=p0,
                     scenario=scen)
        fast = (r.stats, r.std_errors)
    out = dict(fast[0])
    out.update({f"{k}_se": v for k, v in fast[1].items()})
    out["elapsed_s"] = time.perf_counter() - t0
    return out


def _run_all(tasks: list[tuple[Any, ...]], backend: Backend, progress: ProgressFn | None) -> list[dict[str, float]]:
    if backend is Backend.DASK:
        from riskcore.distributed import map_chunks

        # one task per grid point, each running the numba kernel on its worker (paths are not split
        # further: a sweep has many points, and a point's numbers are the same as the numba backend's)
        return map_chunks(_run_point, [(*t[:6], Backend.NUMBA.value, t[7]) for t in tasks], progress=progress)
    out = []
    for i, t in enumerate(tasks):
        out.append(_run_point(t))
        if progress is not None:
            progress((i + 1) / len(tasks))
    return out


# ---- sweep ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SweepResult:
    """A parameter sweep: one row per grid point.

    Attributes
    ----------
    table : DataFrame
        Columns: the grid keys (scenarios by name), every statistic of
        :data:`~riskcore.peg.montecarlo.STAT_DESCRIPTIONS`, each followed by ``<stat>_se``, and ``elapsed_s``.
    grid : dict
        The grid as given (scenario values by name).
    """

    params: ModelParameters
    scenario: Scenario
    grid: dict[str, list[Any]]
    table: pd.DataFrame
    n_paths: int
    n_steps: int
    dt: float
    seed: int
    backend: Backend
    initial_price: float
    shock_step: int
    elapsed_s: float
    run_id: str | None = field(default=None, compare=False)

    @property
    def keys(self) -> list[str]:
        return list(self.grid)

    def summary(self) -> pd.DataFrame:
        """The tidy table (a copy)."""
        return self.table.copy()

    def pivot(self, statistic: str, x: str, y: str) -> pd.DataFrame:
        """``statistic`` over two grid keys (rows ``y``, columns ``x``), averaged over any other key."""
        for name, key in (("x", x), ("y", y)):
            if key not in self.grid:
                raise InputError(name, f"must be a grid key ({', '.join(self.grid)})", value=key)
        if statistic not in self.table.columns:
            raise InputError("statistic", f"must be one of {', '.join(STAT_DESCRIPTIONS)}", value=statistic)
        return self.table.pivot_table(index=y, columns=x, values=statistic, aggfunc="mean", sort=False)

    def settings(self) -> dict[str, Any]:
        return {"n_paths": self.n_paths, "n_steps": self.n_steps, "dt": self.dt, "seed": self.seed,
                "backend": self.backend.value, "initial_price": self.initial_price, "shock_step": self.shock_step}

    def to_dict(self) -> dict[str, Any]:
        return {"params": self.params.to_dict(), "scenario": self.scenario.to_dict(), "grid": _grid_json(self.grid),
                **self.settings(), "elapsed_s": self.elapsed_s, "run_id": self.run_id}

    def save(self, store: Any, name: str | None = None) -> str:
        """Save as a run of kind ``"peg_sweep"`` (the table is the summary); returns the run id."""
        return store.save_run(SWEEP_KIND, self.params, self.seed, self.table, name=name,
                              scenario=self.scenario.to_dict(), grid=_grid_json(self.grid), settings=self.settings(),
                              elapsed_s=self.elapsed_s)

    @classmethod
    def load(cls, store: Any, run_id: str) -> SweepResult:
        rec = store.load_run(run_id, kind=SWEEP_KIND)
        s = rec.extra["settings"]
        return cls(params=ModelParameters.from_dict(rec.params), scenario=Scenario.from_dict(rec.extra["scenario"]),
                   grid={k: list(v) for k, v in rec.extra["grid"].items()}, table=rec.summary,
                   n_paths=int(s["n_paths"]), n_steps=int(s["n_steps"]), dt=float(s["dt"]), seed=int(s["seed"]),
                   backend=Backend.parse(s["backend"]), initial_price=float(s["initial_price"]),
                   shock_step=int(s["shock_step"]), elapsed_s=float(rec.extra["elapsed_s"]), run_id=rec.run_id)


def _grid_json(grid: Mapping[str, list[Any]]) -> dict[str, list[Any]]:
    return {k: [_label(v) for v in vals] for k, vals in grid.items()}


def _common(params: ModelParameters | None, scenario: Scenario | str | None, n_paths: Any, n_steps: Any, dt: Any,
            seed: Any, backend: Any, initial_price: Any, shock_step: Any) -> tuple[Any, ...]:
    if params is None:
        params = ModelParameters()
    if not isinstance(params, ModelParameters):
        raise InputError("params", "must be a ModelParameters", value=type(params).__name__)
    if scenario is None:
        scenario = Scenario()
    elif isinstance(scenario, str):
        scenario = preset(scenario)
    elif not isinstance(scenario, Scenario):
        raise InputError("scenario", "must be a Scenario, a preset name or None", value=type(scenario).__name__)
    n_paths = integer("n_paths", n_paths, 2, 10_000_000)
    n_steps = integer("n_steps", n_steps, 1, 100_000)
    dt = _check_positive("dt", dt, 1.0)
    if params.alpha * dt >= 1.0:
        raise InputError("alpha", f"alpha * dt must be < 1 (dt = {dt:g}: alpha < {1 / dt:g})", value=params.alpha)
    p0 = _check_positive("initial_price", initial_price, 1e6)
    shock_step = integer("shock_step", shock_step, 1, n_steps)
    return params, scenario, n_paths, n_steps, dt, _resolve_seed(seed), Backend.parse(backend), p0, shock_step


def sweep(params: ModelParameters | None = None, grid: Mapping[str, Any] | None = None,
          scenario: Scenario | str | None = None, n_paths: int = 10_000, n_steps: int = 365, dt: float = 1 / 365,
          seed: int | np.random.Generator = 0, backend: Backend | str = Backend.NUMBA, initial_price: float = 1.0,
          shock_step: int = 10, progress: ProgressFn | None = None) -> SweepResult:
    """Peg statistics over the Cartesian product of parameter and scenario values.

    Parameters
    ----------
    params : ModelParameters, optional
        Values of every parameter not in the grid (default: the defaults).
    grid : mapping
        ``{key: [values]}``; keys in the module docstring; at most 10,000 points in all.
    scenario : Scenario or preset name, optional
        The scenario of every point unless the grid has ``scenario``.
    n_paths, n_steps, dt, seed, backend, initial_price
        As in :func:`~riskcore.peg.montecarlo.simulate`; the same seed at every point (common random
        numbers). ``dask`` runs one task per grid point.
    shock_step : int, default 10
        Step of the grid's ``shock``.
    progress : callable, optional
        Fraction of points done.

    Returns
    -------
    SweepResult

    Raises
    ------
    InputError
        Before any simulation: empty or too large grids, unknown keys, values outside their range.

    Examples
    --------
    >>> res = sweep(grid={"alpha": [0.5, 1.0], "sigma_base": [0.02, 0.05]}, n_paths=2000)  # doctest: +SKIP
    >>> res.pivot("p_min_below_0.95", "alpha", "sigma_base")                              # doctest: +SKIP
    """
    t0 = time.perf_counter()
    params, scenario, n_paths, n_steps, dt, seed, backend, p0, shock_step = _common(
        params, scenario, n_paths, n_steps, dt, seed, backend, initial_price, shock_step)
    g = _check_grid(grid, dt)
    points = [dict(zip(g, combo, strict=True)) for combo in itertools.product(*g.values())]
    resolved = [_point(params, scenario, pt, shock_step) for pt in points]  # validates every point first
    tasks = [(pp, sc, n_paths, n_steps, dt, seed, backend.value, p0) for pp, sc in resolved]
    rows = _run_all(tasks, backend, progress)
    grid_cols = pd.DataFrame([{k: _label(v) for k, v in pt.items()} for pt in points])
    stat_cols = [c for k in STAT_DESCRIPTIONS for c in (k, f"{k}_se")] + ["elapsed_s"]
    table = pd.concat([grid_cols, pd.DataFrame(rows)[stat_cols]], axis=1)
    return SweepResult(params=params, scenario=scenario, grid=_grid_json(g), table=table, n_paths=n_paths,
                       n_steps=n_steps, dt=dt, seed=seed, backend=backend, initial_price=p0, shock_step=shock_step,
                       elapsed_s=time.perf_counter() - t0)


# ---- reverse stress --------------------------------------------------------------------------------
class Direction(StrEnum):
    """How a criterion compares its statistic with the threshold."""

    AT_LEAST = ">="
    AT_MOST = "<="


_OPS = {Direction.AT_LEAST: operator.ge, Direction.AT_MOST: operator.le}


@dataclass(frozen=True)
class Criterion:
    """A breach condition on one peg statistic, e.g. ``Criterion("p_min_below_0.95", ">=", 0.05)``.

    Raises :class:`InputError` for an unknown statistic or direction, or a threshold no Monte Carlo
    estimate can cross (a probability compared with a number outside (0, 1), a drawdown outside
    (0, 1], a negative number of days).
    """

    statistic: str
    direction: Direction | str
    threshold: float

    def __post_init__(self) -> None:
        if self.statistic not in STAT_DESCRIPTIONS:
            raise InputError("criterion.statistic", f"must be one of {', '.join(STAT_DESCRIPTIONS)}",
                             value=self.statistic)
        try:
            object.__setattr__(self, "direction", Direction(self.direction))
        except ValueError:
            raise InputError("criterion.direction", "must be '>=' or '<='", value=self.direction) from None
        t = self.threshold
        if isinstance(t, bool) or not isinstance(t, (int, float, np.floating, np.integer)) or not math.isfinite(t):
            raise InputError("criterion.threshold", "must be a finite number", value=t)
        object.__setattr__(self, "threshold", float(t))
        lo, hi = _STAT_RANGE.get(self.statistic, (-math.inf, math.inf))
        if not lo < self.threshold < hi and not (self.statistic.endswith("drawdown") and self.threshold == hi):
            raise InputError("criterion.threshold", f"{self.statistic} lies in [{lo:g}, {hi:g}]: a threshold of "
                             f"{self.threshold:g} is always or never breached (impossible criterion)", value=t)

    @classmethod
    def parse(cls, text: str) -> Criterion:
        """``"p_min_below_0.95 >= 0.05"`` -> Criterion."""
        for d in Direction:
            if d.value in str(text):
                stat, thr = str(text).split(d.value, 1)
                try:
                    value = float(thr)
                except ValueError:
                    raise InputError("criterion", "threshold must be a number", value=text) from None
                return cls(stat.strip(), d, value)
        raise InputError("criterion", "must look like 'p_min_below_0.95 >= 0.05'", value=text)

    def breached(self, value: float) -> bool:
        return bool(_OPS[Direction(self.direction)](value, self.threshold))

    def __str__(self) -> str:
        return f"{self.statistic} {Direction(self.direction).value} {self.threshold:g}"


_STAT_RANGE: dict[str, tuple[float, float]] = {
    **{k: (0.0, 1.0) for k in STAT_DESCRIPTIONS if k.startswith("p_")},
    "mean_drawdown": (0.0, 1.0), "worst_drawdown": (0.0, 1.0),
    "expected_days_below_0.98": (0.0, math.inf), "mean_days_to_recover": (0.0, math.inf),
    "mean_terminal": (0.0, math.inf), "std_terminal": (0.0, math.inf),
}


@dataclass(frozen=True, eq=False)
class ReverseStressResult:
    """The least severe scenario that breaches a criterion.

    Attributes
    ----------
    boundary : dict or None
        Values of the search dimensions at the boundary severity (None if not breached even at the most
        severe end; the mild end itself if already breached there).
    severity : float
        Boundary on the severity scale, 0 = the mild end, 1 = the severe end (NaN if not breached).
    severity_se : float
        Monte Carlo standard error of ``severity``: the statistic's standard error at the boundary divided
        by the local slope (delta method), combined with the remaining bisection bracket.
    evaluations : DataFrame
        Every point simulated: ``severity``, the dimension values, the statistic, its standard error and
        whether it breached.
    """

    criterion: Criterion
    search_space: dict[str, tuple[float, float]]
    boundary: dict[str, float] | None
    severity: float
    severity_se: float
    bracket: tuple[float, float]
    status: str
    evaluations: pd.DataFrame
    params: ModelParameters
    scenario: Scenario
    n_paths: int
    n_steps: int
    dt: float
    seed: int
    backend: Backend
    initial_price: float
    shock_step: int
    elapsed_s: float
    run_id: str | None = field(default=None, compare=False)

    def boundary_interval(self, z: float = 1.96) -> dict[str, tuple[float, float]]:
        """Each dimension's value at ``severity -/+ z * severity_se`` (clipped to the search space)."""
        if self.boundary is None:
            return {}
        lo = min(1.0, max(0.0, self.severity - z * self.severity_se))
        hi = min(1.0, max(0.0, self.severity + z * self.severity_se))
        return {k: (_at(mild, severe, lo), _at(mild, severe, hi)) for k, (mild, severe) in self.search_space.items()}

    def summary(self) -> pd.DataFrame:
        """One row per search dimension: mild and severe ends, boundary, 95 % interval."""
        ci = self.boundary_interval()
        rows = {k: {"mild": m, "severe": s, "boundary": (self.boundary or {}).get(k, math.nan),
                    "ci_low": ci.get(k, (math.nan, math.nan))[0], "ci_high": ci.get(k, (math.nan, math.nan))[1],
                    "severity": self.severity, "severity_se": self.severity_se, "status": self.status,
                    "criterion": str(self.criterion)}
                for k, (m, s) in self.search_space.items()}
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("dimension")

    def settings(self) -> dict[str, Any]:
        return {"n_paths": self.n_paths, "n_steps": self.n_steps, "dt": self.dt, "seed": self.seed,
                "backend": self.backend.value, "initial_price": self.initial_price, "shock_step": self.shock_step}

    def to_dict(self) -> dict[str, Any]:
        return {"criterion": {"statistic": self.criterion.statistic,
                              "direction": Direction(self.criterion.direction).value,
                              "threshold": self.criterion.threshold},
                "search_space": {k: list(v) for k, v in self.search_space.items()}, "boundary": self.boundary,
                "severity": self.severity, "severity_se": self.severity_se, "bracket": list(self.bracket),
                "status": self.status, "params": self.params.to_dict(), "scenario": self.scenario.to_dict(),
                **self.settings(), "elapsed_s": self.elapsed_s}

    def save(self, store: Any, name: str | None = None) -> str:
        """Save as a run of kind ``"peg_reverse_stress"``; returns the run id."""
        extra = {k: v for k, v in self.to_dict().items() if k not in ("params", "seed")}
        return store.save_run(REVERSE_KIND, self.params, self.seed, self.summary(), name=name,
                              evaluations=self.evaluations, **extra)

    @classmethod
    def load(cls, store: Any, run_id: str) -> ReverseStressResult:
        rec = store.load_run(run_id, kind=REVERSE_KIND)
        e = rec.extra
        c = e["criterion"]
        return cls(criterion=Criterion(c["statistic"], c["direction"], c["threshold"]),
                   search_space={k: (float(v[0]), float(v[1])) for k, v in e["search_space"].items()},
                   boundary=e["boundary"], severity=float(e["severity"]), severity_se=float(e["severity_se"]),
                   bracket=(float(e["bracket"][0]), float(e["bracket"][1])), status=e["status"],
                   evaluations=e["evaluations"], params=ModelParameters.from_dict(rec.params),
                   scenario=Scenario.from_dict(e["scenario"]), n_paths=int(e["n_paths"]), n_steps=int(e["n_steps"]),
                   dt=float(e["dt"]), seed=int(rec.seed), backend=Backend.parse(e["backend"]),
                   initial_price=float(e["initial_price"]), shock_step=int(e["shock_step"]),
                   elapsed_s=float(e["elapsed_s"]), run_id=rec.run_id)


def _at(mild: float, severe: float, s: float) -> float:
    return mild + s * (severe - mild)


def _check_space(space: Any, dt: float) -> dict[str, tuple[float, float]]:
    if not isinstance(space, Mapping) or not space:
        raise InputError("search_space", "must be a non-empty mapping {name: (mild, severe)}", value=space)
    out = {}
    for key, ends in space.items():
        if key == "scenario" or (key not in SCENARIO_KEYS and key not in ModelParameters.field_names()):
            raise InputError("search_space", "unknown or non-numeric dimension; allowed: parameters, "
                             "liquidity_pool, network_health, fiat_activity, shock", value=key)
        if isinstance(ends, (str, bytes)) or not isinstance(ends, (Sequence, np.ndarray)) or len(ends) != 2:
            raise InputError(f"search_space[{key}]", "must be a pair (mild, severe)", value=ends)
        mild, severe = (_check_value(key, v, dt) for v in ends)
        if mild == severe:
            raise InputError(f"search_space[{key}]", "mild and severe ends must differ", value=ends)
        out[key] = (float(mild), float(severe))
    return out


def reverse_stress(criterion: Criterion | str, search_space: Mapping[str, Any], params: ModelParameters | None = None,
                   scenario: Scenario | str | None = None, n_paths: int = 20_000, n_steps: int = 365,
                   dt: float = 1 / 365, seed: int | np.random.Generator = 0, backend: Backend | str = Backend.NUMBA,
                   initial_price: float = 1.0, shock_step: int = 10, tol: float = 1e-3, max_iter: int = 30,
                   progress: ProgressFn | None = None) -> ReverseStressResult:
    """The least severe scenario under which ``criterion`` is breached.

    Parameters
    ----------
    criterion : Criterion or str
        E.g. ``"p_min_below_0.95 >= 0.05"``.
    search_space : mapping
        ``{dimension: (mild, severe)}``, e.g. ``{"shock": (0.0, -0.5)}`` or
        ``{"liquidity_pool": (1e6, 1e4)}``; several dimensions move together along the segment from all
        mild ends to all severe ends (severity ``s`` in [0, 1] gives ``mild + s (severe - mild)`` each).
    params, scenario, n_paths, n_steps, dt, seed, backend, initial_price, shock_step
        As in :func:`sweep`.
    tol : float, default 1e-3
        Bisection stops when the bracket on the severity scale is narrower.
    max_iter : int, default 30

    Returns
    -------
    ReverseStressResult

    Notes
    -----
    The search is a bisection on the severity of Monte Carlo estimates that all use the same seed
    (common random numbers), so the estimated statistic is a fixed, nearly monotone function of the
    severity and bisection converges on the boundary of *this* sample. It assumes the statistic moves
    monotonically from the mild to the severe end (the mild end not breached, the severe end
    breached: both are simulated first; if the mild end already breaches, it is the answer; if the severe
    end does not, the result says so). The boundary's uncertainty is sampling noise: with ``se`` the
    statistic's standard error at the boundary and ``slope`` its change per unit of severity (a secant
    over a bracket of at least 0.05, from two extra simulations), the delta method gives
    ``se / |slope|``, combined in quadrature with half the final bracket.
    """
    t0 = time.perf_counter()
    crit = criterion if isinstance(criterion, Criterion) else Criterion.parse(criterion)
    params, scenario, n_paths, n_steps, dt, seed, backend, p0, shock_step = _common(
        params, scenario, n_paths, n_steps, dt, seed, backend, initial_price, shock_step)
    space = _check_space(search_space, dt)
    if not (isinstance(tol, (int, float)) and 0 < tol < 0.5):
        raise InputError("tol", "must be in (0, 0.5) (a fraction of the search segment)", value=tol)
    max_iter = integer("max_iter", max_iter, 1, 100)
    run_backend = Backend.NUMBA if backend is Backend.DASK else backend  # sequential search: no task fan-out
    evals: list[dict[str, Any]] = []
    budget = max_iter + 4

    def evaluate(s: float) -> tuple[float, float]:
        point = {k: _at(m, sv, s) for k, (m, sv) in space.items()}
        pp, sc = _point(params, scenario, point, shock_step)
        out = _run_point((pp, sc, n_paths, n_steps, dt, seed, run_backend.value, p0))
        v, se = out[crit.statistic], out[f"{crit.statistic}_se"]
        evals.append({"severity": s, **point, crit.statistic: v, "std_error": se, "breached": crit.breached(v)})
        if progress is not None:
            progress(min(1.0, len(evals) / budget))
        return v, se

    v0, _ = evaluate(0.0)
    v1, _ = evaluate(1.0)
    lo, hi = 0.0, 1.0
    if crit.breached(v0):
        status, sev, sev_se = "breached at the mild end", 0.0, 0.0
    elif not crit.breached(v1):
        status, sev, sev_se = "not breached in the search space", math.nan, math.nan
    else:
        for _ in range(max_iter):
            if hi - lo <= tol:
                break
            mid = (lo + hi) / 2.0
            v, _ = evaluate(mid)
            if crit.breached(v):
                hi = mid
            else:
                lo = mid
        sev = (lo + hi) / 2.0
        h = max(0.025, (hi - lo) / 2.0)
        a, b = max(0.0, sev - h), min(1.0, sev + h)
        va, _ = evaluate(a)
        vb, _ = evaluate(b)
        _, se_b = evaluate(sev)
        slope = (vb - va) / (b - a)
        delta = se_b / abs(slope) if slope != 0 else math.inf
        sev_se = math.hypot(delta, (hi - lo) / 2.0)
        status = "breached"
    boundary = None if math.isnan(sev) else {k: _at(m, s, sev) for k, (m, s) in space.items()}
    table = pd.DataFrame(evals).sort_values("severity", kind="stable").reset_index(drop=True)
    return ReverseStressResult(criterion=crit, search_space=space, boundary=boundary, severity=sev,
                               severity_se=sev_se, bracket=(lo, hi), status=status, evaluations=table, params=params,
                               scenario=scenario, n_paths=n_paths, n_steps=n_steps, dt=dt, seed=seed,
                               backend=backend, initial_price=p0, shock_step=shock_step,
                               elapsed_s=time.perf_counter() - t0)


def parse_grid_text(rows: Mapping[str, str]) -> dict[str, list[Any]]:
    """A grid from text, as typed in the Scenario Lab: ``{"alpha": "0.5, 1, 2", "scenario": "baseline, crash"}``.

    Values are comma-separated numbers (scenario names for ``scenario``); empty names are skipped. The
    result still goes through :func:`sweep`'s checks.
    """
    grid: dict[str, list[Any]] = {}
    for name, text in rows.items():
        key = str(name or "").strip()
        if not key:
            continue
        parts = [p.strip() for p in str(text or "").split(",") if p.strip()]
        if key == "scenario":
            grid[key] = parts
            continue
        try:
            grid[key] = [float(p) for p in parts]
        except ValueError:
            raise InputError(f"grid[{key}]", "values must be comma-separated numbers", value=text) from None
    return grid
