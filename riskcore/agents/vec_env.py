"""Vectorised multi-agent trading environment: B sessions stepped at once on NumPy arrays.

This module holds the **only** copy of the dynamics. :class:`riskcore.agents.env.RiskTeamEnv`
(the PettingZoo ``ParallelEnv``) is a one-environment view of :class:`VecRiskEnv`, so the two
give bit-identical trajectories for the same seed and actions.

Market
------
Three correlated futures (micro-index-like, point value ``point_value``) move in
``substeps`` sub-steps per decision bar. A hidden Markov regime (calm, normal, stressed) sets
the volatility multiplier, the correlation and the jump intensity; jumps are Gaussian with
``jump_scale`` times the sub-step volatility. Volatility and correlation are *observed*
only through an EWMA covariance of bar returns (``ewma_lambda``); ATR is its square root.

Signals
-------
Each bar, with probability ``signal_probability``, one of five strategies (uniformly)
asks for a trade on its instrument (strategies 0..4 trade instruments 0, 1, 2, 0, 1) in a
random direction; a strategy with an open position is ignored. The strategy's edge is a
drift ``m σ`` per sub-step in the trade's favour, with ``m`` set so that its **native
bracket** (stop ``1.5 × ATR``, target ``b × 1.5 × ATR``) wins with the probability
``win_probability[k, regime]`` of :data:`DEFAULT_WIN_PROBABILITY`. The strategy reports the
regime-blind (stationary average) win probability and its payoff ``b``; the environment
knows the true one, so the Kelly-optimal size is known at every decision.

Known edge: for a Brownian motion with drift ``μ`` and variance ``σ²`` per sub-step, barriers
``-S`` and ``+T`` are hit target-first with probability
``(1 - exp(-2 μ S / σ²)) / (1 - exp(-2 μ (S + T) / σ²))``; the discrete monitoring is corrected by
shifting both barriers out by ``0.5826 σ`` (Broadie, Glasserman & Kou 1997). Jumps, regime
switches during a trade, the noisy ATR and the session close make the realised win rate
differ a little; a test measures it.

Decisions and hard limits
-------------------------
Every bar the four agents act at once. Their actions go through today's rules before they
touch the book, in this order (the PRD §2.5.1 hierarchy):

1. emergency rules (:data:`riskcore.portfolio.emergency.EMERGENCY_RULES`, on the rule
   critic's scores, drawdown and margin): reduce (halve) or close positions as the table says;
   no new trade;
2. the risk monitor's action (reduce = halve every position, close all, hedge = offset half
   the book's market exposure for the bar at a cost); ``CLOSE_ALL`` also blocks new trades;
3. the new trade: the sizing agent's contracts, cut by
   :data:`riskcore.portfolio.emergency.SIZE_ADJUSTMENTS` (vectorised
   :func:`~riskcore.portfolio.emergency.apply_risk_adjustment`), then by the hard limits:
   ``max_contracts``; the currency risk at the chosen stop ``≤ max_risk_per_trade × equity``;
   margin ``≤ max_margin_usage × equity``; and the portfolio optimiser's budget for the
   strategy, ``n_strategies × w_k × max_risk_per_trade × equity``.

After execution the limits are checked again on the book and every violation is counted in
``info["breaches"]`` (0 by construction while ``enforce_rules`` is on; the
"no risk management" baseline turns the rules off and shows what they prevent). Cuts of a
requested size are counted in ``info["interventions"]``.

Costs: ``commission`` per contract per side and a slippage of ``slippage_ticks[regime]``
ticks of ``tick_size`` per contract per side; stops fill at the path's value (a gap through a
stop fills worse), targets at the target. Open positions are closed at the session close.

Reward (team, every agent gets the same)
----------------------------------------
With equity ``E_t`` at bar close, the session's running peak ``P_t = max(E_0, …, E_t)``,
drawdown ``d_t = 1 - E_t / P_t`` and ``X_t = max_{s ≤ t} max(0, d_s - D)`` (``D`` = 2 %, PRD):

.. math:: r_t = \\log(E_t / E_{t-1}) - \\lambda (X_t - X_{t-1}),

so a session's return is ``log(E_T / E_0) - λ max(0, maxDD - 2 %)`` (``λ`` =
``drawdown_penalty``). Episodes are sessions of ``session_length`` bars: the session close is a
**truncation** (the account goes on the next day); equity below ``ruin_fraction × E_0`` is a
**termination**.

Observations
------------
Each agent sees the 10-feature risk state (PRD §2.1.2, :data:`RISK_FEATURES`) z-scored
against the previous ``zscore_window`` bars (the rules of
:class:`riskcore.portfolio.state.RollingZScore`; the window is pre-filled by
``zscore_window`` market-only bars at reset), followed by its own 16 context features
(:data:`CONTEXT_NAMES`) and the regime-filter block below (:data:`FILTER_NAMES`). The global
state for the critic (:meth:`VecRiskEnv.state`) is the z-scored state, the raw state (scaled),
the four contexts, the filter block and the true regime. ``info["trade_edge"]`` holds, per
environment, the pending trade's true ``(p, b, loss / equity, contract cap)`` at the bracket the
stop/target agent placed (privileged, for the trainer's sizing credit; never observed).
The VaR feature is a parametric 1-bar 95 % VaR of the book over equity (the decision horizon).

Regime filter (what a desk's risk system estimates; every agent sees it after its context,
:data:`FILTER_NAMES`): the regime is hidden, and the Kelly-optimal size is mostly ``0`` when the
pending strategy's edge in the current regime is negative and the cap
``min(max_contracts, max_risk_per_trade × E / L)`` otherwise, so without an estimate of the
regime no policy can size well (the regime-blind ceiling was measured at about 70 %). A Hamilton
(HMM forward) filter runs on the observed intrabar prices (the ``M`` sub-step increments of
each bar, what a desk's tick data gives) with the environment's known regime covariances, jump
intensities and transition matrix: the likelihood of a sub-step's increment vector ``y`` in
regime ``r`` is the mixture over no jump or a jump on one instrument (probability ``j_r`` each) of
``N(0, Σ_r + jump variance on those instruments)``, ``Σ_r = σ_r² C(ρ_r)`` (sub-step
volatility ``σ_r``), and a bar's likelihood ``ℓ_t(r)`` is the product over its sub-steps (the
regime switches only at bar ends); ``π_{t|t} ∝ π_{t|t-1} ⊙ ℓ_t``, ``π_{t+1|t} = π_{t|t} P``.
On bar returns alone the filter found the regime of about 86 % of decisions and capped the
sizing accuracy of any policy near 89 % (measured); on the intrabar increments it finds about
93 %, and a classifier on the filter alone (``p_positive_edge > 0.5``) reaches 93 % (measured on
32,000 decisions; the spread in the liquidity feature adds a little). The features are the one-step
predicted probabilities of the regime the decision is made in (starting from the stationary
law at reset and run through the pre-fill bars), the posterior mean of the pending strategy's
net edge per unit risked at its native bracket ``Σ_r π_r (p_{k,r} b_r - (1 - p_{k,r}))``, the
posterior probability that this edge is positive, and the contract cap at the native stop and
the observed ATR over 5 (0 without a signal).

Stops trail (``trailing_stop``, part of the rules, so off with ``enforce_rules=False``): at each
decision, before the new trade, :meth:`VecRiskEnv.trail_stops` applies the PRD §2.2.2 trailing
rule to every open position, with the stop distance the stop/target agent chose at entry as the
trigger; a stop only tightens. Targets stay where they were placed. The Kelly-optimal size
(``info["kelly_size"]``) is that of the bracket at entry (the trailing rule changes the trade's
odds afterwards, so it is a yardstick, not the exact optimum of the trailed trade). A strategy's
win count (its ``win_rate`` context) counts profitable exits, trailed stops included.

Not modelled (yet): the issue's optional stable token driven by the peg model.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from riskcore.agents.limits import RiskLimits
from riskcore.agents.policy import AgentName, RiskAction
from riskcore.errors import InputError
from riskcore.portfolio.emergency import (
    CRITIC_THRESHOLDS,
    EMERGENCY_RULES,
    RISK_SCORE_NAMES,
    SIZE_ADJUSTMENTS,
    EmergencyAction,
)
from riskcore.portfolio.sizing import KELLY_MULTIPLIER, VOLATILITY_ADJUSTMENT_CAP
from riskcore.portfolio.state import N_FEATURES, RISK_FEATURES

__all__ = ["EnvConfig", "VecRiskEnv", "Regime", "AGENTS", "OBS_DIM", "CONTEXT_DIM", "STATE_DIM", "N_STRATEGIES",
           "N_INSTRUMENTS", "DEFAULT_WIN_PROBABILITY", "DEFAULT_PAYOFF", "STRATEGY_INSTRUMENT", "EVENT_NAMES",
           "CONTEXT_NAMES", "FILTER_NAMES", "FILTER_DIM", "vectorised_risk_adjustment", "win_probability_from_drift",
           "seed_int"]

N_STRATEGIES = 5
N_INSTRUMENTS = 3
STRATEGY_INSTRUMENT = np.array([0, 1, 2, 0, 1])
AGENTS: tuple[AgentName, ...] = tuple(AgentName)
CONTEXT_DIM = 16
#: the regime-filter block every agent sees after its context (see the module notes)
FILTER_NAMES = ("p_calm", "p_normal", "p_stressed", "filtered_edge", "p_positive_edge", "contract_cap_over_5")
FILTER_DIM = len(FILTER_NAMES)
OBS_DIM = N_FEATURES + CONTEXT_DIM + FILTER_DIM
#: z-state, raw state, four contexts, the filter block, regime one-hot
STATE_DIM = 2 * N_FEATURES + len(AGENTS) * CONTEXT_DIM + FILTER_DIM + 3
#: next-step events the learned critic's risk head predicts, in RISK_SCORE_NAMES order
EVENT_NAMES = ("var_breach", "drawdown_limit_hit", "correlation_spike", "liquidity_shortfall")
_BGK = 0.5826  # Broadie-Glasserman-Kou continuity correction, -zeta(1/2)/sqrt(2 pi)
_NATIVE_STOP = 1.5

CONTEXT_NAMES: dict[AgentName, tuple[str, ...]] = {
    AgentName.POSITION_SIZING: (
        "has_signal", "direction", "strategy_0", "strategy_1", "strategy_2", "strategy_3", "strategy_4",
        "reported_win_probability", "log_payoff", "volatility_ratio", "atr_over_price_pct", "margin_headroom",
        "equity_change_x10", "session_progress", "open_positions_over_5", "native_risk_over_limit"),
    AgentName.STOP_TARGET: (
        "has_signal", "direction", "strategy_0", "strategy_1", "strategy_2", "strategy_3", "strategy_4",
        "reported_win_probability", "log_payoff", "volatility_ratio", "volatility_regime", "session_progress",
        "mean_bars_held_over_10", "mean_open_pnl_over_stop", "market_stress", "time_of_day_risk"),
    AgentName.RISK_MONITOR: (
        "open_positions_over_5", "open_pnl_pct", "drawdown_pct", "margin_usage", "var_pct", "correlation_risk",
        "market_stress", "liquidity_risk", "rule_score_portfolio", "rule_score_position",
        "rule_score_correlation", "rule_score_liquidity", "emergency", "session_progress", "volatility_regime",
        "excess_drawdown_pct"),
    AgentName.PORTFOLIO_OPTIMIZER: (
        "pnl_0", "pnl_1", "pnl_2", "pnl_3", "pnl_4", "open_0", "open_1", "open_2", "open_3", "open_4",
        "win_rate_0", "win_rate_1", "win_rate_2", "win_rate_3", "win_rate_4", "session_progress"),
}


class Regime(enum.IntEnum):
    CALM = 0
    NORMAL = 1
    STRESSED = 2


#: true win probability at the native bracket, [strategy, regime (calm, normal, stressed)]:
#: trend, mean reversion, breakout, scalper, momentum — each good in some regimes, bad in others
DEFAULT_WIN_PROBABILITY = ((0.28, 0.42, 0.50), (0.62, 0.58, 0.40), (0.34, 0.48, 0.55), (0.60, 0.48, 0.38),
                           (0.47, 0.36, 0.44))
#: payoff ratio b (target / stop) of each strategy's native bracket
DEFAULT_PAYOFF = (2.0, 1.0, 1.5, 1.0, 1.5)


def seed_int(seed: int | np.random.Generator | None) -> int | np.random.Generator | None:
    if seed is None or isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise InputError("seed", "must be a non-negative integer or a numpy Generator", value=seed)
    return int(seed)


def win_probability_from_drift(m: np.ndarray, s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Target-first probability for drift ``m σ`` per sub-step, barriers ``s σ`` below and ``t σ`` above."""
    m = np.asarray(m, dtype=float)
    s = s + _BGK
    t = t + _BGK
    small = np.abs(m) < 1e-9
    mm = np.where(small, 1.0, m)
    with np.errstate(over="ignore"):
        p = -np.expm1(-2 * mm * s) / -np.expm1(-2 * mm * (s + t))
    return np.where(small, s / (s + t), p)


