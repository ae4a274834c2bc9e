"""VaR Lab: ensemble Value at Risk of a return series and its rolling backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app.cached import ensemble_report
from app.data_widgets import price_source_picker
from app.page_state import KEEP, PageState
from app.run_control import cancelled_notice, run_with_progress
from app.widgets import (
    derived_text_input,
    download_buttons,
    fmt_table,
    follow_default,
    get_store,
    run_picker,
    show_error,
)
from riskcore.errors import InputError
from riskcore.kinds import RunKind
from riskcore.plots.var import (
    backtest_figure,
    distribution_figure,
    ensemble_figure,
    summary_with_lights,
    weights_figure,
)
from riskcore.returns import simple_returns
from riskcore.var import ALL_METHODS, DEFAULT_REFIT_EVERY, BacktestResult, VaRReport, backtest

BT_KEY = "var-backtest-result"
LEVELS = [0.9, 0.95, 0.975, 0.99, 0.995, 0.997, 0.999]


def _ensemble(returns: pd.Series, confidences: tuple[float, ...], oos_window: int | None) -> VaRReport:
    with st.spinner("Fitting the ensemble…"):
        return ensemble_report(returns, confidences, oos_window)  # once per server process (app.cached)


def _simulated_returns(store) -> pd.Series | None:
    run_id = run_picker(store, RunKind.PEG_SIMULATION, label="Simulation run", key="var-sim-run")
    if run_id is None:
        st.info("No saved simulation runs: run one in the Scenario Lab (keep some sample paths).")
        return None
    paths = store.load_run(run_id, kind=RunKind.PEG_SIMULATION).arrays.get("paths")
    if paths is None or paths.ndim != 2 or paths.shape[0] == 0:
        st.warning("This run kept no sample paths: re-run it with 'keep paths' > 0.")
        return None
    if st.session_state.get("var-sim-path", 0) > paths.shape[0] - 1:
        st.session_state["var-sim-path"] = 0  # a run with fewer kept paths was chosen
    i = st.number_input("Sample path", 0, paths.shape[0] - 1, 0, key="var-sim-path", **KEEP)
    p = paths[int(i)]
    return pd.Series(simple_returns(p), index=pd.RangeIndex(1, p.size, name="step"), name=f"path {i}")


#: p-values and ratios shown in scientific notation, percentages with 3 decimals
COLUMN_CONFIG = {c: st.column_config.NumberColumn(format="%.2e") for c in
                 ("kupiec_p", "christoffersen_cc_p", "ind_p", "cc_p", "pinball_loss")}
COLUMN_CONFIG.update({c: st.column_config.NumberColumn(format="%.3f") for c in
                      ("var (%)", "es (%)", "rate (%)", "mean_var (%)", "mean_es (%)", "oos_rate (%)", "weight",
                       "expected", "oos_expected")})


def _pct_table(df: pd.DataFrame, cols: list[str]):
    out = df.copy()
    for c in cols:
        if c in out:
            out[c] = out[c] * 100
    return summary_with_lights(out.rename(columns={c: f"{c} (%)" for c in cols}))


st.title("VaR Lab")
st.caption("Value at Risk and Expected Shortfall as positive losses (fractions of value); a violation is a return "
           "below −VaR. Five methods (historical, normal, Cornish–Fisher, EVT peaks-over-threshold, filtered "
           "historical simulation with GARCH), weighted by out-of-sample backtest accuracy.")

try:
    store = get_store()
except Exception as exc:
    show_error(exc)
    st.stop()
state = PageState("var_lab")

# -- data ------------------------------------------------------------------------------------------
kind = st.radio("Returns of", ["Price data", "Simulated run"], horizontal=True, key="var-kind", **KEEP)
returns: pd.Series | None = None
try:
    if kind == "Price data":
        st.session_state.setdefault("var-sample", "sp500")
        series = price_source_picker("var", store)
        if series is not None:
            returns = series.returns("simple").rename(series.name)
    else:
        returns = _simulated_returns(store)
except Exception as exc:
    show_error(exc)

if returns is None:
    st.stop()

c1, c2, c3 = st.columns(3)
levels = c1.multiselect("Confidence levels", LEVELS, default=[0.95, 0.99, 0.997], key="var-levels", **KEEP)
n_all = int(len(returns))
follow_default("var-n", max(n_all, 30))  # "all of them" follows the data; a number the user typed stays if it fits
if st.session_state["var-n"] > max(n_all, 30):
    st.session_state["var-n"] = max(n_all, 30)
n_use = c2.number_input("Use the most recent N returns", min_value=30, max_value=max(n_all, 30),
                        step=100, key="var-n", help="Simple returns; at least 30.", **KEEP)
window = c3.number_input("Backtest window (days)", min_value=30, max_value=5000, value=252, step=21, key="var-window",
                         **KEEP,
                         help="Each rolling one-step forecast uses only this many previous returns: in the "
                              "backtest below and in the out-of-sample evaluation that sets the ensemble weights "
                              "(there at most half the sample, so that the other half is out of sample).")
returns = returns.iloc[-int(n_use):]
if not levels:
    st.info("Choose at least one confidence level.")
    st.stop()
levels_t = tuple(sorted(float(c) for c in levels))

# -- ensemble --------------------------------------------------------------------------------------
st.subheader("Ensemble VaR")
report: VaRReport | None = None
try:
    # the ensemble's out-of-sample evaluation uses the page's window, capped at half the sample
    oos_w = min(int(window), max(30, len(returns) // 2))
    report = _ensemble(returns, levels_t, oos_w)
except InputError as exc:
    show_error(exc)
except Exception as exc:
    show_error(exc)

if report is not None:
    with st.container(key="var-ensemble"):
        oos = report.out_of_sample
        st.caption(f"{report.n_obs:,} returns · weights from {oos.n_days:,} out-of-sample one-step forecasts "
                   f"(window {oos.window}, GARCH refit every {oos.garch_refit_every} days: the rolling "
                   "backtest's own) · weight ∝ 1 / mean quantile (pinball) loss per level, 0 where Christoffersen's "
                   "conditional-coverage test rejects at 5 % unless every method does (see the Weights tab).")
        for why in report.fallbacks():
            st.info(why, icon=":material/info:")
        table = _pct_table(report.summary(), ["var", "es", "oos_rate"])
        fmt_table(table, column_config=COLUMN_CONFIG)
        t1, t2, t3 = st.tabs(["VaR and ES by method", "Return distribution and tail fit", "Weights"])
        with t1:
            st.plotly_chart(ensemble_figure(report), width="stretch", key="var-ens-fig")
        with t2:
            st.plotly_chart(distribution_figure(returns, report), width="stretch", key="var-dist-fig")
        with t3:
            st.plotly_chart(weights_figure(report), width="stretch", key="var-w-fig")
            if not report.scores.empty:  # what the weights come from (riskcore.var.weights.method_weights)
                st.table(report.scores)
        with st.expander("Model details (EVT tail fit, GARCH, out-of-sample scheme)"):
            st.json({"evt": report.info.get("evt"), "fhs": report.info.get("fhs"),
                     "out_of_sample": report.out_of_sample.to_dict()},
                    expanded=False)
        e1, e2 = st.columns([3, 1], vertical_alignment="bottom")
        ens_name = derived_text_input("Name", f"ensemble {returns.name or ''}".strip(), key="var-ens-name",
                                      container=e1)
        if e2.button("Save ensemble", key="var-ens-save", icon=":material/save:"):
            try:
                rid = report.save(store, ens_name)
                st.success(f"Saved ensemble report {rid}.")
            except Exception as exc:
                show_error(exc)
        download_buttons("var_ensemble", report.summary(), key="var-ens-dl")

with st.expander("Saved ensemble reports"):
    eid = run_picker(store, RunKind.VAR_ENSEMBLE, label="Saved ensemble report", key="var-ens-pick")
    if eid is not None and st.button("Show", key="var-ens-load", icon=":material/upload:"):
        try:
            saved = VaRReport.load(store, eid)
            fmt_table(_pct_table(saved.summary(), ["var", "es", "oos_rate"]), column_config=COLUMN_CONFIG)
            st.plotly_chart(ensemble_figure(saved), width="stretch", key="var-ens-saved-fig")
        except Exception as exc:
            show_error(exc)

# -- rolling backtest ------------------------------------------------------------------------------
st.subheader("Rolling backtest")
b1, b2 = st.columns([3, 1])
methods = b1.multiselect("Methods", [m.value for m in ALL_METHODS], default=[m.value for m in ALL_METHODS],
                         key="var-methods", **KEEP)
refit = b2.number_input("GARCH refit every (days)", 1, 500, DEFAULT_REFIT_EVERY, key="var-refit", **KEEP,
                        help="FHS re-estimates GARCH(1,1) with arch this often and filters daily in between.")


def bt_inputs() -> dict[str, object]:
    """What a backtest depends on (compared to mark it out of date)."""
    return {"returns": (returns.name, len(returns), int(pd.util.hash_pandas_object(returns).sum())),
            "methods": tuple(methods), "confidence levels": levels_t, "window": int(window),
            "GARCH refit": int(refit)}


def run_backtest() -> None:
    inputs = bt_inputs()
    out = run_with_progress(lambda progress: backtest(returns, methods=methods, confidences=levels_t,
                                                      window=int(window), refit_every=int(refit),
                                                      progress=progress),
                            key="var-run", label="Backtesting…")
    if out.ok:
        state.set_result(BT_KEY, out.value, inputs, wall_s=out.wall_s)


cancelled_notice("var-run", "Backtest")
if st.button("Run backtest", type="primary", key="var-run", icon=":material/play_arrow:"):
    run_backtest()

with st.expander("Saved backtests"):
    rid = run_picker(store, RunKind.VAR_BACKTEST, label="Saved backtest", key="var-bt-pick")
    if rid is not None and st.button("Load", key="var-bt-load", icon=":material/upload:"):
        try:
            state.set_result(BT_KEY, BacktestResult.load(store, rid), None)
            st.success("Loaded.")
        except Exception as exc:
            show_error(exc)

res: BacktestResult | None = st.session_state.get(BT_KEY)
if res is None:
    st.info("Press **Run backtest** for rolling one-step-ahead forecasts (about 10 s for 20 years of daily data).")
else:
    if state.stale_notice(BT_KEY, bt_inputs(), button_key="var-bt-stale", what="The backtest below"):
        run_backtest()
        st.rerun()
    entry = state.entry(BT_KEY)
    with st.container(key="var-bt-results"):
        first, last = res.forecasts.index[0], res.forecasts.index[-1]
        if isinstance(first, pd.Timestamp):
            first, last = f"{first:%Y-%m-%d}", f"{last:%Y-%m-%d}"
        waited = "" if entry is None or entry.wall_s is None else f" · you waited {entry.wall_s:.1f} s"
        st.caption(f"{len(res.forecasts):,} forecasts from {first} to {last} · "
                   f"window {res.window} · GARCH refit every {res.refit_every} days{waited}.")
        g1, g2 = st.columns(2)
        conf = g1.selectbox("Level shown", list(res.confidences),
                            index=int(np.argmin(np.abs(np.array(res.confidences) - 0.99))), key="var-bt-conf")
        vio = g2.selectbox("Violations of", res.labels, index=len(res.labels) - 1, key="var-bt-vio")
        st.plotly_chart(backtest_figure(res, confidence=conf, violations_of=vio), width="stretch", key="var-bt-fig")
        summ = res.summary()
        from app.validation_widgets import beyond_coverage_table  # issue 14: duration, DQ, Z2, McNeil-Frey
        beyond_coverage_table(summ)
        fmt_table(_pct_table(summ[["violations", "expected", "rate", "kupiec_p", "ind_p", "cc_p", "tl_days",
                                   "tl_exceptions", "traffic_light", "mean_var", "mean_es"]],
                             ["rate", "mean_var", "mean_es"]), column_config=COLUMN_CONFIG)
        st.caption("Kupiec: unconditional coverage; ind/cc: Christoffersen independence and conditional coverage "
                   "(p-values); traffic light on the last 250 days (Basel zones at 99 %, same binomial rule at "
                   "other levels).")
        s1, s2 = st.columns([3, 1], vertical_alignment="bottom")
        bt_name = derived_text_input("Name", f"backtest {res.returns.name or ''}".strip(), key="var-bt-name",
                                     container=s1)
        if s2.button("Save backtest", key="var-bt-save", icon=":material/save:"):
            try:
                st.success(f"Saved backtest {res.save(store, bt_name)}.")
            except Exception as exc:
                show_error(exc)
        download_buttons("var_backtest_summary", summ, key="var-bt-dl")
        fc = res.forecasts.copy()
        fc.columns = [f"var_{m}_{c}" for m, c in fc.columns]
        fc.insert(0, "return", res.realized)
        st.download_button("Download forecasts CSV", fc.to_csv().encode(), file_name="var_backtest_forecasts.csv",
                           mime="text/csv", key="var-bt-fc-dl", icon=":material/download:")
