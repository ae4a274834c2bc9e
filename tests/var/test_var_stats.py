"""Kupiec, Christoffersen and the Basel traffic light against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from riskcore.errors import InputError
from riskcore.var import TrafficLight, christoffersen_test, kupiec_test, traffic_light, traffic_light_zone
from riskcore.var.stats import coverage_stats


def test_kupiec_no_violations_uses_the_full_statistic():
    # x = 0: LR = -2 n log(1 - p); n = 250, p = 0.01 -> 5.0252 (not the seed's shortcut p = 1)
    lr, p = kupiec_test(np.zeros(250, bool), 0.01)
    assert lr == pytest.approx(-2 * 250 * math.log(0.99), rel=1e-12)
    assert lr == pytest.approx(5.025167926, rel=1e-9)
    assert p == pytest.approx(stats.chi2.sf(lr, 1), rel=1e-12)
    assert p < 0.05


def test_kupiec_all_violations():
    lr, p = kupiec_test(np.ones(10, bool), 0.05)
    assert lr == pytest.approx(-2 * 10 * math.log(0.05), rel=1e-12)  # 59.914645
    assert p == pytest.approx(stats.chi2.sf(59.914645471079815, 1), rel=1e-9)


def test_kupiec_mixed_by_hand():
    v = np.zeros(100, bool)
    v[[3, 40, 41, 70, 99]] = True  # x = 5, n = 100, p = 0.01, p_hat = 0.05
    hand = -2 * (5 * math.log(0.01) + 95 * math.log(0.99)) + 2 * (5 * math.log(0.05) + 95 * math.log(0.95))
    lr, p = kupiec_test(v, 0.01)
    assert lr == pytest.approx(hand, rel=1e-12)
    assert lr == pytest.approx(8.258217, rel=1e-6)
    assert p == pytest.approx(stats.chi2.sf(hand, 1), rel=1e-12)
    # exactly the expected number of violations: LR = 0, p = 1
    assert kupiec_test(np.r_[np.ones(1, bool), np.zeros(99, bool)], 0.01) == pytest.approx((0.0, 1.0))


def test_christoffersen_no_clustering_gives_zero_ind():
    # transitions n00=4, n01=2, n10=2, n11=1 -> pi01 = pi11 = pi = 1/3 -> LR_ind = 0 exactly
    v = np.array([0, 0, 1, 1, 0, 0, 0, 1, 0, 0], bool)
    lr_ind, p_ind, lr_cc, p_cc = christoffersen_test(v, 0.1)
    assert lr_ind == pytest.approx(0.0, abs=1e-12) and p_ind == pytest.approx(1.0)
    lr_pof, _ = kupiec_test(v, 0.1)
    assert lr_cc == pytest.approx(lr_pof, rel=1e-12)
    assert p_cc == pytest.approx(stats.chi2.sf(lr_cc, 2), rel=1e-12)


def test_christoffersen_clustered_by_hand():
    v = np.array([0, 0, 0, 0, 1, 1, 1, 0, 0, 0], bool)
    # n00 = 5, n01 = 1, n10 = 1, n11 = 2; pi01 = 1/6, pi11 = 2/3, pi = 3/9
    l0 = 6 * math.log(2 / 3) + 3 * math.log(1 / 3)
    l1 = 5 * math.log(5 / 6) + math.log(1 / 6) + math.log(1 / 3) + 2 * math.log(2 / 3)
    hand_ind = -2 * (l0 - l1)
    lr_ind, p_ind, lr_cc, p_cc = christoffersen_test(v, 0.1)
    assert lr_ind == pytest.approx(hand_ind, rel=1e-12)
    assert lr_ind == pytest.approx(2.2314355, rel=1e-7)
    assert p_ind == pytest.approx(stats.chi2.sf(hand_ind, 1), rel=1e-12)
    hand_pof = -2 * (3 * math.log(0.1) + 7 * math.log(0.9)) + 2 * (3 * math.log(0.3) + 7 * math.log(0.7))
    assert lr_cc == pytest.approx(hand_pof + hand_ind, rel=1e-12)
    assert p_cc == pytest.approx(stats.chi2.sf(hand_pof + hand_ind, 2), rel=1e-12)


def test_christoffersen_none_and_all_violations():
    n, p = 250, 0.01
    lr_ind, p_ind, lr_cc, p_cc = christoffersen_test(np.zeros(n, bool), p)
    assert lr_ind == 0.0 and p_ind == 1.0
    assert lr_cc == pytest.approx(-2 * n * math.log(1 - p), rel=1e-12)
    assert p_cc == pytest.approx(stats.chi2.sf(lr_cc, 2), rel=1e-12)
    lr_ind, p_ind, lr_cc, _ = christoffersen_test(np.ones(n, bool), p)
    assert lr_ind == 0.0 and p_ind == 1.0
    assert lr_cc == pytest.approx(-2 * n * math.log(p), rel=1e-12)


def test_christoffersen_detects_clustering_at_right_size():
    # independent Bernoulli(0.05) violations: p_ind roughly uniform -> rejection rate at 5 % near 5 %;
    # clustered (runs of 5) violations at the same rate are rejected almost always
    rng = np.random.default_rng(0)
    p_iid = [christoffersen_test(rng.random(1000) < 0.05, 0.05)[1] for _ in range(200)]
    rate = np.mean(np.array(p_iid) < 0.05)
    assert rate < 0.05 + 3 * math.sqrt(0.05 * 0.95 / 200)  # 3 binomial standard errors
    clustered = np.zeros(1000, bool)
    for s in rng.choice(np.arange(0, 995, 5), 10, replace=False):
        clustered[s:s + 5] = True
    assert christoffersen_test(clustered, 0.05)[1] < 1e-6


@pytest.mark.parametrize(("x", "zone"), [(0, "green"), (4, "green"), (5, "yellow"), (9, "yellow"),
                                         (10, "red"), (25, "red")])
def test_basel_traffic_light(x, zone):
    assert traffic_light(x) == zone
    assert traffic_light(x) is TrafficLight(zone)


def test_generalised_zone_reproduces_basel_table():
    for x in range(0, 40):
        assert traffic_light_zone(x, 250, 0.01) is traffic_light(x)


def test_stats_input_errors():
    with pytest.raises(InputError, match="exceptions"):
        traffic_light(-1)
    with pytest.raises(InputError, match="exceptions"):
        traffic_light(3.5)
    with pytest.raises(InputError, match="expected_rate"):
        kupiec_test([True, False], 1.0)
    with pytest.raises(InputError, match="violations"):
        kupiec_test([], 0.01)
    with pytest.raises(InputError, match="violations"):
        christoffersen_test([0, 2, 1], 0.01)


def test_coverage_stats_uses_last_250_days():
    v = np.zeros(600, bool)
    v[:50] = True  # all the violations are old
    st = coverage_stats(v, 0.01)
    assert st["violations"] == 50 and st["tl_days"] == 250 and st["tl_exceptions"] == 0
    assert st["traffic_light"] == "green" and st["kupiec_p"] < 1e-10
