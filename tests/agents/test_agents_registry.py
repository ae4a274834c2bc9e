"""Model registry: round trip, integrity checks (hash, truncation, shapes, format), versions, concurrency."""

from __future__ import annotations

import threading

import duckdb
import numpy as np
import pytest
import torch

from riskcore.agents import vec_env
from riskcore.agents.mappo import Team, TrainConfig
from riskcore.agents.registry import FORMAT_VERSION, ModelRegistry, content_hash
from riskcore.agents.vec_env import EnvConfig
from riskcore.errors import InputError

SMALL = TrainConfig(env=EnvConfig(session_length=10), n_envs=4, n_iterations=1, hidden=(8, 8), critic_hidden=(16, 16),
                    device="cpu")


def _team(seed: int = 0) -> Team:
    torch.manual_seed(seed)
    return Team(SMALL.hidden, SMALL.critic_hidden)


def _save(store, name="desk", seed=0, **kw):
    return ModelRegistry(store).save(_team(seed), name, train_config=SMALL, **kw)


def _tamper(store, sql: str, params: list) -> None:
    """Change a stored entry behind the registry's back (what corruption or an attacker would do)."""
    store.close()
    with duckdb.connect(str(store.path)) as con:
        con.execute(sql, params)


def test_round_trip_is_bit_exact_and_versions_count_up(tmp_store):
    reg = ModelRegistry(tmp_store)
    team = _team(3)
    e1 = reg.save(team, "desk", train_config=SMALL, metrics={"sharpe": 1.25, "note": "x"}, tags=("test",))
    e2 = reg.save(_team(4), "desk", train_config=SMALL)
    e3 = reg.save(_team(5), "other", train_config=SMALL)
    assert (e1.version, e2.version, e3.version) == (1, 2, 1)
    assert e1.metrics == {"sharpe": 1.25, "note": "x"} and e1.tags == ("test",) and len(e1.content_hash) == 64
    loaded = reg.load("desk", 1)
    want, got = team.state_dict(), loaded.team.state_dict()
    assert set(want) == set(got)
    for k in want:
        assert want[k].dtype == got[k].dtype and torch.equal(want[k], got[k]), k
    assert loaded.train_config == SMALL and loaded.env_config == SMALL.env
    assert reg.load("desk").entry.version == 2  # newest by default
    listing = reg.list()
    assert list(listing[["name", "version"]].itertuples(index=False, name=None)) == [("other", 1), ("desk", 2),
                                                                                     ("desk", 1)]
    cmp = reg.compare([("desk", 1), ("desk", 2)])
    assert list(cmp.columns) == ["desk v1", "desk v2"] and cmp.loc["sharpe", "desk v1"] == 1.25


def test_active_tag_is_unique_and_delete(tmp_store):
    reg = ModelRegistry(tmp_store)
    for s in range(2):
        _save(tmp_store, "desk", s)
    _save(tmp_store, "other")
    assert reg.active() is None
    with pytest.raises(InputError, match="none is tagged active"):
        reg.load_active()
    reg.set_active("desk", 1)
    reg.set_active("other", 1)
    assert reg.active().label == "other v1 (active)"
    assert reg.list()["active"].sum() == 1
    assert reg.load_active().entry.name == "other"
    assert reg.delete("desk", 1) == 1
    assert [v for v in reg.list(name="desk")["version"]] == [2]
    assert _save(tmp_store, "desk").version == 3  # numbering continues after a delete
    assert reg.delete("desk") == 2 and reg.list(name="desk").empty


def test_unknown_name_or_version(tmp_store):
    reg = ModelRegistry(tmp_store)
    with pytest.raises(InputError, match="no saved team has this name") as e:
        reg.load("nope")
    assert e.value.field == "name"
    _save(tmp_store)
    with pytest.raises(InputError, match=r"has no version 7; saved versions: \[1\]") as e:
        reg.load("desk", 7)
    assert e.value.field == "version"
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InputError, match="positive integer"):
            reg.load("desk", bad)
    with pytest.raises(InputError, match="has no version 9"):
        reg.set_active("desk", 9)


def test_tampered_tensor_fails_the_hash(tmp_store):
    _save(tmp_store)
    blob = ModelRegistry(tmp_store).load("desk").team  # a valid load first
    assert blob is not None
    from safetensors.torch import save

    team = _team(99)  # a valid safetensors blob of the right shapes, but other weights
    forged = save({k: v.contiguous() for k, v in team.actor("position_sizing").state_dict().items()})
    _tamper(tmp_store, "UPDATE agent_model_blobs SET data = ? WHERE name = 'desk' AND part = 'actor.position_sizing'",
            [forged])
    with pytest.raises(InputError, match="content hash mismatch.*tampered") as e:
        ModelRegistry(tmp_store).load("desk")
    assert e.value.field == "entry desk v1"


def test_tampered_config_fails_the_hash(tmp_store):
    _save(tmp_store)
    _tamper(tmp_store, "UPDATE agent_models SET env_config_json = replace(env_config_json, '\"session_length\": 10', "
            "'\"session_length\": 11')", [])
    with pytest.raises(InputError, match="content hash mismatch"):
        ModelRegistry(tmp_store).load("desk")


