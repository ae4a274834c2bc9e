"""Issue 17 item 2: one malformed event must not poison the decision log.

Before the fix, a self-referencing or 600-deep payload made ``process_risk_event`` raise
RecursionError at the next flush, the row stayed in the buffer and every later flush raised
too: 20 events with 1 malformed → 16 raised, 0 decisions stored.
"""

import logging

import numpy as np

from riskcore.portfolio.events import LOG_MAX_DEPTH, LOG_MAX_STR, RiskEventProcessor, _loggable

REQ = {"symbol": "MES", "direction": 1, "base_quantity": 2, "entry_price": 5000.0, "strategy_confidence": 0.6}


def _deep(n: int) -> dict:
    root = cur = {}
    for _ in range(n):
        cur["x"] = {}
        cur = cur["x"]
    return root


class HostileRepr:
    def __repr__(self):
        raise RuntimeError("no repr for you")


class BadToDict:
    def to_dict(self):
        raise RuntimeError("to_dict exploded")


def _depth(x) -> int:
    if isinstance(x, dict):
        return 1 + max((_depth(v) for v in x.values()), default=0)
    if isinstance(x, list):
        return 1 + max((_depth(v) for v in x), default=0)
    return 0


def test_malformed_events_are_logged_bounded_and_never_raise(tmp_store):
    selfref = dict(REQ)
    selfref["meta"] = selfref
    hostile = {
        2: selfref,
        5: {**REQ, "meta": _deep(600)},
        9: _deep(5000),  # deeper than the interpreter's recursion limit
        12: {**REQ, "note": "x" * 5_000_000, "\ud800bad-key": HostileRepr(), 10 ** 400: list(range(100_000))},
        15: {**REQ, "entry_price": HostileRepr()},
    }
    p = RiskEventProcessor(store=tmp_store, n_simulations=200, flush_every=5)
    raised = 0
    responses = []
    for i in range(20):
        try:
            responses.append(p.process_risk_event("NEW_TRADE_REQUEST", hostile.get(i, REQ)))
        except Exception:  # noqa: BLE001 - counting what the old code raised
            raised += 1
    p.flush()
    assert raised == 0
    assert responses[9]["status"] == "error" and responses[15]["status"] == "error"
    assert p.last_flush_error is None and p.quarantined_log_rows == 0
    log = tmp_store.list_decisions(limit=100)
    assert len(log) == 20
    for rec in log.record:
        assert _depth(rec["event"]) <= LOG_MAX_DEPTH + 1
        assert len(str(rec)) < 200_000
    events = [r["event"] for r in log.record]
    assert any(e.get("meta") == "<cycle>" for e in events)
    assert any(isinstance(e.get("note"), str) and len(e["note"]) < LOG_MAX_STR + 100 for e in events)


def test_unloggable_payload_is_quarantined_with_reason(tmp_store, caplog):
    p = RiskEventProcessor(store=tmp_store, n_simulations=200, flush_every=1)
    with caplog.at_level(logging.WARNING, logger="riskcore.portfolio.events"):
        r = p.process_risk_event("NEW_TRADE_REQUEST", {**REQ, "client_tag": BadToDict()})
    assert r["status"] == "approved"  # the unknown field does not matter to the decision
    assert p.quarantined_log_rows == 1 and "to_dict exploded" in caplog.text
    (rec,) = tmp_store.list_decisions().record
    assert "to_dict exploded" in rec["event"]["_quarantined"]
    p.process_risk_event("NEW_TRADE_REQUEST", REQ)
    assert len(tmp_store.list_decisions()) == 2


def test_row_that_cannot_be_serialised_is_dropped_not_retried_forever(tmp_store, caplog):
    p = RiskEventProcessor(store=tmp_store, n_simulations=200, flush_every=1000)
    p.process_risk_event("NEW_TRADE_REQUEST", REQ)
    # a row that slipped past _loggable (as a future change to the record might let through)
    p._buffer.append(("NEW_TRADE_REQUEST", {"received_at": 0.0, "event": {"x": object()}, "response": {},
                                            "decision": None}, "approved", 1.0))
    p.process_risk_event("NEW_TRADE_REQUEST", REQ)
    with caplog.at_level(logging.WARNING, logger="riskcore.portfolio.events"):
        assert p.flush() == 2
    assert p.quarantined_log_rows == 1 and "not serialisable" in caplog.text
    assert len(tmp_store.list_decisions()) == 2 and not p._buffer


def test_loggable_bounds():
    assert _loggable(float("nan")) == "nan" and _loggable(np.float32(1.5)) == 1.5
    assert _loggable(2 ** 80) == "<int of 81 bits>"
    out = _loggable(list(range(1000)))
    assert len(out) == 201 and out[-1] == "<truncated: 800 more items>"
    assert _loggable(HostileRepr()) == "<unrepresentable HostileRepr>"
    assert _loggable("\udcff").encode("utf-8")
