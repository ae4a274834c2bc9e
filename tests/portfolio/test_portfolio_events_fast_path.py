"""The array fast path of RiskEventProcessor gives the numbers of the straightforward recomputation.

Issue 17 item 11: a market-data update no longer rebuilds and re-reads the history through
pandas. Every response, the risk state, the correlation matrix and the history frame must be
exactly those of ``incremental=False`` (compute_risk_state on the DataFrame after each event)
over a fuzzed stream that covers new symbols, multi-symbol bars, bad ticks, opened and closed
positions, account changes, emergencies and the history window rolling over.
"""

import numpy as np
import pandas as pd
import pytest

from riskcore.portfolio._price_buffer import PriceBuffer
from riskcore.portfolio.context import preset
from riskcore.portfolio.events import RiskEventProcessor

SYMS = ["MES", "MNQ", "MGC", "M2K", "MCL", "NEW1", "NEW2"]


def fuzz_events(seed: int, n: int, start: dict[str, float]):
    rng = np.random.default_rng(seed)
    last = dict(start)
    for _ in range(n):
        k = rng.random()
        if k < 0.55:
            picks = rng.choice(SYMS, size=int(rng.integers(1, 4)), replace=False)
            bar = {}
            for s in picks:
                p = last.get(s, float(rng.uniform(10, 100)))
                p *= 1 + rng.normal(0, 0.01)
                if rng.random() < 0.02:
                    p *= 50.0  # a bad tick: rejected, must not touch the state
                else:
                    last[s] = p
                bar[str(s)] = p
            one = len(bar) == 1 and rng.random() < 0.5
            data = {"symbol": picks[0], "price": bar[picks[0]]} if one else {"prices": bar}
            if rng.random() < 0.3:
                data.update(volume=float(rng.uniform(0, 1000)), spread=float(rng.uniform(0, 1)))
            if rng.random() < 0.2:
                data["volatility_percentile"] = float(rng.uniform(0, 1.2))
            yield "MARKET_DATA_UPDATE", data
        elif k < 0.7:
            s = str(rng.choice(SYMS))
            yield "POSITION_UPDATE", {"position_id": f"p{rng.integers(4)}", "symbol": s,
                                      "quantity": float(rng.choice([0, 1, -2, 3])),
                                      "current_price": last.get(s, 50.0), "entry_price": last.get(s, 50.0)}
        elif k < 0.8:
            yield "ACCOUNT_UPDATE", {"margin_usage_pct": float(rng.uniform(0, 110)),
                                     "account_equity": float(rng.uniform(5e4, 2e5))}
        elif k < 0.82:
            yield "EMERGENCY_SIGNAL", {"emergency_type": "LIQUIDITY_CRISIS"}
        else:
            s = str(rng.choice(SYMS))
            yield "NEW_TRADE_REQUEST", {"symbol": s, "direction": int(rng.choice([-1, 1])),
                                        "base_quantity": int(rng.integers(1, 6)), "entry_price": last.get(s, 50.0),
                                        "strategy_confidence": float(rng.uniform(0.3, 0.9))}


def _same(fast: RiskEventProcessor, ref: RiskEventProcessor) -> None:
    np.testing.assert_array_equal(fast.risk_state.vector, ref.risk_state.vector)
    assert fast.risk_state.var_currency == ref.risk_state.var_currency
    if ref.risk_state.correlation is None:
        assert fast.risk_state.correlation is None
    else:
        pd.testing.assert_frame_equal(fast.risk_state.correlation, ref.risk_state.correlation, check_exact=True)
    if ref.context.price_history is None:
        assert fast.context.price_history is None
    else:
        pd.testing.assert_frame_equal(fast.context.price_history, ref.context.price_history, check_exact=True)
    assert fast.context == ref.context


@pytest.mark.parametrize("with_history", [True, False])
def test_fast_path_matches_straightforward_recomputation(with_history):
    ctx = preset("calm")
    if not with_history:
        ctx = ctx.replace(price_history=None, positions=())
    fast = RiskEventProcessor(context=ctx, n_simulations=100, seed=5)
    ref = RiskEventProcessor(context=ctx, n_simulations=100, seed=5, incremental=False)
    assert fast._prices is not None and ref._prices is None
    start = {s: float(ctx.price_history[s].iloc[-1]) for s in ctx.price_history} if with_history else {}
    statuses = set()
    n_events = 700 if with_history else 300
    for i, (etype, data) in enumerate(fuzz_events(11, n_events, start)):
        rf = fast.process_risk_event(etype, data)
        rr = ref.process_risk_event(etype, data)
        rf.pop("processing_time_ms"), rr.pop("processing_time_ms")
        assert rf == rr, (i, etype, data)
        statuses.add(rf["status"])
        if etype == "EMERGENCY_SIGNAL":
            fast.clear_emergency(), ref.clear_emergency()
        if i % 97 == 0:
            _same(fast, ref)
    _same(fast, ref)
    # the stream did exercise what it is meant to: errors, updates, closes and a full window
    assert {"error", "state_updated", "update_required", "position_closed"} <= statuses
    if with_history:
        assert len(fast.context.price_history) == PriceBuffer.KEEP + 1
        assert {"NEW1", "NEW2"} <= set(fast.context.price_history.columns)


def test_odd_history_takes_the_reference_path():
    ctx = preset("calm")
    odd = ctx.price_history.astype({"MES": "float32"})
    p = RiskEventProcessor(context=ctx.replace(price_history=odd), n_simulations=100)
    assert p._prices is None
    assert p.process_risk_event("MARKET_DATA_UPDATE", {"symbol": "MES", "price": 5001.0})["status"] == "state_updated"


def test_price_buffer_window_and_carry_forward():
    b = PriceBuffer(np.array([[1.0, np.nan], [2.0, 5.0]]), ["A", "B"])
    b.append({"A": 3.0})
    b.append({"C": 7.0})
    f = b.frame()
    assert list(f.columns) == ["A", "B", "C"]
    np.testing.assert_array_equal(f.to_numpy(), [[1, np.nan, np.nan], [2, 5, np.nan], [3, 5, np.nan], [3, 5, 7]])
    assert b.last("B") == 5.0 and b.count("B") == 3 and b.last("Z") is None and b.count("Z") == 0
    for i in range(3000):  # several compactions of the spare rows
        b.append({"A": float(i)})
    assert len(b) == PriceBuffer.KEEP + 1 and b.last("A") == 2999.0 and b.values()[0, 0] == 2999.0 - PriceBuffer.KEEP
