"""Scenarios: presets as data, resolution to per-step arrays, validation, storage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from riskcore.errors import InputError
from riskcore.peg.scenarios import (
    PRESETS,
    Scenario,
    format_shocks,
    format_state,
    list_saved_scenarios,
    load_scenario,
    parse_shocks,
    parse_state,
    save_scenario,
)


def test_presets_are_the_issue_scenarios():
    assert list(PRESETS) == ["baseline", "bank_run", "fiat_flight", "network_degradation", "crash", "combined"]
    base = PRESETS["baseline"].resolve(365)
    assert (base.liquidity_pool == 1e6).all() and (base.network_health == 1).all()
    assert (base.fiat_activity == 0.5).all() and (base.shocks == 0).all()
    bank = PRESETS["bank_run"].resolve(365)
    assert bank.liquidity_pool[0] == 1e6 and bank.liquidity_pool[15] == pytest.approx(550_000)
    assert bank.liquidity_pool[30] == pytest.approx(100_000) and (bank.liquidity_pool[30:] == 100_000).all()
    assert (PRESETS["fiat_flight"].resolve(365).fiat_activity == 0.05).all()
    net = PRESETS["network_degradation"].resolve(365).network_health
    assert (net[:60] == 0.6).all() and (net[60:] == 1.0).all()
    crash = PRESETS["crash"].resolve(365).shocks
    assert crash[9] == -0.3 and np.count_nonzero(crash) == 1  # the price at day 10 is shocked
    comb = PRESETS["combined"].resolve(365)
    assert comb.liquidity_pool[30] == pytest.approx(1e5) and comb.fiat_activity[0] == 0.05
    assert comb.network_health[0] == 0.6 and comb.shocks[9] == -0.3


@pytest.mark.parametrize("name", list(PRESETS))
def test_round_trip(name):
    s = PRESETS[name]
    assert Scenario.from_dict(s.to_dict()) == s


def test_per_step_arrays_and_length_check():
    s = Scenario(name="arr", fiat_activity=np.linspace(0, 1, 10), shocks={3: 0.1})
    assert isinstance(s.fiat_activity, tuple) and len(s.fiat_activity) == 10
    r = s.resolve(10)
    assert r.fiat_activity[-1] == 1.0 and r.shocks[2] == 0.1
    assert Scenario.from_dict(s.to_dict()) == s
    with pytest.raises(InputError, match=r"fiat_activity.*one value per step \(11\)"):
        s.resolve(11)
    with pytest.raises(InputError, match="fiat_activity"):
        s.resolve(9)


def test_shocks_after_the_horizon_are_ignored():
    r = Scenario(shocks={10: -0.3}).resolve(5)
    assert (r.shocks == 0).all()


@pytest.mark.parametrize("kwargs, field", [
    ({"network_health": math.nan}, "network_health"),
    ({"fiat_activity": [0.5, math.nan]}, "fiat_activity[1]"),
    ({"network_health": 1.5}, "network_health"),
    ({"liquidity_pool": -1.0}, "liquidity_pool"),
    ({"liquidity_pool": {0: 1e6, 30: -5}}, "liquidity_pool[30]"),
    ({"fiat_activity": "high"}, "fiat_activity"),
    ({"fiat_activity": np.ones((2, 2))}, "fiat_activity"),
    ({"shocks": {0: -0.1}}, "shocks[0]"),
    ({"shocks": {5: -1.0}}, "shocks[5]"),
    ({"shocks": {5: math.nan}}, "shocks[5]"),
    ({"shocks": {"x": 0.1}}, "shocks"),
    ({"name": ""}, "name"),
])
def test_invalid_scenarios_raise_input_error(kwargs, field):
    with pytest.raises(InputError) as info:
        Scenario(**kwargs)
    assert info.value.field == field


def test_resolve_rejects_bad_horizon():
    with pytest.raises(InputError, match="n_steps"):
        Scenario().resolve(0)


def test_text_form_round_trip():
    for s in PRESETS.values():
        again = Scenario(name=s.name, liquidity_pool=parse_state("liquidity_pool", format_state(s.liquidity_pool)),
                         network_health=parse_state("network_health", format_state(s.network_health)),
                         fiat_activity=parse_state("fiat_activity", format_state(s.fiat_activity)),
                         shocks=parse_shocks(format_shocks(s.shocks)), description=s.description)
        assert again == s
    assert parse_state("fiat_activity", "[0.1, 0.2]") == (0.1, 0.2)
    with pytest.raises(InputError, match="fiat_activity"):
        parse_state("fiat_activity", "nan")
    with pytest.raises(InputError, match="shocks"):
        parse_shocks("10=-0.3")


def test_replace_validates():
    s = PRESETS["crash"].replace(name="crash2", shocks={20: -0.5})
    assert s.shocks == {20: -0.5} and s.name == "crash2"
    with pytest.raises(InputError):
        s.replace(nonsense=1)


def test_save_and_load_in_store(tmp_store):
    s = PRESETS["combined"].replace(name="committee stress", fiat_activity=0.02)
    save_scenario(tmp_store, s)
    save_scenario(tmp_store, s)  # replacing keeps one entry
    assert list_saved_scenarios(tmp_store) == ["committee stress"]
    assert load_scenario(tmp_store, "committee stress") == s
    assert load_scenario(tmp_store, "crash") == PRESETS["crash"]
    with pytest.raises(InputError, match="scenario"):
        load_scenario(tmp_store, "nope")
    # a preset's name cannot be taken by a saved scenario (it would shadow the preset)
    with pytest.raises(InputError) as info:
        save_scenario(tmp_store, PRESETS["crash"].replace(shocks={10: -0.5}))
    assert info.value.field == "name"
    assert load_scenario(tmp_store, "crash") == PRESETS["crash"]
    assert list_saved_scenarios(tmp_store) == ["committee stress"]
