"""Scenario Lab: Monte Carlo stress tests of the stable-token peg model."""

import dataclasses

import streamlit as st

from app import cached
from app.page_state import KEEP, PageState
from app.run_control import cancelled_notice, run_with_progress
from app.safety import md
from app.widgets import (
    current_params,
    derived_text_input,
    download_buttons,
    fmt_table,
    get_store,
    run_picker,
    show_error,
)
from riskcore.errors import InputError
from riskcore.params import PARAM_GROUPS, ModelParameters, check_stable_step
from riskcore.peg.montecarlo import RUN_KIND, SimulationResult, available_backends
from riskcore.peg.report import REPORT_KIND, StressReport, stress_report
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
from riskcore.peg.stat_keys import PegStat, min_below_key, var_key
from riskcore.plots.peg import fan_chart, min_price_histogram, stress_bars, terminal_histogram
from riskcore.reports.peg import stress_report_html
from riskcore.store.groups import list_top_runs

RESULT_KEY = "scenario_lab_result"
REPORT_KEY = "scenario_lab_report"
KEY_STATS = {PegStat.P_TERMINAL_BELOW.value: "P(terminal < 0.98)", min_below_key(0.95): "P(min < 0.95)",
             min_below_key(0.90): "P(min < 0.90)", var_key(0.99): "VaR 99 %"}
VIEWS = ("Simulation", "Compare saved runs", "Stress report")

st.title("Scenario Lab")
st.markdown(
    "Monte Carlo of the stable-token price model (mean reversion to the peg, decay above 1.02, fiat support below "
    "0.98, jumps) under stress scenarios. Pick or edit a scenario, set the parameters and run; every run can be saved, "
    "reloaded, compared and re-run to the same numbers."
)
store = get_store()
state = PageState("scenario_lab")

# ---- parameters ----------------------------------------------------------------------------
base = current_params()
specs = ModelParameters.specs()
values: dict[str, float | int] = {}
errors: list[InputError] = []


def _param_inputs(names: list[str]) -> None:
    """One number input per parameter, three to a row, validated into ``values`` / ``errors``."""
    cols = st.columns(3)
    for i, name in enumerate(names):
        spec = specs[name]
        default = getattr(base, name)
        kwargs = {"step": 1, "format": "%d"} if spec.integer else {"format": "%.6g"}
        v = cols[i % 3].number_input(name, value=default, help=f"{spec.help}; {spec.describe()}",
                                     key=f"sl-p-{name}-{base.content_hash()}", **KEEP, **kwargs)
        try:
            values[name] = spec.check(name, v)
        except InputError as exc:
            errors.append(exc)


inert = set(ModelParameters.inert_fields())
# the groups the price model reads get a tab each; the inert fields are shown apart (riskcore.params.INERT_FIELDS)
model_groups = [g for g in PARAM_GROUPS if any(s.group == g and n not in inert for n, s in specs.items())]
with st.expander("Model parameters", expanded=False, icon=":material/tune:"):
    tabs = st.tabs([g.replace("-", " ").capitalize() for g in model_groups])
    for tab, group in zip(tabs, model_groups, strict=True):
        with tab:
            _param_inputs([n for n, s in specs.items() if s.group == group and n not in inert])
with st.expander("Parameters not used by the price model", expanded=False, icon=":material/block:"):
    st.caption("Anti-speculation, network and calibration-schedule fields of the source document. No term of the "
               "price model reads them: they are saved with a run but change neither its paths nor its model hash.")
    _param_inputs([n for n in specs if n in inert])
for exc in errors:
    show_error(exc)
params = ModelParameters(**values) if not errors else None

# ---- scenario ------------------------------------------------------------------------------
st.subheader("Scenario")
saved_names = list_saved_scenarios(store)
choices = list(PRESETS) + [n for n in saved_names if n not in PRESETS]
c1, c2 = st.columns([1, 2])
chosen = c1.selectbox("Scenario", choices, key="sl-scenario", **KEEP,
                      format_func=lambda n: n + (" (saved)" if n in saved_names else ""))
