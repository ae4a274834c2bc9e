"""Issue 16 item 8: the eight fields no model code reads are marked, left out of the model hash, and round-trip."""

from __future__ import annotations

import numpy as np
import pytest

from riskcore.params import INERT_FIELDS, ModelParameters
from riskcore.peg.montecarlo import SimulationResult, simulate

INERT_CHANGES = {"speculation_penalty": 0.5, "velocity_threshold": 9.0, "grace_period_hours": 1.0,
                 "network_alpha": 0.9, "adoption_threshold": 7, "liquidity_minimum": 1.0, "calibration_window": 60,
                 "recalibration_frequency": 5}


def test_the_inert_fields_are_the_documented_eight():
    assert set(INERT_FIELDS) == set(INERT_CHANGES)
    assert ModelParameters.inert_fields() == INERT_FIELDS
    assert set(ModelParameters.price_model_fields()) | set(INERT_FIELDS) == set(ModelParameters.field_names())
    assert not set(ModelParameters.price_model_fields()) & set(INERT_FIELDS)
    assert len(ModelParameters.price_model_fields()) == 10
    for name in INERT_FIELDS:
        assert name in ModelParameters.__doc__


@pytest.mark.parametrize("name", sorted(INERT_CHANGES))
def test_an_inert_field_changes_the_content_hash_but_not_the_model_hash(name):
    base = ModelParameters()
    other = base.replace(**{name: INERT_CHANGES[name]})
    assert other.model_hash() == base.model_hash()
    assert other.content_hash() != base.content_hash()  # it still names a different stored set


def test_a_model_field_changes_the_model_hash():
    base = ModelParameters()
    for name in ModelParameters.price_model_fields():
        v = getattr(base, name)
        assert base.replace(**{name: v + 0.125 if name != "jump_size_mu" else -0.01}).model_hash() != base.model_hash()


def test_content_hash_definition_is_unchanged():
    # the literal of tests/test_params.py: runs saved before this change keep matching their params_hash
    assert ModelParameters().content_hash() == "58280c0a5943ed37"
    assert len(ModelParameters().model_hash()) == ModelParameters.HASH_LENGTH
    assert ModelParameters().model_hash() != ModelParameters().content_hash()


def test_inert_fields_round_trip_through_the_store(tmp_store):
    p = ModelParameters(**INERT_CHANGES)
    r = simulate(p, 256, n_steps=15, seed=2)
    rid = r.save(tmp_store)
    rec = tmp_store.load_run(rid)
    assert rec.params_hash == p.content_hash()  # the store's hash is the content hash, as before
    back = SimulationResult.load(tmp_store, rid)
    assert back.params == p and back.params.model_hash() == ModelParameters().model_hash()


def test_inert_fields_do_not_change_a_simulation():
    a = simulate(ModelParameters(), 2048, n_steps=30, seed=11, scenario="crash")
    b = simulate(ModelParameters(**INERT_CHANGES), 2048, n_steps=30, seed=11, scenario="crash")
    assert np.array_equal(a.terminal, b.terminal) and a.stats == b.stats


def test_an_old_saved_run_without_some_fields_still_loads(tmp_store):
    # a params dict as an earlier version (or a hand-made set) may hold: missing fields take the defaults
    r = simulate(ModelParameters(alpha=0.7), 128, n_steps=10, seed=0)
    rec = tmp_store.load_run(r.save(tmp_store))
    old = {k: v for k, v in rec.params.items() if k not in INERT_FIELDS}
    rid = tmp_store.save_run(rec.kind, old, rec.seed, rec.summary, rec.name, arrays=rec.arrays, **rec.extra)
    back = SimulationResult.load(tmp_store, rid)
    assert back.params == ModelParameters(alpha=0.7)
    assert back.params.model_hash() == ModelParameters(alpha=0.7).model_hash()
    assert np.array_equal(back.terminal, r.terminal)
