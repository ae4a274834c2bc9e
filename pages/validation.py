"""Validation: the model validation framework and the performance benchmark (seed 000 §2–3)."""

import dataclasses

import streamlit as st

from app.widgets import current_params, download_buttons, fmt_table, get_store, run_picker, show_error
from riskcore.errors import InputError
from riskcore.peg.montecarlo import Backend
from riskcore.plots.validation import (
    STATUS_COLORS,
    benchmark_figure,
    convergence_figure,
    sensitivity_figure,
    var_benchmark_figure,
    var_coverage_figure,
)
from riskcore.reports.validation import validation_report_html
from riskcore.validation import REPORT_KIND, ValidationReport, run_benchmark, validate
from riskcore.validation.benchmark import DEFAULT_PATH_COUNTS

REPORT_KEY = "validation_report"
BENCH_KEY = "validation_benchmark"

st.title("Validation")
st.markdown(
    "The source document's validation framework: convergence, numerical stability, parameter sensitivity, "
    "statistical properties against closed forms and boundary conditions of the price model, and rolling "
    "backtests of every VaR method. Failing checks are shown as failing — no default or threshold is tuned "
    "(under the defaults only about 11 % of paths converge, against the source's 95 % target)."
)
store = get_store()
params = current_params()
st.caption(f"Parameters: the current set ({params.content_hash()}), as in the Scenario Lab and Calibration.")

c1, c2, c3, c4 = st.columns(4)
n_paths = c1.number_input("Paths per check", value=100_000, step=10_000, key="val-n-paths")
seed = c2.number_input("Seed", value=0, step=1, key="val-seed")
backend = c3.selectbox("Backend", [b.value for b in Backend], key="val-backend")
with_var = c4.checkbox("VaR backtests", value=True, key="val-var",
                       help="Rolling backtests of every method at 95 / 99 / 99.7 % on the source's sample")

if st.button("Run validation", type="primary", key="val-run", icon=":material/play_arrow:"):
    bar = st.progress(0.0, text="Validating…")
    try:
        st.session_state[REPORT_KEY] = validate(
            params, n_paths=int(n_paths), seed=int(seed), backend=backend, var=with_var,
            progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m))
    except Exception as exc:
        show_error(exc)
    finally:
        bar.empty()

with st.expander("Saved reports", icon=":material/folder_open:"):
    rid = run_picker(store, REPORT_KIND, label="Saved report", key="val-pick")
    if rid is not None and st.button("Load report", key="val-load", icon=":material/folder_open:"):
        try:
            loaded = ValidationReport.load(store, rid)
            st.session_state[REPORT_KEY] = loaded
            if loaded.benchmark is not None:
                st.session_state[BENCH_KEY] = loaded.benchmark
        except Exception as exc:
            show_error(exc)

report: ValidationReport | None = st.session_state.get(REPORT_KEY)
if report is None:
    st.info("Press **Run validation** (about a minute with the default sizes), or load a saved report.")
