"""Issue 16 items 5-6: the event processor answers with a typed EventResponse that is the documented dict."""

from __future__ import annotations

import json

import pytest

from riskcore.portfolio.events import EventResponse, ResponseStatus, RiskEventProcessor, TradeStatus

REQ = {"symbol": "MES", "direction": 1, "base_quantity": 2, "entry_price": 5000.0, "strategy_confidence": 0.6}


@pytest.fixture(scope="module")
def proc():
    return RiskEventProcessor(n_simulations=500)


def _plain(r: EventResponse) -> dict:
    """What the processor answered before: a plain dict with string statuses (through JSON, as a client sees it)."""
    return json.loads(json.dumps(r))


def test_trade_response_is_typed_and_round_trips_to_the_old_dict(proc):
    r = proc.process_risk_event("NEW_TRADE_REQUEST", REQ)
    assert isinstance(r, EventResponse) and isinstance(r, dict)
    assert r.status is TradeStatus.APPROVED and r["status"] == "approved" and type(r["status"]) is str
    assert r.approved_quantity == r["approved_quantity"] == 2
    assert r.reason == r["reason"] and r.action_type == r["action_type"]
    assert r.processing_time_ms == r["processing_time_ms"] > 0
    assert not r.is_error
    d = r.to_dict()
    assert type(d) is dict and d == r and _plain(r) == d
    assert EventResponse(d) == r and EventResponse(d).status is TradeStatus.APPROVED


def test_reduced_and_rejected_trades_have_their_status(proc):
    reduced = proc.process_risk_event("NEW_TRADE_REQUEST", {**REQ, "base_quantity": 500})
    assert reduced.status in (TradeStatus.APPROVED_REDUCED, TradeStatus.REJECTED)
    assert reduced.approved_quantity < 500
    p = RiskEventProcessor(n_simulations=500)
    p.process_risk_event("EMERGENCY_SIGNAL", {"emergency_type": "LIQUIDITY_CRISIS"})
    halted = p.process_risk_event("NEW_TRADE_REQUEST", REQ)
    assert halted.status is TradeStatus.REJECTED and halted.approved_quantity == 0
    assert halted["reason"].startswith("trading halted")


@pytest.mark.parametrize(("etype", "data", "status"), [
    ("ACCOUNT_UPDATE", {"margin_usage_pct": 30.0}, ResponseStatus.STATE_UPDATED),
    ("MARKET_DATA_UPDATE", {"symbol": "MES", "price": 5001.0}, ResponseStatus.STATE_UPDATED),
    ("EMERGENCY_SIGNAL", {"emergency_type": "MARKET_CRASH"}, ResponseStatus.EMERGENCY_RESPONSE),
    ("NEW_TRADE_REQUEST", {"symbol": "MES"}, ResponseStatus.ERROR),
    ("NOT_AN_EVENT", {}, ResponseStatus.ERROR),
])
def test_every_response_status_is_an_enum_member(etype, data, status):
    r = RiskEventProcessor(n_simulations=500).process_risk_event(etype, data)
    assert r.status is status and r["status"] == status.value
    assert r.is_error is (status is ResponseStatus.ERROR)
    assert r.approved_quantity == 0
    assert _plain(r) == r.to_dict()


def test_position_statuses(proc):
    p = RiskEventProcessor(n_simulations=500)
    pos = {"position_id": "p1", "symbol": "MES", "quantity": 1, "current_price": 5000.0, "entry_price": 5000.0}
    opened = p.process_risk_event("POSITION_UPDATE", pos)
    assert opened.status in (ResponseStatus.UPDATE_REQUIRED, ResponseStatus.NO_UPDATE_REQUIRED), opened
    same = p.process_risk_event("POSITION_UPDATE", {**pos, "current_stop": opened.get("new_stop_loss"),
                                                    "current_target": opened.get("new_take_profit")})
    assert same.status is ResponseStatus.NO_UPDATE_REQUIRED
    closed = p.process_risk_event("POSITION_UPDATE", {**pos, "quantity": 0})
    assert closed.status is ResponseStatus.POSITION_CLOSED and closed.approved_quantity == 0


def test_status_values_are_distinct_across_the_two_enums():
    assert not {s.value for s in TradeStatus} & {s.value for s in ResponseStatus}


def test_decision_log_keeps_plain_statuses(tmp_store):
    with RiskEventProcessor(n_simulations=500, store=tmp_store, flush_every=1) as p:
        p.process_risk_event("NEW_TRADE_REQUEST", REQ)
        p.process_risk_event("NOT_AN_EVENT", {})
    log = tmp_store.list_decisions()
    assert set(log.status) == {"approved", "error"}
