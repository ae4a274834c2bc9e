"""Calibration: fit the stable-token model to a price series by maximum likelihood."""

import pandas as pd
import streamlit as st

from app.data_widgets import price_source_picker, show_quality_report
from app.page_state import KEEP, PageState
from app.run_control import cancelled_notice, run_with_progress
from app.safety import md
from app.widgets import (
    PARAMS_KEY,
    current_params,
    derived_text_input,
    download_buttons,
    fmt_table,
    get_store,
    run_picker,
    show_error,
)
from riskcore.params import ModelParameters
from riskcore.peg.calibration import DEFAULT_FIT, FITTABLE, RUN_KIND, CalibrationResult, calibrate
from riskcore.peg.pegcheck import peg_check
from riskcore.plots.calibration import (
    density_figure,
    jump_probability_figure,
    price_series_spec,
    qq_figure,
    returns_figure,
)
from riskcore.store.groups import next_free_param_set_name, param_set_exists

RESULT_KEY = "calibration_result"
PENDING_KEY = "calib-ps-pending"  # a parameter-set name waiting for "overwrite or new version"

st.title("Calibration")
st.markdown(
    "Estimate the peg model's parameters from a price history by **maximum likelihood** of the observed daily "
    "increments (a Gaussian–jump mixture per step). Parameters not estimated, or that the data cannot identify, "
    "are held at the **current parameters** (those of the Scenario Lab, or a parameter set loaded below) and "
    "reported as held."
)

store = get_store()
state = PageState("calibration")
series = price_source_picker("calibration", store)
cancelled_notice("calib-run", "Calibration")


def fit_inputs() -> dict[str, object]:
    """What a calibration depends on (compared to mark the estimates out of date)."""
    return {"price data": None if series is None else series.checksum,
            "parameters to estimate": tuple(st.session_state.get("calib-fit", DEFAULT_FIT)),
            "dt": None if st.session_state.get("calib-auto-dt", True) else st.session_state.get("calib-dt"),
            "current parameters": current_params()}


def run_calibration(dt: float | None, fit: list[str]) -> None:
    inputs = fit_inputs()
    out = run_with_progress(lambda progress: calibrate(series, dt=dt, fit=fit, base=current_params(),
                                                       progress=progress),
                            key="calib-run", label="Calibrating…")
    if out.ok:
        state.set_result(RESULT_KEY, out.value, inputs, wall_s=out.wall_s)
    elif out.failed:
        state.clear(RESULT_KEY)


if series is not None:
    check = peg_check(series.prices)
    if not check.pegged:
        st.warning(check.message, icon=":material/warning:")
    # rerun on a tab change so the Data quality tab's Plotly chart is built only when that tab is open: a chart
    # in a hidden tab still made the browser load Plotly (4.7 MB) while it drew the page's first chart (issue 11.13)
    tab_series, tab_quality = st.tabs(["Series", "Data quality"], key="calib-tabs", on_change="rerun")
    with tab_series, st.container(key="calib-series-chart"):
        # Vega-Lite: the page's first chart does not wait for the browser to load Plotly (issue 11.13)
        st.vega_lite_chart(spec=price_series_spec(series), width="stretch", key="calib-series")
    with tab_quality:
        show_quality_report(series)
        if tab_quality.open:
            st.plotly_chart(returns_figure(series), width="stretch", key="calib-returns")

    st.subheader("Fit")
    c1, c2 = st.columns([3, 1])
    fit = c1.multiselect("Parameters to estimate", list(FITTABLE), default=list(DEFAULT_FIT), key="calib-fit",
                         help="beta and gamma only act beyond the ±2 % bands and are barely identified.", **KEEP)
    auto_dt = c2.checkbox("Infer dt from dates", value=True, key="calib-auto-dt", **KEEP,
                          help="Median spacing / 365 days; trading-day data (no weekends) uses 1/252.")
    dt = None
    if not auto_dt:
        dt = c2.number_input("dt (years)", min_value=1e-6, max_value=1.0, value=1 / 365, format="%.6f",
                             key="calib-dt", **KEEP)
    if st.button("Calibrate", type="primary", icon=":material/tune:", key="calib-run"):
        run_calibration(dt, fit)

