"""Portfolio risk benchmarks: sizing, portfolio VaR, NEW_TRADE_REQUEST latency.

Targets (issue 6): ``position_size`` <= 10 µs a call; ``portfolio_var`` with 1,000 simulations over
5 positions <= 1 ms; NEW_TRADE_REQUEST end to end p99 <= 2 ms. Each line prints the ratio to a
reference measured in the same run:

- sizing: the PRD's unvalidated function (our cost of validation);
- VaR: the PRD's loop over simulations and days (with a Generator instead of the global seed);
- events: a naive processor that recomputes the risk state (VaR, correlation) on every request.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from riskcore.agents import RiskSystem  # noqa: E402
from riskcore.portfolio.context import preset  # noqa: E402
from riskcore.portfolio.events import RiskEventProcessor  # noqa: E402
from riskcore.portfolio.sizing import position_size  # noqa: E402
from riskcore.portfolio.state import compute_risk_state  # noqa: E402
from riskcore.portfolio.var import portfolio_var  # noqa: E402


def prd_position_size(win_probability, avg_win, avg_loss, current_volatility, base_volatility, account_equity,
                      max_risk_per_trade=0.02):
    """The PRD §2.2.1 function as written (reference)."""
    if avg_loss == 0 or win_probability == 0:
        return 1
    b = abs(avg_win / avg_loss)
    kelly = (win_probability * b - (1 - win_probability)) / b
    adj = min(base_volatility / current_volatility, 2.0)
    risk = min(kelly * adj * 0.25 * account_equity, max_risk_per_trade * account_equity)
    return min(max(1, int(risk / 50)), 5)


def prd_portfolio_var(positions, price_history, confidence_level=0.05, time_horizon=1, n_simulations=10000,
                      rng=None):
    """The PRD §2.2.3 loop (reference), seeded by a Generator instead of the global RNG."""
    returns = np.diff(price_history) / price_history[:-1]
    vol = np.std(returns) * np.sqrt(252)
    sims = rng.normal(np.mean(returns), vol / np.sqrt(252), size=(n_simulations, time_horizon))
    current = sum(p["quantity"] * p["current_price"] for p in positions)
    values = []
    for s in range(n_simulations):
        v = current
        for d in range(time_horizon):
            v *= 1 + sims[s, d]
        values.append(v)
    return abs(np.percentile(np.array(values) - current, confidence_level * 100))


def per_call(fn, n: int, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def line(name: str, value: float, unit: str, ref: float, target: float | None) -> None:
    verdict = "" if target is None else ("  OK" if value <= target else f"  OVER target {target:g} {unit}")
    print(f"{name:<58s} {value:10.3f} {unit:<3s} reference {ref:10.3f} {unit:<3s} ratio {ref / value:7.1f}x{verdict}")


def bench_sizing() -> None:
    args = (0.6, 200, 100, 0.15, 0.15, 100_000)
    ours = per_call(lambda: position_size(*args), 20_000) * 1e6
    ref = per_call(lambda: prd_position_size(*args), 20_000) * 1e6
    line("position_size (validated)", ours, "µs", ref, 10.0)


def bench_var() -> None:
    rng = np.random.default_rng(0)
    prices = np.random.default_rng(1).standard_normal(252) * 0.02 + 100  # the PRD's benchmark history
    pos = [{"quantity": i, "current_price": 100 + i} for i in range(5)]
    ours = per_call(lambda: portfolio_var(pos, prices, n_simulations=1000, seed=rng), 300) * 1e3
    ref = per_call(lambda: prd_portfolio_var(pos, prices, n_simulations=1000, rng=rng), 30) * 1e3
    line("portfolio_var 1-D, 5 positions, 1000 sims", ours, "ms", ref, 1.0)
    ctx = preset("calm")
    hist = ctx.price_history.iloc[-252:]
    multi = [{"symbol": s, "quantity": 1 + i, "current_price": float(hist[s].iloc[-1])}
             for i, s in enumerate(hist.columns)]
    ours_m = per_call(lambda: portfolio_var(multi, hist, n_simulations=1000, seed=rng), 300) * 1e3
    line("portfolio_var DataFrame, 5 correlated symbols, 1000 sims", ours_m, "ms", ref, 1.0)
    ours_h = per_call(lambda: portfolio_var(multi, hist, time_horizon=10, n_simulations=1000, seed=rng), 100) * 1e3
    ref_h = per_call(lambda: prd_portfolio_var(pos, prices, time_horizon=10, n_simulations=1000, rng=rng), 10) * 1e3
    line("portfolio_var DataFrame, 5 symbols, 10-day horizon, 1000 sims", ours_h, "ms", ref_h, None)


def _latencies(proc: RiskEventProcessor, req: dict, n: int) -> tuple[np.ndarray, np.ndarray]:
    wall = np.empty(n)
    for i in range(n):
        t0 = time.perf_counter()
        proc.process_risk_event("NEW_TRADE_REQUEST", req)
        wall[i] = (time.perf_counter() - t0) * 1e3
    return np.asarray(list(proc.processing_times)[-n:]), wall


def bench_events() -> None:
    req = {"symbol": "MES", "direction": 1, "base_quantity": 2, "entry_price": 5000.0, "strategy_confidence": 0.6}
    n = 5000
    proc = RiskEventProcessor()
    _latencies(proc, req, 200)  # warm-up
    t, wall = _latencies(proc, req, n)
    ctx = preset("calm")
    system = RiskSystem()

    def naive():
        state = compute_risk_state(ctx, n_simulations=1000, seed=0)
        system.process_risk_decision(state.vector, ctx, req)

    naive_ms = np.array([per_call(naive, 1, 1) * 1e3 for _ in range(200)])
    line("NEW_TRADE_REQUEST p50 (processing_time_ms)", np.percentile(t, 50), "ms", np.percentile(naive_ms, 50),
         None)
    line("NEW_TRADE_REQUEST p99 (processing_time_ms)", np.percentile(t, 99), "ms", np.percentile(naive_ms, 99), 2.0)
    line("NEW_TRADE_REQUEST p99 wall-clock, no store", np.percentile(wall, 99), "ms", np.percentile(naive_ms, 99),
         2.0)
    from riskcore.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.duckdb")
        logged = RiskEventProcessor(store=store, flush_every=500)
        _latencies(logged, req, 200)
        t2, wall2 = _latencies(logged, req, n)
        logged.flush()
        line("NEW_TRADE_REQUEST p99 (processing_time_ms), store logging", np.percentile(t2, 99), "ms",
             np.percentile(naive_ms, 99), 2.0)
        line("NEW_TRADE_REQUEST p99 wall-clock incl. buffered logging", np.percentile(wall2, 99), "ms",
             np.percentile(naive_ms, 99), None)
        flushes = wall2[wall2 > np.percentile(wall2, 99.9)]
        print(f"{'  (flush of 500 rows every 500 events, worst calls)':<58s} {flushes.max():10.3f} ms; "
              f"rows logged {len(store.list_decisions(limit=100_000))}")


def main() -> None:
    print(f"numpy {np.__version__}, pandas {pd.__version__}")
    bench_sizing()
    bench_var()
    bench_events()


if __name__ == "__main__":
    main()