def _drift_for(p: np.ndarray, s: np.ndarray, t: np.ndarray) -> np.ndarray:
    lo, hi = np.full(p.shape, -2.0), np.full(p.shape, 2.0)
    for _ in range(80):  # bisection: the win probability increases with the drift
        mid = (lo + hi) / 2
        up = win_probability_from_drift(mid, s, t) < p
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    return (lo + hi) / 2


def _tuple2(name: str, value: Any, shape: tuple[int, ...], lo: float, hi: float) -> tuple:
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(name, f"must be numbers of shape {shape}", value=value) from None
    if a.shape != shape:
        raise InputError(name, f"must have shape {shape}", value=a.shape)
    if not np.isfinite(a).all() or (a < lo).any() or (a > hi).any():
        raise InputError(name, f"must be finite numbers in [{lo}, {hi}]", value=value)
    return tuple(map(tuple, a.tolist())) if a.ndim == 2 else tuple(a.tolist())


@dataclass(frozen=True)
class EnvConfig:
    """Parameters of the trading environment (validated; see the module notes for the model).

    Money is in account currency, prices in index points, time in bars (``substeps`` sub-steps
    each); rates are per bar.
    """

    session_length: int = 60
    substeps: int = 6
    initial_equity: float = 100_000.0
    price: float = 5000.0
    point_value: float = 5.0
    tick_size: float = 0.25
    bar_volatility: float = 40.0 / 3.0  # points per bar in the normal regime: 1.5 ATR x 5 = 100 per contract
    volatility_multiplier: tuple[float, float, float] = (0.6, 1.0, 2.0)
    correlation: tuple[float, float, float] = (0.2, 0.4, 0.85)
    jump_intensity: tuple[float, float, float] = (0.002, 0.005, 0.03)  # per bar per instrument
    jump_scale: float = 4.0
    regime_persistence: tuple[float, float, float] = (0.98, 0.98, 0.95)
    signal_probability: float = 0.6
    win_probability: tuple = DEFAULT_WIN_PROBABILITY
    payoff: tuple = DEFAULT_PAYOFF
    commission: float = 0.5
    slippage_ticks: tuple[float, float, float] = (1.0, 1.0, 3.0)
    margin_per_contract: float = 4000.0
    max_margin_usage: float = 0.8
    liquidity_depth: float = 25.0
    hedge_ratio: float = 0.5
    drawdown_limit: float = 0.02
    drawdown_penalty: float = 2.0
    ruin_fraction: float = 0.5
    zscore_window: int = 32
    zscore_clip: float = 5.0
    ewma_lambda: float = 0.9
    position_limit: float = 3.0
    enforce_rules: bool = True
    trailing_stop: bool = True
    limits: RiskLimits = field(default_factory=lambda: RiskLimits(5, 0.02, 100.0))

    def __post_init__(self) -> None:
        from riskcore.validate import integer, real

        integer("session_length", self.session_length, lo=2, hi=100_000)
        integer("substeps", self.substeps, lo=1, hi=1000)
        integer("zscore_window", self.zscore_window, lo=2, hi=10_000)
        for name in ("initial_equity", "price", "point_value", "tick_size", "bar_volatility", "margin_per_contract",
                     "liquidity_depth", "position_limit", "zscore_clip", "jump_scale"):
            real(name, getattr(self, name), lo=0.0, lo_open=True)
        for name in ("signal_probability", "max_margin_usage", "hedge_ratio", "ruin_fraction"):
            real(name, getattr(self, name), lo=0.0, hi=1.0)
        real("drawdown_limit", self.drawdown_limit, lo=0.0, hi=1.0, lo_open=True)
        real("drawdown_penalty", self.drawdown_penalty, lo=0.0)
        real("commission", self.commission, lo=0.0)
        real("ewma_lambda", self.ewma_lambda, lo=0.0, hi=1.0, hi_open=True)
        object.__setattr__(self, "volatility_multiplier",
                           _tuple2("volatility_multiplier", self.volatility_multiplier, (3,), 1e-6, 1e6))
        object.__setattr__(self, "correlation", _tuple2("correlation", self.correlation, (3,), -0.49, 0.99))
        object.__setattr__(self, "jump_intensity", _tuple2("jump_intensity", self.jump_intensity, (3,), 0.0, 1.0))
        object.__setattr__(self, "regime_persistence",
                           _tuple2("regime_persistence", self.regime_persistence, (3,), 0.0, 1.0))
        object.__setattr__(self, "slippage_ticks", _tuple2("slippage_ticks", self.slippage_ticks, (3,), 0.0, 1e4))
        object.__setattr__(self, "win_probability",
                           _tuple2("win_probability", self.win_probability, (N_STRATEGIES, 3), 0.01, 0.99))
        object.__setattr__(self, "payoff", _tuple2("payoff", self.payoff, (N_STRATEGIES,), 1 / 3, 2.0))
        for name in ("enforce_rules", "trailing_stop"):
            if not isinstance(getattr(self, name), bool):
                raise InputError(name, "must be True or False", value=getattr(self, name))
        if not isinstance(self.limits, RiskLimits):
            raise InputError("limits", "must be a RiskLimits", value=type(self.limits).__name__)

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "limits"}
        d["limits"] = asdict(self.limits)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> EnvConfig:
        d = dict(d)
        if isinstance(d.get("limits"), dict):
            d["limits"] = RiskLimits(**d["limits"])
        return cls(**d)


