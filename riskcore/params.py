"""Validated, immutable parameters of the stable-token price model.

Fields and defaults are those of the source document's ``ModelParameters``
(seed 000, §1.1). Rates are per year, ``dt`` is in years (SPEC.md §1).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from riskcore.errors import InputError

__all__ = ["ModelParameters", "ParamSpec", "PARAM_GROUPS", "INERT_FIELDS", "max_stable_alpha", "check_stable_step"]

INF = math.inf


@dataclass(frozen=True)
class ParamSpec:
    """Allowed range and documentation of one parameter.

    ``lo``/``hi`` are bounds; ``lo_open``/``hi_open`` make them strict. ``price_model`` is
    False for a parameter the price model does not read (kept, validated and stored, but
    left out of :meth:`ModelParameters.model_hash`).
    """

    lo: float = -INF
    hi: float = INF
    lo_open: bool = False
    hi_open: bool = False
    integer: bool = False
    group: str = ""
    help: str = ""
    price_model: bool = True

    def describe(self) -> str:
        """Human-readable allowed range, e.g. ``"> 0"`` or ``"in [0, 1]"``."""
        lo_b = "(" if self.lo_open else "["
        hi_b = ")" if self.hi_open else "]"
        kind = "an integer" if self.integer else "a finite number"
        if self.lo == -INF and self.hi == INF:
            return kind
        if self.hi == INF:
            return f"{kind} {'>' if self.lo_open else '>='} {self.lo:g}"
        if self.lo == -INF:
            return f"{kind} {'<' if self.hi_open else '<='} {self.hi:g}"
        return f"{kind} in {lo_b}{self.lo:g}, {self.hi:g}{hi_b}"

    def check(self, name: str, value: Any) -> float | int:
        """Return ``value`` coerced to float/int, or raise :class:`InputError`."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                import numpy as np  # numpy scalars are fine, strings are not

                if isinstance(value, np.generic) and np.isreal(value):
                    value = value.item()
                else:
                    raise TypeError
            except TypeError:
                raise InputError(name, f"must be {self.describe()}", value=value) from None
        if not math.isfinite(value):
            raise InputError(name, f"must be {self.describe()}", value=value)
        if self.integer:
            if float(value) != int(value):
                raise InputError(name, f"must be {self.describe()}", value=value)
            value = int(value)
        else:
            value = float(value)
        too_low = value <= self.lo if self.lo_open else value < self.lo
        too_high = value >= self.hi if self.hi_open else value > self.hi
        if too_low or too_high:
            raise InputError(name, f"must be {self.describe()}", value=value)
        return value


def _p(default: float | int, **spec: Any) -> Any:
    return field(default=default, metadata={"spec": ParamSpec(**spec)})


def max_stable_alpha(dt: float) -> float:
    """The supremum of the mean-reversion speeds the explicit step can take with step ``dt`` (years): ``1 / dt``.

    SPEC §1: the step ``p + (-alpha (p - 1)) dt`` is stable only while ``alpha * dt < 1`` (at 1 it lands on
    the peg in one step, beyond it overshoots, from 2 on paths explode), so every allowed alpha is
    strictly below this value.
    """
    return 1.0 / float(dt)


def check_stable_step(alpha: float, dt: float, field: str = "alpha") -> None:
    """Raise :class:`InputError` unless ``alpha * dt < 1`` (SPEC §1), naming alpha, dt and the largest alpha.

    Examples
    --------
    >>> check_stable_step(0.5, 1 / 365)
    >>> check_stable_step(800.0, 1 / 365)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskcore.errors.InputError: alpha: alpha * dt must be < 1 ... alpha must be below 365 per year (got 800.0)
    """
    a, d = float(alpha), float(dt)
    if not a * d < 1.0:
        raise InputError(field, f"alpha * dt must be < 1 for a stable step; with dt = {d:.6g} years "
                         f"({1.0 / d:.6g} steps per year) alpha must be below {max_stable_alpha(d):.6g} per year",
                         value=alpha)


#: Display groups for forms (Scenario Lab), in order.
PARAM_GROUPS: tuple[str, ...] = ("dynamics", "fiat", "anti-speculation", "network", "jumps", "calibration")

#: Fields of the source document that no model code reads (SPEC §1 has no speculation fee, network growth or
#: refit schedule): the anti-speculation and network groups and the calibration window. They are validated,
#: saved and reloaded like the others, but change neither a simulation nor :meth:`ModelParameters.model_hash`.
INERT_FIELDS: tuple[str, ...] = ("speculation_penalty", "velocity_threshold", "grace_period_hours", "network_alpha",
                                 "adoption_threshold", "liquidity_minimum", "calibration_window",
                                 "recalibration_frequency")


