"""Kelly sizing (PRD Appendix A.1 with SPEC §3's no-edge change) and the dynamic stop (PRD §2.2.2)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskcore.errors import InputError
from riskcore.portfolio.sizing import kelly_fraction, position_size
from riskcore.portfolio.stops import dynamic_stop_loss, stop_multiplier, take_profit_price


def test_appendix_a1_case1_kelly_and_size():
    # 60 % win rate, 2:1 reward:risk: f* = (p W - q L) / W = (120 - 40) / 200 = 0.4
    p, w, lo = 0.6, 200, 100
    assert kelly_fraction(p, w, lo) == pytest.approx((p * w - (1 - p) * lo) / w)
    assert kelly_fraction(p, w, lo) == pytest.approx(0.4)
    # quarter Kelly 0.1 of 100k = 10k, capped at 2 % = 2000 → 40 contracts → cap 5
    assert position_size(p, w, lo, 0.15, 0.15, 100_000) == 5


def test_appendix_a1_case2_break_even_is_no_trade():
    assert kelly_fraction(0.5, 100, 100) == 0.0
    assert position_size(0.5, 100, 100, 0.15, 0.15, 100_000) == 0  # SPEC §3: 0, not the PRD's 1


@pytest.mark.parametrize("p,w,lo", [(0.3, 100, 100), (0.0, 200, 100), (0.6, 0, 100), (0.6, 200, 0)])
def test_no_edge_gives_zero(p, w, lo):
    assert position_size(p, w, lo, 0.15, 0.15, 100_000) == 0


def test_size_by_hand_below_caps():
    # f* = 0.4, vol adj min(0.15/0.30, 2) = 0.5 → 0.4*0.5*0.25 = 0.05 of 5000 = 250 (< 2 % = 100)
    # → risk 100 → floor(100/50) = 2
    assert position_size(0.6, 200, 100, 0.30, 0.15, 5_000) == 2
    # volatility adjustment capped at 2: f*=0.1 (p=0.55,b=1.5 → (0.825-0.45)/1.5=0.25); use b=1
    # p=0.55, b=1: f*=0.1; adj=min(0.15/0.01, 2)=2 → 0.1*2*0.25=0.05 of 4000=200; cap 2 % = 80 → 1
    assert position_size(0.55, 100, 100, 0.01, 0.15, 4_000) == 1
    # risk_per_contract and max_contracts are honoured
    assert position_size(0.6, 200, 100, 0.15, 0.15, 100_000, risk_per_contract=1000) == 2
    assert position_size(0.6, 200, 100, 0.15, 0.15, 100_000, max_contracts=3) == 3


def test_positive_edge_tiny_budget_keeps_prd_floor_of_one():
    assert position_size(0.6, 200, 100, 0.15, 0.15, 1_000) == 1


def test_negative_avg_loss_sign_is_ignored():
    assert kelly_fraction(0.6, 200, -100) == pytest.approx(0.4)


@pytest.mark.parametrize("kwargs,field", [
    ({"win_probability": 1.2}, "win_probability"),
    ({"win_probability": float("nan")}, "win_probability"),
    ({"current_volatility": 0.0}, "current_volatility"),
    ({"base_volatility": -1.0}, "base_volatility"),
    ({"account_equity": 0.0}, "account_equity"),
    ({"max_risk_per_trade": 0.0}, "max_risk_per_trade"),
    ({"risk_per_contract": None}, "risk_per_contract"),
    ({"max_contracts": 0}, "max_contracts"),
    ({"avg_win": "200"}, "avg_win"),
])
def test_bad_inputs_name_the_field(kwargs, field):
    args = dict(win_probability=0.6, avg_win=200, avg_loss=100, current_volatility=0.15, base_volatility=0.15,
                account_equity=100_000)
    args.update(kwargs)
    with pytest.raises(InputError) as e:
        position_size(**args)
    assert e.value.field == field


# ---- dynamic stop: hand-computed points --------------------------------------------------------
# entry 100, ATR 2, volatility percentile 0.5: base 3.0, × (1 + 0.25) = 3.75 adjusted distance
def test_stop_long_and_short_at_entry():
    assert dynamic_stop_loss(100.0, 1, 2.0, 0.5, 0.0, 0.0) == 96.25
    assert dynamic_stop_loss(100.0, -1, 2.0, 0.5, 0.0, 0.0) == 103.75


def test_stop_time_decay():
    # 12 h: factor 1 - 0.5*0.3 = 0.85 → 3.1875 → 96.8125 → 96.81
    assert dynamic_stop_loss(100.0, 1, 2.0, 0.5, 12.0, 0.0) == 96.81
    # 30 h: factor max(0.7, 1 - 1.25*0.3 = 0.625) = 0.7 → 2.625 → short 102.625 → 102.62 or .63 (half-cent)
    assert dynamic_stop_loss(100.0, -1, 2.0, 0.5, 30.0, 0.0) == pytest.approx(102.625, abs=0.0051)
    # 6 h, volatility 1.0: 1.5*2*1.5 = 4.5 × (1 - 0.075) = 4.1625 → long 95.8375 → 95.84
    assert dynamic_stop_loss(100.0, 1, 2.0, 1.0, 6.0, 0.0) == 95.84


def test_stop_trailing():
    # unrealised move 5 > adjusted 3.75: trailing stop 100 + 2.5 = 102.5 beats 96.25
    assert dynamic_stop_loss(100.0, 1, 2.0, 0.5, 0.0, 5.0) == 102.5
    assert dynamic_stop_loss(100.0, -1, 2.0, 0.5, 0.0, 5.0) == 97.5
    # move 3.75 is not above the adjusted distance: no trailing
    assert dynamic_stop_loss(100.0, 1, 2.0, 0.5, 0.0, 3.75) == 96.25
    # trailing is compared with the pre-decay distance (3.75), not the decayed one (2.625)
    assert dynamic_stop_loss(100.0, 1, 2.0, 0.5, 30.0, 3.0) == pytest.approx(97.375, abs=0.0051)


def test_stop_multiplier_and_target():
    assert stop_multiplier(0.5, 0.0) == pytest.approx(1.875)
    assert stop_multiplier(1.0, 100.0) == pytest.approx(2.25 * 0.7)
    assert take_profit_price(100.0, 1, 2.0, 2.5) == 105.0
    assert take_profit_price(100.0, -1, 2.0, 2.5) == 95.0
    with pytest.raises(InputError, match="target_multiplier"):
        take_profit_price(100.0, 1, 2.0, 3.5)


@pytest.mark.parametrize("args,field", [
    ((0.0, 1, 2.0, 0.5, 0, 0), "entry_price"), ((100.0, 0, 2.0, 0.5, 0, 0), "direction"),
    ((100.0, 1, -2.0, 0.5, 0, 0), "current_atr"), ((100.0, 1, 2.0, 1.5, 0, 0), "volatility_percentile"),
    ((100.0, 1, 2.0, 0.5, -1, 0), "time_in_trade"), ((100.0, 1, 2.0, 0.5, 0, float("inf")), "unrealized_pnl"),
])
def test_stop_bad_inputs(args, field):
    with pytest.raises(InputError) as e:
        dynamic_stop_loss(*args)
    assert e.value.field == field


# ---- the PRD's functions verbatim, as references over random inputs ----------------------------
def _prd_position_size(win_probability, avg_win, avg_loss, current_volatility, base_volatility, account_equity,
                       max_risk_per_trade=0.02):
    """PRD §2.2.1 as written (its floor of 1 and its 'return 1' shortcut included)."""
    if avg_loss == 0 or win_probability == 0:
        return 1, None, None
    profit_loss_ratio = abs(avg_win / avg_loss)
    lose_probability = 1 - win_probability
    kelly = (win_probability * profit_loss_ratio - lose_probability) / profit_loss_ratio
    volatility_adjustment = min(base_volatility / current_volatility, 2.0)
    adjusted_kelly = kelly * volatility_adjustment * 0.25
    risk_amount = min(adjusted_kelly * account_equity, max_risk_per_trade * account_equity)
    return min(max(1, int(risk_amount / 50)), 5), kelly, risk_amount


def _prd_stop(entry_price, direction, current_atr, volatility_percentile, time_in_trade, unrealized_pnl):
    """PRD §2.2.2 as written."""
    base_stop_distance = current_atr * 1.5
    volatility_multiplier = 1.0 + (volatility_percentile * 0.5)
    adjusted_stop_distance = base_stop_distance * volatility_multiplier
    time_factor = max(0.7, 1.0 - (time_in_trade / 24.0) * 0.3)
    time_adjusted_distance = adjusted_stop_distance * time_factor
    if direction > 0:
        stop_price = entry_price - time_adjusted_distance
        if unrealized_pnl > adjusted_stop_distance:
            trailing_stop = entry_price + (unrealized_pnl * 0.5)
            stop_price = max(stop_price, trailing_stop)
    else:
        stop_price = entry_price + time_adjusted_distance
        if unrealized_pnl > adjusted_stop_distance:
            trailing_stop = entry_price - (unrealized_pnl * 0.5)
            stop_price = min(stop_price, trailing_stop)
    return round(stop_price, 2)


_pos = st.floats(1e-3, 1e6)
# averages of either sign, or 0; magnitudes where the PRD's own b = |W / L| neither overflows nor underflows
_avg = st.one_of(st.just(0.0), st.floats(1e-3, 1e5), st.floats(-1e5, -1e-3))


@settings(max_examples=300, deadline=None)
@given(p=st.floats(0, 1), w=_avg, lo=_avg, cur=st.floats(1e-3, 5),
       base=st.floats(1e-3, 5), equity=st.floats(1.0, 1e8), m=st.floats(1e-4, 1.0))
def test_sizing_is_the_prd_formula_except_no_edge(p, w, lo, cur, base, equity, m):
    n = position_size(p, w, lo, cur, base, equity, m)
    if w == 0 or lo == 0 or p == 0:
        assert n == 0  # no measurable edge (the PRD returns 1, or divides by zero when avg_win = 0)
        return
    ref, kelly, risk = _prd_position_size(p, w, lo, cur, base, equity, m)
    # (p W - q L) / W is (p b - q) / b with b = |W / L|, |.| on both averages: same number up to rounding
    assert kelly_fraction(p, w, lo) == pytest.approx(kelly, rel=1e-9, abs=1e-12)
    if kelly <= 0 or kelly_fraction(p, w, lo) <= 0:
        assert n == 0  # SPEC §3: no trade where the PRD floors at 1
    elif abs(risk / 50 - round(risk / 50)) > 1e-6:  # away from a contract boundary the rounding cannot matter
        assert n == ref


@settings(max_examples=500, deadline=None)
@given(entry=_pos, d=st.sampled_from([1, -1]), atr=st.floats(0, 1e4), v=st.floats(0, 1), t=st.floats(0, 100),
       u=st.floats(-1e4, 1e4))
def test_stop_is_exactly_the_prd_formula(entry, d, atr, v, t, u):
    assert dynamic_stop_loss(entry, d, atr, v, t, u) == _prd_stop(entry, d, atr, v, t, u)