def vectorised_risk_adjustment(base: np.ndarray, values: dict[str, np.ndarray], max_contracts: int) -> np.ndarray:
    """:func:`riskcore.portfolio.emergency.apply_risk_adjustment` on arrays (same table, same truncation)."""
    size = base.astype(np.int64)
    for adj in SIZE_ADJUSTMENTS:
        v = values[adj.metric]
        if adj.span is None:
            f = np.where(v > adj.threshold, 1.0 - adj.max_cut, 1.0)
        else:
            f = np.where(v > adj.threshold, 1.0 - (v - adj.threshold) / adj.span * adj.max_cut, 1.0)
        size = (size * f).astype(np.int64)  # int() truncates toward zero, as astype does
    return np.where(base <= 0, 0, np.minimum(np.maximum(size, 1), max_contracts))


def _ix(mask: np.ndarray) -> np.ndarray | slice:
    """A view index for an all-True mask (no copies on the common path), else the mask."""
    return slice(None) if mask.all() else mask


_EMERGENCY_CODE = {EmergencyAction.MONITOR: 0, EmergencyAction.REDUCE_ALL_POSITIONS: 1,
                   EmergencyAction.CLOSE_LOSING_POSITIONS: 2, EmergencyAction.IMMEDIATE_POSITION_REDUCTION: 1,
                   EmergencyAction.CLOSE_CORRELATED_POSITIONS: 3}