else:
    counts = report.counts()
    m = st.columns(4)
    m[0].metric("Checks", len(report.checks))
    m[1].metric("Passed", counts["passed"])
    m[2].metric("Failed", counts["failed"])
    m[3].metric("Errors", counts["error"])
    st.caption(f"{report.settings.get('n_paths', 0):,} paths per check, seed {report.settings.get('seed')}, "
               f"backend {report.settings.get('backend')}, {report.elapsed_s:.1f} s"
               + (f" · saved as {report.run_id[:8]}" if report.run_id else ""))
    summary = report.summary()

    def _colour(v: str) -> str:
        return f"color: {STATUS_COLORS.get(v, '#000')}; font-weight: bold"

    fmt_table(summary.style.map(_colour, subset=["status"]).format(
        {"value": "{:.6g}", "target": "{:.6g}", "std_error": "{:.3g}"}, na_rep="—"), key="val-checks")
    names = {c.name for c in report.checks}
    g1, g2 = st.columns(2)
    if "convergence" in names:
        g1.plotly_chart(convergence_figure(report), width="stretch", key="val-conv")
    if "sensitivity" in names and report.check("sensitivity").details.get("perturbations"):
        g2.plotly_chart(sensitivity_figure(report), width="stretch", key="val-sens")
    if any(c.group.value == "VaR model" for c in report.checks):
        st.plotly_chart(var_coverage_figure(report), width="stretch", key="val-var-fig")
    with st.expander("Details of each check", icon=":material/list:"):
        for c in report.checks:
            if c.group.value != "price model":
                continue
            st.markdown(f"**{c.name}** — {c.status.value.upper()}: {c.description}. Rule: {c.rule}.")
            for k, v in c.details.items():
                if isinstance(v, list) and v and isinstance(v[0], dict):
                    fmt_table(v, key=f"val-detail-{c.name}-{k}")
        if report.var_summary is not None:
            st.markdown("**VaR backtest summary** (all columns)")
            fmt_table(report.var_summary, key="val-var-summary")
    s1, s2 = st.columns([3, 1], vertical_alignment="bottom")
    if report.run_id is None:
        name = s1.text_input("Report name", value=f"validation seed {report.settings.get('seed')}", key="val-name")
        if s2.button("Save report", key="val-save", icon=":material/save:"):
            try:
                rid = report.save(store, name=name)
                st.session_state[REPORT_KEY] = dataclasses.replace(report, run_id=rid)
            except Exception as exc:
                show_error(exc)
            else:
                st.rerun()

# ---- benchmark -----------------------------------------------------------------------------------
st.subheader("Performance benchmark")
b1, b2, b3 = st.columns([2, 1, 2])
counts_text = b1.text_input("Path counts", value=", ".join(str(n) for n in DEFAULT_PATH_COUNTS), key="val-bench-paths")
bench_steps = b2.number_input("Steps", value=365, step=1, key="val-bench-steps")
bench_backends = b3.multiselect("Backends", [b.value for b in Backend], default=["numba", "numpy", "torch"],
                                key="val-bench-backends", help="dask starts a local cluster when no scheduler is set")
if st.button("Run benchmark", key="val-bench-run", icon=":material/speed:"):
    bar = st.progress(0.0, text="Benchmarking…")
    try:
        try:
            path_counts = [int(p.strip().replace("_", "")) for p in counts_text.split(",") if p.strip()]
        except ValueError:
            raise InputError("path counts", "must be comma-separated integers", value=counts_text) from None
        st.session_state[BENCH_KEY] = run_benchmark(
            path_counts, n_steps=int(bench_steps), backends=bench_backends or None,
            progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m))
    except Exception as exc:
        show_error(exc)
    finally:
        bar.empty()
bench = st.session_state.get(BENCH_KEY)
if bench is not None:
    st.plotly_chart(benchmark_figure(bench), width="stretch", key="val-bench-fig")
    fmt_table(bench.mc, key="val-bench-mc")
    st.plotly_chart(var_benchmark_figure(bench), width="stretch", key="val-bench-var-fig")
    fmt_table(bench.var, key="val-bench-var")
    with st.expander("Machine"):
        st.json(bench.machine)
        if bench.unavailable:
            st.caption("Unavailable backends: " + "; ".join(f"{k}: {v}" for k, v in bench.unavailable.items()))
    st.download_button("Download benchmark CSV", bench.to_csv().encode(), file_name="benchmark.csv", mime="text/csv",
                       key="val-bench-dl", icon=":material/download:")

if report is not None:
    full = report if bench is None or report.benchmark is bench else report.with_benchmark(bench)
    if full is not report:
        st.caption("The HTML report and a new save include the benchmark above.")
        st.session_state[REPORT_KEY] = full
    d1, d2 = st.columns(2)
    with d1:
        download_buttons("validation_checks", full.summary(), key="val-dl")
    d2.download_button("Download HTML report", data=lambda r=full: validation_report_html(r),
                       file_name="validation_report.html", mime="text/html", key="val-dl-html",
                       icon=":material/description:")