try:
    picked = load_scenario(store, chosen)
except InputError as exc:
    show_error(exc)
    picked = PRESETS["baseline"]
c2.caption(md(picked.description or "User scenario."))
scenario: Scenario | None = None
with st.expander("Edit scenario", icon=":material/edit:"):
    st.caption("Each state input is a number, `step:value` pairs (linear between steps, held after the last) or a "
               "JSON list with one value per step. Shocks are `step:relative shock` pairs, e.g. `10:-0.3`.")
    e1, e2 = st.columns(2)
    sname = e1.text_input("Name", value=picked.name, key=f"sl-s-name-{chosen}", **KEEP)
    sdesc = e2.text_input("Description", value=picked.description, key=f"sl-s-desc-{chosen}", **KEEP)
    e3, e4, e5 = st.columns(3)
    liq = e3.text_input("Liquidity pool L", value=format_state(picked.liquidity_pool), key=f"sl-s-L-{chosen}", **KEEP)
    health = e4.text_input("Network health H", value=format_state(picked.network_health), key=f"sl-s-H-{chosen}",
                           **KEEP)
    fiat = e5.text_input("Fiat activity F", value=format_state(picked.fiat_activity), key=f"sl-s-F-{chosen}", **KEEP)
    shocks = st.text_input("Shocks", value=format_shocks(picked.shocks), key=f"sl-s-shocks-{chosen}", **KEEP)
    try:
        scenario = Scenario(name=sname, description=sdesc, liquidity_pool=parse_state("liquidity_pool", liq),
                            network_health=parse_state("network_health", health),
                            fiat_activity=parse_state("fiat_activity", fiat), shocks=parse_shocks(shocks))
        if scenario.name in PRESETS and scenario != PRESETS[scenario.name]:
            # an edited preset keeps its own identity in runs, reports and the store
            own = scenario.description != PRESETS[scenario.name].description
            scenario = scenario.replace(name=f"{scenario.name} (edited)", description=scenario.description if own
                                        else f"Edited copy of the preset '{scenario.name}'.")
            st.caption(f"Edited preset: runs and saves use the name '{md(scenario.name)}'.")
    except InputError as exc:
        show_error(exc)
    if st.button("Save scenario", icon=":material/save:", key="sl-s-save", disabled=scenario is None):
        try:
            save_scenario(store, scenario)
            st.success(f"Saved scenario '{md(scenario.name)}'.")
        except Exception as exc:
            show_error(exc)

# ---- run settings --------------------------------------------------------------------------
st.subheader("Run")
r1, r2, r3, r4, r5, r6 = st.columns(6)
n_paths = r1.number_input("Paths", value=100_000, step=10_000, key="sl-n-paths", **KEEP)
n_steps = r2.number_input("Steps", value=365, step=1, key="sl-n-steps", **KEEP)
steps_per_year = r3.number_input("Steps per year", value=365, step=1, key="sl-spy", **KEEP,
                                 help="dt = 1 / steps per year")
seed = r4.number_input("Seed", value=0, step=1, key="sl-seed", **KEEP)
backend = r5.selectbox("Backend", [b.value for b in available_backends()], key="sl-backend", **KEEP,
                       help="numba: parallel kernel (default); numpy: reference; torch: GPU if present; dask: cluster; "
                            "cuda: fused GPU kernel (listed only when a CUDA GPU is usable)")
initial_price = r6.number_input("Initial price", value=1.0, format="%.4f", key="sl-p0", **KEEP)
keep = st.slider("Sample paths to show", 0, 100, 20, key="sl-keep", **KEEP)


def step_length() -> float:
    """dt in years from the 'Steps per year' input."""
    if steps_per_year <= 0:
        raise InputError("steps per year", "must be > 0 (dt = 1 / steps per year)", value=steps_per_year)
    return 1.0 / steps_per_year


if params is not None:  # SPEC §1's stability limit alpha * dt < 1, shown before a run
    try:
        check_stable_step(params.alpha, step_length())
    except InputError as exc:
        show_error(exc)