class VecRiskEnv:
    """``n_envs`` trading sessions stepped together (see the module notes).

    Parameters
    ----------
    config : EnvConfig, optional
    n_envs : int, default 1
    seed : int or numpy.random.Generator, optional
        Seed of the one generator that draws every random number, in a fixed order per step
        whatever the actions (common random numbers: two policies see the same market).
    autoreset : bool, default True
        Start a new session in an environment as soon as its session ends; the final
        observation and state are then in ``info["final_state"]``.

    Actions are a mapping from agent name to an array with one row per environment:
    ``position_sizing`` ints 0..5, ``stop_target`` (B, 2) in [0.5, 3], ``risk_monitor`` ints
    0..3, ``portfolio_optimizer`` (B, 5) in [0, 1] (normalised onto the simplex; all zeros →
    equal weights). Anything outside its space raises :class:`InputError`.
    """

    def __init__(self, config: EnvConfig | None = None, n_envs: int = 1,
                 seed: int | np.random.Generator | None = None, autoreset: bool = True):
        from riskcore.validate import integer

        self.config = config if config is not None else EnvConfig()
        if not isinstance(self.config, EnvConfig):
            raise InputError("config", "must be an EnvConfig", value=type(config).__name__)
        self.n_envs = integer("n_envs", n_envs, lo=1, hi=10_000_000)
        self.autoreset = bool(autoreset)
        c = self.config
        self._vol = np.asarray(c.volatility_multiplier) * c.bar_volatility / np.sqrt(c.substeps)  # per sub-step
        self._chol = np.stack([np.linalg.cholesky(np.full((3, 3), r) + np.eye(3) * (1 - r)) for r in c.correlation])
        self._jump_p = 1.0 - np.exp(-np.asarray(c.jump_intensity) / c.substeps)
        p = np.asarray(c.regime_persistence)
        self._trans = np.array([[p[0], 1 - p[0], 0.0], [(1 - p[1]) / 2, p[1], (1 - p[1]) / 2], [0.0, 1 - p[2], p[2]]])
        self._cum_trans = np.cumsum(self._trans, axis=1)
        w, v = np.linalg.eig(self._trans.T)
        pi = np.real(v[:, np.argmin(np.abs(w - 1))])
        self.stationary = pi / pi.sum()
        self._p_true = np.asarray(c.win_probability)  # (S, 3)
        self._b = np.asarray(c.payoff)  # (S,)
        s = np.full(N_STRATEGIES, _NATIVE_STOP * np.sqrt(c.substeps))
        self._drift = _drift_for(self._p_true, s[:, None], (s * self._b)[:, None])  # (S, 3) in sigma units
        self.reported_win_probability = self._p_true @ self.stationary  # regime-blind report
        self._slip = np.asarray(c.slippage_ticks) * c.tick_size * c.point_value + c.commission  # per contract per side
        self._filter_setup()
        self._rng: np.random.Generator = np.random.default_rng(seed_int(seed))
        self._alloc(self.n_envs)
        self.reset(seed=seed if isinstance(seed, np.random.Generator) else seed)

    # -- state ------------------------------------------------------------------------------------------
    def _alloc(self, n: int) -> None:
        z = np.zeros
        self.regime = z(n, np.int64)
        self.prices = z((n, N_INSTRUMENTS))
        self.cov = z((n, N_INSTRUMENTS, N_INSTRUMENTS))
        self.jump_ewma = z(n)
        self.t = z(n, np.int64)
        self.cash = z(n)
        self.equity = z(n)
        self.peak = z(n)
        self.excess = z(n)
        self.open = z((n, N_STRATEGIES), bool)
        self.dirn = z((n, N_STRATEGIES))
        self.qty = z((n, N_STRATEGIES), np.int64)
        self.entry = z((n, N_STRATEGIES))
        self.alpha = z((n, N_STRATEGIES))
        self.stop = z((n, N_STRATEGIES))
        self.stop0 = z((n, N_STRATEGIES))  # stop distance at entry (the trailing rule's trigger)
        self.target = z((n, N_STRATEGIES))
        self.held = z((n, N_STRATEGIES))
        self.strat_pnl = z((n, N_STRATEGIES))
        self.strat_trades = z((n, N_STRATEGIES))
        self.strat_wins = z((n, N_STRATEGIES))
        self.sig = z(n, bool)
        self.sig_k = z(n, np.int64)
        self.sig_dir = z(n)
        self.done = z(n, bool)
        self.zbuf = z((n, self.config.zscore_window, N_FEATURES))
        self.zcount = z(n, np.int64)
        self.raw = z((n, N_FEATURES))
        self.zstate = z((n, N_FEATURES))
        self.scores = z((n, 4))
        self.var_cur = z(n)
        self.regime_prob = z((n, 3))  # the filter's predicted regime probabilities

    def reset(self, seed: int | np.random.Generator | None = None) -> dict[AgentName, np.ndarray]:
        """Start new sessions in every environment; returns the observations per agent."""
        if seed is not None:
            self._rng = np.random.default_rng(seed_int(seed))
        self._reset_mask(np.ones(self.n_envs, bool))
        return self.observations()

    def _reset_mask(self, m: np.ndarray) -> None:
        c = self.config
        n = int(m.sum())
        u = self._rng.random(n)
        self.regime[m] = np.searchsorted(np.cumsum(self.stationary), u, side="right").clip(0, 2)
        self.prices[m] = c.price
        sig = self._vol[self.regime[m]] * np.sqrt(c.substeps)
        rho = np.asarray(c.correlation)[self.regime[m]]
        cov = np.full((n, 3, 3), 1.0) * rho[:, None, None]
        cov[:, np.arange(3), np.arange(3)] = 1.0
        self.cov[m] = cov * sig[:, None, None] ** 2
        self.jump_ewma[m] = 0.0
        self.regime_prob[m] = self.stationary
        self.cash[m] = c.initial_equity
        self.equity[m] = c.initial_equity
        self.peak[m] = c.initial_equity
        self.excess[m] = 0.0
        for a in (self.open, self.dirn, self.qty, self.entry, self.alpha, self.stop, self.stop0, self.target,
                  self.held, self.strat_pnl, self.strat_trades, self.strat_wins):
            a[m] = 0
        self.done[m] = False
        self.zbuf[m] = 0.0
        self.zcount[m] = 0
        # pre-fill the z-score window with market-only bars (no positions: the book is flat)
        for _ in range(c.zscore_window):
            self.t[m] = 0
            self._market_bar(m, hedge=None)
            self._features(m)
            self._push_z(m)
        self.t[m] = 0
        self._new_signal(m)
        self._features(m)
        self.zstate[m] = self._zscore(m)

    # -- market -----------------------------------------------------------------------------------------
    def _draws(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        c = self.config
        return (self._rng.standard_normal((n, c.substeps, 2, N_INSTRUMENTS)),
                self._rng.random((n, c.substeps * N_INSTRUMENTS + 1)))

    def _market_bar(self, m: np.ndarray, hedge: np.ndarray | None) -> dict[str, np.ndarray]:
        """One bar of ``substeps`` sub-steps for the envs in mask ``m``; positions, stops and targets."""
        c = self.config
        n = int(m.sum())
        m = _ix(m)
        zn, un = self._draws(n)
        reg = self.regime[m]
        vol = self._vol[reg]  # (n,)
        chol = self._chol[reg]  # (n, 3, 3)
        jp = self._jump_p[reg]
        prices = self.prices[m]
        start = prices.copy()
        inst = STRATEGY_INSTRUMENT
        open_ = self.open[m]
        dirn, qty, entry = self.dirn[m], self.qty[m], self.entry[m]
        alpha, stop, target = self.alpha[m], self.stop[m], self.target[m]
        mu = self._drift[:, reg].T * vol[:, None]  # (n, S) points per sub-step in the trade's favour
        cash = self.cash[m]
        pv = c.point_value
        exit_cost = self._slip[reg]
        M = c.substeps
        ju = un[:, : M * N_INSTRUMENTS].reshape(n, M, N_INSTRUMENTS)
        # all sub-steps at once: correlated Gaussian moves plus jumps, (n, M, instruments)
        dp = np.einsum("nij,nmj->nmi", chol, zn[:, :, 0]) * vol[:, None, None]
        dp = dp + np.where(ju < jp[:, None, None], zn[:, :, 1] * c.jump_scale * vol[:, None, None], 0.0)
        path = start[:, None, :] + np.cumsum(dp, axis=1)
        steps = np.arange(1, M + 1)[None, :, None]
        alpha_path = alpha[:, None, :] + mu[:, None, :] * steps  # the edge accrues while the trade is open
        x = dirn[:, None, :] * (path[:, :, inst] - entry[:, None, :]) + alpha_path  # (n, M, S)
        hit_stop = open_[:, None, :] & (x <= -stop[:, None, :])
        hit_tgt = open_[:, None, :] & (x >= target[:, None, :]) & ~hit_stop
        hit = hit_stop | hit_tgt
        closed = hit.any(1)
        first = hit.argmax(1)  # first sub-step that touches a barrier: stops and targets fill in path order
        pick = lambda a: np.take_along_axis(a, first[:, None, :], 1)[:, 0, :]  # noqa: E731
        won = closed & pick(hit_tgt)
        fill = np.where(won, target, pick(x))
        realised = np.where(closed, qty * (fill * pv - exit_cost[:, None]), 0.0)
        cash = cash + realised.sum(1)
        hedge_pnl = np.zeros(n)
        if hedge is not None and open_.any():
            before = (np.cumsum(hit, 1) - hit) > 0  # closed at an earlier sub-step
            live_s = open_[:, None, :] & ~before
            onehot = (inst[:, None] == np.arange(N_INSTRUMENTS)).astype(float)  # (S, instruments)
            expo = np.einsum("nms,si->nmi", np.where(live_s, (qty * dirn)[:, None, :], 0.0), onehot)
            hedge_pnl = -hedge * (expo * dp).sum((1, 2)) * pv
        alpha = np.where(open_, np.where(closed, pick(alpha_path), alpha_path[:, -1]), alpha)
        open_ = open_ & ~closed
        prices = path[:, -1]
        bar_ret = prices - start
        lam = c.ewma_lambda
        self.cov[m] = lam * self.cov[m] + (1 - lam) * bar_ret[:, :, None] * bar_ret[:, None, :]
        sd = np.sqrt(np.einsum("nii->ni", self.cov[m]))
        big = (np.abs(bar_ret) > 3 * sd).any(1)
        self.jump_ewma[m] = lam * self.jump_ewma[m] + (1 - lam) * big
        self.regime_prob[m] = self.filter_update(self.regime_prob[m], dp)
        # regime switch at the bar's end
        ru = un[:, -1]
        self.regime[m] = (ru[:, None] > self._cum_trans[reg]).sum(1).clip(0, 2)
        self.prices[m] = prices
        self.alpha[m] = alpha
        self.open[m] = open_
        self.qty[m] = np.where(open_, qty, 0)
        self.cash[m] = cash + hedge_pnl
        self.held[m] = np.where(open_, self.held[m] + 1, 0)
        self.strat_pnl[m] += realised
        self.strat_trades[m] += closed
        self.strat_wins[m] += closed & (realised > 0)  # a target, or a trailed stop in profit
        return {"bar_pnl": bar_ret, "closed": closed, "won": won}

    def _open_pnl(self) -> np.ndarray:
        """Mark-to-market of each open position in currency (B, S)."""
        x = self.dirn * (self.prices[:, STRATEGY_INSTRUMENT] - self.entry) + self.alpha
        return np.where(self.open, self.qty * x * self.config.point_value, 0.0)

    def _close(self, m: np.ndarray) -> None:
        """Close positions ``m`` (B, S) at market with exit costs."""
        if not m.any():
            return
        x = self.dirn * (self.prices[:, STRATEGY_INSTRUMENT] - self.entry) + self.alpha
        pnl = np.where(m, self.qty * (x * self.config.point_value - self._slip[self.regime][:, None]), 0.0)
        self.cash += pnl.sum(1)
        self.strat_pnl += pnl
        self.strat_trades += m
        self.strat_wins += m & (pnl > 0)
        self.open &= ~m
        self.qty = np.where(self.open, self.qty, 0)

    def _reduce(self, envs: np.ndarray) -> None:
        """Halve every open position of the environments ``envs`` (B,), rounding down (1 → closed)."""
        if not envs.any():
            return
        m = envs[:, None] & self.open
        cut = np.where(m, self.qty - self.qty // 2, 0)
        x = self.dirn * (self.prices[:, STRATEGY_INSTRUMENT] - self.entry) + self.alpha
        pnl = cut * (x * self.config.point_value - self._slip[self.regime][:, None])
        self.cash += pnl.sum(1)
        self.strat_pnl += pnl
        self.qty = self.qty - cut
        gone = m & (self.qty == 0)
        self.strat_trades += gone
        self.open &= ~gone

    # -- features ---------------------------------------------------------------------------------------
    def _features(self, m: np.ndarray) -> None:
        c = self.config
        m = _ix(m)
        pv = c.point_value
        open_ = self.open[m]
        qty = np.where(open_, self.qty[m], 0)
        x = self.dirn[m] * (self.prices[m][:, STRATEGY_INSTRUMENT] - self.entry[m]) + self.alpha[m]
        equity = self.cash[m] + (qty * x * pv).sum(1)
        self.equity[m] = equity
        peak = np.maximum(self.peak[m], equity)
        self.peak[m] = peak
        dd = 1.0 - equity / peak
        cov = self.cov[m]
        sd = np.sqrt(np.einsum("nii->ni", cov))
        expo = (np.where(open_, qty * self.dirn[m], 0.0)[:, :, None] * (STRATEGY_INSTRUMENT[None, :, None]
                                                                       == np.arange(3))).sum(1) * pv
        var = 1.6448536269514722 * np.sqrt(np.maximum(np.einsum("ni,nij,nj->n", expo, cov, expo), 0.0))
        var_frac = var / np.maximum(equity, 1e-9)
        vm = np.asarray(c.volatility_multiplier)
        ratio = sd.mean(1) / c.bar_volatility
        v = np.clip((ratio - vm[0]) / (vm[2] - vm[0]), 0.0, 1.0)
        corr = cov / np.maximum(sd[:, :, None] * sd[:, None, :], 1e-300)
        held = (open_[:, :, None] & (STRATEGY_INSTRUMENT[None, :, None] == np.arange(3))).any(1)  # (n, 3)
        pairs = [(0, 1), (0, 2), (1, 2)]
        rho = np.stack([np.abs(corr[:, i, j]) for i, j in pairs], 1)
        ok = np.stack([held[:, i] & held[:, j] for i, j in pairs], 1)
        nok = ok.sum(1)
        mean_r = np.where(nok > 0, (rho * ok).sum(1) / np.maximum(nok, 1), 0.0)
        max_r = np.where(ok, rho, 0.0).max(1)
        corr_score = np.where(nok > 0, np.minimum(0.6 * mean_r + 0.4 * max_r, 1.0), 0.0)
        margin = qty.sum(1) * c.margin_per_contract / np.maximum(equity, 1e-9)
        progress = self.t[m] / c.session_length
        time_risk = np.abs(2 * progress - 1)
        stress = np.clip(0.7 * v + 0.3 * np.minimum(1.0, 5 * self.jump_ewma[m]), 0.0, 1.0)
        spread = np.asarray(c.slippage_ticks)[self.regime[m]] / max(c.slippage_ticks)
        liq = np.clip(0.5 * spread + 0.5 * qty.sum(1) / c.liquidity_depth, 0.0, 1.0)
        raw = np.stack([equity / c.initial_equity, open_.sum(1).astype(float), v, corr_score, var_frac, 100 * dd,
                        100 * margin, time_risk, stress, liq], 1)
        self.raw[m] = raw
        self.var_cur[m] = var
        notional = np.abs(qty) * self.prices[m][:, STRATEGY_INSTRUMENT] * pv
        self.scores[m] = np.clip(np.stack([var_frac / 0.02, notional.max(1) / np.maximum(equity, 1e-9)
                                           / c.position_limit, corr_score, liq], 1), 0.0, 1.0)

    def _zscore(self, m: np.ndarray) -> np.ndarray:
        c = self.config
        m = _ix(m)
        x = self.raw[m]
        cnt = np.minimum(self.zcount[m], c.zscore_window)
        buf = self.zbuf[m]
        full = cnt >= c.zscore_window
        mean = buf.mean(1)
        dev = buf - mean[:, None, :]
        sd = np.maximum(np.sqrt(np.einsum("nwf,nwf->nf", dev, dev) / (buf.shape[1] - 1)), 1e-12)
        z = (x - mean) / sd
        z = np.where(np.abs(x - mean) <= 1e-12 * np.maximum(1.0, np.abs(mean)), 0.0, z)
        z = np.clip(z, -c.zscore_clip, c.zscore_clip)
        return np.where(full[:, None], z, 0.0)

    def _push_z(self, m: np.ndarray) -> None:
        idx = np.flatnonzero(m)
        self.zbuf[idx, self.zcount[idx] % self.config.zscore_window] = self.raw[idx]
        self.zcount[idx] += 1

    def _new_signal(self, m: np.ndarray) -> None:
        n = int(m.sum())
        u = self._rng.random((n, 3))
        k = np.minimum((u[:, 1] * N_STRATEGIES).astype(np.int64), N_STRATEGIES - 1)
        free = ~self.open[m][np.arange(n), k]
        self.sig[m] = (u[:, 0] < self.config.signal_probability) & free
        self.sig_k[m] = k
        self.sig_dir[m] = np.where(u[:, 2] < 0.5, 1.0, -1.0)

    def trail_stops(self, envs: np.ndarray) -> np.ndarray:
        """The PRD trailing rule on every open position of ``envs`` (B,); returns the moved mask (B, S).

        With ``x`` the favourable move per contract since entry (points, the position's edge
        included) and ``D₀`` its stop distance at entry (the stop/target agent's multiple × ATR):
        when ``x > D₀`` the stop moves to ``entry + direction × x / 2`` if that is tighter. In the
        position's coordinates the stop distance becomes ``min(D, -x / 2)`` (negative: profit
        locked), so a stop only ever tightens and the risk at the stop never exceeds the risk at
        entry. For the rule bracket ``D₀ = 1.5 (1 + 0.5 v) ATR``, which is the PRD's trigger.
        """
        x = self.dirn * (self.prices[:, STRATEGY_INSTRUMENT] - self.entry) + self.alpha
        move = envs[:, None] & self.open & (x > self.stop0) & (-x / 2 < self.stop)
        self.stop = np.where(move, -x / 2, self.stop)
        return move

    # -- regime filter ----------------------------------------------------------------------------------
    def _filter_setup(self) -> None:
        """Mixture components of a sub-step's return likelihood per regime (module notes, regime filter)."""
        c = self.config
        M = c.substeps
        # no jump, or a jump on one instrument (two in one sub-step: probability ~1e-6, left out; the
        # weights are renormalised)
        jumps = np.vstack([np.zeros(N_INSTRUMENTS), np.eye(N_INSTRUMENTS)])
        prec, logc = [], []
        for r in range(3):
            base = self._vol[r] ** 2 * (np.full((3, 3), c.correlation[r]) + np.eye(3) * (1 - c.correlation[r]))
            for jset in jumps:
                cov = base + np.diag(jset) * (c.jump_scale * self._vol[r]) ** 2
                j = self._jump_p[r]
                w = (j / (1 - j) if jset.any() else 1.0) / (1.0 + N_INSTRUMENTS * j / (1 - j))
                _, logdet = np.linalg.slogdet(cov)
                prec.append(np.linalg.inv(cov))
                logc.append(np.log(max(w, 1e-300)) - 0.5 * logdet - 1.5 * np.log(2 * np.pi))
        self._f_prec = np.asarray(prec).reshape(3, len(jumps), 3, 3)
        self._f_logc = np.asarray(logc).reshape(3, len(jumps))
        # net edge per unit risked of each strategy's native bracket in each regime, after costs
        stop = _NATIVE_STOP * self._vol * np.sqrt(M) * c.point_value  # (3,) currency per contract
        cost = 2 * self._slip
        win = self._b[:, None] * stop[None, :] - cost[None, :]
        loss = stop[None, :] + cost[None, :]
        self._native_edge = self._p_true * win / loss - (1 - self._p_true)  # (S, 3)

    def bar_log_likelihood(self, increments: np.ndarray) -> np.ndarray:
        """Log-likelihood (n, 3) of a bar's sub-step price increments (n, M, 3) under each regime."""
        n, m = increments.shape[:2]
        outer = (increments[..., :, None] * increments[..., None, :]).reshape(n * m, 9)
        # y' P y for every component; einsum without BLAS (a threaded GEMM this small only contends)
        quad = np.einsum("ak,ck->ac", outer, self._f_prec.reshape(-1, 9)).reshape(n, m, *self._f_logc.shape)
        comp = self._f_logc[None, None] - 0.5 * quad
        mx = comp.max(3, keepdims=True)
        return (mx[..., 0] + np.log(np.exp(comp - mx).sum(3))).sum(1)

    def filter_update(self, prior: np.ndarray, increments: np.ndarray) -> np.ndarray:
        """One Hamilton-filter step on a bar's sub-step increments: predicted next-bar regime probabilities."""
        ll = self.bar_log_likelihood(increments)
        ll = ll - ll.max(1, keepdims=True)
        post = prior * np.exp(ll)
        post = post / post.sum(1, keepdims=True)
        return post @ self._trans

    def _filter_block(self) -> np.ndarray:
        c = self.config
        n = self.n_envs
        has = self.sig.astype(float)
        k = self.sig_k
        edge = self._native_edge[k]  # (n, 3)
        pr = self.regime_prob
        inst = STRATEGY_INSTRUMENT[k]
        atr = np.sqrt(self.cov[np.arange(n), inst, inst])
        loss = _NATIVE_STOP * atr * c.point_value + 2 * self._slip[1]
        lim = c.limits
        cap = np.minimum(lim.max_contracts, np.floor(lim.max_risk_per_trade * self.equity / loss))
        return np.column_stack([pr, (pr * edge).sum(1) * has, (pr * (edge > 0)).sum(1) * has, cap / 5 * has])

    # -- kelly ------------------------------------------------------------------------------------------
    def true_edge(self, bracket: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """True ``(p, b_net, loss per contract)`` of the pending signal, after costs.

        ``bracket`` (B, 2) is the stop and target in ATR multiples of the trade as it would be
        placed (ATR = the observed EWMA volatility); without it, the strategy's native bracket at
        the true volatility, where ``p`` is the stated win probability. ``p`` is the barrier
        probability of the module notes for the true drift and volatility of the current regime.
        """
        c = self.config
        k, reg = self.sig_k, self.regime
        sub = self._vol[reg]  # true sub-step volatility
        if bracket is None:
            stop_pts = _NATIVE_STOP * sub * np.sqrt(c.substeps)
            tgt_pts = self._b[k] * stop_pts
            p = self._p_true[k, reg]
        else:
            br = np.asarray(bracket, dtype=float).reshape(self.n_envs, 2)
            inst = STRATEGY_INSTRUMENT[k]
            atr = np.sqrt(self.cov[np.arange(self.n_envs), inst, inst])
            stop_pts, tgt_pts = br[:, 0] * atr, br[:, 1] * atr
            p = win_probability_from_drift(self._drift[k, reg], stop_pts / sub, tgt_pts / sub)
        cost = 2 * self._slip[reg]
        win = tgt_pts * c.point_value - cost
        loss = stop_pts * c.point_value + cost
        return p, win / loss, loss

    def kelly_size(self, fraction: float = 1.0, bracket: np.ndarray | None = None) -> np.ndarray:
        """Contracts of ``fraction`` × Kelly with the true edge, under the hard limits (0 without a signal).

        ``floor(fraction f* E / L)`` with ``f* = p - (1 - p) / b`` (net of costs) and ``L`` the
        loss of one contract at the stop, for the trade's bracket (:meth:`true_edge`); capped at
        ``max_contracts`` and at ``max_risk_per_trade × E / L``; 0 when ``f* ≤ 0``. With
        ``fraction = 1`` and the bracket the stop/target agent chose, this is the Kelly-optimal
        size the sizing accuracy is measured against (``info["kelly_size"]``).
        """
        p, b, loss = self.true_edge(bracket)
        f = p - (1 - p) / np.maximum(b, 1e-12)
        lim = self.config.limits
        n = np.floor(fraction * f * self.equity / loss)
        cap = np.minimum(lim.max_contracts, np.floor(lim.max_risk_per_trade * self.equity / loss))
        return np.where(self.sig & (f > 0) & (b > 0), np.clip(n, 0, cap), 0).astype(np.int64)

    # -- observations -----------------------------------------------------------------------------------
    def _contexts(self) -> dict[AgentName, np.ndarray]:
        c = self.config
        n = self.n_envs
        has = self.sig.astype(float)
        onehot = np.zeros((n, N_STRATEGIES))
        onehot[np.arange(n), self.sig_k] = has
        k = self.sig_k
        inst = STRATEGY_INSTRUMENT[k]
        sd = np.sqrt(self.cov[np.arange(n), inst, inst])
        volr = np.clip(c.bar_volatility / np.maximum(sd, 1e-9), 0.0, 3.0) * has
        prog = self.t / c.session_length
        raw = self.raw
        d = self.sig_dir * has
        p_rep = self.reported_win_probability[k] * has
        logb = np.log(self._b[k]) * has
        open_n = self.open.sum(1)
        lim = c.limits
        sizing = np.column_stack([
            has, d, onehot, p_rep, logb, volr, 100 * sd / self.prices[np.arange(n), inst] * has,
            1 - raw[:, 6] / 100 / c.max_margin_usage, 10 * (raw[:, 0] - 1), prog, open_n / 5,
            _NATIVE_STOP * sd * c.point_value / lim.risk_per_contract * has])
        x = self._open_pnl() / c.point_value / np.maximum(self.qty, 1)
        held_mean = np.where(open_n > 0, (self.held * self.open).sum(1) / np.maximum(open_n, 1), 0.0)
        pnl_over_stop = np.where(open_n > 0, (np.where(self.open, x / np.maximum(self.stop0, 1e-9), 0.0)).sum(1)
                                 / np.maximum(open_n, 1), 0.0)
        stop_t = np.column_stack([has, d, onehot, p_rep, logb, volr, raw[:, 2], prog, held_mean / 10,
                                  np.clip(pnl_over_stop, -3, 3), raw[:, 8], raw[:, 7]])
        monitor = np.column_stack([open_n / 5, 100 * self._open_pnl().sum(1) / self.equity, raw[:, 5],
                                   raw[:, 6] / 100, 100 * raw[:, 4], raw[:, 3], raw[:, 8], raw[:, 9], self.scores,
                                   self._emergency()[0].astype(float), prog, raw[:, 2], 100 * self.excess])
        wr = np.where(self.strat_trades > 0, self.strat_wins / np.maximum(self.strat_trades, 1), 0.5)
        optim = np.column_stack([np.clip(self.strat_pnl / (0.01 * c.initial_equity), -5, 5), self.open.astype(float),
                                 wr, prog])
        return {AgentName.POSITION_SIZING: sizing, AgentName.STOP_TARGET: stop_t, AgentName.RISK_MONITOR: monitor,
                AgentName.PORTFOLIO_OPTIMIZER: optim, "filter": self._filter_block()}

    def observations(self) -> dict[AgentName, np.ndarray]:
        """``float32`` observation of every agent: z-scored risk state (10), its context (16), the filter (6)."""
        ctx = self._contexts()
        self._ctx = ctx
        return {a: np.concatenate([self.zstate, ctx[a], ctx["filter"]], 1).astype(np.float32) for a in AGENTS}

    def state(self) -> np.ndarray:
        """Global state for the centralised critic, ``float32`` (B, STATE_DIM)."""
        ctx = getattr(self, "_ctx", None) or self._contexts()
        return self._state_from(ctx)

    def _state_from(self, ctx: dict[AgentName, np.ndarray]) -> np.ndarray:
        raw = self.raw
        scaled = np.column_stack([10 * (raw[:, 0] - 1), raw[:, 1] / 5, raw[:, 2], raw[:, 3], 100 * raw[:, 4],
                                  raw[:, 5], raw[:, 6] / 100, raw[:, 7], raw[:, 8], raw[:, 9]])
        reg = np.eye(3)[self.regime]
        return np.concatenate([self.zstate, scaled, *[ctx[a] for a in AGENTS], ctx["filter"], reg],
                              1).astype(np.float32)

    # -- rules ------------------------------------------------------------------------------------------
    def _emergency(self) -> tuple[np.ndarray, np.ndarray]:
        """Emergency required (B,) and action code (0 none, 1 reduce, 2 close losers, 3 close all)."""
        vals = {**dict(zip(RISK_SCORE_NAMES, self.scores.T, strict=True)),
                "current_drawdown_pct": self.raw[:, 5], "margin_usage_pct": self.raw[:, 6]}
        n_open = self.open.sum(1)
        code = np.zeros(self.n_envs, np.int64)
        fired = np.zeros(self.n_envs, bool)
        for rule in EMERGENCY_RULES:
            f = (vals[rule.metric] > rule.threshold) & (n_open >= rule.min_open_positions)
            fired |= f
            code = np.where(f, _EMERGENCY_CODE[rule.action], code)
        return fired, code

    def _check_actions(self, actions: Any) -> dict[AgentName, np.ndarray]:
        if not isinstance(actions, dict):
            raise InputError("actions", "must be a mapping from agent name to action", value=type(actions).__name__)
        out = {}
        n = self.n_envs
        for a in AGENTS:
            key = a if a in actions else a.value
            if key not in actions:
                raise InputError(f"actions[{a.value}]", "is missing")
            try:
                x = np.asarray(actions[key], dtype=float)
            except (TypeError, ValueError):
                raise InputError(f"actions[{a.value}]", "must be numbers", value=actions[key]) from None
            if a in (AgentName.POSITION_SIZING, AgentName.RISK_MONITOR):
                hi = 5 if a is AgentName.POSITION_SIZING else 3
                x = x.reshape(-1) if x.size == n else x
                if x.shape != (n,):
                    raise InputError(f"actions[{a.value}]", f"must have shape ({n},)", value=x.shape)
                bad = ~np.isfinite(x) | (x != np.round(x)) | (x < 0) | (x > hi)
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    raise InputError(f"actions[{a.value}][{i}]", f"must be an integer in 0..{hi}", value=float(x[i]))
                out[a] = x.astype(np.int64)
            else:
                dim, lo, hi = (2, 0.5, 3.0) if a is AgentName.STOP_TARGET else (N_STRATEGIES, 0.0, 1.0)
                x = x.reshape(n, dim) if x.size == n * dim else x
                if x.shape != (n, dim):
                    raise InputError(f"actions[{a.value}]", f"must have shape ({n}, {dim})", value=x.shape)
                bad = ~np.isfinite(x) | (x < lo - 1e-6) | (x > hi + 1e-6)
                if bad.any():
                    i, j = map(int, np.argwhere(bad)[0])
                    raise InputError(f"actions[{a.value}][{i}, {j}]", f"must be in [{lo}, {hi}]", value=float(x[i, j]))
                out[a] = np.clip(x, lo, hi)
        return out

    # -- step -------------------------------------------------------------------------------------------
    def step(self, actions: dict) -> tuple[dict[AgentName, np.ndarray], np.ndarray, np.ndarray, np.ndarray,
                                           dict[str, Any]]:
        """Apply the four agents' actions, simulate one bar; returns obs, reward, terminated, truncated, info."""
        act = self._check_actions(actions)
        c = self.config
        lim = c.limits
        n = self.n_envs
        live = ~self.done
        e0 = self.equity.copy()
        var0 = self.var_cur.copy()
        rule_scores = self.scores.copy()
        state0_excess = self.excess.copy()
        kelly = self.kelly_size(1.0, act[AgentName.STOP_TARGET])
        p_true, b_true, loss_true = self.true_edge(act[AgentName.STOP_TARGET])
        has = self.sig & live
        emerg, code = self._emergency()
        emerg &= live
        if not c.enforce_rules:
            emerg[:] = False
        # 1. emergency rules on the book
        self._reduce(emerg & (code == 1))
        x_now = self.dirn * (self.prices[:, STRATEGY_INSTRUMENT] - self.entry) + self.alpha
        self._close((emerg & (code == 2))[:, None] & self.open & (x_now < 0))
        self._close((emerg & (code == 3))[:, None] & self.open)
        # 2. the risk monitor
        mon = np.where(live, act[AgentName.RISK_MONITOR], 0)
        self._reduce(mon == RiskAction.REDUCE_POSITION)
        self._close((mon == RiskAction.CLOSE_ALL)[:, None] & self.open)
        hedge = np.where(mon == RiskAction.HEDGE, c.hedge_ratio, 0.0)
        open_qty = self.qty.sum(1)
        hedge_cost = hedge * open_qty * self._slip[self.regime]
        self.cash -= hedge_cost
        # 2b. trailing stops on the open book (before the new trade: a new position trails from the next bar)
        if c.trailing_stop and c.enforce_rules:
            self.trail_stops(live)
        # 3. the new trade
        w = act[AgentName.PORTFOLIO_OPTIMIZER]
        s = w.sum(1, keepdims=True)
        w = np.where(s > 0, w / np.where(s > 0, s, 1.0), 1.0 / N_STRATEGIES)
        chosen = np.where(has, act[AgentName.POSITION_SIZING], 0)
        k = self.sig_k
        inst = STRATEGY_INSTRUMENT[k]
        atr = np.sqrt(self.cov[np.arange(n), inst, inst])
        mult = act[AgentName.STOP_TARGET]
        stop_pts, tgt_pts = mult[:, 0] * atr, mult[:, 1] * atr
        self._features(np.ones(n, bool))  # the book changed: refresh equity, margin and the critic's scores
        eq = self.equity.copy()
        risk_c = stop_pts * c.point_value + self._slip[self.regime]
        if c.enforce_rules:
            vals = {**dict(zip(RISK_SCORE_NAMES, self.scores.T, strict=True)), "volatility_regime": self.raw[:, 2]}
            size = vectorised_risk_adjustment(chosen, vals, lim.max_contracts)
            size = np.minimum(size, lim.max_contracts)
            size = np.minimum(size, np.floor(lim.max_risk_per_trade * eq / risk_c))
            margin_room = np.floor((c.max_margin_usage * eq - self.qty.sum(1) * c.margin_per_contract)
                                   / c.margin_per_contract)
            size = np.minimum(size, margin_room)
            budget = np.floor(N_STRATEGIES * w[np.arange(n), k] * lim.max_risk_per_trade * eq / risk_c)
            size = np.minimum(size, budget)
            blocked = emerg | (mon == RiskAction.CLOSE_ALL)
            size = np.where(blocked, 0, np.maximum(size, 0)).astype(np.int64)
        else:
            size = chosen.astype(np.int64)
        size = np.where(has, size, 0)
        go = size > 0
        rows = np.flatnonzero(go)
        kk = k[rows]
        self.open[rows, kk] = True
        self.qty[rows, kk] = size[rows]
        self.dirn[rows, kk] = self.sig_dir[rows]
        self.entry[rows, kk] = self.prices[rows, inst[rows]]
        self.alpha[rows, kk] = 0.0
        self.stop[rows, kk] = stop_pts[rows]
        self.stop0[rows, kk] = stop_pts[rows]
        self.target[rows, kk] = tgt_pts[rows]
        self.held[rows, kk] = 0
        self.cash[rows] -= size[rows] * self._slip[self.regime[rows]]
        self.strat_pnl[rows, kk] -= size[rows] * self._slip[self.regime[rows]]
        # 4. the bar
        self._market_bar(live, hedge=hedge[live])
        self.t[live] += 1
        truncated = live & (self.t >= c.session_length)
        self._features(live)
        terminated = live & ~truncated & (self.equity < c.ruin_fraction * c.initial_equity)
        end = truncated | terminated
        if end.any():
            self._close(end[:, None] & self.open)
            self._features(end)
        # the risk-at-stop limit applies at entry (equity moves afterwards); check it there
        entry_risk = size * risk_c
        breach = ((self.qty > lim.max_contracts).any(1).astype(np.int64)
                  + (go & (entry_risk > lim.max_risk_per_trade * eq + 1e-9))
                  + (go & ((self.qty.sum(1) * c.margin_per_contract) > c.max_margin_usage * eq + 1e-9)))
        # reward
        dd = 1.0 - self.equity / self.peak
        self.excess = np.where(live, np.maximum(self.excess, np.maximum(0.0, dd - c.drawdown_limit)), self.excess)
        growth = np.log(np.maximum(self.equity, 1e-9) / np.maximum(e0, 1e-9))
        reward = np.where(live, growth - c.drawdown_penalty * (self.excess - state0_excess), 0.0)
        # next-step events for the critic's risk head (labels of the state the agents just acted on)
        book_pnl = self.equity - e0
        events = np.stack([(var0 > 0) & (-book_pnl > var0), dd > c.drawdown_limit,
                           self.raw[:, 3] > CRITIC_THRESHOLDS["correlation"],
                           self.raw[:, 9] > CRITIC_THRESHOLDS["liquidity"]], 1).astype(np.float32)
        self.zstate[live] = self._zscore(live)
        self._push_z(live)
        self._new_signal(live & ~end)
        self.sig &= ~end
        info: dict[str, Any] = {
            "kelly_size": kelly, "trade_edge": np.column_stack([
                p_true, b_true, loss_true / np.maximum(e0, 1e-9),
                np.minimum(lim.max_contracts, np.floor(lim.max_risk_per_trade * e0 / loss_true))]),
            "has_signal": has, "chosen_size": chosen, "executed_size": size,
            "interventions": (has & (size < chosen)).astype(np.int64), "breaches": breach.astype(np.int64),
            "emergency": emerg, "equity": self.equity.copy(), "drawdown": dd, "events": events,
            "rule_scores": rule_scores.astype(np.float32), "regime": self.regime.copy(),
        }
        self.done |= end
        obs = self.observations()
        if end.any():
            info["final_state"] = self.state()
            info["final_observations"] = obs
            if self.autoreset:
                self._reset_mask(end)
                obs = self.observations()
        finite = np.isfinite(self.raw).all(1)
        if not finite.all():
            i = int(np.flatnonzero(~finite)[0])
            j = int(np.flatnonzero(~np.isfinite(self.raw[i]))[0])
            raise InputError(f"observation[{RISK_FEATURES[j]}]", "became non-finite (check the config)",
                             value=float(self.raw[i, j]))
        return obs, reward, terminated, truncated, info

    # -- persistence of the generator -------------------------------------------------------------------
    def rng_state(self) -> dict[str, Any]:
        return self._rng.bit_generator.state

    def set_rng_state(self, state: dict[str, Any]) -> None:
        self._rng.bit_generator.state = state


def kelly_contracts(fraction: float, p: np.ndarray, b: np.ndarray, loss: np.ndarray, equity: np.ndarray,
                    limits: RiskLimits) -> np.ndarray:
    """``floor(fraction f* E / L)`` capped by the limits (used by the Kelly baselines)."""
    f = p - (1 - p) / b
    cap = np.minimum(limits.max_contracts, np.floor(limits.max_risk_per_trade * equity / loss))
    return np.where(f > 0, np.clip(np.floor(fraction * f * equity / loss), 0, cap), 0).astype(np.int64)


def prd_position_size(p: np.ndarray, b: np.ndarray, current_vol: np.ndarray, base_vol: float, equity: np.ndarray,
                      limits: RiskLimits) -> np.ndarray:
    """:func:`riskcore.portfolio.sizing.position_size` on arrays (quarter Kelly, volatility adjustment)."""
    f = p - (1 - p) / b
    adj = np.minimum(base_vol / np.maximum(current_vol, 1e-12), VOLATILITY_ADJUSTMENT_CAP)
    risk = np.minimum(f * adj * KELLY_MULTIPLIER * equity, limits.max_risk_per_trade * equity)
    n = np.floor(risk / limits.risk_per_contract)
    return np.where(f > 0, np.minimum(np.maximum(1, n), limits.max_contracts), 0).astype(np.int64)
