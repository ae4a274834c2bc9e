"""A deterministic stream of risk events for the recovery tests and the crash-test child process.

Market bars on two symbols (with volume and spread), a position opened once the new symbol has
enough history, trade requests, and account updates that push margin usage over the PRD's 80 %
limit and back, so alerts are raised and cleared along the way.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from riskcore.monitor.portfolio import PortfolioMonitor
from riskcore.portfolio.events import RiskEventProcessor
from riskcore.recovery import RiskRuntime

T0 = pd.Timestamp("2026-07-01 09:30")


def events(n: int = 120, seed: int = 3) -> list[tuple[str, dict[str, Any], pd.Timestamp]]:
    rng = np.random.default_rng(seed)
    mes, mgc = 5000.0, 2000.0
    out: list[tuple[str, dict[str, Any], pd.Timestamp]] = []
    for i in range(n):
        ts = T0 + pd.Timedelta(minutes=i)
        if i == 40:
            out.append(("POSITION_UPDATE", {"position_id": "p9", "symbol": "MGC", "quantity": 2.0,
                                            "current_price": mgc, "entry_price": mgc, "atr": 20.0}, ts))
        elif i % 25 == 12:
            out.append(("ACCOUNT_UPDATE", {"margin_usage_pct": 92.0 if (i // 25) % 2 == 0 else 40.0,
                                           "current_drawdown_pct": 0.4}, ts))
        elif i % 9 == 4:
            out.append(("NEW_TRADE_REQUEST", {"symbol": "MES", "direction": 1 if i % 2 else -1, "base_quantity": 3,
                                              "entry_price": mes, "strategy_confidence": 0.6}, ts))
        else:
            mes *= 1.0 + 0.004 * rng.standard_normal()
            mgc *= 1.0 + 0.003 * rng.standard_normal()
            out.append(("MARKET_DATA_UPDATE", {"prices": {"MES": round(mes, 2), "MGC": round(mgc, 2)},
                                               "volume": float(rng.integers(500, 1500)),
                                               "spread": 0.25 + 0.05 * float(rng.random())}, ts))
    return out


def new_runtime() -> RiskRuntime:
    return RiskRuntime(RiskEventProcessor(n_simulations=500, seed=11), PortfolioMonitor(n_simulations=200))


def comparable(response: dict[str, Any]) -> str:
    """A response without its timing, as canonical JSON (what two runs must agree on)."""
    return json.dumps({k: v for k, v in response.items() if k != "processing_time_ms"}, sort_keys=True,
                      allow_nan=True, default=str)