def sim_inputs() -> dict[str, object]:
    """What a simulation result depends on (compared to mark results out of date)."""
    return {"model parameters": params, "scenario": scenario, "paths": int(n_paths), "steps": int(n_steps),
            "steps per year": int(steps_per_year), "seed": int(seed), "backend": backend,
            "initial price": float(initial_price), "sample paths": int(keep)}


def run_simulation() -> None:
    if params is None or scenario is None:
        st.warning("Fix the inputs above first.", icon=":material/warning:")
        return
    inputs = sim_inputs()
    out = run_with_progress(
        # shared by every session of the server: identical runs compute once (issue 17, app.cached)
        lambda progress: cached.simulation(params, int(n_paths), n_steps=int(n_steps), dt=step_length(),
                                           seed=int(seed), backend=backend, initial_price=float(initial_price),
                                           scenario=scenario, keep_paths=min(int(keep), max(int(n_paths), 0)),
                                           progress=progress),
        key="sl-run", label="Simulating…")
    if out.ok:
        state.set_result(RESULT_KEY, out.value, inputs, wall_s=out.wall_s)


cancelled_notice("sl-run", "Simulation")
if st.button("Run simulation", type="primary", icon=":material/play_arrow:", key="sl-run"):
    run_simulation()
elif RESULT_KEY not in st.session_state:  # first visit: something useful at once
    run_simulation()

view = st.segmented_control("View", VIEWS, default=VIEWS[0], required=True, key="sl-view", **KEEP,
                            label_visibility="collapsed")

# ---- results -------------------------------------------------------------------------------
def show_simulation() -> None:
    result: SimulationResult | None = st.session_state.get(RESULT_KEY)
    if result is None:
        st.info("Run a simulation to see results.")
        return
    if state.stale_notice(RESULT_KEY, sim_inputs(), button_key="sl-stale", what="The results below"):
        run_simulation()
        st.rerun()
    with st.container(key="sl-results"):
        m = st.columns(len(KEY_STATS) + 2)
        for col, (k, label) in zip(m, KEY_STATS.items(), strict=False):
            col.metric(label, f"{result.stats[k]:.2%}")
        entry = state.entry(RESULT_KEY)
        waited = None if entry is None else entry.wall_s
        m[-2].metric("You waited", "—" if waited is None else f"{waited:.2f} s",
                     help="Wall time from the click to the result: imports, compilation and drawing included.")
        m[-1].metric("Engine time", f"{result.elapsed_s:.2f} s",
                     help=f"{result.path_steps_per_s / 1e6:,.0f} M path-steps/s on {result.backend.value}")
        st.caption(f"{result.n_paths:,} paths × {result.n_steps} steps, dt = {result.dt:.5g} y, seed {result.seed}, "
                   f"scenario '{md(result.scenario.name)}', backend {result.backend.value}. Quantile bands from "
                   f"{result.band_paths:,} paths; mean over all paths.")
        # built once per result and shared by the sessions showing it (issue 17: app.cached.figure)
        st.plotly_chart(cached.figure(result, fan_chart, max_paths=int(keep)), width="stretch", key="sl-fan")
        h1, h2 = st.columns(2)
        h1.plotly_chart(cached.figure(result, terminal_histogram), width="stretch", key="sl-hist")
        h2.plotly_chart(cached.figure(result, min_price_histogram), width="stretch", key="sl-minhist")
        st.markdown("**Peg statistics** (probabilities with Monte Carlo standard errors; VaR/ES as positive losses "
                    "relative to the initial price)")
        summary = result.summary()
        fmt_table(summary, key="sl-stats")
        d1, d2 = st.columns(2)
        with d1:
            download_buttons(f"peg_simulation_{result.scenario.name}", summary, key="sl-dl")
        d2.download_button("Download fan chart (HTML)",
                           data=lambda r=result: fan_chart(r).to_html(include_plotlyjs=True),
                           file_name=f"fan_{result.scenario.name}.html", mime="text/html", key="sl-dl-fan",
                           icon=":material/description:")
        s1, s2 = st.columns([3, 1], vertical_alignment="bottom")
        if result.run_id is not None:
            s1.success(f"Saved in the store as run {result.run_id[:8]} (reload it from 'Compare saved runs').",
                       icon=":material/check:")
            return
        run_name = derived_text_input("Run name", f"{result.scenario.name} seed {result.seed}", key="sl-run-name",
                                      container=s1)
        if s2.button("Save run", icon=":material/save:", key="sl-save"):
            try:
                run_id = result.save(store, name=run_name)
                state.replace_value(RESULT_KEY, dataclasses.replace(result, run_id=run_id))
            except Exception as exc:
                show_error(exc)
            else:
                st.rerun()