result = st.session_state.get(RESULT_KEY)
if result is not None:
    with st.container(key="calib-results"):
        st.subheader(f"Estimates — {md(result.dataset_name)}")
        if series is None or result.dataset_checksum != series.checksum:
            st.caption(f"These estimates are for **{md(result.dataset_name)}**, not the price data selected above; "
                       "choose valid data and press **Calibrate** to fit it.")
        elif state.stale_notice(RESULT_KEY, fit_inputs(), button_key="calib-stale", what="These estimates"):
            run_calibration(dt, fit)
            st.rerun()
        entry = state.entry(RESULT_KEY)
        m = st.columns(5)
        m[0].metric("Log-likelihood", f"{result.loglik:,.1f}")
        m[1].metric("AIC", f"{result.aic:,.1f}")
        m[2].metric("BIC", f"{result.bic:,.1f}")
        m[3].metric("Increments", f"{result.n_obs:,}")
        m[4].metric("You waited", "—" if entry is None or entry.wall_s is None else f"{entry.wall_s:.2f} s",
                    help="Wall time from the click to the estimates, imports and compilation included "
                         f"(the optimiser itself: {result.elapsed_s:.2f} s).")
        for w in result.warnings:
            st.warning(w, icon=":material/warning:")
        try:
            table = result.summary()
        except (OverflowError, ValueError) as exc:  # e.g. a fit to a series far from the peg
            show_error(exc)
            st.stop()
        est_ok = table["status"] == "estimated"  # only these have a standard error and an interval
        shown = pd.DataFrame({
            "estimate ± std err": [f"{r.estimate:.6g} ± {r.std_err:.3g}" if ok else f"{r.estimate:.6g}"
                                   for r, ok in zip(table.itertuples(), est_ok, strict=True)],
            "95 % interval": [f"[{r.ci95_low:.6g}, {r.ci95_high:.6g}]" if ok else "—"
                              for r, ok in zip(table.itertuples(), est_ok, strict=True)],
            "base": [f"{v:.6g}" for v in table["base"]],
            "status": [f"{st_} (held at base)" if h and st_ != "held" else "held at base" if h else st_
                       for h, st_ in zip(table["held"], table["status"], strict=True)],
        }, index=table.index)
        fmt_table(shown)
        st.caption(f"dt = {result.dt:.6g} years ({'inferred from the dates' if result.dt_inferred else 'given'}), "
                   f"{result.n_starts} starts, converged: {result.converged}, {result.elapsed_s:.2f} s.")
        download_buttons("calibration", table, key="calib-dl")

        q1, q2 = st.columns(2)
        q1.plotly_chart(qq_figure(result), width="stretch", key="calib-qq")
        q2.plotly_chart(density_figure(result), width="stretch", key="calib-density")
        st.plotly_chart(jump_probability_figure(result), width="stretch", key="calib-jumps")

        st.subheader("Use the fitted parameters")
        a1, a2 = st.columns(2)
        doubts = result.apply_warnings()  # poor fit, estimates at a bound, parameters not identified
        if doubts:
            a1.warning("Check before applying: " + "; ".join(doubts) + ".", icon=":material/warning:")
        confirmed = not doubts or a1.checkbox("Apply anyway", key="calib-apply-confirm")
        if a1.button("Apply to Scenario Lab", icon=":material/science:", key="calib-apply", disabled=not confirmed):
            st.session_state[PARAMS_KEY] = result.params
            st.success("The Scenario Lab now uses the fitted parameters.")
        with a2:
            set_name = derived_text_input("Parameter set name", f"calibrated-{result.dataset_name}", key="calib-psname")
            note = f"ML calibration on {result.dataset_name} (loglik {result.loglik:.1f})"

            def save_set(name: str) -> None:
                try:
                    store.save_param_set(name, result.params, note=note)
                    st.success(f"Saved parameter set '{md(name)}'.")
                except Exception as exc:
                    show_error(exc)
                st.session_state.pop(PENDING_KEY, None)

            if st.button("Save as parameter set", icon=":material/save:", key="calib-save-ps"):
                try:
                    exists = param_set_exists(store, set_name)
                except Exception as exc:
                    show_error(exc)
                else:
                    if exists:
                        st.session_state[PENDING_KEY] = set_name  # ask first: saving would replace it
                    else:
                        save_set(set_name)
            pending = st.session_state.get(PENDING_KEY)
            if pending is not None and pending == set_name:
                with st.container(key="calib-ps-confirm"):
                    new_name = next_free_param_set_name(store, pending)
                    st.warning(f"A parameter set named '{md(pending)}' already exists. Replace it, or save this fit "
                               f"as '{md(new_name)}'?", icon=":material/warning:")
                    o1, o2, o3 = st.columns(3)
                    if o1.button("Replace it", key="calib-ps-overwrite", icon=":material/published_with_changes:"):
                        save_set(pending)
                    if o2.button(f"Save as '{new_name}'", key="calib-ps-version", icon=":material/add:"):
                        save_set(new_name)
                    if o3.button("Cancel", key="calib-ps-cancel"):
                        st.session_state.pop(PENDING_KEY, None)
                        st.rerun()
            elif pending is not None:
                st.session_state.pop(PENDING_KEY, None)  # the name changed: the question no longer applies
            if st.button("Save calibration run", icon=":material/inventory_2:", key="calib-save-run"):
                try:
                    run_id = result.save(store, name=set_name)
                    st.success(f"Saved calibration run {run_id}.")
                except Exception as exc:
                    show_error(exc)
elif series is not None:
    st.info("Choose the parameters to estimate and press **Calibrate**.")

st.subheader("Parameter sets and saved calibrations")
l1, l2 = st.columns(2)
with l1:
    st.markdown("**Load a parameter set** as the current parameters (Scenario Lab, and base of held parameters)")
    try:
        sets = store.list_param_sets()
    except Exception as exc:
        show_error(exc)
        sets = pd.DataFrame()
    if sets.empty:
        st.caption("No saved parameter sets yet: calibrate, then **Save as parameter set**.")
    else:
        notes = dict(zip(sets["name"], sets["note"].fillna(""), strict=True))
        chosen_set = st.selectbox("Parameter set", list(sets["name"]), key="calib-load-ps-name",
                                  format_func=lambda nm: f"{nm} · {notes[nm]}" if notes.get(nm) else nm)
        if st.button("Load parameter set", icon=":material/upload:", key="calib-load-ps"):
            try:
                st.session_state[PARAMS_KEY] = ModelParameters.from_dict(store.load_param_set(chosen_set))
                st.success(f"Loaded '{md(chosen_set)}': the Scenario Lab and new calibrations use it.")
            except Exception as exc:
                show_error(exc)
    cur = current_params()
    st.caption("Current dynamics: " + ", ".join(f"{nm} = {getattr(cur, nm):.4g}" for nm in FITTABLE))
with l2:
    st.markdown("**Open a saved calibration** (estimates and diagnostics)")
    run_id = run_picker(store, RUN_KIND, label="Saved calibration", key="calib-run-pick")
    if run_id is not None and st.button("Open calibration", icon=":material/folder_open:", key="calib-open-run"):
        try:
            state.set_result(RESULT_KEY, CalibrationResult.load(store, run_id), None)
        except Exception as exc:
            show_error(exc)
        else:
            st.rerun()  # show the opened result in the section above
