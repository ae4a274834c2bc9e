"""Scenario Lab: the "Sweep" and "Reverse stress" tabs (layout only; the maths is in riskcore.peg.sweep)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
import streamlit as st

from app.widgets import download_buttons, fmt_table, run_picker, show_error
from riskcore.errors import InputError
from riskcore.params import ModelParameters
from riskcore.peg.montecarlo import STAT_DESCRIPTIONS
from riskcore.peg.scenarios import Scenario
from riskcore.peg.stat_keys import min_below_key
from riskcore.peg.sweep import (
    REVERSE_KIND,
    SCENARIO_KEYS,
    SWEEP_KIND,
    Criterion,
    ReverseStressResult,
    SweepResult,
    parse_grid_text,
    reverse_stress,
    sweep,
)
from riskcore.plots.validation import reverse_stress_figure, sweep_heatmap, sweep_lines

SWEEP_KEY = "scenario_lab_sweep"
REVERSE_KEY = "scenario_lab_reverse"
DEFAULT_GRID = pd.DataFrame({"name": ["alpha", "sigma_base"], "values": ["0.5, 1, 2", "0.02, 0.05, 0.1"]})
_STATS = list(STAT_DESCRIPTIONS)


def _settings(steps_per_year: float) -> float:
    if not steps_per_year or steps_per_year <= 0:
        raise InputError("steps per year", "must be > 0 (dt = 1 / steps per year)", value=steps_per_year)
    return 1.0 / float(steps_per_year)


def render_sweep_tabs(store: Any, params: ModelParameters | None, scenario: Scenario | None, *, backend: str,
                      seed: int, n_steps: int, steps_per_year: float, initial_price: float) -> None:
    """The two tabs, below the Scenario Lab's own (current parameters and scenario as the base point)."""
    st.subheader("Sweeps and reverse stress")
    tab_sweep, tab_reverse = st.tabs(["Sweep", "Reverse stress"])
    common = {"backend": backend, "seed": int(seed), "n_steps": int(n_steps), "initial_price": float(initial_price)}
    with tab_sweep:
        _sweep_tab(store, params, scenario, steps_per_year, common)
    with tab_reverse:
        _reverse_tab(store, params, scenario, steps_per_year, common)


def _sweep_tab(store: Any, params: ModelParameters | None, scenario: Scenario | None, spy: float,
               common: dict[str, Any]) -> None:
    st.markdown("Every combination of the values below, simulated with the same seed (common random numbers). "
                f"Names: any model parameter, or {', '.join(SCENARIO_KEYS)} (scenario: preset names; shock: "
                "a relative shock on the step below). At most 10,000 points.")
    edited = st.data_editor(DEFAULT_GRID, num_rows="dynamic", key="sw-grid", width="stretch",
                            column_config={"name": st.column_config.TextColumn("name"),
                                           "values": st.column_config.TextColumn("values (comma-separated)")})
    c1, c2 = st.columns(2)
    n_paths = c1.number_input("Paths per point", value=5_000, step=1_000, key="sw-paths")
    shock_step = c2.number_input("Shock step", value=10, step=1, key="sw-shock-step")
    if st.button("Run sweep", type="primary", key="sw-run", icon=":material/grid_on:",
                 disabled=params is None or scenario is None):
        bar = st.progress(0.0, text="Sweeping…")
        try:
            grid = parse_grid_text(dict(zip(edited["name"], edited["values"], strict=True)))
            st.session_state[SWEEP_KEY] = sweep(
                params, grid, scenario=scenario, n_paths=int(n_paths), dt=_settings(spy), shock_step=int(shock_step),
                progress=lambda f: bar.progress(min(max(f, 0.0), 1.0), text="Sweeping…"), **common)
        except Exception as exc:
            show_error(exc)
        finally:
            bar.empty()
    pick = run_picker(store, SWEEP_KIND, label="Or load a saved sweep", key="sw-pick")
    if pick is not None and st.button("Load sweep", key="sw-load", icon=":material/folder_open:"):
        try:
            st.session_state[SWEEP_KEY] = SweepResult.load(store, pick)
        except Exception as exc:
            show_error(exc)
    res: SweepResult | None = st.session_state.get(SWEEP_KEY)
    if res is None:
        return
    st.caption(f"{len(res.table):,} points × {res.n_paths:,} paths × {res.n_steps} steps, seed {res.seed}, "
               f"backend {res.backend.value}, scenario '{res.scenario.name}', {res.elapsed_s:.1f} s.")
    keys = res.keys
    s1, s2, s3 = st.columns(3)
    stat = s1.selectbox("Statistic", _STATS, index=_STATS.index(min_below_key(0.95)), key="sw-stat",
                        format_func=lambda k: f"{k} — {STAT_DESCRIPTIONS[k]}")
    x = s2.selectbox("x", keys, key="sw-x")
    others = [k for k in keys if k != x]
    y = s3.selectbox("y / lines by", others, key="sw-y") if others else None
    try:
        if y is not None:
            st.plotly_chart(sweep_heatmap(res, stat, x, y), width="stretch", key="sw-heatmap")
        st.plotly_chart(sweep_lines(res, stat, x, by=y), width="stretch", key="sw-lines")
    except Exception as exc:
        show_error(exc)
    fmt_table(res.table, key="sw-table")
    download_buttons("peg_sweep", res.table, key="sw-dl")
    if res.run_id is not None:
        st.success(f"Saved in the store as sweep {res.run_id[:8]}.", icon=":material/check:")
    elif st.button("Save sweep", key="sw-save", icon=":material/save:"):
        try:
            rid = res.save(store, name=f"sweep {' x '.join(keys)} seed {res.seed}")
            st.session_state[SWEEP_KEY] = dataclasses.replace(res, run_id=rid)
        except Exception as exc:
            show_error(exc)
        else:
            st.rerun()


