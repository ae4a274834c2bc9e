"""Stress scenarios for the stable-token model: state paths and price shocks (SPEC §1).

A :class:`Scenario` fixes the exogenous state of the model -- liquidity pool ``L``,
network health ``H`` and fiat activity ``F`` -- and scheduled relative price shocks.
Each state input is given in one of three forms:

- a number: constant over the horizon;
- a sequence of ``n_steps`` numbers: one value per step (the value used by the
  transition from step ``t`` to ``t + 1``);
- a schedule ``{step: value}``: piecewise linear between the given steps, constant
  before the first and after the last. Presets use this form so they work for any
  horizon.

Shocks ``{step: s}`` multiply the price *at* step ``step`` (1-based: step 10 is the
price after ten transitions, i.e. day 10 at the default ``dt = 1/365``) by ``1 + s``
after the model step, then the 0.01 floor applies again (SPEC §1).

Decisions where SPEC is silent
------------------------------
- ``liquidity_pool`` >= 0 (the model floors ``L / 1e6`` at 0.1), ``network_health``
  and ``fiat_activity`` in [0, 1], shocks in (-1, 10] (a shock of -100 % or worse is
  not a price move but a default, which the model represents by the floor).
- A shock scheduled after the simulated horizon never happens inside the window and
  is ignored, the way a calendar event after the horizon is; a per-step array of the
  wrong length is an error, because its alignment with the steps would be a guess.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from riskcore.errors import InputError
from riskcore.validate import integer, real

__all__ = ["Scenario", "ResolvedScenario", "PRESETS", "PRESET_DATA", "preset", "save_scenario", "parse_state",
           "parse_shocks", "format_state", "format_shocks",
           "load_scenario", "list_saved_scenarios"]

#: allowed closed ranges of the state inputs
STATE_RANGES: dict[str, tuple[float, float]] = {
    "liquidity_pool": (0.0, math.inf),
    "network_health": (0.0, 1.0),
    "fiat_activity": (0.0, 1.0),
}
#: defaults of the state (SPEC §1)
STATE_DEFAULTS: dict[str, float] = {"liquidity_pool": 1_000_000.0, "network_health": 1.0, "fiat_activity": 0.5}
SHOCK_RANGE = (-1.0, 10.0)  # open below, closed above

StateInput = float | tuple[float, ...] | dict[int, float]


def _check_number(name: str, value: Any, lo: float, hi: float) -> float:
    return real(name, value, lo=lo, hi=None if hi == math.inf else hi)


def _check_step(name: str, key: Any) -> int:
    try:
        step = int(key)
    except (TypeError, ValueError):
        raise InputError(name, "step keys must be integers", value=key) from None
    if isinstance(key, float) and key != step:
        raise InputError(name, "step keys must be integers", value=key)
    return step


def _normalise_state(name: str, value: Any) -> StateInput:
    lo, hi = STATE_RANGES[name]
    if isinstance(value, Mapping):
        if not value:
            raise InputError(name, "a schedule {step: value} needs at least one entry")
        out: dict[int, float] = {}
        for k, v in value.items():
            step = _check_step(name, k)
            if step < 0:
                raise InputError(f"{name}[{step}]", "schedule steps must be >= 0", value=step)
            out[step] = _check_number(f"{name}[{step}]", v, lo, hi)
        return dict(sorted(out.items()))
    if isinstance(value, (np.ndarray, Sequence)) and not isinstance(value, str):
        arr = np.asarray(value, dtype=object if not isinstance(value, np.ndarray) else None)
        if arr.ndim != 1 or arr.size == 0:
            raise InputError(name, "a per-step array must be one-dimensional and non-empty",
                             value=f"shape {arr.shape}")
        return tuple(_check_number(f"{name}[{i}]", v, lo, hi) for i, v in enumerate(arr.tolist()))
    return _check_number(name, value, lo, hi)


def _resolve_state(name: str, value: StateInput, n_steps: int) -> np.ndarray:
    if isinstance(value, float):
        return np.full(n_steps, value)
    if isinstance(value, tuple):
        if len(value) != n_steps:
            raise InputError(name, f"a per-step array must have one value per step ({n_steps})",
                             value=f"length {len(value)}")
        return np.asarray(value, dtype=np.float64)
    steps = np.fromiter(value.keys(), dtype=np.float64)
    vals = np.fromiter(value.values(), dtype=np.float64)
    return np.interp(np.arange(n_steps, dtype=np.float64), steps, vals)


@dataclass(frozen=True)
class ResolvedScenario:
    """Per-step inputs of a scenario over a horizon of ``n_steps`` transitions.

    ``liquidity_pool[t]``, ``network_health[t]``, ``fiat_activity[t]`` drive the
    transition from step ``t`` to ``t + 1``; ``shocks[t]`` is the relative shock applied
    to the price at step ``t + 1`` (0 where none).
    """

    liquidity_pool: np.ndarray
    network_health: np.ndarray
    fiat_activity: np.ndarray
    shocks: np.ndarray

    @property
    def n_steps(self) -> int:
        return int(self.shocks.shape[0])


@dataclass(frozen=True)
class Scenario:
    """Exogenous state and price shocks of one stress scenario.

    Parameters
    ----------
    name : str, default "baseline"
    liquidity_pool : float, sequence or {step: value}, default 1e6
        Liquidity pool ``L`` (currency), >= 0.
    network_health : float, sequence or {step: value}, default 1.0
        Network health ``H`` in [0, 1]; below 0.8 the volatility doubles.
    fiat_activity : float, sequence or {step: value}, default 0.5
        Fiat activity ``F`` in [0, 1].
    shocks : {step: relative shock}, default {}
        Price multiplied by ``1 + shock`` at that step (step >= 1), shock in (-1, 10].
    description : str, default ""

    Raises
    ------
    InputError
        For values out of range, NaN, empty or multi-dimensional arrays, bad step keys.

    Examples
    --------
    >>> s = Scenario(name="crash", shocks={10: -0.3})
    >>> s.resolve(365).shocks[9]
    -0.3
    >>> Scenario.from_dict(s.to_dict()) == s
    True
    """

    name: str = "baseline"
    liquidity_pool: StateInput = STATE_DEFAULTS["liquidity_pool"]
    network_health: StateInput = STATE_DEFAULTS["network_health"]
    fiat_activity: StateInput = STATE_DEFAULTS["fiat_activity"]
    shocks: dict[int, float] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError("name", "must be a non-empty string", value=self.name)
        if not isinstance(self.description, str):
            raise InputError("description", "must be a string", value=self.description)
        for name in STATE_RANGES:
            object.__setattr__(self, name, _normalise_state(name, getattr(self, name)))
        if not isinstance(self.shocks, Mapping):
            raise InputError("shocks", "must be a mapping {step: relative shock}", value=self.shocks)
        shocks: dict[int, float] = {}
        for k, v in self.shocks.items():
            step = _check_step("shocks", k)
            if step < 1:
                raise InputError(f"shocks[{step}]", "shock steps must be >= 1 (step 0 is the initial price)",
                                 value=step)
            s = _check_number(f"shocks[{step}]", v, -math.inf, SHOCK_RANGE[1])
            if s <= SHOCK_RANGE[0]:
                raise InputError(f"shocks[{step}]", "must be a relative shock in (-1, 10]", value=v)
            shocks[step] = s
        object.__setattr__(self, "shocks", dict(sorted(shocks.items())))

    def resolve(self, n_steps: int) -> ResolvedScenario:
        """Per-step arrays over ``n_steps`` transitions (see :class:`ResolvedScenario`).

        Raises
        ------
        InputError
            If ``n_steps`` < 1 or a per-step array does not have ``n_steps`` values.
        """
        n = integer("n_steps", n_steps, 1)
        arrays = {name: _resolve_state(name, getattr(self, name), n) for name in STATE_RANGES}
        shocks = np.zeros(n)
        for step, s in self.shocks.items():
            if step <= n:  # shocks after the horizon never happen inside it
                shocks[step - 1] = s
        return ResolvedScenario(shocks=shocks, **arrays)

    def replace(self, **changes: Any) -> Scenario:
        """Validated copy with ``changes`` applied."""
        data = self.to_dict()
        unknown = set(changes) - set(data)
        if unknown:
            raise InputError(sorted(unknown)[0], f"unknown scenario field; allowed: {', '.join(data)}")
        data.update(changes)
        return Scenario.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict; schedules keep their step keys as strings-safe ints."""

        def enc(v: StateInput) -> Any:
            if isinstance(v, tuple):
                return list(v)
            if isinstance(v, dict):
                return {"schedule": [[k, x] for k, x in v.items()]}
            return v

        return {
            "name": self.name,
            "description": self.description,
            "liquidity_pool": enc(self.liquidity_pool),
            "network_health": enc(self.network_health),
            "fiat_activity": enc(self.fiat_activity),
            "shocks": [[k, v] for k, v in self.shocks.items()],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """Inverse of :meth:`to_dict`; also accepts ``shocks``/schedules as plain mappings."""
        if not isinstance(data, Mapping):
            raise InputError("scenario", "must be a mapping", value=type(data).__name__)
        allowed = {"name", "description", "shocks", *STATE_RANGES}
        unknown = set(data) - allowed
        if unknown:
            raise InputError(sorted(unknown)[0], f"unknown scenario field; allowed: {', '.join(sorted(allowed))}")

        def dec(v: Any) -> Any:
            if isinstance(v, Mapping) and set(v) == {"schedule"}:
                return {int(k): x for k, x in v["schedule"]}
            return v

        kwargs: dict[str, Any] = {k: dec(data[k]) for k in STATE_RANGES if k in data}
        shocks = data.get("shocks", {})
        if isinstance(shocks, list):
            try:
                shocks = {int(k): v for k, v in shocks}
            except (TypeError, ValueError):
                raise InputError("shocks", "must be a list of [step, shock] pairs", value=shocks) from None
        return cls(name=data.get("name", "baseline"), description=data.get("description", ""),
                   shocks=shocks, **kwargs)

    def is_baseline_state(self) -> bool:
        """True when every state input is the default constant and there are no shocks."""
        return not self.shocks and all(getattr(self, k) == v for k, v in STATE_DEFAULTS.items())


#: The presets, as data (editable copies via :func:`preset`). Steps are days at ``dt = 1/365``.
#:
#: Each preset stresses what its name says through the model's own inputs (SPEC §1), together, as the
#: event would: price shocks (the market's reaction), network health (below 0.8 the volatility doubles),
#: fiat activity (below 0.98 the support is ``gamma * 0.002 * min(2, 2F)``, so less fiat activity means
#: a slower recovery; below 0.1 the decay above 1.02 is doubled) and liquidity (it only scales the decay
#: above 1.02, so draining it alone cannot push the price down — the old presets that changed only
#: liquidity or only fiat activity left every statistic within a standard error of the baseline). The
#: descriptions say which inputs change and why. Model parameters are never changed by a preset.
PRESET_DATA: dict[str, dict[str, Any]] = {
    "baseline": {"description": "Default state: L = 1,000,000, H = 1, F = 0.5, no shocks."},
    "bank_run": {
        "description": ("A run on the token: holders redeem at once. Shocks -6 %, -5 %, -4 % on days 5-7 (the "
                        "first redemptions sold into the market); liquidity drains 90 % over 30 days and stays at "
                        "10 % (the pool pays the redemptions); network health 0.7 for 60 days (confidence breaks: "
                        "volatility doubles); fiat activity falls to 0.15 by day 30 and recovers to 0.5 by day 180 "
                        "(the fiat rails are overwhelmed, so the support below 0.98 is cut to 30 %)."),
        "shocks": [[5, -0.06], [6, -0.05], [7, -0.04]],
        "liquidity_pool": {"schedule": [[0, 1_000_000.0], [30, 100_000.0]]},
        "network_health": {"schedule": [[0, 0.7], [59, 0.7], [60, 1.0]]},
        "fiat_activity": {"schedule": [[0, 0.5], [30, 0.15], [180, 0.5]]},
    },
    "fiat_flight": {
        "description": ("Users leave the token's fiat rail. Fiat activity 0.05 for the whole horizon (the support "
                        "below 0.98 drops to a tenth, and the decay above 1.02 doubles by the fiat penalty); "
                        "liquidity halves over 90 days (fiat market makers leave); the selling shows as a -2 % "
                        "shock every 15 days for 90 days (six shocks, about -11 % in all)."),
        "fiat_activity": 0.05,
        "liquidity_pool": {"schedule": [[0, 1_000_000.0], [90, 500_000.0]]},
        "shocks": [[15, -0.02], [30, -0.02], [45, -0.02], [60, -0.02], [75, -0.02], [90, -0.02]],
    },
    "network_degradation": {
        "description": ("The network degrades: health 0.6 for the first 60 days (volatility doubles), with a -3 % "
                        "shock on day 20 (an outage: holders who cannot transact sell at a discount)."),
        "network_health": {"schedule": [[0, 0.6], [59, 0.6], [60, 1.0]]},
        "shocks": [[20, -0.03]],
    },
    "crash": {
        "description": ("A market crash: a -30 % price shock on day 10, followed by 30 days of panic (network "
                        "health 0.7: volatility doubles) and liquidity halved over the same 30 days."),
        "shocks": [[10, -0.3]],
        "network_health": {"schedule": [[0, 1.0], [9, 1.0], [10, 0.7], [40, 0.7], [41, 1.0]]},
        "liquidity_pool": {"schedule": [[0, 1_000_000.0], [10, 1_000_000.0], [40, 500_000.0],
                                        [41, 1_000_000.0]]},
    },
}
PRESET_DATA["combined"] = {
    "description": ("All at once: the shocks of the bank run (days 5-7), the crash (day 10), the outage (day 20) "
                    "and the fiat flight (every 15 days to day 90); each input at its most stressed value of the "
                    "four: liquidity drains as in the bank run, fiat activity 0.05, network health 0.6 for 60 "
                    "days."),
    "shocks": sorted({k: v for name in ("bank_run", "fiat_flight", "network_degradation", "crash")
                      for k, v in PRESET_DATA[name]["shocks"]}.items()),
    "liquidity_pool": PRESET_DATA["bank_run"]["liquidity_pool"],
    "fiat_activity": 0.05,
    "network_health": PRESET_DATA["network_degradation"]["network_health"],
}

#: name -> Scenario for every preset, in display order
PRESETS: dict[str, Scenario] = {name: Scenario.from_dict({"name": name, **data}) for name, data in PRESET_DATA.items()}


def preset(name: str) -> Scenario:
    """The preset scenario called ``name`` (see :data:`PRESETS`)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise InputError("scenario", f"unknown preset; allowed: {', '.join(PRESETS)}", value=name) from None


_INDEX_KEY = "scenario_index"


def save_scenario(store: Any, scenario: Scenario) -> None:
    """Save ``scenario`` in the store's settings as ``scenario:<name>`` (replacing one of that name).

    A preset's name is refused (:class:`InputError` on ``name``): a saved scenario
    would shadow the preset in :func:`load_scenario`, and a stress report would then
    run something other than what its row says.
    """
    if not isinstance(scenario, Scenario):
        raise InputError("scenario", "must be a Scenario", value=type(scenario).__name__)
    if scenario.name in PRESETS:
        raise InputError("name", f"is the name of a preset; save the scenario under another name "
                         f"(presets: {', '.join(PRESETS)})", value=scenario.name)
    store.set_setting(f"scenario:{scenario.name}", scenario.to_dict())
    names = list(store.get_setting(_INDEX_KEY, []) or [])
    if scenario.name not in names:
        store.set_setting(_INDEX_KEY, [*names, scenario.name])


def load_scenario(store: Any, name: str) -> Scenario:
    """A scenario saved with :func:`save_scenario`, else the preset of that name."""
    data = store.get_setting(f"scenario:{name}", None)
    if data is None:
        if name in PRESETS:
            return PRESETS[name]
        raise InputError("scenario", "no saved scenario or preset has this name", value=name)
    return Scenario.from_dict(data)


def list_saved_scenarios(store: Any) -> list[str]:
    """Names of the scenarios saved in ``store`` (presets not included)."""
    return [n for n in (store.get_setting(_INDEX_KEY, []) or []) if store.get_setting(f"scenario:{n}") is not None]


# ---- text form (the Scenario Lab editor) ---------------------------------------------------


def format_state(value: StateInput) -> str:
    """Text of a state input: ``"0.5"``, ``"0:1000000, 30:100000"`` or a JSON list."""
    if isinstance(value, dict):
        return ", ".join(f"{k}:{v:g}" for k, v in value.items())
    if isinstance(value, tuple):
        return "[" + ", ".join(f"{v:g}" for v in value) + "]"
    return f"{value:g}"


def format_shocks(shocks: Mapping[int, float]) -> str:
    """Text of the shocks, ``"10:-0.3, 50:0.1"`` (empty when none)."""
    return ", ".join(f"{k}:{v:g}" for k, v in shocks.items())


def _parse_pairs(name: str, text: str) -> dict[int, float]:
    out: dict[int, float] = {}
    for i, part in enumerate(p for p in text.split(",") if p.strip()):
        if ":" not in part:
            raise InputError(name, f"entry {i + 1} must be 'step:value'", value=part.strip())
        k, v = part.split(":", 1)
        try:
            out[int(k.strip())] = float(v.strip())
        except ValueError:
            raise InputError(name, f"entry {i + 1} must be 'step:value' with an integer step", value=part.strip()) \
                from None
    return out


def parse_state(name: str, text: str) -> StateInput:
    """Parse the text of a state input: a number, ``step:value`` pairs, or a JSON list of per-step values."""
    import json

    t = (text or "").strip()
    if not t:
        raise InputError(name, "must be a number, 'step:value' pairs or a list of per-step values", value=text)
    if t.startswith("["):
        try:
            values = json.loads(t)
        except ValueError as exc:
            raise InputError(name, f"not a valid list: {exc}", value=t[:40]) from None
        return _normalise_state(name, values)
    if ":" in t:
        return _normalise_state(name, _parse_pairs(name, t))
    try:
        number = float(t)
    except ValueError:
        raise InputError(name, "must be a number, 'step:value' pairs or a list of per-step values", value=t) from None
    return _normalise_state(name, number)


def parse_shocks(text: str) -> dict[int, float]:
    """Parse ``"10:-0.3, 50:0.1"`` into ``{10: -0.3, 50: 0.1}`` (validated by :class:`Scenario`)."""
    return _parse_pairs("shocks", text or "")