@dataclass(frozen=True)
class ModelParameters:
    """Parameters of the stable-token jump-diffusion peg model.

    Every field keeps the source document's default. Construction validates every
    value and raises :class:`~riskcore.errors.InputError` naming the field and its
    allowed range. Instances are immutable; use :meth:`replace` for variations.

    Parameters
    ----------
    alpha : float, default 0.5
        Mean-reversion (market correction) speed towards the peg, per year, >= 0.
    beta : float, default 0.3
        Decay-pressure coefficient applied above 1.02, >= 0.
    gamma : float, default 0.8
        Support (spread) coefficient applied below 0.98, >= 0.
    sigma_base : float, default 0.02
        Base volatility per sqrt(year), > 0.
    fiat_discount : float, default 0.5
        Decay multiplier when fiat activity exceeds ``fiat_threshold``, in [0, 1].
    fiat_penalty : float, default 2.0
        Decay multiplier when fiat activity is below 0.1, >= 1.
    fiat_threshold : float, default 0.5
        Fiat activity level above which the discount applies, in [0, 1].
    speculation_penalty : float, default 0.02
        Anti-speculation fee fraction, in [0, 1].
    velocity_threshold : float, default 5.0
        Velocity above which trading counts as speculative, > 0.
    grace_period_hours : float, default 24.0
        Holding period exempt from the penalty, >= 0.
    network_alpha : float, default 0.15
        Network growth coefficient, >= 0.
    adoption_threshold : int, default 1000
        Minimum viable network size (users), >= 0.
    liquidity_minimum : float, default 50000.0
        Minimum liquidity pool (currency), >= 0.
    jump_intensity : float, default 0.1
        Poisson jump intensity per year, >= 0.
    jump_size_mu : float, default -0.05
        Mean additive jump size (price units), any finite number.
    jump_size_sigma : float, default 0.03
        Standard deviation of the jump size, >= 0.
    calibration_window : int, default 252
        Observations used for calibration, >= 30.
    recalibration_frequency : int, default 30
        Days between recalibrations, >= 1.

    Notes
    -----
    Eight fields are **not used by the price model** (:data:`INERT_FIELDS`): the
    anti-speculation fee (``speculation_penalty``, ``velocity_threshold``,
    ``grace_period_hours``), the network growth terms (``network_alpha``,
    ``adoption_threshold``, ``liquidity_minimum``) and the refit schedule
    (``calibration_window``, ``recalibration_frequency``). The source document lists them,
    but SPEC §1 has no term for them and no simulation, likelihood or backtest reads them.
    They are kept (validated, saved, reloaded, part of :meth:`content_hash`) so a stored set
    round-trips, and left out of :meth:`model_hash`; the Scenario Lab shows them apart.

    Ranges not stated by the source are a risk quant's reading: multipliers and
    fractions in [0, 1] where they are discounts or shares, penalties >= 1, and
    every rate or volatility non-negative (``sigma_base`` strictly positive so the
    diffusion is non-degenerate and the likelihood is defined).

    Examples
    --------
    >>> p = ModelParameters(alpha=0.8)
    >>> p.replace(sigma_base=0.05).sigma_base
    0.05
    >>> ModelParameters.from_json(p.to_json()) == p
    True
    """

    alpha: float = _p(0.5, lo=0.0, group="dynamics", help="Mean-reversion speed per year")
    beta: float = _p(0.3, lo=0.0, group="dynamics", help="Decay pressure above 1.02")
    gamma: float = _p(0.8, lo=0.0, group="dynamics", help="Support below 0.98")
    sigma_base: float = _p(0.02, lo=0.0, lo_open=True, group="dynamics", help="Base volatility per sqrt(year)")
    fiat_discount: float = _p(0.5, lo=0.0, hi=1.0, group="fiat", help="Decay multiplier with high fiat activity")
    fiat_penalty: float = _p(2.0, lo=1.0, group="fiat", help="Decay multiplier with fiat activity < 0.1")
    fiat_threshold: float = _p(0.5, lo=0.0, hi=1.0, group="fiat", help="Fiat activity for the discount")
    speculation_penalty: float = _p(0.02, lo=0.0, hi=1.0, group="anti-speculation", help="Speculation fee",
                                    price_model=False)
    velocity_threshold: float = _p(5.0, lo=0.0, lo_open=True, group="anti-speculation", help="High velocity",
                                   price_model=False)
    grace_period_hours: float = _p(24.0, lo=0.0, group="anti-speculation", help="Grace period (hours)",
                                   price_model=False)
    network_alpha: float = _p(0.15, lo=0.0, group="network", help="Network growth coefficient", price_model=False)
    adoption_threshold: int = _p(1000, lo=0, integer=True, group="network", help="Minimum viable network size",
                                 price_model=False)
    liquidity_minimum: float = _p(50000.0, lo=0.0, group="network", help="Minimum liquidity pool", price_model=False)
    jump_intensity: float = _p(0.1, lo=0.0, group="jumps", help="Jumps per year")
    jump_size_mu: float = _p(-0.05, group="jumps", help="Mean jump size")
    jump_size_sigma: float = _p(0.03, lo=0.0, group="jumps", help="Jump size std")
    calibration_window: int = _p(252, lo=30, integer=True, group="calibration", help="Calibration window",
                                 price_model=False)
    recalibration_frequency: int = _p(30, lo=1, integer=True, group="calibration", help="Days between refits",
                                      price_model=False)

    HASH_LENGTH: ClassVar[int] = 16

    def __post_init__(self) -> None:
        for f in fields(self):
            value = ParamSpec.check(f.metadata["spec"], f.name, getattr(self, f.name))
            object.__setattr__(self, f.name, value)

    # -- introspection -----------------------------------------------------------
    @classmethod
    def specs(cls) -> dict[str, ParamSpec]:
        """Map field name to its :class:`ParamSpec` (range, group, help), in order."""
        return {f.name: f.metadata["spec"] for f in fields(cls)}

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def price_model_fields(cls) -> tuple[str, ...]:
        """The fields the price model reads (every field but :data:`INERT_FIELDS`), in order."""
        return tuple(f.name for f in fields(cls) if f.metadata["spec"].price_model)

    @classmethod
    def inert_fields(cls) -> tuple[str, ...]:
        """The fields no model code reads (:data:`INERT_FIELDS`), in order."""
        return tuple(f.name for f in fields(cls) if not f.metadata["spec"].price_model)

    # -- copies and serialisation ------------------------------------------------
    def replace(self, **changes: Any) -> ModelParameters:
        """Return a validated copy with ``changes`` applied."""
        unknown = set(changes) - set(self.field_names())
        if unknown:
            name = sorted(unknown)[0]
            raise InputError(name, f"unknown parameter; allowed: {', '.join(self.field_names())}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, float | int]:
        """Plain ``dict`` of every field (JSON-serialisable)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelParameters:
        """Build from a mapping; missing fields take defaults, unknown ones are rejected."""
        if not isinstance(data, dict):
            raise InputError("params", "must be a mapping of parameter names to numbers", value=type(data).__name__)
        unknown = set(data) - set(cls.field_names())
        if unknown:
            name = sorted(unknown)[0]
            raise InputError(name, f"unknown parameter; allowed: {', '.join(cls.field_names())}")
        return cls(**data)

    def to_json(self) -> str:
        """Canonical JSON: sorted keys, shortest round-trip float repr."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> ModelParameters:
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise InputError("params", f"not valid JSON: {exc}") from None
        return cls.from_dict(data)

    def content_hash(self) -> str:
        """Stable identifier of all the values (sha256 of the canonical JSON, 16 hex chars).

        Every field counts, the inert ones included: it names a stored parameter set (the
        store's ``params_hash``), and its definition is unchanged, so the hashes of runs saved
        by earlier versions still match. For "would the model give the same paths" use
        :meth:`model_hash`.
        """
        return hashlib.sha256(self.to_json().encode()).hexdigest()[: self.HASH_LENGTH]

    def model_hash(self) -> str:
        """Identifier of what the price model reads: :meth:`content_hash` of the price-model fields only.

        Two parameter sets that differ only in :data:`INERT_FIELDS` have the same model hash
        (and give the same simulation for the same seed). Computed from the values, so any
        saved run's parameters give theirs (``ModelParameters.from_dict(rec.params).model_hash()``).
        """
        model = {k: getattr(self, k) for k in self.price_model_fields()}
        text = json.dumps(model, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[: self.HASH_LENGTH]

    def diff(self, other: ModelParameters) -> dict[str, tuple[Any, Any]]:
        """Fields whose values differ: ``{name: (self_value, other_value)}``."""
        return {k: (v, getattr(other, k)) for k, v in self.to_dict().items() if getattr(other, k) != v}
