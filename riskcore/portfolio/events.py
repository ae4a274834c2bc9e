"""Event-driven risk processing (PRD §3.1.1): :class:`RiskEventProcessor`.

Every event gets a response dict, never an exception: a malformed event (missing fields,
wrong types, NaN, None, unknown event type) is answered with ``status = "error"``,
``approved_quantity = 0`` and the field at fault. Responses follow the PRD:

- ``NEW_TRADE_REQUEST`` → ``status`` (``approved`` / ``approved_reduced`` / ``rejected``),
  ``reason``, ``approved_quantity``, ``risk_scores``, ``stop_loss_price``,
  ``take_profit_price``, ``action_type``;
- ``POSITION_UPDATE`` → ``update_required`` with ``new_stop_loss`` / ``new_take_profit``,
  ``no_update_required`` or ``position_closed`` (quantity 0);
- ``MARKET_DATA_UPDATE`` / ``ACCOUNT_UPDATE`` → ``state_updated`` with the risk state,
  scores, the monitor's ``risk_action`` and ``action_type`` (EMERGENCY when a rule fires);
- ``EMERGENCY_SIGNAL`` → ``emergency_response`` with the PRD's action per emergency type
  (:data:`EMERGENCY_RESPONSES`). An emergency signal also **halts new trades** until
  :meth:`RiskEventProcessor.clear_emergency` (a decision of this library: "emergencies
  override everything").

All responses carry ``processing_time_ms``. The risk state (VaR, correlation) is
recomputed when a state-changing event arrives, so a trade request works on the cached
state and stays within the latency target (a trade's own marginal VaR is not added: the
PRD does not either).

Market data: an update carries ``symbol`` and ``price`` or ``prices`` ({symbol: price});
each update appends one row to the price history, carrying the other symbols' last
prices forward, so send one update per bar for correlation estimates to be meaningful.

Decision log: when a ``store`` is given, each event is buffered as ``(event_type, record,
status, latency_ms)`` and written with ``store.log_decisions`` once ``flush_every``
events have accumulated (after the response is timed), on :meth:`flush` and on leaving a
``with`` block. A failed write keeps the rows for the next flush and is reported in
:attr:`last_flush_error`, never raised into event processing.
"""

from __future__ import annotations

import enum
import math
import time
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from riskcore.agents.system import RiskDecision, RiskSystem
from riskcore.errors import InputError
from riskcore.portfolio._validate import integer, real, text
from riskcore.portfolio.context import PortfolioContext, Position, TradeRequest, preset
from riskcore.portfolio.liquidity import assess_liquidity
from riskcore.portfolio.state import RISK_FEATURES, RiskState, RollingZScore, compute_risk_state

__all__ = ["EventType", "EmergencyType", "EMERGENCY_RESPONSES", "RiskEventProcessor"]


class EventType(enum.StrEnum):
    NEW_TRADE_REQUEST = "NEW_TRADE_REQUEST"
    POSITION_UPDATE = "POSITION_UPDATE"
    MARKET_DATA_UPDATE = "MARKET_DATA_UPDATE"
    ACCOUNT_UPDATE = "ACCOUNT_UPDATE"
    EMERGENCY_SIGNAL = "EMERGENCY_SIGNAL"


class EmergencyType(enum.StrEnum):
    MARKET_CRASH = "MARKET_CRASH"
    LIQUIDITY_CRISIS = "LIQUIDITY_CRISIS"
    TECHNICAL_FAILURE = "TECHNICAL_FAILURE"
    MARGIN_CALL = "MARGIN_CALL"
    UNKNOWN = "UNKNOWN"


#: PRD §3.1.1 responses: emergency type → (action, reason). Others → HALT_ALL_TRADING.
EMERGENCY_RESPONSES: dict[EmergencyType, tuple[str, str]] = {
    EmergencyType.MARKET_CRASH: ("CLOSE_ALL_POSITIONS", "Market crash protection activated"),
    EmergencyType.LIQUIDITY_CRISIS: ("HALT_NEW_TRADES", "Liquidity crisis detected"),
    EmergencyType.MARGIN_CALL: ("REDUCE_POSITIONS_BY_50PCT", "Margin call response"),
}
#: largest factor between a symbol's new and last price accepted from market data
MAX_TICK_RATIO = 10.0
#: prices of history an instrument needs before a position on it is accepted (VaR, correlation)
MIN_HISTORY = 30
_ACCOUNT_FIELDS = ("account_equity", "initial_capital", "current_drawdown_pct", "margin_usage_pct")
_MARKET_FIELDS = ("volatility_percentile", "market_stress_level", "time_of_day_risk", "current_volatility")