# ---- compare -------------------------------------------------------------------------------
def _show_in_simulation(r: SimulationResult) -> None:
    """Button callback (runs before the page): open ``r`` in the Simulation view."""
    state.set_result(RESULT_KEY, r, None)
    st.session_state["sl-view"] = VIEWS[0]


def show_compare() -> None:
    saved_runs = list_top_runs(store, RUN_KIND)
    if saved_runs.empty:
        st.info("No saved simulations yet: run one and press 'Save run'.")
        return
    if len(saved_runs) > 1 and "sl-cmp-B" not in st.session_state:
        st.session_state["sl-cmp-B"] = saved_runs.run_id.iloc[1]  # A: the newest run, B: the one before
    a_col, b_col = st.columns(2)
    loaded: list[SimulationResult] = []
    for col, label in ((a_col, "A"), (b_col, "B")):
        with col:
            rid = run_picker(store, RUN_KIND, label=f"Run {label}", key=f"sl-cmp-{label}")
            if rid is None:
                continue
            try:
                r = SimulationResult.load(store, rid)
                loaded.append(r)
                st.plotly_chart(fan_chart(r, title=f"{label}: {r.scenario.name}, seed {r.seed}"),
                                width="stretch", key=f"sl-cmp-fan-{label}")
                st.button(f"Show {label} in the Simulation view", key=f"sl-show-{label}",
                          icon=":material/open_in_browser:", on_click=_show_in_simulation, args=(r,))
                if st.button(f"Re-run {label}", key=f"sl-rerun-{label}", icon=":material/replay:"):
                    again = r.rerun()
                    if again.same_numbers(r):
                        st.success("Re-run reproduced the saved numbers exactly.")
                    else:
                        st.warning("Re-run differs from the saved numbers.")
            except Exception as exc:
                show_error(exc)
    if len(loaded) == 2:
        a, b = loaded
        table = a.summary()[["value"]].rename(columns={"value": "A"})
        table["B"] = b.summary()["value"]
        table["B - A"] = table["B"] - table["A"]
        fmt_table(table, key="sl-cmp-table")
        st.plotly_chart(terminal_histogram({f"A: {a.scenario.name}": a, f"B: {b.scenario.name}": b}),
                        width="stretch", key="sl-cmp-hist")
        download_buttons("peg_comparison", table, key="sl-cmp-dl")


# ---- stress report -------------------------------------------------------------------------
def report_scenarios() -> list[Scenario]:
    scen = list(PRESETS.values())
    if scenario is not None and scenario.name not in PRESETS:
        scen.append(scenario)
    return scen


def report_inputs() -> dict[str, object]:
    return {"model parameters": params, "scenarios": tuple(report_scenarios()),
            "paths per scenario": int(st.session_state.get("sl-report-paths", 20_000)), "steps": int(n_steps),
            "steps per year": int(steps_per_year), "seed": int(seed), "backend": backend,
            "initial price": float(initial_price)}


def run_report() -> None:
    if params is None:
        st.warning("Fix the model parameters above first.", icon=":material/warning:")
        return
    inputs = report_inputs()
    out = run_with_progress(
        lambda progress: stress_report(params, n_paths=int(inputs["paths per scenario"]), n_steps=int(n_steps),
                                       dt=step_length(), seed=int(seed), backend=backend,
                                       scenarios=report_scenarios(), initial_price=initial_price,
                                       progress=progress),
        key="sl-report", label="Running scenarios…")
    if out.ok:
        state.set_result(REPORT_KEY, out.value, inputs, wall_s=out.wall_s)