def test_truncated_blob(tmp_store):
    _save(tmp_store)
    from riskcore.store.models import load_agent_model

    whole = load_agent_model(tmp_store, "desk").blobs["critic"]
    _tamper(tmp_store, "UPDATE agent_model_blobs SET data = ? WHERE part = 'critic'", [whole[: len(whole) // 2]])
    with pytest.raises(InputError, match="truncated or not a safetensors blob") as e:
        ModelRegistry(tmp_store).load("desk")
    assert e.value.field == "entry part 'critic'"


def test_missing_part(tmp_store):
    _save(tmp_store)
    _tamper(tmp_store, "DELETE FROM agent_model_blobs WHERE part = 'actor.risk_monitor'", [])
    with pytest.raises(InputError, match=r"misses the part\(s\) \['actor.risk_monitor'\]"):
        ModelRegistry(tmp_store).load("desk")


def test_shape_mismatch_against_the_environment(tmp_store, monkeypatch):
    """A team saved for one observation width is refused when the environment's width has changed."""
    _save(tmp_store)
    monkeypatch.setattr(vec_env, "OBS_DIM", vec_env.OBS_DIM + 3)
    with pytest.raises(InputError, match=rf"shape mismatch: net.0.weight is \(8, {vec_env.OBS_DIM - 3}\) but the "
                                         rf"observation width OBS_DIM={vec_env.OBS_DIM}"):
        ModelRegistry(tmp_store).load("desk")
    monkeypatch.setattr(vec_env, "OBS_DIM", vec_env.OBS_DIM - 3)
    monkeypatch.setattr(vec_env, "STATE_DIM", vec_env.STATE_DIM + 1)
    with pytest.raises(InputError, match="global state width STATE_DIM"):
        ModelRegistry(tmp_store).load("desk")


def test_shape_mismatch_against_the_config(tmp_store):
    """Weights of (8, 8) layers under a config that says (16, 16), with a hash that matches: refused."""
    reg = ModelRegistry(tmp_store)
    _save(tmp_store)
    row = reg.load("desk")
    cfg = TrainConfig.from_dict({**SMALL.to_dict(), "hidden": [16, 16]})
    from riskcore.agents.registry import _plain, team_parts

    parts = team_parts(row.team)
    digest = content_hash(parts, _plain(cfg.to_dict()), _plain(SMALL.env.to_dict()))
    _tamper(tmp_store, "UPDATE agent_models SET train_config_json = ?, content_hash = ?",
            [__import__("json").dumps(_plain(cfg.to_dict())), digest])
    with pytest.raises(InputError, match=r"shape mismatch: net.0.weight is \(8, \d+\)"):
        ModelRegistry(tmp_store).load("desk")


def test_newer_format_is_refused(tmp_store):
    _save(tmp_store)
    _tamper(tmp_store, "UPDATE agent_models SET format_version = ?", [FORMAT_VERSION + 1])
    with pytest.raises(InputError, match="newer riskcore.*upgrade riskcore"):
        ModelRegistry(tmp_store).load("desk")


def test_bad_save_input_writes_nothing(tmp_store):
    reg = ModelRegistry(tmp_store)
    with pytest.raises(InputError, match="name"):
        reg.save(_team(), "  ", train_config=SMALL)
    with pytest.raises(InputError, match="Team or a TrainingResult"):
        reg.save(object(), "x")
    with pytest.raises(InputError, match="metrics"):
        reg.save(_team(), "x", train_config=SMALL, metrics=[1, 2])
    assert reg.list().empty


def test_concurrent_saves_get_distinct_versions_and_intact_entries(tmp_store):
    """Eight threads (eight app sessions) save under one name at once: versions 1..8, every entry loads."""
    reg = ModelRegistry(tmp_store)
    teams = {s: _team(s) for s in range(8)}
    errors: list[BaseException] = []
    got: dict[int, int] = {}
    start = threading.Barrier(len(teams))

    def work(seed: int) -> None:
        try:
            start.wait()
            got[seed] = reg.save(teams[seed], "shared", train_config=SMALL, metrics={"seed": seed}).version
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(s,)) for s in teams]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(got.values()) == list(range(1, 9))
    for seed, version in got.items():
        loaded = reg.load("shared", version)
        assert loaded.entry.metrics["seed"] == seed
        w = teams[seed].actor("risk_monitor").net[0].weight
        assert torch.equal(loaded.team.actor("risk_monitor").net[0].weight, w)
    assert np.isfinite(reg.list()["seed"].to_numpy(dtype=float)).all()


def test_a_store_without_the_registry_tables_is_refused(tmp_store, monkeypatch):
    monkeypatch.setattr(type(tmp_store), "schema_version", lambda self: 2)
    with pytest.raises(InputError, match="schema version 2; the model registry needs version 3") as e:
        ModelRegistry(tmp_store)
    assert e.value.field == "store"
