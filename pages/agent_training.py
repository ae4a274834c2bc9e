"""Agent Training: train the four risk agents with MAPPO, watch them learn, evaluate, save, compare, activate."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import streamlit as st

from app.safety import md
from app.training_job import TrainingJob
from app.widgets import fmt_table, get_store, show_error
from riskcore.agents.evaluate import evaluate
from riskcore.agents.mappo import TrainConfig
from riskcore.agents.registry import ModelRegistry
from riskcore.agents.vec_env import EnvConfig
from riskcore.plots.agents import (
    drawdown_distribution_figure,
    equity_curves_figure,
    learning_curves_figure,
    size_vs_kelly_figure,
)

JOB_KEY = "at-job"
EVAL_KEY = "at-evaluation"
#: seconds between two refreshes of the progress panel while training runs
REFRESH_S = 0.5
#: held-out evaluation seeds start here (training uses TrainConfig.seed and its neighbours)
EVAL_SEED0 = 100_000

st.title("Agent Training")
st.caption("Train the position-sizing, stop/target, risk-monitor and portfolio-optimiser agents together (MAPPO "
           "with a centralised critic) in the simulated trading environment; the hard limits and emergency rules "
           "apply to every action. Defaults train for about a minute on a CPU.")

store = get_store()
registry = ModelRegistry(store)
job: TrainingJob | None = st.session_state.get(JOB_KEY)
running = job is not None and job.running

with st.form("at-settings"):
    st.markdown("**Environment**")
    c = st.columns(4)
    session_length = c[0].number_input("Bars per session", value=60, step=10, key="at-session")
    signal_p = c[1].number_input("Trade requests per bar (probability)", value=0.6, step=0.05, key="at-signal")
    dd_penalty = c[2].number_input("Drawdown penalty λ", value=2.0, step=0.5, key="at-penalty")
    equity = c[3].number_input("Initial equity", value=100_000.0, step=10_000.0, key="at-equity")
    st.markdown("**Training**")
    c = st.columns(5)
    n_envs = c[0].number_input("Parallel sessions", value=64, step=16, key="at-envs")
    n_iter = c[1].number_input("Iterations", value=100, step=10, key="at-iters")
    lr = c[2].number_input("Learning rate", value=1e-3, step=1e-4, format="%.4f", key="at-lr")
    seed = c[3].number_input("Seed", value=0, step=1, key="at-seed")
    limit = c[4].number_input("Time limit (s, 0 = none)", value=0.0, step=30.0, key="at-limit")
    start = st.form_submit_button("Start training", type="primary", key="at-start", icon=":material/play_arrow:",
                                  disabled=running)


def _config() -> TrainConfig:
    env = EnvConfig(session_length=int(session_length), signal_probability=float(signal_p),
                    drawdown_penalty=float(dd_penalty), initial_equity=float(equity))
    return TrainConfig(env=env, n_envs=int(n_envs), n_iterations=int(n_iter), learning_rate=float(lr),
                       seed=int(seed), device="cpu", checkpoint_every=10,
                       time_limit_s=float(limit) if limit > 0 else None)


if start and not running:
    try:
        job = TrainingJob.create(_config()).start()
        st.session_state[JOB_KEY] = job
        st.session_state.pop(EVAL_KEY, None)
        running = True
    except Exception as exc:
        show_error(exc)

b = st.columns(4)
b[0].button("Stop training", key="at-stop", icon=":material/stop:", disabled=not running,
            on_click=lambda: st.session_state[JOB_KEY].stop(), help="Stops after the current iteration; the team "
            "trained so far and its checkpoint are kept.")
can_resume = (not running and job is not None and job.result is not None and job.result.stopped
              and job.checkpoint is not None)
if b[1].button("Resume from checkpoint", key="at-resume", icon=":material/resume:", disabled=not can_resume):
    try:
        job = TrainingJob.create(job.config, resume_from=job.checkpoint).start()
        st.session_state[JOB_KEY] = job
        st.session_state.pop(EVAL_KEY, None)
        running = True
    except Exception as exc:
        show_error(exc)


@st.fragment(run_every=REFRESH_S if running else None)
def progress_panel() -> None:
    """Progress and learning curves; the same layout on every refresh so elements update in place."""
    j: TrainingJob | None = st.session_state.get(JOB_KEY)
    if j is None:
        st.info("No training yet: choose the settings and press **Start training**.")
        return
    live = j.running
    st.progress(min(j.fraction, 1.0), text=j.progress_text())
    curves = j.curves()
    state = ("stopping…" if j.stopping else "running") if live else (
        "failed" if j.error is not None else "stopped early" if j.result is not None and j.result.stopped
        else "finished")
    with st.container(key="at-status"):
        st.caption(f"Training **{state}** · {len(curves)} iteration(s) on the curves")
    if j.error is not None:
        show_error(j.error)
    if not curves.empty:
        st.plotly_chart(learning_curves_figure(SimpleNamespace(curves=curves)), width="stretch", key="at-curves")
    if running and not live:  # the thread ended during this refresh: rerun the page (buttons, results)
        st.rerun()


progress_panel()

result = None if running or job is None else job.result
if result is not None:
    st.subheader("Trained team")
    if result.stopped:
        st.info(f"Stopped after {result.iterations} of {result.config.n_iterations} iterations; the team so far is "
                f"kept and its checkpoint is `{result.checkpoint}` (**Resume from checkpoint** continues it).",
                icon=":material/stop_circle:")
    fmt_table(result.summary().astype({"value": str}))

    st.subheader("Evaluation against the baselines")
    c = st.columns(3)
    n_seeds = c[0].number_input("Held-out seeds", value=3, step=1, key="at-eval-seeds",
                                help="The cost grows with the seeds (each runs every baseline); sessions per seed "
                                     "are simulated side by side and cost little.")
    n_sessions = c[1].number_input("Sessions per seed", value=16, step=4, key="at-eval-sessions")
    if c[2].button("Evaluate", key="at-eval", icon=":material/analytics:"):
        try:
            with st.spinner("Evaluating on held-out seeds…"):
                st.session_state[EVAL_KEY] = evaluate(
                    result.policy(), result.config.env, seeds=tuple(range(EVAL_SEED0, EVAL_SEED0 + int(n_seeds))),
                    n_sessions=int(n_sessions))
        except Exception as exc:
            show_error(exc)
    ev = st.session_state.get(EVAL_KEY)
    if ev is not None:
        with st.container(key="at-eval-table"):
            st.caption("Mean over seeds with a 95 % bootstrap interval over seeds (columns *_lo / *_hi).")
            fmt_table(ev.table.reset_index(), hide_index=True)
        st.markdown(ev.verdict)
        c = st.columns(3)
        c[0].plotly_chart(equity_curves_figure(ev), width="stretch", key="at-eval-equity")
        c[1].plotly_chart(drawdown_distribution_figure(ev), width="stretch", key="at-eval-dd")
        c[2].plotly_chart(size_vs_kelly_figure(ev), width="stretch", key="at-eval-kelly")

    st.subheader("Save to the registry")
    c = st.columns([2, 2, 1])
    name = c[0].text_input("Team name", value="desk team", key="at-name")
    tags = c[1].text_input("Tags (comma separated)", value="", key="at-tags")
    if c[2].button("Save team", key="at-save", icon=":material/save:", type="primary"):
        try:
            metrics = ev if ev is not None else result.summary()["value"].to_dict()
            entry = registry.save(result, name, metrics=metrics,
                                  tags=tuple(t.strip() for t in tags.split(",") if t.strip()))
            with st.container(key="at-saved"):
                st.success(f"Saved **{md(entry.name)} v{entry.version}** (hash {entry.content_hash[:12]}): pick it in "
                           "the Agent Inspector's policy source.", icon=":material/check_circle:")
        except Exception as exc:
            show_error(exc)

st.subheader("Saved teams")
try:
    saved = registry.list()
except Exception as exc:
    show_error(exc)
    saved = pd.DataFrame()
if saved.empty:
    st.caption("No team saved yet.")
else:
    with st.container(key="at-registry"):
        fmt_table(saved, hide_index=True)
    refs = [(n, int(v)) for n, v in saved[["name", "version"]].itertuples(index=False, name=None)]
    label = {r: f"{r[0]} v{r[1]}" for r in refs}
    c = st.columns(2)
    a = c[0].selectbox("Compare", refs, format_func=label.get, key="at-cmp-a")
    b_ = c[1].selectbox("with", refs, index=min(1, len(refs) - 1), format_func=label.get, key="at-cmp-b")
    if a == b_:
        st.caption("Pick two different teams to compare their metrics side by side.")
    try:
        fmt_table(registry.compare([a, b_]).astype(str))
    except Exception as exc:
        show_error(exc)
    c = st.columns([3, 1, 1, 1])
    pick = c[0].selectbox("Team", refs, format_func=label.get, key="at-active-pick")
    sure = c[3].checkbox("Really delete", key="at-delete-confirm")
    if c[1].button("Tag as active", key="at-activate", icon=":material/star:"):
        try:
            e = registry.set_active(*pick)
            st.success(f"{md(e.label)}: the active team.")
            st.rerun()
        except Exception as exc:
            show_error(exc)
    if c[2].button("Delete", key="at-delete", icon=":material/delete:", disabled=not sure):
        try:
            registry.delete(*pick)
            st.rerun()
        except Exception as exc:
            show_error(exc)