def _load_report(run_id: str) -> None:
    try:
        state.set_result(REPORT_KEY, StressReport.load(store, run_id), None)
    except Exception as exc:
        show_error(exc)


def show_report() -> None:
    st.markdown("Every preset (and the scenario being edited, if it is not a preset) with the current parameters, "
                "the same seed and number of paths.")
    cancelled_notice("sl-report", "Stress report")
    sr1, sr2 = st.columns([1, 3], vertical_alignment="bottom")
    sr1.number_input("Paths per scenario", value=20_000, step=5_000, key="sl-report-paths", **KEEP)
    if sr2.button("Run stress report", icon=":material/summarize:", key="sl-report-run", disabled=params is None):
        run_report()
    saved_report = run_picker(store, REPORT_KIND, label="Or load a saved report", key="sl-report-pick")
    if saved_report is not None and st.button("Load report", key="sl-report-load", icon=":material/folder_open:"):
        _load_report(saved_report)
    report: StressReport | None = st.session_state.get(REPORT_KEY)
    if report is None:
        return
    if state.stale_notice(REPORT_KEY, report_inputs(), button_key="sl-report-stale", what="The report below"):
        run_report()
        st.rerun()
    entry = state.entry(REPORT_KEY)
    waited = "" if entry is None or entry.wall_s is None else f" You waited {entry.wall_s:.1f} s."
    st.caption(f"{len(report.results)} scenarios × {report.n_paths:,} paths, seed {report.seed}, "
               f"{report.elapsed_s:.1f} s.{waited}")
    fmt_table(report.table, key="sl-report-table")
    if "baseline" in report.results:
        st.markdown("**Change against baseline** (each statistic minus the baseline's; same seed, so the "
                    "differences come from the scenarios)")
        fmt_table(report.changes(), key="sl-report-changes")
    st.plotly_chart(stress_bars(report), width="stretch", key="sl-report-bars")
    st.plotly_chart(terminal_histogram(report.results), width="stretch", key="sl-report-hist")
    fan_tabs = st.tabs([md(n) for n in report.results])
    for t, (name, r) in zip(fan_tabs, report.results.items(), strict=True):
        t.plotly_chart(fan_chart(r, title=f"{name}"), width="stretch", key=f"sl-report-fan-{name}")
    d1, d2 = st.columns(2)
    with d1:
        download_buttons("stress_report", report.table, key="sl-report-dl")
    d2.download_button("Download HTML report", data=lambda r=report: stress_report_html(r),
                       file_name="stress_report.html", mime="text/html", key="sl-report-html",
                       icon=":material/description:")
    if report.run_id is not None:
        st.success(f"Saved in the store as report {report.run_id[:8]}, with its {len(report.results)} scenario "
                   "runs grouped under it.", icon=":material/check:")
        return
    n1, n2 = st.columns([3, 1], vertical_alignment="bottom")
    rname = derived_text_input("Report name", f"stress seed {report.seed}", key="sl-report-name", container=n1)
    if n2.button("Save report", icon=":material/save:", key="sl-report-save"):
        try:
            rid = report.save(store, name=rname)
            state.replace_value(REPORT_KEY, dataclasses.replace(report, run_id=rid))
        except Exception as exc:
            show_error(exc)
        else:
            st.rerun()


{VIEWS[0]: show_simulation, VIEWS[1]: show_compare, VIEWS[2]: show_report}[view]()

from app.sweep_tabs import render_sweep_tabs  # noqa: E402  (issue 14: Sweep and Reverse stress tabs)

render_sweep_tabs(store, params, scenario, backend=backend, seed=int(seed), n_steps=int(n_steps),
                  steps_per_year=steps_per_year, initial_price=initial_price)