def _reverse_tab(store: Any, params: ModelParameters | None, scenario: Scenario | None, spy: float,
                 common: dict[str, Any]) -> None:
    st.markdown("The least severe point on the segment from the mild to the severe value that breaches the "
                "criterion, by bisection on Monte Carlo estimates with common random numbers; the boundary "
                "comes with its 95 % interval.")
    c1, c2, c3 = st.columns([2, 1, 1])
    stat = c1.selectbox("Statistic", _STATS, index=_STATS.index(min_below_key(0.95)), key="rs-stat")
    direction = c2.selectbox("Breached when", [">=", "<="], key="rs-dir")
    threshold = c3.number_input("Threshold", value=0.2, format="%.4g", key="rs-thr")
    d1, d2, d3, d4 = st.columns(4)
    dims = ["shock", "liquidity_pool", "network_health", "fiat_activity", *ModelParameters.field_names()]
    dim = d1.selectbox("Dimension", dims, key="rs-dim")
    mild = d2.number_input("Mild end", value=0.0, format="%.6g", key="rs-mild")
    severe = d3.number_input("Severe end", value=-0.5, format="%.6g", key="rs-severe")
    n_paths = d4.number_input("Paths", value=10_000, step=1_000, key="rs-paths")
    if st.button("Find boundary", type="primary", key="rs-run", icon=":material/search:",
                 disabled=params is None or scenario is None):
        bar = st.progress(0.0, text="Searching…")
        try:
            crit = Criterion(stat, direction, threshold)
            st.session_state[REVERSE_KEY] = reverse_stress(
                crit, {dim: (mild, severe)}, params=params, scenario=scenario, n_paths=int(n_paths),
                dt=_settings(spy), progress=lambda f: bar.progress(min(max(f, 0.0), 1.0), text="Searching…"),
                **common)
        except Exception as exc:
            show_error(exc)
        finally:
            bar.empty()
    pick = run_picker(store, REVERSE_KIND, label="Or load a saved search", key="rs-pick")
    if pick is not None and st.button("Load search", key="rs-load", icon=":material/folder_open:"):
        try:
            st.session_state[REVERSE_KEY] = ReverseStressResult.load(store, pick)
        except Exception as exc:
            show_error(exc)
    res: ReverseStressResult | None = st.session_state.get(REVERSE_KEY)
    if res is None:
        return
    if res.boundary is None:
        st.warning(f"{res.criterion}: {res.status}.", icon=":material/info:")
    else:
        ci = res.boundary_interval()
        text = "; ".join(f"{k} = {v:.4g} (95 %: {ci[k][0]:.4g} to {ci[k][1]:.4g})" for k, v in res.boundary.items())
        st.info(f"{res.criterion}: {res.status} at {text}.", icon=":material/crisis_alert:")
    st.plotly_chart(reverse_stress_figure(res), width="stretch", key="rs-fig")
    fmt_table(res.summary(), key="rs-summary")
    fmt_table(res.evaluations, key="rs-evals")
    download_buttons("reverse_stress", res.evaluations, key="rs-dl")
    if res.run_id is not None:
        st.success(f"Saved in the store as search {res.run_id[:8]}.", icon=":material/check:")
    elif st.button("Save search", key="rs-save", icon=":material/save:"):
        try:
            rid = res.save(store, name=f"reverse stress {res.criterion}")
            st.session_state[REVERSE_KEY] = dataclasses.replace(res, run_id=rid)
        except Exception as exc:
            show_error(exc)
        else:
            st.rerun()
