"""Agent Training page (AppTest), tiny config: train, stop keeps the checkpoint, evaluate, save, compare, activate."""

from __future__ import annotations

from pathlib import Path

from riskcore.agents.registry import ModelRegistry
from riskcore.store import Store

TINY = {"at-session": 10, "at-envs": 4, "at-iters": 3}


def _tiny(at, **extra) -> None:
    for k, v in {**TINY, **extra}.items():
        at.number_input(key=k).set_value(v)


def _texts(at) -> str:
    return "\n".join(str(x.value) for x in (*at.success, *at.info, *at.caption, *at.markdown, *at.error))


def _finish(at):
    """Wait for the training thread (state, not time), then rerun the page as its refresh would."""
    at.session_state["at-job"].join(120)
    assert not at.session_state["at-job"].running
    return at.run()


def test_defaults_render_without_a_training(app_test):
    at = app_test("agent_training")
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Agent Training"
    assert at.number_input(key="at-envs").value == 64 and at.number_input(key="at-iters").value == 100
    assert "No training yet" in _texts(at) and "No team saved yet" in _texts(at)
    assert at.button(key="at-stop").disabled


def test_train_evaluate_save_compare_and_activate(app_test, tmp_db):
    at = app_test("agent_training", timeout=180)
    _tiny(at)
    at.button(key="at-start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    at = _finish(at)
    assert not at.exception, [e.value for e in at.exception]
    assert "Training **finished** · 3 iteration(s) on the curves" in _texts(at)
    assert any(c.proto.spec for c in at.get("plotly_chart"))  # the learning curves
    at.number_input(key="at-eval-seeds").set_value(2)
    at.number_input(key="at-eval-sessions").set_value(2)
    at.button(key="at-eval").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(df.value for df in at.dataframe if "policy" in df.value.columns)
    assert {"learned", "rules", "no_risk_management"} <= set(table["policy"])
    assert {"sharpe", "sharpe_lo", "sharpe_hi"} <= set(table.columns)
    at.text_input(key="at-name").set_value("tiny team")
    at.button(key="at-save").click().run()
    at.button(key="at-save").click().run()  # a second version of the same name
    assert not at.exception, [e.value for e in at.exception]
    assert "Saved **tiny team v2**" in _texts(at)
    reg = ModelRegistry(Store(tmp_db))
    listing = reg.list()
    assert list(listing["version"]) == [2, 1] and "sharpe" in listing.columns
    loaded = reg.load("tiny team", 1)
    assert loaded.train_config.n_envs == 4 and loaded.env_config.session_length == 10
    at.selectbox(key="at-active-pick").set_value(("tiny team", 1))
    at.button(key="at-activate").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert reg.active().version == 1
    at.selectbox(key="at-cmp-a").set_value(("tiny team", 2))
    at.selectbox(key="at-cmp-b").set_value(("tiny team", 1)).run()
    cmp = [df.value for df in at.dataframe if "tiny team v1" in df.value.columns]
    assert cmp and "tiny team v2" in cmp[0].columns


def test_stop_keeps_the_team_and_the_checkpoint_and_resume_continues(app_test):
    at = app_test("agent_training", timeout=180)
    _tiny(at, **{"at-iters": 100_000})
    at.button(key="at-start").click().run()
    job = at.session_state["at-job"]
    assert job.running and not at.button(key="at-stop").disabled
    at.button(key="at-stop").click().run()
    at = _finish(at)
    assert not at.exception, [e.value for e in at.exception]
    job = at.session_state["at-job"]
    assert job.result.stopped and 1 <= job.result.iterations < 100_000
    assert Path(job.checkpoint).is_file()
    assert "stopped early" in _texts(at) and "its checkpoint is" in _texts(at)
    done = job.result.iterations
    at.button(key="at-resume").click().run()
    resumed = at.session_state["at-job"]
    assert resumed is not job and resumed.iteration >= done  # starts from the checkpoint's curves
    resumed.stop()
    at = _finish(at)
    assert at.session_state["at-job"].result.iterations > done


def test_bad_settings_show_an_error(app_test):
    at = app_test("agent_training")
    _tiny(at, **{"at-envs": 0})
    at.button(key="at-start").click().run()
    assert not at.exception
    assert any("n_envs" in str(e.value) for e in at.error)
    assert "at-job" not in at.session_state


def test_inspector_decides_with_a_saved_team_and_shows_its_distributions(app_test, tmp_db):
    import torch

    from riskcore.agents.mappo import Team

    torch.manual_seed(0)
    team = Team((8, 8), (16, 16))
    with torch.no_grad():  # a sizing agent that always asks 1 contract
        last = team.actor("position_sizing").net[-1]
        last.weight.zero_()
        last.bias.zero_()
        last.bias[1] = 30.0
    reg = ModelRegistry(Store(tmp_db))
    reg.save(team, "forced one")
    at = app_test("agent_inspector")
    assert at.selectbox(key="ai-source").value is None  # the rules by default
    assert "Policy source: **rules**" in _texts(at) and not at.get("plotly_chart") == []
    at.selectbox(key="ai-source").set_value(("forced one", 1)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Policy source: **learned forced one v1**" in _texts(at)
    assert {m.label: m.value for m in at.metric}["Approved contracts"] == "1"  # the learned agent asks 1 of 2
    table = next(df.value for df in at.dataframe if "distribution" in df.value.columns)
    assert set(table["agent"]) == {"position_sizing", "stop_target", "risk_monitor", "portfolio_optimizer"}
    probs = table[(table.agent == "position_sizing")]["values"].iloc[0].split(", ")
    assert len(probs) == 6 and float(probs[1]) > 0.99
    at.button(key="ai-submit").click().run()
    rec = Store(tmp_db).list_decisions().record.iloc[0]
    assert rec["policy"]["name"] == "forced one" and rec["policy"]["version"] == 1
    assert len(rec["agent_distributions"]["position_sizing"]["probabilities"]) == 6


def test_delete_needs_confirmation(app_test, tmp_db):
    import torch

    from riskcore.agents.mappo import Team

    torch.manual_seed(0)
    reg = ModelRegistry(Store(tmp_db))
    reg.save(Team((8,), (8,)), "old")
    reg.save(Team((8,), (8,)), "old")
    at = app_test("agent_training")
    assert at.button(key="at-delete").disabled
    at.selectbox(key="at-active-pick").set_value(("old", 1))
    at.checkbox(key="at-delete-confirm").check().run()
    at.button(key="at-delete").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert list(reg.list()["version"]) == [2]


def test_two_trainings_at_once_keep_their_own_checkpoints_and_entries(tmp_store):
    """Two sessions training and saving at the same time: separate checkpoint folders, two intact entries."""
    from app.training_job import TrainingJob
    from riskcore.agents.mappo import TrainConfig
    from riskcore.agents.vec_env import EnvConfig

    cfg = TrainConfig(env=EnvConfig(session_length=10), n_envs=4, n_iterations=3, hidden=(8,), critic_hidden=(8,),
                      device="cpu")
    jobs = [TrainingJob.create(cfg).start(), TrainingJob.create(TrainConfig.from_dict({**cfg.to_dict(), "seed": 1}))
            .start()]
    for j in jobs:
        j.join(120)
    assert all(j.error is None and j.result.iterations == 3 for j in jobs)
    assert jobs[0].checkpoint != jobs[1].checkpoint and all(Path(j.checkpoint).is_file() for j in jobs)
    reg = ModelRegistry(tmp_store)
    entries = [reg.save(j.result, "shared") for j in jobs]
    assert [e.version for e in entries] == [1, 2]
    import torch

    for j, e in zip(jobs, entries, strict=True):
        got = reg.load("shared", e.version).team.state_dict()
        assert all(torch.equal(v, got[k]) for k, v in j.result.team.state_dict().items())