def _jsonable(x: Any) -> Any:
    """Event payloads as plain data for the log (anything unusual becomes its repr)."""
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if isinstance(x, float):
        return x if math.isfinite(x) else repr(x)
    if isinstance(x, enum.Enum):
        return x.value
    if isinstance(x, np.generic):
        return _jsonable(x.item())
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if hasattr(x, "to_dict") and not isinstance(x, (pd.DataFrame, pd.Series)):
        return _jsonable(x.to_dict())
    return repr(x)[:200]


class RiskEventProcessor:
    """Route risk events to the risk system and answer within milliseconds (PRD §3.1.1).

    Parameters
    ----------
    system : RiskSystem, optional
        Default: rule-based agents and critic with the default limits.
    context : PortfolioContext, optional
        Starting portfolio; default the ``calm`` preset.
    store : riskcore.store.Store, optional
        Where decisions are logged (none when omitted).
    n_simulations : int, default 1000
        Monte Carlo paths of the state's VaR on each state update.
    seed : int or Generator, default 0
    flush_every : int, default 100
        Buffered log rows that trigger a write.
    normalizer : RollingZScore, optional
        Rolling z-score of the state handed to learned policies (a fresh one by default).

    Examples
    --------
    >>> p = RiskEventProcessor()
    >>> r = p.process_risk_event("NEW_TRADE_REQUEST", {"symbol": "MES", "direction": 1, "base_quantity": 2,
    ...                                                "entry_price": 5000.0, "strategy_confidence": 0.6})
    >>> r["status"], r["approved_quantity"]
    ('approved', 2)
    """

    def __init__(self, system: RiskSystem | None = None, context: PortfolioContext | None = None, store: Any = None,
                 *, n_simulations: int = 1000, seed: int | np.random.Generator = 0, flush_every: int = 100,
                 normalizer: RollingZScore | None = None, max_buffer: int = 100_000):
        self.system = system or RiskSystem()
        ctx = context if context is not None else preset("calm")
        if not isinstance(ctx, PortfolioContext):
            ctx = PortfolioContext.from_dict(ctx)
        self.store = store
        self.n_simulations = integer("n_simulations", n_simulations, lo=100)
        self.flush_every = integer("flush_every", flush_every, lo=1)
        self._rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.normalizer = normalizer or RollingZScore()
        self.processing_times: deque[float] = deque(maxlen=10_000)
        self._buffer: deque[tuple[str, dict[str, Any], str | None, float]] = deque(maxlen=max_buffer)
        self.dropped_log_rows = 0
        self.last_flush_error: str | None = None
        self.halted: EmergencyType | None = None
        self.last_decision: RiskDecision | None = None
        self._volume: dict[str, list[float]] = {}
        self._spread: dict[str, list[float]] = {}
        self._handlers = {
            EventType.NEW_TRADE_REQUEST: self._on_trade,
            EventType.POSITION_UPDATE: self._on_position,
            EventType.MARKET_DATA_UPDATE: self._on_market,
            EventType.ACCOUNT_UPDATE: self._on_account,
            EventType.EMERGENCY_SIGNAL: self._on_emergency,
        }
        self._set_context(ctx)

    # -- state -------------------------------------------------------------------------
    @property
    def context(self) -> PortfolioContext:
        return self._context

    @property
    def risk_state(self) -> RiskState:
        return self._state

    def _set_context(self, ctx: PortfolioContext) -> None:
        state = compute_risk_state(ctx, n_simulations=self.n_simulations, seed=self._rng)  # may raise: nothing set
        self._context, self._state = ctx, state
        with np.errstate(all="ignore"):  # extreme but finite states clip at ±clip
            self._normalized = self.normalizer.update(state.vector)

    def clear_emergency(self) -> None:
        """Lift the trading halt set by an EMERGENCY_SIGNAL."""
        self.halted = None

    # -- entry point ---------------------------------------------------------------------
    def process_risk_event(self, event_type: EventType | str, event_data: Mapping[str, Any] | None) -> dict[str, Any]:
        """Handle one event and return the response dict (never raises)."""
        start = time.perf_counter()
        decision = None
        etype_name = getattr(event_type, "value", event_type)
        try:
            try:
                etype = EventType(event_type)
            except ValueError:
                raise InputError("event_type", f"must be one of {[e.value for e in EventType]}",
                                 value=event_type) from None
            etype_name = etype.value
            if not isinstance(event_data, Mapping):
                raise InputError("event_data", "must be a mapping", value=type(event_data).__name__)
            response, decision = self._handlers[etype](event_data)
        except InputError as exc:
            response = {"status": "error", "action": "reject_event", "approved_quantity": 0, "error": str(exc),
                        "field": exc.field}
        except Exception as exc:  # never raise into the event loop; never approve on failure
            response = {"status": "error", "action": "reject_event", "approved_quantity": 0,
                        "error": f"{type(exc).__name__}: {exc}", "field": None}
        elapsed = (time.perf_counter() - start) * 1000.0
        self.processing_times.append(elapsed)
        response["processing_time_ms"] = elapsed
        if decision is not None:
            self.last_decision = decision
        if self.store is not None:
            self._log(str(etype_name), event_data, response, decision, elapsed)
        return response

    # -- handlers --------------------------------------------------------------------------
    def _decide(self, trade: TradeRequest | None = None) -> RiskDecision:
        return self.system.process_risk_decision(self._state.vector, self._context, trade,
                                                 normalized_state=self._normalized)

    def _on_trade(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], RiskDecision | None]:
        trade = TradeRequest.from_event(data)
        if self.halted is not None:
            return {"status": "rejected", "reason": f"trading halted by emergency signal {self.halted.value}",
                    "approved_quantity": 0, "action_type": "EMERGENCY", "stop_loss_price": None,
                    "take_profit_price": None, "risk_scores": None}, None
        d = self._decide(trade)
        base = {"risk_scores": d.risk_scores, "action_type": d.action_type.value}
        if d.is_emergency:
            return {"status": "rejected", "reason": "emergency_risk_conditions: " + ", ".join(d.emergency.conditions),
                    "approved_quantity": 0, "stop_loss_price": None, "take_profit_price": None,
                    "emergency_action": d.emergency.recommended_action.value, **base}, d
        n = int(d.position_size or 0)
        if n == 0:
            status, reason = "rejected", d.size_reason
        elif n < trade.base_quantity:
            status, reason = "approved_reduced", f"Risk-adjusted from {trade.base_quantity} to {n} contracts"
        else:
            status, reason = "approved", "Risk assessment passed"
        return {"status": status, "reason": reason, "approved_quantity": n,
                "stop_loss_price": d.stop_loss_price if n else None,
                "take_profit_price": d.take_profit_price if n else None,
                "risk_action": d.risk_action.name, **base}, d

    def _on_position(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], RiskDecision | None]:
        pid = text("position_id", data.get("position_id"))
        for key in ("symbol", "quantity", "current_price"):
            if key not in data:
                raise InputError(key, "is required for a POSITION_UPDATE")
        symbol = text("symbol", data["symbol"])
        qty = real("quantity", data["quantity"])
        price = real("current_price", data["current_price"], lo=0.0, lo_open=True)
        existing = {p.position_id: p for p in self._context.positions}
        old = existing.get(pid)
        if qty == 0:
            if old is None:
                raise InputError("position_id", "is not an open position", value=pid)
            self._set_context(self._context.replace(positions=tuple(p for p in existing.values() if p is not old)))
            return {"status": "position_closed", "position_id": pid}, self._decide()
        if old is None and "entry_price" not in data:
            raise InputError("entry_price", "is required for a new position", value=None)
        fields = {"position_id": pid, "symbol": symbol, "quantity": qty, "current_price": price,
                  "entry_price": data["entry_price"] if "entry_price" in data else old.entry_price,
                  "multiplier": data.get("multiplier", old.multiplier if old else 1.0),
                  "atr": data.get("atr", old.atr if old else None),
                  "time_in_trade_hours": data.get("time_in_trade_hours", old.time_in_trade_hours if old else 0.0),
                  "strategy": data.get("strategy", old.strategy if old else 0)}
        for k in ("multiplier", "time_in_trade_hours", "strategy"):
            if fields[k] is None:
                raise InputError(k, "must not be None", value=None)
        pos = Position(**fields)
        ph = self._context.price_history
        if ph is not None and (symbol not in ph.columns or ph[symbol].notna().sum() < MIN_HISTORY):
            raise InputError("symbol", f"needs at least {MIN_HISTORY} prices of history before a position is "
                             "opened (send MARKET_DATA_UPDATE bars first)", value=symbol)
        new = dict(existing)
        new[pid] = pos
        self._set_context(self._context.replace(positions=tuple(new.values())))
        d = self._decide()
        upd = d.stop_target_updates[pid]
        cur_stop, cur_target = data.get("current_stop"), data.get("current_target")
        if cur_stop is not None:
            real("current_stop", cur_stop)
        if cur_target is not None:
            real("current_target", cur_target)
        if cur_stop == upd["stop_loss"] and cur_target == upd["take_profit"]:
            return {"status": "no_update_required", "position_id": pid, "action_type": d.action_type.value}, d
        return {"status": "update_required", "position_id": pid, "new_stop_loss": upd["stop_loss"],
                "new_take_profit": upd["take_profit"], "reason": upd["reason"],
                "action_type": d.action_type.value}, d

    def _state_response(self, d: RiskDecision) -> dict[str, Any]:
        out = {"status": "state_updated", "action_type": d.action_type.value, "risk_scores": d.risk_scores,
               "risk_action": d.risk_action.name, "execution_priority": d.execution_priority,
               "risk_state": dict(zip(RISK_FEATURES, map(float, d.state), strict=True))}
        if d.is_emergency:
            out["emergency_action"] = d.emergency.recommended_action.value
            out["conditions"] = list(d.emergency.conditions)
        return out

    def _on_market(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], RiskDecision | None]:
        if "prices" in data:
            prices = data["prices"]
            if not isinstance(prices, Mapping) or not prices:
                raise InputError("prices", "must be a non-empty mapping of symbol to price", value=prices)
        elif "symbol" in data and "price" in data:
            prices = {data["symbol"]: data["price"]}
        else:
            raise InputError("price", "a MARKET_DATA_UPDATE needs symbol and price, or prices")
        clean = {text("symbol", s): real(f"prices[{s}]", p, lo=0.0, lo_open=True) for s, p in prices.items()}
        ph = self._context.price_history
        if ph is not None:  # data-integrity check (PRD §6.2.2): a bad tick must not poison VaR and correlation
            for s, p in clean.items():
                last = ph[s].dropna().iloc[-1] if s in ph.columns and ph[s].notna().any() else None
                if last is not None and not (1.0 / MAX_TICK_RATIO <= p / last <= MAX_TICK_RATIO):
                    raise InputError(f"prices[{s}]", f"moves from {last:g} by more than a factor "
                                     f"{MAX_TICK_RATIO:g}: rejected as a bad tick", value=p)
        changes: dict[str, Any] = {}
        for key in _MARKET_FIELDS:
            if key in data:
                v = real(key, data[key], lo=0.0, hi=None if key == "current_volatility" else 1.0,
                         lo_open=key == "current_volatility")
                changes["volatility_regime" if key == "volatility_percentile" else key] = v
        if any(k in data for k in ("volume", "spread", "market_depth")):
            sym = next(iter(clean))
            vol = real("volume", data.get("volume", 0.0), lo=0.0)
            spr = real("spread", data.get("spread", 0.0), lo=0.0)
            # without a depth figure the depth term is neutral (depth at the PRD's minimum)
            depth = real("market_depth", data["market_depth"], lo=0.0) if "market_depth" in data else 100_000.0
            vh, sh = self._volume.setdefault(sym, []), self._spread.setdefault(sym, [])
            liq = assess_liquidity(vol, spr, depth, vh or None, sh or None)
            vh.append(vol)
            sh.append(spr)
            del vh[:-20], sh[:-20]
            changes["liquidity_risk"] = liq.score
        if ph is None:
            ph = pd.DataFrame({s: [p] for s, p in clean.items()})
        else:
            last = ph.iloc[-1].to_dict()
            last.update(clean)
            row = pd.DataFrame([last], columns=list(dict.fromkeys([*map(str, ph.columns), *clean])))
            ph = pd.concat([ph.iloc[-500:], row], ignore_index=True)
        positions = tuple(Position(**{**p.to_dict(), "current_price": clean[p.symbol]}) if p.symbol in clean else p
                          for p in self._context.positions)
        self._set_context(self._context.replace(price_history=ph, positions=positions, **changes))
        d = self._decide()
        return self._state_response(d), d

    def _on_account(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], RiskDecision | None]:
        changes = {k: data[k] for k in _ACCOUNT_FIELDS if k in data}
        if not changes:
            raise InputError("event_data", f"an ACCOUNT_UPDATE needs at least one of {list(_ACCOUNT_FIELDS)}")
        for k, v in changes.items():
            if v is None:
                raise InputError(k, "must be a number, not None", value=None)
        self._set_context(self._context.replace(**changes))
        d = self._decide()
        return self._state_response(d), d

    def _on_emergency(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], RiskDecision | None]:
        raw = data.get("emergency_type", "UNKNOWN")
        if not isinstance(raw, str):
            raise InputError("emergency_type", f"must be one of {[e.value for e in EmergencyType]}", value=raw)
        try:
            etype = EmergencyType(raw.upper())
        except ValueError:
            etype = EmergencyType.UNKNOWN
        severity = data.get("severity", "HIGH")
        action, reason = EMERGENCY_RESPONSES.get(etype, ("HALT_ALL_TRADING", f"Unknown emergency: {raw}"))
        if etype is EmergencyType.TECHNICAL_FAILURE:
            reason = "Technical failure: all trading halted"
        self.halted = etype
        return {"status": "emergency_response", "action": action, "reason": reason, "emergency_type": etype.value,
                "severity": str(severity), "execution_priority": "IMMEDIATE", "approved_quantity": 0,
                "action_type": "EMERGENCY"}, None

    # -- decision log -------------------------------------------------------------------------
    def _log(self, event_type: str, data: Any, response: dict[str, Any], decision: RiskDecision | None,
             latency: float) -> None:
        if len(self._buffer) == self._buffer.maxlen:
            self.dropped_log_rows += 1
        snapshot = dict(data) if isinstance(data, Mapping) else data  # the caller may reuse its dict
        self._buffer.append((event_type, {"event": snapshot, "response": dict(response), "decision": decision,
                                          "received_at": time.time()}, response.get("status"), latency))
        if len(self._buffer) >= self.flush_every:
            self.flush()

    def flush(self) -> int:
        """Write buffered decisions to the store; returns the number written (0 on failure)."""
        if self.store is None or not self._buffer:
            return 0
        rows = []
        for etype, rec, status, lat in self._buffer:
            d: RiskDecision | None = rec["decision"]
            record = {"received_at": datetime.fromtimestamp(rec["received_at"], UTC).isoformat(),
                      "event": _jsonable(rec["event"]), "response": _jsonable(rec["response"])}
            if d is not None:
                dd = d.to_dict()
                record.update(state=dd["state"], agents=dd["agents"], critic_scores=dd["risk_scores"],
                              final_decision={k: v for k, v in dd.items() if k not in ("state", "agents")})
            rows.append((etype, record, status, lat))
        try:
            self.store.log_decisions(rows)
        except Exception as exc:  # keep the rows; report, never raise into event processing
            self.last_flush_error = f"{type(exc).__name__}: {exc}"
            return 0
        self._buffer.clear()
        self.last_flush_error = None
        return len(rows)

    def __enter__(self) -> RiskEventProcessor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()

    # -- latency ------------------------------------------------------------------------------
    def latency_summary(self) -> pd.DataFrame:
        """Count, mean, p50, p95, p99 and max of ``processing_time_ms`` so far."""
        t = np.asarray(self.processing_times, dtype=float)
        if t.size == 0:
            return pd.DataFrame({"value": {"count": 0}})
        return pd.DataFrame({"value": {"count": t.size, "mean_ms": t.mean(), "p50_ms": np.percentile(t, 50),
                                       "p95_ms": np.percentile(t, 95), "p99_ms": np.percentile(t, 99),
                                       "max_ms": t.max()}})
