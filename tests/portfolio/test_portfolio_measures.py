"""Correlation score, liquidity assessment, risk state vector, z-score normaliser, context presets."""

import numpy as np
import pandas as pd
import pytest

from riskcore.errors import InputError
from riskcore.portfolio.context import PortfolioContext, Position, Preset, TradeRequest, preset
from riskcore.portfolio.correlation import correlation_alerts, correlation_matrix, correlation_risk_score
from riskcore.portfolio.liquidity import Recommendation, assess_liquidity
from riskcore.portfolio.state import RISK_FEATURES, RollingZScore, compute_risk_state


def test_correlation_score_by_hand():
    c = np.array([[1, 0.5, -0.9], [0.5, 1, 0.1], [-0.9, 0.1, 1]])
    # |rho| = 0.5, 0.9, 0.1 → mean 0.5, max 0.9 → 0.6*0.5 + 0.4*0.9 = 0.66
    assert correlation_risk_score(c) == pytest.approx(0.66)
    assert correlation_risk_score(np.eye(1)) == 0.0
    assert correlation_risk_score(np.ones((3, 3))) == 1.0


def test_correlation_matrix_and_alerts():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 0.01, (300, 2))
    r = np.column_stack([z[:, 0], z[:, 0] + 0.001 * z[:, 1], z[:, 1]])
    hist = pd.DataFrame(100 * np.cumprod(1 + r, axis=0), columns=["A", "B", "C"])
    c = correlation_matrix(hist)
    assert c.loc["A", "B"] > 0.99 and abs(c.loc["A", "C"]) < 0.2
    alerts = correlation_alerts(c)
    assert [(a["symbol_1"], a["symbol_2"], a["severity"]) for a in alerts] == [("A", "B", "HIGH")]
    with pytest.raises(InputError, match="at least 30"):
        correlation_matrix(hist.iloc[:10])
    flat = hist.assign(C=100.0)
    assert correlation_matrix(flat).loc["A", "C"] == 0.0


def test_liquidity_by_hand():
    vols = [1000.0] * 20
    spreads = [0.25] * 20
    ok = assess_liquidity(1000, 0.25, 200_000, vols, spreads)
    assert ok.score == 0.0 and ok.recommendation is Recommendation.NORMAL_TRADING
    # volume ratio 0.3 → 0.4*0.7 = 0.28; spread ratio 3 → 0.4*min(1, 1) = 0.4; depth 50k → 0.2*0.5 = 0.1
    bad = assess_liquidity(300, 0.75, 50_000, vols, spreads)
    assert bad.volume_ratio == pytest.approx(0.3) and bad.spread_ratio == pytest.approx(3.0)
    assert bad.score == pytest.approx(0.78)
    assert bad.recommendation is Recommendation.LIMIT_ORDERS_ONLY
    assert len(bad.risk_factors) == 3
    # fewer than 20 observations: ratios taken as normal
    assert assess_liquidity(1, 100, 200_000, vols[:5], spreads[:5]).score == 0.0
    with pytest.raises(InputError, match="current_volume"):
        assess_liquidity(-1, 0.25, 1e5)
    assert bad.summary().shape[0] == 5 and bad.to_dict()["recommendation"] == "LIMIT_ORDERS_ONLY"


def test_state_vector_names_order_and_values():
    ctx = preset("calm")
    st = compute_risk_state(ctx, n_simulations=2000, seed=0)
    assert RISK_FEATURES[0] == "account_equity_normalized" and RISK_FEATURES[9] == "liquidity_conditions"
    v = st.vector
    assert v.dtype == np.float64 and v.shape == (10,)
    assert v[0] == pytest.approx(ctx.account_equity / ctx.initial_capital)
    assert v[1] == len(ctx.positions)
    assert v[2] == ctx.volatility_regime and v[5] == ctx.current_drawdown_pct and v[6] == ctx.margin_usage_pct
    assert v[4] == pytest.approx(st.var_currency / ctx.account_equity)
    corr = correlation_matrix(ctx.price_history.iloc[-252:], ctx.symbols)
    assert v[3] == pytest.approx(correlation_risk_score(corr.to_numpy()))
    assert list(st.summary().index) == list(RISK_FEATURES)
    empty = compute_risk_state(ctx.replace(positions=()))
    assert empty.vector[1] == 0 and empty.vector[3] == 0 and empty.vector[4] == 0


def test_presets_trip_the_intended_rules():
    s = {p: compute_risk_state(preset(p)).vector for p in Preset}
    assert s[Preset.CORRELATED_CRASH][3] > 0.8 and s[Preset.CORRELATED_CRASH][1] > 2
    assert s[Preset.MARGIN_SQUEEZE][6] > 90
    assert s[Preset.CALM][3] < 0.6 and s[Preset.CALM][6] < 80
    with pytest.raises(InputError, match="preset"):
        preset("boring")


def test_rolling_zscore():
    z = RollingZScore(window=5, min_periods=3, n_features=2)
    assert np.all(z.update([1.0, 5.0]) == 0) and np.all(z.update([2.0, 5.0]) == 0)
    z.update([3.0, 5.0])
    # previous window [1, 2, 3]: mean 2, sd 1 → x=4 gives 2; constant feature gives 0
    out = z.update([4.0, 5.0])
    assert out == pytest.approx([2.0, 0.0])
    for x in range(10):
        z.update([float(x), 5.0])
    assert z.count == 5
    assert z.transform([1000.0, 5.0])[0] == 5.0  # clipped
    z2 = RollingZScore(window=5, min_periods=3, n_features=2)
    z2.load_state_dict(z.state_dict())
    assert np.array_equal(z2.transform([7.0, 5.0]), z.transform([7.0, 5.0]))


def test_context_validation_and_frames():
    ctx = preset("volatile")
    df = ctx.positions_frame()
    back = ctx.with_positions_frame(df)
    assert back.positions == ctx.positions
    bad = df.copy()
    bad.loc[1, "current_price"] = -5.0
    with pytest.raises(InputError) as e:
        ctx.with_positions_frame(bad)
    assert e.value.row == 2 and e.value.field == "current_price"
    with pytest.raises(InputError, match="margin_usage_pct"):
        ctx.replace(margin_usage_pct=120)
    with pytest.raises(InputError, match="no column for position symbol"):
        ctx.replace(positions=(Position("x", "ZZZ", 1, 10.0, 10.0),))
    d = ctx.to_dict()
    again = PortfolioContext.from_dict(d, price_history=ctx.price_history)
    assert again == ctx


@pytest.mark.parametrize("data,field", [
    ({"direction": 1, "base_quantity": 1, "entry_price": 10.0}, "symbol"),
    ({"symbol": "X", "direction": 2, "base_quantity": 1, "entry_price": 10.0}, "direction"),
    ({"symbol": "X", "direction": 1, "base_quantity": 0, "entry_price": 10.0}, "base_quantity"),
    ({"symbol": "X", "direction": 1, "base_quantity": 1.5, "entry_price": 10.0}, "base_quantity"),
    ({"symbol": "X", "direction": 1, "base_quantity": 1, "entry_price": float("nan")}, "entry_price"),
    ({"symbol": "X", "direction": 1, "base_quantity": 1, "entry_price": 10.0, "avg_loss": None}, "avg_loss"),
    ({"symbol": "", "direction": 1, "base_quantity": 1, "entry_price": 10.0}, "symbol"),
])
def test_trade_request_validation(data, field):
    with pytest.raises(InputError) as e:
        TradeRequest.from_event(data)
    assert e.value.field == field
